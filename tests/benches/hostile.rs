#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The sync benchmark's `hostile` scenario (issue 7, deliverable 4):
//! `cargo bench -p mutu-tests --bench hostile`.
//!
//! It lives in the tests crate, not beside `node/benches/sync.rs`, because
//! the flooders are `mutu_tests::mal::MalNode`s sending what
//! `mutu_tests::craft` makes, and `mutu-node` cannot depend on `mutu-tests`.
//! Same conventions as the sync bench: one JSON object per line, children
//! re-run this binary (`MUTU_BENCH_CHILD=flooded`) so that a node's memory
//! is its own, and the bench never fails on a missed goal: it prints.
//!
//! ```text
//!    H1 ──── F ──── H2        honest nodes over loopback TCP; H1 and H2 are
//!            │                not connected, so what one writes crosses F
//!        flooders             raw swarms with fresh identities (this process)
//! ```
//!
//! F is a child process (a node with a few large documents, production
//! settings); H1 and H2 are node actors in this process on a runtime of
//! their own; the flooders run on another runtime. Every 100 ms the parent
//! reads F's `VmRSS` from `/proc/<pid>/status` and keeps the peak of each
//! phase (and F's `VmHWM`, reset through `/proc/<pid>/clear_refs` at the
//! start of each phase, when the kernel allows it); F's CPU time comes from
//! `/proc/<pid>/stat`.
//!
//! - Phase 1 (idle): `MUTU_BENCH_PUBLISHES` (200) records written one at a
//!   time, alternately on H1 and H2; latency from the write until the record
//!   is in the other node's index (polled every ~1 ms).
//! - Phase 2 (flood): the same while the flooders send junk at full speed
//!   (a flooder that F disconnects or blocks is replaced by a new identity
//!   that dials again; an attacker has unlimited keys):
//!   - `gossip`: rows 1–2 by gossip: batches of changes validly signed by
//!     throw-away members, each change crafted (unknown replica or another
//!     member's actor in the header, deflated chunk, inflation bomb, 100 KiB
//!     value, operation-count bomb);
//!   - `answers`: the same inside sync answers: the flooder claims documents
//!     in an inventory and answers F's pulls with crafted changes;
//!   - `orphans`: row 5, validly signed changes with made-up dependencies,
//!     a new identity each time one fills its share of F's pending buffer;
//!   - `changes-since`: row 6, concurrent `ChangesSince` requests with
//!     unknown heads for F's large documents, responses read and discarded;
//!   - `changes-since-stall`: the same, responses never read;
//!   - `busy` (not in the default set): no traffic at all, one thread of
//!     this process spinning: a control for the CPU any flooder takes from
//!     F on a small machine.
//!
//! Environment: `MUTU_BENCH_PUBLISHES`; `MUTU_BENCH_FLOOD` (comma list of
//! the attacks above, default all but `busy`); `MUTU_BENCH_JUNK` (comma list of
//! `unknown,foreign,deflated,bomb,big,opbomb`, default all: what `gossip`
//! and `answers` send); `MUTU_BENCH_LARGE_DOCS` (4) and
//! `MUTU_BENCH_LARGE_RECORDS` (4 000 records of ~1 KB each, per document);
//! `MUTU_BENCH_FLOOD_MAX_S` (120: phase 2 stops publishing after that);
//! `MUTU_BENCH_NICE` (0): run the flooders' threads at that nice value, so
//! that on a small machine they take only the CPU that F and the honest
//! nodes leave (as if the attacker had a machine of its own; the flood is
//! then as fast as that leftover allows).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, StreamExt};
use libp2p::gossipsub::PublishError;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, SwarmBuilder, noise, tcp, yamux};
use mutu_node::actor::{self, Handle};
use mutu_node::home::Home;
use mutu_node::net::sync::{GossipBatch, Request, Response};
use mutu_node::net::{self, behaviour};
use mutu_node::state::{self, State};
use mutu_protocol::bundle::Bundle;
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::{ReplicaNonce, actor_id};
use mutu_protocol::record::{Body, MemberKind, Need, NeedStatus, Profile, Record, RecordId};
use mutu_protocol::registry;
use mutu_protocol::{MemberId, SecretKey, SignedChange, Timestamp};
use mutu_tests::craft;
use mutu_tests::mal::{MalNode, forged_inventory};
use mutu_tests::net::seeded_bytes;
use serde_json::json;
use tokio::sync::watch;

#[path = "../../bench-support/mod.rs"]
mod support;
use support::{chained_changes, env_usize, percentile, round};

/// When the crafted changes say they were written (2026-01-01).
const WRITTEN_AT: Timestamp = Timestamp::from_millis(1_767_225_600_000);
/// Throw-away members whose crafted changes `gossip` and `answers` send.
const JUNK_MEMBERS: u64 = 32;
/// Crafted changes per gossip message (all of one member, one kind): three
/// are enough for F to block the sender, as an attacker would not send
/// fewer.
const JUNK_PER_MESSAGE: usize = 4;
/// Gossip messages a junk flooder publishes before waiting to see whether
/// F blocked it (then it publishes more, or a new identity takes over).
const BURST: usize = 32;
/// Documents a junk flooder claims in its inventory (F pulls them all).
const ANSWER_DOCS: usize = 8;
/// Members whose orphans `orphans` sends.
const ORPHAN_MEMBERS: u64 = 256;
/// Orphan messages made ahead of the flooder that sends them.
const ORPHAN_QUEUE: usize = 256;
/// Orphans per gossip message (of one member).
const ORPHANS_PER_MESSAGE: usize = 16;
/// Concurrent `ChangesSince` requests per row 6 connection (F serves at
/// most `sync_max_concurrent_streams`, 32, inbound and outbound together).
const CHANGES_SINCE_CONCURRENT: usize = 16;
/// Flooders running at once, per attack.
const SLOTS_GOSSIP: usize = 4;
const SLOTS_ANSWERS: usize = 2;
const SLOTS_ORPHANS: usize = 1;
const SLOTS_CHANGES_SINCE: usize = 2;
const SLOTS_STALL: usize = 1;
/// How long a publish may take before it counts as late.
const LATE: Duration = Duration::from_secs(10);
/// Records per change of F's large documents (about 110 KB per change).
const LARGE_RECORDS_PER_CHANGE: usize = 100;
/// The kernel's `USER_HZ`: clock ticks per second in `/proc/<pid>/stat`
/// (100 on every Linux ABI this runs on).
const USER_HZ: f64 = 100.0;

