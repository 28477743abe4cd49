//! The registry: every member document this node holds, the changes waiting
//! for dependencies, and the index of valid records that views read.
//!
//! [`Registry::admit`] runs admission over a batch (see
//! [`crate::admission`]): it checks each change, orders them so each follows
//! its dependencies (the rest waits in the [`pending`] buffer), applies the
//! ready ones to **scratch copies** of their documents (one
//! `apply_changes` call per document per batch: per-change calls are
//! quadratic in automerge 0.12), hands the ones Automerge took to a
//! caller-supplied `persist` function (the node's durable store commit),
//! and only if that succeeds makes the scratch copies the documents and
//! re-indexes them. A change Automerge refuses, by an error or a panic, is
//! rejected and never persisted; the changes of the same batch that do not
//! depend on it still go in (see [`Registry::apply_scratch`]).

mod cache;
mod pending;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use automerge::{ActorId, Change, ChangeHash};

use self::cache::Cache;
pub use self::cache::DOC_CACHE;
pub use self::pending::{
    MAX_BYTES as MAX_PENDING_BYTES, MAX_CHANGES as MAX_PENDING, MAX_DOC_BYTES as MAX_PENDING_DOC_BYTES,
    MAX_DOC_CHANGES as MAX_PENDING_DOC_CHANGES, MAX_SOURCE_BYTES as MAX_PENDING_SOURCE_BYTES,
    MAX_SOURCE_CHANGES as MAX_PENDING_SOURCE_CHANGES, TTL_MS as PENDING_TTL_MS,
};
use self::pending::{Pending, Waiting};
use crate::admission::{self, Admitted, Equivocation, Rejected, Rejection, Report};
use crate::change::{self, MAX_CHANGE_BYTES, SignedChange};
use crate::doc::{MemberDoc, Meta};
use crate::identity::{KeyCache, MEMBER_ID_LEN, MemberId, REPLICA_NONCE_LEN};
use crate::time::Timestamp;
use crate::verify::{Item, Sequential, Verifier};
use crate::view::Index;
use crate::view::index;

/// Hashes of changes of members' other histories remembered at most (the
/// second change of each equivocation): changes building on them are
/// refused at once rather than waiting, and they are not asked for again.
pub const MAX_CONFLICTS: usize = 4_096;

/// A change that passed rules 1, 3 and 5, waiting to be ordered and applied.
/// The envelope is not kept: its bytes are the change's own raw bytes.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    doc: MemberId,
    sig: [u8; 64],
    change: Change,
}

impl Checked {
    fn envelope(&self) -> SignedChange {
        SignedChange::from_parts(self.doc, self.change.raw_bytes().to_vec(), self.sig)
    }
}

/// Who handed a batch to the registry: its share of the pending buffer. The
/// node numbers its peers (e.g. by a hash of the peer id); the protocol
/// only compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Source(pub u64);

impl Source {
    /// Local writes, bundles, the API.
    pub const LOCAL: Source = Source(u64::MAX);
}

/// Where a registry whose cache is bounded reads a document back: the
/// changes it admitted for it, in an order where each follows its
/// dependencies (the order they were persisted in). They are applied as
/// [`Trust::OwnStore`] does: no signature checks, since they were checked
/// before they were stored.
pub trait Load {
    type Error;
    fn changes(&self, member: &MemberId) -> Result<Vec<SignedChange>, Self::Error>;
}

/// A loader for internal use: `None` when there is no store to read.
type LoadFn<'l, E> = dyn FnMut(&MemberId) -> Result<Option<Vec<SignedChange>>, E> + 'l;

/// All documents' metadata, the documents loaded, the pending buffer and
/// the record index.
#[derive(Debug)]
pub struct Registry {
    /// Every document held, by its metadata (heads, clock, hashes).
    metas: BTreeMap<MemberId, Meta>,
    /// The documents loaded (all of them unless the cache is bounded).
    cache: Cache,
    pending: Pending,
    /// Changes of members' other histories (see [`MAX_CONFLICTS`]).
    conflicts: HashSet<(MemberId, ChangeHash)>,
    keys: KeyCache,
    /// Shared with readers ([`Registry::snapshot`]): a re-index copies it
    /// only while a reader still holds the previous version.
    index: Arc<Index>,
    verifier: Arc<dyn Verifier>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::with_verifier(Arc::new(Sequential))
    }
}

