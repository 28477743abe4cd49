//! The durable store: redb in `$MUTU_HOME/store.redb`.
//!
//! Tables:
//! - `changes`: change hash → doc id (32) ‖ signature (64) ‖ change bytes,
//!   exactly as received, so any node can re-serve and re-verify them;
//! - `doc_log`: doc id (32) ‖ arrival number (8, big endian) → change hash:
//!   each document's changes in the order they were admitted (an order in
//!   which every change follows its dependencies);
//! - `meta`: counters and the store's [`FORMAT`];
//! - `doc_meta`: member id → the document's metadata (heads, clock, change
//!   hashes; see `docs`), written with the changes that change it;
//! - `known_peers`: peer id → (when we last synced with it, in ms since
//!   the epoch; addresses that sync worked over, newline separated, most
//!   recent first). Only addresses this node dialled and synced over are
//!   written here, never what a peer claims (see [`crate::net::peers`]);
//!   the table of earlier versions (`peers`, filled from identify claims) is
//!   dropped when the store opens;
//! - `blocked`: member id → () (local policy);
//! - `equivocations`: member id (32) ‖ hash of the other change (32) →
//!   the evidence that the member signed two histories (see
//!   [`Evidence`]), at most [`MAX_EVIDENCE_PER_MEMBER`] per member and
//!   [`MAX_EVIDENCE`] in all;
//! - `index`: member id (32) ‖ document key → the record index's slot,
//!   written with the changes (see [`index`]).
//!
//! Every write is one durable commit (`Durability::Immediate`), grouped per
//! batch: a commit costs ~1–2 ms whatever its size, so one commit per record
//! would cap writes at ~500/s. A second process opening the store gets
//! [`Error::Locked`] (redb locks the file), never a corrupted store.
//!
//! Faults: after an I/O error (a full disk) redb refuses every later
//! operation of that handle (`PreviousIo`) until the database is closed.
//! The store then closes and reopens the file itself (logged), so reads
//! go on while the disk is full and writes succeed again once space is
//! back, without a restart; a write that failed committed nothing, and is
//! reported as [`Error::DiskFull`] when the device was full. A file redb
//! finds damaged gives [`Error::Corrupt`], which names the ways out.

mod docs;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use mutu_protocol::admission::{Admitted, Equivocation};
use mutu_protocol::identity::MemberId;
use mutu_protocol::{SignedChange, Timestamp};
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};

pub mod index;

const CHANGES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("changes");
const DOC_LOG: TableDefinition<&[u8; 40], &[u8; 32]> = TableDefinition::new("doc_log");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The peer table of earlier versions (addresses peers claimed): dropped.
const OLD_PEERS: TableDefinition<&str, &str> = TableDefinition::new("peers");
const KNOWN_PEERS: TableDefinition<&str, (u64, &str)> = TableDefinition::new("known_peers");
const BLOCKED: TableDefinition<&[u8; 32], ()> = TableDefinition::new("blocked");
const EQUIVOCATIONS: TableDefinition<&[u8; 64], &[u8]> = TableDefinition::new("equivocations");

/// Proofs kept per member that it signed two histories: one suffices to
/// show it, a few show it happened more than once.
pub const MAX_EVIDENCE_PER_MEMBER: usize = 8;
/// Proofs kept in all.
pub const MAX_EVIDENCE: u64 = 10_000;

/// Stored proof that a member signed two histories: the change this node
/// holds and the other one, both with the member's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub member: MemberId,
    pub seq: u64,
    /// The change this node holds for that actor and sequence number.
    pub kept: SignedChange,
    pub other: SignedChange,
    /// The other change's own timestamp (ms), as the member wrote it.
    pub timestamp: i64,
    /// When this node found it.
    pub found_at: Timestamp,
}

const NEXT_ARRIVAL: &str = "next_arrival";

/// The store's layout, recorded under [`FORMAT_KEY`] in `meta`. Format 1:
/// every store written before the version was recorded (it may hold the
/// `peers` table of claimed addresses). Format 2: `peers` dropped,
/// `known_peers`, `equivocations`, the version recorded. Format 3:
/// `doc_meta`, each document's metadata. Opening an older store migrates
/// it in one durable commit; a newer one is refused.
pub const FORMAT: u64 = 3;
const FORMAT_KEY: &str = "format";

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("the store {0} is in use by another mutu process (a running node?): stop it, or use the running node")]
    Locked(String),
    #[error("cannot open the store {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: redb::DatabaseError,
    },
    #[error("store: {0}")]
    Db(#[source] redb::Error),
    #[error("store holds a damaged entry: {0}")]
    Damaged(String),
    #[error("no space left on the device holding {home}: free some space; nothing was written")]
    DiskFull { home: String },
    #[error(
        "the store {path} is damaged ({reason}): stop the node and run `mutu reindex` to rebuild it from the changes it still holds, or `mutu restore` a backup into an empty home"
    )]
    Corrupt { path: String, reason: String },
    #[error(
        "the store {path} was written by a newer mutu (store format {found}; this mutu reads formats up to {FORMAT}): run that newer mutu, or upgrade this one"
    )]
    NewerFormat { path: String, found: u64 },
}

macro_rules! db_err {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Db(e.into())
            }
        }
    )*};
}
db_err!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

/// What can still be read of a store's small tables through redb, without
/// writing to the file ([`remains`]): each part `None` if it cannot.
#[derive(Debug, Default)]
pub struct Remains {
    /// Changes the store says it holds.
    pub changes: Option<u64>,
    pub blocked: Option<Vec<MemberId>>,
    pub peers: Option<Vec<StoredPeer>>,
    /// The read-only database, kept open: while it is held no process
    /// opens the store to write (a node starting waits for it).
    pub held: Option<Held>,
}

/// A store held open read-only ([`Remains::held`]).
pub struct Held(#[allow(dead_code)] redb::ReadOnlyDatabase);

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Held(..)")
    }
}

/// The blocked members, read from a store open for writing or read-only.
fn read_blocked(db: &impl redb::ReadableDatabase) -> Result<Vec<MemberId>, Error> {
    let tx = db.begin_read()?;
    let t = tx.open_table(BLOCKED)?;
    t.iter()?
        .map(|e| e.map(|(k, _)| MemberId::from_bytes(*k.value())).map_err(Error::from))
        .collect()
}

