//! The OpenAPI 3 document, generated from the handlers' annotations (the
//! router and the document are built from the same `routes!` calls).

use std::sync::Arc;

use axum::extract;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::Ctx;
use super::error::ErrorBody;

/// The document's fixed parts; paths and schemas come from the router.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "mutu node API",
        description = "JSON API of a mutu node: reads are open, writes need `Authorization: Bearer TOKEN` \
                       (the token is in $MUTU_HOME/api.token). Errors are \
                       `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    // Every error response refers to it (`error::WriteErrors` does not
    // register the schemas it names).
    components(schemas(ErrorBody)),
    modifiers(&Bearer),
    tags(
        (name = "read", description = "Open reads"),
        (name = "write", description = "Writes (bearer token)"),
        (name = "control", description = "The `mutu` CLI's typed requests, and its web UI login links (bearer token)")
    )
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The document, as JSON text (made once, when the router is built).
pub type Document = Arc<str>;

/// This API's OpenAPI 3 document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "read", responses((status = 200, body = Object)))]
pub async fn document(extract::State(ctx): extract::State<Ctx>) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], ctx.doc.to_string())
}
