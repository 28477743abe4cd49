//! The consultation in `mutu show`: a need's timeline, its offers side by
//! side, the award and deliveries with the coalition's verdicts; a member's
//! track record.

use mutu_protocol::view::Views;
use mutu_protocol::view::consult::{Consultation, Outcome, Standing, TrackRecord};

use super::super::report::{Block, Fields, Table, count};
use super::{name, word};

/// `open → funded → awarded (valid) → delivered → accepted → paid 1 of 2`:
/// the steps reached, in order.
pub(super) fn timeline(c: &Consultation) -> String {
    let t = &c.timeline;
    let mut steps = vec![format!("open {}", t.opened.date())];
    if t.funded {
        steps.push("funded".to_owned());
    }
    if let (Some(at), Some(s)) = (t.awarded, t.award_standing) {
        steps.push(format!("awarded {} ({})", at.date(), word(&s)));
    }
    if let Some(at) = t.delivered {
        steps.push(format!("delivered {}", at.date()));
    }
    if let Some(at) = t.accepted {
        steps.push(format!("accepted {}", at.date()));
        steps.push(format!("paid {} of {} ({} received)", t.paid, t.payable, t.received));
    }
    steps.join(" → ")
}

fn outcome(views: &Views<'_>, o: &Outcome) -> String {
    match o.standing {
        Standing::Valid => "valid".to_owned(),
        Standing::Contested => {
            let missing: Vec<String> = o.missing.iter().map(|m| name(views, m)).collect();
            format!("contested (missing: {})", missing.join(", "))
        }
    }
}

/// The consultation's fields and tables, after the need's own fields.
pub(super) fn need_blocks(views: &Views<'_>, c: &Consultation, f: &mut Fields) -> Vec<Block> {
    let members: Vec<String> = c.coalition.members.iter().map(|m| name(views, m)).collect();
    f.add("decision", c.decision.as_str())
        .add("coalition", members.join(", "))
        .add("timeline", timeline(c));
    if let Some(a) = &c.award {
        f.add(
            "award",
            format!(
                "{} to {}: {}",
                a.offer,
                name(views, &a.provider),
                outcome(views, &a.outcome)
            ),
        );
    }
    let mut blocks = Vec::new();
    let mut t = Table::new(&[
        "ID",
        "PRICE",
        "DAYS",
        "VALID UNTIL",
        "APPROVALS",
        "AWARDED",
        "BY",
        "TRACK RECORD",
    ]);
    for o in &c.offers {
        let until = match (o.valid_until, o.expired) {
            (Some(d), true) => format!("{d} (expired)"),
            (Some(d), false) => d.to_string(),
            (None, _) => "-".to_owned(),
        };
        let approvals: Vec<String> = o.approvals.iter().map(|m| name(views, m)).collect();
        t.row(vec![
            o.id.to_string(),
            o.price.to_string(),
            o.days.map_or_else(|| "-".to_owned(), |d| d.to_string()),
            until,
            if approvals.is_empty() {
                "-".to_owned()
            } else {
                approvals.join(", ")
            },
            if o.awarded { "yes" } else { "-" }.to_owned(),
            name(views, &o.provider),
            track_summary(&views.track_record(&o.provider)),
        ]);
    }
    blocks.extend(t.titled(count(c.offers.len(), "offer", "offers")).into_block());
    let mut t = Table::new(&["ID", "RELEASE", "VERDICT", "OBJECTIONS"]);
    for d in &c.deliveries {
        let objections: Vec<String> = d
            .objections
            .iter()
            .map(|o| format!("{}: {}", name(views, &o.member), o.reason))
            .collect();
        t.row(vec![
            d.id.to_string(),
            d.release.clone(),
            match d.outcome.standing {
                Standing::Valid => "accepted".to_owned(),
                Standing::Contested => outcome(views, &d.outcome),
            },
            if objections.is_empty() {
                "-".to_owned()
            } else {
                objections.join("; ")
            },
        ]);
    }
    blocks.extend(
        t.titled(count(c.deliveries.len(), "delivery", "deliveries"))
            .into_block(),
    );
    blocks
}

/// The pledge table's extra column: due, paid, received.
pub(super) fn payment(c: &Consultation, pledge: &mutu_protocol::RecordId) -> String {
    match c.pledges.iter().find(|p| p.id == *pledge) {
        Some(p) if p.paid && p.received => "paid, received".to_owned(),
        Some(p) if p.paid => "paid".to_owned(),
        Some(p) if p.due => "due".to_owned(),
        _ => "-".to_owned(),
    }
}

/// A member's track record as `key: value` lines.
pub(super) fn track_fields(t: &TrackRecord, f: &mut Fields) {
    if t.offers_made > 0 {
        let received: Vec<String> = t.received.iter().map(|m| m.to_string()).collect();
        f.add(
            "as provider",
            format!(
                "{} offers, {} awarded, {} delivered ({} on time, {} late), {} accepted, {} objected",
                t.offers_made, t.offers_awarded, t.delivered, t.on_time, t.late, t.accepted, t.objected
            ),
        )
        .add(
            "received",
            if received.is_empty() {
                "-".to_owned()
            } else {
                received.join(", ")
            },
        );
    }
    if t.pledges_made > 0 {
        f.add(
            "as pledger",
            format!(
                "{} pledges, {} due, {} paid ({} confirmed received)",
                t.pledges_made, t.pledges_due, t.pledges_paid, t.pledges_confirmed
            ),
        );
    }
}

/// A provider's track record in a few words, beside its offer.
pub fn track_summary(t: &mutu_protocol::view::consult::TrackRecord) -> String {
    format!(
        "{}, {} awarded, {} delivered ({} late), {} accepted, {} objected",
        count(t.offers_made, "offer", "offers"),
        t.offers_awarded,
        t.delivered,
        t.late,
        t.accepted,
        t.objected
    )
}
