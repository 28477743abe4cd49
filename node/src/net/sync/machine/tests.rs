//! The sync machine on its own: no swarm, no tokio, no clock. Time is an
//! `Instant` taken once and moved by hand; request ids are handed out by
//! the harness the way the actor gets them from libp2p.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use mutu_protocol::{MemberId, SignedChange};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};

use super::*;
use crate::net::MAX_GOSSIP_BATCH_BYTES;
use crate::net::sync::MAX_CHANGES_PER_BATCH;

/// Small integers for peers, requests and connections.
#[derive(Debug, PartialEq)]
enum T {}

impl Ids for T {
    type Peer = u32;
    type Outbound = u64;
    type Inbound = u64;
    type Connection = u8;
}

const SEED: u64 = 0x6d75_7475;

fn doc(i: u32) -> MemberId {
    let mut bytes = [0u8; 32];
    bytes[..4].copy_from_slice(&i.to_be_bytes());
    MemberId::from_bytes(bytes)
}

/// A change of `doc` with `size` bytes of body, tagged `tag` (the machine
/// never decodes changes: only their document and size matter).
fn change(doc: MemberId, size: usize, tag: u64) -> SignedChange {
    let mut bytes = vec![0u8; size.max(8)];
    bytes[..8].copy_from_slice(&tag.to_be_bytes());
    SignedChange::from_parts(doc, bytes, [0; 64])
}

fn changes(docs: &[(MemberId, usize)]) -> Response {
    Response::Changes {
        changes: docs
            .iter()
            .map(|(d, n)| change(*d, 100, u64::from(*n as u32)))
            .collect(),
        more: false,
    }
}

fn rate_limited() -> Response {
    Response::error("rate limited: too many sync requests from this peer, retry in 2 ms")
}

/// The machine and what the actor would keep around it: the time, and the
/// requests in flight with the ids it got for them.
struct Harness {
    machine: Machine<T>,
    start: Instant,
    now: Instant,
    next_id: u64,
    inflight: BTreeMap<u64, (u32, Ask)>,
}

impl Harness {
    fn new() -> Self {
        Self::with(rate::Limits::UNLIMITED, SEED)
    }

    fn with(limits: rate::Limits, seed: u64) -> Self {
        let start = Instant::now();
        Self {
            machine: Machine::new(Config { limits, seed }),
            start,
            now: start,
            next_id: 1,
            inflight: BTreeMap::new(),
        }
    }

    /// Moves the clock to `ms` after the start.
    fn at(&mut self, ms: u64) {
        self.now = self.start + Duration::from_millis(ms);
    }

    /// Feeds `input` and, like the actor, reports every request it sends
    /// (one wire request per `Send`).
    fn feed(&mut self, input: Input<T>) -> Vec<Output<T>> {
        let outputs = self.machine.handle(input, self.now);
        for output in &outputs {
            let sent = match output {
                Output::Send { peer, ask } => Some((peer, *ask)),
                Output::Continue { peer, round, .. } => Some((peer, Ask::Reconcile(*round))),
                _ => None,
            };
            if let Some((peer, ask)) = sent {
                let ask = &ask;
                let id = self.next_id;
                self.next_id += 1;
                self.inflight.insert(id, (*peer, *ask));
                assert!(
                    self.machine
                        .handle(
                            Input::Sent {
                                peer: *peer,
                                id,
                                ask: *ask
                            },
                            self.now
                        )
                        .is_empty()
                );
            }
        }
        outputs
    }

    /// The id of the request in flight to `peer` asking `ask`.
    fn id_of(&self, peer: u32, ask: Ask) -> u64 {
        *self
            .inflight
            .iter()
            .find(|(_, v)| **v == (peer, ask))
            .unwrap_or_else(|| panic!("no {ask:?} in flight to {peer}"))
            .0
    }

    fn answer(&mut self, peer: u32, ask: Ask, response: Response) -> Vec<Output<T>> {
        let id = self.id_of(peer, ask);
        self.inflight.remove(&id);
        self.feed(Input::Response { id, via: 7, response })
    }

    fn fail(&mut self, peer: u32, ask: Ask) -> Vec<Output<T>> {
        let id = self.id_of(peer, ask);
        self.inflight.remove(&id);
        self.feed(Input::Failed(id))
    }

