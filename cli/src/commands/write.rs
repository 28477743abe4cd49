//! Commands that write records. A creating command prints only the new
//! record's id; an editing command prints the edited record's id. Each
//! builds the matching [`ops`] request from its arguments ([`request`]),
//! which the control protocol applies to the state offline or on a running
//! node's actor: the HTTP API writes through the very same ops.

use std::io::Write;

use mutu_node::home::Home;
use mutu_node::ops;
use mutu_node::state::State;
use mutu_protocol::Timestamp;
use mutu_protocol::record::{Condition, Profile};

use crate::args::{
    CatalogueCmd, Command, EditorCmd, InitArgs, ModerationCmd, NeedAdd, NeedCmd, OfferCmd, PledgeCmd, ProjectAdd,
    ProjectCmd, UsageCmd,
};
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
pub(crate) fn failure(e: ops::Error) -> anyhow::Error {
    match e {
        ops::Error::Internal(e) => e.into(),
        ops::Error::BadField { field, message } => user(field_message(&field, &message)),
        e => user(e.to_string()),
    }
}

/// The message of a bad field, naming the command-line flag where the
/// field has one (`--goal: ...`): offline and from a node alike.
pub(crate) fn field_message(field: &str, message: &str) -> String {
    match flag(field) {
        Some(flag) => {
            let problem = message.strip_prefix(&format!("{field}: ")).unwrap_or(message);
            format!("{flag}: {problem}")
        }
        None => message.to_owned(),
    }
}

/// A command, sorted by the path that runs it.
#[derive(Debug)]
pub enum Sorted {
    /// It writes records: the operation it makes.
    Write(ops::Request),
    /// Any other command.
    Other(Command),
}

/// The operation a writing command makes, or the command back if it does
/// not write records.
pub fn request(command: Command) -> Sorted {
    let command = match super::consult::request(command) {
        Ok(op) => return Sorted::Write(op),
        Err(other) => *other,
    };
    Sorted::Write(match command {
        Command::Project(ProjectCmd::Add(a)) => project(a).into(),
        Command::Usage(UsageCmd::Add { project, note }) => ops::NewUsage { project, note }.into(),
        Command::Need(NeedCmd::Add(a)) => new_need(a).into(),
        Command::Need(NeedCmd::Cosign { need, note }) => ops::CosignNeed { need, note }.into(),
        Command::Need(NeedCmd::Status { need, status }) => ops::SetNeedStatus {
            need,
            status: status.into(),
        }
        .into(),
        Command::Need(NeedCmd::Merge { need, into }) => ops::MergeNeed { need, into }.into(),
        Command::Pledge(c) => pledge(c),
        Command::Offer(OfferCmd::Add {
            need,
            price,
            days,
            description,
            valid_until,
        }) => ops::NewOffer {
            need,
            price: ops::MoneyInput::Text(price),
            days,
            description,
            valid_until,
        }
        .into(),
        Command::Catalogue(c) => catalogue(c),
        Command::Vouch { member, statement } => ops::VouchFor { member, statement }.into(),
        Command::Retract { id } => ops::Retract { id }.into(),
        Command::Follow { member } => ops::Follow { member }.into(),
        Command::Moderation(ModerationCmd::Follow { member }) => ops::ModerationFollow { member }.into(),
        Command::Moderation(ModerationCmd::List { title, members, reason }) => {
            ops::NewModerationList { title, members, reason }.into()
        }
        Command::Unfollow { member } => ops::Unfollow { member }.into(),
        other => return Sorted::Other(other),
    })
}

fn project(a: ProjectAdd) -> ops::NewProject {
    ops::NewProject {
        name: a.name,
        license: a.license,
        description: a.description,
        repository: a.repo,
        homepage: a.homepage,
        tags: a.tags,
        status: Some(a.status.into()),
        is_based_on: a.based_on,
    }
}

/// The need `need add` writes.
pub fn new_need(a: NeedAdd) -> ops::NewNeed {
    ops::NewNeed {
        title: a.title,
        description: a.description,
        project: a.project,
        tags: a.tags,
        goal: a.goal.map(ops::MoneyInput::Text),
        days_goal: a.days_goal,
        deadline: a.deadline,
        decision: a.decision.map(Into::into),
    }
}

fn pledge(c: PledgeCmd) -> ops::Request {
    match c {
        PledgeCmd::Add(a) => ops::NewPledge {
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
        }
        .into(),
        PledgeCmd::Withdraw { pledge } => ops::WithdrawPledge { pledge }.into(),
        PledgeCmd::Move { pledge, to } => ops::MovePledge { pledge, to }.into(),
        PledgeCmd::Fulfil { pledge } => ops::FulfilPledge { pledge }.into(),
        PledgeCmd::Received { pledge, note } => ops::ConfirmReceipt { pledge, note }.into(),
    }
}

fn catalogue(c: CatalogueCmd) -> ops::Request {
    match c {
        CatalogueCmd::Create { title, description } => ops::NewCatalogue { title, description }.into(),
        CatalogueCmd::Add {
            catalogue,
            project,
            status,
            note,
        } => ops::CatalogueEntry {
            catalogue,
            project,
            status: Some(status.into()),
            note,
        }
        .into(),
        CatalogueCmd::Include { catalogue, other } => ops::CatalogueInclude { catalogue, other }.into(),
        CatalogueCmd::Editor(e) => {
            let (catalogue, member, action) = match e {
                EditorCmd::Add { catalogue, member } => (catalogue, member, ops::EditorAction::Add),
                EditorCmd::Remove { catalogue, member } => (catalogue, member, ops::EditorAction::Remove),
            };
            ops::CatalogueEditor {
                catalogue,
                member,
                action,
            }
            .into()
        }
    }
}
