//! The web UI: server-rendered HTML pages (maud) over the same state as the
//! JSON API. Every page is a GET that works without JavaScript and without
//! signing in; the language is English or French (`Accept-Language`, the
//! `lang` cookie, or `?lang=`, which also sets the cookie).
//!
//! - `/`: counts, pledged totals, recent activity
//! - `/needs` (filters: tag, status, funding; sort), `/needs/{id}`
//! - `/projects`, `/projects/{id}`; `/catalogues`, `/catalogues/{id}`
//! - `/members`, `/members/{id}`; `/network`; `/search?q=&tag=`
//! - `/inbox` and the watch buttons (signed in: [`inbox`])
//! - `/static/style.css`
//!
//! Ids in URLs accept unique prefixes; an unknown id is an HTML 404.

pub mod auth;
pub mod chart;
pub mod consult_forms;
pub mod forms;
pub mod i18n;
pub mod import;
pub mod inbox;
pub mod layout;
mod pages;

use axum::extract::{FromRef, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use mutu_protocol::Timestamp;

use i18n::Key;
pub use layout::{PageCtx, page};
use mutu_node::actor;
use mutu_node::state::{self, Snapshot};

/// What the web handlers share.
#[derive(Debug, Clone)]
pub struct WebState {
    pub handle: actor::Handle,
    pub auth: auth::Sessions,
}

impl FromRef<WebState> for auth::Sessions {
    fn from_ref(s: &WebState) -> Self {
        s.auth.clone()
    }
}

impl FromRef<WebState> for actor::Handle {
    fn from_ref(s: &WebState) -> Self {
        s.handle.clone()
    }
}

/// The web UI's routes (no fallback: the API router has one).
pub fn router(handle: actor::Handle, auth: auth::Sessions) -> axum::Router {
    axum::Router::new()
        .route("/", get(pages::home::page))
        .route("/needs", get(pages::needs::list))
        .route("/needs/{id}", get(pages::needs::show))
        .route("/projects", get(pages::projects::list))
        .route("/projects/{id}", get(pages::projects::show))
        .route("/catalogues", get(pages::catalogues::list))
        .route("/catalogues/{id}", get(pages::catalogues::show))
        .route("/members", get(pages::members::list))
        .route("/members/{id}", get(pages::members::show))
        .route("/network", get(pages::network::page))
        .route("/search", get(pages::search::page))
        .route("/static/style.css", get(stylesheet))
        .merge(forms::routes())
        .merge(import::routes())
        .merge(inbox::routes())
        .merge(consult_forms::routes())
        .layer(middleware::from_fn(remember_lang))
        .with_state(WebState { handle, auth })
}

const STYLE: &str = include_str!("style.css");

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        STYLE,
    )
}

/// `?lang=xx` sets the `lang` cookie for a year.
async fn remember_lang(req: Request, next: Next) -> Response {
    let lang = layout::query_lang(req.uri().query());
    let mut resp = next.run(req).await;
    if let Some(lang) = lang {
        let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code());
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    NotFound,
    Ambiguous,
    Internal(String),
}

impl From<state::Error> for PageError {
    fn from(e: state::Error) -> Self {
        match e {
            state::Error::UnknownId(_) | state::Error::WrongKind { .. } => PageError::NotFound,
            state::Error::AmbiguousId { .. } => PageError::Ambiguous,
            e => PageError::Internal(e.to_string()),
        }
    }
}

/// The HTML error page.
pub fn error_page(ctx: &PageCtx, err: &PageError) -> Response {
    let (status, title, text) = match err {
        PageError::NotFound => (
            StatusCode::NOT_FOUND,
            ctx.t(Key::ErrorNotFound),
            ctx.t(Key::ErrorNotFoundText),
        ),
        PageError::Ambiguous => (
            StatusCode::NOT_FOUND,
            ctx.t(Key::ErrorNotFound),
            ctx.t(Key::ErrorAmbiguous),
        ),
        PageError::Internal(e) => {
            tracing::warn!(error = %e, "web page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                ctx.t(Key::ErrorInternal),
                ctx.t(Key::ErrorInternalText),
            )
        }
    };
    let body = html! {
        section.error {
            h1 { (title) }
            p { (text) }
            p { a href="/" { (ctx.t(Key::ErrorBackHome)) } }
        }
    };
    (status, page(ctx, title, body)).into_response()
}

/// Renders a page from a snapshot of the state: `f` makes its
/// `(title, body)` on a blocking thread (the actor only takes the
/// snapshot), and the page frames it, or shows the error page.
pub async fn render<F>(handle: &actor::Handle, ctx: PageCtx, f: F) -> Response
where
    F: FnOnce(&PageCtx, &Snapshot, Timestamp) -> Result<(String, Markup), PageError> + Send + 'static,
{
    let c = ctx.clone();
    let result = handle
        .with_snapshot(move |s| f(&c, s, state::now()))
        .await
        .unwrap_or_else(|e| Err(PageError::Internal(e.to_string())));
    match result {
        Ok((title, body)) => page(&ctx, &title, body).into_response(),
        Err(e) => error_page(&ctx, &e),
    }
}

#[cfg(test)]
mod tests;
