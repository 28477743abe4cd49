//! Wire messages of the sync protocols: gossip batches on the topic
//! [`TOPIC`](super::behaviour::TOPIC) and the catch-up protocol
//! [`PROTOCOL`] (`/mutu/sync/1`, CBOR via `request_response::cbor`).
//!
//! Catch-up, as DESIGN.md describes it:
//!
//! 0. A sends `Request::Summary` with the [`inventory_digest`] of its whole
//!    inventory (one SHA-256 over the sorted `(doc id, heads digest)`
//!    pairs). B answers `Response::InSync` when its own digest is equal:
//!    an idle anti-entropy pass between converged nodes is one round trip of
//!    about a hundred bytes, whatever the number of documents. Otherwise B
//!    answers `Response::OutOfSync` and A goes on with step 1.
//! 1. A sends `Request::Inventory` with its `(doc id, heads digest)` pairs
//!    (at most [`MAX_INVENTORY_DOCS`]; see [`inventory_pages`]).
//! 2. B answers `Response::Inventory` with *its* pairs for the documents whose
//!    digest differs from A's or that A did not list ([`inventory_response`]).
//!    With more than [`MAX_INVENTORY_DOCS`] documents on either side an
//!    exchange is partial: A sends one page per exchange (rotating pages
//!    across anti-entropy rounds) and B caps its answer, so progress is made
//!    round after round. Extra entries are harmless: A filters them with
//!    [`diff_inventory`] against its full inventory.
//! 3. For each document in the diff, A sends `Request::ChangesSince` with its
//!    heads; B computes the hashes of the changes A lacks ([`changes_since`],
//!    in causal order: cheap, no change is read) and answers with one page
//!    of them, read from its store up to [`PAGE_BYTES`]
//!    (`store::Store::changes_page`). `more: true` means A should ask again
//!    with its new heads once it has admitted the page.
//! 4. When admission reports missing dependencies, A asks for them by hash
//!    with `Request::ChangesByHash`; B answers each change it has once
//!    ([`changes_by_hash`]).
//!
//! **`/mutu/sync/2`** ([`wire::PROTOCOL_V2`], offered first on every stream;
//! a node that only speaks `/mutu/sync/1` gets `/mutu/sync/1`, see
//! [`wire`]) keeps steps 0, 3 and 4 and replaces steps 1–2: B answers an
//! unequal summary with `Response::Differ`, and A runs a range
//! reconciliation session ([`reconcile`]) over the `(doc id, heads
//! digest)` pairs with `Request::Reconcile` / `Response::Reconcile`: one
//! changed document among 100 000 is found in two round trips and a few
//! kilobytes instead of the whole inventory. Per document, `ChangesSince`
//! already sends only what the heads do not cover (one round trip), so
//! the change-hash level of reconciliation is not needed on the wire
//! ([`reconcile`] works over change hashes too). Responses on
//! `/mutu/sync/2` are compressed (zstd) with the decoded size capped
//! before decompression ([`wire::unpack`]).
//!
//! Both sides run step 1 on a new connection, so whichever side is behind
//! catches up. Every count and size on the wire is bounded: the codec bounds
//! bytes ([`MAX_REQUEST_BYTES`], [`MAX_RESPONSE_BYTES`]), and
//! [`Request::check`] / [`Response::check`] bound counts; call them on
//! everything received before acting on it.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use automerge::ChangeHash;
use libp2p::StreamProtocol;
use mutu_protocol::change::MAX_CHANGE_BYTES;
use mutu_protocol::codec;
use mutu_protocol::doc::{MemberDoc, Meta};
use mutu_protocol::{MemberId, SignedChange};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::behaviour::MAX_GOSSIP_BATCH_BYTES;

pub mod machine;
pub mod reconcile;
pub mod wire;

pub use machine::{Admission, Ask, Input, Machine, Output};

