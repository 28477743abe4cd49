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
use axum::routing::{get, post};
use maud::html;
use mutu_node::ops;
use mutu_protocol::record::{Body, Kind, RecordId, Verdict};

use super::forms::{Fields, guard, private, see_other, signed_out};
use super::i18n::Key;
use super::{PageCtx, PageError, WebState, auth, error_page, page};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/offers/{id}/approve", post(approve))
        .route("/offers/{id}/award", post(award))
        .route("/deliveries/{id}/accept", post(accept))
        .route("/deliveries/{id}/object", get(object_form).post(object))
        .route("/pledges/{id}/fulfil", post(fulfil))
        .route("/pledges/{id}/received", post(received))
}

fn text(v: &Fields, name: &str) -> Option<String> {
    v.get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
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
async fn act(
    ws: WebState,
    ctx: PageCtx,
    req: Request,
    prefix: String,
    kind: Kind,
    make: impl FnOnce(String, &Fields) -> ops::Request,
) -> Response {
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

async fn approve(
    extract::State(ws): extract::State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    act(ws, ctx, req, id, Kind::Offer, |offer, v| {
        ops::ApproveOffer {
            offer,
            note: text(v, "note"),
        }
        .into()
    })
    .await
}

async fn award(
    extract::State(ws): extract::State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    act(ws, ctx, req, id, Kind::Offer, |offer, v| {
        ops::AwardOffer {
            offer,
            note: text(v, "note"),
        }
        .into()
    })
    .await
}

async fn accept(
    extract::State(ws): extract::State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    act(ws, ctx, req, id, Kind::Delivery, |delivery, _| {
        ops::JudgeDelivery {
            delivery,
            verdict: Verdict::Accept,
            reason: None,
        }
        .into()
    })
    .await
}

async fn object(
    extract::State(ws): extract::State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    act(ws, ctx, req, id, Kind::Delivery, |delivery, v| {
        ops::JudgeDelivery {
            delivery,
            verdict: Verdict::Object,
            reason: text(v, "reason"),
        }
        .into()
    })
    .await
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

async fn fulfil(
    extract::State(ws): extract::State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    act(ws, ctx, req, id, Kind::Pledge, |pledge, _| {
        ops::FulfilPledge { pledge }.into()
    })
    .await
}

async fn received(
    extract::State(ws): extract::State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    act(ws, ctx, req, id, Kind::Pledge, |pledge, v| {
        ops::ConfirmReceipt {
            pledge,
            note: text(v, "note"),
        }
        .into()
    })
    .await
}
