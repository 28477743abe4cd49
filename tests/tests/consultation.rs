#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A whole consultation across four nodes (issue 13): a public body posts a
//! need decided `weighted`, an SME and an association pledge, a provider
//! makes two competing offers; the award is contested everywhere until a
//! late approval (arriving by sync) flips it valid everywhere; delivery, an
//! objection then acceptance, pledges due, paid and received; every node
//! shows the same consultation and track records.
//!
//! ```text
//!   city ──── sme
//!    │  ╲    ╱ │
//!    │   ╲  ╱  │
//!   assoc ── provider      (all connected)
//! ```

use std::time::Duration;

use mutu_node::ops;
use mutu_protocol::record::{Body, Decision, Need, NeedStatus, Verdict};
use mutu_protocol::view::consult::Standing;
use mutu_protocol::{MemberId, RecordId, Timestamp};
use mutu_tests::net::{TestNode, connect_all, wait_for};

const LIMIT: Duration = Duration::from_secs(15);

async fn apply(n: &TestNode, op: impl Into<ops::Request>) -> RecordId {
    n.handle()
        .apply(op.into(), mutu_node::state::now())
        .await
        .expect("the node runs")
        .unwrap_or_else(|e| panic!("the write is refused: {e}"))
}

async fn refused(n: &TestNode, op: impl Into<ops::Request>) -> String {
    match n
        .handle()
        .apply(op.into(), mutu_node::state::now())
        .await
        .expect("the node runs")
    {
        Ok(id) => panic!("the write was accepted: {id}"),
        Err(e) => e.to_string(),
    }
}

async fn member(n: &TestNode) -> MemberId {
    n.handle().with_snapshot(|s| s.member_id()).await.unwrap()
}

/// The consultation of `need` and the track records of `members`, as JSON.
async fn consultation(n: &TestNode, need: RecordId, members: Vec<MemberId>, now: Timestamp) -> String {
    n.handle()
        .with_snapshot(move |s| {
            let views = s.views(now);
            let records: Vec<_> = members.iter().map(|m| views.track_record(m)).collect();
            serde_json::to_string(&(views.consultation_of(&need), records)).unwrap()
        })
        .await
        .unwrap()
}

async fn award_standing(n: &TestNode, need: RecordId) -> Option<Standing> {
    n.handle()
        .with_snapshot(move |s| {
            let views = s.views(mutu_node::state::now());
            views.consultation_of(&need)?.award.map(|a| a.outcome.standing)
        })
        .await
        .unwrap()
}