/// The catch-up request-response protocol.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/mutu/sync/1");
/// Upper bound on one encoded request. The largest request is an inventory
/// page ([`MAX_INVENTORY_DOCS`] entries of at most 70 bytes: 210 KB). A
/// node reads a request whole before it can look at it, up to
/// `net::Config::sync_max_concurrent_streams` of them per connection: this
/// bound times that count is what a peer can make a node buffer per
/// connection (24 × 256 KiB = 6 MiB, twice that in `Vec` capacity).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// Bytes of changes in one `Changes` answer (a page): what one request can
/// make a node read from its store, encode and hold until the peer has
/// read it. Chosen by measuring catch-up (BENCHMARKS.md, 30 Nov): with
/// 1 MiB pages, 100 000 records catch up as fast as with whole-document
/// answers, both in documents of 39 KB and of 910 KB; 256 and 512 KiB
/// pages made the 910 KB documents catch up 1.5 to 2.5 times slower (the
/// requester admits each document in several parts, and admitting a part
/// of a document costs more per record than admitting it whole).
pub const PAGE_BYTES: usize = 1024 * 1024;
/// Upper bound on one encoded response: a page, whose first change may be a
/// whole [`MAX_CHANGE_BYTES`] change, plus room for the envelope (1 MiB +
/// 64 KiB); an inventory answer (210 KB) fits too.
pub const MAX_RESPONSE_BYTES: usize = const_max(PAGE_BYTES, MAX_CHANGE_BYTES) + 64 * 1024;
/// Upper bound on the entries of one inventory, request or response. An
/// entry encodes in at most 70 bytes, so 3 000 entries stay under
/// [`MAX_REQUEST_BYTES`]. Registries with more documents exchange
/// inventories in pages, one per anti-entropy pass ([`inventory_pages`]).
pub const MAX_INVENTORY_DOCS: usize = 3_000;
/// Upper bound on the heads in a `ChangesSince` request.
pub const MAX_HEADS: usize = 1_024;
/// Upper bound on the hashes in a `ChangesByHash` request.
pub const MAX_HASHES: usize = 4_096;
/// Upper bound on the changes in one `Changes` response.
pub const MAX_CHANGES_PER_RESPONSE: usize = 10_000;
/// Byte budget for the changes of one `Changes` response: a page.
pub const MAX_CHANGES_RESPONSE_BYTES: usize = PAGE_BYTES;
/// Upper bound on the changes in one gossip batch.
pub const MAX_CHANGES_PER_BATCH: usize = 1_000;
/// Upper bound on the text of `Response::Error`.
pub const MAX_ERROR_LEN: usize = 1_024;

/// Bytes a signed change may take in CBOR beyond [`SignedChange::size`]
/// (map header, field names, byte-string headers, array slot). Measured
/// 25; the tests check this bound.
pub const CHANGE_ENCODING_OVERHEAD: usize = 40;

const fn const_max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}
/// Bytes of envelope around the changes of a batch or response.
const ENVELOPE_OVERHEAD: usize = 128;

/// Errors of the sync wire format.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{what} of {size} bytes is over the limit of {limit} bytes")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("{what} has {count} entries, over the limit of {limit}")]
    TooMany {
        what: &'static str,
        count: usize,
        limit: usize,
    },
    #[error("decoding failed: {0}")]
    Decode(#[from] codec::Error),
    #[error("a gossip batch for {batch} carries a change of {change}")]
    WrongDoc { batch: MemberId, change: MemberId },
    #[error("a gossip batch carries no change")]
    EmptyBatch,
    #[error(transparent)]
    Reconcile(#[from] reconcile::Error),
}

/// SHA-256 over the sorted head hashes of a document: equal digests mean
/// equal heads, hence (heads pinning history) equal documents.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HeadsDigest(#[serde(with = "codec::array")] pub [u8; 32]);

impl fmt::Debug for HeadsDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HeadsDigest({self})")
    }
}

