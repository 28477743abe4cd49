//! Write operations: one request type per write a member can make, shared
//! by the CLI (offline, against the store) and the HTTP API (on the actor).
//!
//! A request carries what a person types: ids as unique prefixes, money as
//! text (`600EUR`, `1250.50EUR`) or `{amount_minor, currency}`, dates as
//! `YYYY-MM-DD`, tags as typed (they are normalised). [`Op::apply`] parses
//! and resolves them against the state, builds the record body and writes it
//! through [`State`], which checks the rules, signs and stores. Fields are
//! checked in the order they are declared, so the first mistake is the one
//! reported.

use mutu_protocol::money::{Currency, Money};
use mutu_protocol::record::{self, Body, Condition, DevStatus, EntryStatus, Kind, PledgeStatus, RecordId, Resource};
use mutu_protocol::record::{Invalid, validate};
use mutu_protocol::rules::Violation;
use mutu_protocol::{Date, MemberId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::state::{self, State};

mod consult;
pub mod publiccode;

#[cfg(test)]
mod merge_tests;

pub use consult::{
    ApproveOffer, AwardOffer, ConfirmReceipt, FulfilPledge, JudgeDelivery, NewDelivery, SetNeedDecision,
};
pub use publiccode::{ImportPubliccode, PubliccodeFile};

/// Why an operation failed. Everything but [`Error::Internal`] is the
/// caller's to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field of the request does not parse, resolve or validate.
    /// `message` is a whole sentence (it names the field where that helps).
    #[error("{message}")]
    BadField { field: String, message: String },
    /// An id or prefix that matches nothing known here.
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the record as it is (e.g. withdrawing a
    /// pledge that is already withdrawn).
    #[error("{0}")]
    Conflict(String),
    /// The statement breaks a registry rule (e.g. pledging on a retracted
    /// or delivered need, editing another member's record).
    #[error(transparent)]
    Rule(#[from] Violation),
    /// The machine failed (store, document); the request may be retried.
    #[error(transparent)]
    Internal(state::Error),
}

impl Error {
    /// The field at fault, for a [`Error::BadField`].
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::BadField { field, .. } => Some(field),
            _ => None,
        }
    }

    fn bad(field: &str, message: impl Into<String>) -> Self {
        Error::BadField {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// Classifies a state error; `field` is the request field it concerns,
    /// if any (the id being resolved).
    pub fn from_state(e: state::Error, field: Option<&str>) -> Self {
        match e {
            state::Error::Rule(v) => Error::Rule(v),
            state::Error::Invalid(Invalid::Field { field: f, .. }) => Error::bad(f, e.to_string()),
            state::Error::Invalid(_) => Error::bad(field.unwrap_or("body"), e.to_string()),
            state::Error::UnknownId(_) => Error::NotFound(e.to_string()),
            state::Error::AmbiguousId { .. } | state::Error::WrongKind { .. } | state::Error::BlockSelf => {
                Error::bad(field.unwrap_or("id"), e.to_string())
            }
            state::Error::Bundle(_) => Error::bad(field.unwrap_or("bundle"), e.to_string()),
            state::Error::Home(_)
            | state::Error::Store(_)
            | state::Error::NotAdmitted(_)
            | state::Error::Doc(_)
            | state::Error::Closed => Error::Internal(e),
        }
    }
}

impl From<state::Error> for Error {
    fn from(e: state::Error) -> Self {
        Error::from_state(e, None)
    }
}

/// Money as text (`600EUR`, `1250.50 EUR`) or in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum MoneyInput {
    /// A number followed by an ISO 4217 code, e.g. `600EUR` or `1250.50EUR`.
    Text(String),
    /// Integer minor units (cents for EUR) and an ISO 4217 code.
    Minor { amount_minor: u64, currency: String },
}

impl From<Money> for MoneyInput {
    fn from(m: Money) -> Self {
        MoneyInput::Minor {
            amount_minor: m.amount_minor,
            currency: m.currency.code().to_owned(),
        }
    }
}

impl MoneyInput {
    fn parse(&self, field: &str) -> Result<Money, Error> {
        let parsed = match self {
            MoneyInput::Text(t) => t.parse::<Money>(),
            MoneyInput::Minor { amount_minor, currency } => currency.parse::<Currency>().and_then(|c| {
                if *amount_minor == 0 {
                    Err(mutu_protocol::money::Error::Zero)
                } else {
                    Ok(Money::new(*amount_minor, c))
                }
            }),
        };
        parsed.map_err(|e| Error::bad(field, format!("{field}: {e}")))
    }
}

fn money(field: &str, m: Option<&MoneyInput>) -> Result<Option<Money>, Error> {
    m.map(|m| m.parse(field)).transpose()
}

fn date(field: &str, text: Option<&str>) -> Result<Option<Date>, Error> {
    text.map(|t| {
        t.parse::<Date>()
            .map_err(|e| Error::bad(field, format!("{field}: {e}")))
    })
    .transpose()
}

fn tags(tags: &[String]) -> Vec<String> {
    tags.iter().map(|t| validate::normalize_tag(t)).collect()
}

fn resolve(st: &State, field: &str, prefix: &str, kind: Kind) -> Result<RecordId, Error> {
    st.resolve_kind(prefix, kind)
        .map_err(|e| Error::from_state(e, Some(field)))
}

fn resolve_member(st: &State, field: &str, prefix: &str) -> Result<MemberId, Error> {
    st.resolve_member(prefix).map_err(|e| Error::from_state(e, Some(field)))
}

fn create(st: &mut State, body: Body, now: Timestamp) -> Result<RecordId, Error> {
    Ok(st.create(body, now)?)
}

/// Replaces record `id` (of `kind`) by what `change` makes of its body.
fn edit(
    st: &mut State,
    id: RecordId,
    kind: Kind,
    now: Timestamp,
    change: impl FnOnce(&mut Body) -> Result<(), Error>,
) -> Result<RecordId, Error> {
    let current = st.registry().index().get_any(&id).map(|r| r.record().body.clone());
    let Some(mut body) = current.filter(|b| b.kind() == kind) else {
        return Err(Error::NotFound(format!("{id} is not a {kind}")));
    };
    change(&mut body)?;
    st.edit(id, now, move |b| {
        *b = body;
        Ok(())
    })?;
    Ok(id)
}

/// A write operation.
pub trait Op {
    /// Applies the operation to `state` at `now`: the id of the record made
    /// (or edited).
    fn apply(self, state: &mut State, now: Timestamp) -> Result<RecordId, Error>;
}

/// `POST /projects`, `mutu project add`: describe a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub name: String,
    /// SPDX license expression, e.g. `AGPL-3.0-or-later`.
    pub license: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// concept | development (default) | beta | stable | obsolete
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "development"))]
    pub status: Option<DevStatus>,
    /// The project this one is a fork or variant of (id or unique prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_based_on: Option<String>,
}

