//! Signed records: what members state.
//!
//! A record is `{v, kind, id, nonce, author, created_at, updated_at, body}`
//! encoded as deterministic CBOR (a map in that field order, shortest
//! integers, no floats), signed as Ed25519(secret, `mutu/record/v1` ‖ bytes).
//! Its stored form is the 64-byte signature followed by the canonical bytes.
//!
//! A record verifies on its own, without the rest of the registry:
//! - the bytes decode, and re-encode to the very same bytes (canonical);
//! - `id` is the first 16 bytes of SHA-256(author ‖ kind ‖ nonce), so nobody
//!   can write under another member's ids;
//! - the body passes its kind's validation ([`validate`]);
//! - the signature verifies under `author` (`verify_strict`).
//!
//! A record of a newer version (`v` > [`VERSION`]) or of an unknown kind is
//! [`Invalid::Unsupported`]: kept and passed on by nodes, but not shown.

mod body;
pub mod validate;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use body::*;

use crate::codec;
use crate::identity::{KeyCache, MemberId, SecretKey};
use crate::time::Timestamp;
use crate::verify::{Item, Verifier};

/// The record format version this code writes and shows.
pub const VERSION: u32 = 1;
/// Upper bound on a record's stored size (signature + canonical bytes).
pub const MAX_RECORD_BYTES: usize = 64 * 1024;
/// Domain separation of record signatures.
pub const SIGNATURE_DOMAIN: &[u8] = b"mutu/record/v1";
const SIG_LEN: usize = 64;

/// The kinds of record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    Profile,
    Project,
    Usage,
    Need,
    Cosign,
    Pledge,
    Offer,
    Catalogue,
    CatalogueEntry,
    Vouch,
    Tombstone,
    Follow,
    Moderation,
    Approval,
    Award,
    Delivery,
    Acceptance,
    Receipt,
}

impl Kind {
    pub const ALL: [Kind; 18] = [
        Kind::Profile,
        Kind::Project,
        Kind::Usage,
        Kind::Need,
        Kind::Cosign,
        Kind::Pledge,
        Kind::Offer,
        Kind::Catalogue,
        Kind::CatalogueEntry,
        Kind::Vouch,
        Kind::Tombstone,
        Kind::Follow,
        Kind::Moderation,
        Kind::Approval,
        Kind::Award,
        Kind::Delivery,
        Kind::Acceptance,
        Kind::Receipt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Profile => "profile",
            Kind::Project => "project",
            Kind::Usage => "usage",
            Kind::Need => "need",
            Kind::Cosign => "cosign",
            Kind::Pledge => "pledge",
            Kind::Offer => "offer",
            Kind::Catalogue => "catalogue",
            Kind::CatalogueEntry => "catalogue_entry",
            Kind::Vouch => "vouch",
            Kind::Tombstone => "tombstone",
            Kind::Follow => "follow",
            Kind::Moderation => "moderation",
            Kind::Approval => "approval",
            Kind::Award => "award",
            Kind::Delivery => "delivery",
            Kind::Acceptance => "acceptance",
            Kind::Receipt => "receipt",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(Invalid::Unsupported)
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A record id: 16 bytes derived from author, kind and a random nonce.
/// Text form: 26 lowercase base32 characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId([u8; 16]);

/// Length of a record id's text form.
pub const RECORD_ID_TEXT_LEN: usize = 26;

impl RecordId {
    /// The id a record of `kind` by `author` with `nonce` must have.
    pub fn derive(author: &MemberId, kind: Kind, nonce: &[u8; 16]) -> Self {
        let mut h = Sha256::new();
        h.update(author.as_bytes());
        h.update(kind.as_str().as_bytes());
        h.update(nonce);
        let digest = h.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        Self(id)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&codec::base32(&self.0))
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({self})")
    }
}

/// A text that is not a record id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a record id: a record id is 26 base32 characters")]
pub struct InvalidId(pub String);

impl FromStr for RecordId {
    type Err = InvalidId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidId(s.chars().take(60).collect());
        if s.len() != RECORD_ID_TEXT_LEN {
            return Err(invalid());
        }
        let bytes = codec::from_base32(s).ok_or_else(invalid)?;
        Ok(Self(bytes.try_into().map_err(|_| invalid())?))
    }
}

