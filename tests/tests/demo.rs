#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `mutu demo`'s engine: three real nodes (TCP on 127.0.0.1, HTTP on free
//! ports) load the sample registry, converge, and serve the exports and the
//! stats.

use std::time::Duration;

use mutu_http::demo::{self, Options, Sample};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET path` on `addr`, the answer's body (HTTP/1.0: the server closes).
async fn get(addr: std::net::SocketAddr, path: &str) -> (String, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header ends");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    (head, raw[split + 4..].to_vec())
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_nodes_load_the_sample_and_converge() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(dir.path().join("demo"));
    opts.timeout = Duration::from_secs(30);
    opts.sync_interval = Duration::from_secs(1);
    let running = demo::start(&opts).await.unwrap();
    assert!(running.loaded);
    assert_eq!(running.nodes.len(), 3);
    let sample = Sample::shipped().unwrap();
    assert_eq!(running.records, sample.records());

    for n in &running.nodes {
        let (len, invalid, docs) = n
            .running
            .handle
            .test(|s, _| {
                let index = s.registry().index();
                (index.len(), index.invalid_count(), s.registry().doc_count())
            })
            .await
            .unwrap();
        assert_eq!(len, running.records, "{}", n.key);
        assert_eq!(invalid, 0, "{}", n.key);
        assert_eq!(docs, 3, "{}", n.key);
    }

    // Every node serves the same registry export, and the stats.
    let first = running.nodes[0].running.http;
    let (head, body) = get(first, "/export/registry.json").await;
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    let export = json(&body);
    assert_eq!(export["counts"]["valid"], running.records);
    assert_eq!(export["counts"]["invalid"], 0);
    let (_, body) = get(first, "/api/v1/stats").await;
    let stats = json(&body);
    assert_eq!(stats["members"], 3);
    assert_eq!(stats["by_member_kind"]["association"]["members"], 1);
    assert_eq!(stats["by_member_kind"]["public_body"]["members"], 1);
    assert_eq!(stats["by_member_kind"]["provider"]["members"], 1);
    assert_eq!(stats["by_sector"]["education"]["members"], 2);
    assert!(stats["by_currency"]["EUR"]["needs"].as_u64().unwrap() >= 3);
    let months = stats["by_month"].as_object().unwrap();
    assert!(months.len() >= 2, "the sample spans months: {months:?}");
    let needs: u64 = months.values().map(|m| m["needs"].as_u64().unwrap()).sum();
    assert_eq!(Value::from(needs), stats["needs"]);
    let (_, csv) = get(running.nodes[2].running.http, "/export/needs.csv").await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("Paheko: SEPA direct debit export"), "{csv}");

    let handles = running.handles();
    running.stop().await;
    assert!(handles[0].status().await.is_err(), "the nodes stopped");

    // A second start on the same homes loads nothing again and converges.
    let again = demo::start(&opts).await.unwrap();
    assert!(!again.loaded);
    assert_eq!(again.records, export["counts"]["valid"].as_u64().unwrap() as usize);
    again.stop().await;
}
