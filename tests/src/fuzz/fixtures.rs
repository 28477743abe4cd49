//! Fixed members, records and signed changes that the seeds and the
//! structure-aware targets start from.
//!
//! Nothing here depends on `MUTU_TEST_SEED` or the clock: corpus files and
//! regression inputs refer to these exact bytes (a context number in an
//! `admit` input picks one of [`Fixtures::contexts`]), so they must be the
//! same on every run and every machine. Changing a fixture invalidates the
//! corpora: regenerate the seeds (see HACKING.md, "Fuzzing").
//!
//! Two members, each with a short history that touches every record kind:
//!
//! ```text
//! alice (key [1; 32], replicas r1 = [0x11; 16], r2 = [0x12; 16])
//!   a0 r1: profile, project P
//!   a1 r1: need N (600 EUR, project P), catalogue C (editor: bob)       deps a0
//!   a2 r2: N edited (r2 overwrites r1's value: r1 is an "other actor"),
//!          entry (C, P)                                                 deps a1
//!   a3 r1: pledge on N (5 dev-days), usage of P          deps a1 (concurrent with a2)
//!   a4 r1: vouch for bob, tombstone of the usage               deps a2, a3 (a merge)
//! bob (key [2; 32], replica [0x21; 16])
//!   b0: profile, pledge on N (100 EUR, if the goal is reached), cosign N
//!   b1: offer on N, entry (C, P) as C's editor, catalogue D including C deps b0
//!   b2: the pledge withdrawn                                            deps b1
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::ReplicaNonce;
use mutu_protocol::record::{
    Body, Catalogue, CatalogueEntry, Condition, Cosign, DevStatus, EntryStatus, MemberKind, Need, NeedStatus, Offer,
    Pledge, PledgeStatus, Profile, Project, Resource, Tombstone, Usage, Vouch,
};
use mutu_protocol::registry::{Registry, Trust};
use mutu_protocol::verify::{self, Item, Verifier};
use mutu_protocol::{MemberId, Record, SecretKey, SignedChange, SignedRecord, Timestamp};
use sha2::{Digest, Sha256};

/// The fixed "now" of every target: 2027-01-15T08:00:00Z.
pub const NOW: Timestamp = Timestamp(1_800_000_000_000);

/// Key seeds of the fixture members (the secret derives from `[seed; 32]`).
pub const MEMBER_SEEDS: [u8; 2] = [1, 2];

/// The member whose secret derives from `[seed; 32]`.
pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_bytes(&[seed; 32])
}

/// The fixture key of `member`, if it is one of the fixture members.
pub fn key_of(member: &MemberId) -> Option<SecretKey> {
    MEMBER_SEEDS.iter().map(|s| key(*s)).find(|k| k.member_id() == *member)
}

/// One member's changes, in causal order.
#[derive(Debug)]
pub struct History {
    pub key_seed: u8,
    pub member: MemberId,
    pub changes: Vec<SignedChange>,
}

/// A registry state to admit into: every change of the other histories and
/// the first `prefix` changes of `history`. The change that "comes next"
/// there is `history`'s change number `prefix`.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub history: usize,
    pub prefix: usize,
}

#[derive(Debug)]
pub struct Fixtures {
    pub histories: Vec<History>,
    /// Every record of the histories, each version, as signed.
    pub records: Vec<SignedRecord>,
}

impl Fixtures {
    /// Every `(history, prefix)` pair with a next change.
    pub fn contexts(&self) -> Vec<Context> {
        self.histories
            .iter()
            .enumerate()
            .flat_map(|(history, h)| (0..h.changes.len()).map(move |prefix| Context { history, prefix }))
            .collect()
    }

    /// The context number `n` picks (modulo their count).
    pub fn context(&self, n: u8) -> Context {
        let all = self.contexts();
        all[usize::from(n) % all.len()]
    }

    /// The changes a context's registry holds, in an order where each
    /// follows its dependencies.
    pub fn context_changes(&self, ctx: Context) -> Vec<SignedChange> {
        let mut out = Vec::new();
        for (i, h) in self.histories.iter().enumerate() {
            let n = if i == ctx.history { ctx.prefix } else { h.changes.len() };
            out.extend(h.changes[..n].iter().cloned());
        }
        out
    }

    /// Every change of every history.
    pub fn all_changes(&self) -> Vec<SignedChange> {
        self.histories.iter().flat_map(|h| h.changes.iter().cloned()).collect()
    }

    /// A registry holding `changes`, read back as a node reads its own store.
    pub fn registry_with(changes: Vec<SignedChange>) -> Registry {
        let mut registry = registry();
        let n = changes.len();
        // Fixture changes are valid by construction (checked when built).
        let report = registry
            .admit(changes, NOW, Trust::OwnStore, |_| Ok::<(), ()>(()))
            .unwrap_or_default();
        debug_assert_eq!(report.admitted.len(), n, "fixture changes are admitted: {report:?}");
        registry
    }
}

