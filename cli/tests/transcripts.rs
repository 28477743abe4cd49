//! Runs the CLI transcripts in `tests/examples/*.md` (see
//! `mutu_tests::transcript` for their format) against this crate's `mutu`
//! binary.
//!
//! The runner lives here, in the crate that owns the binary, because only
//! here does cargo build the binary before the tests and name its path
//! (`CARGO_BIN_EXE_mutu`), whatever the profile, target or target directory.

use std::path::{Path, PathBuf};

fn examples() -> PathBuf {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR"));
    cli.parent().unwrap_or(cli).join("tests/examples")
}

fn run(name: &str) {
    mutu_tests::transcript::run(Path::new(env!("CARGO_BIN_EXE_mutu")), &examples().join(name));
}

#[test]
fn quickstart() {
    run("quickstart.md");
}

#[test]
fn consultation() {
    run("consultation.md");
}

#[test]
fn pooling() {
    run("pooling.md");
}

#[test]
fn errors() {
    run("errors.md");
}

#[test]
fn bundles() {
    run("bundles.md");
}

#[test]
fn follow() {
    run("follow.md");
}

/// Every transcript in the directory has a test above.
#[test]
fn similar_needs() {
    run("similar-needs.md");
}

#[test]
fn merge() {
    run("merge.md");
}

#[test]
fn every_transcript_is_run() {
    let known = [
        "bundles.md",
        "consultation.md",
        "errors.md",
        "follow.md",
        "merge.md",
        "pooling.md",
        "quickstart.md",
        "similar-needs.md",
    ];
    let mut found: Vec<String> = std::fs::read_dir(examples())
        .expect("tests/examples exists")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".md"))
        .collect();
    found.sort();
    assert_eq!(found, known, "add a #[test] for each transcript in tests/examples");
}
