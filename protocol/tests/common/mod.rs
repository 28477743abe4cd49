//! Helpers shared by the integration tests: members from fixed seeds, record
//! bodies, a world that writes and admits changes, and a digest of every view.
//! No randomness and no clock: every key, nonce and instant is fixed.

#![allow(dead_code)]

use std::convert::Infallible;

use automerge::ChangeHash;
use mutu_protocol::admission::Report;
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::ReplicaNonce;
use mutu_protocol::record::{
    Body, Catalogue, CatalogueEntry, Condition, Cosign, DevStatus, EntryStatus, MemberKind, Need, NeedStatus, Offer,
    Pledge, PledgeStatus, Profile, Project, Resource, Tombstone, Usage, Vouch,
};
use mutu_protocol::registry::{Commit, Load, Trust};
use mutu_protocol::view::{Filter, Views};
use mutu_protocol::{MemberId, Record, RecordId, Registry, SecretKey, SignedChange, SignedRecord, Timestamp};

/// 2027-01-15T08:00:00Z: the fixed "now" of every test.
pub const NOW: Timestamp = Timestamp(1_800_000_000_000);

/// The member whose secret derives from `[n; 32]`.
pub fn key(n: u8) -> SecretKey {
    SecretKey::from_bytes(&[n; 32])
}

pub fn replica(n: u8) -> ReplicaNonce {
    ReplicaNonce([n; 16])
}

/// `NOW` minus `secs` seconds: record timestamps that give a stable order.
pub fn at(secs: u64) -> Timestamp {
    Timestamp(NOW.0 - 1_000_000 + secs * 1000)
}

/// A new record by `key`'s member, nonce `[nonce; 16]`, signed.
pub fn rec(key: &SecretKey, nonce: u8, t: Timestamp, body: Body) -> SignedRecord {
    Record::new(key.member_id(), [nonce; 16], t, body)
        .sign(key)
        .expect("valid record")
}

/// The next version of `r` with `body`, signed.
pub fn edit(key: &SecretKey, r: &SignedRecord, t: Timestamp, body: Body) -> SignedRecord {
    r.record()
        .edit(t, body)
        .expect("same kind")
        .sign(key)
        .expect("valid record")
}

pub fn profile(name: &str) -> Body {
    Body::Profile(Profile {
        name: name.into(),
        member_kind: MemberKind::Association,
        country: Some("FR".into()),
        sectors: vec!["culture".into()],
        website: None,
        description: String::new(),
    })
}

pub fn need(title: &str, goal: &str) -> Body {
    Body::Need(Need {
        title: title.into(),
        description: String::new(),
        tags: vec!["accounting".into()],
        project: None,
        goal: Some(goal.parse().expect("money")),
        days_goal: None,
        deadline: Some("2027-06-30".parse().expect("date")),
        status: NeedStatus::Open,
        merged_into: None,
        decision: Default::default(),
    })
}

pub fn pledge(need: RecordId, amount: &str, conditional: bool) -> Body {
    Body::Pledge(Pledge {
        need,
        resource: Resource::Money(amount.parse().expect("money")),
        condition: if conditional {
            Condition::IfGoalReached
        } else {
            Condition::Unconditional
        },
        expires_at: None,
        status: PledgeStatus::Active,
    })
}

pub fn days_pledge(need: RecordId, days: u32) -> Body {
    Body::Pledge(Pledge {
        need,
        resource: Resource::DevDays { days },
        condition: Condition::Unconditional,
        expires_at: None,
        status: PledgeStatus::Active,
    })
}

pub fn cosign(need: RecordId) -> Body {
    Body::Cosign(Cosign {
        need,
        note: "us too".into(),
    })
}

pub fn offer(need: RecordId, price: &str) -> Body {
    Body::Offer(Offer {
        need,
        price: price.parse().expect("money"),
        days: Some(10),
        description: "we can do it".into(),
        valid_until: None,
    })
}

pub fn project(name: &str) -> Body {
    Body::Project(Project {
        name: name.into(),
        description: String::new(),
        license: "AGPL-3.0-or-later".into(),
        repository: Some("https://example.org/repo".into()),
        homepage: None,
        tags: vec!["accounting".into()],
        status: DevStatus::Stable,
        is_based_on: None,
        publiccode: String::new(),
    })
}

pub fn usage(project: RecordId) -> Body {
    Body::Usage(Usage {
        project,
        note: String::new(),
    })
}

pub fn catalogue(title: &str, editors: &[MemberId], includes: &[RecordId]) -> Body {
    Body::Catalogue(Catalogue {
        title: title.into(),
        description: String::new(),
        editors: editors.to_vec(),
        includes: includes.to_vec(),
    })
}

