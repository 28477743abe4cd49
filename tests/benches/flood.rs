#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The sync benchmark's `flood` scenario (issue 9, item 6):
//! `cargo bench -p mutu-tests --bench flood`.
//!
//! A Sybil flood against a node with a replication policy: does the policy
//! keep honest propagation fast and the node's store within its quota while
//! one peer pours validly signed documents of generated members into it?
//! Same conventions as the `hostile` and `sync` benches: one JSON object per
//! line, and the bench never fails on a missed goal: it prints.
//!
//! ```text
//!    H1 ──── F ──── H2        honest nodes (memory transport, this process);
//!            ▲                H1 and H2 block each other, so what one writes
//!            │                crosses F; each of the three follows the other
//!            m                two (all in each other's trust set)
//!                             m: the flooder (`mutu_tests::mal::MalNode`)
//! ```
//!
//! For each scope (`trusted`, then `open` with its quotas) a fresh set of
//! nodes, all three with that policy and production gossip limits
//! (`actor::GOSSIP_LIMITS`):
//!
//! - Phase 1 (idle): `MUTU_BENCH_PUBLISHES` (100) needs written at a fixed
//!   rate (one every `MUTU_BENCH_INTERVAL_MS`, 50 ms, or as soon as the
//!   previous one arrived if it took longer), alternately on H1 and H2;
//!   latency from the write until the need is in the other node's index
//!   (polled every ~1 ms).
//! - Phase 2 (flood): the same while m floods F without pause: generated
//!   members of `MUTU_BENCH_RECORDS` (5) needs each, in one signed change,
//!   `MUTU_BENCH_SYBILS` (2 000) per round, each round a new set of members
//!   (made by a thread of this process while the previous round is sent):
//!   each document gossiped, then an inventory claiming the round's
//!   documents, whose pulls m answers (the trust tests' flood, in a loop).
//!
//! Printed per scope: idle and flooded p50/p99 and their ratio (goal ≤ 2),
//! the process's RSS before and after the flood and its peak (F, H1, H2 and
//! m share this process: the growth is an upper bound on F's), the growth of
//! F's store file, and the bytes of flood members' changes F holds against
//! the configured stranger quota (goal ≤ quota; a `trusted` node's quota
//! for strangers is 0).
//!
//! Environment: `MUTU_BENCH_PUBLISHES`, `MUTU_BENCH_INTERVAL_MS`,
//! `MUTU_BENCH_SYBILS`, `MUTU_BENCH_RECORDS`, `MUTU_BENCH_SCOPES` (comma list
//! of `trusted,open`, default both), `MUTU_BENCH_STRANGER_BYTES` (the open
//! scope's `stranger_bytes` quota, default `Quotas::default()`'s 64 MiB).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mutu_node::actor;
use mutu_node::net::sync::{GossipBatch, Request};
use mutu_node::ops;
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::ReplicaNonce;
use mutu_protocol::trust::{self, Policy, Quotas, Scope};
use mutu_protocol::{MemberId, Record, SecretKey, SignedChange, Timestamp};
use mutu_tests::mal::{MalNode, forged_inventory};
use mutu_tests::net::{TIMEOUT, TestNode, connect, need, seeded_bytes, wait_for};
use serde_json::json;

#[path = "../../bench-support/mod.rs"]
mod support;
use support::{env_usize, percentile, round};

/// When the flood's records say they were written.
const WRITTEN_AT: Timestamp = Timestamp::from_millis(1_767_225_600_000);
/// A write that has not arrived after this long is counted late and the
/// phase moves on.
const LATE: Duration = Duration::from_secs(10);
/// Rounds of generated members made ahead of the flooder.
const ROUNDS_AHEAD: usize = 1;

/// This process's resident set, from `/proc/self/status` (0 if unreadable).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        })
        .map_or(0, |kib| kib * 1024)
}

