//! The consultation on web pages (issue 13): a need's timeline, award and
//! its verdict, approvals of each offer, deliveries and objections; a
//! member's track record. Read-only here: the writes are the CLI's and the
//! API's (`mutu offer approve|award`, `mutu delivery …`).

use maud::{Markup, html};
use mutu_protocol::record::Decision;
use mutu_protocol::view::consult::{Consultation, Outcome, Standing, TrackRecord};

use super::Names;
use crate::web::PageCtx;
use crate::web::i18n::{self, Key};

fn decision(d: Decision) -> Key {
    match d {
        Decision::Majority => Key::DecisionMajority,
        Decision::Weighted => Key::DecisionWeighted,
        _ => Key::DecisionAuthor,
    }
}

fn outcome(ctx: &PageCtx, names: &Names, o: &Outcome) -> Markup {
    html! {
        @match o.standing {
            Standing::Valid => span.badge.done { (ctx.t(Key::ConsultValid)) },
            Standing::Contested => {
                span.badge.progress { (ctx.t(Key::ConsultContested)) }
                " " @for (i, m) in o.missing.iter().enumerate() {
                    @if i > 0 { ", " } (names.link(m))
                }
            }
        }
    }
}

/// The need page's consultation section.
pub fn section(ctx: &PageCtx, c: &Consultation, names: &Names) -> Markup {
    let t = &c.timeline;
    html! {
        section #consultation {
            h2 { (ctx.t(Key::ConsultTitle)) }
            dl.facts {
                dt { (ctx.t(Key::ConsultDecision)) } dd { (ctx.t(decision(c.decision))) }
                dt { (ctx.t(Key::ConsultCoalition)) }
                dd { @for (i, m) in c.coalition.members.iter().enumerate() { @if i > 0 { ", " } (names.link(m)) } }
                dt { (ctx.t(Key::ConsultTimeline)) }
                dd.timeline {
                    (ctx.t(Key::StageOpen)) " " (i18n::date(ctx.lang, t.opened))
                    @if t.funded { " → " (ctx.t(Key::StageFunded)) }
                    @if let Some(at) = t.awarded { " → " (ctx.t(Key::StageAwarded)) " " (i18n::date(ctx.lang, at)) }
                    @if let Some(at) = t.delivered { " → " (ctx.t(Key::StageDelivered)) " " (i18n::date(ctx.lang, at)) }
                    @if let Some(at) = t.accepted {
                        " → " (ctx.t(Key::StageAccepted)) " " (i18n::date(ctx.lang, at))
                        " → " (ctx.t(Key::StagePaid)) " " (t.paid) "/" (t.payable)
                    }
                }
                @if let Some(a) = &c.award {
                    dt { (ctx.t(Key::ConsultAward)) }
                    dd { (names.link(&a.provider)) " — " (outcome(ctx, names, &a.outcome)) }
                }
            }
            @if !c.offers.is_empty() {
                table {
                    thead { tr {
                        th { (ctx.t(Key::OfferPrice)) } th { (ctx.t(Key::OfferDays)) }
                        th { (ctx.t(Key::ConsultApprovals)) } th { (ctx.t(Key::ConsultAward)) }
                    } }
                    tbody {
                        @for o in &c.offers {
                            tr {
                                td { (names.link(&o.provider)) " — " (i18n::money(ctx.lang, &o.price)) }
                                td { @if let Some(d) = o.days { (d) } @else { "-" } }
                                td { @for (i, m) in o.approvals.iter().enumerate() { @if i > 0 { ", " } (names.link(m)) } }
                                td { @if o.awarded { "✓" } }
                            }
                        }
                    }
                }
            }
            @for d in &c.deliveries {
                h3 { (ctx.t(Key::ConsultDelivery)) " " (i18n::date(ctx.lang, d.at)) }
                p { a href=(d.release) rel="nofollow noopener" { (d.release) } " — "
                    @match d.outcome.standing {
                        Standing::Valid => span.badge.done { (ctx.t(Key::StageAccepted)) },
                        Standing::Contested => (outcome(ctx, names, &d.outcome)),
                    }
                }
                @if !d.objections.is_empty() {
                    h4 { (ctx.t(Key::ConsultObjections)) }
                    ul.plain { @for o in &d.objections { li { (names.link(&o.member)) ": " (o.reason) } } }
                }
            }
        }
    }
}

/// The member page's track record.
pub fn track_record(ctx: &PageCtx, t: &TrackRecord) -> Markup {
    html! {
        @if t.offers_made > 0 || t.pledges_made > 0 {
            section #track-record {
                h2 { (ctx.t(Key::TrackTitle)) }
                dl.facts {
                    @if t.offers_made > 0 {
                        dt { (ctx.t(Key::TrackProvider)) }
                        dd {
                            (t.offers_made) " " (ctx.t(Key::TrackOffers)) ", " (t.offers_awarded) " " (ctx.t(Key::TrackAwarded))
                            ", " (t.delivered) " " (ctx.t(Key::TrackDelivered)) " (" (t.on_time) " " (ctx.t(Key::TrackOnTime))
                            ", " (t.late) " " (ctx.t(Key::TrackLate)) "), " (t.accepted) " " (ctx.t(Key::TrackAccepted))
                            ", " (t.objected) " " (ctx.t(Key::TrackObjected))
                        }
                        dt { (ctx.t(Key::TrackReceived)) }
                        dd { @for (i, m) in t.received.iter().enumerate() { @if i > 0 { ", " } (i18n::money(ctx.lang, &m)) } }
                    }
                    @if t.pledges_made > 0 {
                        dt { (ctx.t(Key::TrackPledger)) }
                        dd {
                            (t.pledges_made) " " (ctx.t(Key::TrackPledges)) ", " (t.pledges_due) " " (ctx.t(Key::TrackDue))
                            ", " (t.pledges_paid) " " (ctx.t(Key::TrackPaid))
                        }
                    }
                }
            }
        }
    }
}
