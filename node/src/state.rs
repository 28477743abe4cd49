//! A member's state on this machine: identity, store and registry, with the
//! operations every front end shares (the offline CLI, the node actor, the
//! HTTP API): create, edit and retract records, resolve id prefixes, export
//! and import bundles.
//!
//! Every write follows one path: check the rules against the current views,
//! sign the record, make a signed change on the member's own document, and
//! admit it like any change from the network, persisting it with one durable
//! commit before it is applied. A write that fails leaves nothing behind.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mutu_protocol::admission::Report;
use mutu_protocol::bundle::Bundle;
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::{MemberId, ReplicaNonce, SecretKey};
use mutu_protocol::record::{self, Body, Kind, Profile, Record, RecordId, SignedRecord, Tombstone};
use mutu_protocol::registry::{self, DOC_CACHE, Registry, Source, Trust};
use mutu_protocol::rules::{self, Violation};
use mutu_protocol::view::{self, Index, Views};
use mutu_protocol::{SignedChange, Timestamp};

use crate::home::{self, Home};
use crate::search;
use crate::store::{self, Store};

/// Bytes of records one change of [`State::write_many`] carries: well
/// under [`mutu_protocol::change::MAX_CHANGE_BYTES`] (256 KiB), which also
/// counts the change's own encoding; a record is at most 64 KiB.
const CHANGE_RECORD_BUDGET: usize = 160 * 1024;

/// The wall clock, in the protocol's terms.
pub fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Timestamp::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

