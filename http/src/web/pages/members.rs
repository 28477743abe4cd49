//! `/members` and `/members/{id}`: profiles, statements, vouches.

use axum::extract::{self, Path, Query};
use axum::response::Response;
use maud::html;
use mutu_protocol::Timestamp;
use mutu_protocol::record::{Body, Kind};
use mutu_protocol::view::Filter;

use super::needs::paragraphs;
use super::{
    TagQuery, empty, excerpt, external, member_kind, member_links, member_name, nonblank, record_href, record_link,
    record_title, short, tag_filter, tag_form, tags,
};
use crate::web::i18n::{self, Key};
use crate::web::{PageCtx, PageError, WebState, render};

pub async fn list(extract::State(st): extract::State<WebState>, ctx: PageCtx, Query(q): Query<TagQuery>) -> Response {
    render(&st.handle, ctx, move |ctx, s, now| {
        let views = s.views(now);
        let filter = tag_filter(&q.tag);
        let mut members = views.members(&filter);
        members.sort_by_cached_key(|m| (m.profile.is_none(), member_name(&views, &m.id).to_lowercase()));
        let body = html! {
            h1 { (ctx.t(Key::MembersTitle)) }
            p.lead { (ctx.t(Key::MembersLead)) }
            (tag_form(ctx, "/members", nonblank(&q.tag).unwrap_or("")))
            @if members.is_empty() {
                (empty(ctx, Key::MembersNone))
            } @else {
                ul.cards {
                    @for m in &members {
                        li {
                            article.card {
                                h2 { a href={ "/members/" (m.id) } { (member_name(&views, &m.id)) } }
                                @if let Some(p) = m.profile {
                                    p.badges {
                                        span.badge { (ctx.t(member_kind(p.member_kind))) }
                                        @if let Some(c) = &p.country { span.license { (c) } }
                                    }
                                    p { (excerpt(&p.description, 160)) }
                                    (tags("/members", &p.sectors))
                                }
                                p.muted.small {
                                    (i18n::number(ctx.lang, m.records as u64)) " " (ctx.t(Key::MemberRecordsCount))
                                    " · " (i18n::number(ctx.lang, m.vouched_by.len() as u64)) " " (ctx.t(Key::MemberVouchesCount))
                                }
                            }
                        }
                    }
                }
            }
        };
        Ok((ctx.t(Key::MembersTitle).to_owned(), body))
    })
    .await
}

/// The statement groups of a member page, in order.
const GROUPS: [(Kind, Key); 8] = [
    (Kind::Need, Key::MemberNeeds),
    (Kind::Pledge, Key::MemberPledges),
    (Kind::Cosign, Key::MemberCosigns),
    (Kind::Project, Key::MemberProjects),
    (Kind::Usage, Key::MemberUsages),
    (Kind::Catalogue, Key::MemberCatalogues),
    (Kind::Offer, Key::MemberOffers),
    (Kind::Vouch, Key::MemberVouchesGiven),
];

pub async fn show(extract::State(st): extract::State<WebState>, ctx: PageCtx, Path(id): Path<String>) -> Response {
    render(&st.handle, ctx, move |ctx, s, now| {
        let id = s.resolve_member(&id)?;
        let views = s.views(now);
        let m = views.member(&id);
        let evidence = s.equivocations(&id)?;
        if m.records == 0 && evidence.is_empty() {
            return Err(PageError::NotFound);
        }
        let name = member_name(&views, &id);
        let watched = crate::web::inbox::watches(ctx, s, &mutu_protocol::inbox::Watch::Member(id));
        let author = Filter {
            tag: None,
            author: Some(id),
        };
        let body = html! {
            nav.crumbs { a href="/members" { (ctx.t(Key::MembersTitle)) } " › " }
            h1 { (name) }
            @if id != s.member_id() { p { (crate::web::inbox::button(ctx, watched, "member", &id.to_string())) } }
            @if let Some(p) = m.profile {
                p.badges {
                    span.badge { (ctx.t(member_kind(p.member_kind))) }
                    @if let Some(c) = &p.country { span.license { (c) } }
                }
                (tags("/members", &p.sectors))
            }
            @for e in &evidence {
                p.warning {
                    (ctx.t(Key::MemberEquivocated)) " "
                    (i18n::date(ctx.lang, Timestamp::from_millis(u64::try_from(e.timestamp).unwrap_or(0))))
                    ". " span.small { (ctx.t(Key::MemberEquivocatedHelp)) }
                }
            }
            div.columns.wide-left {
                section {
                    @match m.profile {
                        Some(p) => div.text { (paragraphs(&p.description)) },
                        None => p.muted { (ctx.t(Key::MemberNoProfile)) },
                    }
                }
                aside.panel {
                    dl.facts {
                        dt { (ctx.t(Key::MemberId)) } dd { code title=(id) { (short(&id)) "…" } }
                        @if let Some(w) = m.profile.and_then(|p| p.website.as_deref()) {
                            dt { (ctx.t(Key::MemberWebsite)) } dd.url { (external(w)) }
                        }
                        dt { (ctx.t(Key::MemberVouchedBy)) } dd { (member_links(ctx, &views, &m.vouched_by)) }
                    }
                    p.muted.small { (ctx.t(Key::MemberVouchHelp)) }
                }
            }
            (super::consult::track_record(ctx, &views.track_record(&id)))
            h2 { (ctx.t(Key::MemberStatements)) }
            @for (kind, key) in GROUPS {
                @let recs = views.records(kind, &author);
                @if !recs.is_empty() {
                    section {
                        h3 { (ctx.t(key)) " (" (i18n::number(ctx.lang, recs.len() as u64)) ")" }
                        ul.plain {
                            @for r in &recs {
                                @let rec = views.index().get(&r.id).map(|x| x.record());
                                li {
                                    @if let Some(rec) = rec {
                                        @match &rec.body {
                                            Body::Usage(u) => (record_link(ctx, &views, &u.project)),
                                            Body::Cosign(c) => (record_link(ctx, &views, &c.need)),
                                            Body::Pledge(p) => {
                                                a href=(record_href(rec).unwrap_or_default()) { (record_title(ctx, &views, rec)) }
                                                " → " (record_link(ctx, &views, &p.need))
                                            }
                                            Body::Offer(o) => {
                                                a href=(record_href(rec).unwrap_or_default()) { (i18n::money(ctx.lang, &o.price)) }
                                                " → " (record_link(ctx, &views, &o.need))
                                            }
                                            _ => (record_link(ctx, &views, &r.id)),
                                        }
                                        " " span.muted.small { (i18n::date(ctx.lang, rec.created_at)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        };
        Ok((name, body))
    })
    .await
}
