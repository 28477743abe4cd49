//! The consultation on web pages (issue 13): a need's timeline, award and
//! its verdict, approvals of each offer, deliveries and objections; a
//! member's track record; for a signed-in owner, the buttons of the steps it
//! may take (they post to [`crate::web::consult_forms`]).

use maud::{Markup, html};
use mutu_protocol::MemberId;
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

/// A one-click POST button with the session's CSRF token.
fn button(ctx: &PageCtx, action: String, label: Key) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            input type="hidden" name=(crate::web::auth::CSRF_FIELD) value=(ctx.csrf.as_deref().unwrap_or(""));
            button type="submit" { (ctx.t(label)) }
        }
    }
}

/// The need page's consultation section; `me` is this node's member and
/// `author` the need's (the buttons show only to a signed-in owner).
pub fn section(
    ctx: &PageCtx,
    c: &Consultation,
    names: &Names,
    tracks: &std::collections::HashMap<MemberId, TrackRecord>,
    me: MemberId,
    author: MemberId,
) -> Markup {
    let t = &c.timeline;
    let acting = ctx.signed_in;
    let member = acting && c.coalition.members.contains(&me);
    let provider = acting && c.provider() == Some(me);
    let open_award = c.award.is_none();
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
            @if acting && me == author && open_award {
                p { a.button href={ "/needs/" (c.need) "/decision" } { (ctx.t(Key::FormDecision)) } }
            }
            @if provider {
                p { a.button href={ "/needs/" (c.need) "/delivery" } { (ctx.t(Key::FormDelivery)) } }
            }
            @if !c.offers.is_empty() {
                table {
                    thead { tr {
                        th { (ctx.t(Key::OfferPrice)) } th { (ctx.t(Key::OfferDays)) }
                        th { (ctx.t(Key::OfferValidUntil)) }
                        th { (ctx.t(Key::ConsultApprovals)) } th { (ctx.t(Key::ConsultAward)) }
                        th { (ctx.t(Key::TrackTitle)) }
                        @if member { th {} }
                    } }
                    tbody {
                        @for o in &c.offers {
                            tr {
                                td { (names.link(&o.provider)) " — " (i18n::money(ctx.lang, &o.price)) }
                                td { @if let Some(d) = o.days { (d) } @else { "-" } }
                                td { @if let Some(d) = o.valid_until { (i18n::day(ctx.lang, d)) } @else { "-" } }
                                td { @for (i, m) in o.approvals.iter().enumerate() { @if i > 0 { ", " } (names.link(m)) } }
                                td { @if o.awarded { "✓" } }
                                td.small { @if let Some(t) = tracks.get(&o.provider) { (crate::control::read::consult::track_summary(t)) } }
                                @if member {
                                    td {
                                        @if !o.approvals.contains(&me) && !o.expired {
                                            (button(ctx, format!("/offers/{}/approve", o.id), Key::ConsultApprove))
                                        }
                                        @if me == author && open_award && !o.expired {
                                            " " (button(ctx, format!("/offers/{}/award", o.id), Key::ConsultAwardIt))
                                        }
                                    }
                                }
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
                @if member && d.outcome.standing != Standing::Valid {
                    p {
                        (button(ctx, format!("/deliveries/{}/accept", d.id), Key::ConsultAccept))
                        " " a.button href={ "/deliveries/" (d.id) "/object" } { (ctx.t(Key::ConsultObjectIt)) }
                    }
                }
            }
            @let mine: Vec<_> = c.pledges.iter().filter(|p| acting && ((p.pledger == me && p.due) || (provider && p.paid && !p.received))).collect();
            @if !mine.is_empty() {
                h3 { (ctx.t(Key::ConsultYourPayments)) }
                ul.plain {
                    @for p in mine {
                        li {
                            (names.link(&p.pledger)) " "
                            @if p.pledger == me && p.due {
                                (button(ctx, format!("/pledges/{}/fulfil", p.id), Key::ConsultMarkPaid))
                            }
                            @if provider && p.paid && !p.received {
                                (button(ctx, format!("/pledges/{}/received", p.id), Key::ConsultConfirmReceipt))
                            }
                        }
                    }
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
