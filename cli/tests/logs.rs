//! Logs written to something that is not a terminal (a file, a pipe, a
//! journal) carry no ANSI colour codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Reaped, mutu_run};

#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = mutu_run(&dir.path().join("home"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let _reaped = Reaped(child);
    // Read until the first info line (libp2p announces the peer id), then look at
    // everything read so far.
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains("INFO") {
                break;
            }
        }
        let _ = tx.send(seen);
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = rx
        .recv_timeout(deadline - Instant::now())
        .expect("mutu run logs within 30 s");
    let text = String::from_utf8_lossy(&seen);
    assert!(text.contains("INFO"), "no info log line: {text}");
    assert!(!seen.contains(&0x1b), "colour codes in piped logs: {text:?}");
}
