//! Commands that write records. A creating command prints only the new
//! record's id; an editing command prints the edited record's id. Each
//! builds the matching [`ops`] request from its arguments and applies it:
//! the HTTP API writes through the very same ops.

use std::io::Write;

use mutu_node::home::Home;
use mutu_node::ops::{self, Op};
use mutu_node::state::State;
use mutu_protocol::Timestamp;
use mutu_protocol::record::{Condition, Profile};

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

/// The command-line flag of an op field whose text the op parses.
fn flag(field: &str) -> Option<&'static str> {
    Some(match field {
        "goal" => "--goal",
        "money" => "--money",
        "price" => "--price",
        "deadline" => "--deadline",
        "expires_at" => "--expires",
        "valid_until" => "--valid-until",
        _ => return None,
    })
}

/// An op's failure as the CLI reports it: the caller's mistakes as user
/// errors (exit 2), naming the flag where the op names a field; failures
/// of the machine keep their cause (exit 1).
fn failure(e: ops::Error) -> anyhow::Error {
    match e {
        ops::Error::Internal(e) => e.into(),
        ops::Error::BadField { field, message } => match flag(&field) {
            Some(flag) => {
                let problem = message.strip_prefix(&format!("{field}: ")).unwrap_or(&message);
                user(format!("{flag}: {problem}"))
            }
            None => user(message),
        },
        e => user(e.to_string()),
    }
}

/// Applies `op` and prints the id it gives.
fn apply(st: &mut State, op: impl Op, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let id = op.apply(st, now).map_err(failure)?;
    writeln!(out, "{id}")?;
    Ok(())
}

pub fn project(st: &mut State, c: ProjectCmd, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let ProjectCmd::Add(a) = c;
    let op = ops::NewProject {
        name: a.name,
        license: a.license,
        description: a.description,
        repository: a.repo,
        homepage: a.homepage,
        tags: a.tags,
        status: Some(a.status.into()),
        is_based_on: a.based_on,
    };
    apply(st, op, now, out)
}

pub fn usage(st: &mut State, c: UsageCmd, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let UsageCmd::Add { project, note } = c;
    apply(st, ops::NewUsage { project, note }, now, out)
}

pub fn need(st: &mut State, c: NeedCmd, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    match c {
        NeedCmd::Add(a) => {
            let op = ops::NewNeed {
                title: a.title,
                description: a.description,
                project: a.project,
                tags: a.tags,
                goal: a.goal.map(ops::MoneyInput::Text),
                days_goal: a.days_goal,
                deadline: a.deadline,
            };
            apply(st, op, now, out)
        }
        NeedCmd::Cosign { need, note } => apply(st, ops::Cosign { need, note }, now, out),
        NeedCmd::Status { need, status } => {
            let op = ops::NeedStatus {
                need,
                status: status.into(),
            };
            apply(st, op, now, out)
        }
    }
}

pub fn pledge(st: &mut State, c: PledgeCmd, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    match c {
        PledgeCmd::Add(a) => {
            let op = ops::NewPledge {
                need: a.need,
                money: a.money.map(ops::MoneyInput::Text),
                days: a.days,
                hosting: a.hosting,
                testing: a.testing,
                other: a.other,
                condition: Some(if a.if_funded {
                    Condition::IfGoalReached
                } else {
                    Condition::Unconditional
                }),
                expires_at: a.expires,
            };
            apply(st, op, now, out)
        }
        PledgeCmd::Withdraw { pledge } => apply(st, ops::WithdrawPledge { pledge }, now, out),
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
    let op = ops::NewOffer {
        need,
        price: ops::MoneyInput::Text(price),
        days,
        description,
        valid_until,
    };
    apply(st, op, now, out)
}

pub fn catalogue(st: &mut State, c: CatalogueCmd, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    match c {
        CatalogueCmd::Create { title, description } => apply(st, ops::NewCatalogue { title, description }, now, out),
        CatalogueCmd::Add {
            catalogue,
            project,
            status,
            note,
        } => {
            let op = ops::CatalogueEntry {
                catalogue,
                project,
                status: Some(status.into()),
                note,
            };
            apply(st, op, now, out)
        }
        CatalogueCmd::Include { catalogue, other } => apply(st, ops::CatalogueInclude { catalogue, other }, now, out),
        CatalogueCmd::Editor(e) => {
            let (catalogue, member, action) = match e {
                EditorCmd::Add { catalogue, member } => (catalogue, member, ops::EditorAction::Add),
                EditorCmd::Remove { catalogue, member } => (catalogue, member, ops::EditorAction::Remove),
            };
            let op = ops::CatalogueEditor {
                catalogue,
                member,
                action,
            };
            apply(st, op, now, out)
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
    let op = ops::Vouch {
        member: member.to_owned(),
        statement,
    };
    apply(st, op, now, out)
}

pub fn retract(st: &mut State, id: &str, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    apply(st, ops::Retract { id: id.to_owned() }, now, out)
}
