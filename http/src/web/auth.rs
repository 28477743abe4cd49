//! Who may write through the web UI: the node's owner, signed in with a
//! one-time login URL that `mutu run` / `mutu ui` prints.
//!
//! - A login token is 32 random bytes (hex), valid [`LOGIN_TTL`], usable
//!   once. At most [`MAX_LOGINS`] unused ones exist; minting more drops the
//!   oldest. They live in memory only: a restart voids them.
//! - `GET /login/{token}` consumes it and creates a session: a random 32-byte
//!   id in the `mutu_session` cookie (`HttpOnly; SameSite=Strict; Path=/`,
//!   plus `Secure` when the request came over https). At most
//!   [`MAX_SESSIONS`] sessions exist, each for [`SESSION_TTL`]; a new one
//!   evicts the oldest.
//! - Each session has its own CSRF token, derived from its id (SHA-256 of a
//!   label and the id: the token does not give the id away). Every form
//!   carries it in a hidden field; every POST needs the cookie, the matching
//!   token (compared in constant time) and no foreign `Origin`.
//! - Only SHA-256 digests of tokens and ids are kept, and nothing secret is
//!   logged or printed by `Debug`.
//! - Sessions opened with [`Sessions::open`] survive a restart: each change
//!   writes the digests of the session ids and their expiry (nothing else) to
//!   [`FILE`] in the home, atomically, mode 0600. Loading drops expired
//!   sessions and keeps [`MAX_SESSIONS`] at most; a file that is damaged,
//!   over [`MAX_FILE`] bytes or not a file is logged and ignored, so the node
//!   starts whatever the file holds.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use axum::http::HeaderMap;
use axum::http::header::{COOKIE, HOST, ORIGIN};
use data_encoding::HEXLOWER;
use mutu_node::home::{self, Home};
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
/// The file in the home that keeps the sessions across restarts.
pub const FILE: &str = "web-sessions.json";
/// The largest sessions file read (64 sessions take about 7 KiB).
pub const MAX_FILE: u64 = 64 * 1024;
/// The version of the sessions file this code writes and reads.
const FILE_VERSION: u32 = 1;
/// What the CSRF token of a session is derived with.
const CSRF_LABEL: &[u8] = b"mutu/web/csrf/v1\0";

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

/// Seconds since the Unix epoch, on the wall clock (a session's expiry must
/// mean the same after a restart, which `Instant` does not).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A session, as kept: when it ends, and when it began relative to others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    /// When it expires (Unix seconds).
    expires: u64,
    /// Its rank of creation (or of loading), to tell the oldest of sessions
    /// that expire in the same second.
    rank: u64,
}

#[derive(Default)]
struct Inner {
    /// Digest of an unused login token → when it expires.
    logins: HashMap<Digest32, Instant>,
    /// Digest of a session id → the session.
    sessions: HashMap<Digest32, Entry>,
    /// The rank of the next session.
    next_rank: u64,
    /// Counts the changes to `sessions`, so that a slow writer never
    /// overwrites the file with an older state than one already written.
    generation: u64,
}

impl Inner {
    fn prune(&mut self, now: Instant, unix: u64) {
        self.logins.retain(|_, exp| *exp > now);
        let expired: Vec<Digest32> = self
            .sessions
            .iter()
            .filter(|(_, e)| e.expires <= unix)
            .map(|(k, _)| *k)
            .collect();
        for k in expired {
            self.remove_session(&k);
        }
    }

    fn add_session(&mut self, digest: Digest32, expires: u64) {
        let rank = self.next_rank;
        self.next_rank += 1;
        self.sessions.insert(digest, Entry { expires, rank });
        self.generation += 1;
    }

    fn remove_session(&mut self, digest: &Digest32) -> bool {
        let removed = self.sessions.remove(digest).is_some();
        if removed {
            self.generation += 1;
        }
        removed
    }

    /// Drops the sessions that expire first (the oldest first among those
    /// that expire in the same second) until at most `max` are left.
    fn bound_sessions(&mut self, max: usize) {
        while self.sessions.len() > max {
            let Some(oldest) = self.sessions.iter().min_by_key(|(_, e)| **e).map(|(k, _)| *k) else {
                break;
            };
            self.remove_session(&oldest);
        }
    }
}

/// Where the sessions are kept across restarts.
struct Store {
    path: PathBuf,
    /// The generation last written (under this lock, one writer at a time).
    written: Mutex<u64>,
}

