//! `/`: what the registry holds, pledged totals, recent activity.

use axum::extract;
use axum::response::Response;
use maud::html;
use mutu_protocol::money;
use mutu_protocol::record::{Body, Kind, NeedStatus};
use mutu_protocol::view::{Filter, funding};

use super::{kind_label, member_link, record_href, record_title};
use crate::web::i18n::{self, Key, number};
use crate::web::{PageCtx, WebState, render};

/// Records shown under "recent activity".
const RECENT: usize = 15;

pub async fn page(extract::State(st): extract::State<WebState>, ctx: PageCtx) -> Response {
    render(&st.handle, ctx, |ctx, s, now| {
        let views = s.views(now);
        let all = Filter::default();
        let needs = views.needs(&all);
        let members = views.members(&all).len() as u64;
        let projects = views.index().of_kind(Kind::Project).len() as u64;
        let catalogues = views.index().of_kind(Kind::Catalogue).len() as u64;
        let open = needs
            .iter()
            .filter(|n| n.status == NeedStatus::Open && n.funding.state == funding::State::Open)
            .count() as u64;
        let funded = needs
            .iter()
            .filter(|n| n.funding.state == funding::State::Funded)
            .count() as u64;
        let mut totals = money::Totals::new();
        let mut days = 0u64;
        for n in &needs {
            totals.add_all(&n.funding.pledged);
            days = days.saturating_add(n.funding.days_pledged);
        }
        let mut recent: Vec<_> = views
            .index()
            .visible()
            .filter(|r| r.record().kind != Kind::Tombstone)
            .collect();
        recent.sort_by_key(|r| std::cmp::Reverse((r.record().updated_at, r.id())));
        recent.truncate(RECENT);

        let stats = [
            (members, Key::HomeMembers, "/members"),
            (projects, Key::HomeProjects, "/projects"),
            (open, Key::HomeOpenNeeds, "/needs?funding=open&status=open"),
            (funded, Key::HomeFundedNeeds, "/needs?funding=funded"),
            (catalogues, Key::HomeCatalogues, "/catalogues"),
        ];
        let body = html! {
            section.hero {
                h1 { (ctx.t(Key::HomeTitle)) }
                p.lead { (ctx.t(Key::HomeLead)) }
            }
            section aria-labelledby="stats-h" {
                h2.sr #stats-h { (ctx.t(Key::HomeFigures)) }
                ul.stats {
                    @for (n, key, href) in stats {
                        li { a href=(href) { strong { (number(ctx.lang, n)) } span { (ctx.t(key)) } } }
                    }
                }
            }
            div.columns {
                section aria-labelledby="totals-h" {
                    h2 #totals-h { (ctx.t(Key::HomePledged)) }
                    p.muted { (ctx.t(Key::HomePledgedHelp)) }
                    @if totals.is_empty() && days == 0 {
                        p.empty { (ctx.t(Key::HomeNothingPledged)) }
                    } @else {
                        ul.totals {
                            @for m in totals.iter() {
                                li { strong { (i18n::money(ctx.lang, &m)) } }
                            }
                            @if days > 0 {
                                li {
                                    strong { (number(ctx.lang, days)) }
                                    " " (super::days_word(ctx.lang, u32::try_from(days).unwrap_or(u32::MAX)))
                                }
                            }
                        }
                    }
                }
                section aria-labelledby="recent-h" {
                    h2 #recent-h { (ctx.t(Key::HomeRecent)) }
                    @if recent.is_empty() {
                        p.empty { (ctx.t(Key::HomeNoActivity)) }
                    } @else {
                        ol.activity {
                            @for r in &recent {
                                @let rec = r.record();
                                li {
                                    span class={ "kind k-" (rec.kind.as_str()) } { (kind_label(ctx, rec.kind)) }
                                    " "
                                    @match record_href(rec) {
                                        Some(href) => a href=(href) { (record_title(ctx, &views, rec)) },
                                        None => span { (record_title(ctx, &views, rec)) },
                                    }
                                    @if !matches!(rec.body, Body::Profile(_)) {
                                        " · " (ctx.t(Key::CommonBy)) " " (member_link(&views, &rec.author))
                                    }
                                    " "
                                    time.muted datetime=(rec.updated_at.date().to_string()) {
                                        (i18n::date(ctx.lang, rec.updated_at))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        };
        Ok((ctx.t(Key::NavHome).to_owned(), body))
    })
    .await
}
