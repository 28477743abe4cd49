//! `mutu`, the command line of a mutu member.
//!
//! This is the offline CLI: every command opens the home's store directly
//! (see `mutu_node::state`). Exit codes: 0 success, 2 the input is wrong
//! (fix it and retry; clap's usage errors also exit 2), 1 anything else.
//! Errors are one line on stderr: `error: <what is wrong and what to do>`.

mod args;
mod commands;
mod demo;
mod fail;
mod node;
mod output;
mod progress;
mod service;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,libp2p_kad=error,libp2p_mdns=error"));
    // Colours only for a person at a terminal: a file, a pipe or a journal
    // would keep the escape codes as text.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if cli.json_logs {
        logs.json().init();
    } else {
        logs.init();
    }

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = commands::run(cli, &mut out).and_then(|()| out.flush().map_err(anyhow::Error::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if fail::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Whatever was printed before the failure goes out first.
            let _ = out.flush();
            eprintln!("error: {}", fail::one_line(&e));
            ExitCode::from(fail::exit_code(&e))
        }
    }
}
