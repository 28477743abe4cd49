//! `gossip_batch`: the payload of a gossipsub message on `mutu/v1/changes`.
//!
//! Checks:
//! - `GossipBatch::decode` returns a batch or an error, never panics;
//! - a batch that decodes has the shape `decode` promises (one document,
//!   1 to `MAX_CHANGES_PER_BATCH` changes) and round-trips: it encodes
//!   within `MAX_GOSSIP_BATCH_BYTES`, and the encoding decodes to it;
//! - what the node does next (`handle_gossip` → admission, all rules) on a
//!   registry holding the fixtures' first change of each member: every
//!   change is admitted, a duplicate, pending or rejected with a reason,
//!   and the registry re-opens from what was stored (see [`check`]).

use mutu_node::net::sync::{GossipBatch, MAX_CHANGES_PER_BATCH};

use super::check;
use super::fixtures::{Fixtures, fixtures};

pub fn run(data: &[u8]) {
    let Ok(batch) = GossipBatch::decode(data) else {
        return;
    };
    assert!(!batch.changes.is_empty() && batch.changes.len() <= MAX_CHANGES_PER_BATCH);
    assert!(batch.changes.iter().all(|c| c.doc() == batch.doc));
    let bytes = batch
        .encode()
        .unwrap_or_else(|e| panic!("a batch that decodes encodes again: {e}"));
    assert_eq!(
        GossipBatch::decode(&bytes).ok().as_ref(),
        Some(&batch),
        "a batch round-trips"
    );
    admit_into_first_changes(batch.changes);
}

/// Admits `changes` into a registry holding the first change of each
/// fixture member, then checks it re-opens the same from what it stored.
pub(crate) fn admit_into_first_changes(changes: Vec<mutu_protocol::SignedChange>) {
    let base: Vec<_> = fixtures()
        .histories
        .iter()
        .filter_map(|h| h.changes.first().cloned())
        .collect();
    let mut registry = Fixtures::registry_with(base.clone());
    let (_, stored) = check::admit_untrusted(&mut registry, changes);
    let shown = check::views_json(&registry);
    let mut all = base;
    all.extend(stored);
    check::reopens_the_same(&shown, all);
}
