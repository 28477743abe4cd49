//! `/projects/import`: upload publiccode.yml files (a signed-in owner's
//! form, `multipart/form-data`). The POST is checked as every form (same
//! origin, session, CSRF token) before any file is validated; the files are
//! imported as `POST /api/v1/projects/import` does
//! ([`crate::api::projects::import_files`]), and the answer is a report:
//! each file created, updated or unchanged (with its warnings), each file
//! refused with the validator's located errors.

use axum::Router;
use axum::extract::{self, DefaultBodyLimit, FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use mutu_node::ops::{self, publiccode};
use mutu_publiccode as pc;

use super::auth::{self, Refusal};
use super::forms::{private, refused, signed_out};
use super::i18n::Key;
use super::{PageCtx, WebState, error_page, page};
use crate::api::projects::{ProjectImportReport, import_files};

/// Largest upload: a catalogue's worth of publiccode.yml files.
pub const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;

/// The routes of this module, to merge into the web router.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/projects/import", get(form).post(submit))
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
}

fn form_section(ctx: &PageCtx, mistake: Option<Key>) -> Markup {
    html! {
        section.form {
            h1 { (ctx.t(Key::ImportTitle)) }
            p.lead { (ctx.t(Key::ImportLead)) }
            @if let Some(m) = mistake { p.error-text role="alert" { (ctx.t(m)) } }
            form method="post" action="/projects/import" enctype="multipart/form-data" {
                input type="hidden" name=(auth::CSRF_FIELD) value=(ctx.csrf.as_deref().unwrap_or(""));
                label for="files" { (ctx.t(Key::ImportFiles)) }
                input #files type="file" name="files" multiple accept=".yml,.yaml,application/yaml" required;
                button type="submit" { (ctx.t(Key::ImportSubmit)) }
            }
        }
    }
}

async fn form(ctx: PageCtx) -> Response {
    if let Some(r) = signed_out(&ctx) {
        return r;
    }
    private(
        (
            StatusCode::OK,
            page(&ctx, ctx.t(Key::ImportTitle), form_section(&ctx, None)),
        )
            .into_response(),
    )
}

/// What the upload held: the CSRF token, and the files.
#[derive(Default)]
struct Upload {
    csrf: Option<String>,
    files: Vec<ops::PubliccodeFile>,
    /// Files that are not text (refused before validation).
    refused: Vec<publiccode::Refused>,
}

async fn read(req: Request) -> Result<Upload, Response> {
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(IntoResponse::into_response)?;
    let mut up = Upload::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(up),
            Err(e) => return Err((e.status(), e.body_text()).into_response()),
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().unwrap_or("").to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| (e.status(), e.body_text()).into_response())?;
        match name.as_str() {
            auth::CSRF_FIELD => up.csrf = String::from_utf8(bytes.to_vec()).ok(),
            "files" if bytes.is_empty() && file_name.is_empty() => {} // no file chosen
            "files" => {
                let file = if file_name.is_empty() {
                    "publiccode.yml".to_owned()
                } else {
                    file_name
                };
                match String::from_utf8(bytes.to_vec()) {
                    Ok(yaml) => up.files.push(ops::PubliccodeFile { name: file, yaml }),
                    Err(e) => {
                        // The validator locates the first byte that is not UTF-8.
                        let report = pc::parse(e.as_bytes(), &pc::Options::default());
                        up.refused.push(publiccode::Refused {
                            file,
                            findings: report.diagnostics.iter().map(publiccode::Finding::from).collect(),
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

async fn submit(extract::State(ws): extract::State<WebState>, ctx: PageCtx, req: Request) -> Response {
    let headers = req.headers().clone();
    if auth::foreign_origin(&headers) {
        return refused(&ctx, Refusal::Forbidden);
    }
    if ws.auth.session(&headers).is_none() {
        return refused(&ctx, Refusal::NotSignedIn);
    }
    let up = match read(req).await {
        Ok(up) => up,
        Err(r) => return r,
    };
    if let Err(r) = ws.auth.check_post(&headers, up.csrf.as_deref()) {
        return refused(&ctx, r);
    }
    if up.files.is_empty() && up.refused.is_empty() {
        let body = form_section(&ctx, Some(Key::ImportNoFile));
        return private((StatusCode::BAD_REQUEST, page(&ctx, ctx.t(Key::ImportTitle), body)).into_response());
    }
    let mut report = if up.files.is_empty() {
        ProjectImportReport {
            imported: Vec::new(),
            refused: Vec::new(),
        }
    } else {
        match import_files(&ws.handle, up.files).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                let status = crate::api::error::status_of(mutu_node::error::Classify::class(&e));
                let body = html! {
                    section.form {
                        h1 { (ctx.t(Key::ImportTitle)) }
                        p.error-text role="alert" { (e.to_string()) }
                        p { a href="/projects/import" { (ctx.t(Key::ImportAgain)) } }
                    }
                };
                return private((status, page(&ctx, ctx.t(Key::ImportTitle), body)).into_response());
            }
            Err(e) => return private(error_page(&ctx, &super::PageError::Internal(e.to_string()))),
        }
    };
    let mut all = up.refused;
    all.append(&mut report.refused);
    report.refused = all;
    let status = if report.imported.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = result(&ctx, &report);
    private((status, page(&ctx, ctx.t(Key::ImportResult), body)).into_response())
}

fn result(ctx: &PageCtx, r: &ProjectImportReport) -> Markup {
    html! {
        section.import {
            h1 { (ctx.t(Key::ImportResult)) }
            @if !r.imported.is_empty() {
                ul.plain.imported {
                    @for i in &r.imported {
                        li {
                            span.badge { (ctx.t(match i.outcome.as_str() {
                                "created" => Key::ImportCreated,
                                "updated" => Key::ImportUpdated,
                                _ => Key::ImportUnchanged,
                            })) }
                            " " a href={ "/projects/" (i.id) } { (i.name) } " "
                            span.muted.small { "(" (i.file) ")" }
                            @if !i.warnings.is_empty() {
                                ul.findings { @for w in &i.warnings { li { code { (i.file) ":" (w) } } } }
                            }
                        }
                    }
                }
            }
            @if !r.refused.is_empty() {
                h2 { (ctx.t(Key::ImportRefused)) }
                ul.plain.refused {
                    @for f in &r.refused {
                        li role="alert" {
                            strong { (f.file) }
                            ul.findings {
                                @for x in f.findings.iter().filter(|x| x.severity == "error") {
                                    li { code { (f.file) ":" (x) } }
                                }
                            }
                        }
                    }
                }
            }
            p { a href="/projects/import" { (ctx.t(Key::ImportAgain)) } }
        }
    }
}
