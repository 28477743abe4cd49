//! Views over a registry: catalogues and their editors, federation with
//! cycles, tombstones, funding as the views show it.

use std::convert::Infallible;

use super::*;
use crate::doc::MemberDoc;
use crate::identity::{ReplicaNonce, SecretKey};
use crate::record::{
    Catalogue, CatalogueEntry, Condition, Cosign, DevStatus, PledgeStatus, Project, Record, Resource, Tombstone, Usage,
};
use crate::registry::{Registry, Trust};
use crate::{SignedChange, view::funding::State};

const NOW: Timestamp = Timestamp(1_800_000_000_000);

fn key(n: u8) -> SecretKey {
    SecretKey::from_bytes(&[n; 32])
}

fn at(secs: u64) -> Timestamp {
    Timestamp(NOW.0 - 1_000_000 + secs * 1000)
}

fn rec(key: &SecretKey, nonce: u8, t: Timestamp, body: Body) -> SignedRecord {
    Record::new(key.member_id(), [nonce; 16], t, body).sign(key).unwrap()
}

fn edit(key: &SecretKey, r: &SignedRecord, t: Timestamp, body: Body) -> SignedRecord {
    r.record().edit(t, body).unwrap().sign(key).unwrap()
}

fn project(name: &str) -> Body {
    Body::Project(Project {
        name: name.into(),
        description: String::new(),
        license: "MIT".into(),
        repository: None,
        homepage: None,
        tags: vec![],
        status: DevStatus::Stable,
        is_based_on: None,
        publiccode: String::new(),
    })
}

fn need(title: &str, goal: &str) -> Body {
    Body::Need(Need {
        title: title.into(),
        description: String::new(),
        tags: vec![],
        project: None,
        goal: Some(goal.parse().unwrap()),
        days_goal: None,
        deadline: Some("2027-06-30".parse().unwrap()),
        status: NeedStatus::Open,
        merged_into: None,
        decision: Default::default(),
    })
}

fn pledge(need: RecordId, amount: &str, conditional: bool) -> Body {
    Body::Pledge(Pledge {
        need,
        resource: Resource::Money(amount.parse().unwrap()),
        condition: if conditional {
            Condition::IfGoalReached
        } else {
            Condition::Unconditional
        },
        expires_at: None,
        status: PledgeStatus::Active,
    })
}

fn catalogue(editors: &[MemberId], includes: &[RecordId]) -> Body {
    Body::Catalogue(Catalogue {
        title: "Catalogue".into(),
        description: String::new(),
        editors: editors.to_vec(),
        includes: includes.to_vec(),
    })
}

fn entry(catalogue: RecordId, project: RecordId) -> Body {
    Body::CatalogueEntry(CatalogueEntry {
        catalogue,
        project,
        status: EntryStatus::Recommended,
        note: String::new(),
    })
}

fn tombstone(target: RecordId) -> Body {
    Body::Tombstone(Tombstone { target })
}

/// A registry that members write to through admission, as a node does.
#[derive(Default)]
struct Net {
    reg: Registry,
}

impl Net {
    fn doc(&self, key: &SecretKey) -> MemberDoc {
        self.reg
            .doc(&key.member_id())
            .cloned()
            .unwrap_or_else(|| MemberDoc::new(key.member_id()))
    }

    fn write_on(doc: &MemberDoc, key: &SecretKey, replica: u8, records: &[SignedRecord]) -> SignedChange {
        doc.write(key, &ReplicaNonce([replica; 16]), records, NOW).unwrap()
    }

    fn admit(&mut self, change: SignedChange) {
        let report = self
            .reg
            .admit(vec![change], NOW, Trust::Untrusted, |_| Ok::<(), Infallible>(()))
            .unwrap();
        assert_eq!(report.admitted.len(), 1, "{report:?}");
    }

    /// Writes `records` as replica 1 on the current document and admits them.
    fn put(&mut self, key: &SecretKey, records: &[SignedRecord]) {
        let change = Self::write_on(&self.doc(key), key, 1, records);
        self.admit(change);
    }

