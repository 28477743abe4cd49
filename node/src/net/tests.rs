//! In-process swarms over the memory transport, with the real noise + yamux
//! stack and mDNS off. Every wait is a predicate over swarm events under a
//! timeout; no sleeps.

use std::collections::BTreeMap;
use std::time::Duration;

use libp2p::futures::StreamExt;
use libp2p::futures::future::select_all;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::identity::Keypair;
use libp2p::request_response::{self, Message};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{DialError, SwarmEvent};
use libp2p::{Multiaddr, Swarm};
use mutu_protocol::registry::{Registry, Trust};
use mutu_protocol::{MemberId, SecretKey, SignedChange, Timestamp};
use sha2::{Digest, Sha256};

use super::sync::{self, GossipBatch, HeadsDigest, Request, Response};
use super::*;

const TIMEOUT: Duration = Duration::from_secs(20);

type Event = SwarmEvent<BehaviourEvent>;

fn keypair(seed: u8) -> Keypair {
    Keypair::ed25519_from_bytes([seed; 32]).unwrap()
}

/// A swarm listening on a fresh `/memory` address, and that address.
async fn node(seed: u8) -> (Swarm<Behaviour>, Multiaddr) {
    node_with(seed, &Config::for_tests()).await
}

/// [`node`] with the settings of the test's choosing.
async fn node_with(seed: u8, config: &Config) -> (Swarm<Behaviour>, Multiaddr) {
    let mut swarm = build_memory_swarm(keypair(seed), config).unwrap();
    swarm.listen_on("/memory/0".parse().unwrap()).unwrap();
    let addr = drive(&mut [&mut swarm], |_, _, e| match e {
        SwarmEvent::NewListenAddr { address, .. } => Some(address),
        _ => None,
    })
    .await;
    (swarm, addr)
}

/// Polls every swarm, hands each event to `f` (with the index and the swarm
/// it came from) until `f` returns `Some`, or panics after [`TIMEOUT`].
async fn drive<T>(
    swarms: &mut [&mut Swarm<Behaviour>],
    mut f: impl FnMut(usize, &mut Swarm<Behaviour>, Event) -> Option<T>,
) -> T {
    let run = async {
        loop {
            let (event, i, _) = select_all(swarms.iter_mut().map(|s| s.select_next_some())).await;
            if let Some(t) = f(i, &mut *swarms[i], event) {
                return t;
            }
        }
    };
    tokio::time::timeout(TIMEOUT, run)
        .await
        .expect("timed out waiting on swarm events")
}

/// Dials `to` from `from` and waits until both ends see the connection and
/// `from` knows that `to` is subscribed to the topic.
async fn connect(from: &mut Swarm<Behaviour>, to: &mut Swarm<Behaviour>, to_addr: &Multiaddr) {
    let (from_id, to_id) = (*from.local_peer_id(), *to.local_peer_id());
    from.dial(to_addr.clone()).unwrap();
    let (mut dialer_up, mut listener_up, mut subscribed) = (false, false, false);
    drive(&mut [from, to], |i, _, e| {
        match e {
            SwarmEvent::ConnectionEstablished { peer_id, .. } if i == 0 && peer_id == to_id => dialer_up = true,
            SwarmEvent::ConnectionEstablished { peer_id, .. } if i == 1 && peer_id == from_id => listener_up = true,
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed { peer_id, topic }))
                if i == 0 && peer_id == to_id && topic == behaviour::topic().hash() =>
            {
                subscribed = true
            }
            _ => {}
        }
        (dialer_up && listener_up && subscribed).then_some(())
    })
    .await;
}

fn member_key(n: u8) -> SecretKey {
    SecretKey::from_bytes(&[n; 32])
}

fn fake_change(key: &SecretKey, len: usize) -> SignedChange {
    SignedChange::from_parts(key.member_id(), vec![0x5a; len], [3; 64])
}

