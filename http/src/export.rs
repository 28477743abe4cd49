//! Exports for researchers, served by `mutu run` on its HTTP address: open
//! (no token), read-only, whole-registry files a spreadsheet or a script can
//! take as they are.
//!
//! - `/export/registry.json`: every record this node holds, tombstones and
//!   retracted records included, each with its signature and its
//!   verification status, so anyone can re-check it offline (see below);
//! - `/export/needs.csv`, `/export/pledges.csv`, `/export/projects.csv`:
//!   RFC 4180 CSV (CRLF line ends, a header row, fields quoted when they hold
//!   a comma, a quote or a line break); a cell starting with `=`, `+`, `-`,
//!   `@`, a tab or a carriage return gets a leading `'` so a spreadsheet
//!   never runs it as a formula;
//! - `/export/bundle`: the signed bundle, the same JSON as `mutu export`.
//!
//! `registry.json` is
//!
//! ```json
//! {"format": "mutu-registry-export", "version": 1, "generated_at": "2026-…Z",
//!  "node": "mu…", "signature_domain": "mutu/record/v1",
//!  "counts": {"valid": 80, "invalid": 1, "unsupported": 0},
//!  "records": [{"id", "kind", "author", "created_at", "updated_at", "retracted",
//!               "body", "signature", "signed_bytes",
//!               "verification": {"status": "valid"}}, …]}
//! ```
//!
//! `signature` is the record's 64-byte Ed25519 signature and `signed_bytes`
//! its canonical CBOR bytes, both base64: the signature verifies under the
//! author's key over `signature_domain ‖ signed_bytes`. Records this node
//! left out of its views follow the valid ones, with `doc` and `key` (where
//! they were found), whatever of them decodes, and `verification`
//! `{"status": "invalid" | "unsupported", "reason": "…"}`.
//!
//! Bounded work: the actor only takes a snapshot (reference-counted records,
//! no copies of their bytes); sorting, serialising and reading the bundle
//! from the store happen on a blocking thread, and `registry.json` streams
//! through a bounded channel. At most
//! [`MAX_CONCURRENT`] exports run at once; more get `503` with `Retry-After`.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mutu_protocol::Timestamp;
use mutu_protocol::identity::MemberId;
use mutu_protocol::money;
use mutu_protocol::record::{Invalid, Resource, SignedRecord};
use mutu_protocol::view::{Filter, Views};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::api::error::{ApiError, ErrorDetail};
use mutu_node::actor::Handle;
use mutu_node::state;

/// Exports that may run at once.
pub const MAX_CONCURRENT: usize = 2;
/// Bytes of `registry.json` gathered before a chunk is sent.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks waiting for the client.
const CHUNKS_IN_FLIGHT: usize = 4;
pub const FORMAT: &str = "mutu-registry-export";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone)]
struct Ctx {
    handle: Handle,
    permits: Arc<Semaphore>,
}

/// The export routes on `handle`.
pub fn router(handle: Handle) -> Router {
    Router::new()
        .route("/export/registry.json", get(registry_json))
        .route("/export/needs.csv", get(needs_csv))
        .route("/export/pledges.csv", get(pledges_csv))
        .route("/export/projects.csv", get(projects_csv))
        .route("/export/bundle", get(bundle))
        .with_state(Ctx {
            handle,
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT)),
        })
}

fn busy() -> Response {
    let err = ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        detail: ErrorDetail {
            code: "unavailable",
            message: format!("{MAX_CONCURRENT} exports are running already: retry in a few seconds"),
            field: None,
        },
    };
    let mut response = err.into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

fn permit(ctx: &Ctx) -> Option<OwnedSemaphorePermit> {
    ctx.permits.clone().try_acquire_owned().ok()
}

