//! Attacks on admission (issue 7, rows 1–5), each with what must hold.
//! Each test was written before its fix and failed on the code it fixes
//! (see the commit messages).
//!
//! Crafted changes start from valid ones: the chunk is edited with the
//! layout of [`mutu_protocol::change::chunk::layout`], resealed (checksum)
//! and re-signed with the member's own key, so every attack gets past the
//! signature check as a real member's change would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::Cell;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ROOT, ReadDoc, ScalarValue};
use common::*;
use ed25519_dalek::Signer;
use mutu_protocol::admission::{Fault, Rejection, Share};
use mutu_protocol::change::chunk::layout::{self, Layout};
use mutu_protocol::change::{self, SignedChange};
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::actor_id;
use mutu_protocol::registry::{self, Source, Trust};
use mutu_protocol::verify::{Item, Sequential, Verifier};
use mutu_protocol::{Registry, Timestamp};
use sha2::{Digest, Sha256};

/// Signs `bytes` (a change chunk) as a change of member `n`'s document.
fn sign_raw(n: u8, bytes: Vec<u8>) -> SignedChange {
    let doc = key(n).member_id();
    let hash = automerge::ChangeHash(Sha256::digest(&bytes[8..]).into());
    let sig = ed25519_dalek::SigningKey::from_bytes(&[n; 32])
        .sign(&change::signed_message(&doc, &hash))
        .to_bytes();
    SignedChange::from_parts(doc, bytes, sig)
}

/// `c` with its data rebuilt by `edit` (given the layout and the whole
/// chunk), resealed and re-signed by member `n`.
fn recraft(n: u8, c: &SignedChange, edit: impl FnOnce(&Layout, &[u8]) -> Vec<u8>) -> SignedChange {
    let bytes = c.change_bytes();
    let l = layout::parse(bytes).unwrap();
    let data = edit(&l, bytes);
    sign_raw(n, layout::seal(1, &data))
}

/// `c` with `actor` added to its other actors (which no operation uses).
fn with_extra_actor(n: u8, c: &SignedChange, actor: &[u8]) -> SignedChange {
    recraft(n, c, |l, b| {
        let mut data = b[l.data..l.other_actors.start].to_vec();
        data.extend(layout::uleb(1));
        data.extend(layout::uleb(actor.len() as u64));
        data.extend_from_slice(actor);
        data.extend_from_slice(&b[l.other_actors.end..]);
        data
    })
}

fn need_change(n: u8, nonce: u8) -> SignedChange {
    let k = key(n);
    let r = rec(&k, nonce, at(1), need("Invoices", "1000EUR"));
    MemberDoc::new(k.member_id()).write(&k, &replica(1), &[r], NOW).unwrap()
}

/// Admits into `reg`, noting whether `persist` was called.
fn admit_noting(
    reg: &mut Registry,
    batch: Vec<SignedChange>,
    trust: Trust,
) -> (mutu_protocol::admission::Report, bool) {
    let persisted = Cell::new(false);
    let report = reg
        .admit(batch, NOW, trust, |_| {
            persisted.set(true);
            Ok::<(), ()>(())
        })
        .unwrap();
    (report, persisted.get())
}

/// A change made straight with automerge as replica 1 of member `n`,
/// putting `value` under `key` (no record: the bytes are the attack).
fn raw_put(n: u8, key_name: &str, value: Vec<u8>) -> automerge::Change {
    let mut am = automerge::Automerge::new();
    am.set_actor(actor_id(&key(n).member_id(), &replica(1)));
    let mut tx = am.transaction();
    tx.put(ROOT, key_name, ScalarValue::Bytes(value)).unwrap();
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW.as_millis() as i64));
    am.get_change_by_hash(&hash.unwrap()).unwrap().clone()
}

// Row 1 ---------------------------------------------------------------------

#[test]
fn a_change_naming_an_unknown_replica_is_refused_before_it_is_stored() {
    let a = key(1);
    let c = need_change(1, 1);
    // The extra actor is a replica of the owner itself: rule 2's key check
    // passes, and automerge 0.12 panics on it while applying.
    let extra = actor_id(&a.member_id(), &replica(9)).to_bytes().to_vec();
    let evil = with_extra_actor(1, &c, &extra);
    let mut reg = Registry::new();
    let (report, persisted) = admit_noting(&mut reg, vec![evil], Trust::Untrusted);
    assert!(!persisted, "nothing may be stored: {report:?}");
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert!(
        matches!(report.rejected[0].reason, Rejection::UnknownActor { .. }),
        "{report:?}"
    );
    assert_eq!(report.rejected[0].reason.fault(), Fault::Sender);
    assert_eq!(reg.doc_count(), 0);
    // The registry still works: the genuine change goes in.
    let (report, persisted) = admit_noting(&mut reg, vec![c], Trust::Untrusted);
    assert!(persisted && report.admitted.len() == 1, "{report:?}");
}