    fn views(&self) -> Views<'_> {
        Views::new(self.reg.index(), NOW)
    }

    /// (project, by, via) of each entry of catalogue `id`.
    fn entries(&self, id: &RecordId) -> Vec<(RecordId, MemberId, Option<RecordId>)> {
        let views = self.views();
        let cat = self.reg.index().get(id).expect("catalogue visible");
        views
            .catalogue(cat)
            .unwrap()
            .entries
            .iter()
            .map(|e| (e.project, e.by, e.via))
            .collect()
    }
}

#[test]
fn an_editors_entries_show_while_listed_and_vanish_when_removed() {
    let (owner, editor, stranger) = (key(1), key(2), key(3));
    let mut net = Net::default();
    let (p1, p2, p3) = (
        rec(&owner, 1, at(1), project("Paheko")),
        rec(&owner, 2, at(2), project("Dolibarr")),
        rec(&owner, 3, at(3), project("Garradin")),
    );
    let cat = rec(&owner, 4, at(4), catalogue(&[], &[]));
    net.put(
        &owner,
        &[
            p1.clone(),
            p2.clone(),
            p3.clone(),
            cat.clone(),
            rec(&owner, 5, at(5), entry(cat.id(), p1.id())),
        ],
    );
    // The editor and a stranger write entries before anyone lists them.
    net.put(&editor, &[rec(&editor, 1, at(6), entry(cat.id(), p2.id()))]);
    net.put(&stranger, &[rec(&stranger, 1, at(7), entry(cat.id(), p3.id()))]);
    assert_eq!(net.entries(&cat.id()), vec![(p1.id(), owner.member_id(), None)]);

    // The owner lists the editor: its entry appears, the stranger's does not.
    let listed = edit(&owner, &cat, at(8), catalogue(&[editor.member_id()], &[]));
    net.put(&owner, std::slice::from_ref(&listed));
    assert_eq!(
        net.entries(&cat.id()),
        vec![(p1.id(), owner.member_id(), None), (p2.id(), editor.member_id(), None)]
    );
    let views = net.views();
    let project = views.project(net.reg.index().get(&p2.id()).unwrap()).unwrap();
    assert_eq!(project.catalogues, vec![cat.id()]);

    // Removed again: its entry vanishes at once, though the record remains.
    net.put(&owner, &[edit(&owner, &listed, at(9), catalogue(&[], &[]))]);
    assert_eq!(net.entries(&cat.id()), vec![(p1.id(), owner.member_id(), None)]);
    assert!(net.reg.index().get(&p2.id()).is_some());
    let views = net.views();
    assert!(
        views
            .project(net.reg.index().get(&p2.id()).unwrap())
            .unwrap()
            .catalogues
            .is_empty()
    );
}

#[test]
fn the_latest_entry_per_project_wins_within_a_catalogue() {
    let (owner, editor) = (key(1), key(2));
    let mut net = Net::default();
    let p = rec(&owner, 1, at(1), project("Paheko"));
    let cat = rec(&owner, 2, at(2), catalogue(&[editor.member_id()], &[]));
    net.put(
        &owner,
        &[p.clone(), cat.clone(), rec(&owner, 3, at(3), entry(cat.id(), p.id()))],
    );
    let mut late = rec(&editor, 1, at(4), entry(cat.id(), p.id()));
    if let Body::CatalogueEntry(e) = &late.record().body {
        late = rec(
            &editor,
            1,
            at(4),
            Body::CatalogueEntry(CatalogueEntry {
                status: EntryStatus::Deprecated,
                ..e.clone()
            }),
        );
    }
    net.put(&editor, std::slice::from_ref(&late));
    let views = net.views();
    let view = views.catalogue(net.reg.index().get(&cat.id()).unwrap()).unwrap();
    assert_eq!(view.entries.len(), 1);
    assert_eq!(
        (view.entries[0].entry, view.entries[0].status),
        (late.id(), EntryStatus::Deprecated)
    );
}