/// Errors of state operations. [`crate::error::Classify`] tells a caller's
/// mistake (fix the input) from a failure of the machine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Home(#[from] home::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Rule(#[from] Violation),
    #[error(transparent)]
    Invalid(#[from] record::Invalid),
    #[error("no record or member matches `{0}`: list them with `mutu ls` or `mutu search`")]
    UnknownId(String),
    #[error("`{prefix}` matches {count} records ({examples}): give more characters")]
    AmbiguousId {
        prefix: String,
        count: usize,
        examples: String,
    },
    #[error("{id} is a {found}, not a {expected}")]
    WrongKind { id: RecordId, expected: Kind, found: Kind },
    #[error("the change was not admitted: {0}")]
    NotAdmitted(String),
    #[error(transparent)]
    Bundle(#[from] mutu_protocol::bundle::Error),
    #[error("document: {0}")]
    Doc(#[from] mutu_protocol::doc::Error),
    #[error("the node has stopped: its store is closed")]
    Closed,
    #[error("you cannot block yourself")]
    BlockSelf,
}

/// The one candidate whose text starts with `prefix` (longer than `min_len`).
fn unique_match<T: Copy + Ord + ToString>(
    prefix: String,
    candidates: impl Iterator<Item = T>,
    min_len: usize,
) -> Result<T, Error> {
    let mut found: Vec<T> = if prefix.len() > min_len {
        candidates.filter(|c| c.to_string().starts_with(&prefix)).collect()
    } else {
        Vec::new()
    };
    found.sort();
    match found.len() {
        0 => Err(Error::UnknownId(prefix)),
        1 => Ok(found[0]),
        count => Err(Error::AmbiguousId {
            prefix,
            count,
            examples: found
                .iter()
                .take(3)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Resolves a unique prefix of a record id (visible or retracted).
fn resolve(index: &Index, prefix: &str) -> Result<RecordId, Error> {
    let prefix = prefix.trim().to_ascii_lowercase();
    if let Ok(id) = prefix.parse::<RecordId>()
        && index.get_any(&id).is_some()
    {
        return Ok(id);
    }
    unique_match(prefix, index.all_valid().map(SignedRecord::id), 0)
}

/// Resolves a record id prefix that must be of `kind`.
fn resolve_kind(index: &Index, prefix: &str, kind: Kind) -> Result<RecordId, Error> {
    let id = resolve(index, prefix)?;
    match index.get_any(&id).map(|r| r.record().kind) {
        Some(k) if k != kind => Err(Error::WrongKind {
            id,
            expected: kind,
            found: k,
        }),
        _ => Ok(id),
    }
}

/// Resolves a member id, or a unique prefix of a known member's id.
fn resolve_member(index: &Index, prefix: &str) -> Result<MemberId, Error> {
    let prefix = prefix.trim().to_ascii_lowercase();
    if let Ok(m) = prefix.parse::<MemberId>() {
        return Ok(m);
    }
    unique_match(prefix, index.members().copied(), 2)
}

/// A record left out of the views, as `registry.json` lists it.
#[derive(Debug, Clone)]
pub struct LeftOut {
    /// The document it was found in.
    pub doc: MemberId,
    /// Its key in that document.
    pub key: String,
    pub reason: record::Invalid,
    /// The value's bytes, if the document still holds them.
    pub bytes: Option<Vec<u8>>,
}

/// A reader's copy of a [`State`] ([`State::snapshot`]): the member, the
/// index as it was when taken (shared, copy-on-write: later writes do not
/// change it), and read access to the store. Readers (pages, the API,
/// exports, the remote CLI) take one from the node actor and do their work
/// outside it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    home: Home,
    member: MemberId,
    index: Arc<Index>,
    /// Weak, so a snapshot kept somewhere never holds the store (and its
    /// lock) open after the state is gone.
    store: Weak<Store>,
    /// The full-text index as last committed (`None`: it could not be
    /// opened; search scans the records).
    search: Option<search::Reader>,
}

impl Snapshot {
    pub fn home(&self) -> &Home {
        &self.home
    }

    pub fn member_id(&self) -> MemberId {
        self.member
    }

    /// Every record, as indexed when the snapshot was taken.
    pub fn index(&self) -> &Index {
        &self.index
    }

    pub fn views(&self, now: Timestamp) -> Views<'_> {
        Views::new(&self.index, now)
    }

    /// As [`State::resolve`].
    pub fn resolve(&self, prefix: &str) -> Result<RecordId, Error> {
        resolve(&self.index, prefix)
    }

    /// Full-text search (see [`search`]): every word, stemmed, ranked;
    /// records retracted since are left out. Without a usable full-text
    /// index, a scan of the records ([`Views::search`]).
    pub fn search(&self, text: &str, filter: &view::Filter) -> Vec<view::Hit> {
        if let Some(reader) = &self.search {
            match reader.search(&self.index, text, filter) {
                Ok(hits) => return hits,
                Err(e) => tracing::warn!(error = %e, "full-text search failed: scanning the records instead"),
            }
        }
        Views::new(&self.index, Timestamp::from_millis(0)).search(text, filter)
    }

    /// As [`State::resolve_kind`].
    pub fn resolve_kind(&self, prefix: &str, kind: Kind) -> Result<RecordId, Error> {
        resolve_kind(&self.index, prefix, kind)
    }

    /// As [`State::resolve_member`].
    pub fn resolve_member(&self, prefix: &str) -> Result<MemberId, Error> {
        resolve_member(&self.index, prefix)
    }

    fn store(&self) -> Result<Arc<Store>, Error> {
        self.store.upgrade().ok_or(Error::Closed)
    }

    /// The proofs that `member` signed two histories, as the store holds
    /// them now (read from the store, not from the moment of the snapshot).
    pub fn equivocations(&self, member: &MemberId) -> Result<Vec<store::Evidence>, Error> {
        Ok(self.store()?.equivocations(member)?)
    }

    /// Every document the store holds now, as a bundle (as [`State::export`]).
    /// Reads the whole store: run it on a blocking thread.
    pub fn export(&self) -> Result<Bundle, Error> {
        Ok(Bundle::from_changes(self.store()?.all_changes()?))
    }
}

/// Logs why full-text search is off (search scans the records instead).
fn search_off(e: impl std::fmt::Display) {
    tracing::warn!(error = %e, "full-text search is off until the next start: search scans the records");
}

impl Drop for State {
    fn drop(&mut self) {
        self.flush_search(now());
    }
}

/// Identity + store + registry of one home.
#[derive(Debug)]
pub struct State {
    home: Home,
    key: SecretKey,
    replica: ReplicaNonce,
    /// Shared with snapshots, which read through a weak reference: the
    /// store closes when the state is dropped.
    store: Arc<Store>,
    registry: Registry,
    /// Changes made here, waiting to be published (bounded by [`MAX_OUTBOX`]).
    outbox: Vec<SignedChange>,
    /// The full-text index (`None` if it cannot be written: search scans).
    search: Option<search::Engine>,
}

/// Change bytes read back and admitted together when a home is opened (whole
/// documents, handed over once this much is read), so opening a large store
/// never decodes it all at once. Smaller batches leave less freed memory
/// behind: on 50 000 records in changes of 25 (9.6 KB each), batches of 1 024
/// changes left the process 1 770 B/record, 128 changes (1.2 MB)
/// 1 550 B/record, all at once 1 970 B/record. A megabyte still holds over
/// a thousand records, enough for the parallel verifier to use every core.
const OPEN_BATCH_BYTES: usize = 1024 * 1024;

/// How often [`State::open_waiting`] tries the store lock again.
const LOCK_POLL: Duration = Duration::from_millis(50);

/// Local changes kept for publishing; older ones beyond this are left to
/// anti-entropy.
pub const MAX_OUTBOX: usize = 10_000;

impl State {
    /// Creates a new member in `home` with `profile` as its first record.
    pub fn init(home: Home, profile: Profile, now: Timestamp) -> Result<Self, Error> {
        if home.is_initialised() {
            return Err(home::Error::AlreadyInitialised(home.root().to_owned()).into());
        }
        // Validate the profile before creating anything on disk.
        let probe = SecretKey::from_bytes(&[1; 32]);
        Record::new(probe.member_id(), [0; 16], now, Body::Profile(profile.clone())).sign(&probe)?;
        home.create_identity(rand::random(), rand::random())?;
        let mut state = Self::open(home)?;
        state.create(Body::Profile(profile), now)?;
        Ok(state)
    }

    /// Opens an initialised home and rebuilds the registry from the store.
    /// What the store holds never stops it: a change that cannot be read or
    /// applied (stored by an older version that admitted it) is skipped and
    /// logged.
    ///
    /// Nothing is replayed when the store's record index is current
    /// ([`Store::load_index`]): the index is read from its table and each
    /// document's metadata from `doc_meta` ([`Store::doc_metas`], written in
    /// the same commits), and no document is read until a change must be
    /// applied to it. A table that is missing, of an older format, out of
    /// step with the changes or damaged is rebuilt: every change is
    /// admitted again as stored ([`Trust::OwnStore`]: records decoded,
    /// signatures verified) and the index written anew.
    pub fn open(home: Home) -> Result<Self, Error> {
        let (key, replica) = home.load_identity()?;
        let store = Store::open(&home.store_path())?;
        // Lazy documents: every document's metadata stays resident, at most
        // DOC_CACHE documents besides this member's own (pinned: every local
        // write builds on it). The replay below rebuilds the index; each
        // document comes whole in one batch, so it is built once and then
        // evicted, never read back.
        let mut registry = Registry::with_cache(Arc::new(crate::verify::Parallel::new()), DOC_CACHE);
        registry.pin(key.member_id());
        let blocked = store.blocked()?;
        let opened_at = now();
        let index = match store.load_index(&blocked) {
            Ok(index) => index,
            Err(e) => {
                tracing::warn!(error = %e, "the stored record index does not read back: indexing the store again from its changes");
                None
            }
        };
        let restored = match index {
            Some(index) => match store.doc_metas() {
                Ok(metas) => {
                    registry.restore_metas(metas.into_iter().filter(|(m, _)| !blocked.contains(m)));
                    registry.set_index(index);
                    // This member's own document (pinned): every local
                    // write builds on it. Read at the first write otherwise.
                    if let Err(e) = registry.load(&key.member_id(), &store) {
                        tracing::warn!(error = %e, "this member's document does not read back yet");
                    }
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the documents' metadata does not read back: replaying the stored changes");
                    false
                }
            },
            None => false,
        };
        let mut skipped = 0usize;
        if !restored {
            tracing::info!("indexing the stored changes (the store holds no current index)");
            // Whether the rebuilt index is being written (a full disk must
            // not stop a home from opening: it is then rebuilt next time).
            let mut writing = store
                .clear_index()
                .inspect_err(|e| tracing::warn!(error = %e, "the record index cannot be written: kept in memory only"))
                .is_ok();
            store.scan_changes(OPEN_BATCH_BYTES, |mut changes| {
                changes.retain(|c| !blocked.contains(&c.doc()));
                let persist = |c: &registry::Commit<'_>| {
                    if writing && let Err(e) = store.put_index(c.index) {
                        tracing::warn!(error = %e, "the record index cannot be written: kept in memory only");
                        writing = false;
                    }
                    Ok(())
                };
                let report = registry.admit_with(changes, opened_at, Trust::OwnStore, &store, persist)?;
                for r in &report.rejected {
                    tracing::warn!(member = %r.doc, reason = %r.reason, "a stored change cannot be applied: skipped");
                }
                skipped += report.rejected.len();
                Ok::<(), Error>(())
            })?;
            if writing && let Err(e) = store.stamp_index() {
                tracing::warn!(error = %e, "the rebuilt record index cannot be marked current: rebuilt again next time");
            }
        }
        if skipped > 0 {
            tracing::warn!(
                skipped,
                "opened the home without the stored changes that cannot be applied"
            );
        }
        let search = store
            .arrivals()
            .map_err(search_off)
            .and_then(|generation| {
                let dir = home.root().join(search::DIR);
                search::Engine::open(&dir, registry.index(), generation, opened_at).map_err(search_off)
            })
            .ok();
        Ok(Self {
            home,
            key,
            replica,
            store: Arc::new(store),
            registry,
            outbox: Vec::new(),
            search,
        })
    }

    /// [`State::open`], waiting up to `patience` while another mutu process
    /// holds the store (an offline command that reads it for a moment), so
    /// that starting a node does not fail because `mutu ls` ran at the same
    /// time. Any other error, or the lock still held after `patience`, is
    /// returned as is.
    pub fn open_waiting(home: Home, patience: Duration) -> Result<Self, Error> {
        let started = Instant::now();
        let mut said = false;
        loop {
            match Self::open(home.clone()) {
                Err(Error::Store(store::Error::Locked(path))) if started.elapsed() < patience => {
                    if !said {
                        tracing::warn!(store = %path, ?patience, "waiting for another mutu process to release the store");
                        said = true;
                    }
                    std::thread::sleep(LOCK_POLL);
                }
                opened => return opened,
            }
        }
    }

    pub fn home(&self) -> &Home {
        &self.home
    }

    pub fn member_id(&self) -> MemberId {
        self.key.member_id()
    }

    pub fn secret_key(&self) -> &SecretKey {
        &self.key
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn views(&self, now: Timestamp) -> Views<'_> {
        Views::new(self.registry.index(), now)
    }

    /// Resolves a unique prefix of a record id (visible or retracted).
    pub fn resolve(&self, prefix: &str) -> Result<RecordId, Error> {
        resolve(self.registry.index(), prefix)
    }

    /// Resolves a record id prefix that must be of `kind`.
    pub fn resolve_kind(&self, prefix: &str, kind: Kind) -> Result<RecordId, Error> {
        resolve_kind(self.registry.index(), prefix, kind)
    }

    /// Resolves a member id, or a unique prefix of a known member's id.
    pub fn resolve_member(&self, prefix: &str) -> Result<MemberId, Error> {
        resolve_member(self.registry.index(), prefix)
    }

    /// What readers need, as it is now: cheap (the index is shared until
    /// the next write copies it), and read outside whatever owns the state.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            home: self.home.clone(),
            member: self.member_id(),
            index: self.registry.snapshot(),
            store: Arc::downgrade(&self.store),
            search: self.search.as_ref().map(search::Engine::reader),
        }
    }

    /// The records left out of the views (invalid or unsupported), with
    /// the bytes their document holds for them.
    pub fn left_out(&self) -> Vec<LeftOut> {
        let mut by_doc: std::collections::HashMap<MemberId, Vec<(String, record::Invalid)>> =
            std::collections::HashMap::new();
        for (doc, key, reason) in self.registry.index().invalid() {
            by_doc.entry(*doc).or_default().push((key.to_owned(), reason.clone()));
        }
        let mut left = Vec::new();
        for (doc, keys) in by_doc {
            let mut entries: std::collections::HashMap<String, Vec<u8>> = self
                .registry
                .doc(&doc)
                .map(|d| d.entries().into_iter().collect())
                .unwrap_or_default();
            for (key, reason) in keys {
                let bytes = entries.remove(&key);
                left.push(LeftOut {
                    doc,
                    key,
                    reason,
                    bytes,
                });
            }
        }
        left
    }

    /// Signs `records` into one change of the member's own document and
    /// admits it (durably stored before applied), then queues it for the
    /// network.
    fn write(&mut self, records: Vec<SignedRecord>, now: Timestamp) -> Result<(), Error> {
        self.write_groups(&[&records], now)
    }

    /// Signs each group of records into one change, chained, and admits
    /// them together: persisted with one durable commit, all or nothing.
    fn write_groups(&mut self, groups: &[&[SignedRecord]], now: Timestamp) -> Result<(), Error> {
        let me = self.member_id();
        let store = &*self.store;
        let doc = self
            .registry
            .load(&me, store)?
            .cloned()
            .unwrap_or_else(|| MemberDoc::new(me));
        let changes = doc.write_chain(&self.key, &self.replica, groups, now)?;
        let admitted = self
            .registry
            .admit_with(changes.clone(), now, Trust::Untrusted, store, |c| {
                store.put_commit(c).map(|_| ())
            });
        let report = match admitted {
            Ok(report) => report,
            Err(e) => {
                // The commit failed (a full disk): the changes must not wait
                // to be retried.
                for change in &changes {
                    if let Ok(decoded) = change.decode() {
                        self.registry.forget_pending(&me, &decoded.hash());
                    }
                }
                // redb may fail after the commit's pages reached the file
                // (at the sync): the reopened store then holds the changes
                // (one commit: all or none), and they must be applied here
                // too, or the member's next write would reuse a sequence
                // number (two histories).
                let landed = self
                    .store
                    .doc_changes(&me)
                    .is_ok_and(|cs| changes.iter().all(|c| cs.contains(c)));
                if !landed {
                    return Err(e.into());
                }
                tracing::warn!(error = %e, "the store reported a failed commit that reached the file: the write is kept");
                self.registry
                    .admit_with(changes.clone(), now, Trust::Untrusted, &*self.store, |_| Ok(()))?
            }
        };
        if let Some(r) = report.rejected.first() {
            return Err(Error::NotAdmitted(r.reason.to_string()));
        }
        if report.admitted.len() < changes.len() {
            return Err(Error::NotAdmitted("the change waits for dependencies".into()));
        }
        self.index_text(&report, now, true);
        self.queue_outgoing(changes);
        Ok(())
    }

    fn queue_outgoing(&mut self, changes: Vec<SignedChange>) {
        self.outbox.extend(changes);
        if self.outbox.len() > MAX_OUTBOX {
            // Anti-entropy delivers what gossip does not carry.
            let excess = self.outbox.len() - MAX_OUTBOX;
            self.outbox.drain(..excess);
        }
    }

    /// Changes made here (local writes, imports) since the last call, for
    /// the node to publish. Changes received from peers are not queued:
    /// gossipsub forwards those itself.
    pub fn take_outgoing(&mut self) -> Vec<SignedChange> {
        std::mem::take(&mut self.outbox)
    }

    /// Creates a new record after checking the rules. Returns its id.
    pub fn create(&mut self, body: Body, now: Timestamp) -> Result<RecordId, Error> {
        rules::check(&self.views(now), self.member_id(), &body, None)?;
        let record = Record::new(self.member_id(), rand::random(), now, body).sign(&self.key)?;
        let id = record.id();
        self.write(vec![record], now)?;
        Ok(id)
    }

    /// Replaces one of the member's own records with an edited version.
    pub fn edit(
        &mut self,
        id: RecordId,
        now: Timestamp,
        edit: impl FnOnce(&mut Body) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let previous = self
            .registry
            .index()
            .get_any(&id)
            .cloned()
            .ok_or_else(|| Error::UnknownId(id.to_string()))?;
        let mut body = previous.record().body.clone();
        edit(&mut body)?;
        rules::check(&self.views(now), self.member_id(), &body, Some(&previous))?;
        let record = previous.record().edit(now, body)?.sign(&self.key)?;
        self.write(vec![record], now)
    }

    /// Creates (id `None`) or replaces (id `Some`) several of the member's
    /// own records: signed into as many chained changes as their size needs,
    /// admitted as one batch (one durable commit, all or nothing).
    /// Each is checked against the views as they were before the batch.
    /// Gives the ids, in order.
    pub fn write_many(&mut self, items: Vec<(Option<RecordId>, Body)>, now: Timestamp) -> Result<Vec<RecordId>, Error> {
        let mut records = Vec::with_capacity(items.len());
        {
            let views = self.views(now);
            for (id, body) in items {
                let record = match id {
                    None => {
                        rules::check(&views, self.member_id(), &body, None)?;
                        Record::new(self.member_id(), rand::random(), now, body)
                    }
                    Some(id) => {
                        let previous = self
                            .registry
                            .index()
                            .get_any(&id)
                            .ok_or_else(|| Error::UnknownId(id.to_string()))?;
                        rules::check(&views, self.member_id(), &body, Some(previous))?;
                        previous.record().edit(now, body)?
                    }
                };
                records.push(record.sign(&self.key)?);
            }
        }
        let ids = records.iter().map(SignedRecord::id).collect();
        // Groups of records that fit one change each, admitted together.
        let mut groups: Vec<&[SignedRecord]> = Vec::new();
        let (mut start, mut bytes) = (0, 0);
        for (i, r) in records.iter().enumerate() {
            let size = r.stored_bytes().len();
            if i > start && bytes + size > CHANGE_RECORD_BUDGET {
                groups.push(&records[start..i]);
                (start, bytes) = (i, 0);
            }
            bytes += size;
        }
        groups.push(&records[start..]);
        self.write_groups(&groups, now)?;
        Ok(ids)
    }

    /// Retracts one of the member's own records with a tombstone.
    pub fn retract(&mut self, id: RecordId, now: Timestamp) -> Result<RecordId, Error> {
        self.create(Body::Tombstone(Tombstone { target: id }), now)
    }

    /// Every document this home holds, as a bundle.
    pub fn export(&self) -> Result<Bundle, Error> {
        Ok(Bundle::from_changes(self.store.all_changes()?))
    }

    /// Admits a bundle's changes by the network's rules. Idempotent.
    pub fn import(&mut self, bundle: &Bundle, now: Timestamp) -> Result<Report, Error> {
        self.import_changes(bundle.changes(), now)
    }

    /// Admits a bundle's changes, already parsed (the node parses bundles
    /// outside its actor), and queues them for publishing.
    pub fn import_changes(&mut self, changes: Vec<SignedChange>, now: Timestamp) -> Result<Report, Error> {
        let store = &*self.store;
        let mut admitted = Vec::new();
        let report = self.registry.admit_with(changes, now, Trust::Untrusted, store, |c| {
            store.put_commit(c)?;
            admitted.extend(c.admitted.iter().map(|a| a.change.clone()));
            Ok(())
        })?;
        self.queue_outgoing(admitted);
        self.keep_evidence(&report, now);
        self.index_text(&report, now, true);
        Ok(report)
    }

    /// Admits changes handed over locally (tests, tools): every rule, the
    /// local share of the pending buffer.
    pub fn admit(&mut self, changes: Vec<SignedChange>, now: Timestamp) -> Result<Report, Error> {
        self.admit_with(changes, now, Trust::Untrusted)
    }

    /// Admits changes received from a peer (the node actor's path): every
    /// rule, that peer's share of the pending buffer.
    pub fn admit_from(&mut self, peer: Source, changes: Vec<SignedChange>, now: Timestamp) -> Result<Report, Error> {
        self.admit_with(changes, now, Trust::Peer(peer))
    }

    fn admit_with(&mut self, changes: Vec<SignedChange>, now: Timestamp, trust: Trust) -> Result<Report, Error> {
        let store = &*self.store;
        let report = self
            .registry
            .admit_with(changes, now, trust, store, |c| store.put_commit(c).map(|_| ()))?;
        self.keep_evidence(&report, now);
        self.index_text(&report, now, trust == Trust::Untrusted);
        Ok(report)
    }

    /// Brings the full-text index up to date with the documents `report`
    /// admitted into; commits at once if `now_visible` (a local write, to
    /// be found by the next search), else when due
    /// ([`search::COMMIT_EVERY_MS`]). A failure turns full-text search off
    /// until the next open, which rebuilds it: search then scans.
    fn index_text(&mut self, report: &Report, now: Timestamp, now_visible: bool) {
        if report.admitted.is_empty() {
            return;
        }
        let Some(engine) = &mut self.search else { return };
        let mut docs: Vec<MemberId> = report.admitted.iter().map(|(m, _)| *m).collect();
        docs.sort();
        docs.dedup();
        let done = engine.update(self.registry.index(), docs).and_then(|()| {
            let generation = self.store.arrivals().map_err(|e| search::Error::Store(e.to_string()))?;
            if now_visible {
                engine.commit(generation, now)
            } else {
                engine.commit_due(generation, now)
            }
        });
        if let Err(e) = done {
            search_off(e);
            self.search = None;
        }
    }

    /// Commits what the full-text index holds uncommitted (the node's
    /// timer, and when the state closes).
    pub fn flush_search(&mut self, now: Timestamp) {
        let Some(engine) = &mut self.search else { return };
        if !engine.is_dirty() {
            return;
        }
        let done = self
            .store
            .arrivals()
            .map_err(|e| search::Error::Store(e.to_string()))
            .and_then(|generation| engine.commit(generation, now));
        if let Err(e) = done {
            search_off(e);
            self.search = None;
        }
    }

    /// Stores the proofs of the equivocations admission found. A failure
    /// to store them is logged: the changes themselves are unaffected.
    fn keep_evidence(&self, report: &Report, now: Timestamp) {
        if report.equivocations.is_empty() {
            return;
        }
        for e in &report.equivocations {
            tracing::warn!(member = %e.doc, seq = e.seq, "a member signed two histories (kept as evidence)");
        }
        if let Err(e) = self.store.put_equivocations(&report.equivocations, now) {
            tracing::error!(error = %e, "could not store the evidence of an equivocation");
        }
    }

    /// The proofs that `member` signed two histories, as kept here.
    pub fn equivocations(&self, member: &MemberId) -> Result<Vec<store::Evidence>, Error> {
        Ok(self.store.equivocations(member)?)
    }

    /// Drops changes that waited too long for their dependencies.
    pub fn expire_pending(&mut self, now: Timestamp) -> usize {
        self.registry.expire_pending(now)
    }

    /// Blocks a member: drops its document here and never takes it again.
    /// Blocks `member` (never this node's own member): its documents are
    /// dropped here and never taken again.
    pub fn block(&mut self, member: &MemberId) -> Result<(), Error> {
        if *member == self.member_id() {
            return Err(Error::BlockSelf);
        }
        self.store.set_blocked(member, true)?;
        self.evict(member)
    }

    /// Drops a member's documents here without blocking it (it left the
    /// trust set of a `trusted` node): peers still hold them, and a sync
    /// brings them back if it comes back into the set.
    pub fn evict(&mut self, member: &MemberId) -> Result<(), Error> {
        self.store.remove_doc(member)?;
        self.registry.remove_doc(member);
        if let Some(engine) = &mut self.search {
            engine.remove(member);
            self.flush_search(now());
        }
        Ok(())
    }

    pub fn unblock(&mut self, member: &MemberId) -> Result<(), Error> {
        Ok(self.store.set_blocked(member, false)?)
    }
}

#[cfg(test)]
mod tests {
    use mutu_protocol::record::{MemberKind, Need};

    use super::*;
    use crate::error::{Class, Classify};

    fn need(title: &str) -> Body {
        Body::Need(Need::titled(title))
    }

    fn profile(name: &str) -> Profile {
        Profile {
            name: name.into(),
            member_kind: MemberKind::Association,
            country: Some("FR".into()),
            sectors: vec![],
            website: None,
            description: String::new(),
        }
    }

    /// More members than the document cache holds, imported: every
    /// document's metadata is resident and stored, at most `DOC_CACHE`
    /// documents besides this member's own stay loaded, and a fresh open
    /// gives the same metadata as the live registry (and the store's).
    #[test]
    fn documents_stay_bounded_and_a_reopen_gives_the_same_metas() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(dir.path().join("home"))).unwrap();
        let mut state = State::init(home.clone(), profile("Me"), now()).unwrap();
        let at = now();
        let changes: Vec<SignedChange> = (0..DOC_CACHE as u32 + 20)
            .map(|n| {
                let mut seed = [7u8; 32];
                seed[..4].copy_from_slice(&n.to_be_bytes());
                let key = SecretKey::from_bytes(&seed);
                let record = Record::new(
                    key.member_id(),
                    [1; 16],
                    at,
                    Body::Profile(profile(&format!("member {n}"))),
                )
                .sign(&key)
                .unwrap();
                MemberDoc::new(key.member_id())
                    .write(&key, &ReplicaNonce([2; 16]), &[record], at)
                    .unwrap()
            })
            .collect();
        let report = state.import_changes(changes, at).unwrap();
        assert_eq!(report.admitted.len(), DOC_CACHE + 20, "{report:?}");
        state.create(need("after the import"), now()).unwrap();
        let metas = |st: &State| st.registry().metas().map(|(m, d)| (*m, d.clone())).collect::<Vec<_>>();
        let live = metas(&state);
        assert_eq!(live.len(), DOC_CACHE + 21);
        assert_eq!(state.store().doc_metas().unwrap(), live);
        assert!(state.registry().loaded_count() <= DOC_CACHE + 1);
        let records = state.registry().index().len();
        drop(state);

        let mut state = State::open(home).unwrap();
        assert_eq!(metas(&state), live);
        assert_eq!(state.store().doc_metas().unwrap(), live);
        assert_eq!(state.registry().index().len(), records);
        assert!(
            state.registry().loaded_count() <= DOC_CACHE + 1,
            "{}",
            state.registry().loaded_count()
        );
        assert!(
            state.registry().doc(&state.member_id()).is_some(),
            "this member's document is pinned"
        );
        // Writes go on from the reopened registry.
        state.create(need("after the reopen"), now()).unwrap();
        assert_eq!(state.registry().index().len(), records + 1);
    }

    /// A home on a 4 MiB tmpfs filled up: the write that finds no space
    /// fails with the clear error and leaves nothing behind, reads go on,
    /// the same `State` writes again once space is freed, and every record
    /// acknowledged is there when the home is opened again.
    #[test]
    fn a_full_disk_fails_a_write_cleanly_and_the_state_writes_again_once_space_is_back() {
        let fs = match crate::tmpfs::Tmpfs::mount(4 << 20) {
            Ok(fs) => fs,
            Err(why) => {
                eprintln!("skipped: {why}");
                return;
            }
        };
        let home = Home::resolve(Some(fs.path().join("home"))).unwrap();
        let profile = Profile {
            name: "Full disk".into(),
            member_kind: MemberKind::Association,
            country: Some("FR".into()),
            sectors: vec![],
            website: None,
            description: String::new(),
        };
        let mut state = State::init(home.clone(), profile, now()).unwrap();
        let mut acked = Vec::new();
        for i in 0..3 {
            acked.push(state.create(need(&format!("before {i}")), now()).unwrap());
        }
        let ballast = fs.fill("ballast");
        let outbox_before = state.take_outgoing().len();
        let mut written_while_filling = 0;
        let err = loop {
            assert!(acked.len() < 100_000, "the disk never filled");
            match state.create(need(&format!("filling {}", acked.len())), now()) {
                Ok(id) => {
                    acked.push(id);
                    written_while_filling += 1;
                }
                Err(e) => break e,
            }
        };
        assert!(matches!(err, Error::Store(store::Error::DiskFull { .. })), "{err:?}");
        assert_eq!(err.class(), Class::Internal);
        let text = err.to_string();
        assert!(
            text.starts_with("no space left on the device holding ")
                && text.contains(&home.root().display().to_string())
                && text.ends_with("free some space; nothing was written"),
            "{text}"
        );
        // Nothing of the failed write is left: the views hold exactly what
        // was acknowledged, nothing waits to be published but those.
        let needs = state.views(now()).needs(&Default::default()).len();
        assert_eq!(needs, acked.len());
        assert_eq!(state.take_outgoing().len(), written_while_filling, "{outbox_before}");
        // Reads go on while the disk is full, the store's included.
        for id in &acked {
            assert!(state.registry().index().get_any(id).is_some(), "{id}");
        }
        assert_eq!(state.export().unwrap().changes().len(), acked.len() + 1);

        std::fs::remove_file(ballast).unwrap();
        acked.push(state.create(need("after"), now()).unwrap());
        drop(state);
        let state = State::open(home).unwrap();
        for id in &acked {
            assert!(
                state.registry().index().get_any(id).is_some(),
                "lost after reopening: {id}"
            );
        }
        assert_eq!(state.views(now()).needs(&Default::default()).len(), acked.len());
    }
}