async fn everyone_has(nodes: &[&TestNode], ids: &[RecordId]) {
    for n in nodes {
        wait_for(LIMIT, "every node to have the records", || async {
            n.has_all(ids).await
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultation_across_four_nodes() {
    let city = TestNode::spawn(1301, "city").await;
    let sme = TestNode::spawn(1302, "sme").await;
    let assoc = TestNode::spawn(1303, "assoc").await;
    let provider = TestNode::spawn(1304, "provider").await;
    let all = [&city, &sme, &assoc, &provider];
    connect_all(&all).await;
    let members = vec![
        member(&city).await,
        member(&sme).await,
        member(&assoc).await,
        member(&provider).await,
    ];

    let need = city
        .create(Body::Need(Need {
            title: "Accessible forms".into(),
            description: String::new(),
            tags: vec![],
            project: None,
            goal: Some("1000EUR".parse().unwrap()),
            days_goal: None,
            deadline: None,
            status: NeedStatus::Open,
            merged_into: None,
            decision: Decision::Weighted,
        }))
        .await;
    everyone_has(&all, &[need]).await;
    let sme_pledge = apply(
        &sme,
        ops::NewPledge {
            need: need.to_string(),
            money: Some(ops::MoneyInput::Text("600EUR".into())),
            days: None,
            hosting: None,
            testing: None,
            other: None,
            condition: Some(mutu_protocol::record::Condition::IfGoalReached),
            expires_at: None,
        },
    )
    .await;
    let assoc_pledge = apply(
        &assoc,
        ops::NewPledge {
            need: need.to_string(),
            money: Some(ops::MoneyInput::Text("400EUR".into())),
            days: None,
            hosting: None,
            testing: None,
            other: None,
            condition: Some(mutu_protocol::record::Condition::IfGoalReached),
            expires_at: None,
        },
    )
    .await;
    let offer = |price: &str, days| ops::NewOffer {
        need: need.to_string(),
        price: ops::MoneyInput::Text(price.into()),
        days: Some(days),
        description: None,
        valid_until: None,
    };
    let cheap = apply(&provider, offer("900EUR", 30)).await;
    let quick = apply(&provider, offer("1000EUR", 10)).await;
    everyone_has(&all, &[sme_pledge, assoc_pledge, cheap, quick]).await;

    // The association prefers the quick offer; the city awards the cheap
    // one: contested on every node (the city pledged nothing).
    apply(
        &assoc,
        ops::ApproveOffer {
            offer: quick.to_string(),
            note: None,
        },
    )
    .await;
    let award = apply(
        &city,
        ops::AwardOffer {
            offer: cheap.to_string(),
            note: None,
        },
    )
    .await;
    everyone_has(&all, &[award]).await;
    for n in all {
        assert_eq!(award_standing(n, need).await, Some(Standing::Contested));
    }
    let second = refused(
        &city,
        ops::AwardOffer {
            offer: quick.to_string(),
            note: None,
        },
    )
    .await;
    assert!(second.contains("stands"), "{second}");

    // The SME's approval, written after the award, reaches every node and
    // flips the award to valid (600 of 1000 EUR).
    let late = apply(
        &sme,
        ops::ApproveOffer {
            offer: cheap.to_string(),
            note: Some("agreed".into()),
        },
    )
    .await;
    for n in all {
        wait_for(LIMIT, "the late approval to flip the award", || async {
            award_standing(n, need).await == Some(Standing::Valid)
        })
        .await;
    }
    assert!(n_has(&all, late).await);

    // Delivery; the association objects, the SME accepts: accepted.
    let delivery = apply(
        &provider,
        ops::NewDelivery {
            need: need.to_string(),
            release: "https://git.example/forms/releases/v1.0".into(),
            note: None,
        },
    )
    .await;
    everyone_has(&all, &[delivery]).await;
    let judge = |verdict, reason: Option<&str>| ops::JudgeDelivery {
        delivery: delivery.to_string(),
        verdict,
        reason: reason.map(str::to_owned),
    };
    let objection = apply(&assoc, judge(Verdict::Object, Some("the PDF export fails"))).await;
    let acceptance = apply(&sme, judge(Verdict::Accept, None)).await;
    everyone_has(&all, &[objection, acceptance]).await;

    // Pledges due; the SME pays, the provider confirms.
    let paid = apply(
        &sme,
        ops::FulfilPledge {
            pledge: sme_pledge.to_string(),
        },
    )
    .await;
    wait_for(LIMIT, "the provider to see the payment", || async {
        provider
            .handle()
            .with_snapshot(move |s| {
                matches!(s.index().get(&paid).map(|r| &r.record().body),
                    Some(Body::Pledge(p)) if p.status == mutu_protocol::record::PledgeStatus::Fulfilled)
            })
            .await
            .unwrap()
    })
    .await;
    let receipt = apply(
        &provider,
        ops::ConfirmReceipt {
            pledge: sme_pledge.to_string(),
            note: None,
        },
    )
    .await;
    everyone_has(&all, &[receipt]).await;

    // Every node shows the same consultation and track records.
    let now = mutu_node::state::now();
    let mut seen = Vec::new();
    let city_ref = &city;
    for n in all {
        let members = members.clone();
        wait_for(LIMIT, "every node to show the same consultation", || {
            let members = members.clone();
            let city = city_ref;
            async move {
                let first = consultation(city, need, members.clone(), now).await;
                consultation(n, need, members, now).await == first
            }
        })
        .await;
        seen.push(consultation(n, need, members, now).await);
    }
    let (c, records): (serde_json::Value, serde_json::Value) = serde_json::from_str(&seen[0]).unwrap();
    assert_eq!(c["award"]["outcome"]["standing"], "valid");
    assert!(c["timeline"]["accepted"].is_u64(), "{c}");
    assert_eq!(c["deliveries"][0]["objections"].as_array().unwrap().len(), 1);
    assert_eq!(
        (c["timeline"]["paid"].as_u64(), c["timeline"]["payable"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(c["timeline"]["received"], 1);
    let provider_record = &records[3];
    assert_eq!(provider_record["offers_made"], 2);
    assert_eq!(provider_record["offers_awarded"], 1);
    assert_eq!(provider_record["accepted"], 1);
    assert_eq!(provider_record["objected"], 1);
    assert_eq!(provider_record["received"]["EUR"], 60_000);
    assert_eq!(records[2]["pledges_due"], 1, "the association's pledge is due");
    assert_eq!(records[1]["pledges_paid"], 1);
}

async fn n_has(nodes: &[&TestNode], id: RecordId) -> bool {
    for n in nodes {
        if !n.has(id).await {
            return false;
        }
    }
    true
}
