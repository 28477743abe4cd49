//! Operations of the consultation (issue 13): approve an offer, award it,
//! declare a delivery, accept it or object, mark a pledge paid, confirm its
//! receipt, change a need's decision rule. Who may do each is the
//! protocol's rule ([`mutu_protocol::rules`]); the coalition's verdicts are
//! views ([`mutu_protocol::view::consult`]).

use mutu_protocol::Timestamp;
use mutu_protocol::record::{self, Body, Decision, Kind, PledgeStatus, RecordId, Verdict};
use serde::{Deserialize, Serialize};

use super::{Error, Op, create, edit, resolve};
use crate::state::State;

/// `mutu need decision`: how the coalition of one of your needs decides
/// (until an award stands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetNeedDecision {
    /// The need (id or unique prefix).
    pub need: String,
    /// author | majority | weighted
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "weighted"))]
    pub decision: Decision,
}

impl Op for SetNeedDecision {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let id = resolve(st, "need", &self.need, Kind::Need)?;
        edit(st, id, Kind::Need, now, |body| {
            if let Body::Need(n) = body {
                n.decision = self.decision;
            }
            Ok(())
        })
    }
}

/// `mutu offer approve`: as a member of the need's coalition, support an
/// offer (your latest approval among the need's offers counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApproveOffer {
    /// The offer (id or unique prefix).
    pub offer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Op for ApproveOffer {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let offer = resolve(st, "offer", &self.offer, Kind::Offer)?;
        let body = Body::Approval(record::Approval {
            offer,
            note: self.note.unwrap_or_default(),
        });
        create(st, body, now)
    }
}

/// `mutu offer award`: as the need's author, choose an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AwardOffer {
    /// The offer (id or unique prefix).
    pub offer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Op for AwardOffer {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let offer = resolve(st, "offer", &self.offer, Kind::Offer)?;
        let need = match st.registry().index().get(&offer).map(|r| &r.record().body) {
            Some(Body::Offer(o)) => o.need,
            _ => return Err(Error::NotFound(format!("{offer} is not an offer"))),
        };
        let body = Body::Award(record::Award {
            need,
            offer,
            note: self.note.unwrap_or_default(),
        });
        create(st, body, now)
    }
}

/// `mutu delivery add`: as the awarded provider, declare the work delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDelivery {
    /// The need (id or unique prefix).
    pub need: String,
    /// A release, tag or commit URL of the project's repository.
    pub release: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Op for NewDelivery {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let need = resolve(st, "need", &self.need, Kind::Need)?;
        let body = Body::Delivery(record::Delivery {
            need,
            release: self.release,
            note: self.note.unwrap_or_default(),
        });
        create(st, body, now)
    }
}

/// `mutu delivery accept|object`: as a coalition member, judge a delivery
/// (an objection needs a reason; your latest verdict counts until the
/// delivery is accepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JudgeDelivery {
    /// The delivery (id or unique prefix).
    pub delivery: String,
    /// accept | object
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "accept"))]
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Op for JudgeDelivery {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let delivery = resolve(st, "delivery", &self.delivery, Kind::Delivery)?;
        let body = Body::Acceptance(record::Acceptance {
            delivery,
            verdict: self.verdict,
            reason: self.reason.unwrap_or_default(),
        });
        create(st, body, now)
    }
}

/// `mutu pledge fulfil`: mark one of your pledges paid (given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FulfilPledge {
    /// The pledge (id or unique prefix).
    pub pledge: String,
}

impl Op for FulfilPledge {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let id = resolve(st, "pledge", &self.pledge, Kind::Pledge)?;
        edit(st, id, Kind::Pledge, now, |body| {
            if let Body::Pledge(p) = body {
                match p.status {
                    PledgeStatus::Withdrawn => {
                        return Err(Error::Conflict(format!("pledge {id} is withdrawn: it cannot be paid")));
                    }
                    PledgeStatus::Fulfilled => {
                        return Err(Error::Conflict(format!("pledge {id} is already marked paid")));
                    }
                    _ => p.status = PledgeStatus::Fulfilled,
                }
            }
            Ok(())
        })
    }
}

/// `mutu pledge received`: as the awarded provider, confirm a pledge reached you.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfirmReceipt {
    /// The pledge (id or unique prefix).
    pub pledge: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Op for ConfirmReceipt {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let pledge = resolve(st, "pledge", &self.pledge, Kind::Pledge)?;
        let body = Body::Receipt(record::Receipt {
            pledge,
            note: self.note.unwrap_or_default(),
        });
        create(st, body, now)
    }
}
