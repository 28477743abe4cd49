//! The record index: every record of every document, validated on read.

use std::collections::{HashMap, HashSet};

use super::groups::Groups;
use crate::doc::{MemberDoc, OpId};
use crate::identity::{KeyCache, MemberId};
use crate::record::{self, Body, Invalid, Kind, RecordId, SignedRecord};
use crate::verify::Verifier;

/// What the index knows of one key of a document: the operation that wrote
/// its value (to tell, on the next re-index, whether the value changed
/// without reading it) and the verdict on that value.
#[derive(Debug, Clone)]
struct Slot {
    op: Option<OpId>,
    verdict: Verdict,
}

#[derive(Debug, Clone)]
enum Verdict {
    Valid(SignedRecord),
    Invalid(Invalid),
}

impl Slot {
    fn valid(&self) -> Option<&SignedRecord> {
        match &self.verdict {
            Verdict::Valid(r) => Some(r),
            Verdict::Invalid(_) => None,
        }
    }

    /// Whether this slot still describes a value written by `op`.
    fn written_by(&self, op: Option<OpId>) -> bool {
        self.op.is_some() && self.op == op
    }
}

/// A record decoded while staging a document, not yet verified: its key,
/// the operation that wrote it, the record and the bytes it came from.
type Fresh = (String, Option<OpId>, SignedRecord, Vec<u8>);

/// Valid records by id, plus what was left out and why.
///
/// A record is valid if it decodes canonically, its id derives from its
/// author, its signature verifies, its author owns the document it is in and
/// it sits under its own `kind/id` key. A valid record is *visible* unless its
/// author has tombstoned it.
#[derive(Debug, Default, Clone)]
pub struct Index {
    by_doc: HashMap<MemberId, HashMap<String, Slot>>,
    records: HashMap<RecordId, SignedRecord>,
    /// (tombstoned id, the tombstone's author). Keyed by both, so nobody's
    /// tombstone on someone else's id can displace the real author's.
    tombstones: HashSet<(RecordId, MemberId)>,
    /// The visible records as views look them up, kept up to date here.
    groups: Groups,
}

/// Fresh records verified together when re-indexing many documents.
const REINDEX_BATCH: usize = 4_096;

/// A document being re-indexed: its owner, the slots kept or found
/// invalid, and the decoded records whose signatures are still to check.
type Staged = (MemberId, HashMap<String, Slot>, Vec<Fresh>);

impl Index {
    /// Re-reads these documents' records, re-validating only values that
    /// changed. The signatures of all their new values are verified in one
    /// call, so a batch touching many small documents still fills whole
    /// verification batches (and every core the verifier uses).
    pub(crate) fn reindex(&mut self, docs: &[&MemberDoc], keys: &mut KeyCache, verifier: &dyn Verifier) {
        let mut staged: Vec<Staged> = Vec::new();
        let mut pending = 0;
        for doc in docs {
            let s = self.stage(doc);
            pending += s.2.len();
            staged.push(s);
            // Verify in groups: large enough to keep every core busy, small
            // enough that a whole store's records are never held twice.
            if pending >= REINDEX_BATCH {
                self.finish(std::mem::take(&mut staged), keys, verifier);
                pending = 0;
            }
        }
        self.finish(staged, keys, verifier);
    }

    /// Verifies the staged fresh records in one call and puts the documents
    /// back into the index.
    fn finish(&mut self, staged: Vec<Staged>, keys: &mut KeyCache, verifier: &dyn Verifier) {
        let fresh: Vec<(&SignedRecord, &[u8])> = staged
            .iter()
            .flat_map(|(_, _, f)| f.iter().map(|(_, _, r, bytes)| (r, &bytes[..])))
            .collect();
        let verdicts = record::verify_decoded(&fresh, keys, verifier);
        drop(fresh);
        let mut verdicts = verdicts.into_iter();
        for (owner, mut slots, fresh) in staged {
            for (key, op, r, _) in fresh {
                let verdict = if verdicts.next().unwrap_or(false) {
                    Verdict::Valid(r)
                } else {
                    Verdict::Invalid(Invalid::BadSignature)
                };
                slots.insert(key, Slot { op, verdict });
            }
            for slot in slots.values() {
                if let Some(r) = slot.valid() {
                    self.insert_valid(owner, r);
                }
            }
            self.by_doc.insert(owner, slots);
        }
    }

