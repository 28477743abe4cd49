//! The store lock between mutu processes on one home (issue 8's papercut):
//! a node that starts while an offline command (`mutu ls`, `mutu status`)
//! holds the store waits for it instead of failing, and a command that
//! finds the store held by a node that is still starting waits for that
//! node's API instead of failing.
//!
//! The test holds the lock itself (it opens the home's store in this
//! process), so the moment each process meets it is not left to luck.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{Reaped, mutu, mutu_run};
use mutu_node::home::Home;
use mutu_node::store::Store;

fn initialised_home(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let home = dir.path().join("home");
    let out = mutu(&home, &["init", "--name", "Atelier Lock", "--kind", "association"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    home
}

/// Starts `mutu run` on `home` with stdout and stderr piped.
fn spawn_run(home: &std::path::Path) -> Reaped {
    let child = mutu_run(home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Reaped(child)
}

/// Reads `stream` line by line until a line contains `needle`; every line
/// read is returned (for the failure message). False if the stream ended.
fn wait_for_line(stream: impl std::io::Read, needle: &str) -> (bool, Vec<String>) {
    let mut seen = Vec::new();
    for line in BufReader::new(stream).lines() {
        let line = line.unwrap();
        let found = line.contains(needle);
        seen.push(line);
        if found {
            return (true, seen);
        }
    }
    (false, seen)
}

/// Holds `home`'s store as an offline command does for a moment, starts
/// `mutu run` on it and waits until the node says it waits for the store.
fn node_waiting_for_the_store(home: &std::path::Path) -> (Reaped, Store) {
    let store_path = Home::resolve(Some(home.to_owned())).unwrap().store_path();
    let held = Store::open(&store_path).unwrap();
    let mut node = spawn_run(home);
    let stderr = node.0.stderr.take().unwrap();
    let (waiting, seen) = wait_for_line(stderr, "waiting for another mutu process");
    assert!(
        waiting,
        "mutu run did not wait for the store; it said:\n{}",
        seen.join("\n")
    );
    (node, held)
}

#[test]
fn a_node_starting_while_another_command_holds_the_store_waits_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = initialised_home(&dir);
    let (mut node, held) = node_waiting_for_the_store(&home);
    drop(held);

    let stdout = node.0.stdout.take().unwrap();
    let (started, seen) = wait_for_line(stdout, "http:");
    assert!(
        started,
        "mutu run did not start once the store was free; it said:\n{}",
        seen.join("\n")
    );
}

#[test]
fn a_command_run_while_a_node_starts_reaches_the_node_or_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let home = initialised_home(&dir);
    let (mut node, held) = node_waiting_for_the_store(&home);

    // The store is held (by this test, then by the starting node) and no
    // node has said where its API is yet: `mutu status` must wait, then run
    // offline or through the node, whichever gets there first.
    let mut status = std::process::Command::new(common::BIN)
        .arg("--home")
        .arg(&home)
        .args(["status", "--json"])
        .env_remove("MUTU_HOME")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_err = status.stderr.take().unwrap();
    let (waiting, seen) = wait_for_line(status_err, "waiting for another mutu process");
    assert!(
        waiting,
        "mutu status did not wait for the store; it said:\n{}",
        seen.join("\n")
    );
    drop(held);
    let out = status.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "mutu status failed while the node started ({})",
        out.status
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(status["member"].is_string(), "{status}");

    let stdout = node.0.stdout.take().unwrap();
    let (started, seen) = wait_for_line(stdout, "http:");
    assert!(started, "mutu run did not start: {}", seen.join("\n"));
}