/// The web UI's login tokens and sessions. [`Sessions::new`] keeps them in
/// memory only; [`Sessions::open`] also keeps the sessions in the home.
/// Cheap to clone; clones share.
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<Inner>>,
    store: Option<Arc<Store>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("Sessions")
            .field("logins", &inner.logins.len())
            .field("sessions", &inner.sessions.len())
            .field("file", &self.store.as_ref().map(|s| &s.path))
            .finish()
    }
}

/// The sessions file: digests of session ids and expiries, nothing secret.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    sessions: Vec<Stored>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    /// SHA-256 of the session id, hex.
    id_sha256: String,
    /// When the session ends, in seconds since the Unix epoch.
    expires: u64,
}

/// Why a sessions file was not loaded.
#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("it is not a regular file")]
    NotAFile,
    #[error("it is larger than {MAX_FILE} bytes")]
    TooLarge,
    #[error("it cannot be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("it is not a sessions file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("it has version {0}, this node reads version {FILE_VERSION}")]
    Version(u32),
    #[error("a session id digest is not 64 hex characters")]
    Digest,
}

/// The sessions `path` holds that are still valid at `unix`, at most
/// [`MAX_SESSIONS`] (the last to expire), none past `unix + SESSION_TTL`;
/// `Ok(None)` when there is no file.
fn load(path: &Path, unix: u64) -> Result<Option<Inner>, LoadError> {
    // Only a regular file is opened: a FIFO planted there would block the
    // start, a device would never end.
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(LoadError::NotAFile),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(LoadError::TooLarge);
    }
    let file: File = serde_json::from_slice(&bytes)?;
    if file.version != FILE_VERSION {
        return Err(LoadError::Version(file.version));
    }
    let latest = unix.saturating_add(SESSION_TTL.as_secs());
    let mut inner = Inner::default();
    for s in file.sessions {
        let digest: Digest32 = HEXLOWER
            .decode(s.id_sha256.as_bytes())
            .ok()
            .and_then(|d| d.try_into().ok())
            .ok_or(LoadError::Digest)?;
        if s.expires > unix {
            // A clock set back, or a hand-edited file: no longer than a
            // session made now.
            inner.add_session(digest, s.expires.min(latest));
        }
    }
    inner.bound_sessions(MAX_SESSIONS);
    Ok(Some(inner))
}

