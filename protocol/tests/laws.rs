//! Laws of admission and views: the order, duplication and batching of
//! changes never change what a registry shows.
//!
//! Proptest draws arrival orders from `MUTU_TEST_SEED` when it is set, else
//! from a fixed seed, so every run checks the same cases unless asked not to.

// Test helpers may panic: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use automerge::ReadDoc;

use common::*;
use mutu_protocol::record::{Body, Kind, Need, NeedStatus, Pledge, PledgeStatus, RecordId, Resource};
use mutu_protocol::registry::Trust;
use mutu_protocol::view::{Filter, Index, Views, funding};
use mutu_protocol::{MemberId, Registry, SignedChange, SignedRecord};
use proptest::prelude::*;

/// Every change of a small but complete registry, in the order they were
/// made, and the digest of that registry's views.
struct Scenario {
    log: Vec<SignedChange>,
    digest: String,
}

/// Four members write needs, pledges, cosigns, offers, projects, usages,
/// vouches, federated catalogues (with a cycle) and entries by an editor;
/// one member edits a need from two replicas at once, another edits a pledge
/// from two replicas at once; a tombstone races an edit of its target; an
/// editor is revoked; a member tombstones someone else's record; needs are
/// merged (a chain, and a cycle closed by two members at once) and a pledge
/// is moved in one change.
fn build() -> Scenario {
    let (a, b, c, d) = (key(1), key(2), key(3), key(4));
    let mut w = World::new();

    // A: a public body with needs.
    let paheko = rec(&a, 1, at(1), project("Paheko"));
    let n1 = rec(&a, 2, at(2), need("Invoices", "1000EUR"));
    let n2 = rec(&a, 3, at(3), need("Payroll", "500EUR"));
    w.put(
        &a,
        1,
        &[
            rec(&a, 0, at(0), profile("Mairie")),
            paheko.clone(),
            n1.clone(),
            n2.clone(),
        ],
    );

    // B and C: catalogues including each other (a cycle); D edits B's.
    let (cb_id, cc_id) = (
        rec(&b, 1, at(4), catalogue("x", &[], &[])).id(),
        rec(&c, 2, at(5), catalogue("x", &[], &[])).id(),
    );
    let cb = rec(&b, 1, at(4), catalogue("Libre en mairie", &[d.member_id()], &[cc_id]));
    w.put(
        &b,
        1,
        &[
            rec(&b, 0, at(0), profile("Adullact")),
            cb.clone(),
            rec(&b, 2, at(6), entry(cb_id, paheko.id())),
        ],
    );
    let dolibarr = rec(&c, 1, at(5), project("Dolibarr"));
    let cc = rec(&c, 2, at(5), catalogue("Prestataires", &[], &[cb_id]));
    w.put(
        &c,
        1,
        &[rec(&c, 0, at(0), profile("Prestataire")), dolibarr.clone(), cc],
    );
    w.put(
        &c,
        1,
        &[
            rec(&c, 3, at(7), entry(cc_id, dolibarr.id())),
            rec(&c, 4, at(8), offer(n1.id(), "900EUR")),
        ],
    );

    // D: cosigns, pledges, uses, edits B's catalogue.
    let p_d = rec(&d, 2, at(10), pledge(n1.id(), "600EUR", true));
    w.put(&d, 1, &[rec(&d, 1, at(9), cosign(n1.id())), p_d.clone()]);
    w.put(
        &d,
        1,
        &[
            rec(&d, 3, at(11), usage(paheko.id())),
            rec(&d, 4, at(12), entry(cb_id, dolibarr.id())),
        ],
    );
    let d_editor_entry = rec(&d, 5, at(13), entry(cb_id, paheko.id()));
    w.put(&d, 1, std::slice::from_ref(&d_editor_entry));

    // C pledges and vouches; B cosigns twice (two changes).
    w.put(
        &c,
        1,
        &[
            rec(&c, 5, at(14), pledge(n1.id(), "400EUR", false)),
            rec(&c, 6, at(15), vouch(a.member_id())),
        ],
    );
    w.put(&b, 1, &[rec(&b, 3, at(16), cosign(n1.id()))]);
    w.put(&b, 1, &[rec(&b, 4, at(17), days_pledge(n1.id(), 5))]);

    // A edits N1 from two replicas concurrently: both changes depend on the
    // same heads, so both versions exist and Automerge picks one everywhere.
    let before = w.doc(&a);
    let edit_need = |title: &str, goal: &str| {
        let Body::Need(n) = need(title, goal) else {
            unreachable!()
        };
        Body::Need(Need {
            description: format!("{title} at {goal}"),
            ..n
        })
    };
    w.put(&a, 1, &[edit(&a, &n1, at(20), edit_need("Invoices v2", "1200EUR"))]);
    w.put_on(
        &before,
        &a,
        2,
        &[edit(&a, &n1, at(21), edit_need("Invoices v3", "800EUR"))],
    );

    // D edits its pledge from two replicas concurrently.
    let before = w.doc(&d);
    let Body::Pledge(p) = p_d.record().body.clone() else {
        unreachable!()
    };
    w.put(
        &d,
        1,
        &[edit(
            &d,
            &p_d,
            at(22),
            Body::Pledge(Pledge {
                status: PledgeStatus::Withdrawn,
                ..p.clone()
            }),
        )],
    );
    w.put_on(
        &before,
        &d,
        2,
        &[edit(&d, &p_d, at(23), pledge(n1.id(), "700EUR", true))],
    );

    // A retracts N2 while its replica 2, not having seen that, edits N2.
    let before = w.doc(&a);
    w.put(&a, 1, &[rec(&a, 4, at(24), tombstone(n2.id()))]);
    w.put_on(&before, &a, 2, &[edit(&a, &n2, at(25), need("Payroll v2", "600EUR"))]);
    // And replica 3 re-puts the old bytes of N2 after seeing everything.
    w.put(&a, 3, std::slice::from_ref(&n2));

    // B revokes D as an editor while D adds another entry concurrently.
    let before = w.doc(&d);
    w.put(
        &b,
        1,
        &[edit(&b, &cb, at(26), catalogue("Libre en mairie", &[], &[cc_id]))],
    );
    w.put_on(&before, &d, 2, &[rec(&d, 6, at(27), entry(cb_id, dolibarr.id()))]);

    // B tombstones A's N1: that hides nothing.
    w.put(&b, 1, &[rec(&b, 5, at(28), tombstone(n1.id()))]);

    // A merges N3 into N1 after D pledged on N3; D then moves its pledge to
    // N1 in one change: the new pledge and the old one withdrawn.
    let n3 = rec(&a, 5, at(30), need("Facturation", "300EUR"));
    w.put(&a, 1, std::slice::from_ref(&n3));
    let moved = rec(&d, 7, at(31), pledge(n3.id(), "250EUR", true));
    w.put(&d, 1, std::slice::from_ref(&moved));
    w.put(&a, 1, &[edit(&a, &n3, at(32), merged(&n3, n1.id()))]);
    let Body::Pledge(old) = moved.record().body.clone() else {
        unreachable!()
    };
    let withdrawn = Body::Pledge(Pledge {
        status: PledgeStatus::Withdrawn,
        ..old
    });
    w.put(
        &d,
        1,
        &[
            rec(&d, 8, at(33), pledge(n1.id(), "250EUR", true)),
            edit(&d, &moved, at(33), withdrawn),
        ],
    );
    // B's N6 merged into N3, itself merged: N6 ends in N1.
    let n6 = rec(&b, 6, at(34), need("Factures", "100EUR"));
    w.put(&b, 1, std::slice::from_ref(&n6));
    w.put(&b, 1, &[edit(&b, &n6, at(35), merged(&n6, n3.id()))]);
    // C's N4 and A's N5 merged into each other at once: a cycle that
    // neither member's rules saw.
    let n4 = rec(&c, 7, at(36), need("Relances", "200EUR"));
    let n5 = rec(&a, 6, at(36), need("Relances clients", "200EUR"));
    w.put(&c, 1, std::slice::from_ref(&n4));
    w.put(&a, 1, std::slice::from_ref(&n5));
    w.put(&c, 1, &[edit(&c, &n4, at(37), merged(&n4, n5.id()))]);
    w.put(&a, 1, &[edit(&a, &n5, at(37), merged(&n5, n4.id()))]);

    assert_eq!(w.reg.pending_count(), 0);
    let digest = digest(&w.reg, NOW);
    check_scenario(&w.reg, &n1, &n2, &d_editor_entry);
    check_merges(&w.reg, [&n1, &n3, &n4, &n5, &n6]);
    Scenario { log: w.log, digest }
}

