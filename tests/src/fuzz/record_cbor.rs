//! `record_cbor`: a stored record (64-byte signature ‖ canonical CBOR), as
//! it arrives as a value inside a member document.
//!
//! Checks:
//! - `SignedRecord::decode` returns a record or an `Invalid` reason, never
//!   panics;
//! - a record that decodes is canonical: it re-encodes to the very same
//!   bytes, and those decode to the same record;
//! - its signature verifies or is refused as `BadSignature`, nothing else;
//! - decoding and signing apply the same rules: a record that decodes, by a
//!   fixture member, signs again under its author's key and then decodes
//!   *and verifies*;
//! - validate on read: written into a member document by a signed change
//!   (the re-signed record into its author's document; bytes by anyone
//!   else into alice's) and admitted, the index shows the re-signed record
//!   exactly, never shows bytes that do not verify, and every view is
//!   computed without a panic.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ROOT, ReadDoc, ScalarValue};
use mutu_protocol::MemberId;
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::{self, ReplicaNonce};
use mutu_protocol::record::{self, Invalid, Kind, RecordId, SignedRecord};

use super::check;
use super::chunk;
use super::fixtures::{self, Fixtures, NOW, fixtures};

pub fn run(data: &[u8]) {
    // Larger values are refused before decoding (`Invalid::TooLarge`), and
    // would not fit in a change.
    if data.len() > record::MAX_RECORD_BYTES {
        assert!(matches!(SignedRecord::decode(data), Err(Invalid::TooLarge { .. })));
        return;
    }
    let decoded = SignedRecord::decode(data);
    let (doc_seed, key, bytes, expected) = match &decoded {
        Ok(r) => {
            assert_eq!(r.stored_bytes(), data, "a record that decodes is canonical");
            assert_eq!(
                SignedRecord::decode(&r.stored_bytes()).as_ref(),
                Ok(r),
                "a decoded record's bytes decode to it"
            );
            match r.verify(&mut Default::default()) {
                Ok(()) | Err(Invalid::BadSignature) => {}
                Err(e) => panic!("a decoded record is refused for a reason decode did not see: {e}"),
            }
            match fixtures::key_of(&r.record().author) {
                Some(key) => {
                    let resigned = r
                        .record()
                        .clone()
                        .sign(&key)
                        .unwrap_or_else(|e| panic!("a record that decodes signs again: {e}"));
                    let bytes = resigned.stored_bytes();
                    assert!(
                        SignedRecord::decode_verified(&bytes, &mut Default::default()).is_ok(),
                        "a re-signed record decodes and verifies"
                    );
                    let seed = fixture_seed(&r.record().author);
                    (seed, r.doc_key(), bytes, Some(resigned))
                }
                None => (fixtures::MEMBER_SEEDS[0], r.doc_key(), data.to_vec(), None),
            }
        }
        // A key that cannot be a real record's: the value is kept, invalid.
        Err(_) => (
            fixtures::MEMBER_SEEDS[0],
            record::doc_key(Kind::Need, &RecordId::from_bytes([0xee; 16])),
            data.to_vec(),
            None,
        ),
    };

    let mut registry = Fixtures::registry_with(fixtures().all_changes());
    let owner = fixtures::key(doc_seed).member_id();
    let Some(change) = raw_write(registry.doc(&owner), doc_seed, &key, bytes) else {
        return;
    };
    let (report, _) = check::admit_untrusted(&mut registry, vec![change]);
    assert_eq!(
        report.admitted.len(),
        1,
        "a valid change carrying any value is admitted: {report:?}"
    );
    match (&expected, &decoded) {
        (Some(resigned), _) => {
            assert_eq!(
                registry.index().get_any(&resigned.id()),
                Some(resigned),
                "the index holds the re-signed record as written"
            );
        }
        (None, Ok(r)) => {
            assert_ne!(
                registry.index().get_any(&r.id()),
                Some(r),
                "a record that does not verify is never in the index"
            );
        }
        (None, Err(_)) => {}
    }
    let _ = check::views_json(&registry);
}

fn fixture_seed(member: &MemberId) -> u8 {
    fixtures::MEMBER_SEEDS
        .into_iter()
        .find(|s| fixtures::key(*s).member_id() == *member)
        .unwrap_or(fixtures::MEMBER_SEEDS[0])
}

/// A signed change of the owner of `[seed; 32]` that puts `value` under
/// `key` in its document (`doc`, or a new one), made with automerge
/// directly: `MemberDoc::write` only takes valid records.
fn raw_write(doc: Option<&MemberDoc>, seed: u8, key: &str, value: Vec<u8>) -> Option<mutu_protocol::SignedChange> {
    let owner = fixtures::key(seed).member_id();
    let mut am = doc.map(|d| d.automerge().clone()).unwrap_or_default();
    am.set_actor(identity::actor_id(&owner, &ReplicaNonce([0x7f; 16])));
    let mut tx = am.transaction();
    tx.put(ROOT, key, ScalarValue::Bytes(value)).ok()?;
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW.0 as i64 - 1000));
    let change = am.get_change_by_hash(&hash?)?;
    let bytes = change.raw_bytes().to_vec();
    Some(chunk::sign(seed, owner, bytes, &change.hash()))
}