pub fn entry(catalogue: RecordId, project: RecordId) -> Body {
    Body::CatalogueEntry(CatalogueEntry {
        catalogue,
        project,
        status: EntryStatus::Recommended,
        note: String::new(),
    })
}

pub fn vouch(member: MemberId) -> Body {
    Body::Vouch(Vouch {
        member,
        statement: String::new(),
    })
}

pub fn tombstone(target: RecordId) -> Body {
    Body::Tombstone(Tombstone { target })
}

/// Admits `batch` at `NOW`, persisting nothing.
pub fn admit(reg: &mut Registry, batch: Vec<SignedChange>) -> Report {
    admit_at(reg, batch, NOW)
}

pub fn admit_at(reg: &mut Registry, batch: Vec<SignedChange>, now: Timestamp) -> Report {
    reg.admit(batch, now, Trust::Untrusted, |_| Ok::<(), Infallible>(()))
        .unwrap_or_else(|never| match never {})
}

/// The hash of a signed change's Automerge change.
pub fn hash_of(c: &SignedChange) -> ChangeHash {
    automerge::Change::from_bytes(c.change_bytes().to_vec())
        .expect("decodes")
        .hash()
}

/// A registry that writes as the members and keeps every change it made, in
/// the order they were made (every change after its dependencies).
#[derive(Default)]
pub struct World {
    pub reg: Registry,
    pub log: Vec<SignedChange>,
}

impl World {
    pub fn new() -> Self {
        Self::default()
    }

    /// `key`'s member document as this world has it (empty if none yet).
    pub fn doc(&self, key: &SecretKey) -> MemberDoc {
        self.reg
            .doc(&key.member_id())
            .cloned()
            .unwrap_or_else(|| MemberDoc::new(key.member_id()))
    }

    /// Writes `records` as `key`'s replica `r` on the current document.
    pub fn put(&mut self, key: &SecretKey, r: u8, records: &[SignedRecord]) -> SignedChange {
        let doc = self.doc(key);
        self.put_on(&doc, key, r, records)
    }

    /// Writes `records` as `key`'s replica `r` on `doc`, which may be an
    /// older copy: the change is then concurrent with what `doc` has not seen.
    pub fn put_on(&mut self, doc: &MemberDoc, key: &SecretKey, r: u8, records: &[SignedRecord]) -> SignedChange {
        let change = doc.write(key, &replica(r), records, NOW).expect("write");
        let report = admit(&mut self.reg, vec![change.clone()]);
        assert_eq!(report.admitted.len(), 1, "{report:?}");
        self.log.push(change.clone());
        change
    }
}

/// Every listing view, serialised, plus the index's size and invalid count
/// and each document's heads: equal digests mean equal registries.
pub fn digest(reg: &Registry, now: Timestamp) -> String {
    let views = Views::new(reg.index(), now);
    let all = Filter::default();
    let heads: Vec<(String, Vec<String>)> = reg
        .metas()
        .map(|(m, d)| {
            let mut h: Vec<String> = d.heads().iter().map(ToString::to_string).collect();
            h.sort();
            (m.to_string(), h)
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "needs": views.needs(&all),
        "pledges": views.pledges(&all),
        "catalogues": views.catalogues(&all),
        "projects": views.projects(&all),
        "members": views.members(&all),
        "offers": views.records(mutu_protocol::record::Kind::Offer, &all),
        "usages": views.records(mutu_protocol::record::Kind::Usage, &all),
        "len": reg.index().len(),
        "invalid": reg.index().invalid_count(),
        "heads": heads,
    }))
    .expect("views serialise")
}

/// Member `n`'s signature of `message` with `R = rB + T`, `T` the
/// `torsion`-th point of the 8-torsion (index 4: the point of order 2): valid by the cofactored equation (ZIP-215), invalid by
/// `verify_strict`, and accepted by a cofactorless batch exactly when the
/// batch's random coefficient for it is even.
pub fn torsion_signature(n: u8, message: &[u8], torsion: usize) -> [u8; 64] {
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek::scalar::Scalar;
    use sha2::{Digest, Sha512};
    let h = Sha512::digest([n; 32]);
    let mut lower = [0u8; 32];
    lower.copy_from_slice(&h[..32]);
    lower[0] &= 248;
    lower[31] &= 127;
    lower[31] |= 64;
    let a = Scalar::from_bytes_mod_order(lower);
    let public = (ED25519_BASEPOINT_POINT * a).compress();
    assert_eq!(public.to_bytes(), *key(n).member_id().as_bytes());
    let r = Scalar::from_bytes_mod_order_wide(&Sha512::digest(message).into());
    let big_r = (ED25519_BASEPOINT_POINT * r + EIGHT_TORSION[torsion % 8]).compress();
    let k = Scalar::from_bytes_mod_order_wide(
        &Sha512::new()
            .chain_update(big_r.as_bytes())
            .chain_update(public.as_bytes())
            .chain_update(message)
            .finalize()
            .into(),
    );
    let s = r + k * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(big_r.as_bytes());
    sig[32..].copy_from_slice(s.as_bytes());
    sig
}

