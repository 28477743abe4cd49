//! Sync scheduling as a pure state machine: which requests to send to
//! which peer and when, how pulled changes are batched for admission, when
//! a peer is struck and blocked, which inbound requests are served. The
//! actor feeds it events ([`Input`]) with the time, and carries out what it
//! answers ([`Output`]): the machine holds no swarm, reads no clock, draws
//! no randomness (the peer choice is a xorshift seeded by [`Config::seed`])
//! and does no I/O. What needs the store or the registry (inventories,
//! heads, admission, pages of changes) stays in the actor, which feeds the
//! results back as further inputs (`Output::Compare` → `Input::Differ`,
//! `Output::Admit` → `Input::Admitted`, `Output::Serve` → `Input::Served`).
//!
//! # The algorithm
//!
//! **Passes.** On a peer's first connection ([`Input::Connected`]), on every
//! anti-entropy [`Input::Tick`] with one connected peer (xorshift over the
//! connected peers in order: deterministic for a seed), and with every
//! connected peer on [`Input::Resync`], the machine asks for a
//! [`Ask::Summary`]. `InSync` ends the pass; `OutOfSync` is followed by an
//! [`Ask::Inventory`] (the actor sends it as one request per page), and
//! each inventory answer is compared with ours by the actor
//! ([`Output::Compare`]), which feeds back the documents that differ
//! ([`Input::Differ`]).
//!
//! **Reconciliation (`/mutu/sync/2`).** A peer that speaks `/mutu/sync/2`
//! answers an out-of-sync summary with `Response::Differ` instead (the
//! codec writes it as `OutOfSync` to a `/mutu/sync/1` peer, which then
//! exchanges inventories as before). The machine then opens a range
//! reconciliation session ([`super::reconcile`]): [`Ask::Reconcile`]`(0)`
//! sends our first message; each answer goes to the actor
//! ([`Output::Reconcile`]), which feeds back the documents found
//! ([`Input::Differ`]) and our next message ([`Input::Continue`]), sent
//! while the session is under [`reconcile::MAX_ROUNDS`] rounds and the peer
//! connected ([`Output::Continue`]). An empty answer ends the session.
//!
//! **Pulls.** Each differing document is pulled with [`Ask::Changes`]
//! (`ChangesSince` our heads). At most [`MAX_PULLS_PER_PEER`] pulls are in
//! flight to a peer (libp2p fails streams beyond its per-connection cap);
//! further documents wait in a per-peer queue (at most
//! [`MAX_INVENTORY_DOCS`], each once) and go out as slots free up. A pull
//! answered with an error (the peer was over its budget, or busy) is queued
//! again and every pull to that peer pauses for [`PULL_RETRY`]; the
//! [`Input::Retry`] timer resumes paused peers. A pull that fails (timeout,
//! closed connection) is dropped: the next pass finds the document again.
//! When the last connection to a peer closes ([`Input::Disconnected`]) its
//! requests and queue are dropped and what was pulled from it is admitted;
//! the documents
//! are not handed to another peer, whose inventory may not differ (the
//! next pass with another peer finds what it holds). Nothing is asked of a
//! peer that is not connected (libp2p would dial it).
//!
//! **Admission batches.** Pulled changes from one peer accumulate and are
//! admitted in one batch ([`Output::Admit`], one durable commit) once it
//! holds [`ADMIT_BATCH_CHANGES`] changes or [`ADMIT_BATCH_BYTES`], or when
//! no pull to the peer is left in flight. The admission's outcome
//! ([`Input::Admitted`]) strikes the peer once per forged change, pulls the
//! documents with missing dependencies from it, and pulls again the
//! documents whose answer said `more` and that progressed.
//!
//! **Strikes.** A peer is struck for its own faults only: a malformed
//! request or gossip message ([`Input::Fault`]), an answer that fails its
//! check, an answer of the wrong kind, a change of another document in a
//! pull's answer, a forged change found by admission. [`STRIKES_BEFORE_BLOCK`]
//! strikes block it for [`BLOCK_DURATION`] ([`Output::Block`]; the tick
//! that finds the block over emits [`Output::Unblock`] and forgets its
//! strikes). Strikes of at most [`MAX_TRACKED_PEERS`] peers are kept;
//! beyond, those of disconnected peers are forgotten.
//!
//! **Serving.** An inbound request ([`Input::Request`], already checked
//! well-formed) is refused ([`Output::Refuse`], never a strike) while its
//! peer has [`MAX_RESPONSE_BYTES_IN_FLIGHT_PER_PEER`] of unread answers or
//! all peers [`MAX_RESPONSE_BYTES_IN_FLIGHT`], or is over its
//! [`rate::Limits`] budget; otherwise it is served ([`Output::Serve`]) and
//! the actor reports what the answer cost ([`Input::Served`]) and when it
//! was written out ([`Input::Answered`]). The tick forgets refilled
//! budgets and answers older than [`ANSWER_EXPIRY`].
//!
//! **Gossip.** Local changes ([`Input::Local`]) are published one batch per
//! document, split at the gossip bounds ([`GossipBatch::split`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::{self, Debug};
use std::hash::Hash;
use std::time::{Duration, Instant};

