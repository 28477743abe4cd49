//! Laws of the consultation (`view::consult`): every node computes the same
//! coalition, verdicts, timeline and track records from the same records,
//! whatever order they arrived in; late approvals flip a contested award;
//! a withdrawn pledge drops its weight; an objection after acceptance does
//! not undo it. And the rules a new award, approval, delivery, acceptance or
//! receipt must follow.
//!
//! Proptest draws arrival orders from `MUTU_TEST_SEED` when it is set, else
//! from a fixed seed.

// Test helpers may panic: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::OnceLock;

use common::*;
use mutu_protocol::record::{
    Acceptance, Approval, Award, Body, Decision, Delivery, Need, Offer, PledgeStatus, Receipt, Verdict,
};
use mutu_protocol::rules::{self, Violation};
use mutu_protocol::view::Views;
use mutu_protocol::view::consult::Standing;
use mutu_protocol::{MemberId, Registry, SignedChange, SignedRecord, Timestamp};
use proptest::prelude::*;

fn weighted_need(title: &str, goal: &str) -> Body {
    let Body::Need(n) = need(title, goal) else {
        unreachable!()
    };
    Body::Need(Need {
        decision: Decision::Weighted,
        ..n
    })
}

fn offer_days(need: mutu_protocol::RecordId, price: &str, days: u32, valid_until: Option<&str>) -> Body {
    Body::Offer(Offer {
        need,
        price: price.parse().unwrap(),
        days: Some(days),
        description: "we can do it".into(),
        valid_until: valid_until.map(|d| d.parse().unwrap()),
    })
}

fn approve(offer: &SignedRecord) -> Body {
    Body::Approval(Approval {
        offer: offer.id(),
        note: String::new(),
    })
}

fn award(need: &SignedRecord, offer: &SignedRecord) -> Body {
    Body::Award(Award {
        need: need.id(),
        offer: offer.id(),
        note: String::new(),
    })
}

fn delivery(need: &SignedRecord) -> Body {
    Body::Delivery(Delivery {
        need: need.id(),
        release: "https://example.org/repo/releases/v1.0".into(),
        note: String::new(),
    })
}

fn verdict(delivery: &SignedRecord, accept: bool) -> Body {
    Body::Acceptance(Acceptance {
        delivery: delivery.id(),
        verdict: if accept { Verdict::Accept } else { Verdict::Object },
        reason: if accept {
            String::new()
        } else {
            "the export fails".into()
        },
    })
}

fn with_status(p: &SignedRecord, status: PledgeStatus) -> Body {
    let Body::Pledge(mut x) = p.record().body.clone() else {
        unreachable!()
    };
    x.status = status;
    Body::Pledge(x)
}

/// The whole consultation, as one scenario.
///
/// A (public body) posts need N, 1000 EUR, `weighted`; B (SME) pledges
/// 600 EUR and C (association) cosigns and pledges 400 EUR, both
/// conditional: N is funded. P and Q offer. C approves Q's offer; A awards
/// P's (contested: A pledged nothing); B approves P's later (valid from
/// then: 600 of 1000); C switches to P's. P delivers; C objects, A accepts
/// (no weight), B accepts: accepted. B then objects (recorded, not
/// counted). B marks its pledge paid, P confirms receipt; C's stays due.
struct Scenario {
    log: Vec<SignedChange>,
    need: SignedRecord,
    members: Vec<MemberId>,
    digest: String,
}

