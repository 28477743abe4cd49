#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Issue 9: trust-scoped replication over the real network path. A peer
//! floods nodes with validly signed documents of generated members (a Sybil
//! flood), by gossip and by sync: a `trusted` node stores none of them, an
//! `open` node no more than its quotas; honest writes between trusted
//! members still propagate; the policy holds across a restart.
//!
//! Scale: [`SYBILS`] members with [`RECORDS`] records each (one change per
//! member), where the issue says 10 000 × 10: the mechanism is per change
//! and per document, the scale only makes the run longer (this one runs in
//! well under a minute on the 2-core build machine).

use std::collections::BTreeMap;

use mutu_node::actor;
use mutu_node::net::sync::{GossipBatch, Request};
use mutu_node::ops;
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::ReplicaNonce;
use mutu_protocol::record::Body;
use mutu_protocol::trust::{self, Policy, Quotas, Scope};
use mutu_protocol::{MemberId, Record, SecretKey, SignedChange, Timestamp};
use mutu_tests::mal::{MalNode, forged_inventory};
use mutu_tests::net::{TIMEOUT, TestNode, connect, member_changes, need, pledge, profile, seeded_bytes, wait_for};

/// Generated members in the flood.
const SYBILS: u64 = 2_000;
/// Records per generated member.
const RECORDS: usize = 5;
/// When the flood's records say they were written.
const WRITTEN_AT: Timestamp = Timestamp::from_millis(1_767_225_600_000);

/// The flood: each generated member's document as one signed change of
/// [`RECORDS`] needs, by member.
fn sybils(label: &str) -> BTreeMap<MemberId, Vec<SignedChange>> {
    (0..SYBILS)
        .map(|i| {
            let key = SecretKey::from_bytes(&seeded_bytes::<32>(label, i));
            let me = key.member_id();
            let records: Vec<_> = (0..RECORDS as u64)
                .map(|r| {
                    let nonce = seeded_bytes(label, i * 1_000 + r);
                    Record::new(me, nonce, WRITTEN_AT, need(&format!("sybil {i} need {r}")))
                        .sign(&key)
                        .unwrap()
                })
                .collect();
            let change = MemberDoc::new(me)
                .write(&key, &ReplicaNonce([1; 16]), &records, WRITTEN_AT)
                .unwrap();
            (me, vec![change])
        })
        .collect()
}

fn with_policy(policy: Policy) -> actor::Config {
    actor::Config {
        sync_interval: mutu_tests::net::SYNC_INTERVAL,
        policy,
        ..actor::Config::default()
    }
}

async fn replication(node: &TestNode) -> actor::Replication {
    node.status().await.replication.expect("a running node says its policy")
}

/// Documents `node` holds among `members`.
async fn held(node: &TestNode, members: Vec<MemberId>) -> usize {
    node.handle()
        .test(move |s, _| members.iter().filter(|m| s.registry().doc(m).is_some()).count())
        .await
        .unwrap()
}

/// `m` dials `node` and both see each other (gossip subscription included).
async fn attach(m: &MalNode, node: &TestNode) {
    m.dial(node.addr.clone()).await;
    let (node_id, mal_id) = (node.peer_id, m.peer_id);
    wait_for(
        TIMEOUT,
        "the flooder to connect and see the node subscribed",
        || async {
            m.run(move |_, mal| mal.log.subscribed.contains(&node_id)).await && node.is_connected(mal_id).await
        },
    )
    .await;
}

/// Floods `node` from `m`: every document by gossip (one message per
/// member), then an inventory claiming them all, whose pulls `m` answers.
async fn flood(m: &MalNode, node: &TestNode, docs: &BTreeMap<MemberId, Vec<SignedChange>>) {
    for (doc, changes) in docs {
        m.publish(GossipBatch {
            doc: *doc,
            changes: changes.clone(),
        })
        .await;
    }
    let by_doc = docs.clone();
    let inventory = forged_inventory(&by_doc);
    let target = node.peer_id;
    m.run(move |s, mal| {
        mal.forge_sync = Some(by_doc);
        s.behaviour_mut()
            .sync
            .send_request(&target, Request::Inventory(inventory));
    })
    .await;
}

