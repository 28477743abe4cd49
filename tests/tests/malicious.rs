#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A malicious peer among honest nodes: nothing it forges is admitted, the
//! honest nodes penalise it, block it and keep talking to each other.
//!
//! The malicious peer is a raw swarm (the node's own behaviour, its own key)
//! driven by a task of this test: it publishes forged gossip batches and
//! answers `/mutu/sync/1` requests with forged changes, on the test's cue.

use std::collections::BTreeMap;
use std::time::Instant;

use ed25519_dalek::Signer;
use libp2p::PeerId;
use libp2p::swarm::DialError;
use libp2p::swarm::dial_opts::DialOpts;
use mutu_node::net::sync::{GossipBatch, Request};
use mutu_protocol::change::signed_message;
use mutu_protocol::identity::ReplicaNonce;
use mutu_protocol::record::RecordId;
use mutu_protocol::{MemberId, SignedChange, Timestamp};
use mutu_tests::mal::{MalNode, forged_inventory};
use mutu_tests::net::{
    TIMEOUT, TestNode, VIEWS_NOW, connect_all, member_changes, member_key, memory_addr, need, pledge, seeded_bytes,
    wait_converged, wait_for,
};

/// The forgeries, with the ids of the records they carry.
struct Forgeries {
    /// A change of honest b's document (made with b's actor, carrying a
    /// record validly signed by b), its change signature made with the
    /// malicious key.
    wrong_key: SignedChange,
    /// A valid change of an offline member V with one byte flipped.
    tampered: SignedChange,
    /// A valid change of an offline member X presented as a change of
    /// honest a's document.
    replayed: SignedChange,
    /// Every record inside the forged changes.
    records: Vec<RecordId>,
    /// Members whose only changes ever sent are forged.
    victims: Vec<MemberId>,
}

fn forgeries(mal_n: u64, a: &TestNode, b: &TestNode) -> Forgeries {
    let written_at = Timestamp::from_millis(1_767_225_600_000);
    let mut records = Vec::new();

    // b's key is known to the test (seeded): the record inside is genuinely
    // b's, only the change signature is not.
    let b_key = member_key("node", b.n);
    let fake_replica = ReplicaNonce(seeded_bytes("forged replica", 0));
    let (changes, ids) = member_changes(
        &b_key,
        fake_replica,
        vec![vec![need("forged: signed by the wrong key")]],
        written_at,
        "forged wrong key",
    );
    records.extend(ids);
    let hash = changes[0].decode().unwrap().hash();
    let mal_key = ed25519_dalek::SigningKey::from_bytes(&seeded_bytes("malicious", mal_n));
    let sig = mal_key.sign(&signed_message(&b.member, &hash)).to_bytes();
    let wrong_key = SignedChange::from_parts(b.member, changes[0].change_bytes().to_vec(), sig);

    let v = member_key("victim", 0);
    let (changes, ids) = member_changes(
        &v,
        ReplicaNonce(seeded_bytes("victim replica", 0)),
        vec![vec![need("forged: tampered")]],
        written_at,
        "forged tampered",
    );
    records.extend(ids);
    let mut bytes = changes[0].change_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let tampered = SignedChange::from_parts(v.member_id(), bytes, *changes[0].sig_bytes());

    let x = member_key("victim", 1);
    let (changes, ids) = member_changes(
        &x,
        ReplicaNonce(seeded_bytes("victim replica", 1)),
        vec![vec![need("forged: replayed into another document")]],
        written_at,
        "forged replay",
    );
    records.extend(ids);
    let replayed = SignedChange::from_parts(a.member, changes[0].change_bytes().to_vec(), *changes[0].sig_bytes());

    Forgeries {
        wrong_key,
        tampered,
        replayed,
        records,
        victims: vec![v.member_id(), x.member_id()],
    }
}

async fn rejected(node: &TestNode) -> u64 {
    node.status().await.rejected
}

async fn score(node: &TestNode, peer: PeerId) -> f64 {
    node.handle()
        .test(move |_, s| s.behaviour().gossipsub.peer_score(&peer).unwrap_or(0.0))
        .await
        .unwrap()
}

