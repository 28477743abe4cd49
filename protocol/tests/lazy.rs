//! Lazy documents: a registry that keeps only a few documents loaded reads
//! the others back from its store when a change must be applied to them,
//! and behaves as one that keeps them all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::*;
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::verify::Sequential;
use mutu_protocol::{Registry, SecretKey, SignedChange};

fn lazy(cache: usize) -> Registry {
    Registry::with_cache(Arc::new(Sequential), cache)
}

/// `key`'s next change as replica `r`, written on the registry's document
/// (read back from `store` if it was evicted).
fn write(reg: &mut Registry, store: &MemStore, key: &SecretKey, r: u8, nonce: u8) -> SignedChange {
    let me = key.member_id();
    let doc = reg
        .load(&me, store)
        .expect("reads")
        .cloned()
        .unwrap_or_else(|| MemberDoc::new(me));
    let record = rec(key, nonce, NOW, need(&format!("need {nonce}"), "100 EUR"));
    doc.write(key, &replica(r), &[record], NOW).expect("write")
}

fn metas(reg: &Registry) -> Vec<(mutu_protocol::MemberId, mutu_protocol::doc::Meta)> {
    reg.metas().map(|(m, d)| (*m, d.clone())).collect()
}

/// Three members writing in turns through a cache of one document: every
/// write reads its document back, and the registry ends as one that kept
/// every document loaded, fed the same changes.
#[test]
fn a_cache_of_one_document_admits_as_an_unbounded_one() {
    let store = MemStore::default();
    let mut small = lazy(1);
    let mut full = Registry::new();
    let keys = [key(1), key(2), key(3)];
    for round in 0..4u8 {
        for (i, k) in keys.iter().enumerate() {
            let change = write(&mut small, &store, k, 1, round * 3 + i as u8);
            let report = admit_lazy(&mut small, &store, vec![change.clone()]).expect("reads");
            assert_eq!(report.admitted.len(), 1, "{report:?}");
            assert_eq!(admit(&mut full, vec![change]).admitted.len(), 1);
            assert!(small.loaded_count() <= 1);
        }
    }
    assert!(
        store.reads.get() >= 9,
        "documents were read back: {}",
        store.reads.get()
    );
    assert_eq!(digest(&small, NOW), digest(&full, NOW));
    assert_eq!(metas(&small), metas(&full));
    assert_eq!(small.index().len(), 12);
}

/// A: the store cannot be read while A's document is evicted. Admitting A's
/// next change fails with the store's error; metas, views and heads stay as
/// they were, and the change is admitted once the store reads again.
#[test]
fn a_failed_read_is_an_error_and_changes_nothing() {
    let store = MemStore::default();
    let mut reg = lazy(1);
    let (a, b) = (key(1), key(2));
    let first = write(&mut reg, &store, &a, 1, 1);
    admit_lazy(&mut reg, &store, vec![first]).expect("reads");
    let next = write(&mut reg, &store, &a, 1, 2);
    let other = write(&mut reg, &store, &b, 1, 3);
    admit_lazy(&mut reg, &store, vec![other]).expect("reads");
    assert!(reg.doc(&a.member_id()).is_none(), "A's document is evicted");
    let (before, metas_before) = (digest(&reg, NOW), metas(&reg));
    store.broken.set(true);
    let err = admit_lazy(&mut reg, &store, vec![next.clone()]).expect_err("the read fails");
    assert!(err.contains("cannot read"), "{err}");
    assert_eq!(digest(&reg, NOW), before);
    assert_eq!(metas(&reg), metas_before);
    assert!(reg.load(&a.member_id(), &store).is_err());
    store.broken.set(false);
    let report = admit_lazy(&mut reg, &store, vec![next]).expect("reads");
    assert_eq!(report.admitted.len(), 1, "{report:?}");
    assert_eq!(reg.index().len(), 3);
}

/// A signs two changes with the same sequence number (two histories) while
/// its document is evicted: the second is refused, and the evidence names
/// the change kept, found in the changes read back.
#[test]
fn an_equivocation_names_the_kept_change_of_an_evicted_document() {
    let store = MemStore::default();
    let mut reg = lazy(1);
    let (a, b) = (key(1), key(2));
    let base = MemberDoc::new(a.member_id());
    let one = base
        .write(&a, &replica(1), &[rec(&a, 1, NOW, need("one", "1 EUR"))], NOW)
        .expect("write");
    let two = base
        .write(&a, &replica(1), &[rec(&a, 2, NOW, need("two", "2 EUR"))], NOW)
        .expect("write");
    admit_lazy(&mut reg, &store, vec![one.clone()]).expect("reads");
    let other = write(&mut reg, &store, &b, 1, 3);
    admit_lazy(&mut reg, &store, vec![other]).expect("reads");
    assert!(reg.doc(&a.member_id()).is_none(), "A's document is evicted");
    let report = admit_lazy(&mut reg, &store, vec![two]).expect("reads");
    assert!(report.admitted.is_empty());
    assert_eq!(report.equivocations.len(), 1, "{report:?}");
    assert_eq!(report.equivocations[0].kept, hash_of(&one));
}

/// A registry that opens with the metas a store kept (no document read)
/// takes the next change of any member: the document is read back when the
/// change must be applied, and the metas end as in the registry that
/// admitted everything.
#[test]
fn a_registry_restored_from_stored_metas_reads_documents_back_on_demand() {
    let store = MemStore::default();
    let mut first = lazy(1);
    let (a, b) = (key(1), key(2));
    for (k, n) in [(&a, 1), (&b, 2), (&a, 3)] {
        let c = write(&mut first, &store, k, 1, n);
        admit_lazy(&mut first, &store, vec![c]).expect("reads");
    }
    let mut second = lazy(1);
    second.restore_metas(first.metas().map(|(m, d)| (*m, d.clone())));
    assert_eq!(second.loaded_count(), 0);
    assert_eq!(second.doc_count(), 2);
    let reads = store.reads.get();
    let next = write(&mut second, &store, &a, 1, 4);
    assert!(store.reads.get() > reads, "A's document was read back");
    let report = admit_lazy(&mut second, &store, vec![next.clone()]).expect("reads");
    assert_eq!(report.admitted.len(), 1, "{report:?}");
    admit_lazy(&mut first, &store, vec![next]).expect("reads");
    assert_eq!(metas(&second), metas(&first));
}
