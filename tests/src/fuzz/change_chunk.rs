//! `change_chunk`: the bytes of an Automerge change, as they arrive inside a
//! signed change (gossip, sync, bundles) and as a node reads them back from
//! its store.
//!
//! Checks, for bytes within [`MAX_CHANGE_BYTES`] (admission refuses larger
//! ones before decoding):
//! - `SignedChange::decode` returns a change or an error, never panics, and
//!   stays within bounded memory (libFuzzer's `-malloc_limit_mb` reports an
//!   inflation without a cap);
//! - a change that decodes is at most [`MAX_CHANGE_BYTES`] *decoded*
//!   (DESIGN: every bound applies to decoded sizes), its checksum is its
//!   hash's first 4 bytes, and decoding its bytes again gives the same hash;
//! - a node that stored it still opens: admitted with `Trust::OwnStore` (no
//!   signature check, as when a home is opened) into a registry holding the
//!   fixture histories, as a change of the document its actor names, it is
//!   applied or refused without a panic, and the registry still answers.

use mutu_protocol::SignedChange;
use mutu_protocol::change::MAX_CHANGE_BYTES;
use mutu_protocol::identity::MEMBER_ID_LEN;
use mutu_protocol::registry::Trust;

use super::check;
use super::fixtures::{self, Fixtures, NOW};
use crate::fuzz::fixtures::fixtures;

pub fn run(data: &[u8]) {
    if data.len() > MAX_CHANGE_BYTES {
        return;
    }
    let alice = fixtures::key(fixtures::MEMBER_SEEDS[0]).member_id();
    let envelope = SignedChange::from_parts(alice, data.to_vec(), [0; 64]);
    let Ok(change) = envelope.decode() else {
        return;
    };
    assert!(
        change.raw_bytes().len() <= MAX_CHANGE_BYTES,
        "a change of {} bytes decodes to {} bytes, over the {MAX_CHANGE_BYTES}-byte bound",
        data.len(),
        change.raw_bytes().len()
    );
    assert_eq!(
        data.get(4..8),
        Some(&change.hash().0[..4]),
        "decode checks the checksum"
    );
    let again = automerge::Change::from_bytes(change.raw_bytes().to_vec())
        .unwrap_or_else(|e| panic!("the decoded bytes of a change decode again: {e}"));
    assert_eq!(again.hash(), change.hash(), "decoding is a function of the bytes");

    // The document the change's actor claims (else alice's).
    let actor = change.actor_id().to_bytes();
    let doc = actor
        .get(..MEMBER_ID_LEN)
        .and_then(|k| <[u8; MEMBER_ID_LEN]>::try_from(k).ok())
        .map_or(alice, mutu_protocol::MemberId::from_bytes);
    let stored = SignedChange::from_parts(doc, data.to_vec(), [0; 64]);
    let mut registry = Fixtures::registry_with(fixtures().all_changes());
    let _ = registry.admit(vec![stored], NOW, Trust::OwnStore, |_| Ok::<(), ()>(()));
    let _ = check::views_json(&registry);
}