/// Topology: three honest nodes, fully connected, and a malicious peer m
/// that dials a and b:
///
/// ```text
///          m   (raw swarm driven by the test)
///         ╱ ╲
///        a ─ b
///         ╲ ╱
///          c
/// ```
///
/// 1. Gossip: m publishes a batch for b's document signed with m's key,
///    then a batch replaying member X's valid change as a change of a's
///    document. a and b reject both (two strikes each) and m's gossipsub
///    score drops below zero at both.
/// 2. Sync: m sends a and b an inventory claiming a document of member V;
///    they pull it from m, and m answers with the tampered change of V plus
///    the wrongly signed change and the replay (strays in an answer about
///    V). All three are rejected; the third strike blocks m at both: they
///    drop the connection, refuse to dial m and refuse m's dial.
/// 3. None of the forged records is in any honest index; c, never
///    connected to m, saw no forgery (rejected gossip is not forwarded);
///    honest writes still reach every honest node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_changes_are_never_admitted_and_their_sender_is_blocked() {
    let started = Instant::now();
    let a = TestNode::spawn(0, "a").await;
    let b = TestNode::spawn(1, "b").await;
    let c = TestNode::spawn(2, "c").await;
    connect_all(&[&a, &b, &c]).await;
    let mal_n = 9;
    let m = MalNode::spawn(mal_n);
    // m answers no Kademlia queries (client mode), so honest nodes do not
    // list it for each other: c cannot find m and dial it (it did, now and
    // then, through a's or b's routing table).
    m.run(|s, _| s.behaviour_mut().kad.set_mode(Some(libp2p::kad::Mode::Client)))
        .await;
    let forged = forgeries(mal_n, &a, &b);

    m.dial(a.addr.clone()).await;
    m.dial(b.addr.clone()).await;
    let (a_id, b_id, m_id) = (a.peer_id, b.peer_id, m.peer_id);
    wait_for(TIMEOUT, "m to connect to a and b and see them subscribed", || async {
        let ready = m
            .run(move |_, mal| mal.log.subscribed.contains(&a_id) && mal.log.subscribed.contains(&b_id))
            .await;
        ready && a.is_connected(m_id).await && b.is_connected(m_id).await
    })
    .await;

    // 1. Forged gossip.
    m.publish(GossipBatch {
        doc: b.member,
        changes: vec![forged.wrong_key.clone()],
    })
    .await;
    wait_for(TIMEOUT, "a and b to reject the wrongly signed batch", || async {
        rejected(&a).await >= 1 && rejected(&b).await >= 1
    })
    .await;
    m.publish(GossipBatch {
        doc: a.member,
        changes: vec![forged.replayed.clone()],
    })
    .await;
    wait_for(TIMEOUT, "a and b to reject the replayed batch", || async {
        rejected(&a).await >= 2 && rejected(&b).await >= 2
    })
    .await;
    for node in [&a, &b] {
        let s = score(node, m_id).await;
        assert!(s < 0.0, "m's gossip score at {} is {s}", node.name);
        assert!(node.is_connected(m_id).await, "two strikes do not block yet");
    }

    // 2. Forged sync answers, on m's cue: an inventory of documents that a
    // and b will pull from m.
    // One document, V, whose pull is answered with all three forgeries
    // (two of them strays: changes of other documents than the one asked).
    let mut by_doc: BTreeMap<MemberId, Vec<SignedChange>> = BTreeMap::new();
    by_doc.insert(
        forged.tampered.doc(),
        vec![
            forged.tampered.clone(),
            forged.wrong_key.clone(),
            forged.replayed.clone(),
        ],
    );
    let inventory = forged_inventory(&by_doc);
    m.run(move |s, mal| {
        mal.forge_sync = Some(by_doc);
        for peer in [a_id, b_id] {
            s.behaviour_mut()
                .sync
                .send_request(&peer, Request::Inventory(inventory.clone()));
        }
    })
    .await;
    wait_for(TIMEOUT, "a and b to block m", || async {
        !a.is_connected(m_id).await && !b.is_connected(m_id).await
    })
    .await;
    assert!(m.run(|_, mal| mal.log.forged_responses).await > 0);
    for node in [&a, &b] {
        // Two gossip batches of one change, then the three changes of the
        // sync answer, each rejected.
        let r = rejected(node).await;
        assert!(r >= 5, "{} rejected {r} changes", node.name);
        let s = score(node, m_id).await;
        assert!(s < 0.0, "m's gossip score at {} is {s}", node.name);
        // The honest node refuses to dial m...
        let dial = node
            .handle()
            .test(move |_, s| s.dial(DialOpts::peer_id(m_id).addresses(vec![memory_addr(mal_n)]).build()))
            .await
            .unwrap();
        assert!(matches!(dial, Err(DialError::Denied { .. })), "{}: {dial:?}", node.name);
    }
    // ...and m's own re-dial fails.
    for node in [&a, &b] {
        let peer = node.peer_id;
        let lost_before = m.run(move |_, mal| mal.log.lost.get(&peer).copied().unwrap_or(0)).await;
        m.dial(node.addr.clone()).await;
        wait_for(TIMEOUT, &format!("{} to refuse m's dial", node.name), || async {
            m.run(move |_, mal| mal.log.lost.get(&peer).copied().unwrap_or(0)).await > lost_before
        })
        .await;
        assert!(!node.is_connected(m_id).await, "{} let m back in", node.name);
    }

    // 3. Nothing forged got in anywhere.
    for node in [&a, &b, &c] {
        assert!(node.has_none(&forged.records).await, "{} admitted a forgery", node.name);
        let victims = forged.victims.clone();
        let docs = node
            .handle()
            .test(move |s, _| victims.iter().filter(|v| s.registry().doc(v).is_some()).count())
            .await
            .unwrap();
        assert_eq!(docs, 0, "{} holds a victim's document", node.name);
        assert_eq!(node.status().await.pending, 0);
    }
    assert_eq!(rejected(&c).await, 0, "c never heard from m");
    assert!(!c.is_connected(m_id).await);

    // Honest traffic still flows.
    let need_c = c.create(need("honest need after the attack")).await;
    wait_for(TIMEOUT, "c's need on a", || async { a.has(need_c).await }).await;
    let pledge_a = a.create(pledge(need_c, "10EUR")).await;
    for node in [&a, &b, &c] {
        wait_for(TIMEOUT, &format!("the honest writes on {}", node.name), || async {
            node.has_all(&[need_c, pledge_a]).await
        })
        .await;
    }
    wait_converged(&[&a, &b, &c], VIEWS_NOW, TIMEOUT).await;
    eprintln!(
        "malicious test done in {:?}; rejected: a {}, b {}",
        started.elapsed(),
        rejected(&a).await,
        rejected(&b).await
    );
}
