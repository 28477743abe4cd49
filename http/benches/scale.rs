#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `scale_1m` benchmark of issue 11: `cargo bench -p mutu-http --bench scale`.
//!
//! A home holding 10 000 members × 100 records (`MUTU_BENCH_SCALE_MEMBERS`,
//! `MUTU_BENCH_SCALE_RECORDS` shrink it), generated once and kept between
//! runs under `target/tmp/scale-…/` (the store, as a node that caught up
//! holds it). Each member writes 90 needs (titles and descriptions drawn
//! from a French and English vocabulary by a seeded generator, one of 12
//! tags) and 10 money pledges to the needs of the next member, in 4
//! chained changes. Every figure is measured in a fresh child process (this
//! binary run again with `MUTU_BENCH_CHILD`), so its resident memory is its
//! own:
//!
//! - `scale_open`: `State::open` of the home, then the actor started and the
//!   first `GET /needs` answered: seconds to the first served request
//!   (goal ≤ 2 s; another child opens the home once before, unmeasured, so
//!   a store format migration or a derived index written once is not
//!   counted).
//! - `scale_memory_reopen`: resident growth per record across that open
//!   (goal ≤ 400 B).
//! - `scale_needs_page`: `GET /needs` (the newest first) through the real
//!   router and actor, p50 and p99 of 50 requests (goal p99 ≤ 20 ms).
//! - `scale_search`: `GET /api/v1/search?q=…` for 200 queries of one or two
//!   words of the vocabulary (French and English, some with accents
//!   dropped), p50 and p99 (goal p99 ≤ 50 ms).
//! - `scale_memory_caught_up`: a fresh home admitting every stored change,
//!   whole documents at a time with every signature checked (what a
//!   catch-up does, without the network): resident growth per record
//!   (goal ≤ 400 B). `MUTU_BENCH_SCALE_CAUGHT_UP=0` skips it (it takes as
//!   long as the generation).
//!
//! Prints one JSON object per line; never fails on a missed goal.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use axum::Router;
use axum::body::Body as HttpBody;
use axum::http::{Request, StatusCode};
use mutu_node::actor;
use mutu_node::home::Home;
use mutu_node::net;
use mutu_node::state::{self, State};
use mutu_node::store::Store;
use mutu_protocol::record::{
    Body, Condition, Kind, Need, NeedStatus, Pledge, PledgeStatus, Record, RecordId, Resource, SignedRecord,
};
use mutu_protocol::{SecretKey, SignedChange, Timestamp};
use serde_json::json;
use tokio::sync::watch;
use tower::ServiceExt;

#[path = "../../bench-support/mod.rs"]
mod support;
use support::{chained_changes, env_usize, loadavg, nonce, percentile, profile, round, rss_bytes};

/// Changes each member's records are written in.
const CHANGES_PER_MEMBER: usize = 4;
/// Of each member's records, this many are pledges (the rest needs).
const PLEDGES_PER_MEMBER: usize = 10;
/// Bump when the generated data changes: older caches are not reused.
const DATA_VERSION: u32 = 1;

const VOCABULARY: &[&str] = &[
    "comptabilité",
    "facturation",
    "prélèvements",
    "paie",
    "réservation",
    "salles",
    "cantine",
    "école",
    "bibliothèque",
    "archives",
    "cadastre",
    "urbanisme",
    "élections",
    "état-civil",
    "marchés",
    "délibérations",
    "courrier",
    "agenda",
    "inscriptions",
    "associations",
    "accounting",
    "invoicing",
    "payroll",
    "booking",
    "library",
    "hosting",
    "backups",
    "calendar",
    "accessibility",
    "translation",
    "mobile",
    "export",
    "signatures",
    "identity",
    "mapping",
    "newsletter",
    "tickets",
    "inventory",
    "volunteers",
    "donations",
];

const TAGS: &[&str] = &[
    "finance",
    "agenda",
    "education",
    "culture",
    "urbanism",
    "civil-status",
    "hosting",
    "mobile",
    "accessibility",
    "identity",
    "mapping",
    "volunteers",
];

