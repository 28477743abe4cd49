#![allow(clippy::unwrap_used, clippy::expect_used)]
//! View benchmarks: `cargo bench -p mutu-node --bench views`.
//!
//! Unauthenticated GETs whose cost grew with the square (or the cube) of
//! what one member publishes, timed through the real routers on a real
//! actor (the actor runs them: nothing else moves meanwhile). Prints one
//! JSON object per line, `{"scenario", "n", "path", "ms"}` (the median of
//! three requests); never fails.
//!
//! - `catalogue_chain`: one member's chain of `n` catalogues, each
//!   including the next and listing one project of its own.
//! - `pledges`: one need with `n` money pledges, half of them conditional.
//!
//! Environment: `MUTU_BENCH_SIZES` (default `250,500,1000`), the values of
//! `n` to run.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body as HttpBody;
use axum::http::{Request, StatusCode};
use mutu_node::actor::{self, Handle};
use mutu_node::home::Home;
use mutu_node::net;
use mutu_node::state::{self, State};
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::ReplicaNonce;
use mutu_protocol::record::{
    Body, Catalogue, CatalogueEntry, Condition, DevStatus, EntryStatus, Kind, MemberKind, Need, NeedStatus, Pledge,
    PledgeStatus, Profile, Project, Record, RecordId, Resource, SignedRecord,
};
use mutu_protocol::{SecretKey, Timestamp};
use serde_json::json;
use tokio::sync::watch;
use tower::ServiceExt;

fn nonce(i: usize) -> [u8; 16] {
    let mut n = [0x5A; 16];
    n[..8].copy_from_slice(&(i as u64).to_le_bytes());
    n
}

fn rec(key: &SecretKey, i: usize, at: Timestamp, body: Body) -> SignedRecord {
    Record::new(key.member_id(), nonce(i), at, body).sign(key).unwrap()
}

fn profile(name: &str) -> Profile {
    Profile {
        name: name.into(),
        member_kind: MemberKind::Association,
        country: None,
        sectors: Vec::new(),
        website: None,
        description: String::new(),
    }
}

/// Admits `records` of `key` into `st`, in changes of 400 records.
fn publish(st: &mut State, key: &SecretKey, records: &[SignedRecord]) {
    let me = key.member_id();
    for chunk in records.chunks(400) {
        let doc = st.registry().doc(&me).cloned().unwrap_or_else(|| MemberDoc::new(me));
        let change = doc.write(key, &ReplicaNonce([3; 16]), chunk, state::now()).unwrap();
        let report = st.admit(vec![change], state::now()).unwrap();
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    }
}

struct Node {
    router: Router,
    _handle: Handle,
    _shutdown: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

fn node(build: impl FnOnce(&mut State)) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::resolve(Some(dir.path().join("home"))).unwrap();
    let mut st = State::init(home, profile("Bench"), state::now()).unwrap();
    build(&mut st);
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(st.secret_key().to_bytes()).unwrap();
    let config = net::Config {
        mdns: false,
        ..net::Config::default()
    };
    let swarm = net::build_memory_swarm(keypair, &config).unwrap();
    let (tx, rx) = watch::channel(false);
    let (handle, _task) = actor::spawn(st, swarm, actor::Config::default(), rx).unwrap();
    let router = mutu_http::api::router(handle.clone(), "token".into())
        .merge(mutu_http::web::router(
            handle.clone(),
            mutu_http::web::auth::Sessions::new(),
        ))
        .merge(mutu_http::export::router(handle.clone()));
    Node {
        router,
        _handle: handle,
        _shutdown: tx,
        _dir: dir,
    }
}