impl Serialize for RecordId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
        } else {
            Ok(Self(codec::deserialize_array(d)?))
        }
    }
}

/// A record's body: one variant per kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Body {
    Profile(Profile),
    Project(Project),
    Usage(Usage),
    Need(Need),
    Cosign(Cosign),
    Pledge(Pledge),
    Offer(Offer),
    Catalogue(Catalogue),
    CatalogueEntry(CatalogueEntry),
    Vouch(Vouch),
    Tombstone(Tombstone),
    Follow(Follow),
    Moderation(Moderation),
    Approval(Approval),
    Award(Award),
    Delivery(Delivery),
    Acceptance(Acceptance),
    Receipt(Receipt),
}

impl Body {
    pub fn kind(&self) -> Kind {
        match self {
            Body::Profile(_) => Kind::Profile,
            Body::Project(_) => Kind::Project,
            Body::Usage(_) => Kind::Usage,
            Body::Need(_) => Kind::Need,
            Body::Cosign(_) => Kind::Cosign,
            Body::Pledge(_) => Kind::Pledge,
            Body::Offer(_) => Kind::Offer,
            Body::Catalogue(_) => Kind::Catalogue,
            Body::CatalogueEntry(_) => Kind::CatalogueEntry,
            Body::Vouch(_) => Kind::Vouch,
            Body::Tombstone(_) => Kind::Tombstone,
            Body::Follow(_) => Kind::Follow,
            Body::Moderation(_) => Kind::Moderation,
            Body::Approval(_) => Kind::Approval,
            Body::Award(_) => Kind::Award,
            Body::Delivery(_) => Kind::Delivery,
            Body::Acceptance(_) => Kind::Acceptance,
            Body::Receipt(_) => Kind::Receipt,
        }
    }

    fn from_value(kind: Kind, value: ciborium::Value) -> Result<Self, Invalid> {
        fn de<T: for<'de> Deserialize<'de>>(v: ciborium::Value) -> Result<T, Invalid> {
            v.deserialized().map_err(|e| Invalid::Malformed(e.to_string()))
        }
        Ok(match kind {
            Kind::Profile => Body::Profile(de(value)?),
            Kind::Project => Body::Project(de(value)?),
            Kind::Usage => Body::Usage(de(value)?),
            Kind::Need => Body::Need(de(value)?),
            Kind::Cosign => Body::Cosign(de(value)?),
            Kind::Pledge => Body::Pledge(de(value)?),
            Kind::Offer => Body::Offer(de(value)?),
            Kind::Catalogue => Body::Catalogue(de(value)?),
            Kind::CatalogueEntry => Body::CatalogueEntry(de(value)?),
            Kind::Vouch => Body::Vouch(de(value)?),
            Kind::Tombstone => Body::Tombstone(de(value)?),
            Kind::Follow => Body::Follow(de(value)?),
            Kind::Moderation => Body::Moderation(de(value)?),
            Kind::Approval => Body::Approval(de(value)?),
            Kind::Award => Body::Award(de(value)?),
            Kind::Delivery => Body::Delivery(de(value)?),
            Kind::Acceptance => Body::Acceptance(de(value)?),
            Kind::Receipt => Body::Receipt(de(value)?),
        })
    }