    /// Documents pulled from `peer` right now.
    fn pulling(&self, peer: u32) -> BTreeSet<MemberId> {
        self.inflight
            .values()
            .filter_map(|(p, a)| match a {
                Ask::Changes(d) if *p == peer => Some(*d),
                _ => None,
            })
            .collect()
    }

    /// A connected peer whose summary was answered `InSync`.
    fn connect(&mut self, peer: u32) {
        assert_eq!(
            self.feed(Input::Connected(peer)),
            vec![Output::Send {
                peer,
                ask: Ask::Summary
            }]
        );
        self.answer(peer, Ask::Summary, Response::InSync);
    }
}

/// Documents sent `Ask::Changes` in `outputs`, in order.
fn pulls(outputs: &[Output<T>]) -> Vec<(u32, MemberId)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send {
                peer,
                ask: Ask::Changes(d),
            } => Some((*peer, *d)),
            _ => None,
        })
        .collect()
}

fn blocks(outputs: &[Output<T>]) -> Vec<u32> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Block(p) => Some(*p),
            _ => None,
        })
        .collect()
}

#[test]
fn a_pass_goes_summary_inventory_compare() {
    let mut h = Harness::new();
    assert_eq!(
        h.feed(Input::Connected(1)),
        vec![Output::Send {
            peer: 1,
            ask: Ask::Summary
        }]
    );
    let out = h.answer(1, Ask::Summary, Response::OutOfSync);
    assert_eq!(
        out,
        vec![
            Output::Synced {
                peer: 1,
                via: 7,
                in_sync: false
            },
            Output::Send {
                peer: 1,
                ask: Ask::Inventory
            }
        ]
    );
    let theirs = vec![(doc(1), HeadsDigest([1; 32]))];
    let out = h.answer(1, Ask::Inventory, Response::Inventory(theirs.clone()));
    assert_eq!(out, vec![Output::Compare { peer: 1, theirs }]);
    assert_eq!(h.machine.requests_in_flight(), 0);
    // An answer nobody asked for changes nothing.
    assert!(
        h.feed(Input::Response {
            id: 999,
            via: 7,
            response: Response::InSync
        })
        .is_empty()
    );
}

#[test]
fn pulls_beyond_the_cap_wait_and_go_out_as_slots_free() {
    let mut h = Harness::new();
    h.connect(1);
    let docs: Vec<MemberId> = (0..20).map(doc).collect();
    let out = h.feed(Input::Differ {
        peer: 1,
        docs: docs.clone(),
    });
    assert_eq!(pulls(&out).len(), MAX_PULLS_PER_PEER);
    assert_eq!(h.machine.queued(&1), 20 - MAX_PULLS_PER_PEER);
    // Asking again for documents in flight or queued sends nothing twice.
    assert!(pulls(&h.feed(Input::Differ { peer: 1, docs })).is_empty());
    assert_eq!(h.machine.queued(&1), 20 - MAX_PULLS_PER_PEER);

    // Each answer frees a slot for one queued document; the batch waits
    // for the last pull.
    let mut asked = pulls(&out).len();
    let mut admitted = Vec::new();
    while let Some(d) = h.pulling(1).into_iter().next() {
        let out = h.answer(1, Ask::Changes(d), changes(&[(d, asked)]));
        asked += pulls(&out).len();
        assert!(h.pulling(1).len() <= MAX_PULLS_PER_PEER);
        for o in out {
            if let Output::Admit { changes, pulled, .. } = o {
                admitted.push((changes.len(), pulled.len()));
            }
        }
    }
    assert_eq!(asked, 20);
    assert_eq!(admitted, vec![(20, 20)], "one batch, once no pull is left");
    assert_eq!(h.machine.queued(&1), 0);
}

#[test]
fn a_refused_pull_is_retried_after_pull_retry_and_not_before() {
    let mut h = Harness::new();
    h.connect(1);
    let (a, b) = (doc(1), doc(2));
    assert_eq!(pulls(&h.feed(Input::Differ { peer: 1, docs: vec![a] })), vec![(1, a)]);
    h.at(10);
    let out = h.answer(1, Ask::Changes(a), rate_limited());
    assert!(blocks(&out).is_empty() && pulls(&out).is_empty(), "{out:?}");
    // Paused: a new document waits too, and the retry timer before the
    // end of the pause does nothing.
    assert!(pulls(&h.feed(Input::Differ { peer: 1, docs: vec![b] })).is_empty());
    let just_before = 10 + PULL_RETRY.as_millis() as u64 - 1;
    h.at(just_before);
    assert!(h.feed(Input::Retry).is_empty());
    h.at(just_before + 1);
    assert_eq!(pulls(&h.feed(Input::Retry)), vec![(1, a), (1, b)]);
}

