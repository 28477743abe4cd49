//! The commands. Each parses its own values (amounts, dates, id prefixes)
//! so that bad input becomes a one-line user error, then calls
//! `mutu_node::state`, which checks the rules, signs and stores.

mod bundles;
mod read;
mod write;

use std::io::Write;

use anyhow::Context;
use mutu_node::home::Home;
use mutu_node::state::{self, State};
use mutu_protocol::money::Money;
use mutu_protocol::record::validate;
use mutu_protocol::{Date, Timestamp};

use crate::args::{Cli, Command};
use crate::fail::user;

pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    let now = state::now();
    let home = Home::resolve(cli.home)?;
    match cli.command {
        Command::Init(a) => write::init(home, a, now, out),
        Command::Verify { file } => bundles::verify(&file, now, out),
        command => {
            let mut st = State::open(home)?;
            dispatch(&mut st, command, now, out)
        }
    }
}

fn dispatch(st: &mut State, command: Command, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        Command::Init(_) | Command::Verify { .. } => Ok(()),
        Command::Whoami(a) => read::whoami(st, a.json, now, out),
        Command::Project(c) => write::project(st, c, now, out),
        Command::Usage(c) => write::usage(st, c, now, out),
        Command::Need(c) => write::need(st, c, now, out),
        Command::Pledge(c) => write::pledge(st, c, now, out),
        Command::Offer(c) => write::offer(st, c, now, out),
        Command::Catalogue(c) => write::catalogue(st, c, now, out),
        Command::Vouch { member, statement } => write::vouch(st, &member, statement, now, out),
        Command::Retract { id } => write::retract(st, &id, now, out),
        Command::Ls(a) => read::ls(st, a, now, out),
        Command::Show { id, json } => read::show(st, &id, json, now, out),
        Command::Search { text, json } => read::search(st, &text, json, now, out),
        Command::Export { out: file } => bundles::export(st, file.as_deref(), out),
        Command::Import { file } => bundles::import(st, &file, now, out),
    }
}

/// Parses an amount given with `flag`, e.g. `--goal 12000EUR`.
fn money(flag: &str, text: &str) -> anyhow::Result<Money> {
    text.parse().map_err(|e| user(format!("{flag}: {e}")))
}

fn date(flag: &str, text: Option<String>) -> anyhow::Result<Option<Date>> {
    text.map(|t| t.parse().map_err(|e| user(format!("{flag}: {e}"))))
        .transpose()
}

/// Tags as users type them, normalised (`Open Data` → `open-data`).
fn tags(tags: Vec<String>) -> Vec<String> {
    tags.iter().map(|t| validate::normalize_tag(t)).collect()
}

fn read_file(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(user(format!("{}: no such file", path.display()))),
        other => other.with_context(|| format!("cannot read {}", path.display())),
    }
}
