//! Fuzz targets: one per decoder that reads bytes from someone else, plus a
//! structure-aware target for change admission.
//!
//! Each target is a plain `fn(&[u8])` that builds on stable. It panics when
//! a property fails, and *only* then: any input, however malformed, must be
//! refused with an error, never with a panic, an unbounded allocation or an
//! endless loop. Beyond "does not panic", each target checks what its module
//! documents (round trips, precise rejections, a registry that re-opens
//! from what it stored).
//!
//! They run two ways (see HACKING.md, "Fuzzing"):
//! - coverage-guided, with libFuzzer: the `fuzz/` crate at the top of the
//!   repository (nightly, `cargo fuzz run NAME`), one `fuzz_targets/NAME.rs`
//!   per target calling the function here;
//! - in the normal test suite (`tests/tests/fuzz.rs`): every target over its
//!   committed corpus (`fuzz/corpus/NAME/`), its seeds ([`seeds`]), the
//!   crashes found so far (`tests/fuzz-regressions/NAME/`) and a bounded
//!   number of seeded mutations ([`mutate`]).
//!
//! | target | input | decoder |
//! | --- | --- | --- |
//! | [`change_chunk`](change_chunk::run) | an Automerge change chunk | `SignedChange::decode` (automerge) |
//! | [`record_cbor`](record_cbor::run) | a stored record (signature ‖ CBOR) | `SignedRecord::decode`, the index |
//! | [`gossip_batch`](gossip_batch::run) | a gossip message payload | `GossipBatch::decode` |
//! | [`sync_request`](sync_request::run) | a `/mutu/sync/1` request stream | libp2p's CBOR codec, `Request::check` |
//! | [`sync_response`](sync_response::run) | a `/mutu/sync/1` response stream | libp2p's CBOR codec, `Response::check` |
//! | [`sync_roundtrip`](sync_roundtrip::run) | bytes that build a request and a response | the codec, both ways |
//! | [`bundle_json`](bundle_json::run) | a bundle file | `Bundle::parse`, `bundle::verify` |
//! | [`admit`](admit::run) | a fixture context + flags + change bytes | `Registry::admit` on mutated, re-signed changes |

pub mod admit;
pub mod bundle_json;
pub mod change_chunk;
pub mod check;
pub mod chunk;
pub mod fixtures;
pub mod gossip_batch;
pub mod mutate;
pub mod record_cbor;
pub mod seeds;
pub mod sync_request;
pub mod sync_response;
pub mod sync_roundtrip;
pub mod wire;

/// A fuzz target: its name (the directory of its corpus and regressions)
/// and its body.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    Target {
        name: "change_chunk",
        run: change_chunk::run,
    },
    Target {
        name: "record_cbor",
        run: record_cbor::run,
    },
    Target {
        name: "gossip_batch",
        run: gossip_batch::run,
    },
    Target {
        name: "sync_request",
        run: sync_request::run,
    },
    Target {
        name: "sync_response",
        run: sync_response::run,
    },
    Target {
        name: "sync_roundtrip",
        run: sync_roundtrip::run,
    },
    Target {
        name: "bundle_json",
        run: bundle_json::run,
    },
    Target {
        name: "admit",
        run: admit::run,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().copied().find(|t| t.name == name)
}
