//! `sync_request`: the bytes of a `/mutu/sync/1` request stream, as the
//! node's codec reads them (libp2p's CBOR codec, at most
//! `MAX_REQUEST_BYTES`).
//!
//! Checks:
//! - the codec returns a request or an I/O error, never panics;
//! - a request that decodes round-trips through the codec;
//! - one over a count bound is refused by `Request::check`, and the error
//!   response the node sends then passes `Response::check`;
//! - served as the node's actor serves it, by a registry holding every
//!   fixture change: the answer passes `Response::check`, encodes within
//!   `MAX_RESPONSE_BYTES` and round-trips; an inventory answer lists only
//!   our documents whose digest differs from the request's; a changes
//!   answer lists only changes of the document asked for, each once, each
//!   after those of its dependencies it also carries, and nothing when the
//!   asker's heads are ours.

use std::collections::{BTreeMap, HashMap, HashSet};

use automerge::ChangeHash;
use mutu_node::net::sync::{self, HeadsDigest, Request, Response};
use mutu_protocol::registry::Registry;
use mutu_protocol::{MemberId, SignedChange};

use super::fixtures::{Fixtures, fixtures};
use super::wire;

pub fn run(data: &[u8]) {
    let Ok(request) = wire::read_request(data) else {
        return;
    };
    let bytes = wire::write_request(request.clone()).unwrap_or_else(|e| panic!("a decoded request encodes: {e}"));
    assert_eq!(
        wire::read_request(&bytes).ok().as_ref(),
        Some(&request),
        "a request round-trips through the codec"
    );
    if let Err(e) = request.check() {
        answer_is_sendable(&Response::error(e.to_string()));
        return;
    }
    let registry = Fixtures::registry_with(fixtures().all_changes());
    let response = serve(&registry, request);
    answer_is_sendable(&response);
}

/// The inventory a node computes from its registry.
pub(crate) fn inventory(registry: &Registry) -> BTreeMap<MemberId, HeadsDigest> {
    registry
        .metas()
        .map(|(m, d)| (*m, sync::heads_digest(d.heads())))
        .collect()
}

/// Serves `request` as the node's actor does (`handle_sync_request`) and
/// checks what each kind of answer promises.
fn serve(registry: &Registry, request: Request) -> Response {
    let ours = inventory(registry);
    match request {
        Request::Summary { digest, docs } => {
            let r = sync::summary_response(&ours, &digest, docs);
            if docs == ours.len() as u64 && digest == sync::inventory_digest(&ours) {
                assert_eq!(r, Response::InSync);
            }
            r
        }
        Request::Inventory(theirs) => {
            let diff = sync::diff_inventory(&ours, &theirs);
            let unique: HashSet<_> = diff.iter().collect();
            assert_eq!(unique.len(), diff.len(), "a diff lists each document once");
            for doc in &diff {
                assert!(
                    theirs.iter().any(|(d, h)| d == doc && ours.get(d) != Some(h)),
                    "a diff lists only documents that differ"
                );
            }
            let answer = sync::inventory_response(&ours, &theirs);
            let listed: BTreeMap<_, _> = theirs.iter().copied().collect();
            for (doc, digest) in &answer {
                assert_eq!(ours.get(doc), Some(digest), "an inventory answer lists our documents");
                assert_ne!(
                    listed.get(doc),
                    Some(digest),
                    "an inventory answer lists only differences"
                );
            }
            Response::Inventory(answer)
        }
        Request::ChangesSince { doc, heads } => {
            let hashes = registry
                .doc(&doc)
                .map(|d| {
                    let theirs = sync::from_wire(&heads);
                    let hashes = sync::changes_since(d, &theirs);
                    let mut ours = d.heads();
                    ours.sort();
                    let mut asked = theirs.clone();
                    asked.sort();
                    asked.dedup();
                    if asked == ours {
                        assert!(hashes.is_empty(), "a peer with our heads lacks nothing");
                    }
                    hashes
                })
                .unwrap_or_default();
            changes_answer(registry, doc, hashes, Order::Causal)
        }
        Request::ChangesByHash { doc, hashes } => {
            let hashes = registry
                .doc(&doc)
                .map(|d| sync::changes_by_hash(d.meta(), &sync::from_wire(&hashes)))
                .unwrap_or_default();
            changes_answer(registry, doc, hashes, Order::AsAsked)
        }
        other => panic!("a request kind this target does not serve: {other:?}"),
    }
}

/// The order an answer must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Every change after its dependencies (`ChangesSince`: the document's
    /// own order).
    Causal,
    /// The order the peer asked in (`ChangesByHash`): a peer that asks out
    /// of order gets what it asked for; the receiving registry orders a
    /// batch itself.
    AsAsked,
}

/// The `Changes` answer for `hashes` of `doc` (the node reads them from its
/// store; here, from the fixtures), after checking the list.
fn changes_answer(registry: &Registry, doc: MemberId, hashes: Vec<ChangeHash>, order: Order) -> Response {
    let by_hash: HashMap<ChangeHash, SignedChange> = fixtures()
        .all_changes()
        .into_iter()
        .filter_map(|c| Some((c.decode().ok()?.hash(), c)))
        .collect();
    let position: HashMap<ChangeHash, usize> = hashes.iter().enumerate().map(|(i, h)| (*h, i)).collect();
    assert_eq!(position.len(), hashes.len(), "an answer lists each change once");
    let mut changes = Vec::with_capacity(hashes.len());
    for (i, h) in hashes.iter().enumerate() {
        assert!(
            registry.doc(&doc).is_some_and(|d| d.has_change(h)),
            "an answer lists only changes of the document asked for"
        );
        let Some(c) = by_hash.get(h) else {
            panic!("a change of the registry that is not a fixture");
        };
        if order == Order::Causal
            && let Ok(change) = c.decode()
        {
            for dep in change.deps() {
                if let Some(j) = position.get(dep) {
                    assert!(*j < i, "an answer lists a change after its dependencies");
                }
            }
        }
        changes.push(c.clone());
    }
    Response::changes_chunk(changes)
}

/// The node can send `response`: it passes the receiver's count check and
/// encodes within the codec's limit, and the receiver decodes it intact.
pub(crate) fn answer_is_sendable(response: &Response) {
    if let Err(e) = response.check() {
        panic!("the node would send an answer the receiver refuses: {e}");
    }
    let bytes = wire::write_response(response.clone()).unwrap_or_else(|e| panic!("an answer encodes: {e}"));
    assert!(
        bytes.len() <= sync::MAX_RESPONSE_BYTES,
        "an answer fits the codec's limit"
    );
    assert_eq!(
        wire::read_response(&bytes).ok().as_ref(),
        Some(response),
        "an answer round-trips"
    );
}
