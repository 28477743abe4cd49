//! The record index: every record of every document, validated on read.
//!
//! Each valid record is held once, decoded, in `records`; a document's
//! slots name it by id. An admission computes a [`Delta`] of the touched
//! documents ([`Index::delta`], before anything is persisted) and applies
//! it ([`Index::apply`]) once the node's commit, which wrote the same delta
//! to its index table, succeeded. A node opening its home reads that table
//! back row by row ([`Index::load_row`]) instead of replaying every change.

mod delta;

use std::collections::{HashMap, HashSet};

pub use self::delta::{Delta, DocDelta, Entry, LoadError};
use super::groups::Groups;
use crate::doc::{MemberDoc, OpId};
use crate::identity::{KeyCache, MemberId};
use crate::record::{self, Body, Invalid, Kind, RecordId, SignedRecord};
use crate::verify::Verifier;

/// What the index knows of one document's keys: for each, the operation
/// that wrote its value (to tell, on the next admission, whether the value
/// changed without reading it) and the verdict on that value. A valid
/// record's key is its `kind/id`, so it is not kept: the slot is found by
/// the record's id (the record itself lives once, in [`Index::records`]).
/// The rare invalid value keeps its key and its reason.
#[derive(Debug, Clone, Default)]
struct Slots {
    valid: HashMap<RecordId, Option<OpId>>,
    invalid: HashMap<Box<str>, (Option<OpId>, Invalid)>,
}

impl Slots {
    fn len(&self) -> usize {
        self.valid.len() + self.invalid.len()
    }

    fn is_empty(&self) -> bool {
        self.valid.is_empty() && self.invalid.is_empty()
    }
}

/// The kind and record id a valid record under `key` would have, if `key`
/// has the `kind/id` form (not necessarily in its canonical spelling).
fn key_id(key: &str) -> Option<(&str, &str, RecordId)> {
    let (kind, id) = key.split_once('/')?;
    Some((kind, id, id.parse().ok()?))
}

/// A record decoded while computing a delta, not yet verified: its
/// document, key, the operation that wrote it, the record and its bytes.
type Fresh = (MemberId, String, Option<OpId>, SignedRecord, Vec<u8>);

/// Valid records by id, plus what was left out and why.
///
/// A record is valid if it decodes canonically, its id derives from its
/// author, its signature verifies, its author owns the document it is in and
/// it sits under its own `kind/id` key. A valid record is *visible* unless its
/// author has tombstoned it.
#[derive(Debug, Default, Clone)]
pub struct Index {
    by_doc: HashMap<MemberId, Slots>,
    records: HashMap<RecordId, SignedRecord>,
    /// (tombstoned id, the tombstone's author) → how many of that author's
    /// tombstones name it. Keyed by both, so nobody's tombstone on someone
    /// else's id can displace the real author's.
    tombstones: HashMap<(RecordId, MemberId), u32>,
    /// The visible records as views look them up, kept up to date here.
    groups: Groups,
}

/// Fresh records verified together when computing a delta of many
/// documents: enough to keep every core of the verifier busy.
const VERIFY_BATCH: usize = 4_096;

impl Index {
    /// The valid record of `slots` under `key`, if there is one: `key`
    /// must be the record's own key exactly (an id parses from other
    /// spellings too, e.g. in capitals, which are other keys).
    fn valid_under(&self, slots: &Slots, key: &str) -> Option<RecordId> {
        let (kind, text, id) = key_id(key)?;
        if !slots.valid.contains_key(&id) {
            return None;
        }
        let r = self.records.get(&id)?;
        (r.record().kind.as_str() == kind && id.to_string() == text).then_some(id)
    }

    /// The operation that wrote the value `slots` holds under `key`, if
    /// they hold one (`Some(None)`: a value of no known operation).
    fn old_op(&self, slots: &Slots, key: &str) -> Option<Option<OpId>> {
        if let Some((op, _)) = slots.invalid.get(key) {
            return Some(*op);
        }
        self.valid_under(slots, key)
            .and_then(|id| slots.valid.get(&id).copied())
    }