impl Op for NewProject {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let is_based_on = self
            .is_based_on
            .map(|p| resolve(st, "is_based_on", &p, Kind::Project))
            .transpose()?;
        if validate::license(&self.license).is_err() {
            // A deprecated SPDX id (`GPL-3.0`) or another spelling (`mit`):
            // say what to write instead (see `ops::publiccode`).
            let legal = mutu_publiccode::Legal {
                license: Some(self.license.clone()),
                ..mutu_publiccode::Legal::default()
            };
            if let Some(n) = legal
                .license_normalised()
                .filter(|n| *n != self.license && validate::license(n).is_ok())
            {
                return Err(Error::bad(
                    "license",
                    format!(
                        "license: `{}` is a deprecated SPDX identifier or not the list's spelling: write `{n}`",
                        self.license
                    ),
                ));
            }
        }
        let body = Body::Project(record::Project {
            name: self.name,
            description: self.description.unwrap_or_default(),
            license: self.license,
            repository: self.repository,
            homepage: self.homepage,
            tags: tags(&self.tags),
            status: self.status.unwrap_or(DevStatus::Development),
            is_based_on,
            publiccode: String::new(),
        });
        create(st, body, now)
    }
}

/// `POST /usages`, `mutu usage add`: "we use this project".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUsage {
    /// The project (id or unique prefix).
    pub project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Op for NewUsage {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let project = resolve(st, "project", &self.project, Kind::Project)?;
        let body = Body::Usage(record::Usage {
            project,
            note: self.note.unwrap_or_default(),
        });
        create(st, body, now)
    }
}

