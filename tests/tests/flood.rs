#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A peer floods a node with cheap `ChangesSince` requests (issue 7, row 6):
//! the node answers in bounded pages, at most at the rate its budget
//! allows, refuses the rest cheaply without striking the peer, and keeps
//! serving honest peers.
//!
//! What the flood can make the node hold at most (`net::Config` and
//! `actor` give the bounds; the benchmark measures RSS): per connection,
//! the flooder's requests being read, 24 streams × 256 KiB (twice that in
//! buffer capacity: 12 MiB), 8 MiB of yamux windows on streams in
//! negotiation and a 1 MiB gossip frame (2 MiB); over its connections, its
//! unread answers, capped at `actor::MAX_RESPONSE_BYTES_IN_FLIGHT_PER_PEER`
//! (8 MiB) + one answer (1.06 MiB), twice over while encoded (18 MiB):
//! about 62 MiB for the two connections a peer may hold. Nothing grows
//! with the size of the document or the number of requests.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::request_response::{self, Message, OutboundRequestId};
use libp2p::swarm::SwarmEvent;
use libp2p::{PeerId, Swarm};
use mutu_node::actor;
use mutu_node::net::sync::{self, Request, Response};
use mutu_node::net::{self, Behaviour, BehaviourEvent, rate};
use mutu_node::state;
use mutu_protocol::bundle::Bundle;
use mutu_protocol::identity::ReplicaNonce;
use mutu_protocol::record::{Body, Need, NeedStatus};
use mutu_protocol::{MemberId, Timestamp, codec};
use mutu_tests::net::{
    SYNC_INTERVAL, TIMEOUT, TestNode, VIEWS_NOW, connect, member_changes, member_key, memory_addr, need, seeded_bytes,
    wait_converged, wait_for,
};
use tokio::sync::{mpsc, oneshot};

/// Records of the large document, one per change, each with an 8 000
/// character description: about 3.3 MB of changes, 4 pages.
const RECORDS: usize = 400;
/// Requests the flooder sends in all.
const FLOOD: usize = 300;
/// Requests it keeps in flight: as many streams as a connection allows.
const STREAMS: usize = net::DEFAULT_SYNC_STREAMS;
/// The flooded node's budget per peer, far below the defaults so that the
/// test reaches it quickly: 2 pages in a burst, then one a second.
const LIMITS: rate::Limits = rate::Limits {
    requests_burst: 16,
    requests_per_s: 8,
    bytes_burst: 2 * 1024 * 1024,
    bytes_per_s: 1024 * 1024,
};

/// What the flooder saw.
#[derive(Debug, Default)]
struct Seen {
    /// Requests sent, and outcomes by kind.
    sent: usize,
    /// Encoded size, bytes of changes and number of changes of every
    /// `Changes` answer.
    pages: Vec<(usize, usize, usize)>,
    refusals: Vec<String>,
    failures: usize,
    in_flight: HashSet<OutboundRequestId>,
    /// When the first request went out and the last answer came back.
    first_sent: Option<Instant>,
    last_outcome: Option<Instant>,
}

impl Seen {
    fn outcomes(&self) -> usize {
        self.pages.len() + self.refusals.len() + self.failures
    }
}

type Cmd = Box<dyn FnOnce(&mut Swarm<Behaviour>, &mut Flood) + Send>;

/// The flooder's state: its target and what it saw.
#[derive(Debug, Default)]
struct Flood {
    target: Option<(PeerId, MemberId)>,
    seen: Seen,
}

impl Flood {
    /// Sends `ChangesSince` requests with heads nobody has while fewer than
    /// [`STREAMS`] are in flight and fewer than [`FLOOD`] were sent.
    fn top_up(&mut self, swarm: &mut Swarm<Behaviour>) {
        let Some((peer, doc)) = self.target else { return };
        while self.seen.in_flight.len() < STREAMS && self.seen.sent < FLOOD {
            let heads = vec![seeded_bytes::<32>("unknown head", self.seen.sent as u64)];
            let id = swarm
                .behaviour_mut()
                .sync
                .send_request(&peer, Request::ChangesSince { doc, heads });
            self.seen.in_flight.insert(id);
            self.seen.sent += 1;
            self.seen.first_sent.get_or_insert_with(Instant::now);
        }
    }

