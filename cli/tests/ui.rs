//! `mutu ui` and the login URL `mutu run` prints, against a real process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{mutu, mutu_run, read_announced, spawn_piped};

/// GETs `url` without following redirects: status and `Set-Cookie`.
fn open(url: &str) -> (u16, Option<String>) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build(),
    );
    let r = agent.get(url).call().unwrap();
    let cookie = r.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_owned());
    (r.status().as_u16(), cookie)
}

#[test]
fn mutu_run_and_mutu_ui_print_one_time_login_urls() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let out = mutu(&home, &["init", "--name", "Ville de Lyon", "--kind", "association"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // No node: say how to start one, exit 2.
    let out = mutu(&home, &["ui"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mutu run"), "{err}");
    assert!(out.stdout.is_empty());

    let (_running, stdout) = spawn_piped(&mut mutu_run(&home));
    let (mut http, mut ui) = (String::new(), String::new());
    let printed = read_announced(stdout, |line| {
        if let Some(h) = line.strip_prefix("http:") {
            http = h.trim().to_owned();
        }
        if let Some(u) = line.strip_prefix("ui:") {
            ui = u.trim().to_owned();
        }
        !ui.is_empty()
    });
    assert!(printed, "mutu run ended before printing its ui line");
    assert!(ui.starts_with(&format!("{http}/login/")), "{ui} on {http}");

    // The printed URL signs in once.
    let (status, cookie) = open(&ui);
    assert_eq!(status, 303);
    let cookie = cookie.unwrap();
    assert!(cookie.starts_with("mutu_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert_eq!(open(&ui).0, 403);

    // `mutu ui` asks the node for a fresh one.
    let out = mutu(&home, &["ui"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fresh = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(fresh.starts_with(&format!("{http}/login/")) && fresh != ui, "{fresh}");
    assert_eq!(open(&fresh).0, 303);
}
