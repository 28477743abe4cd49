//! Bundles: a member's signed statements, portable and checkable offline.
//!
//! ```json
//! {"format": "mutu-bundle", "version": 1,
//!  "documents": [{"doc": "mu…", "changes": [{"change": "<base64>", "sig": "<base64>"}]}]}
//! ```
//!
//! [`verify`] checks a bundle with exactly the admission rules a node applies
//! to the network, then every record inside.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::admission::Rejection;
use crate::change::SignedChange;
use crate::codec;
use crate::identity::MemberId;
use crate::record::Invalid;
use crate::registry::{Registry, Trust};
use crate::time::Timestamp;

pub const FORMAT: &str = "mutu-bundle";
pub const VERSION: u32 = 1;
/// Upper bound on a bundle file.
pub const MAX_BUNDLE_BYTES: usize = 512 * 1024 * 1024;

/// Errors reading or checking a bundle. Exhaustive: the node classifies
/// every variant (`mutu_node::error`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a mutu bundle: {0}")]
    Format(String),
    #[error("bundle of {size} bytes is over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("document {doc}: change {index} is rejected: {reason}")]
    Rejected {
        doc: MemberId,
        index: usize,
        reason: Rejection,
    },
    #[error("document {doc}: {count} change(s) depend on changes missing from the bundle")]
    Incomplete { doc: MemberId, count: usize },
    #[error("document {doc}: record `{key}` is invalid: {reason}")]
    InvalidRecord {
        doc: MemberId,
        key: String,
        reason: Invalid,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    #[serde(with = "codec::bytes")]
    pub change: Vec<u8>,
    #[serde(with = "codec::bytes")]
    pub sig: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub doc: MemberId,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    pub version: u32,
    pub documents: Vec<Document>,
}

impl Bundle {
    /// Groups changes by document (documents ordered by id, changes kept in
    /// the given order).
    pub fn from_changes(changes: impl IntoIterator<Item = SignedChange>) -> Self {
        let mut docs: BTreeMap<MemberId, Vec<Change>> = BTreeMap::new();
        for c in changes {
            docs.entry(c.doc()).or_default().push(Change {
                change: c.change_bytes().to_vec(),
                sig: c.sig_bytes().to_vec(),
            });
        }
        Self {
            format: FORMAT.into(),
            version: VERSION,
            documents: docs
                .into_iter()
                .map(|(doc, changes)| Document { doc, changes })
                .collect(),
        }
    }

    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        if json.len() > MAX_BUNDLE_BYTES {
            return Err(Error::TooLarge {
                size: json.len(),
                limit: MAX_BUNDLE_BYTES,
            });
        }
        let b: Bundle = serde_json::from_slice(json).map_err(|e| Error::Format(e.to_string()))?;
        if b.format != FORMAT || b.version != VERSION {
            return Err(Error::Format(format!(
                "format `{}` version {}, expected `{FORMAT}` version {VERSION}",
                b.format, b.version
            )));
        }
        Ok(b)
    }

    pub fn to_json(&self) -> String {
        // Serializing plain structs of strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The signed changes, in document order. A signature of the wrong
    /// length becomes an all-zero one, which fails verification.
    pub fn changes(&self) -> Vec<SignedChange> {
        self.documents
            .iter()
            .flat_map(|d| {
                d.changes.iter().map(|c| {
                    SignedChange::from_parts(d.doc, c.change.clone(), c.sig.as_slice().try_into().unwrap_or([0; 64]))
                })
            })
            .collect()
    }

    /// The signed changes, in document order, without copying their bytes
    /// (as [`Bundle::changes`]).
    pub fn into_changes(self) -> Vec<SignedChange> {
        self.documents
            .into_iter()
            .flat_map(|d| {
                let doc = d.doc;
                d.changes.into_iter().map(move |c| {
                    let sig = c.sig.as_slice().try_into().unwrap_or([0; 64]);
                    SignedChange::from_parts(doc, c.change, sig)
                })
            })
            .collect()
    }

    pub fn change_count(&self) -> usize {
        self.documents.iter().map(|d| d.changes.len()).sum()
    }
}

/// What a valid bundle holds, per document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocSummary {
    pub doc: MemberId,
    pub changes: usize,
    pub records: usize,
}

/// Checks every change with the admission rules and every record inside.
pub fn verify(bundle: &Bundle, now: Timestamp) -> Result<Vec<DocSummary>, Error> {
    let mut registry = Registry::new();
    let changes = bundle.changes();
    let positions: BTreeMap<(MemberId, Option<automerge::ChangeHash>), usize> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                (
                    c.doc(),
                    automerge::Change::from_bytes(c.change_bytes().to_vec())
                        .ok()
                        .map(|c| c.hash()),
                ),
                i,
            )
        })
        .collect();
    let report = registry
        .admit(changes, now, Trust::Untrusted, |_| {
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap_or_else(|never| match never {});
    if let Some(r) = report.rejected.first() {
        let index = positions.get(&(r.doc, r.hash)).copied().unwrap_or(0);
        let index = index
            - bundle
                .documents
                .iter()
                .take_while(|d| d.doc != r.doc)
                .map(|d| d.changes.len())
                .sum::<usize>()
                .min(index);
        return Err(Error::Rejected {
            doc: r.doc,
            index,
            reason: r.reason.clone(),
        });
    }
    if registry.pending_count() > 0 {
        let doc = report.missing.first().map(|m| m.0).unwrap_or(bundle.documents[0].doc);
        return Err(Error::Incomplete {
            doc,
            count: registry.pending_count(),
        });
    }
    if let Some((doc, key, reason)) = registry.index().invalid().find(|(_, _, r)| **r != Invalid::Unsupported) {
        return Err(Error::InvalidRecord {
            doc: *doc,
            key: key.to_owned(),
            reason: reason.clone(),
        });
    }
    Ok(bundle
        .documents
        .iter()
        .map(|d| DocSummary {
            doc: d.doc,
            changes: d.changes.len(),
            records: registry.doc(&d.doc).map_or(0, |doc| doc.record_count()),
        })
        .collect())
}
