//! The `doc_meta` table: member id → the document's [`Meta`] (heads, clock,
//! change hashes), written in the same durable commit as the changes that
//! made it ([`Store::put_commit`]), removed with the document. A node opens
//! with these instead of every document (lazy documents: the registry reads
//! a document back from `doc_log` only to apply a change to it).

use mutu_protocol::doc::Meta;
use mutu_protocol::identity::MemberId;
use mutu_protocol::registry::{self, Load};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::{CHANGES, DOC_LOG, Error, Store, decode};

pub(super) const DOC_META: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("doc_meta");

impl Store {
    /// Every document's stored metadata, by member. A damaged entry is
    /// skipped (logged): that document is then read back when next needed.
    pub fn doc_metas(&self) -> Result<Vec<(MemberId, Meta)>, Error> {
        self.reading(|db| {
            let tx = db.begin_read()?;
            let table = tx.open_table(DOC_META)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                let (k, v) = entry?;
                let member = MemberId::from_bytes(*k.value());
                match Meta::decode(v.value()) {
                    Ok(meta) => out.push((member, meta)),
                    Err(e) => tracing::warn!(%member, error = %e, "skipped damaged document metadata in the store"),
                }
            }
            Ok(out)
        })
    }

    /// The hashes of `doc`'s changes in the order they were admitted (each
    /// after its dependencies), from `doc_log` alone.
    pub fn doc_hashes(&self, doc: &MemberId) -> Result<Vec<[u8; 32]>, Error> {
        self.reading(|db| {
            let tx = db.begin_read()?;
            let log = tx.open_table(DOC_LOG)?;
            let (lo, hi) = super::log_range(doc);
            log.range::<&[u8; 40]>(&lo..=&hi)?
                .map(|e| e.map(|(_, h)| *h.value()).map_err(Error::from))
                .collect()
        })
    }
}

/// A registry with a bounded cache reads documents back from here.
impl Load for Store {
    type Error = Error;
    fn changes(&self, member: &MemberId) -> Result<Vec<mutu_protocol::SignedChange>, Error> {
        self.doc_changes(member)
    }
}

/// Writes `metas` into `tx`.
pub(super) fn put_metas(tx: &WriteTransaction, metas: &[(MemberId, Meta)]) -> Result<(), Error> {
    let mut table = tx.open_table(DOC_META)?;
    for (member, meta) in metas {
        table.insert(member.as_bytes(), meta.encode().as_slice())?;
    }
    Ok(())
}

/// Removes `doc`'s metadata in `tx`.
pub(super) fn remove_meta(tx: &WriteTransaction, doc: &MemberId) -> Result<(), Error> {
    tx.open_table(DOC_META)?.remove(doc.as_bytes())?;
    Ok(())
}

