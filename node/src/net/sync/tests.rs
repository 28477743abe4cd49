use automerge::transaction::{CommitOptions, Transactable};
use automerge::{Automerge, ROOT, ReadDoc, ScalarValue};
use mutu_protocol::identity::{self, ReplicaNonce};
use mutu_protocol::registry::{Registry, Trust};
use mutu_protocol::{SecretKey, Timestamp};

use super::*;

const NOW: Timestamp = Timestamp(1_000_000);

fn key(n: u8) -> SecretKey {
    SecretKey::from_bytes(&[n; 32])
}

fn member(n: u8) -> MemberId {
    key(n).member_id()
}

fn digest(n: u8) -> HeadsDigest {
    HeadsDigest([n; 32])
}

/// A signed change of `key`'s document carrying `len` bytes of payload
/// (not a valid automerge change: for size and encoding tests only).
fn fake_change(key: &SecretKey, len: usize) -> SignedChange {
    SignedChange::from_parts(key.member_id(), vec![0xab; len], [7; 64])
}

/// Appends `n` real, signed changes to `am` as replica `nonce` of `key`.
fn commit(am: &mut Automerge, key: &SecretKey, nonce: u8, label: &str, n: usize) -> Vec<(ChangeHash, SignedChange)> {
    am.set_actor(identity::actor_id(&key.member_id(), &ReplicaNonce([nonce; 16])));
    (0..n)
        .map(|i| {
            let mut tx = am.transaction();
            tx.put(ROOT, format!("{label}/{i}"), ScalarValue::Bytes(vec![nonce, i as u8]))
                .unwrap();
            let (hash, _) = tx.commit_with(CommitOptions::default().with_time(1_000));
            let hash = hash.unwrap();
            let change = am.get_change_by_hash(&hash).unwrap();
            (hash, SignedChange::sign(key, &change))
        })
        .collect()
}

fn admit(registry: &mut Registry, changes: Vec<SignedChange>) {
    let report = registry
        .admit(changes, NOW, Trust::Untrusted, |_| Ok::<(), ()>(()))
        .unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert!(report.missing.is_empty(), "{:?}", report.missing);
}

#[test]
fn heads_digest_ignores_order_and_duplicates() {
    let a = ChangeHash([1; 32]);
    let b = ChangeHash([2; 32]);
    assert_eq!(heads_digest(&[a, b]), heads_digest(&[b, a]));
    assert_eq!(heads_digest(&[a, b, a]), heads_digest(&[a, b]));
    assert_ne!(heads_digest(&[a]), heads_digest(&[a, b]));
    assert_ne!(heads_digest(&[]), heads_digest(&[a]));
    let mut concat = Vec::new();
    concat.extend_from_slice(&a.0);
    concat.extend_from_slice(&b.0);
    assert_eq!(heads_digest(&[b, a]).0, <[u8; 32]>::from(Sha256::digest(&concat)));
}

#[test]
fn hashes_encode_as_byte_strings() {
    // A digest is one 32-byte string (2 header bytes), not 32 integers.
    assert_eq!(codec::to_cbor(&digest(200)).len(), 34);
    let req = Request::ChangesSince {
        doc: member(1),
        heads: vec![[200; 32]; 10],
    };
    let bytes = codec::to_cbor(&req);
    assert!(bytes.len() < 34 + 10 * 34 + 40, "{} bytes", bytes.len());
    assert_eq!(codec::from_cbor::<Request>(&bytes, MAX_REQUEST_BYTES).unwrap(), req);
}

