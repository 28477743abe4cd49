//! Member documents: one Automerge document per member.
//!
//! The document id is the member id. Its actors are the member's replicas
//! (actor id = member key ‖ 16-byte replica nonce). Each signed record is one
//! bytes value under the flat root key `kind/id` (see [`record::doc_key`]):
//! an edit replaces the whole signed record, so two signed versions never mix
//! into an unsigned one, and concurrent versions resolve the same way on every
//! node (Automerge's deterministic winner).

mod meta;

use std::borrow::Cow;

pub use self::meta::{Error as MetaError, Meta};
use automerge::transaction::{CommitOptions, Transactable};

use automerge::{ActorId, Automerge, Change, ChangeHash, ObjId, ROOT, ReadDoc, ScalarValue, ScalarValueRef, ValueRef};

use crate::identity::{self, MemberId, ReplicaNonce, SecretKey};
use crate::record::SignedRecord;
use crate::time::Timestamp;
use crate::{change::SignedChange, record};

/// Errors when writing to a member document.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("member document of {owner} cannot take a record by {author}")]
    NotOwner { owner: MemberId, author: MemberId },
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error("a write must contain at least one record")]
    Empty,
}

/// The operation that wrote a value: its counter and the replica that made
/// it. Every actor of a member document is the owner's key followed by a
/// replica nonce (admission's rule), so within one document the pair names
/// the operation exactly, and a value whose operation is unchanged is
/// unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpId {
    counter: u64,
    replica: [u8; 16],
}

impl OpId {
    /// Length of [`OpId::to_bytes`].
    pub(crate) const LEN: usize = 24;

    /// Counter (big endian) ‖ replica: how the persistent index stores it.
    pub(crate) fn to_bytes(self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        b[..8].copy_from_slice(&self.counter.to_be_bytes());
        b[8..].copy_from_slice(&self.replica);
        b
    }

    pub(crate) fn from_bytes(b: &[u8; Self::LEN]) -> Self {
        let mut counter = [0u8; 8];
        counter.copy_from_slice(&b[..8]);
        let mut replica = [0u8; 16];
        replica.copy_from_slice(&b[8..]);
        Self {
            counter: u64::from_be_bytes(counter),
            replica,
        }
    }
}

/// One key's winning value (see [`MemberDoc::values`]).
#[derive(Debug)]
pub(crate) struct Value<'a> {
    pub key: Cow<'a, str>,
    /// `None` if the writing actor is not one of the owner's replicas
    /// (admission never lets such a change in).
    pub op: Option<OpId>,
    /// The stored record bytes; `None` for values that are not bytes (no
    /// mutu writer makes them).
    pub bytes: Option<Cow<'a, [u8]>>,
}

/// One member's document plus the bookkeeping admission needs.
#[derive(Debug, Clone)]
pub struct MemberDoc {
    owner: MemberId,
    am: Automerge,
    /// Heads, clock and change hashes: what stays resident when the
    /// document itself is evicted.
    meta: Meta,
}

impl MemberDoc {
    pub fn new(owner: MemberId) -> Self {
        Self {
            owner,
            am: Automerge::new(),
            meta: Meta::default(),
        }
    }

    pub fn owner(&self) -> MemberId {
        self.owner
    }

    pub fn has_change(&self, hash: &ChangeHash) -> bool {
        self.meta.has_change(hash)
    }

    /// Number of changes applied.
    pub fn change_count(&self) -> usize {
        self.meta.change_count()
    }

    /// Highest applied sequence number of `actor` (0 if none).
    pub fn seq(&self, actor: &ActorId) -> u64 {
        self.meta.seq(actor)
    }

    /// Sorted.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.meta.heads().to_vec()
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    pub fn automerge(&self) -> &Automerge {
        &self.am
    }

    /// Applies changes that admission has checked: every dependency is
    /// present or earlier in `changes`, and sequence numbers follow on.
    pub(crate) fn apply(&mut self, changes: Vec<Change>) -> Result<(), automerge::AutomergeError> {
        self.meta.record(&changes);
        let result = self.am.apply_changes(changes);
        self.meta.set_heads(self.am.get_heads());
        result
    }

