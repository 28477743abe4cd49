//! Errors as the API answers them: a status and
//! `{"error": {"code", "message", "field"}}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use mutu_node::error::{Class, Classify};
use mutu_node::{actor, ops, state};

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// bad_field | bad_request | unauthorized | not_found | method_not_allowed |
    /// conflict | too_large | rule_broken | unavailable | internal
    pub code: &'static str,
    /// A sentence that says what is wrong and what to do.
    pub message: String,
    /// The request field at fault (for `bad_field`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What a write may answer besides its success, for the OpenAPI document:
/// the one list every write handler names (`responses((status = 201, body =
/// Written), WriteErrors)`). Each status carries an [`ErrorBody`].
#[derive(Debug, utoipa::IntoResponses)]
pub enum WriteErrors {
    /// A field is wrong (`bad_field`, with the field), or the body is not JSON.
    #[response(status = 400)]
    BadField(ErrorBody),
    /// No bearer token, or not this node's (`unauthorized`).
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// An id or prefix names nothing here (`not_found`).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The record is not in a state that allows this (`conflict`).
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The body is over the endpoint's limit (`too_large`).
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The write breaks a rule of the registry (`rule_broken`).
    #[response(status = 422)]
    RuleBroken(ErrorBody),
}

/// An error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: ErrorDetail,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>, field: Option<String>) -> Self {
        Self {
            status,
            detail: ErrorDetail {
                code,
                message: message.into(),
                field,
            },
        }
    }

    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_field", message, Some(field.into()))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message, None)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "writes need `Authorization: Bearer TOKEN` with the token in $MUTU_HOME/api.token",
            None,
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message, None)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not take that method: see /api/v1/openapi.json",
            None,
        )
    }

    pub fn too_large(what: &str) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("{what} is too large"),
            None,
        )
    }

    /// An error of `class` with its status and code.
    pub fn of_class(class: Class, message: impl Into<String>) -> Self {
        Self::new(status_of(class), code_of(class), message, None)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message, None)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { error: self.detail })).into_response()
    }
}

/// The HTTP status of each class of failure: the one map the JSON API and
/// the web forms share.
pub fn status_of(class: Class) -> StatusCode {
    match class {
        Class::Input => StatusCode::BAD_REQUEST,
        Class::NotFound => StatusCode::NOT_FOUND,
        Class::Conflict => StatusCode::CONFLICT,
        Class::Rule => StatusCode::UNPROCESSABLE_ENTITY,
        Class::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The API's error code of each class (`bad_field` when a field is named).
fn code_of(class: Class) -> &'static str {
    match class {
        Class::Input => "bad_request",
        Class::NotFound => "not_found",
        Class::Conflict => "conflict",
        Class::Rule => "rule_broken",
        Class::Internal => "internal",
    }
}

impl From<ops::Error> for ApiError {
    fn from(e: ops::Error) -> Self {
        let message = e.to_string();
        let class = e.class();
        if class == Class::Internal {
            tracing::error!(error = %e, "API write failed");
        }
        match e {
            ops::Error::BadField { field, .. } => Self::bad_field(field, message),
            _ => Self::new(status_of(class), code_of(class), message, None),
        }
    }
}

impl From<state::Error> for ApiError {
    fn from(e: state::Error) -> Self {
        ops::Error::from(e).into()
    }
}

impl From<actor::Error> for ApiError {
    fn from(e: actor::Error) -> Self {
        match e {
            actor::Error::State(e) => e.into(),
            actor::Error::Reader(e) => Self::internal(e),
            e => Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e.to_string(), None),
        }
    }
}

/// A JSON request body; malformed input is a `bad_field` naming the field
/// (`body` when the JSON itself is broken), an oversized one `too_large`.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

/// The raw request body, under the route's body limit.
#[derive(Debug, Clone)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state).await.map(RawBody).map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large("the request body")
            } else {
                ApiError::bad_request(e.body_text())
            }
        })
    }
}

/// Parses JSON, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() || path == "." {
            ApiError::bad_field("body", format!("the body is not the JSON this endpoint takes: {inner}"))
        } else {
            ApiError::bad_field(path.clone(), format!("{path}: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_field("body", format!("the body is not one JSON value: {e}")))?;
    Ok(value)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Query parameters; malformed ones are a `bad_field` named `query`.
#[derive(Debug, Clone)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Params(q))
            .map_err(|e| ApiError::bad_field("query", e.body_text()))
    }
}