/// Queries: one or two words, some typed without accents or in the plural.
const QUERIES: &[&str] = &[
    "comptabilite",
    "prélèvement",
    "prelevements paie",
    "reservation salle",
    "cantine",
    "ecole bibliotheque",
    "archive",
    "cadastre urbanisme",
    "election",
    "invoice",
    "payroll accounting",
    "booking",
    "libraries",
    "backup hosting",
    "calendars",
    "translation mobile",
    "signature",
    "tickets inventory",
    "volunteer",
    "donation newsletter",
];

/// A seeded generator (splitmix64): the same data on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

fn key(member: usize) -> SecretKey {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(member as u64 + 1).to_le_bytes());
    seed[31] = 0x5c;
    SecretKey::from_bytes(&seed)
}

/// The changes of member `m` (of `members`): `records` records.
fn member_changes(m: usize, members: usize, records: usize, now: Timestamp) -> Vec<SignedChange> {
    let next = key((m + 1) % members).member_id();
    let key = key(m);
    let me = key.member_id();
    let mut rng = Rng(m as u64 ^ 0x5ca1e);
    let pledges = PLEDGES_PER_MEMBER.min(records / 2);
    let needs = records - pledges;
    let signed: Vec<SignedRecord> = (0..records)
        .map(|i| {
            let body = if i < needs {
                let mut n = Need::titled(format!("{} {} n°{i}", rng.pick(VOCABULARY), rng.pick(VOCABULARY)));
                n.description = format!(
                    "{} {} {} pour le membre {m} / for member {m}",
                    rng.pick(VOCABULARY),
                    rng.pick(VOCABULARY),
                    rng.pick(VOCABULARY)
                );
                n.tags = vec![rng.pick(TAGS).to_owned()];
                n.goal = Some("5000EUR".parse().expect("amount"));
                n.status = NeedStatus::Open;
                Body::Need(n)
            } else {
                Body::Pledge(Pledge {
                    need: RecordId::derive(&next, Kind::Need, &nonce(i - needs)),
                    resource: Resource::Money("100EUR".parse().expect("amount")),
                    condition: Condition::IfGoalReached,
                    expires_at: None,
                    status: PledgeStatus::Active,
                })
            };
            // Spread over the last 100 days, so "newest" orders them.
            let at = Timestamp::from_millis(now.as_millis() - ((m * records + i) as u64 % 8_640_000_000));
            Record::new(me, nonce(i), at, body).sign(&key).expect("valid record")
        })
        .collect();
    chained_changes(&key, [5; 16], &signed, records.div_ceil(CHANGES_PER_MEMBER), now)
}

/// The cached home, generated if missing.
fn cached_home(members: usize, records: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scale-v{DATA_VERSION}-{members}x{records}"));
    let home = dir.join("home");
    let done = dir.join("complete");
    if done.exists() {
        eprintln!("scale: reusing {}", dir.display());
        return home;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove an unfinished cache");
    }
    eprintln!(
        "scale: generating {members} members × {records} records into {}",
        dir.display()
    );
    let started = Instant::now();
    let now = state::now();
    let mut st = State::init(Home::resolve(Some(home.clone())).expect("home"), profile("Scale"), now).expect("init");
    // Two threads sign; the state admits a few hundred documents at a time.
    let batch = 256;
    let mut m = 0;
    while m < members {
        let end = (m + batch).min(members);
        let half = m + (end - m) / 2;
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| {
                (m..half)
                    .flat_map(|i| member_changes(i, members, records, now))
                    .collect::<Vec<_>>()
            });
            let b = (half..end)
                .flat_map(|i| member_changes(i, members, records, now))
                .collect::<Vec<_>>();
            (a.join().expect("signer"), b)
        });
        let mut changes = a;
        changes.extend(b);
        let report = st.import_changes(changes, now).expect("admit");
        assert!(report.rejected.is_empty(), "{:?}", report.rejected.first());
        m = end;
        if m % 2_048 == 0 {
            eprintln!("scale: {m} members, {:.0} s", started.elapsed().as_secs_f64());
        }
    }
    drop(st);
    std::fs::write(&done, b"").expect("mark the cache complete");
    eprintln!("scale: generated in {:.0} s", started.elapsed().as_secs_f64());
    home
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Times one GET through the router; the status must be 200.
async fn get(router: &Router, path: &str) -> f64 {
    let req = Request::get(path).body(HttpBody::empty()).expect("request");
    let started = Instant::now();
    let response = router.clone().oneshot(req).await.expect("response");
    let status = response.status();
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    assert_eq!(status, StatusCode::OK, "{path}");
    started.elapsed().as_secs_f64() * 1e3
}