#[test]
fn requests_and_responses_round_trip() {
    let k = key(1);
    let requests = [
        Request::Summary {
            digest: digest(8),
            docs: 1_000,
        },
        Request::Inventory(vec![(member(1), digest(1)), (member(2), digest(2))]),
        Request::Inventory(Vec::new()),
        Request::ChangesSince {
            doc: member(1),
            heads: vec![[3; 32], [4; 32]],
        },
        Request::ChangesByHash {
            doc: member(2),
            hashes: vec![[5; 32]],
        },
    ];
    for r in requests {
        let bytes = codec::to_cbor(&r);
        assert_eq!(codec::from_cbor::<Request>(&bytes, MAX_REQUEST_BYTES).unwrap(), r);
        r.check().unwrap();
    }
    let responses = [
        Response::Inventory(vec![(member(3), digest(9))]),
        Response::Changes {
            changes: vec![fake_change(&k, 10), fake_change(&k, 0)],
            more: true,
        },
        Response::Changes {
            changes: Vec::new(),
            more: false,
        },
        Response::error("no such document"),
        Response::InSync,
        Response::OutOfSync,
    ];
    for r in responses {
        let bytes = codec::to_cbor(&r);
        assert_eq!(codec::from_cbor::<Response>(&bytes, MAX_RESPONSE_BYTES).unwrap(), r);
        r.check().unwrap();
    }
}

#[test]
fn summaries_tell_equal_inventories_apart() {
    let a: BTreeMap<_, _> = [(member(1), digest(1)), (member(2), digest(2))].into();
    let mut b = a.clone();
    assert_eq!(inventory_digest(&a), inventory_digest(&b));
    let Request::Summary { digest: d, docs } = summary(&a) else {
        panic!("summary() makes a Summary");
    };
    assert_eq!(docs, 2);
    assert_eq!(summary_response(&b, &d, docs), Response::InSync);
    // One document's heads moved.
    b.insert(member(2), digest(3));
    assert_ne!(inventory_digest(&a), inventory_digest(&b));
    assert_eq!(summary_response(&b, &d, docs), Response::OutOfSync);
    // One document more; none at all.
    b.insert(member(2), digest(2));
    b.insert(member(3), digest(3));
    assert_eq!(summary_response(&b, &d, docs), Response::OutOfSync);
    assert_eq!(summary_response(&BTreeMap::new(), &d, docs), Response::OutOfSync);
    // Pairs are bound together: swapping digests between documents shows.
    let swapped: BTreeMap<_, _> = [(member(1), digest(2)), (member(2), digest(1))].into();
    assert_ne!(inventory_digest(&a), inventory_digest(&swapped));
}

#[test]
fn an_idle_pass_is_small() {
    // 10 000 documents: the request and answer stay tiny.
    let ours: BTreeMap<_, _> = (0..MAX_INVENTORY_DOCS)
        .map(|i| {
            let mut id = [0xff; 32];
            id[..8].copy_from_slice(&(i as u64).to_be_bytes());
            (MemberId::from_bytes(id), HeadsDigest([0xff; 32]))
        })
        .collect();
    let request = summary(&ours);
    request.check().unwrap();
    assert!(
        codec::to_cbor(&request).len() < 128,
        "{}",
        codec::to_cbor(&request).len()
    );
    assert!(codec::to_cbor(&Response::InSync).len() < 16);
}

#[test]
fn a_full_inventory_fits_in_a_request() {
    let entries: Vec<_> = (0..MAX_INVENTORY_DOCS)
        .map(|i| {
            let mut id = [0xff; 32];
            id[..8].copy_from_slice(&(i as u64).to_be_bytes());
            (MemberId::from_bytes(id), HeadsDigest([0xff; 32]))
        })
        .collect();
    let request = Request::Inventory(entries.clone());
    assert!(codec::to_cbor(&request).len() <= MAX_REQUEST_BYTES);
    assert!(codec::to_cbor(&Response::Inventory(entries)).len() <= MAX_RESPONSE_BYTES);
}