#[test]
fn federation_with_a_cycle_terminates_and_shows_each_entry_once() {
    let (a, b) = (key(1), key(2));
    let mut net = Net::default();
    // Ids derive from author, kind and nonce: known before the records exist.
    let cat_a_id = RecordId::derive(&a.member_id(), Kind::Catalogue, &[10; 16]);
    let cat_b_id = RecordId::derive(&b.member_id(), Kind::Catalogue, &[10; 16]);
    let (pa, pb, shared) = (
        rec(&a, 1, at(1), project("A's")),
        rec(&b, 1, at(2), project("B's")),
        rec(&a, 2, at(3), project("Both")),
    );
    let cat_a = rec(&a, 10, at(4), catalogue(&[], &[cat_b_id]));
    let cat_b = rec(&b, 10, at(5), catalogue(&[], &[cat_a_id]));
    assert_eq!((cat_a.id(), cat_b.id()), (cat_a_id, cat_b_id));
    net.put(
        &a,
        &[
            pa.clone(),
            shared.clone(),
            cat_a,
            rec(&a, 11, at(6), entry(cat_a_id, pa.id())),
            rec(&a, 12, at(7), entry(cat_a_id, shared.id())),
        ],
    );
    net.put(
        &b,
        &[
            pb.clone(),
            cat_b,
            rec(&b, 11, at(8), entry(cat_b_id, pb.id())),
            rec(&b, 12, at(9), entry(cat_b_id, shared.id())),
        ],
    );

    let (am, bm) = (a.member_id(), b.member_id());
    assert_eq!(
        net.entries(&cat_a_id),
        vec![
            (pa.id(), am, None),
            (shared.id(), am, None),
            (pb.id(), bm, Some(cat_b_id))
        ],
    );
    assert_eq!(
        net.entries(&cat_b_id),
        vec![
            (pb.id(), bm, None),
            (shared.id(), bm, None),
            (pa.id(), am, Some(cat_a_id))
        ],
    );
    let views = net.views();
    assert_eq!(views.catalogues(&Filter::default()).len(), 2);
    // A catalogue that includes itself, and includes of what is no catalogue.
    let c = key(3);
    let self_id = RecordId::derive(&c.member_id(), Kind::Catalogue, &[1; 16]);
    let own = rec(&c, 2, at(10), project("C's"));
    net.put(
        &c,
        &[
            own.clone(),
            rec(&c, 1, at(11), catalogue(&[], &[self_id, own.id(), cat_a_id])),
            rec(&c, 3, at(12), entry(self_id, own.id())),
        ],
    );
    let got = net.entries(&self_id);
    assert_eq!(got[0], (own.id(), c.member_id(), None));
    assert_eq!(got.len(), 4, "{got:?}");
    // Breadth first: A's entries via A, then B's (included by A) via B.
    assert_eq!(
        &got[1..],
        &[
            (pa.id(), am, Some(cat_a_id)),
            (shared.id(), am, Some(cat_a_id)),
            (pb.id(), bm, Some(cat_b_id))
        ]
    );
}

#[test]
fn an_entry_must_name_a_project() {
    let owner = key(1);
    let mut net = Net::default();
    let n = rec(&owner, 1, at(1), need("Invoices", "100EUR"));
    let p = rec(&owner, 2, at(2), project("Paheko"));
    let cat = rec(&owner, 3, at(3), catalogue(&[], &[]));
    let entries = [
        rec(&owner, 4, at(4), entry(cat.id(), n.id())),
        rec(&owner, 5, at(5), entry(cat.id(), p.id())),
    ];
    net.put(
        &owner,
        &[n, p.clone(), cat.clone(), entries[0].clone(), entries[1].clone()],
    );
    assert_eq!(net.entries(&cat.id()), vec![(p.id(), owner.member_id(), None)]);
}