impl fmt::Display for HeadsDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The digest of a document's heads (order-independent; duplicates count
/// once).
pub fn heads_digest(heads: &[ChangeHash]) -> HeadsDigest {
    let sorted: BTreeSet<&[u8; 32]> = heads.iter().map(|h| &h.0).collect();
    let mut hasher = Sha256::new();
    for h in sorted {
        hasher.update(h);
    }
    HeadsDigest(hasher.finalize().into())
}

/// A request of `/mutu/sync/1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Request {
    /// "My whole inventory has this [`inventory_digest`], over `docs`
    /// documents": the cheap first step of a pass.
    Summary { digest: HeadsDigest, docs: u64 },
    /// "Here are my documents and their heads digests."
    Inventory(Vec<(MemberId, HeadsDigest)>),
    /// "Send me the changes of `doc` that are not below these heads."
    ChangesSince {
        doc: MemberId,
        #[serde(with = "hash_list")]
        heads: Vec<[u8; 32]>,
    },
    /// "Send me these changes of `doc`" (missing dependencies).
    ChangesByHash {
        doc: MemberId,
        #[serde(with = "hash_list")]
        hashes: Vec<[u8; 32]>,
    },
    /// `/mutu/sync/2`: a message of a range reconciliation of our
    /// `(doc id, heads digest)` pairs ([`reconcile`]).
    Reconcile(DocsMessage),
}

/// A reconciliation message over documents and their heads digests.
pub type DocsMessage = reconcile::Message<MemberId, HeadsDigest>;

/// A response of `/mutu/sync/1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Response {
    /// The responder's entries that differ from the request's or that the
    /// request lacks.
    Inventory(Vec<(MemberId, HeadsDigest)>),
    /// Signed changes in causal order; `more` when the answer was cut at the
    /// size limit.
    Changes { changes: Vec<SignedChange>, more: bool },
    /// The request could not be served (e.g. over a bound).
    Error(String),
    /// Answer to `Summary`: our inventory digest is the same.
    InSync,
    /// Answer to `Summary`: our inventory digest differs; exchange
    /// inventories.
    OutOfSync,
    /// `/mutu/sync/2` answer to `Summary`: our inventory digest differs;
    /// reconcile ranges with `Request::Reconcile`. Written as `OutOfSync`
    /// on `/mutu/sync/1` ([`Response::for_v1`]).
    Differ,
    /// `/mutu/sync/2` answer to `Request::Reconcile`: the next message of
    /// the session (no range: the session is over).
    Reconcile(DocsMessage),
}

fn check_count(what: &'static str, count: usize, limit: usize) -> Result<(), Error> {
    if count > limit {
        return Err(Error::TooMany { what, count, limit });
    }
    Ok(())
}

impl Request {
    /// Checks the count bounds (the codec has already bounded the bytes).
    pub fn check(&self) -> Result<(), Error> {
        match self {
            Request::Summary { .. } => Ok(()),
            Request::Inventory(entries) => check_count("inventory", entries.len(), MAX_INVENTORY_DOCS),
            Request::ChangesSince { heads, .. } => check_count("heads list", heads.len(), MAX_HEADS),
            Request::ChangesByHash { hashes, .. } => check_count("hash list", hashes.len(), MAX_HASHES),
            Request::Reconcile(message) => Ok(reconcile::check(message)?),
        }
    }

    /// `ChangesSince` for `doc` from our `heads`.
    pub fn changes_since(doc: MemberId, heads: &[ChangeHash]) -> Self {
        Request::ChangesSince {
            doc,
            heads: to_wire(heads),
        }
    }

    /// `ChangesByHash` requests for `doc`, split to respect [`MAX_HASHES`].
    pub fn changes_by_hash(doc: MemberId, hashes: &[ChangeHash]) -> Vec<Self> {
        hashes
            .chunks(MAX_HASHES)
            .map(|c| Request::ChangesByHash {
                doc,
                hashes: to_wire(c),
            })
            .collect()
    }
}

