//! Merging needs and moving pledges, through the operations catalogue.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mutu_protocol::record::{MemberKind, NeedStatus, Profile};
use mutu_protocol::view::{Filter, funding};

use super::*;
use crate::home::Home;

const T: Timestamp = Timestamp(1_000);

fn member(name: &str) -> (State, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::resolve(Some(dir.path().join("home"))).unwrap();
    let profile = Profile {
        name: name.into(),
        member_kind: MemberKind::Association,
        country: Some("FR".into()),
        sectors: vec![],
        website: None,
        description: String::new(),
    };
    (State::init(home, profile, T).unwrap(), dir)
}

fn need(st: &mut State, title: &str) -> RecordId {
    Request::from(NewNeed {
        title: title.into(),
        description: None,
        project: None,
        tags: vec![],
        goal: Some(MoneyInput::Text("1000EUR".into())),
        days_goal: None,
        deadline: None,
        decision: None,
    })
    .apply(st, T)
    .unwrap()
}

fn pledge(st: &mut State, need: RecordId, money: &str) -> RecordId {
    Request::from(NewPledge {
        need: need.to_string(),
        money: Some(MoneyInput::Text(money.into())),
        days: None,
        hosting: None,
        testing: None,
        other: None,
        condition: Some(Condition::IfGoalReached),
        expires_at: None,
    })
    .apply(st, T)
    .unwrap()
}

fn merge(st: &mut State, need: RecordId, into: RecordId) -> Result<RecordId, Error> {
    Request::from(MergeNeed {
        need: need.to_string(),
        into: into.to_string(),
    })
    .apply(st, T)
}

fn move_pledge(st: &mut State, pledge: RecordId, to: RecordId) -> Result<RecordId, Error> {
    Request::from(MovePledge {
        pledge: pledge.to_string(),
        to: to.to_string(),
    })
    .apply(st, T)
}

fn eur(st: &State, need: RecordId) -> u64 {
    let views = st.views(T);
    let r = st.registry().index().get(&need).unwrap();
    views.need(r).unwrap().funding.pledged.get("EUR".parse().unwrap())
}

/// Copies everything `from` holds into `to`, as a bundle would.
fn sync(from: &State, to: &mut State) {
    to.import(&from.export().unwrap(), T).unwrap();
}

#[test]
fn a_merged_need_points_to_the_end_of_its_chain_and_takes_no_new_statements() {
    let (mut a, _d) = member("A");
    let (first, second, third) = (
        need(&mut a, "SEPA export"),
        need(&mut a, "Export SEPA"),
        need(&mut a, "SEPA"),
    );
    merge(&mut a, second, first).unwrap();
    // Into a merged need: the chain's end.
    merge(&mut a, third, second).unwrap();
    let views = a.views(T);
    assert_eq!(views.merge_end(&third), Some(first));
    let listed: Vec<_> = views
        .needs(&Filter::default())
        .into_iter()
        .filter(|n| n.merged_into.is_none())
        .collect();
    assert_eq!(listed.iter().map(|n| n.id).collect::<Vec<_>>(), vec![first]);
    drop(views);
    // A cycle is refused, directly or through the chain.
    for target in [second, third] {
        let e = merge(&mut a, first, target).unwrap_err();
        assert!(matches!(e, Error::Rule(Violation::MergeCycle { .. })), "{e}");
        assert!(e.to_string().contains("already merged into"), "{e}");
    }
    let e = merge(&mut a, first, first).unwrap_err();
    assert!(matches!(e, Error::Rule(Violation::SelfReference)), "{e}");
    let e = merge(&mut a, second, first).unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e}");
    // A merged need takes no new pledge: the error names where to go.
    let e = Request::from(CosignNeed {
        need: second.to_string(),
        note: None,
    })
    .apply(&mut a, T)
    .unwrap_err();
    assert!(
        matches!(e, Error::Rule(Violation::NeedMerged { into, .. }) if into == first),
        "{e}"
    );
    assert!(e.to_string().contains("mutu pledge move"), "{e}");
    // Into a withdrawn need: refused.
    let fourth = need(&mut a, "Other");
    Request::from(SetNeedStatus {
        need: fourth.to_string(),
        status: NeedStatus::Withdrawn,
    })
    .apply(&mut a, T)
    .unwrap();
    let e = merge(&mut a, first, fourth).unwrap_err();
    assert!(matches!(e, Error::Rule(Violation::NeedClosed { .. })), "{e}");
    // `need status` does not merge, and reopening undoes a merge.
    let e = Request::from(SetNeedStatus {
        need: third.to_string(),
        status: NeedStatus::Merged,
    })
    .apply(&mut a, T)
    .unwrap_err();
    assert_eq!(e.field(), Some("status"));
    Request::from(SetNeedStatus {
        need: third.to_string(),
        status: NeedStatus::Open,
    })
    .apply(&mut a, T)
    .unwrap();
    assert_eq!(a.views(T).merge_end(&third), None);
}

#[test]
fn a_moved_pledge_counts_on_exactly_one_need_and_only_its_author_moves_it() {
    let (mut a, _da) = member("A");
    let (mut b, _db) = member("B");
    let (kept, duplicate) = (need(&mut a, "SEPA direct debit export"), need(&mut a, "Export SEPA"));
    sync(&a, &mut b);
    let moved = pledge(&mut b, duplicate, "300EUR");
    sync(&b, &mut a);
    merge(&mut a, duplicate, kept).unwrap();
    sync(&a, &mut b);
    assert_eq!((eur(&b, kept), eur(&b, duplicate)), (0, 30_000));
    // Nobody moves another member's pledge.
    let e = move_pledge(&mut a, moved, kept).unwrap_err();
    assert!(matches!(e, Error::Rule(Violation::NotYours { .. })), "{e}");
    let before = b.export().unwrap().changes().len();
    let new = move_pledge(&mut b, moved, duplicate.to_string().parse().unwrap()).unwrap();
    // Moving to a merged need lands on the end of its chain, in one change.
    assert_eq!(b.export().unwrap().changes().len(), before + 1);
    assert_eq!((eur(&b, kept), eur(&b, duplicate)), (30_000, 0));
    let views = b.views(T);
    let new_pledge = views.pledge(b.registry().index().get(&new).unwrap()).unwrap();
    assert!(
        matches!(new_pledge.record.body, Body::Pledge(p) if p.need == kept && p.condition == Condition::IfGoalReached)
    );
    assert_eq!(new_pledge.effect, funding::Effect::Conditional);
    drop(views);
    sync(&b, &mut a);
    assert_eq!((eur(&a, kept), eur(&a, duplicate)), (30_000, 0));
    // Moving it again: the old one is withdrawn.
    let e = move_pledge(&mut b, moved, kept).unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e}");
    let e = move_pledge(&mut b, new, kept).unwrap_err();
    assert!(e.to_string().contains("already on need"), "{e}");
}
