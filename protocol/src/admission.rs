//! Change admission: the security core.
//!
//! Automerge cannot take back a change once applied, so nothing is applied
//! before it is admitted. A change to document D is admitted only if
//!
//! 1. it decodes, within [`MAX_CHANGE_BYTES`](crate::change::MAX_CHANGE_BYTES);
//! 2. its actor id is D's owner key followed by a 16-byte replica nonce;
//! 3. its signature (`mutu/change/v1` ‖ D ‖ change hash) verifies under D's
//!    owner key (`verify_strict`, batched, see below);
//! 4. its dependencies are present (otherwise it waits in a bounded pending
//!    buffer and the missing hashes are reported, to be requested);
//! 5. its timestamp is at most [`MAX_CLOCK_SKEW_MS`] ahead of `now`;
//!
//! and, because two changes with one actor and sequence number would make the
//! document unmergeable, it must not reuse a sequence number already applied
//! for its actor ([`Rejection::ConflictingSeq`]).
//!
//! Signatures are checked with `ed25519_dalek::verify_batch` in chunks of
//! [`crate::verify::BATCH`] (about 2.5x faster per signature); when a chunk fails,
//! its changes are re-checked one by one with `verify_strict` to find the
//! culprits. Public keys are decoded once and cached.

use automerge::ChangeHash;

use crate::identity::MemberId;
use crate::time::Timestamp;

/// How far in the future a change's timestamp may be.
pub const MAX_CLOCK_SKEW_MS: u64 = 10 * 60 * 1000;
/// Changes waiting for their dependencies, across all documents.
pub const MAX_PENDING: usize = 10_000;

/// Why a change was not admitted. Each rule has its own reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    #[error("change of {size} bytes is over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("change does not decode: {0}")]
    Malformed(String),
    #[error("change's actor does not belong to the owner of document {doc}")]
    ForeignActor { doc: MemberId },
    #[error("document id {doc} is not a valid public key")]
    InvalidDocument { doc: MemberId },
    #[error("change signature does not verify under the key of {doc}")]
    BadSignature { doc: MemberId },
    #[error("change timestamp {timestamp} ms is more than 10 minutes after now ({now} ms)")]
    FromTheFuture { timestamp: i64, now: u64 },
    #[error("change reuses sequence number {seq} of its actor with different content")]
    ConflictingSeq { seq: u64 },
    #[error("pending buffer is full ({MAX_PENDING} changes waiting for dependencies)")]
    PendingFull,
}

impl Rejection {
    /// Whether the change proves its sender relayed something forged or
    /// malformed (as opposed to, e.g., a full buffer). Nodes penalise these.
    pub fn is_misbehaviour(&self) -> bool {
        !matches!(self, Rejection::PendingFull)
    }
}

/// An admitted change with its hash, as handed to `persist`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub change: crate::change::SignedChange,
    pub hash: ChangeHash,
}

/// One rejected change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub doc: MemberId,
    pub hash: Option<ChangeHash>,
    pub reason: Rejection,
}

/// What admission did with a batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Changes applied, in the order they were applied.
    pub admitted: Vec<(MemberId, ChangeHash)>,
    /// Changes already known (applied or pending).
    pub duplicates: usize,
    /// Changes of this batch now waiting for dependencies.
    pub pending: usize,
    pub rejected: Vec<Rejected>,
    /// Dependencies nobody has sent yet: ask peers for them.
    pub missing: Vec<(MemberId, ChangeHash)>,
}

impl Report {
    /// Whether any change of the batch was forged or malformed.
    pub fn has_misbehaviour(&self) -> bool {
        self.rejected.iter().any(|r| r.reason.is_misbehaviour())
    }
}

pub(crate) fn too_far_ahead(timestamp: i64, now: Timestamp) -> bool {
    timestamp > 0 && (timestamp as u64) > now.as_millis().saturating_add(MAX_CLOCK_SKEW_MS)
}
