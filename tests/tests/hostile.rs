#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 7, rows 1–5, over the real network path: crafted changes sent by
//! gossip and inside sync answers by malicious peers, and two honest nodes
//! holding two histories of one member. The honest nodes must stay up, keep
//! each other as peers, keep converging, and keep what waits for
//! dependencies within the pending buffer's bounds (the memory bound this
//! test checks: `registry::MAX_PENDING_SOURCE_BYTES` per sender).
//!
//! Every crafted change is validly signed by its (throw-away) member: the
//! attacks get past the signature check, as a real attacker's would.

use std::collections::BTreeMap;

use mutu_node::net::sync::{GossipBatch, Request};
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::ReplicaNonce;
use mutu_protocol::registry;
use mutu_protocol::{MemberId, SecretKey, SignedChange, Timestamp};
use mutu_tests::craft;
use mutu_tests::mal::{MalNode, forged_inventory};
use mutu_tests::net::{
    TIMEOUT, TestNode, VIEWS_NOW, connect, member_changes, need, pledge, seeded_bytes, wait_converged, wait_for,
};

/// When the crafted changes say they were written.
const WRITTEN_AT: Timestamp = Timestamp::from_millis(1_767_225_600_000);

/// A valid first change of the member of `seed`: one need.
fn first_change(seed: &[u8; 32], label: &str) -> SignedChange {
    let key = SecretKey::from_bytes(seed);
    let (changes, _) = member_changes(
        &key,
        ReplicaNonce([1; 16]),
        vec![vec![need(&format!("{label}: a need"))]],
        WRITTEN_AT,
        label,
    );
    changes[0].clone()
}

/// The row 1 and row 2 attacks, each a change of its own throw-away member
/// (`label`, 0..6), all validly signed.
fn crafted(label: &str) -> Vec<(&'static str, SignedChange)> {
    let seed = |i: u64| seeded_bytes::<32>(label, i);
    let other = SecretKey::from_bytes(&seed(100)).member_id();
    let foreign = mutu_protocol::identity::actor_id(&other, &ReplicaNonce([1; 16]))
        .to_bytes()
        .to_vec();
    vec![
        (
            "an unknown replica in the header",
            craft::with_unknown_replica(&seed(0), &first_change(&seed(0), label)),
        ),
        (
            "another member's actor in the header",
            craft::with_extra_actor(&seed(1), &first_change(&seed(1), label), &foreign),
        ),
        (
            "a deflated change",
            craft::deflated(&{
                // Large enough for automerge to compress it.
                let key = SecretKey::from_bytes(&seed(2));
                let mut body = need("deflated");
                if let mutu_protocol::record::Body::Need(n) = &mut body {
                    n.description = "padding ".repeat(1_000);
                }
                member_changes(&key, ReplicaNonce([1; 16]), vec![vec![body]], WRITTEN_AT, label).0[0].clone()
            }),
        ),
        (
            "an 8 MiB inflation bomb",
            craft::inflation_bomb(&seed(3), 8 << 20, WRITTEN_AT),
        ),
        ("a 100 KiB value", craft::big_value(&seed(4), 100 * 1024, WRITTEN_AT)),
        (
            "a million operations declared in 300 bytes",
            craft::op_bomb(&seed(5), &first_change(&seed(5), label), 1_000_000),
        ),
    ]
}

async fn holds_doc(node: &TestNode, member: MemberId) -> bool {
    node.handle()
        .test(move |s, _| s.registry().doc(&member).is_some())
        .await
        .unwrap()
}