/// What one admission hands to the caller's `persist` function
/// ([`Registry::admit`]): everything it must write in **one** durable
/// commit, or not at all. Derived data the node keeps on disk is added here
/// as fields, so it is written with the changes that produce it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Commit<'a> {
    /// The admitted changes, each after its dependencies.
    pub admitted: &'a [Admitted],
    /// The new metadata of each document the changes went into.
    pub docs: &'a [(MemberId, Meta)],
    /// What they change in the record index (the node keeps it in a table).
    pub index: &'a index::Delta,
}

/// Whether signatures and clocks are checked, and whose share of the
/// pending buffer a waiting change takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Local writes, bundles, the API: all rules, the local share.
    Untrusted,
    /// Changes from a peer: all rules, that peer's share.
    Peer(Source),
    /// Changes this node admitted before and read back from its own store:
    /// decoding, ordering and applying only (what cannot be applied is
    /// still skipped, so a store holding such a change still opens).
    OwnStore,
}

impl Trust {
    fn source(self) -> Source {
        match self {
            Trust::Peer(s) => s,
            Trust::Untrusted | Trust::OwnStore => Source::LOCAL,
        }
    }
}

/// What Automerge did with a document's ready changes on a scratch copy.
struct Applied {
    doc: MemberDoc,
    good: Vec<Checked>,
}

/// Sequence numbers per actor while a document's ready changes are checked:
/// the document's own, advanced by the changes taken so far.
struct Clock<'a> {
    base: &'a Meta,
    taken: HashMap<ActorId, u64>,
}

impl<'a> Clock<'a> {
    fn new(base: &'a Meta) -> Self {
        Self {
            base,
            taken: HashMap::new(),
        }
    }

    fn seq(&self, actor: &ActorId) -> u64 {
        self.taken.get(actor).copied().unwrap_or_else(|| self.base.seq(actor))
    }

    fn advance(&mut self, change: &Change) {
        self.taken.insert(change.actor_id().clone(), change.seq());
    }

    /// What Automerge needs before it is asked: nothing it depends on was
    /// refused, its sequence number follows on, and every other actor it
    /// names has a change already.
    fn admissible(&self, doc: MemberId, change: &Change, bad: &HashSet<ChangeHash>) -> Result<(), Rejection> {
        if let Some(dep) = change.deps().iter().find(|d| bad.contains(d)) {
            let reason = format!("it depends on change {dep}, which was refused");
            return Err(Rejection::Unapplicable { doc, reason });
        }
        let current = self.seq(change.actor_id());
        if change.seq() != current + 1 {
            let reason = format!("it follows sequence number {current} of its actor, which was refused");
            return Err(Rejection::Unapplicable { doc, reason });
        }
        if let Some(unknown) = change.other_actor_ids().iter().find(|a| self.seq(a) == 0) {
            let replica = unknown
                .to_bytes()
                .get(MEMBER_ID_LEN..)
                .map(crate::codec::base32)
                .unwrap_or_default();
            return Err(Rejection::UnknownActor { doc, replica });
        }
        Ok(())
    }
}