impl Response {
    /// Checks the count bounds (the codec has already bounded the bytes).
    pub fn check(&self) -> Result<(), Error> {
        match self {
            Response::Inventory(entries) => check_count("inventory", entries.len(), MAX_INVENTORY_DOCS),
            Response::Changes { changes, .. } => check_count("changes", changes.len(), MAX_CHANGES_PER_RESPONSE),
            Response::Error(text) => {
                if text.len() > MAX_ERROR_LEN {
                    return Err(Error::TooLarge {
                        what: "error text",
                        size: text.len(),
                        limit: MAX_ERROR_LEN,
                    });
                }
                Ok(())
            }
            Response::InSync | Response::OutOfSync | Response::Differ => Ok(()),
            Response::Reconcile(message) => Ok(reconcile::check(message)?),
        }
    }

    /// This response as a `/mutu/sync/1` peer reads it.
    pub fn for_v1(self) -> Self {
        match self {
            Response::Differ => Response::OutOfSync,
            Response::Reconcile(_) => Response::error("range reconciliation needs /mutu/sync/2"),
            other => other,
        }
    }

    /// An error response, its text cut to [`MAX_ERROR_LEN`] bytes.
    pub fn error(text: impl Into<String>) -> Self {
        let mut text = text.into();
        if text.len() > MAX_ERROR_LEN {
            let mut cut = MAX_ERROR_LEN;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        Response::Error(text)
    }

    /// A `Changes` response with as many of `changes` (taken in order) as
    /// fit under [`MAX_CHANGES_RESPONSE_BYTES`] and
    /// [`MAX_CHANGES_PER_RESPONSE`]; `more` is set when some were left out.
    /// The iterator is consumed lazily: at most one change past the cut is
    /// read. The first change is always taken (an admitted change is at most
    /// [`mutu_protocol::change::MAX_CHANGE_BYTES`], far under the budget).
    pub fn changes_chunk(changes: impl IntoIterator<Item = SignedChange>) -> Self {
        let mut out = Vec::new();
        let mut size = 0;
        let mut more = false;
        for c in changes {
            let s = encoded_size_bound(&c);
            if !out.is_empty() && (size + s > MAX_CHANGES_RESPONSE_BYTES || out.len() >= MAX_CHANGES_PER_RESPONSE) {
                more = true;
                break;
            }
            size += s;
            out.push(c);
        }
        Response::Changes { changes: out, more }
    }
}

/// An upper bound on the CBOR size of `change` inside a list.
pub fn encoded_size_bound(change: &SignedChange) -> usize {
    change.size() + CHANGE_ENCODING_OVERHEAD
}

/// Splits `changes` (in order) into chunks whose encoded size stays under
/// `max_bytes` (envelope included) and whose length stays under
/// `max_count`. A change too large on its own gets a chunk of its own (its
/// encoding will then fail the size check where it matters).
pub fn chunk_changes(changes: Vec<SignedChange>, max_bytes: usize, max_count: usize) -> Vec<Vec<SignedChange>> {
    let budget = max_bytes.saturating_sub(ENVELOPE_OVERHEAD);
    let mut chunks = Vec::new();
    let mut current: Vec<SignedChange> = Vec::new();
    let mut size = 0;
    for c in changes {
        let s = encoded_size_bound(&c);
        if !current.is_empty() && (size + s > budget || current.len() >= max_count) {
            chunks.push(std::mem::take(&mut current));
            size = 0;
        }
        size += s;
        current.push(c);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// One gossip message: signed changes of one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GossipBatch {
    pub doc: MemberId,
    pub changes: Vec<SignedChange>,
}

impl GossipBatch {
    /// Splits the changes of `doc` into batches that each encode under
    /// [`MAX_GOSSIP_BATCH_BYTES`] and [`MAX_CHANGES_PER_BATCH`]. Changes of
    /// another document are not filtered here: [`GossipBatch::encode`]
    /// refuses them.
    pub fn split(doc: MemberId, changes: Vec<SignedChange>) -> Vec<Self> {
        chunk_changes(changes, MAX_GOSSIP_BATCH_BYTES, MAX_CHANGES_PER_BATCH)
            .into_iter()
            .map(|changes| GossipBatch { doc, changes })
            .collect()
    }

    fn check(&self) -> Result<(), Error> {
        if self.changes.is_empty() {
            return Err(Error::EmptyBatch);
        }
        check_count("gossip batch", self.changes.len(), MAX_CHANGES_PER_BATCH)?;
        if let Some(c) = self.changes.iter().find(|c| c.doc() != self.doc) {
            return Err(Error::WrongDoc {
                batch: self.doc,
                change: c.doc(),
            });
        }
        Ok(())
    }

    /// CBOR bytes of the batch, at most [`MAX_GOSSIP_BATCH_BYTES`].
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        self.check()?;
        let bytes = codec::to_cbor(self);
        if bytes.len() > MAX_GOSSIP_BATCH_BYTES {
            return Err(Error::TooLarge {
                what: "gossip batch",
                size: bytes.len(),
                limit: MAX_GOSSIP_BATCH_BYTES,
            });
        }
        Ok(bytes)
    }

    /// Decodes and checks the shape (size, count, one document, not empty).
    /// Signatures are admission's business.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let batch: Self = codec::from_cbor(bytes, MAX_GOSSIP_BATCH_BYTES)?;
        batch.check()?;
        Ok(batch)
    }
}

