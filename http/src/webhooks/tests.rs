//! Webhooks against local receivers: one that fails twice then answers,
//! one that never answers.
//!
//! ```text
//!   B (a plain home) --bundle--> A (node, watches tag `sepa`) --POST--> receiver
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::AtomicUsize;
use std::time::Instant;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use mutu_node::ops;
use mutu_protocol::inbox::Watch;

use super::*;
use crate::testing::{TestNode, needs_from_elsewhere, profile};

fn fast(url: String) -> Config {
    Config {
        poll: Duration::from_millis(50),
        timeout: Duration::from_millis(300),
        backoff: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        queue: 3,
        ..Config::new(vec![url]).unwrap()
    }
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_retried_with_backoff_until_the_receiver_takes_it() {
    let node = TestNode::spawn(47_620, profile("Ville"));
    watch::add(&node.home, Watch::Tag("sepa".into())).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(std::sync::Mutex::new(Vec::<serde_json::Value>::new()));
    let app = {
        let (calls, bodies) = (calls.clone(), bodies.clone());
        Router::new().route(
            "/hook",
            post(move |body: String| {
                let (calls, bodies) = (calls.clone(), bodies.clone());
                async move {
                    if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    bodies.lock().unwrap().push(serde_json::from_str(&body).unwrap());
                    StatusCode::NO_CONTENT
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let counters = spawn(node.handle.clone(), fast(url));
    // The first look takes what is there as sent: let it happen first.
    until("the first look", || counters.looks.load(Ordering::SeqCst) >= 1).await;
    needs_from_elsewhere(&node.handle, &["Export SEPA"], &["sepa"]).await;
    until("the delivery", || counters.delivered.load(Ordering::SeqCst) == 1).await;
    assert_eq!(counters.failed_attempts.load(Ordering::SeqCst), 2);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let body = bodies.lock().unwrap()[0].clone();
    assert_eq!(body["event"]["what"], "new_need");
    assert_eq!(body["event"]["title"], "Export SEPA");
    let me = node.handle.with_snapshot(|s| s.member_id()).await.unwrap();
    assert_eq!(body["member"], me.to_string());
    // Sent once: later looks find nothing new, and the cursor is kept.
    let looks = counters.looks.load(Ordering::SeqCst);
    until("three more looks", || {
        counters.looks.load(Ordering::SeqCst) >= looks + 3
    })
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(watch::load(&node.home).delivered_until.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_costs_a_bounded_queue_and_nothing_else() {
    let node = TestNode::spawn(47_621, profile("Ville"));
    watch::add(&node.home, Watch::Tag("sepa".into())).unwrap();
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let counters = spawn(node.handle.clone(), fast(url));
    until("the first look", || counters.looks.load(Ordering::SeqCst) >= 1).await;
    needs_from_elsewhere(&node.handle, &["One", "Two", "Three", "Four", "Five"], &["sepa"]).await;
    until("timeouts and drops", || {
        counters.failed_attempts.load(Ordering::SeqCst) >= 2 && counters.dropped.load(Ordering::SeqCst) >= 2
    })
    .await;
    assert_eq!(counters.delivered.load(Ordering::SeqCst), 0);
    // The node goes on answering and writing meanwhile.
    let id = node
        .handle
        .apply(
            ops::NewNeed {
                title: "Still writing".into(),
                description: None,
                project: None,
                tags: vec![],
                goal: None,
                days_goal: None,
                deadline: None,
                decision: None,
            }
            .into(),
            state::now(),
        )
        .await
        .unwrap();
    assert!(id.is_ok());
}