/// The bytes of the sessions file for `inner`'s sessions, oldest first.
fn encode(inner: &Inner) -> Vec<u8> {
    let mut sessions: Vec<(&Digest32, &Entry)> = inner.sessions.iter().collect();
    sessions.sort_by_key(|(_, e)| **e);
    let stored: Vec<Stored> = sessions
        .into_iter()
        .map(|(digest, e)| Stored {
            id_sha256: HEXLOWER.encode(digest),
            expires: e.expires,
        })
        .collect();
    let file = File {
        version: FILE_VERSION,
        sessions: stored,
    };
    // Serializing strings and integers does not fail.
    serde_json::to_vec_pretty(&file).unwrap_or_default()
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

/// The CSRF token of session `id`.
fn csrf_of(id: &str) -> String {
    let mut h = Sha256::new();
    h.update(CSRF_LABEL);
    h.update(id.as_bytes());
    HEXLOWER.encode(&h.finalize())
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
    /// Sessions in memory only (a restart signs everyone out).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sessions kept in `home` ([`FILE`]) across restarts: those of the
    /// file that are still valid, or none if the file is missing, or
    /// damaged (logged, then overwritten at the next sign-in).
    pub fn open(home: &Home) -> Self {
        let path = home.root().join(FILE);
        let mut inner = Inner::default();
        match load(&path, unix_now()) {
            Ok(Some(loaded)) => inner = loaded,
            Ok(None) => {}
            Err(e) => tracing::warn!(
                path = %path.display(),
                "ignoring the web sessions file ({e}): browsers must sign in again"
            ),
        }
        Self {
            inner: Arc::new(Mutex::new(inner)),
            store: Some(Arc::new(Store {
                path,
                written: Mutex::new(0),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves maps that are still valid.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes the sessions to the file, if they are kept in one and changed
    /// since it was last written. A failure is logged: the sessions still
    /// work until the node stops.
    fn save(&self) {
        let Some(store) = &self.store else { return };
        let (generation, bytes) = {
            let inner = self.lock();
            (inner.generation, encode(&inner))
        };
        let mut written = store.written.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if *written >= generation {
            // A later state is already on disk.
            return;
        }
        match home::write_atomically(&store.path, 0o600, |f| f.write_all(&bytes)) {
            Ok(()) => *written = generation,
            Err(e) => tracing::warn!(error = %e, "cannot save the web sessions: they end when the node stops"),
        }
    }

    /// Mints a one-time login token, valid [`LOGIN_TTL`].
    pub fn login_token(&self) -> String {
        let now = Instant::now();
        let token = random_hex();
        let mut inner = self.lock();
        inner.prune(now, unix_now());
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
        let id = {
            let unix = unix_now();
            let mut inner = self.lock();
            inner.prune(Instant::now(), unix);
            inner.logins.remove(&digest(token))?;
            inner.bound_sessions(MAX_SESSIONS - 1);
            let id = random_hex();
            inner.add_session(digest(&id), unix.saturating_add(SESSION_TTL.as_secs()));
            id
        };
        self.save();
        let session = Session { csrf: csrf_of(&id) };
        Some((id, session))
    }

    /// The session whose cookie `headers` carry, if it is valid.
    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, COOKIE_NAME)?;
        let unix = unix_now();
        let live = self.lock().sessions.get(&digest(id)).is_some_and(|e| e.expires > unix);
        live.then(|| Session { csrf: csrf_of(id) })
    }

    /// Ends the session whose cookie `headers` carry (if any).
    pub fn logout(&self, headers: &HeaderMap) {
        let Some(id) = cookie(headers, COOKIE_NAME) else { return };
        let removed = self.lock().remove_session(&digest(id));
        if removed {
            self.save();
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
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LoginUrl {
    pub url: String,
}

/// Where the web UI is, for its login links: its sessions and the address
/// the node serves HTTP on.
#[derive(Clone)]
pub struct Login {
    pub sessions: Sessions,
    pub http: SocketAddr,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The sessions are secrets.
        f.debug_struct("Login")
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

/// A fresh one-time login URL for the web UI (what `mutu ui` prints).
#[utoipa::path(post, path = "/api/v1/ui/login", tag = "control",
    security(("bearer" = [])),
    responses((status = 200, body = LoginUrl), crate::api::error::WriteErrors))]
pub async fn ui_login(
    _: crate::api::auth::Authorized,
    axum::extract::State(ctx): axum::extract::State<crate::api::Ctx>,
) -> Result<impl axum::response::IntoResponse, crate::api::error::ApiError> {
    let login = ctx
        .login
        .ok_or_else(|| crate::api::error::ApiError::not_found("this node serves no web UI to sign in to"))?;
    let url = login.sessions.login_url(login.http);
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(LoginUrl { url }),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn home() -> (tempfile::TempDir, Home) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(dir.path().to_owned())).unwrap();
        (dir, home)
    }

    fn headers(id: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, format!("lang=fr; {COOKIE_NAME}={id}").parse().unwrap());
        h
    }

    /// Signs in: the session id and its CSRF token.
    fn sign_in(s: &Sessions) -> (String, String) {
        let (id, session) = s.login(&s.login_token()).unwrap();
        (id, session.csrf)
    }

    fn file(home: &Home) -> PathBuf {
        home.root().join(FILE)
    }

    fn count(s: &Sessions) -> usize {
        s.lock().sessions.len()
    }

    #[test]
    fn sessions_survive_reopening_and_the_file_holds_no_secret() {
        let (_dir, home) = home();
        let before = Sessions::open(&home);
        assert!(!file(&home).exists(), "nothing written before a sign-in");
        let unused = before.login_token();
        let (id, csrf) = sign_in(&before);
        let (gone, _) = sign_in(&before);
        before.logout(&headers(&gone));

        // The file: the digest of the live session, its expiry, nothing else.
        let text = std::fs::read_to_string(file(&home)).unwrap();
        for secret in [&id, &csrf, &unused, &gone] {
            assert!(!text.contains(secret.as_str()), "{text}");
        }
        assert!(text.contains(&HEXLOWER.encode(&digest(&id))), "{text}");
        assert!(!text.contains(&HEXLOWER.encode(&digest(&gone))), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file(&home)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // A restart: the session and its CSRF token still work; the
        // session signed out and the unused login token do not.
        drop(before);
        let after = Sessions::open(&home);
        assert_eq!(after.session(&headers(&id)).unwrap().csrf, csrf);
        assert!(after.check_post(&headers(&id), Some(&csrf)).is_ok());
        assert!(after.session(&headers(&gone)).is_none());
        assert!(after.login(&unused).is_none(), "login links do not survive a restart");

        // Signing out after the restart is kept too.
        after.logout(&headers(&id));
        assert!(Sessions::open(&home).session(&headers(&id)).is_none());
        // An in-memory store writes nothing.
        let (_dir2, other) = self::home();
        let memory = Sessions::new();
        sign_in(&memory);
        assert!(!file(&other).exists());
    }

    #[test]
    fn loading_drops_expired_sessions_bounds_the_rest_and_caps_expiries() {
        let (_dir, home) = home();
        let now = unix_now();
        let ttl = SESSION_TTL.as_secs();
        let stored = |id: &str, expires: u64| Stored {
            id_sha256: HEXLOWER.encode(&digest(id)),
            expires,
        };
        let mut sessions = vec![stored("expired", now - 1), stored("far", now + 100 * ttl)];
        // More than the bound: the ones that end first give way.
        for i in 0..MAX_SESSIONS + 5 {
            sessions.push(stored(&format!("s{i}"), now + 60 + i as u64));
        }
        let bytes = serde_json::to_vec(&File {
            version: FILE_VERSION,
            sessions,
        })
        .unwrap();
        std::fs::write(file(&home), bytes).unwrap();

        let s = Sessions::open(&home);
        assert_eq!(count(&s), MAX_SESSIONS);
        assert!(s.session(&headers("expired")).is_none());
        let far = s.lock().sessions[&digest("far")].expires;
        assert!(far <= unix_now() + ttl, "an expiry past a new session's is cut to it");
        for i in 0..6 {
            assert!(s.session(&headers(&format!("s{i}"))).is_none(), "s{i} ended first");
        }
        assert!(s.session(&headers(&format!("s{}", MAX_SESSIONS + 4))).is_some());
    }

    /// Whatever the file holds, opening gives working sessions: the file is
    /// logged and ignored, and the next sign-in writes a good one where it
    /// can.
    #[test]
    fn a_damaged_oversized_or_strange_sessions_file_is_ignored() {
        let valid = |extra: &str| {
            format!(
                r#"{{"version": 1, "sessions": [{{"id_sha256": "{}", "expires": {}}}]}}{extra}"#,
                HEXLOWER.encode(&digest("planted")),
                unix_now() + 600,
            )
        };
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("binary", vec![0xff, 0x00, 0xfe, 0x7b]),
            ("truncated", valid("").as_bytes()[..40].to_vec()),
            ("not an object", b"[1, 2, 3]".to_vec()),
            (
                "unknown field",
                valid("")
                    .replace("\"expires\"", "\"csrf\": \"x\", \"expires\"")
                    .into_bytes(),
            ),
            (
                "newer version",
                valid("").replace("\"version\": 1", "\"version\": 2").into_bytes(),
            ),
            (
                "bad digest",
                valid("")
                    .replace("\"id_sha256\": \"", "\"id_sha256\": \"zz")
                    .into_bytes(),
            ),
            (
                "negative expiry",
                valid("").replace("\"expires\": ", "\"expires\": -").into_bytes(),
            ),
            // Valid JSON, padded past the limit.
            ("oversized", valid(&" ".repeat(MAX_FILE as usize)).into_bytes()),
        ];
        for (what, bytes) in cases {
            let (_dir, home) = home();
            std::fs::write(file(&home), &bytes).unwrap();
            let s = Sessions::open(&home);
            assert_eq!(count(&s), 0, "{what}");
            let (id, csrf) = sign_in(&s);
            assert!(s.check_post(&headers(&id), Some(&csrf)).is_ok(), "{what}");
            // The next sign-in wrote a good file.
            let again = Sessions::open(&home);
            assert!(again.session(&headers(&id)).is_some(), "{what}");
            assert!(again.session(&headers("planted")).is_none(), "{what}");
        }

        // The file is a directory: nothing can be saved, the sessions work
        // in memory.
        let (_dir, home) = home();
        std::fs::create_dir(file(&home)).unwrap();
        let s = Sessions::open(&home);
        let (id, csrf) = sign_in(&s);
        assert!(s.check_post(&headers(&id), Some(&csrf)).is_ok());
        assert!(file(&home).is_dir());

        // A named pipe or a link to an endless device: never opened (reading
        // either would block or never end).
        #[cfg(unix)]
        {
            let (_dir, home) = self::home();
            let made = std::process::Command::new("mkfifo").arg(file(&home)).status().unwrap();
            assert!(made.success());
            let s = Sessions::open(&home);
            assert_eq!(count(&s), 0);
            let (id, _) = sign_in(&s);
            assert!(
                Sessions::open(&home).session(&headers(&id)).is_some(),
                "replaced by a file"
            );

            let (_dir, home) = self::home();
            std::os::unix::fs::symlink("/dev/zero", file(&home)).unwrap();
            assert_eq!(count(&Sessions::open(&home)), 0);
        }
    }
}
