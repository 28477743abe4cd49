//! `/projects` and `/projects/{id}`.

use axum::extract::{self, Path, Query};
use axum::response::Response;
use maud::{Markup, html};
use mutu_protocol::record::{Body, Kind, NeedStatus};
use mutu_protocol::view::{ProjectView, Views};

use super::needs::{card as need_card, paragraphs};
use super::{
    TagQuery, badge, dev_status, empty, excerpt, external, member_link, member_links, nonblank, record_link,
    tag_filter, tag_form, tags,
};
use crate::web::i18n::{self, Key};
use crate::web::{PageCtx, PageError, WebState, render};
use mutu_node::ops;

pub async fn list(extract::State(st): extract::State<WebState>, ctx: PageCtx, Query(q): Query<TagQuery>) -> Response {
    render(&st.handle, ctx, move |ctx, s, now| {
        let views = s.views(now);
        let filter = tag_filter(&q.tag);
        let mut projects = views.projects(&filter);
        // Most used first, then by name.
        projects.sort_by_cached_key(|p| (std::cmp::Reverse(p.users.len()), name(p).to_lowercase()));
        let body = html! {
            h1 { (ctx.t(Key::ProjectsTitle)) }
            p.lead { (ctx.t(Key::ProjectsLead)) }
            @if ctx.signed_in {
                p.actions { a.button href="/projects/import" { (ctx.t(Key::ProjectsImport)) } }
            }
            (tag_form(ctx, "/projects", nonblank(&q.tag).unwrap_or("")))
            p.count { (i18n::number(ctx.lang, projects.len() as u64)) " " (ctx.t(Key::ProjectsCount)) }
            @if projects.is_empty() {
                (empty(ctx, Key::ProjectsNone))
            } @else {
                ul.cards {
                    @for p in &projects { li { (card(ctx, &views, p)) } }
                }
            }
        };
        Ok((ctx.t(Key::ProjectsTitle).to_owned(), body))
    })
    .await
}

fn name<'a>(p: &'a ProjectView<'_>) -> &'a str {
    match p.record.body {
        Body::Project(x) => &x.name,
        _ => "",
    }
}

fn card(ctx: &PageCtx, views: &Views<'_>, p: &ProjectView<'_>) -> Markup {
    let Body::Project(x) = p.record.body else {
        return html! {};
    };
    html! {
        article.card.project {
            h2 { a href={ "/projects/" (p.record.id) } { (x.name) } }
            p.badges {
                (badge(ctx, dev_status(x.status)))
                span.license { (x.license) }
            }
            p { (excerpt(&x.description, 200)) }
            p.muted.small {
                (i18n::number(ctx.lang, p.users.len() as u64)) " " (ctx.t(Key::ProjectUsersCount))
                " · " (i18n::number(ctx.lang, p.needs.len() as u64)) " " (ctx.t(Key::ProjectNeedsCount))
                " · " (ctx.t(Key::CommonBy)) " " (member_link(views, &p.record.author))
            }
            (tags("/projects", &x.tags))
        }
    }
}