/// `need` merged into `into`.
fn merged(need: &SignedRecord, into: RecordId) -> Body {
    let Body::Need(n) = need.record().body.clone() else {
        unreachable!()
    };
    Body::Need(Need {
        status: NeedStatus::Merged,
        merged_into: Some(into),
        ..n
    })
}

/// Merges point to the end of their chain, a cycle is cut at its smallest
/// id, and every active money pledge counts toward exactly one need.
fn check_merges(reg: &Registry, [n1, n3, n4, n5, n6]: [&SignedRecord; 5]) {
    let views = Views::new(reg.index(), NOW);
    assert_eq!(views.merge_end(&n1.id()), None);
    assert_eq!(views.merge_end(&n3.id()), Some(n1.id()));
    assert_eq!(views.merge_end(&n6.id()), Some(n1.id()), "the end of the chain");
    assert_eq!(views.merge_chain(&n6.id()), vec![n6.id(), n3.id(), n1.id()]);
    let (low, high) = if n4.id() < n5.id() { (n4, n5) } else { (n5, n4) };
    assert_eq!(views.merge_end(&low.id()), None, "the cycle's smallest id stands");
    assert_eq!(views.merge_end(&high.id()), Some(low.id()));
    let needs = views.needs(&Filter::default());
    let standing: Vec<RecordId> = needs.iter().filter(|n| n.merged_into.is_none()).map(|n| n.id).collect();
    assert_eq!(standing.len(), 2, "N1 and the cycle's end stand");
    let n1_view = needs.iter().find(|n| n.id == n1.id()).unwrap();
    assert_eq!(n1_view.merged_from, vec![n3.id()]);
    let eur = |t: &mutu_protocol::money::Totals| t.get("EUR".parse().unwrap());
    let n3_view = needs.iter().find(|n| n.id == n3.id()).unwrap();
    assert_eq!(eur(&n3_view.funding.pledged), 0, "the moved pledge left N3");
    // Each counting money pledge is in exactly one need's total.
    let counted: u64 = needs.iter().map(|n| eur(&n.funding.pledged)).sum();
    let pledged: u64 = views
        .pledges(&Filter::default())
        .iter()
        .filter_map(|p| match p.record.body {
            Body::Pledge(pl) if funding::counts(pl, NOW) => match pl.resource {
                Resource::Money(m) => Some(m.amount_minor),
                _ => None,
            },
            _ => None,
        })
        .sum();
    assert_eq!(counted, pledged);
    assert!(
        pledged >= 65_000,
        "C's 400 EUR and D's moved 250 EUR at least: {pledged}"
    );
}

