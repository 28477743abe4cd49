#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Catch-up: a node joining late pulls a whole registry from one peer over
//! `/mutu/sync/1`.

use std::time::{Duration, Instant};

use mutu_node::actor;
use mutu_node::state;
use mutu_protocol::Timestamp;
use mutu_protocol::bundle::Bundle;
use mutu_protocol::identity::ReplicaNonce;
use mutu_protocol::record::Body;
use mutu_tests::net::{
    TestNode, VIEWS_NOW, connect, member_changes, member_key, need, profile, seeded_bytes, wait_converged, wait_for,
};

const MEMBERS: u64 = 50;
const RECORDS_PER_MEMBER: usize = 20;
const RECORDS_PER_CHANGE: usize = 5;

/// Topology:
///
/// ```text
///   a  (its profile + 1 000 records of 50 members, imported from a bundle)
///   ▲
///   │  one connection, dialled once by b
///   │
///   b  (joins late: only its own profile)
/// ```
///
/// Anti-entropy is set to a minute, far beyond the test: everything must
/// come through the exchange that runs when the connection opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_pulls_a_thousand_records_of_fifty_members_from_one_peer() {
    // 2026-01-01T00:00:00Z: in the past, so admission's clock check passes.
    let written_at = Timestamp::from_millis(1_767_225_600_000);
    let mut changes = Vec::new();
    let mut ids = Vec::new();
    for m in 0..MEMBERS {
        let key = member_key("catch-up member", m);
        let replica = ReplicaNonce(seeded_bytes("catch-up replica", m));
        let mut bodies = vec![Body::Profile(profile(&format!("member {m}")))];
        bodies.extend((1..RECORDS_PER_MEMBER).map(|i| need(&format!("need {i} of member {m}"))));
        let batches = bodies.chunks(RECORDS_PER_CHANGE).map(<[Body]>::to_vec).collect();
        let (c, r) = member_changes(&key, replica, batches, written_at, &format!("catch-up records {m}"));
        changes.extend(c);
        ids.extend(r);
    }
    let total = MEMBERS as usize * RECORDS_PER_MEMBER;
    assert_eq!(ids.len(), total);
    let change_count = changes.len();
    let bundle = Bundle::from_changes(changes);

    let slow = actor::Config {
        sync_interval: Duration::from_secs(60),
        ..actor::Config::default()
    };
    let a = TestNode::spawn_with(0, "a", slow.clone()).await;
    let report = a
        .handle()
        .test(move |s, _| s.import(&bundle, state::now()))
        .await
        .unwrap()
        .unwrap();
    assert!(report.rejected.is_empty(), "{report:?}");
    assert_eq!(report.admitted.len(), change_count);
    // a: its own profile + the imported records.
    assert_eq!(a.record_count().await, total + 1);
    assert!(a.has_all(&ids).await);

    let b = TestNode::spawn_with(1, "b", slow).await;
    assert_eq!(b.record_count().await, 1);
    let started = Instant::now();
    connect(&b, &a).await;
    wait_for(Duration::from_secs(10), "b to hold the 1 000 records", || async {
        b.has_all(&ids).await
    })
    .await;
    // Both end with the same views: b has a's profile, a has b's.
    let digest = wait_converged(&[&a, &b], VIEWS_NOW, Duration::from_secs(5)).await;
    let elapsed = started.elapsed();
    assert_eq!(b.record_count().await, total + 2);
    assert_eq!(a.record_count().await, total + 2);
    let (sa, sb) = (a.status().await, b.status().await);
    assert_eq!(sa.documents, MEMBERS as usize + 2);
    assert_eq!(sb.documents, MEMBERS as usize + 2);
    assert_eq!((sa.pending, sb.pending), (0, 0));
    assert_eq!((sa.rejected, sb.rejected), (0, 0));
    eprintln!("b caught up with {total} records in {elapsed:?} (views {digest})");
}
