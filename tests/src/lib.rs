//! End-to-end tests of mutu across crates and processes. The integration
//! tests live in `tests/tests/`; this library holds what they share.
//!
//! - [`fuzz`]: the fuzz targets (one per decoder of untrusted bytes),
//!   their seeds and a seeded mutator, run by `tests/tests/fuzz.rs` and by
//!   the libFuzzer crate in `fuzz/`.
//! - [`net`]: in-process multi-node harness (nodes over the memory
//!   transport with noise + yamux, partitions, views digests), used by
//!   `tests/tests/{network,partition,malicious,restart,catchup}.rs`.
//! - [`mal`]: a malicious peer (a raw swarm the test drives) and
//!   [`craft`]: hostile changes made from valid ones, signed by their
//!   member, for the attack tests (`malicious.rs`, `hostile.rs`).
//! - [`transcript`]: runs the CLI transcripts of `tests/examples/*.md`
//!   against the built `mutu` binary (used by `cli/tests/transcripts.rs`).

pub mod craft;
pub mod fuzz;
pub mod mal;
pub mod net;
pub mod transcript;
