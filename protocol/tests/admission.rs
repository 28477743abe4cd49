//! Change admission: every rule rejects with its own reason, and nothing of a
//! rejected change reaches any view.

// Test helpers may panic: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::Cell;

use automerge::ReadDoc;
use automerge::transaction::{CommitOptions, Transactable};
use common::*;
use ed25519_dalek::Signer;
use mutu_protocol::admission::{MAX_CLOCK_SKEW_MS, Rejection, Report};
use mutu_protocol::change::{self, MAX_CHANGE_BYTES};
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::actor_id;
use mutu_protocol::record::{self, Kind};
use mutu_protocol::registry::Trust;
use mutu_protocol::view::{Filter, Views};
use mutu_protocol::{MemberId, Registry, SecretKey, SignedChange, SignedRecord, Timestamp};

/// A valid first change of `key`'s document: one need, nonce `[n; 16]`.
fn need_change(key: &SecretKey, n: u8) -> (SignedRecord, SignedChange) {
    let r = rec(key, n, at(1), need("Invoices", "1000EUR"));
    let c = MemberDoc::new(key.member_id())
        .write(key, &replica(1), std::slice::from_ref(&r), NOW)
        .unwrap();
    (r, c)
}

/// Admits `batch` into a fresh registry and checks that exactly one change is
/// rejected, that `persist` is never called and that no view shows anything.
fn rejected_alone(batch: Vec<SignedChange>) -> Rejection {
    let mut reg = Registry::new();
    let persisted = Cell::new(false);
    let report = reg
        .admit(batch, NOW, Trust::Untrusted, |_| {
            persisted.set(true);
            Ok::<(), ()>(())
        })
        .unwrap();
    assert!(!persisted.get(), "a rejected change was persisted");
    assert!(report.admitted.is_empty(), "{report:?}");
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_nothing_visible(&reg);
    report.rejected[0].reason.clone()
}

fn assert_nothing_visible(reg: &Registry) {
    assert_eq!(reg.doc_count(), 0);
    assert_eq!(reg.pending_count(), 0);
    assert!(reg.index().is_empty());
    let views = Views::new(reg.index(), NOW);
    assert!(views.needs(&Filter::default()).is_empty());
    assert!(views.members(&Filter::default()).is_empty());
}

#[test]
fn a_valid_change_is_admitted_and_shown() {
    let a = key(1);
    let (r, c) = need_change(&a, 1);
    let mut reg = Registry::new();
    let report = admit(&mut reg, vec![c.clone()]);
    assert_eq!(report.admitted, vec![(a.member_id(), hash_of(&c))]);
    assert!(report.rejected.is_empty() && report.missing.is_empty());
    assert_eq!(reg.index().get(&r.id()), Some(&r));
    assert_eq!(Views::new(reg.index(), NOW).needs(&Filter::default()).len(), 1);
}

#[test]
fn a_signature_by_another_key_is_a_bad_signature() {
    let (a, b) = (key(1), key(2));
    let (_, c) = need_change(&a, 1);
    let msg = change::signed_message(&a.member_id(), &hash_of(&c));
    // The exact message A would sign, signed with B's secret.
    let forged = ed25519_dalek::SigningKey::from_bytes(&[2; 32]).sign(&msg).to_bytes();
    let reason = rejected_alone(vec![SignedChange::from_parts(
        a.member_id(),
        c.change_bytes().to_vec(),
        forged,
    )]);
    assert_eq!(reason, Rejection::BadSignature { doc: a.member_id() });
    // B's own signature of the change as a change of B's document, relabelled as A's.
    let b_sig = *SignedChange::sign(&b, &automerge::Change::from_bytes(c.change_bytes().to_vec()).unwrap()).sig_bytes();
    let reason = rejected_alone(vec![SignedChange::from_parts(
        a.member_id(),
        c.change_bytes().to_vec(),
        b_sig,
    )]);
    assert_eq!(reason, Rejection::BadSignature { doc: a.member_id() });
    // A garbage signature.
    let reason = rejected_alone(vec![SignedChange::from_parts(
        a.member_id(),
        c.change_bytes().to_vec(),
        [7; 64],
    )]);
    assert_eq!(reason, Rejection::BadSignature { doc: a.member_id() });
}

