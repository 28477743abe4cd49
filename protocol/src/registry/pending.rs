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

use std::collections::{BTreeSet, HashMap};

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

/// Where a waiting change sits in its sender's queue: when it started
/// waiting, then the order it came in (ties), then which change it is.
type QueueKey = (Timestamp, u64, MemberId, ChangeHash);

/// The pending buffer.
///
/// Evicting is logarithmic, so that an attacker who keeps the buffer full
/// (rotating senders) makes each eviction cheap: the shares are kept
/// ordered by size ([`Pending::by_size`]) and each sender's changes by age
/// ([`Pending::queues`]). A scan over every waiting change here cost an
/// honest node 65 % of its CPU under such a flood (BENCHMARKS.md,
/// `hostile`).
#[derive(Debug, Default)]
pub(crate) struct Pending {
    docs: HashMap<MemberId, Vec<Waiting>>,
    /// Each waiting change's place in its sender's queue.
    hashes: HashMap<(MemberId, ChangeHash), (Source, QueueKey)>,
    /// Each sender's waiting changes, oldest first.
    queues: HashMap<Source, BTreeSet<QueueKey>>,
    doc_usage: HashMap<MemberId, Usage>,
    shares: HashMap<Source, Usage>,
    /// The shares ordered by (bytes, changes, sender): the last is the
    /// largest.
    by_size: BTreeSet<(usize, usize, Source)>,
    total: Usage,
    /// Numbers the changes pushed, to order changes that started waiting
    /// at the same time.
    pushed: u64,
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
        self.hashes.contains_key(&(*doc, *hash))
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
        if let Some((source, key)) = self.hashes.remove(&(*doc, w.checked.change.hash()))
            && let Some(queue) = self.queues.get_mut(&source)
        {
            queue.remove(&key);
            if queue.is_empty() {
                self.queues.remove(&source);
            }
        }
        self.total.remove(w.cost);
        self.update_share(w.source, |share| share.remove(w.cost));
    }

    /// Changes `source`'s usage, keeping [`Pending::by_size`] in step.
    fn update_share(&mut self, source: Source, change: impl FnOnce(&mut Usage)) {
        let share = self.shares.entry(source).or_default();
        self.by_size.remove(&(share.bytes, share.changes, source));
        change(share);
        if share.changes == 0 {
            self.shares.remove(&source);
        } else {
            self.by_size.insert((share.bytes, share.changes, source));
        }
    }

    /// Adds a waiting change, or says whose share is full.
    pub fn push(&mut self, w: Waiting) -> Result<(), Share> {
        let doc = w.checked.doc;
        if self.contains(&doc, &w.checked.change.hash()) {
            return Ok(());
        }
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
        let hash = w.checked.change.hash();
        self.pushed += 1;
        let key = (w.since, self.pushed, doc, hash);
        self.hashes.insert((doc, hash), (w.source, key));
        self.queues.entry(w.source).or_default().insert(key);
        self.total.add(w.cost);
        self.update_share(w.source, |share| share.add(w.cost));
        self.doc_usage.entry(doc).or_default().add(w.cost);
        self.docs.entry(doc).or_default().push(w);
        Ok(())
    }

    fn largest_share(&self) -> Option<Source> {
        self.by_size.last().map(|(_, _, source)| *source)
    }

    /// Drops the oldest waiting change of `source`.
    fn evict_oldest(&mut self, source: Source) -> bool {
        let Some(&(_, _, doc, hash)) = self.queues.get(&source).and_then(BTreeSet::first) else {
            return false;
        };
        // At most MAX_DOC_CHANGES to look through.
        let Some(i) = self
            .docs
            .get(&doc)
            .and_then(|waiting| waiting.iter().position(|w| w.checked.change.hash() == hash))
        else {
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
