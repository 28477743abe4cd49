//! The persistent record index: the `index` table, member (32) ‖ key →
//! the slot's stored form ([`mutu_protocol::view::index::Entry::encode`]),
//! written in the same durable commit as the changes that produce it
//! ([`Store::put_commit`]), so opening a home reads it
//! ([`Store::load_index`]) instead of replaying every change.
//!
//! `meta` says whether the table describes the stored changes: its format
//! (`index_format`) and a stamp, the arrival counter and the number of
//! stored changes when it last did (`index_arrival`, `index_changes`).
//! Every commit that keeps the table in step moves the stamp with it; a
//! write that does not (an older mutu, [`Store::put_changes`]) leaves the
//! stamp behind, and the next open indexes the store again by replay.

use mutu_protocol::identity::MemberId;
use mutu_protocol::registry::Commit;
use mutu_protocol::view::Index;
use mutu_protocol::view::index::Delta;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};

use super::{CHANGES, Error, META, NEXT_ARRIVAL, Store};

pub(super) const INDEX: TableDefinition<&[u8], &[u8]> = TableDefinition::new("index");
/// The layout of the rows (and of the stamp); another value is indexed
/// again by replay.
pub const INDEX_FORMAT: u64 = 1;
const FORMAT_KEY: &str = "index_format";
const AT_KEY: &str = "index_arrival";
const CHANGES_KEY: &str = "index_changes";

/// The row key of `member`'s document key `key`.
fn row_key(member: &MemberId, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(32 + key.len());
    k.extend_from_slice(member.as_bytes());
    k.extend_from_slice(key.as_bytes());
    k
}

/// The row keys of one member's slots: document keys are UTF-8, which
/// never holds the byte 0xff.
fn member_bounds(member: &MemberId) -> (Vec<u8>, Vec<u8>) {
    let lo = member.as_bytes().to_vec();
    let mut hi = lo.clone();
    hi.push(0xff);
    (lo, hi)
}

/// Whether a stamp (format, arrival, changes) says the table describes a
/// store whose arrival counter is `next` and which holds `len` changes.
fn in_step(stamp: [Option<u64>; 3], next: u64, len: u64) -> bool {
    stamp == [Some(INDEX_FORMAT), Some(next), Some(len)]
}

/// The stamp and the store's (arrival counter, change count), in a write
/// transaction.
fn read_stamp(tx: &WriteTransaction) -> Result<([Option<u64>; 3], u64, u64), Error> {
    let meta = tx.open_table(META)?;
    let get = |k: &str| -> Result<Option<u64>, Error> { Ok(meta.get(k)?.map(|v| v.value())) };
    let stamp = [get(FORMAT_KEY)?, get(AT_KEY)?, get(CHANGES_KEY)?];
    let next = get(NEXT_ARRIVAL)?.unwrap_or(0);
    drop(meta);
    let len = tx.open_table(CHANGES)?.len()?;
    Ok((stamp, next, len))
}

/// Marks the table as describing the store as it is in `tx`.
fn write_stamp(tx: &WriteTransaction) -> Result<(), Error> {
    let next = tx.open_table(META)?.get(NEXT_ARRIVAL)?.map_or(0, |v| v.value());
    let len = tx.open_table(CHANGES)?.len()?;
    let mut meta = tx.open_table(META)?;
    meta.insert(FORMAT_KEY, INDEX_FORMAT)?;
    meta.insert(AT_KEY, next)?;
    meta.insert(CHANGES_KEY, len)?;
    Ok(())
}

/// Whether the table describes the store as it is in `tx`.
pub(super) fn is_in_step(tx: &WriteTransaction) -> Result<bool, Error> {
    let (stamp, next, len) = read_stamp(tx)?;
    Ok(in_step(stamp, next, len))
}

