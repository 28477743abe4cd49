//! The reads of the control protocol: `whoami`, `ls`, `show`, `search`,
//! `status` and `peers`, each a [`Report`] built from a snapshot of the
//! views (or the actor's counters), by the node for a remote CLI and by the
//! CLI itself offline.

use mutu_node::actor::{PeerInfo, Status};
use mutu_node::net::invite::Invitation;
use mutu_node::state::{self, Snapshot};
use mutu_protocol::record::{Body, Condition, Kind, RecordId, Resource};
use mutu_protocol::view::{
    CatalogueView, Filter, MemberView, NeedView, PledgeView, ProjectView, RecordJson, Views, funding,
};
use mutu_protocol::{MemberId, Timestamp};
use serde::Serialize;

use super::report::{Block, Fields, Report, Table, count};
use super::{Error, List};

pub mod consult;

type Result<T> = std::result::Result<T, Error>;

pub fn whoami(st: &Snapshot, as_json: bool, now: Timestamp) -> Result<Report> {
    let views = st.views(now);
    let me = views.member(&st.member_id());
    if as_json {
        return Ok(Report::json(&me)?);
    }
    let mut f = member_fields(&views, &me);
    f.add("home", st.home().root().display().to_string());
    Ok(Report::fields(f))
}

pub fn ls(
    st: &Snapshot,
    what: List,
    tag: Option<String>,
    author: Option<String>,
    as_json: bool,
    now: Timestamp,
) -> Result<Report> {
    let filter = Filter {
        tag: tag.map(|t| mutu_protocol::record::validate::normalize_tag(&t)),
        author: author.map(|m| st.resolve_member(&m)).transpose()?,
    };
    let views = st.views(now);
    match what {
        List::Needs => {
            let needs = views.needs(&filter);
            if as_json {
                return Ok(Report::json(&needs)?);
            }
            let mut t = Table::new(&["ID", "STATUS", "FUNDING", "PLEDGED", "GOAL", "BY", "TITLE"]);
            for n in &needs {
                t.row(vec![
                    n.id.to_string(),
                    word(&n.status),
                    funding(&n.funding),
                    pledged(&n.funding),
                    goal(n),
                    name(&views, &n.author),
                    n.title.clone(),
                ]);
            }
            Ok(Report::table(t))
        }
        List::Projects => {
            let projects = views.projects(&filter);
            if as_json {
                return Ok(Report::json(&projects)?);
            }
            let mut t = Table::new(&["ID", "STATUS", "LICENSE", "USERS", "NAME"]);
            for p in &projects {
                if let Body::Project(b) = p.record.body {
                    t.row(vec![
                        p.record.id.to_string(),
                        word(&b.status),
                        b.license.clone(),
                        p.users.len().to_string(),
                        b.name.clone(),
                    ]);
                }
            }
            Ok(Report::table(t))
        }
        List::Pledges => {
            let pledges = views.pledges(&filter);
            if as_json {
                return Ok(Report::json(&pledges)?);
            }
            Ok(Report::table(pledge_table(&views, &pledges)))
        }
        List::Offers => {
            let offers = views.records(Kind::Offer, &filter);
            if as_json {
                return Ok(Report::json(&offers)?);
            }
            Ok(Report::table(offer_table(&views, &offers, true)))
        }
        List::Catalogues => {
            let catalogues = views.catalogues(&filter);
            if as_json {
                return Ok(Report::json(&catalogues)?);
            }
            let mut t = Table::new(&["ID", "ENTRIES", "BY", "TITLE"]);
            for c in &catalogues {
                if let Body::Catalogue(b) = c.record.body {
                    t.row(vec![
                        c.record.id.to_string(),
                        c.entries.len().to_string(),
                        name(&views, &c.record.author),
                        b.title.clone(),
                    ]);
                }
            }
            Ok(Report::table(t))
        }
        List::Members => {
            let members = views.members(&filter);
            if as_json {
                return Ok(Report::json(&members)?);
            }
            let mut t = Table::new(&["ID", "KIND", "VOUCHES", "RECORDS", "NAME"]);
            for m in &members {
                let (kind, name) = m.profile.map_or_else(
                    || ("?".to_owned(), String::new()),
                    |p| (word(&p.member_kind), p.name.clone()),
                );
                t.row(vec![
                    m.id.to_string(),
                    kind,
                    m.vouched_by.len().to_string(),
                    m.records.to_string(),
                    name,
                ]);
            }
            Ok(Report::table(t))
        }
    }
}