/// What the scenario must show, whatever the arrival order.
fn check_scenario(
    reg: &Registry,
    n1: &mutu_protocol::SignedRecord,
    n2: &mutu_protocol::SignedRecord,
    revoked: &mutu_protocol::SignedRecord,
) {
    let views = Views::new(reg.index(), NOW);
    let needs = views.needs(&Filter::default());
    assert!(
        needs.iter().all(|n| n.id != n2.id()) && needs[0].id == n1.id(),
        "N2 is retracted, N1 is not (B's tombstone hides nothing)"
    );
    assert!(
        needs[0].title == "Invoices v2" || needs[0].title == "Invoices v3",
        "{}",
        needs[0].title
    );
    assert_eq!(needs[0].cosigners.len(), 2);
    assert!(reg.index().get(&n2.id()).is_none());
    assert!(
        reg.index().get(&revoked.id()).is_some(),
        "the record stays, only the catalogue view drops it"
    );
    let catalogues = views.catalogues(&Filter::default());
    assert_eq!(catalogues.len(), 2);
    for cat in &catalogues {
        assert!(
            cat.entries.iter().all(|e| e.entry != revoked.id()),
            "a revoked editor's entry is shown"
        );
        let mut projects: Vec<_> = cat.entries.iter().map(|e| e.project).collect();
        projects.sort();
        projects.dedup();
        assert_eq!(projects.len(), cat.entries.len(), "each project once");
    }
    assert_eq!(views.members(&Filter::default()).len(), 4);
    assert!(views.records(Kind::Tombstone, &Filter::default()).is_empty());
}

