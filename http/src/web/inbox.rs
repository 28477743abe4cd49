//! The owner's inbox and watch buttons (signed in only):
//!
//! - `GET /inbox`: what happened to what the owner follows, newest first,
//!   the unread ones marked, and how many; `POST /inbox/read` marks all read;
//! - `POST /watch` and `POST /unwatch` (fields `kind`: need, project,
//!   catalogue, tag or member; `value`; `back`, the page to return to),
//!   from the button on each page ([`button`]).

use axum::Router;
use axum::extract::{self, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use mutu_node::watch;

use super::forms::{self, Fields, guard, see_other, signed_out};
use super::i18n::{self, Key};
use super::{PageCtx, PageError, WebState, error_page, page};
use crate::control::{Target, watch as control_watch};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/inbox", get(show))
        .route("/inbox/read", post(read))
        .route("/watch", post(watch_submit))
        .route("/unwatch", post(unwatch_submit))
}

/// The watch (or unwatch) button of a page about `kind` `value`.
pub fn button(ctx: &PageCtx, watched: bool, kind: &str, value: &str) -> Markup {
    if !ctx.signed_in {
        return html! {};
    }
    let (action, label) = if watched {
        ("/unwatch", Key::WatchStop)
    } else {
        ("/watch", Key::WatchStart)
    };
    html! {
        form.inline.watch method="post" action=(action) {
            input type="hidden" name=(super::auth::CSRF_FIELD) value=(ctx.csrf.as_deref().unwrap_or(""));
            input type="hidden" name="kind" value=(kind);
            input type="hidden" name="value" value=(value);
            input type="hidden" name="back" value=(ctx.path);
            button type="submit" { (ctx.t(label)) }
        }
    }
}

/// Whether the owner of the snapshot's home watches `w`; the file is read
/// only for a signed-in owner, the only one shown the button.
pub fn watches(ctx: &PageCtx, s: &mutu_node::state::Snapshot, w: &mutu_protocol::inbox::Watch) -> bool {
    ctx.signed_in && watch::load(s.home()).watches.contains(w)
}

async fn show(extract::State(ws): extract::State<WebState>, ctx: PageCtx) -> Response {
    if let Some(r) = signed_out(&ctx) {
        return r;
    }
    let now = mutu_node::state::now();
    let found = ws.handle.with_snapshot(move |s| control_watch::events(s, now)).await;
    let (list, events) = match found {
        Ok(x) => x,
        Err(e) => return forms::private(error_page(&ctx, &PageError::Internal(e.to_string()))),
    };
    let unread = events.iter().filter(|e| e.at > list.read_until).count();
    let body = html! {
        h1 { (ctx.t(Key::InboxTitle)) " (" (i18n::number(ctx.lang, unread as u64)) " " (ctx.t(Key::InboxUnread)) ")" }
        p.lead { (ctx.t(Key::InboxLead)) }
        @if events.is_empty() {
            p.empty { (ctx.t(Key::InboxEmpty)) }
        } @else {
            @if unread > 0 {
                form.inline method="post" action="/inbox/read" {
                    input type="hidden" name=(super::auth::CSRF_FIELD) value=(ctx.csrf.as_deref().unwrap_or(""));
                    button type="submit" { (ctx.t(Key::InboxMarkRead)) }
                }
            }
            ol.inbox {
                @for e in &events {
                    li.unread[e.at > list.read_until] {
                        span.when { (i18n::date(ctx.lang, e.at)) } " "
                        a href=(link(e)) { (e.title) } " — "
                        (control_watch::sentence(e))
                    }
                }
            }
        }
    };
    forms::private((StatusCode::OK, page(&ctx, ctx.t(Key::InboxTitle), body)).into_response())
}

/// The page an event is about.
fn link(e: &mutu_protocol::inbox::Event) -> String {
    use mutu_protocol::record::Kind;
    match e.about_kind {
        Kind::Project => format!("/projects/{}", e.about),
        Kind::Catalogue => format!("/catalogues/{}", e.about),
        _ => format!("/needs/{}", e.about),
    }
}

async fn read(extract::State(ws): extract::State<WebState>, ctx: PageCtx, req: Request) -> Response {
    if let Err(r) = guard(&ws.auth, &ctx, req).await {
        return r;
    }
    let now = mutu_node::state::now();
    let done = ws
        .handle
        .with_snapshot(move |s| {
            let (_, events) = control_watch::events(s, now);
            match events.first() {
                Some(newest) => watch::update(s.home(), |l| {
                    l.read_until = l.read_until.max(newest.at);
                    Ok(())
                }),
                None => Ok(()),
            }
        })
        .await;
    match done {
        Ok(Ok(())) => see_other("/inbox"),
        Ok(Err(e)) => forms::private(error_page(&ctx, &PageError::Internal(e.to_string()))),
        Err(e) => forms::private(error_page(&ctx, &PageError::Internal(e.to_string()))),
    }
}

async fn watch_submit(extract::State(ws): extract::State<WebState>, ctx: PageCtx, req: Request) -> Response {
    change(ws, ctx, req, true).await
}

async fn unwatch_submit(extract::State(ws): extract::State<WebState>, ctx: PageCtx, req: Request) -> Response {
    change(ws, ctx, req, false).await
}

fn target(v: &Fields) -> Option<Target> {
    let value = v.get("value")?.trim().to_owned();
    Some(match v.get("kind")?.as_str() {
        "need" => Target::Need(value),
        "project" => Target::Project(value),
        "catalogue" => Target::Catalogue(value),
        "tag" => Target::Tag(value),
        "member" => Target::Member(value),
        _ => return None,
    })
}

async fn change(ws: WebState, ctx: PageCtx, req: Request, on: bool) -> Response {
    let v = match guard(&ws.auth, &ctx, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // Only a path of this site to go back to.
    let back = v
        .get("back")
        .filter(|b| b.starts_with('/') && !b.starts_with("//"))
        .cloned()
        .unwrap_or_else(|| "/inbox".into());
    let Some(t) = target(&v) else {
        return (
            StatusCode::BAD_REQUEST,
            "kind: one of need, project, catalogue, tag, member",
        )
            .into_response();
    };
    let done = ws.handle.with_snapshot(move |s| control_watch::watch(s, t, on)).await;
    match done {
        // Already (un)watched: the page shows the state as it is.
        Ok(Ok(())) | Ok(Err(crate::control::Error::Watch(_))) => see_other(&back),
        Ok(Err(e)) => {
            let status = crate::api::error::status_of(mutu_node::error::Classify::class(&e));
            (status, e.to_string()).into_response()
        }
        Err(e) => forms::private(error_page(&ctx, &PageError::Internal(e.to_string()))),
    }
}