#[test]
fn a_refusal_pauses_only_the_peer_that_refused() {
    let mut h = Harness::new();
    h.connect(1);
    h.connect(2);
    h.feed(Input::Differ {
        peer: 1,
        docs: vec![doc(1)],
    });
    h.answer(1, Ask::Changes(doc(1)), rate_limited());
    assert_eq!(
        pulls(&h.feed(Input::Differ {
            peer: 2,
            docs: vec![doc(1)]
        })),
        vec![(2, doc(1))]
    );
}

#[test]
fn a_peer_over_its_budget_is_refused_not_struck() {
    let limits = rate::Limits {
        requests_burst: 2,
        requests_per_s: 1,
        bytes_burst: 1_000,
        bytes_per_s: 1_000,
    };
    let mut h = Harness::with(limits, SEED);
    h.connect(1);
    assert_eq!(h.feed(Input::Request { peer: 1, id: 1 }), vec![Output::Serve(1)]);
    h.feed(Input::Served {
        peer: 1,
        id: 1,
        work: 10,
        size: 10,
    });
    assert_eq!(h.feed(Input::Request { peer: 1, id: 2 }), vec![Output::Serve(2)]);
    for id in 3..20 {
        let out = h.feed(Input::Request { peer: 1, id });
        assert!(
            matches!(
                out.as_slice(),
                [Output::Refuse {
                    reason: Refusal::Limited(rate::Refusal::Requests { .. }),
                    ..
                }]
            ),
            "{out:?}"
        );
    }
    // Not struck: its next summary answer still makes it a synced peer.
    h.feed(Input::Tick);
    let out = h.answer(1, Ask::Summary, Response::InSync);
    assert_eq!(
        out,
        vec![Output::Synced {
            peer: 1,
            via: 7,
            in_sync: true
        }]
    );
    // A second later a token is back; another peer was never limited.
    h.at(1_000);
    assert_eq!(h.feed(Input::Request { peer: 1, id: 20 }), vec![Output::Serve(20)]);
    assert_eq!(h.feed(Input::Request { peer: 2, id: 21 }), vec![Output::Serve(21)]);
}

#[test]
fn a_peer_that_leaves_its_answers_unread_is_refused_until_they_are_written() {
    let mut h = Harness::new();
    h.connect(1);
    assert_eq!(h.feed(Input::Request { peer: 1, id: 1 }), vec![Output::Serve(1)]);
    h.feed(Input::Served {
        peer: 1,
        id: 1,
        work: 0,
        size: MAX_RESPONSE_BYTES_IN_FLIGHT_PER_PEER,
    });
    let out = h.feed(Input::Request { peer: 1, id: 2 });
    assert_eq!(
        out,
        vec![Output::Refuse {
            id: 2,
            reason: Refusal::Busy(rate::Busy::Peer(MAX_RESPONSE_BYTES_IN_FLIGHT_PER_PEER))
        }]
    );
    h.feed(Input::Answered(1));
    assert_eq!(h.feed(Input::Request { peer: 1, id: 3 }), vec![Output::Serve(3)]);
    // An answer whose end is never reported is forgotten by the tick.
    h.feed(Input::Served {
        peer: 1,
        id: 3,
        work: 0,
        size: MAX_RESPONSE_BYTES_IN_FLIGHT_PER_PEER,
    });
    h.at(ANSWER_EXPIRY.as_millis() as u64 + 1);
    h.feed(Input::Tick);
    assert_eq!(h.feed(Input::Request { peer: 1, id: 4 }), vec![Output::Serve(4)]);
}

