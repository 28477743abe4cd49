//! The WAN benchmark (issue 10, item 6): `cargo bench -p mutu-cli --bench wan`.
//!
//! Real `mutu run` processes in Linux network namespaces: a public relay
//! and bootstrap node R, and 10 private nodes behind 5 home routers
//! (nftables masquerade; nat-5 endpoint-dependent, `masquerade random`, so
//! no hole punching through it), on an emulated internet with WAN
//! conditions on every internet link: 40 ms one-way delay and 1 % loss.
//!
//! ```text
//!                       ns "relay": R (mutu run --relay), 203.0.113.1
//!                              |
//!   ===== internet: userspace hub, 40 ms each way; 1 % loss (nftables) =====
//!      |            |             |             |             |
//!    nat-1        nat-2         nat-3         nat-4         nat-5 (random)
//!   .113.11      .113.12       .113.13       .113.14       .113.15
//!    |    |       |    |        |    |        |    |        |    |
//!   h1a  h1b     h2a  h2b      h3a  h3b      h4a  h4b      h5a  h5b
//!  192.0.2.0/26  .64/26        .128/26   198.51.100.0/25  198.51.100.128/25
//! ```
//!
//! - **Delay**: this kernel has no `netem`, and nftables cannot hold a
//!   packet. Each `wan` link ends in a namespace of its own (`port-*`),
//!   where this process keeps an `AF_PACKET` socket; a thread (the hub)
//!   reads every frame the far end sends, and 40 ms later writes it to the
//!   port its destination MAC belongs to (broadcasts to all). The `wan`
//!   ends send no frame over the MTU (`gso_max_segs 1`), and the hub
//!   computes TCP and UDP checksums the sender left to offload. IPv4 and
//!   ARP only.
//! - **Loss**: nftables on every `wan` interface (R's and the routers'),
//!   on the way out to the internet: `numgen random mod 100 < 1 drop`, so
//!   each packet crossing the internet is lost with 1 % chance.
//! - The delay is measured and printed (`wan_conditions`): TCP connects
//!   (SYN, then RST from a closed port: one round trip) from h1a to R.
//!
//! Scenarios, one JSON object per line:
//! - `wan_conditions`: how delay and loss are made, the measured round trip,
//!   the loss counted by nftables over the whole run, the hub's frames.
//! - `wan_publish`: `mutu need add` on one of the 10 nodes (in turn) until
//!   the 9 others show the need (their HTTP API, polled every 10 ms):
//!   p50/p99 over `MUTU_BENCH_WAN_PUBLISHES` (default 50); goal p99 ≤ 1.5 s.
//! - `wan_catchup`: a source node S behind nat-1 holds
//!   `MUTU_BENCH_WAN_RECORDS` records (default 10 000, imported from a
//!   bundle); R (which replicates only its own member, `--scope trusted
//!   --hops 0`, so it serves none of them) relays. A fresh node behind
//!   nat-5 (no hole punching: only through R) and then a fresh node behind
//!   nat-2 (hole punched: direct) catch up from S: records/s of each, the
//!   bytes R carried for each (nftables counters on R, IP level, both
//!   directions) against R's circuit limits.
//!
//! Needs root, `ip` and `nft`: otherwise prints why it is skipped and exits
//! 0. Every namespace and process it made is removed at the end, even on a
//! panic. `MUTU_NAT_KEEP=1` keeps the homes and logs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/netns.rs"]
mod netns;

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mutu_node::net::behaviour::{RELAY_MAX_CIRCUIT_BYTES, RELAY_MAX_CIRCUIT_DURATION};
use mutu_protocol::bundle::Bundle;
use mutu_protocol::record::{Body, Need, NeedStatus, Record};
use mutu_protocol::{SecretKey, SignedChange, Timestamp};
use netns::{Internet, Node, R_ADDR, Router, Scratch, Wire, nft, output, unavailable, wait_until};
use serde_json::json;

#[path = "../../bench-support/mod.rs"]
mod support;
use support::{chained_changes, env_usize, loadavg, nonce, percentile, round};

/// One-way delay of the internet.
const DELAY: Duration = Duration::from_millis(40);
/// Loss on each internet link, percent.
const LOSS_PERCENT: u32 = 1;
/// Goal: publish → all nodes, p99.
const PUBLISH_GOAL: Duration = Duration::from_millis(1500);
/// Longest wait for one publish to reach every node before it counts as lost.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for one catch-up.
const CATCHUP_TIMEOUT: Duration = Duration::from_secs(240);
/// Time for the network to form (reservations, connections, a first sync).
const STEP: Duration = Duration::from_secs(90);
/// Largest frame the hub carries (Ethernet, 1500 MTU).
const MAX_FRAME: usize = 1514;

