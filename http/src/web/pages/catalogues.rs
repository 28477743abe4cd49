//! `/catalogues` and `/catalogues/{id}`: federated catalogues, each entry
//! with where it comes from.

use axum::extract::{self, Path};
use axum::response::Response;
use maud::{Markup, html};
use mutu_protocol::record::{Body, Kind, SignedRecord};
use mutu_protocol::view::Filter;

use super::needs::paragraphs;
use super::{Names, badge, column_heads, empty, entry_status, excerpt, member_link, member_links, record_link};
use crate::web::PageCtx;
use crate::web::i18n::{self, Key};
use crate::web::{PageError, WebState, render};

/// What `/catalogues` shows, taken from a snapshot: each catalogue, how
/// many entries it federates, and its owner's name.
struct ListPage {
    cats: Vec<(SignedRecord, usize)>,
    names: Names,
}

pub async fn list(extract::State(st): extract::State<WebState>, ctx: PageCtx) -> Response {
    render(&st.handle, ctx, |ctx, s, now| {
        let views = s.views(now);
        // Counts only: the list builds no catalogue's entries.
        let cats: Vec<(SignedRecord, usize)> = views
            .catalogue_records(&Filter::default())
            .into_iter()
            .map(|r| (r.clone(), views.catalogue_len(r)))
            .collect();
        let names = Names::of(&views, cats.iter().map(|(c, _)| c.record().author));
        Ok(draw_list(ctx, ListPage { cats, names }))
    })
    .await
}

fn draw_list(ctx: &PageCtx, ListPage { cats, names }: ListPage) -> (String, Markup) {
    let body = html! {
        h1 { (ctx.t(Key::CataloguesTitle)) }
        p.lead { (ctx.t(Key::CataloguesLead)) }
        @if cats.is_empty() {
            (empty(ctx, Key::CataloguesNone))
        } @else {
            ul.cards {
                @for (c, entries) in &cats {
                    @if let Body::Catalogue(x) = &c.record().body {
                        li {
                            article.card {
                                h2 { a href={ "/catalogues/" (c.id()) } { (x.title) } }
                                p { (excerpt(&x.description, 200)) }
                                p.muted.small {
                                    (i18n::number(ctx.lang, *entries as u64)) " " (ctx.t(Key::CatalogueEntriesCount))
                                    @if !x.includes.is_empty() {
                                        " · " (i18n::number(ctx.lang, x.includes.len() as u64)) " " (ctx.t(Key::CatalogueIncludesCount))
                                    }
                                    " · " (ctx.t(Key::CatalogueOwner)) " " (names.link(&c.record().author))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    (ctx.t(Key::CataloguesTitle).to_owned(), body)
}

pub async fn show(extract::State(st): extract::State<WebState>, ctx: PageCtx, Path(id): Path<String>) -> Response {
    render(&st.handle, ctx, move |ctx, s, now| {
        let id = s.resolve_kind(&id, Kind::Catalogue)?;
        let views = s.views(now);
        let r = views.index().get(&id).ok_or(PageError::NotFound)?;
        let c = views.catalogue(r).ok_or(PageError::NotFound)?;
        let Body::Catalogue(x) = c.record.body else {
            return Err(PageError::NotFound);
        };
        let watched = crate::web::inbox::watches(ctx, s, &mutu_protocol::inbox::Watch::Catalogue(id));
        let body = html! {
            nav.crumbs { a href="/catalogues" { (ctx.t(Key::CataloguesTitle)) } " › " }
            h1 { (x.title) }
            p.byline {
                (ctx.t(Key::CatalogueOwner)) " " (member_link(&views, &c.record.author))
                " " (crate::web::inbox::button(ctx, watched, "catalogue", &id.to_string()))
            }
            div.columns.wide-left {
                section { div.text { (paragraphs(&x.description)) } }
                aside.panel {
                    dl.facts {
                        dt { (ctx.t(Key::CatalogueEditors)) } dd { (member_links(ctx, &views, &x.editors)) }
                        dt { (ctx.t(Key::CatalogueIncludes)) }
                        dd {
                            @if x.includes.is_empty() { span.muted { (ctx.t(Key::CommonNone)) } }
                            @for (i, inc) in x.includes.iter().enumerate() {
                                @if i > 0 { ", " }
                                (record_link(ctx, &views, inc))
                            }
                        }
                    }
                    p.muted.small { (ctx.t(Key::CatalogueFederationHelp)) }
                }
            }
            section {
                h2 { (ctx.t(Key::CatalogueEntries)) " (" (i18n::number(ctx.lang, c.entries.len() as u64)) ")" }
                @if c.entries.is_empty() {
                    (empty(ctx, Key::CatalogueNoEntries))
                } @else {
                    table.list {
                        (column_heads(ctx, &[Key::CatalogueProject, Key::CatalogueStatus, Key::CatalogueNote, Key::CatalogueBy, Key::CatalogueVia]))
                        tbody {
                            @for e in &c.entries {
                                tr {
                                    td { (record_link(ctx, &views, &e.project)) }
                                    td { (badge(ctx, entry_status(e.status))) }
                                    td { (e.note) }
                                    td { (member_link(&views, &e.by)) }
                                    td {
                                        @match &e.via {
                                            Some(v) => (record_link(ctx, &views, v)),
                                            None => span.muted { (ctx.t(Key::CatalogueOwn)) },
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        };
        Ok((x.title.clone(), body))
    })
    .await
}