fn scenario() -> &'static Scenario {
    static SCENARIO: OnceLock<Scenario> = OnceLock::new();
    SCENARIO.get_or_init(build)
}

fn replay(order: &[usize], sizes: &[usize]) -> Registry {
    replay_log(&scenario().log, order, sizes)
}

#[test]
fn the_scenario_is_rich_enough() {
    let s = scenario();
    assert!(s.log.len() >= 20, "{}", s.log.len());
    let reg = replay(&(0..s.log.len()).collect::<Vec<_>>(), &[1]);
    assert_eq!(digest(&reg, NOW), s.digest);
    // Concurrent versions exist: keys with two values, one of them winning.
    let conflicts: usize = reg
        .loaded()
        .map(|d| {
            let am = d.automerge();
            let keys: Vec<String> = am.keys(automerge::ROOT).collect();
            keys.iter()
                .filter(|k| am.get_all(automerge::ROOT, k.as_str()).unwrap().len() > 1)
                .count()
        })
        .sum();
    // N1 (two replicas of A) and D's pledge; N2's were overwritten by replica 3.
    assert_eq!(conflicts, 2);
}

#[test]
fn changes_in_reverse_wait_then_all_apply() {
    let s = scenario();
    let order: Vec<usize> = (0..s.log.len()).rev().collect();
    let reg = replay(&order, &[1]);
    assert_eq!(reg.pending_count(), 0);
    assert_eq!(digest(&reg, NOW), s.digest);
}

#[test]
fn everything_in_one_batch_twice() {
    let s = scenario();
    let order: Vec<usize> = (0..s.log.len()).rev().chain(0..s.log.len()).collect();
    let reg = replay(&order, &[order.len()]);
    assert_eq!(reg.pending_count(), 0);
    assert_eq!(digest(&reg, NOW), s.digest);
}

#[test]
fn views_do_not_depend_on_when_they_are_built() {
    // Building views twice, or from a clone of the index, gives the same.
    let s = scenario();
    let reg = replay(&(0..s.log.len()).collect::<Vec<_>>(), &[3]);
    let index = reg.index().clone();
    let a = serde_json::to_string(&Views::new(&index, NOW).needs(&Filter::default())).unwrap();
    let b = serde_json::to_string(&Views::new(reg.index(), NOW).needs(&Filter::default())).unwrap();
    assert_eq!(a, b);
}

/// A signature of one of several kinds, by one of a few members: what an
/// attacker can put in front of a verifier.
#[derive(Debug, Clone)]
enum SigKind {
    Valid,
    /// `R = rB + T` with `T` in the 8-torsion (cofactored: valid by ZIP-215).
    Torsion(usize),
    /// A valid signature with one bit flipped.
    Flipped(usize),
    /// `S + l`: the same point equation, a non-canonical `S`.
    NonCanonicalS,
    Random([u8; 32], [u8; 32]),
}

