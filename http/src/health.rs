//! What an operator's monitoring asks a node: `GET /healthz` (the process
//! serves HTTP), `GET /readyz` (the store is open, the actor answers within
//! [`ACTOR_PATIENCE`], and the node has a peer, or was given none to reach)
//! and `GET /metrics` (Prometheus/OpenMetrics text, made by the
//! `prometheus-client` crate from the actor's counters at each scrape).
//!
//! All three are open reads, behind the same host guard as every route.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use mutu_node::actor::{self, Handle};
use mutu_protocol::admission::Rejection;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// How long `/readyz` and `/metrics` wait for the actor's status.
pub const ACTOR_PATIENCE: Duration = Duration::from_secs(2);

/// The OpenMetrics text format's content type.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone)]
struct Health {
    handle: Handle,
    store_path: PathBuf,
    expects_peers: bool,
    /// Seconds the actor took to answer a status request, over the
    /// process's scrapes and readiness checks.
    actor_latency: Histogram,
}

/// The three routes. `expects_peers`: the node was given peers to reach
/// (`--peer`, `peer` in `config.toml`), so it is not ready without one.
pub fn router(handle: Handle, store_path: PathBuf, expects_peers: bool) -> Router {
    let buckets = [0.001, 0.005, 0.025, 0.1, 0.5, 2.0].into_iter();
    let health = Health {
        handle,
        store_path,
        expects_peers,
        actor_latency: Histogram::new(buckets),
    };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(health)
}

async fn healthz() -> &'static str {
    "ok\n"
}

impl Health {
    /// The actor's status, timed; `None` if it does not answer in time.
    async fn status(&self) -> Result<actor::Status, String> {
        let started = Instant::now();
        let answer = tokio::time::timeout(ACTOR_PATIENCE, self.handle.status()).await;
        let took = started.elapsed().as_secs_f64();
        self.actor_latency.observe(took);
        match answer {
            Ok(Ok(status)) => Ok(status),
            Ok(Err(e)) => Err(format!("the node's actor is gone: {e}")),
            Err(_) => Err(format!("the node's actor did not answer within {ACTOR_PATIENCE:?}")),
        }
    }
}

#[derive(serde::Serialize)]
struct Readiness {
    ready: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    peers: usize,
}

async fn readyz(State(h): State<Health>) -> Response {
    let (status, body) = match h.status().await {
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Readiness {
                ready: false,
                reason: Some(reason),
                peers: 0,
            },
        ),
        Ok(s) if h.expects_peers && s.peers == 0 => (
            StatusCode::SERVICE_UNAVAILABLE,
            Readiness {
                ready: false,
                reason: Some("no peer connected yet (the node was given peers to reach)".into()),
                peers: 0,
            },
        ),
        Ok(s) => (
            StatusCode::OK,
            Readiness {
                ready: true,
                reason: None,
                peers: s.peers,
            },
        ),
    };
    (status, Json(body)).into_response()
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: usize) {
    let g: Gauge = Gauge::default();
    g.set(i64::try_from(value).unwrap_or(i64::MAX));
    registry.register(name, help, g);
}

fn counter(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let c: Counter = Counter::default();
    c.inc_by(value);
    registry.register(name, help, c);
}