    fn on_event(&mut self, swarm: &mut Swarm<Behaviour>, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message { message, .. })) => {
                match message {
                    Message::Response { request_id, response } => {
                        if !self.seen.in_flight.remove(&request_id) {
                            return;
                        }
                        let size = codec::to_cbor(&response).len();
                        match response {
                            Response::Changes { changes, .. } => {
                                self.seen
                                    .pages
                                    .push((size, changes.iter().map(|c| c.size()).sum(), changes.len()))
                            }
                            Response::Error(text) => self.seen.refusals.push(text),
                            other => panic!("unexpected answer {other:?}"),
                        }
                        self.seen.last_outcome = Some(Instant::now());
                        self.top_up(swarm);
                    }
                    // The node's own sync passes: nothing to offer.
                    Message::Request { channel, .. } => {
                        let _ = swarm
                            .behaviour_mut()
                            .sync
                            .send_response(channel, Response::error("not served"));
                    }
                }
            }
            // A stream the node dropped (every slot busy), or a timeout.
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::OutboundFailure {
                request_id,
                ..
            })) if self.seen.in_flight.remove(&request_id) => {
                self.seen.failures += 1;
                self.seen.last_outcome = Some(Instant::now());
                self.top_up(swarm);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                ..
            })) => {
                swarm.behaviour_mut().gossipsub.report_message_validation_result(
                    &message_id,
                    &propagation_source,
                    MessageAcceptance::Ignore,
                );
            }
            _ => {}
        }
    }
}

/// A raw swarm (the node's own behaviour and codec, its own key) driven by
/// a task of this test.
struct Flooder {
    peer_id: PeerId,
    commands: mpsc::Sender<Cmd>,
}

impl Flooder {
    fn spawn(n: u64) -> Self {
        let keypair = libp2p::identity::Keypair::ed25519_from_bytes(seeded_bytes::<32>("flooder", n)).unwrap();
        let peer_id = keypair.public().to_peer_id();
        let mut swarm = net::build_memory_swarm(keypair, &net::Config::for_tests()).unwrap();
        swarm.listen_on(memory_addr(n)).unwrap();
        let (tx, mut rx) = mpsc::channel::<Cmd>(16);
        tokio::spawn(async move {
            let mut flood = Flood::default();
            loop {
                tokio::select! {
                    command = rx.recv() => match command {
                        Some(f) => f(&mut swarm, &mut flood),
                        None => break,
                    },
                    event = swarm.select_next_some() => flood.on_event(&mut swarm, event),
                }
            }
        });
        Self { peer_id, commands: tx }
    }

    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Swarm<Behaviour>, &mut Flood) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Box::new(move |s, m| {
                let _ = tx.send(f(s, m));
            }))
            .await
            .unwrap();
        rx.await.unwrap()
    }
}

fn long_need(i: usize) -> Body {
    Body::Need(Need {
        title: format!("large need {i}"),
        description: format!("{i:08} ").repeat(888),
        tags: vec!["flood".into()],
        project: None,
        goal: None,
        days_goal: None,
        deadline: None,
        status: NeedStatus::Open,
        merged_into: None,
        decision: Default::default(),
    })
}

