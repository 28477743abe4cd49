//! `cargo xtask test [ARGS...]`: the README's test command.
//!
//! The suite needs a few system programs beside Rust: Debian's `chromium`
//! and `chromium-driver` for the browser test, `systemd` (for
//! `systemd-analyze`) for the service unit's check, `iproute2` and
//! `nftables` for the NAT test's emulated internet. On a fresh machine they are
//! missing, so this task checks for them first and, when it runs as root on
//! a Debian-like system, installs them with `apt-get`; otherwise it stops
//! and says what to install. Then it runs `cargo test --workspace` with
//! `ARGS` appended (e.g. `cargo xtask test -- --nocapture`).
//!
//! Exit code: the test run's, or 2 when a requirement cannot be met.

use std::path::Path;
use std::process::{Command, ExitCode};

/// A program the tests need, and the Debian package that has it.
struct Requirement {
    program: &'static str,
    package: &'static str,
    why: &'static str,
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        program: "chromium",
        package: "chromium",
        why: "the browser test of the web UI (cli/tests/browser.rs)",
    },
    Requirement {
        program: "chromedriver",
        package: "chromium-driver",
        why: "the browser test drives Chromium over WebDriver",
    },
    Requirement {
        program: "systemd-analyze",
        package: "systemd",
        why: "the systemd unit is checked with `systemd-analyze verify` (cli/tests/service.rs)",
    },
    Requirement {
        program: "ip",
        package: "iproute2",
        why: "the emulated internet of the NAT test is made of network namespaces (cli/tests/nat.rs)",
    },
    Requirement {
        program: "nft",
        package: "nftables",
        why: "the NAT test's home routers masquerade with nftables (cli/tests/nat.rs)",
    },
];

fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/usr/local/bin"].iter().map(Into::into))
        .any(|dir| dir.join(program).is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs the missing packages with apt-get, or says why it cannot.
fn install(missing: &[&Requirement]) -> Result<(), String> {
    let packages: Vec<&str> = missing.iter().map(|r| r.package).collect();
    let explain = missing
        .iter()
        .map(|r| format!("  {} ({}): {}", r.program, r.package, r.why))
        .collect::<Vec<_>>()
        .join("\n");
    let manual = format!(
        "the test suite needs programs that are not installed:\n{explain}\ninstall them (e.g. `sudo apt-get install {}`) and run `cargo xtask test` again",
        packages.join(" ")
    );
    if !is_root() || !Path::new("/usr/bin/apt-get").exists() {
        return Err(manual);
    }
    eprintln!("xtask: installing {} with apt-get", packages.join(" "));
    let run = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("apt-get: {e}"))
            .and_then(|s| {
                if s.success() {
                    Ok(())
                } else {
                    Err(format!("apt-get {} failed ({s})", args[0]))
                }
            })
    };
    run(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&packages);
    run(&args).map_err(|e| format!("{e}\n{manual}"))
}

fn test(args: &[String]) -> ExitCode {
    let missing: Vec<&Requirement> = REQUIREMENTS.iter().filter(|r| !on_path(r.program)).collect();
    if !missing.is_empty()
        && let Err(e) = install(&missing)
    {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo).args(["test", "--workspace"]).args(args).status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => ExitCode::from(u8::try_from(s.code().unwrap_or(1)).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: cannot run cargo: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((task, rest)) if task == "test" => test(rest),
        _ => {
            eprintln!("usage: cargo xtask test [ARGS...]   (installs what the tests need, then runs them)");
            ExitCode::from(2)
        }
    }
}