/// Migration to format 3: each stored document's metadata, computed by
/// reading the document back as the registry does (what cannot be applied
/// skipped), one document at a time.
pub(super) fn migrate(tx: &WriteTransaction) -> Result<(), Error> {
    let mut metas: Vec<(MemberId, Meta)> = Vec::new();
    {
        let changes = tx.open_table(CHANGES)?;
        let log = tx.open_table(DOC_LOG)?;
        let mut doc: Option<(MemberId, Vec<mutu_protocol::SignedChange>)> = None;
        let mut finish = |d: Option<(MemberId, Vec<mutu_protocol::SignedChange>)>| {
            if let Some((member, cs)) = d {
                metas.push((member, registry::rebuild(member, cs).meta().clone()));
            }
        };
        for entry in log.iter()? {
            let (key, hash) = entry?;
            let mut id = [0u8; 32];
            id.copy_from_slice(&key.value()[..32]);
            let member = MemberId::from_bytes(id);
            if doc.as_ref().is_none_or(|(m, _)| *m != member) {
                finish(doc.take());
                doc = Some((member, Vec::new()));
            }
            let Some(v) = changes.get(hash.value())? else { continue };
            match decode(v.value()) {
                Ok(c) => {
                    if let Some((_, cs)) = doc.as_mut() {
                        cs.push(c);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "skipped a damaged change in the store"),
            }
        }
        finish(doc.take());
    }
    tx.delete_table(DOC_META)?;
    put_metas(tx, &metas)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mutu_protocol::doc::MemberDoc;
    use mutu_protocol::identity::{ReplicaNonce, SecretKey};
    use mutu_protocol::record::{Body, Need, Record};
    use mutu_protocol::registry::{Registry, Trust};
    use mutu_protocol::verify::Sequential;
    use mutu_protocol::{SignedChange, Timestamp};
    use redb::Durability;

    use super::super::{FORMAT, FORMAT_KEY, META};
    use super::*;

    const NOW: Timestamp = Timestamp(2_000);

    /// `key`'s next change (`n`th need) on the document as `registry` has it.
    fn next(registry: &mut Registry, store: &Store, key: &SecretKey, n: u8) -> SignedChange {
        let record = Record::new(
            key.member_id(),
            [n; 16],
            NOW,
            Body::Need(Need::titled(format!("need {n}"))),
        )
        .sign(key)
        .unwrap();
        let doc = registry
            .load(&key.member_id(), store)
            .unwrap()
            .cloned()
            .unwrap_or_else(|| MemberDoc::new(key.member_id()));
        doc.write(key, &ReplicaNonce([1; 16]), &[record], NOW).unwrap()
    }

    fn metas(registry: &Registry) -> Vec<(MemberId, Meta)> {
        registry.metas().map(|(m, d)| (*m, d.clone())).collect()
    }

    /// Members A, B, C write 3, 2, 1 changes through a registry that keeps
    /// one document loaded; `commit` stores each admission.
    fn fill(store: &Store, commit: impl Fn(&Store, &registry::Commit<'_>) -> Result<usize, Error>) -> Registry {
        let mut registry = Registry::with_cache(Arc::new(Sequential), 1);
        for round in 0..3u8 {
            for (n, key) in [1u8, 2, 3].into_iter().map(|n| (n, SecretKey::from_bytes(&[n; 32]))) {
                if round + n > 3 {
                    continue;
                }
                let c = next(&mut registry, store, &key, round * 3 + n);
                let report = registry
                    .admit_with(vec![c], NOW, Trust::Untrusted, store, |c| commit(store, c).map(drop))
                    .unwrap();
                assert_eq!(report.admitted.len(), 1, "{report:?}");
            }
        }
        assert_eq!(registry.doc_count(), 3);
        registry
    }

    #[test]
    fn metas_are_written_with_the_changes_and_removed_with_the_document() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let store = Store::open(&path).unwrap();
        let registry = fill(&store, Store::put_commit);
        assert_eq!(store.doc_metas().unwrap(), metas(&registry));
        let a = SecretKey::from_bytes(&[1; 32]).member_id();
        assert_eq!(registry.meta(&a).unwrap().change_count(), 3);
        store.remove_doc(&a).unwrap();
        let left = store.doc_metas().unwrap();
        assert_eq!(left.len(), 2);
        assert!(left.iter().all(|(m, _)| *m != a));
        drop(store);
        // Reopened: the same metas.
        assert_eq!(Store::open(&path).unwrap().doc_metas().unwrap(), left);
    }

    #[test]
    fn a_format_2_store_gets_its_metas_in_one_migration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let store = Store::open(&path).unwrap();
        // Format 2 stored the changes only.
        let registry = fill(&store, |s, c| s.put_changes(c.admitted));
        {
            let db = store.db().unwrap();
            let mut tx = db.begin_write().unwrap();
            tx.set_durability(Durability::Immediate).unwrap();
            tx.delete_table(DOC_META).unwrap();
            tx.open_table(META).unwrap().insert(FORMAT_KEY, 2).unwrap();
            tx.commit().unwrap();
        }
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.format().unwrap(), FORMAT);
        assert_eq!(store.doc_metas().unwrap(), metas(&registry));
    }

    #[test]
    fn the_log_gives_a_documents_hashes_in_admission_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.redb")).unwrap();
        let registry = fill(&store, Store::put_commit);
        let a = SecretKey::from_bytes(&[1; 32]).member_id();
        let hashes = store.doc_hashes(&a).unwrap();
        let decoded: Vec<[u8; 32]> = store
            .doc_changes(&a)
            .unwrap()
            .iter()
            .map(|c| c.decode().unwrap().hash().0)
            .collect();
        assert_eq!(hashes, decoded);
        let mut sorted = hashes.clone();
        sorted.sort();
        let meta: Vec<[u8; 32]> = registry.meta(&a).unwrap().hashes().iter().map(|h| h.0).collect();
        assert_eq!(sorted, meta);
    }
}
