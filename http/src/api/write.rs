//! Writes: every one needs the bearer token. Each builds an [`ops`] request
//! (the very ops the CLI applies) and applies it on the actor, which then
//! publishes the change. A created record answers 201 `{"id": ...}`, an
//! edited one 200 `{"id": ...}`.

use axum::Json;
use axum::extract::{self, Path};
use axum::http::StatusCode;
use mutu_protocol::bundle::Bundle;
use mutu_protocol::record::{EntryStatus, NeedStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Ctx;
use super::auth::Authorized;
use super::error::{ApiError, ErrorBody, JsonBody, RawBody, WriteErrors};
use mutu_node::state;
use mutu_node::{actor, ops};

/// The id of the record a write made or edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Written {
    pub id: String,
}

/// `POST /needs/{id}/cosign`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CosignBody {
    pub note: Option<String>,
}

/// `POST /needs/{id}/status`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// open | in_progress | delivered | withdrawn
    #[schema(value_type = String, example = "delivered")]
    pub status: NeedStatus,
}

/// `POST /needs/{id}/merge`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The need it is the same as (id or unique prefix).
    pub into: String,
}

/// `POST /pledges/{id}/move`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The need to move the pledge to (id or unique prefix).
    pub to: String,
}

/// `POST /catalogues/{id}/entries`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    /// The project (id or unique prefix).
    pub project: String,
    /// recommended (default) | observation | deprecated
    #[schema(value_type = Option<String>, example = "recommended")]
    pub status: Option<EntryStatus>,
    pub note: Option<String>,
}

/// `POST /catalogues/{id}/includes`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncludeBody {
    /// The catalogue to include (id or unique prefix).
    pub other: String,
}

/// `POST /catalogues/{id}/editors`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditorBody {
    /// The member (id or unique prefix of a known member's id).
    pub member: String,
    pub action: ops::EditorAction,
}

/// `POST /block`, `POST /unblock`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    /// The member (id or unique prefix of a known member's id).
    pub member: String,
}

/// What `POST /block` and `POST /unblock` did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Blocked {
    pub member: String,
    pub blocked: bool,
}

/// What an import admitted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub admitted: usize,
    pub duplicates: usize,
    pub pending: usize,
    pub rejected: usize,
    /// Why changes were rejected (the first few).
    pub reasons: Vec<String>,
    /// The first rejected change's document and why it was rejected.
    pub first_rejected: Option<RejectedChange>,
}

/// A change an import rejected.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RejectedChange {
    /// The member document it claimed to belong to.
    pub doc: String,
    pub reason: String,
}

/// Largest body of a write.
pub const WRITE_LIMIT: usize = 1024 * 1024;
/// Largest bundle `POST /import` takes: the bundle limit, as `mutu import`.
pub const IMPORT_LIMIT: usize = mutu_protocol::bundle::MAX_BUNDLE_BYTES;

async fn apply(ctx: &Ctx, op: impl Into<ops::Request>) -> Result<Json<Written>, ApiError> {
    let id = ctx.handle.apply(op.into(), state::now()).await??;
    Ok(Json(Written { id: id.to_string() }))
}

async fn create(ctx: &Ctx, op: impl Into<ops::Request>) -> Result<(StatusCode, Json<Written>), ApiError> {
    Ok((StatusCode::CREATED, apply(ctx, op).await?))
}

/// Describe a project.
#[utoipa::path(post, path = "/api/v1/projects", tag = "write", request_body = ops::NewProject,
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn new_project(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::NewProject>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, op).await
}

/// "We use this project".
#[utoipa::path(post, path = "/api/v1/usages", tag = "write", request_body = ops::NewUsage,
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn new_usage(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::NewUsage>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, op).await
}

/// Post a need.
#[utoipa::path(post, path = "/api/v1/needs", tag = "write", request_body = ops::NewNeed,
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn new_need(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::NewNeed>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, op).await
}

/// "We need this too".
#[utoipa::path(post, path = "/api/v1/needs/{id}/cosign", tag = "write", request_body = CosignBody,
    params(("id" = String, Path, description = "The need (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn cosign(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(need): Path<String>,
    JsonBody(b): JsonBody<CosignBody>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, ops::CosignNeed { need, note: b.note }).await
}

