//! publiccode.yml in and out of projects: `POST /api/v1/projects/import`
//! (bearer token) and `GET /api/v1/projects/{id}/publiccode.yml` (open).
//! The files are validated on a blocking thread, never in the actor, which
//! only writes the valid ones (in one change) through
//! [`ops::ImportPubliccode`], checking them again as any request.

use axum::Json;
use axum::extract::{self, Path};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Ctx;
use super::auth::Authorized;
use super::error::{ApiError, ErrorBody, JsonBody, WriteErrors};
use mutu_node::actor::{self, Handle};
use mutu_node::ops::{self, publiccode};
use mutu_node::state;

/// Largest body of `POST /projects/import`: [`publiccode::MAX_FILES`]
/// files of at most 48 KiB, escaped in JSON.
pub const PROJECT_IMPORT_LIMIT: usize = 32 * 1024 * 1024;

/// What `POST /projects/import` did with each file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectImportReport {
    /// The files written (or found unchanged), in the order given.
    pub imported: Vec<publiccode::Imported>,
    /// The files not imported, with the validator's located findings.
    pub refused: Vec<publiccode::Refused>,
}

/// Import publiccode.yml files as projects (as `mutu project import`).
///
/// Each file is validated as the reference validator does (offline); the
/// valid ones are written in one change, the others listed in `refused`
/// with their located errors (the answer is 200 whenever the request
/// itself is well-formed: check `refused`). The software's identity is its
/// `url`: a file whose url names one of your projects updates it.
#[utoipa::path(post, path = "/api/v1/projects/import", tag = "write", request_body = ops::ImportPubliccode,
    security(("bearer" = [])),
    responses((status = 200, body = ProjectImportReport), WriteErrors))]
pub async fn import(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(op): JsonBody<ops::ImportPubliccode>,
) -> Result<Json<ProjectImportReport>, ApiError> {
    Ok(Json(import_files(&ctx.handle, op.files).await??))
}

/// Validates `files` on a blocking thread (with the projects as they are
/// now, to say which files create and which update), writes the valid ones
/// through the actor in one change, and reports on each file. The JSON API
/// and the web form both import this way.
pub async fn import_files(
    handle: &Handle,
    files: Vec<ops::PubliccodeFile>,
) -> Result<Result<ProjectImportReport, ops::Error>, actor::Error> {
    let checked = handle
        .with_snapshot(move |s| {
            publiccode::check(files).map(|c| {
                let outcomes = publiccode::outcomes(s.index(), &s.member_id(), &c.valid);
                (c, outcomes)
            })
        })
        .await?;
    let (checked, outcomes) = match checked {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    if checked.valid.is_empty() {
        return Ok(Ok(ProjectImportReport {
            imported: Vec::new(),
            refused: checked.refused,
        }));
    }
    let files = checked
        .valid
        .iter()
        .map(|v| ops::PubliccodeFile {
            name: v.file.clone(),
            yaml: v.project.publiccode.clone(),
        })
        .collect();
    if let Err(e) = handle
        .apply(ops::ImportPubliccode { files }.into(), state::now())
        .await?
    {
        return Ok(Err(e));
    }
    let imported = handle
        .with_snapshot(move |s| {
            let by_url = publiccode::own_projects_by_url(s.index(), &s.member_id());
            checked
                .valid
                .into_iter()
                .zip(outcomes)
                .filter_map(|(v, outcome)| {
                    by_url.get(&v.url).map(|id| publiccode::Imported {
                        file: v.file,
                        id: *id,
                        name: v.project.name,
                        url: v.url,
                        outcome: outcome.into(),
                        warnings: v.warnings,
                    })
                })
                .collect()
        })
        .await?;
    Ok(Ok(ProjectImportReport {
        imported,
        refused: checked.refused,
    }))
}

/// A project's publiccode.yml: the file as imported, with the members who
/// signed a usage of the project added to `usedBy`.
#[utoipa::path(get, path = "/api/v1/projects/{id}/publiccode.yml", tag = "read",
    params(("id" = String, Path, description = "A project id or unique prefix")),
    responses(
        (status = 200, content_type = "application/yaml", body = String),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn publiccode_yml(
    extract::State(ctx): extract::State<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let now = state::now();
    let yaml = ctx
        .handle
        .with_snapshot(move |s| -> Result<String, ops::Error> {
            let id = s
                .resolve_kind(&id, mutu_protocol::record::Kind::Project)
                .map_err(|e| ops::Error::from_state(e, Some("id")))?;
            publiccode::export(&s.views(now), &id)
        })
        .await??;
    Ok(([(header::CONTENT_TYPE, "application/yaml; charset=utf-8")], yaml).into_response())
}

/// A catalogue's projects as publiccode.yml files (federated entries
/// included), with an index of every entry: what `mutu project export
/// --catalogue` writes as a directory to publish.
#[utoipa::path(get, path = "/api/v1/catalogues/{id}/publiccode", tag = "read",
    params(("id" = String, Path, description = "A catalogue id or unique prefix")),
    responses((status = 200, body = publiccode::CatalogueExport), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn catalogue_publiccode(
    extract::State(ctx): extract::State<Ctx>,
    Path(id): Path<String>,
) -> Result<Json<publiccode::CatalogueExport>, ApiError> {
    let now = state::now();
    let export = ctx
        .handle
        .with_snapshot(move |s| -> Result<publiccode::CatalogueExport, ops::Error> {
            let id = s
                .resolve_kind(&id, mutu_protocol::record::Kind::Catalogue)
                .map_err(|e| ops::Error::from_state(e, Some("id")))?;
            publiccode::export_catalogue(&s.views(now), &id)
        })
        .await??;
    Ok(Json(export))
}