/// Topology: two honest nodes and four malicious peers, each dialling a:
///
/// ```text
///   g1  g2        gossip attackers (three crafted batches each)
///     \ |
///       a ──── b
///     / |
///   s1  s2        sync attackers (crafted changes in their answers)
///       |
///   f             a flood of 10 050 orphans (valid, missing dependencies)
///   t             a change signed with a torsion component (valid)
/// ```
///
/// Each attacker that sends crafted changes gets three strikes and is
/// blocked; the flooder only fills its own share of a's pending buffer (no
/// strike: waiting changes prove nothing); the torsion-signed change is
/// admitted by a and reaches b, and both agree on it. Through it all a and
/// b stay connected, and honest writes on either reach the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crafted_changes_by_gossip_and_sync_never_hurt_honest_nodes() {
    let a = TestNode::spawn(0, "a").await;
    let b = TestNode::spawn(1, "b").await;
    connect(&a, &b).await;
    let attacks_g = crafted("gossip attack");
    let attacks_s = crafted("sync attack");
    let attackers: Vec<MalNode> = (20..26).map(MalNode::spawn).collect();
    for m in &attackers {
        m.dial(a.addr.clone()).await;
    }
    let a_id = a.peer_id;
    for m in &attackers {
        let id = m.peer_id;
        wait_for(TIMEOUT, "an attacker to connect to a and see it subscribed", || async {
            m.run(move |_, mal| mal.log.subscribed.contains(&a_id)).await && a.is_connected(id).await
        })
        .await;
    }
    let [g1, g2, s1, s2, f, t] = &attackers[..] else {
        unreachable!()
    };

    // Gossip: three crafted batches from each of g1 and g2.
    for (m, attacks) in [(g1, &attacks_g[..3]), (g2, &attacks_g[3..])] {
        for (what, c) in attacks {
            eprintln!("gossip: {what}");
            m.publish(GossipBatch {
                doc: c.doc(),
                changes: vec![c.clone()],
            })
            .await;
        }
    }
    // Sync: s1 and s2 claim documents and answer pulls with crafted changes.
    for (m, attacks) in [(s1, &attacks_s[..3]), (s2, &attacks_s[3..])] {
        let by_doc: BTreeMap<MemberId, Vec<SignedChange>> =
            attacks.iter().map(|(_, c)| (c.doc(), vec![c.clone()])).collect();
        let inventory = forged_inventory(&by_doc);
        m.run(move |s, mal| {
            mal.forge_sync = Some(by_doc);
            s.behaviour_mut()
                .sync
                .send_request(&a_id, Request::Inventory(inventory));
        })
        .await;
    }
    for m in [g1, g2, s1, s2] {
        let id = m.peer_id;
        wait_for(TIMEOUT, "a to block an attacker after three strikes", || async {
            !a.is_connected(id).await
        })
        .await;
    }
    for (what, c) in attacks_g.iter().chain(&attacks_s) {
        assert!(!holds_doc(&a, c.doc()).await, "a admitted {what}");
        assert!(!holds_doc(&b, c.doc()).await, "b admitted {what}");
    }

    // A flood of validly signed changes with made-up dependencies, over 50
    // throw-away members: f fills its own share, and is not struck.
    let valid: Vec<([u8; 32], SignedChange)> = (0..50u64)
        .map(|i| {
            let seed = seeded_bytes::<32>("flood", i);
            (seed, first_change(&seed, "flood"))
        })
        .collect();
    for round in 0..201u64 {
        for (seed, c) in &valid {
            let o = craft::orphan(seed, c, round);
            // One message per change: a batch would hold one member's.
            f.publish(GossipBatch {
                doc: o.doc(),
                changes: vec![o],
            })
            .await;
        }
    }
    wait_for(TIMEOUT * 3, "a to fill the flooder's pending share", || async {
        a.status().await.pending >= registry::MAX_PENDING_SOURCE_CHANGES
    })
    .await;
    let status = a.status().await;
    assert_eq!(status.pending, registry::MAX_PENDING_SOURCE_CHANGES, "{status:?}");
    let pending_bytes = a.handle().test(|s, _| s.registry().pending_bytes()).await.unwrap();
    assert!(
        pending_bytes <= registry::MAX_PENDING_SOURCE_BYTES,
        "{pending_bytes} bytes waiting"
    );
    assert!(a.is_connected(f.peer_id).await, "waiting changes are no strike");

    // A change signed with a torsion component: valid by the one rule, on
    // every node alike.
    let t_seed = seeded_bytes::<32>("torsion", 0);
    let odd = craft::torsion_resigned(&t_seed, &first_change(&t_seed, "torsion"));
    t.publish(GossipBatch {
        doc: odd.doc(),
        changes: vec![odd.clone()],
    })
    .await;
    for node in [&a, &b] {
        wait_for(
            TIMEOUT,
            &format!("{} to admit the torsion-signed change", node.name),
            || async { holds_doc(node, odd.doc()).await },
        )
        .await;
    }

    // The honest nodes kept each other and keep converging.
    assert!(a.is_connected(b.peer_id).await && b.is_connected(a.peer_id).await);
    let need_a = a.create(need("after the attacks")).await;
    let pledge_b = {
        wait_for(TIMEOUT, "a's need on b", || async { b.has(need_a).await }).await;
        b.create(pledge(need_a, "10EUR")).await
    };
    wait_for(TIMEOUT, "b's pledge on a", || async { a.has(pledge_b).await }).await;
    wait_converged(&[&a, &b], VIEWS_NOW, TIMEOUT).await;
}

