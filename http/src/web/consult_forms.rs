//! The consultation's writes from the browser (signed in, CSRF-checked as
//! every form): buttons on the need page post straight here, the two that
//! need text have a form page.
//!
//! - `POST /offers/{id}/approve`, `POST /offers/{id}/award`
//! - `GET|POST /needs/{id}/delivery` (release URL, note),
//!   `GET|POST /needs/{id}/decision` (author, majority, weighted)
//! - `POST /deliveries/{id}/accept`, `GET|POST /deliveries/{id}/object` (reason)
//! - `POST /pledges/{id}/fulfil`, `POST /pledges/{id}/received`
//!
//! Success goes back to the need's page (303); a refusal (not in the
//! coalition, an award already standing…) is shown with its message and the
//! status of its class.

use axum::Router;
use axum::extract::{self, Path, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use maud::html;
use mutu_node::ops;
use mutu_protocol::record::{Body, Kind, RecordId, Verdict};

use super::forms::{Fields, guard, private, see_other, signed_out, text};
use super::i18n::Key;
use super::{PageCtx, PageError, WebState, auth, error_page, page};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/offers/{id}/approve",
            step(Kind::Offer, |offer, v| {
                ops::ApproveOffer {
                    offer,
                    note: text(v, "note"),
                }
                .into()
            }),
        )
        .route(
            "/offers/{id}/award",
            step(Kind::Offer, |offer, v| {
                ops::AwardOffer {
                    offer,
                    note: text(v, "note"),
                }
                .into()
            }),
        )
        .route(
            "/deliveries/{id}/accept",
            step(Kind::Delivery, |d, _| judge(d, Verdict::Accept, None)),
        )
        .route(
            "/deliveries/{id}/object",
            step(Kind::Delivery, |d, v| judge(d, Verdict::Object, text(v, "reason"))).get(object_form),
        )
        .route(
            "/pledges/{id}/fulfil",
            step(Kind::Pledge, |pledge, _| ops::FulfilPledge { pledge }.into()),
        )
        .route(
            "/pledges/{id}/received",
            step(Kind::Pledge, |pledge, v| {
                ops::ConfirmReceipt {
                    pledge,
                    note: text(v, "note"),
                }
                .into()
            }),
        )
}

/// The write a step makes from the record's id and the posted fields.
type Make = fn(String, &Fields) -> ops::Request;

/// A POST route on a record of `kind` (its id in the path) that applies
/// what `make` builds.
fn step(kind: Kind, make: Make) -> MethodRouter<WebState> {
    post(
        move |extract::State(ws): extract::State<WebState>, ctx: PageCtx, Path(id): Path<String>, req: Request| {
            act(ws, ctx, req, id, kind, make)
        },
    )
}

fn judge(delivery: String, verdict: Verdict, reason: Option<String>) -> ops::Request {
    ops::JudgeDelivery {
        delivery,
        verdict,
        reason,
    }
    .into()
}

/// The need a record of `kind` (an offer, a delivery, a pledge) is about.
async fn need_of(ws: &WebState, prefix: String, kind: Kind) -> Result<(RecordId, RecordId), PageError> {
    ws.handle
        .with_snapshot(move |s| {
            let id = s.resolve_kind(&prefix, kind)?;
            let need = match s.index().get(&id).map(|r| &r.record().body) {
                Some(Body::Offer(o)) => o.need,
                Some(Body::Delivery(d)) => d.need,
                Some(Body::Pledge(p)) => p.need,
                _ => return Err(mutu_node::state::Error::UnknownId(prefix)),
            };
            Ok((id, need))
        })
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .map_err(PageError::from)
}

/// Checks the post, finds the need, applies `make(id, fields)`, then goes
/// back to the need page or shows the refusal.
async fn act(ws: WebState, ctx: PageCtx, req: Request, prefix: String, kind: Kind, make: Make) -> Response {
    let v = match guard(&ws.auth, &ctx, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (id, need) = match need_of(&ws, prefix, kind).await {
        Ok(x) => x,
        Err(e) => return private(error_page(&ctx, &e)),
    };
    match ws.handle.apply(make(id.to_string(), &v), mutu_node::state::now()).await {
        Ok(Ok(_)) => see_other(&format!("/needs/{need}#consultation")),
        Ok(Err(e)) => refusal(&ctx, e, &format!("/needs/{need}")),
        Err(e) => private(error_page(&ctx, &PageError::Internal(e.to_string()))),
    }
}

fn refusal(ctx: &PageCtx, e: ops::Error, back: &str) -> Response {
    use mutu_node::error::Classify;
    let status = crate::api::error::status_of(e.class());
    let body = html! {
        section.message {
            h1 { (ctx.t(Key::FormRefused)) }
            p.error-text role="alert" { (e.to_string()) }
            p { a href=(back) { (ctx.t(Key::FormBack)) } }
        }
    };
    private((status, page(ctx, ctx.t(Key::FormRefused), body)).into_response())
}

/// The objection form: a reason is required.
async fn object_form(extract::State(ws): extract::State<WebState>, ctx: PageCtx, Path(id): Path<String>) -> Response {
    if let Some(r) = signed_out(&ctx) {
        return r;
    }
    let (delivery, need) = match need_of(&ws, id, Kind::Delivery).await {
        Ok(x) => x,
        Err(e) => return private(error_page(&ctx, &e)),
    };
    let body = html! {
        section.form {
            h1 { (ctx.t(Key::FormObject)) }
            p.intro { a href={ "/needs/" (need) } { (ctx.t(Key::FormBack)) } }
            form method="post" action={ "/deliveries/" (delivery) "/object" } {
                input type="hidden" name=(auth::CSRF_FIELD) value=(ctx.csrf.as_deref().unwrap_or(""));
                div.field {
                    label for="f-reason" { (ctx.t(Key::FormObjectReason)) }
                    textarea #f-reason name="reason" rows="4" required {}
                }
                button type="submit" { (ctx.t(Key::FormObjectSubmit)) }
            }
        }
    };
    private((StatusCode::OK, page(&ctx, ctx.t(Key::FormObject), body)).into_response())
}
