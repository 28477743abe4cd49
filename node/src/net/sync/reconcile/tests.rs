use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};

use super::*;

const SEED: u64 = 0x5111_2026;

fn seed() -> RngSeed {
    RngSeed::Fixed(
        std::env::var("MUTU_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(SEED),
    )
}

type Pairs = BTreeMap<MemberId, HeadsDigest>;

/// Key `n`: spread over the key space (the high bytes vary).
fn key(n: u32) -> MemberId {
    let mut b = [0u8; 32];
    let h = Sha256::digest(n.to_le_bytes());
    b.copy_from_slice(&h);
    MemberId::from_bytes(b)
}

fn value(n: u32) -> HeadsDigest {
    HeadsDigest([(n % 251) as u8; 32])
}

fn set(pairs: &Pairs) -> Set<MemberId, HeadsDigest> {
    Set::from_sorted(pairs.iter().map(|(k, v)| (*k, *v)).collect())
}

/// What one session found, and what it cost.
#[derive(Debug, Default)]
struct Session {
    need: BTreeSet<MemberId>,
    have: BTreeSet<MemberId>,
    /// Round trips: initiator message and responder reply.
    round_trips: u32,
    bytes: usize,
}

/// Runs a session between `a` (initiator) and `b` (responder) to its end,
/// every message going through its CBOR encoding.
fn session(a: &Pairs, b: &Pairs) -> Session {
    let (a, b) = (set(a), set(b));
    let mut out = Session::default();
    let mut message = a.initiate();
    loop {
        out.round_trips += 1;
        assert!(out.round_trips <= MAX_ROUNDS, "session did not end");
        let bytes = codec::to_cbor(&message);
        out.bytes += bytes.len();
        let message2: Message<MemberId, HeadsDigest> = codec::from_cbor(&bytes, usize::MAX).unwrap();
        assert!(message2.ranges.len() <= MAX_RANGES && message2.items() <= MAX_ITEMS);
        let Some(reply) = b.reconcile(&message2, Role::Responder).unwrap().reply else {
            break;
        };
        let bytes = codec::to_cbor(&reply);
        out.bytes += bytes.len();
        assert!(reply.ranges.len() <= MAX_RANGES && reply.items() <= MAX_ITEMS);
        let outcome = a.reconcile(&reply, Role::Initiator).unwrap();
        out.need.extend(outcome.need);
        out.have.extend(outcome.have);
        match outcome.reply {
            Some(next) => message = next,
            None => break,
        }
    }
    out
}

/// Keys whose pair `x` has and `y` lacks.
fn lacking(x: &Pairs, y: &Pairs) -> BTreeSet<MemberId> {
    x.iter().filter(|(k, v)| y.get(k) != Some(v)).map(|(k, _)| *k).collect()
}

/// Pairs `0..n`, then `changed` of them given a new value.
fn with_changes(n: u32, changed: &[u32]) -> (Pairs, Pairs) {
    let a: Pairs = (0..n).map(|i| (key(i), value(i))).collect();
    let mut b = a.clone();
    for c in changed {
        b.insert(key(*c), value(c + 1));
    }
    (a, b)
}

#[test]
fn equal_sets_end_after_one_round_trip() {
    for n in [0, 1, 31, 32, 33, 1_000] {
        let (a, b) = with_changes(n, &[]);
        let s = session(&a, &b);
        assert_eq!(s.round_trips, 1, "{n} pairs");
        assert!(s.need.is_empty() && s.have.is_empty());
    }
}

#[test]
fn one_change_among_twenty_thousand_takes_two_round_trips_and_a_few_kilobytes() {
    let (a, b) = with_changes(20_000, &[12_345]);
    let s = session(&a, &b);
    assert_eq!(s.need, BTreeSet::from([key(12_345)]));
    assert_eq!(s.have, BTreeSet::from([key(12_345)]));
    assert!(s.round_trips <= 3, "{} round trips", s.round_trips);
    assert!(s.bytes < 8 * 1024, "{} bytes", s.bytes);
}

#[test]
fn a_fresh_initiator_receives_everything_page_by_page() {
    let b: Pairs = (0..5_000).map(|i| (key(i), value(i))).collect();
    let s = session(&Pairs::new(), &b);
    assert_eq!(s.need, b.keys().copied().collect());
    assert!(s.have.is_empty());
    // 5 000 pairs in pages of MAX_ITEMS: 5 pages, 5 round trips.
    assert_eq!(s.round_trips as usize, 5_000usize.div_ceil(MAX_ITEMS));
}

#[test]
fn a_fresh_responder_makes_the_initiator_find_all_it_has() {
    let a: Pairs = (0..3_000).map(|i| (key(i), value(i))).collect();
    let s = session(&a, &Pairs::new());
    assert_eq!(s.have, a.keys().copied().collect());
    assert!(s.need.is_empty());
}

fn pairs_strategy() -> impl Strategy<Value = (Pairs, Pairs)> {
    // A common part, then pairs only one side has, then pairs both have
    // with different values.
    (0u32..3_000, 0u32..60, 0u32..60, 0u32..60, any::<u32>()).prop_map(|(common, only_a, only_b, changed, salt)| {
        let mut a = Pairs::new();
        let mut b = Pairs::new();
        for i in 0..common {
            a.insert(key(i ^ salt), value(i));
            b.insert(key(i ^ salt), value(i));
        }
        for i in 0..only_a {
            a.insert(key(0x4000_0000 + i), value(i));
        }
        for i in 0..only_b {
            b.insert(key(0x5000_0000 + i), value(i));
        }
        for i in 0..changed.min(common) {
            b.insert(key(i ^ salt), value(i + 7));
        }
        (a, b)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: seed(), ..ProptestConfig::default() })]

    /// Whatever the two sets and their differences (on either side, or a
    /// changed value), a session finds exactly the keys the initiator
    /// lacks and those the responder lacks, within a few round trips beyond
    /// the pages of pairs one side must send.
    #[test]
    fn a_session_finds_every_difference((a, b) in pairs_strategy()) {
        let s = session(&a, &b);
        prop_assert_eq!(&s.need, &lacking(&b, &a));
        prop_assert_eq!(&s.have, &lacking(&a, &b));
        let pages = (s.need.len() + s.have.len()).div_ceil(MAX_ITEMS / 4) as u32;
        prop_assert!(s.round_trips <= 6 + pages, "{} round trips for {} differences", s.round_trips, s.need.len() + s.have.len());
    }

    /// Arbitrary messages (any bounds, any modes, any order) are answered
    /// or refused, never a panic; what is answered stays within the bounds.
    #[test]
    fn hostile_messages_never_panic(
        ours in prop::collection::btree_map(any::<u8>(), any::<u8>(), 0..80),
        ranges in prop::collection::vec((prop::option::of(any::<u8>()), 0u8..3, prop::collection::vec((any::<u8>(), any::<u8>()), 0..5)), 0..12),
    ) {
        let k = |b: u8| MemberId::from_bytes([b; 32]);
        let v = |b: u8| HeadsDigest([b; 32]);
        let set = Set::new(ours.iter().map(|(a, b)| (k(*a), v(*b))));
        let message = Message {
            ranges: ranges
                .into_iter()
                .map(|(upper, mode, items)| Range {
                    upper: upper.map(k),
                    mode: match mode {
                        0 => Mode::Skip,
                        1 => Mode::Fingerprint(Fingerprint([mode; 16])),
                        _ => Mode::Items(items.into_iter().map(|(a, b)| (k(a), v(b))).collect()),
                    },
                })
                .collect(),
        };
        for role in [Role::Initiator, Role::Responder] {
            if let Ok(Outcome { reply: Some(reply), .. }) = set.reconcile(&message, role) {
                prop_assert!(check(&reply).is_ok());
            }
        }
    }
}