/// Rule 2 on a scratch copy of `member`'s document: every other actor a
/// change names must have a change in the document already (Automerge
/// 0.12 panics on an actor it does not know), and Automerge must apply
/// the change without error or panic. All the ready changes go in one
/// `apply_changes` call; if that fails, they are applied one by one to
/// find the culprits, which are rejected with everything that depends
/// on them, and the scratch copy is rebuilt from the good ones after
/// each failure (the failed call may have left it half-changed).
fn apply_to(base: &MemberDoc, member: MemberId, changes: Vec<Checked>, report: &mut Report) -> Applied {
    let mut bad: HashSet<ChangeHash> = HashSet::new();
    let mut reject = |c: &Checked, reason: Rejection, bad: &mut HashSet<ChangeHash>| {
        bad.insert(c.change.hash());
        report.rejected.push(Rejected {
            doc: member,
            hash: Some(c.change.hash()),
            reason,
        });
    };
    let mut clock = Clock::new(base.meta());
    let mut good: Vec<Checked> = Vec::with_capacity(changes.len());
    for c in changes {
        match clock.admissible(member, &c.change, &bad) {
            Ok(()) => {
                clock.advance(&c.change);
                good.push(c);
            }
            Err(reason) => reject(&c, reason, &mut bad),
        }
    }
    let mut doc = base.clone();
    if apply_guarded(&mut doc, good.iter().map(|c| c.change.clone()).collect()).is_ok() {
        return Applied { doc, good };
    }
    let mut doc = base.clone();
    let mut clock = Clock::new(base.meta());
    let mut kept: Vec<Checked> = Vec::with_capacity(good.len());
    for c in good {
        if let Err(reason) = clock.admissible(member, &c.change, &bad) {
            reject(&c, reason, &mut bad);
            continue;
        }
        match apply_guarded(&mut doc, vec![c.change.clone()]) {
            Ok(()) => {
                clock.advance(&c.change);
                kept.push(c);
            }
            Err(reason) => {
                tracing::warn!(%member, hash = %c.change.hash(), %reason, "automerge refused a change");
                reject(&c, Rejection::Unapplicable { doc: member, reason }, &mut bad);
                doc = base.clone();
                if apply_guarded(&mut doc, kept.iter().map(|k| k.change.clone()).collect()).is_err() {
                    // Automerge took each of these one by one just now;
                    // if it refuses them together, none goes in.
                    for k in kept.drain(..) {
                        let reason = "automerge refused it after accepting it".to_owned();
                        reject(&k, Rejection::Unapplicable { doc: member, reason }, &mut bad);
                    }
                    doc = base.clone();
                    clock = Clock::new(base.meta());
                }
            }
        }
    }
    Applied { doc, good: kept }
}

/// `member`'s document rebuilt from changes this node admitted before
/// (a store's, in the order they were persisted), as [`Trust::OwnStore`]
/// admits them: no signature checks; what cannot be applied is skipped, as
/// when the store is opened.
pub fn rebuild(member: MemberId, changes: Vec<SignedChange>) -> MemberDoc {
    let checked: Vec<Checked> = changes
        .into_iter()
        .filter(|e| e.doc() == member)
        .filter_map(|e| {
            let change = e.decode().ok()?;
            Some(Checked {
                doc: member,
                sig: *e.sig_bytes(),
                change,
            })
        })
        .collect();
    let mut report = Report::default();
    let applied = apply_to(&MemberDoc::new(member), member, checked, &mut report);
    for r in &report.rejected {
        tracing::warn!(%member, reason = %r.reason, "a stored change cannot be applied: skipped");
    }
    applied.doc
}