/// The fixtures, built once per process.
pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(build)
}

/// An empty registry whose signature checks are [`Memo`]ised.
pub fn registry() -> Registry {
    static MEMO: OnceLock<Arc<Memo>> = OnceLock::new();
    Registry::with_verifier(MEMO.get_or_init(Arc::default).clone())
}

/// The protocol's own verifier ([`verify::Sequential`]) with its verdicts
/// remembered per (key, signature, message), so the fixtures' signatures,
/// which every execution of a target checks again, are checked once per
/// process. Verification is a pure function of those three: remembering
/// changes no verdict. Forgotten wholesale past [`Memo::CAPACITY`] entries.
#[derive(Debug, Default)]
pub struct Memo {
    verdicts: Mutex<HashMap<Signed, bool>>,
}

/// (public key, signature, SHA-256 of the message).
type Signed = ([u8; 32], [u8; 64], [u8; 32]);

impl Memo {
    const CAPACITY: usize = 65_536;
}

impl Verifier for Memo {
    fn verify(&self, items: &[Item<'_>]) -> Vec<bool> {
        let ids: Vec<_> = items
            .iter()
            .map(|i| {
                let message: [u8; 32] = Sha256::digest(i.message).into();
                (i.key.into(), i.signature, message)
            })
            .collect();
        let mut verdicts = self.verdicts.lock().unwrap_or_else(|e| e.into_inner());
        let mut unknown: Vec<usize> = (0..items.len()).filter(|k| !verdicts.contains_key(&ids[*k])).collect();
        if verdicts.len() + unknown.len() > Self::CAPACITY {
            verdicts.clear();
            unknown = (0..items.len()).collect();
        }
        let fresh: Vec<Item<'_>> = unknown.iter().map(|k| items[*k]).collect();
        for (k, ok) in unknown.iter().zip(verify::Sequential.verify(&fresh)) {
            verdicts.insert(ids[*k], ok);
        }
        ids.iter()
            .map(|id| verdicts.get(id).copied().unwrap_or(false))
            .collect()
    }
}

/// `NOW` minus `secs` seconds.
fn at(secs: u64) -> Timestamp {
    Timestamp(NOW.0 - 1_000_000 + secs * 1000)
}

/// Writes records into member documents, one signed change at a time, and
/// admits each change (all admission rules) so only valid changes become
/// fixtures.
struct Writer {
    key: SecretKey,
    registry: Registry,
    changes: Vec<SignedChange>,
    records: Vec<SignedRecord>,
}

impl Writer {
    fn new(seed: u8) -> Self {
        Self {
            key: key(seed),
            registry: Registry::new(),
            changes: Vec::new(),
            records: Vec::new(),
        }
    }

    fn member(&self) -> MemberId {
        self.key.member_id()
    }

    fn record(&self, nonce: u8, t: u64, body: Body) -> SignedRecord {
        #[allow(clippy::expect_used)] // fixed, valid bodies
        Record::new(self.member(), [nonce; 16], at(t), body)
            .sign(&self.key)
            .expect("a fixture record is valid")
    }

    fn edit(&self, r: &SignedRecord, t: u64, body: Body) -> SignedRecord {
        #[allow(clippy::expect_used)] // fixed, valid bodies of the same kind
        r.record()
            .edit(at(t), body)
            .and_then(|r| r.sign(&self.key))
            .expect("a fixture edit is valid")
    }

    fn doc(&self) -> MemberDoc {
        self.registry
            .doc(&self.member())
            .cloned()
            .unwrap_or_else(|| MemberDoc::new(self.member()))
    }

    /// Writes `records` on top of `base` as `replica`, then admits the change.
    fn write_on(&mut self, base: &MemberDoc, replica: u8, t: u64, records: Vec<SignedRecord>) {
        #[allow(clippy::expect_used)] // fixed, valid inputs
        let change = base
            .write(&self.key, &ReplicaNonce([replica; 16]), &records, at(t))
            .expect("a fixture change is written");
        #[allow(clippy::expect_used)]
        let report = self
            .registry
            .admit(vec![change.clone()], NOW, Trust::Untrusted, |_| Ok::<(), ()>(()))
            .expect("nothing to persist");
        assert_eq!(report.admitted.len(), 1, "a fixture change is admitted: {report:?}");
        self.changes.push(change);
        self.records.extend(records);
    }

    fn write(&mut self, replica: u8, t: u64, records: Vec<SignedRecord>) {
        let base = self.doc();
        self.write_on(&base, replica, t, records);
    }

