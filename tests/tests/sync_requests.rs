#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What an honest node answers to crafted `/mutu/sync/1` requests from a
//! raw peer (found by the `sync_request` fuzz target).

use std::time::Duration;

use libp2p::futures::StreamExt;
use libp2p::request_response::{self, Message};
use libp2p::swarm::SwarmEvent;
use mutu_node::net::sync::{self, Request, Response};
use mutu_node::net::{self, BehaviourEvent};
use mutu_tests::net::{TIMEOUT, TestNode, seeded_bytes};

/// Topology: a raw swarm m (driven by this test) dials node a.
///
/// ```text
/// m ──▶ a
/// ```
///
/// m asks a for a's one change, naming its hash [`sync::MAX_HASHES`]
/// times in one `ChangesByHash` request (128 KiB). a answers with that
/// change once: repeating it would turn a cheap request into an answer of
/// up to 16 MiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_asked_for_many_times_is_sent_once() {
    let a = TestNode::spawn(0, "a").await;
    let member = a.member;
    let heads = a
        .handle()
        .test(move |s, _| s.registry().doc(&member).map(|d| d.heads()).unwrap_or_default())
        .await
        .unwrap();
    assert_eq!(heads.len(), 1, "a's document holds its profile change");

    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(seeded_bytes::<32>("raw peer", 0)).unwrap();
    let mut m = net::build_memory_swarm(keypair, &net::Config::for_tests()).unwrap();
    m.dial(a.addr.clone()).unwrap();
    let answer = tokio::time::timeout(TIMEOUT + Duration::from_secs(5), async {
        loop {
            match m.select_next_some().await {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == a.peer_id => {
                    let request = Request::ChangesByHash {
                        doc: member,
                        hashes: vec![heads[0].0; sync::MAX_HASHES],
                    };
                    m.behaviour_mut().sync.send_request(&peer_id, request);
                }
                SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                    message: Message::Response { response, .. },
                    ..
                })) => return response,
                _ => {}
            }
        }
    })
    .await
    .expect("a answers within the timeout");
    let Response::Changes { changes, more } = answer else {
        panic!("a answers with changes: {answer:?}");
    };
    assert_eq!(changes.len(), 1, "the change asked for {} times", sync::MAX_HASHES);
    assert!(!more);
}