    /// Takes a document's old records out of the index and sorts its current
    /// values into kept slots, invalid slots and fresh records to verify.
    fn stage(&mut self, doc: &MemberDoc) -> Staged {
        let owner = doc.owner();
        let old = self.by_doc.remove(&owner).unwrap_or_default();
        for slot in old.values() {
            if let Some(r) = slot.valid() {
                self.remove_valid(owner, r);
            }
        }
        let mut slots = HashMap::with_capacity(old.len());
        let mut fresh = Vec::new();
        for value in doc.values() {
            let Some(bytes) = value.bytes else { continue };
            let op = value.op;
            if let Some(slot) = old.get(value.key.as_ref()).filter(|s| s.written_by(op)) {
                slots.insert(value.key.into_owned(), slot.clone());
                continue;
            }
            let key = value.key.into_owned();
            let checked = SignedRecord::decode(&bytes).and_then(|r| {
                if r.record().author != owner {
                    Err(Invalid::WrongAuthor {
                        author: r.record().author,
                    })
                } else if r.doc_key() != key {
                    Err(Invalid::WrongKey { key: key.clone() })
                } else {
                    Ok(r)
                }
            });
            match checked {
                Ok(r) => fresh.push((key, op, r, bytes.into_owned())),
                Err(reason) => {
                    slots.insert(
                        key,
                        Slot {
                            op,
                            verdict: Verdict::Invalid(reason),
                        },
                    );
                }
            }
        }
        (owner, slots, fresh)
    }

    pub(crate) fn remove_doc(&mut self, member: &MemberId) {
        let owner = *member;
        if let Some(old) = self.by_doc.remove(member) {
            for slot in old.values() {
                if let Some(r) = slot.valid() {
                    self.remove_valid(owner, r);
                }
            }
        }
    }

    /// Puts a valid record of `owner`'s document in: into `records`, its
    /// tombstone (if it is one) into `tombstones`, and what that makes
    /// visible or hides into the groups. Any order of a document's records
    /// gives the same result.
    fn insert_valid(&mut self, owner: MemberId, r: &SignedRecord) {
        self.records.insert(r.id(), r.clone());
        if let Body::Tombstone(t) = &r.record().body {
            if self.tombstones.insert((t.target, owner))
                && let Some(target) = self.records.get(&t.target).filter(|x| x.record().author == owner)
                && target.record().kind != Kind::Tombstone
            {
                self.groups.remove(target);
            }
        } else if !self.is_tombstoned(r) {
            self.groups.add(r);
        }
    }

    /// Takes a valid record of `owner`'s document out: the reverse of
    /// [`Index::insert_valid`].
    fn remove_valid(&mut self, owner: MemberId, r: &SignedRecord) {
        if let Body::Tombstone(t) = &r.record().body {
            if self.tombstones.remove(&(t.target, owner))
                && let Some(target) = self.records.get(&t.target).filter(|x| x.record().author == owner)
                && target.record().kind != Kind::Tombstone
            {
                self.groups.add(target);
            }
        } else if !self.is_tombstoned(r) {
            self.groups.remove(r);
        }
        self.records.remove(&r.id());
    }

    /// The groups recomputed from scratch from the visible records: what
    /// the kept ones must always equal (tests).
    #[cfg(test)]
    pub(crate) fn groups_from_scratch(&self) -> Groups {
        let mut g = Groups::default();
        for r in self.visible() {
            g.add(r);
        }
        g
    }

    /// The groups views look up (see [`Groups`]).
    pub(crate) fn groups(&self) -> &Groups {
        &self.groups
    }