fn attachment(content_type: &'static str, filename: &str, body: Body) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// A word for an enum that serialises as one (`in_progress`, `funded`).
fn word<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

// ---------------------------------------------------------------- registry.json

/// A record left out of every view, with its bytes when the document has them.
#[derive(Debug, Clone)]
struct Left {
    doc: MemberId,
    key: String,
    reason: Invalid,
    bytes: Option<Vec<u8>>,
}

/// What `registry.json` is made from: a snapshot and the records left out
/// of the views (taken together in the actor), written outside it.
#[derive(Debug, Clone)]
struct Snapshot {
    node: MemberId,
    at: Timestamp,
    /// Valid records and whether their author retracted them.
    valid: Vec<(SignedRecord, bool)>,
    left: Vec<Left>,
}

impl Snapshot {
    fn of(st: &state::Snapshot, left_out: Vec<state::LeftOut>, at: Timestamp) -> Self {
        let index = st.index();
        let valid = index.all_valid().map(|r| (r.clone(), index.is_tombstoned(r))).collect();
        let left = left_out
            .into_iter()
            .map(|l| Left {
                doc: l.doc,
                key: l.key,
                reason: l.reason,
                bytes: l.bytes,
            })
            .collect();
        Self {
            node: st.member_id(),
            at,
            valid,
            left,
        }
    }

    fn sort(&mut self) {
        self.valid.sort_by_key(|(r, _)| (r.record().created_at, r.id()));
        self.left.sort_by(|a, b| (a.doc, &a.key).cmp(&(b.doc, &b.key)));
    }

    fn header(&self) -> Value {
        let unsupported = self.left.iter().filter(|l| l.reason == Invalid::Unsupported).count();
        json!({
            "format": FORMAT,
            "version": VERSION,
            "generated_at": self.at.to_string(),
            "node": self.node,
            "signature_domain": String::from_utf8_lossy(mutu_protocol::record::SIGNATURE_DOMAIN),
            "counts": {
                "valid": self.valid.len(),
                "invalid": self.left.len() - unsupported,
                "unsupported": unsupported,
            },
        })
    }

    /// Writes the whole JSON document through `send`, in chunks of about
    /// [`CHUNK_BYTES`]; stops early (returns false) once `send` refuses.
    fn write(mut self, mut send: impl FnMut(Vec<u8>) -> bool) -> bool {
        self.sort();
        let mut buf = Vec::with_capacity(CHUNK_BYTES * 2);
        let mut header = self.header().to_string();
        // The header object stays open for the records array.
        header.pop();
        buf.extend_from_slice(header.as_bytes());
        buf.extend_from_slice(b",\"records\":[");
        let mut first = true;
        let entries = self
            .valid
            .iter()
            .map(|(r, retracted)| valid_entry(r, *retracted))
            .chain(self.left.iter().map(left_entry));
        for entry in entries {
            if !first {
                buf.push(b',');
            }
            first = false;
            buf.push(b'\n');
            // A `Value` always serialises.
            let _ = serde_json::to_writer(&mut buf, &entry);
            if buf.len() >= CHUNK_BYTES && !send(std::mem::replace(&mut buf, Vec::with_capacity(CHUNK_BYTES * 2))) {
                return false;
            }
        }
        buf.extend_from_slice(b"\n]}\n");
        send(buf)
    }

    /// The whole document as one value (tests).
    #[cfg(test)]
    fn into_value(self) -> Value {
        let mut out = Vec::new();
        self.write(|chunk| {
            out.extend_from_slice(&chunk);
            true
        });
        serde_json::from_slice(&out).unwrap_or(Value::Null)
    }
}

fn b64(bytes: &[u8]) -> String {
    data_encoding::BASE64.encode(bytes)
}

const SIG_LEN: usize = 64;

fn record_fields(r: &SignedRecord) -> serde_json::Map<String, Value> {
    let rec = r.record();
    let mut m = serde_json::Map::new();
    m.insert("id".into(), json!(rec.id));
    m.insert("kind".into(), json!(rec.kind));
    m.insert("author".into(), json!(rec.author));
    m.insert("created_at".into(), json!(rec.created_at));
    m.insert("updated_at".into(), json!(rec.updated_at));
    m.insert("body".into(), serde_json::to_value(&rec.body).unwrap_or(Value::Null));
    m
}

fn signature_fields(m: &mut serde_json::Map<String, Value>, stored: &[u8]) {
    if stored.len() > SIG_LEN {
        m.insert("signature".into(), json!(b64(&stored[..SIG_LEN])));
        m.insert("signed_bytes".into(), json!(b64(&stored[SIG_LEN..])));
    } else {
        m.insert("stored_bytes".into(), json!(b64(stored)));
    }
}

fn valid_entry(r: &SignedRecord, retracted: bool) -> Value {
    let mut m = record_fields(r);
    m.insert("retracted".into(), json!(retracted));
    signature_fields(&mut m, &r.stored_bytes());
    m.insert("verification".into(), json!({"status": "valid"}));
    Value::Object(m)
}

fn left_entry(l: &Left) -> Value {
    let decoded = l.bytes.as_deref().and_then(|b| SignedRecord::decode(b).ok());
    let mut m = decoded.as_ref().map(record_fields).unwrap_or_default();
    m.insert("doc".into(), json!(l.doc));
    m.insert("key".into(), json!(l.key));
    if let Some(bytes) = &l.bytes {
        signature_fields(&mut m, bytes);
    }
    let status = if l.reason == Invalid::Unsupported {
        "unsupported"
    } else {
        "invalid"
    };
    m.insert(
        "verification".into(),
        json!({"status": status, "reason": l.reason.to_string()}),
    );
    Value::Object(m)
}

async fn registry_json(extract::State(ctx): extract::State<Ctx>) -> Response {
    let Some(permit) = permit(&ctx) else {
        return busy();
    };
    let now = state::now();
    let (taken, left_out) = match ctx.handle.left_out().await {
        Ok(t) => t,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (tx, rx) = mpsc::channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let snapshot = Snapshot::of(&taken, left_out, now);
        // A client that goes away closes the channel: writing stops.
        snapshot.write(|chunk| tx.blocking_send(chunk).is_ok());
    });
    let stream = libp2p::futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, Infallible>(Bytes::from(chunk)), rx))
    });
    attachment("application/json", "mutu-registry.json", Body::from_stream(stream))
}