use mutu_protocol::{MemberId, SignedChange};

use super::{DocsMessage, GossipBatch, HeadsDigest, MAX_INVENTORY_DOCS, PAGE_BYTES, Response, reconcile};
use crate::net::rate;

/// Forged batches a peer may send before it is blocked.
pub const STRIKES_BEFORE_BLOCK: u32 = 3;
/// Peers whose strikes are remembered at most (beyond, only connected ones).
pub const MAX_TRACKED_PEERS: usize = 10_000;
/// How long a misbehaving peer stays blocked.
pub const BLOCK_DURATION: Duration = Duration::from_secs(600);
/// `ChangesSince` pulls in flight to one peer; further documents wait in a
/// queue (at most [`MAX_INVENTORY_DOCS`]) until a pull completes.
/// request-response runs at most `sync_max_concurrent_streams` (32)
/// streams per connection, inbound and outbound together, and fails the
/// requests beyond that: a peer with many differing documents must not be
/// asked for all of them at once.
pub const MAX_PULLS_PER_PEER: usize = 8;
/// Pulled changes are admitted in batches, one durable commit per batch
/// rather than per response (a commit costs ~2 ms: per-document commits
/// halved catch-up throughput). A batch is admitted once it holds this
/// many changes or [`ADMIT_BATCH_BYTES`], or when no pull to the peer is
/// left in flight.
pub const ADMIT_BATCH_CHANGES: usize = 1_024;
/// See [`ADMIT_BATCH_CHANGES`]; about 5 000 records, ~100 ms of admission.
pub const ADMIT_BATCH_BYTES: usize = 2 * 1024 * 1024;
/// Bytes of answers a peer may leave unread before its next request is
/// refused: the [`MAX_PULLS_PER_PEER`] pages an honest requester keeps in
/// flight. With the answer that crosses it, one peer makes the node hold
/// at most 8 MiB + one answer ([`super::MAX_RESPONSE_BYTES`]) = 9.06 MiB,
/// twice over while libp2p encodes it.
pub const MAX_RESPONSE_BYTES_IN_FLIGHT_PER_PEER: u64 = (MAX_PULLS_PER_PEER * PAGE_BYTES) as u64;
/// Bytes of unread answers over all peers: 32 MiB (64 MiB with their
/// encodings), whatever the number of peers.
pub const MAX_RESPONSE_BYTES_IN_FLIGHT: u64 = 32 * 1024 * 1024;
/// How long a requester waits before pulling again from a peer that
/// refused a pull (rate limited, busy).
pub const PULL_RETRY: Duration = Duration::from_millis(500);
/// libp2p reports the end of every answer within the request timeout (20 s
/// by default); an answer still counted after this long is forgotten (a
/// guard against an end never reported).
pub const ANSWER_EXPIRY: Duration = Duration::from_secs(60);

