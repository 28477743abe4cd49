//! Signed changes: the unit of sync.
//!
//! An Automerge change to member document D travels with
//! `sig` = Ed25519(owner of D, `mutu/change/v1` ‖ D ‖ change hash). The change
//! hash covers actor, sequence number, dependencies and operations, so the
//! signature pins the change's whole history. Signed changes are stored and
//! re-served exactly as they came, so anyone can re-verify a whole document.

use automerge::{Change, ChangeHash};
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};

use crate::codec;
use crate::identity::{MemberId, SecretKey};

/// Domain separation of change signatures.
pub const SIGNATURE_DOMAIN: &[u8] = b"mutu/change/v1";
/// Upper bound on one encoded change.
pub const MAX_CHANGE_BYTES: usize = 256 * 1024;

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

    /// Decodes the Automerge change. Automerge's parser does not check the
    /// chunk checksum (bytes 4..8, the first 4 bytes of the change hash), so
    /// without this check one change would have 2^32 encodings, all with the
    /// same hash and signature, that Automerge's own loader refuses.
    pub fn decode(&self) -> Result<Change, String> {
        let change = Change::from_bytes(self.change.clone()).map_err(|e| e.to_string())?;
        if self.change.get(4..8) != Some(&change.hash().0[..4]) {
            return Err("checksum does not match the change's contents".into());
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
