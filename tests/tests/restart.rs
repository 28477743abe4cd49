#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A node restarts from its home: it keeps everything it had and catches up
//! what it missed.

use std::time::Instant;

use mutu_tests::net::{
    TIMEOUT, TestNode, VIEWS_NOW, connect, connect_all, cosign, need, pledge, views_digest, wait_converged, wait_for,
};

/// Topology:
///
/// ```text
///        a                         a                         a
///       ╱ ╲       b stops         ╱         b restarts      ╱ ╲
///      b ─ c     ─────────►  (b)   c       ─────────►      b ─ c
///                            a, c keep                 (same home,
///                            writing                   same address)
/// ```
///
/// Before the stop, every node writes. While b is down, a and c write more,
/// including a cosign of b's need. b restarts from its home on the same
/// memory address; its home holds exactly the views it had (checked
/// offline, before the restart); then it writes a record of its own (its replica's sequence numbers must
/// carry on from the store, or peers would refuse the change), a dials it
/// at its old address, c too, and all three converge on the same views.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_keeps_its_data_and_catches_up() {
    let started = Instant::now();
    let a = TestNode::spawn(0, "a").await;
    let mut b = TestNode::spawn(1, "b").await;
    let c = TestNode::spawn(2, "c").await;
    connect_all(&[&a, &b, &c]).await;

    let na = a.create(need("need of a")).await;
    let nb = b.create(need("need of b")).await;
    for n in [&b, &c] {
        wait_for(TIMEOUT, &format!("a's need on {}", n.name), || async {
            n.has(na).await
        })
        .await;
    }
    let before = vec![
        na,
        nb,
        c.create(cosign(na, "c too")).await,
        b.create(pledge(na, "50EUR")).await,
    ];
    for n in [&a, &b, &c] {
        wait_for(TIMEOUT, &format!("the first writes on {}", n.name), || async {
            n.has_all(&before).await
        })
        .await;
    }
    let digest_before = wait_converged(&[&a, &b, &c], VIEWS_NOW, TIMEOUT).await;
    let b_records = b.record_count().await;

    b.stop().await;
    wait_for(TIMEOUT, "a and c to see b gone", || async {
        !a.is_connected(b.peer_id).await && !c.is_connected(b.peer_id).await
    })
    .await;

    // Written while b is down.
    let na2 = a.create(need("second need of a")).await;
    wait_for(TIMEOUT, "a's second need on c", || async { c.has(na2).await }).await;
    let missed = vec![
        na2,
        c.create(pledge(na2, "300EUR")).await,
        c.create(cosign(nb, "c needs b's need")).await,
        a.create(pledge(nb, "20EUR")).await,
    ];
    for n in [&a, &c] {
        wait_for(
            TIMEOUT,
            &format!("the writes made while b is down on {}", n.name),
            || async { n.has_all(&missed).await },
        )
        .await;
    }
    let digest_ac = wait_converged(&[&a, &c], VIEWS_NOW, TIMEOUT).await;
    assert_ne!(digest_ac, digest_before);

    // b's home holds everything b had, and nothing more.
    {
        let offline = b.open_offline();
        let index = offline.registry().index();
        assert_eq!(views_digest(index, VIEWS_NOW), digest_before);
        assert_eq!(index.len(), b_records);
        assert!(before.iter().all(|id| index.get(id).is_some()));
        assert!(missed.iter().all(|id| index.get_any(id).is_none()));
    }
    b.restart().await;
    assert!(b.has_all(&before).await);

    // b writes again, as the same replica.
    let nb2 = b.create(need("need of b after its restart")).await;
    // a dials b's old address, then c.
    connect(&a, &b).await;
    connect(&c, &b).await;

    let everything: Vec<_> = before.iter().chain(&missed).copied().chain([nb2]).collect();
    for n in [&a, &b, &c] {
        wait_for(TIMEOUT, &format!("every write on {}", n.name), || async {
            n.has_all(&everything).await
        })
        .await;
    }
    wait_converged(&[&a, &b, &c], VIEWS_NOW, TIMEOUT).await;
    for n in [&a, &b, &c] {
        let s = n.status().await;
        assert_eq!((s.pending, s.rejected), (0, 0), "{}", n.name);
    }
    eprintln!("restart test done in {:?}", started.elapsed());
}
