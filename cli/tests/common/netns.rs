//! The emulated internet of the NAT tests (`cli/tests/nat.rs`) and of the
//! WAN benchmark (`cli/benches/wan.rs`): Linux network namespaces, veth
//! pairs, home routers made with nftables masquerade, and real `mutu run`
//! processes inside them. Root is needed; [`unavailable`] says why not.
//!
//! ```text
//!                  ns "relay": public node R, 203.0.113.1
//!                         |
//!    ------------- ns "inet": the internet (203.0.113.0/24) -------------
//!          |                          |                         |
//!    ns "<router>" wan <addr>   ns "<router>" ...          (one per router)
//!    masquerade [random], lan <gateway>
//!          |            |
//!    ns "<home>"   ns "<home>"   (hosts behind the router, default route
//!                                 via its lan address)
//! ```
//!
//! The internet is either a kernel bridge in `inet` ([`Wire::Bridge`]) or
//! a userspace forwarder joining the `wan` links ([`Wire::Apart`]: the
//! benchmark's delaying hub). Only documentation
//! ranges are used, and only inside namespaces made here (each under its
//! own name prefix); every namespace, and with it every link, is deleted
//! when the [`Internet`] is dropped, even by a panic. Include this file
//! next to `common/mod.rs` (it uses `crate::common`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{BIN, Reaped, read_announced, text};

/// The public node's address (relay and bootstrap).
pub const R_ADDR: &str = "203.0.113.1";

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// Runs a command that must succeed.
pub fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
}

/// Runs a command that must succeed: its stdout.
pub fn output(args: &[&str]) -> String {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// Loads nftables `rules` in namespace `ns`.
pub fn nft(ns: &str, rules: &str) {
    use std::io::Write;
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, "nft", "-f", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(rules.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "nft in {ns}: {}", text(&out.stderr));
}

/// Why namespaces cannot be made here, if they cannot.
pub fn unavailable() -> Option<String> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(str::to_owned))
        .unwrap_or_default();
    if uid.split_whitespace().nth(1) != Some("0") {
        return Some("not root (network namespaces and nftables need root)".into());
    }
    for tool in [["ip", "-V"], ["nft", "--version"]] {
        match Command::new(tool[0]).arg(tool[1]).output() {
            Ok(o) if o.status.success() => {}
            _ => return Some(format!("`{}` is not installed (iproute2, nftables)", tool[0])),
        }
    }
    let probe = format!("mu{}p{}", std::process::id(), RUNS.fetch_add(1, Ordering::SeqCst));
    let ok = Command::new("ip")
        .args(["netns", "add", &probe])
        .output()
        .is_ok_and(|o| o.status.success());
    let _ = Command::new("ip").args(["netns", "del", &probe]).output();
    (!ok).then(|| "`ip netns add` fails here (no namespace support)".into())
}

/// A home router: its internet address, its home network and the hosts on it.
pub struct Router {
    pub name: String,
    /// Its address on the internet (in 203.0.113.0/24).
    pub wan: String,
    /// Its address on the home network, the hosts' gateway.
    pub gateway: String,
    /// Prefix length of the home network.
    pub prefix: u8,
    /// (namespace name, address) of each host behind it.
    pub hosts: Vec<(String, String)>,
    /// Maps every new flow to a random port (endpoint-dependent mapping:
    /// no hole punching through it).
    pub random: bool,
}

/// How the internet side of R and the routers is joined.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// A kernel bridge `br0` in namespace `inet`.
    Bridge,
    /// Not joined: each `wan` link ends in a namespace of its own,
    /// `port-<name>` (listed in [`Internet::ports`]), on interface `p`, the
    /// only one there besides `lo`, and a userspace forwarder must carry
    /// frames between them. The `wan` ends send no frame larger than the
    /// MTU (`gso_max_segs 1`), so a forwarder reads whole packets; their
    /// TCP and UDP checksums may be left to offload (not computed).
    Apart,
}

/// The emulated internet. Dropping it deletes every namespace it made.
pub struct Internet {
    prefix: String,
    made: Vec<String>,
    /// With [`Wire::Apart`], the port namespaces (R's first, then the
    /// routers' in order).
    pub ports: Vec<String>,
}