/// Median time of three GETs of `path`.
async fn time(node: &Node, path: &str) -> Duration {
    let mut times = Vec::new();
    for _ in 0..3 {
        let req = Request::get(path).body(HttpBody::empty()).unwrap();
        let started = Instant::now();
        let response = node.router.clone().oneshot(req).await.unwrap();
        let status = response.status();
        axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        times.push(started.elapsed());
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    times.sort();
    times[1]
}

fn print(scenario: &str, n: usize, path: &str, took: Duration) {
    let ms = (took.as_secs_f64() * 1e4).round() / 10.0;
    println!("{}", json!({"scenario": scenario, "n": n, "path": path, "ms": ms}));
}

async fn catalogue_chain(n: usize) {
    let key = SecretKey::from_bytes(&[7; 32]);
    let me = key.member_id();
    let at = Timestamp::from_millis(state::now().as_millis() - 60_000);
    let cat_id = |i: usize| RecordId::derive(&me, Kind::Catalogue, &nonce(1_000_000 + i));
    let mut records = vec![rec(&key, 3_000_000, at, Body::Profile(profile("Chain")))];
    for i in 0..n {
        let project = rec(
            &key,
            i,
            at,
            Body::Project(Project {
                name: format!("project {i}"),
                description: String::new(),
                license: "MIT".into(),
                repository: None,
                homepage: None,
                tags: Vec::new(),
                status: DevStatus::Stable,
                is_based_on: None,
                publiccode: String::new(),
            }),
        );
        let includes = if i + 1 < n { vec![cat_id(i + 1)] } else { Vec::new() };
        let catalogue = rec(
            &key,
            1_000_000 + i,
            at,
            Body::Catalogue(Catalogue {
                title: format!("catalogue {i}"),
                description: String::new(),
                editors: Vec::new(),
                includes,
            }),
        );
        let entry = rec(
            &key,
            2_000_000 + i,
            at,
            Body::CatalogueEntry(CatalogueEntry {
                catalogue: cat_id(i),
                project: project.id(),
                status: EntryStatus::Recommended,
                note: String::new(),
            }),
        );
        records.extend([project, catalogue, entry]);
    }
    let node = node(|st| publish(st, &key, &records));
    for path in [
        "/catalogues".to_owned(),
        "/api/v1/catalogues?limit=100".to_owned(),
        format!("/catalogues/{}", cat_id(0)),
        "/export/projects.csv".to_owned(),
    ] {
        print("catalogue_chain", n, &path, time(&node, &path).await);
    }
}

async fn pledges(n: usize) {
    let (author, backer) = (SecretKey::from_bytes(&[8; 32]), SecretKey::from_bytes(&[9; 32]));
    let at = Timestamp::from_millis(state::now().as_millis() - 60_000);
    let need = rec(
        &author,
        0,
        at,
        Body::Need(Need {
            title: "Big need".into(),
            description: String::new(),
            tags: Vec::new(),
            project: None,
            goal: Some("1000000EUR".parse().unwrap()),
            days_goal: None,
            deadline: None,
            status: NeedStatus::Open,
            merged_into: None,
            decision: Default::default(),
        }),
    );
    let records: Vec<SignedRecord> = (0..n)
        .map(|i| {
            rec(
                &backer,
                i,
                Timestamp::from_millis(at.as_millis() + i as u64),
                Body::Pledge(Pledge {
                    need: need.id(),
                    resource: Resource::Money("10EUR".parse().unwrap()),
                    condition: if i % 2 == 0 {
                        Condition::IfGoalReached
                    } else {
                        Condition::Unconditional
                    },
                    expires_at: None,
                    status: PledgeStatus::Active,
                }),
            )
        })
        .collect();
    let need_id = need.id();
    let node = node(|st| {
        publish(st, &author, &[need]);
        publish(st, &backer, &records);
    });
    for path in [
        format!("/needs/{need_id}"),
        "/api/v1/pledges?limit=100".to_owned(),
        "/export/pledges.csv".to_owned(),
    ] {
        print("pledges", n, &path, time(&node, &path).await);
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("MUTU_BENCH_SIZES")
        .unwrap_or_else(|_| "250,500,1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for &n in &sizes {
            catalogue_chain(n).await;
        }
        for &n in &sizes {
            pledges(n * 10).await;
        }
    });
}
