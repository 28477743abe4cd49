#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The API in process: requests go through the real router (`oneshot`) to a
//! real actor on a memory swarm.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use libp2p::Multiaddr;
use mutu_protocol::record::{MemberKind, Profile};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::testing::TestNode;
use mutu_node::actor::Handle;

const TOKEN: &str = "test-token-0123456789";

struct Node {
    router: Router,
    handle: Handle,
    addr: Multiaddr,
    _node: TestNode,
}

async fn node(name: &str, port: u64) -> Node {
    let profile = Profile {
        name: name.into(),
        member_kind: MemberKind::Association,
        country: Some("FR".into()),
        sectors: vec!["accounting".into()],
        website: None,
        description: String::new(),
    };
    let n = TestNode::spawn(port, profile);
    Node {
        router: super::router(n.handle.clone(), TOKEN.into()),
        handle: n.handle.clone(),
        addr: n.addr.clone(),
        _node: n,
    }
}

/// Sends a request; the answer's status and JSON body (null if empty).
async fn send(router: &Router, method: Method, uri: &str, token: Option<&str>, body: Body) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let response = router
        .clone()
        .oneshot(req.header("content-type", "application/json").body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {bytes:?}"))
    };
    (status, value)
}

async fn get(n: &Node, uri: &str) -> (StatusCode, Value) {
    send(&n.router, Method::GET, uri, None, Body::empty()).await
}

async fn post(n: &Node, uri: &str, body: Value) -> (StatusCode, Value) {
    send(&n.router, Method::POST, uri, Some(TOKEN), Body::from(body.to_string())).await
}

/// POSTs and expects `status`; the `id` of the answer.
async fn write(n: &Node, uri: &str, body: Value, status: StatusCode) -> String {
    let (s, v) = post(n, uri, body).await;
    assert_eq!(s, status, "{uri}: {v}");
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{uri}: no id in {v}"))
        .to_owned()
}

/// Asserts an error answer: status, code and (if given) field.
fn is_error(answer: &(StatusCode, Value), status: StatusCode, code: &str, field: Option<&str>) {
    let (s, v) = answer;
    assert_eq!(*s, status, "{v}");
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    assert_eq!(v["error"]["field"].as_str(), field, "{v}");
}

/// The item with `id` on a page (lists are ordered by creation time, then
/// id: two records made in the same millisecond may come in either order).
fn item<'a>(page: &'a Value, id: &str) -> &'a Value {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
}