/// The identifiers the machine is generic over: libp2p's in the node,
/// small integers in tests.
pub trait Ids {
    /// A peer. Ordered, so that every choice among peers is deterministic.
    type Peer: Copy + Ord + Hash + Debug;
    /// A request this node sent.
    type Outbound: Copy + Eq + Hash + Debug;
    /// A request a peer sent; its answer is counted until written out.
    type Inbound: Copy + Eq + Hash + Debug;
    /// A connection: only carried from a response to [`Output::Synced`].
    type Connection: Copy + Debug;
}

/// Settings of a [`Machine`].
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Budget of each peer's inbound requests.
    pub limits: rate::Limits,
    /// Seed of the anti-entropy peer choice.
    pub seed: u64,
}

/// What the machine asks a peer; the actor turns it into wire requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// `Request::Summary` of our inventory.
    Summary,
    /// `Request::Inventory`, one request per page of our inventory.
    Inventory,
    /// `Request::ChangesSince` our heads of this document.
    Changes(MemberId),
    /// `Request::Reconcile` (`/mutu/sync/2`), round `n` of a session: the
    /// first message of our inventory at 0, else the message the actor
    /// was handed by [`Output::Continue`].
    Reconcile(u32),
}

/// What admission made of a batch of changes from a peer (gossiped or
/// pulled), as the machine needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admission {
    /// Changes that prove the peer relayed forgeries (one strike each).
    pub faults: usize,
    /// Documents with changes waiting for missing dependencies.
    pub missing: Vec<MemberId>,
    /// Documents that admitted at least one change.
    pub progressed: Vec<MemberId>,
    /// The documents of a pulled batch and their `more` flag, as
    /// [`Output::Admit`] gave them (empty for gossip).
    pub pulled: Vec<(MemberId, bool)>,
}

/// An event the actor feeds the machine.
#[derive(Debug)]
pub enum Input<N: Ids> {
    /// A first connection to a peer is up.
    Connected(N::Peer),
    /// The last connection to a peer closed.
    Disconnected(N::Peer),
    /// The actor sent `ask` to `peer` as request `id` (once per wire
    /// request: an inventory takes one per page).
    Sent { peer: N::Peer, id: N::Outbound, ask: Ask },
    /// The answer to request `id`, received over `via`.
    Response {
        id: N::Outbound,
        via: N::Connection,
        response: Response,
    },
    /// Request `id` got no answer (timeout, closed connection, refused
    /// stream).
    Failed(N::Outbound),
    /// Documents `peer` holds differently from us (an inventory compared,
    /// blocked members left out): pull them.
    Differ { peer: N::Peer, docs: Vec<MemberId> },
    /// What admission made of changes from `peer`.
    Admitted { peer: N::Peer, admission: Admission },
    /// `peer` sent bytes no honest node sends (an undecodable gossip
    /// message, a malformed request): one strike.
    Fault(N::Peer),
    /// `peer` sent request `id` (well-formed): serve it or refuse it.
    Request { peer: N::Peer, id: N::Inbound },
    /// The answer to `id` was handed to the network: `size` bytes, having
    /// cost `work` budget bytes.
    Served {
        peer: N::Peer,
        id: N::Inbound,
        work: u64,
        size: u64,
    },
    /// The answer to `id` was written out, or failed.
    Answered(N::Inbound),
    /// Changes this node made, to publish.
    Local(Vec<SignedChange>),
    /// The anti-entropy timer.
    Tick,
    /// The retry timer (every [`PULL_RETRY`]): resume paused pulls.
    Retry,
    /// Start a pass with every connected peer (a member was unblocked).
    Resync,
    /// The next message of a reconciliation session with `peer`, computed
    /// from [`Output::Reconcile`] round `round - 1`.
    Continue {
        peer: N::Peer,
        message: DocsMessage,
        round: u32,
    },
}

/// Why an inbound request is refused (never a strike).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refusal {
    /// Too many answers not yet read.
    Busy(rate::Busy),
    /// The peer is over its budget.
    Limited(rate::Refusal),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Busy(b) => write!(f, "{b}"),
            Refusal::Limited(r) => write!(f, "{r}"),
        }
    }
}

