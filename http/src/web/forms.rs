//! The owner's forms: create and withdraw statements from the browser.
//!
//! Every form page needs a signed-in session ([`super::auth`]); without one,
//! a GET answers 303 to `/login` (how to sign in with `mutu ui`) and a POST
//! 401. Every POST checks, before it reads its body, that it does not come
//! from another origin (403) and carries the session cookie (401); then that
//! the form's hidden `csrf` field matches the session's token (403). A valid
//! form builds the matching [`ops`] request and applies it on the actor, as
//! the JSON API does; success answers 303 to the record's page, a mistake
//! re-renders the form with the message next to the field (400 a bad field,
//! 404 an unknown id, 409 a conflict, 422 a broken rule).
//!
//! - `GET /login` (how to sign in), `GET /login/{token}`, `POST /logout`
//! - `/needs/new`, `/projects/new`
//! - `/needs/{id}/pledge`, `/needs/{id}/cosign`, `/needs/{id}/offer`, `/needs/{id}/status`
//! - `/needs/{id}/merge` (into another need), `/pledges/{id}/move` (to another need)
//! - `/pledges/{id}/withdraw`, `/records/{id}/retract`

use std::collections::HashMap;

use axum::extract::{self, DefaultBodyLimit, FromRequest, Path, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::{Form, Router};
use maud::{Markup, html};
use mutu_protocol::record::{Body, Condition, DevStatus, Kind, NeedStatus, RecordId};

use super::auth::{self, Refusal, Sessions};
use super::i18n::Key;
use super::{PageCtx, PageError, WebState, error_page, page};
use crate::api::error::status_of;
use mutu_node::error::{Class, Classify};
use mutu_node::ops;
use mutu_node::state;

/// Largest form body.
pub const FORM_LIMIT: usize = 64 * 1024;

/// The routes of this module and of signing in and out, to merge into the
/// web router before its state is attached.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/login", get(login_help))
        .route("/login/{token}", get(login))
        .route("/logout", axum::routing::post(logout))
        .route("/needs/new", get(need_form).post(need_submit))
        .route("/projects/new", get(project_form).post(project_submit))
        .route("/needs/{id}/pledge", need_route(NeedForm::Pledge))
        .route("/needs/{id}/cosign", need_route(NeedForm::Cosign))
        .route("/needs/{id}/offer", need_route(NeedForm::Offer))
        .route("/needs/{id}/status", need_route(NeedForm::Status))
        .route("/needs/{id}/merge", need_route(NeedForm::Merge))
        .route("/needs/{id}/delivery", need_route(NeedForm::Delivery))
        .route("/needs/{id}/decision", need_route(NeedForm::Decision))
        .route("/pledges/{id}/move", get(move_form).post(move_submit))
        .route("/pledges/{id}/withdraw", get(withdraw_form).post(withdraw_submit))
        .route("/records/{id}/retract", get(retract_form).post(retract_submit))
        .route("/network/policy", axum::routing::post(policy_submit))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
}

// ---------------------------------------------------------------------------
// Responses

