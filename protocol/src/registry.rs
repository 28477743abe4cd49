//! The registry: every member document this node holds, the changes waiting
//! for dependencies, and the index of valid records that views read.
//!
//! [`Registry::admit`] runs admission over a batch, hands the admitted changes
//! to a caller-supplied `persist` function (the node's durable store commit),
//! and applies them only if that succeeds. Applying means one
//! `apply_changes` call per document per batch (per-change calls are
//! quadratic in automerge 0.12), then re-indexing the touched documents.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use automerge::{Change, ChangeHash};

use crate::admission::{self, Admitted, Rejected, Rejection, Report};
use crate::change::{self, MAX_CHANGE_BYTES, SignedChange};
use crate::doc::MemberDoc;
use crate::identity::{KeyCache, MEMBER_ID_LEN, MemberId, REPLICA_NONCE_LEN};
use crate::time::Timestamp;
use crate::verify::{Item, Sequential, Verifier};
use crate::view::Index;

/// A change that passed rules 1–3 and 5, waiting to be ordered and applied.
#[derive(Debug, Clone)]
struct Checked {
    envelope: SignedChange,
    change: Change,
}

/// All documents, the pending buffer and the record index.
#[derive(Debug)]
pub struct Registry {
    docs: BTreeMap<MemberId, MemberDoc>,
    pending: HashMap<MemberId, Vec<Checked>>,
    /// Every pending change, for constant-time duplicate checks; its length
    /// is the buffer's size.
    pending_hashes: HashSet<(MemberId, ChangeHash)>,
    keys: KeyCache,
    index: Index,
    verifier: Arc<dyn Verifier>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::with_verifier(Arc::new(Sequential))
    }
}