/// Writes `delta`'s rows in `tx`.
fn write_delta(tx: &WriteTransaction, delta: &Delta) -> Result<(), Error> {
    let mut table = tx.open_table(INDEX)?;
    for (member, doc) in delta.docs() {
        for key in doc.removed() {
            table.remove(row_key(member, key).as_slice())?;
        }
        for (key, entry) in doc.set() {
            table.insert(row_key(member, key).as_slice(), entry.encode().as_slice())?;
        }
    }
    Ok(())
}

/// Removes `member`'s rows in `tx`, keeping the stamp in step if it was.
pub(super) fn remove_member(tx: &WriteTransaction, member: &MemberId, was_in_step: bool) -> Result<(), Error> {
    let (lo, hi) = member_bounds(member);
    tx.open_table(INDEX)?
        .retain_in::<&[u8], _>(lo.as_slice()..hi.as_slice(), |_, _| false)?;
    if was_in_step {
        write_stamp(tx)?;
    }
    Ok(())
}

impl Store {
    /// Stores what one admission hands over ([`Commit`]) in one durable
    /// commit: the admitted changes (as [`Store::put_changes`]) and their
    /// index delta. Returns how many changes were new.
    pub fn put_commit(&self, commit: &Commit<'_>) -> Result<usize, Error> {
        self.writing(|db| {
            let mut tx = db.begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            let was_in_step = is_in_step(&tx)?;
            let added = Self::insert_changes(&tx, commit.admitted)?;
            super::docs::put_metas(&tx, commit.docs)?;
            write_delta(&tx, commit.index)?;
            if was_in_step {
                write_stamp(&tx)?;
            }
            tx.commit()?;
            Ok(added)
        })
    }

    /// The record index as the table holds it, without the documents of
    /// `blocked` members; `None` if the table does not describe the stored
    /// changes (never written, an older format, or changes written since
    /// without it). A row that does not read back is an error
    /// ([`Error::Damaged`]): the caller indexes the store again by replay.
    pub fn load_index(&self, blocked: &[MemberId]) -> Result<Option<Index>, Error> {
        self.reading(|db| Self::read_index(db, blocked))
    }

    fn read_index(db: &Database, blocked: &[MemberId]) -> Result<Option<Index>, Error> {
        let tx = db.begin_read()?;
        let meta = tx.open_table(META)?;
        let get = |k: &str| -> Result<Option<u64>, Error> { Ok(meta.get(k)?.map(|v| v.value())) };
        let stamp = [get(FORMAT_KEY)?, get(AT_KEY)?, get(CHANGES_KEY)?];
        let next = get(NEXT_ARRIVAL)?.unwrap_or(0);
        let len = tx.open_table(CHANGES)?.len()?;
        if !in_step(stamp, next, len) {
            return Ok(None);
        }
        let table = match tx.open_table(INDEX) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut index = Index::default();
        for row in table.iter()? {
            let (k, v) = row?;
            let k = k.value();
            let member: [u8; 32] = k
                .get(..32)
                .and_then(|m| m.try_into().ok())
                .ok_or_else(|| Error::Damaged("an index row key is shorter than a member id".into()))?;
            let member = MemberId::from_bytes(member);
            if blocked.contains(&member) {
                continue;
            }
            let key = std::str::from_utf8(&k[32..])
                .map_err(|_| Error::Damaged(format!("an index row key of {member} is not UTF-8")))?;
            index
                .load_row(member, key, v.value())
                .map_err(|e| Error::Damaged(e.to_string()))?;
        }
        Ok(Some(index))
    }