pub fn search(st: &Snapshot, text: &str, as_json: bool, now: Timestamp) -> Result<Report> {
    let views = st.views(now);
    let hits = st.search(text, &Filter::default());
    if as_json {
        return Ok(Report::json(&hits)?);
    }
    let mut t = Table::new(&["ID", "KIND", "BY", "TITLE"]);
    for h in &hits {
        t.row(vec![
            h.id.clone(),
            h.kind.to_owned(),
            name(&views, &h.author),
            h.title.clone(),
        ]);
    }
    Ok(Report::table(t))
}

/// A proof that a member signed two histories, as `show MEMBER --json`
/// prints it: both signed changes, which anyone can verify offline.
#[derive(serde::Serialize)]
struct EvidenceJson {
    seq: u64,
    signed_at: Timestamp,
    found_at: Timestamp,
    kept: mutu_protocol::SignedChange,
    other: mutu_protocol::SignedChange,
}

impl From<&mutu_node::store::Evidence> for EvidenceJson {
    fn from(e: &mutu_node::store::Evidence) -> Self {
        Self {
            seq: e.seq,
            signed_at: Timestamp::from_millis(u64::try_from(e.timestamp).unwrap_or(0)),
            found_at: e.found_at,
            kept: e.kept.clone(),
            other: e.other.clone(),
        }
    }
}

/// What `show ID` shows: a record (by id prefix) or a member.
enum Target {
    Record(RecordId),
    Member(MemberId),
}

fn target(st: &Snapshot, text: &str) -> Result<Target> {
    if let Ok(m) = text.trim().parse::<MemberId>() {
        return Ok(Target::Member(m));
    }
    match st.resolve(text) {
        Ok(id) => Ok(Target::Record(id)),
        Err(e @ state::Error::UnknownId(_)) => st.resolve_member(text).map(Target::Member).map_err(|_| e.into()),
        Err(e) => Err(e.into()),
    }
}

pub fn show(st: &Snapshot, text: &str, as_json: bool, now: Timestamp) -> Result<Report> {
    let views = st.views(now);
    let id = match target(st, text)? {
        Target::Member(m) => {
            let member = views.member(&m);
            let evidence = st.equivocations(&m)?;
            if member.records == 0 && member.vouched_by.is_empty() && evidence.is_empty() {
                return Err(state::Error::UnknownId(m.to_string()).into());
            }
            return if as_json {
                #[derive(serde::Serialize)]
                struct Shown<'a> {
                    track_record: mutu_protocol::view::consult::TrackRecord,
                    #[serde(flatten)]
                    member: &'a MemberView<'a>,
                    equivocations: Vec<EvidenceJson>,
                }
                let equivocations = evidence.iter().map(EvidenceJson::from).collect();
                Ok(Report::json(&Shown {
                    member: &member,
                    equivocations,
                    track_record: views.track_record(&m),
                })?)
            } else {
                let mut f = member_fields(&views, &member);
                consult::track_fields(&views.track_record(&m), &mut f);
                for e in &evidence {
                    f.add(
                        "warning",
                        format!(
                            "published two conflicting histories on {} (both signed; `--json` shows the proof)",
                            Timestamp::from_millis(u64::try_from(e.timestamp).unwrap_or(0)).date()
                        ),
                    );
                }
                Ok(Report::fields(f))
            };
        }
        Target::Record(id) => id,
    };
    let index = views.index();
    let Some(r) = index.get(&id) else {
        let kind = index.get_any(&id).map_or("record", |r| r.record().kind.as_str());
        return Err(Error::Retracted { kind, id });
    };
    match r.record().kind {
        Kind::Need => {
            let Some(n) = views.need(r) else {
                return Ok(Report::text([]));
            };
            // A need nobody has offered on, with the default rule, shows as
            // before: no consultation yet.
            let consultation = views
                .consultation(r)
                .filter(|c| !c.offers.is_empty() || !c.decision.is_author());
            if as_json {
                #[derive(serde::Serialize)]
                struct Shown<'a> {
                    #[serde(skip_serializing_if = "Option::is_none")]
                    consultation: Option<mutu_protocol::view::consult::Consultation>,
                    #[serde(flatten)]
                    need: &'a NeedView,
                }
                return Ok(Report::json(&Shown { need: &n, consultation })?);
            }
            Ok(Report::text(show_need(&views, &n, consultation.as_ref())))
        }
        Kind::Pledge => {
            let Some(p) = views.pledge(r) else {
                return Ok(Report::text([]));
            };
            if as_json {
                return Ok(Report::json(&p)?);
            }
            let mut f = record_fields(&views, &p.record);
            if let Body::Pledge(b) = p.record.body {
                f.add("need", b.need.to_string())
                    .add("pledge", resource(&b.resource))
                    .add("condition", condition(b.condition))
                    .add("status", word(&b.status))
                    .opt("expires", b.expires_at);
            }
            f.add("effect", word(&p.effect));
            Ok(Report::fields(f))
        }
        Kind::Catalogue => {
            let Some(c) = views.catalogue(r) else {
                return Ok(Report::text([]));
            };
            if as_json {
                return Ok(Report::json(&c)?);
            }
            Ok(Report::text(show_catalogue(&views, &c)))
        }
        Kind::Project => {
            let Some(p) = views.project(r) else {
                return Ok(Report::text([]));
            };
            if as_json {
                return Ok(Report::json(&p)?);
            }
            Ok(Report::fields(show_project(&views, &p)))
        }
        _ => {
            let rec = RecordJson::from(r);
            if as_json {
                return Ok(Report::json(&rec)?);
            }
            let mut f = record_fields(&views, &rec);
            match rec.body {
                Body::Usage(u) => f.add("project", u.project.to_string()).add("note", u.note.clone()),
                Body::Cosign(c) => f.add("need", c.need.to_string()).add("note", c.note.clone()),
                Body::Offer(o) => f
                    .add("need", o.need.to_string())
                    .add("price", o.price.to_string())
                    .opt("days", o.days)
                    .opt("valid until", o.valid_until)
                    .add("description", o.description.clone()),
                Body::CatalogueEntry(e) => f
                    .add("catalogue", e.catalogue.to_string())
                    .add("project", e.project.to_string())
                    .add("status", word(&e.status))
                    .add("note", e.note.clone()),
                Body::Vouch(v) => f
                    .add("member", named(&views, &v.member))
                    .add("statement", v.statement.clone()),
                Body::Follow(x) => f.add("member", named(&views, &x.member)),
                Body::Tombstone(t) => f.add("retracts", t.target.to_string()),
                Body::Profile(p) => f.add("name", p.name.clone()).add("member kind", word(&p.member_kind)),
                _ => &mut f,
            };
            Ok(Report::fields(f))
        }
    }
}

