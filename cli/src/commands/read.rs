//! Commands that read: `whoami`, `ls`, `show`, `search`.

use std::io::Write;

use mutu_node::state::{self, Snapshot};
use mutu_protocol::record::{Body, Kind, RecordId};
use mutu_protocol::view::{CatalogueView, Filter, MemberView, NeedView, PledgeView, ProjectView, RecordJson, Views};
use mutu_protocol::{MemberId, Timestamp};

use crate::args::{LsArgs, LsKind};
use crate::fail::user;
use crate::output::{Fields, Table, condition, count, funding, json, name, named, pledged, resource, word};

pub fn whoami(st: &Snapshot, as_json: bool, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let views = st.views(now);
    let me = views.member(&st.member_id());
    if as_json {
        return json(out, &me);
    }
    member_fields(&views, &me)
        .add("home", st.home().root().display().to_string())
        .print(out)
}

pub fn ls(st: &Snapshot, a: LsArgs, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let filter = Filter {
        tag: a.tag.map(|t| mutu_protocol::record::validate::normalize_tag(&t)),
        author: a.author.map(|m| st.resolve_member(&m)).transpose()?,
    };
    let views = st.views(now);
    match a.what {
        LsKind::Needs => {
            let needs = views.needs(&filter);
            if a.json {
                return json(out, &needs);
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
            t.print(out)
        }
        LsKind::Projects => {
            let projects = views.projects(&filter);
            if a.json {
                return json(out, &projects);
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
            t.print(out)
        }
        LsKind::Pledges => {
            let pledges = views.pledges(&filter);
            if a.json {
                return json(out, &pledges);
            }
            pledge_table(&views, &pledges).print(out)
        }
        LsKind::Offers => {
            let offers = views.records(Kind::Offer, &filter);
            if a.json {
                return json(out, &offers);
            }
            offer_table(&views, &offers, true).print(out)
        }
        LsKind::Catalogues => {
            let catalogues = views.catalogues(&filter);
            if a.json {
                return json(out, &catalogues);
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
            t.print(out)
        }
        LsKind::Members => {
            let members = views.members(&filter);
            if a.json {
                return json(out, &members);
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
            t.print(out)
        }
    }
}

pub fn search(st: &Snapshot, text: &str, as_json: bool, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let views = st.views(now);
    let hits = views.search(text, &Filter::default());
    if as_json {
        return json(out, &hits);
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
    t.print(out)
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

fn target(st: &Snapshot, text: &str) -> anyhow::Result<Target> {
    if let Ok(m) = text.trim().parse::<MemberId>() {
        return Ok(Target::Member(m));
    }
    match st.resolve(text) {
        Ok(id) => Ok(Target::Record(id)),
        Err(e @ state::Error::UnknownId(_)) => st.resolve_member(text).map(Target::Member).map_err(|_| e.into()),
        Err(e) => Err(e.into()),
    }
}

pub fn show(st: &Snapshot, text: &str, as_json: bool, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
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
                    #[serde(flatten)]
                    member: &'a MemberView<'a>,
                    equivocations: Vec<EvidenceJson>,
                }
                let equivocations = evidence.iter().map(EvidenceJson::from).collect();
                json(
                    out,
                    &Shown {
                        member: &member,
                        equivocations,
                    },
                )
            } else {
                let mut f = member_fields(&views, &member);
                for e in &evidence {
                    f.add(
                        "warning",
                        format!(
                            "published two conflicting histories on {} (both signed; `--json` shows the proof)",
                            Timestamp::from_millis(u64::try_from(e.timestamp).unwrap_or(0)).date()
                        ),
                    );
                }
                f.print(out)
            };
        }
        Target::Record(id) => id,
    };
    let index = views.index();
    let Some(r) = index.get(&id) else {
        let kind = index.get_any(&id).map_or("record", |r| r.record().kind.as_str());
        return Err(user(format!("{kind} {id} has been retracted by its author")));
    };
    match r.record().kind {
        Kind::Need => {
            let Some(n) = views.need(r) else { return Ok(()) };
            if as_json {
                return json(out, &n);
            }
            show_need(&views, &n, out)
        }
        Kind::Pledge => {
            let Some(p) = views.pledge(r) else { return Ok(()) };
            if as_json {
                return json(out, &p);
            }
            let mut f = record_fields(&views, &p.record);
            if let Body::Pledge(b) = p.record.body {
                f.add("need", b.need.to_string())
                    .add("pledge", resource(&b.resource))
                    .add("condition", condition(b.condition))
                    .add("status", word(&b.status))
                    .opt("expires", b.expires_at);
            }
            f.add("effect", word(&p.effect)).print(out)
        }
        Kind::Catalogue => {
            let Some(c) = views.catalogue(r) else { return Ok(()) };
            if as_json {
                return json(out, &c);
            }
            show_catalogue(&views, &c, out)
        }
        Kind::Project => {
            let Some(p) = views.project(r) else { return Ok(()) };
            if as_json {
                return json(out, &p);
            }
            show_project(&views, &p, out)
        }
        _ => {
            let rec = RecordJson::from(r);
            if as_json {
                return json(out, &rec);
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
            f.print(out)
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

fn show_need(views: &Views<'_>, n: &NeedView, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut f = Fields::default();
    f.add("id", n.id.to_string())
        .add("kind", "need")
        .add("author", named(views, &n.author))
        .add("created", n.created_at.to_string())
        .add("title", n.title.clone())
        .add("status", word(&n.status))
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
        .add("description", n.description.clone());
    f.print(out)?;
    let index = views.index();
    let pledges: Vec<PledgeView<'_>> = views.pledges_to(&n.id).into_iter().map(|(_, v)| v).collect();
    let t = pledge_table(views, &pledges);
    if !t.is_empty() {
        writeln!(out, "\n{}:", count(pledges.len(), "pledge", "pledges"))?;
        t.print(out)?;
    }
    let offers: Vec<RecordJson<'_>> = n
        .offers
        .iter()
        .filter_map(|o| index.get(o))
        .map(RecordJson::from)
        .collect();
    let t = offer_table(views, &offers, false);
    if !t.is_empty() {
        writeln!(out, "\n{}:", count(offers.len(), "offer", "offers"))?;
        t.print(out)?;
    }
    Ok(())
}

fn show_catalogue(views: &Views<'_>, c: &CatalogueView<'_>, out: &mut dyn Write) -> anyhow::Result<()> {
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
    f.print(out)?;
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
    if !t.is_empty() {
        writeln!(out, "\n{}:", count(c.entries.len(), "entry", "entries"))?;
        t.print(out)?;
    }
    Ok(())
}

fn show_project(views: &Views<'_>, p: &ProjectView<'_>, out: &mut dyn Write) -> anyhow::Result<()> {
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
    f.print(out)
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