#[test]
fn a_tombstone_hides_a_record_for_good() {
    let a = key(1);
    let mut net = Net::default();
    let before = net.doc(&a);
    let n = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    let p = rec(&a, 2, at(2), pledge(n.id(), "100EUR", false));
    net.put(&a, &[n.clone(), p.clone()]);
    assert_eq!(net.views().needs(&Filter::default()).len(), 1);

    net.put(&a, &[rec(&a, 3, at(3), tombstone(n.id()))]);
    let index = net.reg.index();
    assert!(index.get(&n.id()).is_none());
    assert!(index.get_any(&n.id()).is_some_and(|r| index.is_tombstoned(r)));
    assert!(net.views().needs(&Filter::default()).is_empty());
    assert!(net.views().search("invoices", &Filter::default()).is_empty());
    // What refers to it stays (it is not retracted), but has no need to count toward.
    assert_eq!(net.views().pledges(&Filter::default()).len(), 1);
    assert_eq!(
        net.views().pledges(&Filter::default())[0].effect,
        funding::Effect::Active
    );

    // An older copy arrives afterwards, from another replica that had seen
    // neither the record nor the tombstone: it does not bring it back.
    net.admit(Net::write_on(&before, &a, 2, std::slice::from_ref(&n)));
    assert!(net.reg.index().get(&n.id()).is_none());
    assert!(net.views().needs(&Filter::default()).is_empty());
    // Nor does a newer version written after the tombstone.
    let newer = edit(&a, &n, at(10), need("Invoices again", "1000EUR"));
    let change = Net::write_on(&net.doc(&a), &a, 3, std::slice::from_ref(&newer));
    net.admit(change);
    assert!(net.reg.index().get(&n.id()).is_none());
    assert!(net.views().needs(&Filter::default()).is_empty());
    // Tombstones themselves are never shown.
    assert!(net.views().records(Kind::Tombstone, &Filter::default()).is_empty());
    assert_eq!(net.views().member(&a.member_id()).records, 1, "only the pledge");
}

#[test]
fn a_tombstone_by_someone_else_hides_nothing() {
    let (a, b) = (key(1), key(2));
    let mut net = Net::default();
    let n = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    net.put(&a, std::slice::from_ref(&n));
    let theirs = rec(&b, 1, at(2), tombstone(n.id()));
    net.put(&b, std::slice::from_ref(&theirs));
    // B's tombstone is a valid record of B's, and retracts nothing of A's.
    assert!(net.reg.index().get_any(&theirs.id()).is_some());
    assert_eq!(net.reg.index().invalid_count(), 0);
    assert_eq!(net.reg.index().get(&n.id()), Some(&n));
    assert_eq!(net.views().needs(&Filter::default()).len(), 1);
    // Even once A retracts something else, and B retracts B's own need.
    let other = rec(&a, 2, at(3), need("Payroll", "10EUR"));
    net.put(&a, std::slice::from_ref(&other));
    net.put(&a, &[rec(&a, 3, at(4), tombstone(other.id()))]);
    let own = rec(&b, 2, at(5), need("Archives", "10EUR"));
    net.put(&b, std::slice::from_ref(&own));
    net.put(&b, &[rec(&b, 3, at(6), tombstone(own.id()))]);
    let ids: Vec<RecordId> = net.views().needs(&Filter::default()).iter().map(|v| v.id).collect();
    assert_eq!(ids, vec![n.id()]);
}