fn goal(n: &NeedView) -> String {
    let mut parts = Vec::new();
    if let Some(g) = n.goal {
        parts.push(g.to_string());
    }
    if let Some(d) = n.days_goal {
        parts.push(format!("{d} dev-days"));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

fn record_fields(views: &Views<'_>, r: &RecordJson<'_>) -> Fields {
    let mut f = Fields::default();
    f.add("id", r.id.to_string())
        .add("kind", r.kind.as_str())
        .add("author", named(views, &r.author))
        .add("created", r.created_at.to_string());
    if r.updated_at != r.created_at {
        f.add("updated", r.updated_at.to_string());
    }
    f
}

fn member_fields(views: &Views<'_>, m: &MemberView<'_>) -> Fields {
    let mut f = Fields::default();
    f.add("member", m.id.to_string());
    if let Some(p) = m.profile {
        f.add("name", p.name.clone())
            .add("kind", word(&p.member_kind))
            .opt("country", p.country.as_ref())
            .opt("website", p.website.as_ref())
            .add("description", p.description.clone());
    }
    let vouchers: Vec<String> = m.vouched_by.iter().map(|v| named(views, v)).collect();
    f.add("vouched by", vouchers.join(", "))
        .add("records", m.records.to_string());
    f
}

fn show_need(
    views: &Views<'_>,
    n: &NeedView,
    consultation: Option<&mutu_protocol::view::consult::Consultation>,
) -> Vec<Block> {
    let mut f = Fields::default();
    f.add("id", n.id.to_string())
        .add("kind", "need")
        .add("author", named(views, &n.author))
        .add("created", n.created_at.to_string())
        .add("title", n.title.clone())
        .add("status", word(&n.status))
        .opt("merged into", n.merged_into)
        .add(
            "merged from",
            n.merged_from
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        )
        .add("tags", n.tags.join(", "))
        .opt("project", n.project)
        .add("goal", goal(n))
        .opt("deadline", n.deadline)
        .add("funding", funding(&n.funding))
        .add("pledged", pledged(&n.funding))
        .add(
            "cosigners",
            n.cosigners
                .iter()
                .map(|c| named(views, c))
                .collect::<Vec<_>>()
                .join(", "),
        )
        .add(
            "could join",
            views
                .could_join(n)
                .iter()
                .map(|m| named(views, m))
                .collect::<Vec<_>>()
                .join(", "),
        )
        .add("description", n.description.clone());
    let pledges: Vec<PledgeView<'_>> = views.pledges_to(&n.id).into_iter().map(|(_, v)| v).collect();
    if let Some(c) = consultation {
        let mut blocks = Vec::new();
        let rest = consult::need_blocks(views, c, &mut f);
        blocks.push(f.into_block());
        if c.timeline.accepted.is_none() {
            let t = pledge_table(views, &pledges).titled(count(pledges.len(), "pledge", "pledges"));
            blocks.extend(t.into_block());
            blocks.extend(rest);
            return blocks;
        }
        let mut t = Table::new(&["ID", "PLEDGE", "CONDITION", "EFFECT", "PAYMENT", "BY"]);
        for p in &pledges {
            if let Body::Pledge(b) = p.record.body {
                t.row(vec![
                    p.record.id.to_string(),
                    resource(&b.resource),
                    condition(b.condition).to_owned(),
                    word(&p.effect),
                    consult::payment(c, &p.record.id),
                    name(views, &p.record.author),
                ]);
            }
        }
        blocks.extend(t.titled(count(pledges.len(), "pledge", "pledges")).into_block());
        blocks.extend(rest);
        return blocks;
    }
    let mut blocks = vec![f.into_block()];
    let index = views.index();
    let t = pledge_table(views, &pledges).titled(count(pledges.len(), "pledge", "pledges"));
    blocks.extend(t.into_block());
    let offers: Vec<RecordJson<'_>> = n
        .offers
        .iter()
        .filter_map(|o| index.get(o))
        .map(RecordJson::from)
        .collect();
    let t = offer_table(views, &offers, false).titled(count(offers.len(), "offer", "offers"));
    blocks.extend(t.into_block());
    blocks
}

fn show_catalogue(views: &Views<'_>, c: &CatalogueView<'_>) -> Vec<Block> {
    let mut f = record_fields(views, &c.record);
    if let Body::Catalogue(b) = c.record.body {
        f.add("title", b.title.clone())
            .add(
                "editors",
                b.editors.iter().map(|e| named(views, e)).collect::<Vec<_>>().join(", "),
            )
            .add(
                "includes",
                b.includes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
            .add("description", b.description.clone());
    }
    let mut blocks = vec![f.into_block()];
    let mut t = Table::new(&["PROJECT", "STATUS", "BY", "VIA", "NAME"]);
    for e in &c.entries {
        let project = match views.index().get(&e.project).map(|p| &p.record().body) {
            Some(Body::Project(p)) => p.name.clone(),
            _ => String::new(),
        };
        let via = e.via.map_or_else(|| "-".to_owned(), |v| v.to_string());
        t.row(vec![
            e.project.to_string(),
            word(&e.status),
            name(views, &e.by),
            via,
            project,
        ]);
    }
    blocks.extend(t.titled(count(c.entries.len(), "entry", "entries")).into_block());
    blocks
}

fn show_project(views: &Views<'_>, p: &ProjectView<'_>) -> Fields {
    let mut f = record_fields(views, &p.record);
    if let Body::Project(b) = p.record.body {
        f.add("name", b.name.clone())
            .add("license", b.license.clone())
            .add("status", word(&b.status))
            .opt("repository", b.repository.as_ref())
            .opt("homepage", b.homepage.as_ref())
            .add("tags", b.tags.join(", "))
            .opt("based on", b.is_based_on)
            .add("description", b.description.clone());
    }
    let ids = |v: &[RecordId]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let members = |v: &[MemberId]| v.iter().map(|m| named(views, m)).collect::<Vec<_>>().join(", ");
    f.add("users", members(&p.users))
        .add("providers", members(&p.providers))
        .add("catalogues", ids(&p.catalogues))
        .add("needs", ids(&p.needs))
        .add("forks", ids(&p.forks));
    f
}

fn pledge_table(views: &Views<'_>, pledges: &[PledgeView<'_>]) -> Table {
    let mut t = Table::new(&["ID", "NEED", "PLEDGE", "CONDITION", "EFFECT", "BY"]);
    for p in pledges {
        if let Body::Pledge(b) = p.record.body {
            t.row(vec![
                p.record.id.to_string(),
                b.need.to_string(),
                resource(&b.resource),
                condition(b.condition).to_owned(),
                word(&p.effect),
                name(views, &p.record.author),
            ]);
        }
    }
    t
}

fn offer_table(views: &Views<'_>, offers: &[RecordJson<'_>], with_need: bool) -> Table {
    let header: &[&str] = if with_need {
        &["ID", "NEED", "PRICE", "DAYS", "BY"]
    } else {
        &["ID", "PRICE", "DAYS", "BY"]
    };
    let mut t = Table::new(header);
    for o in offers {
        if let Body::Offer(b) = o.body {
            let mut row = vec![o.id.to_string()];
            if with_need {
                row.push(b.need.to_string());
            }
            row.extend([
                b.price.to_string(),
                b.days.map_or_else(|| "-".to_owned(), |d| d.to_string()),
                name(views, &o.author),
            ]);
            t.row(row);
        }
    }
    t
}

/// How many similar needs a report shows.
pub const SIMILAR_SHOWN: usize = 5;

/// The open needs most like `draft` (`mutu need similar`, and what `mutu
/// need add` shows before it writes).
pub fn similar(st: &Snapshot, draft: super::DraftNeed, as_json: bool, now: Timestamp) -> Result<Report> {
    let found = similar_needs(st, draft, SIMILAR_SHOWN, now)?;
    if as_json {
        return Ok(Report::json(&found)?);
    }
    let mut t = Table::new(&["ID", "SCORE", "WHY", "TITLE"]);
    for s in &found {
        let why: Vec<String> = s.reasons.iter().map(ToString::to_string).collect();
        t.row(vec![
            s.need.to_string(),
            s.score.to_string(),
            why.join("; "),
            s.title.clone(),
        ]);
    }
    Ok(Report::table(t))
}

/// The open needs most like `draft`, at most `limit` (the CLI's report and
/// `GET /api/v1/needs/similar`).
pub fn similar_needs(
    st: &Snapshot,
    draft: super::DraftNeed,
    limit: usize,
    now: Timestamp,
) -> std::result::Result<Vec<mutu_protocol::view::Similar>, state::Error> {
    let project = match &draft.project {
        Some(p) => Some(st.resolve_kind(p, Kind::Project)?),
        None => None,
    };
    let draft = mutu_protocol::view::Draft {
        title: draft.title,
        description: draft.description.unwrap_or_default(),
        project,
        tags: draft.tags,
    };
    Ok(st.views(now).similar(&draft, limit))
}

/// `mutu status`: the node's counters (or the store's, offline).
pub fn status(s: &Status, as_json: bool) -> Result<Report> {
    if as_json {
        return Ok(Report::json(s)?);
    }
    let mut f = Fields::default();
    f.add("member", s.member.to_string())
        .add("peer id", s.peer_id.clone())
        .add("peers", s.peers.to_string())
        .add("documents", s.documents.to_string())
        .add("records", s.records.to_string())
        .add("pending", s.pending.to_string())
        .add("rejected", s.rejected.to_string());
    if let Some(r) = &s.replication {
        let quota = r.ignored.total() - r.ignored.untrusted;
        f.add(
            "scope",
            format!("{} ({} hops, {} trusted members)", r.scope, r.hops, r.trusted),
        )
        .add(
            "ignored",
            format!(
                "{} outside the trust set, {quota} over quotas, {} gossip messages over a peer's budget",
                r.ignored.untrusted, r.gossip_rate_limited
            ),
        );
    }
    if let Some(c) = &s.catch_up {
        f.add("catching up", catch_up_line(c));
    }
    if let Some(r) = &s.reach {
        f.add("reachability", word(&r.reachability));
        for a in &r.external {
            f.add("external", a.clone());
        }
        for relay in &r.relays {
            f.add("relay", relay.clone());
        }
        if r.relay_server {
            f.add("relay server", "on".to_owned());
        }
    }
    for l in &s.listen {
        f.add("listen", l.clone());
    }
    Ok(Report::fields(f))
}

/// "120 of 1 000 documents, 12 000 records fetched, 5 000 records/s,
/// about 3 min left".
fn catch_up_line(c: &mutu_node::net::progress::CatchUp) -> String {
    let left = match c.eta_s {
        Some(s) if s >= 90.0 => format!(", about {} min left", (s / 60.0).round()),
        Some(s) => format!(", about {} s left", s.ceil()),
        None => String::new(),
    };
    format!(
        "{} of {} documents, {} records fetched, {} records/s{left}",
        c.documents_fetched,
        c.documents_announced,
        c.records_fetched,
        c.records_per_s.round()
    )
}

/// `mutu invite`: the invitation text (and what it holds, in JSON).
pub fn invitation(i: &Invitation, as_json: bool) -> Result<Report> {
    let text = i.to_text();
    if as_json {
        return Ok(Report::json(&serde_json::json!({
            "invitation": text,
            "member": i.member.to_string(),
            "peer_id": i.peer.to_string(),
            "addresses": i.addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }))?);
    }
    let mut lines = vec![text, String::new(), format!("member:  {}", i.member)];
    lines.extend(i.addrs.iter().map(|a| format!("address: {a}")));
    lines.push(String::new());
    lines.push("Give the first line to the member to invite; they run `mutu join <it>`.".to_owned());
    Ok(Report::text([Block::Lines(lines)]))
}

/// `mutu join`: what the node does now.
pub fn joining(i: &Invitation) -> Report {
    Report::text([Block::Lines(vec![format!(
        "connecting to {} (peer {}) over {} address(es); `mutu peers` shows it once connected",
        i.member,
        i.peer,
        i.addrs.len()
    )])])
}

/// `mutu peers`: the connected peers, oldest connection first.
pub fn peers(peers: &[PeerInfo], as_json: bool) -> Result<Report> {
    if as_json {
        return Ok(Report::json(&peers)?);
    }
    let lines = if peers.is_empty() {
        vec!["no connected peers".to_owned()]
    } else {
        peers
            .iter()
            .map(|p| {
                let path = p.connection.map(|c| format!("  {}", word(&c))).unwrap_or_default();
                format!("{}  {}{path}  since {}", p.peer_id, p.address, p.connected_since)
            })
            .collect()
    };
    Ok(Report::text([Block::Lines(lines)]))
}

/// An enum's serde name (`in_progress`, `if_goal_reached`).
fn word(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "?".to_owned(),
    }
}

