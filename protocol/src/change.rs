//! Signed changes: the unit of sync.
//!
//! An Automerge change to member document D travels with
//! `sig` = Ed25519(owner of D, `mutu/change/v1` ‖ D ‖ change hash). The change
//! hash covers actor, sequence number, dependencies and operations, so the
//! signature pins the change's whole history. Signed changes are stored and
//! re-served exactly as they came, so anyone can re-verify a whole document.

pub mod chunk;

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::{Change, ChangeHash, ScalarValue};
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};

use crate::codec;
use crate::identity::{MemberId, SecretKey};
use crate::record::MAX_RECORD_BYTES;

/// Domain separation of change signatures.
pub const SIGNATURE_DOMAIN: &[u8] = b"mutu/change/v1";
/// Upper bound on one encoded change.
pub const MAX_CHANGE_BYTES: usize = 256 * 1024;
/// Upper bound on a key of a member document (`kind/id` is 45 characters;
/// room is left for kinds of later versions).
pub const MAX_KEY_LEN: usize = 128;

/// Why a change's bytes are not a change mutu can take. Every variant names
/// what a node would refuse; none is a storage or programming error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Chunk(#[from] chunk::Error),
    #[error("automerge cannot read it: {0}")]
    Automerge(String),
    #[error("checksum does not match the change's contents")]
    Checksum,
    #[error("change carries a message or extra bytes, which mutu changes never have")]
    Extras,
    #[error("operation {index} is not a record write: {problem}")]
    UnexpectedOperation { index: usize, problem: String },
}

/// A change to a member document with its author's signature. Not yet
/// verified: [`crate::admission`] checks it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedChange {
    doc: MemberId,
    #[serde(with = "codec::bytes")]
    change: Vec<u8>,
    #[serde(with = "codec::array")]
    sig: [u8; 64],
}

impl std::fmt::Debug for SignedChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedChange")
            .field("doc", &self.doc)
            .field("len", &self.change.len())
            .finish_non_exhaustive()
    }
}

/// The message a change signature covers.
pub fn signed_message(doc: &MemberId, hash: &ChangeHash) -> [u8; 14 + 32 + 32] {
    let mut m = [0u8; 14 + 32 + 32];
    m[..14].copy_from_slice(SIGNATURE_DOMAIN);
    m[14..46].copy_from_slice(doc.as_bytes());
    m[46..].copy_from_slice(&hash.0);
    m
}

impl SignedChange {
    /// Signs `change` as a change of `key`'s own member document.
    pub fn sign(key: &SecretKey, change: &Change) -> Self {
        let doc = key.member_id();
        let msg = signed_message(&doc, &change.hash());
        let sig = key.sign(&[], &msg);
        Self {
            doc,
            change: change.raw_bytes().to_vec(),
            sig: sig.to_bytes(),
        }
    }

    /// Reassembles a signed change from its parts (e.g. read back from a
    /// store or a bundle). Nothing is checked here.
    pub fn from_parts(doc: MemberId, change: Vec<u8>, sig: [u8; 64]) -> Self {
        Self { doc, change, sig }
    }

    /// The member document this change claims to belong to.
    pub fn doc(&self) -> MemberId {
        self.doc
    }

    pub fn change_bytes(&self) -> &[u8] {
        &self.change
    }

    pub fn sig_bytes(&self) -> &[u8; 64] {
        &self.sig
    }

    pub fn signature(&self) -> Signature {
        Signature::from_bytes(&self.sig)
    }

    /// Decodes the Automerge change, and checks that it is what a mutu
    /// writer makes and nothing more:
    ///
    /// - [`chunk::inspect`] first: an uncompressed change chunk whose columns
    ///   decode to bounded sizes (Automerge inflates and iterates what a
    ///   chunk declares, without caps);
    /// - the chunk checksum (bytes 4..8, the first 4 bytes of the change
    ///   hash), which Automerge's parser does not check: without it one
    ///   change would have 2^32 encodings, all with the same hash and
    ///   signature, that Automerge's own loader refuses;
    /// - no message and no extra bytes;
    /// - every operation puts a bytes value of at most
    ///   [`MAX_RECORD_BYTES`] under a map key of at most [`MAX_KEY_LEN`]
    ///   bytes in the document root: a record write. (Nested objects,
    ///   text, counters, deletions and marks never come from mutu.)
    ///
    /// Which actors a change names is the registry's business: it needs the
    /// document (see [`crate::admission`]).
    pub fn decode(&self) -> Result<Change, Error> {
        chunk::inspect(&self.change)?;
        let change = Change::from_bytes(self.change.clone()).map_err(|e| Error::Automerge(e.to_string()))?;
        if self.change.get(4..8) != Some(&change.hash().0[..4]) {
            return Err(Error::Checksum);
        }
        if change.message().is_some() || !change.extra_bytes().is_empty() {
            return Err(Error::Extras);
        }
        for (index, op) in change.decode().operations.iter().enumerate() {
            let problem = |p: &str| Error::UnexpectedOperation {
                index,
                problem: p.to_owned(),
            };
            if op.obj != ObjectId::Root {
                return Err(problem("it is not in the document root"));
            }
            if op.insert {
                return Err(problem("it inserts into a list"));
            }
            match &op.key {
                Key::Map(k) if k.len() <= MAX_KEY_LEN => {}
                Key::Map(_) => return Err(problem("its key is too long")),
                Key::Seq(_) => return Err(problem("it has a list position, not a key")),
            }
            match &op.action {
                OpType::Put(ScalarValue::Bytes(b)) if b.len() <= MAX_RECORD_BYTES => {}
                OpType::Put(ScalarValue::Bytes(b)) => {
                    return Err(problem(&format!(
                        "its value of {} bytes is over the record limit of {MAX_RECORD_BYTES} bytes",
                        b.len()
                    )));
                }
                OpType::Put(_) => return Err(problem("its value is not bytes")),
                OpType::Make(_) => return Err(problem("it makes an object")),
                _ => return Err(problem("it is not a put")),
            }
        }
        Ok(change)
    }

    /// Size in bytes of the change plus signature and doc id.
    pub fn size(&self) -> usize {
        self.change.len() + 64 + 32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_changes_round_trip_in_cbor_and_json() {
        let key = SecretKey::from_bytes(&[1; 32]);
        let sc = SignedChange::from_parts(key.member_id(), vec![1, 2, 3], [9; 64]);
        let cbor = codec::to_cbor(&sc);
        assert_eq!(codec::from_cbor::<SignedChange>(&cbor, 1024).unwrap(), sc);
        let json = serde_json::to_string(&sc).unwrap();
        assert_eq!(serde_json::from_str::<SignedChange>(&json).unwrap(), sc);
    }
}
