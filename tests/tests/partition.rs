#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A network partition: both sides keep working, see only their own writes,
//! and converge once the partition heals.

use std::time::{Duration, Instant};

use mutu_protocol::MemberId;
use mutu_protocol::record::RecordId;
use mutu_protocol::view::Views;
use mutu_tests::net::{
    TIMEOUT, TestNode, VIEWS_NOW, connect_all, cosign, heal, need, partition, pledge, wait_converged, wait_for,
};

/// Cosigners and pledges of `need` as `node` shows them.
async fn need_view(node: &TestNode, need: RecordId) -> (Vec<MemberId>, Vec<RecordId>) {
    node.handle()
        .with_snapshot(move |s| {
            let index = s.index();
            let views = Views::new(index, VIEWS_NOW);
            let v = views
                .need(index.get(&need).expect("the need is known"))
                .expect("a need");
            (v.cosigners, v.pledges)
        })
        .await
        .unwrap()
}

/// Waits until every node of `side` holds every one of `ids`.
async fn wait_side_has(side: &[&TestNode], ids: &[RecordId], what: &str) {
    for n in side {
        wait_for(TIMEOUT, &format!("{what} on {}", n.name), || async {
            n.has_all(ids).await
        })
        .await;
    }
}

/// Topology: five nodes, fully connected, then cut in two:
///
/// ```text
///        a ─────── b                 a ─── b   ┆   c ─── d
///        │ ╲     ╱ │                           ┆    ╲   ╱
///        │   ╲ ╱   │      partition            ┆     e
///        │   ╱ ╲   │      ─────────►           ┆
///        c ─────── d                 {a, b}    ┆   {c, d, e}
///         ╲       ╱
///          ╲     ╱        (every pair linked: 10 links;
///             e            the cut blocks the 6 crossing ones)
/// ```
///
/// Before the cut, a writes need N. During the cut, each side writes
/// concurrently on N (different members, so no record is edited on both
/// sides): on {a, b}, b cosigns N and pledges to it, a writes need L; on
/// {c, d, e}, c cosigns N, d pledges to it, e writes need R and c cosigns
/// R. Each side sees its own writes only. After healing, all five show the
/// same views, with both sides' writes (N has two cosigners, two pledges).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_of_a_partition_write_and_converge_after_healing() {
    let started = Instant::now();
    let mut nodes = Vec::new();
    for (i, name) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        nodes.push(TestNode::spawn(i as u64, name).await);
    }
    let [a, b, c, d, e] = &nodes[..] else { unreachable!() };
    connect_all(&[a, b, c, d, e]).await;

    let n = a.create(need("shared need N")).await;
    wait_side_has(&[a, b, c, d, e], &[n], "N").await;
    wait_converged(&[a, b, c, d, e], VIEWS_NOW, TIMEOUT).await;

    let (left, right) = ([a, b], [c, d, e]);
    partition(&left, &right).await;

    // Concurrent writes on both sides.
    let left_ids = vec![
        b.create(cosign(n, "left")).await,
        b.create(pledge(n, "100EUR")).await,
        a.create(need("left need L")).await,
    ];
    let r = e.create(need("right need R")).await;
    wait_for(TIMEOUT, "R on c", || async { c.has(r).await }).await;
    let right_ids = vec![
        c.create(cosign(n, "right")).await,
        d.create(pledge(n, "200EUR")).await,
        r,
        c.create(cosign(r, "right too")).await,
    ];

    // Each side converges on its own writes...
    wait_side_has(&left, &left_ids, "the left side's writes").await;
    wait_side_has(&right, &right_ids, "the right side's writes").await;
    let left_digest = wait_converged(&left, VIEWS_NOW, TIMEOUT).await;
    let right_digest = wait_converged(&right, VIEWS_NOW, TIMEOUT).await;
    assert_ne!(left_digest, right_digest);
    // ...and sees nothing of the other side's.
    for node in left {
        assert!(node.has_none(&right_ids).await, "{} sees a right-side write", node.name);
        assert_eq!(need_view(node, n).await, (vec![b.member], vec![left_ids[1]]));
    }
    for node in right {
        assert!(node.has_none(&left_ids).await, "{} sees a left-side write", node.name);
        assert_eq!(need_view(node, n).await, (vec![c.member], vec![right_ids[1]]));
    }

    heal(&left, &right).await;
    let all = [a, b, c, d, e];
    let digest = wait_converged(&all, VIEWS_NOW, Duration::from_secs(10)).await;
    let everything: Vec<RecordId> = left_ids.iter().chain(&right_ids).copied().collect();
    for node in all {
        assert!(node.has_all(&everything).await, "{} lacks a write", node.name);
        let (mut cosigners, pledges) = need_view(node, n).await;
        cosigners.sort();
        let mut both = vec![b.member, c.member];
        both.sort();
        assert_eq!(cosigners, both);
        assert_eq!(pledges.len(), 2);
        let status = node.status().await;
        assert_eq!((status.pending, status.rejected), (0, 0), "{}", node.name);
    }
    assert_ne!(digest, left_digest);
    assert_ne!(digest, right_digest);
    eprintln!("partition test done in {:?}", started.elapsed());
}