/// Pledged totals: `1000.00 EUR, 5 dev-days`, or `-`.
fn pledged(f: &funding::Funding) -> String {
    let mut parts: Vec<String> = f.pledged.iter().map(|m| m.to_string()).collect();
    if f.days_pledged > 0 {
        parts.push(format!("{} dev-days", f.days_pledged));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Funding state and percent: `funded 100%`, `open 40%`, `open`.
fn funding(f: &funding::Funding) -> String {
    match f.percent {
        Some(p) => format!("{} {p}%", word(&f.state)),
        None => word(&f.state),
    }
}

fn resource(r: &Resource) -> String {
    match r {
        Resource::Money(m) => m.to_string(),
        Resource::DevDays { days } => format!("{days} dev-days"),
        Resource::Hosting { text } => format!("hosting: {text}"),
        Resource::Testing { text } => format!("testing: {text}"),
        Resource::Other { text } => format!("other: {text}"),
        other => other.name().to_owned(),
    }
}

fn condition(c: Condition) -> &'static str {
    match c {
        Condition::IfGoalReached => "if funded",
        _ => "unconditional",
    }
}

/// A member's profile name, or the start of its id.
fn name(views: &Views<'_>, member: &MemberId) -> String {
    match views.member(member).profile {
        Some(p) => p.name.clone(),
        None => short(member),
    }
}

/// `Name (mu…)`: a member named and identified.
fn named(views: &Views<'_>, member: &MemberId) -> String {
    match views.member(member).profile {
        Some(p) => format!("{} ({member})", p.name),
        None => member.to_string(),
    }
}

fn short(member: &MemberId) -> String {
    let s = member.to_string();
    format!("{}…", s.chars().take(12).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pledged_money_is_shown_in_major_units() {
        let totals = ["1250.50EUR", "600JPY"]
            .map(|m| m.parse().unwrap())
            .into_iter()
            .collect();
        let mut f = funding::Funding {
            state: funding::State::Open,
            pledged: totals,
            days_pledged: 5,
            percent: None,
        };
        assert_eq!(pledged(&f), "1250.50 EUR, 600 JPY, 5 dev-days");
        f.pledged = mutu_protocol::money::Totals::new();
        f.days_pledged = 0;
        assert_eq!(pledged(&f), "-");
    }
}