fn sig_kind() -> impl Strategy<Value = SigKind> {
    prop_oneof![
        Just(SigKind::Valid),
        (0usize..8).prop_map(SigKind::Torsion),
        (0usize..512).prop_map(SigKind::Flipped),
        Just(SigKind::NonCanonicalS),
        (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(a, b)| SigKind::Random(a, b)),
    ]
}

fn make_signature(member: u8, message: &[u8], kind: &SigKind) -> [u8; 64] {
    use ed25519_dalek::Signer;
    let valid = ed25519_dalek::SigningKey::from_bytes(&[member; 32])
        .sign(message)
        .to_bytes();
    match kind {
        SigKind::Valid => valid,
        SigKind::Torsion(t) => torsion_signature(member, message, *t),
        SigKind::Flipped(bit) => {
            let mut s = valid;
            s[bit / 8] ^= 1 << (bit % 8);
            s
        }
        SigKind::NonCanonicalS => {
            // l = 2^252 + 27742317777372353535851937790883648493, little endian.
            const L: [u8; 32] = [
                0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
            ];
            let mut s = valid;
            let mut carry = 0u16;
            for i in 0..32 {
                let v = u16::from(s[32 + i]) + u16::from(L[i]) + carry;
                s[32 + i] = v as u8;
                carry = v >> 8;
            }
            s
        }
        SigKind::Random(r, s) => {
            let mut out = [0u8; 64];
            out[..32].copy_from_slice(r);
            out[32..].copy_from_slice(s);
            out
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: test_seed(), ..ProptestConfig::default() })]

    /// One signature rule: for any signature, its verdict alone is its
    /// verdict inside any batch, whatever the batch holds and wherever it
    /// sits (the verdicts of the others do not change either).
    #[test]
    fn a_signature_gets_the_same_verdict_alone_and_in_any_batch(
        sigs in proptest::collection::vec((1u8..5, sig_kind()), 1..300),
    ) {
        use mutu_protocol::verify::{Item, Sequential, Verifier};
        let messages: Vec<Vec<u8>> = (0..sigs.len()).map(|i| format!("message {i}").into_bytes()).collect();
        let items: Vec<Item<'_>> = sigs
            .iter()
            .zip(&messages)
            .map(|((member, kind), message)| Item {
                message,
                signature: make_signature(*member, message, kind),
                key: key(*member).member_id().verifying_key().unwrap(),
            })
            .collect();
        let alone: Vec<bool> = items.iter().map(|i| Sequential.verify(std::slice::from_ref(i))[0]).collect();
        prop_assert_eq!(&alone, &items.iter().map(Item::verify).collect::<Vec<_>>());
        prop_assert_eq!(Sequential.verify(&items), alone.clone());
        // Valid and torsion signatures hold; a flipped bit or random bytes
        // almost never do, and never differently in a batch (checked above).
        for ((_, kind), ok) in sigs.iter().zip(&alone) {
            if matches!(kind, SigKind::Valid | SigKind::Torsion(_)) {
                prop_assert!(*ok, "{:?}", kind);
            }
            if matches!(kind, SigKind::NonCanonicalS) {
                prop_assert!(!*ok, "a non-canonical S is refused");
            }
        }
    }

    #[test]
    fn order_duplication_and_batching_never_change_the_views((order, sizes) in arrival(scenario().log.len())) {
        let reg = replay(&order, &sizes);
        prop_assert_eq!(reg.pending_count(), 0);
        prop_assert_eq!(digest(&reg, NOW), scenario().digest.clone());
    }

    /// The same with lazy documents: a cache of one or two documents, so
    /// documents are evicted and read back from the store between batches
    /// (and within one). Same views, same heads, same metadata.
    #[test]
    fn lazy_documents_never_change_the_views((order, sizes) in arrival(scenario().log.len()), cache in 1usize..=2) {
        let lazy = replay_log_cached(&scenario().log, &order, &sizes, cache);
        prop_assert_eq!(lazy.pending_count(), 0);
        prop_assert_eq!(digest(&lazy, NOW), scenario().digest.clone());
        let full = replay(&order, &sizes);
        let metas = |r: &Registry| r.metas().map(|(m, d)| (*m, d.clone())).collect::<Vec<_>>();
        prop_assert_eq!(metas(&lazy), metas(&full));
    }

    /// The persistent index: a node that persisted each admission's delta
    /// and reopens (documents replayed, index read from its rows) shows the
    /// views of the live registry and of a full replay of what it stored
    /// (`mutu reindex`'s path), whatever the arrival order and batching.
    #[test]
    fn a_reopened_index_shows_the_views_of_the_live_registry_and_of_a_replay((order, sizes) in arrival(scenario().log.len())) {
        let (live, stored) = replay_persisting(&order, &sizes);
        let expected = scenario().digest.clone();
        prop_assert_eq!(digest(&live, NOW), expected.clone());
        prop_assert_eq!(digest(&stored.reopen(), NOW), expected.clone());
        prop_assert_eq!(digest(&stored.replay(), NOW), expected);
    }

    #[test]
    fn two_nodes_fed_differently_agree((one, s1) in arrival(scenario().log.len()), (two, s2) in arrival(scenario().log.len())) {
        let (x, y) = (replay(&one, &s1), replay(&two, &s2));
        prop_assert_eq!(digest(&x, NOW), digest(&y, NOW));
        // Also at another instant (funding states depend on now).
        let later = mutu_protocol::Timestamp(NOW.0 + 365 * 86_400_000);
        prop_assert_eq!(digest(&x, later), digest(&y, later));
    }
}