/// Topology (a line; A and C are not dialled to each other):
///
/// ```text
///   A ──── B ──── C
/// ```
///
/// A publishes a batch; B receives it, checks it and reports Accept, which
/// lets gossipsub forward it; C receives it too.
#[tokio::test]
async fn a_gossip_batch_reaches_peers_and_is_accepted() {
    let (mut a, _) = node(1).await;
    let (mut b, b_addr) = node(2).await;
    let (mut c, _) = node(3).await;
    let (a_id, b_id) = (*a.local_peer_id(), *b.local_peer_id());
    connect(&mut a, &mut b, &b_addr).await;
    connect(&mut c, &mut b, &b_addr).await;
    // B must know C subscribed before it can forward to C.
    if !b
        .behaviour()
        .gossipsub
        .all_peers()
        .any(|(p, t)| *p == *c.local_peer_id() && !t.is_empty())
    {
        let c_id = *c.local_peer_id();
        drive(&mut [&mut b, &mut c], |i, _, e| match e {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed { peer_id, .. }))
                if i == 0 && peer_id == c_id =>
            {
                Some(())
            }
            _ => None,
        })
        .await;
    }

    let author = member_key(9);
    // Near the size bound, to check the frame overhead allowance.
    let batch = GossipBatch {
        doc: author.member_id(),
        changes: vec![
            fake_change(&author, 10),
            fake_change(&author, MAX_GOSSIP_BATCH_BYTES - 2_000),
        ],
    };
    let bytes = batch.encode().unwrap();
    let sent_id = a.behaviour_mut().publish(&batch).unwrap().expect("B is subscribed");
    assert_eq!(sent_id, gossipsub::MessageId::from(Sha256::digest(&bytes).to_vec()));
    // Publishing the same bytes again is harmless.
    assert_eq!(a.behaviour_mut().publish(&batch).unwrap(), None);

    let (mut b_got, mut c_got) = (false, false);
    drive(&mut [&mut a, &mut b, &mut c], |i, swarm, e| {
        if let SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        })) = e
        {
            assert_eq!(message_id, sent_id);
            assert_eq!(GossipBatch::decode(&message.data).unwrap(), batch);
            match i {
                1 => {
                    assert_eq!(propagation_source, a_id);
                    b_got = true;
                }
                2 => {
                    assert_eq!(propagation_source, b_id, "only B forwards to C");
                    c_got = true;
                }
                _ => panic!("A got its own message back"),
            }
            assert!(swarm.behaviour_mut().gossipsub.report_message_validation_result(
                &message_id,
                &propagation_source,
                MessageAcceptance::Accept,
            ));
        }
        (b_got && c_got).then_some(())
    })
    .await;
}

/// Topology: `A ──── B`. A publishes bytes that are no gossip batch; B
/// rejects them, and peer scoring drops A's score well below zero.
#[tokio::test]
async fn a_rejected_message_penalises_the_relaying_peer() {
    let (mut a, _) = node(11).await;
    let (mut b, b_addr) = node(12).await;
    let a_id = *a.local_peer_id();
    connect(&mut a, &mut b, &b_addr).await;
    assert!(b.behaviour().gossipsub.peer_score(&a_id).unwrap_or(0.0) >= 0.0);

    a.behaviour_mut()
        .gossipsub
        .publish(behaviour::topic(), b"not a batch".to_vec())
        .unwrap();
    drive(&mut [&mut a, &mut b], |i, swarm, e| match e {
        SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        })) if i == 1 => {
            assert!(GossipBatch::decode(&message.data).is_err());
            swarm.behaviour_mut().gossipsub.report_message_validation_result(
                &message_id,
                &propagation_source,
                MessageAcceptance::Reject,
            );
            Some(())
        }
        _ => None,
    })
    .await;
    let score = b.behaviour().gossipsub.peer_score(&a_id).unwrap();
    assert!(score <= -10.0, "score {score}");
}