/// The values of `name` (a comma list) among `known`; `default` when unset
/// or `all`.
fn env_list(name: &str, known: &[&'static str], default: &[&'static str]) -> Vec<&'static str> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() && v.trim() != "all" => {
            let wanted: Vec<&str> = v.split(',').map(str::trim).collect();
            for w in &wanted {
                assert!(
                    known.contains(w),
                    "{name}: unknown value {w:?}; known: {}",
                    known.join(",")
                );
            }
            known.iter().copied().filter(|a| wanted.contains(a)).collect()
        }
        _ => default.to_vec(),
    }
}

fn runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Lowers the calling thread's priority to nice `nice` (with `renice`: the
/// workspace forbids `unsafe`, so no `setpriority` here). 0: unchanged.
fn renice_this_thread(nice: usize) {
    if nice == 0 {
        return;
    }
    // "/proc/thread-self" links to "<pid>/task/<tid>".
    let Some(tid) = std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name().map(|t| t.to_string_lossy().into_owned()))
    else {
        return;
    };
    let _ = Command::new("renice")
        .args(["-n", &nice.to_string(), "-p", &tid])
        .stdout(Stdio::null())
        .status();
}

fn need(title: String, description: String) -> Body {
    Body::Need(Need {
        title,
        description,
        tags: vec!["bench".into()],
        project: None,
        goal: None,
        days_goal: None,
        deadline: None,
        status: NeedStatus::Open,
        merged_into: None,
        decision: Default::default(),
    })
}

fn net_config() -> net::Config {
    net::Config {
        mdns: false,
        ..net::Config::default()
    }
}

// ---------------------------------------------------------------- nodes

struct Node {
    handle: Handle,
    addr: Multiaddr,
    peer_id: PeerId,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Node {
    /// A new member `name` in `dir`, its actor on a loopback TCP listener
    /// with production settings (mDNS off).
    async fn start(dir: &Path, name: &str, prepare: impl FnOnce(&mut State)) -> Node {
        let home = Home::resolve(Some(dir.join("home"))).expect("home");
        let profile = Profile {
            name: name.into(),
            member_kind: MemberKind::Association,
            country: Some("FR".into()),
            sectors: vec![],
            website: None,
            description: String::new(),
        };
        let mut state = State::init(home, profile, state::now()).expect("init");
        prepare(&mut state);
        let keypair = libp2p::identity::Keypair::ed25519_from_bytes(state.secret_key().to_bytes()).expect("keypair");
        let peer_id = keypair.public().to_peer_id();
        let mut swarm = net::build_swarm(keypair, &net_config()).expect("swarm");
        swarm
            .listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("multiaddr"))
            .expect("listen");
        let (tx, rx) = watch::channel(false);
        let (handle, task) = actor::spawn(state, swarm, actor::Config::default(), rx).expect("actor");
        let addr = loop {
            if let Some(a) = handle.status().await.expect("status").listen.first() {
                break a.parse().expect("listen address");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        Node {
            handle,
            addr,
            peer_id,
            shutdown: tx,
            task,
        }
    }

    async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    async fn has(&self, id: RecordId) -> bool {
        self.handle
            .with_snapshot(move |s| s.index().get(&id).is_some())
            .await
            .expect("read")
    }

    async fn doc_count(&self) -> usize {
        self.handle.test(|s, _| s.registry().doc_count()).await.expect("read")
    }

    async fn is_connected(&self, peer: PeerId) -> bool {
        self.handle.test(move |_, s| s.is_connected(&peer)).await.expect("net")
    }
}

/// F's large documents: `docs` members (fixed seeds), `records` needs of
/// about 1 KB each, written in changes of [`LARGE_RECORDS_PER_CHANGE`].
fn large_documents(docs: usize, records: usize, now: Timestamp) -> Vec<SignedChange> {
    let mut out = Vec::new();
    let description = "Accounting export of SEPA direct debits, with reconciliation. ".repeat(16);
    for d in 0..docs as u64 {
        let key = SecretKey::from_bytes(&seeded_bytes("large document", d));
        let me = key.member_id();
        let signed: Vec<_> = (0..records)
            .map(|i| {
                Record::new(
                    me,
                    seeded_bytes("large record", d << 32 | i as u64),
                    now,
                    need(format!("need {i} of large document {d}"), description.clone()),
                )
                .sign(&key)
                .expect("valid record")
            })
            .collect();
        out.extend(chained_changes(&key, [9; 16], &signed, LARGE_RECORDS_PER_CHANGE, now));
    }
    out
}

/// The child side: F. Makes its large documents, listens on loopback TCP,
/// prints `{"addr", "peer_id", "large_docs", "large_bytes"}`, then answers
/// `status` lines on stdin with a JSON line of its counters until `quit`
/// or end of input.
fn flooded_child() {
    let home = PathBuf::from(std::env::var("MUTU_BENCH_HOME").expect("MUTU_BENCH_HOME"));
    let docs = env_usize("MUTU_BENCH_LARGE_DOCS", 4);
    let records = env_usize("MUTU_BENCH_LARGE_RECORDS", 4_000);
    let rt = runtime(2);
    rt.block_on(async {
        let now = state::now();
        let changes = large_documents(docs, records, now);
        let large_bytes: usize = changes.iter().map(SignedChange::size).sum();
        let large: Vec<String> = {
            let mut ids: Vec<MemberId> = changes.iter().map(SignedChange::doc).collect();
            ids.dedup();
            ids.iter().map(ToString::to_string).collect()
        };
        let node = Node::start(&home, "flooded node", |s| {
            let report = s.import(&Bundle::from_changes(changes), now).expect("import");
            assert!(report.rejected.is_empty(), "large documents rejected: {report:?}");
            drop(s.take_outgoing());
        })
        .await;
        println!(
            "{}",
            json!({
                "addr": node.addr.to_string(),
                "peer_id": node.peer_id.to_string(),
                "large_docs": large,
                "large_bytes": large_bytes,
            })
        );
        let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(tokio::io::stdin()));
        while let Ok(Some(line)) = lines.next_line().await {
            match line.trim() {
                "status" => {
                    let s = node.handle.status().await.expect("status");
                    let pending_bytes = node
                        .handle
                        .test(|s, _| s.registry().pending_bytes())
                        .await
                        .expect("read");
                    let blocked = node
                        .handle
                        .test(|_, s| s.behaviour().blocked.blocked_peers().len())
                        .await
                        .expect("net");
                    println!(
                        "{}",
                        json!({
                            "peers": s.peers,
                            "documents": s.documents,
                            "records": s.records,
                            "pending": s.pending,
                            "pending_bytes": pending_bytes,
                            "rejected": s.rejected,
                            "blocked_peers": blocked,
                            "sync_requests": s.sync_requests,
                            "sync_bytes_sent": s.sync_bytes_sent,
                            "sync_bytes_received": s.sync_bytes_received,
                        })
                    );
                }
                "quit" => break,
                other => eprintln!("flooded child: unknown command {other:?}"),
            }
        }
        node.stop().await;
    });
}

/// F seen from the parent: the child process, its pipes, its `/proc` files.
struct Flooded {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    hello: serde_json::Value,
}

impl Flooded {
    fn spawn(home: &Path) -> Flooded {
        let mut child = Command::new(std::env::current_exe().expect("current exe"))
            .env("MUTU_BENCH_CHILD", "flooded")
            .env("MUTU_BENCH_HOME", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the flooded node");
        let stdin = child.stdin.take().expect("child stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("child stdout"));
        let hello = read_json(&mut stdout);
        Flooded {
            child,
            stdin,
            stdout,
            hello,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn status(&mut self) -> serde_json::Value {
        writeln!(self.stdin, "status").expect("write to the child");
        read_json(&mut self.stdout)
    }

    fn quit(mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}

fn read_json(from: &mut impl BufRead) -> serde_json::Value {
    let mut line = String::new();
    from.read_line(&mut line).expect("child output");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("child JSON ({e}): {line:?}"))
}

// ------------------------------------------------------------- /proc probes

fn proc_field(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())?;
    Some(kb * 1024)
}

fn rss(pid: u32) -> u64 {
    proc_field(pid, "VmRSS:").unwrap_or(0)
}

/// Resets the kernel's peak-RSS mark of `pid` (`VmHWM`); false if refused.
fn reset_hwm(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// User + system CPU time of `pid`, all threads, in seconds.
fn cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces), from field 3.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15: indices 11 and 12 here.
    (ticks(11) + ticks(12)) as f64 / USER_HZ
}

/// Samples F's RSS every 100 ms on a thread of its own; [`Sampler::phase`]
/// starts a new peak.
struct Sampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    pid: u32,
    /// Whether the last [`Sampler::phase`] could reset `VmHWM`.
    hwm_reset: bool,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let peak = Arc::new(AtomicU64::new(rss(pid)));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss(pid), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        Sampler {
            peak,
            stop,
            thread: Some(thread),
            pid,
            hwm_reset: false,
        }
    }

