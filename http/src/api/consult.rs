//! The consultation in the JSON API (issue 13): a need's consultation and a
//! member's track record (reads), and the writes that make them (approve,
//! award, deliver, accept or object, mark paid, confirm receipt, set the
//! decision rule), each one [`ops`] request as the CLI makes.

use axum::Json;
use axum::extract::{self, Path};
use axum::http::StatusCode;
use mutu_protocol::record::{Decision, Kind, Verdict};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::Ctx;
use super::auth::Authorized;
use super::error::{ApiError, ErrorBody, JsonBody, WriteErrors};
use super::write::Written;
use mutu_node::{ops, state};

/// A body with an optional note.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub note: Option<String>,
}

/// `POST /needs/{id}/decision`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// author | majority | weighted
    #[schema(value_type = String, example = "weighted")]
    pub decision: Decision,
}

/// `POST /deliveries/{id}/verdict`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerdictBody {
    /// accept | object (an objection needs a reason)
    #[schema(value_type = String, example = "accept")]
    pub verdict: Verdict,
    pub reason: Option<String>,
}

async fn write(
    ctx: &Ctx,
    op: impl Into<ops::Request>,
    status: StatusCode,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    let id = ctx.handle.apply(op.into(), state::now()).await??;
    Ok((status, Json(Written { id: id.to_string() })))
}

/// A need's consultation: coalition, offers side by side with approvals,
/// the award and its verdict, deliveries, pledges due/paid/received, the
/// timeline.
#[utoipa::path(get, path = "/api/v1/needs/{id}/consultation", tag = "read",
    params(("id" = String, Path, description = "The need (id or unique prefix)")),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn consultation(
    extract::State(ctx): extract::State<Ctx>,
    Path(need): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let now = state::now();
    let value = ctx
        .handle
        .with_snapshot(move |s| -> Result<Value, ApiError> {
            let id = s.resolve_kind(&need, Kind::Need)?;
            let views = s.views(now);
            let c = views
                .consultation_of(&id)
                .ok_or_else(|| ApiError::not_found(format!("need {id} has been retracted by its author")))?;
            serde_json::to_value(c).map_err(|e| ApiError::internal(e.to_string()))
        })
        .await??;
    Ok(Json(value))
}

/// A member's track record, derived from signed records: offers made,
/// awarded, delivered (on time or late), accepted, objected, money received;
/// pledges made, due, paid.
#[utoipa::path(get, path = "/api/v1/members/{id}/track-record", tag = "read",
    params(("id" = String, Path, description = "The member (id or unique prefix of a known member's id)")),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn track_record(
    extract::State(ctx): extract::State<Ctx>,
    Path(member): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let now = state::now();
    let value = ctx
        .handle
        .with_snapshot(move |s| -> Result<Value, ApiError> {
            let m = s.resolve_member(&member)?;
            serde_json::to_value(s.views(now).track_record(&m)).map_err(|e| ApiError::internal(e.to_string()))
        })
        .await??;
    Ok(Json(value))
}

/// Set how your need's coalition decides (until an award stands).
#[utoipa::path(post, path = "/api/v1/needs/{id}/decision", tag = "write", request_body = DecisionBody,
    params(("id" = String, Path, description = "The need (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 200, body = Written), WriteErrors))]
pub async fn need_decision(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(need): Path<String>,
    JsonBody(b): JsonBody<DecisionBody>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    let op = ops::SetNeedDecision {
        need,
        decision: b.decision,
    };
    write(&ctx, op, StatusCode::OK).await
}

/// As a member of the need's coalition, approve an offer.
#[utoipa::path(post, path = "/api/v1/offers/{id}/approve", tag = "write", request_body = NoteBody,
    params(("id" = String, Path, description = "The offer (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn approve(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(offer): Path<String>,
    JsonBody(b): JsonBody<NoteBody>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    write(&ctx, ops::ApproveOffer { offer, note: b.note }, StatusCode::CREATED).await
}

/// As the need's author, award an offer.
#[utoipa::path(post, path = "/api/v1/offers/{id}/award", tag = "write", request_body = NoteBody,
    params(("id" = String, Path, description = "The offer (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn award(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(offer): Path<String>,
    JsonBody(b): JsonBody<NoteBody>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    write(&ctx, ops::AwardOffer { offer, note: b.note }, StatusCode::CREATED).await
}

/// As the awarded provider, declare the need's work delivered.
#[utoipa::path(post, path = "/api/v1/deliveries", tag = "write", request_body = ops::NewDelivery,
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn new_delivery(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::NewDelivery>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    write(&ctx, op, StatusCode::CREATED).await
}

/// As a member of the need's coalition, accept a delivery or object to it.
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/verdict", tag = "write", request_body = VerdictBody,
    params(("id" = String, Path, description = "The delivery (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn verdict(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(delivery): Path<String>,
    JsonBody(b): JsonBody<VerdictBody>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    let op = ops::JudgeDelivery {
        delivery,
        verdict: b.verdict,
        reason: b.reason,
    };
    write(&ctx, op, StatusCode::CREATED).await
}

/// Mark one of your pledges paid.
#[utoipa::path(post, path = "/api/v1/pledges/{id}/fulfil", tag = "write",
    params(("id" = String, Path, description = "The pledge (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 200, body = Written), WriteErrors))]
pub async fn fulfil(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(pledge): Path<String>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    write(&ctx, ops::FulfilPledge { pledge }, StatusCode::OK).await
}

/// As the awarded provider, confirm a pledge was received.
#[utoipa::path(post, path = "/api/v1/pledges/{id}/received", tag = "write", request_body = NoteBody,
    params(("id" = String, Path, description = "The pledge (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn received(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(pledge): Path<String>,
    JsonBody(b): JsonBody<NoteBody>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    write(&ctx, ops::ConfirmReceipt { pledge, note: b.note }, StatusCode::CREATED).await
}
