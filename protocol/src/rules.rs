//! Rules a new statement must follow against the registry as this node sees
//! it: referenced records exist, are of the right kind and are not
//! retracted; only a catalogue's owner and editors add entries to it; only a
//! record's author edits or retracts it; dates of new statements are not in
//! the past; awards, deliveries, approvals, acceptances and receipts only by
//! whom the consultation allows ([`crate::view::consult`]). Records that arrive from others are not held to these rules
//! (their references may arrive later); views simply skip what they cannot
//! resolve.

use crate::identity::MemberId;
use crate::record::{Body, Kind, NeedStatus, Offer, RecordId, SignedRecord};
use crate::time::{Date, Timestamp};
use crate::view::Views;

/// A statement that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    #[error("no {expected} with id {id} is known here: check the id (`mutu ls`) or import the bundle that has it")]
    NotFound { id: RecordId, expected: Kind },
    #[error("{id} is a {found}, not a {expected}")]
    WrongKind { id: RecordId, expected: Kind, found: Kind },
    #[error("{kind} {id} has been retracted by its author")]
    Retracted { id: RecordId, kind: Kind },
    #[error("need {id} is {status}: it takes no new pledges, cosigns or offers")]
    NeedClosed { id: RecordId, status: &'static str },
    #[error(
        "need {id} was merged into need {into}: cosign or pledge there (`mutu pledge move PLEDGE --to {into}` moves a pledge)"
    )]
    NeedMerged { id: RecordId, into: RecordId },
    #[error("need {need} cannot be merged into {into}: {into} is already merged into {need} (directly or by a chain)")]
    MergeCycle { need: RecordId, into: RecordId },
    #[error("a new need cannot be born merged: write it, then `mutu need merge`")]
    BornMerged,
    #[error("only the owner or an editor of catalogue {catalogue} can add entries to it")]
    NotEditor { catalogue: RecordId },
    #[error("{id} was written by {author}: only its author can change or retract it")]
    NotYours { id: RecordId, author: MemberId },
    #[error("{field} {date} is in the past: give a date from today on")]
    InThePast { field: &'static str, date: Date },
    #[error("no record with id {id} is known here")]
    Unknown { id: RecordId },
    #[error("{id} is a retraction, and retractions are permanent")]
    Permanent { id: RecordId },
    #[error("a catalogue cannot include itself")]
    SelfInclude,
    #[error("a record cannot be based on itself")]
    SelfReference,
    #[error(
        "only members of need {need}'s coalition (its author, cosigners and active pledgers) can approve offers or accept deliveries: cosign or pledge first"
    )]
    NotInCoalition { need: RecordId },
    #[error("only need {need}'s author, {author}, can award its offers")]
    NotNeedAuthor { need: RecordId, author: MemberId },
    #[error("offer {offer} answers need {actual}, not need {need}")]
    OfferOfOtherNeed {
        offer: RecordId,
        need: RecordId,
        actual: RecordId,
    },
    #[error("offer {offer} was valid until {date}: it can no longer be awarded; ask the provider for a new offer")]
    OfferExpired { offer: RecordId, date: Date },
    #[error("award {award} stands on need {need}: retract it first (`mutu retract {award}`)")]
    AwardStands { award: RecordId, need: RecordId },
    #[error("no award stands on need {need}: a delivery or a receipt comes after an award")]
    NotAwarded { need: RecordId },
    #[error("only the provider awarded need {need}, {provider}, can declare its delivery or confirm receipts")]
    NotProvider { need: RecordId, provider: MemberId },
    #[error("need {need}'s decision rule cannot change while an award stands")]
    DecisionLocked { need: RecordId },
    #[error("{kind} {id} cannot be edited: write a new one (the latest counts) or retract it")]
    Immutable { id: RecordId, kind: Kind },
}

fn resolve<'a>(views: &Views<'a>, id: &RecordId, expected: Kind) -> Result<&'a SignedRecord, Violation> {
    let index = views.index();
    match index.get_any(id) {
        None => Err(Violation::NotFound { id: *id, expected }),
        Some(r) if index.is_tombstoned(r) => Err(Violation::Retracted {
            id: *id,
            kind: r.record().kind,
        }),
        Some(r) if r.record().kind != expected => Err(Violation::WrongKind {
            id: *id,
            expected,
            found: r.record().kind,
        }),
        Some(r) => Ok(r),
    }
}

