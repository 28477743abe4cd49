//! The `doc_meta` table: member id → the document's [`Meta`] (heads, clock,
//! change hashes), written in the same durable commit as the changes that
//! made it ([`Store::put_commit`]), removed with the document. A node opens
//! with these instead of every document (lazy documents: the registry reads
//! a document back from `doc_log` only to apply a change to it).

use mutu_protocol::doc::Meta;
use mutu_protocol::identity::MemberId;
use mutu_protocol::registry::{self, Commit, Load};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::{CHANGES, DOC_LOG, Error, Store, decode};

pub(super) const DOC_META: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("doc_meta");

impl Store {
    /// Stores one admission ([`Commit`]): its changes and the new metadata
    /// of the documents they went into, in one durable commit. Returns how
    /// many changes were new.
    pub fn put_commit(&self, commit: &Commit<'_>) -> Result<usize, Error> {
        self.put(commit.admitted, commit.docs)
    }

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