/// Applies `changes` to `doc`, turning an Automerge panic into an error.
/// `doc` is a scratch copy: after a failure it is thrown away, so a panic
/// half-way leaves nothing behind that matters.
fn apply_guarded(doc: &mut MemberDoc, changes: Vec<Change>) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| doc.apply(changes))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            Err(format!("automerge panicked: {what}"))
        }
    }
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry whose signature checks run on `verifier` (e.g. spread over
    /// the node's cores).
    pub fn with_verifier(verifier: Arc<dyn Verifier>) -> Self {
        Self {
            metas: BTreeMap::new(),
            cache: Cache::new(None),
            pending: Pending::default(),
            conflicts: HashSet::new(),
            keys: KeyCache::default(),
            index: Arc::new(Index::default()),
            verifier,
        }
    }

    /// As [`Registry::with_verifier`], keeping at most `capacity`
    /// documents loaded besides the pinned ones ([`Registry::pin`]); the
    /// others are read back through a [`Load`] when a change must be applied
    /// to them ([`Registry::admit_with`]) or a reader asks
    /// ([`Registry::load`]).
    pub fn with_cache(verifier: Arc<dyn Verifier>, capacity: usize) -> Self {
        Self {
            cache: Cache::new(Some(capacity)),
            ..Self::with_verifier(verifier)
        }
    }

    /// The documents kept loaded at most besides pinned ones (`None`: all).
    pub fn cache_capacity(&self) -> Option<usize> {
        self.cache.capacity()
    }

    /// Keeps `member`'s document loaded once it is (this node's own
    /// document, which every local write builds on).
    pub fn pin(&mut self, member: MemberId) {
        self.cache.pin(member);
    }

    /// `member`'s document if it is loaded: always, with an unbounded cache
    /// (the default); a pinned or recently used one otherwise (see
    /// [`Registry::load`]).
    pub fn doc(&self, member: &MemberId) -> Option<&MemberDoc> {
        self.cache.get(member)
    }

    /// The documents loaded now.
    pub fn loaded(&self) -> impl Iterator<Item = &MemberDoc> {
        self.cache.values()
    }

    pub fn loaded_count(&self) -> usize {
        self.cache.len()
    }

    /// `member`'s document, read back through `load` if it is not loaded
    /// (and then kept in the cache); `None` if this registry holds no
    /// document of `member`. A failed read changes nothing.
    pub fn load<L: Load>(&mut self, member: &MemberId, load: &L) -> Result<Option<&MemberDoc>, L::Error> {
        if self.cache.get(member).is_none() {
            let Some(meta) = self.metas.get(member) else {
                return Ok(None);
            };
            let doc = rebuild(*member, load.changes(member)?);
            if doc.meta() != meta {
                tracing::warn!(%member, "a document read back from the store differs from its metadata: the store's copy is kept");
                self.metas.insert(*member, doc.meta().clone());
            }
            self.cache.insert(doc);
        }
        Ok(self.cache.touch(member))
    }

    /// A document's metadata: heads, clock and change hashes.
    pub fn meta(&self, member: &MemberId) -> Option<&Meta> {
        self.metas.get(member)
    }

    /// Every document's metadata, by member.
    pub fn metas(&self) -> impl Iterator<Item = (&MemberId, &Meta)> {
        self.metas.iter()
    }

    /// Takes documents' metadata as a store kept it ([`Commit::docs`]),
    /// for a node that opens without reading the documents; their
    /// documents are loaded when needed. Replaces what was held of them.
    pub fn restore_metas(&mut self, metas: impl IntoIterator<Item = (MemberId, Meta)>) {
        for (member, meta) in metas {
            self.cache.remove(&member);
            self.metas.insert(member, meta);
        }
    }

    pub fn doc_count(&self) -> usize {
        self.metas.len()
    }

    /// Changes waiting for dependencies.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// What the changes waiting for dependencies cost, in bytes (see
    /// [`MAX_PENDING_BYTES`]).
    pub fn pending_bytes(&self) -> usize {
        self.pending.bytes()
    }

    /// Drops changes that waited for their dependencies longer than
    /// [`PENDING_TTL_MS`]. [`Registry::admit`] does it too, at most once a
    /// minute; a node calls this on its timer. Returns how many were dropped.
    pub fn expire_pending(&mut self, now: Timestamp) -> usize {
        self.pending.expire(now, true)
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The index as it is now, for reading elsewhere (another thread, a
    /// page being rendered) while the registry goes on admitting: O(1);
    /// the registry copies the index on its next change only if this
    /// snapshot is still held then.
    pub fn snapshot(&self) -> Arc<Index> {
        Arc::clone(&self.index)
    }

    /// Whether a change is applied, pending, or known to belong to a
    /// member's other history.
    pub fn knows(&self, doc: &MemberId, hash: &ChangeHash) -> bool {
        self.metas.get(doc).is_some_and(|d| d.has_change(hash))
            || self.pending.contains(doc, hash)
            || self.conflicts.contains(&(*doc, *hash))
    }

    /// Drops a member's document and pending changes (a local block).
    pub fn remove_doc(&mut self, member: &MemberId) {
        self.metas.remove(member);
        self.cache.remove(member);
        self.pending.take(member);
        self.conflicts.retain(|(m, _)| m != member);
        Arc::make_mut(&mut self.index).remove_doc(member);
    }

    /// Drops one change of `doc` from the pending buffer, where a batch
    /// that failed to persist left it to be retried. A write of this node's
    /// own that failed must not wait there: the member's next write takes
    /// the same sequence number, and would look like a second history.
    /// Returns whether the change was waiting.
    pub fn forget_pending(&mut self, doc: &MemberId, hash: &ChangeHash) -> bool {
        if !self.pending.contains(doc, hash) {
            return false;
        }
        for w in self.pending.take(doc) {
            if w.checked.change.hash() != *hash {
                // Put back what was there: within the bounds it met before.
                let _ = self.pending.push(w);
            }
        }
        true
    }

    /// Admits what it can of `batch`, calls `persist` with the admitted
    /// changes (in an order where every change follows its dependencies,
    /// [`Commit::admitted`]), and applies them only if `persist` returns
    /// `Ok`. With an empty admission, `persist` is not called.
    ///
    /// For a registry that keeps every document loaded (the default); with
    /// a bounded cache ([`Registry::with_cache`]) use
    /// [`Registry::admit_with`], or the changes of an evicted document are
    /// refused.
    pub fn admit<E>(
        &mut self,
        batch: Vec<SignedChange>,
        now: Timestamp,
        trust: Trust,
        persist: impl FnOnce(&Commit<'_>) -> Result<(), E>,
    ) -> Result<Report, E> {
        self.admit_inner(batch, now, trust, &mut |_| Ok(None), true, persist)
    }

    /// Applies changes read back from this node's own store (as
    /// [`Trust::OwnStore`]) to the documents only: the index is neither
    /// computed nor changed (the node reads it from its index table,
    /// [`Registry::set_index`]). Nothing is persisted. For a registry that
    /// keeps every document loaded.
    pub fn replay_documents(&mut self, batch: Vec<SignedChange>, now: Timestamp) -> Report {
        let done = self.admit_inner(batch, now, Trust::OwnStore, &mut |_| Ok(None), false, |_| {
            Ok::<(), std::convert::Infallible>(())
        });
        match done {
            Ok(report) => report,
            Err(never) => match never {},
        }
    }

    /// Replaces the record index (one the node read back from its store).
    pub fn set_index(&mut self, index: Index) {
        self.index = Arc::new(index);
    }

    /// [`Registry::admit`], reading through `load` the documents the batch
    /// goes into that are not loaded. A failed read is returned as it is,
    /// after putting the batch's ready changes back in the pending buffer
    /// (as a failed `persist` does): nothing else changes.
    pub fn admit_with<L: Load>(
        &mut self,
        batch: Vec<SignedChange>,
        now: Timestamp,
        trust: Trust,
        load: &L,
        persist: impl FnOnce(&Commit<'_>) -> Result<(), L::Error>,
    ) -> Result<Report, L::Error> {
        self.admit_inner(batch, now, trust, &mut |m| load.changes(m).map(Some), true, persist)
    }

    fn admit_inner<E>(
        &mut self,
        batch: Vec<SignedChange>,
        now: Timestamp,
        trust: Trust,
        load: &mut LoadFn<'_, E>,
        indexing: bool,
        persist: impl FnOnce(&Commit<'_>) -> Result<(), E>,
    ) -> Result<Report, E> {
        let mut report = Report::default();
        self.pending.expire(now, false);
        // Documents with a change of this batch already pending: ordered again
        // too, so a batch that failed to persist succeeds when it is retried.
        let mut retry = BTreeSet::new();
        let checked = self.check(batch, now, trust, &mut report, &mut retry);
        let ready = self.order(checked, retry, now, trust.source(), load, &mut report);
        // The documents to apply to, read back first: a failed read leaves
        // the ready changes pending, as a failed persist does.
        let mut bases = Vec::with_capacity(ready.len());
        let mut failed = None;
        for (member, _) in &ready {
            match self.base(member, load) {
                Ok(base) => bases.push(base),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            self.repend(ready.into_iter().flat_map(|(_, cs)| cs), trust, now);
            return Err(e);
        }
        let mut applied: BTreeMap<MemberId, Applied> = BTreeMap::new();
        for ((member, changes), base) in ready.into_iter().zip(bases) {
            let Some(base) = base else {
                tracing::error!(%member, "a document is not loaded and no store was given to read it: its changes are refused");
                for c in changes {
                    let reason = "its document is not loaded here".to_owned();
                    report.rejected.push(Rejected {
                        doc: member,
                        hash: Some(c.change.hash()),
                        reason: Rejection::Unapplicable { doc: member, reason },
                    });
                }
                continue;
            };
            let result = apply_to(&base, member, changes, &mut report);
            if !result.good.is_empty() {
                applied.insert(member, result);
            }
        }
        let envelopes: Vec<Admitted> = applied
            .values()
            .flat_map(|a| &a.good)
            .map(|c| Admitted {
                change: c.envelope(),
                hash: c.change.hash(),
            })
            .collect();
        if envelopes.is_empty() {
            return Ok(report);
        }
        let metas: Vec<(MemberId, Meta)> = applied.iter().map(|(m, a)| (*m, a.doc.meta().clone())).collect();
        // The index delta, from the scratch copies: persisted with the
        // changes, applied to the index only once they are.
        let delta = if indexing {
            let scratch: Vec<&MemberDoc> = applied.values().map(|a| &a.doc).collect();
            self.index.delta(&scratch, &mut self.keys, self.verifier.as_ref())
        } else {
            index::Delta::default()
        };
        if let Err(e) = persist(&Commit {
            admitted: &envelopes,
            docs: &metas,
            index: &delta,
        }) {
            // Put the changes back in the pending buffer so a later batch
            // can retry them; nothing was applied (the scratch copies go).
            self.repend(applied.into_values().flat_map(|a| a.good), trust, now);
            return Err(e);
        }
        for ((member, a), (_, meta)) in applied.into_iter().zip(metas) {
            report.admitted.extend(a.good.iter().map(|c| (member, c.change.hash())));
            self.metas.insert(member, meta);
            self.cache.insert(a.doc);
        }
        if indexing {
            Arc::make_mut(&mut self.index).apply(delta);
        }
        Ok(report)
    }

    /// Puts changes back in the pending buffer after a failed read or
    /// persist, so a later batch retries them.
    fn repend(&mut self, changes: impl IntoIterator<Item = Checked>, trust: Trust, now: Timestamp) {
        for c in changes {
            let cost = pending::cost(&c.change);
            let _ = self.pending.push(Waiting {
                checked: c,
                source: trust.source(),
                since: now,
                cost,
            });
        }
    }

    /// A copy of `member`'s document to apply changes to: the loaded one,
    /// one read back through `load`, or a new one. `None`: the document is
    /// held but cannot be read (no store given).
    fn base<E>(&mut self, member: &MemberId, load: &mut LoadFn<'_, E>) -> Result<Option<MemberDoc>, E> {
        if let Some(doc) = self.cache.touch(member) {
            return Ok(Some(doc.clone()));
        }
        let Some(meta) = self.metas.get(member) else {
            return Ok(Some(MemberDoc::new(*member)));
        };
        let Some(changes) = load(member)? else {
            return Ok(None);
        };
        let doc = rebuild(*member, changes);
        if doc.meta() != meta {
            tracing::warn!(%member, "a document read back from the store differs from its metadata: the store's copy is kept");
            self.metas.insert(*member, doc.meta().clone());
        }
        Ok(Some(doc))
    }

    /// Rules 1, 3 and 5 and the actor part of rule 2, with batched
    /// signature verification.
    fn check(
        &mut self,
        batch: Vec<SignedChange>,
        now: Timestamp,
        trust: Trust,
        report: &mut Report,
        retry: &mut BTreeSet<MemberId>,
    ) -> Vec<Checked> {
        let mut seen = HashSet::new();
        let mut candidates = Vec::with_capacity(batch.len());
        for envelope in batch {
            let doc = envelope.doc();
            let reject = |report: &mut Report, hash, reason| {
                report.rejected.push(Rejected { doc, hash, reason });
            };
            let size = envelope.change_bytes().len();
            if size > MAX_CHANGE_BYTES {
                reject(
                    report,
                    None,
                    Rejection::TooLarge {
                        size,
                        limit: MAX_CHANGE_BYTES,
                    },
                );
                continue;
            }
            let change = match envelope.decode() {
                Ok(c) => c,
                Err(e) => {
                    reject(report, None, Rejection::Malformed(e.to_string()));
                    continue;
                }
            };
            let hash = change.hash();
            // Keyed by signature too: a forged copy earlier in the batch must
            // not make the genuine change look like a duplicate of itself.
            if !seen.insert((doc, hash, *envelope.sig_bytes())) || self.knows(&doc, &hash) {
                report.duplicates += 1;
                if self.pending.contains(&doc, &hash) {
                    retry.insert(doc);
                }
                continue;
            }
            let owned = |actor: &ActorId| {
                let bytes = actor.to_bytes();
                bytes.len() == MEMBER_ID_LEN + REPLICA_NONCE_LEN && bytes[..MEMBER_ID_LEN] == doc.as_bytes()[..]
            };
            if !owned(change.actor_id()) || !change.other_actor_ids().iter().all(owned) {
                reject(report, Some(hash), Rejection::ForeignActor { doc });
                continue;
            }
            if trust != Trust::OwnStore && admission::too_far_ahead(change.timestamp(), now) {
                reject(
                    report,
                    Some(hash),
                    Rejection::FromTheFuture {
                        timestamp: change.timestamp(),
                        now: now.as_millis(),
                    },
                );
                continue;
            }
            candidates.push(Checked {
                doc,
                sig: *envelope.sig_bytes(),
                change,
            });
        }
        if trust == Trust::OwnStore {
            return candidates;
        }
        let ok = self.verify(&candidates);
        let mut checked = Vec::with_capacity(candidates.len());
        for (c, ok) in candidates.into_iter().zip(ok) {
            match ok {
                Ok(()) => checked.push(c),
                Err(reason) => report.rejected.push(Rejected {
                    doc: c.doc,
                    hash: Some(c.change.hash()),
                    reason,
                }),
            }
        }
        checked
    }

    fn verify(&mut self, candidates: &[Checked]) -> Vec<Result<(), Rejection>> {
        let messages: Vec<[u8; 78]> = candidates
            .iter()
            .map(|c| change::signed_message(&c.doc, &c.change.hash()))
            .collect();
        let mut out = Vec::with_capacity(candidates.len());
        let mut items = Vec::with_capacity(candidates.len());
        for (c, message) in candidates.iter().zip(&messages) {
            match self.keys.get(&c.doc) {
                Some(key) => {
                    items.push(Item {
                        message,
                        signature: c.sig,
                        key,
                    });
                    out.push(Ok(()));
                }
                None => out.push(Err(Rejection::InvalidDocument { doc: c.doc })),
            }
        }
        let mut verdicts = self.verifier.verify(&items).into_iter();
        for (c, r) in candidates.iter().zip(out.iter_mut()) {
            if r.is_ok() && !verdicts.next().unwrap_or(false) {
                *r = Err(Rejection::BadSignature { doc: c.doc });
            }
        }
        out
    }

    /// Rule 4 and sequence numbers: orders checked changes (with those
    /// already pending for the same documents) so each follows its
    /// dependencies, grouped by document; the rest waits in the pending
    /// buffer. A change that reuses its actor's sequence number with other
    /// content is refused and reported as an [`Equivocation`].
    fn order<E>(
        &mut self,
        checked: Vec<Checked>,
        retry: BTreeSet<MemberId>,
        now: Timestamp,
        source: Source,
        load: &mut LoadFn<'_, E>,
        report: &mut Report,
    ) -> Vec<(MemberId, Vec<Checked>)> {
        let mut by_doc: BTreeMap<MemberId, Vec<Waiting>> = retry.into_iter().map(|m| (m, Vec::new())).collect();
        for c in checked {
            let cost = pending::cost(&c.change);
            by_doc.entry(c.doc).or_default().push(Waiting {
                checked: c,
                source,
                since: now,
                cost,
            });
        }
        let mut ready = Vec::new();
        for (member, mut waiting) in by_doc {
            let arrived: HashSet<ChangeHash> = waiting.iter().map(|w| w.checked.change.hash()).collect();
            waiting.extend(self.pending.take(&member));
            let empty = Meta::default();
            let doc = self.metas.get(&member).unwrap_or(&empty);
            let mut clock: HashMap<ActorId, u64> = HashMap::new();
            // (actor, seq) → hash of the changes taken in this pass.
            let mut added: HashMap<ChangeHash, (ActorId, u64)> = HashMap::new();
            let mut taken: Vec<Checked> = Vec::new();
            let mut conflicts: Vec<(Checked, ChangeHash)> = Vec::new();
            // Passes over the waiting changes in their order, each taking
            // every change whose dependencies are met by then. Changes that
            // come in causal order (a store read back, a peer's answer) all
            // go in one pass; the order is kept so that this holds.
            loop {
                let before = waiting.len();
                let mut kept = Vec::with_capacity(waiting.len());
                for w in waiting {
                    let change = &w.checked.change;
                    let actor = change.actor_id();
                    let current = *clock.entry(actor.clone()).or_insert_with(|| doc.seq(actor));
                    let hash = change.hash();
                    if change.seq() <= current {
                        if added.contains_key(&hash) || doc.has_change(&hash) {
                            report.duplicates += 1;
                        } else {
                            conflicts.push((w.checked, hash));
                        }
                        continue;
                    }
                    if let Some(dep) = change.deps().iter().find(|d| self.conflicts.contains(&(member, **d))) {
                        report.rejected.push(Rejected {
                            doc: member,
                            hash: Some(hash),
                            reason: Rejection::BuildsOnConflict { dep: *dep },
                        });
                        continue;
                    }
                    let deps_ok = change.deps().iter().all(|d| doc.has_change(d) || added.contains_key(d));
                    if deps_ok && change.seq() == current + 1 {
                        clock.insert(actor.clone(), change.seq());
                        added.insert(hash, (actor.clone(), change.seq()));
                        taken.push(w.checked);
                    } else {
                        kept.push(w);
                    }
                }
                waiting = kept;
                if waiting.len() == before {
                    break;
                }
            }
            for (c, hash) in conflicts {
                let seq = c.change.seq();
                let actor = c.change.actor_id();
                let kept = added
                    .iter()
                    .find(|(_, (a, s))| a == actor && *s == seq)
                    .map(|(h, _)| *h)
                    .or_else(|| kept_change(&self.cache, member, actor, seq, load));
                report.rejected.push(Rejected {
                    doc: member,
                    hash: Some(hash),
                    reason: Rejection::ConflictingSeq { seq },
                });
                if self.conflicts.len() < MAX_CONFLICTS {
                    self.conflicts.insert((member, hash));
                }
                if let Some(kept) = kept {
                    report.equivocations.push(Equivocation {
                        doc: member,
                        seq,
                        kept,
                        timestamp: c.change.timestamp(),
                        other_hash: hash,
                        other: c.envelope(),
                    });
                }
            }
            // What is left waits for dependencies.
            let waiting_hashes: HashSet<ChangeHash> = waiting.iter().map(|w| w.checked.change.hash()).collect();
            let mut missing = HashSet::new();
            for w in &waiting {
                for d in w.checked.change.deps() {
                    if !doc.has_change(d)
                        && !added.contains_key(d)
                        && !waiting_hashes.contains(d)
                        && !self.conflicts.contains(&(member, *d))
                        && missing.insert(*d)
                    {
                        report.missing.push((member, *d));
                    }
                }
            }
            for w in waiting {
                let hash = w.checked.change.hash();
                match self.pending.push(w) {
                    Ok(()) if arrived.contains(&hash) => report.pending += 1,
                    Ok(()) => {}
                    Err(share) => report.rejected.push(Rejected {
                        doc: member,
                        hash: Some(hash),
                        reason: Rejection::PendingFull { share },
                    }),
                }
            }
            if !taken.is_empty() {
                ready.push((member, taken));
            }
        }
        ready
    }
}

/// The hash of the change `member`'s document holds for `actor`'s `seq`
/// (the one kept when another history reuses that number): from the loaded
/// document, or the changes read back. `None` if neither can tell (a read
/// that fails only costs the evidence, never the refusal).
fn kept_change<E>(
    cache: &Cache,
    member: MemberId,
    actor: &ActorId,
    seq: u64,
    load: &mut LoadFn<'_, E>,
) -> Option<ChangeHash> {
    if let Some(doc) = cache.get(&member) {
        return doc
            .automerge()
            .get_changes_meta(&[])
            .into_iter()
            .find(|m| m.actor.as_ref() == actor && m.seq == seq)
            .map(|m| m.hash);
    }
    let Ok(Some(changes)) = load(&member) else {
        tracing::warn!(%member, "cannot read a document back to name the change another history conflicts with");
        return None;
    };
    changes
        .iter()
        .filter_map(|e| e.decode().ok())
        .find(|c| c.actor_id() == actor && c.seq() == seq)
        .map(|c| c.hash())
}