fn not_past(field: &'static str, date: Option<Date>, now: Timestamp) -> Result<(), Violation> {
    match date {
        Some(d) if d.is_past(now) => Err(Violation::InThePast { field, date: d }),
        _ => Ok(()),
    }
}

fn need_open(views: &Views<'_>, need: &RecordId) -> Result<(), Violation> {
    let r = resolve(views, need, Kind::Need)?;
    if let Body::Need(n) = &r.record().body {
        let status = match n.status {
            NeedStatus::Withdrawn => "withdrawn",
            NeedStatus::Delivered => "delivered",
            NeedStatus::Merged => match views.merge_end(need) {
                Some(into) => return Err(Violation::NeedMerged { id: *need, into }),
                // The end of a merge cycle stands for the whole cycle.
                None => return Ok(()),
            },
            _ => return Ok(()),
        };
        return Err(Violation::NeedClosed { id: *need, status });
    }
    Ok(())
}

/// A need merged into `into`: the target is a need that takes statements
/// (not withdrawn or delivered; a merged target stands for the end of its
/// chain) and does not lead back to the need itself.
fn merge_target(views: &Views<'_>, need: Option<RecordId>, into: &RecordId) -> Result<(), Violation> {
    let Some(need) = need else {
        return Err(Violation::BornMerged);
    };
    if need == *into {
        return Err(Violation::SelfReference);
    }
    let end = views.merge_end(into).unwrap_or(*into);
    if end == need || views.merge_chain(into).contains(&need) {
        return Err(Violation::MergeCycle { need, into: *into });
    }
    need_open(views, &end)
}

/// An offer and the need it answers, both visible.
fn offer_and_need<'a>(views: &Views<'a>, offer: &RecordId) -> Result<(&'a SignedRecord, &'a Offer), Violation> {
    let r = resolve(views, offer, Kind::Offer)?;
    let Body::Offer(o) = &r.record().body else {
        return Err(Violation::NotFound {
            id: *offer,
            expected: Kind::Offer,
        });
    };
    Ok((resolve(views, &o.need, Kind::Need)?, o))
}

fn in_coalition(views: &Views<'_>, need: &SignedRecord, author: MemberId) -> Result<(), Violation> {
    let Body::Need(n) = &need.record().body else {
        return Err(Violation::NotFound {
            id: need.id(),
            expected: Kind::Need,
        });
    };
    if views.coalition(&need.id(), need.record().author, n).contains(&author) {
        Ok(())
    } else {
        Err(Violation::NotInCoalition { need: need.id() })
    }
}

fn awarded_provider(views: &Views<'_>, need: &SignedRecord, author: MemberId) -> Result<(), Violation> {
    let (_, offer) = views
        .standing_award(need)
        .ok_or(Violation::NotAwarded { need: need.id() })?;
    let provider = offer.record().author;
    if provider != author {
        return Err(Violation::NotProvider {
            need: need.id(),
            provider,
        });
    }
    Ok(())
}