/// Samples [`rss`] every 100 ms and keeps the peak until [`Sampler::take`].
struct Sampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start() -> Self {
        let peak = Arc::new(AtomicU64::new(rss()));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self {
            peak,
            stop,
            thread: Some(thread),
        }
    }

    /// The peak since the last call; sampling goes on.
    fn take(&self) -> u64 {
        self.peak.swap(rss(), Ordering::Relaxed).max(rss())
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

/// Round `k` of the flood: `sybils` generated members of `records` needs
/// each, every document one signed change (the trust tests' generator).
fn sybil_round(k: usize, sybils: usize, records: usize) -> BTreeMap<MemberId, Vec<SignedChange>> {
    let label = format!("flood bench round {k}");
    (0..sybils as u64)
        .map(|i| {
            let key = SecretKey::from_bytes(&seeded_bytes::<32>(&label, i));
            let me = key.member_id();
            let recs: Vec<_> = (0..records as u64)
                .map(|r| {
                    let nonce = seeded_bytes(&label, i * 1_000 + r);
                    Record::new(me, nonce, WRITTEN_AT, need(&format!("sybil {k}/{i} need {r}")))
                        .sign(&key)
                        .unwrap()
                })
                .collect();
            let change = MemberDoc::new(me)
                .write(&key, &ReplicaNonce([1; 16]), &recs, WRITTEN_AT)
                .unwrap();
            (me, vec![change])
        })
        .collect()
}

/// What the flooder did, and every member it sent with its bytes.
#[derive(Default)]
struct FloodLog {
    rounds: u64,
    docs: u64,
    bytes: u64,
    publish_failures: u64,
    inventories: u64,
    members: BTreeMap<MemberId, u64>,
}

/// Floods `target` from `m` until `stop`: each round's documents by gossip,
/// then an inventory of them (m answers the pulls). Rounds come from a
/// generator thread through a small bounded channel.
async fn flood(
    m: Arc<MalNode>,
    target: libp2p::PeerId,
    rounds: std::sync::mpsc::Receiver<BTreeMap<MemberId, Vec<SignedChange>>>,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<FloodLog>>,
) {
    let rounds = Arc::new(Mutex::new(rounds));
    while !stop.load(Ordering::Relaxed) {
        let r = rounds.clone();
        let Ok(Ok(docs)) = tokio::task::spawn_blocking(move || r.lock().unwrap().recv()).await else {
            break;
        };
        for (doc, changes) in &docs {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let bytes: u64 = changes.iter().map(|c| c.size() as u64).sum();
            let batch = GossipBatch {
                doc: *doc,
                changes: changes.clone(),
            };
            let sent = m
                .run(move |s, _| {
                    let encoded = batch.encode().unwrap();
                    s.behaviour_mut()
                        .gossipsub
                        .publish(mutu_node::net::behaviour::topic(), encoded)
                })
                .await;
            let failed = {
                let mut l = log.lock().unwrap();
                l.members.insert(*doc, bytes);
                if sent.is_ok() {
                    l.docs += 1;
                    l.bytes += bytes;
                } else {
                    l.publish_failures += 1;
                }
                sent.is_err()
            };
            if failed {
                // Queues full: let the swarm drain them.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let inventory = forged_inventory(&docs);
        m.run(move |s, mal| {
            mal.forge_sync = Some(docs);
            s.behaviour_mut()
                .sync
                .send_request(&target, Request::Inventory(inventory));
        })
        .await;
        let mut l = log.lock().unwrap();
        l.inventories += 1;
        l.rounds += 1;
    }
}

/// Writes `publishes` needs alternately on `a` and `b`, one every
/// `interval` at most, and returns the sorted latencies (ms) until each is
/// in the other node's index, and how many were late.
async fn propagation(
    a: &TestNode,
    b: &TestNode,
    publishes: usize,
    interval: Duration,
    label: &str,
) -> (Vec<f64>, usize) {
    let mut latencies = Vec::with_capacity(publishes);
    let mut late = 0;
    for k in 0..publishes {
        let tick = Instant::now();
        let (from, to) = if k % 2 == 0 { (a, b) } else { (b, a) };
        let t0 = Instant::now();
        let id = from.create(need(&format!("{label} need {k}"))).await;
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
        if let Some(rest) = interval.checked_sub(tick.elapsed()) {
            tokio::time::sleep(rest).await;
        }
    }
    latencies.sort_by(f64::total_cmp);
    (latencies, late)
}

async fn store_path(node: &TestNode) -> PathBuf {
    node.handle().test(|s, _| s.home().store_path()).await.unwrap()
}

fn file_len(path: &PathBuf) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

async fn follow(node: &TestNode, member: MemberId) {
    node.handle()
        .apply(
            ops::Follow {
                member: member.to_string(),
            }
            .into(),
            mutu_node::state::now(),
        )
        .await
        .unwrap()
        .unwrap();
}

/// Documents F holds among the flood's members, and their bytes.
async fn held(f: &TestNode, members: &BTreeMap<MemberId, u64>) -> (u64, u64) {
    let members = members.clone();
    f.handle()
        .test(move |s, _| {
            members
                .iter()
                .filter(|(m, _)| s.registry().doc(m).is_some())
                .fold((0, 0), |(n, b), (_, bytes)| (n + 1, b + bytes))
        })
        .await
        .unwrap()
}

struct Settings {
    publishes: usize,
    interval: Duration,
    sybils: usize,
    records: usize,
    stranger_bytes: u64,
}

async fn scenario(scope: Scope, base: u64, s: &Settings, sampler: &Sampler) -> serde_json::Value {
    let policy = match scope {
        Scope::Trusted => Policy {
            scope,
            ..Policy::default()
        },
        Scope::Open => Policy {
            scope,
            hops: trust::DEFAULT_HOPS,
            quotas: Quotas {
                stranger_bytes: s.stranger_bytes,
                ..Quotas::default()
            },
        },
    };
    let config = actor::Config {
        sync_interval: mutu_tests::net::SYNC_INTERVAL,
        policy,
        gossip_limits: actor::GOSSIP_LIMITS,
        ..actor::Config::default()
    };
    let h1 = TestNode::spawn_with(base, "h1", config.clone()).await;
    let f = TestNode::spawn_with(base + 1, "f", config.clone()).await;
    let h2 = TestNode::spawn_with(base + 2, "h2", config).await;
    // H1 and H2 would find each other (identify, Kademlia): block them on
    // each other's swarm so that what one writes crosses F.
    h1.set_blocked(h2.peer_id, true).await;
    h2.set_blocked(h1.peer_id, true).await;
    connect(&h1, &f).await;
    connect(&f, &h2).await;
    for (node, others) in [(&h1, [&f, &h2]), (&f, [&h1, &h2]), (&h2, [&h1, &f])] {
        for o in others {
            follow(node, o.member).await;
        }
    }
    // Every node holds the other two's documents (profiles and follows)
    // before anything is timed.
    for node in [&h1, &f, &h2] {
        wait_for(TIMEOUT * 3, "every node to trust and hold the other two", || async {
            let st = node.status().await;
            st.replication.as_ref().is_some_and(|r| r.trusted == 3) && st.documents >= 3
        })
        .await;
    }
    let label = format!("{scope:?}").to_lowercase();

    let store = store_path(&f).await;
    sampler.take();
    let (idle, late_idle) = propagation(&h1, &h2, s.publishes, s.interval, &format!("{label} idle")).await;
    let rss_idle_peak = sampler.take();
    eprintln!("{label}: idle p99 {:.1} ms", percentile(&idle, 0.99));

    // The flood: a generator thread ROUNDS_AHEAD rounds ahead of m.
    let (tx, rx) = std::sync::mpsc::sync_channel(ROUNDS_AHEAD);
    let stop = Arc::new(AtomicBool::new(false));
    let generator = {
        let (stop, sybils, records) = (stop.clone(), s.sybils, s.records);
        std::thread::spawn(move || {
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                if tx.send(sybil_round(k, sybils, records)).is_err() {
                    break;
                }
                k += 1;
            }
        })
    };
    let m = Arc::new(MalNode::spawn(base + 9));
    m.dial(f.addr.clone()).await;
    let (f_id, m_id) = (f.peer_id, m.peer_id);
    wait_for(TIMEOUT, "the flooder to connect and see F subscribed", || async {
        m.run(move |_, mal| mal.log.subscribed.contains(&f_id)).await && f.is_connected(m_id).await
    })
    .await;
    let store_before = file_len(&store);
    let rss_before = rss();
    let log = Arc::new(Mutex::new(FloodLog::default()));
    let flooding = tokio::spawn(flood(m.clone(), f.peer_id, rx, stop.clone(), log.clone()));
    // The first round's documents are on their way before timing starts.
    wait_for(TIMEOUT * 6, "the flood to start", || async {
        log.lock().unwrap().docs > 0
    })
    .await;
    let started = Instant::now();
    sampler.take();
    let (flooded, late_flood) = propagation(&h1, &h2, s.publishes, s.interval, &format!("{label} flood")).await;
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let rss_flood_peak = sampler.take();
    let rss_after = rss();
    let _ = flooding.await;
    let _ = generator.join();
    let store_after = file_len(&store);
    let (flood_members, flood_docs, flood_bytes, flood_rounds, failures, inventories) = {
        let l = log.lock().unwrap();
        (
            l.members.clone(),
            l.docs,
            l.bytes,
            l.rounds,
            l.publish_failures,
            l.inventories,
        )
    };
    let (held_docs, held_bytes) = held(&f, &flood_members).await;
    let status = f.status().await;
    let r = status.replication.clone().expect("a running node says its policy");
    let quota = match scope {
        Scope::Trusted => 0,
        Scope::Open => policy.quotas.stranger_bytes,
    };
    let (p99_idle, p99_flood) = (percentile(&idle, 0.99), percentile(&flooded, 0.99));
    json!({
        "scenario": "flood",
        "scope": label,
        "topology": "H1 - F - H2 (H1, H2 block each other), m floods F; memory transport, one process",
        "h1_h2_direct": h1.is_connected(h2.peer_id).await,
        "publishes": s.publishes,
        "interval_ms": s.interval.as_millis() as u64,
        "p50_ms_idle": round(percentile(&idle, 0.5), 2),
        "p99_ms_idle": round(p99_idle, 2),
        "max_ms_idle": round(idle.last().copied().unwrap_or(f64::NAN), 2),
        "p50_ms_flood": round(percentile(&flooded, 0.5), 2),
        "p99_ms_flood": round(p99_flood, 2),
        "max_ms_flood": round(flooded.last().copied().unwrap_or(f64::NAN), 2),
        "late_over_10s_idle": late_idle,
        "late_over_10s_flood": late_flood,
        "ratio_p99": round(p99_flood / p99_idle, 2),
        "goal_ratio_p99": 2.0,
        "rss_idle_peak_bytes": rss_idle_peak,
        "rss_before_flood_bytes": rss_before,
        "rss_after_flood_bytes": rss_after,
        "rss_flood_peak_bytes": rss_flood_peak,
        "rss_growth_bytes": rss_after.saturating_sub(rss_before),
        "rss_note": "the whole process: F, H1, H2, the flooder and its generator",
        "store_before_bytes": store_before,
        "store_after_bytes": store_after,
        "store_growth_bytes": store_after.saturating_sub(store_before),
        "flood": {
            "seconds": round(seconds, 2),
            "sybils_per_round": s.sybils,
            "records_per_sybil": s.records,
            "rounds": flood_rounds,
            "members_sent": flood_members.len(),
            "docs_gossiped": flood_docs,
            "bytes_gossiped": flood_bytes,
            "publish_failures": failures,
            "inventories": inventories,
        },
        "f_flood_docs_held": held_docs,
        "f_flood_bytes_held": held_bytes,
        "f_stranger_bytes": r.stranger_bytes,
        "stranger_quota_bytes": quota,
        "goal_flood_bytes_within_quota": held_bytes <= quota,
        "f_ignored": r.ignored,
        "f_gossip_rate_limited": r.gossip_rate_limited,
        "f_documents": status.documents,
        "f_records": status.records,
        "f_connected_to_flooder": f.is_connected(m.peer_id).await,
    })
}

fn main() {
    let settings = Settings {
        publishes: env_usize("MUTU_BENCH_PUBLISHES", 100),
        interval: Duration::from_millis(env_usize("MUTU_BENCH_INTERVAL_MS", 50) as u64),
        sybils: env_usize("MUTU_BENCH_SYBILS", 2_000),
        records: env_usize("MUTU_BENCH_RECORDS", 5),
        stranger_bytes: env_usize("MUTU_BENCH_STRANGER_BYTES", Quotas::default().stranger_bytes as usize) as u64,
    };
    let scopes: Vec<Scope> = std::env::var("MUTU_BENCH_SCOPES")
        .unwrap_or_else(|_| "trusted,open".to_owned())
        .split(',')
        .filter_map(|s| match s.trim() {
            "trusted" => Some(Scope::Trusted),
            "open" => Some(Scope::Open),
            "" => None,
            other => {
                eprintln!("MUTU_BENCH_SCOPES: unknown scope {other:?} (known: trusted, open); skipped");
                None
            }
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sampler = Sampler::start();
    for (i, scope) in scopes.into_iter().enumerate() {
        let line = rt.block_on(scenario(scope, 100 + 10 * i as u64, &settings, &sampler));
        println!("{line}");
    }
}
