//! Commands that write records. A creating command prints only the new
//! record's id; an editing command prints the edited record's id.

use std::io::Write;

use mutu_node::home::Home;
use mutu_node::state::State;
use mutu_protocol::record::{
    Body, Catalogue, CatalogueEntry, Condition, Cosign, Kind, Need, NeedStatus, Offer, Pledge, PledgeStatus, Profile,
    Project, RecordId, Resource, Usage, Vouch,
};
use mutu_protocol::{MemberId, Timestamp};

use super::{date, money, tags};
use crate::args::{CatalogueCmd, EditorCmd, InitArgs, NeedCmd, OfferCmd, PledgeCmd, ProjectCmd, UsageCmd};
use crate::fail::user;

pub fn init(home: Home, a: InitArgs, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let profile = Profile {
        name: a.name,
        member_kind: a.kind.into(),
        country: a.country.map(|c| c.trim().to_ascii_uppercase()),
        sectors: Vec::new(),
        website: a.website,
        description: String::new(),
    };
    let st = State::init(home, profile, now)?;
    writeln!(out, "{}", st.member_id())?;
    Ok(())
}

fn create(st: &mut State, body: Body, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let id = st.create(body, now)?;
    writeln!(out, "{id}")?;
    Ok(())
}

/// Replaces record `id` (of `kind`) by what `change` makes of its body.
/// `change` sees the current body and may refuse with a user error.
fn edit(
    st: &mut State,
    id: RecordId,
    kind: Kind,
    now: Timestamp,
    out: &mut dyn Write,
    change: impl FnOnce(&mut Body) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let current = st.registry().index().get_any(&id).map(|r| r.record().body.clone());
    let Some(mut body) = current.filter(|b| b.kind() == kind) else {
        return Err(user(format!("{id} is not a {kind}")));
    };
    change(&mut body)?;
    st.edit(id, now, move |b| {
        *b = body;
        Ok(())
    })?;
    writeln!(out, "{id}")?;
    Ok(())
}

pub fn project(st: &mut State, c: ProjectCmd, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let ProjectCmd::Add(a) = c;
    let is_based_on = a.based_on.map(|p| st.resolve_kind(&p, Kind::Project)).transpose()?;
    let body = Body::Project(Project {
        name: a.name,
        description: a.description.unwrap_or_default(),
        license: a.license,
        repository: a.repo,
        homepage: a.homepage,
        tags: tags(a.tags),
        status: a.status.into(),
        is_based_on,
    });
    create(st, body, now, out)
}

pub fn usage(st: &mut State, c: UsageCmd, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let UsageCmd::Add { project, note } = c;
    let project = st.resolve_kind(&project, Kind::Project)?;
    create(
        st,
        Body::Usage(Usage {
            project,
            note: note.unwrap_or_default(),
        }),
        now,
        out,
    )
}

pub fn need(st: &mut State, c: NeedCmd, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    match c {
        NeedCmd::Add(a) => {
            let project = a.project.map(|p| st.resolve_kind(&p, Kind::Project)).transpose()?;
            let body = Body::Need(Need {
                title: a.title,
                description: a.description.unwrap_or_default(),
                tags: tags(a.tags),
                project,
                goal: a.goal.map(|g| money("--goal", &g)).transpose()?,
                days_goal: a.days_goal,
                deadline: date("--deadline", a.deadline)?,
                status: NeedStatus::Open,
            });
            create(st, body, now, out)
        }
        NeedCmd::Cosign { need, note } => {
            let need = st.resolve_kind(&need, Kind::Need)?;
            create(
                st,
                Body::Cosign(Cosign {
                    need,
                    note: note.unwrap_or_default(),
                }),
                now,
                out,
            )
        }
        NeedCmd::Status { need, status } => {
            let id = st.resolve_kind(&need, Kind::Need)?;
            edit(st, id, Kind::Need, now, out, |body| {
                if let Body::Need(n) = body {
                    n.status = status.into();
                }
                Ok(())
            })
        }
    }
}