fn build() -> Scenario {
    let (a, b, c, p, q) = (key(1), key(2), key(3), key(4), key(5));
    let mut w = World::new();
    let n = rec(&a, 1, at(10), weighted_need("Invoices", "1000EUR"));
    w.put(&a, 1, &[rec(&a, 0, at(0), profile("Mairie")), n.clone()]);
    let pb = rec(&b, 1, at(11), pledge(n.id(), "600EUR", true));
    w.put(&b, 1, std::slice::from_ref(&pb));
    let pc = rec(&c, 1, at(13), pledge(n.id(), "400EUR", true));
    w.put(&c, 1, &[rec(&c, 2, at(12), cosign(n.id())), pc.clone()]);
    let op = rec(&p, 1, at(14), offer_days(n.id(), "900EUR", 10, None));
    w.put(&p, 1, std::slice::from_ref(&op));
    let oq = rec(&q, 1, at(15), offer_days(n.id(), "1200EUR", 20, None));
    w.put(&q, 1, std::slice::from_ref(&oq));
    w.put(&c, 1, &[rec(&c, 3, at(16), approve(&oq))]);
    w.put(&a, 1, &[rec(&a, 2, at(17), award(&n, &op))]);
    w.put(&b, 1, &[rec(&b, 2, at(18), approve(&op))]);
    w.put(&c, 1, &[rec(&c, 4, at(19), approve(&op))]);
    let d = rec(&p, 2, at(20), delivery(&n));
    w.put(&p, 1, std::slice::from_ref(&d));
    w.put(&c, 1, &[rec(&c, 5, at(21), verdict(&d, false))]);
    w.put(&a, 1, &[rec(&a, 3, at(22), verdict(&d, true))]);
    w.put(&b, 1, &[rec(&b, 3, at(23), verdict(&d, true))]);
    w.put(&b, 1, &[rec(&b, 4, at(24), verdict(&d, false))]);
    w.put(
        &b,
        1,
        &[edit(&b, &pb, at(25), with_status(&pb, PledgeStatus::Fulfilled))],
    );
    w.put(
        &p,
        1,
        &[rec(
            &p,
            3,
            at(26),
            Body::Receipt(Receipt {
                pledge: pb.id(),
                note: String::new(),
            }),
        )],
    );
    let members: Vec<MemberId> = [&a, &b, &c, &p, &q].iter().map(|k| k.member_id()).collect();
    let digest = consult_digest(&w.reg, &n, &members);
    check(&w.reg, &n, &pb, &pc, &op, &oq);
    Scenario {
        log: w.log,
        need: n,
        members,
        digest,
    }
}

fn consult_digest(reg: &Registry, need: &SignedRecord, members: &[MemberId]) -> String {
    let views = Views::new(reg.index(), NOW);
    let records: Vec<_> = members.iter().map(|m| views.track_record(m)).collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "consultation": views.consultation_of(&need.id()),
        "track_records": records,
    }))
    .unwrap()
}

/// What the scenario must show.
fn check(reg: &Registry, n: &SignedRecord, pb: &SignedRecord, pc: &SignedRecord, op: &SignedRecord, oq: &SignedRecord) {
    let (a, b, c, p, q) = (key(1), key(2), key(3), key(4), key(5));
    let views = Views::new(reg.index(), NOW);
    let cn = views.consultation_of(&n.id()).unwrap();
    assert_eq!(cn.coalition.members.len(), 3, "A, B, C");
    assert_eq!(cn.coalition.total_weight, 100_000);
    let award = cn.award.as_ref().unwrap();
    assert_eq!(award.offer, op.id());
    assert_eq!(award.provider, p.member_id());
    assert_eq!(award.outcome.standing, Standing::Valid);
    assert_eq!(award.outcome.since, Some(at(18)), "B's late approval made it valid");
    let row = |o: &SignedRecord| cn.offers.iter().find(|r| r.id == o.id()).unwrap().clone();
    assert_eq!(row(op).approvals.len(), 2, "B and C (A's vote is its award)");
    assert!(row(oq).approvals.is_empty(), "C changed its mind");
    let d = &cn.deliveries[0];
    assert_eq!(d.outcome.since, Some(at(23)), "accepted when B accepted");
    assert_eq!(d.objections.len(), 2, "C's and B's late one are recorded");
    assert_eq!(cn.timeline.accepted, Some(at(23)));
    assert!(cn.timeline.funded);
    assert_eq!((cn.timeline.paid, cn.timeline.payable, cn.timeline.received), (1, 2, 1));
    let prow = |x: &SignedRecord| cn.pledges.iter().find(|r| r.id == x.id()).unwrap().clone();
    assert!(prow(pb).paid && prow(pb).received && !prow(pb).due);
    assert!(prow(pc).due && !prow(pc).paid);
    let tp = views.track_record(&p.member_id());
    assert_eq!(
        (
            tp.offers_made,
            tp.offers_awarded,
            tp.delivered,
            tp.accepted,
            tp.objected,
            tp.on_time,
            tp.late
        ),
        (1, 1, 1, 1, 1, 1, 0)
    );
    assert_eq!(tp.received.get("EUR".parse().unwrap()), 60_000);
    let tq = views.track_record(&q.member_id());
    assert_eq!((tq.offers_made, tq.offers_awarded), (1, 0));
    let tb = views.track_record(&b.member_id());
    assert_eq!(
        (tb.pledges_made, tb.pledges_due, tb.pledges_paid, tb.pledges_confirmed),
        (1, 0, 1, 1)
    );
    let tc = views.track_record(&c.member_id());
    assert_eq!((tc.pledges_made, tc.pledges_due, tc.pledges_paid), (1, 1, 0));
    let _ = a;
}

fn scenario() -> &'static Scenario {
    static SCENARIO: OnceLock<Scenario> = OnceLock::new();
    SCENARIO.get_or_init(build)
}

