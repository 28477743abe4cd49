use proptest::prelude::*;

use super::*;
use crate::money::Money;

fn key(n: u8) -> SecretKey {
    SecretKey::from_bytes(&[n; 32])
}

fn need(title: &str) -> Body {
    Body::Need(Need {
        title: title.into(),
        description: String::new(),
        tags: vec!["accounting".into()],
        project: None,
        goal: Some("600EUR".parse().unwrap()),
        days_goal: None,
        deadline: None,
        status: NeedStatus::Open,
        merged_into: None,
        decision: Default::default(),
    })
}

#[test]
fn signed_records_decode_and_verify() {
    let k = key(1);
    let r = Record::new(k.member_id(), [3; 16], Timestamp(1_000), need("Invoices"))
        .sign(&k)
        .unwrap();
    let back = SignedRecord::decode_verified(&r.stored_bytes(), &mut KeyCache::default()).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.record().kind, Kind::Need);
}

#[test]
fn a_flipped_byte_breaks_the_record() {
    let k = key(1);
    let r = Record::new(k.member_id(), [3; 16], Timestamp(1_000), need("Invoices"))
        .sign(&k)
        .unwrap();
    let mut keys = KeyCache::default();
    for i in 0..r.stored_bytes().len() {
        let mut b = r.stored_bytes().to_vec();
        b[i] ^= 0x01;
        assert!(SignedRecord::decode_verified(&b, &mut keys).is_err(), "byte {i}");
    }
}

#[test]
fn another_members_id_is_refused() {
    let (a, b) = (key(1), key(2));
    // b cannot sign a record under an id derived from a.
    let mut rec = Record::new(b.member_id(), [3; 16], Timestamp(1_000), need("Invoices"));
    rec.id = RecordId::derive(&a.member_id(), Kind::Need, &[3; 16]);
    assert_eq!(rec.clone().sign(&b), Err(Invalid::SquattedId));
    // Nor can such a record be forged by hand: decoding refuses it.
    let bytes = rec.canonical_bytes();
    let mut stored = b.sign(SIGNATURE_DOMAIN, &bytes).to_bytes().to_vec();
    stored.extend_from_slice(&bytes);
    assert_eq!(SignedRecord::decode(&stored), Err(Invalid::SquattedId));
}

#[test]
fn signing_needs_the_authors_key() {
    let rec = Record::new(key(1).member_id(), [3; 16], Timestamp(1_000), need("Invoices"));
    assert!(matches!(rec.sign(&key(2)), Err(Invalid::WrongAuthor { .. })));
}

/// A project record keeps its publiccode.yml text, bounded; a record
/// without one encodes exactly as before the field existed (the field is
/// left out of the canonical CBOR), so earlier signatures still verify.
#[test]
fn a_project_holds_its_publiccode_text_within_bounds() {
    let k = key(1);
    let project = |publiccode: String, tags: usize| {
        Body::Project(Project {
            name: "Paheko".into(),
            description: String::new(),
            license: "AGPL-3.0-or-later".into(),
            repository: Some("https://fossil.kd2.org/paheko".into()),
            homepage: None,
            tags: (0..tags).map(|i| format!("t{i}")).collect(),
            status: DevStatus::Stable,
            is_based_on: None,
            publiccode,
        })
    };
    let sign = |b: Body| Record::new(k.member_id(), [4; 16], Timestamp(5), b).sign(&k);
    let plain = sign(project(String::new(), 0)).unwrap();
    let bytes = plain.record().canonical_bytes();
    assert!(
        !bytes.windows(10).any(|w| w == b"publiccode"),
        "an empty field is left out"
    );
    let yaml = "publiccodeYmlVersion: \"0\"\nname: Paheko\n".to_owned();
    let with = sign(project(yaml.clone(), 0)).unwrap();
    let back = SignedRecord::decode_verified(&with.stored_bytes(), &mut KeyCache::default()).unwrap();
    assert!(matches!(&back.record().body, Body::Project(p) if p.publiccode == yaml));
    // The categories of a publiccode.yml: more than a need's 20 tags.
    assert!(sign(project(String::new(), validate::MAX_PROJECT_TAGS)).is_ok());
    assert!(matches!(
        sign(project(String::new(), validate::MAX_PROJECT_TAGS + 1)),
        Err(Invalid::Field { field: "tags", .. })
    ));
    let big = format!("name: x\ndescription: {}\n", "a".repeat(validate::MAX_PUBLICCODE_BYTES));
    assert!(matches!(
        sign(project(big, 0)),
        Err(Invalid::Field {
            field: "publiccode",
            ..
        })
    ));
    assert!(matches!(
        sign(project("name: \u{7}\n".into(), 0)),
        Err(Invalid::Field {
            field: "publiccode",
            ..
        })
    ));
}

