//! End-to-end tests of mutu across crates and processes. The integration
//! tests live in `tests/tests/`; this library holds what they share.
//!
//! - [`transcript`]: runs the CLI transcripts of `tests/examples/*.md`
//!   against the built `mutu` binary (used by `cli/tests/transcripts.rs`).

pub mod transcript;