/// Topology:
///
/// ```text
///   m ──▶ t ──── h        t: scope trusted, follows h
///          (restart)      m: floods t with 2 000 generated members
/// ```
///
/// t stores none of the flood (gossip: every change turned away, counted;
/// sync: nothing pulled), while h's writes still reach t and t's reach h.
/// After a restart from its home t still trusts h (the follow is a record
/// it holds) and turns away a second flood.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_node_stores_none_of_a_sybil_flood_and_keeps_its_policy_across_a_restart() {
    let policy = Policy {
        scope: Scope::Trusted,
        ..Policy::default()
    };
    let mut t = TestNode::spawn_with(0, "t", with_policy(policy)).await;
    let h = TestNode::spawn(1, "h").await;
    connect(&t, &h).await;
    t.handle()
        .apply(
            ops::Follow {
                member: h.member.to_string(),
            }
            .into(),
            mutu_node::state::now(),
        )
        .await
        .unwrap()
        .unwrap();
    let before = h.create(need("written before the flood")).await;
    wait_for(TIMEOUT, "h's need on t, once t follows h", || async {
        t.has(before).await
    })
    .await;
    assert_eq!(replication(&t).await.trusted, 2);

    let docs = sybils("sybil");
    let members: Vec<MemberId> = docs.keys().copied().collect();
    let m = MalNode::spawn(20);
    attach(&m, &t).await;
    flood(&m, &t, &docs).await;
    wait_for(
        TIMEOUT * 3,
        "t to take or turn away every gossiped sybil change",
        || async { replication(&t).await.ignored.untrusted + held(&t, members.clone()).await as u64 >= SYBILS },
    )
    .await;
    // Honest writes still propagate, both ways, during and after the flood.
    let during = h.create(need("written during the flood")).await;
    wait_for(TIMEOUT, "h's need on t", || async { t.has(during).await }).await;
    let from_t = t.create(need("t's own")).await;
    wait_for(TIMEOUT, "t's need on h", || async { h.has(from_t).await }).await;
    assert_eq!(held(&t, members.clone()).await, 0, "t stored sybil documents");
    let status = t.status().await;
    assert_eq!(status.documents, 2, "{status:?}");
    assert_eq!(status.replication.as_ref().map(|r| r.scope), Some(Scope::Trusted));
    assert!(t.is_connected(m.peer_id).await, "turning a stranger away is no strike");

    // A restart: same home, same policy; the trust set comes back from the store.
    t.stop().await;
    t.restart().await;
    connect(&t, &h).await;
    assert_eq!(replication(&t).await.trusted, 2);
    let second = sybils("second sybil");
    let m2 = MalNode::spawn(21);
    attach(&m2, &t).await;
    flood(&m2, &t, &second).await;
    let second_members: Vec<MemberId> = second.keys().copied().collect();
    wait_for(
        TIMEOUT * 3,
        "t to take or turn away the second flood after its restart",
        || async { replication(&t).await.ignored.untrusted + held(&t, second_members.clone()).await as u64 >= SYBILS },
    )
    .await;
    let after = h.create(need("written after the restart")).await;
    wait_for(TIMEOUT, "h's need on the restarted t", || async { t.has(after).await }).await;
    let all: Vec<MemberId> = members.into_iter().chain(second.keys().copied()).collect();
    assert_eq!(held(&t, all).await, 0, "the restarted t stored sybil documents");
    assert_eq!(t.status().await.documents, 2);
}