/// 303 to `to`.
pub(super) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Every answer that shows a form or a session is not cached (framing and
/// referrers are refused for every response, by [`crate::guard`]).
pub(super) fn private(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A short page with a title and a paragraph.
fn message(ctx: &PageCtx, status: StatusCode, title: Key, text: Key) -> Response {
    let body = html! {
        section.message {
            h1 { (ctx.t(title)) }
            p { (ctx.t(text)) }
            p { a href="/" { (ctx.t(Key::ErrorBackHome)) } }
        }
    };
    private((status, page(ctx, ctx.t(title), body)).into_response())
}

pub(super) fn refused(ctx: &PageCtx, r: Refusal) -> Response {
    match r {
        Refusal::NotSignedIn => login_needed(ctx, StatusCode::UNAUTHORIZED),
        _ => message(ctx, StatusCode::FORBIDDEN, Key::FormForbidden, Key::FormForbiddenText),
    }
}

fn login_needed(ctx: &PageCtx, status: StatusCode) -> Response {
    let body = html! {
        section.message {
            h1 { (ctx.t(Key::LoginTitle)) }
            p { (ctx.t(Key::LoginHow)) }
            pre { code { "mutu ui" } }
            p { (ctx.t(Key::LoginOnce)) }
        }
    };
    private((status, page(ctx, ctx.t(Key::LoginTitle), body)).into_response())
}

// ---------------------------------------------------------------------------
// Signing in and out

/// `GET /login`: how to sign in.
async fn login_help(ctx: PageCtx) -> Response {
    if ctx.signed_in {
        return message(&ctx, StatusCode::OK, Key::AuthSignedIn, Key::LoginSignedInText);
    }
    login_needed(&ctx, StatusCode::OK)
}

/// `GET /login/{token}`: consumes a one-time token, starts a session.
async fn login(
    extract::State(sessions): extract::State<Sessions>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let Some((id, _)) = sessions.login(&token) else {
        return message(&ctx, StatusCode::FORBIDDEN, Key::LoginInvalid, Key::LoginInvalidText);
    };
    let mut r = private(see_other("/"));
    if let Ok(v) = HeaderValue::from_str(&auth::session_cookie(&id, auth::is_https(&headers))) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `POST /logout`: ends the session (CSRF-checked like every POST).
async fn logout(extract::State(sessions): extract::State<Sessions>, ctx: PageCtx, req: Request) -> Response {
    let headers = req.headers().clone();
    if sessions.session(&headers).is_none() && !auth::foreign_origin(&headers) {
        return see_other("/");
    }
    if let Err(r) = guard(&sessions, &ctx, req).await {
        return r;
    }
    sessions.logout(&headers);
    let mut r = private(see_other("/"));
    if let Ok(v) = HeaderValue::from_str(&auth::clear_cookie(auth::is_https(&headers))) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

// ---------------------------------------------------------------------------
// Form values, checks and errors

/// The submitted fields (the first value of each name).
pub type Fields = HashMap<String, String>;

/// Checks a POST (origin, session, then body and CSRF token) and gives its
/// fields, or the answer that refuses it.
pub(super) async fn guard(sessions: &Sessions, ctx: &PageCtx, req: Request) -> Result<Fields, Response> {
    let headers = req.headers().clone();
    if auth::foreign_origin(&headers) {
        return Err(refused(ctx, Refusal::Forbidden));
    }
    if sessions.session(&headers).is_none() {
        return Err(refused(ctx, Refusal::NotSignedIn));
    }
    let pairs = match Form::<Vec<(String, String)>>::from_request(req, &()).await {
        Ok(Form(pairs)) => pairs,
        Err(rejection) => return Err(rejection.into_response()),
    };
    let mut fields = Fields::new();
    for (k, v) in pairs {
        fields.entry(k).or_insert(v);
    }
    let csrf = fields.remove(auth::CSRF_FIELD);
    sessions
        .check_post(&headers, csrf.as_deref())
        .map_err(|r| refused(ctx, r))?;
    Ok(fields)
}

/// A mistake to show on the form.
#[derive(Debug, Clone)]
pub struct Mistake {
    pub status: StatusCode,
    /// The form field at fault (shown next to it), if any.
    pub field: Option<String>,
    pub message: String,
}

impl Mistake {
    fn bad(field: &str, message: impl Into<String>) -> Self {
        Mistake {
            status: StatusCode::BAD_REQUEST,
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }
}

/// Why a write did not happen.
enum Failure {
    Mistake(Mistake),
    Internal(String),
}

impl Failure {
    /// `unknown_field` is the form field an unknown id most likely came from.
    fn from_op(e: ops::Error, unknown_field: Option<&str>) -> Self {
        let class = e.class();
        if class == Class::Internal {
            return Failure::Internal(e.to_string());
        }
        let field = match &e {
            ops::Error::BadField { field, .. } => Some(field.clone()),
            _ if class == Class::NotFound => unknown_field.map(str::to_owned),
            _ => None,
        };
        Failure::Mistake(Mistake {
            status: status_of(class),
            field,
            message: e.to_string(),
        })
    }
}

/// Applies `request` on the actor; `Ok` is the id of the record it made
/// or edited.
async fn write(
    ws: &WebState,
    unknown_field: Option<&'static str>,
    request: impl Into<ops::Request>,
) -> Result<RecordId, Failure> {
    match ws.handle.apply(request.into(), state::now()).await {
        Ok(Ok(id)) => Ok(id),
        Ok(Err(e)) => Err(Failure::from_op(e, unknown_field)),
        Err(e) => Err(Failure::Internal(e.to_string())),
    }
}

/// A trimmed, non-empty value.
pub(super) fn text(v: &Fields, name: &str) -> Option<String> {
    v.get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A whole number of days.
fn days(v: &Fields, name: &str) -> Result<Option<u32>, Mistake> {
    text(v, name)
        .map(|s| {
            s.parse::<u32>()
                .map_err(|_| Mistake::bad(name, format!("{name}: `{s}` is not a whole number of days")))
        })
        .transpose()
}

/// Comma-separated tags.
fn tags(v: &Fields) -> Vec<String> {
    text(v, "tags")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A snake_case enum value (a `<select>`'s).
fn choice<T: serde::de::DeserializeOwned>(v: &Fields, name: &str) -> Result<Option<T>, Mistake> {
    text(v, name)
        .map(|s| {
            serde_json::from_value(serde_json::Value::String(s.clone()))
                .map_err(|_| Mistake::bad(name, format!("{name}: `{s}` is not one of the choices")))
        })
        .transpose()
}

// ---------------------------------------------------------------------------
// Rendering

#[derive(Debug, Clone, Copy)]
enum Input {
    Line,
    Area,
    Date,
    Days,
    Check,
    /// Values and their labels.
    Select(&'static [(&'static str, Key)]),
}

/// One form field: its name (as in the [`ops`] request), label key, input
/// and hint key.
#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    label: Key,
    input: Input,
    hint: Option<Key>,
    required: bool,
}

const fn field(name: &'static str, label: Key, input: Input) -> Field {
    Field {
        name,
        label,
        input,
        hint: None,
        required: false,
    }
}

impl Field {
    const fn hint(mut self, key: Key) -> Self {
        self.hint = Some(key);
        self
    }

    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

const NEED_FIELDS: &[Field] = &[
    field("title", Key::FormTitle, Input::Line).required(),
    field("description", Key::FormDescription, Input::Area),
    field("tags", Key::FormTags, Input::Line).hint(Key::FormTagsHint),
    field("project", Key::FormProject, Input::Line).hint(Key::FormIdHint),
    field("goal", Key::FormGoal, Input::Line).hint(Key::FormMoneyHint),
    field("days_goal", Key::FormDaysGoal, Input::Days),
    field("deadline", Key::FormDeadline, Input::Date),
    field("decision", Key::FormDecision, Input::Select(DECISIONS)),
];

const DEV_STATUSES: &[(&str, Key)] = &[
    ("development", Key::FormDevDevelopment),
    ("concept", Key::FormDevConcept),
    ("beta", Key::FormDevBeta),
    ("stable", Key::FormDevStable),
    ("obsolete", Key::FormDevObsolete),
];

const PROJECT_FIELDS: &[Field] = &[
    field("name", Key::FormName, Input::Line).required(),
    field("license", Key::FormLicense, Input::Line)
        .required()
        .hint(Key::FormLicenseHint),
    field("description", Key::FormDescription, Input::Area),
    field("repository", Key::FormRepository, Input::Line),
    field("homepage", Key::FormHomepage, Input::Line),
    field("tags", Key::FormTags, Input::Line).hint(Key::FormTagsHint),
    field("status", Key::FormDevStatus, Input::Select(DEV_STATUSES)),
    field("is_based_on", Key::FormIsBasedOn, Input::Line).hint(Key::FormIdHint),
];

const PLEDGE_FIELDS: &[Field] = &[
    field("money", Key::FormMoney, Input::Line).hint(Key::FormMoneyHint),
    field("days", Key::FormDays, Input::Days),
    field("hosting", Key::FormHosting, Input::Line),
    field("testing", Key::FormTesting, Input::Line),
    field("other", Key::FormOther, Input::Line),
    field("if_funded", Key::FormIfFunded, Input::Check).hint(Key::FormIfFundedHint),
    field("expires_at", Key::FormExpiresAt, Input::Date),
];

const COSIGN_FIELDS: &[Field] = &[field("note", Key::FormNote, Input::Area)];

const OFFER_FIELDS: &[Field] = &[
    field("price", Key::FormPrice, Input::Line)
        .required()
        .hint(Key::FormMoneyHint),
    field("days", Key::FormDays, Input::Days),
    field("description", Key::FormDescription, Input::Area),
    field("valid_until", Key::FormValidUntil, Input::Date),
];

const NEED_STATUSES: &[(&str, Key)] = &[
    ("open", Key::FormNeedOpen),
    ("in_progress", Key::FormNeedInProgress),
    ("delivered", Key::FormNeedDelivered),
    ("withdrawn", Key::FormNeedWithdrawn),
];

const STATUS_FIELDS: &[Field] = &[field("status", Key::FormNeedStatus, Input::Select(NEED_STATUSES)).required()];

const MERGE_FIELDS: &[Field] = &[field("into", Key::FormMergeInto, Input::Line)
    .hint(Key::FormMergeHint)
    .required()];

const DELIVERY_FIELDS: &[Field] = &[
    field("release", Key::FormDeliveryRelease, Input::Line).required(),
    field("note", Key::FormNote, Input::Area),
];

const DECISIONS: &[(&str, Key)] = &[
    ("author", Key::DecisionAuthor),
    ("majority", Key::DecisionMajority),
    ("weighted", Key::DecisionWeighted),
];

const DECISION_FIELDS: &[Field] = &[field("decision", Key::FormDecision, Input::Select(DECISIONS)).required()];

const MOVE_FIELDS: &[Field] = &[field("to", Key::FormMoveTo, Input::Line)
    .hint(Key::FormMoveHint)
    .required()];

/// What a form page shows.
struct FormPage<'a> {
    title: Key,
    /// Shown above the fields (e.g. which need a pledge is for).
    intro: Markup,
    action: String,
    fields: &'static [Field],
    submit: Key,
    values: &'a Fields,
    mistake: Option<Mistake>,
    /// A hidden field sent back with the form (`confirm=1` once the
    /// similar needs were shown).
    hidden: Option<(&'static str, &'static str)>,
}

fn render_field(ctx: &PageCtx, f: &Field, values: &Fields, mistake: Option<&Mistake>) -> Markup {
    let id = format!("f-{}", f.name);
    let value = values.get(f.name).map(String::as_str).unwrap_or("");
    let error = mistake.filter(|m| m.field.as_deref() == Some(f.name));
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = match (f.hint.is_some(), error.is_some()) {
        (true, true) => Some(format!("{hint_id} {error_id}")),
        (true, false) => Some(hint_id.clone()),
        (false, true) => Some(error_id.clone()),
        (false, false) => None,
    };
    let invalid = error.map(|_| "true");
    html! {
        div.field.error[error.is_some()] {
            @match f.input {
                Input::Check => {
                    label for=(id) {
                        input #(id) type="checkbox" name=(f.name) value="on" checked[!value.is_empty()]
                            aria-describedby=[described.as_deref()] aria-invalid=[invalid];
                        " " (ctx.t(f.label))
                    }
                }
                _ => {
                    label for=(id) {
                        (ctx.t(f.label))
                        @if f.required { " " abbr title=(ctx.t(Key::FormRequired)) { "*" } }
                    }
                }
            }
            @if let Some(h) = f.hint { small.hint #(hint_id) { (ctx.t(h)) } }
            @match f.input {
                Input::Line => {
                    input #(id) type="text" name=(f.name) value=(value) required[f.required]
                        aria-describedby=[described.as_deref()] aria-invalid=[invalid];
                }
                Input::Area => {
                    textarea #(id) name=(f.name) rows="6" required[f.required]
                        aria-describedby=[described.as_deref()] aria-invalid=[invalid] { (value) }
                }
                Input::Date => {
                    input #(id) type="date" name=(f.name) value=(value) placeholder="YYYY-MM-DD"
                        aria-describedby=[described.as_deref()] aria-invalid=[invalid];
                }
                Input::Days => {
                    input #(id) type="number" min="1" step="1" name=(f.name) value=(value)
                        aria-describedby=[described.as_deref()] aria-invalid=[invalid];
                }
                Input::Select(options) => {
                    select #(id) name=(f.name) aria-describedby=[described.as_deref()] aria-invalid=[invalid] {
                        @for (v, key) in options {
                            option value=(v) selected[*v == value] { (ctx.t(*key)) }
                        }
                    }
                }
                Input::Check => {}
            }
            @if let Some(m) = error { p.error-text #(error_id) role="alert" { (m.message) } }
        }
    }
}

fn render(ctx: &PageCtx, status: StatusCode, f: FormPage<'_>) -> Response {
    let general = f.mistake.as_ref().filter(|m| {
        m.field
            .as_deref()
            .is_none_or(|name| f.fields.iter().all(|x| x.name != name))
    });
    let body = html! {
        section.form {
            h1 { (ctx.t(f.title)) }
            (f.intro)
            @if let Some(m) = general { p.error-text role="alert" { (m.message) } }
            form method="post" action=(f.action) {
                input type="hidden" name=(auth::CSRF_FIELD) value=(ctx.csrf.as_deref().unwrap_or(""));
                @if let Some((name, value)) = f.hidden { input type="hidden" name=(name) value=(value); }
                @for field in f.fields { (render_field(ctx, field, f.values, f.mistake.as_ref())) }
                button type="submit" { (ctx.t(f.submit)) }
            }
        }
    };
    private((status, page(ctx, ctx.t(f.title), body)).into_response())
}

/// The answer to a submitted form: 303 on success, else the form again.
fn answer<'a>(ctx: &PageCtx, result: Result<String, Failure>, form: impl FnOnce(Mistake) -> FormPage<'a>) -> Response {
    match result {
        Ok(to) => see_other(&to),
        Err(Failure::Mistake(m)) => render(ctx, m.status, form(m)),
        Err(Failure::Internal(e)) => private(error_page(ctx, &PageError::Internal(e))),
    }
}

/// A GET form page is only for a signed-in owner: otherwise, the answer
/// that sends to `/login`.
pub(super) fn signed_out(ctx: &PageCtx) -> Option<Response> {
    (!ctx.signed_in).then(|| see_other("/login"))
}

// ---------------------------------------------------------------------------
// New need, new project

fn need_page<'a>(values: &'a Fields, mistake: Option<Mistake>) -> FormPage<'a> {
    FormPage {
        title: Key::FormNewNeed,
        intro: html! {},
        action: "/needs/new".into(),
        fields: NEED_FIELDS,
        submit: Key::FormPublish,
        values,
        mistake,
        hidden: None,
    }
}

async fn need_form(ctx: PageCtx) -> Response {
    if let Some(r) = signed_out(&ctx) {
        return r;
    }
    render(&ctx, StatusCode::OK, need_page(&Fields::new(), None))
}

fn need_op(v: &Fields) -> Result<ops::NewNeed, Mistake> {
    Ok(ops::NewNeed {
        title: text(v, "title").unwrap_or_default(),
        description: text(v, "description"),
        project: text(v, "project"),
        tags: tags(v),
        goal: text(v, "goal").map(ops::MoneyInput::Text),
        days_goal: days(v, "days_goal")?,
        deadline: text(v, "deadline"),
        decision: choice(v, "decision")?,
    })
}

/// The open needs like the one being written, shown before it is published
/// (each with a one-click cosign) with the form again to publish anyway;
/// `None` when there are none or once they were shown (`confirm=1`).
async fn similar_first(ws: &WebState, ctx: &PageCtx, v: &Fields) -> Option<Response> {
    if v.get("confirm").is_some_and(|c| c == "1") {
        return None;
    }
    let draft = crate::control::DraftNeed {
        title: text(v, "title")?,
        description: text(v, "description"),
        project: text(v, "project"),
        tags: tags(v),
    };
    let now = state::now();
    let found = ws
        .handle
        .with_snapshot(move |s| crate::control::read::similar_needs(s, draft, crate::control::read::SIMILAR_SHOWN, now))
        .await
        .ok()?
        // A project that does not resolve: the write says so.
        .ok()?;
    if found.is_empty() {
        return None;
    }
    let intro = html! {
        section.similar {
            h2 { (ctx.t(Key::SimilarTitle)) }
            p.hint { (ctx.t(Key::SimilarHint)) }
            ul {
                @for s in &found {
                    li {
                        a href={ "/needs/" (s.need) } { (s.title) }
                        " " span.score { (s.score) "/100" }
                        " " span.hint { (super::pages::needs::reasons(ctx, &s.reasons)) }
                        form.inline method="post" action={ "/needs/" (s.need) "/cosign" } {
                            input type="hidden" name=(auth::CSRF_FIELD) value=(ctx.csrf.as_deref().unwrap_or(""));
                            button type="submit" { (ctx.t(Key::FormCosignSubmit)) }
                        }
                    }
                }
            }
        }
    };
    let mut form = need_page(v, None);
    form.intro = intro;
    form.submit = Key::SimilarPublishAnyway;
    form.hidden = Some(("confirm", "1"));
    Some(render(ctx, StatusCode::OK, form))
}

async fn need_submit(extract::State(ws): extract::State<WebState>, ctx: PageCtx, req: Request) -> Response {
    let v = match guard(&ws.auth, &ctx, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(shown) = similar_first(&ws, &ctx, &v).await {
        return shown;
    }
    let result = match need_op(&v) {
        Ok(op) => write(&ws, Some("project"), op).await.map(|id| format!("/needs/{id}")),
        Err(m) => Err(Failure::Mistake(m)),
    };
    answer(&ctx, result, |m| need_page(&v, Some(m)))
}

fn project_page<'a>(values: &'a Fields, mistake: Option<Mistake>) -> FormPage<'a> {
    FormPage {
        title: Key::FormNewProject,
        intro: html! {},
        action: "/projects/new".into(),
        fields: PROJECT_FIELDS,
        submit: Key::FormPublish,
        values,
        mistake,
        hidden: None,
    }
}

async fn project_form(ctx: PageCtx) -> Response {
    if let Some(r) = signed_out(&ctx) {
        return r;
    }
    render(&ctx, StatusCode::OK, project_page(&Fields::new(), None))
}

fn project_op(v: &Fields) -> Result<ops::NewProject, Mistake> {
    Ok(ops::NewProject {
        name: text(v, "name").unwrap_or_default(),
        license: text(v, "license").unwrap_or_default(),
        description: text(v, "description"),
        repository: text(v, "repository"),
        homepage: text(v, "homepage"),
        tags: tags(v),
        status: choice::<DevStatus>(v, "status")?,
        is_based_on: text(v, "is_based_on"),
    })
}

async fn project_submit(extract::State(ws): extract::State<WebState>, ctx: PageCtx, req: Request) -> Response {
    let v = match guard(&ws.auth, &ctx, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result = match project_op(&v) {
        Ok(op) => write(&ws, Some("is_based_on"), op)
            .await
            .map(|id| format!("/projects/{id}")),
        Err(m) => Err(Failure::Mistake(m)),
    };
    answer(&ctx, result, |m| project_page(&v, Some(m)))
}

// ---------------------------------------------------------------------------
// Forms on a need: pledge, cosign, offer, status, merge, delivery, decision

/// What a need-scoped form shows of its need.
struct NeedRef {
    id: RecordId,
    title: String,
}

/// Looks up the need `prefix` names.
async fn need_ref(ws: &WebState, prefix: String) -> Result<NeedRef, PageError> {
    ws.handle
        .with_snapshot(move |s| {
            let id = s.resolve_kind(&prefix, Kind::Need)?;
            let title = match s.index().get(&id).map(|r| &r.record().body) {
                Some(Body::Need(n)) => n.title.clone(),
                _ => String::new(),
            };
            Ok::<_, state::Error>(NeedRef { id, title })
        })
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .map_err(PageError::from)
}

fn need_intro(ctx: &PageCtx, need: &NeedRef) -> Markup {
    html! {
        p.intro {
            (ctx.t(Key::FormForNeed)) " "
            a href={ "/needs/" (need.id) } { (need.title) }
        }
    }
}

/// The forms on a need.
#[derive(Debug, Clone, Copy)]
enum NeedForm {
    Pledge,
    Cosign,
    Offer,
    Status,
    Merge,
    Delivery,
    Decision,
}

impl NeedForm {
    fn page<'a>(self, ctx: &PageCtx, need: &NeedRef, values: &'a Fields, mistake: Option<Mistake>) -> FormPage<'a> {
        let (title, path, fields, submit) = match self {
            NeedForm::Pledge => (Key::FormPledge, "pledge", PLEDGE_FIELDS, Key::FormPledgeSubmit),
            NeedForm::Cosign => (Key::FormCosign, "cosign", COSIGN_FIELDS, Key::FormCosignSubmit),
            NeedForm::Offer => (Key::FormOffer, "offer", OFFER_FIELDS, Key::FormOfferSubmit),
            NeedForm::Status => (Key::FormStatus, "status", STATUS_FIELDS, Key::FormSave),
            NeedForm::Merge => (Key::FormMerge, "merge", MERGE_FIELDS, Key::FormMergeSubmit),
            NeedForm::Delivery => (Key::FormDelivery, "delivery", DELIVERY_FIELDS, Key::FormDeliverySubmit),
            NeedForm::Decision => (Key::FormDecision, "decision", DECISION_FIELDS, Key::FormSave),
        };
        let extra = match self {
            NeedForm::Pledge => html! { p.hint { (ctx.t(Key::FormPledgeOne)) } },
            NeedForm::Merge => html! { p.hint { (ctx.t(Key::FormMergeText)) } },
            _ => html! {},
        };
        FormPage {
            title,
            intro: html! { (need_intro(ctx, need)) (extra) },
            action: format!("/needs/{}/{path}", need.id),
            fields,
            submit,
            values,
            mistake,
            hidden: None,
        }
    }

    /// The write a submitted form makes, with `need` (a prefix from the URL).
    fn op(self, need: String, v: &Fields) -> Result<NeedOp, Mistake> {
        Ok(match self {
            NeedForm::Pledge => NeedOp::Pledge(ops::NewPledge {
                need,
                money: text(v, "money").map(ops::MoneyInput::Text),
                days: days(v, "days")?,
                hosting: text(v, "hosting"),
                testing: text(v, "testing"),
                other: text(v, "other"),
                condition: Some(if text(v, "if_funded").is_some() {
                    Condition::IfGoalReached
                } else {
                    Condition::Unconditional
                }),
                expires_at: text(v, "expires_at"),
            }),
            NeedForm::Cosign => NeedOp::Cosign(ops::CosignNeed {
                need,
                note: text(v, "note"),
            }),
            NeedForm::Offer => NeedOp::Offer(ops::NewOffer {
                need,
                price: ops::MoneyInput::Text(text(v, "price").unwrap_or_default()),
                days: days(v, "days")?,
                description: text(v, "description"),
                valid_until: text(v, "valid_until"),
            }),
            NeedForm::Status => NeedOp::Status(ops::SetNeedStatus {
                need,
                status: choice::<NeedStatus>(v, "status")?
                    .ok_or_else(|| Mistake::bad("status", "status: choose one"))?,
            }),
            NeedForm::Merge => NeedOp::Merge(ops::MergeNeed {
                need,
                into: text(v, "into").ok_or_else(|| Mistake::bad("into", "into: give the id of the other need"))?,
            }),
            NeedForm::Delivery => NeedOp::Delivery(ops::NewDelivery {
                need,
                release: text(v, "release")
                    .ok_or_else(|| Mistake::bad("release", "release: give the URL of the release, tag or commit"))?,
                note: text(v, "note"),
            }),
            NeedForm::Decision => NeedOp::Decision(ops::SetNeedDecision {
                need,
                decision: choice(v, "decision")?.ok_or_else(|| Mistake::bad("decision", "decision: choose one"))?,
            }),
        })
    }
}

/// The write of a need-scoped form.
enum NeedOp {
    Pledge(ops::NewPledge),
    Cosign(ops::CosignNeed),
    Offer(ops::NewOffer),
    Status(ops::SetNeedStatus),
    Merge(ops::MergeNeed),
    Delivery(ops::NewDelivery),
    Decision(ops::SetNeedDecision),
}

impl From<NeedOp> for ops::Request {
    fn from(op: NeedOp) -> Self {
        match op {
            NeedOp::Pledge(op) => op.into(),
            NeedOp::Cosign(op) => op.into(),
            NeedOp::Offer(op) => op.into(),
            NeedOp::Status(op) => op.into(),
            NeedOp::Merge(op) => op.into(),
            NeedOp::Delivery(op) => op.into(),
            NeedOp::Decision(op) => op.into(),
        }
    }
}

/// The GET (the form) and POST (the write) of one form on a need.
fn need_route(form: NeedForm) -> MethodRouter<WebState> {
    get(
        move |extract::State(ws): extract::State<WebState>, ctx: PageCtx, Path(id): Path<String>| {
            need_form_get(ws, ctx, id, form)
        },
    )
    .post(
        move |extract::State(ws): extract::State<WebState>, ctx: PageCtx, Path(id): Path<String>, req: Request| {
            need_form_post(ws, ctx, id, form, req)
        },
    )
}

async fn need_form_get(ws: WebState, ctx: PageCtx, id: String, form: NeedForm) -> Response {
    if let Some(r) = signed_out(&ctx) {
        return r;
    }
    match need_ref(&ws, id).await {
        Ok(need) => render(&ctx, StatusCode::OK, form.page(&ctx, &need, &Fields::new(), None)),
        Err(e) => private(error_page(&ctx, &e)),
    }
}

async fn need_form_post(ws: WebState, ctx: PageCtx, id: String, form: NeedForm, req: Request) -> Response {
    let v = match guard(&ws.auth, &ctx, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let need = match need_ref(&ws, id).await {
        Ok(need) => need,
        Err(e) => return private(error_page(&ctx, &e)),
    };
    let result = match form.op(need.id.to_string(), &v) {
        Ok(op) => write(&ws, None, op).await.map(|_| format!("/needs/{}", need.id)),
        Err(m) => Err(Failure::Mistake(m)),
    };
    answer(&ctx, result, |m| form.page(&ctx, &need, &v, Some(m)))
}

// ---------------------------------------------------------------------------
// Withdraw a pledge, retract a record

/// A record a confirmation page is about.
struct Target {
    id: RecordId,
    /// Its kind, e.g. `need`.
    kind: Kind,
    /// What it is, in a few words (a need's title, a pledge's need's title).
    label: String,
    /// The page to go back to once it is withdrawn or retracted.
    back: String,
    /// This node's member page.
    mine: String,
}

/// The record `prefix` names (of `kind`, if given) and what to show of it.
fn target(s: &state::Snapshot, prefix: &str, kind: Option<Kind>) -> Result<Target, state::Error> {
    let id = match kind {
        Some(k) => s.resolve_kind(prefix, k)?,
        None => s.resolve(prefix)?,
    };
    let index = s.index();
    let title_of = |need: &RecordId| match index.get(need).map(|r| &r.record().body) {
        Some(Body::Need(n)) => n.title.clone(),
        _ => need.to_string(),
    };
    let rec = index.get(&id).map(|r| r.record());
    let mine = format!("/members/{}", s.member_id());
    let (kind, label, back) = match rec.map(|r| (r.kind, &r.body)) {
        Some((k, Body::Need(n))) => (k, n.title.clone(), format!("/needs/{id}")),
        Some((k, Body::Project(p))) => (k, p.name.clone(), mine.clone()),
        Some((k, Body::Catalogue(c))) => (k, c.title.clone(), mine.clone()),
        Some((k, Body::Pledge(p))) => (k, title_of(&p.need), format!("/needs/{}", p.need)),
        Some((k, Body::Cosign(c))) => (k, title_of(&c.need), format!("/needs/{}", c.need)),
        Some((k, Body::Offer(o))) => (k, title_of(&o.need), format!("/needs/{}", o.need)),
        Some((k, _)) => (k, id.to_string(), mine.clone()),
        None => return Err(state::Error::UnknownId(prefix.to_owned())),
    };
    Ok(Target {
        id,
        kind,
        label,
        back,
        mine,
    })
}

async fn read_target(ws: &WebState, prefix: String, kind: Option<Kind>) -> Result<Target, PageError> {
    ws.handle
        .with_snapshot(move |s| target(s, &prefix, kind))
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .map_err(PageError::from)
}

/// The forms on one of the owner's pledges.
#[derive(Debug, Clone, Copy)]
enum PledgeForm {
    Withdraw,
    Move,
}

impl PledgeForm {
    fn page<'a>(self, ctx: &PageCtx, t: &Target, values: &'a Fields, mistake: Option<Mistake>) -> FormPage<'a> {
        let (title, text, path, fields, submit): (Key, Key, &str, &'static [Field], Key) = match self {
            PledgeForm::Withdraw => (
                Key::FormWithdraw,
                Key::FormWithdrawText,
                "withdraw",
                &[],
                Key::FormWithdrawSubmit,
            ),
            PledgeForm::Move => (
                Key::FormMove,
                Key::FormMoveText,
                "move",
                MOVE_FIELDS,
                Key::FormMoveSubmit,
            ),
        };
        FormPage {
            title,
            intro: html! {
                p.intro { (ctx.t(text)) " " a href=(t.back) { (t.label) } }
            },
            action: format!("/pledges/{}/{path}", t.id),
            fields,
            submit,
            values,
            mistake,
            hidden: None,
        }
    }
}