#[test]
fn a_change_naming_another_members_key_is_foreign() {
    let c = need_change(1, 1);
    let extra = actor_id(&key(2).member_id(), &replica(1)).to_bytes().to_vec();
    let evil = with_extra_actor(1, &c, &extra);
    let (report, persisted) = admit_noting(&mut Registry::new(), vec![evil], Trust::Untrusted);
    assert!(!persisted);
    assert_eq!(
        report.rejected[0].reason,
        Rejection::ForeignActor {
            doc: key(1).member_id()
        }
    );
}

#[test]
fn a_store_holding_an_unapplicable_change_still_opens() {
    // What a node that stored such a change before this fix reads back:
    // the bad change between two good ones, all trusted as its own.
    let a = key(1);
    let mut w = World::new();
    let good1 = w.put(&a, 1, &[rec(&a, 1, at(1), need("One", "100EUR"))]);
    let good2 = w.put(&a, 1, &[rec(&a, 2, at(2), need("Two", "100EUR"))]);
    // The bad change follows the good ones (seq 3 of replica 1).
    let next = w
        .doc(&a)
        .write(&a, &replica(1), &[rec(&a, 3, at(3), need("Three", "100EUR"))], NOW)
        .unwrap();
    let extra = actor_id(&a.member_id(), &replica(7)).to_bytes().to_vec();
    let evil = with_extra_actor(1, &next, &extra);
    let mut reg = Registry::new();
    let (report, _) = admit_noting(&mut reg, vec![good1, evil, good2], Trust::OwnStore);
    assert_eq!(report.admitted.len(), 2, "{report:?}");
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(digest(&reg, NOW), digest(&w.reg, NOW));
}

// Row 2 ---------------------------------------------------------------------

#[test]
fn a_compressed_change_is_refused_before_it_is_inflated() {
    let a = key(1);
    // A valid change, deflated by automerge itself: same hash, so the
    // member's own signature still holds.
    let mut body = need("Invoices", "1000EUR");
    if let mutu_protocol::record::Body::Need(n) = &mut body {
        n.description = "spam ".repeat(1_900);
    }
    let r = rec(&a, 1, at(1), body);
    let c = MemberDoc::new(a.member_id()).write(&a, &replica(1), &[r], NOW).unwrap();
    let mut am = automerge::Change::from_bytes(c.change_bytes().to_vec()).unwrap();
    let deflated = am.bytes().into_owned();
    assert_eq!(deflated[8], 2, "automerge compresses a change this large");
    let evil = SignedChange::from_parts(a.member_id(), deflated, *c.sig_bytes());
    let (report, persisted) = admit_noting(&mut Registry::new(), vec![evil], Trust::Untrusted);
    assert!(!persisted, "{report:?}");
    assert!(
        matches!(&report.rejected[0].reason, Rejection::Malformed(m) if m.contains("compressed")),
        "{report:?}"
    );
}

#[test]
fn an_inflation_bomb_is_refused_on_its_decoded_size() {
    // 8 MiB of zeros under one key deflate to a few kilobytes.
    let mut bomb = raw_put(1, "need/bomb", vec![0; 8 << 20]);
    let deflated = bomb.bytes().into_owned();
    assert!(deflated.len() < 64 * 1024, "{}", deflated.len());
    // Signed over the change's real hash (that of the inflated form).
    let sig = ed25519_dalek::SigningKey::from_bytes(&[1; 32])
        .sign(&change::signed_message(&key(1).member_id(), &bomb.hash()))
        .to_bytes();
    let evil = SignedChange::from_parts(key(1).member_id(), deflated, sig);
    let (report, persisted) = admit_noting(&mut Registry::new(), vec![evil], Trust::Untrusted);
    assert!(!persisted, "{report:?}");
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].reason.fault(), Fault::Sender);
}

#[test]
fn a_value_over_the_record_limit_is_refused_at_admission() {
    // Uncompressed, under the change limit, over the record limit.
    let big = raw_put(1, "need/big", vec![7; 100 * 1024]);
    let evil = sign_raw(1, big.raw_bytes().to_vec());
    let (report, persisted) = admit_noting(&mut Registry::new(), vec![evil], Trust::Untrusted);
    assert!(!persisted, "{report:?}");
    assert!(
        matches!(&report.rejected[0].reason, Rejection::Malformed(m) if m.contains("record limit")),
        "{report:?}"
    );
}

