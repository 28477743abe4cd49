//! `mutu ui` and the login URL `mutu run` prints, against a real process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_mutu");

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mutu(home: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("MUTU_HOME")
        .output()
        .unwrap()
}

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

    let mut child = Command::new(BIN)
        .arg("--home")
        .arg(&home)
        .args([
            "run",
            "--no-mdns",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--http",
            "127.0.0.1:0",
        ])
        .env_remove("MUTU_HOME")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    let (mut http, mut ui) = (String::new(), String::new());
    while ui.is_empty() {
        let line = lines
            .next()
            .expect("mutu run ended before printing its ui line")
            .unwrap();
        if let Some(h) = line.strip_prefix("http:") {
            http = h.trim().to_owned();
        }
        if let Some(u) = line.strip_prefix("ui:") {
            ui = u.trim().to_owned();
        }
    }
    std::thread::spawn(move || for _ in lines {});
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