#[test]
fn counts_over_the_bounds_are_refused() {
    let too_many = vec![(member(1), digest(1)); MAX_INVENTORY_DOCS + 1];
    assert!(matches!(
        Request::Inventory(too_many.clone()).check(),
        Err(Error::TooMany { .. })
    ));
    assert!(Response::Inventory(too_many).check().is_err());
    let heads = Request::ChangesSince {
        doc: member(1),
        heads: vec![[0; 32]; MAX_HEADS + 1],
    };
    assert!(heads.check().is_err());
    let hashes = Request::ChangesByHash {
        doc: member(1),
        hashes: vec![[0; 32]; MAX_HASHES + 1],
    };
    assert!(hashes.check().is_err());
    assert!(Response::Error("x".repeat(MAX_ERROR_LEN + 1)).check().is_err());
    // `Response::error` cuts long texts, on a character boundary.
    let cut = Response::error("é".repeat(MAX_ERROR_LEN));
    cut.check().unwrap();
    let Response::Error(text) = cut else { unreachable!() };
    assert!(text.len() <= MAX_ERROR_LEN && text.chars().all(|c| c == 'é'));
    // Hash requests are split at the bound.
    let many: Vec<ChangeHash> = (0..MAX_HASHES as u32 + 5)
        .map(|i| {
            let mut h = [0; 32];
            h[..4].copy_from_slice(&i.to_be_bytes());
            ChangeHash(h)
        })
        .collect();
    let split = Request::changes_by_hash(member(1), &many);
    assert_eq!(split.len(), 2);
    split.iter().for_each(|r| r.check().unwrap());
}

#[test]
fn the_size_bound_covers_the_encoding() {
    let k = key(1);
    for len in [0, 1, 23, 24, 255, 256, 65_535, 65_536, 200_000] {
        let c = fake_change(&k, len);
        let one = codec::to_cbor(&vec![c.clone()]).len();
        let none = codec::to_cbor(&Vec::<SignedChange>::new()).len();
        assert!(one - none <= encoded_size_bound(&c), "len {len}: {}", one - none);
    }
}

#[test]
fn gossip_batches_round_trip() {
    let k = key(1);
    let batch = GossipBatch {
        doc: k.member_id(),
        changes: vec![fake_change(&k, 100), fake_change(&k, 5)],
    };
    let bytes = batch.encode().unwrap();
    assert_eq!(GossipBatch::decode(&bytes).unwrap(), batch);
}

#[test]
fn gossip_batches_are_bounded_and_of_one_document() {
    let k = key(1);
    let empty = GossipBatch {
        doc: k.member_id(),
        changes: Vec::new(),
    };
    assert!(matches!(empty.encode(), Err(Error::EmptyBatch)));
    assert!(matches!(
        GossipBatch::decode(&codec::to_cbor(&empty)),
        Err(Error::EmptyBatch)
    ));

    let mixed = GossipBatch {
        doc: k.member_id(),
        changes: vec![fake_change(&k, 1), fake_change(&key(2), 1)],
    };
    assert!(matches!(mixed.encode(), Err(Error::WrongDoc { .. })));
    assert!(matches!(
        GossipBatch::decode(&codec::to_cbor(&mixed)),
        Err(Error::WrongDoc { .. })
    ));

    let big = GossipBatch {
        doc: k.member_id(),
        changes: vec![fake_change(&k, MAX_GOSSIP_BATCH_BYTES)],
    };
    assert!(matches!(big.encode(), Err(Error::TooLarge { .. })));
    assert!(matches!(
        GossipBatch::decode(&codec::to_cbor(&big)),
        Err(Error::Decode(codec::Error::TooLarge { .. }))
    ));
    assert!(GossipBatch::decode(b"\xff\x00garbage").is_err());
}

#[test]
fn split_batches_each_fit() {
    let k = key(1);
    let changes: Vec<_> = (0..30).map(|_| fake_change(&k, 100_000)).collect();
    let batches = GossipBatch::split(k.member_id(), changes.clone());
    assert!(batches.len() >= 3);
    let mut back = Vec::new();
    for b in &batches {
        let bytes = b.encode().unwrap();
        assert!(bytes.len() <= MAX_GOSSIP_BATCH_BYTES);
        back.extend(GossipBatch::decode(&bytes).unwrap().changes);
    }
    assert_eq!(back, changes);
    // Many tiny changes are cut by count.
    let tiny: Vec<_> = (0..MAX_CHANGES_PER_BATCH + 1).map(|_| fake_change(&k, 1)).collect();
    let batches = GossipBatch::split(k.member_id(), tiny);
    assert_eq!(batches.len(), 2);
    batches.iter().for_each(|b| {
        b.encode().unwrap();
    });
}