/// An effect the actor carries out.
#[derive(Debug, PartialEq)]
pub enum Output<N: Ids> {
    /// Send `ask` to `peer`, then feed [`Input::Sent`] per wire request.
    Send { peer: N::Peer, ask: Ask },
    /// Answer `theirs`, round `round` of a reconciliation session with
    /// `peer`, from our inventory as initiator; feed [`Input::Differ`] with
    /// the documents found and [`Input::Continue`] with the reply (round
    /// `round + 1`), if any. A message that fails its check is a fault.
    Reconcile {
        peer: N::Peer,
        theirs: DocsMessage,
        round: u32,
    },
    /// Send the next message of a reconciliation session; feed
    /// [`Input::Sent`] with `Ask::Reconcile(round)`.
    Continue {
        peer: N::Peer,
        message: DocsMessage,
        round: u32,
    },
    /// Compare `theirs` with our inventory; feed [`Input::Differ`].
    Compare {
        peer: N::Peer,
        theirs: Vec<(MemberId, HeadsDigest)>,
    },
    /// Admit changes pulled from `peer` in one batch; feed
    /// [`Input::Admitted`] with `pulled`.
    Admit {
        peer: N::Peer,
        changes: Vec<SignedChange>,
        pulled: Vec<(MemberId, bool)>,
    },
    /// `peer`, with no strike, answered a summary well over `via`: the
    /// address this node dialled there works. `in_sync`: the two nodes
    /// held the same documents (nothing to pull).
    Synced {
        peer: N::Peer,
        via: N::Connection,
        in_sync: bool,
    },
    /// Serve inbound request `id`; feed [`Input::Served`].
    Serve(N::Inbound),
    /// Refuse inbound request `id` with a short error.
    Refuse { id: N::Inbound, reason: Refusal },
    /// Publish a gossip batch of local changes.
    Publish(GossipBatch),
    /// Disconnect and block a peer (it may already be blocked: the block
    /// is extended).
    Block(N::Peer),
    /// A peer's block is over.
    Unblock(N::Peer),
}

/// `ChangesSince` pulls to one peer: documents in flight, and documents
/// waiting for a slot or for the end of a pause.
#[derive(Debug, Default)]
struct Pulls {
    inflight: HashSet<MemberId>,
    queued: BTreeSet<MemberId>,
    paused_until: Option<Instant>,
}

impl Pulls {
    fn paused(&self, now: Instant) -> bool {
        self.paused_until.is_some_and(|t| now < t)
    }

    fn queue(&mut self, doc: MemberId) {
        if self.queued.len() < MAX_INVENTORY_DOCS {
            self.queued.insert(doc);
        }
    }
}

/// Pulled changes from one peer waiting to be admitted together, and the
/// documents they answer (with their `more` flag).
#[derive(Debug, Default)]
struct Pulled {
    changes: Vec<SignedChange>,
    bytes: usize,
    docs: Vec<(MemberId, bool)>,
}

/// The sync state machine. See the module documentation.
#[derive(Debug)]
pub struct Machine<N: Ids> {
    connected: BTreeSet<N::Peer>,
    requests: HashMap<N::Outbound, (N::Peer, Ask)>,
    pulls: BTreeMap<N::Peer, Pulls>,
    pulled: BTreeMap<N::Peer, Pulled>,
    strikes: HashMap<N::Peer, u32>,
    blocked_until: BTreeMap<N::Peer, Instant>,
    limiter: rate::Limiter<N::Peer>,
    answers: rate::InFlight<N::Peer, N::Inbound>,
    rng: u64,
    out: Vec<Output<N>>,
}

impl<N: Ids> Machine<N> {
    pub fn new(config: Config) -> Self {
        Self {
            connected: BTreeSet::new(),
            requests: HashMap::new(),
            pulls: BTreeMap::new(),
            pulled: BTreeMap::new(),
            strikes: HashMap::new(),
            blocked_until: BTreeMap::new(),
            limiter: rate::Limiter::new(config.limits),
            answers: rate::InFlight::new(MAX_RESPONSE_BYTES_IN_FLIGHT_PER_PEER, MAX_RESPONSE_BYTES_IN_FLIGHT),
            // xorshift never leaves 0.
            rng: config.seed | 1,
            out: Vec::new(),
        }
    }

