//! The consultation's commands (`need decision`, `offer approve|award`,
//! `delivery add|accept|object`): each becomes one `ops` request. `pledge
//! fulfil|received` sit with the other pledge commands (`write`).

use mutu_node::ops;
use mutu_protocol::record::Verdict;

use crate::args::{Command, DeliveryCmd, NeedCmd, OfferCmd};

/// The request a consultation command makes, or the command back.
pub fn request(command: Command) -> Result<ops::Request, Box<Command>> {
    Ok(match command {
        Command::Need(NeedCmd::Decision { need, decision }) => ops::SetNeedDecision {
            need,
            decision: decision.into(),
        }
        .into(),
        Command::Offer(OfferCmd::Approve { offer, note }) => ops::ApproveOffer { offer, note }.into(),
        Command::Offer(OfferCmd::Award { offer, note }) => ops::AwardOffer { offer, note }.into(),
        Command::Delivery(DeliveryCmd::Add { need, release, note }) => ops::NewDelivery { need, release, note }.into(),
        Command::Delivery(DeliveryCmd::Accept { delivery, reason }) => ops::JudgeDelivery {
            delivery,
            verdict: Verdict::Accept,
            reason,
        }
        .into(),
        Command::Delivery(DeliveryCmd::Object { delivery, reason }) => ops::JudgeDelivery {
            delivery,
            verdict: Verdict::Object,
            reason: Some(reason),
        }
        .into(),
        other => return Err(Box::new(other)),
    })
}