#[test]
fn change_responses_are_cut_under_the_limit() {
    let k = key(1);
    let big = mutu_protocol::change::MAX_CHANGE_BYTES;
    let n = MAX_RESPONSE_BYTES / big + 5;
    let mut source = (0..n).map(|_| fake_change(&k, big));
    let response = Response::changes_chunk(&mut source);
    let Response::Changes { changes, more } = &response else {
        unreachable!()
    };
    assert!(*more);
    assert!(!changes.is_empty() && changes.len() < n);
    assert!(codec::to_cbor(&response).len() <= MAX_RESPONSE_BYTES);
    response.check().unwrap();

    let all = Response::changes_chunk((0..3).map(|_| fake_change(&k, 10)));
    assert!(matches!(all, Response::Changes { ref changes, more: false } if changes.len() == 3));
    let none = Response::changes_chunk(Vec::new());
    assert!(matches!(none, Response::Changes { ref changes, more: false } if changes.is_empty()));
}

#[test]
fn inventories_diff_both_ways() {
    let ours: BTreeMap<_, _> = [(member(1), digest(1)), (member(2), digest(2)), (member(3), digest(3))].into();
    let theirs = [
        (member(1), digest(1)),  // same
        (member(2), digest(20)), // differs
        (member(4), digest(4)),  // we lack it
        (member(4), digest(4)),  // listed twice
    ];
    assert_eq!(diff_inventory(&ours, &theirs), vec![member(2), member(4)]);
    assert!(diff_inventory(&ours, &[]).is_empty());

    // The responder sends what differs or what the requester did not list.
    let response = inventory_response(&ours, &theirs);
    let mut expected = vec![(member(2), digest(2)), (member(3), digest(3))];
    expected.sort();
    assert_eq!(response, expected);
    // Whatever the responder sends, the requester keeps only real differences.
    let requester: BTreeMap<_, _> = theirs.iter().copied().collect();
    let mut wanted = diff_inventory(&requester, &response);
    wanted.sort();
    let mut expected = vec![member(2), member(3)];
    expected.sort();
    assert_eq!(wanted, expected);
}

#[test]
fn inventory_pages_are_bounded() {
    assert_eq!(inventory_pages(&BTreeMap::new()), vec![Vec::new()]);
    let ours: BTreeMap<_, _> = (0..MAX_INVENTORY_DOCS as u32 + 1)
        .map(|i| {
            let mut id = [0; 32];
            id[..4].copy_from_slice(&i.to_be_bytes());
            (MemberId::from_bytes(id), digest(0))
        })
        .collect();
    let pages = inventory_pages(&ours);
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].len(), MAX_INVENTORY_DOCS);
    assert_eq!(pages[1].len(), 1);
    let response = inventory_response(&ours, &[]);
    assert_eq!(response.len(), MAX_INVENTORY_DOCS);
}

