//! Who may write through the web UI: the node's owner, signed in with a
//! one-time login URL that `mutu run` / `mutu ui` prints.
//!
//! - A login token is 32 random bytes (hex), valid [`LOGIN_TTL`], usable
//!   once. At most [`MAX_LOGINS`] unused ones exist; minting more drops the
//!   oldest.
//! - `GET /login/{token}` consumes it and creates a session: a random 32-byte
//!   id in the `mutu_session` cookie (`HttpOnly; SameSite=Strict; Path=/`,
//!   plus `Secure` when the request came over https). At most
//!   [`MAX_SESSIONS`] sessions exist, each for [`SESSION_TTL`].
//! - Each session has its own CSRF token. Every form carries it in a hidden
//!   field; every POST needs the cookie, the matching token (compared in
//!   constant time) and no foreign `Origin`.
//! - Only SHA-256 digests of tokens and ids are kept, and nothing secret is
//!   logged or printed by `Debug`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::{COOKIE, HOST, ORIGIN};
use data_encoding::HEXLOWER;
use sha2::{Digest, Sha256};

use crate::api::auth::same_secret;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "mutu_session";
/// The hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// How long a login URL stays valid.
pub const LOGIN_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);
/// At most this many unused login tokens.
pub const MAX_LOGINS: usize = 16;
/// At most this many sessions.
pub const MAX_SESSIONS: usize = 64;

type Digest32 = [u8; 32];

/// A signed-in browser.
#[derive(Clone)]
pub struct Session {
    /// The token its forms must send back in the [`CSRF_FIELD`] field.
    pub csrf: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("csrf", &"…").finish()
    }
}

struct Entry {
    csrf: String,
    expires: Instant,
}

#[derive(Default)]
struct Inner {
    /// Digest of an unused login token → when it expires.
    logins: HashMap<Digest32, Instant>,
    /// Digest of a session id → the session.
    sessions: HashMap<Digest32, Entry>,
}

impl Inner {
    fn prune(&mut self, now: Instant) {
        self.logins.retain(|_, exp| *exp > now);
        self.sessions.retain(|_, e| e.expires > now);
    }
}

/// The web UI's login tokens and sessions, in memory (a restart signs
/// everyone out). Cheap to clone; clones share.
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("Sessions")
            .field("logins", &inner.logins.len())
            .field("sessions", &inner.sessions.len())
            .finish()
    }
}

/// Why a POST is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// No valid session cookie (401).
    NotSignedIn,
    /// Missing or wrong CSRF token, or a foreign `Origin` (403).
    Forbidden,
}

fn random_hex() -> String {
    let bytes: [u8; 32] = rand::random();
    HEXLOWER.encode(&bytes)
}

fn digest(secret: &str) -> Digest32 {
    Sha256::digest(secret.as_bytes()).into()
}

/// The value of cookie `name` in `headers`, if any.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim())
}

/// `host[:port]` of an `Origin` value (`scheme://host[:port]`), lowercased.
fn origin_authority(origin: &str) -> Option<String> {
    let (_, rest) = origin.split_once("://")?;
    Some(rest.trim_end_matches('/').to_ascii_lowercase())
}

/// Whether `headers` show a request from another site. Browsers that send
/// `Sec-Fetch-Site` say it outright: anything but `same-origin` is foreign.
/// Otherwise an `Origin` that is not this host (`null` included) is. (A
/// browser sends `Origin: null` on a same-origin form post from a page
/// served with `Referrer-Policy: no-referrer`, so `Sec-Fetch-Site` must win.)
pub fn foreign_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !site.eq_ignore_ascii_case("same-origin");
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return false;
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    match (origin.to_str().ok().and_then(origin_authority), host) {
        (Some(o), Some(h)) => o != h,
        // "null", garbage, or no Host to compare with.
        _ => true,
    }
}

/// Whether the request came over https (through a proxy that says so: the
/// node itself serves plain HTTP). Only used to add `Secure` to the cookie,
/// which can only make it stricter.
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

