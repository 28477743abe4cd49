//! `mutu reindex`: rebuilds a damaged store from the changes it still
//! holds.
//!
//! A damaged page may hide a table's tree, so the changes are not read
//! through redb: the file is scanned byte by byte for what a stored change
//! looks like (document id ‖ signature ‖ an Automerge change chunk, see
//! [`crate::store`]), and every candidate goes through the network's
//! admission: decoded, signature checked, ordered, applied. What verifies
//! is written to a fresh store beside the old one, with the blocked members
//! and remembered peers when they can still be read; the fresh store then
//! takes the old one's name in one rename, and the old file is kept as
//! `store.redb.damaged`. A change whose dependencies were lost cannot be
//! applied and is counted as lost (peers may still serve it: anti-entropy
//! fetches what the member's peers hold).
//!
//! The file is read in bounded windows; the salvaged changes are held in
//! memory until they are admitted (the size of what the store held).

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mutu_protocol::change::MAX_CHANGE_BYTES;
use mutu_protocol::identity::MemberId;
use mutu_protocol::registry::{DOC_CACHE, Registry, Trust};
use mutu_protocol::{SignedChange, Timestamp};

use crate::home::Home;
use crate::store::{self, Store};

/// Errors of a rebuild.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("there is no store to rebuild at {0}: nothing to do")]
    NoStore(String),
    #[error("cannot {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] store::Error),
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        what,
        path: path.display().to_string(),
        source,
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Changes the old store said it held, if that could still be read.
    pub recorded: Option<u64>,
    /// Distinct changes found in the file that decode.
    pub found: usize,
    /// Changes admitted into the fresh store.
    pub kept: usize,
    /// Documents in the fresh store.
    pub documents: usize,
    /// Found but not admitted: a bad signature, a dependency lost, a
    /// blocked member, a second history.
    pub refused: usize,
    pub blocked: Option<usize>,
    pub peers: Option<usize>,
    /// Where the old file is kept.
    pub damaged: PathBuf,
}

impl Outcome {
    /// Changes of the old store that are not in the fresh one, when the old
    /// count could be read.
    pub fn lost(&self) -> Option<u64> {
        self.recorded.map(|r| r.saturating_sub(self.kept as u64))
    }
}

/// The first bytes of every Automerge chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Automerge's chunk type of an uncompressed change (what mutu stores).
const CHANGE_CHUNK: u8 = 1;
/// Document id and signature before a stored change's bytes.
const PREFIX: usize = 96;
/// Positions searched for the next chunk at a time.
const STEP: usize = 64 * 1024;
/// Bytes kept read ahead of the search: a whole change past any position
/// searched.
const AHEAD: usize = STEP + MAX_CHANGE_BYTES + 16;

/// The change whose chunk starts at `at` in `buf`, with its length, if the
/// bytes there are a stored change that decodes.
fn change_at(buf: &[u8], at: usize) -> Option<(SignedChange, usize)> {
    if *buf.get(at + 8)? != CHANGE_CHUNK {
        return None;
    }
    let (mut len, mut shift, mut i) = (0usize, 0u32, at + 9);
    loop {
        let b = *buf.get(i)?;
        i += 1;
        len |= usize::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
    }
    let total = (i - at).checked_add(len)?;
    if total > MAX_CHANGE_BYTES {
        return None;
    }
    let bytes = buf.get(at..at + total)?;
    let doc: [u8; 32] = buf.get(at.checked_sub(PREFIX)?..at - 64)?.try_into().ok()?;
    let sig: [u8; 64] = buf.get(at - 64..at)?.try_into().ok()?;
    let change = SignedChange::from_parts(MemberId::from_bytes(doc), bytes.to_vec(), sig);
    change.decode().ok()?;
    Some((change, total))
}

/// How far a rebuild is, for a progress bar ([`reindex_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Bytes of the damaged file scanned for stored changes, of its size.
    Scanned { bytes: u64, of: u64 },
    /// Documents admitted into the fresh store, of those found.
    Admitted { documents: usize, of: usize },
}

/// Every stored change the file at `path` still holds bytes of, decoded
/// (signatures not checked yet), each once.
pub fn salvage(path: &Path) -> Result<Vec<SignedChange>, Error> {
    salvage_with(path, &mut |_| {})
}