fn replay(order: &[usize], sizes: &[usize]) -> Registry {
    replay_log(&scenario().log, order, sizes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, rng_seed: test_seed(), ..ProptestConfig::default() })]

    /// Any arrival order, duplication and batching gives the same
    /// consultation and track records.
    #[test]
    fn every_arrival_order_gives_the_same_consultation((order, sizes) in arrival(scenario().log.len())) {
        let s = scenario();
        let reg = replay(&order, &sizes);
        prop_assert_eq!(reg.pending_count(), 0);
        prop_assert_eq!(consult_digest(&reg, &s.need, &s.members), s.digest.clone());
    }
}

#[test]
fn the_scenario_holds_in_reverse_order() {
    let s = scenario();
    let order: Vec<usize> = (0..s.log.len()).rev().collect();
    let reg = replay(&order, &[1]);
    assert_eq!(consult_digest(&reg, &s.need, &s.members), s.digest);
}

/// A small weighted consultation: A's need (1000 EUR), B pledges 600,
/// C pledges 400, P offers; A awards P's offer.
fn small() -> (World, SignedRecord, SignedRecord, SignedRecord) {
    let (a, b, c, p) = (key(1), key(2), key(3), key(4));
    let mut w = World::new();
    let n = rec(&a, 1, at(10), weighted_need("Payroll", "1000EUR"));
    w.put(&a, 1, std::slice::from_ref(&n));
    let pb = rec(&b, 1, at(11), pledge(n.id(), "600EUR", false));
    w.put(&b, 1, std::slice::from_ref(&pb));
    w.put(&c, 1, &[rec(&c, 1, at(12), pledge(n.id(), "400EUR", false))]);
    let op = rec(&p, 1, at(13), offer_days(n.id(), "900EUR", 10, None));
    w.put(&p, 1, std::slice::from_ref(&op));
    w.put(&a, 1, &[rec(&a, 2, at(14), award(&n, &op))]);
    (w, n, pb, op)
}

fn award_standing(w: &World, n: &SignedRecord) -> (Standing, usize) {
    let views = Views::new(w.reg.index(), NOW);
    let c = views.consultation_of(&n.id()).unwrap();
    let o = c.award.unwrap().outcome;
    (o.standing, o.missing.len())
}

#[test]
fn a_late_approval_flips_a_contested_award() {
    let (mut w, n, _, op) = small();
    assert_eq!(award_standing(&w, &n), (Standing::Contested, 2), "B and C missing");
    // B's approval, written after the award, arrives.
    w.put(&key(2), 1, &[rec(&key(2), 2, at(15), approve(&op))]);
    assert_eq!(award_standing(&w, &n), (Standing::Valid, 1), "600 of 1000; C missing");
}

#[test]
fn a_withdrawn_pledge_drops_its_weight() {
    let (mut w, n, pb, op) = small();
    let b = key(2);
    w.put(&b, 1, &[rec(&b, 2, at(15), approve(&op))]);
    assert_eq!(award_standing(&w, &n).0, Standing::Valid);
    w.put(
        &b,
        1,
        &[edit(&b, &pb, at(16), with_status(&pb, PledgeStatus::Withdrawn))],
    );
    let views = Views::new(w.reg.index(), NOW);
    let c = views.consultation_of(&n.id()).unwrap();
    assert!(!c.coalition.contains(&b.member_id()), "B left the coalition");
    assert_eq!(c.coalition.total_weight, 40_000);
    let o = c.award.unwrap().outcome;
    assert_eq!(o.standing, Standing::Contested, "C's 400 are all that is pledged now");
    assert_eq!(o.missing, vec![key(3).member_id()]);
}

#[test]
fn an_objection_after_acceptance_does_not_undo_it() {
    let (mut w, n, _, op) = small();
    let (b, c, p) = (key(2), key(3), key(4));
    w.put(&b, 1, &[rec(&b, 2, at(15), approve(&op))]);
    let d = rec(&p, 2, at(16), delivery(&n));
    w.put(&p, 1, std::slice::from_ref(&d));
    w.put(&b, 1, &[rec(&b, 3, at(17), verdict(&d, true))]);
    let accepted = |w: &World| {
        let views = Views::new(w.reg.index(), NOW);
        views.consultation_of(&n.id()).unwrap().timeline.accepted
    };
    assert_eq!(accepted(&w), Some(at(17)));
    w.put(&b, 1, &[rec(&b, 4, at(18), verdict(&d, false))]);
    w.put(&c, 1, &[rec(&c, 2, at(19), verdict(&d, false))]);
    assert_eq!(
        accepted(&w),
        Some(at(17)),
        "objections after acceptance are recorded only"
    );
    let views = Views::new(w.reg.index(), NOW);
    assert_eq!(
        views.consultation_of(&n.id()).unwrap().deliveries[0].objections.len(),
        2
    );
}