#[test]
fn funding_cosigners_and_pledges_as_views_show_them() {
    let (a, b, c) = (key(1), key(2), key(3));
    let mut net = Net::default();
    let n = rec(&a, 1, at(1), need("Invoices", "1000EUR"));
    net.put(&a, std::slice::from_ref(&n));
    let cond = rec(&b, 1, at(2), pledge(n.id(), "400EUR", true));
    net.put(
        &b,
        &[
            cond.clone(),
            rec(
                &b,
                2,
                at(3),
                Body::Cosign(Cosign {
                    need: n.id(),
                    note: String::new(),
                }),
            ),
        ],
    );
    let view = &net.views().needs(&Filter::default())[0];
    assert_eq!((view.funding.state, view.funding.percent), (State::Open, Some(40)));
    assert_eq!(view.cosigners, vec![b.member_id()]);
    assert_eq!(
        net.views()
            .pledge(net.reg.index().get(&cond.id()).unwrap())
            .unwrap()
            .effect,
        funding::Effect::Conditional
    );

    net.put(&c, &[rec(&c, 1, at(4), pledge(n.id(), "600EUR", false))]);
    let view = &net.views().needs(&Filter::default())[0];
    assert_eq!(view.funding.state, State::Funded);
    assert_eq!(view.pledges.len(), 2);
    assert_eq!(
        net.views()
            .pledge(net.reg.index().get(&cond.id()).unwrap())
            .unwrap()
            .effect,
        funding::Effect::Committed
    );

    // The pledge is withdrawn by its author: back to open.
    let Body::Pledge(p) = cond.record().body.clone() else {
        unreachable!()
    };
    net.put(
        &b,
        &[edit(
            &b,
            &cond,
            at(5),
            Body::Pledge(Pledge {
                status: PledgeStatus::Withdrawn,
                ..p
            }),
        )],
    );
    let view = &net.views().needs(&Filter::default())[0];
    assert_eq!(
        (view.funding.state, view.funding.pledged.get("EUR".parse().unwrap())),
        (State::Open, 60_000)
    );
    // Past the deadline the conditional pledges are released.
    let later = Views::new(
        net.reg.index(),
        Timestamp("2027-07-01".parse::<Date>().unwrap().end().0),
    );
    assert_eq!(later.needs(&Filter::default())[0].funding.state, State::Expired);
}

/// Record `i` (beyond the 256 nonces of [`rec`]) of `key`.
fn rec_n(key: &SecretKey, i: usize, t: Timestamp, body: Body) -> SignedRecord {
    Record::new(key.member_id(), nonce_n(i), t, body).sign(key).unwrap()
}

fn nonce_n(i: usize) -> [u8; 16] {
    let mut n = [0xA5; 16];
    n[..8].copy_from_slice(&(i as u64).to_le_bytes());
    n
}

/// A chain of 200 catalogues, each including the next and listing one
/// project: each federates itself and the next [`MAX_FEDERATED`] (listing
/// them all cost 200²/2 catalogue visits before the bound, and each visit
/// re-sorted its catalogue's entries). A project is in the catalogues
/// that list it as their own.
///
/// ```text
///   c0 ──► c1 ──► c2 ──► … ──► c199
///   p0     p1     p2           p199
/// ```
#[test]
fn a_long_include_chain_federates_the_nearest_catalogues() {
    const N: usize = 200;
    let owner = key(1);
    let mut net = Net::default();
    let me = owner.member_id();
    let cat_id = |i: usize| RecordId::derive(&me, Kind::Catalogue, &nonce_n(10_000 + i));
    let projects: Vec<SignedRecord> = (0..N)
        .map(|i| rec_n(&owner, i, at(1), project(&format!("p{i}"))))
        .collect();
    let catalogues: Vec<SignedRecord> = (0..N)
        .map(|i| {
            let includes: Vec<RecordId> = if i + 1 < N { vec![cat_id(i + 1)] } else { vec![] };
            rec_n(&owner, 10_000 + i, at(2), catalogue(&[], &includes))
        })
        .collect();
    let entries: Vec<SignedRecord> = (0..N)
        .map(|i| rec_n(&owner, 20_000 + i, at(3), entry(cat_id(i), projects[i].id())))
        .collect();
    assert_eq!(catalogues[7].id(), cat_id(7));
    for chunk in [&projects, &catalogues, &entries] {
        net.put(&owner, chunk);
    }

    let views = net.views();
    let head = views.catalogue(&catalogues[0]).unwrap();
    assert_eq!(head.entries.len(), MAX_FEDERATED + 1);
    for (i, e) in head.entries.iter().enumerate() {
        assert_eq!(e.project, projects[i].id(), "entry {i}");
        assert_eq!(e.via, (i > 0).then(|| cat_id(i)), "entry {i}");
    }
    let listed = views.catalogues(&Filter::default());
    assert_eq!(listed.len(), N);
    for (i, c) in catalogues.iter().enumerate() {
        let expected = (N - i).min(MAX_FEDERATED + 1);
        assert_eq!(views.catalogue_len(c), expected, "catalogue {i}");
        let view = listed.iter().find(|v| v.record.id == c.id()).unwrap();
        assert_eq!(view.entries.len(), expected, "catalogue {i}");
    }
    for (i, p) in projects.iter().enumerate() {
        assert_eq!(views.project(p).unwrap().catalogues, vec![cat_id(i)], "project {i}");
    }
}

