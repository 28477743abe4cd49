#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Operations faults through a running node (issue 15, item 5): the disk
//! holding the home fills up while the node runs.

use mutu_node::actor::{self, Handle};
use mutu_node::home::Home;
use mutu_node::ops;
use mutu_node::state::{self, State};
use mutu_node::tmpfs::Tmpfs;
use mutu_node::{error::Classify, net};
use mutu_protocol::record::{Body, RecordId};
use mutu_tests::net::{SYNC_INTERVAL, TIMEOUT, TestNode, memory_addr, profile, seeded_bytes, wait_for};
use tokio::sync::watch;

fn new_need(title: &str) -> ops::Request {
    serde_json::from_value(serde_json::json!({"op": "new_need", "title": title})).unwrap()
}

async fn write(handle: &Handle, title: &str) -> Result<RecordId, ops::Error> {
    handle
        .apply(new_need(title), state::now())
        .await
        .expect("the node runs")
}

/// Topology:
///
/// ```text
///   full (home on a 4 MiB tmpfs, node 0) ──── peer (node 1)
/// ```
///
/// `full` writes three needs, then its disk is filled and it writes until
/// a write fails. The failure is the clear disk-full error, class
/// `internal`; reads (status, views, the store through a snapshot's
/// export) go on; once the ballast is removed, the same running node takes
/// a write again. Every acknowledged need reaches the peer, and is in the
/// home when it is opened again after the node stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_node_on_a_full_disk_refuses_writes_serves_reads_and_recovers_by_itself() {
    let fs = match Tmpfs::mount(4 << 20) {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let root = fs.path().join("home");
    let home = Home::resolve(Some(root.clone())).unwrap();
    let key = home
        .create_identity(seeded_bytes("node", 0), seeded_bytes("replica", 0))
        .unwrap();
    let mut st = State::open(home.clone()).unwrap();
    st.create(Body::Profile(profile("full")), state::now()).unwrap();
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(key.to_bytes()).unwrap();
    let mut swarm = net::build_memory_swarm(keypair, &net::Config::for_tests()).unwrap();
    swarm.listen_on(memory_addr(0)).unwrap();
    let (shutdown, rx) = watch::channel(false);
    let config = actor::Config {
        sync_interval: SYNC_INTERVAL,
        ..actor::Config::default()
    };
    let (handle, task) = actor::spawn(st, swarm, config, rx).unwrap();

    let peer = TestNode::spawn(1, "peer").await;
    peer.handle().dial(memory_addr(0)).await.unwrap();

    let mut acked = Vec::new();
    for i in 0..3 {
        acked.push(write(&handle, &format!("before {i}")).await.unwrap());
    }
    let ballast = fs.fill("ballast");
    let err = loop {
        assert!(acked.len() < 100_000, "the disk never filled");
        match write(&handle, &format!("filling {}", acked.len())).await {
            Ok(id) => acked.push(id),
            Err(e) => break e,
        }
    };
    let text = err.to_string();
    assert!(
        text.contains(&format!("no space left on the device holding {}", root.display()))
            && text.ends_with("free some space; nothing was written"),
        "{text}"
    );
    assert_eq!(err.class(), mutu_node::error::Class::Internal);

    // Reads go on while the disk is full.
    let status = handle.status().await.unwrap();
    assert!(status.records >= acked.len(), "{status:?}");
    let ids = acked.clone();
    let (all_there, exported) = handle
        .with_snapshot(move |s| {
            let all = ids.iter().all(|id| s.index().get(id).is_some());
            // This member's changes only: the peer's profile may have been
            // replicated before the disk filled.
            let me = s.member_id();
            let mine = s.export().map(|b| {
                b.documents
                    .iter()
                    .filter(|d| d.doc == me)
                    .map(|d| d.changes.len())
                    .sum::<usize>()
            });
            (all, mine)
        })
        .await
        .unwrap();
    assert!(all_there);
    assert_eq!(exported.unwrap(), acked.len() + 1, "profile + acknowledged needs");

    // Space is back: the same running node writes again.
    std::fs::remove_file(ballast).unwrap();
    acked.push(write(&handle, "after").await.unwrap());

    let ids = acked.clone();
    wait_for(TIMEOUT, "the peer to hold every acknowledged need", || {
        let ids = ids.clone();
        let peer = &peer;
        async move { peer.has_all(&ids).await }
    })
    .await;

    shutdown.send(true).unwrap();
    task.await.unwrap();
    let reopened = State::open(home).unwrap();
    for id in &acked {
        assert!(reopened.registry().index().get(id).is_some(), "lost: {id}");
    }
}
