//! `mutu import` of a bundle larger than one admission (the CLI admits a
//! large bundle a few thousand changes at a time, whole documents, moving a
//! progress bar): every change is admitted, the report counts them all, and
//! on a pipe nothing but the report is written (the bar draws only on a
//! terminal).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{mutu, ok, text};
use mutu_protocol::bundle::Bundle;
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::ReplicaNonce;
use mutu_protocol::record::{Body, Need, Record, SignedRecord};
use mutu_protocol::{SecretKey, Timestamp};

/// `changes` single-record changes of each of `members` members, chained.
fn bundle(members: u8, changes: usize) -> Bundle {
    let now = Timestamp::from_millis(1_700_000_000_000);
    let mut all = Vec::new();
    for m in 0..members {
        let key = SecretKey::from_bytes(&[m + 1; 32]);
        let me = key.member_id();
        let records: Vec<SignedRecord> = (0..changes)
            .map(|i| {
                let mut nonce = [0u8; 16];
                nonce[..8].copy_from_slice(&(i as u64).to_le_bytes());
                let body = Body::Need(Need::titled(format!("need {i} of member {m}")));
                Record::new(me, nonce, now, body).sign(&key).unwrap()
            })
            .collect();
        let groups: Vec<&[SignedRecord]> = records.chunks(1).collect();
        let chain = MemberDoc::new(me)
            .write_chain(&key, &ReplicaNonce([9; 16]), &groups, now)
            .unwrap();
        all.extend(chain);
    }
    Bundle::from_changes(all)
}

#[test]
fn a_bundle_larger_than_one_admission_is_imported_whole_and_piped_output_stays_plain() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    ok(&home, &["init", "--name", "Importer", "--kind", "association"]);
    // 3 members × 1 500 changes: 4 500 changes, more than two chunks, and
    // a chunk boundary falls inside no document.
    let file = dir.path().join("big.json");
    std::fs::write(&file, bundle(3, 1_500).to_json()).unwrap();
    let out = mutu(&home, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "admitted:   4500\nduplicates: 0\npending:    0\nrejected:   0\n"
    );
    assert_eq!(text(&out.stderr), "", "a pipe gets no progress bar");
    // Imported again: every change a duplicate.
    let again = ok(&home, &["import", file.to_str().unwrap()]);
    assert!(again.contains("admitted:   0\nduplicates: 4500"), "{again}");
    let listed = ok(&home, &["ls", "needs", "--json"]);
    let needs: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(needs.as_array().map(Vec::len), Some(4_500));
}