/// [`salvage`], telling `progress` how many bytes it has read.
fn salvage_with(path: &Path, progress: &mut dyn FnMut(Step)) -> Result<Vec<SignedChange>, Error> {
    let mut file = std::fs::File::open(path).map_err(io("read", path))?;
    let size = file.metadata().map_err(io("read", path))?.len();
    let mut read = 0u64;
    let mut buf: Vec<u8> = Vec::new();
    let mut at = PREFIX;
    let mut eof = false;
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    loop {
        while !eof && buf.len() < at + AHEAD {
            let old = buf.len();
            buf.resize(old + AHEAD, 0);
            let n = file.read(&mut buf[old..]).map_err(io("read", path))?;
            buf.truncate(old + n);
            eof = n == 0;
            read += n as u64;
            progress(Step::Scanned {
                bytes: read,
                of: size.max(read),
            });
        }
        if at + MAGIC.len() > buf.len() {
            break;
        }
        let end = (at + STEP + MAGIC.len() - 1).min(buf.len());
        match buf[at..end].windows(MAGIC.len()).position(|w| w == MAGIC) {
            Some(rel) => {
                let start = at + rel;
                match change_at(&buf, start) {
                    Some((change, len)) => {
                        if let Ok(decoded) = change.decode()
                            && seen.insert(decoded.hash())
                        {
                            found.push(change);
                        }
                        at = start + len;
                    }
                    None => at = start + 1,
                }
            }
            None => at = end + 1 - MAGIC.len(),
        }
        // Forget what was searched, keeping the prefix of the next chunk.
        if at > 4 * AHEAD {
            let cut = at - PREFIX;
            buf.drain(..cut);
            at -= cut;
        }
    }
    Ok(found)
}