/// A change whose columns claim `n` null puts under key `k`, in a few
/// bytes: run-length encoding lets a 300-byte chunk declare any count.
fn op_bomb(n_ops: u64) -> SignedChange {
    let valid = need_change(1, 1);
    recraft(1, &valid, |l, b| {
        let n = n_ops as i64;
        let null_run = |count: i64| [layout::sleb(0), layout::uleb(count as u64)].concat();
        let columns: Vec<(u32, Vec<u8>)> = vec![
            (0x11, null_run(n)),                                                // key actor
            (0x13, null_run(n)),                                                // key counter
            (0x15, [layout::sleb(n), layout::uleb(1), b"k".to_vec()].concat()), // key string
            (0x34, layout::uleb(n as u64)),                                     // insert: n falses
            (0x42, [layout::sleb(n), layout::uleb(1)].concat()),                // action: put
            (0x56, [layout::sleb(n), layout::uleb(0)].concat()),                // value: null
            (0x70, [layout::sleb(n), layout::uleb(0)].concat()),                // no preds
        ];
        let mut data = b[l.data..l.column_meta.start].to_vec();
        data.extend(layout::uleb(columns.len() as u64));
        for (spec, col) in &columns {
            data.extend(layout::uleb(u64::from(*spec)));
            data.extend(layout::uleb(col.len() as u64));
        }
        for (_, col) in &columns {
            data.extend_from_slice(col);
        }
        data
    })
}

#[test]
fn a_change_declaring_a_million_operations_in_a_few_bytes_is_refused() {
    let evil = op_bomb(1_000_000);
    assert!(evil.change_bytes().len() < 1_000);
    let (report, persisted) = admit_noting(&mut Registry::new(), vec![evil], Trust::Untrusted);
    assert!(!persisted, "{report:?}");
    assert!(
        matches!(&report.rejected[0].reason, Rejection::Malformed(m) if m.contains("more than")),
        "{report:?}"
    );
}

// Row 3 ---------------------------------------------------------------------

#[test]
fn an_equivocation_is_the_members_fault_and_kept_as_signed_evidence() {
    let a = key(1);
    let doc = MemberDoc::new(a.member_id());
    // Two histories of replica 1 from the same (empty) state: both seq 1.
    let first = doc
        .write(&a, &replica(1), &[rec(&a, 1, at(1), need("A", "100EUR"))], NOW)
        .unwrap();
    let second = doc
        .write(&a, &replica(1), &[rec(&a, 2, at(2), need("B", "100EUR"))], NOW)
        .unwrap();
    let mut reg = Registry::new();
    admit(&mut reg, vec![first.clone()]);
    let report = admit(&mut reg, vec![second.clone()]);
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    let reason = &report.rejected[0].reason;
    assert_eq!(*reason, Rejection::ConflictingSeq { seq: 1 });
    assert_eq!(reason.fault(), Fault::Member);
    assert!(!reason.is_misbehaviour(), "the relaying peer did nothing wrong");
    let [evidence] = &report.equivocations[..] else {
        panic!("one equivocation: {report:?}")
    };
    assert_eq!(evidence.doc, a.member_id());
    assert_eq!(evidence.seq, 1);
    assert_eq!(evidence.kept, hash_of(&first));
    assert_eq!(evidence.other, second);
    assert_eq!(evidence.other_hash, hash_of(&second));
    // The evidence holds on its own: the other change verifies under the
    // member's key, and both changes name the same actor and number.
    let other = evidence.other.decode().unwrap();
    let kept = automerge::Change::from_bytes(first.change_bytes().to_vec()).unwrap();
    assert_eq!((other.actor_id(), other.seq()), (kept.actor_id(), kept.seq()));
    let key = a.member_id().verifying_key().unwrap();
    let message = change::signed_message(&a.member_id(), &other.hash());
    assert!(
        Item {
            message: &message,
            signature: *evidence.other.sig_bytes(),
            key,
        }
        .verify()
    );
    // Sent again, the other history is known: a duplicate, not a new report.
    let again = admit(&mut reg, vec![second.clone()]);
    assert_eq!((again.duplicates, again.rejected.len()), (1, 0), "{again:?}");
    // A change building on the other history is refused at once, as the
    // member's doing, and its parent is not asked for.
    let mut other_doc = MemberDoc::new(a.member_id());
    let mut scratch = Registry::new();
    admit(&mut scratch, vec![second]);
    other_doc = scratch.doc(&a.member_id()).cloned().unwrap_or(other_doc);
    let child = other_doc
        .write(&a, &replica(1), &[rec(&a, 3, at(3), need("C", "100EUR"))], NOW)
        .unwrap();
    let report = admit(&mut reg, vec![child]);
    assert!(
        matches!(report.rejected[..], [ref r] if matches!(r.reason, Rejection::BuildsOnConflict { .. })),
        "{report:?}"
    );
    assert!(report.missing.is_empty(), "{report:?}");
    assert_eq!(reg.pending_count(), 0);
}