/// A counter family labelled `reason`: each of `reasons` (at zero if not
/// counted), then whatever else `counts` holds.
fn by_reason(
    registry: &mut Registry,
    name: &str,
    help: &str,
    reasons: &[&'static str],
    counts: &std::collections::BTreeMap<&'static str, u64>,
) {
    let family = Family::<Vec<(String, String)>, Counter>::default();
    let label = |reason: &str| vec![("reason".to_owned(), reason.to_owned())];
    for reason in reasons {
        family.get_or_create(&label(reason)).inc_by(0);
    }
    for (reason, n) in counts {
        family.get_or_create(&label(reason)).inc_by(*n);
    }
    registry.register(name, help, family);
}

/// Reasons a change is not taken though no rule was broken
/// ([`actor::Metrics::ignored`]).
const IGNORED: [&str; 3] = ["duplicate", "blocked_member", "waiting"];

async fn metrics(State(h): State<Health>) -> Response {
    // Before asking the actor, which takes a place in its queue.
    let queue_depth = h.handle.queue_depth();
    let counted = h.handle.metrics();
    let s = match h.status().await {
        Ok(s) => s,
        Err(reason) => return (StatusCode::SERVICE_UNAVAILABLE, reason).into_response(),
    };
    let mut r = Registry::with_prefix("mutu");
    gauge(&mut r, "peers", "Peers connected now", s.peers);
    gauge(&mut r, "documents", "Member documents held", s.documents);
    gauge(&mut r, "records", "Valid records in the registry", s.records);
    gauge(
        &mut r,
        "pending_changes",
        "Changes waiting for their dependencies",
        s.pending,
    );
    counter(&mut r, "rejected_changes", "Changes refused by admission", s.rejected);
    counter(
        &mut r,
        "changes_admitted",
        "Changes from peers and imports admitted",
        counted.admitted,
    );
    by_reason(
        &mut r,
        "changes_rejected",
        "Changes from peers and imports refused, by admission rule",
        &Rejection::LABELS,
        &counted.rejected,
    );
    by_reason(
        &mut r,
        "changes_ignored",
        "Changes not taken though no rule was broken (already known, a blocked member, waiting for dependencies)",
        &IGNORED,
        &counted.ignored,
    );
    counter(
        &mut r,
        "gossip_messages_received",
        "Gossip messages received",
        counted.gossip_received,
    );
    counter(
        &mut r,
        "gossip_messages_published",
        "Gossip messages published",
        counted.gossip_published,
    );
    gauge(
        &mut r,
        "actor_queue_depth",
        "Commands waiting in the actor's queue",
        queue_depth,
    );
    counter(&mut r, "sync_passes", "Anti-entropy passes started", s.sync_passes);
    counter(&mut r, "sync_requests", "Sync requests sent", s.sync_requests);
    counter(
        &mut r,
        "sync_sent_bytes",
        "CBOR bytes of sync requests and responses sent",
        s.sync_bytes_sent,
    );
    counter(
        &mut r,
        "sync_received_bytes",
        "CBOR bytes of sync requests and responses received",
        s.sync_bytes_received,
    );
    counter(
        &mut r,
        "sync_requests_served",
        "Inbound sync requests answered",
        s.sync_requests_served,
    );
    counter(
        &mut r,
        "sync_requests_refused",
        "Inbound sync requests refused by a peer's budget",
        s.sync_requests_refused,
    );
    counter(
        &mut r,
        "identify_received",
        "Identify messages received",
        s.identify_received,
    );
    let store_bytes = std::fs::metadata(&h.store_path).map_or(0, |m| m.len());
    gauge(
        &mut r,
        "store_bytes",
        "Size of the store file",
        usize::try_from(store_bytes).unwrap_or(usize::MAX),
    );
    r.register(
        "actor_status_seconds",
        "Time the actor took to answer a status request (scrapes and readiness checks)",
        h.actor_latency.clone(),
    );
    let mut text = String::new();
    if let Err(e) = encode(&mut text, &r) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the metrics: {e}"),
        )
            .into_response();
    }
    ([(CONTENT_TYPE, OPENMETRICS)], text).into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use axum::body::Body;
    use axum::http::Request;
    use mutu_protocol::record::{MemberKind, Profile};
    use tower::ServiceExt;

    use super::*;
    use crate::testing::TestNode;

    fn member(port: u64) -> TestNode {
        TestNode::spawn(
            port,
            Profile {
                name: "Atelier Métrique".into(),
                member_kind: MemberKind::Association,
                country: None,
                sectors: vec![],
                website: None,
                description: String::new(),
            },
        )
    }

    async fn get(router: &Router, uri: &str) -> (StatusCode, Option<String>, String) {
        let response = router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let kind = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, kind, String::from_utf8(bytes.to_vec()).unwrap())
    }

    /// `/metrics` as a Prometheus server reads it: parsed by a parser of
    /// the text format, not by this crate's own code.
    #[tokio::test]
    async fn metrics_parse_as_prometheus_text_and_say_what_the_node_holds() {
        let n = member(93_001);
        let router = router(n.handle.clone(), n.home.store_path(), false);
        let status = n.handle.status().await.unwrap();
        let (code, kind, text) = get(&router, "/metrics").await;
        assert_eq!(code, StatusCode::OK, "{text}");
        assert!(kind.unwrap().starts_with("application/openmetrics-text"));
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("a Prometheus parser reads /metrics");
        let value = |name: &str| {
            scrape
                .samples
                .iter()
                .find(|s| s.metric == name)
                .map(|s| match s.value {
                    prometheus_parse::Value::Gauge(v)
                    | prometheus_parse::Value::Counter(v)
                    | prometheus_parse::Value::Untyped(v) => v,
                    _ => f64::NAN,
                })
                .unwrap_or_else(|| panic!("{name} in {text}"))
        };
        assert_eq!(value("mutu_records"), status.records as f64);
        assert_eq!(value("mutu_documents"), 1.0);
        assert_eq!(value("mutu_peers"), 0.0);
        assert!(value("mutu_store_bytes") > 0.0);
        assert_eq!(value("mutu_rejected_changes_total"), 0.0);
        assert!(
            scrape
                .samples
                .iter()
                .any(|s| s.metric == "mutu_actor_status_seconds_count"),
            "{text}"
        );
    }

    /// Admissions counted by reason: a forged change (bad signature), a
    /// good one, the good one again (a duplicate), each imported through the
    /// actor; every rule has its label, at zero when nothing broke it; the
    /// gossip counters and the queue depth are there.
    #[tokio::test]
    async fn metrics_count_changes_by_reason_gossip_and_the_queue() {
        use mutu_protocol::SignedChange;
        use mutu_protocol::doc::MemberDoc;
        use mutu_protocol::identity::{ReplicaNonce, SecretKey};
        use mutu_protocol::record::{Body as RecordBody, Record};

        let n = member(93_004);
        let now = mutu_node::state::now();
        let key = SecretKey::from_bytes(&[42; 32]);
        let profile = Profile {
            name: "Autre".into(),
            member_kind: MemberKind::Association,
            country: None,
            sectors: vec![],
            website: None,
            description: String::new(),
        };
        let record = Record::new(key.member_id(), [1; 16], now, RecordBody::Profile(profile))
            .sign(&key)
            .unwrap();
        let good = MemberDoc::new(key.member_id())
            .write(&key, &ReplicaNonce([3; 16]), &[record], now)
            .unwrap();
        let forged = SignedChange::from_parts(good.doc(), good.change_bytes().to_vec(), [0; 64]);
        for batch in [forged, good.clone(), good] {
            n.handle.import(vec![batch], now).await.unwrap();
        }

        let router = router(n.handle.clone(), n.home.store_path(), false);
        let (code, _, text) = get(&router, "/metrics").await;
        assert_eq!(code, StatusCode::OK, "{text}");
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("a Prometheus parser reads /metrics");
        let value = |name: &str, reason: Option<&str>| {
            scrape
                .samples
                .iter()
                .find(|s| s.metric == name && reason.is_none_or(|r| s.labels.get("reason") == Some(r)))
                .map(|s| match s.value {
                    prometheus_parse::Value::Gauge(v)
                    | prometheus_parse::Value::Counter(v)
                    | prometheus_parse::Value::Untyped(v) => v,
                    _ => f64::NAN,
                })
                .unwrap_or_else(|| panic!("{name} {reason:?} in {text}"))
        };
        for label in Rejection::LABELS {
            let expected = if label == "bad_signature" { 1.0 } else { 0.0 };
            assert_eq!(value("mutu_changes_rejected_total", Some(label)), expected, "{label}");
        }
        assert_eq!(value("mutu_changes_admitted_total", None), 1.0);
        assert_eq!(value("mutu_changes_ignored_total", Some("duplicate")), 1.0);
        assert_eq!(value("mutu_changes_ignored_total", Some("blocked_member")), 0.0);
        assert_eq!(value("mutu_changes_ignored_total", Some("waiting")), 0.0);
        assert_eq!(value("mutu_rejected_changes_total", None), 1.0);
        // No peer: nothing received; the admitted change was published.
        assert_eq!(value("mutu_gossip_messages_received_total", None), 0.0);
        assert!(value("mutu_gossip_messages_published_total", None) >= 1.0, "{text}");
        // Nothing else asks the actor: its queue is empty at the scrape.
        assert_eq!(value("mutu_actor_queue_depth", None), 0.0);
    }

    #[tokio::test]
    async fn ready_once_the_actor_answers_and_a_peer_is_there_if_one_was_given() {
        let n = member(93_002);
        let (code, _, body) = get(&router(n.handle.clone(), n.home.store_path(), false), "/readyz").await;
        assert_eq!(code, StatusCode::OK, "{body}");
        assert!(body.contains("\"ready\":true"), "{body}");
        let (code, _, body) = get(&router(n.handle.clone(), n.home.store_path(), true), "/readyz").await;
        assert_eq!(
            code,
            StatusCode::SERVICE_UNAVAILABLE,
            "given peers and none connected: {body}"
        );
        assert!(body.contains("no peer connected"), "{body}");
        let (code, _, body) = get(&router(n.handle.clone(), n.home.store_path(), false), "/healthz").await;
        assert_eq!((code, body.as_str()), (StatusCode::OK, "ok\n"));
    }

    #[tokio::test]
    async fn not_ready_when_the_actor_is_gone() {
        let n = member(93_003);
        let (handle, path) = (n.handle.clone(), n.home.store_path());
        drop(n);
        let router = router(handle.clone(), path, false);
        // The actor stops once its shutdown sender is dropped.
        let deadline = Instant::now() + Duration::from_secs(10);
        while handle.status().await.is_ok() {
            assert!(Instant::now() < deadline, "the actor did not stop");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (code, _, body) = get(&router, "/readyz").await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("actor is gone"), "{body}");
    }
}
