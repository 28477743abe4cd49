//! What views look up, kept with the index: the visible records grouped by
//! what they refer to, each member's profiles, who vouches for whom, how
//! many records each member has, and each kind's records in time order.
//!
//! [`Index`](super::Index) adds a record here when it becomes visible and
//! removes it when it stops being visible (replaced by a new version,
//! tombstoned, its document dropped), so building [`Views`](super::Views)
//! costs nothing and a view costs what it reads: a page of needs over a
//! million records does not pass over the million. Each group is ordered
//! the way views list it: oldest first, ties by id.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::tags_of;
use crate::identity::MemberId;
use crate::record::{Body, Kind, NeedStatus, RecordId, SignedRecord};
use crate::time::Timestamp;

/// A record's place in a group: when it was created, then its id.
pub(crate) type Entry = (Timestamp, RecordId);

#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Groups {
    /// (kind of the referring record, referred id) → the referring records.
    pub(crate) by_target: HashMap<(Kind, RecordId), BTreeSet<Entry>>,
    /// A member's profiles by (last update, id): the last one is shown.
    pub(crate) profiles: HashMap<MemberId, BTreeSet<Entry>>,
    /// Vouched-for member → voucher → how many of the voucher's records vouch.
    pub(crate) vouches: HashMap<MemberId, BTreeMap<MemberId, u32>>,
    /// Visible records per author.
    pub(crate) per_member: HashMap<MemberId, usize>,
    /// Each kind's visible records.
    pub(crate) by_kind: HashMap<Kind, BTreeSet<Entry>>,
    /// (kind, tag) → the visible records of that kind with that tag (a
    /// need's or project's tags, a profile's sectors: what a tag filter
    /// compares with).
    pub(crate) tagged: HashMap<(Kind, String), BTreeSet<Entry>>,
    /// Visible needs whose record says merged (lists leave most of them out).
    pub(crate) merged: BTreeSet<Entry>,
}

impl Groups {
    /// `r` became visible.
    pub(crate) fn add(&mut self, r: &SignedRecord) {
        let rec = r.record();
        let entry = (rec.created_at, rec.id);
        *self.per_member.entry(rec.author).or_default() += 1;
        self.by_kind.entry(rec.kind).or_default().insert(entry);
        for tag in tags_of(&rec.body) {
            self.tagged.entry((rec.kind, tag.clone())).or_default().insert(entry);
        }
        if is_merged(&rec.body) {
            self.merged.insert(entry);
        }
        match &rec.body {
            Body::Profile(_) => {
                self.profiles
                    .entry(rec.author)
                    .or_default()
                    .insert((rec.updated_at, rec.id));
            }
            Body::Vouch(v) => {
                *self.vouches.entry(v.member).or_default().entry(rec.author).or_default() += 1;
            }
            body => {
                for (target, _) in body.references() {
                    self.by_target.entry((rec.kind, target)).or_default().insert(entry);
                }
            }
        }
    }

    /// `r` is no longer visible (it was when added).
    pub(crate) fn remove(&mut self, r: &SignedRecord) {
        let rec = r.record();
        let entry = (rec.created_at, rec.id);
        if let Some(n) = self.per_member.get_mut(&rec.author) {
            *n -= 1;
            if *n == 0 {
                self.per_member.remove(&rec.author);
            }
        }
        remove_from(&mut self.by_kind, rec.kind, &entry);
        for tag in tags_of(&rec.body) {
            remove_from(&mut self.tagged, (rec.kind, tag.clone()), &entry);
        }
        if is_merged(&rec.body) {
            self.merged.remove(&entry);
        }
        match &rec.body {
            Body::Profile(_) => remove_from(&mut self.profiles, rec.author, &(rec.updated_at, rec.id)),
            Body::Vouch(v) => {
                if let Some(vouchers) = self.vouches.get_mut(&v.member) {
                    if let Some(n) = vouchers.get_mut(&rec.author) {
                        *n -= 1;
                        if *n == 0 {
                            vouchers.remove(&rec.author);
                        }
                    }
                    if vouchers.is_empty() {
                        self.vouches.remove(&v.member);
                    }
                }
            }
            body => {
                for (target, _) in body.references() {
                    remove_from(&mut self.by_target, (rec.kind, target), &entry);
                }
            }
        }
    }
}

fn is_merged(body: &Body) -> bool {
    matches!(body, Body::Need(n) if n.status == NeedStatus::Merged)
}

/// Removes `entry` from the set at `key`, and the set if it is left empty.
fn remove_from<K: std::hash::Hash + Eq>(map: &mut HashMap<K, BTreeSet<Entry>>, key: K, entry: &Entry) {
    if let Some(set) = map.get_mut(&key) {
        set.remove(entry);
        if set.is_empty() {
            map.remove(&key);
        }
    }
}