    /// Records this body refers to, with the kind each must have.
    pub fn references(&self) -> Vec<(RecordId, Kind)> {
        match self {
            Body::Project(p) => p.is_based_on.map(|r| (r, Kind::Project)).into_iter().collect(),
            Body::Usage(u) => vec![(u.project, Kind::Project)],
            Body::Need(n) => n
                .project
                .map(|r| (r, Kind::Project))
                .into_iter()
                .chain(n.merged_into.map(|r| (r, Kind::Need)))
                .collect(),
            Body::Cosign(c) => vec![(c.need, Kind::Need)],
            Body::Pledge(p) => vec![(p.need, Kind::Need)],
            Body::Offer(o) => vec![(o.need, Kind::Need)],
            Body::Catalogue(c) => c.includes.iter().map(|r| (*r, Kind::Catalogue)).collect(),
            Body::CatalogueEntry(e) => vec![(e.catalogue, Kind::Catalogue), (e.project, Kind::Project)],
            Body::Approval(a) => vec![(a.offer, Kind::Offer)],
            Body::Award(a) => vec![(a.need, Kind::Need), (a.offer, Kind::Offer)],
            Body::Delivery(d) => vec![(d.need, Kind::Need)],
            Body::Acceptance(a) => vec![(a.delivery, Kind::Delivery)],
            Body::Receipt(r) => vec![(r.pledge, Kind::Pledge)],
            Body::Profile(_) | Body::Vouch(_) | Body::Follow(_) | Body::Moderation(_) | Body::Tombstone(_) => {
                Vec::new()
            }
        }
    }
}

/// Why a record is not valid.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invalid {
    #[error("record of {size} bytes is over the limit of {MAX_RECORD_BYTES} bytes")]
    TooLarge { size: usize },
    #[error("record does not decode: {0}")]
    Malformed(String),
    #[error("record bytes are not in canonical form")]
    NonCanonical,
    #[error("record of a newer version or unknown kind (kept, not shown)")]
    Unsupported,
    #[error("record id does not derive from its author, kind and nonce")]
    SquattedId,
    #[error("record signature does not verify under its author's key")]
    BadSignature,
    #[error("{field}: {problem}")]
    Field { field: &'static str, problem: String },
    #[error("record is written by {author}, not by the owner of the document it is in")]
    WrongAuthor { author: MemberId },
    #[error("record is stored under key `{key}`, which does not match its kind and id")]
    WrongKey { key: String },
}

/// The CBOR layout of a record (field order is the canonical order).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    v: u32,
    kind: String,
    #[serde(with = "codec::array")]
    id: [u8; 16],
    #[serde(with = "codec::array")]
    nonce: [u8; 16],
    #[serde(with = "codec::array")]
    author: [u8; 32],
    created_at: u64,
    updated_at: u64,
    body: ciborium::Value,
}

/// An unsigned record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Record {
    pub id: RecordId,
    pub kind: Kind,
    #[serde(skip)]
    nonce: [u8; 16],
    pub author: MemberId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub body: Body,
}

impl Record {
    /// A new record by `author`. `nonce` comes from the caller's RNG.
    pub fn new(author: MemberId, nonce: [u8; 16], now: Timestamp, body: Body) -> Self {
        let kind = body.kind();
        Self {
            id: RecordId::derive(&author, kind, &nonce),
            kind,
            nonce,
            author,
            created_at: now,
            updated_at: now,
            body,
        }
    }

    /// The next version of this record: same id, new body, `updated_at` = now.
    /// The kind cannot change.
    pub fn edit(&self, now: Timestamp, body: Body) -> Result<Self, Invalid> {
        if body.kind() != self.kind {
            return Err(Invalid::Field {
                field: "kind",
                problem: format!("a {} cannot become a {}", self.kind, body.kind()),
            });
        }
        Ok(Self {
            updated_at: now.max(self.updated_at),
            body,
            ..self.clone()
        })
    }

    fn canonical_bytes(&self) -> Vec<u8> {
        let wire = Wire {
            v: VERSION,
            kind: self.kind.as_str().to_owned(),
            id: self.id.0,
            nonce: self.nonce,
            author: *self.author.as_bytes(),
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            body: ciborium::Value::serialized(&self.body).unwrap_or(ciborium::Value::Null),
        };
        codec::to_cbor(&wire)
    }