#[test]
fn three_faults_block_a_peer_until_block_duration_has_passed() {
    let mut h = Harness::new();
    h.connect(1);
    assert!(h.feed(Input::Fault(1)).is_empty());
    assert!(h.feed(Input::Fault(1)).is_empty());
    assert_eq!(h.feed(Input::Fault(1)), vec![Output::Block(1)]);
    assert_eq!(h.machine.blocked().copied().collect::<Vec<_>>(), vec![1]);

    let end = BLOCK_DURATION.as_millis() as u64;
    h.at(end - 1);
    assert!(!h.feed(Input::Tick).contains(&Output::Unblock(1)));
    h.at(end);
    assert!(h.feed(Input::Tick).contains(&Output::Unblock(1)));
    assert_eq!(h.machine.blocked().count(), 0);
    // Its strikes went with the block: two more faults do not block it.
    assert!(h.feed(Input::Fault(1)).is_empty());
    assert!(h.feed(Input::Fault(1)).is_empty());
}

#[test]
fn one_admission_with_three_forged_changes_blocks_at_once() {
    let mut h = Harness::new();
    h.connect(1);
    let out = h.feed(Input::Admitted {
        peer: 1,
        admission: Admission {
            faults: 3,
            ..Admission::default()
        },
    });
    assert_eq!(blocks(&out), vec![1]);
}

#[test]
fn wrong_answers_are_strikes_and_a_struck_peer_is_not_remembered() {
    let mut h = Harness::new();
    h.connect(1);
    // A summary answered with changes: the wrong kind.
    h.feed(Input::Tick);
    let out = h.answer(1, Ask::Summary, changes(&[]));
    assert!(blocks(&out).is_empty());
    // A struck peer that answers a summary well is not `Synced`.
    h.feed(Input::Tick);
    assert!(h.answer(1, Ask::Summary, Response::InSync).is_empty());
    // A pull answered with a change of another document.
    h.feed(Input::Differ {
        peer: 1,
        docs: vec![doc(1)],
    });
    let out = h.answer(1, Ask::Changes(doc(1)), changes(&[(doc(2), 0)]));
    assert!(blocks(&out).is_empty());
    // That was one strike each: the third blocks.
    assert_eq!(h.feed(Input::Fault(1)), vec![Output::Block(1)]);
}

#[test]
fn an_answer_that_fails_its_check_is_a_strike() {
    let mut h = Harness::new();
    h.connect(1);
    for _ in 0..2 {
        h.feed(Input::Tick);
        let out = h.answer(
            1,
            Ask::Summary,
            Response::Error("x".repeat(super::super::MAX_ERROR_LEN + 1)),
        );
        assert!(blocks(&out).is_empty());
    }
    h.feed(Input::Tick);
    let out = h.answer(
        1,
        Ask::Summary,
        Response::Error("x".repeat(super::super::MAX_ERROR_LEN + 1)),
    );
    assert_eq!(blocks(&out), vec![1]);
}

#[test]
fn strikes_of_gone_peers_are_forgotten_beyond_the_tracking_bound() {
    let mut h = Harness::new();
    h.connect(1);
    h.feed(Input::Fault(1));
    for peer in 1_000..1_000 + MAX_TRACKED_PEERS as u32 + 10 {
        h.feed(Input::Fault(peer));
    }
    assert!(
        h.machine.strikes.len() <= MAX_TRACKED_PEERS,
        "{}",
        h.machine.strikes.len()
    );
    // The connected peer's strike was kept.
    assert_eq!(h.machine.strikes.get(&1), Some(&1));
}

#[test]
fn the_tick_picks_peers_from_the_seed_and_reaches_every_one() {
    fn picks(seed: u64) -> Vec<u32> {
        let mut h = Harness::with(rate::Limits::UNLIMITED, seed);
        for p in 1..=5 {
            h.connect(p);
        }
        (0..200)
            .map(|_| match h.feed(Input::Tick).as_slice() {
                [
                    Output::Send {
                        peer,
                        ask: Ask::Summary,
                    },
                ] => *peer,
                other => panic!("{other:?}"),
            })
            .collect()
    }
    let one = picks(SEED);
    assert_eq!(one, picks(SEED), "the same seed, the same peers");
    assert_ne!(one, picks(SEED + 2), "another seed, other peers");
    for p in 1..=5 {
        let n = one.iter().filter(|q| **q == p).count();
        assert!((20..=60).contains(&n), "peer {p} picked {n} times of 200: {one:?}");
    }
    // No peer, no pass; a gone peer is never picked.
    let mut h = Harness::new();
    assert!(h.feed(Input::Tick).is_empty());
    h.connect(1);
    h.connect(2);
    h.feed(Input::Disconnected(1));
    for _ in 0..20 {
        assert_eq!(
            h.feed(Input::Tick),
            vec![Output::Send {
                peer: 2,
                ask: Ask::Summary
            }]
        );
    }
}