#[test]
fn a_bad_signature_among_good_ones_is_found() {
    // Batch verification fails as a whole; the one-by-one fallback must
    // single out the culprit and admit the rest.
    let mut batch: Vec<SignedChange> = (1..=5).map(|n| need_change(&key(n), n).1).collect();
    let bad = &batch[2];
    batch[2] = SignedChange::from_parts(bad.doc(), bad.change_bytes().to_vec(), [0; 64]);
    let mut reg = Registry::new();
    let report = admit(&mut reg, batch);
    assert_eq!(report.admitted.len(), 4);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(
        report.rejected[0].reason,
        Rejection::BadSignature {
            doc: key(3).member_id()
        }
    );
    assert_eq!(reg.index().len(), 4);
    assert!(reg.doc(&key(3).member_id()).is_none());
}

#[test]
fn one_flipped_byte_anywhere_is_malformed() {
    let a = key(1);
    let (_, c) = need_change(&a, 1);
    let bytes = c.change_bytes();
    for i in 0..bytes.len() {
        let mut flipped = bytes.to_vec();
        flipped[i] ^= 0x01;
        let reason = rejected_alone(vec![SignedChange::from_parts(a.member_id(), flipped, *c.sig_bytes())]);
        assert!(
            matches!(reason, Rejection::Malformed(_)),
            "byte {i} of {}: {reason:?}",
            bytes.len()
        );
    }
}

#[test]
fn garbage_and_oversized_changes_are_refused() {
    let a = key(1).member_id();
    let reason = rejected_alone(vec![SignedChange::from_parts(a, b"not a change".to_vec(), [0; 64])]);
    assert!(matches!(reason, Rejection::Malformed(_)), "{reason:?}");
    let reason = rejected_alone(vec![SignedChange::from_parts(
        a,
        vec![0; MAX_CHANGE_BYTES + 1],
        [0; 64],
    )]);
    assert_eq!(
        reason,
        Rejection::TooLarge {
            size: MAX_CHANGE_BYTES + 1,
            limit: MAX_CHANGE_BYTES
        }
    );
}

#[test]
fn a_change_moved_into_another_document_is_foreign() {
    let (a, b) = (key(1), key(2));
    let (_, c) = need_change(&a, 1);
    // A's change and A's signature, claimed for B's document.
    let moved = SignedChange::from_parts(b.member_id(), c.change_bytes().to_vec(), *c.sig_bytes());
    assert_eq!(
        rejected_alone(vec![moved]),
        Rejection::ForeignActor { doc: b.member_id() }
    );
    // Even when B signs it: B cannot take A's change into its document.
    let resigned = SignedChange::sign(&b, &automerge::Change::from_bytes(c.change_bytes().to_vec()).unwrap());
    assert_eq!(resigned.doc(), b.member_id());
    assert_eq!(
        rejected_alone(vec![resigned]),
        Rejection::ForeignActor { doc: b.member_id() }
    );
}

/// A change to a fresh document made by `actor` that puts `value` under `key`,
/// signed with `signer` as a change of the signer's own document.
pub fn hand_made(signer: &SecretKey, actor: automerge::ActorId, key: &str, value: &[u8]) -> SignedChange {
    let mut am = automerge::Automerge::new().with_actor(actor);
    let mut tx = am.transaction();
    tx.put(automerge::ROOT, key, automerge::ScalarValue::Bytes(value.to_vec()))
        .unwrap();
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW.0 as i64));
    let change = am.get_change_by_hash(&hash.unwrap()).unwrap();
    assert_eq!(am.get_heads(), vec![change.hash()]);
    SignedChange::sign(signer, &change)
}