async fn pledge_form_get(ws: WebState, ctx: PageCtx, id: String, form: PledgeForm) -> Response {
    if let Some(r) = signed_out(&ctx) {
        return r;
    }
    match read_target(&ws, id, Some(Kind::Pledge)).await {
        Ok(t) => render(&ctx, StatusCode::OK, form.page(&ctx, &t, &Fields::new(), None)),
        Err(e) => private(error_page(&ctx, &e)),
    }
}

/// A checked POST on a pledge: its fields and the pledge, or the answer
/// that refuses it.
async fn pledge_post(ws: &WebState, ctx: &PageCtx, id: String, req: Request) -> Result<(Fields, Target), Response> {
    let v = guard(&ws.auth, ctx, req).await?;
    let t = read_target(ws, id, Some(Kind::Pledge))
        .await
        .map_err(|e| private(error_page(ctx, &e)))?;
    Ok((v, t))
}

async fn withdraw_form(extract::State(ws): extract::State<WebState>, ctx: PageCtx, Path(id): Path<String>) -> Response {
    pledge_form_get(ws, ctx, id, PledgeForm::Withdraw).await
}

async fn withdraw_submit(
    extract::State(ws): extract::State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let (v, t) = match pledge_post(&ws, &ctx, id, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (pledge, back) = (t.id.to_string(), t.back.clone());
    let result = write(&ws, None, ops::WithdrawPledge { pledge }).await.map(|_| back);
    answer(&ctx, result, |m| PledgeForm::Withdraw.page(&ctx, &t, &v, Some(m)))
}

async fn move_form(extract::State(ws): extract::State<WebState>, ctx: PageCtx, Path(id): Path<String>) -> Response {
    pledge_form_get(ws, ctx, id, PledgeForm::Move).await
}

async fn move_submit(
    extract::State(ws): extract::State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let (v, t) = match pledge_post(&ws, &ctx, id, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = match text(&v, "to") {
        Some(to) => {
            let op = ops::MovePledge {
                pledge: t.id.to_string(),
                to,
            };
            match write(&ws, Some("to"), op).await {
                Ok(new) => match moved_to(&ws, new).await {
                    Some(need) => Ok(format!("/needs/{need}#r-{new}")),
                    None => Ok(t.back.clone()),
                },
                Err(e) => Err(e),
            }
        }
        None => Err(Failure::Mistake(Mistake::bad("to", "to: give the id of the need"))),
    };
    answer(&ctx, result, |m| PledgeForm::Move.page(&ctx, &t, &v, Some(m)))
}

/// The need a pledge is on.
async fn moved_to(ws: &WebState, pledge: RecordId) -> Option<RecordId> {
    ws.handle
        .with_snapshot(move |s| match s.index().get(&pledge).map(|r| &r.record().body) {
            Some(Body::Pledge(p)) => Some(p.need),
            _ => None,
        })
        .await
        .ok()
        .flatten()
}

fn retract_page<'a>(ctx: &PageCtx, t: &Target, values: &'a Fields, mistake: Option<Mistake>) -> FormPage<'a> {
    FormPage {
        title: Key::FormRetract,
        intro: html! {
            p.intro { (ctx.t(Key::FormRetractText)) " " (t.kind) " " a href=(t.back) { (t.label) } }
            p.hint { (ctx.t(Key::FormRetractWarning)) }
        },
        action: format!("/records/{}/retract", t.id),
        fields: &[],
        submit: Key::FormRetractSubmit,
        values,
        mistake,
        hidden: None,
    }
}

