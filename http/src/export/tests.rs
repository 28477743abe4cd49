#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Exports in process: CSV escaping, `registry.json` from a state holding a
//! tombstone and an invalid record, and the routes through a real actor.

use automerge::ReadDoc;
use automerge::transaction::{CommitOptions, Transactable};
use axum::body::Body as HttpBody;
use axum::http::{Request, StatusCode, header};
use mutu_protocol::identity::actor_id;
use mutu_protocol::record::{Body, Kind, MemberKind, Profile, Record};
use mutu_protocol::{SecretKey, SignedChange};
use serde_json::Value;
use tower::ServiceExt;

use super::*;
use crate::testing::TestNode;
use mutu_node::actor;
use mutu_node::home::Home;
use mutu_node::ops::{self, Op};

fn profile(name: &str) -> Profile {
    Profile {
        name: name.into(),
        member_kind: MemberKind::Association,
        country: Some("FR".into()),
        sectors: vec!["culture".into()],
        website: None,
        description: String::new(),
    }
}

fn state(dir: &tempfile::TempDir, name: &str) -> state::State {
    let home = Home::resolve(Some(dir.path().join(name))).unwrap();
    state::State::init(home, profile(name), state::now()).unwrap()
}

/// Parses CSV text the RFC 4180 way (quotes, doubled quotes, CRLF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "a bare CR ends no line");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(row.is_empty() && cell.is_empty(), "the last line ends with CRLF");
    rows
}

#[test]
fn cells_are_quoted_and_formulas_neutralised() {
    assert_eq!(csv_cell("plain"), "plain");
    assert_eq!(csv_cell(""), "");
    assert_eq!(csv_cell("a,b"), "\"a,b\"");
    assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
    assert_eq!(csv_cell("cr\rhere"), "\"cr\rhere\"");
    assert_eq!(csv_cell("=1+1"), "'=1+1");
    assert_eq!(csv_cell("+33 1 23"), "'+33 1 23");
    assert_eq!(csv_cell("-2"), "'-2");
    assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
    assert_eq!(csv_cell("\tTAB"), "'\tTAB");
    assert_eq!(
        csv_cell("=HYPERLINK(\"x\",\"y\")"),
        "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
    );
    assert_eq!(csv_cell("2027-03-31"), "2027-03-31");
    assert_eq!(csv_cell("a=b"), "a=b");

    let mut csv = Csv::new(&["a", "b"]);
    csv.row(["=cmd|' /C calc'!A0".to_owned(), "x,\"y\"\nz".to_owned()]);
    let text = csv.finish();
    assert_eq!(
        parse_csv(&text),
        vec![
            vec!["a".to_owned(), "b".to_owned()],
            vec!["'=cmd|' /C calc'!A0".to_owned(), "x,\"y\"\nz".to_owned()],
        ]
    );
}

