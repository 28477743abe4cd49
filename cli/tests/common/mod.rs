//! Helpers for the tests that drive real `mutu` processes.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_mutu");

/// Kills a child process when dropped, whatever happens to the test.
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `mutu --home <home> <args>` to the end, ignoring `MUTU_HOME`.
pub fn mutu(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("MUTU_HOME")
        .output()
        .unwrap()
}

/// `mutu --home <home> run` on loopback, without mDNS, on free TCP and HTTP
/// ports; add arguments, then [`spawn_piped`] it.
pub fn mutu_run(home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--home")
        .arg(home)
        .args([
            "run",
            "--no-mdns",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--http",
            "127.0.0.1:0",
        ])
        .env_remove("MUTU_HOME");
    cmd
}

/// Spawns `cmd` with stdout piped and stderr discarded: the process, killed
/// when dropped, and its stdout for [`read_announced`].
pub fn spawn_piped(cmd: &mut Command) -> (Reaped, ChildStdout) {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    (Reaped(child), stdout)
}

/// Hands each line of `stdout` to `read` until it returns `true`, then
/// keeps draining stdout on a thread so the process never blocks on a full
/// pipe. False if stdout ended first.
pub fn read_announced(stdout: ChildStdout, mut read: impl FnMut(&str) -> bool) -> bool {
    let mut lines = BufReader::new(stdout).lines();
    let mut done = false;
    for line in lines.by_ref() {
        if read(&line.unwrap()) {
            done = true;
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    done
}

/// `mutu --home <home> <args>`, which must succeed: its stdout.
pub fn ok(home: &Path, args: &[&str]) -> String {
    let out = mutu(home, args);
    assert!(
        out.status.success(),
        "mutu {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `mutu --home <home> <args>` run in `cwd`.
pub fn mutu_in(cwd: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(cwd)
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("MUTU_HOME")
        .output()
        .unwrap()
}

/// Output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