#[test]
fn the_author_rule_needs_only_the_award() {
    let (a, p) = (key(1), key(4));
    let mut w = World::new();
    let n = rec(&a, 1, at(10), need("Export", "100EUR"));
    let op = rec(&p, 1, at(11), offer_days(n.id(), "90EUR", 5, None));
    w.put(&a, 1, std::slice::from_ref(&n));
    w.put(&p, 1, std::slice::from_ref(&op));
    w.put(&a, 1, &[rec(&a, 2, at(12), award(&n, &op))]);
    assert_eq!(award_standing(&w, &n), (Standing::Valid, 0));
}

fn refused(w: &World, who: &mutu_protocol::SecretKey, body: Body) -> Violation {
    let views = Views::new(w.reg.index(), NOW);
    rules::check(&views, who.member_id(), &body, None).unwrap_err()
}

#[test]
fn awards_are_refused_when_the_rules_say_so() {
    let (mut w, n, _, op) = small();
    let (a, b, p) = (key(1), key(2), key(4));
    // A second award while one stands.
    let second = rec(&p, 5, at(15), offer_days(n.id(), "800EUR", 10, None));
    w.put(&p, 1, std::slice::from_ref(&second));
    assert!(matches!(
        refused(&w, &a, award(&n, &second)),
        Violation::AwardStands { .. }
    ));
    // By someone else than the need's author.
    assert!(matches!(
        refused(&w, &b, award(&n, &second)),
        Violation::NotNeedAuthor { .. }
    ));
    // An offer of another need.
    let other = rec(&a, 7, at(16), need("Other", "10EUR"));
    w.put(&a, 1, std::slice::from_ref(&other));
    assert!(matches!(
        refused(&w, &a, award(&other, &op)),
        Violation::OfferOfOtherNeed { .. }
    ));
    // An expired offer (on a need without an award).
    let late = rec(&p, 6, at(17), offer_days(other.id(), "8EUR", 1, Some("2026-12-31")));
    w.put(&p, 1, std::slice::from_ref(&late));
    assert!(matches!(
        refused(&w, &a, award(&other, &late)),
        Violation::OfferExpired { .. }
    ));
}

#[test]
fn only_the_coalition_approves_and_accepts_and_only_the_provider_delivers() {
    let (mut w, n, pb, op) = small();
    let (b, p, stranger) = (key(2), key(4), key(9));
    assert!(matches!(
        refused(&w, &stranger, approve(&op)),
        Violation::NotInCoalition { .. }
    ));
    let views = Views::new(w.reg.index(), NOW);
    rules::check(&views, b.member_id(), &approve(&op), None).unwrap();
    assert!(matches!(refused(&w, &b, delivery(&n)), Violation::NotProvider { .. }));
    let d = rec(&p, 2, at(16), delivery(&n));
    w.put(&p, 1, std::slice::from_ref(&d));
    assert!(matches!(
        refused(&w, &stranger, verdict(&d, true)),
        Violation::NotInCoalition { .. }
    ));
    let receipt = Body::Receipt(Receipt {
        pledge: pb.id(),
        note: String::new(),
    });
    assert!(matches!(
        refused(&w, &b, receipt.clone()),
        Violation::NotProvider { .. }
    ));
    let views = Views::new(w.reg.index(), NOW);
    rules::check(&views, p.member_id(), &receipt, None).unwrap();
    // Before any award, no delivery at all.
    let (a, q) = (key(1), key(5));
    let n2 = rec(&a, 9, at(20), need("Other", "10EUR"));
    w.put(&a, 1, std::slice::from_ref(&n2));
    assert!(matches!(refused(&w, &q, delivery(&n2)), Violation::NotAwarded { .. }));
}

#[test]
fn the_decision_is_locked_once_an_award_stands() {
    let (w, n, _, _) = small();
    let a = key(1);
    let Body::Need(mut x) = n.record().body.clone() else {
        unreachable!()
    };
    x.decision = Decision::Majority;
    let views = Views::new(w.reg.index(), NOW);
    assert!(matches!(
        rules::check(&views, a.member_id(), &Body::Need(x.clone()), Some(&n)),
        Err(Violation::DecisionLocked { .. })
    ));
    // The same edit with the decision unchanged is fine.
    x.decision = Decision::Weighted;
    x.title = "Payroll v2".into();
    rules::check(&views, a.member_id(), &Body::Need(x), Some(&n)).unwrap();
    let _ = Timestamp(0);
}