    /// The changes to this index that make it describe `docs` (the scratch
    /// copies an admission is about to persist), re-validating only values
    /// that changed. The signatures of all their new values are verified in
    /// batches across documents, so a batch touching many small documents
    /// still fills whole verification batches.
    pub(crate) fn delta(&self, docs: &[&MemberDoc], keys: &mut KeyCache, verifier: &dyn Verifier) -> Delta {
        let empty = Slots::default();
        let mut delta = Delta::default();
        let mut fresh: Vec<Fresh> = Vec::new();
        for doc in docs {
            let owner = doc.owner();
            let old = self.by_doc.get(&owner).unwrap_or(&empty);
            let entry = delta.docs.entry(owner).or_default();
            let mut present = 0;
            for value in doc.values() {
                let Some(bytes) = value.bytes else { continue };
                let old_op = self.old_op(old, &value.key);
                if old_op.is_some() {
                    present += 1;
                }
                // Unchanged: written by the same (known) operation.
                if value.op.is_some() && old_op == Some(value.op) {
                    continue;
                }
                let key = value.key.into_owned();
                match delta::check(owner, &key, &bytes) {
                    Ok(r) => fresh.push((owner, key, value.op, r, bytes.into_owned())),
                    Err(reason) => entry.set.push((
                        key,
                        Entry {
                            op: value.op,
                            bytes: bytes.into_owned(),
                            verdict: Err(reason),
                        },
                    )),
                }
            }
            if old.len() > present {
                let now: HashSet<String> = doc
                    .values()
                    .filter(|v| v.bytes.is_some())
                    .map(|v| v.key.into_owned())
                    .collect();
                let valid_keys = old
                    .valid
                    .keys()
                    .filter_map(|id| self.records.get(id).map(|r| r.doc_key()));
                let mut gone: Vec<String> = old
                    .invalid
                    .keys()
                    .map(|k| k.to_string())
                    .chain(valid_keys)
                    .filter(|k| !now.contains(k))
                    .collect();
                gone.sort();
                entry.removed = gone;
            }
            if fresh.len() >= VERIFY_BATCH {
                Self::verify_into(&mut delta, std::mem::take(&mut fresh), keys, verifier);
            }
        }
        Self::verify_into(&mut delta, fresh, keys, verifier);
        delta
    }

    /// Verifies fresh records in one call and adds them to the delta.
    fn verify_into(delta: &mut Delta, fresh: Vec<Fresh>, keys: &mut KeyCache, verifier: &dyn Verifier) {
        if fresh.is_empty() {
            return;
        }
        let items: Vec<(&SignedRecord, &[u8])> = fresh.iter().map(|(_, _, _, r, b)| (r, &b[..])).collect();
        let verdicts = record::verify_decoded(&items, keys, verifier);
        drop(items);
        for ((owner, key, op, r, bytes), ok) in fresh.into_iter().zip(verdicts) {
            let verdict = if ok { Ok(r) } else { Err(Invalid::BadSignature) };
            delta
                .docs
                .entry(owner)
                .or_default()
                .set
                .push((key, Entry { op, bytes, verdict }));
        }
    }

    /// Applies a delta [`Index::delta`] computed (and the node persisted).
    pub(crate) fn apply(&mut self, delta: Delta) {
        for (owner, d) in delta.docs {
            let mut slots = self.by_doc.remove(&owner).unwrap_or_default();
            for key in d.removed {
                self.unset(owner, &mut slots, &key);
            }
            for (key, entry) in d.set {
                self.set(owner, &mut slots, key, entry);
            }
            if !slots.is_empty() {
                self.by_doc.insert(owner, slots);
            }
        }
    }

