//! Properties several targets check after admitting what they decoded.

use std::collections::BTreeSet;

use mutu_protocol::admission::Report;
use mutu_protocol::change::MAX_CHANGE_BYTES;
use mutu_protocol::identity::{MEMBER_ID_LEN, REPLICA_NONCE_LEN};
use mutu_protocol::registry::{Registry, Trust};
use mutu_protocol::view::{Filter, Views};
use mutu_protocol::{MemberId, SignedChange};

use super::fixtures::NOW;

/// Admits `batch` into `registry` as a node admits what a peer sent
/// (`Trust::Untrusted`), with a `persist` that records what it is given,
/// and checks the outcome:
///
/// - every change of the batch is accounted for exactly once (admitted,
///   duplicate, pending or rejected with a `Rejection`): the registry holds
///   no pending change before, so nothing else can be admitted;
/// - `persist` saw exactly the changes the report says were admitted;
/// - every admitted change names only replicas of its document's owner
///   (DESIGN, admission rule 2: the owner's key followed by a 16-byte
///   nonce), its own actor and every other actor of its header alike;
/// - every admitted change decodes to at most [`MAX_CHANGE_BYTES`] (DESIGN,
///   rule 1: bounds apply to decoded sizes).
///
/// Returns the report and what `persist` stored.
pub fn admit_untrusted(registry: &mut Registry, batch: Vec<SignedChange>) -> (Report, Vec<SignedChange>) {
    assert_eq!(
        registry.pending_count(),
        0,
        "the harness starts without pending changes"
    );
    let n = batch.len();
    let mut stored = Vec::new();
    let report = registry
        .admit(batch, NOW, Trust::Untrusted, |c| {
            stored.extend(c.admitted.iter().map(|a| a.change.clone()));
            Ok::<(), ()>(())
        })
        .unwrap_or_default();
    let accounted = report.admitted.len() + report.duplicates + report.pending + report.rejected.len();
    assert_eq!(accounted, n, "every change is accounted for once: {report:?}");
    let persisted: Vec<(MemberId, automerge::ChangeHash)> = stored
        .iter()
        .map(|c| {
            let change = c
                .decode()
                .unwrap_or_else(|e| panic!("an admitted change decodes again: {e}"));
            (c.doc(), change.hash())
        })
        .collect();
    let admitted: BTreeSet<_> = report.admitted.iter().copied().collect();
    assert_eq!(
        persisted.iter().copied().collect::<BTreeSet<_>>(),
        admitted,
        "persist saw exactly the admitted changes"
    );
    assert_eq!(
        persisted.len(),
        report.admitted.len(),
        "each admitted change persisted once"
    );
    for c in &stored {
        owner_actors_only(c);
        within_decoded_bound(c);
    }
    (report, stored)
}

/// Admission rule 2: every actor a change names (its own and any other in
/// its header) is one of the document owner's replicas.
pub fn owner_actors_only(c: &SignedChange) {
    let Ok(change) = c.decode() else {
        panic!("an admitted change decodes again");
    };
    for actor in change.actors() {
        let bytes = actor.to_bytes();
        assert!(
            bytes.len() == MEMBER_ID_LEN + REPLICA_NONCE_LEN && bytes[..MEMBER_ID_LEN] == c.doc().as_bytes()[..],
            "an admitted change of {} names actor {actor}, not a replica of its owner",
            c.doc()
        );
    }
}

/// Admission rule 1: an admitted change is at most [`MAX_CHANGE_BYTES`]
/// once decoded (a compressed chunk inflates).
pub fn within_decoded_bound(c: &SignedChange) {
    let Ok(change) = c.decode() else {
        panic!("an admitted change decodes again");
    };
    let size = change.raw_bytes().len();
    assert!(
        size <= MAX_CHANGE_BYTES,
        "an admitted change of {} bytes decodes to {size} bytes, {DECODED_OVER_THE_BOUND} of {MAX_CHANGE_BYTES}",
        c.change_bytes().len()
    );
}

/// What [`within_decoded_bound`] says when it fails.
pub const DECODED_OVER_THE_BOUND: &str = "over the decoded-size bound";

/// Everything the registry shows, as JSON: the listing views, a search,
/// and per document its heads and records. Computing it must not panic;
/// two registries holding the same changes give the same text.
pub fn views_json(registry: &Registry) -> String {
    let views = Views::new(registry.index(), NOW);
    let all = Filter::default();
    // In member order: the documents of a registry that keeps them all.
    let docs: Vec<serde_json::Value> = registry
        .metas()
        .filter_map(|(m, _)| registry.doc(m))
        .map(|d| {
            let mut heads: Vec<String> = d.heads().iter().map(|h| h.to_string()).collect();
            heads.sort();
            serde_json::json!({
                "owner": d.owner().to_string(),
                "heads": heads,
                "changes": d.change_count(),
                "records": d.record_count(),
                "keys": d.entries().into_iter().map(|(k, v)| (k, v.len())).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "needs": views.needs(&all),
        "pledges": views.pledges(&all),
        "catalogues": views.catalogues(&all),
        "projects": views.projects(&all),
        "members": views.members(&all),
        "search": views.search("a", &all),
        "invalid": registry.index().invalid_count(),
        "docs": docs,
    })
    .to_string()
}

/// What a node does on its next start: a fresh registry admits everything
/// that was stored (`Trust::OwnStore`). That must not panic, and must give
/// the same documents and views as the registry that stored them, whose
/// [`views_json`] is `shown`.
pub fn reopens_the_same(shown: &str, stored: Vec<SignedChange>) {
    let mut fresh = super::fixtures::registry();
    let n = stored.len();
    let report = fresh
        .admit(stored, NOW, Trust::OwnStore, |_| Ok::<(), ()>(()))
        .unwrap_or_default();
    assert_eq!(
        report.admitted.len(),
        n,
        "everything stored is admitted again on re-opening: {report:?}"
    );
    assert_eq!(
        views_json(&fresh),
        shown,
        "re-opening from the store gives the same registry"
    );
}