#[test]
fn an_actor_of_another_member_is_foreign() {
    let (a, b) = (key(1), key(2));
    let r = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    // A signs, for A's document, a change made by one of B's replicas.
    let c = hand_made(
        &a,
        actor_id(&b.member_id(), &replica(1)),
        &r.doc_key(),
        &r.stored_bytes(),
    );
    assert_eq!(c.doc(), a.member_id());
    assert_eq!(rejected_alone(vec![c]), Rejection::ForeignActor { doc: a.member_id() });
    // An actor that is A's key without a replica nonce is not A's either.
    let c = hand_made(
        &a,
        automerge::ActorId::from(a.member_id().as_bytes().to_vec()),
        &r.doc_key(),
        &r.stored_bytes(),
    );
    assert_eq!(rejected_alone(vec![c]), Rejection::ForeignActor { doc: a.member_id() });
}

#[test]
fn a_document_that_is_not_a_key_is_invalid() {
    // The identity point: a weak key under which signatures can be forged.
    let mut weak = [0u8; 32];
    weak[0] = 1;
    let doc = MemberId::from_bytes(weak);
    let mut actor = weak.to_vec();
    actor.extend([1; 16]);
    let r = rec(&key(1), 1, at(1), need("Invoices", "1000EUR"));
    let c = hand_made(
        &key(1),
        automerge::ActorId::from(actor),
        &r.doc_key(),
        &r.stored_bytes(),
    );
    let c = SignedChange::from_parts(doc, c.change_bytes().to_vec(), [0; 64]);
    assert_eq!(rejected_alone(vec![c]), Rejection::InvalidDocument { doc });
}

#[test]
fn a_change_from_more_than_ten_minutes_ahead_is_refused() {
    let a = key(1);
    let r = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    let ahead = |ms: u64| {
        MemberDoc::new(a.member_id())
            .write(&a, &replica(1), std::slice::from_ref(&r), Timestamp(NOW.0 + ms))
            .unwrap()
    };
    let reason = rejected_alone(vec![ahead(11 * 60 * 1000)]);
    assert_eq!(
        reason,
        Rejection::FromTheFuture {
            timestamp: (NOW.0 + 11 * 60 * 1000) as i64,
            now: NOW.0
        }
    );
    // Exactly at the limit is still fine.
    let mut reg = Registry::new();
    let report = admit(&mut reg, vec![ahead(MAX_CLOCK_SKEW_MS)]);
    assert_eq!(report.admitted.len(), 1, "{report:?}");
    // Own-store changes are not held to the clock: they were admitted before.
    let mut reg = Registry::new();
    let report = reg
        .admit(vec![ahead(11 * 60 * 1000)], NOW, Trust::OwnStore, |_| Ok::<(), ()>(()))
        .unwrap();
    assert_eq!(report.admitted.len(), 1, "{report:?}");
}

#[test]
fn each_defect_in_one_batch_gets_its_own_reason() {
    let (a, b) = (key(1), key(2));
    let (_, good) = need_change(&key(3), 3);
    let (_, c) = need_change(&a, 1);
    let forged = {
        let msg = change::signed_message(&a.member_id(), &hash_of(&c));
        let sig = ed25519_dalek::SigningKey::from_bytes(&[2; 32]).sign(&msg).to_bytes();
        SignedChange::from_parts(a.member_id(), c.change_bytes().to_vec(), sig)
    };
    let flipped = {
        let mut bytes = c.change_bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        SignedChange::from_parts(a.member_id(), bytes, *c.sig_bytes())
    };
    let moved = SignedChange::from_parts(b.member_id(), c.change_bytes().to_vec(), *c.sig_bytes());
    let r = rec(&a, 2, at(1), need("Payroll", "500EUR"));
    let foreign = hand_made(
        &a,
        actor_id(&b.member_id(), &replica(1)),
        &r.doc_key(),
        &r.stored_bytes(),
    );
    let future = MemberDoc::new(a.member_id())
        .write(
            &a,
            &replica(1),
            std::slice::from_ref(&r),
            Timestamp(NOW.0 + 11 * 60 * 1000),
        )
        .unwrap();
    let mut reg = Registry::new();
    let report = admit(&mut reg, vec![forged, flipped, moved, foreign, future, good]);
    let reasons: Vec<String> = report.rejected.iter().map(|r| format!("{:?}", r.reason)).collect();
    assert_eq!(report.rejected.len(), 5, "{reasons:?}");
    let has = |f: fn(&Rejection) -> bool| report.rejected.iter().filter(|r| f(&r.reason)).count();
    assert_eq!(has(|r| matches!(r, Rejection::Malformed(_))), 1, "{reasons:?}");
    assert_eq!(has(|r| matches!(r, Rejection::ForeignActor { .. })), 2, "{reasons:?}");
    assert_eq!(has(|r| matches!(r, Rejection::FromTheFuture { .. })), 1, "{reasons:?}");
    assert_eq!(has(|r| matches!(r, Rejection::BadSignature { .. })), 1, "{reasons:?}");
    assert!(report.has_misbehaviour());
    // Only the good change reached the registry.
    assert_eq!(report.admitted.len(), 1);
    assert_eq!(reg.doc_count(), 1);
    assert!(reg.doc(&a.member_id()).is_none() && reg.doc(&b.member_id()).is_none());
    assert_eq!(reg.index().len(), 1);
    assert_eq!(reg.index().invalid_count(), 0);
}