/// Automerge change hashes as wire arrays.
pub fn to_wire(hashes: &[ChangeHash]) -> Vec<[u8; 32]> {
    hashes.iter().map(|h| h.0).collect()
}

/// Wire arrays as automerge change hashes.
pub fn from_wire(hashes: &[[u8; 32]]) -> Vec<ChangeHash> {
    hashes.iter().map(|h| ChangeHash(*h)).collect()
}

/// SHA-256 over a whole inventory, in id order (`doc id ‖ heads digest`
/// per document): equal digests mean equal inventories.
pub fn inventory_digest(ours: &BTreeMap<MemberId, HeadsDigest>) -> HeadsDigest {
    let mut hasher = Sha256::new();
    for (doc, digest) in ours {
        hasher.update(doc.as_bytes());
        hasher.update(digest.0);
    }
    HeadsDigest(hasher.finalize().into())
}

/// The first request of a pass: the [`inventory_digest`] of `ours`.
pub fn summary(ours: &BTreeMap<MemberId, HeadsDigest>) -> Request {
    Request::Summary {
        digest: inventory_digest(ours),
        docs: ours.len() as u64,
    }
}

/// The responder's side of a `Summary { digest, docs }`: `InSync` when it
/// describes an inventory equal to `ours`, else `OutOfSync`.
pub fn summary_response(ours: &BTreeMap<MemberId, HeadsDigest>, digest: &HeadsDigest, docs: u64) -> Response {
    if ours.len() as u64 == docs && inventory_digest(ours) == *digest {
        Response::InSync
    } else {
        Response::OutOfSync
    }
}

/// Documents of `theirs` whose digest differs from ours or that we lack, in
/// the order of `theirs`, each once.
pub fn diff_inventory(ours: &BTreeMap<MemberId, HeadsDigest>, theirs: &[(MemberId, HeadsDigest)]) -> Vec<MemberId> {
    let mut seen = BTreeSet::new();
    theirs
        .iter()
        .filter(|(doc, digest)| ours.get(doc) != Some(digest))
        .filter(|(doc, _)| seen.insert(*doc))
        .map(|(doc, _)| *doc)
        .collect()
}

/// The responder's side of an inventory exchange: our entries whose digest
/// differs from the request's or that the request does not list, in id
/// order, at most [`MAX_INVENTORY_DOCS`].
pub fn inventory_response(
    ours: &BTreeMap<MemberId, HeadsDigest>,
    request: &[(MemberId, HeadsDigest)],
) -> Vec<(MemberId, HeadsDigest)> {
    let theirs: BTreeMap<MemberId, HeadsDigest> = request.iter().copied().collect();
    ours.iter()
        .filter(|(doc, digest)| theirs.get(doc) != Some(digest))
        .take(MAX_INVENTORY_DOCS)
        .map(|(doc, digest)| (*doc, *digest))
        .collect()
}

