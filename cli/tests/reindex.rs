//! `mutu reindex` on real homes with the built binary: a damaged store is
//! reported with the way out, `mutu reindex` rebuilds it from the changes
//! that still verify and keeps the damaged file, and it refuses while a
//! node runs on the home.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{mutu, mutu_run, ok, read_announced, spawn_piped};

/// A member with `needs` needs.
fn member(home: &Path, needs: usize) {
    ok(home, &["init", "--name", "Atelier Réparé", "--kind", "association"]);
    for i in 0..needs {
        ok(home, &["need", "add", "--title", &format!("Need {i}")]);
    }
}

#[test]
fn a_damaged_store_is_reported_and_reindex_rebuilds_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("a");
    member(&home, 5);
    let store = home.join("store.redb");
    let intact = std::fs::read(&store).unwrap();

    // Damage the file at the first of these places that stops it from
    // opening (which pages hold what depends on redb's layout).
    let len = intact.len();
    let mut reported = None;
    for at in [8192, 16_384, 24_576, 12, 32]
        .into_iter()
        .chain((1..32).map(|i| len * i / 32))
    {
        let mut bytes = intact.clone();
        for b in &mut bytes[at..(at + 32).min(len)] {
            *b ^= 0xa5;
        }
        std::fs::write(&store, &bytes).unwrap();
        let out = mutu(&home, &["ls", "needs"]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !stderr.contains("RUST_BACKTRACE"),
            "damaged at {at}, a panic escaped: {stderr}"
        );
        if !out.status.success() {
            reported = Some((at, stderr, out.status.code()));
            break;
        }
    }
    let (at, stderr, code) = reported.expect("some damage stops the store from opening");
    assert!(
        stderr.contains(&format!("the store {} is damaged", store.display()))
            && stderr.contains("mutu reindex")
            && stderr.contains("mutu restore"),
        "damaged at {at}: {stderr}"
    );
    assert_eq!(
        code,
        Some(1),
        "a damaged store is the machine's fault, not the caller's"
    );

    let said = ok(&home, &["reindex"]);
    assert!(
        said.starts_with(&format!("rebuilt {}: kept ", store.display())),
        "{said}"
    );
    assert!(
        said.contains(&format!("the damaged file is kept as {}.damaged", store.display())),
        "{said}"
    );
    let damaged = std::fs::read(home.join("store.redb.damaged")).unwrap();
    assert_ne!(damaged, intact, "the damaged file is kept as it was");
    // The home opens again. The damage hit a page of the tables' trees,
    // not the changes' bytes (with redb 4.6's layout the first place tried,
    // 8192, does): every change is salvaged from the file.
    let listed = ok(&home, &["ls", "needs"]);
    assert!(
        said.contains("kept 6 changes of 1 documents"),
        "damaged at {at}: {said}"
    );
    for i in 0..5 {
        assert!(listed.contains(&format!("Need {i}")), "{listed}");
    }
    assert!(ok(&home, &["whoami"]).contains("Atelier Réparé"));
}

#[test]
fn an_intact_store_is_rebuilt_with_everything() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("a");
    member(&home, 3);
    let said = ok(&home, &["reindex"]);
    assert!(said.contains("kept 4 changes of 1 documents"), "{said}");
    assert!(said.contains("the damaged store held 4 changes: 0 lost"), "{said}");
    let listed = ok(&home, &["ls", "needs"]);
    for i in 0..3 {
        assert!(listed.contains(&format!("Need {i}")), "{listed}");
    }
}

#[test]
fn reindex_refuses_while_a_node_runs() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("a");
    member(&home, 1);
    let (_node, stdout) = spawn_piped(&mut mutu_run(&home));
    assert!(
        read_announced(stdout, |l| l.starts_with("ui:")),
        "mutu run did not start"
    );
    let out = mutu(&home, &["reindex"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("stop the node first"), "{stderr}");
    assert!(!home.join("store.redb.damaged").exists());
}