    /// Empties the index table and marks it as not describing the store,
    /// in one durable commit: what a replay does before it writes the
    /// table again ([`Store::put_index`], then [`Store::stamp_index`]).
    pub fn clear_index(&self) -> Result<(), Error> {
        self.writing(|db| {
            let mut tx = db.begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            tx.delete_table(INDEX)?;
            tx.open_table(INDEX)?;
            {
                let mut meta = tx.open_table(META)?;
                for k in [FORMAT_KEY, AT_KEY, CHANGES_KEY] {
                    meta.remove(k)?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Writes index rows alone (a replay rebuilding the table), in one
    /// durable commit; the stamp is left as it is.
    pub fn put_index(&self, delta: &Delta) -> Result<(), Error> {
        if delta.is_empty() {
            return Ok(());
        }
        self.writing(|db| {
            let mut tx = db.begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            write_delta(&tx, delta)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Marks the index table as describing the stored changes as they are
    /// (a replay wrote it whole), in one durable commit.
    pub fn stamp_index(&self) -> Result<(), Error> {
        self.writing(|db| {
            let mut tx = db.begin_write()?;
            tx.set_durability(Durability::Immediate)?;
            write_stamp(&tx)?;
            tx.commit()?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use mutu_protocol::record::{Body, MemberKind, Need, Profile};
    use mutu_protocol::view::Index;
    use redb::{Database, ReadableDatabase};

    use super::INDEX;
    use crate::home::Home;
    use crate::state::{self, State};
    use crate::store::Store;

    fn need(title: &str) -> Body {
        Body::Need(Need::titled(title))
    }

    /// A home with a profile, needs, one need edited and one retracted.
    fn home_with(dir: &std::path::Path) -> Home {
        let home = Home::resolve(Some(dir.join("home"))).unwrap();
        let profile = Profile {
            name: "Indexed".into(),
            member_kind: MemberKind::Association,
            country: Some("FR".into()),
            sectors: vec![],
            website: None,
            description: String::new(),
        };
        let mut st = State::init(home.clone(), profile, state::now()).unwrap();
        let ids: Vec<_> = (0..6)
            .map(|i| st.create(need(&format!("need {i}")), state::now()).unwrap())
            .collect();
        st.edit(ids[1], state::now(), |b| {
            if let Body::Need(n) = b {
                n.title = "need 1, edited".into();
            }
            Ok(())
        })
        .unwrap();
        st.retract(ids[2], state::now()).unwrap();
        home
    }

    /// What the views show: every valid record (id, version), whether it
    /// is visible, and the invalid count.
    type Summary = (Vec<(String, u64, bool)>, usize);

    fn summary(index: &Index) -> Summary {
        let mut v: Vec<_> = index
            .all_valid()
            .map(|r| {
                (
                    r.id().to_string(),
                    r.record().updated_at.as_millis(),
                    index.get(&r.id()).is_some(),
                )
            })
            .collect();
        v.sort();
        (v, index.invalid_count())
    }

    fn opened(home: &Home) -> Summary {
        summary(State::open(home.clone()).unwrap().registry().index())
    }

    /// The index table as stored, if it is in step with the changes.
    fn stored(home: &Home) -> Option<Summary> {
        let store = Store::open(&home.store_path()).unwrap();
        store.load_index(&[]).unwrap().map(|i| summary(&i))
    }

    fn with_db(home: &Home, f: impl FnOnce(&Database)) {
        let db = Database::create(home.store_path()).unwrap();
        f(&db);
    }

    /// The rows of the index table.
    fn rows(home: &Home) -> Vec<Vec<u8>> {
        let db = Database::create(home.store_path()).unwrap();
        let tx = db.begin_read().unwrap();
        let t = tx.open_table(INDEX).unwrap();
        redb::ReadableTable::iter(&t)
            .unwrap()
            .map(|r| r.unwrap().0.value().to_vec())
            .collect()
    }

    /// Writes go to the table in step with the changes; a reopened home
    /// reads the table, not the changes: a row taken out of it behind the
    /// node's back (stamp untouched) is missing from the reopened views.
    #[test]
    fn a_reopened_home_reads_its_index_table() {
        let dir = tempfile::tempdir().unwrap();
        let home = home_with(dir.path());
        let live = opened(&home);
        assert_eq!(live.0.len(), 8, "profile, 6 needs, a tombstone: {live:?}");
        assert_eq!(live.0.iter().filter(|(_, _, visible)| !visible).count(), 2);
        assert_eq!(stored(&home), Some(live.clone()));
        assert_eq!(opened(&home), live);

        let keys = rows(&home);
        let victim = keys.iter().find(|k| k[32..].starts_with(b"need/")).unwrap().clone();
        let gone = String::from_utf8(victim[32 + 5..].to_vec()).unwrap();
        with_db(&home, |db| {
            let tx = db.begin_write().unwrap();
            tx.open_table(INDEX).unwrap().remove(victim.as_slice()).unwrap();
            tx.commit().unwrap();
        });
        let reopened = opened(&home);
        assert_eq!(reopened.0.len(), 7);
        assert!(!reopened.0.iter().any(|(id, _, _)| *id == gone), "{gone}");
    }

    /// A row of garbage, a missing table and changes written without the
    /// index (as an older mutu would): the home still opens, indexed by
    /// replay with the same views, and the table is written again.
    #[test]
    fn a_damaged_missing_or_stale_index_table_is_rebuilt_by_replay() {
        let dir = tempfile::tempdir().unwrap();
        let home = home_with(dir.path());
        let live = opened(&home);

        let keys = rows(&home);
        with_db(&home, |db| {
            let tx = db.begin_write().unwrap();
            tx.open_table(INDEX)
                .unwrap()
                .insert(keys[0].as_slice(), [1u8, 0, 0xde, 0xad].as_slice())
                .unwrap();
            tx.commit().unwrap();
        });
        assert!(Store::open(&home.store_path()).unwrap().load_index(&[]).is_err());
        assert_eq!(opened(&home), live);
        assert_eq!(stored(&home), Some(live.clone()), "rewritten");

        with_db(&home, |db| {
            let tx = db.begin_write().unwrap();
            assert!(tx.delete_table(INDEX).unwrap());
            tx.commit().unwrap();
        });
        assert_eq!(stored(&home), None);
        assert_eq!(opened(&home), live);
        assert_eq!(stored(&home), Some(live.clone()), "rewritten");

        // Another member's changes written without their index delta (as
        // an older mutu would): the table is behind, the next open replays
        // and shows them.
        let other = home_with(&dir.path().join("other"));
        let theirs = Store::open(&other.store_path()).unwrap().all_changes().unwrap();
        let admitted: Vec<_> = theirs
            .iter()
            .map(|c| mutu_protocol::admission::Admitted {
                change: c.clone(),
                hash: c.decode().unwrap().hash(),
            })
            .collect();
        Store::open(&home.store_path()).unwrap().put_changes(&admitted).unwrap();
        assert_eq!(stored(&home), None, "behind the changes");
        let both = opened(&home);
        assert_eq!(both.0.len(), 2 * live.0.len());
        assert_eq!(stored(&home), Some(both));
    }

    /// A blocked member's rows go with its changes, in the same commit:
    /// the table stays in step and the reopened views do not show it.
    #[test]
    fn blocking_a_member_removes_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let home = home_with(dir.path());
        let live = opened(&home);
        let other = home_with(&dir.path().join("other"));
        let (them, theirs) = {
            let st = State::open(other).unwrap();
            (st.member_id(), st.store().all_changes().unwrap())
        };
        let mut st = State::open(home.clone()).unwrap();
        let report = st.admit(theirs, state::now()).unwrap();
        assert!(report.rejected.is_empty(), "{report:?}");
        drop(st);
        assert_eq!(stored(&home).unwrap().0.len(), 2 * live.0.len());
        assert!(rows(&home).iter().any(|k| k[..32] == them.as_bytes()[..]));

        let mut st = State::open(home.clone()).unwrap();
        st.block(&them).unwrap();
        drop(st);
        assert!(!rows(&home).iter().any(|k| k[..32] == them.as_bytes()[..]));
        assert_eq!(stored(&home), Some(live.clone()));
        assert_eq!(opened(&home), live);
    }
}