/// `POST /needs`, `mutu need add`: post a need (status open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewNeed {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The project the need concerns (id or unique prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Money goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<MoneyInput>,
    /// Developer-days goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_goal: Option<u32>,
    /// `YYYY-MM-DD`, not in the past.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "2027-03-31"))]
    pub deadline: Option<String>,
    /// How the coalition decides on awards and deliveries: author (default)
    /// | majority | weighted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "weighted"))]
    pub decision: Option<record::Decision>,
}

impl Op for NewNeed {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let project = self
            .project
            .map(|p| resolve(st, "project", &p, Kind::Project))
            .transpose()?;
        let body = Body::Need(record::Need {
            title: self.title,
            description: self.description.unwrap_or_default(),
            tags: tags(&self.tags),
            project,
            goal: money("goal", self.goal.as_ref())?,
            days_goal: self.days_goal,
            deadline: date("deadline", self.deadline.as_deref())?,
            status: record::NeedStatus::Open,
            merged_into: None,
            decision: self.decision.unwrap_or_default(),
        });
        create(st, body, now)
    }
}

/// `POST /needs/{id}/cosign`, `mutu need cosign`: "we need this too".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CosignNeed {
    /// The need (id or unique prefix).
    pub need: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Op for CosignNeed {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let need = resolve(st, "need", &self.need, Kind::Need)?;
        let body = Body::Cosign(record::Cosign {
            need,
            note: self.note.unwrap_or_default(),
        });
        create(st, body, now)
    }
}

/// `POST /needs/{id}/status`, `mutu need status`: set the status of one of
/// your needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetNeedStatus {
    /// The need (id or unique prefix).
    pub need: String,
    /// open | in_progress | delivered | withdrawn
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "in_progress"))]
    pub status: record::NeedStatus,
}

impl Op for SetNeedStatus {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        if self.status == record::NeedStatus::Merged {
            return Err(Error::bad(
                "status",
                "status: a need is merged with `mutu need merge NEED --into OTHER`, which names where it goes",
            ));
        }
        let id = resolve(st, "need", &self.need, Kind::Need)?;
        edit(st, id, Kind::Need, now, |body| {
            if let Body::Need(n) = body {
                n.status = self.status;
                // Any other status undoes a merge.
                n.merged_into = None;
            }
            Ok(())
        })
    }
}

/// `POST /pledges`, `mutu pledge add`: pledge exactly one resource toward a
/// need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPledge {
    /// The need (id or unique prefix).
    pub need: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub money: Option<MoneyInput>,
    /// Developer-days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosting: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub testing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
    /// unconditional (default) | if_goal_reached (all-or-nothing)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "if_goal_reached"))]
    pub condition: Option<Condition>,
    /// `YYYY-MM-DD`, not in the past.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "2027-03-31"))]
    pub expires_at: Option<String>,
}

impl Op for NewPledge {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let need = resolve(st, "need", &self.need, Kind::Need)?;
        let given = [
            self.money.is_some(),
            self.days.is_some(),
            self.hosting.is_some(),
            self.testing.is_some(),
            self.other.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(Error::bad(
                "resource",
                "give exactly one of money, days, hosting, testing or other",
            ));
        }
        let resource = match (self.money, self.days, self.hosting, self.testing, self.other) {
            (Some(m), ..) => Resource::Money(m.parse("money")?),
            (_, Some(days), ..) => Resource::DevDays { days },
            (_, _, Some(text), ..) => Resource::Hosting { text },
            (_, _, _, Some(text), _) => Resource::Testing { text },
            (_, _, _, _, Some(text)) => Resource::Other { text },
            // Exactly one is given (checked above).
            _ => {
                return Err(Error::bad(
                    "resource",
                    "give one of money, days, hosting, testing or other",
                ));
            }
        };
        let body = Body::Pledge(record::Pledge {
            need,
            resource,
            condition: self.condition.unwrap_or(Condition::Unconditional),
            expires_at: date("expires_at", self.expires_at.as_deref())?,
            status: PledgeStatus::Active,
        });
        create(st, body, now)
    }
}