    /// Whether `record`'s author has retracted it.
    pub fn is_tombstoned(&self, record: &SignedRecord) -> bool {
        self.tombstones.contains(&(record.id(), record.record().author))
    }

    /// A visible record by id.
    pub fn get(&self, id: &RecordId) -> Option<&SignedRecord> {
        self.records
            .get(id)
            .filter(|r| !self.is_tombstoned(r) && r.record().kind != Kind::Tombstone)
    }

    /// A valid record by id, visible or tombstoned.
    pub fn get_any(&self, id: &RecordId) -> Option<&SignedRecord> {
        self.records.get(id)
    }

    /// Every visible record (tombstones and tombstoned records left out).
    pub fn visible(&self) -> impl Iterator<Item = &SignedRecord> {
        self.records
            .values()
            .filter(|r| r.record().kind != Kind::Tombstone && !self.is_tombstoned(r))
    }

    /// Visible records of one kind, oldest first (ties by id): a stable order.
    pub fn of_kind(&self, kind: Kind) -> Vec<&SignedRecord> {
        self.of_kind_iter(kind).collect()
    }

    /// Visible records of `kind` with tag `tag` (see [`Index::of_kind_iter`]).
    pub fn of_kind_tagged(&self, kind: Kind, tag: &str) -> impl DoubleEndedIterator<Item = &SignedRecord> {
        self.groups
            .tagged
            .get(&(kind, tag.to_owned()))
            .into_iter()
            .flatten()
            .filter_map(|(_, id)| self.records.get(id))
    }

    /// How many visible records of `kind` there are (with tag `tag`).
    pub fn count_of_kind(&self, kind: Kind, tag: Option<&str>) -> usize {
        match tag {
            Some(t) => self.groups.tagged.get(&(kind, t.to_owned())).map_or(0, |s| s.len()),
            None => self.groups.by_kind.get(&kind).map_or(0, |s| s.len()),
        }
    }

    /// Visible needs whose record says merged, oldest first.
    pub fn merged_needs(&self) -> impl Iterator<Item = &SignedRecord> {
        self.groups.merged.iter().filter_map(|(_, id)| self.records.get(id))
    }

    /// [`Index::of_kind`] without collecting; `.rev()` for newest first.
    pub fn of_kind_iter(&self, kind: Kind) -> impl DoubleEndedIterator<Item = &SignedRecord> {
        self.groups
            .by_kind
            .get(&kind)
            .into_iter()
            .flatten()
            .filter_map(|(_, id)| self.records.get(id))
    }

    /// Every valid record, tombstones included (for exports).
    pub fn all_valid(&self) -> impl Iterator<Item = &SignedRecord> {
        self.records.values()
    }

    /// Records left out of every view, with the reason.
    pub fn invalid(&self) -> impl Iterator<Item = (&MemberId, &str, &Invalid)> {
        self.by_doc.iter().flat_map(|(m, slots)| {
            slots.iter().filter_map(move |(k, s)| match &s.verdict {
                Verdict::Invalid(reason) => Some((m, k.as_str(), reason)),
                Verdict::Valid(_) => None,
            })
        })
    }

    /// Number of invalid records, not counting those of newer versions.
    pub fn invalid_count(&self) -> usize {
        self.invalid().filter(|(_, _, r)| **r != Invalid::Unsupported).count()
    }

    /// Number of valid records (tombstones included).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The visible records of `member`'s document.
    pub fn doc_records(&self, member: &MemberId) -> impl Iterator<Item = &SignedRecord> {
        self.by_doc
            .get(member)
            .into_iter()
            .flat_map(|slots| slots.values())
            .filter_map(|slot| slot.valid())
            .filter(|r| r.record().kind != Kind::Tombstone && !self.is_tombstoned(r))
    }

    /// Members with a document in the index.
    pub fn members(&self) -> impl Iterator<Item = &MemberId> {
        self.by_doc.keys()
    }
}
