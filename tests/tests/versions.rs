#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Protocol versions: a node that speaks only `/mutu/sync/1` (an older
//! release) and nodes that speak `/mutu/sync/2` (range reconciliation,
//! compressed answers) still sync, both ways.

use std::time::Duration;

use mutu_node::{actor, net, state};
use mutu_protocol::Timestamp;
use mutu_protocol::bundle::Bundle;
use mutu_protocol::identity::ReplicaNonce;
use mutu_protocol::record::{Body, RecordId};
use mutu_tests::net::{
    TestNode, VIEWS_NOW, connect, member_changes, member_key, need, profile, seeded_bytes, wait_converged, wait_for,
};

const RECORDS_PER_MEMBER: usize = 10;

/// Imports `members` members of `label` (a profile and
/// `RECORDS_PER_MEMBER - 1` needs each) into `node`; returns their records.
async fn import(node: &TestNode, label: &str, members: u64) -> Vec<RecordId> {
    let written_at = Timestamp::from_millis(1_767_225_600_000);
    let mut changes = Vec::new();
    let mut ids = Vec::new();
    for m in 0..members {
        let key = member_key(label, m);
        let replica = ReplicaNonce(seeded_bytes(label, m));
        let mut bodies = vec![Body::Profile(profile(&format!("{label} {m}")))];
        bodies.extend((1..RECORDS_PER_MEMBER).map(|i| need(&format!("need {i} of {label} {m}"))));
        let (c, r) = member_changes(&key, replica, vec![bodies], written_at, &format!("{label} records {m}"));
        changes.extend(c);
        ids.extend(r);
    }
    let bundle = Bundle::from_changes(changes);
    let report = node
        .handle()
        .test(move |s, _| s.import(&bundle, state::now()))
        .await
        .unwrap()
        .unwrap();
    assert!(report.rejected.is_empty(), "{report:?}");
    ids
}

/// Topology:
///
/// ```text
///   new (/mutu/sync/2 + /1; 20 members)
///    ▲            ▲
///    │ dialled    │ dialled
///    │            │
///   old          fresh
///   (/mutu/sync/1 only;   (/mutu/sync/2; nothing
///    15 other members)     but its profile)
/// ```
///
/// Anti-entropy every minute: everything comes through the passes that
/// run when the connections open (old ↔ new over `/mutu/sync/1`
/// inventories, fresh ↔ new over range reconciliation), then gossip and
/// the new node's records reach fresh through new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_protocol_node_and_new_ones_sync_both_ways() {
    let slow = actor::Config {
        sync_interval: Duration::from_secs(60),
        ..actor::Config::default()
    };
    let old_net = net::Config {
        sync_v2: false,
        ..net::Config::for_tests()
    };
    let new = TestNode::spawn_with(0, "new", slow.clone()).await;
    let old = TestNode::spawn_with_net(1, "old", slow.clone(), old_net).await;
    let fresh = TestNode::spawn_with(2, "fresh", slow).await;
    let on_new = import(&new, "new side", 20).await;
    let on_old = import(&old, "old side", 15).await;

    connect(&old, &new).await;
    wait_for(
        Duration::from_secs(20),
        "old and new to hold each other's records",
        || async { old.has_all(&on_new).await && new.has_all(&on_old).await },
    )
    .await;
    wait_converged(&[&old, &new], VIEWS_NOW, Duration::from_secs(10)).await;

    connect(&fresh, &new).await;
    wait_for(Duration::from_secs(20), "fresh to hold every record", || async {
        fresh.has_all(&on_new).await && fresh.has_all(&on_old).await
    })
    .await;
    let digest = wait_converged(&[&old, &new, &fresh], VIEWS_NOW, Duration::from_secs(10)).await;
    let total = (20 + 15) * RECORDS_PER_MEMBER + 3;
    for node in [&old, &new, &fresh] {
        assert_eq!(node.record_count().await, total, "{}", node.name);
        let s = node.status().await;
        assert_eq!((s.pending, s.rejected), (0, 0), "{}", node.name);
    }
    eprintln!("three nodes of two protocol versions converged (views {digest})");
}