/// `POST /pledges/{id}/withdraw`, `mutu pledge withdraw`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WithdrawPledge {
    /// The pledge (id or unique prefix).
    pub pledge: String,
}

impl Op for WithdrawPledge {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let id = resolve(st, "pledge", &self.pledge, Kind::Pledge)?;
        edit(st, id, Kind::Pledge, now, |body| {
            if let Body::Pledge(p) = body {
                if p.status == PledgeStatus::Withdrawn {
                    return Err(Error::Conflict(format!("pledge {id} is already withdrawn")));
                }
                p.status = PledgeStatus::Withdrawn;
            }
            Ok(())
        })
    }
}

/// `mutu need merge NEED --into OTHER`: mark one of your needs as the same
/// need as another. It leaves the open lists and its page points to the
/// other (to the end of the chain, if the other was merged too); its
/// pledges stay where they are until each pledger moves them
/// ([`MovePledge`]): nobody moves another member's pledge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MergeNeed {
    /// Your need (id or unique prefix).
    pub need: String,
    /// The need it is the same as (id or unique prefix).
    pub into: String,
}

impl Op for MergeNeed {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let id = resolve(st, "need", &self.need, Kind::Need)?;
        let into = resolve(st, "into", &self.into, Kind::Need)?;
        edit(st, id, Kind::Need, now, |body| {
            if let Body::Need(n) = body {
                if n.status == record::NeedStatus::Merged {
                    let at = n.merged_into.map_or_else(String::new, |m| format!(" into {m}"));
                    return Err(Error::Conflict(format!("need {id} is already merged{at}")));
                }
                n.status = record::NeedStatus::Merged;
                n.merged_into = Some(into);
            }
            Ok(())
        })
    }
}

/// `mutu pledge move PLEDGE --to NEED`: move one of your active pledges to
/// another need (typically the one a need was merged into). One signed
/// change holds both the new pledge (same resource, condition and expiry)
/// and the old one withdrawn, so no total ever counts both or neither.
/// A target that was merged stands for the end of its chain. Gives the new
/// pledge's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MovePledge {
    /// Your pledge (id or unique prefix).
    pub pledge: String,
    /// The need to move it to (id or unique prefix).
    pub to: String,
}

impl Op for MovePledge {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let id = resolve(st, "pledge", &self.pledge, Kind::Pledge)?;
        let to = resolve(st, "to", &self.to, Kind::Need)?;
        let to = st.views(now).merge_end(&to).unwrap_or(to);
        let current = st
            .registry()
            .index()
            .get(&id)
            .map(|r| (r.record().author, r.record().body.clone()));
        let Some((author, Body::Pledge(old))) = current else {
            return Err(Error::NotFound(format!("{id} is not a pledge known here")));
        };
        if author != st.member_id() {
            return Err(Error::Rule(Violation::NotYours { id, author }));
        }
        if old.status != PledgeStatus::Active {
            let status = if old.status == PledgeStatus::Withdrawn {
                "withdrawn"
            } else {
                "fulfilled"
            };
            return Err(Error::Conflict(format!(
                "pledge {id} is {status}: only an active pledge moves"
            )));
        }
        if old.need == to {
            return Err(Error::Conflict(format!("pledge {id} is already on need {to}")));
        }
        let new = record::Pledge {
            need: to,
            status: PledgeStatus::Active,
            ..old.clone()
        };
        let withdrawn = record::Pledge {
            status: PledgeStatus::Withdrawn,
            ..old
        };
        let ids = st.write_many(
            vec![(None, Body::Pledge(new)), (Some(id), Body::Pledge(withdrawn))],
            now,
        )?;
        ids.first()
            .copied()
            .ok_or_else(|| Error::Conflict(format!("pledge {id} was not moved")))
    }
}

/// `POST /offers`, `mutu offer add`: a provider's answer to a need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewOffer {
    /// The need (id or unique prefix).
    pub need: String,
    pub price: MoneyInput,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `YYYY-MM-DD`, not in the past.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "2027-03-31"))]
    pub valid_until: Option<String>,
}

