#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The whole router as `mutu run` serves it (`oneshot` to a real actor on
//! a memory swarm): which host names it answers to, and the headers of
//! every kind of response.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use mutu_protocol::record::{MemberKind, Profile};
use tower::ServiceExt;

use super::{HEADERS, Hosts};
use crate::testing::TestNode;
use crate::web::auth::Sessions;

const TOKEN: &str = "test-token-0123456789";
const BOUND: &str = "127.0.0.1:7070";

fn profile() -> Profile {
    Profile {
        name: "Ville de Lyon".into(),
        member_kind: MemberKind::PublicBody,
        country: Some("FR".into()),
        sectors: Vec::new(),
        website: None,
        description: String::new(),
    }
}

/// The node's router, answering to `extra` besides its defaults, with a
/// stand-in for the health routes.
fn router(node: &TestNode, extra: &[&str]) -> Router {
    let http: SocketAddr = BOUND.parse().unwrap();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let hosts = Hosts::new(http, &extra).unwrap();
    super::router(
        node.handle.clone(),
        TOKEN.into(),
        Sessions::new(),
        http,
        hosts,
        Router::new().route("/healthz", axum::routing::get(|| async { "ok" })),
    )
}

/// Sends a request with `host` as its Host header (none if `None`): status,
/// headers, body.
async fn send(router: &Router, method: Method, uri: &str, host: Option<&str>) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(h) = host {
        req = req.header(header::HOST, h);
    }
    let response = router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// The four reads a rebinding page wants most: who the member is, its
/// peers' addresses, the network page, the whole registry.
const SENSITIVE: [&str; 4] = ["/api/v1/whoami", "/api/v1/peers", "/network", "/export/bundle"];

/// DNS rebinding: a page on `evil.example` resolves its own name to
/// 127.0.0.1 and reads the node through the member's browser. Every route
/// refuses a name the node was not told about, before any handler runs.
#[tokio::test]
async fn requests_for_a_foreign_host_name_are_refused() {
    let node = TestNode::spawn(7001, profile());
    let r = router(&node, &["mutu.example.org"]);
    for path in SENSITIVE
        .iter()
        .chain(&["/", "/nope", "/api/v1/nope", "/static/style.css"])
    {
        for host in [
            "evil.example",
            "evil.example:7070",
            "127.0.0.1.evil.example",
            "localhost.evil.example:7070",
        ] {
            let (status, headers, body) = send(&r, Method::GET, path, Some(host)).await;
            assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}{path}");
            assert!(body.contains("--http-host") && body.contains("http_hosts"), "{body}");
            assert!(
                !body.contains("mutu.example.org"),
                "a refusal names no allowed host: {body}"
            );
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        }
    }
    // A write is refused before its body or token is looked at.
    let (status, _, _) = send(&r, Method::POST, "/api/v1/control", Some("evil.example:7070")).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST);
    // An absolute URI naming a foreign host is refused too, whatever Host says.
    let (status, _, _) = send(
        &r,
        Method::GET,
        "http://evil.example/api/v1/whoami",
        Some("127.0.0.1:7070"),
    )
    .await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST);
}

#[tokio::test]
async fn the_loopback_names_the_bound_address_and_configured_names_are_served() {
    let node = TestNode::spawn(7002, profile());
    let r = router(&node, &["mutu.example.org", "[2001:db8::7]:8443"]);
    let allowed = [
        "localhost",
        "localhost:7070",
        "LocalHost.:7070",
        "127.0.0.1",
        "127.0.0.1:7070",
        "127.0.0.1:9999",
        "[::1]",
        "[::1]:7070",
        "mutu.example.org",
        "mutu.example.org:443",
        "MUTU.example.org.",
        "[2001:db8::7]",
        "[2001:db8::7]:8443",
    ];
    for path in SENSITIVE {
        for host in allowed {
            let (status, _, body) = send(&r, Method::GET, path, Some(host)).await;
            assert_eq!(status, StatusCode::OK, "{host}{path}: {body}");
        }
    }
    // Without a Host header (an HTTP/1.0 tool, never a browser): served.
    let (status, _, _) = send(&r, Method::GET, "/api/v1/whoami", None).await;
    assert_eq!(status, StatusCode::OK);
    // Names close to allowed ones are not allowed.
    for host in [
        "localhost:",
        "localhost:70a",
        "127.0.0.2",
        "[::2]:7070",
        "example.org",
        "mutu.example.org.evil",
    ] {
        let (status, _, _) = send(&r, Method::GET, "/api/v1/whoami", Some(host)).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host}");
    }
}

