//! The persistent index's rows: each slot form (a valid record, a value
//! refused for what its bytes hold, a bad signature) goes through its
//! stored form and back unchanged, and a damaged row is refused.

// Test helpers may panic: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use automerge::ReadDoc;
use automerge::transaction::{CommitOptions, Transactable};
use common::*;
use mutu_protocol::identity::actor_id;
use mutu_protocol::record::Invalid;
use mutu_protocol::registry::Trust;
use mutu_protocol::view::Index;
use mutu_protocol::view::index::{Delta, Entry};
use mutu_protocol::{MemberId, Registry, SignedChange};

/// One change of member 1's replica 1 writing `values` (key, bytes).
fn hand_made(values: &[(String, Vec<u8>)]) -> SignedChange {
    let a = key(1);
    let mut am = automerge::Automerge::new().with_actor(actor_id(&a.member_id(), &replica(1)));
    let mut tx = am.transaction();
    for (k, v) in values {
        tx.put(automerge::ROOT, k.as_str(), automerge::ScalarValue::Bytes(v.clone()))
            .unwrap();
    }
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW.0 as i64));
    SignedChange::sign(&a, &am.get_change_by_hash(&hash.unwrap()).unwrap())
}

/// The delta one admission of `batch` hands to its persist function.
fn delta_of(reg: &mut Registry, batch: Vec<SignedChange>) -> Delta {
    let mut seen = None;
    reg.admit(batch, NOW, Trust::Untrusted, |c| {
        seen = Some(c.index.clone());
        Ok::<(), ()>(())
    })
    .unwrap();
    seen.expect("persist was called")
}

/// Member 1's document holds a valid need, a need under another need's key,
/// member 2's need, bytes whose signature fails, bytes that do not decode
/// and a record of a newer version: six slots of every form.
#[test]
fn each_slot_form_round_trips_through_its_stored_row() {
    let (a, b) = (key(1), key(2));
    let good = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    let moved = rec(&a, 2, at(1), need("Payroll", "500EUR"));
    let theirs = rec(&b, 3, at(1), need("Theirs", "1EUR"));
    let forged = rec(&a, 4, at(1), need("Forged", "1EUR"));
    let mut forged_bytes = forged.stored_bytes();
    forged_bytes[0] ^= 1;
    let values = vec![
        (good.doc_key(), good.stored_bytes()),
        ("need/elsewhere".to_owned(), moved.stored_bytes()),
        (theirs.doc_key(), theirs.stored_bytes()),
        (forged.doc_key(), forged_bytes),
        ("need/garbage".to_owned(), vec![7; 80]),
    ];
    let mut reg = Registry::new();
    let delta = delta_of(&mut reg, vec![hand_made(&values)]);
    let (member, doc) = delta.docs().next().unwrap();
    assert_eq!(*member, a.member_id());
    let entries: BTreeMap<&str, &Entry> = doc.set().collect();
    assert_eq!(entries.len(), 5, "{entries:?}");
    assert_eq!(entries[good.doc_key().as_str()].record(), Some(&good));
    assert!(matches!(
        entries[theirs.doc_key().as_str()].invalid(),
        Some(Invalid::WrongAuthor { .. })
    ));
    assert_eq!(
        entries[forged.doc_key().as_str()].invalid(),
        Some(&Invalid::BadSignature)
    );
    assert!(matches!(entries["need/garbage"].invalid(), Some(Invalid::Malformed(_))));
    assert!(
        entries
            .values()
            .any(|e| matches!(e.invalid(), Some(Invalid::WrongKey { .. })))
    );
    let mut loaded = Index::default();
    for (key, entry) in &entries {
        let row = entry.encode();
        assert_eq!(Entry::decode(*member, key, &row).as_ref(), Ok(*entry), "{key}");
        loaded.load_row(*member, key, &row).unwrap();
    }
    // The index read back from the rows is the live one.
    let sorted = |i: &Index| {
        let mut v: Vec<String> = i.invalid().map(|(m, k, r)| format!("{m} {k} {r}")).collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&loaded), sorted(reg.index()));
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded.get(&good.id()), Some(&good));
}

/// Rows that do not say what their value is: refused, never trusted.
#[test]
fn a_damaged_row_is_refused() {
    let a = key(1);
    let good = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    let mut reg = Registry::new();
    let delta = delta_of(&mut reg, vec![hand_made(&[(good.doc_key(), good.stored_bytes())])]);
    let (member, doc) = delta.docs().next().unwrap();
    let (slot, entry) = doc.set().next().unwrap();
    let row = entry.encode();
    let me: MemberId = *member;
    let damaged = |row: &[u8]| Entry::decode(me, slot, row).unwrap_err().problem;
    assert_eq!(damaged(&[]), "the row is empty");
    assert_eq!(damaged(&row[..1]), "the row ends early");
    assert_eq!(damaged(&row[..10]), "the row ends inside its operation id");
    let mut flipped = row.clone();
    flipped[0] = 2;
    assert_eq!(damaged(&flipped), "a value stored as invalid now decodes");
    // tag, op marker, op id (24), signature (64), then the CBOR map.
    let mut garbled = row.clone();
    garbled[2 + 24 + 64] = 0xff;
    assert_eq!(damaged(&garbled), "a record stored as decoding no longer decodes");
    let mut tag = row.clone();
    tag[0] = 9;
    assert_eq!(damaged(&tag), "unknown verdict");
    // The right row under another member's key does not load either.
    assert!(Entry::decode(key(2).member_id(), slot, &row).is_err());
}

/// A key that spells a valid record's id another way (in capitals) is
/// another key: what it holds is a slot of its own (a record under the
/// wrong key), and the valid record stays, live and read back from rows.
#[test]
fn a_key_spelling_an_id_another_way_is_another_slot() {
    let a = key(1);
    let good = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    let alias = format!("need/{}", good.id().to_string().to_uppercase());
    let mut reg = Registry::new();
    let mut rows = BTreeMap::new();
    let mut keep = |delta: &Delta| {
        for (m, d) in delta.docs() {
            for (k, e) in d.set() {
                rows.insert((*m, k.to_owned()), e.encode());
            }
        }
    };
    keep(&delta_of(
        &mut reg,
        vec![hand_made(&[(good.doc_key(), good.stored_bytes())])],
    ));
    // The same replica then writes the record's bytes under the alias.
    let mut am = reg.doc(&a.member_id()).unwrap().automerge().clone();
    am.set_actor(actor_id(&a.member_id(), &replica(1)));
    let mut tx = am.transaction();
    tx.put(
        automerge::ROOT,
        alias.as_str(),
        automerge::ScalarValue::Bytes(good.stored_bytes()),
    )
    .unwrap();
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW.0 as i64));
    let second = SignedChange::sign(&a, &am.get_change_by_hash(&hash.unwrap()).unwrap());
    keep(&delta_of(&mut reg, vec![second]));
    assert_eq!(reg.index().get(&good.id()), Some(&good));
    assert_eq!(
        reg.index().invalid().map(|(_, k, _)| k.to_owned()).collect::<Vec<_>>(),
        vec![alias]
    );
    let mut loaded = Index::default();
    for ((m, k), row) in &rows {
        loaded.load_row(*m, k, row).unwrap();
    }
    assert_eq!(loaded.get(&good.id()), Some(&good));
    assert_eq!(loaded.invalid_count(), 1);
}