impl Sessions {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves maps that are still valid.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Mints a one-time login token, valid [`LOGIN_TTL`].
    pub fn login_token(&self) -> String {
        let now = Instant::now();
        let token = random_hex();
        let mut inner = self.lock();
        inner.prune(now);
        while inner.logins.len() >= MAX_LOGINS {
            let Some(oldest) = inner.logins.iter().min_by_key(|(_, exp)| **exp).map(|(k, _)| *k) else {
                break;
            };
            inner.logins.remove(&oldest);
        }
        inner.logins.insert(digest(&token), now + LOGIN_TTL);
        token
    }

    /// Mints a one-time login URL for the web UI served on `http`:
    /// `http://ADDR/login/TOKEN` (an unspecified address becomes loopback).
    pub fn login_url(&self, http: SocketAddr) -> String {
        let mut addr = http;
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        format!("http://{addr}/login/{}", self.login_token())
    }

    /// Consumes login `token`: a new session's id (for the cookie) and the
    /// session, or `None` if the token is unknown, used or expired.
    pub fn login(&self, token: &str) -> Option<(String, Session)> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.prune(now);
        inner.logins.remove(&digest(token))?;
        while inner.sessions.len() >= MAX_SESSIONS {
            let Some(oldest) = inner.sessions.iter().min_by_key(|(_, e)| e.expires).map(|(k, _)| *k) else {
                break;
            };
            inner.sessions.remove(&oldest);
        }
        let id = random_hex();
        let csrf = random_hex();
        inner.sessions.insert(
            digest(&id),
            Entry {
                csrf: csrf.clone(),
                expires: now + SESSION_TTL,
            },
        );
        Some((id, Session { csrf }))
    }

    /// The session whose cookie `headers` carry, if it is valid.
    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, COOKIE_NAME)?;
        let now = Instant::now();
        let inner = self.lock();
        let entry = inner.sessions.get(&digest(id)).filter(|e| e.expires > now)?;
        Some(Session {
            csrf: entry.csrf.clone(),
        })
    }

    /// Ends the session whose cookie `headers` carry (if any).
    pub fn logout(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, COOKIE_NAME) {
            self.lock().sessions.remove(&digest(id));
        }
    }

    /// Checks a POST: no foreign origin, a valid session cookie, and `csrf`
    /// (the form's field) equal to the session's token.
    pub fn check_post(&self, headers: &HeaderMap, csrf: Option<&str>) -> Result<Session, Refusal> {
        if foreign_origin(headers) {
            return Err(Refusal::Forbidden);
        }
        let session = self.session(headers).ok_or(Refusal::NotSignedIn)?;
        match csrf {
            Some(sent) if same_secret(sent.as_bytes(), session.csrf.as_bytes()) => Ok(session),
            _ => Err(Refusal::Forbidden),
        }
    }
}

/// The `Set-Cookie` value that stores session `id`.
pub fn session_cookie(id: &str, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!(
        "{COOKIE_NAME}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        SESSION_TTL.as_secs()
    )
}

/// The `Set-Cookie` value that clears the session cookie.
pub fn clear_cookie(https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!("{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}")
}

/// What `POST /api/v1/ui/login` answers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LoginUrl {
    pub url: String,
}

/// `POST /api/v1/ui/login` (bearer token, like every API write): a fresh
/// one-time login URL for `mutu ui`. `http` is where the node serves HTTP.
pub fn api_routes(sessions: Sessions, token: String, http: SocketAddr) -> axum::Router {
    use axum::response::IntoResponse;

    let token: Arc<str> = token.into();
    let handler = move |headers: HeaderMap| {
        let (sessions, token) = (sessions.clone(), token.clone());
        async move {
            if !crate::api::auth::authorised(&headers, &token) {
                return crate::api::error::ApiError::unauthorized().into_response();
            }
            let url = sessions.login_url(http);
            (
                [(axum::http::header::CACHE_CONTROL, "no-store")],
                axum::Json(LoginUrl { url }),
            )
                .into_response()
        }
    };
    axum::Router::new().route("/api/v1/ui/login", axum::routing::post(handler))
}