#[test]
fn csv_exports_have_a_header_and_one_row_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = state(&dir, "=Evil, \"Inc\"");
    let now = state::now();
    let project = ops::NewProject {
        name: "-Paheko".into(),
        license: "AGPL-3.0-or-later".into(),
        description: None,
        repository: Some("https://fossil.kd2.org/paheko".into()),
        homepage: None,
        tags: vec!["accounting".into(), "sepa".into()],
        status: None,
        is_based_on: None,
    }
    .apply(&mut st, now)
    .unwrap();
    let need = ops::NewNeed {
        title: "SEPA, \"export\"".into(),
        description: None,
        project: Some(project.to_string()),
        tags: vec![],
        goal: Some(ops::MoneyInput::Text("1000EUR".into())),
        days_goal: None,
        deadline: None,
        decision: None,
    }
    .apply(&mut st, now)
    .unwrap();
    // Distinct creation times keep the rows in this order.
    let conditional = Some(mutu_protocol::record::Condition::IfGoalReached);
    for (i, (money, condition)) in [("600EUR", None), ("400EUR", conditional)].into_iter().enumerate() {
        ops::NewPledge {
            need: need.to_string(),
            money: Some(ops::MoneyInput::Text(money.into())),
            days: None,
            hosting: None,
            testing: None,
            other: None,
            condition,
            expires_at: None,
        }
        .apply(&mut st, now.saturating_add_millis(i as u64 + 1))
        .unwrap();
    }
    ops::NewPledge {
        need: need.to_string(),
        money: None,
        days: None,
        hosting: Some("+1 VM".into()),
        testing: None,
        other: None,
        condition: None,
        expires_at: None,
    }
    .apply(&mut st, now.saturating_add_millis(3))
    .unwrap();
    let views = st.views(now.saturating_add_millis(10));

    let needs = parse_csv(&needs_csv_of(&views));
    assert_eq!(
        needs[0],
        NEEDS_HEADER.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()
    );
    assert_eq!(needs.len(), 2);
    let row: std::collections::HashMap<&str, &str> = NEEDS_HEADER
        .iter()
        .copied()
        .zip(needs[1].iter().map(String::as_str))
        .collect();
    assert_eq!(row["title"], "SEPA, \"export\"");
    assert_eq!(row["author_name"], "'=Evil, \"Inc\"");
    assert_eq!(row["funding_state"], "funded");
    assert_eq!(row["goal"], "1000.00");
    assert_eq!(row["goal_currency"], "EUR");
    assert_eq!(row["pledged_in_goal_currency"], "1000.00");
    assert_eq!(row["percent"], "100");
    assert_eq!(row["cosigners"], "0");
    assert_eq!(row["pledges"], "3");
    assert_eq!(row["project_name"], "'-Paheko");

    let pledges = parse_csv(&pledges_csv_of(&views));
    assert_eq!(pledges.len(), 4);
    let effects: Vec<&str> = pledges[1..]
        .iter()
        .map(|r| r[PLEDGES_HEADER.len() - 1].as_str())
        .collect();
    assert_eq!(effects, ["active", "committed", "active"]);
    let hosting = &pledges[3];
    assert_eq!(hosting[7], "hosting");
    assert_eq!(hosting[11], "'+1 VM");
    assert_eq!(pledges[2][8..10], ["400.00".to_owned(), "EUR".to_owned()]);
    assert_eq!(pledges[2][12], "if_goal_reached");
    assert_eq!(pledges[1][5], need.to_string());

    let projects = parse_csv(&projects_csv_of(&views));
    assert_eq!(projects.len(), 2);
    assert_eq!(projects[1][5], "'-Paheko");
    assert_eq!(projects[1][6], "AGPL-3.0-or-later");
    assert_eq!(projects[1][10], "accounting;sepa");
    assert_eq!(projects[1][14], "1", "one need");
}

/// A change to `owner`'s document, made and signed by `owner`, that holds
/// `record` by someone else (which `MemberDoc::write` refuses to make).
fn foreign_record_change(owner: &SecretKey, record: &mutu_protocol::SignedRecord) -> SignedChange {
    let actor = actor_id(&owner.member_id(), &mutu_protocol::identity::ReplicaNonce([9; 16]));
    let mut am = automerge::Automerge::new().with_actor(actor);
    let mut tx = am.transaction();
    tx.put(
        automerge::ROOT,
        record.doc_key(),
        automerge::ScalarValue::Bytes(record.stored_bytes().to_vec()),
    )
    .unwrap();
    let now = state::now();
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(now.as_millis() as i64));
    SignedChange::sign(owner, &am.get_change_by_hash(&hash.unwrap()).unwrap())
}

#[test]
fn registry_json_has_every_record_with_its_signature_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = state(&dir, "Atelier");
    let now = state::now();
    let project = ops::NewProject {
        name: "Galette".into(),
        license: "GPL-3.0-or-later".into(),
        description: None,
        repository: None,
        homepage: None,
        tags: vec![],
        status: None,
        is_based_on: None,
    }
    .apply(&mut st, now)
    .unwrap();
    let tombstone = ops::Retract {
        id: project.to_string(),
    }
    .apply(&mut st, now)
    .unwrap();
    // Mallory's document carries a record by Bob: left out, counted invalid.
    let (mallory, bob) = (SecretKey::from_bytes(&[3; 32]), SecretKey::from_bytes(&[4; 32]));
    let bobs = Record::new(bob.member_id(), [5; 16], now, Body::Profile(profile("Bob")))
        .sign(&bob)
        .unwrap();
    let report = st.admit(vec![foreign_record_change(&mallory, &bobs)], now).unwrap();
    assert_eq!(report.admitted.len(), 1, "{report:?}");
    assert_eq!(st.registry().index().invalid_count(), 1);

    let doc = Snapshot::of(&st.snapshot(), st.left_out(), now).into_value();
    assert_eq!(doc["format"], FORMAT);
    assert_eq!(doc["node"], st.member_id().to_string());
    assert_eq!(doc["signature_domain"], "mutu/record/v1");
    assert_eq!(doc["counts"]["valid"], 3);
    assert_eq!(doc["counts"]["invalid"], 1);
    let records = doc["records"].as_array().unwrap();
    assert_eq!(records.len(), 4);
    let by_id = |id: &str| records.iter().find(|r| r["id"] == id).unwrap();

    let p = by_id(&project.to_string());
    assert_eq!(p["kind"], "project");
    assert_eq!(p["retracted"], true);
    assert_eq!(p["body"]["name"], "Galette");
    assert_eq!(p["verification"]["status"], "valid");
    // The signature verifies over domain ‖ signed bytes under the author's key.
    let sig = data_encoding::BASE64
        .decode(p["signature"].as_str().unwrap().as_bytes())
        .unwrap();
    let bytes = data_encoding::BASE64
        .decode(p["signed_bytes"].as_str().unwrap().as_bytes())
        .unwrap();
    let stored = [sig.clone(), bytes].concat();
    let decoded = mutu_protocol::SignedRecord::decode(&stored).unwrap();
    assert_eq!(decoded.id(), project);
    decoded
        .verify(&mut mutu_protocol::identity::KeyCache::default())
        .unwrap();

    let t = by_id(&tombstone.to_string());
    assert_eq!(t["kind"], "tombstone");
    assert_eq!(t["body"]["target"], project.to_string());
    assert_eq!(t["retracted"], false);

    let bad = records
        .iter()
        .find(|r| r["verification"]["status"] == "invalid")
        .unwrap();
    assert_eq!(bad["doc"], mallory.member_id().to_string());
    assert_eq!(bad["key"], bobs.doc_key());
    assert_eq!(bad["author"], bob.member_id().to_string());
    assert_eq!(bad["kind"], Kind::Profile.as_str());
    assert!(
        bad["verification"]["reason"]
            .as_str()
            .unwrap()
            .contains("not by the owner"),
        "{bad}"
    );
    assert!(bad["signature"].is_string());
    // Valid records come first, oldest first; the invalid one last.
    assert_eq!(records[3], *bad);
}