#[test]
fn a_reused_sequence_number_with_other_content_conflicts() {
    let a = key(1);
    let mut w = World::new();
    let first = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    w.put(&a, 1, std::slice::from_ref(&first));
    let before = w.doc(&a);
    let second = rec(&a, 2, at(2), need("Payroll", "500EUR"));
    let c2 = w.put(&a, 1, std::slice::from_ref(&second));
    // The same replica writes seq 2 again, on a copy that has not seen c2 (a
    // restored backup, say): same actor, same seq, different content.
    let third = rec(&a, 3, at(3), need("Archives", "200EUR"));
    let c3 = before
        .write(&a, &replica(1), std::slice::from_ref(&third), NOW)
        .unwrap();
    assert_ne!(hash_of(&c2), hash_of(&c3));
    let report = admit(&mut w.reg, vec![c3.clone()]);
    assert!(report.admitted.is_empty());
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].reason, Rejection::ConflictingSeq { seq: 2 });
    assert_eq!(report.rejected[0].hash, Some(hash_of(&c3)));
    assert!(w.reg.index().get(&third.id()).is_none());
    assert!(w.reg.index().get(&second.id()).is_some());
    assert_eq!(w.reg.pending_count(), 0);
    // The original change is still only a duplicate.
    assert_eq!(admit(&mut w.reg, vec![c2]).duplicates, 1);
}

#[test]
fn a_change_waits_for_its_dependency_then_is_admitted() {
    let a = key(1);
    let mut w = World::new();
    let first = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    let c1 = w.put(&a, 1, std::slice::from_ref(&first));
    let second = rec(&a, 2, at(2), need("Payroll", "500EUR"));
    let c2 = w.put(&a, 1, std::slice::from_ref(&second));
    let third = rec(&a, 3, at(3), need("Archives", "200EUR"));
    let c3 = w.put(&a, 2, std::slice::from_ref(&third));

    let mut reg = Registry::new();
    let report = admit(&mut reg, vec![c3.clone(), c2.clone()]);
    assert!(report.admitted.is_empty() && report.rejected.is_empty(), "{report:?}");
    assert_eq!(report.pending, 2);
    assert_eq!(report.missing, vec![(a.member_id(), hash_of(&c1))]);
    assert_eq!(reg.pending_count(), 2);
    assert!(reg.knows(&a.member_id(), &hash_of(&c2)));
    assert!(reg.index().is_empty());
    // Sent again while pending: a duplicate, still waiting.
    let report = admit(&mut reg, vec![c2.clone()]);
    assert_eq!((report.duplicates, report.admitted.len()), (1, 0));
    assert_eq!(reg.pending_count(), 2);

    let report = admit(&mut reg, vec![c1.clone()]);
    assert!(report.rejected.is_empty() && report.missing.is_empty(), "{report:?}");
    let admitted: Vec<_> = report.admitted.iter().map(|(_, h)| *h).collect();
    assert_eq!(
        admitted,
        vec![hash_of(&c1), hash_of(&c2), hash_of(&c3)],
        "each after its dependencies"
    );
    assert_eq!(reg.pending_count(), 0);
    assert_eq!(Views::new(reg.index(), NOW).needs(&Filter::default()).len(), 3);
    assert_eq!(digest(&reg, NOW), digest(&w.reg, NOW));
}

