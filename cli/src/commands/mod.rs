//! The commands. Most become a request of the control protocol
//! ([`mutu_http::control::Request`]: writes carry the `mutu_node::ops`
//! request the HTTP API also takes), run on the home's state offline
//! ([`dispatch`]) or sent to the running node (`crate::node::remote`); the
//! answer is printed by `crate::output` either way. The commands that read
//! or write files (`init`, `import`, `export`, `verify`, `backup`,
//! `restore`) run here, in this process. Bad input becomes a one-line user
//! error.

pub(crate) mod backup;
pub(crate) mod bundles;
pub(crate) mod consult;
pub(crate) mod project;
pub(crate) mod reindex;
pub(crate) mod write;

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use mutu_http::control;
use mutu_http::runtime;
use mutu_node::home::Home;
use mutu_node::state::{self, State};
use mutu_node::store;
use mutu_protocol::Timestamp;

use crate::args::{Cli, Command};
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
        Command::Reindex => reindex::run(&home, now, out),
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

/// A command, sorted by where it runs.
#[derive(Debug)]
pub enum Sorted {
    /// A request of the control protocol: run on the state, or on the node.
    Control(control::Request),
    /// `need add`: the open needs like it, then the need (see [`new_need`]).
    NewNeed {
        similar: control::Request,
        op: control::Request,
        if_unique: bool,
    },
    /// A command that reads or writes files: run in this process.
    Local(Command),
}

/// The control request a command makes, or the command back if it runs in
/// this process.
pub fn sort(command: Command) -> Sorted {
    use control::Request;
    Sorted::Control(match command {
        Command::Status(a) => Request::Status { json: a.json },
        Command::Peers(a) => Request::Peers { json: a.json },
        Command::Invite(a) => Request::Invite { json: a.json },
        Command::Join { invitation } => Request::Join { invitation },
        Command::Whoami(a) => Request::Whoami { json: a.json },
        Command::Ls(a) => Request::Ls {
            what: a.what.into(),
            tag: a.tag,
            author: a.author,
            json: a.json,
        },
        Command::Show { id, json } => Request::Show { id, json },
        Command::Search { text, json } => Request::Search { text, json },
        Command::Block { member } => Request::Block { member },
        Command::Need(crate::args::NeedCmd::Similar {
            title,
            description,
            project,
            tags,
            json,
        }) => Request::SimilarNeeds {
            draft: control::DraftNeed {
                title,
                description,
                project,
                tags,
            },
            json,
        },
        Command::Need(crate::args::NeedCmd::Add(a)) => {
            let similar = Request::SimilarNeeds {
                draft: control::DraftNeed {
                    title: a.title.clone(),
                    description: a.description.clone(),
                    project: a.project.clone(),
                    tags: a.tags.clone(),
                },
                json: a.json,
            };
            return Sorted::NewNeed {
                similar,
                if_unique: a.if_unique,
                op: Request::Apply {
                    op: write::new_need(a).into(),
                },
            };
        }
        Command::Unblock { member } => Request::Unblock { member },
        Command::Watch { kind, value } => Request::Watch {
            target: watch_target(kind, value),
        },
        Command::Unwatch { kind, value } => Request::Unwatch {
            target: watch_target(kind, value),
        },
        Command::Watching(a) => Request::Watching { json: a.json },
        Command::Inbox { json, keep_unread } => Request::Inbox { json, keep_unread },
        command => match write::request(command) {
            write::Sorted::Write(op) => Request::Apply { op },
            write::Sorted::Other(command) => return Sorted::Local(command),
        },
    })
}

fn watch_target(kind: crate::args::WatchKind, value: String) -> control::Target {
    use crate::args::WatchKind;
    match kind {
        WatchKind::Need => control::Target::Need(value),
        WatchKind::Project => control::Target::Project(value),
        WatchKind::Catalogue => control::Target::Catalogue(value),
        WatchKind::Tag => control::Target::Tag(value),
        WatchKind::Member => control::Target::Member(value),
    }
}

/// `mutu need add`: asks for the open needs like the new one and lists
/// them on stderr; then writes the need, unless `if_unique` and some came.
pub fn new_need(
    ask: &mut dyn FnMut(control::Request) -> anyhow::Result<control::Response>,
    similar: control::Request,
    op: control::Request,
    if_unique: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let found = match ask(similar)? {
        control::Response::Report(control::Report::Json { value }) => {
            // `--json`: the similar needs go with the id, on stdout.
            let similar: serde_json::Value = serde_json::from_str(value.get())?;
            if if_unique && similar.as_array().is_some_and(|a| !a.is_empty()) {
                crate::output::report(&control::Report::Json { value }, &mut std::io::stderr().lock())?;
                return Err(user(
                    "nothing written (--if-unique): cosign one of the needs above, or leave out --if-unique",
                ));
            }
            let control::Response::Written { id } = ask(op)? else {
                return Err(anyhow::anyhow!("the write answered no id"));
            };
            return crate::output::json(&serde_json::json!({ "id": id, "similar": similar }), out);
        }
        control::Response::Report(report @ control::Report::Text { .. }) => Some(report),
        _ => None,
    };
    if let Some(report) = found.filter(|r| !matches!(r, control::Report::Text { blocks } if blocks.is_empty())) {
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "open needs look like this one (cosign one instead with `mutu need cosign ID`):"
        )?;
        crate::output::report(&report, &mut err)?;
        if if_unique {
            return Err(user(
                "nothing written (--if-unique): cosign one of the needs above, or leave out --if-unique",
            ));
        }
    }
    crate::output::response(&ask(op)?, out)
}

/// Runs a command on an open state (offline).
pub fn dispatch(st: &mut State, command: Command, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut ask = |request| control::local(st, request, now).map_err(crate::fail::control);
    match sort(command) {
        Sorted::Control(request) => crate::output::response(&ask(request)?, out),
        Sorted::NewNeed { similar, op, if_unique } => new_need(&mut ask, similar, op, if_unique, out),
        Sorted::Local(Command::Export { out: file }) => bundles::export(st, file.as_deref(), out),
        Sorted::Local(Command::Backup {
            out: file,
            passphrase_file,
        }) => backup::write(st.home(), &st.export()?, &file, &passphrase_file, now, out),
        Sorted::Local(Command::Import { file }) => bundles::import(st, &file, now, out),
        Sorted::Local(Command::Project(c)) => project::offline(st, c, now, out),
        Sorted::Local(Command::Verify { file }) => bundles::verify(&file, now, out),
        Sorted::Local(Command::Init(_) | Command::Restore { .. }) => Err(user(
            "this home already holds a mutu identity: give another --home for a new one",
        )),
        Sorted::Local(Command::Ui) => Err(user(NO_NODE_UI)),
        Sorted::Local(Command::Run(_) | Command::Demo(_)) => Err(user(
            "`mutu run` and `mutu demo` start their own node: run them directly",
        )),
        Sorted::Local(command) => Err(anyhow::anyhow!("`{command:?}` does not run on a home's state")),
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
