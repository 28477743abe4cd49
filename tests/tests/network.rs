#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Multi-node sync over the real libp2p stack (memory transport, noise,
//! yamux, gossipsub, `/mutu/sync/1`), in one process. The harness is
//! `mutu_tests::net`.

use std::time::Duration;

use mutu_tests::net::{TestNode, connect, need, pledge, wait_for};

/// A write on `a` crosses a line of five nodes:
///
/// ```text
///   a ──── b ──── c ──── d ──── e
/// ```
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_crosses_a_line_of_five_nodes() {
    let mut nodes = Vec::new();
    for (i, name) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        nodes.push(TestNode::spawn(i as u64, name).await);
    }
    for i in 1..5 {
        connect(&nodes[i], &nodes[i - 1]).await;
    }
    let need = nodes[0].create(need("SEPA export in Paheko")).await;
    let pledge = nodes[0].create(pledge(need, "600EUR")).await;
    let e = &nodes[4];
    wait_for(Duration::from_secs(5), "need and pledge on e", || async {
        e.has_all(&[need, pledge]).await
    })
    .await;
}

/// A node that joins late pulls everything from one peer:
///
/// ```text
///   a (20 needs) ◄──── b (joins after the writes)
/// ```
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_catches_up() {
    let a = TestNode::spawn(100, "a").await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(a.create(need(&format!("need {i}"))).await);
    }
    let b = TestNode::spawn(101, "b").await;
    connect(&b, &a).await;
    wait_for(Duration::from_secs(10), "b to catch up", || async {
        b.has_all(&ids).await
    })
    .await;
}
