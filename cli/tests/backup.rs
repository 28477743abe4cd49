//! `mutu backup` and `mutu restore`, on real homes with the built binary:
//! the identity survives encrypted, the restored home signs with a new
//! replica (so the member's later writes from the old and the restored home
//! never look like two histories), a wrong passphrase writes nothing, and a
//! backup taken while the node runs goes through the node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{mutu, mutu_run, ok, read_announced, spawn_piped};

/// A member with one need, and a passphrase file.
fn member(dir: &Path) -> (PathBuf, PathBuf, String) {
    let home = dir.join("a");
    ok(
        &home,
        &["init", "--name", "Atelier Sauvegarde", "--kind", "association"],
    );
    let need = ok(&home, &["need", "add", "--title", "Before the backup"])
        .trim()
        .to_owned();
    let pass = dir.join("pass");
    std::fs::write(&pass, "correct horse battery\n").unwrap();
    (home, pass, need)
}

fn member_id(home: &Path) -> String {
    let v: serde_json::Value = serde_json::from_str(&ok(home, &["whoami", "--json"])).unwrap();
    v["id"].as_str().or(v["member"].as_str()).unwrap().to_owned()
}

/// `backup --out FILE --passphrase-file PASS`.
fn backup_args<'a>(file: &'a Path, pass: &'a Path) -> [&'a str; 5] {
    let (file, pass) = (file.to_str().unwrap(), pass.to_str().unwrap());
    ["backup", "--out", file, "--passphrase-file", pass]
}

/// `restore FILE --passphrase-file PASS`.
fn restore_args<'a>(file: &'a Path, pass: &'a Path) -> [&'a str; 4] {
    let (file, pass) = (file.to_str().unwrap(), pass.to_str().unwrap());
    ["restore", file, "--passphrase-file", pass]
}

#[test]
fn a_restored_home_is_the_same_member_on_a_new_replica_and_never_looks_like_two_histories() {
    let dir = tempfile::tempdir().unwrap();
    let (a, pass, need) = member(dir.path());
    let file = dir.path().join("a.backup");
    let said = ok(&a, &backup_args(&file, &pass));
    assert!(said.starts_with("backed up member"), "{said}");
    let secret = std::fs::read_to_string(a.join("identity.key")).unwrap();
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        !written.contains(secret.trim()),
        "the key is not in the backup in clear"
    );

    let b = dir.path().join("b");
    let said = ok(&b, &restore_args(&file, &pass));
    assert!(said.contains("restored member"), "{said}");
    assert_eq!(member_id(&a), member_id(&b));
    assert_ne!(
        std::fs::read_to_string(a.join("replica.id")).unwrap(),
        std::fs::read_to_string(b.join("replica.id")).unwrap(),
        "a restored home signs with a new replica"
    );
    assert!(ok(&b, &["ls", "needs"]).contains("Before the backup"));
    let _ = need;

    // Both homes write on: the old one goes on with its replica, the
    // restored one starts a new one. Brought together, nothing conflicts.
    ok(&a, &["need", "add", "--title", "Written by the old home"]);
    ok(&b, &["need", "add", "--title", "Written by the restored home"]);
    let bundle = dir.path().join("b.bundle");
    ok(&b, &["export", "--out", bundle.to_str().unwrap()]);
    ok(&a, &["import", bundle.to_str().unwrap()]);
    let needs = ok(&a, &["ls", "needs"]);
    assert!(
        needs.contains("Written by the old home") && needs.contains("Written by the restored home"),
        "{needs}"
    );
    let shown: serde_json::Value = serde_json::from_str(&ok(&a, &["show", &member_id(&a), "--json"])).unwrap();
    assert_eq!(shown["equivocations"], serde_json::json!([]), "{shown}");
}

#[test]
fn a_wrong_passphrase_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (a, pass, _) = member(dir.path());
    let file = dir.path().join("a.backup");
    ok(&a, &backup_args(&file, &pass));
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase\n").unwrap();
    let b = dir.path().join("b");
    let out = mutu(&b, &restore_args(&file, &wrong));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wrong passphrase"), "{err}");
    assert!(!b.join("identity.key").exists(), "nothing written to the home");
    // A short passphrase is refused when backing up.
    std::fs::write(&wrong, "short\n").unwrap();
    let out = mutu(&a, &backup_args(&file, &wrong));
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_backup_while_the_node_runs_goes_through_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let (a, pass, _) = member(dir.path());
    let (_node, stdout) = spawn_piped(&mut mutu_run(&a));
    assert!(
        read_announced(stdout, |l| l.starts_with("ui:")),
        "mutu run did not start"
    );
    let file = dir.path().join("a.backup");
    let said = ok(&a, &backup_args(&file, &pass));
    assert!(said.starts_with("backed up member"), "{said}");
    let b = dir.path().join("b");
    ok(&b, &restore_args(&file, &pass));
    assert!(ok(&b, &["ls", "needs"]).contains("Before the backup"));
}
