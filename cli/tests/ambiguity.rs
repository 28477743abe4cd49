//! An id prefix that matches several records is refused with exit code 2.
//! (Not a transcript: record ids are random, so which prefix is ambiguous
//! is only known once enough records exist.)

#![allow(clippy::expect_used)]

use std::process::{Command, Output};

fn mutu(home: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mutu"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the mutu binary runs")
}

#[test]
fn an_ambiguous_prefix_is_a_user_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("home");
    assert!(
        mutu(&home, &["init", "--name", "Ville de Lyon", "--kind", "public-body"])
            .status
            .success()
    );
    // 33 ids over 32 possible first characters: two of them must share one.
    let mut ids: Vec<String> = Vec::new();
    let prefix = loop {
        let out = mutu(&home, &["need", "add", "--title", &format!("need {}", ids.len())]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let id = String::from_utf8(out.stdout).expect("utf-8").trim().to_owned();
        if let Some(other) = ids.iter().find(|o| o[..1] == id[..1]) {
            break other[..1].to_owned();
        }
        ids.push(id);
        assert!(ids.len() <= 32, "pigeonhole");
    };
    let out = mutu(&home, &["need", "cosign", &prefix]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert!(err.starts_with(&format!("error: `{prefix}` matches ")), "{err}");
    assert!(err.contains("give more characters"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
