//! The inbox: what happened to the things a member follows, derived from
//! the records a node holds.
//!
//! A member watches needs, projects, catalogues, tags and members
//! ([`Watch`]); it also watches, without asking, every need it wrote,
//! cosigned or pledged to (the treasurer who pledged 300 EUR learns when the
//! need is funded, merged or expired without going to look). [`events`]
//! turns the views into [`Event`]s, newest first:
//!
//! - on a watched need: a cosign, a pledge, an offer (by someone else), its
//!   status set by its author, funded, expired, merged (into the end of its
//!   chain); an award, a delivery to accept, the delivery accepted, and
//!   each of the member's pledges that became due (see `view::consult`);
//! - on a watched project or tag: a new need about it;
//! - on a watched catalogue: a new entry;
//! - by a watched member: a new need, offer, project or catalogue.
//!
//! Events are derived, not stored: each has a stable id made of what it is
//! about (`pledge:<id>`, `funded:<need>`), so the same records give the same
//! events on every node and at every call, and one event reached two ways
//! (a need on a watched project *and* tag) is listed once. An event's time
//! is the time its record claims (`created_at`/`updated_at`), the deadline
//! for an expiry, the latest counting pledge for funding. What is new is
//! the caller's to remember (a read cursor on those times).

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::identity::MemberId;
use crate::record::{Body, Kind, NeedStatus, RecordId, SignedRecord};
use crate::time::Timestamp;
use crate::view::{Views, funding};

/// At most this many watches per member (each is a lookup per call).
pub const MAX_WATCHES: usize = 1_000;
/// At most this many events come back from one call (the newest).
pub const MAX_EVENTS: usize = 500;

/// Something a member follows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Watch {
    Need(RecordId),
    Project(RecordId),
    Catalogue(RecordId),
    /// A tag, normalised as records hold them.
    Tag(String),
    Member(MemberId),
}

impl std::fmt::Display for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Watch::Need(id) => write!(f, "need {id}"),
            Watch::Project(id) => write!(f, "project {id}"),
            Watch::Catalogue(id) => write!(f, "catalogue {id}"),
            Watch::Tag(t) => write!(f, "tag {t}"),
            Watch::Member(m) => write!(f, "member {m}"),
        }
    }
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum What {
    Cosigned,
    Pledged,
    Offered,
    /// The need's author set its status (in progress, delivered, withdrawn).
    Status,
    Funded,
    Expired,
    Merged,
    /// A new need on a watched project or tag, or by a watched member.
    NewNeed,
    /// A new entry in a watched catalogue.
    Listed,
    /// A new offer, project or catalogue by a watched member.
    Wrote,
    /// The need's author awarded an offer.
    Awarded,
    /// The awarded provider declared a delivery: to accept or object to.
    Delivered,
    /// The coalition accepted a delivery.
    Accepted,
    /// One of the member's own pledges is owed now (the delivery is accepted).
    PledgeDue,
}

/// One thing that happened to something followed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Stable: the same records give the same id.
    pub id: String,
    pub at: Timestamp,
    pub what: What,
    /// What it is about: a need, project or catalogue.
    pub about: RecordId,
    pub about_kind: Kind,
    /// Its title (or name).
    pub title: String,
    /// The record that made the event, if one did.
    pub record: Option<RecordId>,
    /// Who made it, if someone did.
    pub by: Option<MemberId>,
    /// The need's status, for [`What::Status`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<NeedStatus>,
    /// Where a merged need went (the end of its chain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub into: Option<RecordId>,
}

/// The needs `me` follows without asking: written, cosigned or pledged to
/// (one pass over the visible records).
fn own_needs(views: &Views<'_>, me: MemberId) -> BTreeSet<RecordId> {
    views
        .index()
        .visible()
        .filter(|r| r.record().author == me)
        .filter_map(|r| match &r.record().body {
            Body::Need(_) => Some(r.id()),
            Body::Cosign(c) => Some(c.need),
            Body::Pledge(p) => Some(p.need),
            _ => None,
        })
        .collect()
}

fn title_of(body: &Body) -> String {
    match body {
        Body::Need(n) => n.title.clone(),
        Body::Project(p) => p.name.clone(),
        Body::Catalogue(c) => c.title.clone(),
        _ => String::new(),
    }
}

/// Collects events, one per id.
struct Sink {
    events: HashMap<String, Event>,
}

impl Sink {
    fn push(&mut self, e: Event) {
        self.events.entry(e.id.clone()).or_insert(e);
    }

    /// An event made by record `r` about `about`.
    fn record(&mut self, what: What, about: &SignedRecord, r: &SignedRecord, prefix: &str) {
        self.push(Event {
            id: format!("{prefix}:{}", r.id()),
            at: r.record().created_at,
            what,
            about: about.id(),
            about_kind: about.record().kind,
            title: title_of(&about.record().body),
            record: Some(r.id()),
            by: Some(r.record().author),
            status: None,
            into: None,
        });
    }
}