// Row 4 ---------------------------------------------------------------------

#[test]
fn a_signature_with_a_torsion_component_gets_one_verdict_alone_and_in_any_batch() {
    let messages: Vec<Vec<u8>> = (0..300u32).map(|i| i.to_le_bytes().repeat(9)).collect();
    let signer = ed25519_dalek::SigningKey::from_bytes(&[2; 32]);
    let honest = key(2).member_id().verifying_key().unwrap();
    let odd_key = key(3).member_id().verifying_key().unwrap();
    let odd_message = b"the odd one".to_vec();
    let odd = Item {
        message: &odd_message,
        signature: torsion_signature(3, &odd_message, 4),
        key: odd_key,
    };
    let alone = Sequential.verify(&[odd])[0];
    assert_eq!(alone, odd.verify());
    // In batches of every size and position, with different neighbours: the
    // batch coefficients change, the verdict must not.
    for size in [1usize, 2, 3, 17, 100, 255, 256, 300] {
        for position in [0, size / 2, size.saturating_sub(1)] {
            let mut items: Vec<Item<'_>> = messages[..size]
                .iter()
                .map(|m| Item {
                    message: m,
                    signature: signer.sign(m).to_bytes(),
                    key: honest,
                })
                .collect();
            items[position] = odd;
            let verdicts = Sequential.verify(&items);
            assert_eq!(verdicts[position], alone, "size {size}, position {position}");
            assert!(verdicts.iter().enumerate().all(|(i, v)| i == position || *v));
        }
    }
}

#[test]
fn a_change_signed_with_a_torsion_component_is_admitted_alike_alone_and_in_a_batch() {
    let c = need_change(1, 1);
    let hash = hash_of(&c);
    let odd = SignedChange::from_parts(
        c.doc(),
        c.change_bytes().to_vec(),
        torsion_signature(1, &change::signed_message(&c.doc(), &hash), 4),
    );
    let alone = admit(&mut Registry::new(), vec![odd.clone()]);
    // The same change among 40 other members' changes, in several orders.
    for shift in 0..8 {
        let mut batch: Vec<SignedChange> = (10..50u8).map(|n| need_change(n, 1)).collect();
        batch.insert(shift * 5, odd.clone());
        let report = admit(&mut Registry::new(), batch);
        let in_batch = report.admitted.iter().any(|(_, h)| *h == hash);
        assert_eq!(in_batch, !alone.admitted.is_empty(), "shift {shift}: {report:?}");
    }
}

// Row 5 ---------------------------------------------------------------------

/// A valid change of member `n` whose one dependency is made up.
fn orphan(n: u8, i: u32) -> SignedChange {
    let c = need_change(n, 1);
    recraft(n, &c, |l, b| {
        let mut data = layout::uleb(1);
        data.extend_from_slice(&Sha256::digest(i.to_le_bytes()));
        // Skip the original dependencies (count 0: one byte).
        assert_eq!(b[l.data], 0);
        data.extend_from_slice(&b[l.data + 1..]);
        data
    })
}

#[test]
fn one_sender_filling_its_pending_share_does_not_keep_others_out() {
    let mut reg = Registry::new();
    let flooder = Source(1);
    let honest = Source(2);
    // 10 050 validly signed changes with made-up dependencies, over 50
    // throw-away members: more than the flooder's share.
    let mut refused = 0;
    for batch in (0..10_050u32).collect::<Vec<_>>().chunks(500) {
        let changes: Vec<SignedChange> = batch.iter().map(|i| orphan(100 + (*i % 50) as u8, *i)).collect();
        let report = reg
            .admit(changes, NOW, Trust::Peer(flooder), |_| Ok::<(), ()>(()))
            .unwrap();
        refused += report
            .rejected
            .iter()
            .filter(|r| r.reason == Rejection::PendingFull { share: Share::Sender })
            .count();
        assert!(
            report.rejected.iter().all(|r| !r.reason.is_misbehaviour()),
            "{report:?}"
        );
    }
    assert_eq!(reg.pending_count(), registry::MAX_PENDING_SOURCE_CHANGES);
    assert_eq!(refused, 10_050 - registry::MAX_PENDING_SOURCE_CHANGES);
    assert!(reg.pending_bytes() <= registry::MAX_PENDING_SOURCE_BYTES);
    // An honest member's changes arriving out of order still wait, then go in.
    let h = key(7);
    let mut w = World::new();
    let first = w.put(&h, 1, &[rec(&h, 1, at(1), need("One", "100EUR"))]);
    let second = w.put(&h, 1, &[rec(&h, 2, at(2), need("Two", "100EUR"))]);
    let report = reg
        .admit(vec![second], NOW, Trust::Peer(honest), |_| Ok::<(), ()>(()))
        .unwrap();
    assert_eq!(report.pending, 1, "{report:?}");
    let report = reg
        .admit(vec![first], NOW, Trust::Peer(honest), |_| Ok::<(), ()>(()))
        .unwrap();
    assert_eq!(report.admitted.len(), 2, "{report:?}");
}