/// Our inventory in pages of at most [`MAX_INVENTORY_DOCS`] entries, in id
/// order (one `Request::Inventory` per page). Empty inventory: one empty
/// page, so a new node still learns what its peer has.
pub fn inventory_pages(ours: &BTreeMap<MemberId, HeadsDigest>) -> Vec<Vec<(MemberId, HeadsDigest)>> {
    let all: Vec<(MemberId, HeadsDigest)> = ours.iter().map(|(d, h)| (*d, *h)).collect();
    if all.is_empty() {
        return vec![Vec::new()];
    }
    all.chunks(MAX_INVENTORY_DOCS).map(<[_]>::to_vec).collect()
}

/// Hashes of the changes of `doc` that a peer with heads `their_heads`
/// lacks, in causal order (each after its dependencies).
///
/// Heads we do not know are dropped before asking automerge: they cannot
/// exclude anything we have, and automerge's behaviour on unknown heads has
/// varied between versions (0.12 skips them silently, older versions
/// errored or returned nothing). So if *none* of their heads is known to
/// us, the answer is every change we have: a superset of what they lack
/// (admission counts the rest as duplicates). Unknown heads also mean the
/// peer has changes we lack; the caller pulls those with its own
/// `ChangesSince`.
pub fn changes_since(doc: &MemberDoc, their_heads: &[ChangeHash]) -> Vec<ChangeHash> {
    let known: Vec<ChangeHash> = their_heads.iter().filter(|h| doc.has_change(h)).copied().collect();
    doc.automerge()
        .get_changes_meta(&known)
        .into_iter()
        .map(|m| m.hash)
        .collect()
}

/// [`changes_since`] without the document: from its metadata (which of
/// `their_heads` we hold) and its log, `(hash, dependencies)` of each
/// change in the order they were admitted (each after its dependencies),
/// as the store keeps it. The answer keeps the log's order.
pub fn changes_since_log(
    meta: &Meta,
    log: &[(ChangeHash, Vec<ChangeHash>)],
    their_heads: &[ChangeHash],
) -> Vec<ChangeHash> {
    let mut known: HashSet<ChangeHash> = their_heads.iter().filter(|h| meta.has_change(h)).copied().collect();
    if known.is_empty() {
        return log.iter().map(|(h, _)| *h).collect();
    }
    // Ancestors of the known heads: walk the log backwards (a change's
    // dependencies come before it).
    for (hash, deps) in log.iter().rev() {
        if known.contains(hash) {
            known.extend(deps.iter().copied());
        }
    }
    log.iter().map(|(h, _)| *h).filter(|h| !known.contains(h)).collect()
}

/// Hashes of the changes of `doc` among `wanted` (a `ChangesByHash`
/// request), each once, in the order asked; unknown ones are left out. A
/// hash named twice is answered once: repeating a change would let a
/// request of a few kilobytes fill a 16 MiB answer.
pub fn changes_by_hash(doc: &Meta, wanted: &[ChangeHash]) -> Vec<ChangeHash> {
    let mut seen = HashSet::with_capacity(wanted.len().min(MAX_HASHES));
    wanted
        .iter()
        .filter(|h| doc.has_change(h) && seen.insert(**h))
        .copied()
        .collect()
}

/// `Vec<[u8; 32]>` as a list of CBOR byte strings (not lists of integers).
mod hash_list {
    use super::*;

    struct Ref<'a>(&'a [u8; 32]);

    impl Serialize for Ref<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            codec::array::serialize(self.0, s)
        }
    }

    pub fn serialize<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(Ref))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        let v: Vec<HeadsDigest> = Vec::deserialize(d)?;
        Ok(v.into_iter().map(|h| h.0).collect())
    }
}

#[cfg(test)]
mod tests;
