//! Seed inputs of every target, made from the fixtures: valid changes,
//! records, batches, requests, responses and bundles. They start the
//! committed corpora (`fuzz/corpus/NAME/seed-*`, written by the ignored
//! test `write_seeds` in `tests/tests/fuzz.rs`) and run in the test suite
//! whatever the corpus holds.

use mutu_node::net::sync::{self, GossipBatch, HeadsDigest, Request, Response};
use mutu_protocol::bundle::Bundle;

use super::chunk::{self, Repair};
use super::fixtures::{Fixtures, fixtures};
use super::sync_request::inventory;
use super::wire;

/// The seeds of target `name`, each with a file name.
pub fn seeds(name: &str) -> Vec<(String, Vec<u8>)> {
    match name {
        "change_chunk" => change_chunk(),
        "record_cbor" => record_cbor(),
        "gossip_batch" => gossip_batch(),
        "sync_request" => sync_request(),
        "sync_response" => sync_response(),
        "sync_roundtrip" => sync_roundtrip(),
        "bundle_json" => bundle_json(),
        "admit" => admit(),
        _ => Vec::new(),
    }
}

const ALL: Repair = Repair {
    length: true,
    checksum: true,
    compress: false,
    pad: 0,
};

fn change_chunk() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (h, history) in fixtures().histories.iter().enumerate() {
        for (i, c) in history.changes.iter().enumerate() {
            out.push((format!("seed-{h}-{i}"), c.change_bytes().to_vec()));
            let (compressed, _) = chunk::reseal(c.change_bytes(), Repair { compress: true, ..ALL });
            out.push((format!("seed-{h}-{i}-deflate"), compressed));
        }
    }
    out
}

fn record_cbor() -> Vec<(String, Vec<u8>)> {
    fixtures()
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("seed-{i}-{}", r.record().kind), r.stored_bytes()))
        .collect()
}

fn gossip_batch() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (h, history) in fixtures().histories.iter().enumerate() {
        for (i, c) in history.changes.iter().enumerate() {
            let batch = GossipBatch {
                doc: history.member,
                changes: vec![c.clone()],
            };
            out.extend(batch.encode().ok().map(|b| (format!("seed-{h}-{i}"), b)));
        }
        let batch = GossipBatch {
            doc: history.member,
            changes: history.changes.clone(),
        };
        out.extend(batch.encode().ok().map(|b| (format!("seed-{h}-all"), b)));
    }
    out
}

fn sync_request() -> Vec<(String, Vec<u8>)> {
    let f = fixtures();
    let registry = Fixtures::registry_with(f.all_changes());
    let ours = inventory(&registry);
    let mut requests = vec![
        ("summary-equal".to_owned(), sync::summary(&ours)),
        (
            "summary-other".to_owned(),
            Request::Summary {
                digest: HeadsDigest([7; 32]),
                docs: 1,
            },
        ),
        ("inventory-empty".to_owned(), Request::Inventory(Vec::new())),
        (
            "inventory-equal".to_owned(),
            Request::Inventory(ours.iter().map(|(d, h)| (*d, *h)).collect()),
        ),
        (
            "inventory-differs".to_owned(),
            Request::Inventory(ours.keys().map(|d| (*d, HeadsDigest([1; 32]))).collect()),
        ),
    ];
    for (h, history) in f.histories.iter().enumerate() {
        requests.push((
            format!("since-{h}-nothing"),
            Request::changes_since(history.member, &[]),
        ));
        let hashes: Vec<_> = history
            .changes
            .iter()
            .filter_map(|c| c.decode().ok().map(|c| c.hash()))
            .collect();
        for (i, hash) in hashes.iter().enumerate() {
            requests.push((
                format!("since-{h}-{i}"),
                Request::changes_since(history.member, std::slice::from_ref(hash)),
            ));
        }
        for (i, page) in Request::changes_by_hash(history.member, &hashes)
            .into_iter()
            .enumerate()
        {
            requests.push((format!("by-hash-{h}-{i}"), page));
        }
    }
    requests
        .into_iter()
        .filter_map(|(name, r)| Some((format!("seed-{name}"), wire::write_request(r).ok()?)))
        .collect()
}

fn sync_response() -> Vec<(String, Vec<u8>)> {
    let f = fixtures();
    let registry = Fixtures::registry_with(f.all_changes());
    let mut responses = vec![
        ("in-sync".to_owned(), Response::InSync),
        ("out-of-sync".to_owned(), Response::OutOfSync),
        ("error".to_owned(), Response::error("over a bound")),
        (
            "inventory".to_owned(),
            Response::Inventory(inventory(&registry).into_iter().collect()),
        ),
    ];
    for (h, history) in f.histories.iter().enumerate() {
        responses.push((
            format!("changes-{h}"),
            Response::changes_chunk(history.changes.iter().skip(1).cloned()),
        ));
    }
    responses.push(("changes-all".to_owned(), Response::changes_chunk(f.all_changes())));
    responses
        .into_iter()
        .filter_map(|(name, r)| Some((format!("seed-{name}"), wire::write_response(r).ok()?)))
        .collect()
}

fn sync_roundtrip() -> Vec<(String, Vec<u8>)> {
    // 32 bytes of document id, then the kind of value (see
    // `sync_roundtrip::run`), then what builds it.
    (0u8..8)
        .map(|kind| {
            let mut input = vec![kind.wrapping_mul(37); 32];
            input.push(kind);
            input.extend((0u8..96).map(|i| i.wrapping_mul(kind.wrapping_add(3))));
            (format!("seed-kind-{kind}"), input)
        })
        .collect()
}

fn bundle_json() -> Vec<(String, Vec<u8>)> {
    let f = fixtures();
    let mut out = vec![(
        "seed-all".to_owned(),
        Bundle::from_changes(f.all_changes()).to_json().into_bytes(),
    )];
    for (h, history) in f.histories.iter().enumerate() {
        out.push((
            format!("seed-{h}"),
            Bundle::from_changes(history.changes.clone()).to_json().into_bytes(),
        ));
        out.push((
            format!("seed-{h}-first"),
            Bundle::from_changes(history.changes.iter().take(1).cloned())
                .to_json()
                .into_bytes(),
        ));
    }
    out
}

fn admit() -> Vec<(String, Vec<u8>)> {
    let f = fixtures();
    let mut out = Vec::new();
    for (n, ctx) in f.contexts().into_iter().enumerate() {
        let next = &f.histories[ctx.history].changes[ctx.prefix];
        for (flags, what) in [
            (0u8, "next"),
            (8, "next-deflate"),
            (16, "next-and-following"),
            (8 | 128, "next-deflate-padded"),
        ] {
            // Contexts are numbered by their position: a `u8` covers them.
            let mut input = vec![n as u8, flags];
            if flags & 128 != 0 {
                // 0x100 × 64 = 16 KiB of padding.
                input.extend_from_slice(&[0x00, 0x01]);
            }
            input.extend_from_slice(next.change_bytes());
            out.push((format!("seed-{}-{}-{what}", ctx.history, ctx.prefix), input));
        }
    }
    out
}