pub fn pledge(st: &mut State, c: PledgeCmd, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    match c {
        PledgeCmd::Add(a) => {
            let need = st.resolve_kind(&a.need, Kind::Need)?;
            let resource = match (a.money, a.days, a.hosting, a.testing, a.other) {
                (Some(m), ..) => Resource::Money(money("--money", &m)?),
                (_, Some(days), ..) => Resource::DevDays { days },
                (_, _, Some(text), ..) => Resource::Hosting { text },
                (_, _, _, Some(text), _) => Resource::Testing { text },
                (_, _, _, _, Some(text)) => Resource::Other { text },
                // clap's argument group requires exactly one of them.
                _ => return Err(user("give one of --money, --days, --hosting, --testing or --other")),
            };
            let condition = if a.if_funded {
                Condition::IfGoalReached
            } else {
                Condition::Unconditional
            };
            let body = Body::Pledge(Pledge {
                need,
                resource,
                condition,
                expires_at: date("--expires", a.expires)?,
                status: PledgeStatus::Active,
            });
            create(st, body, now, out)
        }
        PledgeCmd::Withdraw { pledge } => {
            let id = st.resolve_kind(&pledge, Kind::Pledge)?;
            edit(st, id, Kind::Pledge, now, out, |body| {
                if let Body::Pledge(p) = body {
                    if p.status == PledgeStatus::Withdrawn {
                        return Err(user(format!("pledge {id} is already withdrawn")));
                    }
                    p.status = PledgeStatus::Withdrawn;
                }
                Ok(())
            })
        }
    }
}

pub fn offer(st: &mut State, c: OfferCmd, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let OfferCmd::Add {
        need,
        price,
        days,
        description,
        valid_until,
    } = c;
    let need = st.resolve_kind(&need, Kind::Need)?;
    let body = Body::Offer(Offer {
        need,
        price: money("--price", &price)?,
        days,
        description: description.unwrap_or_default(),
        valid_until: date("--valid-until", valid_until)?,
    });
    create(st, body, now, out)
}

pub fn catalogue(st: &mut State, c: CatalogueCmd, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    match c {
        CatalogueCmd::Create { title, description } => {
            let body = Body::Catalogue(Catalogue {
                title,
                description: description.unwrap_or_default(),
                editors: Vec::new(),
                includes: Vec::new(),
            });
            create(st, body, now, out)
        }
        CatalogueCmd::Add {
            catalogue,
            project,
            status,
            note,
        } => {
            let catalogue = st.resolve_kind(&catalogue, Kind::Catalogue)?;
            let project = st.resolve_kind(&project, Kind::Project)?;
            let body = Body::CatalogueEntry(CatalogueEntry {
                catalogue,
                project,
                status: status.into(),
                note: note.unwrap_or_default(),
            });
            create(st, body, now, out)
        }
        CatalogueCmd::Include { catalogue, other } => {
            let id = st.resolve_kind(&catalogue, Kind::Catalogue)?;
            let other = st.resolve_kind(&other, Kind::Catalogue)?;
            edit(st, id, Kind::Catalogue, now, out, |body| {
                if let Body::Catalogue(c) = body {
                    if c.includes.contains(&other) {
                        return Err(user(format!("catalogue {id} already includes {other}")));
                    }
                    c.includes.push(other);
                }
                Ok(())
            })
        }
        CatalogueCmd::Editor(e) => {
            let (catalogue, member, add) = match e {
                EditorCmd::Add { catalogue, member } => (catalogue, member, true),
                EditorCmd::Remove { catalogue, member } => (catalogue, member, false),
            };
            let id = st.resolve_kind(&catalogue, Kind::Catalogue)?;
            let member: MemberId = st.resolve_member(&member)?;
            edit(st, id, Kind::Catalogue, now, out, |body| {
                if let Body::Catalogue(c) = body {
                    let listed = c.editors.contains(&member);
                    match (add, listed) {
                        (true, true) => return Err(user(format!("{member} is already an editor of catalogue {id}"))),
                        (false, false) => return Err(user(format!("{member} is not an editor of catalogue {id}"))),
                        (true, false) => c.editors.push(member),
                        (false, true) => c.editors.retain(|m| *m != member),
                    }
                }
                Ok(())
            })
        }
    }
}

pub fn vouch(
    st: &mut State,
    member: &str,
    statement: Option<String>,
    now: Timestamp,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let member = st.resolve_member(member)?;
    if member == st.member_id() {
        return Err(user("you cannot vouch for yourself: give another member's id"));
    }
    create(
        st,
        Body::Vouch(Vouch {
            member,
            statement: statement.unwrap_or_default(),
        }),
        now,
        out,
    )
}

pub fn retract(st: &mut State, id: &str, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let id = st.resolve(id)?;
    let tombstone = st.retract(id, now)?;
    writeln!(out, "{tombstone}")?;
    Ok(())
}