/// Topology:
///
/// ```text
///   m ──▶ o ──── h        o: scope open, small quotas for strangers
///                          m: floods o with 2 000 generated members
/// ```
///
/// o takes strangers' documents only within its quotas: at most
/// `docs_per_peer_hour` new documents from each of its peers (h may relay
/// what o forwarded to it, or what it got from m if it found m through
/// Kademlia), and strangers' bytes within `stranger_bytes` (the binding
/// bound here: about 28 of the generated documents); what is past them is
/// counted. h's writes still reach o.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_node_stores_no_more_of_a_sybil_flood_than_its_quotas() {
    let quotas = Quotas {
        docs_per_peer_hour: 20,
        changes_per_doc: 4,
        bytes_per_doc: 16 * 1024,
        stranger_bytes: 100 * 1024,
        ..Quotas::default()
    };
    let policy = Policy {
        scope: Scope::Open,
        hops: trust::DEFAULT_HOPS,
        quotas,
    };
    let o = TestNode::spawn_with(2, "o", with_policy(policy)).await;
    let h = TestNode::spawn(3, "h").await;
    connect(&o, &h).await;
    let docs = sybils("open sybil");
    let members: Vec<MemberId> = docs.keys().copied().collect();
    let m = MalNode::spawn(22);
    attach(&m, &o).await;
    flood(&m, &o, &docs).await;
    wait_for(
        TIMEOUT * 3,
        "o to take or turn away every gossiped sybil document",
        || async { replication(&o).await.ignored.total() + held(&o, members.clone()).await as u64 >= SYBILS },
    )
    .await;
    let during = h.create(need("written during the flood")).await;
    wait_for(TIMEOUT, "h's need on o", || async { o.has(during).await }).await;
    let stored = held(&o, members).await;
    let r = replication(&o).await;
    assert!(
        stored <= 2 * quotas.docs_per_peer_hour as usize,
        "o stored {stored} sybil documents: {r:?}"
    );
    assert!(r.ignored.total() >= SYBILS - stored as u64, "{r:?}");
    assert!(stored > 0, "an open node takes strangers within its quotas: {r:?}");
    assert!(r.stranger_bytes <= quotas.stranger_bytes, "{r:?}");
    // h came in as a stranger too (o follows nobody), under the same quotas:
    // its document is o's, m's are the rest.
    let status = o.status().await;
    assert!(status.documents <= stored + 2, "{status:?}");
    assert!(o.is_connected(m.peer_id).await, "a quota is no strike");
}

/// Topology:
///
/// ```text
///   m ──▶ t ──── h        t: scope trusted, follows h; h posts a need
/// ```
///
/// m gossips two strangers' documents, each a profile then a statement:
/// s pledges on h's need (an answer to the trust set), x posts a need of
/// its own. t takes s's whole document into its inbox (the pledge depends
/// on the profile) and shows the pledge on h's need; it turns x away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_pledge_on_a_trusted_need_lands_in_the_inbox() {
    let policy = Policy {
        scope: Scope::Trusted,
        ..Policy::default()
    };
    let t = TestNode::spawn_with(5, "t", with_policy(policy)).await;
    let h = TestNode::spawn(6, "h").await;
    connect(&t, &h).await;
    t.handle()
        .apply(
            ops::Follow {
                member: h.member.to_string(),
            }
            .into(),
            mutu_node::state::now(),
        )
        .await
        .unwrap()
        .unwrap();
    let wanted = h.create(need("wanted")).await;
    wait_for(TIMEOUT, "h's need on t", || async { t.has(wanted).await }).await;

    let s = SecretKey::from_bytes(&seeded_bytes::<32>("stranger", 0));
    let x = SecretKey::from_bytes(&seeded_bytes::<32>("stranger", 1));
    let (s_changes, s_ids) = member_changes(
        &s,
        ReplicaNonce([1; 16]),
        vec![vec![Body::Profile(profile("Newcomer"))], vec![pledge(wanted, "100EUR")]],
        WRITTEN_AT,
        "stranger s",
    );
    let (x_changes, x_ids) = member_changes(
        &x,
        ReplicaNonce([1; 16]),
        vec![vec![Body::Profile(profile("Unrelated"))], vec![need("unrelated")]],
        WRITTEN_AT,
        "stranger x",
    );
    let m = MalNode::spawn(23);
    attach(&m, &t).await;
    for (doc, changes) in [(x.member_id(), x_changes), (s.member_id(), s_changes)] {
        m.publish(GossipBatch { doc, changes }).await;
    }
    wait_for(TIMEOUT, "s's pledge on t", || async { t.has(s_ids[1]).await }).await;
    let r = replication(&t).await;
    assert_eq!(r.inbox, vec![s.member_id()], "{r:?}");
    assert!(t.has_none(&x_ids).await, "t took a stranger that answers nobody: {r:?}");
    assert!(r.ignored.untrusted >= 2, "{r:?}");
    // The pledge counts on h's need as t shows it.
    let pledges = t
        .handle()
        .with_snapshot(move |snap| {
            let views = snap.views(mutu_tests::net::VIEWS_NOW);
            views.referring(mutu_protocol::record::Kind::Pledge, &wanted).len()
        })
        .await
        .unwrap();
    assert_eq!(pledges, 1);
}

