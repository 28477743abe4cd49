//! The CLI through a running node (`mutu run` holds the store): files named
//! on the command line are opened by the CLI, never by the node, and the
//! output is what the offline CLI prints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::{mutu, mutu_in, mutu_run, read_announced, spawn_piped, text};

/// `POST /api/v1/control` with `body`, as a client that names files
/// would: the answer's status and error code.
fn control(http: &str, token: &str, body: &serde_json::Value) -> (u16, String) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build(),
    );
    let response = agent
        .post(format!("http://{http}/api/v1/control"))
        .header("Authorization", &format!("Bearer {}", token.trim()))
        .send_json(body)
        .unwrap();
    let status = response.status().as_u16();
    let answer: serde_json::Value = response.into_body().read_json().unwrap();
    (status, answer["error"]["code"].as_str().unwrap_or_default().to_owned())
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

    // A client naming files: no request of the control protocol takes a
    // path, and the node opens none.
    let target = dir.path().join("written-by-the-node.json");
    let target = target.to_str().unwrap();
    let b_json = dir.path().join("b.json");
    let b_json = b_json.to_str().unwrap();
    for body in [
        serde_json::json!({"command": "export", "out": target}),
        serde_json::json!({"command": "import", "file": b_json}),
        serde_json::json!({"command": "verify", "file": b_json}),
        serde_json::json!({"args": ["export", "--out", target], "cwd": "/"}),
    ] {
        let (status, code) = control(&http, &token, &body);
        assert_eq!((status, code.as_str()), (400, "bad_field"), "{body}");
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

/// Every command that goes through a running node prints what it prints
/// offline, and fails the same way: the node answers typed data, and this
/// CLI lays it out with the code it uses offline.
#[test]
fn through_the_node_the_cli_prints_what_it_prints_offline() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let run = |args: &[&str]| mutu_in(dir.path(), &home, args);
    let out = run(&["init", "--name", "Ville de Lyon", "--kind", "public-body"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let project = text(&run(&["project", "add", "--name", "Paheko", "--license", "AGPL-3.0-or-later"]).stdout);
    let project = project.trim();
    let need = run(&[
        "need",
        "add",
        "--title",
        "SEPA export",
        "--project",
        project,
        "--goal",
        "600EUR",
        "--tag",
        "accounting",
    ]);
    assert!(need.status.success(), "{}", text(&need.stderr));
    let need = text(&need.stdout).trim().to_owned();
    let me = text(&run(&["whoami", "--json"]).stdout);
    let me: serde_json::Value = serde_json::from_str(&me).unwrap();
    let me = me["id"].as_str().unwrap().to_owned();

    let commands: Vec<Vec<&str>> = vec![
        vec!["whoami"],
        vec!["whoami", "--json"],
        vec!["ls", "needs"],
        vec!["ls", "needs", "--json"],
        vec!["ls", "projects", "--tag", "accounting"],
        vec!["ls", "members"],
        vec!["ls", "pledges", "--json"],
        vec!["show", &need],
        vec!["show", &need, "--json"],
        vec!["show", project],
        vec!["show", &me],
        vec!["search", "sepa"],
        vec!["search", "sepa", "--json"],
        // Failures: an unknown id, blocking oneself, a bad flag value.
        vec!["show", "zzzzzzzz"],
        vec!["block", &me],
        vec!["pledge", "add", &need, "--money", "12 bananas"],
    ];
    let offline: Vec<Output> = commands.iter().map(|c| run(c)).collect();

    let (_node, stdout) = spawn_piped(&mut mutu_run(&home));
    assert!(
        read_announced(stdout, |line| line.starts_with("http:")),
        "mutu run ended before announcing its HTTP address"
    );
    for (c, before) in commands.iter().zip(&offline) {
        let through = run(c);
        assert_eq!(text(&through.stdout), text(&before.stdout), "{c:?}");
        assert_eq!(text(&through.stderr), text(&before.stderr), "{c:?}");
        assert_eq!(through.status.code(), before.status.code(), "{c:?}");
    }
    // The failures above failed, as the caller's mistakes (exit 2).
    for (c, before) in commands.iter().zip(&offline).skip(commands.len() - 3) {
        assert_eq!(before.status.code(), Some(2), "{c:?}: {}", text(&before.stderr));
    }
    // And a write through the node prints the id it made, as offline.
    let out = run(&["pledge", "add", &need, "--money", "250EUR"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pledge = text(&out.stdout).trim().to_owned();
    let shown = text(&run(&["show", &need]).stdout);
    assert!(
        shown.contains("\n1 pledge:\n") && shown.contains(&pledge[..8]),
        "{shown}"
    );
}