/// The child that opens the cached home: open time, memory, page and
/// search latencies.
fn open_child(home: PathBuf) {
    let rss_before = rss_bytes();
    let started = Instant::now();
    let st = State::open(Home::resolve(Some(home)).expect("home")).expect("open");
    let opened_s = started.elapsed().as_secs_f64();
    let records = st.registry().index().len();
    let rt = runtime();
    rt.block_on(async move {
        let keypair = libp2p::identity::Keypair::ed25519_from_bytes(st.secret_key().to_bytes()).expect("keypair");
        let config = net::Config {
            mdns: false,
            ..net::Config::default()
        };
        let swarm = net::build_memory_swarm(keypair, &config).expect("swarm");
        let (_shutdown, rx) = watch::channel(false);
        let (handle, _task) = actor::spawn(st, swarm, actor::Config::default(), rx).expect("actor");
        let router = mutu_http::api::router(handle.clone(), "token".into()).merge(mutu_http::web::router(
            handle.clone(),
            mutu_http::web::auth::Sessions::new(),
        ));
        get(&router, "/needs").await;
        let first_request_s = started.elapsed().as_secs_f64();
        let rss_after = rss_bytes();
        let mut page = Vec::new();
        for _ in 0..50 {
            page.push(get(&router, "/needs").await);
        }
        page.sort_by(f64::total_cmp);
        let mut search = Vec::new();
        for round in 0..10 {
            for q in QUERIES {
                let q: String = q.replace(' ', "+");
                let limit = 20 + round;
                search.push(get(&router, &format!("/api/v1/search?q={q}&limit={limit}")).await);
            }
        }
        search.sort_by(f64::total_cmp);
        println!(
            "{}",
            json!({
                "records": records,
                "opened_s": opened_s,
                "first_request_s": first_request_s,
                "rss_before": rss_before,
                "rss_after": rss_after,
                "page_p50_ms": percentile(&page, 0.5),
                "page_p99_ms": percentile(&page, 0.99),
                "search_p50_ms": percentile(&search, 0.5),
                "search_p99_ms": percentile(&search, 0.99),
            })
        );
    });
}

/// The child that admits every stored change of the cached home into a
/// fresh one, as a catch-up does (without the network: nothing is queued
/// for publishing).
fn caught_up_child(home: PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let fresh = Home::resolve(Some(dir.path().join("fresh"))).expect("home");
    let now = state::now();
    let mut st = State::init(fresh, profile("Fresh"), now).expect("init");
    let rss_before = rss_bytes();
    let started = Instant::now();
    let store = Store::open(&home.join("store.redb")).expect("the cached store");
    store
        .scan_changes(4 * 1024 * 1024, |changes| st.admit(changes, now).map(drop))
        .expect("admit");
    drop(store);
    let records = st.registry().index().len();
    println!(
        "{}",
        json!({
            "records": records,
            "elapsed_s": started.elapsed().as_secs_f64(),
            "rss_before": rss_before,
            "rss_after": rss_bytes(),
        })
    );
}