#[test]
fn resync_starts_a_pass_with_every_connected_peer() {
    let mut h = Harness::new();
    for p in [3, 1, 2] {
        h.connect(p);
    }
    let out = h.feed(Input::Resync);
    let peers: Vec<u32> = out
        .iter()
        .map(|o| match o {
            Output::Send {
                peer,
                ask: Ask::Summary,
            } => *peer,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(peers, vec![1, 2, 3]);
}

#[test]
fn local_changes_go_out_one_document_per_batch_within_the_gossip_bounds() {
    let (a, b) = (doc(1), doc(2));
    let mut local = Vec::new();
    // Big changes of a: four to five fit in a batch.
    for i in 0..12 {
        local.push(change(a, 200 * 1024, i));
    }
    // Many small changes of b, interleaved with a's.
    for i in 0..2_500 {
        local.insert(i % local.len(), change(b, 20, 100 + i as u64));
    }
    let expected: BTreeMap<MemberId, Vec<SignedChange>> = [a, b]
        .into_iter()
        .map(|d| (d, local.iter().filter(|c| c.doc() == d).cloned().collect()))
        .collect();
    let mut h = Harness::new();
    let out = h.feed(Input::Local(local));
    let mut got: BTreeMap<MemberId, Vec<SignedChange>> = BTreeMap::new();
    for o in out {
        let Output::Publish(batch) = o else { panic!("{o:?}") };
        let bytes = batch.encode().expect("every batch encodes within the bounds");
        assert!(bytes.len() <= MAX_GOSSIP_BATCH_BYTES);
        assert!(batch.changes.len() <= MAX_CHANGES_PER_BATCH);
        assert!(batch.changes.iter().all(|c| c.doc() == batch.doc));
        got.entry(batch.doc).or_default().extend(batch.changes);
    }
    assert_eq!(got, expected, "every change once, in order, per document");
}

#[test]
fn a_full_batch_is_admitted_while_pulls_are_still_in_flight() {
    let mut h = Harness::new();
    h.connect(1);
    h.feed(Input::Differ {
        peer: 1,
        docs: vec![doc(1), doc(2), doc(3)],
    });
    // Count bound.
    let many = Response::Changes {
        changes: (0..ADMIT_BATCH_CHANGES as u64).map(|i| change(doc(1), 10, i)).collect(),
        more: true,
    };
    let out = h.answer(1, Ask::Changes(doc(1)), many);
    assert!(matches!(out.as_slice(), [Output::Admit { changes, pulled, .. }]
        if changes.len() == ADMIT_BATCH_CHANGES && pulled == &vec![(doc(1), true)]));
    // Byte bound.
    let big = Response::Changes {
        changes: vec![change(doc(2), ADMIT_BATCH_BYTES, 0)],
        more: false,
    };
    let out = h.answer(1, Ask::Changes(doc(2)), big);
    assert!(matches!(out.as_slice(), [Output::Admit { .. }]));
    // Below both bounds, the batch waits for the last pull.
    let out = h.answer(1, Ask::Changes(doc(3)), changes(&[(doc(3), 0)]));
    assert!(matches!(out.as_slice(), [Output::Admit { changes, .. }] if changes.len() == 1));
}

#[test]
fn admission_pulls_missing_documents_and_more_only_where_it_progressed() {
    let mut h = Harness::new();
    h.connect(1);
    let out = h.feed(Input::Admitted {
        peer: 1,
        admission: Admission {
            faults: 0,
            missing: vec![doc(9), doc(9), doc(8)],
            progressed: vec![doc(1), doc(3)],
            pulled: vec![(doc(1), true), (doc(2), true), (doc(3), false)],
        },
    });
    assert_eq!(pulls(&out), vec![(1, doc(9)), (1, doc(8)), (1, doc(1))]);
}

#[test]
fn a_gone_peers_pulls_are_dropped_and_the_next_pass_is_with_another() {
    let mut h = Harness::new();
    h.connect(1);
    h.connect(2);
    let docs: Vec<MemberId> = (0..12).map(doc).collect();
    h.feed(Input::Differ { peer: 1, docs });
    let first = h.pulling(1).into_iter().next().expect("a pull");
    // One answer is in; the connection drops with the rest in flight: what
    // came is admitted, the queue is dropped.
    h.answer(1, Ask::Changes(first), changes(&[(first, 0)]));
    let out = h.feed(Input::Disconnected(1));
    assert!(
        matches!(out.as_slice(), [Output::Admit { peer: 1, changes, .. }] if changes.len() == 1),
        "{out:?}"
    );
    assert_eq!(h.machine.queued(&1), 0);
    // Its requests are forgotten: libp2p fails them, and nothing is sent
    // to anyone.
    assert_eq!(h.machine.requests_in_flight(), 0);
    for d in h.pulling(1) {
        let out = h.fail(1, Ask::Changes(d));
        assert!(out.is_empty(), "{out:?}");
    }
    // Nothing is asked of it any more, even after an admission.
    let out = h.feed(Input::Admitted {
        peer: 1,
        admission: Admission {
            missing: vec![doc(1)],
            ..Admission::default()
        },
    });
    assert!(out.is_empty(), "{out:?}");
    // The next pass is with the peer that is left.
    assert_eq!(
        h.feed(Input::Tick),
        vec![Output::Send {
            peer: 2,
            ask: Ask::Summary
        }]
    );
}

/// One step of a random schedule.
#[derive(Debug, Clone)]
enum Step {
    Connect(u32),
    Disconnect(u32),
    /// Documents (out of 24) a peer holds differently.
    Differ(u32, Vec<u32>),
    /// Answer the `n`-th request in flight: changes (with `more`), a
    /// refusal, or a failure.
    Answer(usize, Reply),
    Advance(u64),
    Retry,
    Tick,
}

#[derive(Debug, Clone, Copy)]
enum Reply {
    Changes { count: usize, more: bool },
    Refused,
    Failed,
}

fn step() -> impl Strategy<Value = Step> {
    let peer = 1u32..4;
    prop_oneof![
        1 => peer.clone().prop_map(Step::Connect),
        1 => peer.clone().prop_map(Step::Disconnect),
        3 => (peer, prop::collection::vec(0u32..24, 1..12)).prop_map(|(p, d)| Step::Differ(p, d)),
        6 => (
            0usize..16,
            prop_oneof![
                4 => (0usize..40, any::<bool>()).prop_map(|(count, more)| Reply::Changes { count, more }),
                1 => Just(Reply::Refused),
                1 => Just(Reply::Failed),
            ]
        )
            .prop_map(|(n, r)| Step::Answer(n, r)),
        2 => (1u64..400).prop_map(Step::Advance),
        2 => Just(Step::Retry),
        1 => Just(Step::Tick),
    ]
}

fn seed() -> RngSeed {
    RngSeed::Fixed(
        std::env::var("MUTU_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(SEED),
    )
}

/// What the schedule expects of the machine.
#[derive(Default)]
struct Model {
    connected: BTreeSet<u32>,
    /// Per peer, documents asked for and not yet pulled.
    wanted: BTreeMap<u32, BTreeSet<MemberId>>,
    /// Per peer, when its last refusal was.
    refused_at: BTreeMap<u32, Instant>,
    /// Tags of the changes answered, and of those handed to admission.
    answered: Vec<u64>,
    admitted: Vec<u64>,
}

/// Checks what one step made the machine do against the model.
fn check(h: &Harness, m: &mut Model, out: &[Output<T>]) {
    for o in out {
        match o {
            Output::Send { peer, ask } => {
                assert!(m.connected.contains(peer), "{ask:?} to {peer}, not connected");
                if let Ask::Changes(d) = ask {
                    if let Some(t) = m.refused_at.get(peer) {
                        assert!(h.now >= *t + PULL_RETRY, "a pull to {peer} during its pause");
                    }
                    m.wanted.entry(*peer).or_default().remove(d);
                }
            }
            Output::Admit { peer, changes, .. } => {
                let full = changes.len() >= ADMIT_BATCH_CHANGES
                    || changes.iter().map(SignedChange::size).sum::<usize>() >= ADMIT_BATCH_BYTES;
                assert!(
                    full || !m.connected.contains(peer) || h.pulling(*peer).is_empty(),
                    "a batch of {} admitted with pulls to {peer} in flight",
                    changes.len()
                );
                m.admitted.extend(
                    changes
                        .iter()
                        .map(|c| u64::from_be_bytes(c.change_bytes()[..8].try_into().unwrap())),
                );
            }
            _ => {}
        }
    }
    for peer in &m.connected {
        let pulling = h.pulling(*peer);
        assert!(pulling.len() <= MAX_PULLS_PER_PEER, "{} pulls to {peer}", pulling.len());
    }
    // No document is pulled twice at once from one peer.
    let mut seen = BTreeSet::new();
    for (peer, ask) in h.inflight.values() {
        if let Ask::Changes(d) = ask {
            assert!(seen.insert((*peer, *d)), "{d:?} pulled twice from {peer}");
        }
    }
}

fn run(steps: Vec<Step>) {
    let mut h = Harness::new();
    let mut m = Model::default();
    let mut tag = 0u64;
    for s in steps {
        let out = match s {
            Step::Connect(p) => {
                if m.connected.contains(&p) {
                    continue;
                }
                m.connected.insert(p);
                h.feed(Input::Connected(p))
            }
            Step::Disconnect(p) => {
                if !m.connected.remove(&p) {
                    continue;
                }
                m.wanted.remove(&p);
                m.refused_at.remove(&p);
                let out = h.feed(Input::Disconnected(p));
                check(&h, &mut m, &out);
                // libp2p fails what was in flight to it: nothing follows.
                let gone: Vec<u64> = h
                    .inflight
                    .iter()
                    .filter(|(_, (q, _))| *q == p)
                    .map(|(id, _)| *id)
                    .collect();
                for id in gone {
                    h.inflight.remove(&id);
                    assert!(h.feed(Input::Failed(id)).is_empty());
                }
                continue;
            }
            Step::Differ(p, docs) => {
                if !m.connected.contains(&p) {
                    continue;
                }
                let docs: Vec<MemberId> = docs.into_iter().map(doc).collect();
                let pulling = h.pulling(p);
                m.wanted
                    .entry(p)
                    .or_default()
                    .extend(docs.iter().filter(|d| !pulling.contains(d)));
                h.feed(Input::Differ { peer: p, docs })
            }
            Step::Answer(n, reply) => {
                let Some((&id, &(peer, ask))) = h.inflight.iter().nth(n % h.inflight.len().max(1)) else {
                    continue;
                };
                h.inflight.remove(&id);
                let response = match (ask, reply) {
                    (_, Reply::Failed) => {
                        let out = h.feed(Input::Failed(id));
                        check(&h, &mut m, &out);
                        continue;
                    }
                    (Ask::Summary, _) => Response::OutOfSync,
                    (Ask::Inventory, _) => Response::Inventory(Vec::new()),
                    (Ask::Reconcile(_), _) => Response::Reconcile(DocsMessage { ranges: Vec::new() }),
                    (Ask::Changes(_), Reply::Refused) => {
                        if m.connected.contains(&peer) {
                            m.refused_at.insert(peer, h.now);
                        }
                        rate_limited()
                    }
                    (Ask::Changes(d), Reply::Changes { count, more }) => {
                        let changes = (0..count)
                            .map(|_| {
                                tag += 1;
                                m.answered.push(tag);
                                change(d, 64, tag)
                            })
                            .collect();
                        Response::Changes { changes, more }
                    }
                };
                h.feed(Input::Response { id, via: 0, response })
            }
            Step::Advance(ms) => {
                h.now += Duration::from_millis(ms);
                continue;
            }
            Step::Retry => h.feed(Input::Retry),
            Step::Tick => h.feed(Input::Tick),
        };
        check(&h, &mut m, &out);
    }
    // Drain: answer every request with an empty page, let every pause end.
    for _ in 0..1_000 {
        if let Some((&id, _)) = h.inflight.iter().next() {
            h.inflight.remove(&id);
            let out = h.feed(Input::Response {
                id,
                via: 0,
                response: Response::Changes {
                    changes: Vec::new(),
                    more: false,
                },
            });
            check(&h, &mut m, &out);
        } else {
            h.now += PULL_RETRY;
            let out = h.feed(Input::Retry);
            check(&h, &mut m, &out);
            if h.inflight.is_empty() {
                break;
            }
        }
    }
    assert!(h.inflight.is_empty(), "requests still in flight after the drain");
    for (peer, docs) in &m.wanted {
        assert!(docs.is_empty(), "{peer} was never asked for {docs:?}");
    }
    m.answered.sort_unstable();
    m.admitted.sort_unstable();
    assert_eq!(m.answered, m.admitted, "every pulled change is admitted exactly once");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, rng_seed: seed(), ..ProptestConfig::default() })]

    /// Whatever the schedule of connections, answers, refusals, failures
    /// and timers: at most `MAX_PULLS_PER_PEER` pulls in flight per peer,
    /// never one document twice at once, nothing asked of a peer that is
    /// gone or during its pause, a batch admitted early only when full,
    /// every document asked for pulled in the end, and every pulled change
    /// admitted exactly once.
    #[test]
    fn pull_scheduling_keeps_its_bounds_and_loses_nothing(steps in prop::collection::vec(step(), 1..120)) {
        run(steps);
    }
}