impl Op for NewOffer {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let need = resolve(st, "need", &self.need, Kind::Need)?;
        let body = Body::Offer(record::Offer {
            need,
            price: self.price.parse("price")?,
            days: self.days,
            description: self.description.unwrap_or_default(),
            valid_until: date("valid_until", self.valid_until.as_deref())?,
        });
        create(st, body, now)
    }
}

/// `POST /catalogues`, `mutu catalogue create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCatalogue {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Op for NewCatalogue {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let body = Body::Catalogue(record::Catalogue {
            title: self.title,
            description: self.description.unwrap_or_default(),
            editors: Vec::new(),
            includes: Vec::new(),
        });
        create(st, body, now)
    }
}

/// `POST /catalogues/{id}/entries`, `mutu catalogue add`: a project in a
/// catalogue you own or edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CatalogueEntry {
    /// The catalogue (id or unique prefix).
    pub catalogue: String,
    /// The project (id or unique prefix).
    pub project: String,
    /// recommended (default) | observation | deprecated
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "recommended"))]
    pub status: Option<EntryStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Op for CatalogueEntry {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let catalogue = resolve(st, "catalogue", &self.catalogue, Kind::Catalogue)?;
        let project = resolve(st, "project", &self.project, Kind::Project)?;
        let body = Body::CatalogueEntry(record::CatalogueEntry {
            catalogue,
            project,
            status: self.status.unwrap_or(EntryStatus::Recommended),
            note: self.note.unwrap_or_default(),
        });
        create(st, body, now)
    }
}

/// `POST /catalogues/{id}/includes`, `mutu catalogue include`: include
/// another catalogue in one of yours (federation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CatalogueInclude {
    /// Your catalogue (id or unique prefix).
    pub catalogue: String,
    /// The catalogue to include (id or unique prefix).
    pub other: String,
}

impl Op for CatalogueInclude {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let id = resolve(st, "catalogue", &self.catalogue, Kind::Catalogue)?;
        let other = resolve(st, "other", &self.other, Kind::Catalogue)?;
        edit(st, id, Kind::Catalogue, now, |body| {
            if let Body::Catalogue(c) = body {
                if c.includes.contains(&other) {
                    return Err(Error::Conflict(format!("catalogue {id} already includes {other}")));
                }
                c.includes.push(other);
            }
            Ok(())
        })
    }
}

/// Add or remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EditorAction {
    Add,
    Remove,
}

/// `POST /catalogues/{id}/editors`, `mutu catalogue editor add|remove`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CatalogueEditor {
    /// Your catalogue (id or unique prefix).
    pub catalogue: String,
    /// The member (id or unique prefix of a known member's id).
    pub member: String,
    pub action: EditorAction,
}

impl Op for CatalogueEditor {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let id = resolve(st, "catalogue", &self.catalogue, Kind::Catalogue)?;
        let member = resolve_member(st, "member", &self.member)?;
        let add = self.action == EditorAction::Add;
        edit(st, id, Kind::Catalogue, now, |body| {
            if let Body::Catalogue(c) = body {
                let listed = c.editors.contains(&member);
                match (add, listed) {
                    (true, true) => {
                        return Err(Error::Conflict(format!(
                            "{member} is already an editor of catalogue {id}"
                        )));
                    }
                    (false, false) => {
                        return Err(Error::Conflict(format!("{member} is not an editor of catalogue {id}")));
                    }
                    (true, false) => c.editors.push(member),
                    (false, true) => c.editors.retain(|m| *m != member),
                }
            }
            Ok(())
        })
    }
}

/// `POST /vouches`, `mutu vouch`: "we vouch for member M".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VouchFor {
    /// The member (id or unique prefix of a known member's id).
    pub member: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
}

impl Op for VouchFor {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let member = resolve_member(st, "member", &self.member)?;
        if member == st.member_id() {
            return Err(Error::bad(
                "member",
                "you cannot vouch for yourself: give another member's id",
            ));
        }
        let body = Body::Vouch(record::Vouch {
            member,
            statement: self.statement.unwrap_or_default(),
        });
        create(st, body, now)
    }
}