#[test]
fn persist_failing_applies_nothing_and_a_retry_works() {
    let a = key(1);
    let (r, c) = need_change(&a, 1);
    let mut reg = Registry::new();
    let seen = Cell::new(0);
    let result = reg.admit(vec![c.clone()], NOW, Trust::Untrusted, |c| {
        seen.set(c.admitted.len());
        Err("disk full")
    });
    assert_eq!(result, Err("disk full"));
    assert_eq!(seen.get(), 1);
    assert!(reg.doc(&a.member_id()).is_none_or(|d| d.change_count() == 0));
    assert!(reg.index().is_empty());
    assert!(Views::new(reg.index(), NOW).needs(&Filter::default()).is_empty());

    // The same batch again, now persisting: admitted and shown.
    let report = admit(&mut reg, vec![c.clone()]);
    assert_eq!(report.admitted, vec![(a.member_id(), hash_of(&c))], "{report:?}");
    assert_eq!(reg.pending_count(), 0);
    assert_eq!(reg.index().get(&r.id()), Some(&r));
    // And nothing is admitted twice.
    let report = admit(&mut reg, vec![c]);
    assert_eq!((report.duplicates, report.admitted.len()), (1, 0));
}

#[test]
fn persist_failing_on_a_later_change_keeps_the_earlier_ones() {
    let a = key(1);
    let mut w = World::new();
    let first = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    let c1 = w.put(&a, 1, std::slice::from_ref(&first));
    let second = rec(&a, 2, at(2), need("Payroll", "500EUR"));
    let c2 = w.put(&a, 1, std::slice::from_ref(&second));

    let mut reg = Registry::new();
    admit(&mut reg, vec![c1]);
    let failed: Result<Report, &str> = reg.admit(vec![c2.clone()], NOW, Trust::Untrusted, |_| Err("disk full"));
    assert!(failed.is_err());
    assert_eq!(reg.index().len(), 1);
    assert!(reg.index().get(&second.id()).is_none());
    let report = admit(&mut reg, vec![c2]);
    assert_eq!(report.admitted.len(), 1, "{report:?}");
    assert_eq!(reg.pending_count(), 0);
    assert_eq!(digest(&reg, NOW), digest(&w.reg, NOW));
}

#[test]
fn duplicates_are_counted_not_applied_twice() {
    let a = key(1);
    let (_, c) = need_change(&a, 1);
    let mut reg = Registry::new();
    let report = admit(&mut reg, vec![c.clone(), c.clone(), c.clone()]);
    assert_eq!((report.admitted.len(), report.duplicates), (1, 2));
    let report = admit(&mut reg, vec![c.clone(), c]);
    assert_eq!((report.admitted.len(), report.duplicates), (0, 2));
    assert!(report.rejected.is_empty());
    assert!(!report.has_misbehaviour());
    assert_eq!(reg.doc(&a.member_id()).unwrap().change_count(), 1);
    assert_eq!(reg.index().len(), 1);
}