fn run_child(role: &str, home: &Path) -> serde_json::Value {
    let exe = std::env::current_exe().expect("current exe");
    let mut child = Command::new(exe)
        .env("MUTU_BENCH_CHILD", role)
        .env("MUTU_BENCH_HOME", home)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn a child");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("child stdout"))
        .read_line(&mut line)
        .expect("child output");
    let _ = child.wait();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("child {role}: {e}: {line:?}"))
}

fn main() {
    if let Ok(role) = std::env::var("MUTU_BENCH_CHILD") {
        let home = PathBuf::from(std::env::var("MUTU_BENCH_HOME").expect("MUTU_BENCH_HOME"));
        match role.as_str() {
            // Once unmeasured, in its own process (memory it frees stays
            // with the process): a migration of an older store format or a
            // derived index written once is not counted, and the file is in
            // the page cache as on a running machine.
            "warm" => {
                drop(State::open(Home::resolve(Some(home)).expect("home")).expect("open"));
                println!("{{}}");
            }
            "open" => open_child(home),
            "caught_up" => caught_up_child(home),
            other => panic!("unknown child {other}"),
        }
        return;
    }
    let members = env_usize("MUTU_BENCH_SCALE_MEMBERS", 10_000);
    let records = env_usize("MUTU_BENCH_SCALE_RECORDS", 100);
    let home = cached_home(members, records);
    run_child("warm", &home);
    let out = run_child("open", &home);
    let total = out["records"].as_f64().expect("records");
    let growth = out["rss_after"].as_f64().expect("rss") - out["rss_before"].as_f64().expect("rss");
    let per_record = |bytes: f64| (bytes / total.max(1.0)).round();
    let ms = |v: &serde_json::Value| round(v.as_f64().expect("ms"), 2);
    let first = out["first_request_s"].as_f64().expect("s");
    let common = json!({"members": members, "records": total, "load": loadavg()});
    let line = |mut v: serde_json::Value| {
        for (k, x) in common.as_object().expect("object") {
            v[k] = x.clone();
        }
        println!("{v}");
    };
    line(json!({
        "scenario": "scale_open",
        "open_s": round(out["opened_s"].as_f64().expect("s"), 3),
        "first_request_s": round(first, 3),
        "goal_s": 2.0,
        "ratio": round(first / 2.0, 3),
    }));
    line(json!({
        "scenario": "scale_memory_reopen",
        "rss_growth_bytes": growth,
        "bytes_per_record": per_record(growth),
        "goal_bytes_per_record": 400,
        "ratio": round(per_record(growth) / 400.0, 3),
    }));
    line(json!({
        "scenario": "scale_needs_page",
        "path": "/needs",
        "p50_ms": ms(&out["page_p50_ms"]),
        "p99_ms": ms(&out["page_p99_ms"]),
        "goal_p99_ms": 20,
        "ratio": round(out["page_p99_ms"].as_f64().expect("ms") / 20.0, 3),
    }));
    line(json!({
        "scenario": "scale_search",
        "path": "/api/v1/search",
        "queries": QUERIES.len() * 10,
        "p50_ms": ms(&out["search_p50_ms"]),
        "p99_ms": ms(&out["search_p99_ms"]),
        "goal_p99_ms": 50,
        "ratio": round(out["search_p99_ms"].as_f64().expect("ms") / 50.0, 3),
    }));
    if env_usize("MUTU_BENCH_SCALE_CAUGHT_UP", 1) == 1 {
        let out = run_child("caught_up", &home);
        let growth = out["rss_after"].as_f64().expect("rss") - out["rss_before"].as_f64().expect("rss");
        line(json!({
            "scenario": "scale_memory_caught_up",
            "what": "a fresh home admitting every stored change (signatures checked), whole documents at a time, no network",
            "admitted_records": out["records"],
            "elapsed_s": round(out["elapsed_s"].as_f64().expect("s"), 1),
            "rss_growth_bytes": growth,
            "bytes_per_record": per_record(growth),
            "goal_bytes_per_record": 400,
            "ratio": round(per_record(growth) / 400.0, 3),
        }));
    }
}