/// The remembered peers, in peer id order, read from a store open for
/// writing or read-only.
fn read_peers(db: &impl redb::ReadableDatabase) -> Result<Vec<StoredPeer>, Error> {
    let tx = db.begin_read()?;
    let t = tx.open_table(KNOWN_PEERS)?;
    t.iter()?
        .map(|e| {
            e.map(|(k, v)| {
                let (synced_at, addrs) = v.value();
                StoredPeer {
                    peer: k.value().to_owned(),
                    synced_at,
                    addrs: addrs.lines().map(str::to_owned).collect(),
                }
            })
            .map_err(Error::from)
        })
        .collect()
}

/// Reads what it can of a (possibly damaged) store read-only: never
/// repairs or writes the file. [`Error::Locked`] if a process holds it.
pub fn remains(path: &Path) -> Result<Remains, Error> {
    let db = match unpanicked(path, || {
        redb::ReadOnlyDatabase::open(path).map_err(|source| match source {
            redb::DatabaseError::DatabaseAlreadyOpen => Error::Locked(path.display().to_string()),
            source => Error::Open {
                path: path.display().to_string(),
                source,
            },
        })
    }) {
        Ok(db) => db,
        Err(e @ Error::Locked(_)) => return Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "the damaged store does not open read-only: its tables are not read");
            return Ok(Remains::default());
        }
    };
    let part = |what: &str, read: &dyn Fn() -> Result<_, Error>| {
        unpanicked(path, read)
            .inspect_err(|e| tracing::warn!(error = %e, "{what} cannot be read from the damaged store"))
            .ok()
    };
    let changes = part("the change count", &|| {
        Ok(db.begin_read()?.open_table(CHANGES)?.len()?)
    });
    let blocked = unpanicked(path, || read_blocked(&db))
        .inspect_err(|e| tracing::warn!(error = %e, "the blocked members cannot be read from the damaged store"))
        .ok();
    let peers = unpanicked(path, || read_peers(&db))
        .inspect_err(|e| tracing::warn!(error = %e, "the remembered peers cannot be read from the damaged store"))
        .ok();
    Ok(Remains {
        changes,
        blocked,
        peers,
        held: Some(Held(db)),
    })
}

/// The store of one home.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    /// The open database; `None` after a fault closed it and reopening
    /// failed (tried again at the next use). Shared (`Arc`) with the
    /// operations in progress, so reopening waits for them to let go.
    db: RwLock<Option<Arc<Database>>>,
    /// Write transactions committed since the store was opened.
    commits: AtomicU64,
    /// Times the store was closed and reopened after a fault.
    reopens: AtomicU64,
}

/// How long reopening waits for operations still holding the closed
/// database (each holds it for one transaction).
const REOPEN_PATIENCE: Duration = Duration::from_secs(5);
const REOPEN_POLL: Duration = Duration::from_millis(10);

/// The I/O error under a store error, if it is one (`PreviousIo`: a
/// earlier one, which poisoned the database handle).
fn io_fault(e: &Error) -> Option<Option<&std::io::Error>> {
    match e {
        Error::Db(redb::Error::Io(io)) => Some(Some(io)),
        Error::Db(redb::Error::PreviousIo) | Error::DiskFull { .. } => Some(None),
        _ => None,
    }
}

thread_local! {
    /// Whether this thread runs redb under [`unpanicked`].
    static IN_STORE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs, once, a panic hook that keeps quiet about the panics
/// [`unpanicked`] catches (they become an error that says what to do; the
/// default hook would print a panic and a backtrace before it) and hands
/// every other panic to the hook that was there.
fn quiet_panics_in_store() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_STORE.get() {
                tracing::debug!(%info, "redb panicked on the store's bytes");
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic of redb (it panics on some damaged pages, e.g.
/// an unknown page type byte) into [`Error::Corrupt`] for `path`: bytes
/// read from a file must never bring the node down.
fn unpanicked<T, E: From<Error>>(path: &Path, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    quiet_panics_in_store();
    let was = IN_STORE.replace(true);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_STORE.set(was);
    caught.unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a page does not read back".to_owned());
        Err(Error::Corrupt {
            path: path.display().to_string(),
            reason: what,
        }
        .into())
    })
}

/// Whether an I/O error says the device (or the user's quota) is full.
fn is_full(io: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        io.kind(),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge
    )
}

/// A remembered peer, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPeer {
    /// The peer id, as text.
    pub peer: String,
    /// When this node last synced with it (ms since the epoch).
    pub synced_at: u64,
    /// Addresses this node dialled and synced over, most recent first.
    pub addrs: Vec<String>,
}

/// A page of stored changes ([`Store::changes_page`]).
#[derive(Debug, Default)]
pub struct Page {
    pub changes: Vec<SignedChange>,
    /// Some of the asked changes that the store holds were left out.
    pub more: bool,
    /// Bytes read from the store (entries of the changes returned, plus the
    /// one that did not fit, if any).
    pub bytes_read: u64,
}

fn encode(c: &SignedChange) -> Vec<u8> {
    let mut v = Vec::with_capacity(96 + c.change_bytes().len());
    v.extend_from_slice(c.doc().as_bytes());
    v.extend_from_slice(c.sig_bytes());
    v.extend_from_slice(c.change_bytes());
    v
}

fn decode(v: &[u8]) -> Result<SignedChange, Error> {
    if v.len() < 96 {
        return Err(Error::Damaged("change entry shorter than its header".into()));
    }
    let mut doc = [0u8; 32];
    doc.copy_from_slice(&v[..32]);
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&v[32..96]);
    Ok(SignedChange::from_parts(
        MemberId::from_bytes(doc),
        v[96..].to_vec(),
        sig,
    ))
}

/// Keys of one member in a table keyed by member id ‖ 32 bytes.
/// The `doc_log` keys of `doc`'s changes: from the first to the last.
fn log_range(doc: &MemberId) -> ([u8; 40], [u8; 40]) {
    let mut lo = [0u8; 40];
    lo[..32].copy_from_slice(doc.as_bytes());
    let mut hi = lo;
    hi[32..].copy_from_slice(&[0xff; 8]);
    (lo, hi)
}

