//! The commands. Writes build a `mutu_node::ops` request (the same one the
//! HTTP API takes), whose `apply` parses values, checks the rules, signs and
//! stores; reads format the protocol's views. Bad input becomes a one-line
//! user error.

pub(crate) mod backup;
pub(crate) mod bundles;
pub(crate) mod project;
mod read;
pub(crate) mod write;

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use mutu_http::runtime;
use mutu_node::home::Home;
use mutu_node::state::{self, Snapshot, State};
use mutu_node::store;
use mutu_protocol::Timestamp;

use crate::args::{Cli, Command, ProjectCmd};
use crate::fail::user;

const NO_NODE_UI: &str =
    "no node is running on this home: start one with `mutu run` (it prints a sign-in link for the web UI)";

pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    let now = state::now();
    let home = Home::resolve(cli.home)?;
    match cli.command {
        Command::Init(a) => write::init(home, a, now, out),
        Command::Restore { file, passphrase_file } => backup::restore(home, &file, &passphrase_file, now, out),
        Command::Verify { file } => bundles::verify(&file, now, out),
        Command::Run(a) => crate::node::run(home, a, out),
        Command::Demo(a) => crate::demo::run(a, out),
        Command::Ui => match open(&home)? {
            Opened::Offline(_) => Err(user(NO_NODE_UI)),
            Opened::NodeRuns => crate::node::ui(&home, out),
        },
        command => match open(&home)? {
            Opened::Offline(mut st) => dispatch(&mut st, command, now, out),
            Opened::NodeRuns => crate::node::remote(&home, command, out),
        },
    }
}

/// Where a command runs.
enum Opened {
    /// No node holds the store: the command runs here.
    Offline(Box<State>),
    /// A node runs on this home (it holds the store and says where its API
    /// is): the command goes to it.
    NodeRuns,
}

/// Opens the home's store, or finds the node that holds it. The store can
/// also be held for a moment by another offline command, or by a node that
/// is starting and has not said where its API is yet: then this waits (up
/// to [`runtime::STORE_LOCK_PATIENCE`]) for the lock or for the node.
fn open(home: &Home) -> anyhow::Result<Opened> {
    let started = Instant::now();
    let mut said = false;
    loop {
        match State::open(home.clone()) {
            Ok(st) => return Ok(Opened::Offline(Box::new(st))),
            Err(state::Error::Store(store::Error::Locked(_))) => {
                if runtime::NodeInfo::read(home).is_some() || started.elapsed() >= runtime::STORE_LOCK_PATIENCE {
                    // Past the patience, `remote` says that no node answers.
                    return Ok(Opened::NodeRuns);
                }
                if !said {
                    tracing::warn!("waiting for another mutu process to release the store, or for the node to start");
                    said = true;
                }
                std::thread::sleep(LOCK_POLL);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// How often [`open`] looks again for the store lock or the node.
const LOCK_POLL: Duration = Duration::from_millis(50);

/// Runs a command on an open state (offline).
pub fn dispatch(st: &mut State, command: Command, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        Command::Status(a) => crate::node::print_status(&crate::node::offline_status(st), a.json, out),
        Command::Block { member } => {
            let member = st.resolve_member(&member)?;
            if member == st.member_id() {
                return Err(user("you cannot block yourself"));
            }
            Ok(st.block(&member)?)
        }
        Command::Unblock { member } => {
            let member = st.resolve_member(&member)?;
            Ok(st.unblock(&member)?)
        }
        Command::Export { out: file } => bundles::export(st, file.as_deref(), out),
        Command::Backup {
            out: file,
            passphrase_file,
        } => backup::write(st.home(), &st.export()?, &file, &passphrase_file, now, out),
        Command::Restore { .. } => Err(user(
            "this home already holds a mutu identity: restore into a new --home",
        )),
        Command::Import { file } => bundles::import(st, &file, now, out),
        Command::Project(c @ (ProjectCmd::Import(_) | ProjectCmd::Export(_))) => project::offline(st, c, now, out),
        command => match write::request(command) {
            write::Sorted::Write(op) => write::apply(st, op, now, out),
            write::Sorted::Other(command) => on_snapshot(&st.snapshot(), command, now, out),
        },
    }
}

/// Runs a command that only reads, on a snapshot: offline, or a running
/// node's for a remote CLI (outside its actor); refuses the commands that
/// cannot run there.
pub fn on_snapshot(s: &Snapshot, command: Command, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        Command::Init(_) => Err(user("this home already holds a mutu identity")),
        Command::Run(_) => Err(user("`mutu run` cannot run inside a node")),
        Command::Demo(_) => Err(user("`mutu demo` cannot run inside a node")),
        Command::Verify { file } => bundles::verify(&file, now, out),
        Command::Peers(_) => Err(user("no node is running on this home: start one with `mutu run`")),
        Command::Ui => Err(user(NO_NODE_UI)),
        Command::Whoami(a) => read::whoami(s, a.json, now, out),
        Command::Ls(a) => read::ls(s, a, now, out),
        Command::Show { id, json } => read::show(s, &id, json, now, out),
        Command::Search { text, json } => read::search(s, &text, json, now, out),
        // Writes, blocks, imports, exports and the status need the state
        // or the actor: `dispatch` and the remote CLI run them.
        _ => Err(anyhow::anyhow!("this command does not run on a snapshot of the state")),
    }
}

/// Reads a bundle file, refusing one over the bundle size limit before
/// reading it (by its size), and while reading it (it may grow).
pub(crate) fn read_file(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    read_file_within(path, mutu_protocol::bundle::MAX_BUNDLE_BYTES)
}

/// Reads a file of at most `limit` bytes (a bundle, or a backup that holds
/// one), refusing a larger one before and while reading it.
pub(crate) fn read_file_within(path: &std::path::Path, limit: usize) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(user(format!("{}: no such file", path.display())));
        }
        other => other.with_context(|| format!("cannot read {}", path.display()))?,
    };
    let too_large = || {
        user(format!(
            "{} is larger than {limit} bytes, the limit for a bundle or a backup: is it really one?",
            path.display()
        ))
    };
    let size = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > limit as u64 {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() > limit {
        return Err(too_large());
    }
    Ok(bytes)
}