    /// Handles one event at time `now`; returns what to do, in order.
    pub fn handle(&mut self, input: Input<N>, now: Instant) -> Vec<Output<N>> {
        match input {
            Input::Connected(peer) => {
                self.connected.insert(peer);
                self.send(peer, Ask::Summary);
            }
            Input::Disconnected(peer) => {
                self.connected.remove(&peer);
                self.pulls.remove(&peer);
                // libp2p fails them; an answer that would still come over
                // the closed connection is ignored.
                self.requests.retain(|_, (p, _)| *p != peer);
                self.admit_pulled(peer);
            }
            Input::Sent { peer, id, ask } => {
                self.requests.insert(id, (peer, ask));
            }
            Input::Response { id, via, response } => self.response(id, via, response, now),
            Input::Failed(id) => {
                if let Some((peer, ask)) = self.requests.remove(&id) {
                    tracing::debug!(?peer, ?ask, "sync request failed");
                    if let Ask::Changes(doc) = ask {
                        self.pull_done(peer, doc);
                    }
                    self.pump(peer, now);
                    self.admit_pulled(peer);
                }
            }
            Input::Differ { peer, docs } => {
                for doc in docs {
                    self.pull(peer, doc, now);
                }
            }
            Input::Admitted { peer, admission } => self.admitted(peer, admission, now),
            Input::Fault(peer) => self.strike(peer, 1, now),
            Input::Request { peer, id } => {
                let refusal = match self.answers.has_room(&peer) {
                    Err(busy) => Some(Refusal::Busy(busy)),
                    Ok(()) => self.limiter.admit(&peer, now).err().map(Refusal::Limited),
                };
                self.out.push(match refusal {
                    Some(reason) => Output::Refuse { id, reason },
                    None => Output::Serve(id),
                });
            }
            Input::Served { peer, id, work, size } => {
                self.limiter.charge(&peer, work, now);
                self.answers.add(id, peer, size, now);
            }
            Input::Answered(id) => self.answers.done(&id),
            Input::Local(changes) => {
                let mut by_doc: BTreeMap<MemberId, Vec<SignedChange>> = BTreeMap::new();
                for c in changes {
                    by_doc.entry(c.doc()).or_default().push(c);
                }
                for (doc, changes) in by_doc {
                    self.out
                        .extend(GossipBatch::split(doc, changes).into_iter().map(Output::Publish));
                }
            }
            Input::Tick => self.tick(now),
            Input::Retry => {
                let due: Vec<N::Peer> = self
                    .pulls
                    .iter()
                    .filter(|(_, p)| p.paused_until.is_some_and(|t| t <= now))
                    .map(|(peer, _)| *peer)
                    .collect();
                for peer in due {
                    self.pump(peer, now);
                }
            }
            Input::Resync => {
                let peers: Vec<N::Peer> = self.connected.iter().copied().collect();
                for peer in peers {
                    self.send(peer, Ask::Summary);
                }
            }
            Input::Continue { peer, message, round } => {
                if round < reconcile::MAX_ROUNDS && self.connected.contains(&peer) {
                    self.out.push(Output::Continue { peer, message, round });
                } else if round >= reconcile::MAX_ROUNDS {
                    tracing::debug!(
                        ?peer,
                        "reconciliation session over its round limit; the next pass goes on"
                    );
                }
            }
        }
        std::mem::take(&mut self.out)
    }

    /// Peers blocked now.
    pub fn blocked(&self) -> impl Iterator<Item = &N::Peer> {
        self.blocked_until.keys()
    }

    /// Requests sent and not yet answered.
    pub fn requests_in_flight(&self) -> usize {
        self.requests.len()
    }

    /// Documents waiting to be pulled from `peer` (not in flight).
    pub fn queued(&self, peer: &N::Peer) -> usize {
        self.pulls.get(peer).map_or(0, |p| p.queued.len())
    }