/// Topology:
///
/// ```text
///   t ──── h ──── v       t: scope trusted, 1 hop, follows h
/// ```
///
/// h vouches for v: v enters t's trust set and t fetches v's document
/// (through h). h retracts the vouch: v leaves, t evicts its document. h
/// vouches again: v comes back and t fetches it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_and_reentering_the_trust_set_evicts_and_fetches_again() {
    let policy = Policy {
        scope: Scope::Trusted,
        hops: 1,
        ..Policy::default()
    };
    let t = TestNode::spawn_with(7, "t", with_policy(policy)).await;
    let h = TestNode::spawn(8, "h").await;
    let v = TestNode::spawn(9, "v").await;
    connect(&t, &h).await;
    connect(&h, &v).await;
    let now = mutu_node::state::now;
    t.handle()
        .apply(
            ops::Follow {
                member: h.member.to_string(),
            }
            .into(),
            now(),
        )
        .await
        .unwrap()
        .unwrap();
    let of_v = v.create(need("v's need")).await;
    wait_for(TIMEOUT, "v's need on h", || async { h.has(of_v).await }).await;
    let vouch = ops::VouchFor {
        member: v.member.to_string(),
        statement: None,
    };
    let first = h.handle().apply(vouch.clone().into(), now()).await.unwrap().unwrap();
    wait_for(TIMEOUT, "v's need on t once h vouches for v", || async {
        t.has(of_v).await
    })
    .await;
    assert_eq!(replication(&t).await.trusted, 3);

    h.handle()
        .apply(ops::Retract { id: first.to_string() }.into(), now())
        .await
        .unwrap()
        .unwrap();
    let v_member = v.member;
    wait_for(TIMEOUT, "t to evict v once h retracts its vouch", || async {
        held(&t, vec![v_member]).await == 0
    })
    .await;
    assert_eq!(replication(&t).await.trusted, 2);
    assert!(!t.has(of_v).await);

    h.handle().apply(vouch.into(), now()).await.unwrap().unwrap();
    wait_for(TIMEOUT, "t to fetch v again once h vouches again", || async {
        t.has(of_v).await
    })
    .await;
    assert_eq!(replication(&t).await.trusted, 3);
}