    fn finish(self, seed: u8) -> History {
        History {
            key_seed: seed,
            member: self.member(),
            changes: self.changes,
        }
    }
}

#[allow(clippy::expect_used)] // fixed texts that parse
fn build() -> Fixtures {
    let (r1, r2, rb) = (0x11, 0x12, 0x21);
    let bob = key(2).member_id();

    let mut a = Writer::new(1);
    let profile = a.record(
        1,
        1,
        Body::Profile(Profile {
            name: "Alice's association".into(),
            member_kind: MemberKind::Association,
            country: Some("FR".into()),
            sectors: vec!["culture".into()],
            website: Some("https://alice.example".into()),
            description: "Runs a library".into(),
        }),
    );
    let project = a.record(
        2,
        2,
        Body::Project(Project {
            name: "Ledger".into(),
            description: "Accounting for associations".into(),
            license: "AGPL-3.0-or-later".into(),
            repository: Some("https://git.example/ledger".into()),
            homepage: None,
            tags: vec!["accounting".into()],
            status: DevStatus::Beta,
            is_based_on: None,
            publiccode: String::new(),
        }),
    );
    a.write(r1, 3, vec![profile, project.clone()]);
    let need_body = |status, description: &str| {
        Body::Need(Need {
            title: "Invoices in Ledger".into(),
            description: description.into(),
            tags: vec!["accounting".into(), "invoices".into()],
            project: Some(project.id()),
            goal: Some("600EUR".parse().expect("money")),
            days_goal: Some(10),
            deadline: Some("2027-06-30".parse().expect("date")),
            status,
            merged_into: None,
            decision: Default::default(),
        })
    };
    let need = a.record(3, 4, need_body(NeedStatus::Open, ""));
    let catalogue = a.record(
        4,
        5,
        Body::Catalogue(Catalogue {
            title: "Tools for associations".into(),
            description: String::new(),
            editors: vec![bob],
            includes: vec![],
        }),
    );
    a.write(r1, 6, vec![need.clone(), catalogue.clone()]);
    let after_a1 = a.doc();
    let need_edit = a.edit(&need, 7, need_body(NeedStatus::InProgress, "Work has started"));
    let entry = a.record(
        5,
        8,
        Body::CatalogueEntry(CatalogueEntry {
            catalogue: catalogue.id(),
            project: project.id(),
            status: EntryStatus::Recommended,
            note: "We use it".into(),
        }),
    );
    a.write(r2, 9, vec![need_edit, entry]);
    let days = a.record(
        6,
        10,
        Body::Pledge(Pledge {
            need: need.id(),
            resource: Resource::DevDays { days: 5 },
            condition: Condition::Unconditional,
            expires_at: None,
            status: PledgeStatus::Active,
        }),
    );
    let usage = a.record(
        7,
        11,
        Body::Usage(Usage {
            project: project.id(),
            note: String::new(),
        }),
    );
    a.write_on(&after_a1, r1, 12, vec![days, usage.clone()]);
    let vouch = a.record(
        8,
        13,
        Body::Vouch(Vouch {
            member: bob,
            statement: "Delivered for us".into(),
        }),
    );
    let tombstone = a.record(9, 14, Body::Tombstone(Tombstone { target: usage.id() }));
    a.write(r1, 15, vec![vouch, tombstone]);

    let mut b = Writer::new(2);
    let bob_profile = b.record(
        1,
        20,
        Body::Profile(Profile {
            name: "Bob's shop".into(),
            member_kind: MemberKind::Provider,
            country: Some("BE".into()),
            sectors: vec![],
            website: None,
            description: String::new(),
        }),
    );
    let pledge_body = |status| {
        Body::Pledge(Pledge {
            need: need.id(),
            resource: Resource::Money("100EUR".parse().expect("money")),
            condition: Condition::IfGoalReached,
            expires_at: Some("2027-12-31".parse().expect("date")),
            status,
        })
    };
    let pledge = b.record(2, 21, pledge_body(PledgeStatus::Active));
    let cosign = b.record(
        3,
        22,
        Body::Cosign(Cosign {
            need: need.id(),
            note: "Us too".into(),
        }),
    );
    b.write(rb, 23, vec![bob_profile, pledge.clone(), cosign]);
    let offer = b.record(
        4,
        24,
        Body::Offer(Offer {
            need: need.id(),
            price: "500.50EUR".parse().expect("money"),
            days: Some(5),
            description: "Two weeks".into(),
            valid_until: Some("2027-03-01".parse().expect("date")),
        }),
    );
    let bob_entry = b.record(
        5,
        25,
        Body::CatalogueEntry(CatalogueEntry {
            catalogue: catalogue.id(),
            project: project.id(),
            status: EntryStatus::Observation,
            note: String::new(),
        }),
    );
    let bob_catalogue = b.record(
        6,
        26,
        Body::Catalogue(Catalogue {
            title: "Bob's picks".into(),
            description: "Federates Alice's".into(),
            editors: vec![],
            includes: vec![catalogue.id()],
        }),
    );
    b.write(rb, 27, vec![offer, bob_entry, bob_catalogue]);
    let withdrawn = b.edit(&pledge, 28, pledge_body(PledgeStatus::Withdrawn));
    b.write(rb, 29, vec![withdrawn]);

    let mut records = a.records.clone();
    records.extend(b.records.iter().cloned());
    Fixtures {
        histories: vec![a.finish(1), b.finish(2)],
        records,
    }
}