    /// Asks `peer`, if it is connected (a request to a peer that is gone
    /// would make libp2p dial it).
    fn send(&mut self, peer: N::Peer, ask: Ask) {
        if self.connected.contains(&peer) {
            self.out.push(Output::Send { peer, ask });
        }
    }

    fn response(&mut self, id: N::Outbound, via: N::Connection, response: Response, now: Instant) {
        let Some((peer, ask)) = self.requests.remove(&id) else {
            return;
        };
        if let Ask::Changes(doc) = ask {
            self.pull_done(peer, doc);
        }
        if response.check().is_err() {
            self.strike(peer, 1, now);
        } else {
            match (ask, response) {
                (Ask::Summary, Response::InSync) => self.synced(peer, via, true),
                (Ask::Summary, Response::OutOfSync) => {
                    self.synced(peer, via, false);
                    self.send(peer, Ask::Inventory);
                }
                (Ask::Summary, Response::Differ) => {
                    self.synced(peer, via, false);
                    self.send(peer, Ask::Reconcile(0));
                }
                (Ask::Reconcile(round), Response::Reconcile(theirs)) => {
                    if !theirs.ranges.is_empty() {
                        self.out.push(Output::Reconcile { peer, theirs, round });
                    }
                }
                (Ask::Inventory, Response::Inventory(theirs)) => self.out.push(Output::Compare { peer, theirs }),
                (Ask::Changes(doc), Response::Changes { changes, more }) => {
                    if changes.iter().any(|c| c.doc() != doc) {
                        self.strike(peer, 1, now);
                    }
                    // Admitted with others by `admit_pulled`.
                    let pulled = self.pulled.entry(peer).or_default();
                    pulled.bytes += changes.iter().map(SignedChange::size).sum::<usize>();
                    pulled.changes.extend(changes);
                    pulled.docs.push((doc, more));
                }
                (Ask::Changes(doc), Response::Error(text)) => {
                    tracing::debug!(?peer, %text, "peer could not serve a pull; retrying later");
                    self.pull_refused(peer, doc, now);
                }
                (_, Response::Error(text)) => tracing::debug!(?peer, %text, "peer could not serve a sync request"),
                _ => self.strike(peer, 1, now),
            }
        }
        self.pump(peer, now);
        self.admit_pulled(peer);
    }

    fn synced(&mut self, peer: N::Peer, via: N::Connection, in_sync: bool) {
        if !self.strikes.contains_key(&peer) && !self.blocked_until.contains_key(&peer) {
            self.out.push(Output::Synced { peer, via, in_sync });
        }
    }

    /// Pulls `doc` from `peer`, unless a pull of it is already in flight;
    /// queues it when [`MAX_PULLS_PER_PEER`] are, or pulls are paused.
    /// Nothing is pulled from a peer that is gone.
    fn pull(&mut self, peer: N::Peer, doc: MemberId, now: Instant) {
        if !self.connected.contains(&peer) {
            return;
        }
        let pulls = self.pulls.entry(peer).or_default();
        if pulls.inflight.contains(&doc) {
            return;
        }
        if pulls.paused(now) || pulls.inflight.len() >= MAX_PULLS_PER_PEER {
            pulls.queue(doc);
            return;
        }
        pulls.inflight.insert(doc);
        self.send(peer, Ask::Changes(doc));
    }

    fn pull_done(&mut self, peer: N::Peer, doc: MemberId) {
        if let Some(pulls) = self.pulls.get_mut(&peer) {
            pulls.inflight.remove(&doc);
        }
    }

    /// `peer` refused to serve the pull of `doc`: queue it again and pause
    /// pulls from `peer` for [`PULL_RETRY`].
    fn pull_refused(&mut self, peer: N::Peer, doc: MemberId, now: Instant) {
        let pulls = self.pulls.entry(peer).or_default();
        pulls.inflight.remove(&doc);
        pulls.queue(doc);
        pulls.paused_until = Some(now + PULL_RETRY);
    }