/// Admits `order` (indices into `log`) in batches of the given sizes, used
/// in turn, and returns the registry; every change must be admitted.
/// A store in memory: each document's persisted changes in the order they
/// were persisted, read back by a registry whose cache is bounded.
#[derive(Debug, Default)]
pub struct MemStore {
    docs: std::cell::RefCell<std::collections::BTreeMap<MemberId, Vec<SignedChange>>>,
    /// Reads fail while set.
    pub broken: std::cell::Cell<bool>,
    pub reads: std::cell::Cell<usize>,
}

impl MemStore {
    pub fn persist(&self, commit: &Commit<'_>) {
        let mut docs = self.docs.borrow_mut();
        for a in commit.admitted {
            docs.entry(a.change.doc()).or_default().push(a.change.clone());
        }
    }
}

impl Load for MemStore {
    type Error = String;
    fn changes(&self, member: &MemberId) -> Result<Vec<SignedChange>, String> {
        if self.broken.get() {
            return Err(format!("the store cannot read {member}'s document"));
        }
        self.reads.set(self.reads.get() + 1);
        Ok(self.docs.borrow().get(member).cloned().unwrap_or_default())
    }
}

/// Admits `batch` at `NOW` into a registry with a bounded cache, persisting
/// into `store`.
pub fn admit_lazy(reg: &mut Registry, store: &MemStore, batch: Vec<SignedChange>) -> Result<Report, String> {
    reg.admit_with(batch, NOW, Trust::Untrusted, store, |c| {
        store.persist(c);
        Ok(())
    })
}

/// [`replay_log`] into a registry that keeps at most `cache` documents
/// loaded: documents are evicted and read back between batches.
pub fn replay_log_cached(log: &[SignedChange], order: &[usize], sizes: &[usize], cache: usize) -> Registry {
    let store = MemStore::default();
    let mut reg = Registry::with_cache(std::sync::Arc::new(mutu_protocol::verify::Sequential), cache);
    for batch in batches(log, order, sizes) {
        let report = admit_lazy(&mut reg, &store, batch).expect("reads");
        assert!(report.rejected.is_empty(), "{report:?}");
        assert!(reg.loaded_count() <= cache, "{} documents loaded", reg.loaded_count());
    }
    reg
}

/// The changes of `log` in `order`, cut into batches of the `sizes` in turn
/// (each at least one change).
pub fn batches<'a>(
    log: &'a [SignedChange],
    order: &'a [usize],
    sizes: &'a [usize],
) -> impl Iterator<Item = Vec<SignedChange>> + 'a {
    let mut rest = order;
    let mut sizes = sizes.iter().copied().cycle();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = sizes.next().unwrap_or(1).clamp(1, rest.len());
        let (batch, tail) = rest.split_at(n);
        rest = tail;
        Some(batch.iter().map(|&i| log[i].clone()).collect())
    })
}

pub fn replay_log(log: &[SignedChange], order: &[usize], sizes: &[usize]) -> Registry {
    let mut reg = Registry::new();
    for batch in batches(log, order, sizes) {
        let report = admit(&mut reg, batch);
        assert!(report.rejected.is_empty(), "{report:?}");
    }
    reg
}

/// Proptest's seed: `MUTU_TEST_SEED` when set, else a fixed one, so every
/// run checks the same cases unless asked not to.
pub fn test_seed() -> proptest::test_runner::RngSeed {
    proptest::test_runner::RngSeed::Fixed(
        std::env::var("MUTU_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x6d75_7475),
    )
}

/// An arrival of a log of `n` changes: every change at least once, some
/// twice or more, shuffled, and batch sizes to cut it with.
pub fn arrival(n: usize) -> impl proptest::strategy::Strategy<Value = (Vec<usize>, Vec<usize>)> {
    use proptest::prelude::*;
    prop::collection::vec(0..n, 0..n).prop_flat_map(move |dups| {
        let order: Vec<usize> = (0..n).chain(dups).collect();
        (Just(order).prop_shuffle(), prop::collection::vec(1usize..8, 1..16))
    })
}