/// A free name beside `path` for the damaged file: `store.redb.damaged`,
/// then `.damaged.1`, ….
fn damaged_name(path: &Path) -> PathBuf {
    let base = format!("{}.damaged", path.display());
    (0..)
        .map(|n| {
            if n == 0 {
                PathBuf::from(&base)
            } else {
                PathBuf::from(format!("{base}.{n}"))
            }
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| PathBuf::from(base))
}

/// Rebuilds `home`'s store from the changes its file still holds (see the
/// module's documentation). The node must be stopped: a store held by a
/// process gives [`store::Error::Locked`].
pub fn reindex(home: &Home, now: Timestamp) -> Result<Outcome, Error> {
    reindex_with(home, now, &mut |_| {})
}

/// [`reindex`], telling `progress` how far it is.
pub fn reindex_with(home: &Home, now: Timestamp, progress: &mut dyn FnMut(Step)) -> Result<Outcome, Error> {
    let path = home.store_path();
    if !path.exists() {
        return Err(Error::NoStore(path.display().to_string()));
    }
    // Read-only, holding the lock until the fresh store is in place:
    // refuses while a node holds the store, and no node starts meanwhile.
    let remains = store::remains(&path)?;
    let blocked: HashSet<MemberId> = remains.blocked.iter().flatten().copied().collect();
    let found = salvage_with(&path, progress)?;
    let found_count = found.len();
    let mut by_doc: BTreeMap<MemberId, Vec<SignedChange>> = BTreeMap::new();
    for c in found {
        if !blocked.contains(&c.doc()) {
            by_doc.entry(c.doc()).or_default().push(c);
        }
    }

    let fresh_path = PathBuf::from(format!("{}.reindex", path.display()));
    if fresh_path.exists() {
        // Left by a rebuild that did not finish: never the live store.
        std::fs::remove_file(&fresh_path).map_err(io("remove", &fresh_path))?;
    }
    let fresh = Store::open(&fresh_path)?;
    // The fresh store's index table is written with each commit. Each
    // document is admitted whole, once: none is read back, and only the
    // cache's worth stays loaded.
    fresh.clear_index()?;
    fresh.stamp_index()?;
    let mut registry = Registry::with_cache(Arc::new(crate::verify::Parallel::new()), DOC_CACHE);
    let mut kept = 0;
    let of = by_doc.len();
    for (done, (_, changes)) in by_doc.into_iter().enumerate() {
        // One document at a time, whole: admission orders it.
        let report = registry.admit_with(changes, now, Trust::Untrusted, &fresh, |c| {
            fresh.put_commit(c).map(drop)
        })?;
        kept += report.admitted.len();
        progress(Step::Admitted {
            documents: done + 1,
            of,
        });
    }
    if let Some(members) = &remains.blocked {
        for m in members {
            fresh.set_blocked(m, true)?;
        }
    }
    if let Some(peers) = &remains.peers {
        fresh.update_peers(peers, &[])?;
    }
    let documents = registry.doc_count();
    drop(fresh);

    // The old file stays under a new name; the fresh one takes its place
    // in one rename: at every moment `store.redb` is a whole store.
    let damaged = damaged_name(&path);
    std::fs::hard_link(&path, &damaged).map_err(io("keep the damaged store as", &damaged))?;
    std::fs::rename(&fresh_path, &path).map_err(io("put the rebuilt store in place at", &path))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync", dir))?;
    drop(remains.held);
    // The full-text index described the old store: the next open rebuilds
    // it (it would notice anyway, by the store's arrival counter).
    let search = home.root().join(crate::search::DIR);
    if search.exists()
        && let Err(e) = std::fs::remove_dir_all(&search)
    {
        tracing::warn!(dir = %search.display(), error = %e, "cannot remove the old full-text index");
    }
    Ok(Outcome {
        recorded: remains.changes,
        found: found_count,
        kept,
        documents,
        refused: found_count - kept,
        blocked: remains.blocked.map(|b| b.len()),
        peers: remains.peers.map(|p| p.len()),
        damaged,
    })
}

#[cfg(test)]
mod tests {
    use mutu_protocol::record::{Body, MemberKind, Need, Profile};

    use super::*;
    use crate::state::{self, State};

    fn need(title: &str) -> Body {
        Body::Need(Need::titled(title))
    }

    /// A home with a profile and `needs` needs; returns the needs' ids.
    fn home_with(dir: &Path, needs: usize) -> (Home, Vec<mutu_protocol::record::RecordId>) {
        let home = Home::resolve(Some(dir.join("home"))).unwrap();
        let profile = Profile {
            name: "Reindexed".into(),
            member_kind: MemberKind::Association,
            country: Some("FR".into()),
            sectors: vec![],
            website: None,
            description: String::new(),
        };
        let mut st = State::init(home.clone(), profile, state::now()).unwrap();
        let ids = (0..needs)
            .map(|i| st.create(need(&format!("need {i}")), state::now()).unwrap())
            .collect();
        (home, ids)
    }

    #[test]
    fn an_intact_store_is_rebuilt_with_every_change() {
        let dir = tempfile::tempdir().unwrap();
        let (home, ids) = home_with(dir.path(), 30);
        let mut steps = Vec::new();
        let out = reindex_with(&home, state::now(), &mut |s| steps.push(s)).unwrap();
        assert_eq!(out.recorded, Some(31));
        // Progress: bytes scanned grow to the file's size, then documents.
        let size = std::fs::metadata(&out.damaged).unwrap().len();
        let scanned: Vec<u64> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Scanned { bytes, of } => Some((*bytes, *of)),
                Step::Admitted { .. } => None,
            })
            .map(|(bytes, of)| {
                assert_eq!(of, size);
                bytes
            })
            .collect();
        assert!(scanned.is_sorted() && scanned.last() == Some(&size), "{scanned:?}");
        assert_eq!(steps.last(), Some(&Step::Admitted { documents: 1, of: 1 }));
        assert_eq!((out.found, out.kept, out.refused, out.documents), (31, 31, 0, 1));
        assert_eq!(out.lost(), Some(0));
        assert!(out.damaged.ends_with("store.redb.damaged"), "{}", out.damaged.display());
        assert!(out.damaged.exists());
        // The rebuilt store's index table is written and in step.
        let index = Store::open(&home.store_path()).unwrap().load_index(&[]).unwrap();
        assert_eq!(index.map(|i| i.len()), Some(31));
        let st = State::open(home.clone()).unwrap();
        for id in &ids {
            assert!(st.registry().index().get(id).is_some(), "{id}");
        }
        // The rebuilt store holds each document's metadata, as a live
        // registry computes it.
        let live: Vec<_> = st.registry().metas().map(|(m, d)| (*m, d.clone())).collect();
        assert_eq!(st.store().doc_metas().unwrap(), live);
        assert_eq!(live.len(), 1);
        drop(st);
        // A second rebuild keeps the first damaged file.
        let again = reindex(&home, state::now()).unwrap();
        assert!(
            again.damaged.ends_with("store.redb.damaged.1"),
            "{}",
            again.damaged.display()
        );
        assert_eq!(again.kept, 31);
    }

    /// Bytes flipped in the middle of the file: the store may no longer
    /// open, the rebuild keeps every change that still verifies and the
    /// rebuilt home opens.
    #[test]
    fn a_damaged_store_is_rebuilt_from_what_still_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let (home, ids) = home_with(dir.path(), 30);
        let path = home.store_path();
        let mut bytes = std::fs::read(&path).unwrap();
        let len = bytes.len();
        for at in [len / 3, len / 2, 2 * len / 3] {
            for b in &mut bytes[at..at + 64] {
                *b ^= 0x5a;
            }
        }
        std::fs::write(&path, &bytes).unwrap();
        let out = reindex(&home, state::now()).unwrap();
        assert_eq!(out.found, out.kept + out.refused);
        assert!(out.kept >= 1, "{out:?}");
        let st = State::open(home).unwrap();
        let visible = ids.iter().filter(|id| st.registry().index().get(id).is_some()).count();
        // A need lives in its own change; later ones depend on earlier.
        assert!(visible + 1 >= out.kept.min(ids.len()), "{visible} visible, {out:?}");
        eprintln!("{out:?}, {visible} of {} needs visible", ids.len());
    }

    #[test]
    fn a_store_held_by_a_process_is_not_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let (home, _) = home_with(dir.path(), 1);
        let held = State::open(home.clone()).unwrap();
        let err = reindex(&home, state::now()).unwrap_err();
        assert!(matches!(err, Error::Store(store::Error::Locked(_))), "{err:?}");
        drop(held);
        assert!(!home.store_path().with_extension("redb.damaged").exists());
    }
}
