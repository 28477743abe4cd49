//! A home restored from a backup fetches what its member published after
//! the backup before it writes again, so the member never signs two
//! histories (issue 15, item 3).
//!
//! ```text
//!   A (the member's node) —— B (another member) <—— R (A's home restored
//!                                                    from a backup taken
//!                                                    before A wrote "after")
//! ```
//!
//! R has A's key, so A's peer id: it meets the member's newer changes
//! through B (as after a lost server). R refuses writes until it is in
//! sync with a peer; then it holds "after", writes on a new replica, and
//! no node sees two histories.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mutu_node::actor;
use mutu_node::backup;
use mutu_node::home::Home;
use mutu_node::net;
use mutu_node::ops;
use mutu_node::state::{self, State};
use mutu_protocol::record::RecordId;
use mutu_tests::net::{SYNC_INTERVAL, TIMEOUT, TestNode, connect, memory_addr, need, wait_for};
use tokio::sync::watch;

fn new_need(title: &str) -> ops::Request {
    ops::NewNeed {
        title: title.into(),
        description: None,
        project: None,
        tags: vec![],
        goal: None,
        days_goal: None,
        deadline: None,
        decision: None,
    }
    .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_home_fetches_the_members_newer_changes_before_it_writes() {
    let mut a = TestNode::spawn(91, "Ville de Lyon").await;
    let b = TestNode::spawn(93, "Atelier").await;
    let before = a.create(need("before the backup")).await;
    // The backup: the key and every change, taken offline.
    a.stop().await;
    let (key, bundle) = {
        let st = a.open_offline();
        (st.secret_key().clone(), st.export().unwrap())
    };
    a.restart().await;
    let after = a.create(need("after the backup")).await;
    connect(&a, &b).await;
    wait_for(TIMEOUT, "B to hold A's need written after the backup", || {
        let b = &b;
        async move { b.has(after).await }
    })
    .await;

    // The restore, as `mutu restore` does it.
    let dir = tempfile::tempdir().unwrap();
    let home = Home::resolve(Some(dir.path().join("restored"))).unwrap();
    backup::install(&home, &key).unwrap();
    assert!(home.restored_path().exists());
    let mut st = State::open(home.clone()).unwrap();
    st.import(&bundle, state::now()).unwrap();
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(key.to_bytes()).unwrap();
    let mut swarm = net::build_memory_swarm(keypair, &net::Config::for_tests()).unwrap();
    swarm.listen_on(memory_addr(92)).unwrap();
    let (_shutdown, rx) = watch::channel(false);
    let config = actor::Config {
        sync_interval: SYNC_INTERVAL,
        ..actor::Config::default()
    };
    let (r, _task) = actor::spawn(st, swarm, config, rx).unwrap();

    // No peer yet: the write waits, and says why.
    let refused = r.apply(new_need("too early"), state::now()).await.unwrap().unwrap_err();
    assert!(matches!(refused, ops::Error::Conflict(_)), "{refused}");
    assert!(refused.to_string().contains("restored from a backup"), "{refused}");

    r.dial(memory_addr(93)).await.unwrap();
    let written: std::sync::Arc<std::sync::Mutex<Option<RecordId>>> = std::sync::Arc::default();
    wait_for(TIMEOUT, "the restored node to write once it has synced", || {
        let (r, slot) = (r.clone(), written.clone());
        async move {
            match r.apply(new_need("from the restored home"), state::now()).await.unwrap() {
                Ok(id) => {
                    *slot.lock().unwrap() = Some(id);
                    true
                }
                Err(_) => false,
            }
        }
    })
    .await;
    let written = written.lock().unwrap().unwrap();
    // By then it held what the member published after the backup.
    let held = r
        .with_snapshot(move |s| s.index().get(&after).is_some() && s.index().get(&before).is_some())
        .await
        .unwrap();
    assert!(held, "the restored node wrote before it had the member's newer changes");
    assert!(!home.restored_path().exists(), "the marker goes once writes are open");

    // Both nodes converge, and neither sees two histories.
    wait_for(TIMEOUT, "A to hold the restored home's need, through B", || {
        let a = &a;
        async move { a.has(written).await }
    })
    .await;
    let member = key.member_id();
    let mut evidence = Vec::new();
    for n in [&a, &b] {
        let found = n
            .handle()
            .with_snapshot(move |s| s.equivocations(&member).unwrap().len())
            .await
            .unwrap();
        evidence.push(found);
    }
    let r_evidence = r
        .with_snapshot(move |s| s.equivocations(&member).unwrap().len())
        .await
        .unwrap();
    evidence.push(r_evidence);
    assert_eq!(evidence, [0, 0, 0]);
}