    /// Validates and signs. The key must be the author's.
    pub fn sign(self, key: &SecretKey) -> Result<SignedRecord, Invalid> {
        if key.member_id() != self.author {
            return Err(Invalid::WrongAuthor { author: self.author });
        }
        if RecordId::derive(&self.author, self.kind, &self.nonce) != self.id {
            return Err(Invalid::SquattedId);
        }
        validate::body(&self.body)?;
        let bytes = self.canonical_bytes();
        let size = SIG_LEN + bytes.len();
        if size > MAX_RECORD_BYTES {
            return Err(Invalid::TooLarge { size });
        }
        let signature = key.sign(SIGNATURE_DOMAIN, &bytes).to_bytes();
        Ok(SignedRecord::new(self, signature))
    }
}

/// A record with its signature, as stored in a member document.
///
/// Made by [`Record::sign`] or [`SignedRecord::decode`]; `decode` checks
/// everything but the signature, which [`SignedRecord::verify`] (or
/// [`verify_many`]) checks.
///
/// Only the decoded record and the signature are kept: the stored bytes are
/// the signature followed by the record's canonical encoding, which `decode`
/// has checked to be the only one, so [`SignedRecord::stored_bytes`] gives
/// them back exactly. (Keeping them too cost about 400 bytes per record in
/// the index.)
///
/// Clones share one allocation: the index holds each record under two keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRecord(Arc<Signed>);

#[derive(Debug, PartialEq, Eq)]
struct Signed {
    record: Record,
    signature: [u8; SIG_LEN],
}

impl SignedRecord {
    fn new(record: Record, signature: [u8; SIG_LEN]) -> Self {
        Self(Arc::new(Signed { record, signature }))
    }

    pub fn record(&self) -> &Record {
        &self.0.record
    }

    pub fn id(&self) -> RecordId {
        self.record().id
    }

    /// Signature ‖ canonical bytes: the value stored in a member document
    /// (encoded again on each call).
    pub fn stored_bytes(&self) -> Vec<u8> {
        let bytes = self.record().canonical_bytes();
        let mut stored = Vec::with_capacity(SIG_LEN + bytes.len());
        stored.extend_from_slice(&self.0.signature);
        stored.extend_from_slice(&bytes);
        stored
    }

    pub fn signature(&self) -> Signature {
        Signature::from_bytes(&self.0.signature)
    }

    /// `mutu/record/v1` ‖ canonical bytes: what the signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        message(&self.record().canonical_bytes())
    }

    /// Decodes stored bytes and checks all but the signature.
    pub fn decode(stored: &[u8]) -> Result<Self, Invalid> {
        if stored.len() > MAX_RECORD_BYTES {
            return Err(Invalid::TooLarge { size: stored.len() });
        }
        if stored.len() <= SIG_LEN {
            return Err(Invalid::Malformed("shorter than a signature".into()));
        }
        let bytes = &stored[SIG_LEN..];
        let wire: Wire = codec::from_cbor(bytes, MAX_RECORD_BYTES).map_err(|e| Invalid::Malformed(e.to_string()))?;
        if wire.v != VERSION {
            return Err(if wire.v > VERSION {
                Invalid::Unsupported
            } else {
                Invalid::Malformed(format!("version {}", wire.v))
            });
        }
        let kind: Kind = wire.kind.parse()?;
        let body = Body::from_value(kind, wire.body)?;
        let author = MemberId::from_bytes(wire.author);
        let record = Record {
            id: RecordId(wire.id),
            kind,
            nonce: wire.nonce,
            author,
            created_at: Timestamp(wire.created_at),
            updated_at: Timestamp(wire.updated_at),
            body,
        };
        if record.canonical_bytes() != bytes {
            return Err(Invalid::NonCanonical);
        }
        if RecordId::derive(&author, kind, &record.nonce) != record.id {
            return Err(Invalid::SquattedId);
        }
        validate::body(&record.body)?;
        let mut signature = [0u8; SIG_LEN];
        signature.copy_from_slice(&stored[..SIG_LEN]);
        Ok(Self::new(record, signature))
    }

    /// Checks the signature (ZIP-215, the one rule of [`crate::verify`]).
    pub fn verify(&self, keys: &mut KeyCache) -> Result<(), Invalid> {
        let key = keys.get(&self.record().author).ok_or(Invalid::BadSignature)?;
        let message = self.signed_message();
        let item = Item {
            message: &message,
            signature: self.0.signature,
            key,
        };
        if item.verify() {
            Ok(())
        } else {
            Err(Invalid::BadSignature)
        }
    }

    /// Decodes and verifies: a record that stands on its own.
    pub fn decode_verified(stored: &[u8], keys: &mut KeyCache) -> Result<Self, Invalid> {
        let r = Self::decode(stored)?;
        r.verify(keys)?;
        Ok(r)
    }

    /// The key a record has in its member document: `kind/id`.
    pub fn doc_key(&self) -> String {
        doc_key(self.record().kind, &self.record().id)
    }
}

