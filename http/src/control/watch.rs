//! `watch`, `unwatch`, `watching` and `inbox`: the owner's watch list (a
//! private file of the home, [`mutu_node::watch`]) and the events derived
//! from the records ([`mutu_protocol::inbox`]), read from a snapshot.

use mutu_node::state::Snapshot;
use mutu_node::watch::{self, Watchlist};
use mutu_protocol::Timestamp;
use mutu_protocol::inbox::{self, Event, Watch, What};
use mutu_protocol::record::{Kind, validate};
use serde::Serialize;

use super::report::{Block, Report, Table, count};
use super::{Error, Target};

type Result<T> = std::result::Result<T, Error>;

/// The watch `target` names, resolved here.
fn resolve(s: &Snapshot, target: Target) -> Result<Watch> {
    Ok(match target {
        Target::Need(id) => Watch::Need(s.resolve_kind(&id, Kind::Need)?),
        Target::Project(id) => Watch::Project(s.resolve_kind(&id, Kind::Project)?),
        Target::Catalogue(id) => Watch::Catalogue(s.resolve_kind(&id, Kind::Catalogue)?),
        Target::Tag(t) => {
            // A tag as records bound it: the watch file stays small.
            let tag = validate::normalize_tag(&t);
            validate::tags("tag", std::slice::from_ref(&tag))
                .map_err(|e| mutu_node::ops::Error::from_state(mutu_node::state::Error::Invalid(e), Some("tag")))?;
            Watch::Tag(tag)
        }
        Target::Member(m) => Watch::Member(s.resolve_member(&m)?),
    })
}

/// Adds (`on`) or removes a watch.
pub fn watch(s: &Snapshot, target: Target, on: bool) -> Result<()> {
    let w = resolve(s, target)?;
    if on {
        watch::add(s.home(), w)?;
    } else {
        watch::remove(s.home(), w)?;
    }
    Ok(())
}

pub fn watching(s: &Snapshot, as_json: bool) -> Result<Report> {
    let list = watch::load(s.home());
    if as_json {
        return Ok(Report::json(&list.watches)?);
    }
    let mut t = Table::new(&["WATCHING"]);
    for w in &list.watches {
        t.row(vec![w.to_string()]);
    }
    Ok(Report::table(t))
}

/// The inbox and how much of it is unread, before marking it read.
#[derive(Debug, Serialize)]
struct Inbox {
    unread: usize,
    events: Vec<Event>,
}

/// The events on what the owner follows, newest first, and the number not
/// read yet (newer than the read cursor).
pub fn events(s: &Snapshot, now: Timestamp) -> (Watchlist, Vec<Event>) {
    let list = watch::load(s.home());
    let events = inbox::events(&s.views(now), s.member_id(), &list.watches);
    (list, events)
}

pub fn inbox(s: &Snapshot, as_json: bool, keep_unread: bool, now: Timestamp) -> Result<Report> {
    let (list, events) = events(s, now);
    let unread = events.iter().filter(|e| e.at > list.read_until).count();
    let newest = events.first().map(|e| e.at);
    if !keep_unread && let Some(newest) = newest.filter(|n| *n > list.read_until) {
        watch::update(s.home(), |l| {
            l.read_until = l.read_until.max(newest);
            Ok(())
        })?;
    }
    if as_json {
        return Ok(Report::json(&Inbox { unread, events })?);
    }
    let mut t = Table::new(&["", "WHEN", "WHAT", "ABOUT", "BY"]);
    for e in &events {
        t.row(vec![
            if e.at > list.read_until { "*" } else { "" }.to_owned(),
            e.at.to_string(),
            sentence(e),
            format!("{} ({})", e.title, e.about),
            e.by.map(|m| m.to_string()).unwrap_or_default(),
        ]);
    }
    let title = format!("{} unread of {}", unread, count(events.len(), "event", "events"));
    Ok(match t.titled(title).into_block() {
        Some(b) => Report::text([b]),
        None => Report::text([Block::Lines(vec![
            "nothing yet: needs you write, cosign or pledge to are followed, and `mutu watch` follows more".into(),
        ])]),
    })
}

/// An event in a few words.
pub fn sentence(e: &Event) -> String {
    match e.what {
        What::Cosigned => "cosigned".into(),
        What::Pledged => "pledged".into(),
        What::Offered => "offered".into(),
        What::Status => format!(
            "status: {}",
            e.status
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ),
        What::Funded => "funded: conditional pledges are committed".into(),
        What::Expired => "expired: conditional pledges are released".into(),
        What::Merged => match e.into {
            Some(into) => format!("merged into {into}: move your pledge with `mutu pledge move PLEDGE --to {into}`"),
            None => "merged".into(),
        },
        What::NewNeed => "new need".into(),
        What::Listed => "new catalogue entry".into(),
        What::Wrote => "wrote".into(),
        What::Awarded => "an offer was awarded".into(),
        What::Delivered => "delivered: accept with `mutu delivery accept ID` or object".into(),
        What::Accepted => "the delivery was accepted".into(),
        What::PledgeDue => match e.record {
            Some(p) => format!("your pledge {p} is due: once paid, `mutu pledge fulfil {p}`"),
            None => "your pledge is due".into(),
        },
        _ => "event".into(),
    }
}
