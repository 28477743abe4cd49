//! `sync_response`: the bytes of a `/mutu/sync/1` response stream, as the
//! node's codec reads them (libp2p's CBOR codec, at most
//! `MAX_RESPONSE_BYTES`).
//!
//! Checks:
//! - the codec returns a response or an I/O error, never panics;
//! - a response that decodes round-trips through the codec;
//! - one that passes `Response::check` is handled as the node's actor
//!   handles it (`handle_sync_response`), against a registry holding the
//!   first fixture change of each member: an inventory yields a diff of
//!   documents that differ, each once; the changes of a `Changes` answer go
//!   through admission (all rules), each accounted for, and the registry
//!   re-opens the same from what it stored.

use std::collections::HashSet;

use mutu_node::net::sync::{self, Response};

use super::fixtures::{Fixtures, fixtures};
use super::{gossip_batch, sync_request, wire};

pub fn run(data: &[u8]) {
    let Ok(response) = wire::read_response(data) else {
        return;
    };
    let bytes = wire::write_response(response.clone()).unwrap_or_else(|e| panic!("a decoded response encodes: {e}"));
    assert_eq!(
        wire::read_response(&bytes).ok().as_ref(),
        Some(&response),
        "a response round-trips through the codec"
    );
    if response.check().is_err() {
        return;
    }
    match response {
        Response::Inventory(theirs) => {
            let base: Vec<_> = fixtures()
                .histories
                .iter()
                .filter_map(|h| h.changes.first().cloned())
                .collect();
            let ours = sync_request::inventory(&Fixtures::registry_with(base));
            let diff = sync::diff_inventory(&ours, &theirs);
            let unique: HashSet<_> = diff.iter().collect();
            assert_eq!(unique.len(), diff.len(), "a diff lists each document once");
            for doc in &diff {
                assert!(theirs.iter().any(|(d, h)| d == doc && ours.get(d) != Some(h)));
            }
        }
        Response::Changes { changes, .. } => gossip_batch::admit_into_first_changes(changes),
        Response::Error(text) => assert!(text.len() <= sync::MAX_ERROR_LEN),
        _ => {}
    }
}