#[test]
fn a_node_bound_elsewhere_answers_to_its_own_address() {
    let hosts = Hosts::new("192.0.2.7:7070".parse().unwrap(), &[]).unwrap();
    assert!(hosts.allows("192.0.2.7:7070") && hosts.allows("192.0.2.7") && hosts.allows("localhost"));
    assert!(!hosts.allows("192.0.2.8:7070"));
    let v6 = Hosts::new("[2001:db8::1]:7070".parse().unwrap(), &[]).unwrap();
    assert!(v6.allows("[2001:db8::1]:7070") && v6.allows("[2001:DB8:0::1]"));
    // What `--http-host` refuses.
    for bad in [
        "",
        "a b",
        "http://x.example",
        "x.example/",
        "x.example:port",
        "[::1",
        "-x.example",
        "x..example",
    ] {
        assert!(super::host_name(bad).is_none(), "{bad:?}");
    }
    assert_eq!(
        super::host_name("Mutu.Example.org:443").as_deref(),
        Some("mutu.example.org")
    );
}

/// Clickjacking and sniffing: every kind of response (HTML pages, forms,
/// redirects, JSON, CSV, CSS, bundles, errors, 404s, 405s, 421s) carries
/// the same security headers.
#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let node = TestNode::spawn(7003, profile());
    let r = router(&node, &[]);
    let host = Some("127.0.0.1:7070");
    let cases: &[(Method, &str, Option<&str>, StatusCode, &str)] = &[
        (Method::GET, "/", host, StatusCode::OK, "text/html"),
        (Method::GET, "/needs", host, StatusCode::OK, "text/html"),
        (Method::GET, "/needs/new", host, StatusCode::SEE_OTHER, ""),
        (
            Method::GET,
            "/login/not-a-token",
            host,
            StatusCode::FORBIDDEN,
            "text/html",
        ),
        (Method::GET, "/needs/zzzz", host, StatusCode::NOT_FOUND, "text/html"),
        (Method::GET, "/no/such/page", host, StatusCode::NOT_FOUND, "text/html"),
        (Method::GET, "/static/style.css", host, StatusCode::OK, "text/css"),
        (Method::GET, "/api/v1/whoami", host, StatusCode::OK, "application/json"),
        (
            Method::GET,
            "/api/v1/openapi.json",
            host,
            StatusCode::OK,
            "application/json",
        ),
        (
            Method::GET,
            "/api/v1/nope",
            host,
            StatusCode::NOT_FOUND,
            "application/json",
        ),
        (
            Method::POST,
            "/api/v1/needs",
            host,
            StatusCode::UNAUTHORIZED,
            "application/json",
        ),
        (
            Method::DELETE,
            "/api/v1/needs",
            host,
            StatusCode::METHOD_NOT_ALLOWED,
            "application/json",
        ),
        (Method::GET, "/export/needs.csv", host, StatusCode::OK, "text/csv"),
        (
            Method::GET,
            "/export/registry.json",
            host,
            StatusCode::OK,
            "application/json",
        ),
        (Method::GET, "/export/bundle", host, StatusCode::OK, "application/json"),
        (Method::GET, "/healthz", host, StatusCode::OK, "text/plain"),
        (
            Method::POST,
            "/api/v1/control",
            host,
            StatusCode::UNAUTHORIZED,
            "application/json",
        ),
        (
            Method::GET,
            "/",
            Some("evil.example"),
            StatusCode::MISDIRECTED_REQUEST,
            "text/plain",
        ),
    ];
    for (method, path, host, status, content_type) in cases {
        let (got, headers, body) = send(&r, method.clone(), path, *host).await;
        assert_eq!(got, *status, "{method} {path}: {body}");
        let ct = headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("");
        assert!(ct.starts_with(content_type), "{method} {path}: {ct}");
        for (name, value) in HEADERS {
            assert_eq!(
                headers.get(*name).map(|v| v.to_str().unwrap()),
                Some(*value),
                "{method} {path}: {name}"
            );
        }
    }
    // The policy lets the page load its own stylesheet and nothing else.
    let csp = super::CONTENT_SECURITY_POLICY;
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"));
    assert!(csp.contains("style-src 'self'") && !csp.contains("script-src"));
}
