//! The CLI through a running node (`mutu run` holds the store): files named
//! on the command line are opened by the CLI, never by the node, and the
//! output is what the offline CLI prints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::{BIN, mutu, mutu_run, read_announced, spawn_piped};

/// `mutu --home <home> <args>` run in `cwd`.
fn mutu_in(cwd: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(cwd)
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("MUTU_HOME")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `POST /api/v1/cli` with `args`, as a client that names files would:
/// the answer's exit code and error.
fn exec(http: &str, token: &str, args: &[&str]) -> (u64, String) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build(),
    );
    let answer: serde_json::Value = agent
        .post(format!("http://{http}/api/v1/cli"))
        .header("Authorization", &format!("Bearer {}", token.trim()))
        .send_json(serde_json::json!({"args": args, "cwd": "/"}))
        .unwrap()
        .into_body()
        .read_json()
        .unwrap();
    (
        answer["code"].as_u64().unwrap(),
        answer["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn the_cli_opens_the_files_and_the_node_opens_none() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (home, name) in [(&a, "Ville de Lyon"), (&b, "Atelier")] {
        let out = mutu(home, &["init", "--name", name, "--kind", "association"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    // b's bundle, written offline, and what offline output looks like.
    let offline = mutu_in(dir.path(), &b, &["export", "--out", "b.json"]);
    assert_eq!(text(&offline.stdout), "exported 1 document (1 change) to b.json\n");

    let (_node, stdout) = spawn_piped(&mut mutu_run(&a));
    let mut http = String::new();
    let announced = read_announced(stdout, |line| {
        if let Some(h) = line.strip_prefix("http:") {
            http = h.trim().trim_start_matches("http://").to_owned();
        }
        !http.is_empty()
    });
    assert!(announced, "mutu run ended before announcing its HTTP address");
    let token = std::fs::read_to_string(a.join("api.token")).unwrap();

    // A client naming files: the node opens none of them.
    let target = dir.path().join("written-by-the-node.json");
    let target = target.to_str().unwrap();
    let b_json = dir.path().join("b.json");
    let b_json = b_json.to_str().unwrap();
    for args in [
        vec!["export", "--out", target],
        vec!["import", b_json],
        vec!["verify", b_json],
    ] {
        let (code, error) = exec(&http, &token, &args);
        assert_eq!(code, 2, "{args:?}: {error}");
        assert!(error.contains("opens no file"), "{args:?}: {error}");
    }
    assert!(!Path::new(target).exists(), "the node wrote a file a request named");

    // `mutu import` through the node: the CLI sends the bytes.
    let out = mutu_in(dir.path(), &a, &["import", "b.json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "admitted:   1\nduplicates: 0\npending:    0\nrejected:   0\n"
    );
    let out = mutu_in(dir.path(), &a, &["ls", "members"]);
    assert!(text(&out.stdout).contains("Atelier"), "{}", text(&out.stdout));
    // Its errors are the offline ones.
    std::fs::write(dir.path().join("junk.json"), "{}").unwrap();
    let out = mutu_in(dir.path(), &a, &["import", "junk.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: junk.json: not a mutu bundle"),
        "{}",
        text(&out.stderr)
    );
    let out = mutu_in(dir.path(), &a, &["import", "missing.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "error: missing.json: no such file\n");

    // `mutu export --out` through the node: the CLI writes the file, and a
    // link planted where a temporary file could go is not followed.
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "untouched").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, dir.path().join(".both.json.tmp")).unwrap();
    let out = mutu_in(dir.path(), &a, &["export", "--out", "both.json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "exported 2 documents (2 changes) to both.json\n");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    // The same bytes as `mutu export` to stdout, through the node too.
    let printed = mutu_in(dir.path(), &a, &["export"]);
    assert!(printed.status.success(), "{}", text(&printed.stderr));
    assert_eq!(std::fs::read(dir.path().join("both.json")).unwrap(), printed.stdout);

    // `mutu verify` needs no node, even with one running.
    let out = mutu_in(dir.path(), &a, &["verify", "both.json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).ends_with("ok: 2 documents, 2 changes, 2 records\n"),
        "{}",
        text(&out.stdout)
    );
}