#[test]
fn a_record_of_another_member_inside_a_document_is_wrong_author() {
    let (a, b) = (key(1), key(2));
    let theirs = rec(&b, 1, at(1), need("Invoices", "1000EUR"));
    let mine = rec(&a, 2, at(2), need("Payroll", "500EUR"));
    // A's replica writes B's signed record into A's document (by hand:
    // MemberDoc::write refuses to). The change itself is A's and admissible.
    let actor = actor_id(&a.member_id(), &replica(1));
    let mut am = automerge::Automerge::new().with_actor(actor);
    let mut tx = am.transaction();
    for r in [&theirs, &mine] {
        tx.put(
            automerge::ROOT,
            r.doc_key(),
            automerge::ScalarValue::Bytes(r.stored_bytes().to_vec()),
        )
        .unwrap();
    }
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW.0 as i64));
    let c = SignedChange::sign(&a, &am.get_change_by_hash(&hash.unwrap()).unwrap());
    let mut reg = Registry::new();
    let report = admit(&mut reg, vec![c]);
    assert_eq!(report.admitted.len(), 1);
    assert_eq!(reg.index().invalid_count(), 1);
    let invalid: Vec<_> = reg.index().invalid().collect();
    assert_eq!(invalid.len(), 1);
    assert_eq!(*invalid[0].0, a.member_id());
    assert_eq!(invalid[0].1, theirs.doc_key());
    assert_eq!(*invalid[0].2, record::Invalid::WrongAuthor { author: b.member_id() });
    assert!(reg.index().get(&theirs.id()).is_none());
    assert!(reg.index().get_any(&theirs.id()).is_none());
    let needs = Views::new(reg.index(), NOW).needs(&Filter::default());
    assert_eq!(needs.iter().map(|n| n.id).collect::<Vec<_>>(), vec![mine.id()]);
    let members = Views::new(reg.index(), NOW).members(&Filter::default());
    assert_eq!(members.iter().map(|m| m.id).collect::<Vec<_>>(), vec![a.member_id()]);

    // When B publishes it in B's own document it is valid there, once.
    let cb = MemberDoc::new(b.member_id())
        .write(&b, &replica(1), std::slice::from_ref(&theirs), NOW)
        .unwrap();
    admit(&mut reg, vec![cb]);
    assert_eq!(reg.index().get(&theirs.id()), Some(&theirs));
    assert_eq!(reg.index().invalid_count(), 1);
    assert_eq!(Views::new(reg.index(), NOW).needs(&Filter::default()).len(), 2);
}

#[test]
fn a_record_under_the_wrong_key_or_with_bad_bytes_is_invalid() {
    let a = key(1);
    let r = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    let other = record::doc_key(Kind::Need, &rec(&a, 2, at(1), need("x", "1EUR")).id());
    let mut reg = Registry::new();
    let c = hand_made(&a, actor_id(&a.member_id(), &replica(1)), &other, &r.stored_bytes());
    assert_eq!(admit(&mut reg, vec![c]).admitted.len(), 1);
    let invalid: Vec<_> = reg.index().invalid().map(|(_, _, why)| why.clone()).collect();
    assert_eq!(invalid, vec![record::Invalid::WrongKey { key: other }]);

    // A signature that does not verify: the value is A's, the bytes are not.
    let mut bytes = r.stored_bytes().to_vec();
    bytes[0] ^= 0x01;
    let mut reg = Registry::new();
    let c = hand_made(&a, actor_id(&a.member_id(), &replica(1)), &r.doc_key(), &bytes);
    assert_eq!(admit(&mut reg, vec![c]).admitted.len(), 1);
    let invalid: Vec<_> = reg.index().invalid().map(|(_, _, why)| why.clone()).collect();
    assert_eq!(invalid, vec![record::Invalid::BadSignature]);
    assert!(reg.index().is_empty());
    assert_eq!(reg.index().invalid_count(), 1);
}

#[test]
fn a_forged_copy_does_not_shadow_the_genuine_change() {
    let a = key(1);
    let (r, c) = need_change(&a, 1);
    let forged = SignedChange::from_parts(a.member_id(), c.change_bytes().to_vec(), [7; 64]);
    // Whichever comes first in the batch, the genuine change is admitted and
    // the forged copy is rejected, not waved through as a duplicate.
    for batch in [vec![forged.clone(), c.clone()], vec![c.clone(), forged.clone()]] {
        let mut reg = Registry::new();
        let report = admit(&mut reg, batch);
        assert_eq!(report.admitted, vec![(a.member_id(), hash_of(&c))], "{report:?}");
        assert_eq!(report.rejected.len(), 1, "{report:?}");
        assert_eq!(
            report.rejected[0].reason,
            Rejection::BadSignature { doc: a.member_id() }
        );
        assert_eq!(reg.index().get(&r.id()), Some(&r));
    }
}