/// A need with 3 000 conditional pledges: funding is evaluated once for
/// all of them (it was evaluated per pledge, summing all 3 000 each time),
/// and every pledge shows the need's state.
#[test]
fn a_need_with_thousands_of_pledges_shows_each_with_the_needs_state() {
    const N: usize = 3_000;
    let (author, backer) = (key(1), key(2));
    let mut net = Net::default();
    let n = rec(&author, 1, at(1), need("Big", "1000EUR"));
    net.put(&author, std::slice::from_ref(&n));
    let pledges: Vec<SignedRecord> = (0..N)
        .map(|i| rec_n(&backer, i, at(2), pledge(n.id(), "1EUR", i % 2 == 0)))
        .collect();
    for chunk in pledges.chunks(500) {
        net.put(&backer, chunk);
    }
    let views = net.views();
    let need_view = views.need(&n).unwrap();
    assert_eq!(need_view.funding.state, State::Funded);
    assert_eq!(need_view.funding.pledged.get("EUR".parse().unwrap()), 300_000);
    let to = views.pledges_to(&n.id());
    assert_eq!(to.len(), N);
    assert_eq!(
        to.iter()
            .map(|(r, v)| (r.id(), v.record.id))
            .filter(|(a, b)| a == b)
            .count(),
        N
    );
    let effects = |list: &[funding::Effect]| {
        (
            list.iter().filter(|e| **e == funding::Effect::Committed).count(),
            list.iter().filter(|e| **e == funding::Effect::Active).count(),
        )
    };
    let to_effects: Vec<_> = to.iter().map(|(_, v)| v.effect).collect();
    assert_eq!(effects(&to_effects), (N / 2, N / 2));
    let all: Vec<_> = views.pledges(&Filter::default()).iter().map(|v| v.effect).collect();
    assert_eq!(effects(&all), (N / 2, N / 2));
}

#[test]
fn who_could_join_is_the_projects_users_not_yet_in_the_coalition() {
    let (author, cosigner, pledger, user, both) = (key(1), key(2), key(3), key(4), key(5));
    let mut net = Net::default();
    let p = rec(&author, 1, at(1), project("Paheko"));
    let mut body = need("SEPA export", "600EUR");
    if let Body::Need(n) = &mut body {
        n.project = Some(p.id());
    }
    let n = rec(&author, 2, at(2), body);
    let use_p = |k: &SecretKey, nonce| {
        rec(
            k,
            nonce,
            at(3),
            Body::Usage(Usage {
                project: p.id(),
                note: String::new(),
            }),
        )
    };
    net.put(&author, &[p.clone(), n.clone(), use_p(&author, 3)]);
    let cosign = Body::Cosign(Cosign {
        need: n.id(),
        note: String::new(),
    });
    net.put(&cosigner, &[use_p(&cosigner, 1), rec(&cosigner, 2, at(4), cosign)]);
    net.put(
        &pledger,
        &[
            use_p(&pledger, 1),
            rec(&pledger, 2, at(5), pledge(n.id(), "100EUR", false)),
        ],
    );
    net.put(&user, &[use_p(&user, 1)]);
    net.put(&both, &[use_p(&both, 1)]);
    let views = net.views();
    let view = views.need(net.reg.index().get(&n.id()).unwrap()).unwrap();
    let mut expected = vec![user.member_id(), both.member_id()];
    expected.sort();
    assert_eq!(views.could_join(&view), expected);
}