#[test]
fn invalid_fields_are_refused_with_the_field_name() {
    let k = key(1);
    let project = |license: &str| {
        Body::Project(Project {
            name: "Paheko".into(),
            description: String::new(),
            license: license.into(),
            repository: Some("https://fossil.kd2.org/paheko".into()),
            homepage: None,
            tags: vec![],
            status: DevStatus::Stable,
            is_based_on: None,
            publiccode: String::new(),
        })
    };
    let sign = |b: Body| Record::new(k.member_id(), [4; 16], Timestamp(5), b).sign(&k);
    assert!(sign(project("AGPL-3.0-or-later")).is_ok());
    assert!(sign(project("MIT OR Apache-2.0")).is_ok());
    assert!(matches!(
        sign(project("Not-A-License")),
        Err(Invalid::Field { field: "license", .. })
    ));
    assert!(matches!(
        sign(need(&"x".repeat(201))),
        Err(Invalid::Field { field: "title", .. })
    ));
    assert!(matches!(sign(need("")), Err(Invalid::Field { field: "title", .. })));
    let mut n = need("ok");
    if let Body::Need(n) = &mut n {
        n.tags = (0..21).map(|i| format!("t{i}")).collect();
    }
    assert!(matches!(sign(n), Err(Invalid::Field { field: "tags", .. })));
    // A merged need names where it went, and only a merged need does.
    let merged = |status: NeedStatus, into: Option<RecordId>| {
        let mut n = need("merged");
        if let Body::Need(n) = &mut n {
            n.status = status;
            n.merged_into = into;
        }
        sign(n)
    };
    assert!(merged(NeedStatus::Merged, Some(RecordId::from_bytes([7; 16]))).is_ok());
    for (status, into) in [
        (NeedStatus::Merged, None),
        (NeedStatus::Open, Some(RecordId::from_bytes([7; 16]))),
    ] {
        assert!(
            matches!(
                merged(status, into),
                Err(Invalid::Field {
                    field: "merged_into",
                    ..
                })
            ),
            "{status:?} {into:?}"
        );
    }
    let profile = |country: &str, website: &str| {
        Body::Profile(Profile {
            name: "Mairie".into(),
            member_kind: MemberKind::PublicBody,
            country: Some(country.into()),
            sectors: vec![],
            website: Some(website.into()),
            description: String::new(),
        })
    };
    assert!(sign(profile("FR", "https://example.org")).is_ok());
    assert!(matches!(
        sign(profile("XX", "https://example.org")),
        Err(Invalid::Field { field: "country", .. })
    ));
    assert!(matches!(
        sign(profile("FR", "ftp://example.org")),
        Err(Invalid::Field { field: "website", .. })
    ));
}

#[test]
fn follow_records_round_trip_and_refuse_unknown_fields() {
    let (a, b) = (key(1), key(2));
    let r = Record::new(
        a.member_id(),
        [5; 16],
        Timestamp(1_000),
        Body::Follow(Follow {
            member: b.member_id(),
            moderation: false,
        }),
    )
    .sign(&a)
    .unwrap();
    let back = SignedRecord::decode_verified(&r.stored_bytes(), &mut KeyCache::default()).unwrap();
    assert_eq!(back.record().kind, Kind::Follow);
    assert_eq!(
        back.record().body,
        Body::Follow(Follow {
            member: b.member_id(),
            moderation: false
        })
    );
    assert_eq!("follow".parse::<Kind>().unwrap(), Kind::Follow);
    // A follow names a member and nothing else.
    let extra = ciborium::Value::Map(vec![
        (
            ciborium::Value::Text("member".into()),
            ciborium::Value::Bytes(b.member_id().as_bytes().to_vec()),
        ),
        (
            ciborium::Value::Text("reason".into()),
            ciborium::Value::Text("x".into()),
        ),
    ]);
    assert!(matches!(
        Body::from_value(Kind::Follow, extra),
        Err(Invalid::Malformed(_))
    ));
}

