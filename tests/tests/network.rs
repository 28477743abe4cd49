#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Multi-node sync over the real libp2p stack (memory transport, noise,
//! yamux, gossipsub, `/mutu/sync/1`), in one process.

use std::time::Duration;

use libp2p::Multiaddr;
use mutu_node::actor::{self, Handle};
use mutu_node::home::Home;
use mutu_node::net;
use mutu_node::state::{self, State};
use mutu_protocol::record::{
    Body, Condition, MemberKind, Need, NeedStatus, Pledge, PledgeStatus, Profile, RecordId, Resource,
};
use tokio::sync::watch;

struct TestNode {
    handle: Handle,
    addr: Multiaddr,
    _shutdown: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

async fn node(n: u64) -> TestNode {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::resolve(Some(dir.path().join("home"))).unwrap();
    let profile = Profile {
        name: format!("member {n}"),
        member_kind: MemberKind::Association,
        country: Some("FR".into()),
        sectors: vec![],
        website: None,
        description: String::new(),
    };
    let state = State::init(home, profile, state::now()).unwrap();
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(state.secret_key().to_bytes()).unwrap();
    let mut swarm = net::build_memory_swarm(keypair, &net::Config::for_tests()).unwrap();
    // Fixed, distinct memory ports: no luck involved.
    let addr: Multiaddr = format!("/memory/{}", 40_000 + n).parse().unwrap();
    swarm.listen_on(addr.clone()).unwrap();
    let (tx, rx) = watch::channel(false);
    let config = actor::Config {
        sync_interval: Duration::from_secs(2),
    };
    let (handle, _task) = actor::spawn(state, swarm, config, rx).unwrap();
    TestNode {
        handle,
        addr,
        _shutdown: tx,
        _dir: dir,
    }
}

/// Polls `pred` until it holds or `limit` passes.
async fn wait_for<F, Fut>(limit: Duration, what: &str, mut pred: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if pred().await {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn has(handle: &Handle, id: RecordId) -> bool {
    handle
        .read(move |s| s.registry().index().get(&id).is_some())
        .await
        .unwrap()
}

/// a — b — c — d — e: a need and a pledge written on `a` reach `e`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_crosses_a_line_of_five_nodes() {
    let mut nodes = Vec::new();
    for i in 0..5 {
        nodes.push(node(i).await);
    }
    for i in 1..5 {
        nodes[i].handle.dial(nodes[i - 1].addr.clone()).await.unwrap();
    }
    // Wait until the line is connected.
    for (i, n) in nodes.iter().enumerate() {
        let want = if i == 0 || i == 4 { 1 } else { 2 };
        wait_for(Duration::from_secs(10), "the line to connect", || async {
            n.handle.status().await.unwrap().peers >= want
        })
        .await;
    }
    let need = nodes[0]
        .handle
        .write(|s| {
            s.create(
                Body::Need(Need {
                    title: "SEPA export in Paheko".into(),
                    description: String::new(),
                    tags: vec!["accounting".into()],
                    project: None,
                    goal: Some("600EUR".parse().unwrap()),
                    days_goal: None,
                    deadline: None,
                    status: NeedStatus::Open,
                }),
                state::now(),
            )
        })
        .await
        .unwrap()
        .unwrap();
    let pledge = nodes[0]
        .handle
        .write(move |s| {
            s.create(
                Body::Pledge(Pledge {
                    need,
                    resource: Resource::Money("600EUR".parse().unwrap()),
                    condition: Condition::IfGoalReached,
                    expires_at: None,
                    status: PledgeStatus::Active,
                }),
                state::now(),
            )
        })
        .await
        .unwrap()
        .unwrap();
    let e = &nodes[4].handle;
    wait_for(Duration::from_secs(5), "need and pledge on e", || async {
        has(e, need).await && has(e, pledge).await
    })
    .await;
}

/// A node that joins late pulls everything from one peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_catches_up() {
    let a = node(100).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let id = a
            .handle
            .write(move |s| {
                s.create(
                    Body::Need(Need {
                        title: format!("need {i}"),
                        description: String::new(),
                        tags: vec![],
                        project: None,
                        goal: None,
                        days_goal: None,
                        deadline: None,
                        status: NeedStatus::Open,
                    }),
                    state::now(),
                )
            })
            .await
            .unwrap()
            .unwrap();
        ids.push(id);
    }
    let b = node(101).await;
    b.handle.dial(a.addr.clone()).await.unwrap();
    let bh = &b.handle;
    wait_for(Duration::from_secs(10), "b to catch up", || {
        let ids = ids.clone();
        async move {
            bh.read(move |s| ids.iter().all(|id| s.registry().index().get(id).is_some()))
                .await
                .unwrap()
        }
    })
    .await;
}