/// The ids on a page, sorted (see [`item`]).
fn id_set(page: &Value) -> Vec<String> {
    let mut v = ids(page);
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_and_read_works_end_to_end() {
    let a = node("Ville de Lyon", 47_301).await;
    let b = node("Atelier Logiciel", 47_302).await;
    let (_, who_b) = get(&b, "/api/v1/whoami").await;
    let member_b = who_b["id"].as_str().unwrap().to_owned();

    // Writes on `a`.
    let project = write(
        &a,
        "/api/v1/projects",
        json!({"name": "Paheko", "license": "AGPL-3.0-or-later", "tags": ["Accounting"], "status": "stable"}),
        StatusCode::CREATED,
    )
    .await;
    let fork = write(
        &a,
        "/api/v1/projects",
        json!({"name": "Paheko fork", "license": "MIT", "is_based_on": &project[..8]}),
        StatusCode::CREATED,
    )
    .await;
    write(
        &a,
        "/api/v1/usages",
        json!({"project": project, "note": "since 2020"}),
        StatusCode::CREATED,
    )
    .await;
    let need = write(
        &a,
        "/api/v1/needs",
        json!({"title": "SEPA export", "project": project, "tags": ["accounting"], "goal": "600EUR", "deadline": "2099-12-31"}),
        StatusCode::CREATED,
    )
    .await;
    let need2 = write(
        &a,
        "/api/v1/needs",
        json!({"title": "Dark mode", "goal": {"amount_minor": 10000, "currency": "EUR"}, "days_goal": 3}),
        StatusCode::CREATED,
    )
    .await;
    write(
        &a,
        &format!("/api/v1/needs/{need}/cosign"),
        json!({"note": "us too"}),
        StatusCode::CREATED,
    )
    .await;
    let pledge = write(
        &a,
        "/api/v1/pledges",
        json!({"need": need, "money": "600EUR", "condition": "if_goal_reached", "expires_at": "2099-01-01"}),
        StatusCode::CREATED,
    )
    .await;
    let days = write(
        &a,
        "/api/v1/pledges",
        json!({"need": need2, "days": 2}),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        write(
            &a,
            &format!("/api/v1/pledges/{days}/withdraw"),
            Value::Null,
            StatusCode::OK
        )
        .await,
        days
    );
    write(
        &a,
        "/api/v1/offers",
        json!({"need": need, "price": "9000EUR", "days": 10, "description": "We do it", "valid_until": "2099-06-30"}),
        StatusCode::CREATED,
    )
    .await;
    let cat = write(
        &a,
        "/api/v1/catalogues",
        json!({"title": "Libre compta"}),
        StatusCode::CREATED,
    )
    .await;
    let other = write(
        &a,
        "/api/v1/catalogues",
        json!({"title": "Libre tout", "description": "all of it"}),
        StatusCode::CREATED,
    )
    .await;
    write(
        &a,
        &format!("/api/v1/catalogues/{other}/entries"),
        json!({"project": fork, "status": "observation"}),
        StatusCode::CREATED,
    )
    .await;
    write(
        &a,
        &format!("/api/v1/catalogues/{cat}/entries"),
        json!({"project": project, "note": "solid"}),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        write(
            &a,
            &format!("/api/v1/catalogues/{cat}/includes"),
            json!({"other": other}),
            StatusCode::OK
        )
        .await,
        cat
    );

    // `b`'s document reaches `a` by export and import.
    let (s, bundle) = send(
        &b.router,
        Method::GET,
        "/api/v1/export/bundle",
        Some(TOKEN),
        Body::empty(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, report) = post(&a, "/api/v1/import", bundle.clone()).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["admitted"], 1);
    assert_eq!(report["rejected"], 0);
    let (_, again) = post(&a, "/api/v1/import", bundle).await;
    assert_eq!(again["duplicates"], 1);

    for action in ["add", "remove", "add"] {
        write(
            &a,
            &format!("/api/v1/catalogues/{cat}/editors"),
            json!({"member": &member_b[..10], "action": action}),
            StatusCode::OK,
        )
        .await;
    }
    write(
        &a,
        "/api/v1/vouches",
        json!({"member": member_b, "statement": "good people"}),
        StatusCode::CREATED,
    )
    .await;
    write(&a, "/api/v1/follows", json!({"member": member_b}), StatusCode::CREATED).await;
    write(
        &a,
        "/api/v1/follows/unfollow",
        json!({"member": member_b}),
        StatusCode::CREATED,
    )
    .await;
    write(
        &a,
        "/api/v1/moderation/lists",
        json!({"title": "Bulk offers", "members": [member_b], "reason": "spam"}),
        StatusCode::CREATED,
    )
    .await;
    write(
        &a,
        "/api/v1/moderation/follows",
        json!({"member": member_b}),
        StatusCode::CREATED,
    )
    .await;
    let tombstone = write(
        &a,
        &format!("/api/v1/records/{need2}/retract"),
        Value::Null,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(tombstone, need2);
    assert_eq!(
        write(
            &a,
            &format!("/api/v1/needs/{need}/status"),
            json!({"status": "in_progress"}),
            StatusCode::OK
        )
        .await,
        need
    );

    // Reads.
    let (s, needs) = get(&a, "/api/v1/needs").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ids(&needs), vec![need.clone()]);
    let n = &needs["items"][0];
    assert_eq!(n["status"], "in_progress");
    assert_eq!(n["cosigners"].as_array().unwrap().len(), 1);
    assert_eq!(n["funding"]["state"], "funded");
    assert_eq!(n["pledges"], json!([pledge]));
    assert!(needs["next_cursor"].is_null());

    let (_, projects) = get(&a, "/api/v1/projects?tag=Accounting").await;
    assert_eq!(ids(&projects), vec![project.clone()]);
    assert_eq!(projects["items"][0]["forks"], json!([fork]));
    assert_eq!(projects["items"][0]["users"].as_array().unwrap().len(), 1);

    let (_, pledges) = get(&a, "/api/v1/pledges").await;
    assert_eq!(id_set(&pledges), sorted(vec![pledge.clone(), days.clone()]));
    assert_eq!(item(&pledges, &pledge)["effect"], "committed");
    assert_eq!(item(&pledges, &days)["effect"], "withdrawn");

    let (_, offers) = get(&a, "/api/v1/offers").await;
    assert_eq!(offers["items"][0]["price"]["amount_minor"], 900_000);

    let (_, cats) = get(&a, "/api/v1/catalogues").await;
    assert_eq!(id_set(&cats), sorted(vec![cat.clone(), other.clone()]));
    let entries = item(&cats, &cat)["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "own entry and the included catalogue's");
    assert_eq!(entries[1]["via"], json!(other));
    assert_eq!(item(&cats, &cat)["editors"], json!([member_b]));

    let (_, members) = get(&a, "/api/v1/members").await;
    assert_eq!(members["items"].as_array().unwrap().len(), 2);
    let (_, me) = get(&a, "/api/v1/whoami").await;
    let member_a = me["id"].as_str().unwrap().to_owned();
    let (_, only_a) = get(&a, &format!("/api/v1/members?author={}", &member_a[..12])).await;
    assert_eq!(ids(&only_a), vec![member_a.clone()]);

    let (s, shown) = get(&a, &format!("/api/v1/records/{}", &need[..8])).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(shown["title"], "SEPA export");
    let (_, shown) = get(&a, &format!("/api/v1/records/{member_b}")).await;
    assert_eq!(shown["vouched_by"], json!([member_a]));
    let (_, shown) = get(&a, &format!("/api/v1/records/{pledge}")).await;
    assert_eq!(shown["effect"], "committed");
    is_error(
        &get(&a, &format!("/api/v1/records/{need2}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );

    let (_, hits) = get(&a, "/api/v1/search?q=sepa").await;
    assert_eq!(ids(&hits), vec![need.clone()]);
    let (_, hits) = get(&a, "/api/v1/search?q=paheko&status=stable").await;
    assert_eq!(ids(&hits), vec![project.clone()]);
    let (_, hits) = get(&a, "/api/v1/search?status=funded").await;
    assert_eq!(ids(&hits), vec![need.clone()]);
    let (_, hits) = get(&a, &format!("/api/v1/search?tag=accounting&author={member_a}")).await;
    assert_eq!(hits["items"].as_array().unwrap().len(), 3, "{hits}");

    let (s, stats) = get(&a, "/api/v1/stats").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(stats["members"], 2);
    assert_eq!(stats["projects"], 2);
    assert_eq!(stats["needs"], 1);
    assert_eq!(stats["needs_by_funding"], json!({"open": 0, "funded": 1, "expired": 0}));
    assert_eq!(stats["pledged"], json!({"EUR": 60_000}));

    let (s, status) = get(&a, "/api/v1/status").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(status["member"], json!(member_a));

    // Pagination: one need at a time over all projects.
    let (_, p1) = get(&a, "/api/v1/projects?limit=1").await;
    assert_eq!(ids(&p1).len(), 1);
    let cursor = p1["next_cursor"].as_str().unwrap().to_owned();
    let (_, p2) = get(&a, &format!("/api/v1/projects?limit=1&cursor={cursor}")).await;
    assert_eq!(ids(&p2).len(), 1);
    assert_eq!(
        sorted([ids(&p1), ids(&p2)].concat()),
        sorted(vec![project.clone(), fork.clone()])
    );
    assert!(p2["next_cursor"].is_null());

    // Peers: `b` dials `a`.
    b.handle.dial(a.addr.clone()).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (s, peers) = get(&a, "/api/v1/peers").await;
        assert_eq!(s, StatusCode::OK);
        if let Some(p) = peers["items"].as_array().and_then(|i| i.first()) {
            assert!(p["peer_id"].is_string() && p["address"].is_string(), "{p}");
            assert!(!p["connected_since"].is_null(), "{p}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "b never showed in a's peers");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Block and unblock `b`.
    let (s, blocked) = post(&a, "/api/v1/block", json!({"member": member_b})).await;
    assert_eq!(
        (s, blocked["blocked"].clone()),
        (StatusCode::OK, json!(true)),
        "{blocked}"
    );
    let (_, members) = get(&a, "/api/v1/members").await;
    assert_eq!(ids(&members), vec![member_a.clone()]);
    let (s, unblocked) = post(&a, "/api/v1/unblock", json!({"member": member_b})).await;
    assert_eq!(
        (s, unblocked["blocked"].clone()),
        (StatusCode::OK, json!(false)),
        "{unblocked}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_status_is_json_with_a_code() {
    let a = node("Ville de Lyon", 47_311).await;
    let need = write(&a, "/api/v1/needs", json!({"title": "Export"}), StatusCode::CREATED).await;

    // 400: a field that does not parse, JSON that is not JSON, an unknown
    // field, two resources at once, a bad status, bad paging, vouching for
    // yourself, an id of the wrong kind, a bundle that is not one.
    is_error(
        &post(&a, "/api/v1/needs", json!({"title": "X", "goal": "600XYZ"})).await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("goal"),
    );
    is_error(
        &post(&a, "/api/v1/needs", json!({"title": "X", "deadline": "31/01/2099"})).await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("deadline"),
    );
    is_error(
        &post(&a, "/api/v1/projects", json!({"name": "X", "license": "GPL-9"})).await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("license"),
    );
    is_error(
        &post(&a, "/api/v1/needs", json!({"title": 3})).await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("title"),
    );
    is_error(
        &post(&a, "/api/v1/needs", json!({"title": "X", "colour": "red"})).await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("colour"),
    );
    is_error(
        &send(
            &a.router,
            Method::POST,
            "/api/v1/needs",
            Some(TOKEN),
            Body::from("{not json"),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("body"),
    );
    is_error(
        &post(&a, "/api/v1/pledges", json!({"need": need, "money": "5EUR", "days": 1})).await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("resource"),
    );
    is_error(
        &post(&a, &format!("/api/v1/needs/{need}/status"), json!({"status": "done"})).await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("status"),
    );
    is_error(
        &get(&a, "/api/v1/needs?limit=0").await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("limit"),
    );
    is_error(
        &get(&a, "/api/v1/needs?limit=x").await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("query"),
    );
    is_error(
        &get(&a, "/api/v1/needs?cursor=zz").await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("cursor"),
    );
    let (_, me) = get(&a, "/api/v1/whoami").await;
    is_error(
        &post(&a, "/api/v1/vouches", json!({"member": me["id"]})).await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("member"),
    );
    let project = write(
        &a,
        "/api/v1/projects",
        json!({"name": "P", "license": "MIT"}),
        StatusCode::CREATED,
    )
    .await;
    is_error(
        &post(&a, "/api/v1/pledges", json!({"need": project, "days": 1})).await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("need"),
    );
    is_error(
        &post(&a, "/api/v1/import", json!({"format": "nope"})).await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("bundle"),
    );

    // 401: no token, a wrong token, even for a body that would be refused.
    for token in [None, Some("wrong"), Some("")] {
        let body = Body::from(json!({"title": "X"}).to_string());
        is_error(
            &send(&a.router, Method::POST, "/api/v1/needs", token, body).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        );
    }
    let (s, _) = send(&a.router, Method::GET, "/api/v1/export/bundle", None, Body::empty()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (_, needs) = get(&a, "/api/v1/needs").await;
    assert_eq!(ids(&needs), vec![need.clone()], "refused writes wrote nothing");

    // 404: unknown ids and prefixes, unknown routes.
    is_error(
        &post(&a, "/api/v1/needs/zzzzzz/cosign", json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    is_error(
        &get(&a, "/api/v1/records/zzzzzz").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    is_error(
        &get(&a, "/api/v1/nothing").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    is_error(
        &send(&a.router, Method::DELETE, "/api/v1/needs", Some(TOKEN), Body::empty()).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        None,
    );

    // 409: withdrawing twice, including twice.
    let pledge = write(
        &a,
        "/api/v1/pledges",
        json!({"need": need, "days": 1}),
        StatusCode::CREATED,
    )
    .await;
    write(
        &a,
        &format!("/api/v1/pledges/{pledge}/withdraw"),
        Value::Null,
        StatusCode::OK,
    )
    .await;
    is_error(
        &post(&a, &format!("/api/v1/pledges/{pledge}/withdraw"), Value::Null).await,
        StatusCode::CONFLICT,
        "conflict",
        None,
    );

    // 413: a body over the write limit; /import takes more.
    let big = json!({"title": "X", "description": "d".repeat(super::write::WRITE_LIMIT)});
    is_error(
        &post(&a, "/api/v1/needs", big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        None,
    );
    let big_bundle = json!({"format": "x", "pad": "p".repeat(2 * super::write::WRITE_LIMIT)});
    let (s, _) = post(&a, "/api/v1/import", big_bundle).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "2 MiB is under /import's limit");
    // Zeros: the allocation is not touched, the limit refuses it unread.
    let huge = Body::from(vec![0u8; super::write::IMPORT_LIMIT + 1]);
    is_error(
        &send(&a.router, Method::POST, "/api/v1/import", Some(TOKEN), huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        None,
    );

    // 422: pledging on a retracted need, a past deadline.
    write(
        &a,
        &format!("/api/v1/records/{need}/retract"),
        Value::Null,
        StatusCode::CREATED,
    )
    .await;
    is_error(
        &post(&a, "/api/v1/pledges", json!({"need": need, "money": "100EUR"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule_broken",
        None,
    );
    is_error(
        &post(&a, "/api/v1/needs", json!({"title": "Late", "deadline": "2020-01-31"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "rule_broken",
        None,
    );
}

/// The paths an axum router routes, read from its `Debug` form (axum has
/// no public route list).
fn routed_paths(router: &Router) -> BTreeSet<String> {
    let text = format!("{router:?}");
    text.split('"')
        .filter(|s| s.starts_with("/api/"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route_and_only_those() {
    let a = node("Ville de Lyon", 47_321).await;
    let (s, doc) = get(&a, "/api/v1/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc, serde_json::to_value(super::openapi()).unwrap());
    let paths = doc["paths"].as_object().unwrap();
    let documented: BTreeSet<String> = paths.keys().cloned().collect();
    let routed = routed_paths(&a.router);
    assert!(
        routed.len() > 20,
        "the router's Debug form no longer shows its paths: {routed:?}"
    );
    assert_eq!(documented, routed);

    // Every documented method is routed; every other method is not.
    let methods = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];
    for (path, item) in paths {
        let uri = path.replace("{id}", "zzzzzz");
        for m in &methods {
            let is_documented = item.get(m.as_str().to_ascii_lowercase()).is_some();
            let (status, body) = send(&a.router, m.clone(), &uri, None, Body::empty()).await;
            let unrouted = status == StatusCode::METHOD_NOT_ALLOWED
                || (status == StatusCode::NOT_FOUND
                    && body["error"]["message"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("no such endpoint")));
            assert_eq!(is_documented, !unrouted, "{m} {path}: {status} {body}");
            if is_documented && item[m.as_str().to_ascii_lowercase()]["security"].is_array() {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{m} {path} needs the token");
            }
        }
    }
    // Reads are open, writes are not, and the document says which.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let secured = op["security"].is_array();
            let is_write = method != "get" || path == "/api/v1/export/bundle";
            assert_eq!(secured, is_write, "{method} {path}");
        }
    }
}

/// Every schema the document refers to is in it, and every write documents
/// the one list of error responses (`error::WriteErrors`, which refers to
/// `ErrorBody` without registering it).
#[test]
fn the_openapi_document_resolves_its_references_and_lists_the_write_errors() {
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let doc = serde_json::to_value(super::openapi()).unwrap();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.contains(&"#/components/schemas/ErrorBody"));
    for r in found {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} is not in the document"
        );
    }
    let mut writes = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("post") else { continue };
        let statuses: Vec<&str> = op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let errors: Vec<&str> = statuses.into_iter().filter(|s| !s.starts_with('2')).collect();
        assert_eq!(errors, ["400", "401", "404", "409", "413", "422"], "{path}");
        writes += 1;
    }
    assert!(writes >= 17, "{writes}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similar_needs_ranks_the_open_need_that_says_the_same_first() {
    let a = node("Ville de Lyon", 47_331).await;
    let project = write(
        &a,
        "/api/v1/projects",
        json!({"name": "Paheko", "license": "AGPL-3.0-or-later"}),
        StatusCode::CREATED,
    )
    .await;
    let sepa = write(
        &a,
        "/api/v1/needs",
        json!({"title": "Paheko: SEPA direct debit export", "project": project, "tags": ["sepa"]}),
        StatusCode::CREATED,
    )
    .await;
    write(
        &a,
        "/api/v1/needs",
        json!({"title": "Accessible council minutes", "tags": ["accessibility"]}),
        StatusCode::CREATED,
    )
    .await;
    let uri = format!(
        "/api/v1/needs/similar?title=Export%20des%20pr%C3%A9l%C3%A8vements%20SEPA&project={}&tags=sepa,banque",
        &project[..10]
    );
    let (s, found) = get(&a, &uri).await;
    assert_eq!(s, StatusCode::OK, "{found}");
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["need"], sepa);
    assert_eq!(found[0]["reasons"][0]["reason"], "same_project");
    is_error(
        &get(&a, "/api/v1/needs/similar?title=x&limit=0").await,
        StatusCode::BAD_REQUEST,
        "bad_field",
        Some("limit"),
    );
    is_error(
        &get(&a, "/api/v1/needs/similar?title=x&project=zzzzzzzz").await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
}

/// `POST /projects/import`: a broken file is refused with located findings
/// and the other imported; the project's view carries the publiccode
/// information; `GET /projects/{id}/publiccode.yml` gives the file back as
/// YAML; importing it again changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publiccode_files_import_and_export_through_the_api() {
    let a = node("Ville de Lyon", 47_914).await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpora/publiccode/testdata/v0/valid/valid.minimal.yml");
    let yaml = std::fs::read_to_string(path).unwrap();
    let broken = yaml.replace("developmentStatus: development", "developmentStatus: finished");
    let body = json!({"files": [
        {"name": "medusa/publiccode.yml", "yaml": yaml},
        {"name": "broken/publiccode.yml", "yaml": broken},
    ]});
    let (s, report) = post(&a, "/api/v1/projects/import", body).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["imported"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["imported"][0]["outcome"], "created");
    assert_eq!(report["refused"][0]["file"], "broken/publiccode.yml");
    let finding = &report["refused"][0]["findings"][0];
    assert_eq!(finding["key"], "developmentStatus", "{report}");
    assert!(finding["line"].as_u64().unwrap() > 0);
    let id = report["imported"][0]["id"].as_str().unwrap().to_owned();

    let (s, view) = get(&a, &format!("/api/v1/records/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(view["publiccode_info"]["platforms"], json!(["web"]), "{view}");
    assert_eq!(view["publiccode"], yaml.as_str(), "{view}");

    let response = a
        .router
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("/api/v1/projects/{id}/publiccode.yml"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/yaml")
    );
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    assert_eq!(std::str::from_utf8(&bytes).unwrap(), yaml);

    let (s, again) = post(
        &a,
        "/api/v1/projects/import",
        json!({"files": [{"name": "p.yml", "yaml": yaml}]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["imported"][0]["outcome"], "unchanged", "{again}");
    assert_eq!(again["imported"][0]["id"], id.as_str());
    // A project without a publiccode.yml: 409, saying so.
    let plain = write(
        &a,
        "/api/v1/projects",
        json!({"name": "Paheko", "license": "AGPL-3.0-or-later"}),
        StatusCode::CREATED,
    )
    .await;
    let (s, e) = get(&a, &format!("/api/v1/projects/{plain}/publiccode.yml")).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    // A catalogue listing both: one file, an index of two.
    let catalogue = write(
        &a,
        "/api/v1/catalogues",
        json!({"title": "Logiciels"}),
        StatusCode::CREATED,
    )
    .await;
    for p in [&id, &plain] {
        write(
            &a,
            &format!("/api/v1/catalogues/{catalogue}/entries"),
            json!({"project": p}),
            StatusCode::CREATED,
        )
        .await;
    }
    let (s, export) = get(&a, &format!("/api/v1/catalogues/{catalogue}/publiccode")).await;
    assert_eq!(s, StatusCode::OK, "{export}");
    assert_eq!(export["files"].as_array().unwrap().len(), 1, "{export}");
    assert_eq!(export["files"][0]["yaml"], yaml.as_str());
    assert_eq!(export["index"]["projects"].as_array().unwrap().len(), 2, "{export}");
}

/// The consultation's writes and reads through the API, on one member who
/// is author, pledger and provider at once: award, delivery, acceptance,
/// payment and receipt, then the need's consultation and the track record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consultation_runs_through_the_api() {
    let a = node("Ville de Lyon", 47_341).await;
    let need = write(
        &a,
        "/api/v1/needs",
        json!({"title": "Accessible forms", "goal": "100EUR", "decision": "majority"}),
        StatusCode::CREATED,
    )
    .await;
    let decision = json!({"decision": "author"});
    write(&a, &format!("/api/v1/needs/{need}/decision"), decision, StatusCode::OK).await;
    let pledge = write(
        &a,
        "/api/v1/pledges",
        json!({"need": need, "money": "100EUR", "condition": "if_goal_reached"}),
        StatusCode::CREATED,
    )
    .await;
    let offer = write(
        &a,
        "/api/v1/offers",
        json!({"need": need, "price": "90EUR", "days": 10}),
        StatusCode::CREATED,
    )
    .await;
    write(
        &a,
        &format!("/api/v1/offers/{offer}/approve"),
        json!({}),
        StatusCode::CREATED,
    )
    .await;
    write(
        &a,
        &format!("/api/v1/offers/{offer}/award"),
        json!({}),
        StatusCode::CREATED,
    )
    .await;
    let again = post(&a, &format!("/api/v1/offers/{offer}/award"), json!({})).await;
    assert!(again.0.is_client_error(), "a second award is refused: {again:?}");
    let delivery = write(
        &a,
        "/api/v1/deliveries",
        json!({"need": need, "release": "https://git.example/forms/releases/v1"}),
        StatusCode::CREATED,
    )
    .await;
    let verdict = json!({"verdict": "accept"});
    write(
        &a,
        &format!("/api/v1/deliveries/{delivery}/verdict"),
        verdict,
        StatusCode::CREATED,
    )
    .await;
    write(
        &a,
        &format!("/api/v1/pledges/{pledge}/fulfil"),
        json!(null),
        StatusCode::OK,
    )
    .await;
    write(
        &a,
        &format!("/api/v1/pledges/{pledge}/received"),
        json!({}),
        StatusCode::CREATED,
    )
    .await;

    let (s, c) = get(&a, &format!("/api/v1/needs/{need}/consultation")).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["decision"], "author");
    assert_eq!(c["award"]["offer"], offer.as_str());
    assert_eq!(c["award"]["outcome"]["standing"], "valid");
    assert!(c["timeline"]["accepted"].is_u64(), "{c}");
    assert_eq!(
        (c["timeline"]["paid"].as_u64(), c["timeline"]["payable"].as_u64()),
        (Some(1), Some(1))
    );
    let (_, whoami) = get(&a, "/api/v1/whoami").await;
    let me = whoami["id"].as_str().unwrap().to_owned();
    let (s, t) = get(&a, &format!("/api/v1/members/{me}/track-record")).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["offers_awarded"], 1);
    assert_eq!(t["accepted"], 1);
    assert_eq!(t["received"]["EUR"], 10_000);
    assert_eq!(t["pledges_paid"], 1);
    let (s, _) = get(&a, "/api/v1/needs/zzzzzz/consultation").await;
    assert!(s.is_client_error());
}