#[test]
fn a_moderation_list_names_each_member_once_within_its_bound() {
    let listed = |n: u8| Listed {
        member: key(n).member_id(),
        reason: "spam".into(),
    };
    let list = |entries| {
        Body::Moderation(Moderation {
            title: "Spam".into(),
            entries,
        })
    };
    assert!(validate::body(&list(vec![listed(1), listed(2)])).is_ok());
    let twice = validate::body(&list(vec![listed(1), listed(1)])).unwrap_err();
    assert!(twice.to_string().contains("listed twice"), "{twice}");
    let many = (0..=validate::MAX_MODERATED)
        .map(|i| Listed {
            member: SecretKey::from_bytes(
                &[[7u8; 30].as_slice(), &(i as u16).to_be_bytes()]
                    .concat()
                    .try_into()
                    .unwrap(),
            )
            .member_id(),
            reason: String::new(),
        })
        .collect();
    let too_many = validate::body(&list(many)).unwrap_err();
    assert!(too_many.to_string().contains("the limit is 1000"), "{too_many}");
}

#[test]
fn newer_versions_are_unsupported_not_invalid() {
    let k = key(1);
    let r = Record::new(k.member_id(), [3; 16], Timestamp(1_000), need("Invoices"))
        .sign(&k)
        .unwrap();
    // Re-encode with v = 2.
    let mut wire: Wire = codec::from_cbor(&r.stored_bytes()[64..], MAX_RECORD_BYTES).unwrap();
    wire.v = 2;
    let mut stored = r.stored_bytes()[..64].to_vec();
    stored.extend(codec::to_cbor(&wire));
    assert_eq!(SignedRecord::decode(&stored), Err(Invalid::Unsupported));
}

pub(crate) fn arb_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9éà ]{{0,{max}}}"))
        .unwrap()
        .prop_map(|s| s.trim().to_owned())
}

fn arb_title() -> impl Strategy<Value = String> {
    arb_text(40).prop_map(|s| if s.is_empty() { "t".to_owned() } else { s })
}

fn arb_money() -> impl Strategy<Value = Money> {
    (1u64..10_000_000, prop::sample::select(vec!["EUR", "USD", "JPY", "CHF"]))
        .prop_map(|(a, c)| Money::new(a, c.parse().unwrap()))
}

fn arb_id() -> impl Strategy<Value = RecordId> {
    any::<[u8; 16]>().prop_map(RecordId::from_bytes)
}