/// What a node's store holds in the law tests' model: the changes in the
/// order they were committed, and the index table's rows.
#[derive(Default)]
struct Stored {
    changes: Vec<SignedChange>,
    rows: BTreeMap<(MemberId, String), Vec<u8>>,
}

impl Stored {
    /// A node opening this store: documents replayed, index read from rows.
    fn reopen(&self) -> Registry {
        let mut reg = Registry::new();
        let report = reg.replay_documents(self.changes.clone(), NOW);
        assert!(report.rejected.is_empty(), "{report:?}");
        let mut index = Index::default();
        for ((member, key), row) in &self.rows {
            index.load_row(*member, key, row).unwrap();
        }
        reg.set_index(index);
        reg
    }

    /// Every stored change admitted again, indexed from scratch.
    fn replay(&self) -> Registry {
        let mut reg = Registry::new();
        let report = reg
            .admit(self.changes.clone(), NOW, Trust::OwnStore, |_| Ok::<(), ()>(()))
            .unwrap();
        assert!(report.rejected.is_empty(), "{report:?}");
        reg
    }
}

/// [`replay_log`], keeping what each commit persists.
fn replay_persisting(order: &[usize], sizes: &[usize]) -> (Registry, Stored) {
    let log = &scenario().log;
    let mut reg = Registry::new();
    let mut stored = Stored::default();
    for batch in batches(log, order, sizes) {
        let report = reg
            .admit(batch, NOW, Trust::Untrusted, |c| {
                stored.changes.extend(c.admitted.iter().map(|a| a.change.clone()));
                for (member, doc) in c.index.docs() {
                    for key in doc.removed() {
                        stored.rows.remove(&(*member, key.to_owned()));
                    }
                    for (key, entry) in doc.set() {
                        stored.rows.insert((*member, key.to_owned()), entry.encode());
                    }
                }
                Ok::<(), ()>(())
            })
            .unwrap();
        assert!(report.rejected.is_empty(), "{report:?}");
    }
    (reg, stored)
}
