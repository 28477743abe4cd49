#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The actor's commands: readers work on a snapshot, outside the actor.

use mutu_node::{ops, state};
use mutu_tests::net::{TIMEOUT, TestNode};

/// Topology: one node, no peers.
///
/// ```text
/// a
/// ```
///
/// A reader takes a snapshot of a and then stays at work (it waits on a
/// channel the test holds: as long as the test wants, the way a big export
/// takes seconds). While it works, a answers a status request, applies a
/// write and hands out a new snapshot that holds the write; the reader's
/// snapshot still shows the registry as it was when it was taken. Were the
/// reader's work run on the actor (as the closures of the old
/// `Handle::read` were), the status request would wait for it and time out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_at_work_does_not_hold_the_actor() {
    let a = TestNode::spawn(0, "a").await;
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::sync_channel::<()>(1);
    let reader = tokio::spawn({
        let handle = a.handle().clone();
        async move {
            handle
                .with_snapshot(move |s| {
                    started_tx.send(()).unwrap();
                    // The long work: until the test releases it.
                    release_rx.recv().unwrap();
                    s.clone()
                })
                .await
                .unwrap()
        }
    });
    tokio::time::timeout(TIMEOUT, started_rx)
        .await
        .expect("the reader to start")
        .unwrap();

    let status = tokio::time::timeout(TIMEOUT, a.handle().status())
        .await
        .expect("a status answer while a reader is at work")
        .unwrap();
    assert_eq!(status.member, a.member);
    let project = ops::NewProject {
        name: "Written while a reader works".into(),
        license: "MIT".into(),
        description: None,
        repository: None,
        homepage: None,
        tags: Vec::new(),
        status: None,
        is_based_on: None,
    };
    let id = tokio::time::timeout(TIMEOUT, a.handle().apply(project.into(), state::now()))
        .await
        .expect("a write while a reader is at work")
        .unwrap()
        .unwrap();
    let fresh = a.handle().snapshot().await.unwrap();
    assert!(fresh.index().get(&id).is_some(), "a new snapshot holds the write");

    release_tx.send(()).unwrap();
    let held = tokio::time::timeout(TIMEOUT, reader)
        .await
        .expect("the reader to finish")
        .unwrap();
    assert!(
        held.index().get(&id).is_none(),
        "the reader's snapshot is the registry as it was when taken"
    );
    assert_eq!(held.index().len() + 1, fresh.index().len());
}

/// Topology: one node, no peers. `MAX_READERS` readers stay at work until
/// the test releases them; one more reader does not start meanwhile (it
/// waits for a permit), while the actor still answers; it starts once one
/// of them is done. A flood of open GETs thus queues instead of taking
/// every blocking thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_beyond_the_cap_wait_for_a_permit() {
    let a = TestNode::spawn(1, "a").await;
    let cap = mutu_node::actor::MAX_READERS;
    let (started_tx, mut started_rx) = tokio::sync::mpsc::channel::<usize>(cap + 1);
    let mut releases = Vec::new();
    let mut readers = Vec::new();
    for i in 0..=cap {
        let (release_tx, release_rx) = std::sync::mpsc::sync_channel::<()>(1);
        releases.push(release_tx);
        let (handle, started_tx) = (a.handle().clone(), started_tx.clone());
        readers.push(tokio::spawn(async move {
            handle
                .with_snapshot(move |_| {
                    started_tx.blocking_send(i).unwrap();
                    release_rx.recv().unwrap();
                })
                .await
                .unwrap()
        }));
        if i < cap {
            // In order: the first `cap` readers hold every permit.
            let started = tokio::time::timeout(TIMEOUT, started_rx.recv()).await.unwrap();
            assert_eq!(started, Some(i));
        }
    }
    // The last reader waits; the actor does not.
    tokio::time::timeout(TIMEOUT, a.handle().status())
        .await
        .expect("a status answer while every reader permit is taken")
        .unwrap();
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), started_rx.recv())
            .await
            .is_err(),
        "a reader beyond the cap started"
    );
    releases[0].send(()).unwrap();
    let started = tokio::time::timeout(TIMEOUT, started_rx.recv()).await.unwrap();
    assert_eq!(started, Some(cap), "the waiting reader starts once a permit is free");
    for release in &releases[1..] {
        release.send(()).unwrap();
    }
    for reader in readers {
        tokio::time::timeout(TIMEOUT, reader).await.unwrap().unwrap();
    }
}
