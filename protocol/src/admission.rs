//! Change admission: the security core.
//!
//! Automerge cannot take back a change once applied, and it panics on some
//! changes it does not expect, so nothing is stored or applied before it is
//! admitted. A change to document D is admitted only if
//!
//! 1. it decodes within bounds on its **decoded** size: at most
//!    [`MAX_CHANGE_BYTES`](crate::change::MAX_CHANGE_BYTES), an uncompressed
//!    change chunk whose columns decode to at most
//!    [`chunk::MAX_OPS`](crate::change::chunk::MAX_OPS) operations, each a
//!    record write of at most [`MAX_RECORD_BYTES`](crate::record::MAX_RECORD_BYTES)
//!    (see [`SignedChange::decode`](crate::change::SignedChange::decode));
//! 2. **every** actor it names, its own and any other in its header, is one
//!    of D's owner's replicas (owner key ‖ 16-byte nonce), every other actor
//!    has a change in D already, and Automerge applies it to a scratch copy
//!    of D without error or panic; only then is it persisted, and the
//!    scratch copy becomes D (nothing is applied twice);
//! 3. its signature (`mutu/change/v1` ‖ D ‖ change hash) verifies under D's
//!    owner key by ZIP-215 rules, the same rule alone and in batches, on
//!    every node (see [`crate::verify`]);
//! 4. its dependencies are present; otherwise it waits in a pending buffer
//!    bounded per document, per sender and in all, in bytes, with expiry
//!    (see [`crate::registry::Source`]), and the missing hashes are reported
//!    to be requested;
//! 5. its timestamp is at most [`MAX_CLOCK_SKEW_MS`] ahead of `now`;
//!
//! and it must not reuse a sequence number already taken for its actor by
//! another change: two such changes are the member's own doing
//! (equivocation, or a backup restored without a new replica), so the
//! second is refused ([`Rejection::ConflictingSeq`]) and both are reported
//! as signed evidence ([`Equivocation`]) against the member, not against
//! the peer that relayed it.
//!
//! Who is at fault ([`Rejection::fault`]): a sender is penalised only for
//! what proves it relayed something no honest node forwards (bytes that do
//! not decode or break a bound, a bad signature, a foreign or unknown actor,
//! a change Automerge cannot apply). An equivocation is the member's fault;
//! a clock ahead of ours or a full buffer is nobody's.

use automerge::ChangeHash;

use crate::identity::MemberId;
use crate::time::Timestamp;

use crate::change::SignedChange;

/// How far in the future a change's timestamp may be.
pub const MAX_CLOCK_SKEW_MS: u64 = 10 * 60 * 1000;

/// Why a change was not admitted. Each rule has its own reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    #[error("change of {size} bytes is over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("change does not decode: {0}")]
    Malformed(String),
    #[error("change names an actor that does not belong to the owner of document {doc}")]
    ForeignActor { doc: MemberId },
    #[error("change names replica {replica} of {doc}, which has no change in the document")]
    UnknownActor { doc: MemberId, replica: String },
    #[error("automerge cannot apply this change to document {doc}: {reason}")]
    Unapplicable { doc: MemberId, reason: String },
    #[error("document id {doc} is not a valid public key")]
    InvalidDocument { doc: MemberId },
    #[error("change signature does not verify under the key of {doc}")]
    BadSignature { doc: MemberId },
    #[error("change timestamp {timestamp} ms is more than 10 minutes after now ({now} ms)")]
    FromTheFuture { timestamp: i64, now: u64 },
    #[error(
        "change reuses sequence number {seq} of its actor with different content (the member signed two histories)"
    )]
    ConflictingSeq { seq: u64 },
    #[error("change builds on {dep}, a change of the member's other history")]
    BuildsOnConflict { dep: ChangeHash },
    #[error("pending buffer is full for this {share} (changes waiting for their dependencies)")]
    PendingFull { share: Share },
}

/// Whose share of the pending buffer was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Share {
    Document,
    Sender,
    Node,
}

impl std::fmt::Display for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Share::Document => "document",
            Share::Sender => "sender",
            Share::Node => "node",
        })
    }
}

/// Who a rejection proves did something wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The sender relayed what no honest node forwards: penalise the peer.
    Sender,
    /// The member signed two histories: evidence against the member; the
    /// relaying peer did nothing wrong.
    Member,
    /// Nobody provably (a clock ahead of ours, a full buffer).
    Nobody,
}

impl Rejection {
    /// Who this rejection proves misbehaved.
    pub fn fault(&self) -> Fault {
        match self {
            Rejection::TooLarge { .. }
            | Rejection::Malformed(_)
            | Rejection::ForeignActor { .. }
            | Rejection::UnknownActor { .. }
            | Rejection::Unapplicable { .. }
            | Rejection::InvalidDocument { .. }
            | Rejection::BadSignature { .. } => Fault::Sender,
            Rejection::ConflictingSeq { .. } | Rejection::BuildsOnConflict { .. } => Fault::Member,
            Rejection::FromTheFuture { .. } | Rejection::PendingFull { .. } => Fault::Nobody,
        }
    }

    /// Every [`Rejection::label`], for counters that show each rule (at
    /// zero too).
    pub const LABELS: [&'static str; 11] = [
        "too_large",
        "malformed",
        "foreign_actor",
        "unknown_actor",
        "unapplicable",
        "invalid_document",
        "bad_signature",
        "from_the_future",
        "conflicting_seq",
        "builds_on_conflict",
        "pending_full",
    ];

    /// The rule's short, stable name (a metrics label).
    pub fn label(&self) -> &'static str {
        match self {
            Rejection::TooLarge { .. } => "too_large",
            Rejection::Malformed(_) => "malformed",
            Rejection::ForeignActor { .. } => "foreign_actor",
            Rejection::UnknownActor { .. } => "unknown_actor",
            Rejection::Unapplicable { .. } => "unapplicable",
            Rejection::InvalidDocument { .. } => "invalid_document",
            Rejection::BadSignature { .. } => "bad_signature",
            Rejection::FromTheFuture { .. } => "from_the_future",
            Rejection::ConflictingSeq { .. } => "conflicting_seq",
            Rejection::BuildsOnConflict { .. } => "builds_on_conflict",
            Rejection::PendingFull { .. } => "pending_full",
        }
    }

    /// Whether the change proves its sender relayed something forged or
    /// malformed. Nodes penalise these, and only these.
    pub fn is_misbehaviour(&self) -> bool {
        self.fault() == Fault::Sender
    }
}

/// Two different changes by one actor of a member with the same sequence
/// number: the member signed two histories. Both are signed by the member,
/// so the pair is a proof anyone can check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equivocation {
    pub doc: MemberId,
    pub seq: u64,
    /// The change this node holds (applied) for that actor and sequence
    /// number.
    pub kept: ChangeHash,
    /// The other change, as received; its signature was verified.
    pub other: SignedChange,
    /// Its hash.
    pub other_hash: ChangeHash,
    /// Its own timestamp (ms), as the member wrote it.
    pub timestamp: i64,
}

/// An admitted change with its hash, as handed to `persist`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub change: SignedChange,
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
    /// Members found to have signed two histories, with the proof.
    pub equivocations: Vec<Equivocation>,
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