fn member_range64(member: &MemberId) -> ([u8; 64], [u8; 64]) {
    let mut lo = [0u8; 64];
    lo[..32].copy_from_slice(member.as_bytes());
    let mut hi = lo;
    hi[32..].copy_from_slice(&[0xff; 32]);
    (lo, hi)
}

fn decode_evidence(member: MemberId, v: &[u8]) -> Result<Evidence, Error> {
    let damaged = || Error::Damaged("equivocation entry".into());
    let u64_at = |at: usize| -> Result<u64, Error> {
        let b: [u8; 8] = v.get(at..at + 8).and_then(|s| s.try_into().ok()).ok_or_else(damaged)?;
        Ok(u64::from_be_bytes(b))
    };
    let seq = u64_at(0)?;
    let timestamp = u64_at(8)? as i64;
    let found_at = Timestamp::from_millis(u64_at(16)?);
    let kept_len = usize::try_from(u64_at(24)?).map_err(|_| damaged())?;
    let kept_end = 32usize.checked_add(kept_len).ok_or_else(damaged)?;
    let kept = decode(v.get(32..kept_end).ok_or_else(damaged)?)?;
    let other = decode(v.get(kept_end..).ok_or_else(damaged)?)?;
    Ok(Evidence {
        member,
        seq,
        kept,
        other,
        timestamp,
        found_at,
    })
}

/// Memory redb may use to cache pages. Its default, 1 GiB, lets a node that
/// caught up a large registry keep every page it wrote resident; reads after
/// opening are one sequential pass, and pages not cached come from the OS
/// page cache.
const CACHE_BYTES: usize = 16 * 1024 * 1024;

