//! Members behind NAT on an emulated internet (issue 10): real `mutu run`
//! processes in Linux network namespaces, home routers made with nftables
//! masquerade. Root is needed (namespaces, nftables): without it, or
//! without `ip netns`/`nft`, each test prints why and passes without
//! running.
//!
//! ```text
//!                  ns "relay": public node R (mutu run --relay), 203.0.113.1
//!                         |
//!    ---------- ns "inet": bridge br0 (203.0.113.0/24) ----------
//!          |                                        |
//!    ns "nat-a" wan 203.0.113.2               ns "nat-b" wan 203.0.113.3
//!    masquerade, lan 192.0.2.1                masquerade [random], lan 198.51.100.1
//!          |                                        |
//!    ns "a": node A, 192.0.2.2                ns "b": node B, 198.51.100.2
//! ```
//!
//! Only documentation ranges are used, and only inside namespaces this
//! test creates (each run under its own name prefix); every namespace, and
//! with it every link, is deleted when the test ends, even by a panic.
//! The test binary lives in the `mutu-cli` package because only there does
//! cargo give the path of the `mutu` binary (`CARGO_BIN_EXE_mutu`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{BIN, Reaped, read_announced, text};

/// Time for one step (a sync, a hole punch, a reconnection) to happen.
const STEP: Duration = Duration::from_secs(30);
const R_ADDR: &str = "203.0.113.1";

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// Runs a command that must succeed.
fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
}