/// Topology: `A ──── B`. A sends its inventory over `/mutu/sync/1`, B answers
/// with what differs; then A pulls a document's changes with
/// `ChangesSince` and admits them: both registries end with equal heads.
#[tokio::test]
async fn inventory_and_changes_round_trip_over_sync() {
    let (mut a, _) = node(21).await;
    let (mut b, b_addr) = node(22).await;
    let b_id = *b.local_peer_id();
    connect(&mut a, &mut b, &b_addr).await;

    // B holds one real document with a few changes; A holds nothing.
    let author = member_key(5);
    let doc_id = author.member_id();
    let mut b_registry = Registry::new();
    let signed = real_changes(&author, 4);
    let now = Timestamp(1_000_000);
    b_registry
        .admit(signed.clone(), now, Trust::Untrusted, |_| Ok::<(), ()>(()))
        .unwrap();
    let b_inventory: BTreeMap<MemberId, HeadsDigest> = b_registry
        .metas()
        .map(|(m, d)| (*m, sync::heads_digest(d.heads())))
        .collect();
    let a_inventory = BTreeMap::new();

    // Inventory.
    let request = Request::Inventory(sync::inventory_pages(&a_inventory).remove(0));
    let sent = a.behaviour_mut().sync.send_request(&b_id, request);
    let theirs = drive(&mut [&mut a, &mut b], |_, swarm, e| {
        let SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message { message, .. })) = e else {
            return None;
        };
        match message {
            Message::Request { request, channel, .. } => {
                request.check().unwrap();
                let Request::Inventory(entries) = request else {
                    panic!("{request:?}")
                };
                let answer = Response::Inventory(sync::inventory_response(&b_inventory, &entries));
                swarm.behaviour_mut().sync.send_response(channel, answer).unwrap();
                None
            }
            Message::Response { request_id, response } => {
                assert_eq!(request_id, sent);
                response.check().unwrap();
                let Response::Inventory(entries) = response else {
                    panic!("{response:?}")
                };
                Some(entries)
            }
        }
    })
    .await;
    let wanted = sync::diff_inventory(&a_inventory, &theirs);
    assert_eq!(wanted, vec![doc_id]);

    // Changes since our (empty) heads.
    let sent = a
        .behaviour_mut()
        .sync
        .send_request(&b_id, Request::changes_since(doc_id, &[]));
    let (changes, more) = drive(&mut [&mut a, &mut b], |_, swarm, e| {
        let SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message { message, .. })) = e else {
            return None;
        };
        match message {
            Message::Request { request, channel, .. } => {
                let Request::ChangesSince { doc, heads } = request else {
                    panic!("{request:?}")
                };
                let d = b_registry.doc(&doc).unwrap();
                let hashes = sync::changes_since(d, &sync::from_wire(&heads));
                // The test keeps the signed changes in order; a node reads them from its store.
                let by_hash = signed.iter().filter(|c| {
                    let h = automerge::Change::from_bytes(c.change_bytes().to_vec()).unwrap().hash();
                    hashes.contains(&h)
                });
                let answer = Response::changes_chunk(by_hash.cloned());
                swarm.behaviour_mut().sync.send_response(channel, answer).unwrap();
                None
            }
            Message::Response { request_id, response } => {
                assert_eq!(request_id, sent);
                let Response::Changes { changes, more } = response else {
                    panic!("{response:?}")
                };
                Some((changes, more))
            }
        }
    })
    .await;
    assert!(!more);
    assert_eq!(changes, signed);
    let mut a_registry = Registry::new();
    let report = a_registry
        .admit(changes, now, Trust::Untrusted, |_| Ok::<(), ()>(()))
        .unwrap();
    assert!(report.rejected.is_empty() && report.missing.is_empty());
    assert_eq!(
        a_registry.doc(&doc_id).unwrap().heads(),
        b_registry.doc(&doc_id).unwrap().heads()
    );
}

/// Topology: `A ──── B`, then A blocks B: the connection closes and neither
/// side can reconnect until A unblocks B.
#[tokio::test]
async fn blocking_a_peer_disconnects_it() {
    let (mut a, a_addr) = node(31).await;
    let (mut b, b_addr) = node(32).await;
    let (a_id, b_id) = (*a.local_peer_id(), *b.local_peer_id());
    connect(&mut a, &mut b, &b_addr).await;

    assert!(a.behaviour_mut().blocked.block_peer(b_id));
    let (mut a_closed, mut b_closed) = (false, false);
    drive(&mut [&mut a, &mut b], |i, _, e| {
        if let SwarmEvent::ConnectionClosed {
            peer_id,
            num_established: 0,
            ..
        } = e
        {
            match i {
                0 if peer_id == b_id => a_closed = true,
                1 if peer_id == a_id => b_closed = true,
                _ => {}
            }
        }
        (a_closed && b_closed).then_some(())
    })
    .await;
    assert!(!a.is_connected(&b_id));

    // A refuses to dial B...
    let opts = DialOpts::peer_id(b_id).addresses(vec![b_addr.clone()]).build();
    assert!(matches!(a.dial(opts), Err(DialError::Denied { .. })));
    // ...and refuses B's dial.
    b.dial(a_addr.clone()).unwrap();
    let (mut a_refused, mut b_failed) = (false, false);
    drive(&mut [&mut a, &mut b], |i, _, e| {
        match e {
            SwarmEvent::ConnectionEstablished { .. } if i == 0 => panic!("A accepted a blocked peer"),
            // B may see the transport-level connection before A denies it.
            SwarmEvent::ConnectionClosed { peer_id, .. } if i == 1 && peer_id == a_id => b_failed = true,
            SwarmEvent::OutgoingConnectionError { .. } if i == 1 => b_failed = true,
            SwarmEvent::IncomingConnectionError { .. } if i == 0 => a_refused = true,
            _ => {}
        }
        (a_refused && b_failed).then_some(())
    })
    .await;
    assert!(!a.is_connected(&b_id));

    // Unblocking heals.
    assert!(a.behaviour_mut().blocked.unblock_peer(b_id));
    a.dial(DialOpts::peer_id(b_id).addresses(vec![b_addr]).build()).unwrap();
    drive(&mut [&mut a, &mut b], |i, _, e| match e {
        SwarmEvent::ConnectionEstablished { peer_id, .. } if i == 0 && peer_id == b_id => Some(()),
        _ => None,
    })
    .await;
}