async fn retract_form(extract::State(ws): extract::State<WebState>, ctx: PageCtx, Path(id): Path<String>) -> Response {
    if let Some(r) = signed_out(&ctx) {
        return r;
    }
    match read_target(&ws, id, None).await {
        Ok(t) => render(&ctx, StatusCode::OK, retract_page(&ctx, &t, &Fields::new(), None)),
        Err(e) => private(error_page(&ctx, &e)),
    }
}

async fn retract_submit(
    extract::State(ws): extract::State<WebState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let v = match guard(&ws.auth, &ctx, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let t = match read_target(&ws, id, None).await {
        Ok(t) => t,
        Err(e) => return private(error_page(&ctx, &e)),
    };
    let (record, back) = (t.id.to_string(), t.back.clone());
    let gone = matches!(t.kind, Kind::Need);
    // A retracted need has no page left.
    let next = if gone { t.mine.clone() } else { back };
    let result = write(&ws, None, ops::Retract { id: record }).await.map(|_| next);
    answer(&ctx, result, |m| retract_page(&ctx, &t, &v, Some(m)))
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;

// ---------------------------------------------------------------------------
// The replication policy (network page)

/// The network page's policy form: the new scope and hops apply at once and
/// are written to `config.toml` (`[replication]`), so a restart keeps them
/// (flags given to `mutu run` still win over the file).
async fn policy_submit(extract::State(ws): extract::State<WebState>, ctx: PageCtx, req: Request) -> Response {
    use mutu_protocol::trust::{MAX_HOPS, Scope};
    let v = match guard(&ws.auth, &ctx, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let bad = |why: String| private((StatusCode::BAD_REQUEST, why).into_response());
    let scope = match v.get("scope").map(String::as_str) {
        Some("trusted") => Scope::Trusted,
        Some("open") => Scope::Open,
        _ => return bad("scope: choose trusted or open".into()),
    };
    let hops = match v.get("hops").map(|h| h.trim().parse::<u8>()) {
        Some(Ok(h)) if h <= MAX_HOPS => h,
        _ => return bad(format!("hops: a whole number from 0 to {MAX_HOPS}")),
    };
    // Written first: a policy that could not be kept is not applied.
    let home = ws.handle.with_snapshot(|s| s.home().clone()).await;
    let saved = home.map_err(|e| e.to_string()).and_then(|home| {
        let path = home.config_path();
        let mut file = crate::runtime::FileConfig::load(&path).map_err(|e| e.to_string())?;
        let r = file.replication.get_or_insert_with(Default::default);
        r.scope = Some(scope.as_str().to_owned());
        r.hops = Some(hops);
        let text = toml::to_string(&file).map_err(|e| e.to_string())?;
        mutu_node::home::write_atomically(&path, 0o600, |f| std::io::Write::write_all(f, text.as_bytes()))
            .map_err(|e| e.to_string())
    });
    if let Err(e) = saved {
        return private(error_page(
            &ctx,
            &PageError::Internal(format!("cannot write config.toml: {e}")),
        ));
    }
    if let Err(e) = ws.handle.set_policy(scope, hops).await {
        return private(error_page(&ctx, &PageError::Internal(e.to_string())));
    }
    see_other("/network")
}