// ---------------------------------------------------------------------- CSV

/// A cell as a spreadsheet must see it: formulas neutralised, quoted when needed.
pub fn csv_cell(value: &str) -> Cow<'_, str> {
    let neutral: Cow<'_, str> = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", neutral.replace('"', "\"\"")))
    } else {
        neutral
    }
}

/// An RFC 4180 document being written.
#[derive(Debug, Default)]
pub struct Csv {
    out: String,
}

impl Csv {
    pub fn new(header: &[&str]) -> Self {
        let mut csv = Self::default();
        csv.row(header.iter().map(|h| (*h).to_owned()));
        csv
    }

    pub fn row(&mut self, cells: impl IntoIterator<Item = String>) {
        for (i, c) in cells.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.out.push_str(&csv_cell(&c));
        }
        self.out.push_str("\r\n");
    }

    pub fn finish(self) -> String {
        self.out
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn author_name(views: &Views<'_>, m: &MemberId) -> String {
    views.member(m).profile.map(|p| p.name.clone()).unwrap_or_default()
}

pub const NEEDS_HEADER: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "author",
    "author_name",
    "title",
    "status",
    "funding_state",
    "goal",
    "goal_currency",
    "pledged_in_goal_currency",
    "percent",
    "pledged_all_currencies",
    "days_goal",
    "days_pledged",
    "deadline",
    "cosigners",
    "pledges",
    "offers",
    "project",
    "project_name",
    "tags",
];

/// `needs.csv`: one row per visible need, oldest first.
pub fn needs_csv_of(views: &Views<'_>) -> String {
    let mut csv = Csv::new(NEEDS_HEADER);
    for n in views.needs(&Filter::default()) {
        let goal_currency = n.goal.map(|g| g.currency);
        let pledged_goal = goal_currency.map(|c| money::format_minor(n.funding.pledged.get(c), c));
        let pledged_all = n
            .funding
            .pledged
            .iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        let project_name = n
            .project
            .and_then(|p| views.index().get(&p))
            .and_then(|p| match &p.record().body {
                mutu_protocol::record::Body::Project(p) => Some(p.name.clone()),
                _ => None,
            });
        csv.row([
            n.id.to_string(),
            n.created_at.to_string(),
            n.updated_at.to_string(),
            n.author.to_string(),
            author_name(views, &n.author),
            n.title.clone(),
            word(&n.status),
            word(&n.funding.state),
            opt(n.goal.map(|g| money::format_minor(g.amount_minor, g.currency))),
            opt(goal_currency),
            opt(pledged_goal),
            opt(n.funding.percent),
            pledged_all,
            opt(n.days_goal),
            n.funding.days_pledged.to_string(),
            opt(n.deadline),
            n.cosigners.len().to_string(),
            n.pledges.len().to_string(),
            n.offers.len().to_string(),
            opt(n.project),
            opt(project_name),
            n.tags.join(";"),
        ]);
    }
    csv.finish()
}

pub const PLEDGES_HEADER: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "author",
    "author_name",
    "need",
    "need_title",
    "resource",
    "amount",
    "currency",
    "days",
    "text",
    "condition",
    "expires_at",
    "status",
    "effect",
];