/// A member to follow: a whole member id (the member may be unknown here
/// yet: following is how a node comes to hold its documents) or the unique
/// prefix of a known member's id.
fn followed_member(st: &State, given: &str) -> Result<MemberId, Error> {
    match given.trim().parse::<MemberId>() {
        Ok(m) => Ok(m),
        Err(_) => resolve_member(st, "member", given.trim()),
    }
}

/// This member's live `follow` records naming `member`.
fn follows_of(st: &State, member: &MemberId) -> Vec<RecordId> {
    let me = st.member_id();
    st.registry()
        .index()
        .of_kind(Kind::Follow)
        .into_iter()
        .filter(|r| r.record().author == me && matches!(&r.record().body, Body::Follow(f) if f.member == *member))
        .map(|r| r.id())
        .collect()
}

/// `POST /follows`, `mutu follow`: "we follow member M". A node replicates
/// the members its owner follows and those within its hops of vouches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Follow {
    /// The member: a whole member id, or the unique prefix of a known member's id.
    pub member: String,
}

impl Op for Follow {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let member = followed_member(st, &self.member)?;
        if member == st.member_id() {
            return Err(Error::bad(
                "member",
                "you cannot follow yourself (a node always replicates its own member): give another member's id",
            ));
        }
        if let Some(id) = follows_of(st, &member).first() {
            return Err(Error::Conflict(format!(
                "you already follow {member} (follow record {id}); `mutu unfollow {member}` stops"
            )));
        }
        create(
            st,
            Body::Follow(record::Follow {
                member,
                moderation: false,
            }),
            now,
        )
    }
}

/// `POST /moderation/follows`, `mutu moderation follow`: follow member M
/// and subscribe to its moderation lists (the members they list are treated
/// as blocked here). Turns an existing follow of M into one with the lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ModerationFollow {
    /// The member: a whole member id, or the unique prefix of a known member's id.
    pub member: String,
}

impl Op for ModerationFollow {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let member = followed_member(st, &self.member)?;
        if member == st.member_id() {
            return Err(Error::bad(
                "member",
                "your own moderation lists apply here already: give another member's id",
            ));
        }
        match follows_of(st, &member).first() {
            None => create(
                st,
                Body::Follow(record::Follow {
                    member,
                    moderation: true,
                }),
                now,
            ),
            Some(id) => edit(st, *id, Kind::Follow, now, |body| {
                if let Body::Follow(f) = body {
                    if f.moderation {
                        return Err(Error::Conflict(format!(
                            "you already follow the moderation lists of {member}"
                        )));
                    }
                    f.moderation = true;
                }
                Ok(())
            }),
        }
    }
}

/// `POST /moderation/lists`, `mutu moderation list`: publish a moderation
/// list: members you advise against replicating, with one reason for all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewModerationList {
    pub title: String,
    /// Whole member ids, or unique prefixes of known members' ids.
    pub members: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Op for NewModerationList {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let reason = self.reason.unwrap_or_default();
        let entries = self
            .members
            .iter()
            .map(|m| {
                Ok(record::Listed {
                    member: followed_member(st, m)?,
                    reason: reason.clone(),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        create(
            st,
            Body::Moderation(record::Moderation {
                title: self.title,
                entries,
            }),
            now,
        )
    }
}

/// `POST /follows/unfollow`, `mutu unfollow`: stop following member M (the
/// follow record is retracted). Gives the tombstone's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Unfollow {
    /// The member: a whole member id, or the unique prefix of a known member's id.
    pub member: String,
}

impl Op for Unfollow {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let member = followed_member(st, &self.member)?;
        let follows = follows_of(st, &member);
        if follows.is_empty() {
            return Err(Error::Conflict(format!("you do not follow {member}")));
        }
        // Two replicas of this member may each have written a follow: retract all.
        let mut last = None;
        for id in follows {
            last = Some(st.retract(id, now)?);
        }
        last.ok_or_else(|| Error::Conflict(format!("you do not follow {member}")))
    }
}

/// `POST /records/{id}/retract`, `mutu retract`: retract one of your
/// records, for good. Gives the tombstone's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Retract {
    /// The record (id or unique prefix).
    pub id: String,
}

impl Op for Retract {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let id = st.resolve(&self.id).map_err(|e| Error::from_state(e, Some("id")))?;
        Ok(st.retract(id, now)?)
    }
}