/// Checks a new statement by `author`. For an edit, `previous` is the
/// version it replaces.
pub fn check(
    views: &Views<'_>,
    author: MemberId,
    body: &Body,
    previous: Option<&SignedRecord>,
) -> Result<(), Violation> {
    let now = views.now();
    if let Some(prev) = previous {
        let rec = prev.record();
        if rec.author != author {
            return Err(Violation::NotYours {
                id: rec.id,
                author: rec.author,
            });
        }
        if views.index().is_tombstoned(prev) {
            return Err(Violation::Retracted {
                id: rec.id,
                kind: rec.kind,
            });
        }
        if rec.kind == Kind::Tombstone {
            return Err(Violation::Permanent { id: rec.id });
        }
        if matches!(
            rec.kind,
            Kind::Approval | Kind::Award | Kind::Delivery | Kind::Acceptance | Kind::Receipt
        ) {
            return Err(Violation::Immutable {
                id: rec.id,
                kind: rec.kind,
            });
        }
    }
    let is_new = previous.is_none();
    match body {
        Body::Need(n) => {
            if let Some(p) = &n.project {
                resolve(views, p, Kind::Project)?;
            }
            let was_into = previous.and_then(|p| match &p.record().body {
                Body::Need(old) => old.merged_into,
                _ => None,
            });
            if let Some(into) = n.merged_into.as_ref().filter(|into| Some(**into) != was_into) {
                merge_target(views, previous.map(SignedRecord::id), into)?;
            }
            if is_new {
                not_past("deadline", n.deadline, now)?;
            }
            if let Some(prev) = previous
                && matches!(&prev.record().body, Body::Need(old) if old.decision != n.decision)
                && views.standing_award(prev).is_some()
            {
                return Err(Violation::DecisionLocked { need: prev.id() });
            }
        }
        Body::Approval(a) => {
            let (need, _) = offer_and_need(views, &a.offer)?;
            in_coalition(views, need, author)?;
        }
        Body::Award(a) => {
            let (need, offer) = offer_and_need(views, &a.offer)?;
            if need.id() != a.need {
                resolve(views, &a.need, Kind::Need)?;
                return Err(Violation::OfferOfOtherNeed {
                    offer: a.offer,
                    need: a.need,
                    actual: need.id(),
                });
            }
            need_open(views, &a.need)?;
            if need.record().author != author {
                return Err(Violation::NotNeedAuthor {
                    need: a.need,
                    author: need.record().author,
                });
            }
            if let Some(date) = offer.valid_until.filter(|d| d.is_past(now)) {
                return Err(Violation::OfferExpired { offer: a.offer, date });
            }
            if let Some((award, _)) = views.standing_award(need) {
                return Err(Violation::AwardStands {
                    award: award.id(),
                    need: a.need,
                });
            }
        }
        Body::Delivery(d) => {
            let need = resolve(views, &d.need, Kind::Need)?;
            awarded_provider(views, need, author)?;
        }
        Body::Acceptance(a) => {
            let delivery = resolve(views, &a.delivery, Kind::Delivery)?;
            if let Body::Delivery(d) = &delivery.record().body {
                let need = resolve(views, &d.need, Kind::Need)?;
                in_coalition(views, need, author)?;
            }
        }
        Body::Receipt(r) => {
            let pledge = resolve(views, &r.pledge, Kind::Pledge)?;
            if let Body::Pledge(p) = &pledge.record().body {
                let need = resolve(views, &p.need, Kind::Need)?;
                awarded_provider(views, need, author)?;
            }
        }
        Body::Pledge(p) => {
            if is_new {
                need_open(views, &p.need)?;
                not_past("expiry date", p.expires_at, now)?;
            }
        }
        Body::Cosign(c) => need_open(views, &c.need)?,
        Body::Offer(o) => {
            need_open(views, &o.need)?;
            if is_new {
                not_past("valid-until date", o.valid_until, now)?;
            }
        }
        Body::Usage(u) => {
            resolve(views, &u.project, Kind::Project)?;
        }
        Body::Project(p) => {
            if let Some(base) = &p.is_based_on {
                if previous.is_some_and(|prev| prev.id() == *base) {
                    return Err(Violation::SelfReference);
                }
                resolve(views, base, Kind::Project)?;
            }
        }
        Body::Catalogue(c) => {
            for inc in &c.includes {
                if previous.is_some_and(|prev| prev.id() == *inc) {
                    return Err(Violation::SelfInclude);
                }
                resolve(views, inc, Kind::Catalogue)?;
            }
        }
        Body::CatalogueEntry(e) => {
            let cat = resolve(views, &e.catalogue, Kind::Catalogue)?;
            resolve(views, &e.project, Kind::Project)?;
            let allowed = cat.record().author == author
                || matches!(&cat.record().body, Body::Catalogue(c) if c.editors.contains(&author));
            if !allowed {
                return Err(Violation::NotEditor { catalogue: e.catalogue });
            }
        }
        Body::Tombstone(t) => {
            let target = views
                .index()
                .get_any(&t.target)
                .ok_or(Violation::Unknown { id: t.target })?;
            if target.record().author != author {
                return Err(Violation::NotYours {
                    id: t.target,
                    author: target.record().author,
                });
            }
            if views.index().is_tombstoned(target) {
                return Err(Violation::Retracted {
                    id: t.target,
                    kind: target.record().kind,
                });
            }
        }
        Body::Profile(_) | Body::Vouch(_) | Body::Follow(_) | Body::Moderation(_) => {}
    }
    Ok(())
}