/// Whether signatures and clocks are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Everything from the network, bundles, the API: all rules.
    Untrusted,
    /// Changes this node admitted before and read back from its own store:
    /// decoding and ordering only.
    OwnStore,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry whose signature checks run on `verifier` (e.g. spread over
    /// the node's cores).
    pub fn with_verifier(verifier: Arc<dyn Verifier>) -> Self {
        Self {
            docs: BTreeMap::new(),
            pending: HashMap::new(),
            pending_hashes: HashSet::new(),
            keys: KeyCache::default(),
            index: Index::default(),
            verifier,
        }
    }

    pub fn doc(&self, member: &MemberId) -> Option<&MemberDoc> {
        self.docs.get(member)
    }

    pub fn docs(&self) -> impl Iterator<Item = &MemberDoc> {
        self.docs.values()
    }

    pub fn doc_count(&self) -> usize {
        self.docs.len()
    }

    /// Changes waiting for dependencies.
    pub fn pending_count(&self) -> usize {
        self.pending_hashes.len()
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Whether a change is applied or pending.
    pub fn knows(&self, doc: &MemberId, hash: &ChangeHash) -> bool {
        self.docs.get(doc).is_some_and(|d| d.has_change(hash)) || self.pending_hashes.contains(&(*doc, *hash))
    }

    /// Drops a member's document and pending changes (a local block).
    pub fn remove_doc(&mut self, member: &MemberId) {
        self.docs.remove(member);
        self.take_pending(member);
        self.index.remove_doc(member);
    }

    /// Admits what it can of `batch`, calls `persist` with the admitted
    /// changes (in an order where every change follows its dependencies), and
    /// applies them only if `persist` returns `Ok`. With an empty admission,
    /// `persist` is not called.
    pub fn admit<E>(
        &mut self,
        batch: Vec<SignedChange>,
        now: Timestamp,
        trust: Trust,
        persist: impl FnOnce(&[Admitted]) -> Result<(), E>,
    ) -> Result<Report, E> {
        let mut report = Report::default();
        // Documents with a change of this batch already pending: ordered again
        // too, so a batch that failed to persist succeeds when it is retried.
        let mut retry = BTreeSet::new();
        let checked = self.check(batch, now, trust, &mut report, &mut retry);
        let ready = self.order(checked, retry, &mut report);
        let envelopes: Vec<Admitted> = ready
            .iter()
            .map(|c| Admitted {
                change: c.envelope.clone(),
                hash: c.change.hash(),
            })
            .collect();
        if envelopes.is_empty() {
            return Ok(report);
        }
        if let Err(e) = persist(&envelopes) {
            // Put the admitted changes back in the pending buffer so a later
            // batch can retry them; nothing was applied.
            for c in ready {
                self.push_pending(c, &mut Report::default());
            }
            return Err(e);
        }
        let mut by_doc: BTreeMap<MemberId, Vec<Change>> = BTreeMap::new();
        for c in ready {
            report.admitted.push((c.envelope.doc(), c.change.hash()));
            by_doc.entry(c.envelope.doc()).or_default().push(c.change);
        }
        let touched: Vec<MemberId> = by_doc.keys().copied().collect();
        for (member, changes) in by_doc {
            let doc = self.docs.entry(member).or_insert_with(|| MemberDoc::new(member));
            if let Err(e) = doc.apply(changes) {
                // Admission checked causality and sequence numbers, so
                // automerge has no reason left to refuse; if it does, the
                // document is rebuilt from what is stored on next open.
                tracing::error!(%member, error = %e, "automerge refused admitted changes");
            }
        }
        let docs: Vec<&MemberDoc> = touched.iter().filter_map(|m| self.docs.get(m)).collect();
        self.index.reindex(&docs, &mut self.keys, self.verifier.as_ref());
        Ok(report)
    }

    /// Rules 1–3 and 5, with batched signature verification.
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
                    reject(report, None, Rejection::Malformed(e));
                    continue;
                }
            };
            let hash = change.hash();
            // Keyed by signature too: a forged copy earlier in the batch must
            // not make the genuine change look like a duplicate of itself.
            if !seen.insert((doc, hash, *envelope.sig_bytes())) || self.knows(&doc, &hash) {
                report.duplicates += 1;
                if self.docs.get(&doc).is_none_or(|d| !d.has_change(&hash)) {
                    retry.insert(doc);
                }
                continue;
            }
            let actor = change.actor_id().to_bytes();
            if actor.len() != MEMBER_ID_LEN + REPLICA_NONCE_LEN || actor[..MEMBER_ID_LEN] != doc.as_bytes()[..] {
                reject(report, Some(hash), Rejection::ForeignActor { doc });
                continue;
            }
            if trust == Trust::Untrusted && admission::too_far_ahead(change.timestamp(), now) {
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
            candidates.push(Checked { envelope, change });
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
                    doc: c.envelope.doc(),
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
            .map(|c| change::signed_message(&c.envelope.doc(), &c.change.hash()))
            .collect();
        let mut out = Vec::with_capacity(candidates.len());
        let mut items = Vec::with_capacity(candidates.len());
        for (c, message) in candidates.iter().zip(&messages) {
            let doc = c.envelope.doc();
            match self.keys.get(&doc) {
                Some(key) => {
                    items.push(Item {
                        message,
                        signature: c.envelope.signature(),
                        key,
                    });
                    out.push(Ok(()));
                }
                None => out.push(Err(Rejection::InvalidDocument { doc })),
            }
        }
        let mut verdicts = self.verifier.verify(&items).into_iter();
        for (c, r) in candidates.iter().zip(out.iter_mut()) {
            if r.is_ok() && !verdicts.next().unwrap_or(false) {
                *r = Err(Rejection::BadSignature { doc: c.envelope.doc() });
            }
        }
        out
    }

    /// Rule 4 and sequence numbers: orders checked changes (with those
    /// already pending for the same documents) so each follows its
    /// dependencies; the rest waits in the pending buffer.
    fn order(&mut self, checked: Vec<Checked>, retry: BTreeSet<MemberId>, report: &mut Report) -> Vec<Checked> {
        let mut by_doc: BTreeMap<MemberId, Vec<Checked>> = retry.into_iter().map(|m| (m, Vec::new())).collect();
        for c in checked {
            by_doc.entry(c.envelope.doc()).or_default().push(c);
        }
        let mut ready = Vec::new();
        for (member, mut waiting) in by_doc {
            waiting.extend(self.take_pending(&member));
            let empty = MemberDoc::new(member);
            let doc = self.docs.get(&member).unwrap_or(&empty);
            let mut clock: HashMap<Vec<u8>, u64> = HashMap::new();
            let mut added: HashSet<ChangeHash> = HashSet::new();
            // Passes over the waiting changes in their order, each taking
            // every change whose dependencies are met by then. Changes that
            // come in causal order (a store read back, a peer's answer) all
            // go in one pass; the order is kept so that this holds.
            loop {
                let before = waiting.len();
                let mut kept = Vec::with_capacity(waiting.len());
                for c in waiting {
                    let change = &c.change;
                    let actor = change.actor_id();
                    let current = *clock.entry(actor.to_bytes().to_vec()).or_insert_with(|| doc.seq(actor));
                    if change.seq() <= current {
                        let (hash, seq) = (change.hash(), change.seq());
                        if added.contains(&hash) || doc.has_change(&hash) {
                            report.duplicates += 1;
                        } else {
                            let reason = Rejection::ConflictingSeq { seq };
                            report.rejected.push(Rejected {
                                doc: member,
                                hash: Some(hash),
                                reason,
                            });
                        }
                        continue;
                    }
                    let deps_ok = change.deps().iter().all(|d| doc.has_change(d) || added.contains(d));
                    if deps_ok && change.seq() == current + 1 {
                        clock.insert(actor.to_bytes().to_vec(), change.seq());
                        added.insert(change.hash());
                        ready.push(c);
                    } else {
                        kept.push(c);
                    }
                }
                waiting = kept;
                if waiting.len() == before {
                    break;
                }
            }
            // What is left waits for dependencies.
            let waiting_hashes: HashSet<ChangeHash> = waiting.iter().map(|c| c.change.hash()).collect();
            let mut missing = HashSet::new();
            for c in &waiting {
                for d in c.change.deps() {
                    if !doc.has_change(d) && !added.contains(d) && !waiting_hashes.contains(d) && missing.insert(*d) {
                        report.missing.push((member, *d));
                    }
                }
            }
            for c in waiting {
                self.push_pending(c, report);
            }
        }
        ready
    }

    /// Takes a document's pending changes out of the buffer.
    fn take_pending(&mut self, member: &MemberId) -> Vec<Checked> {
        let taken = self.pending.remove(member).unwrap_or_default();
        for c in &taken {
            self.pending_hashes.remove(&(*member, c.change.hash()));
        }
        taken
    }

    fn push_pending(&mut self, c: Checked, report: &mut Report) {
        if self.pending_hashes.len() >= admission::MAX_PENDING {
            report.rejected.push(Rejected {
                doc: c.envelope.doc(),
                hash: Some(c.change.hash()),
                reason: Rejection::PendingFull,
            });
            return;
        }
        report.pending += 1;
        self.pending_hashes.insert((c.envelope.doc(), c.change.hash()));
        self.pending.entry(c.envelope.doc()).or_default().push(c);
    }
}