mod groups {
    //! The groups the index keeps up to date (what views look up) always
    //! equal the groups recomputed from the visible records, whatever the
    //! records, edits, tombstones (of others' records too) and dropped
    //! documents that came before.

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        /// Member `m` writes a need (nonce `n`).
        Need(u8, u8),
        /// Member `m` pledges to the need of member `to`, nonce `n`.
        Pledge(u8, u8, u8, u8),
        /// Member `m` writes or updates its profile.
        Profile(u8, u8),
        /// Member `m` vouches for member `for`.
        Vouch(u8, u8, u8),
        /// Member `m` tombstones the record of `of` with nonce `n`.
        Tombstone(u8, u8, u8),
        /// A document dropped (a block).
        Drop(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        let m = 0u8..3;
        let n = 0u8..4;
        prop_oneof![
            (m.clone(), n.clone()).prop_map(|(m, n)| Op::Need(m, n)),
            (m.clone(), m.clone(), n.clone(), n.clone()).prop_map(|(m, to, t, n)| Op::Pledge(m, to, t, n)),
            (m.clone(), n.clone()).prop_map(|(m, n)| Op::Profile(m, n)),
            (m.clone(), m.clone(), n.clone()).prop_map(|(m, f, n)| Op::Vouch(m, f, n)),
            (m.clone(), m.clone(), n.clone()).prop_map(|(m, of, n)| Op::Tombstone(m, of, n)),
            m.prop_map(Op::Drop),
        ]
    }

    fn keys() -> [SecretKey; 3] {
        [key(21), key(22), key(23)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn kept_groups_equal_groups_recomputed(ops in prop::collection::vec(op(), 1..40)) {
            let keys = keys();
            let mut net = Net::default();
            for (step, op) in ops.into_iter().enumerate() {
                let t = at(step as u64);
                let id_of = |m: u8, kind: Kind, n: u8| RecordId::derive(&keys[m as usize].member_id(), kind, &[n; 16]);
                let (m, body, nonce) = match op {
                    Op::Need(m, n) => {
                        let mut body = need(&format!("need {n} at {step}"), "100EUR");
                        if let Body::Need(x) = &mut body {
                            x.tags = vec![format!("t{}", (n as usize + step) % 2)];
                            // Every so often, merged into the member's need 0.
                            if n != 0 && step % 3 == 0 {
                                x.status = NeedStatus::Merged;
                                x.merged_into = Some(id_of(m, Kind::Need, 0));
                            }
                        }
                        (m, body, n)
                    }
                    Op::Pledge(m, to, t_n, n) => (m, pledge(id_of(to, Kind::Need, t_n), "10EUR", n % 2 == 0), 100 + n),
                    Op::Profile(m, n) => (
                        m,
                        Body::Profile(Profile {
                            name: format!("member {m} v{n}"),
                            member_kind: crate::record::MemberKind::Association,
                            country: None,
                            sectors: vec![format!("s{n}")],
                            website: None,
                            description: String::new(),
                        }),
                        200,
                    ),
                    Op::Vouch(m, f, n) => (
                        m,
                        Body::Vouch(crate::record::Vouch {
                            member: keys[f as usize].member_id(),
                            statement: String::new(),
                        }),
                        150 + n,
                    ),
                    Op::Tombstone(m, of, n) => (m, tombstone(id_of(of, Kind::Need, n)), 50 + n),
                    Op::Drop(m) => {
                        net.reg.remove_doc(&keys[m as usize].member_id());
                        prop_assert_eq!(net.reg.index().groups(), &net.reg.index().groups_from_scratch());
                        continue;
                    }
                };
                let k = &keys[m as usize];
                let mut r = Record::new(k.member_id(), [nonce; 16], t, body.clone());
                // The same nonce again is a new version of the same record.
                if let Some(old) = net.reg.index().get_any(&r.id)
                    && let Ok(next) = old.record().edit(t, body)
                {
                    r = next;
                }
                let signed = r.sign(k).unwrap();
                net.put(k, &[signed]);
                prop_assert_eq!(net.reg.index().groups(), &net.reg.index().groups_from_scratch());
            }
        }
    }
}
