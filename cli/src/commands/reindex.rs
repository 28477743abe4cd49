//! `mutu reindex`: rebuilds a damaged store from the changes it still holds
//! (`mutu_node::reindex`). Runs on the files: the node must be stopped.

use std::io::Write;

use mutu_node::home::Home;
use mutu_node::{reindex, store};
use mutu_protocol::Timestamp;

use crate::fail::user;

const NODE_RUNS: &str =
    "the store is in use (a node runs on this home?): stop the node first, then run `mutu reindex` again";

pub(crate) fn run(home: &Home, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    if !home.is_initialised() {
        return Err(user(format!(
            "{} holds no mutu home: nothing to rebuild (give the home with --home or MUTU_HOME)",
            home.root().display()
        )));
    }
    let bar = crate::progress::bar(0, "scanning the store", crate::progress::Unit::Bytes);
    let mut scanning = true;
    let mut progress = |step| match step {
        reindex::Step::Scanned { bytes, of } => {
            bar.set_length(of);
            bar.set_position(bytes);
        }
        reindex::Step::Admitted { documents, of } => {
            if scanning {
                scanning = false;
                bar.set_style(crate::progress::bar(0, "", crate::progress::Unit::Count).style());
                bar.set_message("admitting documents");
                bar.reset();
            }
            bar.set_length(of as u64);
            bar.set_position(documents as u64);
        }
    };
    let done = reindex::reindex_with(home, now, &mut progress);
    bar.finish_and_clear();
    let done = match done {
        Err(reindex::Error::Store(store::Error::Locked(_))) => return Err(user(NODE_RUNS)),
        done => done?,
    };
    writeln!(
        out,
        "rebuilt {}: kept {} changes of {} documents",
        home.store_path().display(),
        done.kept,
        done.documents
    )?;
    match (done.recorded, done.lost()) {
        (Some(recorded), Some(lost)) => writeln!(out, "the damaged store held {recorded} changes: {lost} lost")?,
        _ => writeln!(
            out,
            "the damaged store's change count cannot be read: compare with a peer or a backup"
        )?,
    }
    if done.refused > 0 {
        writeln!(
            out,
            "{} changes found in the file were left out (damaged, a dependency lost, or a blocked member); peers may serve them again",
            done.refused
        )?;
    }
    if done.blocked.is_none() {
        writeln!(
            out,
            "the blocked members could not be read: block them again with `mutu block`"
        )?;
    }
    if done.peers.is_none() {
        writeln!(
            out,
            "the remembered peers could not be read: give them again with `mutu run --peer`"
        )?;
    }
    writeln!(out, "the damaged file is kept as {}", done.damaged.display())?;
    Ok(())
}
