//! `/search?q=&tag=`.

use axum::extract::{self, Query};
use axum::response::Response;
use maud::html;
use mutu_protocol::record::RecordId;
use mutu_protocol::view::{Filter, Views, search_terms};
use serde::Deserialize;

use super::{empty, kind_label_str, member_link, nonblank, record_href};
use crate::web::i18n::{self, Key};
use crate::web::{PageCtx, WebState, render};

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub tag: Option<String>,
}

/// Hits shown at most.
const MAX_HITS: usize = 200;

pub async fn page(
    extract::State(st): extract::State<WebState>,
    ctx: PageCtx,
    Query(q): Query<SearchQuery>,
) -> Response {
    render(&st.handle, ctx, move |ctx, s, now| {
        let views = s.views(now);
        let text = nonblank(&q.q).unwrap_or("");
        let tag = nonblank(&q.tag).unwrap_or("");
        let searched = !text.is_empty() || !tag.is_empty();
        let mut hits = if searched {
            s.search(
                text,
                &Filter {
                    tag: (!tag.is_empty()).then(|| tag.to_owned()),
                    author: None,
                },
            )
        } else {
            Vec::new()
        };
        if search_terms(text).is_empty() {
            hits.reverse(); // a list by tag: newest first (words: best first)
        }
        let total = hits.len();
        hits.truncate(MAX_HITS);
        let body = html! {
            h1 { (ctx.t(Key::SearchTitle)) }
            form.filters method="get" action="/search" role="search" {
                div.grow {
                    label for="s-q" { (ctx.t(Key::SearchWords)) }
                    input #s-q type="search" name="q" value=(text);
                }
                div {
                    label for="s-tag" { (ctx.t(Key::FilterTag)) }
                    input #s-tag type="text" name="tag" value=(tag);
                }
                div.actions { button type="submit" { (ctx.t(Key::NavSearch)) } }
            }
            @if searched {
                p.count { (i18n::number(ctx.lang, total as u64)) " " (ctx.t(Key::SearchResults)) }
                @if hits.is_empty() {
                    (empty(ctx, Key::SearchNone))
                } @else {
                    ol.results {
                        @for h in &hits {
                            li {
                                span class={ "kind k-" (h.kind) } { (kind_label_str(ctx, h.kind)) }
                                " "
                                a href=(hit_href(&views, h.kind, &h.id)) { (h.title) }
                                " · " (member_link(&views, &h.author))
                            }
                        }
                    }
                }
            } @else {
                p.muted { (ctx.t(Key::SearchHelp)) }
            }
        };
        Ok((ctx.t(Key::SearchTitle).to_owned(), body))
    })
    .await
}

fn hit_href(views: &Views<'_>, kind: &str, id: &str) -> String {
    if kind == "member" {
        return format!("/members/{id}");
    }
    id.parse::<RecordId>()
        .ok()
        .and_then(|id| views.index().get(&id))
        .and_then(|r| record_href(r.record()))
        .unwrap_or_else(|| "/search".to_owned())
}