impl Store {
    /// Opens or creates the store at `path`.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let db = Self::open_db(path)?;
        Ok(Self {
            path: path.to_owned(),
            db: RwLock::new(Some(Arc::new(db))),
            commits: AtomicU64::new(0),
            reopens: AtomicU64::new(0),
        })
    }

    /// The home holding the store (what a full device message names).
    fn home(&self) -> String {
        self.path.parent().unwrap_or(&self.path).display().to_string()
    }

    fn open_db(path: &Path) -> Result<Database, Error> {
        unpanicked(path, || Self::open_db_unguarded(path))
    }

    fn open_db_unguarded(path: &Path) -> Result<Database, Error> {
        let shown = || path.display().to_string();
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => Error::Locked(shown()),
                redb::DatabaseError::Storage(redb::StorageError::Corrupted(reason)) => {
                    Error::Corrupt { path: shown(), reason }
                }
                redb::DatabaseError::Storage(redb::StorageError::Io(io)) if is_full(&io) => Error::DiskFull {
                    home: path.parent().unwrap_or(path).display().to_string(),
                },
                // "Not a redb database": its header is damaged.
                redb::DatabaseError::Storage(redb::StorageError::Io(io))
                    if io.kind() == std::io::ErrorKind::InvalidData =>
                {
                    Error::Corrupt {
                        path: shown(),
                        reason: io.to_string(),
                    }
                }
                source => Error::Open { path: shown(), source },
            })?;
        let corrupt = |e: Error| match e {
            Error::Db(redb::Error::Corrupted(reason)) => Error::Corrupt { path: shown(), reason },
            e => e,
        };
        // Most opens find the format current: read it without writing, so
        // that reopening on a full disk needs no space.
        let found = (|| -> Result<Option<u64>, Error> {
            let tx = db.begin_read()?;
            match tx.open_table(META) {
                Ok(t) => Ok(t.get(FORMAT_KEY)?.map(|v| v.value())),
                Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })()
        .map_err(corrupt)?;
        if found == Some(FORMAT) {
            return Ok(db);
        }
        Self::migrate(&db, path).map_err(corrupt)?;
        Ok(db)
    }

    /// Brings a new or older store to [`FORMAT`] in one durable commit;
    /// refuses a newer one.
    fn migrate(db: &Database, path: &Path) -> Result<(), Error> {
        let mut tx = db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        let found = tx.open_table(META)?.get(FORMAT_KEY)?.map(|v| v.value());
        match found {
            Some(found) if found > FORMAT => {
                return Err(Error::NewerFormat {
                    path: path.display().to_string(),
                    found,
                });
            }
            Some(FORMAT) => {}
            Some(2) => {
                docs::migrate(&tx)?;
                tx.open_table(META)?.insert(FORMAT_KEY, FORMAT)?;
                tracing::info!(store = %path.display(), from = 2, to = FORMAT, "store migrated");
            }
            // No version: a new store, or one written before versions were
            // recorded (format 1). Either way, brought to this format in
            // this one durable commit, with the version.
            _ => {
                tx.open_table(CHANGES)?;
                tx.open_table(DOC_LOG)?;
                tx.open_table(KNOWN_PEERS)?;
                tx.open_table(BLOCKED)?;
                tx.open_table(EQUIVOCATIONS)?;
                tx.open_table(index::INDEX)?;
                // Format 1 kept the addresses peers claimed; never read again.
                tx.delete_table(OLD_PEERS)?;
                docs::migrate(&tx)?;
                tx.open_table(META)?.insert(FORMAT_KEY, FORMAT)?;
                if let Some(from) = found {
                    tracing::info!(store = %path.display(), from, to = FORMAT, "store migrated");
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The open database, reopened first if a fault closed it.
    fn db(&self) -> Result<Arc<Database>, Error> {
        if let Some(db) = self.db.read().unwrap_or_else(PoisonError::into_inner).as_ref() {
            return Ok(db.clone());
        }
        self.reopen(None)
    }

    /// Closes the database and opens it again: redb refuses every use of a
    /// handle that met an I/O error. `failed` is the database that failed
    /// (`None`: whatever is open, or nothing). Waits for the operations
    /// still holding the old handle to let go of it.
    fn reopen(&self, failed: Option<&Arc<Database>>) -> Result<Arc<Database>, Error> {
        let mut slot = self.db.write().unwrap_or_else(PoisonError::into_inner);
        match (slot.as_ref(), failed) {
            // Someone else reopened it meanwhile.
            (Some(now), Some(failed)) if !Arc::ptr_eq(now, failed) => return Ok(now.clone()),
            (Some(now), None) => return Ok(now.clone()),
            _ => {}
        }
        *slot = None;
        let started = Instant::now();
        loop {
            match Self::open_db(&self.path) {
                Ok(db) => {
                    let db = Arc::new(db);
                    *slot = Some(db.clone());
                    let times = self.reopens.fetch_add(1, Ordering::Relaxed) + 1;
                    tracing::warn!(store = %self.path.display(), times, "the store met an I/O error: closed and reopened");
                    return Ok(db);
                }
                // The old handle is still held by an operation in progress.
                Err(Error::Locked(_)) if started.elapsed() < REOPEN_PATIENCE => std::thread::sleep(REOPEN_POLL),
                Err(e) => {
                    tracing::error!(store = %self.path.display(), error = %e, "the store met an I/O error and could not be reopened: trying again at its next use");
                    return Err(e);
                }
            }
        }
    }

    /// Runs a read on the database. After an I/O fault the database is
    /// reopened and the read tried once more.
    fn reading<T>(&self, read: impl Fn(&Database) -> Result<T, Error>) -> Result<T, Error> {
        let db = self.db()?;
        match unpanicked(&self.path, || read(&db)) {
            Err(e) if io_fault(&e).is_some() => {
                let db = self.reopen(Some(&db))?;
                unpanicked(&self.path, || read(&db))
            }
            done => done,
        }
    }

    /// Runs a write (ending in one commit) on the database. A write that
    /// met an I/O error committed nothing: the database is reopened for the
    /// operations that follow, and a full device reported as such.
    fn writing<T>(&self, write: impl FnOnce(&Database) -> Result<T, Error>) -> Result<T, Error> {
        let db = self.db().map_err(|e| self.full_or(e))?;
        match unpanicked(&self.path, || write(&db)) {
            Ok(done) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
                Ok(done)
            }
            Err(e) if io_fault(&e).is_some() => {
                let e = self.full_or(e);
                if let Err(again) = self.reopen(Some(&db)) {
                    tracing::debug!(error = %again, "reopening after a failed write");
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// `e`, or [`Error::DiskFull`] if it says the device is full.
    fn full_or(&self, e: Error) -> Error {
        match io_fault(&e) {
            Some(Some(io)) if is_full(io) => Error::DiskFull { home: self.home() },
            _ => e,
        }
    }

    /// Times the store was closed and reopened after an I/O fault.
    pub fn reopens(&self) -> u64 {
        self.reopens.load(Ordering::Relaxed)
    }

    /// The layout version recorded in the store (see [`FORMAT`]).
    pub fn format(&self) -> Result<u64, Error> {
        self.reading(|db| {
            let tx = db.begin_read()?;
            Ok(tx.open_table(META)?.get(FORMAT_KEY)?.map_or(1, |v| v.value()))
        })
    }

    /// Write transactions committed since the store was opened (opening
    /// not counted).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// How many changes were ever stored (a counter that only grows):
    /// derived data kept outside the store (the full-text index) records
    /// it, to tell whether it is behind.
    pub fn arrivals(&self) -> Result<u64, Error> {
        self.reading(|db| {
            let tx = db.begin_read()?;
            Ok(tx.open_table(META)?.get(NEXT_ARRIVAL)?.map_or(0, |v| v.value()))
        })
    }

    /// Stores admitted changes in one durable commit, in the given order.
    /// Changes already stored are skipped. Returns how many were new.
    /// Neither the documents' metadata nor the index delta is written: the
    /// index table is then out of step, and the next open indexes the store
    /// by replay (nodes write through [`Store::put_commit`]).
    pub fn put_changes(&self, changes: &[Admitted]) -> Result<usize, Error> {
        self.put(changes, &[])
    }

    fn put(&self, changes: &[Admitted], metas: &[(MemberId, mutu_protocol::doc::Meta)]) -> Result<usize, Error> {
        self.writing(|db| {
            let mut tx = db.begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            let added = Self::insert_changes(&tx, changes)?;
            docs::put_metas(&tx, metas)?;
            tx.commit()?;
            Ok(added)
        })
    }

    /// Adds the changes not stored yet to `changes` and `doc_log`, in `tx`.
    fn insert_changes(tx: &WriteTransaction, changes: &[Admitted]) -> Result<usize, Error> {
        let mut added = 0;
        let mut table = tx.open_table(CHANGES)?;
        let mut log = tx.open_table(DOC_LOG)?;
        let mut meta = tx.open_table(META)?;
        let mut next = meta.get(NEXT_ARRIVAL)?.map_or(0, |v| v.value());
        for Admitted { change: c, hash } in changes {
            let hash = &hash.0;
            if table.get(hash)?.is_some() {
                continue;
            }
            table.insert(hash, encode(c).as_slice())?;
            let mut key = [0u8; 40];
            key[..32].copy_from_slice(c.doc().as_bytes());
            key[32..].copy_from_slice(&next.to_be_bytes());
            log.insert(&key, hash)?;
            next += 1;
            added += 1;
        }
        meta.insert(NEXT_ARRIVAL, next)?;
        Ok(added)
    }

    /// Every stored change, document by document, each document's in
    /// arrival order.
    pub fn all_changes(&self) -> Result<Vec<SignedChange>, Error> {
        self.reading(|db| {
            let tx = db.begin_read()?;
            let table = tx.open_table(CHANGES)?;
            let log = tx.open_table(DOC_LOG)?;
            let mut out = Vec::with_capacity(table.len()? as usize);
            for entry in log.iter()? {
                let (_, hash) = entry?;
                let v = table
                    .get(hash.value())?
                    .ok_or_else(|| Error::Damaged("log names a missing change".into()))?;
                out.push(decode(v.value())?);
            }
            Ok(out)
        })
    }

    /// Every stored change, document by document in arrival order, handed
    /// to `each` in batches of whole documents: a batch is handed over once
    /// its changes hold at least `batch_bytes` bytes and the next document
    /// begins.
    /// Opening a large store this way holds one batch at a time besides what
    /// `each` keeps.
    pub fn scan_changes<E: From<Error>>(
        &self,
        batch_bytes: usize,
        mut each: impl FnMut(Vec<SignedChange>) -> Result<(), E>,
    ) -> Result<(), E> {
        let db = self.db()?;
        let mut from = None;
        loop {
            // Only redb's reads are guarded: a panic of `each` is not the
            // store's.
            let (batch, next) = unpanicked(&self.path, || Self::read_batch(&db, from, batch_bytes))?;
            if !batch.is_empty() {
                each(batch)?;
            }
            match next {
                Some(key) => from = Some(key),
                None => return Ok(()),
            }
        }
    }

    /// The changes of the log from `from` on (from the start if `None`),
    /// whole documents, until they hold `batch_bytes`; and the key the next
    /// batch starts at, if any.
    fn read_batch(
        db: &Database,
        from: Option<[u8; 40]>,
        batch_bytes: usize,
    ) -> Result<(Vec<SignedChange>, Option<[u8; 40]>), Error> {
        let tx = db.begin_read()?;
        let table = tx.open_table(CHANGES)?;
        let log = tx.open_table(DOC_LOG)?;
        let entries = match &from {
            Some(key) => log.range::<&[u8; 40]>(key..)?,
            None => log.range::<&[u8; 40]>(..)?,
        };
        let mut out: Vec<SignedChange> = Vec::new();
        let mut bytes = 0;
        for entry in entries {
            let (key, hash) = entry?;
            let key = *key.value();
            let new_doc = out.last().is_none_or(|c| c.doc().as_bytes()[..] != key[..32]);
            if new_doc && bytes >= batch_bytes && !out.is_empty() {
                return Ok((out, Some(key)));
            }
            // A damaged entry is skipped, not fatal: a node must open
            // whatever it stored (admission re-checks the rest).
            let Some(v) = table.get(hash.value())? else {
                tracing::warn!("the store's log names a change it does not hold: skipped");
                continue;
            };
            let change = match decode(v.value()) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "skipped a damaged change in the store");
                    continue;
                }
            };
            bytes += change.change_bytes().len();
            out.push(change);
        }
        Ok((out, None))
    }

    /// Stored changes with these hashes, in the given order (unknown
    /// hashes are skipped), as many as fit in `max_bytes` and `max_count`:
    /// a change costs its stored size plus `overhead`, and the first one
    /// found is always taken. Reads at most one change past the cut, to
    /// tell whether there is more. A request for a whole document reads one
    /// page, never the document.
    pub fn changes_page(
        &self,
        hashes: &[[u8; 32]],
        max_bytes: usize,
        max_count: usize,
        overhead: usize,
    ) -> Result<Page, Error> {
        self.reading(|db| {
            let tx = db.begin_read()?;
            let table = tx.open_table(CHANGES)?;
            let mut page = Page::default();
            let mut size = 0;
            for h in hashes {
                let Some(v) = table.get(h)? else { continue };
                let bytes = v.value();
                page.bytes_read += bytes.len() as u64;
                let cost = bytes.len() + overhead;
                if !page.changes.is_empty() && (size + cost > max_bytes || page.changes.len() >= max_count) {
                    page.more = true;
                    break;
                }
                size += cost;
                page.changes.push(decode(bytes)?);
            }
            Ok(page)
        })
    }

    /// Keeps the proofs of `found` (members that signed two histories),
    /// each with the change this node holds, in one durable commit. A
    /// proof already kept, or beyond the bounds, is skipped. Returns how
    /// many were new.
    pub fn put_equivocations(&self, found: &[Equivocation], now: Timestamp) -> Result<usize, Error> {
        self.writing(|db| {
            let mut tx = db.begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            let mut added = 0;
            {
                let changes = tx.open_table(CHANGES)?;
                let mut table = tx.open_table(EQUIVOCATIONS)?;
                for e in found {
                    let mut key = [0u8; 64];
                    key[..32].copy_from_slice(e.doc.as_bytes());
                    key[32..].copy_from_slice(&e.other_hash.0);
                    if table.get(&key)?.is_some() || table.len()? >= MAX_EVIDENCE {
                        continue;
                    }
                    let (lo, hi) = member_range64(&e.doc);
                    if table.range::<&[u8; 64]>(&lo..=&hi)?.count() >= MAX_EVIDENCE_PER_MEMBER {
                        continue;
                    }
                    let Some(kept) = changes.get(&e.kept.0)? else {
                        continue;
                    };
                    let mut v = Vec::new();
                    v.extend_from_slice(&e.seq.to_be_bytes());
                    v.extend_from_slice(&e.timestamp.to_be_bytes());
                    v.extend_from_slice(&now.as_millis().to_be_bytes());
                    let kept = kept.value();
                    v.extend_from_slice(&(kept.len() as u64).to_be_bytes());
                    v.extend_from_slice(kept);
                    v.extend_from_slice(&encode(&e.other));
                    table.insert(&key, v.as_slice())?;
                    added += 1;
                }
            }
            tx.commit()?;
            Ok(added)
        })
    }

    /// The proofs kept against `member`, oldest found first.
    pub fn equivocations(&self, member: &MemberId) -> Result<Vec<Evidence>, Error> {
        self.reading(|db| {
            let tx = db.begin_read()?;
            let table = tx.open_table(EQUIVOCATIONS)?;
            let (lo, hi) = member_range64(member);
            let mut out = Vec::new();
            for entry in table.range::<&[u8; 64]>(&lo..=&hi)? {
                let (_, v) = entry?;
                match decode_evidence(*member, v.value()) {
                    Ok(e) => out.push(e),
                    Err(e) => tracing::warn!(error = %e, "skipped damaged evidence in the store"),
                }
            }
            out.sort_by_key(|e| e.found_at);
            Ok(out)
        })
    }

    /// One document's changes in arrival order.
    pub fn doc_changes(&self, doc: &MemberId) -> Result<Vec<SignedChange>, Error> {
        self.reading(|db| {
            let tx = db.begin_read()?;
            let table = tx.open_table(CHANGES)?;
            let log = tx.open_table(DOC_LOG)?;
            let mut lo = [0u8; 40];
            lo[..32].copy_from_slice(doc.as_bytes());
            let mut hi = lo;
            hi[32..].copy_from_slice(&[0xff; 8]);
            let mut out = Vec::new();
            for entry in log.range::<&[u8; 40]>(&lo..=&hi)? {
                let (_, hash) = entry?;
                if let Some(v) = table.get(hash.value())? {
                    out.push(decode(v.value())?);
                }
            }
            Ok(out)
        })
    }

    pub fn change_count(&self) -> Result<u64, Error> {
        self.reading(|db| {
            let tx = db.begin_read()?;
            Ok(tx.open_table(CHANGES)?.len()?)
        })
    }

    /// Removes a member's document (a local block): its changes, log and
    /// index rows.
    pub fn remove_doc(&self, doc: &MemberId) -> Result<(), Error> {
        self.writing(|db| {
            let hashes: Vec<[u8; 32]> = {
                let tx = db.begin_read()?;
                let log = tx.open_table(DOC_LOG)?;
                let mut lo = [0u8; 40];
                lo[..32].copy_from_slice(doc.as_bytes());
                let mut hi = lo;
                hi[32..].copy_from_slice(&[0xff; 8]);
                log.range::<&[u8; 40]>(&lo..=&hi)?
                    .map(|e| e.map(|(_, h)| *h.value()))
                    .collect::<Result<_, _>>()?
            };
            let mut tx = db.begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            let in_step = index::is_in_step(&tx)?;
            {
                let mut table = tx.open_table(CHANGES)?;
                let mut log = tx.open_table(DOC_LOG)?;
                for h in &hashes {
                    table.remove(h)?;
                }
                let mut lo = [0u8; 40];
                lo[..32].copy_from_slice(doc.as_bytes());
                let mut hi = lo;
                hi[32..].copy_from_slice(&[0xff; 8]);
                log.retain_in::<&[u8; 40], _>(&lo..=&hi, |_, _| false)?;
            }
            docs::remove_meta(&tx, doc)?;
            index::remove_member(&tx, doc, in_step)?;
            tx.commit()?;
            Ok(())
        })
    }

    pub fn set_blocked(&self, member: &MemberId, blocked: bool) -> Result<(), Error> {
        self.writing(|db| {
            let mut tx = db.begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            {
                let mut t = tx.open_table(BLOCKED)?;
                if blocked {
                    t.insert(member.as_bytes(), ())?;
                } else {
                    t.remove(member.as_bytes())?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    pub fn blocked(&self) -> Result<Vec<MemberId>, Error> {
        self.reading(read_blocked)
    }

    /// Writes remembered peers (replacing what was stored for each) and
    /// forgets `removed`, in one durable commit.
    pub fn update_peers(&self, upserts: &[StoredPeer], removed: &[String]) -> Result<(), Error> {
        self.writing(|db| {
            let mut tx = db.begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            {
                let mut t = tx.open_table(KNOWN_PEERS)?;
                for p in upserts {
                    t.insert(p.peer.as_str(), (p.synced_at, p.addrs.join("\n").as_str()))?;
                }
                for p in removed {
                    t.remove(p.as_str())?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Remembered peers, in peer id order.
    pub fn known_peers(&self) -> Result<Vec<StoredPeer>, Error> {
        self.reading(read_peers)
    }
}

#[cfg(test)]
mod tests {
    use mutu_protocol::Timestamp;
    use mutu_protocol::doc::MemberDoc;
    use mutu_protocol::identity::{ReplicaNonce, SecretKey};
    use mutu_protocol::record::{Body, Need, Record};
    use mutu_protocol::registry::{Registry, Trust};

    use super::*;

    fn need_body(title: &str) -> Body {
        Body::Need(Need::titled(title))
    }

    fn change(key: &SecretKey, title: &str) -> SignedChange {
        let record = Record::new(
            key.member_id(),
            [7; 16],
            Timestamp::from_millis(1_000),
            need_body(title),
        )
        .sign(key)
        .unwrap();
        MemberDoc::new(key.member_id())
            .write(key, &ReplicaNonce([1; 16]), &[record], Timestamp::from_millis(1_000))
            .unwrap()
    }

    #[test]
    fn a_scan_hands_over_whole_documents_in_bounded_batches() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.redb")).unwrap();
        let mut registry = Registry::new();
        let now = Timestamp::from_millis(2_000);
        // Members with 3, 1, 2 and 1 changes, each change on top of the last.
        for (n, count) in [3usize, 1, 2, 1].into_iter().enumerate() {
            let key = SecretKey::from_bytes(&[n as u8 + 10; 32]);
            for i in 0..count {
                let record = Record::new(key.member_id(), [i as u8; 16], now, need_body(&format!("need {i}")))
                    .sign(&key)
                    .unwrap();
                let doc = registry
                    .doc(&key.member_id())
                    .cloned()
                    .unwrap_or_else(|| MemberDoc::new(key.member_id()));
                let c = doc.write(&key, &ReplicaNonce([1; 16]), &[record], now).unwrap();
                registry
                    .admit(vec![c], now, Trust::Untrusted, |c| {
                        store.put_changes(c.admitted).map(drop)
                    })
                    .unwrap();
            }
        }
        let all = store.all_changes().unwrap();
        assert_eq!(all.len(), 7);
        let size_of = |b: &[SignedChange]| b.iter().map(|c| c.change_bytes().len()).sum::<usize>();
        let one = size_of(&all[..1]);
        for size in [1, one, 2 * one, 3 * one, 100 * one] {
            let mut batches: Vec<Vec<SignedChange>> = Vec::new();
            store
                .scan_changes(size, |b| {
                    batches.push(b);
                    Ok::<(), Error>(())
                })
                .unwrap();
            assert_eq!(batches.concat(), all, "batch size {size}");
            let docs_of = |b: &[SignedChange]| b.iter().map(|c| c.doc()).collect::<std::collections::BTreeSet<_>>();
            for (i, b) in batches.iter().enumerate() {
                // No document is split across batches.
                for other in &batches[i + 1..] {
                    assert!(docs_of(b).is_disjoint(&docs_of(other)), "batch size {size}");
                }
                if i + 1 < batches.len() {
                    assert!(size_of(b) >= size, "batch size {size}: {} bytes", size_of(b));
                    let last = b.last().unwrap().doc();
                    let before_last: Vec<_> = b.iter().filter(|c| c.doc() != last).cloned().collect();
                    assert!(size_of(&before_last) < size, "batch size {size}: handed over too late");
                }
            }
        }
        // An error from `each` stops the scan and comes back as is.
        let mut calls = 0;
        let err = store.scan_changes(1, |_| {
            calls += 1;
            Err(Error::Damaged("stop".into()))
        });
        assert!(matches!(err, Err(Error::Damaged(_))));
        assert_eq!(calls, 1);
    }

    #[test]
    fn a_page_stops_at_its_byte_budget_and_says_there_is_more() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.redb")).unwrap();
        let changes: Vec<SignedChange> = (0..5u8)
            .map(|n| change(&SecretKey::from_bytes(&[20 + n; 32]), &format!("need {n}")))
            .collect();
        let admitted: Vec<Admitted> = changes
            .iter()
            .map(|c| Admitted {
                change: c.clone(),
                hash: c.decode().unwrap().hash(),
            })
            .collect();
        store.put_changes(&admitted).unwrap();
        let hashes: Vec<[u8; 32]> = admitted.iter().map(|a| a.hash.0).collect();
        let size = |i: usize| changes[i].size();
        let all = store.changes_page(&hashes, usize::MAX, usize::MAX, 0).unwrap();
        assert_eq!((all.changes.clone(), all.more), (changes.clone(), false));
        assert_eq!(all.bytes_read, (0..5).map(size).sum::<usize>() as u64);
        // Two fit: the third is read, left out, and announced.
        let two = store
            .changes_page(&hashes, size(0) + size(1) + 20, usize::MAX, 10)
            .unwrap();
        assert_eq!((two.changes, two.more), (changes[..2].to_vec(), true));
        assert_eq!(two.bytes_read, (size(0) + size(1) + size(2)) as u64);
        // The first is always taken; the count bound cuts too.
        let one = store.changes_page(&hashes, 1, usize::MAX, 0).unwrap();
        assert_eq!((one.changes.len(), one.more), (1, true));
        let counted = store.changes_page(&hashes, usize::MAX, 3, 0).unwrap();
        assert_eq!((counted.changes, counted.more), (changes[..3].to_vec(), true));
        // Unknown hashes are skipped, order is kept.
        let some = store
            .changes_page(&[[9; 32], hashes[3], [8; 32], hashes[1]], usize::MAX, usize::MAX, 0)
            .unwrap();
        assert_eq!(
            (some.changes, some.more),
            (vec![changes[3].clone(), changes[1].clone()], false)
        );
    }

    /// A store as mutu wrote it before formats were recorded (format 1):
    /// the tables of then, a claimed address in `peers`, one change.
    fn format_1_store(path: &Path, key: &SecretKey) -> SignedChange {
        let c = change(key, "Written by format 1");
        let hash = automerge::Change::from_bytes(c.change_bytes().to_vec()).unwrap().hash();
        let db = Database::create(path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            tx.open_table(CHANGES)
                .unwrap()
                .insert(&hash.0, encode(&c).as_slice())
                .unwrap();
            let mut key40 = [0u8; 40];
            key40[..32].copy_from_slice(c.doc().as_bytes());
            tx.open_table(DOC_LOG).unwrap().insert(&key40, &hash.0).unwrap();
            tx.open_table(META).unwrap().insert(NEXT_ARRIVAL, 1).unwrap();
            tx.open_table(OLD_PEERS)
                .unwrap()
                .insert("12D3KooWclaimed", "/ip4/203.0.113.9/tcp/4001")
                .unwrap();
        }
        tx.commit().unwrap();
        c
    }

    #[test]
    fn a_store_of_the_first_format_is_migrated_in_one_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let key = SecretKey::from_bytes(&[5; 32]);
        let c = format_1_store(&path, &key);

        let store = Store::open(&path).unwrap();
        assert_eq!(store.format().unwrap(), FORMAT);
        let tables: Vec<String> = store
            .db()
            .unwrap()
            .begin_read()
            .unwrap()
            .list_tables()
            .unwrap()
            .map(|t| redb::TableHandle::name(&t).to_owned())
            .collect();
        assert!(!tables.contains(&"peers".to_owned()), "{tables:?}");
        assert!(tables.contains(&"equivocations".to_owned()), "{tables:?}");
        assert_eq!(
            store.all_changes().unwrap(),
            [c],
            "the change written by format 1 is still there"
        );
        drop(store);
        // Opening again finds the format recorded: nothing to do.
        assert_eq!(Store::open(&path).unwrap().format().unwrap(), FORMAT);
    }

    #[test]
    fn a_store_from_a_newer_mutu_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        drop(Store::open(&path).unwrap());
        {
            let db = Database::create(&path).unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(META).unwrap().insert(FORMAT_KEY, FORMAT + 1).unwrap();
            tx.commit().unwrap();
        }
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(err, Error::NewerFormat { found, .. } if found == FORMAT + 1),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("written by a newer mutu") && text.contains("upgrade"),
            "{text}"
        );
        // Refusing changed nothing: still the newer format.
        let db = Database::create(&path).unwrap();
        let format = db
            .begin_read()
            .unwrap()
            .open_table(META)
            .unwrap()
            .get(FORMAT_KEY)
            .unwrap();
        assert_eq!(format.map(|v| v.value()), Some(FORMAT + 1));
    }

    fn numbered_change(n: u64) -> Admitted {
        let mut seed = [7u8; 32];
        seed[..8].copy_from_slice(&n.to_le_bytes());
        let c = change(&SecretKey::from_bytes(&seed), &format!("need {n}"));
        let hash = c.decode().unwrap().hash();
        Admitted { change: c, hash }
    }

    /// Changes in document order (the store lists them by document).
    fn sorted(mut changes: Vec<SignedChange>) -> Vec<SignedChange> {
        changes.sort_by_key(|c| c.doc());
        changes
    }

    /// Fills a 4 MiB tmpfs holding the store: the write that finds no
    /// space says so and commits nothing, reads go on, the next write after
    /// space is freed succeeds on the same `Store`, and every write
    /// acknowledged is there after a reopen.
    #[test]
    fn a_full_disk_fails_writes_clearly_keeps_reads_and_recovers_without_a_restart() {
        let fs = match crate::tmpfs::Tmpfs::mount(4 << 20) {
            Ok(fs) => fs,
            Err(why) => {
                eprintln!("skipped: {why}");
                return;
            }
        };
        let path = fs.path().join("store.redb");
        let store = Store::open(&path).unwrap();
        let mut acked = Vec::new();
        let mut n = 0;
        for _ in 0..5 {
            store.put_changes(&[numbered_change(n)]).unwrap();
            acked.push(numbered_change(n).change);
            n += 1;
        }
        let ballast = fs.fill("ballast");
        let err = loop {
            assert!(n < 100_000, "the disk never filled");
            let a = numbered_change(n);
            match store.put_changes(std::slice::from_ref(&a)) {
                Ok(_) => acked.push(a.change),
                Err(e) => break e,
            }
            n += 1;
        };
        assert!(matches!(err, Error::DiskFull { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("no space left on the device holding")
                && text.contains(&fs.path().display().to_string())
                && text.contains("nothing was written"),
            "{text}"
        );
        // Reads work while the disk is full, and see every acknowledged write.
        assert_eq!(sorted(store.all_changes().unwrap()), sorted(acked.clone()));
        assert_eq!(store.change_count().unwrap(), acked.len() as u64);
        assert!(
            store.reopens() >= 1,
            "redb refuses a handle after an I/O error: the store reopened it"
        );
        // Still full: still refused, still readable.
        let again = store.put_changes(&[numbered_change(n)]).unwrap_err();
        assert!(matches!(again, Error::DiskFull { .. }), "{again:?}");
        assert_eq!(store.change_count().unwrap(), acked.len() as u64);

        std::fs::remove_file(ballast).unwrap();
        // Space is back: the same store takes writes again.
        store.put_changes(&[numbered_change(n)]).unwrap();
        acked.push(numbered_change(n).change);
        assert_eq!(sorted(store.all_changes().unwrap()), sorted(acked.clone()));
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(
            sorted(store.all_changes().unwrap()),
            sorted(acked),
            "every acknowledged write survives a reopen"
        );
    }

    /// A store file damaged at a few places (bytes flipped in the header,
    /// the tables' pages, the end) opens, or fails with an error; nothing
    /// panics, and a damaged file is named with the ways out.
    #[test]
    fn a_damaged_store_file_gives_an_error_or_opens_but_never_panics() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.redb");
        {
            let store = Store::open(&good).unwrap();
            for n in 0..40 {
                store.put_changes(&[numbered_change(n)]).unwrap();
            }
        }
        let bytes = std::fs::read(&good).unwrap();
        let len = bytes.len();
        let mut offsets = vec![
            0, 4, 9, 16, 64, 200, 512, 1000, 4096, 4200, 8192, 12_000, 16_384, 20_000,
        ];
        offsets.extend((1..16).map(|i| len * i / 16));
        offsets.push(len - 8);
        let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
        for (i, at) in offsets.into_iter().filter(|&at| at < len).enumerate() {
            let mut damaged = bytes.clone();
            for b in &mut damaged[at..(at + 16).min(len)] {
                *b ^= 0xa5;
            }
            let path = dir.path().join(format!("damaged-{i}.redb"));
            std::fs::write(&path, &damaged).unwrap();
            let outcome = std::panic::catch_unwind(|| {
                let store = Store::open(&path)?;
                store.scan_changes(1 << 20, |_| Ok::<(), Error>(()))?;
                store.all_changes().map(|c| c.len())
            });
            let outcome = outcome.unwrap_or_else(|_| panic!("opening a store damaged at byte {at} panicked"));
            let kind = match &outcome {
                Ok(_) => "opened".to_owned(),
                Err(e @ Error::Corrupt { path: p, .. }) => {
                    let text = e.to_string();
                    assert!(
                        p == &path.display().to_string()
                            && text.contains("mutu reindex")
                            && text.contains("mutu restore"),
                        "{text}"
                    );
                    "corrupt".to_owned()
                }
                Err(e) => panic!("damaged at {at}: not reported as a damaged store: {e}"),
            };
            *outcomes.entry(kind).or_default() += 1;
        }
        eprintln!("{outcomes:?}");
        assert!(
            outcomes.contains_key("corrupt") && outcomes.contains_key("opened"),
            "{outcomes:?}"
        );
    }

    /// Only redb's reads are guarded: a bug of the scan's caller still
    /// panics, rather than being reported as a damaged store.
    #[test]
    fn a_panic_of_the_scans_caller_is_not_taken_for_a_damaged_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.redb")).unwrap();
        store.put_changes(&[numbered_change(1)]).unwrap();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.scan_changes(1, |_| -> Result<(), Error> { panic!("the caller's bug") })
        }));
        assert!(caught.is_err(), "the caller's panic came back as {caught:?}");
    }

    #[test]
    fn a_second_opener_gets_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let _first = Store::open(&path).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, Error::Locked(_)), "{err}");
        assert!(err.to_string().contains("in use by another mutu process"));
    }

    #[test]
    fn admitted_changes_survive_a_reopen_and_duplicates_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let key = SecretKey::from_bytes(&[3; 32]);
        let c = change(&key, "Invoices");
        {
            let store = Store::open(&path).unwrap();
            let mut registry = Registry::new();
            let now = Timestamp::from_millis(2_000);
            let mut added = 0;
            registry
                .admit(vec![c.clone()], now, Trust::Untrusted, |c| {
                    added = store.put_changes(c.admitted)?;
                    store.put_changes(c.admitted).map(|again| assert_eq!(again, 0))
                })
                .unwrap();
            assert_eq!(added, 1);
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.all_changes().unwrap(), vec![c.clone()]);
        assert_eq!(store.doc_changes(&key.member_id()).unwrap(), vec![c]);
        assert_eq!(store.change_count().unwrap(), 1);
        store.remove_doc(&key.member_id()).unwrap();
        assert_eq!(store.change_count().unwrap(), 0);
    }
}