/// Set the status of one of your needs.
#[utoipa::path(post, path = "/api/v1/needs/{id}/status", tag = "write", request_body = StatusBody,
    params(("id" = String, Path, description = "The need (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 200, body = Written), WriteErrors))]
pub async fn need_status(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(need): Path<String>,
    JsonBody(b): JsonBody<StatusBody>,
) -> Result<Json<Written>, ApiError> {
    apply(&ctx, ops::SetNeedStatus { need, status: b.status }).await
}

/// Merge one of your needs into another: it leaves the open lists and
/// points to the end of the other's merge chain; a cycle is refused.
#[utoipa::path(post, path = "/api/v1/needs/{id}/merge", tag = "write", request_body = MergeBody,
    params(("id" = String, Path, description = "Your need (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 200, body = Written), WriteErrors))]
pub async fn merge_need(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(need): Path<String>,
    JsonBody(b): JsonBody<MergeBody>,
) -> Result<Json<Written>, ApiError> {
    apply(&ctx, ops::MergeNeed { need, into: b.into }).await
}

/// Move one of your active pledges to another need: the new pledge and the
/// old one withdrawn, in one signed change. Gives the new pledge's id.
#[utoipa::path(post, path = "/api/v1/pledges/{id}/move", tag = "write", request_body = MoveBody,
    params(("id" = String, Path, description = "Your pledge (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn move_pledge(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(pledge): Path<String>,
    JsonBody(b): JsonBody<MoveBody>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, ops::MovePledge { pledge, to: b.to }).await
}

/// Pledge toward a need: exactly one of money, days, hosting, testing, other.
#[utoipa::path(post, path = "/api/v1/pledges", tag = "write", request_body = ops::NewPledge,
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn new_pledge(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::NewPledge>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, op).await
}

/// Withdraw one of your pledges.
#[utoipa::path(post, path = "/api/v1/pledges/{id}/withdraw", tag = "write",
    params(("id" = String, Path, description = "The pledge (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 200, body = Written), WriteErrors))]
pub async fn withdraw_pledge(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(pledge): Path<String>,
) -> Result<Json<Written>, ApiError> {
    apply(&ctx, ops::WithdrawPledge { pledge }).await
}

/// Offer to do a need's work.
#[utoipa::path(post, path = "/api/v1/offers", tag = "write", request_body = ops::NewOffer,
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn new_offer(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::NewOffer>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, op).await
}

/// Create a catalogue.
#[utoipa::path(post, path = "/api/v1/catalogues", tag = "write", request_body = ops::NewCatalogue,
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn new_catalogue(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::NewCatalogue>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, op).await
}

/// Add a project to a catalogue you own or edit.
#[utoipa::path(post, path = "/api/v1/catalogues/{id}/entries", tag = "write", request_body = EntryBody,
    params(("id" = String, Path, description = "The catalogue (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn catalogue_entry(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(catalogue): Path<String>,
    JsonBody(b): JsonBody<EntryBody>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    let op = ops::CatalogueEntry {
        catalogue,
        project: b.project,
        status: b.status,
        note: b.note,
    };
    create(&ctx, op).await
}

/// Include another catalogue in one of yours (federation).
#[utoipa::path(post, path = "/api/v1/catalogues/{id}/includes", tag = "write", request_body = IncludeBody,
    params(("id" = String, Path, description = "Your catalogue (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 200, body = Written), WriteErrors))]
pub async fn catalogue_include(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(catalogue): Path<String>,
    JsonBody(b): JsonBody<IncludeBody>,
) -> Result<Json<Written>, ApiError> {
    apply(
        &ctx,
        ops::CatalogueInclude {
            catalogue,
            other: b.other,
        },
    )
    .await
}

/// Add or remove an editor of one of your catalogues.
#[utoipa::path(post, path = "/api/v1/catalogues/{id}/editors", tag = "write", request_body = EditorBody,
    params(("id" = String, Path, description = "Your catalogue (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 200, body = Written), WriteErrors))]
pub async fn catalogue_editor(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(catalogue): Path<String>,
    JsonBody(b): JsonBody<EditorBody>,
) -> Result<Json<Written>, ApiError> {
    let op = ops::CatalogueEditor {
        catalogue,
        member: b.member,
        action: b.action,
    };
    apply(&ctx, op).await
}

/// Vouch for another member.
#[utoipa::path(post, path = "/api/v1/vouches", tag = "write", request_body = ops::VouchFor,
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn vouch(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::VouchFor>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, op).await
}

/// Follow a member (a whole id, or a unique prefix of a known member's id):
/// a node with `replication.scope = "trusted"` replicates whom it follows.
#[utoipa::path(post, path = "/api/v1/follows", tag = "write", request_body = ops::Follow,
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn follow(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::Follow>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, op).await
}

/// Stop following a member: the follow record is retracted; gives the
/// tombstone's id.
#[utoipa::path(post, path = "/api/v1/follows/unfollow", tag = "write", request_body = ops::Unfollow,
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn unfollow(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::Unfollow>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, op).await
}

/// Follow a member and its moderation lists: the members they list are
/// treated as blocked on this node.
#[utoipa::path(post, path = "/api/v1/moderation/follows", tag = "write", request_body = ops::ModerationFollow,
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn moderation_follow(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::ModerationFollow>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, op).await
}

/// Publish a moderation list: members you advise against replicating.
#[utoipa::path(post, path = "/api/v1/moderation/lists", tag = "write", request_body = ops::NewModerationList,
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn moderation_list(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::NewModerationList>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, op).await
}

/// Retract one of your records, for good: the tombstone's id.
#[utoipa::path(post, path = "/api/v1/records/{id}/retract", tag = "write",
    params(("id" = String, Path, description = "The record (id or unique prefix)")),
    security(("bearer" = [])),
    responses((status = 201, body = Written), WriteErrors))]
pub async fn retract(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    create(&ctx, ops::Retract { id }).await
}

/// Admit a bundle's signed changes (as `mutu import`; idempotent).
#[utoipa::path(post, path = "/api/v1/import", tag = "write", request_body(content = Object, description = "A bundle, as `GET /api/v1/export/bundle` gives it"),
    security(("bearer" = [])),
    responses((status = 200, body = ImportReport), WriteErrors))]