/// The index re-reads only values whose writing operation changed. A valid
/// record overwritten (by another replica of its author) with bytes whose
/// signature fails must leave the views, and the next good edit must bring
/// the record back, even when that edit's bytes equal an earlier version's.
#[test]
fn a_value_overwritten_with_bad_bytes_leaves_the_views_until_a_good_edit() {
    let a = key(1);
    let me = a.member_id();
    let title = |reg: &Registry, id| match &reg.index().get(&id).map(|r| r.record().body.clone()) {
        Some(record::Body::Need(n)) => Some(n.title.clone()),
        _ => None,
    };
    let r1 = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    let mut reg = Registry::new();
    let c1 = MemberDoc::new(me)
        .write(&a, &replica(1), std::slice::from_ref(&r1), NOW)
        .unwrap();
    assert_eq!(admit(&mut reg, vec![c1]).admitted.len(), 1);
    assert_eq!(title(&reg, r1.id()).as_deref(), Some("Invoices"));

    // Replica 2, on top of replica 1's change, writes corrupted bytes.
    let mut bad = r1.stored_bytes();
    bad[0] ^= 0x01;
    let mut am = reg.doc(&me).unwrap().automerge().clone();
    am.set_actor(actor_id(&me, &replica(2)));
    let mut tx = am.transaction();
    tx.put(automerge::ROOT, r1.doc_key(), automerge::ScalarValue::Bytes(bad))
        .unwrap();
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW.0 as i64));
    let c2 = SignedChange::sign(&a, &am.get_change_by_hash(&hash.unwrap()).unwrap());
    assert_eq!(admit(&mut reg, vec![c2]).admitted.len(), 1);
    assert_eq!(title(&reg, r1.id()), None, "the overwritten record left the views");
    let invalid: Vec<_> = reg.index().invalid().map(|(_, _, why)| why.clone()).collect();
    assert_eq!(invalid, vec![record::Invalid::BadSignature]);

    // Replica 1 writes the very first version's bytes again: a new operation,
    // so it is read and checked again, and it is valid.
    let c3 = reg
        .doc(&me)
        .unwrap()
        .write(&a, &replica(1), std::slice::from_ref(&r1), NOW)
        .unwrap();
    assert_eq!(admit(&mut reg, vec![c3]).admitted.len(), 1);
    assert_eq!(title(&reg, r1.id()).as_deref(), Some("Invoices"));
    assert_eq!(reg.index().invalid_count(), 0);

    // And a real edit replaces it.
    let r2 = edit(&a, &r1, at(2), need("Invoices and quotes", "1000EUR"));
    let c4 = reg.doc(&me).unwrap().write(&a, &replica(2), &[r2], NOW).unwrap();
    assert_eq!(admit(&mut reg, vec![c4]).admitted.len(), 1);
    assert_eq!(title(&reg, r1.id()).as_deref(), Some("Invoices and quotes"));
}

#[test]
fn a_snapshot_is_unchanged_by_later_admissions() {
    let a = key(1);
    let mut w = World::new();
    let first = rec(&a, 1, at(1), need("One", "100EUR"));
    w.put(&a, 1, std::slice::from_ref(&first));
    let before = w.reg.snapshot();
    let second = rec(&a, 2, at(2), need("Two", "100EUR"));
    w.put(&a, 1, std::slice::from_ref(&second));
    assert!(before.get(&first.id()).is_some() && before.get(&second.id()).is_none());
    assert!(w.reg.index().get(&second.id()).is_some());
    // A snapshot nobody holds any more costs no copy: the registry's is the
    // only reference again.
    drop(before);
    let now = w.reg.snapshot();
    assert!(std::ptr::eq(&*now, w.reg.index()));
}