pub(crate) fn arb_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (
            arb_title(),
            arb_text(100),
            prop::collection::vec("[a-z]{1,8}", 0..3),
            prop::option::of(arb_money()),
            prop::option::of(1u32..500),
            prop::option::of(arb_id()),
            0u8..3,
        )
            .prop_map(
                |(title, description, mut tags, goal, days_goal, merged_into, decision)| {
                    tags.sort();
                    tags.dedup();
                    let status = if merged_into.is_some() {
                        NeedStatus::Merged
                    } else {
                        NeedStatus::Open
                    };
                    Body::Need(Need {
                        title,
                        description,
                        tags,
                        project: None,
                        goal,
                        days_goal,
                        deadline: None,
                        status,
                        merged_into,
                        decision: [Decision::Author, Decision::Majority, Decision::Weighted][usize::from(decision)],
                    })
                }
            ),
        (arb_id(), arb_id(), 0u8..6, arb_text(50)).prop_map(|(a, b, which, note)| match which {
            0 => Body::Approval(Approval { offer: a, note }),
            1 => Body::Award(Award {
                need: a,
                offer: b,
                note
            }),
            2 => Body::Delivery(Delivery {
                need: a,
                release: format!("https://example.org/r/{b}"),
                note,
            }),
            3 => Body::Acceptance(Acceptance {
                delivery: a,
                verdict: Verdict::Accept,
                reason: note,
            }),
            4 => Body::Acceptance(Acceptance {
                delivery: a,
                verdict: Verdict::Object,
                reason: format!("late {note}"),
            }),
            _ => Body::Receipt(Receipt { pledge: a, note }),
        }),
        (arb_id(), arb_money(), any::<bool>()).prop_map(|(need, m, cond)| Body::Pledge(Pledge {
            need,
            resource: Resource::Money(m),
            condition: if cond {
                Condition::IfGoalReached
            } else {
                Condition::Unconditional
            },
            expires_at: Some("2030-01-31".parse().unwrap()),
            status: PledgeStatus::Active,
        })),
        (arb_id(), 1u32..100).prop_map(|(need, days)| Body::Pledge(Pledge {
            need,
            resource: Resource::DevDays { days },
            condition: Condition::Unconditional,
            expires_at: None,
            status: PledgeStatus::Active,
        })),
        (arb_id(), arb_text(50)).prop_map(|(need, note)| Body::Cosign(Cosign { need, note })),
        (arb_title(), prop::option::of(arb_id())).prop_map(|(name, based)| Body::Project(Project {
            name,
            description: String::new(),
            license: "GPL-3.0-only".into(),
            repository: None,
            homepage: Some("https://example.org/x".into()),
            tags: vec![],
            status: DevStatus::Beta,
            is_based_on: based,
            publiccode: String::new(),
        })),
        (arb_title(), prop::collection::vec(arb_id(), 0..3)).prop_map(|(title, mut includes)| {
            includes.sort();
            includes.dedup();
            Body::Catalogue(Catalogue {
                title,
                description: String::new(),
                editors: vec![],
                includes,
            })
        }),
        arb_id().prop_map(|target| Body::Tombstone(Tombstone { target })),
        (arb_title(), prop::collection::btree_set(any::<u8>(), 0..4)).prop_map(|(title, ns)| Body::Moderation(
            Moderation {
                title,
                entries: ns
                    .into_iter()
                    .map(|n| Listed {
                        member: key(n).member_id(),
                        reason: format!("reason {n}")
                    })
                    .collect(),
            }
        )),
        any::<u8>().prop_map(|n| Body::Follow(Follow {
            member: key(n).member_id(),
            moderation: n % 2 == 0,
        })),
    ]
}

proptest! {
    #[test]
    fn encoding_round_trips_and_is_canonical(body in arb_body(), nonce in any::<[u8; 16]>(), t in 0u64..4_000_000_000_000) {
        let k = key(5);
        let signed = Record::new(k.member_id(), nonce, Timestamp(t), body).sign(&k).unwrap();
        let back = SignedRecord::decode_verified(&signed.stored_bytes(), &mut KeyCache::default()).unwrap();
        prop_assert_eq!(back.record(), signed.record());
        // Re-encoding gives the very same bytes.
        prop_assert_eq!(&back.record().canonical_bytes()[..], &signed.stored_bytes()[64..]);
    }

    #[test]
    fn batch_verification_finds_the_bad_ones(n in 1usize..40, bad in prop::collection::vec(any::<prop::sample::Index>(), 0..4)) {
        let k = key(6);
        let mut records: Vec<SignedRecord> = (0..n)
            .map(|i| Record::new(k.member_id(), [i as u8; 16], Timestamp(1), need("x")).sign(&k).unwrap())
            .collect();
        let mut expect = vec![true; n];
        let mut bad: Vec<usize> = bad.iter().map(|b| b.index(n)).collect();
        bad.sort_unstable();
        bad.dedup();
        for &i in &bad {
            let mut signature = records[i].0.signature;
            signature[3] ^= 0xff; // corrupt the signature
            records[i] = SignedRecord::new(records[i].record().clone(), signature);
            expect[i] = false;
        }
        prop_assert_eq!(verify_many(&records, &mut KeyCache::default(), &crate::verify::Sequential), expect);
    }
}

#[test]
fn a_need_decided_by_its_author_keeps_its_bytes() {
    let k = key(7);
    let Body::Need(mut n) = need("Invoices") else {
        unreachable!()
    };
    let plain = Record::new(k.member_id(), [1; 16], Timestamp(5), Body::Need(n.clone()))
        .sign(&k)
        .unwrap();
    let text = String::from_utf8_lossy(&plain.stored_bytes()).into_owned();
    assert!(!text.contains("decision"), "the default is not written");
    n.decision = Decision::Weighted;
    let weighted = Record::new(k.member_id(), [1; 16], Timestamp(5), Body::Need(n))
        .sign(&k)
        .unwrap();
    let back = SignedRecord::decode(&weighted.stored_bytes()).unwrap();
    assert!(matches!(&back.record().body, Body::Need(x) if x.decision == Decision::Weighted));
}
