#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The control protocol on a real actor: the same request answers the same
//! offline ([`local`]) and on the node ([`serve`]); the endpoint refuses what
//! it does not know.

use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode};
use mutu_protocol::Timestamp;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;
use crate::testing::TestNode;

const TOKEN: &str = "control-token-0123456789";

fn spawn(port: u64) -> TestNode {
    TestNode::spawn(port, crate::testing::profile("Ville de Lyon"))
}

fn request(v: Value) -> Request {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"))
}

/// Applies a write through the node; the id it made.
async fn write(n: &TestNode, op: Value, now: Timestamp) -> String {
    match serve(&n.handle, request(json!({"command": "apply", "op": op})), now)
        .await
        .unwrap()
    {
        Response::Written { id } => id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_answers_the_same_offline_and_on_the_node() {
    let n = spawn(47_601);
    let now = state::now();
    let project = write(
        &n,
        json!({"op": "new_project", "name": "Paheko", "license": "AGPL-3.0-or-later"}),
        now,
    )
    .await;
    let need = write(
        &n,
        json!({"op": "new_need", "title": "SEPA export", "project": project, "tags": ["accounting"], "goal": "600EUR"}),
        now,
    )
    .await;
    write(&n, json!({"op": "new_pledge", "need": need, "money": "250EUR"}), now).await;

    let mut requests = vec![
        json!({"command": "whoami"}),
        json!({"command": "search", "text": "sepa"}),
        json!({"command": "show", "id": need}),
        json!({"command": "show", "id": project}),
        json!({"command": "ls", "what": "needs", "tag": "accounting"}),
    ];
    for what in ["needs", "projects", "pledges", "offers", "catalogues", "members"] {
        requests.push(json!({"command": "ls", "what": what}));
    }
    for r in requests {
        for json_output in [false, true] {
            let mut r = r.clone();
            r["json"] = json!(json_output);
            let served = serve(&n.handle, request(r.clone()), now).await.unwrap();
            let req = request(r.clone());
            let local = n.handle.test(move |st, _| local(st, req, now)).await.unwrap().unwrap();
            let (served, local) = (
                serde_json::to_value(served).unwrap(),
                serde_json::to_value(local).unwrap(),
            );
            assert_eq!(served, local, "{r}");
            assert!(served.get("report").is_some(), "{r}: {served}");
        }
    }
    // The need's page carries its pledge table, under its title.
    let Response::Report(Report::Text { blocks }) =
        serve(&n.handle, request(json!({"command": "show", "id": need})), now)
            .await
            .unwrap()
    else {
        panic!("not a text report")
    };
    assert!(
        blocks
            .iter()
            .any(|b| matches!(b, report::Block::Table(t) if t.title.as_deref() == Some("1 pledge"))),
        "{blocks:?}"
    );
    // Errors are the same too, and say whose fault they are.
    for r in [
        json!({"command": "show", "id": "zzzzzzzz"}),
        json!({"command": "block", "member": n.handle.test(|st, _| st.member_id().to_string()).await.unwrap()}),
        json!({"command": "apply", "op": {"op": "new_need", "title": "", "goal": "600EUR"}}),
    ] {
        let served = serve(&n.handle, request(r.clone()), now).await.unwrap_err();
        let req = request(r.clone());
        let local = n
            .handle
            .test(move |st, _| local(st, req, now))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(served.to_string(), local.to_string(), "{r}");
        assert_eq!(served.class(), local.class(), "{r}");
        assert!(served.class().is_callers(), "{r}: {served}");
    }
}

/// POSTs `body` to the control endpoint: the status and the JSON answer.
async fn post(router: &axum::Router, token: Option<&str>, body: &str) -> (StatusCode, Value) {
    let mut req = HttpRequest::post("/api/v1/control").header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let response = router
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_takes_typed_requests_only_and_names_no_file() {
    let n = spawn(47_602);
    let router = crate::api::router(n.handle.clone(), TOKEN.into());
    let me = n.handle.test(|st, _| st.member_id().to_string()).await.unwrap();

    let (s, v) = post(&router, None, r#"{"command": "whoami"}"#).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (s, v) = post(&router, Some(TOKEN), r#"{"command": "whoami", "json": true}"#).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["report"]["json"]["value"]["id"], me);

    // What the old argv endpoint took: commands naming files, and argv.
    for body in [
        r#"{"command": "import", "file": "/etc/passwd"}"#.to_owned(),
        r#"{"command": "export", "out": "/tmp/written-by-the-node"}"#.to_owned(),
        r#"{"args": ["export", "--out", "/tmp/x"]}"#.to_owned(),
        r#"{"command": "whoami", "cwd": "/"}"#.to_owned(),
        "not json".to_owned(),
    ] {
        let (s, v) = post(&router, Some(TOKEN), &body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["error"]["code"], "bad_field", "{body}: {v}");
    }
    assert!(!std::path::Path::new("/tmp/written-by-the-node").exists());

    let (s, v) = post(
        &router,
        Some(TOKEN),
        &json!({"command": "block", "member": me}).to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["message"], "you cannot block yourself");
    let (s, v) = post(&router, Some(TOKEN), r#"{"command": "show", "id": "zzzzzzzz"}"#).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "{v}"
    );
    let (s, v) = post(&router, Some(TOKEN), r#"{"command": "peers"}"#).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["report"]["text"]["blocks"][0]["lines"][0], "no connected peers");
}

/// Watch requests are written by whoever holds the token: an oversized tag,
/// an unknown record or a member prefix matching nothing are refused with
/// the field at fault, and nothing reaches the watch file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_watch_requests_are_refused_and_leave_the_list_as_it_was() {
    let n = spawn(47_603);
    let now = state::now();
    let hostile = [
        json!({"command": "watch", "target": {"tag": "x".repeat(100_000)}}),
        json!({"command": "watch", "target": {"tag": "   "}}),
        json!({"command": "watch", "target": {"need": "zzzzzzzz"}}),
        json!({"command": "watch", "target": {"member": "mu-no-such-member"}}),
        json!({"command": "unwatch", "target": {"project": "zzzz"}}),
    ];
    for v in hostile {
        let e = serve(&n.handle, request(v.clone()), now).await.unwrap_err();
        assert_ne!(e.class(), Class::Internal, "{v}: {e}");
    }
    assert!(serde_json::from_value::<Request>(json!({"command": "watch", "target": {"planet": "x"}})).is_err());
    assert!(mutu_node::watch::load(&n.home).watches.is_empty());
    serve(
        &n.handle,
        request(json!({"command": "watch", "target": {"tag": "SEPA export"}})),
        now,
    )
    .await
    .unwrap();
    assert_eq!(
        mutu_node::watch::load(&n.home).watches,
        vec![mutu_protocol::inbox::Watch::Tag("sepa-export".into())]
    );
}