#[test]
fn registry_json_streams_in_chunks_and_stops_when_the_reader_goes() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = state(&dir, "Atelier");
    let now = state::now();
    for i in 0..300 {
        ops::NewCatalogue {
            title: format!("Catalogue {i}"),
            description: Some("x".repeat(500)),
        }
        .apply(&mut st, now)
        .unwrap();
    }
    let mut chunks = 0;
    let mut whole = Vec::new();
    assert!(Snapshot::of(&st.snapshot(), st.left_out(), now).write(|c| {
        chunks += 1;
        whole.extend_from_slice(&c);
        true
    }));
    assert!(chunks > 1, "{chunks} chunk(s)");
    let v: Value = serde_json::from_slice(&whole).unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 301);
    let mut sent = 0;
    assert!(!Snapshot::of(&st.snapshot(), st.left_out(), now).write(|_| {
        sent += 1;
        false
    }));
    assert_eq!(sent, 1);
}

/// The export routes in front of a running node; keep the [`TestNode`].
async fn serve(name: &str, port: u64) -> (axum::Router, actor::Handle, TestNode) {
    let n = TestNode::spawn(port, profile(name));
    (router(n.handle.clone()), n.handle.clone(), n)
}

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = router
        .clone()
        .oneshot(Request::builder().uri(uri).body(HttpBody::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, headers, bytes.to_vec())
}

#[tokio::test]
async fn the_routes_serve_every_export_without_a_token() {
    let (router, handle, _node) = serve("Ville", 47_651).await;
    let now = state::now();
    handle
        .test(move |s, _| {
            ops::NewNeed {
                title: "Accessible forms".into(),
                description: None,
                project: None,
                tags: vec![],
                goal: Some(ops::MoneyInput::Text("500EUR".into())),
                days_goal: None,
                deadline: None,
                decision: None,
            }
            .apply(s, now)
        })
        .await
        .unwrap()
        .unwrap();

    let (status, headers, body) = get(&router, "/export/registry.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["counts"]["valid"], 2);

    for (uri, header_row) in [
        ("/export/needs.csv", NEEDS_HEADER),
        ("/export/pledges.csv", PLEDGES_HEADER),
        ("/export/projects.csv", PROJECTS_HEADER),
    ] {
        let (status, headers, body) = get(&router, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        let rows = parse_csv(std::str::from_utf8(&body).unwrap());
        assert_eq!(rows[0], header_row.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    }

    let (status, headers, body) = get(&router, "/export/bundle").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let expected = handle.with_snapshot(|s| s.export().unwrap().to_json()).await.unwrap();
    assert_eq!(String::from_utf8(body).unwrap(), format!("{expected}\n"));
    let bundle = mutu_protocol::bundle::Bundle::parse(expected.as_bytes()).unwrap();
    assert_eq!(bundle.documents.len(), 1);

    let (status, ..) = get(&router, "/export/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