/// `pledges.csv`: one row per visible pledge, oldest first.
pub fn pledges_csv_of(views: &Views<'_>) -> String {
    let mut csv = Csv::new(PLEDGES_HEADER);
    for p in views.pledges(&Filter::default()) {
        let rec = &p.record;
        let mutu_protocol::record::Body::Pledge(body) = rec.body else {
            continue;
        };
        let need_title = views.index().get(&body.need).and_then(|n| match &n.record().body {
            mutu_protocol::record::Body::Need(n) => Some(n.title.clone()),
            _ => None,
        });
        let (amount_text, currency, days, text) = match &body.resource {
            Resource::Money(m) => (
                money::format_minor(m.amount_minor, m.currency),
                m.currency.code().to_owned(),
                String::new(),
                String::new(),
            ),
            Resource::DevDays { days } => (String::new(), String::new(), days.to_string(), String::new()),
            Resource::Hosting { text } | Resource::Testing { text } | Resource::Other { text } => {
                (String::new(), String::new(), String::new(), text.clone())
            }
            _ => (String::new(), String::new(), String::new(), String::new()),
        };
        csv.row([
            rec.id.to_string(),
            rec.created_at.to_string(),
            rec.updated_at.to_string(),
            rec.author.to_string(),
            author_name(views, &rec.author),
            body.need.to_string(),
            opt(need_title),
            body.resource.name().to_owned(),
            amount_text,
            currency,
            days,
            text,
            word(&body.condition),
            opt(body.expires_at),
            word(&body.status),
            word(&p.effect),
        ]);
    }
    csv.finish()
}

pub const PROJECTS_HEADER: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "author",
    "author_name",
    "name",
    "license",
    "repository",
    "homepage",
    "status",
    "tags",
    "is_based_on",
    "users",
    "catalogues",
    "needs",
    "forks",
    "providers",
];

/// `projects.csv`: one row per visible project, oldest first.
pub fn projects_csv_of(views: &Views<'_>) -> String {
    let mut csv = Csv::new(PROJECTS_HEADER);
    for p in views.projects(&Filter::default()) {
        let rec = &p.record;
        let mutu_protocol::record::Body::Project(body) = rec.body else {
            continue;
        };
        csv.row([
            rec.id.to_string(),
            rec.created_at.to_string(),
            rec.updated_at.to_string(),
            rec.author.to_string(),
            author_name(views, &rec.author),
            body.name.clone(),
            body.license.clone(),
            opt(body.repository.as_ref()),
            opt(body.homepage.as_ref()),
            word(&body.status),
            body.tags.join(";"),
            opt(body.is_based_on),
            p.users.len().to_string(),
            p.catalogues.len().to_string(),
            p.needs.len().to_string(),
            p.forks.len().to_string(),
            p.providers.len().to_string(),
        ]);
    }
    csv.finish()
}

async fn csv(ctx: Ctx, filename: &'static str, make: fn(&Views<'_>) -> String) -> Response {
    let Some(_permit) = permit(&ctx) else {
        return busy();
    };
    let now = state::now();
    match ctx.handle.with_snapshot(move |s| make(&s.views(now))).await {
        Ok(text) => attachment("text/csv; charset=utf-8", filename, Body::from(text)),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn needs_csv(extract::State(ctx): extract::State<Ctx>) -> Response {
    csv(ctx, "mutu-needs.csv", needs_csv_of).await
}

async fn pledges_csv(extract::State(ctx): extract::State<Ctx>) -> Response {
    csv(ctx, "mutu-pledges.csv", pledges_csv_of).await
}

async fn projects_csv(extract::State(ctx): extract::State<Ctx>) -> Response {
    csv(ctx, "mutu-projects.csv", projects_csv_of).await
}

// ------------------------------------------------------------------- bundle

async fn bundle(extract::State(ctx): extract::State<Ctx>) -> Response {
    let Some(permit) = permit(&ctx) else {
        return busy();
    };
    // Reading the store and serialising both run on a blocking thread.
    let text = ctx
        .handle
        .with_snapshot(move |s| {
            let _permit = permit;
            s.export().map(|exported| {
                // `mutu export` prints the same text and a newline.
                let mut t = exported.to_json();
                t.push('\n');
                t
            })
        })
        .await;
    match text {
        Ok(Ok(t)) => attachment("application/json", "mutu-bundle.json", Body::from(t)),
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests;
