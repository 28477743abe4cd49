#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Signing in and the owner's forms, in process: requests go through the
//! real web router (`oneshot`) to a real actor on a memory swarm.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use mutu_protocol::record::{self, Kind, MemberKind, Profile};
use tower::ServiceExt;

use super::super::auth::{self, Sessions};
use super::super::i18n;
use super::super::layout::urlencode;
use super::FORM_LIMIT;
use crate::testing::TestNode;
use mutu_node::actor::Handle;
use mutu_node::state;

const HOST: &str = "127.0.0.1:7070";
const TOKEN: &str = "test-token-0123456789";

struct Node {
    router: Router,
    handle: Handle,
    sessions: Sessions,
    _node: TestNode,
}

async fn node(port: u64) -> Node {
    let profile = Profile {
        name: "Ville de Lyon".into(),
        member_kind: MemberKind::Association,
        country: Some("FR".into()),
        sectors: vec![],
        website: None,
        description: String::new(),
    };
    let n = TestNode::spawn(port, profile);
    with_sessions(n, Sessions::new())
}

/// The web router of `n` with `sessions`, as the node builds it.
fn with_sessions(n: TestNode, sessions: Sessions) -> Node {
    let login = auth::Login {
        sessions: sessions.clone(),
        http: HOST.parse().unwrap(),
    };
    let router = super::super::router(n.handle.clone(), sessions.clone()).merge(crate::api::router_with_login(
        n.handle.clone(),
        TOKEN.into(),
        Some(login),
    ));
    Node {
        router,
        handle: n.handle.clone(),
        sessions,
        _node: n,
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

async fn send(n: &Node, req: Request<Body>) -> Answer {
    let response = n.router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A GET, with the session cookie if given.
async fn get(n: &Node, uri: &str, cookie: Option<&str>) -> Answer {
    let mut req = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(header::HOST, HOST);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, format!("lang=en; {c}"));
    }
    send(n, req.body(Body::empty()).unwrap()).await
}

/// A form POST with `extra` headers.
async fn post_with(
    n: &Node,
    uri: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> Answer {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    send(n, req.body(Body::from(body)).unwrap()).await
}

async fn post(n: &Node, uri: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Answer {
    post_with(n, uri, cookie, fields, &[("origin", "http://127.0.0.1:7070")]).await
}

/// Signs in through a fresh login URL: the `Cookie` header value and the
/// session's CSRF token.
async fn sign_in(n: &Node) -> (String, String) {
    let url = n.sessions.login_url(HOST.parse().unwrap());
    let path = url.strip_prefix(&format!("http://{HOST}")).unwrap().to_owned();
    let a = get(n, &path, None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let set = a.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    let cookie = set.split(';').next().unwrap().to_owned();
    let mut headers = HeaderMap::new();
    headers.insert(header::COOKIE, cookie.parse().unwrap());
    let csrf = n.sessions.session(&headers).unwrap().csrf;
    (cookie, csrf)
}

/// The record id at the end of a `/needs/{id}` location.
fn id_in(location: &str) -> String {
    location
        .rsplit('/')
        .next()
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_url_works_once_and_sets_a_strict_http_only_cookie() {
    let n = node(47_501).await;
    let url = n.sessions.login_url("0.0.0.0:7070".parse().unwrap());
    assert!(url.starts_with("http://127.0.0.1:7070/login/"), "{url}");
    let token = url.rsplit('/').next().unwrap();
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let path = format!("/login/{token}");

    let a = get(&n, &path, None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), "/");
    assert_eq!(a.headers[header::CACHE_CONTROL], "no-store");
    let set = a.headers[header::SET_COOKIE].to_str().unwrap();
    let id = set.strip_prefix("mutu_session=").unwrap().split(';').next().unwrap();
    assert_eq!(id.len(), 64);
    let flags: Vec<&str> = set.split(';').map(str::trim).collect();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(flags.contains(&flag), "{set}");
    }
    assert!(!flags.contains(&"Secure"), "plain http on loopback: {set}");

    // The cookie signs in: form pages carry the session's CSRF token.
    let cookie = format!("mutu_session={id}");
    let form = get(&n, "/needs/new", Some(&cookie)).await;
    assert_eq!(form.status, StatusCode::OK);
    let mut h = HeaderMap::new();
    h.insert(header::COOKIE, cookie.parse().unwrap());
    let csrf = n.sessions.session(&h).unwrap().csrf;
    assert!(
        form.body.contains(&format!(r#"name="csrf" value="{csrf}""#)),
        "{}",
        form.body
    );

    // Second use, and a made-up token: 403.
    let again = get(&n, &path, None).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.headers.get(header::SET_COOKIE).is_none());
    assert!(again.body.contains(i18n::t(i18n::Lang::En, i18n::Key::LoginInvalid)));
    assert_eq!(
        get(&n, &format!("/login/{}", "0".repeat(64)), None).await.status,
        StatusCode::FORBIDDEN
    );

    // Over https (a proxy says so) the cookie is also Secure.
    let url = n.sessions.login_url(HOST.parse().unwrap());
    let token = url.rsplit('/').next().unwrap();
    let req = Request::builder()
        .uri(format!("/login/{token}"))
        .header("x-forwarded-proto", "https")
        .body(Body::empty())
        .unwrap();
    let a = send(&n, req).await;
    assert!(a.headers[header::SET_COOKIE].to_str().unwrap().ends_with("; Secure"));

    // Without a session, a form page sends to the page that explains `mutu ui`.
    let a = get(&n, "/needs/new", None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), "/login");
    let help = get(&n, "/login", None).await;
    assert_eq!(help.status, StatusCode::OK);
    assert!(help.body.contains("mutu ui"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_need_the_session_the_csrf_token_and_the_same_origin() {
    let n = node(47_502).await;
    let (cookie, csrf) = sign_in(&n).await;
    let need = [("title", "Factur-X export"), ("csrf", csrf.as_str())];

    // No session: 401, with how to sign in.
    let a = post(&n, "/needs/new", None, &need).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.body.contains("mutu ui"));
    let a = post(&n, "/needs/new", Some("mutu_session=forged"), &need).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);

    // Session but missing or wrong CSRF token: 403.
    let a = post(&n, "/needs/new", Some(&cookie), &[("title", "Factur-X export")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let wrong = "0".repeat(64);
    let a = post(&n, "/needs/new", Some(&cookie), &[("title", "x"), ("csrf", &wrong)]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = post(
        &n,
        "/needs/new",
        Some(&cookie),
        &[("title", "x"), ("csrf", &csrf[..63])],
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // Everything right but from another origin: 403.
    for origin in ["http://evil.example", "null", "http://127.0.0.1:7071"] {
        let a = post_with(&n, "/needs/new", Some(&cookie), &need, &[("origin", origin)]).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin}");
    }
    let a = post_with(
        &n,
        "/needs/new",
        Some(&cookie),
        &need,
        &[("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // Nothing was written.
    let needs = n
        .handle
        .with_snapshot(|s| s.views(state::now()).needs(&Default::default()).len())
        .await
        .unwrap();
    assert_eq!(needs, 0);

    // Same origin, or no Origin at all (older browsers): written.
    let a = post(&n, "/needs/new", Some(&cookie), &need).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    // The same need again: published once the similar one was shown.
    let again: Vec<(&str, &str)> = need.iter().copied().chain([("confirm", "1")]).collect();
    let a = post_with(&n, "/needs/new", Some(&cookie), &again, &[]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);

    // After logging out, the cookie no longer works.
    let a = post(&n, "/logout", Some(&cookie), &[("csrf", &wrong)]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = post(&n, "/logout", Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(a.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let a = post(&n, "/needs/new", Some(&cookie), &need).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_need_made_through_the_form_is_in_the_views() {
    let n = node(47_503).await;
    let (cookie, csrf) = sign_in(&n).await;
    let a = post(
        &n,
        "/needs/new",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("title", "  Factur-X export "),
            ("description", "Export invoices as Factur-X."),
            ("tags", "Accounting, e-invoicing ,"),
            ("project", ""),
            ("goal", "600EUR"),
            ("days_goal", "12"),
            ("deadline", "2099-03-31"),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(a.location().starts_with("/needs/"), "{}", a.location());
    let id = id_in(a.location());
    let view = n
        .handle
        .with_snapshot(move |s| {
            let views = s.views(state::now());
            views
                .needs(&Default::default())
                .into_iter()
                .find(|v| v.id.to_string() == id)
        })
        .await
        .unwrap()
        .expect("the need is in the views");
    assert_eq!(view.title, "Factur-X export");
    assert_eq!(view.tags, ["accounting", "e-invoicing"]);
    assert_eq!(view.goal.unwrap().to_string().replace(' ', ""), "600.00EUR");
    assert_eq!(view.days_goal, Some(12));
    assert_eq!(view.deadline.unwrap().to_string(), "2099-03-31");

    // A project made through its form.
    let a = post(
        &n,
        "/projects/new",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("name", "Paheko"),
            ("license", "AGPL-3.0-or-later"),
            ("status", "stable"),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(a.location().starts_with("/projects/"));

    // Cosign, offer and status on the need go back to its page.
    let need_page = a_need(&n, &cookie, &csrf).await;
    let need = id_in(&need_page);
    for (form, fields) in [
        ("cosign", vec![("note", "us too")]),
        ("offer", vec![("price", "500 EUR"), ("days", "10")]),
        ("status", vec![("status", "in_progress")]),
    ] {
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        let page = get(&n, &format!("/needs/{}/{form}", &need[..12]), Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{form}");
        let a = post(&n, &format!("/needs/{need}/{form}"), Some(&cookie), &fields).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{form}: {}", a.body);
        assert_eq!(a.location(), need_page, "{form}");
    }
    let status = n
        .handle
        .with_snapshot({
            let need = need.clone();
            move |s| {
                let id = s.resolve_kind(&need, Kind::Need).unwrap();
                match &s.index().get(&id).unwrap().record().body {
                    record::Body::Need(nd) => nd.status,
                    _ => unreachable!(),
                }
            }
        })
        .await
        .unwrap();
    assert_eq!(status, record::NeedStatus::InProgress);

    // Retracting the need sends to the member's page; the need is gone.
    let page = get(&n, &format!("/records/{need}/retract"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let a = post(
        &n,
        &format!("/records/{need}/retract"),
        Some(&cookie),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(a.location().starts_with("/members/"));
    let left = n
        .handle
        .with_snapshot(move |s| {
            s.views(state::now())
                .needs(&Default::default())
                .iter()
                .any(|v| v.id.to_string() == need)
        })
        .await
        .unwrap();
    assert!(!left, "a retracted need is not in the views");
}

/// Posts a need through the form; its page.
async fn a_need(n: &Node, cookie: &str, csrf: &str) -> String {
    let a = post(
        n,
        "/needs/new",
        Some(cookie),
        &[("csrf", csrf), ("title", "SEPA export"), ("goal", "1000 EUR")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    a.location().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistake_shows_the_form_again_with_the_message_at_its_field() {
    let n = node(47_504).await;
    let (cookie, csrf) = sign_in(&n).await;
    let a = post(
        &n,
        "/needs/new",
        Some(&cookie),
        &[("csrf", &csrf), ("title", "Factur-X <export>"), ("goal", "12,5EUR")],
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains(r#"id="f-goal-error""#), "{}", a.body);
    assert!(a.body.contains("is not an amount"), "{}", a.body);
    assert!(a.body.contains(r#"aria-invalid="true""#));
    // What was typed is kept (escaped), and the form still carries the token.
    assert!(a.body.contains(r#"value="Factur-X &lt;export&gt;""#), "{}", a.body);
    assert!(a.body.contains(r#"value="12,5EUR""#));
    assert!(a.body.contains(&csrf));

    // Days that are not a number, a missing title, an unknown project.
    let a = post(
        &n,
        "/needs/new",
        Some(&cookie),
        &[("csrf", &csrf), ("title", "x"), ("days_goal", "ten")],
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains(r#"id="f-days_goal-error""#), "{}", a.body);
    let a = post(&n, "/needs/new", Some(&cookie), &[("csrf", &csrf), ("title", " ")]).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains(r#"id="f-title-error""#), "{}", a.body);
    let a = post(
        &n,
        "/needs/new",
        Some(&cookie),
        &[("csrf", &csrf), ("title", "x"), ("project", "ffff")],
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.body.contains(r#"id="f-project-error""#), "{}", a.body);

    // A pledge needs exactly one resource: the message is above the form.
    let need = id_in(&a_need(&n, &cookie, &csrf).await);
    let a = post(
        &n,
        &format!("/needs/{need}/pledge"),
        Some(&cookie),
        &[("csrf", &csrf), ("money", "10 EUR"), ("days", "2")],
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("give exactly one"), "{}", a.body);

    // An unknown need: 404 page.
    let a = get(&n, "/needs/ffffffff/pledge", Some(&cookie)).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // A body over the limit is refused before it is read.
    let big = "x".repeat(FORM_LIMIT + 1);
    let a = post(&n, "/needs/new", Some(&cookie), &[("csrf", &csrf), ("title", &big)]).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pledge_made_and_withdrawn_through_the_forms() {
    let n = node(47_505).await;
    let (cookie, csrf) = sign_in(&n).await;
    let need_page = a_need(&n, &cookie, &csrf).await;
    let need = id_in(&need_page);
    let a = post(
        &n,
        &format!("/needs/{}/pledge", &need[..10]),
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("money", "250 EUR"),
            ("if_funded", "on"),
            ("expires_at", "2099-01-01"),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), need_page);

    let pledge = {
        let need = need.clone();
        n.handle
            .with_snapshot(move |s| {
                let views = s.views(state::now());
                let pledges = views.pledges(&Default::default());
                assert_eq!(pledges.len(), 1);
                let id = pledges[0].record.id;
                match &s.index().get(&id).unwrap().record().body {
                    record::Body::Pledge(p) => {
                        assert_eq!(p.need.to_string(), need);
                        assert_eq!(p.condition, record::Condition::IfGoalReached);
                    }
                    _ => unreachable!(),
                }
                id.to_string()
            })
            .await
            .unwrap()
    };

    let page = get(&n, &format!("/pledges/{pledge}/withdraw"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("SEPA export"));
    let a = post(
        &n,
        &format!("/pledges/{pledge}/withdraw"),
        Some(&cookie),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), need_page);
    let status = {
        let pledge = pledge.clone();
        n.handle
            .with_snapshot(move |s| {
                let id = s.resolve_kind(&pledge, Kind::Pledge).unwrap();
                match &s.index().get(&id).unwrap().record().body {
                    record::Body::Pledge(p) => p.status,
                    _ => unreachable!(),
                }
            })
            .await
            .unwrap()
    };
    assert_eq!(status, record::PledgeStatus::Withdrawn);

    // Withdrawing it again is a conflict, shown on the form.
    let a = post(
        &n,
        &format!("/pledges/{pledge}/withdraw"),
        Some(&cookie),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(a.body.contains("already withdrawn"), "{}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_gets_a_login_url_with_the_api_token_only() {
    let n = node(47_506).await;
    let ask = |token: Option<&str>| {
        let mut req = Request::builder().method(Method::POST).uri("/api/v1/ui/login");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        req.body(Body::empty()).unwrap()
    };
    assert_eq!(send(&n, ask(None)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&n, ask(Some("wrong"))).await.status, StatusCode::UNAUTHORIZED);
    let a = send(&n, ask(Some(TOKEN))).await;
    assert_eq!(a.status, StatusCode::OK);
    let url: auth::LoginUrl = serde_json::from_str(&a.body).unwrap();
    let path = url.url.strip_prefix(&format!("http://{HOST}")).unwrap();
    assert_eq!(get(&n, path, None).await.status, StatusCode::SEE_OTHER);
}

/// Issue 8: restarting the node signed everyone out. The web router is
/// built again over the same home, with sessions opened from it, as `mutu
/// run` does when it starts: the browser's cookie and the CSRF token of the
/// page it shows still work, and a damaged sessions file stops nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_survives_a_restart() {
    let node = TestNode::spawn(47_507, crate::testing::profile("Ville de Lyon"));
    let home = node.home.clone();
    let first = with_sessions(node, Sessions::open(&home));
    let (cookie, csrf) = sign_in(&first).await;
    let form = get(&first, "/needs/new", Some(&cookie)).await;
    assert_eq!(form.status, StatusCode::OK);

    // Restart: a new router, the sessions read back from the home.
    let Node { _node: node, .. } = first;
    let second = with_sessions(node, Sessions::open(&home));
    let form = get(&second, "/needs/new", Some(&cookie)).await;
    assert_eq!(form.status, StatusCode::OK, "still signed in");
    assert!(form.body.contains(&format!(r#"name="csrf" value="{csrf}""#)));
    let a = post(
        &second,
        "/needs/new",
        Some(&cookie),
        &[("csrf", &csrf), ("title", "Kept")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);

    // Sessions kept in memory only (as before): the restart signs out.
    let Node { _node: node, .. } = second;
    let mut memory = with_sessions(node, Sessions::new());
    let a = get(&memory, "/needs/new", Some(&cookie)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(a.location().starts_with("/login"), "{}", a.location());

    // A damaged file, and one over the limit: the router starts, signed
    // out, and signing in works (and writes a good file).
    for bytes in [
        b"{\"version\": 1, \"sessions\": [".to_vec(),
        vec![b' '; auth::MAX_FILE as usize + 1],
    ] {
        std::fs::write(home.root().join(auth::FILE), bytes).unwrap();
        let Node { _node: node, .. } = memory;
        let damaged = with_sessions(node, Sessions::open(&home));
        assert_eq!(
            get(&damaged, "/needs/new", Some(&cookie)).await.status,
            StatusCode::SEE_OTHER
        );
        let (cookie, csrf) = sign_in(&damaged).await;
        let Node { _node: node, .. } = damaged;
        let again = with_sessions(node, Sessions::open(&home));
        let a = post(
            &again,
            "/needs/new",
            Some(&cookie),
            &[("csrf", &csrf), ("title", "After"), ("confirm", "1")],
        )
        .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        memory = again;
    }
}

#[test]
fn login_tokens_and_sessions_are_bounded_and_never_shown() {
    let s = Sessions::new();
    let first = s.login_token();
    let rest: Vec<String> = (0..auth::MAX_LOGINS).map(|_| s.login_token()).collect();
    // The oldest unused token made room for the newest.
    assert!(s.login(&first).is_none());
    assert!(s.login(&rest[0]).is_some());
    assert!(s.login(&rest[0]).is_none(), "a token works once");
    let mut ids = Vec::new();
    for _ in 0..auth::MAX_SESSIONS + 3 {
        let (id, _) = s.login(&s.login_token()).unwrap();
        ids.push(id);
    }
    let live = |id: &str| {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, format!("mutu_session={id}").parse().unwrap());
        s.session(&h).is_some()
    };
    assert_eq!(ids.iter().filter(|id| live(id)).count(), auth::MAX_SESSIONS);
    assert!(live(ids.last().unwrap()));
    let (id, session) = s.login(&s.login_token()).unwrap();
    let shown = format!("{s:?} {session:?}");
    assert!(!shown.contains(&id) && !shown.contains(&session.csrf), "{shown}");
    assert!(!ids.iter().any(|id| shown.contains(id.as_str())), "{shown}");
}

/// Found by the browser test: Chromium posts a same-origin form with
/// `Origin: null` when the page forbade referrers; `Sec-Fetch-Site` decides.
#[test]
fn sec_fetch_site_decides_over_a_null_origin() {
    use axum::http::{HeaderMap, HeaderValue};
    let headers = |pairs: &[(&'static str, &'static str)]| {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("127.0.0.1:7070"));
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    };
    let foreign = crate::web::auth::foreign_origin;
    assert!(!foreign(&headers(&[
        ("sec-fetch-site", "same-origin"),
        ("origin", "null")
    ])));
    assert!(foreign(&headers(&[
        ("sec-fetch-site", "same-site"),
        ("origin", "http://127.0.0.1:7070")
    ])));
    assert!(foreign(&headers(&[("sec-fetch-site", "cross-site")])));
    assert!(foreign(&headers(&[("origin", "null")])));
    assert!(foreign(&headers(&[("origin", "http://evil.example")])));
    assert!(!foreign(&headers(&[("origin", "http://127.0.0.1:7070")])));
    assert!(!foreign(&headers(&[])));
}

/// Writing a need like an open one shows that one first, with a one-click
/// cosign and the form again to publish anyway; the need page lists it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_need_like_an_open_one_shows_it_before_it_is_published() {
    let n = node(47_508).await;
    let (cookie, csrf) = sign_in(&n).await;
    let first = post(
        &n,
        "/needs/new",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("title", "SEPA direct debit export"),
            ("tags", "sepa, accounting"),
        ],
    )
    .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let first_id = id_in(first.location());
    let like = [
        ("csrf", csrf.as_str()),
        ("title", "SEPA export of direct debits"),
        ("tags", "sepa"),
    ];
    let shown = post(&n, "/needs/new", Some(&cookie), &like).await;
    assert_eq!(shown.status, StatusCode::OK, "nothing is published yet");
    assert!(
        shown.body.contains(&format!("action=\"/needs/{first_id}/cosign\"")),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("name=\"confirm\" value=\"1\""), "{}", shown.body);
    assert!(
        shown.body.contains("value=\"SEPA export of direct debits\""),
        "the form keeps what was typed"
    );
    let count = || async {
        n.handle
            .with_snapshot(|s| s.views(state::now()).needs(&Default::default()).len())
            .await
            .unwrap()
    };
    assert_eq!(count().await, 1);
    // Publish anyway.
    let mut confirmed = like.to_vec();
    confirmed.push(("confirm", "1"));
    let second = post(&n, "/needs/new", Some(&cookie), &confirmed).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.body);
    assert_eq!(count().await, 2);
    let page = get(&n, second.location(), Some(&cookie)).await;
    assert!(page.body.contains("id=\"similar\""), "{}", page.body);
    assert!(
        page.body.contains(&format!("href=\"/needs/{first_id}\"")),
        "{}",
        page.body
    );
    // Something else is published at once.
    let other = post(
        &n,
        "/needs/new",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("title", "Accessible council minutes"),
            ("tags", "accessibility"),
        ],
    )
    .await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "{}", other.body);
}

/// A `multipart/form-data` POST of `files` (name, text) with `csrf`.
async fn upload(n: &Node, cookie: &str, csrf: Option<&str>, files: &[(&str, &str)], origin: &str) -> Answer {
    const B: &str = "mutu-test-boundary-7f3a";
    let mut body = String::new();
    if let Some(c) = csrf {
        body.push_str(&format!(
            "--{B}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{c}\r\n"
        ));
    }
    for (name, text) in files {
        body.push_str(&format!(
            "--{B}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/yaml\r\n\r\n{text}\r\n"
        ));
    }
    body.push_str(&format!("--{B}--\r\n"));
    let req = Request::builder()
        .method(Method::POST)
        .uri("/projects/import")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={B}"))
        .header(header::COOKIE, cookie)
        .header("origin", origin)
        .body(Body::from(body))
        .unwrap();
    send(n, req).await
}

/// The upload form: CSRF-checked like every form; a broken file is listed
/// with its located error and the other imported; the project page then
/// shows the file's features, and its `usedBy` as declared, unverified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publiccode_files_upload_through_the_web_form() {
    let n = node(47_591).await;
    let (cookie, csrf) = sign_in(&n).await;
    let form = get(&n, "/projects/import", Some(&cookie)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"enctype="multipart/form-data""#), "{}", form.body);
    assert!(form.body.contains(&csrf));
    let signed_out = get(&n, "/projects/import", None).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpora/publiccode/testdata/v0/valid/valid.minimal.yml");
    let yaml = std::fs::read_to_string(path).unwrap() + "usedBy:\n  - Comune di Roma\n";
    let broken = yaml.replace("developmentStatus: development", "developmentStatus: finished");
    let files = [("medusa.yml", yaml.as_str()), ("broken.yml", broken.as_str())];

    // Without the token, or from another origin: refused, nothing written.
    let a = upload(&n, &cookie, None, &files, "http://127.0.0.1:7070").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = upload(&n, &cookie, Some(&csrf), &files, "http://evil.example").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let projects = n
        .handle
        .with_snapshot(|s| s.index().of_kind(Kind::Project).len())
        .await
        .unwrap();
    assert_eq!(projects, 0);

    let a = upload(&n, &cookie, Some(&csrf), &files, "http://127.0.0.1:7070").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(
        a.body.contains("broken.yml:12:1: error: developmentStatus:"),
        "{}",
        a.body
    );
    let list = &a.body[a.body.find("imported").unwrap()..];
    let href = list.split("href=\"/projects/").nth(1).unwrap();
    let id = &href[..href.find('"').unwrap()];
    assert!(id.len() == 26, "{id}");

    let page = get(&n, &format!("/projects/{id}"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Just one feature"), "{}", page.body);
    assert!(page.body.contains("Comune di Roma"), "{}", page.body);
    assert!(
        page.body.contains(
            i18n::t(i18n::Lang::En, i18n::Key::ProjectDeclaredUsersHelp)
                .split(':')
                .next()
                .unwrap()
        )
    );
    assert!(page.body.contains(&format!("/api/v1/projects/{id}/publiccode.yml")));
    let fr = get(&n, &format!("/projects/{id}?lang=fr"), Some(&cookie)).await;
    assert!(
        fr.body.contains(i18n::t(i18n::Lang::Fr, i18n::Key::ProjectFeatures)),
        "{}",
        fr.body
    );
    assert!(
        fr.body
            .contains(i18n::t(i18n::Lang::Fr, i18n::Key::ProjectDeclaredUsers)),
        "{}",
        fr.body
    );

    // No file chosen: the form again, with the message.
    let a = upload(&n, &cookie, Some(&csrf), &[("", "")], "http://127.0.0.1:7070").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains(i18n::t(i18n::Lang::En, i18n::Key::ImportNoFile)));
}

/// The network page changes the replication policy: at once, and in
/// `config.toml` for the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_network_page_sets_the_replication_policy_now_and_in_the_config_file() {
    let n = node(47_509).await;
    let (cookie, csrf) = sign_in(&n).await;
    let page = get(&n, "/network", Some(&cookie)).await;
    assert!(page.body.contains("action=\"/network/policy\""), "{}", page.body);
    let signed_out = get(&n, "/network", None).await;
    assert!(!signed_out.body.contains("action=\"/network/policy\""));

    let set = [("csrf", csrf.as_str()), ("scope", "trusted"), ("hops", "1")];
    let a = post(&n, "/network/policy", Some(&cookie), &set).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let r = n.handle.status().await.unwrap().replication.unwrap();
    assert_eq!((r.scope, r.hops), (mutu_protocol::trust::Scope::Trusted, 1));
    let home = n.handle.with_snapshot(|s| s.home().clone()).await.unwrap();
    let file = crate::runtime::FileConfig::load(&home.config_path()).unwrap();
    let saved = file.replication.unwrap();
    assert_eq!((saved.scope.as_deref(), saved.hops), (Some("trusted"), Some(1)));

    for bad in [
        [("scope", "everyone"), ("hops", "1")],
        [("scope", "open"), ("hops", "9")],
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(bad);
        let a = post(&n, "/network/policy", Some(&cookie), &fields).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad:?}");
    }
    let forged = post(
        &n,
        "/network/policy",
        Some(&cookie),
        &[("scope", "open"), ("hops", "2")],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let r = n.handle.status().await.unwrap().replication.unwrap();
    assert_eq!(
        (r.scope, r.hops),
        (mutu_protocol::trust::Scope::Trusted, 1),
        "refused posts change nothing"
    );
}

/// The author merges a duplicate from the similar list of its page; the
/// merged page says where it went and offers the pledger a one-click move;
/// the list leaves it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_merged_and_its_pledge_moved_through_the_pages() {
    let n = node(47_510).await;
    let (cookie, csrf) = sign_in(&n).await;
    let kept = id_in(&a_need(&n, &cookie, &csrf).await);
    let a = post(
        &n,
        "/needs/new",
        Some(&cookie),
        &[("csrf", &csrf), ("title", "Export SEPA"), ("confirm", "1")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let duplicate = id_in(a.location());
    let a = post(
        &n,
        &format!("/needs/{duplicate}/pledge"),
        Some(&cookie),
        &[("csrf", &csrf), ("money", "300 EUR")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);

    // The duplicate's page lists the kept need as similar, with a merge button.
    let page = get(&n, &format!("/needs/{duplicate}"), Some(&cookie)).await;
    let merge_form = format!("action=\"/needs/{duplicate}/merge\"");
    assert!(page.body.contains(&merge_form), "{}", page.body);
    assert!(page.body.contains(&format!("name=\"into\" value=\"{kept}\"")));
    let a = post(
        &n,
        &format!("/needs/{duplicate}/merge"),
        Some(&cookie),
        &[("csrf", &csrf), ("into", &kept)],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    // Merging it again is a conflict, shown on the form.
    let again = post(
        &n,
        &format!("/needs/{duplicate}/merge"),
        Some(&cookie),
        &[("csrf", &csrf), ("into", &kept)],
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("already merged"), "{}", again.body);

    let page = get(&n, &format!("/needs/{duplicate}"), Some(&cookie)).await;
    assert!(page.body.contains("This need was merged into"), "{}", page.body);
    assert!(page.body.contains(&format!("href=\"/needs/{kept}\"")));
    let list = get(&n, "/needs", None).await;
    assert!(
        !list.body.contains(&format!("/needs/{duplicate}\"")),
        "a merged need left the list"
    );
    let merged = get(&n, "/needs?status=merged", None).await;
    assert!(merged.body.contains(&format!("/needs/{duplicate}\"")));

    // The pledger's one-click move: the pledge lands on the kept need.
    let pledge = page
        .body
        .split("action=\"/pledges/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a move button for the pledge")
        .to_owned();
    let a = post(
        &n,
        &format!("/pledges/{pledge}/move"),
        Some(&cookie),
        &[("csrf", &csrf), ("to", &kept)],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(
        a.location().starts_with(&format!("/needs/{kept}#r-")),
        "{}",
        a.location()
    );
    let totals = n
        .handle
        .with_snapshot(move |s| {
            let views = s.views(state::now());
            let eur = |id: &str| {
                let r = s.index().get(&s.resolve_kind(id, Kind::Need).unwrap()).unwrap();
                views.need(r).unwrap().funding.pledged.get("EUR".parse().unwrap())
            };
            (eur(&kept), eur(&duplicate))
        })
        .await
        .unwrap();
    assert_eq!(totals, (30_000, 0));
}

/// A watch button, the inbox page with its unread count, marking it read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_page_lists_what_happened_to_what_one_watches() {
    let n = node(47_511).await;
    let (cookie, csrf) = sign_in(&n).await;
    let signed_out = get(&n, "/inbox", None).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    let page = get(&n, "/needs?tag=sepa", Some(&cookie)).await;
    assert!(page.body.contains("action=\"/watch\""), "{}", page.body);
    let a = post(
        &n,
        "/watch",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("kind", "tag"),
            ("value", "SEPA"),
            ("back", "/needs?tag=sepa"),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), "/needs?tag=sepa");
    let page = get(&n, "/needs?tag=sepa", Some(&cookie)).await;
    assert!(page.body.contains("action=\"/unwatch\""), "{}", page.body);
    // Another member's need with the tag, brought as a bundle.
    crate::testing::needs_from_elsewhere(&n.handle, &["Prélèvements SEPA"], &["sepa"]).await;
    let inbox = get(&n, "/inbox", Some(&cookie)).await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.body.contains("Inbox (1 unread)"), "{}", inbox.body);
    assert!(inbox.body.contains("Prélèvements SEPA"), "{}", inbox.body);
    let a = post(&n, "/inbox/read", Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let inbox = get(&n, "/inbox", Some(&cookie)).await;
    assert!(inbox.body.contains("Inbox (0 unread)"), "{}", inbox.body);
    // A back link elsewhere is not followed.
    let a = post(
        &n,
        "/unwatch",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("kind", "tag"),
            ("value", "sepa"),
            ("back", "//evil.example/"),
        ],
    )
    .await;
    assert_eq!(a.location(), "/inbox");
}

/// The consultation's buttons: award an offer, accept the delivery, mark
/// one's pledge paid, each a POST from the need page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultation_runs_through_the_need_page_buttons() {
    use mutu_node::ops::{self, Request};
    let n = node(47_512).await;
    let (cookie, csrf) = sign_in(&n).await;
    let need_page = a_need(&n, &cookie, &csrf).await;
    let need = id_in(&need_page);
    let a = post(
        &n,
        &format!("/needs/{need}/pledge"),
        Some(&cookie),
        &[("csrf", &csrf), ("money", "1000 EUR"), ("if_funded", "on")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    // The provider, on its own home, answers with an offer.
    let dir = tempfile::tempdir().unwrap();
    let home = mutu_node::home::Home::resolve(Some(dir.path().join("p"))).unwrap();
    let mut p = state::State::init(home, crate::testing::profile("Prestataire"), state::now()).unwrap();
    let bundle = n.handle.test(|s, _| s.export()).await.unwrap().unwrap();
    p.import(&bundle, state::now()).unwrap();
    let offer = Request::from(ops::NewOffer {
        need: need.clone(),
        price: ops::MoneyInput::Text("950EUR".into()),
        days: Some(10),
        description: None,
        valid_until: None,
    })
    .apply(&mut p, state::now())
    .unwrap();
    n.handle
        .import(p.export().unwrap().changes().to_vec(), state::now())
        .await
        .unwrap();

    let page = get(&n, &need_page, Some(&cookie)).await;
    let award = format!("/offers/{offer}/award");
    assert!(page.body.contains(&award), "{}", page.body);
    // Side by side with its offer: the provider's track record.
    assert!(
        page.body.contains("1 offer, 0 awarded, 0 delivered (0 late)"),
        "{}",
        page.body
    );
    let a = post(&n, &award, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    // A second award is refused, with the rule's message.
    let again = post(&n, &award, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(again.status.as_u16(), 422, "{}", again.body);

    // The provider delivers.
    let bundle = n.handle.test(|s, _| s.export()).await.unwrap().unwrap();
    p.import(&bundle, state::now()).unwrap();
    let delivery = Request::from(ops::NewDelivery {
        need: need.clone(),
        release: "https://git.example/sepa/releases/v1".into(),
        note: None,
    })
    .apply(&mut p, state::now())
    .unwrap();
    n.handle
        .import(p.export().unwrap().changes().to_vec(), state::now())
        .await
        .unwrap();
    let page = get(&n, &need_page, Some(&cookie)).await;
    assert!(
        page.body.contains(&format!("/deliveries/{delivery}/object")),
        "{}",
        page.body
    );
    let a = post(
        &n,
        &format!("/deliveries/{delivery}/accept"),
        Some(&cookie),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);

    // The pledge is due: the pledger marks it paid from the page.
    let page = get(&n, &need_page, Some(&cookie)).await;
    let fulfil = page
        .body
        .split("action=\"/pledges/")
        .find_map(|rest| rest.split_once("/fulfil\"").map(|(id, _)| id.to_owned()))
        .expect("a mark-paid button");
    let a = post(
        &n,
        &format!("/pledges/{fulfil}/fulfil"),
        Some(&cookie),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let timeline = n
        .handle
        .with_snapshot(move |s| {
            let views = s.views(state::now());
            let id = s.resolve_kind(&need, Kind::Need).unwrap();
            views.consultation_of(&id).unwrap().timeline
        })
        .await
        .unwrap();
    assert!(timeline.accepted.is_some());
    assert_eq!((timeline.paid, timeline.payable), (1, 1));
}