/// Topology:
///
/// ```text
///        m  (raw swarm: ChangesSince of X with unknown heads, 24 streams at
///        │   a time, 300 requests)
///        ▼
///        a  (holds member X's document: 400 changes, 3.3 MB; budget per
///       ╱ ╲  peer lowered to LIMITS)
///      b   c (honest, dialled a: pull X's document through the same
///             budget while m floods; b writes during the flood)
/// ```
///
/// 1. Every answer m gets is one page: at most `sync::MAX_RESPONSE_BYTES`
///    encoded, at most `sync::PAGE_BYTES` of changes past the first.
/// 2. a served m at most its budget: requests ≤ burst + rate × time, bytes
///    of changes ≤ burst + rate × time + one page; the rest got
///    "rate limited" errors (or found every stream busy), and a counts
///    them in `Status::sync_requests_refused`.
/// 3. m is neither struck nor blocked: being busy is not forgery.
/// 4. b and c still pull all of X's document (in pages, pausing when a
///    refuses), b's write reaches c through a, and the three converge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_changes_since_is_served_in_pages_at_the_budgets_rate() {
    let started = Instant::now();
    let written_at = Timestamp::from_millis(1_767_225_600_000);
    let x = member_key("large member", 0);
    let batches = (0..RECORDS).map(|i| vec![long_need(i)]).collect();
    let (changes, ids) = member_changes(
        &x,
        ReplicaNonce(seeded_bytes("large replica", 0)),
        batches,
        written_at,
        "large records",
    );
    let doc_bytes: usize = changes.iter().map(|c| c.size()).sum();
    assert!(doc_bytes > 3 * sync::PAGE_BYTES, "{doc_bytes} bytes");

    let a = TestNode::spawn_with(
        0,
        "a",
        actor::Config {
            sync_interval: SYNC_INTERVAL,
            sync_limits: LIMITS,
            ..actor::Config::default()
        },
    )
    .await;
    let bundle = Bundle::from_changes(changes);
    let report = a
        .handle()
        .test(move |s, _| s.import(&bundle, state::now()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.admitted.len(), RECORDS);

    let b = TestNode::spawn(1, "b").await;
    let c = TestNode::spawn(2, "c").await;
    let m = Flooder::spawn(9);
    connect(&b, &a).await;
    connect(&c, &a).await;

    let (a_id, m_id, doc) = (a.peer_id, m.peer_id, x.member_id());
    let a_addr = a.addr.clone();
    m.run(move |s, _| s.dial(a_addr).unwrap()).await;
    wait_for(TIMEOUT, "m to connect to a", || async { a.is_connected(m_id).await }).await;
    m.run(move |s, f| {
        f.target = Some((a_id, doc));
        f.top_up(s);
    })
    .await;
    let during = b.create(need("written by b during the flood")).await;

    wait_for(Duration::from_secs(60), "every request of the flood to end", || async {
        m.run(|_, f| f.seen.outcomes()).await == FLOOD
    })
    .await;
    let (pages, refusals, failures, elapsed) = m
        .run(|_, f| {
            let elapsed = f.seen.last_outcome.unwrap() - f.seen.first_sent.unwrap();
            (
                std::mem::take(&mut f.seen.pages),
                std::mem::take(&mut f.seen.refusals),
                f.seen.failures,
                elapsed,
            )
        })
        .await;
    eprintln!(
        "flood: {} pages, {} refused, {} failed in {elapsed:?}",
        pages.len(),
        refusals.len(),
        failures
    );

    // 1. Pages.
    assert!(!pages.is_empty(), "a served nothing at all");
    let biggest_change = mutu_protocol::change::MAX_CHANGE_BYTES + 96;
    for (size, bytes, count) in &pages {
        assert!(*size <= sync::MAX_RESPONSE_BYTES, "an answer of {size} bytes");
        assert!(
            *bytes <= sync::PAGE_BYTES + biggest_change,
            "a page of {bytes} bytes of changes"
        );
        assert!(*count > 0 && *count < RECORDS, "a page of {count} changes");
    }
    // 2. At most the budget's rate; the rest refused, cheaply.
    let secs = elapsed.as_secs_f64();
    let max_requests = LIMITS.requests_burst as f64 + LIMITS.requests_per_s as f64 * secs + 1.0;
    assert!(
        pages.len() as f64 <= max_requests,
        "{} pages in {secs:.2} s",
        pages.len()
    );
    let served_bytes: usize = pages.iter().map(|(_, b, _)| b).sum();
    let max_bytes = LIMITS.bytes_burst as f64 + LIMITS.bytes_per_s as f64 * secs + sync::MAX_RESPONSE_BYTES as f64;
    assert!(
        served_bytes as f64 <= max_bytes,
        "{served_bytes} bytes of changes in {secs:.2} s"
    );
    assert!(!refusals.is_empty(), "nothing was refused");
    for text in &refusals {
        assert!(text.starts_with("rate limited"), "{text}");
    }
    let status = a.status().await;
    assert!(status.sync_requests_refused >= refusals.len() as u64, "{status:?}");
    // 3. Busy is not forgery.
    assert_eq!(status.rejected, 0);
    assert!(a.is_connected(m_id).await, "a dropped m");

    // 4. Honest peers are still served.
    for node in [&b, &c] {
        wait_for(
            Duration::from_secs(60),
            &format!("X's whole document and b's write on {}", node.name),
            || async { node.has_all(&ids).await && node.has(during).await },
        )
        .await;
    }
    wait_converged(&[&a, &b, &c], VIEWS_NOW, TIMEOUT).await;
    for node in [&b, &c] {
        let s = node.status().await;
        assert_eq!((s.pending, s.rejected), (0, 0), "{}", node.name);
    }
    eprintln!("flood test done in {:?}", started.elapsed());
}