pub async fn show(extract::State(st): extract::State<WebState>, ctx: PageCtx, Path(id): Path<String>) -> Response {
    render(&st.handle, ctx, move |ctx, s, now| {
        let id = s.resolve_kind(&id, Kind::Project)?;
        let views = s.views(now);
        let r = views.index().get(&id).ok_or(PageError::NotFound)?;
        let p = views.project(r).ok_or(PageError::NotFound)?;
        let Body::Project(x) = p.record.body else {
            return Err(PageError::NotFound);
        };
        let info = ops::publiccode::info(&x.publiccode, ctx.lang.code());
        let watched = crate::web::inbox::watches(ctx, s, &mutu_protocol::inbox::Watch::Project(id));

        let needs: Vec<_> = p
            .needs
            .iter()
            .filter_map(|n| views.index().get(n))
            .filter_map(|n| views.need(n))
            .collect();
        // For each open need about the project, its users not in the coalition yet.
        let could_join: Vec<_> = needs
            .iter()
            .filter(|n| n.merged_into.is_none() && matches!(n.status, NeedStatus::Open | NeedStatus::InProgress))
            .map(|n| (n.id, n.title.clone(), views.could_join(n)))
            .filter(|(_, _, m)| !m.is_empty())
            .collect();
        let body = html! {
            nav.crumbs { a href="/projects" { (ctx.t(Key::ProjectsTitle)) } " › " }
            h1 { (x.name) }
            p.badges {
                (badge(ctx, dev_status(x.status))) span.license { (x.license) }
                " " (crate::web::inbox::button(ctx, watched, "project", &id.to_string()))
            }
            p.byline { (ctx.t(Key::ProjectDeclaredBy)) " " (member_link(&views, &p.record.author)) }
            (tags("/projects", &x.tags))
            div.columns.wide-left {
                section {
                    h2 { (ctx.t(Key::ProjectAbout)) }
                    @match info.as_ref().and_then(|i| i.description.as_ref()) {
                        // The publiccode.yml's description in the reader's language, or the nearest.
                        Some(d) => {
                            div.text lang=(d.language) {
                                @if let Some(t) = &d.short_description { p.lead { (t) } }
                                @if let Some(t) = &d.long_description { (paragraphs(t)) }
                            }
                        }
                        None => { div.text { (paragraphs(&x.description)) } }
                    }
                }
                aside.panel {
                    dl.facts {
                        dt { (ctx.t(Key::ProjectLicense)) } dd { code { (x.license) } }
                        dt { (ctx.t(Key::ProjectStatus)) } dd { (badge(ctx, dev_status(x.status))) }
                        @if let Some(u) = &x.repository {
                            dt { (ctx.t(Key::ProjectRepository)) } dd.url { (external(u)) }
                        }
                        @if let Some(u) = &x.homepage {
                            dt { (ctx.t(Key::ProjectHomepage)) } dd.url { (external(u)) }
                        }
                        @if let Some(b) = &x.is_based_on {
                            dt { (ctx.t(Key::ProjectBasedOn)) } dd { (record_link(ctx, &views, b)) }
                        }
                    }
                }
            }
            @if let Some(info) = &info { (publiccode(ctx, &p.record.id.to_string(), info)) }
            section #users {
                h2 { (ctx.t(Key::ProjectUsers)) " (" (i18n::number(ctx.lang, p.users.len() as u64)) ")" }
                p.muted { (ctx.t(Key::ProjectUsersHelp)) }
                p { (member_links(ctx, &views, &p.users)) }
            }
            @if !could_join.is_empty() {
                section #could-join {
                    h2 { (ctx.t(Key::NeedCouldJoin)) }
                    p.hint { (ctx.t(Key::NeedCouldJoinHint)) }
                    ul {
                        @for (need, title, members) in &could_join {
                            li { a href={ "/needs/" (need) } { (title) } ": " (member_links(ctx, &views, members)) }
                        }
                    }
                }
            }
            section #catalogues {
                h2 { (ctx.t(Key::ProjectCatalogues)) }
                @if p.catalogues.is_empty() {
                    (empty(ctx, Key::ProjectNoCatalogues))
                } @else {
                    ul.plain { @for c in &p.catalogues { li { (record_link(ctx, &views, c)) } } }
                }
            }
            section #needs {
                h2 { (ctx.t(Key::ProjectNeeds)) }
                @if needs.is_empty() {
                    (empty(ctx, Key::ProjectNoNeeds))
                } @else {
                    ul.cards { @for n in &needs { li { (need_card(ctx, &views, n)) } } }
                }
            }
            section #forks {
                h2 { (ctx.t(Key::ProjectForks)) }
                @if p.forks.is_empty() && x.is_based_on.is_none() {
                    (empty(ctx, Key::ProjectNoForks))
                } @else {
                    ul.plain {
                        @if let Some(b) = &x.is_based_on {
                            li { (ctx.t(Key::ProjectBasedOn)) " " (record_link(ctx, &views, b)) }
                        }
                        @for f in &p.forks {
                            li { (ctx.t(Key::ProjectFork)) " " (record_link(ctx, &views, f)) }
                        }
                    }
                }
            }
            section #providers {
                h2 { (ctx.t(Key::ProjectProviders)) }
                p.muted { (ctx.t(Key::ProjectProvidersHelp)) }
                p { (member_links(ctx, &views, &p.providers)) }
            }
        };
        Ok((x.name.clone(), body))
    })
    .await
}

/// What a project's publiccode.yml says: features, platforms, maintenance,
/// the organisations it declares as users (unverified), and the file.
fn publiccode(ctx: &PageCtx, id: &str, info: &ops::publiccode::Info) -> Markup {
    let features = info
        .description
        .as_ref()
        .map(|d| d.features.as_slice())
        .unwrap_or_default();
    html! {
        section #publiccode {
            h2 { (ctx.t(Key::ProjectPubliccode)) }
            @if !features.is_empty() {
                h3 { (ctx.t(Key::ProjectFeatures)) }
                ul { @for f in features { li { (f) } } }
            }
            dl.facts {
                @if !info.platforms.is_empty() {
                    dt { (ctx.t(Key::ProjectPlatforms)) } dd { (info.platforms.join(", ")) }
                }
                @if let Some(t) = &info.software_type {
                    dt { (ctx.t(Key::ProjectSoftwareType)) } dd { code { (t) } }
                }
                @if let Some(v) = &info.software_version {
                    dt { (ctx.t(Key::ProjectRelease)) }
                    dd { (v) @if let Some(d) = &info.release_date { " (" (d) ")" } }
                }
                @if let Some(t) = &info.maintenance_type {
                    dt { (ctx.t(Key::ProjectMaintenanceType)) } dd { code { (t) } }
                }
                @if !info.contractors.is_empty() {
                    dt { (ctx.t(Key::ProjectContractors)) }
                    dd {
                        ul.plain {
                            @for c in &info.contractors {
                                li {
                                    (c.name.as_deref().unwrap_or("?"))
                                    @if let Some(u) = &c.until { " (" (ctx.t(Key::ProjectUntil)) " " (u) ")" }
                                    @if let Some(w) = &c.website { " · " (external(w)) }
                                }
                            }
                        }
                    }
                }
                @if !info.contacts.is_empty() {
                    dt { (ctx.t(Key::ProjectContacts)) } dd { (info.contacts.join(", ")) }
                }
                @if let Some(d) = info.description.as_ref().and_then(|d| d.documentation.as_ref()) {
                    dt { (ctx.t(Key::ProjectDocumentation)) } dd.url { (external(d)) }
                }
                @if !info.languages.is_empty() {
                    dt { (ctx.t(Key::ProjectLanguages)) } dd { (info.languages.join(", ")) }
                }
            }
            @if !info.used_by_declared.is_empty() {
                h3 { (ctx.t(Key::ProjectDeclaredUsers)) }
                p.muted { (ctx.t(Key::ProjectDeclaredUsersHelp)) }
                ul.plain.unverified { @for u in &info.used_by_declared { li { (u) } } }
            }
            p { a href={ "/api/v1/projects/" (id) "/publiccode.yml" } download="publiccode.yml" { (ctx.t(Key::ProjectPubliccodeDownload)) } }
        }
    }
}
