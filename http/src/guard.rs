//! The node's whole HTTP surface in one router, and what every request and
//! every response passes through, whatever the route:
//!
//! - [`Hosts`]: the host names the node answers to. A web page the member
//!   visits could otherwise make their browser query the node under a DNS
//!   name the page controls (DNS rebinding) and read what it answers; any
//!   other name gets `421 Misdirected Request`. By default the node answers
//!   to `localhost`, `127.0.0.1`, `[::1]` and the IP address it serves HTTP
//!   on, with any port; `--http-host NAME` and `http_hosts` in `config.toml`
//!   add names (a reverse proxy's, say).
//! - [`HEADERS`]: a `Content-Security-Policy` that allows only the node's
//!   own stylesheet, images and forms (the UI has no scripts) and no framing,
//!   `X-Frame-Options: DENY` for older browsers, `X-Content-Type-Options:
//!   nosniff`, `Referrer-Policy: same-origin` (see HACKING.md: forms rely on
//!   `Origin`, which a stricter policy turns into `null`) and
//!   `Cross-Origin-Resource-Policy: same-origin`, on HTML, JSON, CSV, CSS,
//!   redirects, errors and 404s alike.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{self, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::web::auth::Sessions;
use mutu_node::actor::Handle;

/// The policy of every response: only the node's own resources, no
/// scripts, no plugins, no framing, forms posted to the node only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers every response carries, set over whatever a handler set.
pub const HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// What a request under a host name the node does not answer to reads.
/// It names no allowed host: the page that sent the request can read it.
pub const MISDIRECTED: &str = "this mutu node does not answer to this host name (a guard against DNS rebinding); \
     to serve it under a name, behind a reverse proxy for example, start it with `--http-host NAME` \
     or add the name to `http_hosts` in $MUTU_HOME/config.toml\n";

/// The host names the node answers to (lowercase, no port, no final dot;
/// IP addresses in their canonical text form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
    names: Vec<String>,
}

impl Hosts {
    /// The loopback names, the address the node serves HTTP on (`bound`),
    /// and `extra`, each a name, an IP address or either with a port; the
    /// first of `extra` that is not a host name is the error.
    pub fn new(bound: SocketAddr, extra: &[String]) -> Result<Self, String> {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
        names.push(bound.ip().to_string());
        for e in extra {
            names.push(host_of(e).ok_or_else(|| e.clone())?);
        }
        names.sort();
        names.dedup();
        Ok(Self { names })
    }

    /// Whether a request for `authority` (a `Host` header's value) is
    /// one for this node.
    pub fn allows(&self, authority: &str) -> bool {
        host_of(authority).is_some_and(|h| self.names.contains(&h))
    }
}

/// Checks `name` as given to `--http-host` or `http_hosts`: its normal
/// form, or `None` if it is not a host name (with an optional port).
pub fn host_name(name: &str) -> Option<String> {
    host_of(name)
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

/// The host of an authority (`name`, `name:port`, `1.2.3.4:port`,
/// `[v6]`, `[v6]:port`, or a bare IPv6 address), normalised.
fn host_of(authority: &str) -> Option<String> {
    let a = authority.trim();
    if let Ok(ip) = a.parse::<IpAddr>() {
        return Some(ip.to_string());
    }
    if let Some(rest) = a.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return port_ok
            .then(|| inner.parse::<std::net::Ipv6Addr>().ok())
            .flatten()
            .map(|ip| ip.to_string());
    }
    let host = match a.split_once(':') {
        Some((h, p)) if is_port(p) => h,
        Some(_) => return None,
        None => a,
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip.to_string());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (host.len() <= 253 && host.split('.').all(label_ok)).then_some(host)
}

/// Refuses a request whose `Host` (or absolute URI) names a host the node
/// does not answer to.
///
/// A request with neither is let through: every browser sends `Host` (HTTP/1.1
/// requires it, and browsers have not sent HTTP/1.0 for decades), and DNS
/// rebinding works only by making the browser send the attacker's name. A
/// client that sends no `Host` is a tool talking to the node directly, which
/// could as well send an allowed name: refusing it would protect nothing and
/// break HTTP/1.0 clients.
async fn check_host(extract::State(hosts): extract::State<Arc<Hosts>>, req: Request, next: Next) -> Response {
    let mut given = req.headers().get_all(header::HOST).iter().peekable();
    let header_ok = match (given.next(), given.peek()) {
        (None, _) => true,
        (Some(h), None) => h.to_str().is_ok_and(|h| hosts.allows(h)),
        // Two Host headers: one of them is lying.
        (Some(_), Some(_)) => false,
    };
    let uri_ok = req.uri().authority().is_none_or(|a| hosts.allows(a.as_str()));
    if header_ok && uri_ok {
        return next.run(req).await;
    }
    tracing::debug!(host = ?req.headers().get(header::HOST), "refused a request for a foreign host name");
    (
        StatusCode::MISDIRECTED_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        MISDIRECTED,
    )
        .into_response()
}

/// Sets [`HEADERS`] on a response.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    for (name, value) in HEADERS {
        h.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    response
}

/// Puts the host check and the security headers around `router`, fallback
/// included: no route escapes them.
pub fn guard(router: Router, hosts: Hosts) -> Router {
    router
        .layer(middleware::from_fn_with_state(Arc::new(hosts), check_host))
        .layer(middleware::from_fn(security_headers))
}

/// The node's router: the JSON API (with the CLI's control endpoint and
/// the web UI's login links), the web UI, the exports, `extra` (health and
/// metrics; no fallback), a fallback for unknown paths, all behind
/// [`guard`].
pub fn router(
    handle: Handle,
    token: String,
    sessions: Sessions,
    http: SocketAddr,
    hosts: Hosts,
    extra: Router,
) -> Router {
    let not_found_sessions = sessions.clone();
    let login = crate::web::auth::Login {
        sessions: sessions.clone(),
        http,
    };
    let router = crate::api::router_with_login(handle.clone(), token.clone(), Some(login))
        .merge(crate::web::router(handle.clone(), sessions.clone()))
        .merge(crate::export::router(handle.clone()))
        .merge(extra)
        // Unknown paths: JSON under /api, an HTML page elsewhere.
        .fallback(move |req: Request| {
            let sessions = not_found_sessions.clone();
            async move { not_found(req, &sessions) }
        });
    guard(router, hosts)
}

fn not_found(req: Request, sessions: &Sessions) -> Response {
    if req.uri().path().starts_with("/api/") {
        return crate::api::error::ApiError::not_found("no such endpoint: see /api/v1/openapi.json").into_response();
    }
    let (parts, _) = req.into_parts();
    let ctx = crate::web::layout::PageCtx::from_parts(&parts, sessions);
    crate::web::error_page(&ctx, &crate::web::PageError::NotFound)
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