/// The key of record `id` of `kind` in a member document: `kind/id`.
///
/// Records sit in the document root under flat keys rather than in one nested
/// map per kind: two replicas creating the same nested map concurrently would
/// make two map objects, and Automerge would hide one of them with all its
/// records. Flat keys have no such conflict.
pub fn doc_key(kind: Kind, id: &RecordId) -> String {
    format!("{}/{}", kind.as_str(), id)
}

/// `mutu/record/v1` ‖ canonical bytes.
fn message(canonical: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNATURE_DOMAIN.len() + canonical.len());
    m.extend_from_slice(SIGNATURE_DOMAIN);
    m.extend_from_slice(canonical);
    m
}

/// Verifies many records at once (see [`crate::verify`]). Returns, for each
/// record, whether its signature holds (false too when the author id is not
/// a usable key).
pub fn verify_many(records: &[SignedRecord], keys: &mut KeyCache, verifier: &dyn Verifier) -> Vec<bool> {
    let messages: Vec<Vec<u8>> = records.iter().map(SignedRecord::signed_message).collect();
    verify_messages(records.iter().zip(&messages), keys, verifier)
}

/// [`verify_many`] for records just decoded, with the stored bytes each was
/// decoded from: the signed message is taken from those bytes instead of
/// encoding the record again.
pub(crate) fn verify_decoded(
    records: &[(&SignedRecord, &[u8])],
    keys: &mut KeyCache,
    verifier: &dyn Verifier,
) -> Vec<bool> {
    let messages: Vec<Vec<u8>> = records
        .iter()
        .map(|(_, stored)| message(stored.get(SIG_LEN..).unwrap_or_default()))
        .collect();
    verify_messages(records.iter().map(|(r, _)| *r).zip(&messages), keys, verifier)
}

fn verify_messages<'a>(
    records: impl ExactSizeIterator<Item = (&'a SignedRecord, &'a Vec<u8>)>,
    keys: &mut KeyCache,
    verifier: &dyn Verifier,
) -> Vec<bool> {
    let mut ok = vec![false; records.len()];
    let mut positions = Vec::with_capacity(records.len());
    let mut items = Vec::with_capacity(records.len());
    for (i, (r, message)) in records.enumerate() {
        if let Some(key) = keys.get(&r.record().author) {
            positions.push(i);
            items.push(Item {
                message,
                signature: r.0.signature,
                key,
            });
        }
    }
    for (i, good) in positions.into_iter().zip(verifier.verify(&items)) {
        ok[i] = good;
    }
    ok
}

#[cfg(test)]
mod tests;
