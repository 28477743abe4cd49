//! Changes waiting for their dependencies.
//!
//! A change whose dependencies are missing cannot be applied yet, and anyone
//! can send validly signed changes with made-up dependencies (signing costs
//! nothing with a fresh key). So the buffer is bounded in **bytes** and
//! counts at three levels, and a full share is the problem of whoever filled
//! it:
//!
//! - per document: [`MAX_DOC_CHANGES`] changes, [`MAX_DOC_BYTES`] bytes;
//! - per sender ([`Source`]): [`MAX_SOURCE_CHANGES`], [`MAX_SOURCE_BYTES`];
//! - in all: [`MAX_CHANGES`], [`MAX_BYTES`]. When that is full, a change
//!   from a sender whose share is not the largest evicts the oldest change
//!   of the largest share; the largest sender's own changes are refused.
//!   So many throw-away senders can fill the buffer, but not keep an honest
//!   sender's change out of it.
//!
//! A change waits at most [`TTL_MS`]; [`Pending::expire`] drops older ones.
//! Sizes are charged as what a waiting change keeps in memory (its bytes
//! plus the decoded header), see [`cost`].

use std::collections::{HashMap, HashSet};

use automerge::{Change, ChangeHash};

use super::{Checked, Source};
use crate::admission::Share;
use crate::identity::MemberId;
use crate::time::Timestamp;

/// Changes one document may have waiting.
pub const MAX_DOC_CHANGES: usize = 1_024;
/// Bytes one document may have waiting: four maximal changes' worth.
pub const MAX_DOC_BYTES: usize = 4 * 1024 * 1024;
/// Changes one sender may have waiting.
pub const MAX_SOURCE_CHANGES: usize = 4_096;
/// Bytes one sender may have waiting.
pub const MAX_SOURCE_BYTES: usize = 16 * 1024 * 1024;
/// Changes waiting in all.
pub const MAX_CHANGES: usize = 16_384;
/// Bytes waiting in all: the worst case a node keeps for changes it cannot
/// apply yet.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;
/// How long a change may wait for its dependencies.
pub const TTL_MS: u64 = 10 * 60 * 1000;
/// Least time between two full expiry scans.
const EXPIRY_EVERY_MS: u64 = 60 * 1000;

/// What a waiting change costs: its bytes, its dependencies and actors as
/// decoded, and a fixed overhead for the bookkeeping around it.
pub(crate) fn cost(change: &Change) -> usize {
    change.raw_bytes().len() + 32 * change.deps().len() + 64 * (1 + change.other_actor_ids().len()) + 256
}

/// One waiting change.
#[derive(Debug, Clone)]
pub(crate) struct Waiting {
    pub checked: Checked,
    pub source: Source,
    /// When it started waiting.
    pub since: Timestamp,
    pub cost: usize,
}

#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    changes: usize,
    bytes: usize,
}

impl Usage {
    fn add(&mut self, cost: usize) {
        self.changes += 1;
        self.bytes += cost;
    }

    fn remove(&mut self, cost: usize) {
        self.changes = self.changes.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(cost);
    }
}

/// The pending buffer.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    docs: HashMap<MemberId, Vec<Waiting>>,
    hashes: HashSet<(MemberId, ChangeHash)>,
    doc_usage: HashMap<MemberId, Usage>,
    shares: HashMap<Source, Usage>,
    total: Usage,
    last_expiry: u64,
}

impl Pending {
    pub fn len(&self) -> usize {
        self.total.changes
    }

    pub fn bytes(&self) -> usize {
        self.total.bytes
    }

    pub fn contains(&self, doc: &MemberId, hash: &ChangeHash) -> bool {
        self.hashes.contains(&(*doc, *hash))
    }

    /// Takes a document's waiting changes out of the buffer.
    pub fn take(&mut self, doc: &MemberId) -> Vec<Waiting> {
        let taken = self.docs.remove(doc).unwrap_or_default();
        for w in &taken {
            self.forget(doc, w);
        }
        self.doc_usage.remove(doc);
        taken
    }