/// Topology: B accepts at most two incoming connections.
///
/// ```text
///   A1 ──► B ◄── A2
///          ▲
///          ╳ A3: refused while A1 and A2 are connected
/// ```
///
/// A3's dial is denied by the connection limits (B reports which limit);
/// A1 and B still exchange a sync request and its answer; once A2 leaves,
/// A3 gets in.
#[tokio::test]
async fn an_incoming_connection_over_the_limit_is_refused_while_sync_still_works() {
    let config = Config {
        max_established_incoming: 2,
        ..Config::for_tests()
    };
    let (mut b, b_addr) = node_with(61, &config).await;
    let (mut a1, _) = node(62).await;
    let (mut a2, _) = node(63).await;
    let (mut a3, _) = node(64).await;
    let (b_id, a3_id) = (*b.local_peer_id(), *a3.local_peer_id());
    connect(&mut a1, &mut b, &b_addr).await;
    connect(&mut a2, &mut b, &b_addr).await;

    a3.dial(b_addr.clone()).unwrap();
    let (mut denied, mut dropped) = (false, false);
    drive(&mut [&mut b, &mut a3], |i, _, e| {
        match e {
            SwarmEvent::ConnectionEstablished { peer_id, .. } if i == 0 && peer_id == a3_id => {
                panic!("B accepted a third incoming connection")
            }
            SwarmEvent::IncomingConnectionError {
                error: libp2p::swarm::ListenError::Denied { cause },
                ..
            } if i == 0 => {
                let exceeded = cause
                    .downcast::<libp2p::connection_limits::Exceeded>()
                    .expect("denied by the connection limits");
                assert_eq!(exceeded.limit(), 2);
                denied = true;
            }
            // A3 may see the connection up before B denies it.
            SwarmEvent::OutgoingConnectionError { .. } if i == 1 => dropped = true,
            SwarmEvent::ConnectionClosed { peer_id, .. } if i == 1 && peer_id == b_id => dropped = true,
            _ => {}
        }
        (denied && dropped).then_some(())
    })
    .await;
    assert!(!b.is_connected(&a3_id));

    // Honest sync between A1 and B is unaffected.
    let sent = a1.behaviour_mut().sync.send_request(
        &b_id,
        Request::Summary {
            digest: HeadsDigest([0; 32]),
            docs: 0,
        },
    );
    let answer = drive(&mut [&mut a1, &mut b], |_, swarm, e| {
        let SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message { message, .. })) = e else {
            return None;
        };
        match message {
            Message::Request { channel, .. } => {
                swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, Response::InSync)
                    .unwrap();
                None
            }
            Message::Response { request_id, response } => {
                assert_eq!(request_id, sent);
                Some(response)
            }
        }
    })
    .await;
    assert_eq!(answer, Response::InSync);

    // A2 leaves: room for A3.
    let a2_id = *a2.local_peer_id();
    assert!(b.disconnect_peer_id(a2_id).is_ok());
    drive(&mut [&mut b, &mut a2], |i, _, e| match e {
        SwarmEvent::ConnectionClosed { num_established: 0, .. } if i == 0 => Some(()),
        _ => None,
    })
    .await;
    connect(&mut a3, &mut b, &b_addr).await;
}