fn reconcile_message(ranges: usize) -> DocsMessage {
    use crate::net::sync::reconcile::{Fingerprint, Mode, Range};
    let mut message = DocsMessage {
        ranges: (0..ranges.saturating_sub(1))
            .map(|i| Range {
                upper: Some(doc(i as u32 + 1)),
                mode: Mode::Fingerprint(Fingerprint([1; 16])),
            })
            .collect(),
    };
    message.ranges.push(Range {
        upper: None,
        mode: Mode::Skip,
    });
    message
}

/// A `/mutu/sync/2` peer answers an out-of-sync summary with `Differ`: the
/// pass goes on with a reconciliation session, round after round, until an
/// empty answer, the round limit, or the peer leaves.
#[test]
fn a_v2_peer_is_reconciled_in_rounds_until_done_or_the_limit() {
    let mut h = Harness::new();
    h.feed(Input::Connected(1));
    let out = h.answer(1, Ask::Summary, Response::Differ);
    assert_eq!(
        out,
        vec![
            Output::Synced {
                peer: 1,
                via: 7,
                in_sync: false
            },
            Output::Send {
                peer: 1,
                ask: Ask::Reconcile(0)
            }
        ]
    );
    let theirs = reconcile_message(3);
    let out = h.answer(1, Ask::Reconcile(0), Response::Reconcile(theirs.clone()));
    assert_eq!(
        out,
        vec![Output::Reconcile {
            peer: 1,
            theirs: theirs.clone(),
            round: 0
        }]
    );
    // The actor's reply to it goes out as round 1.
    let out = h.feed(Input::Continue {
        peer: 1,
        message: theirs.clone(),
        round: 1,
    });
    assert_eq!(
        out,
        vec![Output::Continue {
            peer: 1,
            message: theirs.clone(),
            round: 1
        }]
    );
    // An empty answer ends the session.
    assert!(
        h.answer(
            1,
            Ask::Reconcile(1),
            Response::Reconcile(DocsMessage { ranges: Vec::new() })
        )
        .is_empty()
    );
    // Past the round limit, nothing more is sent.
    let over = Input::Continue {
        peer: 1,
        message: theirs.clone(),
        round: reconcile::MAX_ROUNDS,
    };
    assert!(h.feed(over).is_empty());
    // Nor to a peer that left.
    h.feed(Input::Disconnected(1));
    let gone = Input::Continue {
        peer: 1,
        message: theirs,
        round: 2,
    };
    assert!(h.feed(gone).is_empty());
}

/// A reconciliation answer over the bounds (too many ranges) is a strike;
/// three block the peer.
#[test]
fn a_reconcile_answer_over_the_bounds_is_a_strike() {
    let mut h = Harness::new();
    h.feed(Input::Connected(1));
    let mut blocked = Vec::new();
    for _ in 0..STRIKES_BEFORE_BLOCK {
        h.answer(1, Ask::Summary, Response::Differ);
        let out = h.answer(
            1,
            Ask::Reconcile(0),
            Response::Reconcile(reconcile_message(reconcile::MAX_RANGES + 1)),
        );
        assert!(!out.iter().any(|o| matches!(o, Output::Reconcile { .. })));
        blocked.extend(blocks(&out));
        h.feed(Input::Resync);
    }
    assert_eq!(blocked, vec![1]);
}