pub async fn import(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    RawBody(bytes): RawBody,
) -> Result<Json<ImportReport>, ApiError> {
    // Parsing up to 512 MiB of JSON is long CPU work: on a blocking thread,
    // never in the actor, which only admits the decoded changes.
    let parsed = tokio::task::spawn_blocking(move || {
        let bundle = Bundle::parse(&bytes);
        drop(bytes);
        bundle.map(Bundle::into_changes)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let changes = parsed.map_err(|e| ApiError::bad_field("bundle", e.to_string()))?;
    let now = state::now();
    let report = ctx.handle.import(changes, now).await?;
    Ok(Json(ImportReport {
        admitted: report.admitted.len(),
        duplicates: report.duplicates,
        pending: report.pending,
        rejected: report.rejected.len(),
        reasons: report.rejected.iter().take(10).map(|r| r.reason.to_string()).collect(),
        first_rejected: report.rejected.first().map(|r| RejectedChange {
            doc: r.doc.to_string(),
            reason: r.reason.to_string(),
        }),
    }))
}

/// Every document this node holds, as a bundle.
#[utoipa::path(get, path = "/api/v1/export/bundle", tag = "write",
    security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody)))]
pub async fn export(_: Authorized, extract::State(ctx): extract::State<Ctx>) -> Result<Json<Bundle>, ApiError> {
    // Reads the whole store: on a blocking thread, from a snapshot.
    Ok(Json(ctx.handle.with_snapshot(|s| s.export()).await??))
}

async fn set_blocked(ctx: &Ctx, member: String, blocked: bool) -> Result<Json<Blocked>, ApiError> {
    let in_member = |e| ops::Error::from_state(e, Some("member"));
    let member = ctx
        .handle
        .with_snapshot(move |s| s.resolve_member(&member))
        .await?
        .map_err(in_member)?;
    ctx.handle.block_member(member, blocked).await.map_err(|e| match e {
        actor::Error::State(e) => ApiError::from(in_member(e)),
        e => e.into(),
    })?;
    Ok(Json(Blocked {
        member: member.to_string(),
        blocked,
    }))
}

/// Block a member: drop its document here and never take it again.
#[utoipa::path(post, path = "/api/v1/block", tag = "write", request_body = MemberBody,
    security(("bearer" = [])),
    responses((status = 200, body = Blocked), WriteErrors))]
pub async fn block(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(b): JsonBody<MemberBody>,
) -> Result<Json<Blocked>, ApiError> {
    set_blocked(&ctx, b.member, true).await
}

/// Take a member's documents again (they come back with the next sync).
#[utoipa::path(post, path = "/api/v1/unblock", tag = "write", request_body = MemberBody,
    security(("bearer" = [])),
    responses((status = 200, body = Blocked), WriteErrors))]
pub async fn unblock(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(b): JsonBody<MemberBody>,
) -> Result<Json<Blocked>, ApiError> {
    set_blocked(&ctx, b.member, false).await
}