    /// The current winning value of every key: `(key, stored record bytes)`.
    /// Values that are not bytes are skipped (no mutu writer makes them).
    pub fn entries(&self) -> Vec<(String, Vec<u8>)> {
        self.am
            .map_range(ROOT, ..)
            .filter_map(|item| match item.value {
                ValueRef::Scalar(ScalarValueRef::Bytes(b)) => Some((item.key.into_owned(), b.into_owned())),
                _ => None,
            })
            .collect()
    }

    /// Every key's winning value with the operation that wrote it, without
    /// copying any value.
    pub(crate) fn values(&self) -> impl Iterator<Item = Value<'_>> {
        let owner = self.owner;
        self.am.map_range(ROOT, ..).map(move |item| {
            let op = match item.id() {
                ObjId::Id(counter, actor, _) => {
                    let bytes = actor.to_bytes();
                    match (bytes.get(..32), bytes.get(32..)) {
                        (Some(key), Some(nonce)) if key == owner.as_bytes() => {
                            nonce.try_into().ok().map(|replica| OpId { counter, replica })
                        }
                        _ => None,
                    }
                }
                ObjId::Root => None,
            };
            let bytes = match item.value {
                ValueRef::Scalar(ScalarValueRef::Bytes(b)) => Some(b),
                _ => None,
            };
            Value {
                key: item.key,
                op,
                bytes,
            }
        })
    }

    /// Number of keys with a record value.
    pub fn record_count(&self) -> usize {
        self.values().filter(|v| v.bytes.is_some()).count()
    }

    /// Makes (but does not apply) one change that writes `records`, as the
    /// owner's replica `replica`, signed with `key`. The document itself is
    /// untouched: the change goes through admission like any other, so a
    /// write that fails to persist leaves no trace.
    pub fn write(
        &self,
        key: &SecretKey,
        replica: &ReplicaNonce,
        records: &[SignedRecord],
        now: Timestamp,
    ) -> Result<SignedChange, Error> {
        let mut chain = self.write_chain(key, replica, &[records], now)?;
        chain.pop().ok_or(Error::Empty)
    }

    /// As [`MemberDoc::write`], for several groups of records: one change
    /// per group, each building on the one before, so that a write larger
    /// than one change may hold ([`crate::change::MAX_CHANGE_BYTES`]) can
    /// still be admitted, and persisted, as one batch.
    pub fn write_chain(
        &self,
        key: &SecretKey,
        replica: &ReplicaNonce,
        groups: &[&[SignedRecord]],
        now: Timestamp,
    ) -> Result<Vec<SignedChange>, Error> {
        if groups.is_empty() || groups.iter().any(|g| g.is_empty()) {
            return Err(Error::Empty);
        }
        for r in groups.iter().flat_map(|g| g.iter()) {
            if r.record().author != self.owner || key.member_id() != self.owner {
                return Err(Error::NotOwner {
                    owner: self.owner,
                    author: r.record().author,
                });
            }
        }
        let mut scratch = self.am.clone();
        scratch.set_actor(identity::actor_id(&self.owner, replica));
        // Millisecond timestamps far beyond i64 would be nonsense; saturate.
        let time = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
        let mut chain = Vec::with_capacity(groups.len());
        for records in groups {
            let mut tx = scratch.transaction();
            for r in *records {
                tx.put(
                    ROOT,
                    record::doc_key(r.record().kind, &r.id()),
                    ScalarValue::Bytes(r.stored_bytes()),
                )?;
            }
            let (hash, _) = tx.commit_with(CommitOptions::default().with_time(time));
            let change = hash.and_then(|h| scratch.get_change_by_hash(&h)).ok_or(Error::Empty)?;
            chain.push(SignedChange::sign(key, &change));
        }
        Ok(chain)
    }
}