#[test]
fn messages_over_the_bounds_or_out_of_order_are_refused() {
    let set = set(&with_changes(100, &[]).0);
    let k = |b: u8| MemberId::from_bytes([b; 32]);
    let v = HeadsDigest([0; 32]);
    let fp = Mode::Fingerprint(Fingerprint([0; 16]));
    let range = |upper: Option<u8>, mode: Mode<MemberId, HeadsDigest>| Range {
        upper: upper.map(k),
        mode,
    };
    let cases: Vec<(Vec<Range<MemberId, HeadsDigest>>, Error)> = vec![
        (
            (0..=MAX_RANGES).map(|_| range(None, Mode::Skip)).collect(),
            Error::TooManyRanges { count: MAX_RANGES + 1 },
        ),
        (
            vec![range(None, Mode::Items(vec![(k(1), v); MAX_ITEMS + 1]))],
            Error::TooManyItems { count: MAX_ITEMS + 1 },
        ),
        (
            vec![
                range(Some(5), fp.clone()),
                range(Some(5), fp.clone()),
                range(None, Mode::Skip),
            ],
            Error::RangeOrder { index: 1 },
        ),
        (
            vec![
                range(Some(9), fp.clone()),
                range(Some(3), fp.clone()),
                range(None, Mode::Skip),
            ],
            Error::RangeOrder { index: 1 },
        ),
        (
            vec![range(None, Mode::Skip), range(None, Mode::Skip)],
            Error::RangeOrder { index: 1 },
        ),
        (vec![range(Some(9), fp.clone())], Error::Incomplete),
        (
            vec![range(None, Mode::Items(vec![(k(2), v), (k(1), v)]))],
            Error::ItemOrder { index: 0 },
        ),
        (
            vec![range(None, Mode::Items(vec![(k(2), v), (k(2), v)]))],
            Error::ItemOrder { index: 0 },
        ),
        (
            vec![range(Some(5), Mode::Items(vec![(k(6), v)])), range(None, Mode::Skip)],
            Error::ItemOrder { index: 0 },
        ),
        (
            vec![range(Some(5), Mode::Skip), range(None, Mode::Items(vec![(k(4), v)]))],
            Error::ItemOrder { index: 1 },
        ),
    ];
    for (ranges, error) in cases {
        let message = Message { ranges };
        assert_eq!(set.reconcile(&message, Role::Responder), Err(error.clone()));
        assert_eq!(set.reconcile(&message, Role::Initiator), Err(error));
    }
}

#[test]
fn works_over_change_hashes_too() {
    let a: Vec<(HeadsDigest, ())> = (0..500u32)
        .map(|i| (HeadsDigest(Sha256::digest(i.to_le_bytes()).into()), ()))
        .collect();
    let mut b = a.clone();
    b.remove(17);
    b.push((HeadsDigest([0xee; 32]), ()));
    let (sa, sb) = (Set::new(a), Set::new(b));
    let mut message = sa.initiate();
    let (mut need, mut have) = (Vec::new(), Vec::new());
    while let Some(reply) = sb.reconcile(&message, Role::Responder).unwrap().reply {
        let outcome = sa.reconcile(&reply, Role::Initiator).unwrap();
        need.extend(outcome.need);
        have.extend(outcome.have);
        match outcome.reply {
            Some(next) => message = next,
            None => break,
        }
    }
    assert_eq!(need, vec![HeadsDigest([0xee; 32])]);
    assert_eq!(have, vec![HeadsDigest(Sha256::digest(17u32.to_le_bytes()).into())]);
}