/// Declares [`Request`] from one list of `Variant(Type)`: the enum, its
/// `apply` and a `From` per operation type, so an operation is listed once.
macro_rules! requests {
    ($($variant:ident($op:ident)),* $(,)?) => {
        /// Every write a member can make: the one catalogue of operations.
        /// The CLI, the JSON API, the web forms and the demo all build one
        /// of these, and the node applies it in one place
        /// ([`Request::apply`]). In JSON the variant is named by an `op`
        /// field: `{"op": "new_need", "title": "…", …}`.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(tag = "op", rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum Request {
            $($variant($op),)*
        }

        impl Request {
            /// Checks, signs and stores the statement; gives the id of the
            /// record it made or edited.
            pub fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
                match self {
                    $(Request::$variant(op) => op.apply(st, now),)*
                }
            }
        }

        $(
            impl From<$op> for Request {
                fn from(op: $op) -> Self {
                    Request::$variant(op)
                }
            }
        )*
    };
}

requests!(
    NewProject(NewProject),
    NewUsage(NewUsage),
    NewNeed(NewNeed),
    Cosign(CosignNeed),
    NeedStatus(SetNeedStatus),
    NewPledge(NewPledge),
    WithdrawPledge(WithdrawPledge),
    MergeNeed(MergeNeed),
    MovePledge(MovePledge),
    NewOffer(NewOffer),
    NewCatalogue(NewCatalogue),
    CatalogueEntry(CatalogueEntry),
    CatalogueInclude(CatalogueInclude),
    CatalogueEditor(CatalogueEditor),
    Vouch(VouchFor),
    Retract(Retract),
    Follow(Follow),
    Unfollow(Unfollow),
    ModerationFollow(ModerationFollow),
    NewModerationList(NewModerationList),
    ImportPubliccode(ImportPubliccode),
    NeedDecision(SetNeedDecision),
    ApproveOffer(ApproveOffer),
    AwardOffer(AwardOffer),
    NewDelivery(NewDelivery),
    JudgeDelivery(JudgeDelivery),
    FulfilPledge(FulfilPledge),
    ConfirmReceipt(ConfirmReceipt),
);

impl Request {
    /// Whether the operation edits a record rather than making a new one.
    pub fn is_edit(&self) -> bool {
        matches!(
            self,
            Request::NeedStatus(_)
                | Request::NeedDecision(_)
                | Request::FulfilPledge(_)
                | Request::WithdrawPledge(_)
                | Request::MergeNeed(_)
                | Request::CatalogueInclude(_)
                | Request::CatalogueEditor(_)
        )
    }

    /// Whether the operation writes a record that can change a trust set
    /// (a follow, a vouch, a moderation list, or a retraction, which may
    /// retract one of those): [`mutu_protocol::trust::shapes_trust`] of
    /// what it writes.
    pub fn shapes_trust(&self) -> bool {
        matches!(
            self,
            Request::Vouch(_)
                | Request::Retract(_)
                | Request::Follow(_)
                | Request::Unfollow(_)
                | Request::ModerationFollow(_)
                | Request::NewModerationList(_)
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn money_comes_as_text_or_minor_units() {
        let text: MoneyInput = serde_json::from_str(r#""600EUR""#).unwrap();
        let minor: MoneyInput = serde_json::from_str(r#"{"amount_minor": 60000, "currency": "EUR"}"#).unwrap();
        assert_eq!(text.parse("goal").unwrap(), minor.parse("goal").unwrap());
        let zero = MoneyInput::Minor {
            amount_minor: 0,
            currency: "EUR".into(),
        };
        assert_eq!(zero.parse("goal").unwrap_err().field(), Some("goal"));
        let bad = MoneyInput::Text("12,5EUR".into()).parse("money").unwrap_err();
        assert!(
            bad.to_string().starts_with("money: `12,5EUR` is not an amount"),
            "{bad}"
        );
    }

    #[test]
    fn dates_are_checked_by_field() {
        let e = date("deadline", Some("31/01/2099")).unwrap_err();
        assert_eq!(e.field(), Some("deadline"));
        assert!(date("deadline", Some("2099-01-31")).unwrap().is_some());
    }
}