#[test]
fn changes_since_sends_what_the_peer_lacks() {
    let k = key(1);
    let m = k.member_id();
    let mut am = Automerge::new();
    let base = commit(&mut am, &k, 1, "base", 3);
    // Two replicas go on concurrently from the base.
    let mut other = am.fork();
    let left = commit(&mut am, &k, 1, "left", 2);
    let right = commit(&mut other, &k, 2, "right", 2);

    let mut registry = Registry::new();
    let all: Vec<SignedChange> = base.iter().chain(&left).chain(&right).map(|(_, c)| c.clone()).collect();
    admit(&mut registry, all);
    let doc = registry.doc(&m).unwrap();
    assert_eq!(doc.change_count(), 7);
    let hashes = |v: &[(ChangeHash, SignedChange)]| v.iter().map(|(h, _)| *h).collect::<Vec<_>>();

    // A new peer gets everything, in causal order.
    let everything = changes_since(doc, &[]);
    assert_eq!(everything.len(), 7);
    assert_eq!(everything[..3], hashes(&base)[..]);
    // A peer at the base gets both branches.
    let since_base = changes_since(doc, &[base[2].0]);
    assert_eq!(since_base.len(), 4);
    // A peer on the left branch gets the right one.
    let mut got = changes_since(doc, &[left[1].0]);
    got.sort();
    let mut want = hashes(&right);
    want.sort();
    assert_eq!(got, want);
    // A peer that is up to date gets nothing.
    assert!(changes_since(doc, &doc.heads()).is_empty());
    // Unknown heads cannot exclude anything: they are dropped.
    let unknown = ChangeHash([0xee; 32]);
    assert_eq!(changes_since(doc, &[unknown]).len(), 7);
    assert_eq!(changes_since(doc, &[left[1].0, unknown]).len(), 2);

    // The digest tracks the heads.
    assert_eq!(heads_digest(&doc.heads()), heads_digest(&[left[1].0, right[1].0]));
}

/// The same scenario answered from the metadata and the store's log (what
/// a node with lazy documents does): the same changes for every kind of
/// heads a peer may send, in the log's order.
#[test]
fn changes_since_from_the_log_answers_as_the_document() {
    let k = key(1);
    let m = k.member_id();
    let mut am = Automerge::new();
    let base = commit(&mut am, &k, 1, "base", 3);
    let mut other = am.fork();
    let left = commit(&mut am, &k, 1, "left", 2);
    let right = commit(&mut other, &k, 2, "right", 2);
    let mut registry = Registry::new();
    let all: Vec<SignedChange> = base.iter().chain(&left).chain(&right).map(|(_, c)| c.clone()).collect();
    admit(&mut registry, all.clone());
    let doc = registry.doc(&m).unwrap();
    let log: Vec<(ChangeHash, Vec<ChangeHash>)> = all
        .iter()
        .map(|c| {
            let c = c.decode().unwrap();
            (c.hash(), c.deps().to_vec())
        })
        .collect();
    let unknown = ChangeHash([0xee; 32]);
    let cases = [
        vec![],
        vec![base[2].0],
        vec![base[0].0],
        vec![left[1].0],
        vec![left[0].0, right[0].0],
        doc.heads(),
        vec![unknown],
        vec![left[1].0, unknown],
    ];
    for heads in cases {
        let mut want = changes_since(doc, &heads);
        want.sort();
        let got = changes_since_log(doc.meta(), &log, &heads);
        let position = |h: &ChangeHash| log.iter().position(|(x, _)| x == h).unwrap();
        assert!(got.windows(2).all(|w| position(&w[0]) < position(&w[1])), "log order");
        let mut got = got;
        got.sort();
        assert_eq!(got, want, "heads {heads:?}");
    }
}

#[test]
fn changes_by_hash_answers_each_known_change_once_in_the_order_asked() {
    let k = key(1);
    let mut am = Automerge::new();
    let made = commit(&mut am, &k, 1, "c", 3);
    let mut registry = Registry::new();
    admit(&mut registry, made.iter().map(|(_, c)| c.clone()).collect());
    let doc = registry.doc(&k.member_id()).unwrap();
    let (a, b, c) = (made[0].0, made[1].0, made[2].0);
    let unknown = ChangeHash([0xee; 32]);
    assert_eq!(changes_by_hash(doc.meta(), &[c, unknown, a, c, a, c]), vec![c, a]);
    assert_eq!(changes_by_hash(doc.meta(), &vec![b; MAX_HASHES]), vec![b]);
    assert!(changes_by_hash(doc.meta(), &[unknown]).is_empty());
}