/// Topology:
///
/// ```text
///   m ──▶ g               g: every document admitted, gossip budget of
///                            50 messages then 1 per second per peer
/// ```
///
/// m gossips 300 generated members, one message each, as fast as it can.
/// g looks at no more than its budget allows (burst + rate × time) and
/// counts the rest, whose documents it does not take; m is not struck.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_past_a_peers_budget_is_ignored_and_counted() {
    const SENT: u64 = 300;
    let config = actor::Config {
        gossip_limits: mutu_node::net::rate::Limits {
            requests_burst: 50,
            requests_per_s: 1,
            bytes_burst: u64::MAX / 4,
            bytes_per_s: u64::MAX / 4,
        },
        ..with_policy(Policy::EVERYONE)
    };
    let g = TestNode::spawn_with(10, "g", config).await;
    let docs: BTreeMap<MemberId, Vec<SignedChange>> = sybils("chatty").into_iter().take(SENT as usize).collect();
    let members: Vec<MemberId> = docs.keys().copied().collect();
    let m = MalNode::spawn(24);
    attach(&m, &g).await;
    let started = std::time::Instant::now();
    for (doc, changes) in &docs {
        m.publish(GossipBatch {
            doc: *doc,
            changes: changes.clone(),
        })
        .await;
    }
    wait_for(TIMEOUT * 3, "g to take or ignore every message", || async {
        replication(&g).await.gossip_rate_limited + held(&g, members.clone()).await as u64 >= SENT
    })
    .await;
    let elapsed = started.elapsed().as_secs() + 1;
    let taken = held(&g, members).await as u64;
    let r = replication(&g).await;
    assert!(taken <= 50 + elapsed, "g took {taken} messages in {elapsed} s: {r:?}");
    assert!(r.gossip_rate_limited >= SENT - taken, "{r:?}");
    assert!(g.is_connected(m.peer_id).await, "a budget is no strike");
}

/// Topology:
///
/// ```text
///   s1 ──── p ──── s2     p publishes a moderation list naming b;
///           │             s1 and s2 follow p's moderation lists
///           b
/// ```
///
/// Every node admits everyone. Once p lists b, s1 and s2 evict b's
/// document and take none of b's later writes (p, not subscribed to its own
/// list, still does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderation_list_hides_a_member_on_every_subscriber() {
    let p = TestNode::spawn(11, "p").await;
    let s1 = TestNode::spawn(12, "s1").await;
    let s2 = TestNode::spawn(13, "s2").await;
    let b = TestNode::spawn(14, "b").await;
    for n in [&s1, &s2, &b] {
        connect(n, &p).await;
    }
    let now = mutu_node::state::now;
    for s in [&s1, &s2] {
        s.handle()
            .apply(
                ops::ModerationFollow {
                    member: p.member.to_string(),
                }
                .into(),
                now(),
            )
            .await
            .unwrap()
            .unwrap();
    }
    let first = b.create(need("b's first")).await;
    for s in [&s1, &s2] {
        wait_for(TIMEOUT, &format!("b's need on {}", s.name), || async {
            s.has(first).await
        })
        .await;
    }
    let list = ops::NewModerationList {
        title: "Bulk offers".into(),
        members: vec![b.member.to_string()],
        reason: Some("sends offers in bulk".into()),
    };
    p.handle().apply(list.into(), now()).await.unwrap().unwrap();
    let b_member = b.member;
    for s in [&s1, &s2] {
        wait_for(TIMEOUT, &format!("{} to evict b", s.name), || async {
            held(s, vec![b_member]).await == 0
        })
        .await;
        assert_eq!(replication(s).await.moderated, 1);
    }
    let second = b.create(need("b's second")).await;
    wait_for(TIMEOUT, "b's second need on p", || async { p.has(second).await }).await;
    let marker = p.create(need("after b's second")).await;
    for s in [&s1, &s2] {
        wait_for(TIMEOUT, &format!("p's marker on {}", s.name), || async {
            s.has(marker).await
        })
        .await;
        assert!(
            !s.has(second).await && !s.has(first).await,
            "{} shows a moderated member",
            s.name
        );
    }
}

/// A node says which scope it runs with, its trust set's size and what it
/// turned away, in `mutu status --json` too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_says_the_scope_and_the_trust_set() {
    let o = TestNode::spawn(4, "o").await;
    let r = replication(&o).await;
    assert_eq!((r.scope, r.hops, r.trusted), (Scope::Open, trust::DEFAULT_HOPS, 1));
    assert_eq!(r.ignored, trust::Counts::default());
    let json = serde_json::to_value(o.status().await).unwrap();
    assert_eq!(json["replication"]["scope"], "open", "{json}");
    assert_eq!(json["replication"]["trusted"], 1, "{json}");
    assert_eq!(json["replication"]["ignored"]["untrusted"], 0, "{json}");
}
