//! `mutu run`'s replication policy: from `config.toml`, overridden by
//! flags, shown by `mutu status --json` through the running node; a wrong
//! value stops the node with a message that says what is expected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{mutu, mutu_run, read_announced, spawn_piped};

/// Starts `mutu run` on `home` with `extra` arguments, reads its status
/// through it, and stops it.
fn status_of_a_run(home: &Path, extra: &[&str]) -> serde_json::Value {
    let (_node, stdout) = spawn_piped(mutu_run(home).args(extra));
    let announced = read_announced(stdout, |line| line.starts_with("http:"));
    assert!(announced, "mutu run ended before announcing its HTTP address");
    let out = mutu(home, &["status", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn mutu_run_takes_its_policy_from_config_toml_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("a");
    let out = mutu(&home, &["init", "--name", "Association A", "--kind", "association"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // No setting: open, 2 hops, the trust set is this member alone.
    let status = status_of_a_run(&home, &[]);
    assert_eq!(status["replication"]["scope"], "open", "{status}");
    assert_eq!(status["replication"]["hops"], 2, "{status}");
    assert_eq!(status["replication"]["trusted"], 1, "{status}");

    std::fs::write(
        home.join("config.toml"),
        "[replication]\nscope = \"trusted\"\nhops = 1\n",
    )
    .unwrap();
    let status = status_of_a_run(&home, &[]);
    assert_eq!(status["replication"]["scope"], "trusted", "{status}");
    assert_eq!(status["replication"]["hops"], 1, "{status}");

    let status = status_of_a_run(&home, &["--scope", "open", "--hops", "3"]);
    assert_eq!(status["replication"]["scope"], "open", "{status}");
    assert_eq!(status["replication"]["hops"], 3, "{status}");

    let out = mutu(&home, &["run", "--no-mdns", "--scope", "friends"]);
    // Exit code 1, as for every error `mutu run` meets starting (a bad
    // multiaddr too): runtime errors have no class yet.
    assert!(!out.status.success(), "{out:?}");
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("`friends`") && error.contains("trusted"), "{error}");
}
