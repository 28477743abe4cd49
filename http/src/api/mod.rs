//! The node's JSON HTTP API under `/api/v1`, served by axum on the actor's
//! [`Handle`]. Reads are open; writes need `Authorization: Bearer TOKEN`
//! ([`auth`]). Writes go through the same [`mutu_node::ops`] as the CLI.
//! Errors are `{"error": {"code", "message", "field"}}` ([`error`]): 400 a
//! bad field, 401 no or a wrong token, 404 unknown id, 409 conflict, 413 a
//! body over the limit (1 MiB; 512 MiB, the bundle limit, for `/import`; 32 MiB for `/projects/import`), 422 a broken rule.
//! The OpenAPI 3 document is at `/api/v1/openapi.json`.

pub mod auth;
mod consult;
pub mod error;
pub mod openapi;
pub mod projects;
pub mod read;
pub mod write;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::error::ApiError;
use mutu_node::actor::Handle;

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub handle: Handle,
    /// The bearer token writes need.
    pub token: Arc<str>,
    pub doc: openapi::Document,
    /// The web UI's sessions and where it is served, for `mutu ui`'s
    /// login links; `None` where no web UI is served (the API alone).
    pub login: Option<crate::web::auth::Login>,
}

/// The routes and their document, before a handle is attached. Writes
/// take [`auth::Authorized`] first, so they check the token before they read
/// a body.
fn build() -> OpenApiRouter<Ctx> {
    let import = OpenApiRouter::new()
        .routes(routes!(write::import))
        .layer(DefaultBodyLimit::max(write::IMPORT_LIMIT));
    let project_import = OpenApiRouter::new()
        .routes(routes!(projects::import))
        .layer(DefaultBodyLimit::max(projects::PROJECT_IMPORT_LIMIT));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(read::needs, write::new_need))
        .routes(routes!(read::projects, write::new_project))
        .routes(routes!(read::pledges, write::new_pledge))
        .routes(routes!(read::offers, write::new_offer))
        .routes(routes!(read::catalogues, write::new_catalogue))
        .routes(routes!(read::members))
        .routes(routes!(read::record))
        .routes(routes!(projects::publiccode_yml))
        .routes(routes!(projects::catalogue_publiccode))
        .routes(routes!(read::search))
        .routes(routes!(read::similar_needs))
        .routes(routes!(read::stats))
        .routes(routes!(read::status))
        .routes(routes!(read::peers))
        .routes(routes!(read::whoami))
        .routes(routes!(openapi::document))
        .routes(routes!(write::new_usage))
        .routes(routes!(write::cosign))
        .routes(routes!(write::need_status))
        .routes(routes!(write::withdraw_pledge))
        .routes(routes!(write::merge_need))
        .routes(routes!(write::move_pledge))
        .routes(routes!(write::catalogue_entry))
        .routes(routes!(write::catalogue_include))
        .routes(routes!(write::catalogue_editor))
        .routes(routes!(write::vouch))
        .routes(routes!(write::follow))
        .routes(routes!(write::unfollow))
        .routes(routes!(write::moderation_follow))
        .routes(routes!(write::moderation_list))
        .routes(routes!(write::retract))
        .routes(routes!(write::export))
        .routes(routes!(write::block))
        .routes(routes!(write::unblock))
        .routes(routes!(consult::consultation))
        .routes(routes!(consult::track_record))
        .routes(routes!(consult::need_decision))
        .routes(routes!(consult::approve))
        .routes(routes!(consult::award))
        .routes(routes!(consult::new_delivery))
        .routes(routes!(consult::verdict))
        .routes(routes!(consult::fulfil))
        .routes(routes!(consult::received))
        .routes(routes!(crate::control::control))
        .routes(routes!(crate::web::auth::ui_login))
        .merge(import)
        .merge(project_import)
        // The outer limit; `/import`'s own (inner) limit wins for it.
        .layer(DefaultBodyLimit::max(write::WRITE_LIMIT))
}

/// The API's OpenAPI 3 document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    build().into_openapi()
}

/// The API on `handle`; writes need `token`. `POST /api/v1/ui/login`
/// answers 404: there is no web UI to sign in to.
pub fn router(handle: Handle, token: String) -> Router {
    router_with_login(handle, token, None)
}

/// The API on `handle`, with the web UI's login links when `login` says
/// where the UI is.
pub fn router_with_login(handle: Handle, token: String, login: Option<crate::web::auth::Login>) -> Router {
    let (routes, doc) = build().split_for_parts();
    let ctx = Ctx {
        handle,
        token: token.into(),
        // Serializing the document's plain structs does not fail; an empty
        // document would show at once in the route test.
        doc: doc.to_json().unwrap_or_default().into(),
        login,
    };
    routes
        .fallback(|| async { ApiError::not_found("no such endpoint: see /api/v1/openapi.json") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(ctx)
}

#[cfg(test)]
mod tests;
