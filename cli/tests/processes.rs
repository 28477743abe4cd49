//! Three real `mutu run` processes on 127.0.0.1. One node takes a burst of
//! 500 writes through its HTTP API and is killed with SIGKILL in the middle
//! of it; after a restart, every write that had been answered as saved is on
//! all three nodes.
//!
//! ```text
//!   b ──► a ◄── c        (b and c dial a; a is the one killed and restarted)
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Reaped, mutu, mutu_run, read_announced, spawn_piped};

struct Node {
    process: Reaped,
    listen: String,
    http: String,
}

/// Starts `mutu run` and reads its announced addresses.
fn start(home: &Path, peer: Option<&str>) -> Node {
    let mut cmd = mutu_run(home);
    cmd.args(["--sync-interval", "1"]);
    if let Some(p) = peer {
        cmd.args(["--peer", p]);
    }
    let (process, stdout) = spawn_piped(&mut cmd);
    let (mut listen, mut http) = (String::new(), String::new());
    let announced = read_announced(stdout, |line| {
        if let Some(l) = line.strip_prefix("listen:") {
            listen = l.trim().to_owned();
        }
        if let Some(h) = line.strip_prefix("http:") {
            http = h.trim().trim_start_matches("http://").to_owned();
        }
        !http.is_empty()
    });
    assert!(announced, "mutu run ended before announcing its addresses");
    Node { process, listen, http }
}

fn need_ids(home: &Path) -> Option<Vec<String>> {
    let out = mutu(home, &["ls", "needs", "--json"]);
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(
        v.as_array()?
            .iter()
            .filter_map(|n| n["id"].as_str().map(str::to_owned))
            .collect(),
    )
}

fn wait_for(limit: Duration, what: &str, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn acknowledged_writes_survive_sigkill_and_reach_every_node() {
    let dir = tempfile::tempdir().unwrap();
    let home = |n: &str| -> PathBuf { dir.path().join(n) };
    for (n, kind) in [("a", "association"), ("b", "sme"), ("c", "public-body")] {
        let out = mutu(&home(n), &["init", "--name", n, "--kind", kind]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut a = start(&home("a"), None);
    let _b = start(&home("b"), Some(&a.listen));
    let _c = start(&home("c"), Some(&a.listen));
    let token = std::fs::read_to_string(home("a").join("api.token")).unwrap();

    // The burst: writes through a's API; a dies with SIGKILL after 200.
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .build(),
    );
    // A second thread kills a with SIGKILL once 200 writes are answered,
    // while the writer keeps going: the kill lands in the middle of a write.
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let pid = a.process.0.id().to_string();
    let killer = {
        let answered = answered.clone();
        std::thread::spawn(move || {
            while answered.load(std::sync::atomic::Ordering::SeqCst) < 200 {
                std::thread::yield_now();
            }
            let status = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
            assert!(status.success());
        })
    };
    let mut saved = Vec::new();
    for i in 0..500 {
        let body = serde_json::json!({
            "command": "apply",
            "op": {"op": "new_need", "title": format!("burst write {i}")},
        });
        let response = agent
            .post(format!("http://{}/api/v1/control", a.http))
            .header("Authorization", &format!("Bearer {}", token.trim()))
            .send_json(&body);
        let Ok(response) = response else { continue };
        let Ok(answer) = response.into_body().read_json::<serde_json::Value>() else {
            continue;
        };
        if let Some(id) = answer["written"]["id"].as_str() {
            saved.push(id.to_owned());
            answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    killer.join().unwrap();
    a.process.0.wait().unwrap();
    assert!(
        (200..500).contains(&saved.len()),
        "{} writes answered as saved",
        saved.len()
    );

    // a restarts from its store and everything saved reaches b and c.
    let _a = start(&home("a"), None);
    for n in ["a", "b", "c"] {
        wait_for(Duration::from_secs(60), &format!("every saved write on {n}"), || {
            need_ids(&home(n)).is_some_and(|ids| saved.iter().all(|s| ids.contains(s)))
        });
    }
}