    /// Sends queued pulls to `peer` while slots are free; forgets them if
    /// the peer is gone (anti-entropy will find the documents again).
    fn pump(&mut self, peer: N::Peer, now: Instant) {
        if !self.connected.contains(&peer) {
            self.pulls.remove(&peer);
            return;
        }
        if let Some(pulls) = self.pulls.get_mut(&peer) {
            if pulls.paused(now) {
                return;
            }
            pulls.paused_until = None;
        }
        while let Some(pulls) = self.pulls.get_mut(&peer)
            && pulls.inflight.len() < MAX_PULLS_PER_PEER
            && let Some(doc) = pulls.queued.pop_first()
        {
            self.pull(peer, doc, now);
        }
        if self
            .pulls
            .get(&peer)
            .is_some_and(|p| p.inflight.is_empty() && p.queued.is_empty())
        {
            self.pulls.remove(&peer);
        }
    }

    /// Hands the changes pulled from `peer` to admission in one batch once
    /// the batch is full or no pull to `peer` is in flight.
    fn admit_pulled(&mut self, peer: N::Peer) {
        let idle = self.pulls.get(&peer).is_none_or(|p| p.inflight.is_empty());
        let full = self
            .pulled
            .get(&peer)
            .is_some_and(|p| p.changes.len() >= ADMIT_BATCH_CHANGES || p.bytes >= ADMIT_BATCH_BYTES);
        if !idle && !full {
            return;
        }
        if let Some(pulled) = self.pulled.remove(&peer) {
            self.out.push(Output::Admit {
                peer,
                changes: pulled.changes,
                pulled: pulled.docs,
            });
        }
    }

    /// Strikes `peer` once per forged change, then pulls from it what
    /// admission misses and what its answers said there is `more` of.
    fn admitted(&mut self, peer: N::Peer, admission: Admission, now: Instant) {
        // One strike per forged change: a sync answer carrying three is as
        // bad as three gossip messages.
        if admission.faults > 0 {
            self.strike(peer, admission.faults, now);
        }
        let mut asked = HashSet::new();
        for doc in admission.missing {
            if asked.insert(doc) {
                self.pull(peer, doc, now);
            }
        }
        let progressed: HashSet<MemberId> = admission.progressed.into_iter().collect();
        for (doc, more) in admission.pulled {
            if more && progressed.contains(&doc) {
                self.pull(peer, doc, now);
            }
        }
    }

    /// `count` strikes against `peer` (see [`STRIKES_BEFORE_BLOCK`]).
    fn strike(&mut self, peer: N::Peer, count: usize, now: Instant) {
        if self.strikes.len() >= MAX_TRACKED_PEERS {
            // Forget strikes of peers that are gone (blocked ones are kept
            // in `blocked_until`), so throwaway identities cannot grow this.
            let connected = &self.connected;
            self.strikes.retain(|p, _| connected.contains(p));
        }
        let n = self.strikes.entry(peer).or_insert(0);
        *n = n.saturating_add(u32::try_from(count).unwrap_or(u32::MAX));
        if *n >= STRIKES_BEFORE_BLOCK {
            self.blocked_until.insert(peer, now + BLOCK_DURATION);
            self.out.push(Output::Block(peer));
        }
    }

    fn tick(&mut self, now: Instant) {
        let expired: Vec<N::Peer> = self
            .blocked_until
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(p, _)| *p)
            .collect();
        for peer in expired {
            self.blocked_until.remove(&peer);
            self.strikes.remove(&peer);
            self.out.push(Output::Unblock(peer));
        }
        self.limiter.forget_full(now);
        if let Some(before) = now.checked_sub(ANSWER_EXPIRY) {
            self.answers.expire(before);
        }
        if self.connected.is_empty() {
            return;
        }
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        // The index is below the number of peers, a usize.
        let i = (self.rng % self.connected.len() as u64) as usize;
        if let Some(peer) = self.connected.iter().nth(i).copied() {
            self.send(peer, Ask::Summary);
        }
    }
}

#[cfg(test)]
mod tests;