/// Moves the calling thread into network namespace `ns` (made by `ip netns`).
fn enter(ns: &str) {
    let f = File::open(format!("/run/netns/{ns}")).unwrap();
    rustix::thread::move_into_link_name_space(f.as_fd(), Some(rustix::thread::LinkNameSpaceType::Network))
        .unwrap_or_else(|e| panic!("setns into {ns}: {e}"));
}

type Task = Box<dyn FnOnce() + Send>;

/// A thread living in one namespace, running what it is given there.
struct InNs {
    tx: Option<SyncSender<Task>>,
    thread: Option<JoinHandle<()>>,
}

impl InNs {
    fn new(ns: &str) -> Self {
        let (tx, rx) = sync_channel::<Task>(4);
        let ns = ns.to_owned();
        let thread = std::thread::spawn(move || {
            enter(&ns);
            for task in rx {
                task();
            }
        });
        InNs {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    /// Runs `f` in the namespace; its result comes on the receiver.
    fn run<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> Receiver<R> {
        let (tx, rx) = sync_channel(1);
        let task: Task = Box::new(move || {
            let _ = tx.send(f());
        });
        self.tx.as_ref().unwrap().send(task).unwrap();
        rx
    }
}

impl Drop for InNs {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `GET path` on a node's HTTP API (from inside its namespace): status and body.
fn http_get(addr: &str, token: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

/// A node and the thread that reads its HTTP API from its namespace.
struct Member {
    node: Node,
    api: InNs,
    token: String,
}

impl Member {
    fn start(net: &Internet, name: &str, home: &Path, extra: &[&str]) -> Self {
        let node = Node::start(net, name, home, extra);
        let token = std::fs::read_to_string(home.join("api.token"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        let api = InNs::new(&node.ns);
        Member { node, api, token }
    }

    /// Polls until the node shows record `id`: when, or `None` at `deadline`.
    fn when_holds(&self, id: &str, deadline: Instant) -> Receiver<Option<Instant>> {
        let (addr, token, path) = (
            self.node.http.clone(),
            self.token.clone(),
            format!("/api/v1/records/{id}"),
        );
        self.api.run(move || {
            loop {
                if matches!(http_get(&addr, &token, &path), Some((200, _))) {
                    return Some(Instant::now());
                }
                if Instant::now() > deadline {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    }

    /// Needs this node shows (`/api/v1/stats`).
    fn needs(&self) -> usize {
        let (addr, token) = (self.node.http.clone(), self.token.clone());
        self.api
            .run(move || {
                let (_, body) = http_get(&addr, &token, "/api/v1/stats")?;
                let v: serde_json::Value = serde_json::from_str(&body).ok()?;
                v["needs"].as_u64()
            })
            .recv()
            .unwrap()
            .unwrap_or(0) as usize
    }
}

/// What the hub counted.
#[derive(Debug, Default, Clone, Copy)]
struct HubStats {
    frames: u64,
    bytes: u64,
    /// Frames larger than [`MAX_FRAME`] (should be none: `gso_max_segs 1`).
    oversize: u64,
    /// Frames for a port whose address the hub had not learned yet.
    unlearned: u64,
    /// Writes the kernel refused (full buffers).
    send_errors: u64,
    /// Most frames held at once.
    max_held: usize,
}

/// One `wan` link's far end as the hub sees it.
struct Port {
    sock: OwnedFd,
    /// MAC of the `wan` interface at the other end of the link.
    mac: [u8; 6],
    /// Where to write frames for it: learned from the first frame it sent.
    to: Option<rustix::net::SocketAddrAny>,
}

/// The delaying hub: a thread joining the port namespaces.
struct Hub {
    stop: Arc<AtomicBool>,
    learned: Arc<AtomicUsize>,
    thread: Option<JoinHandle<HubStats>>,
}

impl Hub {
    /// `ports`: (port namespace, MAC of the `wan` end).
    fn start(ports: Vec<(String, [u8; 6])>, delay: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let learned = Arc::new(AtomicUsize::new(0));
        let (s, l) = (stop.clone(), learned.clone());
        let (ready_tx, ready_rx) = sync_channel(1);
        let thread = std::thread::spawn(move || {
            let ports: Vec<Port> = ports
                .iter()
                .map(|(ns, mac)| {
                    // A packet socket sees every interface of its
                    // namespace: there, only `p` (and `lo`, silent).
                    enter(ns);
                    let sock = rustix::net::socket_with(
                        rustix::net::AddressFamily::PACKET,
                        rustix::net::SocketType::RAW,
                        rustix::net::SocketFlags::NONBLOCK | rustix::net::SocketFlags::CLOEXEC,
                        Some(rustix::net::eth::ALL),
                    )
                    .unwrap();
                    Port {
                        sock,
                        mac: *mac,
                        to: None,
                    }
                })
                .collect();
            ready_tx.send(()).unwrap();
            hub_loop(ports, delay, &s, &l)
        });
        ready_rx.recv().unwrap();
        Hub {
            stop,
            learned,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> HubStats {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().map(|t| t.join().unwrap()).unwrap_or_default()
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn hub_loop(mut ports: Vec<Port>, delay: Duration, stop: &AtomicBool, learned: &AtomicUsize) -> HubStats {
    let mut stats = HubStats::default();
    let by_mac: HashMap<[u8; 6], usize> = ports.iter().enumerate().map(|(i, p)| (p.mac, i)).collect();
    // Constant delay: frames leave in the order they came.
    let mut held: VecDeque<(Instant, usize, Vec<u8>)> = VecDeque::new();
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let wait = held
            .front()
            .map(|(due, _, _)| due.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_millis(20))
            .min(Duration::from_millis(20));
        let timeout = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: wait.as_nanos() as _,
        };
        let ready: Vec<bool> = {
            let mut fds: Vec<_> = ports
                .iter()
                .map(|p| rustix::event::PollFd::new(&p.sock, rustix::event::PollFlags::IN))
                .collect();
            let _ = rustix::event::poll(&mut fds, Some(&timeout));
            fds.iter().map(|f| !f.revents().is_empty()).collect()
        };
        for (from, _) in ready.iter().enumerate().filter(|(_, r)| **r) {
            while let Ok((n, _, addr)) =
                rustix::net::recvfrom(&ports[from].sock, &mut buf[..], rustix::net::RecvFlags::DONTWAIT)
            {
                let frame = &buf[..n.min(buf.len())];
                // Only what the far end sent: our own writes on this port
                // come back to the socket too (with another source MAC).
                if frame.len() < 14 || frame[6..12] != ports[from].mac {
                    continue;
                }
                if ports[from].to.is_none() {
                    ports[from].to = addr;
                    learned.fetch_add(1, Ordering::SeqCst);
                }
                if n > MAX_FRAME {
                    stats.oversize += 1;
                    continue;
                }
                let kind = u16::from_be_bytes([frame[12], frame[13]]);
                if kind != 0x0800 && kind != 0x0806 {
                    continue;
                }
                let mut frame = frame.to_vec();
                fix_checksum(&mut frame);
                held.push_back((Instant::now() + delay, from, frame));
                stats.max_held = stats.max_held.max(held.len());
            }
        }
        let now = Instant::now();
        while held.front().is_some_and(|(due, _, _)| *due <= now) {
            let Some((_, from, frame)) = held.pop_front() else {
                break;
            };
            let dst: [u8; 6] = frame[0..6].try_into().unwrap();
            let targets: Vec<usize> = match by_mac.get(&dst) {
                Some(&to) if dst[0] & 1 == 0 => vec![to],
                _ => (0..ports.len()).filter(|&i| i != from).collect(),
            };
            for t in targets {
                let Some(to) = &ports[t].to else {
                    stats.unlearned += 1;
                    continue;
                };
                match rustix::net::sendto(&ports[t].sock, &frame, rustix::net::SendFlags::DONTWAIT, to) {
                    Ok(_) => {
                        stats.frames += 1;
                        stats.bytes += frame.len() as u64;
                    }
                    Err(_) => stats.send_errors += 1,
                }
            }
        }
    }
    stats
}

/// Ones' complement sum of `data` added to `sum`.
fn sum16(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in chunks.by_ref() {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

/// Writes the TCP or UDP checksum of an IPv4 frame (the sender's kernel
/// may have left it to offload: veths never compute it).
fn fix_checksum(frame: &mut [u8]) {
    if frame.len() < 34 || frame[12..14] != [0x08, 0x00] {
        return;
    }
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let fragment = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
    if ihl < 20 || total < ihl || 14 + total > frame.len() || fragment {
        return;
    }
    let proto = ip[9];
    let at = match proto {
        6 => 16,
        17 => 6,
        _ => return,
    };
    let (start, end) = (14 + ihl, 14 + total);
    if end - start < at + 2 || (proto == 17 && frame[start + 6..start + 8] == [0, 0]) {
        return;
    }
    frame[start + at] = 0;
    frame[start + at + 1] = 0;
    let mut sum = sum16(0, &frame[26..34]); // source and destination
    sum += u32::from(proto) + (end - start) as u32;
    sum = sum16(sum, &frame[start..end]);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let mut c = !(sum as u16);
    if proto == 17 && c == 0 {
        c = 0xffff;
    }
    frame[start + at..start + at + 2].copy_from_slice(&c.to_be_bytes());
}

/// MAC of interface `dev` in namespace `ns`.
fn mac_of(ns: &str, dev: &str) -> [u8; 6] {
    let out = output(&["ip", "-n", ns, "-j", "link", "show", dev]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let text = v[0]["address"].as_str().unwrap();
    let mut mac = [0u8; 6];
    for (m, part) in mac.iter_mut().zip(text.split(':')) {
        *m = u8::from_str_radix(part, 16).unwrap();
    }
    mac
}

/// The loss rules on a `wan` interface, counted.
fn loss_rules() -> String {
    format!(
        "table ip wan {{\n chain post {{\n  type filter hook postrouting priority 0;\n  oifname \"wan\" counter\n  \
         oifname \"wan\" numgen random mod 100 < {LOSS_PERCENT} counter drop\n }}\n}}\n"
    )
}

/// (packets out on `wan`, packets dropped) of [`loss_rules`] in `ns`.
fn loss_counts(ns: &str) -> (u64, u64) {
    let out = output(&["ip", "netns", "exec", ns, "nft", "list", "table", "ip", "wan"]);
    let counts: Vec<u64> = out
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let i = w.iter().position(|x| *x == "packets")?;
            w.get(i + 1)?.parse().ok()
        })
        .collect();
    (
        counts.first().copied().unwrap_or(0),
        counts.get(1).copied().unwrap_or(0),
    )
}

/// Counters on R of its traffic with each router, both directions.
fn meter_rules(routers: &[Router]) -> String {
    let mut rules = String::from("table ip traffic {\n chain rx {\n  type filter hook input priority -10;\n");
    for r in routers {
        rules += &format!("  ip saddr {} counter\n", r.wan);
    }
    rules += " }\n chain tx {\n  type filter hook output priority -10;\n";
    for r in routers {
        rules += &format!("  ip daddr {} counter\n", r.wan);
    }
    rules += " }\n}\n";
    rules
}

/// Bytes R exchanged with `addr` so far (IP level, both directions).
fn relay_bytes(relay_ns: &str, addr: &str) -> u64 {
    let out = output(&["ip", "netns", "exec", relay_ns, "nft", "list", "table", "ip", "traffic"]);
    out.lines()
        .filter(|l| l.split_whitespace().any(|w| w == addr))
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let i = w.iter().position(|x| *x == "bytes")?;
            w.get(i + 1)?.parse::<u64>().ok()
        })
        .sum()
}

/// Round trips from `from_ns` to R: TCP connects to a closed port (SYN,
/// RST back), in milliseconds, sorted.
fn round_trips(from_ns: &str, n: usize) -> Vec<f64> {
    let probe = InNs::new(from_ns);
    let mut rtts: Vec<f64> = probe
        .run(move || {
            (0..n)
                .filter_map(|_| {
                    let t = Instant::now();
                    let target = format!("{R_ADDR}:9").parse().unwrap();
                    let r = TcpStream::connect_timeout(&target, Duration::from_secs(3));
                    let refused = matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused);
                    refused.then(|| t.elapsed().as_secs_f64() * 1000.0)
                })
                .collect()
        })
        .recv()
        .unwrap();
    rtts.sort_by(f64::total_cmp);
    rtts
}

fn need(title: String) -> Body {
    Body::Need(Need {
        title,
        description: "Export of SEPA direct debits from the accounting module, with tests.".into(),
        tags: vec!["accounting".into()],
        project: None,
        goal: None,
        days_goal: None,
        deadline: None,
        status: NeedStatus::Open,
        merged_into: None,
        decision: Default::default(),
    })
}

/// `records` needs of `members` members (fixed seeds), 4 changes each.
fn generate(members: usize, records: usize, now: Timestamp) -> Vec<SignedChange> {
    let mut out = Vec::new();
    for m in 0..members {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(m as u64 + 1).to_le_bytes());
        seed[31] = 0x3a;
        let key = SecretKey::from_bytes(&seed);
        let me = key.member_id();
        let signed: Vec<_> = (0..records)
            .map(|i| {
                Record::new(me, nonce(i), now, need(format!("need {i} of member {m}")))
                    .sign(&key)
                    .expect("valid record")
            })
            .collect();
        out.extend(chained_changes(&key, [9; 16], &signed, records.div_ceil(4), now));
    }
    out
}

fn routers() -> Vec<Router> {
    let lans = [
        ("192.0.2.1", 26, ["192.0.2.2", "192.0.2.3"]),
        ("192.0.2.65", 26, ["192.0.2.66", "192.0.2.67"]),
        ("192.0.2.129", 26, ["192.0.2.130", "192.0.2.131"]),
        ("198.51.100.1", 25, ["198.51.100.2", "198.51.100.3"]),
        ("198.51.100.129", 25, ["198.51.100.130", "198.51.100.131"]),
    ];
    lans.iter()
        .enumerate()
        .map(|(i, (gateway, prefix, hosts))| Router {
            name: format!("nat-{}", i + 1),
            wan: format!("203.0.113.{}", 11 + i),
            gateway: (*gateway).into(),
            prefix: *prefix,
            hosts: hosts
                .iter()
                .zip(["a", "b"])
                .map(|(addr, h)| (format!("h{}{h}", i + 1), (*addr).into()))
                .collect(),
            random: i == 4,
        })
        .collect()
}

/// A need written on `author` reaching all of `others`: seconds from the
/// command to the last of them, `None` if one did not within the timeout.
fn publish(author: &Member, others: &[&Member], title: &str) -> (Option<f64>, f64) {
    let t0 = Instant::now();
    let id = author.node.ok(&["need", "add", "--title", title]).trim().to_owned();
    let written = t0.elapsed().as_secs_f64();
    let deadline = Instant::now() + PUBLISH_TIMEOUT;
    let waits: Vec<_> = others.iter().map(|m| m.when_holds(&id, deadline)).collect();
    let mut last = Some(t0);
    for w in waits {
        last = match (last, w.recv().unwrap()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    (last.map(|l| (l - t0).as_secs_f64()), written)
}

fn wan_publish(net: &Internet, dir: &Path, routers: &[Router], publishes: usize) -> serde_json::Value {
    let r = Member::start(net, "relay", &dir.join("r"), &["--relay"]);
    let boot = r.node.bootstrap();
    let nodes: Vec<Member> = routers
        .iter()
        .flat_map(|rt| rt.hosts.iter())
        .map(|(h, _)| Member::start(net, h, &dir.join(h), &["--bootstrap", &boot]))
        .collect();
    // Warm-up: the network forms (reservations, connections, a first sync).
    let t = Instant::now();
    for (i, author) in [0, nodes.len() - 1].into_iter().enumerate() {
        let others: Vec<&Member> = nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != author)
            .map(|(_, m)| m)
            .collect();
        let id = nodes[author]
            .node
            .ok(&["need", "add", "--title", &format!("warm-up {i}")])
            .trim()
            .to_owned();
        wait_until(STEP, "a warm-up need to reach every node", || {
            others
                .iter()
                .all(|m| m.when_holds(&id, Instant::now()).recv().unwrap().is_some())
        });
    }
    eprintln!("network formed in {:.1} s", t.elapsed().as_secs_f64());
    let mut times = Vec::new();
    let mut writes = Vec::new();
    let mut lost = 0;
    for i in 0..publishes {
        let author = i % nodes.len();
        let others: Vec<&Member> = nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != author)
            .map(|(_, m)| m)
            .collect();
        let (t, w) = publish(&nodes[author], &others, &format!("wan need {i}"));
        writes.push(w);
        match t {
            Some(t) => times.push(t),
            None => lost += 1,
        }
    }
    let connections: Vec<String> = nodes
        .iter()
        .flat_map(|n| n.node.peers().into_iter().map(|(_, c)| c))
        .collect();
    let direct = connections.iter().filter(|c| *c == "direct").count();
    let relayed = connections.iter().filter(|c| *c == "relayed").count();
    times.sort_by(f64::total_cmp);
    writes.sort_by(f64::total_cmp);
    let p99 = if lost > 0 {
        f64::INFINITY
    } else {
        percentile(&times, 0.99)
    };
    json!({
        "scenario": "wan_publish",
        "nodes": nodes.len(),
        "nats": routers.len(),
        "endpoint_dependent_nats": routers.iter().filter(|r| r.random).count(),
        "publishes": publishes,
        "reached_all": times.len(),
        "timed_out": lost,
        "p50_s": round(percentile(&times, 0.5), 3),
        "p99_s": round(percentile(&times, 0.99), 3),
        "max_s": round(times.last().copied().unwrap_or(f64::NAN), 3),
        "write_p50_s": round(percentile(&writes, 0.5), 3),
        "connections_direct": direct,
        "connections_relayed": relayed,
        "how": "mutu need add on each node in turn; the 9 others' HTTP API polled every 10 ms",
        "goal": "p99 <= 1.5 s",
        "ratio": if p99.is_finite() { round(p99 / PUBLISH_GOAL.as_secs_f64(), 3) } else { f64::INFINITY },
        "loadavg": loadavg(),
    })
}

/// One fresh node in `host` catching up from `source` through R: seconds
/// to the first and to the last record, R's bytes with its router, the
/// connection it ends with.
fn catch_up(
    net: &Internet,
    dir: &Path,
    host: &str,
    router: &Router,
    r: &Member,
    source: &Member,
    total: usize,
) -> serde_json::Value {
    let relay_ns = r.node.ns.clone();
    let before = relay_bytes(&relay_ns, &router.wan);
    let t0 = Instant::now();
    let fresh = Member::start(
        net,
        host,
        &dir.join(format!("fresh-{host}")),
        &["--bootstrap", &r.node.bootstrap()],
    );
    let mut first = None;
    let mut done = None;
    while t0.elapsed() < CATCHUP_TIMEOUT {
        let n = fresh.needs();
        if n > 0 && first.is_none() {
            first = Some(t0.elapsed().as_secs_f64());
        }
        if n >= total {
            done = Some(t0.elapsed().as_secs_f64());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let held = fresh.needs();
    let bytes = relay_bytes(&relay_ns, &router.wan) - before;
    let connection = fresh.node.connection_to(&source.node);
    let elapsed = done.unwrap_or(t0.elapsed().as_secs_f64());
    let transfer = elapsed - first.unwrap_or(0.0);
    json!({
        "node": format!("{host} behind {}{}", router.name, if router.random { " (endpoint-dependent)" } else { "" }),
        "records": held,
        "complete": done.is_some(),
        "elapsed_s": round(elapsed, 2),
        "first_record_s": first.map(|f| round(f, 2)),
        "records_per_s": (held as f64 / elapsed).round(),
        // Null when the records came in less than a poll or two.
        "records_per_s_after_first": (transfer >= 0.5).then(|| (held as f64 / transfer).round()),
        "relay_bytes": bytes,
        "connection_to_source": connection,
    })
}

fn wan_catchup(net: &Internet, dir: &Path, routers: &[Router], total: usize) -> serde_json::Value {
    // R replicates only its own member: it serves none of S's records.
    let r = Member::start(
        net,
        "relay",
        &dir.join("r2"),
        &["--relay", "--scope", "trusted", "--hops", "0"],
    );
    let members = total.div_ceil(500).max(1);
    let per = total.div_ceil(members);
    let total = members * per;
    let t = Instant::now();
    let changes = generate(members, per, mutu_node::state::now());
    let bundle = dir.join("records.json");
    std::fs::write(&bundle, Bundle::from_changes(changes).to_json()).unwrap();
    let s_home = dir.join("source");
    let init = common::mutu(&s_home, &["init", "--name", "Source", "--kind", "association"]);
    assert!(init.status.success(), "init: {}", common::text(&init.stderr));
    let import = common::mutu(&s_home, &["import", bundle.to_str().unwrap()]);
    assert!(import.status.success(), "import: {}", common::text(&import.stderr));
    eprintln!(
        "{total} records generated and imported in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let source = Member::start(net, "h1a", &s_home, &["--bootstrap", &r.node.bootstrap()]);
    wait_until(STEP, "S to hold a relayed address (a reservation on R)", || {
        let out = source.node.mutu(&["invite", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["addresses"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x.as_str().is_some_and(|s| s.contains("p2p-circuit"))))
    });
    let relayed = catch_up(net, dir, "h5a", &routers[4], &r, &source, total);
    let direct = catch_up(net, dir, "h2a", &routers[1], &r, &source, total);
    let limit = RELAY_MAX_CIRCUIT_BYTES;
    let used = relayed["relay_bytes"].as_u64().unwrap_or(0);
    json!({
        "scenario": "wan_catchup",
        "records": total,
        "members": members,
        "through_relay": relayed,
        "direct": direct,
        "relay_circuit_limit_bytes": limit,
        "relay_circuit_limit_s": RELAY_MAX_CIRCUIT_DURATION.as_secs(),
        "fits_relay_limits": used <= limit && relayed["elapsed_s"].as_f64().unwrap_or(f64::INFINITY) <= RELAY_MAX_CIRCUIT_DURATION.as_secs_f64(),
        "goal": "catch-up through the relay within one circuit's byte limit",
        "ratio": round(used as f64 / limit as f64, 3),
        "loadavg": loadavg(),
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Some(why) = unavailable() {
        println!("wan benchmark skipped: {why}");
        return;
    }
    let publishes = env_usize("MUTU_BENCH_WAN_PUBLISHES", 50);
    let records = env_usize("MUTU_BENCH_WAN_RECORDS", 10_000);
    let routers = routers();
    let net = Internet::build(&routers, Wire::Apart);
    let attached: Vec<String> = std::iter::once(net.ns("relay"))
        .chain(routers.iter().map(|r| net.ns(&r.name)))
        .collect();
    let ports: Vec<(String, [u8; 6])> = net
        .ports
        .iter()
        .zip(&attached)
        .map(|(p, ns)| (p.clone(), mac_of(ns, "wan")))
        .collect();
    let hub = Hub::start(ports, DELAY);
    // Each attached namespace speaks once so the hub learns its port.
    let speakers: Vec<InNs> = attached.iter().map(|ns| InNs::new(ns)).collect();
    wait_until(Duration::from_secs(10), "the hub to learn every port", || {
        for s in &speakers {
            let _ = s
                .run(|| {
                    let u = UdpSocket::bind("0.0.0.0:0").ok()?;
                    u.set_broadcast(true).ok()?;
                    u.send_to(b"hub", "203.0.113.255:9").ok()
                })
                .recv();
        }
        hub.learned.load(Ordering::SeqCst) == speakers.len()
    });
    drop(speakers);
    for ns in &attached {
        nft(ns, &loss_rules());
    }
    nft(&net.ns("relay"), &meter_rules(&routers));
    let rtts = round_trips(&net.ns("h1a"), 20);

    let dir = Scratch::new();
    let publish = wan_publish(&net, dir.path(), &routers, publishes);
    println!("{publish}");
    let catchup = wan_catchup(&net, dir.path(), &routers, records);
    println!("{catchup}");

    let (mut seen, mut dropped) = (0, 0);
    for ns in &attached {
        let (s, d) = loss_counts(ns);
        seen += s;
        dropped += d;
    }
    let stats = hub.finish();
    println!(
        "{}",
        json!({
            "scenario": "wan_conditions",
            "one_way_delay_ms": DELAY.as_millis() as u64,
            "delay_by": "userspace hub: AF_PACKET sockets on each internet link's far end, frames written 40 ms after they came",
            "rtt_ms_h1a_to_r": {
                "probes": rtts.len(),
                "min": round(rtts.first().copied().unwrap_or(f64::NAN), 1),
                "p50": round(percentile(&rtts, 0.5), 1),
                "max": round(rtts.last().copied().unwrap_or(f64::NAN), 1),
            },
            "loss_percent": LOSS_PERCENT,
            "loss_by": "nftables on each wan interface, outgoing: numgen random mod 100 < 1 drop",
            "packets_to_internet": seen,
            "packets_dropped": dropped,
            "loss_measured_percent": if seen > 0 { round(dropped as f64 * 100.0 / seen as f64, 2) } else { f64::NAN },
            "hub": {
                "frames": stats.frames,
                "bytes": stats.bytes,
                "oversize": stats.oversize,
                "unlearned": stats.unlearned,
                "send_errors": stats.send_errors,
                "max_held": stats.max_held,
            },
            "bandwidth": "not limited (veth)",
            "loadavg": loadavg(),
        })
    );
}
