//! What one admission changes in the [`Index`](super::Index): per touched
//! document, the keys whose value changed (with the verdict on the new
//! value) and the keys that are gone. The registry computes it from the
//! scratch copies **before** the changes are persisted, hands it to the
//! node's commit with them, and applies the same delta to its index once
//! the commit succeeded: what is on disk and in memory are one thing.
//!
//! A slot's stored form ([`Entry::encode`]) is one row of the node's index
//! table, keyed by member ‖ key:
//!
//! ```text
//! verdict (1: valid, 2: invalid by its bytes, 3: bad signature)
//! op      (0, or 1 followed by the writing operation's 24 bytes)
//! value   (the record's stored bytes: signature ‖ canonical encoding)
//! ```
//!
//! Reading a row back ([`Entry::decode`]) decodes the value again and checks
//! that it gives the stored verdict (a valid record must still decode and
//! sit under its own key in its author's document; an invalid one must
//! still be refused for the same reason): a row that does not is damaged.
//! Signatures are not verified again: the node verified them before it
//! wrote the row.

use std::collections::BTreeMap;

use crate::doc::OpId;
use crate::identity::MemberId;
use crate::record::{Invalid, SignedRecord};

/// The index changes of one admission, by document.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delta {
    pub(super) docs: BTreeMap<MemberId, DocDelta>,
}

/// One document's index changes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DocDelta {
    /// Keys whose value is new, with the verdict on it.
    pub(super) set: Vec<(String, Entry)>,
    /// Keys that no longer hold a record value.
    pub(super) removed: Vec<String>,
}

/// The verdict on one key's value, with what it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub(super) op: Option<OpId>,
    /// The stored value (signature ‖ canonical bytes, or whatever an
    /// invalid value holds).
    pub(super) bytes: Vec<u8>,
    pub(super) verdict: Result<SignedRecord, Invalid>,
}

/// A stored index row that does not read back as it was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("index row `{key}` of {member} is damaged: {problem}")]
pub struct LoadError {
    pub member: MemberId,
    pub key: String,
    pub problem: &'static str,
}

const VALID: u8 = 1;
const INVALID: u8 = 2;
const BAD_SIGNATURE: u8 = 3;

/// The checks every value of `owner`'s document goes through before its
/// signature is verified: it decodes canonically, its author owns the
/// document and it sits under its own `kind/id` key.
pub(super) fn check(owner: MemberId, key: &str, bytes: &[u8]) -> Result<SignedRecord, Invalid> {
    let r = SignedRecord::decode(bytes)?;
    if r.record().author != owner {
        Err(Invalid::WrongAuthor {
            author: r.record().author,
        })
    } else if r.doc_key() != key {
        Err(Invalid::WrongKey { key: key.to_owned() })
    } else {
        Ok(r)
    }
}

impl Delta {
    /// The documents touched, in member order.
    pub fn docs(&self) -> impl Iterator<Item = (&MemberId, &DocDelta)> {
        self.docs.iter()
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.docs.values().all(|d| d.set.is_empty() && d.removed.is_empty())
    }
}

impl DocDelta {
    /// Keys with a new value, and the verdict on it.
    pub fn set(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.set.iter().map(|(k, e)| (k.as_str(), e))
    }

    /// Keys that no longer hold a record.
    pub fn removed(&self) -> impl Iterator<Item = &str> {
        self.removed.iter().map(String::as_str)
    }
}

impl Entry {
    /// The valid record, if the value is one.
    pub fn record(&self) -> Option<&SignedRecord> {
        self.verdict.as_ref().ok()
    }

    /// Why the value is left out, if it is.
    pub fn invalid(&self) -> Option<&Invalid> {
        self.verdict.as_ref().err()
    }

    /// The stored form (see the module's documentation).
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(2 + OpId::LEN + self.bytes.len());
        v.push(match &self.verdict {
            Ok(_) => VALID,
            Err(Invalid::BadSignature) => BAD_SIGNATURE,
            Err(_) => INVALID,
        });
        match self.op {
            Some(op) => {
                v.push(1);
                v.extend_from_slice(&op.to_bytes());
            }
            None => v.push(0),
        }
        v.extend_from_slice(&self.bytes);
        v
    }

    /// Reads back the stored form of `owner`'s key `key`, checking that
    /// the value still gives the stored verdict.
    pub fn decode(owner: MemberId, key: &str, row: &[u8]) -> Result<Self, LoadError> {
        let damaged = |problem| LoadError {
            member: owner,
            key: key.chars().take(120).collect(),
            problem,
        };
        let (&tag, rest) = row.split_first().ok_or_else(|| damaged("the row is empty"))?;
        let (&has_op, rest) = rest.split_first().ok_or_else(|| damaged("the row ends early"))?;
        let (op, value) = match has_op {
            0 => (None, rest),
            1 => {
                let op: &[u8; OpId::LEN] = rest
                    .get(..OpId::LEN)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| damaged("the row ends inside its operation id"))?;
                (Some(OpId::from_bytes(op)), &rest[OpId::LEN..])
            }
            _ => return Err(damaged("unknown operation marker")),
        };
        let checked = check(owner, key, value);
        let verdict = match (tag, checked) {
            (VALID, Ok(r)) => Ok(r),
            (BAD_SIGNATURE, Ok(_)) => Err(Invalid::BadSignature),
            (INVALID, Err(reason)) => Err(reason),
            (VALID | BAD_SIGNATURE, Err(_)) => return Err(damaged("a record stored as decoding no longer decodes")),
            (INVALID, Ok(_)) => return Err(damaged("a value stored as invalid now decodes")),
            _ => return Err(damaged("unknown verdict")),
        };
        Ok(Self {
            op,
            bytes: value.to_vec(),
            verdict,
        })
    }
}