impl Drop for Internet {
    fn drop(&mut self) {
        for ns in self.made.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

impl Internet {
    /// The NAT tests' topology: R, and A behind nat-a, B behind nat-b;
    /// `random_b`: nat-b is endpoint-dependent.
    ///
    /// ```text
    ///                  ns "relay": public node R (mutu run --relay), 203.0.113.1
    ///                         |
    ///    ---------- ns "inet": bridge br0 (203.0.113.0/24) ----------
    ///          |                                        |
    ///    ns "nat-a" wan 203.0.113.2               ns "nat-b" wan 203.0.113.3
    ///    masquerade, lan 192.0.2.1                masquerade [random], lan 198.51.100.1
    ///          |                                        |
    ///    ns "a": node A, 192.0.2.2                ns "b": node B, 198.51.100.2
    /// ```
    pub fn new(random_b: bool) -> Self {
        let routers = [
            Router {
                name: "nat-a".into(),
                wan: "203.0.113.2".into(),
                gateway: "192.0.2.1".into(),
                prefix: 24,
                hosts: vec![("a".into(), "192.0.2.2".into())],
                random: false,
            },
            Router {
                name: "nat-b".into(),
                wan: "203.0.113.3".into(),
                gateway: "198.51.100.1".into(),
                prefix: 24,
                hosts: vec![("b".into(), "198.51.100.2".into())],
                random: random_b,
            },
        ];
        Self::build(&routers, Wire::Bridge)
    }

    /// Builds `inet`, the public namespace `relay` at [`R_ADDR`] and
    /// `routers` with their hosts.
    pub fn build(routers: &[Router], wire: Wire) -> Self {
        let prefix = format!("mu{}x{}", std::process::id(), RUNS.fetch_add(1, Ordering::SeqCst));
        let mut net = Internet {
            prefix,
            made: Vec::new(),
            ports: Vec::new(),
        };
        let mut names = vec!["inet".to_owned(), "relay".to_owned()];
        for r in routers {
            names.push(r.name.clone());
            names.extend(r.hosts.iter().map(|(h, _)| h.clone()));
        }
        for name in &names {
            let ns = net.ns(name);
            run(&["ip", "netns", "add", &ns]);
            net.made.push(ns.clone());
            run(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        }
        let inet = net.ns("inet");
        if wire == Wire::Bridge {
            run(&["ip", "-n", &inet, "link", "add", "br0", "type", "bridge"]);
            run(&["ip", "-n", &inet, "link", "set", "br0", "up"]);
        }
        // The internet side of R and the routers.
        let mut public = vec![("relay".to_owned(), R_ADDR.to_owned())];
        public.extend(routers.iter().map(|r| (r.name.clone(), r.wan.clone())));
        for (name, addr) in &public {
            let ns = net.ns(name);
            match wire {
                Wire::Bridge => {
                    let port = format!("p-{name}");
                    net.link(&inet, &port, &ns, "wan", &format!("{addr}/24"));
                    run(&["ip", "-n", &inet, "link", "set", &port, "master", "br0", "up"]);
                }
                Wire::Apart => {
                    let port = net.ns(&format!("port-{name}"));
                    run(&["ip", "netns", "add", &port]);
                    net.made.push(port.clone());
                    net.link(&port, "p", &ns, "wan", &format!("{addr}/24"));
                    run(&["ip", "-n", &ns, "link", "set", "wan", "gso_max_segs", "1"]);
                    net.ports.push(port);
                }
            }
        }
        // The home networks behind the routers.
        for router in routers {
            let r = net.ns(&router.name);
            run(&["ip", "-n", &r, "link", "add", "lan", "type", "bridge"]);
            run(&[
                "ip",
                "-n",
                &r,
                "addr",
                "add",
                &format!("{}/{}", router.gateway, router.prefix),
                "dev",
                "lan",
            ]);
            run(&["ip", "-n", &r, "link", "set", "lan", "up"]);
            for (i, (home, addr)) in router.hosts.iter().enumerate() {
                let h = net.ns(home);
                let port = format!("h{i}");
                net.link(&r, &port, &h, "eth0", &format!("{addr}/{}", router.prefix));
                run(&["ip", "-n", &r, "link", "set", &port, "master", "lan", "up"]);
                run(&["ip", "-n", &h, "route", "add", "default", "via", &router.gateway]);
            }
            run(&["ip", "netns", "exec", &r, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
            let random = if router.random { " random" } else { "" };
            // As a home router: outgoing flows masqueraded, unsolicited
            // incoming packets dropped silently (not refused).
            let rules = format!(
                "table ip nat {{\n chain post {{\n  type nat hook postrouting priority 100;\n  oifname \"wan\" masquerade{random}\n }}\n}}\n\
                 table ip filter {{\n chain input {{\n  type filter hook input priority 0;\n  iifname \"wan\" ct state new drop\n }}\n\
                 chain forward {{\n  type filter hook forward priority 0;\n  iifname \"wan\" ct state new drop\n }}\n}}\n"
            );
            nft(&r, &rules);
        }
        net
    }

    /// The full name of namespace `name`.
    pub fn ns(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    /// A veth pair from `left` (`lname`, up) to `right` (`rname`, up, `addr`).
    fn link(&self, left: &str, lname: &str, right: &str, rname: &str, addr: &str) {
        run(&[
            "ip", "-n", left, "link", "add", lname, "type", "veth", "peer", "name", rname, "netns", right,
        ]);
        run(&["ip", "-n", left, "link", "set", lname, "up"]);
        run(&["ip", "-n", right, "addr", "add", addr, "dev", rname]);
        run(&["ip", "-n", right, "link", "set", rname, "up"]);
    }
}

/// A `mutu run` in a namespace.
pub struct Node {
    pub ns: String,
    pub home: PathBuf,
    pub peer_id: String,
    /// Its HTTP API, inside its namespace (`127.0.0.1:<port>`).
    pub http: String,
    process: Option<Reaped>,
}

impl Node {
    pub fn start(net: &Internet, name: &str, home: &Path, extra: &[&str]) -> Self {
        let ns = net.ns(name);
        let mut node = Node {
            ns,
            home: home.to_path_buf(),
            peer_id: String::new(),
            http: String::new(),
            process: None,
        };
        node.launch(extra);
        node
    }

    pub fn launch(&mut self, extra: &[&str]) {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns, BIN, "--home"])
            .arg(&self.home)
            .args([
                "run",
                "--no-mdns",
                "--no-upnp",
                "--listen",
                "/ip4/0.0.0.0/tcp/7071",
                "--listen",
                "/ip4/0.0.0.0/udp/7071/quic-v1",
                "--http",
                "127.0.0.1:0",
                "--sync-interval",
                "1",
            ])
            .args(extra)
            .env_remove("MUTU_HOME")
            .env(
                "RUST_LOG",
                std::env::var("MUTU_NAT_LOG").unwrap_or_else(|_| "info".into()),
            );
        let log = std::fs::File::create(self.home.with_extension("log")).unwrap();
        let mut child = cmd.stdout(Stdio::piped()).stderr(log).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let process = Reaped(child);
        let mut peer_id = String::new();
        let mut http = String::new();
        let announced = read_announced(stdout, |line| {
            if let Some(p) = line.strip_prefix("peer id:") {
                peer_id = p.trim().to_owned();
            }
            match line.strip_prefix("http:") {
                Some(h) => {
                    http = h.trim().trim_start_matches("http://").to_owned();
                    true
                }
                None => false,
            }
        });
        assert!(
            announced,
            "mutu run in {} ended before announcing its addresses",
            self.ns
        );
        self.peer_id = peer_id;
        self.http = http;
        self.process = Some(process);
    }

    pub fn stop(&mut self) {
        self.process = None;
    }

    /// `mutu <args>` in this node's namespace, on its home.
    pub fn mutu(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.ns, BIN, "--home"])
            .arg(&self.home)
            .args(args)
            .env_remove("MUTU_HOME")
            .output()
            .unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.mutu(args);
        assert!(
            out.status.success(),
            "mutu {args:?} in {}: {}",
            self.ns,
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// `mutu peers --json`: (peer id, connection) pairs.
    pub fn peers(&self) -> Vec<(String, String)> {
        let out = self.mutu(&["peers", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        (
                            p["peer_id"].as_str().unwrap_or_default().to_owned(),
                            p["connection"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn connection_to(&self, other: &Node) -> Option<String> {
        self.peers()
            .into_iter()
            .find(|(p, _)| *p == other.peer_id)
            .map(|(_, c)| c)
    }

    pub fn holds(&self, id: &str) -> bool {
        self.mutu(&["show", id]).status.success()
    }

    /// This node's address at [`R_ADDR`], for `--bootstrap` (it must be R).
    pub fn bootstrap(&self) -> String {
        format!("/ip4/{R_ADDR}/tcp/7071/p2p/{}", self.peer_id)
    }
}

/// The homes and logs (`<home>.log`) of one run: removed at the end,
/// unless `MUTU_NAT_KEEP` is set (then the path is printed).
pub struct Scratch {
    /// Removes the directory when dropped (`None`: kept).
    _dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Scratch {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        if std::env::var_os("MUTU_NAT_KEEP").is_some() {
            eprintln!("homes and logs kept in {}", path.display());
            return Scratch {
                _dir: None,
                path: dir.keep(),
            };
        }
        Scratch { _dir: Some(dir), path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Waits until `done` holds, polling; panics with `what` after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