/// Topology: `A ──► B`, B's process over its memory limit (set to a
/// share of the machine no process fits in): B refuses the connection
/// and says why.
#[tokio::test]
async fn a_node_over_its_memory_limit_refuses_new_connections() {
    let config = Config {
        max_memory_share: 1e-12,
        ..Config::for_tests()
    };
    let (mut b, b_addr) = node_with(71, &config).await;
    let (mut a, _) = node(72).await;
    a.dial(b_addr).unwrap();
    let (mut denied, mut failed) = (false, false);
    drive(&mut [&mut b, &mut a], |i, _, e| {
        match e {
            SwarmEvent::ConnectionEstablished { .. } if i == 0 => {
                panic!("B accepted a connection over its memory limit")
            }
            SwarmEvent::IncomingConnectionError {
                error: libp2p::swarm::ListenError::Denied { cause },
                ..
            } if i == 0 => {
                cause
                    .downcast::<libp2p::memory_connection_limits::MemoryUsageLimitExceeded>()
                    .expect("denied by the memory limit");
                denied = true;
            }
            SwarmEvent::OutgoingConnectionError { .. } | SwarmEvent::ConnectionClosed { .. } if i == 1 => failed = true,
            _ => {}
        }
        (denied && failed).then_some(())
    })
    .await;
}

/// `n` real signed changes of `key`'s document, in order.
fn real_changes(key: &SecretKey, n: usize) -> Vec<SignedChange> {
    use automerge::transaction::{CommitOptions, Transactable};
    use automerge::{Automerge, ROOT, ReadDoc, ScalarValue};
    use mutu_protocol::identity::{self, ReplicaNonce};

    let mut am = Automerge::new();
    am.set_actor(identity::actor_id(&key.member_id(), &ReplicaNonce([1; 16])));
    (0..n)
        .map(|i| {
            let mut tx = am.transaction();
            tx.put(ROOT, format!("k{i}"), ScalarValue::Bytes(vec![i as u8]))
                .unwrap();
            let (hash, _) = tx.commit_with(CommitOptions::default().with_time(1_000));
            let change = am.get_change_by_hash(&hash.unwrap()).unwrap();
            SignedChange::sign(key, &change)
        })
        .collect()
}

#[test]
fn the_default_config_leaves_room_for_a_full_batch() {
    let c = Config::default();
    assert!(c.gossip_max_transmit > MAX_GOSSIP_BATCH_BYTES);
    assert!(c.mdns);
    assert!(!Config::for_tests().mdns);
}

#[tokio::test]
async fn the_production_swarm_builds_and_listens() {
    let mut swarm = build_swarm(keypair(41), &Config::for_tests()).unwrap();
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap()).unwrap();
    swarm
        .listen_on("/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap())
        .unwrap();
    let mut seen = Vec::new();
    drive(&mut [&mut swarm], |_, _, e| {
        if let SwarmEvent::NewListenAddr { address, .. } = e {
            seen.push(address.to_string());
        }
        (seen.iter().any(|a| a.contains("/tcp/")) && seen.iter().any(|a| a.contains("/quic-v1"))).then_some(())
    })
    .await;
}

/// What `from` reads when `to` answers a summary with `Response::Differ`.
async fn summary_answer(from: &mut Swarm<Behaviour>, to: &mut Swarm<Behaviour>, to_addr: &Multiaddr) -> Response {
    connect(from, to, to_addr).await;
    let to_id = *to.local_peer_id();
    let request = Request::Summary {
        digest: HeadsDigest([0; 32]),
        docs: 0,
    };
    from.behaviour_mut().sync.send_request(&to_id, request);
    drive(&mut [from, to], |_, swarm, e| {
        let SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message { message, .. })) = e else {
            return None;
        };
        match message {
            Message::Request { channel, .. } => {
                swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, Response::Differ)
                    .unwrap();
                None
            }
            Message::Response { response, .. } => Some(response),
        }
    })
    .await
}

/// Topology: `new ──── new` and `old ──── new` (old: `/mutu/sync/1` only).
/// Two new nodes agree on `/mutu/sync/2` (the answer `Differ` arrives as
/// is, through the zstd codec); an old node gets `/mutu/sync/1` and reads
/// the same answer as `OutOfSync`, which it knows.
#[tokio::test]
async fn nodes_negotiate_the_newest_sync_protocol_both_speak() {
    let (mut a, _) = node(41).await;
    let (mut b, b_addr) = node(42).await;
    assert_eq!(summary_answer(&mut a, &mut b, &b_addr).await, Response::Differ);

    let old = Config {
        sync_v2: false,
        ..Config::for_tests()
    };
    let (mut c, _) = node_with(43, &old).await;
    let (mut d, d_addr) = node(44).await;
    assert_eq!(summary_answer(&mut c, &mut d, &d_addr).await, Response::OutOfSync);
}