    fn forget(&mut self, doc: &MemberId, w: &Waiting) {
        self.hashes.remove(&(*doc, w.checked.change.hash()));
        self.total.remove(w.cost);
        if let Some(share) = self.shares.get_mut(&w.source) {
            share.remove(w.cost);
            if share.changes == 0 {
                self.shares.remove(&w.source);
            }
        }
    }

    /// Adds a waiting change, or says whose share is full.
    pub fn push(&mut self, w: Waiting) -> Result<(), Share> {
        let doc = w.checked.doc;
        let usage = self.doc_usage.get(&doc).copied().unwrap_or_default();
        if usage.changes >= MAX_DOC_CHANGES || usage.bytes + w.cost > MAX_DOC_BYTES {
            return Err(Share::Document);
        }
        let share = self.shares.get(&w.source).copied().unwrap_or_default();
        if share.changes >= MAX_SOURCE_CHANGES || share.bytes + w.cost > MAX_SOURCE_BYTES {
            return Err(Share::Sender);
        }
        while self.total.changes >= MAX_CHANGES || self.total.bytes + w.cost > MAX_BYTES {
            let Some(largest) = self.largest_share() else {
                return Err(Share::Node);
            };
            if largest == w.source || !self.evict_oldest(largest) {
                return Err(Share::Node);
            }
        }
        self.hashes.insert((doc, w.checked.change.hash()));
        self.total.add(w.cost);
        self.shares.entry(w.source).or_default().add(w.cost);
        self.doc_usage.entry(doc).or_default().add(w.cost);
        self.docs.entry(doc).or_default().push(w);
        Ok(())
    }

    fn largest_share(&self) -> Option<Source> {
        self.shares
            .iter()
            .max_by_key(|(source, usage)| (usage.bytes, usage.changes, **source))
            .map(|(source, _)| *source)
    }

    /// Drops the oldest waiting change of `source` (a scan: this runs only
    /// when the whole buffer is full).
    fn evict_oldest(&mut self, source: Source) -> bool {
        let oldest = self
            .docs
            .iter()
            .flat_map(|(doc, waiting)| {
                waiting
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| w.source == source)
                    .map(move |(i, w)| (w.since, *doc, i))
            })
            .min();
        let Some((_, doc, i)) = oldest else {
            return false;
        };
        self.remove_at(doc, i);
        true
    }

    fn remove_at(&mut self, doc: MemberId, i: usize) {
        let Some(waiting) = self.docs.get_mut(&doc) else {
            return;
        };
        let w = waiting.remove(i);
        if waiting.is_empty() {
            self.docs.remove(&doc);
        }
        if let Some(u) = self.doc_usage.get_mut(&doc) {
            u.remove(w.cost);
            if u.changes == 0 {
                self.doc_usage.remove(&doc);
            }
        }
        self.forget(&doc, &w);
    }

    /// Drops changes that waited longer than [`TTL_MS`]; scans at most once
    /// a minute unless `force`. Returns how many were dropped.
    pub fn expire(&mut self, now: Timestamp, force: bool) -> usize {
        let now = now.as_millis();
        if !force && now.saturating_sub(self.last_expiry) < EXPIRY_EVERY_MS {
            return 0;
        }
        self.last_expiry = now;
        let old: Vec<(MemberId, ChangeHash)> = self
            .docs
            .iter()
            .flat_map(|(doc, waiting)| {
                waiting
                    .iter()
                    .filter(|w| w.since.as_millis().saturating_add(TTL_MS) < now)
                    .map(move |w| (*doc, w.checked.change.hash()))
            })
            .collect();
        for (doc, hash) in &old {
            if let Some(i) = self
                .docs
                .get(doc)
                .and_then(|waiting| waiting.iter().position(|w| w.checked.change.hash() == *hash))
            {
                self.remove_at(*doc, i);
            }
        }
        old.len()
    }
}