#[test]
fn a_full_buffer_evicts_from_the_largest_share_only() {
    let mut reg = Registry::new();
    // Fill the whole buffer: four senders of 4 000, 4 096, 4 000, 4 000
    // changes, then 288 more from a fifth (16 384 in all). Sender 2's share
    // is the largest. The orphans spread over 50 throw-away members.
    let mut sent: Vec<Vec<SignedChange>> = Vec::new();
    let mut next = 0u32;
    for (source, count) in [(1, 4_000u32), (2, 4_096), (3, 4_000), (4, 4_000), (5, 288)] {
        let changes: Vec<SignedChange> = (next..next + count).map(|i| orphan(100 + (i % 50) as u8, i)).collect();
        next += count;
        for chunk in changes.chunks(1_000) {
            let report = reg
                .admit(chunk.to_vec(), NOW, Trust::Peer(Source(source)), |_| Ok::<(), ()>(()))
                .unwrap();
            assert!(report.rejected.is_empty(), "{report:?}");
        }
        sent.push(changes);
    }
    assert_eq!(reg.pending_count(), registry::MAX_PENDING);
    // Senders that are not the largest still get in: each newcomer takes
    // the place of one change of the largest share, and only of that share.
    let newcomers: Vec<SignedChange> = (0..3).map(|k| orphan(42, next + k)).collect();
    for (k, newcomer) in newcomers.iter().enumerate() {
        let report = reg
            .admit(vec![newcomer.clone()], NOW, Trust::Peer(Source(6 + k as u64)), |_| {
                Ok::<(), ()>(())
            })
            .unwrap();
        assert_eq!(report.pending, 1, "{report:?}");
    }
    assert_eq!(reg.pending_count(), registry::MAX_PENDING);
    let still: Vec<usize> = sent
        .iter()
        .map(|changes| changes.iter().filter(|c| reg.knows(&c.doc(), &hash_of(c))).count())
        .collect();
    assert_eq!(still, [4_000, 4_093, 4_000, 4_000, 288]);
    assert!(newcomers.iter().all(|c| reg.knows(&c.doc(), &hash_of(c))));
}

#[test]
fn one_document_cannot_take_more_than_its_pending_share() {
    let mut reg = Registry::new();
    let changes: Vec<SignedChange> = (0..1_100u32).map(|i| orphan(100, i)).collect();
    let report = reg
        .admit(changes, NOW, Trust::Peer(Source(1)), |_| Ok::<(), ()>(()))
        .unwrap();
    assert_eq!(report.pending, registry::MAX_PENDING_DOC_CHANGES);
    assert!(
        report
            .rejected
            .iter()
            .all(|r| r.reason == Rejection::PendingFull { share: Share::Document })
    );
}

#[test]
fn waiting_changes_expire() {
    let mut reg = Registry::new();
    let report = reg
        .admit(vec![orphan(100, 1)], NOW, Trust::Peer(Source(1)), |_| Ok::<(), ()>(()))
        .unwrap();
    assert_eq!(report.pending, 1);
    let just_before = Timestamp::from_millis(NOW.as_millis() + registry::PENDING_TTL_MS);
    assert_eq!(reg.expire_pending(just_before), 0);
    let after = Timestamp::from_millis(NOW.as_millis() + registry::PENDING_TTL_MS + 1);
    assert_eq!(reg.expire_pending(after), 1);
    assert_eq!((reg.pending_count(), reg.pending_bytes()), (0, 0));
}

#[test]
fn the_chunk_hash_is_sha256_of_everything_after_the_checksum() {
    // What `sign_raw` relies on.
    let c = need_change(1, 1);
    assert_eq!(
        automerge::ChangeHash(Sha256::digest(&c.change_bytes()[8..]).into()),
        hash_of(&c)
    );
}