/// Two honest nodes, each holding another history of member Q (Q restored
/// a backup without a new replica, or equivocated on purpose):
///
/// ```text
///   a (history A of Q) ──── b (history B of Q)
/// ```
///
/// They must not blame each other: after several anti-entropy passes both
/// still hold the connection, each keeps the proof (both signed changes),
/// and everything else still syncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_histories_of_a_member_are_its_fault_not_the_relaying_peers() {
    let a = TestNode::spawn(2, "a").await;
    let b = TestNode::spawn(3, "b").await;
    let q = SecretKey::from_bytes(&seeded_bytes::<32>("equivocator", 0));
    let replica = ReplicaNonce([7; 16]);
    let empty = MemberDoc::new(q.member_id());
    let record = |title: &str, n: u64| {
        mutu_protocol::Record::new(
            q.member_id(),
            seeded_bytes("equivocator record", n),
            WRITTEN_AT,
            need(title),
        )
        .sign(&q)
        .unwrap()
    };
    let history_a = empty
        .write(&q, &replica, &[record("history A", 1)], WRITTEN_AT)
        .unwrap();
    let history_b = empty
        .write(&q, &replica, &[record("history B", 2)], WRITTEN_AT)
        .unwrap();
    for (node, change) in [(&a, history_a), (&b, history_b)] {
        let report = node
            .handle()
            .test(move |s, _| s.admit(vec![change], mutu_node::state::now()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(report.admitted.len(), 1);
    }
    connect(&a, &b).await;
    for node in [&a, &b] {
        wait_for(TIMEOUT, &format!("{} to keep the evidence", node.name), || async {
            let member = q.member_id();
            node.handle()
                .with_snapshot(move |s| s.equivocations(&member).map(|e| e.len()).unwrap_or(0))
                .await
                .unwrap()
                > 0
        })
        .await;
    }
    // Several more passes (the harness syncs every second): still peers.
    let passes = a.status().await.sync_passes;
    wait_for(TIMEOUT, "three more anti-entropy passes on a", || async {
        a.status().await.sync_passes >= passes + 3
    })
    .await;
    assert!(a.is_connected(b.peer_id).await && b.is_connected(a.peer_id).await);
    for node in [&a, &b] {
        let member = q.member_id();
        let evidence = node
            .handle()
            .with_snapshot(move |s| s.equivocations(&member))
            .await
            .unwrap()
            .unwrap();
        let e = &evidence[0];
        assert_eq!(e.seq, 1);
        assert_ne!(e.kept, e.other, "two different changes");
        assert_eq!((e.kept.doc(), e.other.doc()), (member, member));
    }
    let need_b = b.create(need("still syncing")).await;
    wait_for(TIMEOUT, "b's need on a", || async { a.has(need_b).await }).await;
}

/// A home whose store holds a change automerge cannot apply (stored by a
/// version of mutu that admitted it, or damaged later) still opens and its
/// node still runs: the change is skipped and logged, the rest is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_home_that_stored_an_unapplicable_change_still_starts() {
    let mut a = TestNode::spawn(4, "a").await;
    let kept = a.create(need("written before the bad change")).await;
    a.stop().await;
    {
        let state = a.open_offline();
        let me = state.member_id();
        let seed = seeded_bytes::<32>("node", a.n);
        assert_eq!(SecretKey::from_bytes(&seed).member_id(), me, "the harness's key");
        // The member's next change, naming an unknown replica, written
        // straight into the store as an old version would have.
        let doc = state.registry().doc(&me).cloned().unwrap();
        let record = mutu_protocol::Record::new(me, seeded_bytes("bad record", 0), WRITTEN_AT, need("bad"))
            .sign(state.secret_key())
            .unwrap();
        let next = doc
            .write(state.secret_key(), &ReplicaNonce([3; 16]), &[record], WRITTEN_AT)
            .unwrap();
        let bad = craft::with_unknown_replica(&seed, &next);
        let hash = bad.decode().unwrap().hash();
        let admitted = mutu_protocol::admission::Admitted { change: bad, hash };
        state.store().put_changes(&[admitted]).unwrap();
    }
    a.restart().await;
    assert!(a.has(kept).await, "what was stored before is still there");
    let after = a.create(need("written after the restart")).await;
    assert!(a.has(after).await);
}