    /// Adds one row of a stored index (as [`Entry::encode`] wrote it for
    /// `owner`'s key `key`), replacing what the index held for that key.
    /// The record is decoded and checked again, its signature is not.
    pub fn load_row(&mut self, owner: MemberId, key: &str, row: &[u8]) -> Result<(), LoadError> {
        let entry = Entry::decode(owner, key, row)?;
        let mut slots = self.by_doc.remove(&owner).unwrap_or_default();
        self.set(owner, &mut slots, key.to_owned(), entry);
        self.by_doc.insert(owner, slots);
        Ok(())
    }

    /// Puts `entry` in `owner`'s `slots` under `key`, replacing the old slot.
    fn set(&mut self, owner: MemberId, slots: &mut Slots, key: String, entry: Entry) {
        self.unset(owner, slots, &key);
        match entry.verdict {
            Ok(r) => {
                slots.valid.insert(r.id(), entry.op);
                self.insert_valid(owner, r);
            }
            Err(reason) => {
                slots.invalid.insert(key.into_boxed_str(), (entry.op, reason));
            }
        }
    }

    /// Takes the slot under `key` (and its record) out of `owner`'s slots.
    fn unset(&mut self, owner: MemberId, slots: &mut Slots, key: &str) {
        if slots.invalid.remove(key).is_some() {
            return;
        }
        if let Some(id) = self.valid_under(slots, key) {
            slots.valid.remove(&id);
            self.forget(owner, &id);
        }
    }

    /// Puts a valid record of `owner`'s document in: into `records`, its
    /// tombstone (if it is one) into `tombstones`, and what that makes
    /// visible or hides into the groups. Any order of a document's records
    /// gives the same result.
    fn insert_valid(&mut self, owner: MemberId, r: SignedRecord) {
        if let Body::Tombstone(t) = &r.record().body {
            let count = self.tombstones.entry((t.target, owner)).or_default();
            *count += 1;
            if *count == 1
                && let Some(target) = self.records.get(&t.target).filter(|x| x.record().author == owner)
                && target.record().kind != Kind::Tombstone
            {
                self.groups.remove(target);
            }
        } else if !self.is_tombstoned(&r) {
            self.groups.add(&r);
        }
        self.records.insert(r.id(), r);
    }

    /// Takes a valid record (and the tombstone it is) out of the index:
    /// the reverse of [`Index::insert_valid`].
    fn forget(&mut self, owner: MemberId, id: &RecordId) {
        let Some(r) = self.records.remove(id) else { return };
        if let Body::Tombstone(t) = &r.record().body {
            let pair = (t.target, owner);
            let Some(n) = self.tombstones.get_mut(&pair) else {
                return;
            };
            *n -= 1;
            if *n == 0 {
                self.tombstones.remove(&pair);
                if let Some(target) = self.records.get(&t.target).filter(|x| x.record().author == owner)
                    && target.record().kind != Kind::Tombstone
                {
                    self.groups.add(target);
                }
            }
        } else if !self.is_tombstoned(&r) {
            self.groups.remove(&r);
        }
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

    pub(crate) fn remove_doc(&mut self, member: &MemberId) {
        if let Some(old) = self.by_doc.remove(member) {
            for id in old.valid.keys() {
                self.forget(*member, id);
            }
        }
    }

    /// Whether `record`'s author has retracted it.
    pub fn is_tombstoned(&self, record: &SignedRecord) -> bool {
        self.tombstones.contains_key(&(record.id(), record.record().author))
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
        self.by_doc
            .iter()
            .flat_map(|(m, slots)| slots.invalid.iter().map(move |(k, (_, reason))| (m, &**k, reason)))
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
            .flat_map(|slots| slots.valid.keys())
            .filter_map(|id| self.records.get(id))
            .filter(|r| r.record().kind != Kind::Tombstone && !self.is_tombstoned(r))
    }

    /// Members with a document in the index.
    pub fn members(&self) -> impl Iterator<Item = &MemberId> {
        self.by_doc.keys()
    }
}