/// Loads nftables `rules` in namespace `ns`.
fn nft(ns: &str, rules: &str) {
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

/// Why these tests cannot run here, if they cannot.
fn unavailable() -> Option<String> {
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

macro_rules! require_netns {
    () => {
        if let Some(why) = unavailable() {
            eprintln!("skipped: {why}");
            return;
        }
    };
}

/// The emulated internet. Dropping it deletes every namespace it made.
struct Internet {
    prefix: String,
    made: Vec<String>,
}

impl Drop for Internet {
    fn drop(&mut self) {
        for ns in self.made.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

impl Internet {
    /// Builds the topology drawn above; `random_b`: nat-b maps every new
    /// flow to a random port (endpoint-dependent mapping: no hole punching).
    fn new(random_b: bool) -> Self {
        let prefix = format!("mu{}x{}", std::process::id(), RUNS.fetch_add(1, Ordering::SeqCst));
        let mut net = Internet {
            prefix,
            made: Vec::new(),
        };
        for name in ["inet", "relay", "nat-a", "nat-b", "a", "b"] {
            let ns = net.ns(name);
            run(&["ip", "netns", "add", &ns]);
            net.made.push(ns.clone());
            run(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        }
        let inet = net.ns("inet");
        run(&["ip", "-n", &inet, "link", "add", "br0", "type", "bridge"]);
        run(&["ip", "-n", &inet, "link", "set", "br0", "up"]);
        // The internet side of R and the two routers.
        for (name, addr) in [("relay", R_ADDR), ("nat-a", "203.0.113.2"), ("nat-b", "203.0.113.3")] {
            let ns = net.ns(name);
            let port = format!("p-{name}");
            net.link(&inet, &port, &ns, "wan", &format!("{addr}/24"));
            run(&["ip", "-n", &inet, "link", "set", &port, "master", "br0", "up"]);
        }
        // The home networks behind the routers.
        for (router, home, lan, host) in [
            ("nat-a", "a", "192.0.2.1", "192.0.2.2"),
            ("nat-b", "b", "198.51.100.1", "198.51.100.2"),
        ] {
            let (r, h) = (net.ns(router), net.ns(home));
            net.link(&r, "lan", &h, "eth0", &format!("{host}/24"));
            run(&["ip", "-n", &r, "addr", "add", &format!("{lan}/24"), "dev", "lan"]);
            run(&["ip", "-n", &r, "link", "set", "lan", "up"]);
            run(&["ip", "-n", &h, "route", "add", "default", "via", lan]);
            run(&["ip", "netns", "exec", &r, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
            let random = if random_b && router == "nat-b" { " random" } else { "" };
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

    fn ns(&self, name: &str) -> String {
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
struct Node {
    ns: String,
    home: PathBuf,
    peer_id: String,
    process: Option<Reaped>,
}

impl Node {
    fn start(net: &Internet, name: &str, home: &Path, extra: &[&str]) -> Self {
        let ns = net.ns(name);
        let mut node = Node {
            ns,
            home: home.to_path_buf(),
            peer_id: String::new(),
            process: None,
        };
        node.launch(extra);
        node
    }

    fn launch(&mut self, extra: &[&str]) {
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
        let announced = read_announced(stdout, |line| {
            if let Some(p) = line.strip_prefix("peer id:") {
                peer_id = p.trim().to_owned();
            }
            line.starts_with("http:")
        });
        assert!(
            announced,
            "mutu run in {} ended before announcing its addresses",
            self.ns
        );
        self.peer_id = peer_id;
        self.process = Some(process);
    }

    fn stop(&mut self) {
        self.process = None;
    }

    /// `mutu <args>` in this node's namespace, on its home.
    fn mutu(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.ns, BIN, "--home"])
            .arg(&self.home)
            .args(args)
            .env_remove("MUTU_HOME")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
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
    fn peers(&self) -> Vec<(String, String)> {
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

    fn connection_to(&self, other: &Node) -> Option<String> {
        self.peers()
            .into_iter()
            .find(|(p, _)| *p == other.peer_id)
            .map(|(_, c)| c)
    }

    fn holds(&self, id: &str) -> bool {
        self.mutu(&["show", id]).status.success()
    }

    fn bootstrap(&self) -> String {
        format!("/ip4/{R_ADDR}/tcp/7071/p2p/{}", self.peer_id)
    }
}

/// The homes and logs (`<home>.log`) of one test: removed at the end,
/// unless `MUTU_NAT_KEEP` is set (then the path is printed).
struct Scratch {
    /// Removes the directory when dropped (`None`: kept).
    _dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Scratch {
    fn new() -> Self {
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

    fn path(&self) -> &Path {
        &self.path
    }
}

/// Waits until `done` holds, polling; panics with `what` after `timeout`.
fn wait_until(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// R, then A and B knowing only R.
fn three(net: &Internet, dir: &Path) -> (Node, Node, Node) {
    let r = Node::start(net, "relay", &dir.join("r"), &["--relay"]);
    let boot = r.bootstrap();
    let a = Node::start(net, "a", &dir.join("a"), &["--bootstrap", &boot]);
    let b = Node::start(net, "b", &dir.join("b"), &["--bootstrap", &boot]);
    (r, a, b)
}

/// A writes a need, B sees it and pledges, A sees the pledge.
fn need_and_pledge(a: &Node, b: &Node, title: &str) -> String {
    let need = a.ok(&["need", "add", "--title", title, "--goal", "1000EUR"]);
    let need = need.trim().to_owned();
    wait_until(STEP, "B to hold A's need", || b.holds(&need));
    b.ok(&["pledge", "add", &need, "--money", "600EUR"]);
    wait_until(STEP, "A to see B's pledge on its need", || {
        text(&a.mutu(&["show", &need]).stdout).contains("600.00 EUR")
    });
    need
}

#[test]
fn members_behind_nat_sync_and_hole_punch_to_a_direct_connection() {
    require_netns!();
    let net = Internet::new(false);
    let dir = Scratch::new();
    let (r, a, b) = three(&net, dir.path());
    need_and_pledge(&a, &b, "A shared server");
    wait_until(STEP, "A's connection with B to be direct (hole punched)", || {
        a.connection_to(&b).as_deref() == Some("direct")
    });
    let status: serde_json::Value = serde_json::from_str(&a.ok(&["status", "--json"])).unwrap();
    assert_ne!(status["reach"]["reachability"], "public", "A is behind NAT: {status}");
    drop((r, a, b));
}

#[test]
fn behind_an_endpoint_dependent_nat_sync_goes_through_the_relay() {
    require_netns!();
    let net = Internet::new(true);
    let dir = Scratch::new();
    let (r, a, b) = three(&net, dir.path());
    wait_until(STEP, "A and B to be connected through R", || {
        a.connection_to(&b).as_deref() == Some("relayed")
    });
    need_and_pledge(&a, &b, "A translation");
    // nat-b's random ports defeat hole punching: still through R.
    assert_eq!(a.connection_to(&b).as_deref(), Some("relayed"));
    drop((r, a, b));
}

#[test]
fn after_the_relay_restarts_members_reconnect_and_converge() {
    require_netns!();
    let net = Internet::new(false);
    let dir = Scratch::new();
    let (mut r, a, b) = three(&net, dir.path());
    need_and_pledge(&a, &b, "Before the restart");
    r.stop();
    let later = a.ok(&["need", "add", "--title", "While the relay was down"]);
    let later = later.trim().to_owned();
    r.launch(&["--relay"]);
    wait_until(STEP, "A and B to reconnect to the restarted relay", || {
        a.connection_to(&r).is_some() && b.connection_to(&r).is_some()
    });
    wait_until(STEP, "B and R to hold the need written while R was down", || {
        b.holds(&later) && r.holds(&later)
    });
    drop((r, a, b));
}

#[test]
fn an_invitation_connects_a_member_with_no_bootstrap() {
    require_netns!();
    let net = Internet::new(false);
    let dir = Scratch::new();
    let r = Node::start(&net, "relay", &dir.path().join("r"), &["--relay"]);
    let a = Node::start(&net, "a", &dir.path().join("a"), &["--bootstrap", &r.bootstrap()]);
    let b = Node::start(&net, "b", &dir.path().join("b"), &[]);
    let need = a.ok(&["need", "add", "--title", "Invited"]);
    let need = need.trim().to_owned();
    // A's invitation holds its circuit address once R accepted a reservation.
    let mut invitation = String::new();
    wait_until(STEP, "A's invitation to carry a relayed address", || {
        let out = a.mutu(&["invite", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let relayed = v["addresses"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x.as_str().is_some_and(|s| s.contains("p2p-circuit"))));
        if relayed {
            invitation = v["invitation"].as_str().unwrap().to_owned();
        }
        relayed
    });
    // A copy that lost its end says so.
    let cut = b.mutu(&["join", &invitation[..invitation.len() - 4]]);
    assert!(!cut.status.success());
    assert!(text(&cut.stderr).contains("checksum"), "{}", text(&cut.stderr));
    b.ok(&["join", &invitation]);
    wait_until(STEP, "B to hold A's need", || b.holds(&need));
    wait_until(STEP, "A and B to be connected", || a.connection_to(&b).is_some());
    drop((r, a, b));
}
