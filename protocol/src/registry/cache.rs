//! The documents a registry keeps loaded: at most a named number, least
//! recently used evicted first, some pinned (a node's own document, which
//! every local write builds on).

use std::collections::{BTreeSet, HashMap};

use crate::doc::MemberDoc;
use crate::identity::MemberId;

/// Documents a node keeps loaded by default besides pinned ones.
pub const DOC_CACHE: usize = 256;

#[derive(Debug)]
pub(super) struct Cache {
    /// `None`: every document stays (nothing is ever loaded).
    capacity: Option<usize>,
    docs: HashMap<MemberId, (MemberDoc, u64)>,
    pinned: BTreeSet<MemberId>,
    tick: u64,
}

impl Cache {
    pub(super) fn new(capacity: Option<usize>) -> Self {
        Self {
            capacity,
            docs: HashMap::new(),
            pinned: BTreeSet::new(),
            tick: 0,
        }
    }

    pub(super) fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    pub(super) fn get(&self, member: &MemberId) -> Option<&MemberDoc> {
        self.docs.get(member).map(|(d, _)| d)
    }

    /// As `get`, and marks the document used.
    pub(super) fn touch(&mut self, member: &MemberId) -> Option<&MemberDoc> {
        self.tick += 1;
        let tick = self.tick;
        self.docs.get_mut(member).map(|(d, t)| {
            *t = tick;
            &*d
        })
    }

    pub(super) fn len(&self) -> usize {
        self.docs.len()
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &MemberDoc> {
        self.docs.values().map(|(d, _)| d)
    }

    /// Keeps `doc`, then evicts the least recently used unpinned documents
    /// beyond the capacity (never `doc` itself).
    pub(super) fn insert(&mut self, doc: MemberDoc) {
        self.tick += 1;
        let member = doc.owner();
        self.docs.insert(member, (doc, self.tick));
        let Some(capacity) = self.capacity else { return };
        let pinned = &self.pinned;
        let pinned_loaded = pinned.iter().filter(|m| self.docs.contains_key(*m)).count();
        while self.docs.len() > capacity + pinned_loaded {
            let victim = self
                .docs
                .iter()
                .filter(|(m, _)| **m != member && !pinned.contains(*m))
                .min_by_key(|(_, (_, t))| *t)
                .map(|(m, _)| *m);
            match victim {
                Some(m) => {
                    self.docs.remove(&m);
                }
                None => break,
            }
        }
    }

    pub(super) fn remove(&mut self, member: &MemberId) {
        self.docs.remove(member);
    }

    pub(super) fn pin(&mut self, member: MemberId) {
        self.pinned.insert(member);
    }
}
