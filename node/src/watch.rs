//! What the owner follows, and how far it has read its inbox: a small
//! private file in the home (`watches.json`, 0600, written atomically).
//!
//! Watches are the owner's own business, not signed records: nobody else
//! learns what a member follows. The events themselves are derived from the
//! records ([`mutu_protocol::inbox`]); this file only keeps the list of
//! watches and two cursors on event times: what the owner has read, and
//! what the webhooks have been given. A damaged or oversized file is set
//! aside (renamed `watches.json.damaged`) and an empty list used: a node
//! never refuses to start because of it.

use std::path::PathBuf;
use std::sync::Mutex;

use mutu_protocol::Timestamp;
use mutu_protocol::inbox::{MAX_WATCHES, Watch};
use serde::{Deserialize, Serialize};

use crate::home::{self, Home};

/// The largest `watches.json` read.
pub const MAX_FILE_BYTES: u64 = 256 * 1024;

/// Why a watch list change failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("you already watch {0}")]
    Already(Watch),
    #[error("you do not watch {0}: `mutu watch --list` shows what you do")]
    NotWatched(Watch),
    #[error("you watch {MAX_WATCHES} things already, the most one node keeps: unwatch some first")]
    Full,
    #[error(transparent)]
    Home(#[from] home::Error),
}

/// The file's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Watchlist {
    #[serde(default)]
    pub watches: Vec<Watch>,
    /// Events at or before this time are read.
    #[serde(default)]
    pub read_until: Timestamp,
    /// Events at or before this time went to the webhooks (`None`: none
    /// went yet; the node starts from its start time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_until: Option<Timestamp>,
}

/// Read-modify-write of the file within one process goes one at a time
/// (the CLI, the web pages and the webhooks share it on a node).
static LOCK: Mutex<()> = Mutex::new(());

fn path(home: &Home) -> PathBuf {
    home.root().join("watches.json")
}

/// The watch list; empty when there is no file, and when it is damaged
/// (then set aside with a warning).
pub fn load(home: &Home) -> Watchlist {
    let path = path(home);
    let bytes = match std::fs::metadata(&path) {
        Err(_) => return Watchlist::default(),
        Ok(m) if m.len() > MAX_FILE_BYTES => Err(format!("{} bytes, over {MAX_FILE_BYTES}", m.len())),
        Ok(_) => std::fs::read(&path).map_err(|e| e.to_string()),
    };
    match bytes.and_then(|b| serde_json::from_slice::<Watchlist>(&b).map_err(|e| e.to_string())) {
        Ok(mut list) => {
            list.watches.truncate(MAX_WATCHES);
            list
        }
        Err(problem) => {
            let aside = path.with_extension("json.damaged");
            tracing::warn!(file = %path.display(), %problem, aside = %aside.display(),
                "the watch list is damaged: set aside, starting from an empty one");
            let _ = std::fs::rename(&path, &aside);
            Watchlist::default()
        }
    }
}

fn save(home: &Home, list: &Watchlist) -> Result<(), Error> {
    let bytes = serde_json::to_vec_pretty(list).map_err(|e| home::Error::Damaged {
        path: path(home),
        problem: e.to_string(),
    })?;
    home::write_atomically(&path(home), 0o600, |f| std::io::Write::write_all(f, &bytes))?;
    Ok(())
}

/// Changes the list with `f` and writes it back.
pub fn update<T>(home: &Home, f: impl FnOnce(&mut Watchlist) -> Result<T, Error>) -> Result<T, Error> {
    // A poisoned lock only means another update panicked: the file is whole
    // (written atomically), so going on is safe.
    let _guard = LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut list = load(home);
    let out = f(&mut list)?;
    save(home, &list)?;
    Ok(out)
}

/// Adds a watch.
pub fn add(home: &Home, watch: Watch) -> Result<(), Error> {
    update(home, |list| {
        if list.watches.contains(&watch) {
            return Err(Error::Already(watch));
        }
        if list.watches.len() >= MAX_WATCHES {
            return Err(Error::Full);
        }
        list.watches.push(watch);
        Ok(())
    })
}

/// Removes a watch.
pub fn remove(home: &Home, watch: Watch) -> Result<(), Error> {
    update(home, |list| {
        let before = list.watches.len();
        list.watches.retain(|w| *w != watch);
        if list.watches.len() == before {
            return Err(Error::NotWatched(watch));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use mutu_protocol::RecordId;

    #[test]
    fn watches_persist_and_a_damaged_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(dir.path().to_owned())).unwrap();
        let need = Watch::Need(RecordId::from_bytes([3; 16]));
        add(&home, need.clone()).unwrap();
        add(&home, Watch::Tag("sepa".into())).unwrap();
        assert!(matches!(add(&home, need.clone()), Err(Error::Already(_))));
        assert_eq!(load(&home).watches.len(), 2);
        remove(&home, need.clone()).unwrap();
        assert!(matches!(remove(&home, need), Err(Error::NotWatched(_))));
        assert_eq!(load(&home).watches, vec![Watch::Tag("sepa".into())]);

        std::fs::write(path(&home), b"{\"watches\": [{\"need\": 12").unwrap();
        assert_eq!(load(&home), Watchlist::default());
        assert!(dir.path().join("watches.json.damaged").exists());
        // Too big to read: set aside too, never read into memory.
        std::fs::write(path(&home), vec![b' '; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert_eq!(load(&home), Watchlist::default());
    }
}