    /// Starts a phase: returns F's RSS now, and whether `VmHWM` was reset.
    fn phase(&mut self) -> (u64, bool) {
        let now = rss(self.pid);
        self.peak.store(now, Ordering::Relaxed);
        self.hwm_reset = reset_hwm(self.pid);
        (now, self.hwm_reset)
    }

    fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed).max(rss(self.pid))
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ------------------------------------------------------------------ junk

/// The kinds of crafted change `gossip` and `answers` send.
const JUNK_KINDS: [&str; 6] = ["unknown", "foreign", "deflated", "bomb", "big", "opbomb"];
const ATTACKS: [&str; 5] = ["gossip", "answers", "orphans", "changes-since", "changes-since-stall"];
/// Not an attack: a thread of this process spinning for the flood's
/// duration, sending nothing. A control for what any flooder costs F on a
/// small machine: the CPU it takes from it.
const CONTROL: &str = "busy";

/// Crafted changes, made before the flood so that the flooders spend their
/// CPU sending, not signing. Every change is validly signed by its member.
struct Junk {
    /// Per kind, per junk member: a pool of distinct crafted changes.
    pools: Vec<(&'static str, Vec<Vec<SignedChange>>)>,
    /// Orphan members: their seeds and valid first changes, from which
    /// [`orphan_maker`] makes ever new orphans.
    orphan_bases: Vec<([u8; 32], SignedChange)>,
}

/// A valid first change of the member of `seed`: one need.
fn first_change(seed: &[u8; 32], label: &str, padding: usize) -> SignedChange {
    let key = SecretKey::from_bytes(seed);
    let me = key.member_id();
    let record = Record::new(
        me,
        seeded_bytes(label, padding as u64),
        WRITTEN_AT,
        need(format!("{label}: a need"), "padding ".repeat(padding)),
    )
    .sign(&key)
    .expect("a valid record");
    MemberDoc::new(me)
        .write(&key, &ReplicaNonce([1; 16]), &[record], WRITTEN_AT)
        .expect("a change")
}

/// `n` distinct crafted changes of `kind` by the member of `seed`.
fn craft_pool(kind: &str, seed: &[u8; 32], n: usize) -> Vec<SignedChange> {
    let base = first_change(seed, "junk", 0);
    let me = craft::member(seed);
    (0..n)
        .map(|i| {
            let mut nonce = [0u8; 16];
            nonce[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            match kind {
                "unknown" => craft::with_extra_actor(seed, &base, actor_id(&me, &ReplicaNonce(nonce)).to_bytes()),
                "foreign" => {
                    let other = craft::member(&seeded_bytes("junk foreign", i as u64));
                    craft::with_extra_actor(seed, &base, actor_id(&other, &ReplicaNonce(nonce)).to_bytes())
                }
                // Large enough for automerge to compress it.
                "deflated" => craft::deflated(&first_change(seed, "junk deflated", 1_000 + i)),
                // The decoded size does not matter any more (compressed
                // chunks are refused before inflating): 1 MiB keeps the
                // pool quick to make.
                "bomb" => {
                    let mut bomb = craft::raw_put(seed, &format!("need/bomb{i}"), vec![0; 1 << 20], WRITTEN_AT);
                    let hash = bomb.hash();
                    craft::sign_as(seed, &hash, bomb.bytes().into_owned())
                }
                "big" => craft::sign_chunk(
                    seed,
                    craft::raw_put(seed, &format!("need/big{i}"), vec![7; 100 * 1024], WRITTEN_AT)
                        .raw_bytes()
                        .to_vec(),
                ),
                "opbomb" => craft::op_bomb(seed, &base, 1_000_000 + i as u64),
                other => unreachable!("junk kind {other}"),
            }
        })
        .collect()
}

/// Changes per member in each kind's pool (distinct gossip messages per
/// member and kind: `P × (P − 1)`).
fn pool_size(kind: &str) -> usize {
    match kind {
        "deflated" | "bomb" => 8,
        "big" => 12,
        _ => 32,
    }
}

impl Junk {
    fn make(kinds: &[&'static str], orphans: bool) -> Junk {
        let pools = std::thread::scope(|s| {
            let handles: Vec<_> = kinds
                .iter()
                .map(|kind| {
                    s.spawn(move || {
                        let members = (0..JUNK_MEMBERS)
                            .map(|u| craft_pool(kind, &seeded_bytes("junk member", u), pool_size(kind)))
                            .collect();
                        (*kind, members)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("junk thread")).collect()
        });
        let orphan_bases = if orphans {
            (0..ORPHAN_MEMBERS)
                .map(|u| {
                    let seed = seeded_bytes("orphan member", u);
                    let base = first_change(&seed, "orphan", 0);
                    (seed, base)
                })
                .collect()
        } else {
            Vec::new()
        };
        Junk { pools, orphan_bases }
    }

    /// Gossip message `k`: [`JUNK_PER_MESSAGE`] changes of one member and
    /// one kind, a distinct selection for every `k` until the pools wrap.
    fn gossip_message(&self, k: u64) -> (Vec<u8>, usize, bool) {
        let (_, pool) = &self.pools[(k % self.pools.len() as u64) as usize];
        let j = k / self.pools.len() as u64;
        let members = &pool[(j % JUNK_MEMBERS) as usize];
        let w = j / JUNK_MEMBERS;
        let p = members.len() as u64;
        let stride = 1 + (w / p) % (p - 1);
        let changes: Vec<SignedChange> = (0..JUNK_PER_MESSAGE.min(members.len()) as u64)
            .map(|t| members[((w + t * stride) % p) as usize].clone())
            .collect();
        let batch = GossipBatch {
            doc: changes[0].doc(),
            changes,
        };
        let n = batch.changes.len();
        // Past `P × (P − 1)` selections per member, messages repeat (F's
        // gossipsub drops a repeat within its duplicate cache's minute).
        let repeat = w >= p * (p - 1);
        (batch.encode().expect("a junk batch encodes"), n, repeat)
    }

    /// What a junk flooder's sync answers carry for identity `id`:
    /// [`ANSWER_DOCS`] members, one crafted change of each kind per member.
    fn answers(&self, id: u64) -> BTreeMap<MemberId, Vec<SignedChange>> {
        (0..ANSWER_DOCS as u64)
            .map(|d| {
                let u = ((id * ANSWER_DOCS as u64 + d) % JUNK_MEMBERS) as usize;
                let changes: Vec<SignedChange> = self
                    .pools
                    .iter()
                    .map(|(_, pool)| pool[u][(id as usize) % pool[u].len()].clone())
                    .collect();
                (changes[0].doc(), changes)
            })
            .collect()
    }

    /// Orphan message `k`: [`ORPHANS_PER_MESSAGE`] new orphans of one
    /// member (consecutive messages go to different members).
    fn orphan_message(&self, k: u64) -> Vec<u8> {
        let members = self.orphan_bases.len() as u64;
        let (seed, base) = &self.orphan_bases[(k % members) as usize];
        let first = (k / members) * ORPHANS_PER_MESSAGE as u64;
        let batch = GossipBatch {
            doc: base.doc(),
            changes: (first..first + ORPHANS_PER_MESSAGE as u64)
                .map(|i| craft::orphan(seed, base, i))
                .collect(),
        };
        batch.encode().expect("an orphan batch encodes")
    }
}

/// Makes orphan messages for the `orphans` flooders on a thread of its own
/// (every orphan a new one: re-sent ones would cost F only a duplicate
/// check), until the flood stops.
fn orphan_maker(flood: Arc<Flood>, tx: tokio::sync::mpsc::Sender<Vec<u8>>, nice: usize) {
    renice_this_thread(nice);
    for k in 0.. {
        let mut message = flood.junk.orphan_message(k);
        loop {
            match tx.try_send(message) {
                Ok(()) => break,
                Err(tokio::sync::mpsc::error::TrySendError::Full(m)) if !flood.stopped() => {
                    message = m;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => return,
            }
        }
    }
}

// ----------------------------------------------------------------- flood

/// What the flooders did, counted as they go.
#[derive(Default)]
struct Counters {
    identities: AtomicU64,
    dial_failures: AtomicU64,
    /// Connections F closed (blocked, or any other reason) under a flooder.
    closed_by_f: AtomicU64,
    gossip_messages: AtomicU64,
    gossip_bytes: AtomicU64,
    gossip_changes: AtomicU64,
    /// Publishes refused because the connection's send queue was full
    /// (F not reading fast enough), retried.
    gossip_queue_full: AtomicU64,
    /// Messages published that repeat an earlier one (the pools wrapped).
    gossip_repeats: AtomicU64,
    /// Messages not sent because the pools wrapped (same bytes again).
    duplicates: AtomicU64,
    answer_inventories: AtomicU64,
    answer_responses: AtomicU64,
    answer_bytes: AtomicU64,
    orphan_messages: AtomicU64,
    orphan_bytes: AtomicU64,
    orphans: AtomicU64,
    cs_requests: AtomicU64,
    cs_responses: AtomicU64,
    cs_response_bytes: AtomicU64,
    cs_failures: AtomicU64,
    stall_requests: AtomicU64,
    stall_timeouts: AtomicU64,
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// Everything a flooder slot needs.
struct Flood {
    f_addr: Multiaddr,
    f_peer: PeerId,
    large_docs: Vec<MemberId>,
    junk: Junk,
    counters: Counters,
    stop: AtomicBool,
    /// Next identity number (fresh keys for every new flooder).
    next_identity: AtomicU64,
    next_gossip: AtomicU64,
    /// Orphan messages from [`orphan_maker`].
    orphan_rx: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Vec<u8>>>,
    next_head: AtomicU64,
}

impl Flood {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn keypair(&self) -> libp2p::identity::Keypair {
        let id = self.next_identity.fetch_add(1, Ordering::Relaxed);
        add(&self.counters.identities, 1);
        libp2p::identity::Keypair::ed25519_from_bytes(seeded_bytes::<32>("flooder", id)).expect("keypair")
    }

    /// A new malicious swarm dialling F; `None` if it could not connect and
    /// see F's subscription within 5 s.
    async fn connect_mal(&self) -> Option<MalNode> {
        let m = MalNode::spawn_tcp(self.keypair(), &net_config());
        m.dial(self.f_addr.clone()).await;
        let f = self.f_peer;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !self.stopped() {
            let (ready, lost) = m
                .run(move |s, mal| {
                    (
                        s.is_connected(&f) && mal.log.subscribed.contains(&f),
                        mal.log.lost.contains_key(&f),
                    )
                })
                .await;
            if ready {
                return Some(m);
            }
            if lost {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        add(&self.counters.dial_failures, 1);
        tokio::time::sleep(Duration::from_millis(20)).await;
        None
    }

    /// Publishes `bytes` from `m`: `Some(true)` when sent, `Some(false)`
    /// when it was a duplicate (the pools wrapped; F would drop it too),
    /// `None` once F is gone.
    async fn publish(&self, m: &MalNode, bytes: Vec<u8>) -> Option<bool> {
        let f = self.f_peer;
        loop {
            let bytes = bytes.clone();
            let result = m
                .run(move |s, _| {
                    let r = s.behaviour_mut().gossipsub.publish(behaviour::topic(), bytes);
                    (r, s.is_connected(&f))
                })
                .await;
            match result {
                (Ok(_), true) => return Some(true),
                (Err(PublishError::AllQueuesFull(_)), true) => {
                    add(&self.counters.gossip_queue_full, 1);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                (Err(PublishError::Duplicate), true) => {
                    add(&self.counters.duplicates, 1);
                    return Some(false);
                }
                (_, _) => return None,
            }
            if self.stopped() {
                return None;
            }
        }
    }

    async fn gone(&self, m: &MalNode) -> bool {
        let f = self.f_peer;
        m.run(move |s, _| !s.is_connected(&f)).await
    }

    /// Rows 1–2 by gossip: bursts of crafted batches until F blocks this
    /// identity, then a new one.
    async fn gossip_slot(self: Arc<Self>) {
        while !self.stopped() {
            let Some(m) = self.connect_mal().await else { continue };
            'identity: while !self.stopped() {
                for _ in 0..BURST {
                    let k = self.next_gossip.fetch_add(1, Ordering::Relaxed);
                    let (bytes, changes, repeat) = self.junk.gossip_message(k);
                    if repeat {
                        add(&self.counters.gossip_repeats, 1);
                    }
                    let len = bytes.len() as u64;
                    match self.publish(&m, bytes).await {
                        None => break 'identity,
                        Some(false) => continue,
                        Some(true) => {}
                    }
                    add(&self.counters.gossip_messages, 1);
                    add(&self.counters.gossip_bytes, len);
                    add(&self.counters.gossip_changes, changes as u64);
                }
                // Give F the time to block us before the next burst.
                let deadline = Instant::now() + Duration::from_millis(500);
                while Instant::now() < deadline && !self.gone(&m).await {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            if self.gone(&m).await {
                add(&self.counters.closed_by_f, 1);
            }
        }
    }

    /// Rows 1–2 inside sync answers: claim documents, answer F's pulls with
    /// crafted changes, until F blocks this identity.
    async fn answers_slot(self: Arc<Self>) {
        while !self.stopped() {
            let Some(m) = self.connect_mal().await else { continue };
            let id = self.next_identity.load(Ordering::Relaxed);
            let forged = self.junk.answers(id);
            let inventory = forged_inventory(&forged);
            let f = self.f_peer;
            m.run(move |s, mal| {
                mal.forge_sync = Some(forged);
                s.behaviour_mut().sync.send_request(&f, Request::Inventory(inventory));
            })
            .await;
            add(&self.counters.answer_inventories, 1);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && !self.stopped() && !self.gone(&m).await {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let (responses, bytes) = m.run(|_, mal| (mal.log.forged_responses, mal.log.forged_bytes)).await;
            add(&self.counters.answer_responses, u64::from(responses));
            add(&self.counters.answer_bytes, bytes);
            if self.gone(&m).await {
                add(&self.counters.closed_by_f, 1);
            }
        }
    }

    /// Row 5: orphans at full speed; a new identity once this one has sent
    /// a sender's share of F's pending buffer.
    async fn orphans_slot(self: Arc<Self>) {
        let share = (registry::MAX_PENDING_SOURCE_CHANGES / ORPHANS_PER_MESSAGE) as u64;
        while !self.stopped() {
            let Some(m) = self.connect_mal().await else { continue };
            let mut sent = 0;
            while !self.stopped() && sent < share {
                let Some(bytes) = self.orphan_rx.lock().await.recv().await else {
                    return;
                };
                let n = ORPHANS_PER_MESSAGE;
                let len = bytes.len() as u64;
                sent += 1;
                match self.publish(&m, bytes).await {
                    None => {
                        add(&self.counters.closed_by_f, 1);
                        break;
                    }
                    Some(false) => continue,
                    Some(true) => {}
                }
                add(&self.counters.orphan_messages, 1);
                add(&self.counters.orphan_bytes, len);
                add(&self.counters.orphans, n as u64);
            }
        }
    }

    /// Row 6: [`CHANGES_SINCE_CONCURRENT`] `ChangesSince` requests with
    /// unknown heads for F's large documents in flight at all times; the
    /// answers read and dropped (or, `stall`, never read).
    async fn changes_since_slot(self: Arc<Self>, stall: bool) {
        while !self.stopped() {
            let mut swarm = requester(self.keypair(), stall);
            if swarm.dial(self.f_addr.clone()).is_err() {
                add(&self.counters.dial_failures, 1);
                continue;
            }
            let mut in_flight = 0usize;
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            let mut connected = false;
            loop {
                if self.stopped() {
                    break;
                }
                tokio::select! {
                    event = swarm.select_next_some() => match event {
                        SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == self.f_peer => connected = true,
                        SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } if peer_id == self.f_peer => {
                            add(&self.counters.closed_by_f, 1);
                            break;
                        }
                        SwarmEvent::OutgoingConnectionError { .. } => {
                            add(&self.counters.dial_failures, 1);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            break;
                        }
                        SwarmEvent::Behaviour(RequesterEvent::Sync(e)) => match e {
                            request_response::Event::Message {
                                message: request_response::Message::Response { response, .. },
                                ..
                            } => {
                                in_flight = in_flight.saturating_sub(1);
                                add(&self.counters.cs_responses, 1);
                                add(&self.counters.cs_response_bytes, response);
                            }
                            request_response::Event::OutboundFailure { error, .. } => {
                                in_flight = in_flight.saturating_sub(1);
                                if stall && matches!(error, request_response::OutboundFailure::Timeout) {
                                    add(&self.counters.stall_timeouts, 1);
                                } else {
                                    add(&self.counters.cs_failures, 1);
                                }
                            }
                            _ => {}
                        },
                        _ => {}
                    },
                    _ = tick.tick() => {}
                }
                while connected && in_flight < CHANGES_SINCE_CONCURRENT {
                    let k = self.next_head.fetch_add(1, Ordering::Relaxed);
                    let doc = self.large_docs[(k % self.large_docs.len() as u64) as usize];
                    let request = Request::ChangesSince {
                        doc,
                        heads: vec![seeded_bytes("unknown head", k)],
                    };
                    swarm.behaviour_mut().sync.send_request(&self.f_peer, request);
                    in_flight += 1;
                    add(
                        if stall {
                            &self.counters.stall_requests
                        } else {
                            &self.counters.cs_requests
                        },
                        1,
                    );
                }
            }
        }
    }
}

/// A row 6 flooder's only behaviour: `/mutu/sync/1`, outbound only.
#[derive(NetworkBehaviour)]
struct Requester {
    sync: request_response::Behaviour<DiscardCodec>,
}

/// Writes requests as the node's CBOR codec does; reads a response by
/// counting its bytes and dropping them, or (`stall`) never reads it.
#[derive(Clone, Default)]
struct DiscardCodec {
    stall: bool,
    cbor: request_response::cbor::codec::Codec<Request, Response>,
}

impl request_response::Codec for DiscardCodec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = u64;

    async fn read_request<T>(&mut self, _: &StreamProtocol, _: &mut T) -> std::io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        Err(std::io::Error::other("this flooder serves nothing"))
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> std::io::Result<u64>
    where
        T: AsyncRead + Unpin + Send,
    {
        if self.stall {
            std::future::pending::<()>().await;
        }
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            match io.read(&mut buf).await? {
                0 => return Ok(total),
                n => total += n as u64,
            }
        }
    }

    async fn write_request<T>(&mut self, p: &StreamProtocol, io: &mut T, request: Request) -> std::io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        request_response::Codec::write_request(&mut self.cbor, p, io, request).await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, _: &mut T, _: u64) -> std::io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Err(std::io::Error::other("this flooder serves nothing"))
    }
}

fn requester(keypair: libp2p::identity::Keypair, stall: bool) -> Swarm<Requester> {
    let sync = request_response::Behaviour::with_codec(
        DiscardCodec {
            stall,
            ..DiscardCodec::default()
        },
        [(net::sync::PROTOCOL, ProtocolSupport::Outbound)],
        request_response::Config::default()
            .with_request_timeout(Duration::from_secs(60))
            .with_max_concurrent_streams(CHANGES_SINCE_CONCURRENT * 2),
    );
    SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|_| Requester { sync })
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

// ---------------------------------------------------------- measurements

/// Latencies (ms) of `publishes` writes, alternately on `a` and `b`, until
/// the record is in the other's index; stops early after `max`.
async fn propagation(a: &Node, b: &Node, publishes: usize, label: &str, max: Duration) -> (Vec<f64>, usize) {
    let mut latencies = Vec::with_capacity(publishes);
    let mut late = 0;
    let started = Instant::now();
    for k in 0..publishes {
        if started.elapsed() > max {
            eprintln!("{label}: stopped after {k} publishes ({:.0} s)", max.as_secs_f64());
            break;
        }
        let (from, to) = if k % 2 == 0 { (a, b) } else { (b, a) };
        let title = format!("{label} need {k}");
        let t0 = Instant::now();
        let id: RecordId = from
            .handle
            .test(move |s, _| s.create(need(title, String::new()), state::now()))
            .await
            .expect("write")
            .expect("create");
        loop {
            if to.has(id).await {
                break;
            }
            if t0.elapsed() > LATE {
                late += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    (latencies, late)
}

/// One phase's figures on F.
struct Phase {
    latencies: Vec<f64>,
    late: usize,
    wall_s: f64,
    cpu_s: f64,
    rss_start: u64,
    rss_peak: u64,
    hwm: Option<u64>,
}

/// Runs `run` (a [`propagation`]) on `rt` and measures F meanwhile. With
/// `new_phase`, F's peaks start anew here; otherwise they go on from the
/// last [`Sampler::phase`].
fn measure_phase(
    rt: &tokio::runtime::Runtime,
    pid: u32,
    sampler: &mut Sampler,
    new_phase: bool,
    run: impl std::future::Future<Output = (Vec<f64>, usize)>,
) -> Phase {
    let (rss_start, hwm_reset) = if new_phase {
        sampler.phase()
    } else {
        (rss(pid), sampler.hwm_reset)
    };
    let cpu0 = cpu_s(pid);
    let t = Instant::now();
    let (latencies, late) = rt.block_on(run);
    let wall_s = t.elapsed().as_secs_f64();
    Phase {
        latencies,
        late,
        wall_s,
        cpu_s: cpu_s(pid) - cpu0,
        rss_start,
        rss_peak: sampler.peak(),
        hwm: if hwm_reset { proc_field(pid, "VmHWM:") } else { None },
    }
}

fn main() {
    if std::env::var("MUTU_BENCH_CHILD").as_deref() == Ok("flooded") {
        return flooded_child();
    }
    let bench_start = Instant::now();
    let publishes = env_usize("MUTU_BENCH_PUBLISHES", 200);
    let known: Vec<&str> = ATTACKS.iter().copied().chain([CONTROL]).collect();
    let attacks = env_list("MUTU_BENCH_FLOOD", &known, &ATTACKS);
    let kinds = env_list("MUTU_BENCH_JUNK", &JUNK_KINDS, &JUNK_KINDS);
    let flood_max = Duration::from_secs(env_usize("MUTU_BENCH_FLOOD_MAX_S", 120) as u64);
    let on = |a: &str| attacks.contains(&a);

    let t = Instant::now();
    let junk = Junk::make(&kinds, on("orphans"));
    let junk_changes: usize = junk
        .pools
        .iter()
        .map(|(_, p)| p.iter().map(Vec::len).sum::<usize>())
        .sum();
    eprintln!(
        "made {junk_changes} crafted changes in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let t = Instant::now();
    let mut f = Flooded::spawn(&dir.path().join("f"));
    let pid = f.pid();
    let f_addr: Multiaddr = f.hello["addr"].as_str().expect("addr").parse().expect("multiaddr");
    let f_peer: PeerId = f.hello["peer_id"].as_str().expect("peer id").parse().expect("peer id");
    let large_docs: Vec<MemberId> = f.hello["large_docs"]
        .as_array()
        .expect("large docs")
        .iter()
        .map(|d| d.as_str().expect("id").parse().expect("member id"))
        .collect();
    eprintln!(
        "F (pid {pid}) listens on {f_addr} with {} large documents ({:.1} MB) after {:.1} s",
        large_docs.len(),
        f.hello["large_bytes"].as_f64().unwrap_or(0.0) / 1e6,
        t.elapsed().as_secs_f64()
    );

    let honest_rt = runtime(2);
    let (h1, h2) = honest_rt.block_on(async {
        let h1 = Node::start(&dir.path().join("h1"), "honest node 1", |_| {}).await;
        let h2 = Node::start(&dir.path().join("h2"), "honest node 2", |_| {}).await;
        // Kademlia's automatic bootstrap would have them find and dial
        // each other through F: they block each other, so that honest
        // traffic between them crosses F.
        for (h, other) in [(&h1, h2.peer_id), (&h2, h1.peer_id)] {
            h.handle
                .test(move |_, s| s.behaviour_mut().blocked.block_peer(other))
                .await
                .expect("net");
        }
        for h in [&h1, &h2] {
            h.handle.dial(f_addr.clone()).await.expect("dial");
        }
        // Both hold F's documents and each other's (through F): one write
        // on each brings the other's document along its dependencies.
        let want = large_docs.len() + 3;
        for h in [&h1, &h2] {
            while !h.is_connected(f_peer).await {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        for h in [&h1, &h2] {
            h.handle
                .test(|s, _| s.create(need("warm-up".into(), String::new()), state::now()))
                .await
                .expect("write")
                .expect("create");
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while (h1.doc_count().await < want || h2.doc_count().await < want) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            h1.doc_count().await >= want && h2.doc_count().await >= want,
            "honest nodes did not catch up"
        );
        // A few gossipsub heartbeats for the mesh.
        tokio::time::sleep(Duration::from_secs(3)).await;
        (h1, h2)
    });
    let f_before = f.status();
    eprintln!("honest nodes caught up: {f_before}");

    let mut sampler = Sampler::start(pid);
    let idle = measure_phase(
        &honest_rt,
        pid,
        &mut sampler,
        true,
        propagation(&h1, &h2, publishes, "idle", flood_max),
    );

    // Phase 2: the flood.
    let (orphan_tx, orphan_rx) = tokio::sync::mpsc::channel(ORPHAN_QUEUE);
    let flood = Arc::new(Flood {
        f_addr,
        f_peer,
        large_docs,
        junk,
        counters: Counters::default(),
        stop: AtomicBool::new(false),
        next_identity: AtomicU64::new(0),
        next_gossip: AtomicU64::new(0),
        orphan_rx: tokio::sync::Mutex::new(orphan_rx),
        next_head: AtomicU64::new(0),
    });
    let nice = env_usize("MUTU_BENCH_NICE", 0);
    let flood_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .on_thread_start(move || renice_this_thread(nice))
        .enable_all()
        .build()
        .expect("tokio runtime");
    let f_start = f.status();
    let (rss_before, _) = sampler.phase();
    let cpu0 = cpu_s(pid);
    let own_cpu0 = cpu_s(std::process::id());
    eprintln!("flood starts: {}", attacks.join(","));
    let flood_started = Instant::now();
    let mut slots = Vec::new();
    let mut spawn = |n: usize, make: &dyn Fn(Arc<Flood>) -> tokio::task::JoinHandle<()>| {
        for _ in 0..n {
            slots.push(make(flood.clone()));
        }
    };
    if on("gossip") {
        spawn(SLOTS_GOSSIP, &|f| flood_rt.spawn(f.gossip_slot()));
    }
    if on("answers") {
        spawn(SLOTS_ANSWERS, &|f| flood_rt.spawn(f.answers_slot()));
    }
    let maker = on("orphans").then(|| {
        let flood = flood.clone();
        std::thread::spawn(move || orphan_maker(flood, orphan_tx, nice))
    });
    if on("orphans") {
        spawn(SLOTS_ORPHANS, &|f| flood_rt.spawn(f.orphans_slot()));
    }
    if on("changes-since") {
        spawn(SLOTS_CHANGES_SINCE, &|f| flood_rt.spawn(f.changes_since_slot(false)));
    }
    if on("changes-since-stall") {
        spawn(SLOTS_STALL, &|f| flood_rt.spawn(f.changes_since_slot(true)));
    }
    let busy = on(CONTROL).then(|| {
        let flood = flood.clone();
        std::thread::spawn(move || {
            renice_this_thread(nice);
            let mut x = 0u64;
            while !flood.stopped() {
                for _ in 0..100_000 {
                    x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
                }
            }
        })
    });
    // Let the flood reach full speed before measuring.
    std::thread::sleep(Duration::from_secs(2));
    let flooded = measure_phase(
        &honest_rt,
        pid,
        &mut sampler,
        false,
        propagation(&h1, &h2, publishes, "flood", flood_max),
    );
    flood.stop.store(true, Ordering::Relaxed);
    for t in [busy, maker].into_iter().flatten() {
        t.join().expect("busy or orphan thread");
    }
    let flood_s = flood_started.elapsed().as_secs_f64();
    let flood_cpu_s = cpu_s(pid) - cpu0;
    // This process: the flooders, and H1 and H2 (which do little).
    let flooders_cpu_s = cpu_s(std::process::id()) - own_cpu0;
    eprintln!("flood ends after {flood_s:.1} s");
    let rss_peak = sampler.peak().max(flooded.rss_peak);
    let f_end = f.status();
    flood_rt.block_on(async {
        for s in slots {
            let _ = tokio::time::timeout(Duration::from_secs(10), s).await;
        }
    });
    drop(flood_rt);
    std::thread::sleep(Duration::from_secs(3));
    let rss_after = rss(pid);
    let direct = honest_rt.block_on(async { h1.is_connected(h2.peer_id).await || h2.is_connected(h1.peer_id).await });

    let c = &flood.counters;
    let per_s = |x: u64| (x as f64 / flood_s).round();
    let sent_bytes = get(&c.gossip_bytes) + get(&c.orphan_bytes) + get(&c.answer_bytes);
    let sent_messages = get(&c.gossip_messages) + get(&c.orphan_messages) + get(&c.answer_responses);
    let delta = |key: &str| {
        f_end[key]
            .as_u64()
            .unwrap_or(0)
            .saturating_sub(f_start[key].as_u64().unwrap_or(0))
    };
    let p = |ph: &Phase, q: f64| round(percentile(&ph.latencies, q), 2);
    let p99_idle = percentile(&idle.latencies, 0.99);
    let p99_flood = percentile(&flooded.latencies, 0.99);
    let growth = rss_peak.saturating_sub(rss_before);
    let goal_rss = 64u64 << 20;
    let flood_figures = json!({
        "attacks": attacks,
        "junk_kinds": kinds,
        "seconds": round(flood_s, 2),
        "identities": get(&c.identities),
        "dial_failures": get(&c.dial_failures),
        "closed_by_f": get(&c.closed_by_f),
        "messages": sent_messages,
        "messages_per_s": per_s(sent_messages),
        "bytes": sent_bytes,
        "bytes_per_s": per_s(sent_bytes),
        "gossip": {
            "messages": get(&c.gossip_messages),
            "changes": get(&c.gossip_changes),
            "bytes": get(&c.gossip_bytes),
            "queue_full_retries": get(&c.gossip_queue_full),
            "duplicates_skipped": get(&c.duplicates),
            "repeats": get(&c.gossip_repeats),
        },
        "answers": {
            "inventories": get(&c.answer_inventories),
            "forged_responses": get(&c.answer_responses),
            "bytes": get(&c.answer_bytes),
        },
        "orphans": {
            "messages": get(&c.orphan_messages),
            "orphans": get(&c.orphans),
            "bytes": get(&c.orphan_bytes),
        },
        "changes_since": {
            "requests": get(&c.cs_requests),
            "requests_per_s": per_s(get(&c.cs_requests)),
            "responses": get(&c.cs_responses),
            "response_bytes": get(&c.cs_response_bytes),
            "response_bytes_per_s": per_s(get(&c.cs_response_bytes)),
            "failures": get(&c.cs_failures),
        },
        "changes_since_stall": {
            "requests": get(&c.stall_requests),
            "timeouts": get(&c.stall_timeouts),
        },
        "f_rejected_changes": delta("rejected"),
        "f_blocked_peers": f_end["blocked_peers"],
        "f_pending_changes": f_end["pending"],
        "f_pending_bytes": f_end["pending_bytes"],
        "f_sync_bytes_sent": delta("sync_bytes_sent"),
        "f_sync_bytes_received": delta("sync_bytes_received"),
    });
    println!(
        "{}",
        json!({
            "scenario": "hostile",
            "transport": "tcp loopback; F a separate process",
            "topology": "H1 - F - H2 (H1, H2 not connected), flooders dial F",
            "publishes": publishes,
            "publishes_flood": flooded.latencies.len(),
            "p50_ms_idle": p(&idle, 0.5),
            "p99_ms_idle": p(&idle, 0.99),
            "max_ms_idle": round(idle.latencies.last().copied().unwrap_or(f64::NAN), 2),
            "p50_ms_flood": p(&flooded, 0.5),
            "p99_ms_flood": p(&flooded, 0.99),
            "max_ms_flood": round(flooded.latencies.last().copied().unwrap_or(f64::NAN), 2),
            "late_over_10s_idle": idle.late,
            "late_over_10s_flood": flooded.late,
            "ratio_p99": round(p99_flood / p99_idle, 2),
            "goal_ratio_p99": 2.0,
            "rss_idle_start_bytes": idle.rss_start,
            "rss_idle_peak_bytes": idle.rss_peak,
            "rss_before_bytes": rss_before,
            "rss_peak_bytes": rss_peak,
            "rss_hwm_flood_bytes": flooded.hwm,
            "rss_growth_bytes": growth,
            "rss_after_flood_bytes": rss_after,
            "goal_rss_growth_bytes": goal_rss,
            "ratio": round(growth as f64 / goal_rss as f64, 3),
            "f_cpu_s_idle": round(idle.cpu_s, 2),
            "f_cpu_per_wall_idle": round(idle.cpu_s / idle.wall_s, 2),
            "f_cpu_s_flood": round(flood_cpu_s, 2),
            "f_cpu_per_wall_flood": round(flood_cpu_s / flood_s, 2),
            "flooders_cpu_per_wall": round(flooders_cpu_s / flood_s, 2),
            "flooders_nice": nice,
            "h1_h2_direct": direct,
            "flood": flood_figures,
        })
    );
    honest_rt.block_on(async {
        h1.stop().await;
        h2.stop().await;
    });
    drop(sampler);
    f.quit();
    eprintln!("total bench time {:.1} s", bench_start.elapsed().as_secs_f64());
}