/// What happened to a need, told to someone other than `me`.
fn need_events(views: &Views<'_>, me: MemberId, need: &SignedRecord, sink: &mut Sink) {
    let Body::Need(n) = &need.record().body else { return };
    for (kind, what, prefix) in [
        (Kind::Cosign, What::Cosigned, "cosign"),
        (Kind::Pledge, What::Pledged, "pledge"),
        (Kind::Offer, What::Offered, "offer"),
    ] {
        for r in views.referring(kind, &need.id()) {
            if r.record().author != me {
                sink.record(what, need, r, prefix);
            }
        }
    }
    let about = |id: String, at: Timestamp, what: What| Event {
        id,
        at,
        what,
        about: need.id(),
        about_kind: Kind::Need,
        title: n.title.clone(),
        record: Some(need.id()),
        by: Some(need.record().author),
        status: None,
        into: None,
    };
    let mine = need.record().author == me;
    match n.status {
        NeedStatus::Merged => {
            if let Some(into) = views.merge_end(&need.id()) {
                sink.push(Event {
                    into: Some(into),
                    ..about(format!("merged:{}", need.id()), need.record().updated_at, What::Merged)
                });
            }
        }
        NeedStatus::InProgress | NeedStatus::Delivered | NeedStatus::Withdrawn if !mine => {
            let code = match n.status {
                NeedStatus::InProgress => "in_progress",
                NeedStatus::Delivered => "delivered",
                _ => "withdrawn",
            };
            sink.push(Event {
                status: Some(n.status),
                ..about(
                    format!("status:{}:{code}", need.id()),
                    need.record().updated_at,
                    What::Status,
                )
            });
        }
        _ => {}
    }
    consultation_events(views, me, need, sink);
    let now = views.now();
    match views.funding(&need.id(), n).state {
        funding::State::Funded => {
            let at = views
                .referring(Kind::Pledge, &need.id())
                .iter()
                .filter(|r| matches!(&r.record().body, Body::Pledge(p) if funding::counts(p, now)))
                .map(|r| r.record().updated_at)
                .max()
                .unwrap_or(need.record().updated_at);
            sink.push(Event {
                by: None,
                ..about(format!("funded:{}", need.id()), at, What::Funded)
            });
        }
        funding::State::Expired => {
            let at = n.deadline.map_or(need.record().updated_at, |d| d.end());
            sink.push(Event {
                by: None,
                ..about(format!("expired:{}", need.id()), at, What::Expired)
            });
        }
        _ => {}
    }
}

/// The consultation's steps on a need that has offers.
fn consultation_events(views: &Views<'_>, me: MemberId, need: &SignedRecord, sink: &mut Sink) {
    if views.referring(Kind::Offer, &need.id()).is_empty() {
        return;
    }
    let Some(c) = views.consultation_of(&need.id()) else {
        return;
    };
    let Body::Need(n) = &need.record().body else { return };
    let event = |id: String, at: Timestamp, what: What, record: RecordId, by: Option<MemberId>| Event {
        id,
        at,
        what,
        about: need.id(),
        about_kind: Kind::Need,
        title: n.title.clone(),
        record: Some(record),
        by,
        status: None,
        into: None,
    };
    if let Some(a) = &c.award
        && need.record().author != me
    {
        sink.push(event(
            format!("award:{}", a.id),
            a.at,
            What::Awarded,
            a.id,
            Some(need.record().author),
        ));
    }
    for d in &c.deliveries {
        if c.provider() != Some(me) {
            sink.push(event(
                format!("delivery:{}", d.id),
                d.at,
                What::Delivered,
                d.id,
                c.provider(),
            ));
        }
    }
    if let Some(at) = c.timeline.accepted {
        sink.push(event(
            format!("accepted:{}", need.id()),
            at,
            What::Accepted,
            need.id(),
            None,
        ));
        for p in c.pledges.iter().filter(|p| p.pledger == me && p.due) {
            sink.push(event(format!("due:{}", p.id), at, What::PledgeDue, p.id, None));
        }
    }
}

/// What happened to what `me` watches (and to the needs it wrote, cosigned
/// or pledged to), newest first, at most [`MAX_EVENTS`].
pub fn events(views: &Views<'_>, me: MemberId, watches: &[Watch]) -> Vec<Event> {
    let index = views.index();
    let mut sink = Sink { events: HashMap::new() };
    let mut needs = own_needs(views, me);
    let (mut projects, mut tags, mut catalogues, mut members) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for w in watches.iter().take(MAX_WATCHES) {
        match w {
            Watch::Need(id) => {
                needs.insert(*id);
            }
            Watch::Project(id) => {
                projects.insert(*id);
            }
            Watch::Catalogue(id) => {
                catalogues.insert(*id);
            }
            Watch::Tag(t) => {
                tags.insert(t.as_str());
            }
            Watch::Member(m) => {
                members.insert(*m);
            }
        }
    }
    for id in &needs {
        if let Some(need) = index.get(id) {
            need_events(views, me, need, &mut sink);
        }
    }
    if !(projects.is_empty() && tags.is_empty() && members.is_empty()) {
        for r in index.of_kind(Kind::Need) {
            let Body::Need(n) = &r.record().body else { continue };
            let by = r.record().author;
            let followed = n.project.is_some_and(|p| projects.contains(&p))
                || n.tags.iter().any(|t| tags.contains(t.as_str()))
                || members.contains(&by);
            if followed && by != me {
                sink.record(What::NewNeed, r, r, "need");
            }
        }
    }
    for id in &catalogues {
        let Some(cat) = index.get(id) else { continue };
        for r in views.referring(Kind::CatalogueEntry, id) {
            if r.record().author != me {
                sink.record(What::Listed, cat, r, "entry");
            }
        }
    }
    if !members.is_empty() {
        for kind in [Kind::Offer, Kind::Project, Kind::Catalogue] {
            for r in index.of_kind(kind) {
                if !members.contains(&r.record().author) {
                    continue;
                }
                let about = match &r.record().body {
                    Body::Offer(o) => index.get(&o.need).unwrap_or(r),
                    _ => r,
                };
                sink.record(What::Wrote, about, r, "record");
            }
        }
    }
    let mut events: Vec<Event> = sink.events.into_values().collect();
    events.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));
    events.truncate(MAX_EVENTS);
    events
}
