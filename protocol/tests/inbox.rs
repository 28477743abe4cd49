//! The inbox: events on what a member follows, derived from the records,
//! the same whatever order they arrived in.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mutu_protocol::inbox::{self, Event, Watch, What};
use mutu_protocol::record::{Body, Need, NeedStatus};
use mutu_protocol::view::Views;
use mutu_protocol::{Registry, SignedRecord, Timestamp};

fn whats(events: &[Event]) -> Vec<(What, String)> {
    events.iter().map(|e| (e.what, e.title.clone())).collect()
}

fn merged(need: &SignedRecord, into: mutu_protocol::RecordId) -> Body {
    let Body::Need(n) = need.record().body.clone() else {
        unreachable!()
    };
    Body::Need(Need {
        status: NeedStatus::Merged,
        merged_into: Some(into),
        ..n
    })
}

/// A (the treasurer) pledges on B's need; C pledges enough to fund it; B
/// merges its duplicate, on which A had pledged too, into it; D writes a
/// need on a watched tag.
#[test]
fn a_pledger_learns_about_funding_and_merges_without_watching_anything() {
    let (a, b, c, d) = (key(1), key(2), key(3), key(4));
    let mut w = World::new();
    let sepa = rec(&b, 1, at(1), need("SEPA export", "1000EUR"));
    let dup = rec(&b, 2, at(2), need("Export SEPA", "500EUR"));
    w.put(&b, 1, &[sepa.clone(), dup.clone()]);
    w.put(&a, 1, &[rec(&a, 1, at(3), pledge(sepa.id(), "300EUR", true))]);
    w.put(&a, 1, &[rec(&a, 2, at(4), pledge(dup.id(), "100EUR", true))]);
    w.put(&c, 1, &[rec(&c, 1, at(5), pledge(sepa.id(), "700EUR", true))]);
    w.put(&b, 1, &[edit(&b, &dup, at(6), merged(&dup, sepa.id()))]);
    let views = Views::new(w.reg.index(), NOW);
    let events = inbox::events(&views, a.member_id(), &[]);
    assert_eq!(
        whats(&events),
        vec![
            (What::Merged, "Export SEPA".to_owned()),
            (What::Funded, "SEPA export".to_owned()),
            (What::Pledged, "SEPA export".to_owned()),
        ],
        "{events:#?}"
    );
    assert_eq!(events[0].into, Some(sepa.id()));
    assert_eq!(events[1].at, at(5), "funded when the last counting pledge came");
    assert_eq!(events[2].by, Some(c.member_id()));
    // Nothing of one's own doing.
    assert!(events.iter().all(|e| e.by != Some(a.member_id())));

    // D's need on a watched tag; B's needs by a watched member.
    let tagged = rec(&d, 1, at(7), need("Relances", "200EUR"));
    w.put(&d, 1, std::slice::from_ref(&tagged));
    let views = Views::new(w.reg.index(), NOW);
    let events = inbox::events(&views, a.member_id(), &[Watch::Tag("accounting".into())]);
    let new: Vec<_> = events.iter().filter(|e| e.what == What::NewNeed).collect();
    // Every need has the tag `accounting`: each is listed once.
    assert_eq!(new.len(), 3, "{new:#?}");
    assert_eq!(new[0].about, tagged.id());
}

/// The same records in any order give the same events.
#[test]
fn events_do_not_depend_on_arrival_order() {
    let (a, b, c) = (key(1), key(2), key(3));
    let mut w = World::new();
    let n = rec(&b, 1, at(1), need("Invoices", "500EUR"));
    w.put(&b, 1, std::slice::from_ref(&n));
    w.put(&a, 1, &[rec(&a, 1, at(2), cosign(n.id()))]);
    w.put(&c, 1, &[rec(&c, 1, at(3), offer(n.id(), "450EUR"))]);
    w.put(&c, 1, &[rec(&c, 2, at(4), pledge(n.id(), "500EUR", false))]);
    let events = |reg: &Registry| inbox::events(&Views::new(reg.index(), NOW), a.member_id(), &[]);
    let forward = events(&w.reg);
    assert_eq!(forward.len(), 3, "{forward:#?}");
    let mut reversed = Registry::new();
    for change in w.log.iter().rev() {
        admit(&mut reversed, vec![change.clone()]);
    }
    assert_eq!(reversed.pending_count(), 0);
    assert_eq!(events(&reversed), forward);
    // Past the deadline without funding... the need was funded: no expiry.
    let later = Timestamp(NOW.0 + 3 * 365 * 86_400_000);
    let late = inbox::events(&Views::new(w.reg.index(), later), a.member_id(), &[]);
    assert!(late.iter().all(|e| e.what != What::Expired));
}
