//! `mutu run` as a systemd service (`packaging/mutu.service`): the unit file
//! passes `systemd-analyze verify` without a warning, and the node tells
//! systemd it is ready (`Type=notify`) once it serves, and that it stops.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{BIN, mutu, mutu_run, read_announced, spawn_piped};

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let unit =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/mutu.service")).unwrap();
    assert!(
        unit.contains("ExecStart=/usr/local/bin/mutu "),
        "the unit starts /usr/local/bin/mutu"
    );
    // verify checks that ExecStart's program exists: point it at the one
    // just built.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mutu.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/mutu", BIN)).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze runs (the `systemd` package; `cargo xtask test` installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify failed: {stderr}");
    // Unknown keys and bad values are only warnings: none allowed.
    assert!(stderr.trim().is_empty(), "systemd-analyze verify warns: {stderr}");
}

#[test]
fn mutu_run_tells_systemd_when_it_is_ready_and_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let out = mutu(&home, &["init", "--name", "Atelier Service", "--kind", "association"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(60))).unwrap();

    let mut cmd = mutu_run(&home);
    cmd.env("NOTIFY_SOCKET", &socket_path);
    let (mut node, stdout) = spawn_piped(&mut cmd);
    assert!(
        read_announced(stdout, |line| line.starts_with("ui:")),
        "mutu run did not start"
    );
    let mut buf = [0u8; 256];
    let n = socket.recv(&mut buf).expect("READY=1 within 60 s");
    assert_eq!(&buf[..n], b"READY=1");

    let pid = node.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let n = socket.recv(&mut buf).expect("STOPPING=1 after SIGTERM");
    assert_eq!(&buf[..n], b"STOPPING=1");
    let status = node.0.wait().unwrap();
    assert!(status.success(), "mutu run exits cleanly on SIGTERM: {status}");
}

/// The container recipe passes the engine's own check of a build
/// (`docker build --check`: parses the file and lints every stage without
/// running it) where a container engine with a daemon runs; elsewhere the
/// test says why it checked nothing.
#[test]
fn the_container_recipe_passes_the_engines_build_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let recipe = std::fs::read_to_string(root.join("packaging/Containerfile")).unwrap();
    assert!(recipe.contains("\nUSER mutu\n"), "the node does not run as root");
    assert!(recipe.contains("VOLUME [\"/home/mutu/data\"]"), "the home is a volume");
    let daemon = Command::new("docker").arg("info").output();
    match daemon {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            eprintln!(
                "skipped the container build check: docker has no daemon here ({})",
                String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
            );
            return;
        }
        Err(e) => {
            eprintln!("skipped the container build check: no container engine here (docker: {e})");
            return;
        }
    }
    let out = Command::new("docker")
        .args(["build", "--check", "-f", "packaging/Containerfile", "."])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker build --check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
