//! The node actor: one task owns the swarm and the member's [`State`]
//! (store + registry) and runs a `tokio::select!` loop over shutdown, local
//! commands, swarm events and timers, with one `handle_*` method per arm.
//! Front ends (the HTTP API, the remote CLI, tests) talk to it through a
//! [`Handle`] over a bounded channel; nothing in the node is unbounded.
//!
//! The commands are a closed set: apply an operation ([`ops::Request`]),
//! import changes, block a member, status, peers, dial, and a snapshot of
//! the state ([`state::Snapshot`]) for readers. Readers render pages, CSV,
//! JSON and bundles from the snapshot outside the actor (on a blocking
//! thread where the work is heavy, [`Handle::with_snapshot`]), so the actor
//! only ever spends the time of an `Arc` clone on them.
//!
//! Sync scheduling (whom to ask what and when, pull slots and retries,
//! admission batches, strikes and blocks, the anti-entropy peer choice,
//! budgets of inbound requests, gossip batching) is the pure
//! [`sync::Machine`]: the actor feeds it events (`Actor::drive`) and
//! carries out what it answers (`Actor::carry`): swarm calls, inventories
//! and heads read from the registry, pages read from the store, admission.
//!
//! Sync, as DESIGN.md describes it:
//! - every local write is published on gossipsub as a [`GossipBatch`];
//! - a gossip message is admitted (batch-verified, durably stored) before the
//!   actor reports `Accept`, so gossipsub forwards only admitted changes;
//!   forged or malformed input is `Reject`ed (the relaying peer loses score),
//!   duplicates are `Ignore`d;
//! - on every new connection, and every `sync_interval` with a connected
//!   peer the machine picks (a xorshift seeded by the member id), the actor
//!   sends a summary (one digest of its whole inventory); if the peer's
//!   differs, it sends its inventory (document → heads digest); both sides
//!   then pull, per differing document, exactly the changes they lack
//!   (`ChangesSince` with their own heads), repeating while the answer says
//!   `more`;
//! - a change whose dependencies are missing waits in the registry's bounded
//!   pending buffer and the actor asks the peer that sent it for the rest;
//! - a peer that sends forged changes [`STRIKES_BEFORE_BLOCK`] times is
//!   disconnected and blocked for [`BLOCK_DURATION`].
//!
//! What a peer can make the node spend is bounded:
//! - inbound sync requests go through a per-peer budget ([`rate`], limits
//!   in [`Config::sync_limits`]) costed by what they make the node do, and
//!   answers not yet read by their peer are capped per peer and in all
//!   ([`MAX_RESPONSE_BYTES_IN_FLIGHT_PER_PEER`],
//!   [`MAX_RESPONSE_BYTES_IN_FLIGHT`]); over either, the answer is a short
//!   `Response::Error` ("rate limited…") and no strike. A requester that
//!   gets one pauses its pulls from that peer for [`PULL_RETRY`];
//! - changes are served in pages read from the store
//!   ([`sync::PAGE_BYTES`]), never a whole document;
//! - identify claims stay in memory ([`peers::Learnt`]) and only feed
//!   Kademlia for peers that speak it; a peer's address is remembered
//!   ([`peers::Remembered`]) only after a sync over a connection this node
//!   dialled there, and written at most once per tick.
//!
//! Who is replicated is the node's policy ([`Config::policy`], see
//! [`trust`]): before admission, each change a peer hands over (gossip or
//! sync) goes through the [`trust::Gate`]; a `trusted` node takes only its
//! trust set's documents, an `open` one holds strangers to their quotas.
//! What the gate turns away is gossip `Ignore` (the relaying peer did
//! nothing wrong) and counted in [`Status::replication`]; sync does not ask
//! for documents the gate would turn away. The trust set is recomputed when
//! a trust-set member's document (or this member's) changes; when it grows,
//! the node starts a pass with every peer to fetch the newcomers. Local
//! writes and imports are the operator's: no gate.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use libp2p::core::ConnectedPoint;
use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::request_response::{self, InboundRequestId, OutboundRequestId, ResponseChannel};
use libp2p::swarm::{ConnectionId, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, autonat, dcutr, identify, mdns, relay};
use mutu_protocol::admission::Report;
use mutu_protocol::identity::MemberId;
use mutu_protocol::registry::Source;
use mutu_protocol::trust;
use mutu_protocol::{RecordId, SignedChange, Timestamp};
use tokio::sync::{mpsc, oneshot, watch};

use crate::net::BehaviourEvent;
use crate::net::behaviour::Behaviour;
use crate::net::invite::Invitation;
use crate::net::sync::{self, GossipBatch, HeadsDigest, Request, Response};
use crate::net::{peers, rate, reach};
use crate::ops;
use crate::state::{self, State};

/// Commands waiting for the actor.
pub const COMMAND_CAPACITY: usize = 64;
/// Readers at work on snapshots at once (pages, API reads, exports): more
/// wait for a permit, so a flood of open GETs queues instead of taking every
/// blocking thread and core.
pub const MAX_READERS: usize = 16;
pub use crate::net::sync::machine::{
    ADMIT_BATCH_BYTES, ADMIT_BATCH_CHANGES, BLOCK_DURATION, MAX_PULLS_PER_PEER, MAX_RESPONSE_BYTES_IN_FLIGHT,
    MAX_RESPONSE_BYTES_IN_FLIGHT_PER_PEER, MAX_TRACKED_PEERS, PULL_RETRY, STRIKES_BEFORE_BLOCK,
};
/// Work a request is charged per change hash it makes the node compute
/// (`ChangesSince`, `ChangesByHash`) and per document of the inventory it
/// makes the node digest (`Summary`, `Inventory`), in budget bytes.
pub const HASH_COST: u64 = 32;
/// See [`HASH_COST`].
pub const INVENTORY_ENTRY_COST: u64 = 64;

/// The default budget of one peer's inbound sync requests.
///
/// - Requests: bursts of 1 024, then 512/s. A request's fixed cost (a
///   stream, decoding, a short answer) is tens of µs: at most a few % of a
///   core per peer. A fresh node catching up pulls one page per document,
///   so its first 1 024 documents come at full speed.
/// - Work: bursts of 64 MiB, then 16 MiB/s, counting the bytes of stored
///   changes read, 32 per change hash computed and 64 per inventory entry
///   digested. Reading and encoding 16 MiB/s from redb's cache takes a few
///   % of a core. The 100 000-record catch-up of the benchmark reads
///   39 MB: it stays within the burst; beyond, a requester still gets
///   16 MiB/s, about 40 000 records/s.
pub const SYNC_LIMITS: rate::Limits = rate::Limits {
    requests_burst: 1_024,
    requests_per_s: 512,
    bytes_burst: 64 * 1024 * 1024,
    bytes_per_s: 16 * 1024 * 1024,
};

/// The budget of one peer's gossip messages (counted on the peer that
/// relayed them), for `mutu run`: bursts of 2 048 messages and 64 MiB, then
/// 256 messages/s and 8 MiB/s. An honest neighbour relays a few messages a
/// second; a catch-up goes through sync, not gossip. Over the budget a
/// message is `Ignore`d and counted, never a strike: sync brings anything
/// honest that was dropped. Independent of the replication quotas.
pub const GOSSIP_LIMITS: rate::Limits = rate::Limits {
    requests_burst: 2_048,
    requests_per_s: 256,
    bytes_burst: 64 * 1024 * 1024,
    bytes_per_s: 8 * 1024 * 1024,
};

/// A test's access to the actor's state and swarm (tests only: the
/// `testing` feature, which only dev-dependencies turn on).
#[cfg(any(test, feature = "testing"))]
type TestFn = Box<dyn FnOnce(&mut State, &mut Swarm<Behaviour>) + Send>;

/// What a [`Handle`] asks of the actor: a closed set. Writes go through
/// [`ops::Request`] or an import; reads take a [`state::Snapshot`] and do
/// their work outside the actor.
enum Command {
    /// Check, sign, store and publish one operation.
    Apply {
        request: ops::Request,
        now: Timestamp,
        reply: oneshot::Sender<Result<RecordId, ops::Error>>,
    },
    /// Admit changes handed over locally (a bundle, parsed outside the
    /// actor), and publish those admitted.
    Import {
        changes: Vec<SignedChange>,
        now: Timestamp,
        reply: oneshot::Sender<Result<Report, state::Error>>,
    },
    /// Block (or unblock) a member's documents.
    Block {
        member: MemberId,
        blocked: bool,
        reply: oneshot::Sender<Result<(), state::Error>>,
    },
    Status(oneshot::Sender<Status>),
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    Dial {
        addr: Multiaddr,
        reply: oneshot::Sender<()>,
    },
    /// An invitation to this node (`None` if it has no address yet).
    Invite(oneshot::Sender<Option<Invitation>>),
    /// Dial an invited node and keep redialling it.
    Join {
        invitation: Invitation,
        reply: oneshot::Sender<()>,
    },
    /// Replace the replication policy's scope and hops (quotas kept).
    SetPolicy {
        scope: trust::Scope,
        hops: u8,
        reply: oneshot::Sender<()>,
    },
    /// A snapshot of the state for readers.
    Snapshot(oneshot::Sender<state::Snapshot>),
    /// The records left out of the views, with their bytes (they are in
    /// the documents, not in a snapshot), and the snapshot they go with.
    LeftOut(oneshot::Sender<(state::Snapshot, Vec<state::LeftOut>)>),
    /// Anything on the state and the swarm, for tests.
    #[cfg(any(test, feature = "testing"))]
    Test(TestFn),
}

/// A node's counters, as `mutu status` shows them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub member: MemberId,
    pub peer_id: String,
    pub peers: usize,
    pub documents: usize,
    pub records: usize,
    pub pending: usize,
    pub rejected: u64,
    pub listen: Vec<String>,
    /// Anti-entropy passes this node started (`/mutu/sync/1` summaries sent).
    pub sync_passes: u64,
    /// `/mutu/sync/1` requests sent.
    pub sync_requests: u64,
    /// Bytes of the sync requests and responses sent, as on the wire
    /// (`/mutu/sync/2` answers compressed; stream framing not counted).
    pub sync_bytes_sent: u64,
    /// Bytes of the sync requests and responses received, as on the wire.
    pub sync_bytes_received: u64,
    /// Inbound `/mutu/sync/1` requests answered.
    pub sync_requests_served: u64,
    /// Inbound `/mutu/sync/1` requests refused because their peer was over
    /// its budget or had too many unread answers (never a strike).
    pub sync_requests_refused: u64,
    /// Identify messages received (kept in memory, never written).
    pub identify_received: u64,
    /// The replication policy at work and what it turned away (`None`
    /// when no node runs: the policy is a running node's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication: Option<Replication>,
    /// The catch-up under way (`None`: none, or no node runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch_up: Option<crate::net::progress::CatchUp>,
    /// Public, private or unknown; external addresses, relays in use
    /// (`None` when no node runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<reach::Report>,
}

/// Whom a running node replicates, as `mutu status` shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Replication {
    pub scope: trust::Scope,
    pub hops: u8,
    /// Members in the trust set (this member included).
    pub trusted: usize,
    /// Bytes of strangers' changes taken under the quotas.
    pub stranger_bytes: u64,
    /// Changes turned away before admission, by reason.
    pub ignored: trust::Counts,
    /// Strangers' documents taken because they answer the trust set (the
    /// inbox: "from members you do not follow yet").
    pub inbox: Vec<MemberId>,
    /// Members on the moderation lists this node follows (treated as
    /// blocked).
    pub moderated: usize,
    /// Gossip messages ignored because their relaying peer was over its
    /// budget ([`Config::gossip_limits`]; before any decoding).
    pub gossip_rate_limited: u64,
}

/// A connected peer, as `mutu peers` shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PeerInfo {
    pub peer_id: String,
    pub address: String,
    pub connected_since: Timestamp,
    /// `direct` if any connection with the peer is, else `relayed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<reach::Path>,
}

/// Errors of a handle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("the node has stopped")]
    Stopped,
    #[error("a reader failed: {0}")]
    Reader(String),
    #[error(transparent)]
    State(#[from] state::Error),
}

/// What the actor counts for an operator's metrics: read by handles
/// without asking the actor ([`Handle::metrics`]), so a scrape still sees
/// them while the actor is busy.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Metrics {
    /// Changes from peers and imports admitted.
    pub admitted: u64,
    /// Changes from peers and imports refused, by rule
    /// ([`mutu_protocol::admission::Rejection::label`]).
    pub rejected: BTreeMap<&'static str, u64>,
    /// Changes not taken though no rule was broken, by reason: `duplicate`
    /// (already held or waiting), `blocked_member` (blocked here),
    /// `waiting` (kept until their dependencies come),
    /// `replication_policy` (outside the trust set or over a stranger's
    /// quota: the gate's own counters say which).
    pub ignored: BTreeMap<&'static str, u64>,
    /// Gossip messages received.
    pub gossip_received: u64,
    /// Gossip messages published (this node's changes).
    pub gossip_published: u64,
}

impl Metrics {
    fn count_report(&mut self, report: &Report) {
        self.admitted += report.admitted.len() as u64;
        for r in &report.rejected {
            *self.rejected.entry(r.reason.label()).or_default() += 1;
        }
        *self.ignored.entry("duplicate").or_default() += report.duplicates as u64;
        *self.ignored.entry("waiting").or_default() += report.pending as u64;
    }
}

/// A cheap, cloneable way to talk to the actor.
#[derive(Debug, Clone)]
pub struct Handle {
    commands: mpsc::Sender<Command>,
    /// Permits of the readers at work on snapshots ([`MAX_READERS`]).
    readers: std::sync::Arc<tokio::sync::Semaphore>,
    metrics: std::sync::Arc<std::sync::Mutex<Metrics>>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Apply { .. } => "Apply",
            Command::Import { .. } => "Import",
            Command::Block { .. } => "Block",
            Command::Status(_) => "Status",
            Command::Peers(_) => "Peers",
            Command::Dial { .. } => "Dial",
            Command::Invite(_) => "Invite",
            Command::Join { .. } => "Join",
            Command::SetPolicy { .. } => "SetPolicy",
            Command::Snapshot(_) => "Snapshot",
            Command::LeftOut(_) => "LeftOut",
            #[cfg(any(test, feature = "testing"))]
            Command::Test(_) => "Test",
        })
    }
}

impl Handle {
    /// The actor's counters, as they are now (without asking the actor).
    pub fn metrics(&self) -> Metrics {
        self.metrics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether the actor has stopped (it takes no more commands).
    pub fn is_closed(&self) -> bool {
        self.commands.is_closed()
    }

    /// Commands waiting in the actor's queue now (of [`COMMAND_CAPACITY`]).
    pub fn queue_depth(&self) -> usize {
        self.commands.max_capacity() - self.commands.capacity()
    }

    /// Sends the command `make` builds around a reply sender, and waits for
    /// the reply.
    async fn ask<R>(&self, make: impl FnOnce(oneshot::Sender<R>) -> Command) -> Result<R, Error> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).await.map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// Applies a write operation at `now` (checked, signed, stored, then
    /// published); gives the id of the record it made or edited.
    pub async fn apply(&self, request: ops::Request, now: Timestamp) -> Result<Result<RecordId, ops::Error>, Error> {
        self.ask(|reply| Command::Apply { request, now, reply }).await
    }

    /// Admits changes handed over locally (a parsed bundle) by the
    /// network's rules, and publishes those admitted.
    pub async fn import(&self, changes: Vec<SignedChange>, now: Timestamp) -> Result<Report, Error> {
        Ok(self.ask(|reply| Command::Import { changes, now, reply }).await??)
    }

    /// Blocks a member: its documents are dropped here and never taken or
    /// forwarded again; unblocking lets the next syncs bring them back.
    pub async fn block_member(&self, member: MemberId, blocked: bool) -> Result<(), Error> {
        Ok(self.ask(|reply| Command::Block { member, blocked, reply }).await??)
    }

    /// Connected peers, oldest connection first.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, Error> {
        self.ask(Command::Peers).await
    }

    pub async fn status(&self) -> Result<Status, Error> {
        self.ask(Command::Status).await
    }

    /// Dials a peer (a failure to dial is logged).
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), Error> {
        self.ask(|reply| Command::Dial { addr, reply }).await
    }

    /// An invitation to this node, with the addresses it can be reached at
    /// now (`None` while it has none).
    pub async fn invite(&self) -> Result<Option<Invitation>, Error> {
        self.ask(Command::Invite).await
    }

    /// Dials an invited node now and whenever it is not connected.
    pub async fn join(&self, invitation: Invitation) -> Result<(), Error> {
        self.ask(|reply| Command::Join { invitation, reply }).await
    }

    /// Replaces the replication policy at once (the web UI's network
    /// page): the trust set is computed again, documents outside it are
    /// evicted under `trusted`, and a sync pass fetches what it now admits.
    pub async fn set_policy(&self, scope: trust::Scope, hops: u8) -> Result<(), Error> {
        self.ask(|reply| Command::SetPolicy { scope, hops, reply }).await
    }

    /// A snapshot of the state, to read outside the actor.
    pub async fn snapshot(&self) -> Result<state::Snapshot, Error> {
        self.ask(Command::Snapshot).await
    }

    /// Runs `f` on a fresh snapshot on a blocking thread: the actor only
    /// takes the snapshot, and goes on with its work while `f` runs. At most
    /// [`MAX_READERS`] run at once; the others wait their turn.
    pub async fn with_snapshot<R: Send + 'static>(
        &self,
        f: impl FnOnce(&state::Snapshot) -> R + Send + 'static,
    ) -> Result<R, Error> {
        let permit = std::sync::Arc::clone(&self.readers)
            .acquire_owned()
            .await
            .map_err(|_| Error::Stopped)?;
        let snapshot = self.snapshot().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f(&snapshot)
        })
        .await
        .map_err(|e| Error::Reader(e.to_string()))
    }

    /// The records left out of the views, with the bytes their documents
    /// hold, and a snapshot taken at the same moment.
    pub async fn left_out(&self) -> Result<(state::Snapshot, Vec<state::LeftOut>), Error> {
        self.ask(Command::LeftOut).await
    }

    /// Runs `f` on the actor's state and swarm (tests only). What `f`
    /// writes is published once it returns.
    #[cfg(any(test, feature = "testing"))]
    pub async fn test<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut State, &mut Swarm<Behaviour>) -> R + Send + 'static,
    ) -> Result<R, Error> {
        self.ask(|tx| {
            Command::Test(Box::new(move |state, swarm| {
                let _ = tx.send(f(state, swarm));
            }))
        })
        .await
    }
}

/// Actor settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub sync_interval: Duration,
    /// Budget of each peer's inbound sync requests.
    pub sync_limits: rate::Limits,
    /// Budget of each peer's gossip messages. The default here is
    /// unlimited (tests, benchmarks); `mutu run` gives [`GOSSIP_LIMITS`].
    pub gossip_limits: rate::Limits,
    /// Whom the node replicates. The default here admits every valid
    /// document, as nodes did before policies ([`trust::Policy::EVERYONE`]);
    /// `mutu run` gives [`trust::Policy::default`] (open, with quotas) unless
    /// configured otherwise.
    pub policy: trust::Policy,
    /// Peers dialled again whenever they are not connected (`--bootstrap`,
    /// `--peer`), and where reservations are tried first.
    pub bootstrap: Vec<Multiaddr>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            sync_interval: Duration::from_secs(30),
            sync_limits: SYNC_LIMITS,
            gossip_limits: rate::Limits::UNLIMITED,
            policy: trust::Policy::EVERYONE,
            bootstrap: Vec::new(),
        }
    }
}

/// The identifiers of the sync machine in the node: libp2p's.
#[derive(Debug, PartialEq)]
enum Libp2p {}

impl sync::machine::Ids for Libp2p {
    type Peer = PeerId;
    type Outbound = OutboundRequestId;
    type Inbound = InboundRequestId;
    type Connection = ConnectionId;
}

/// The actor. Built by [`spawn`].
struct Actor {
    state: State,
    swarm: Swarm<Behaviour>,
    config: Config,
    /// Sync scheduling: pulls, batches, strikes, peer choice, budgets.
    sync: sync::Machine<Libp2p>,
    /// Inbound sync requests the machine is deciding on (held for the
    /// length of one [`Actor::drive`]).
    deciding: HashMap<InboundRequestId, (PeerId, Request, ResponseChannel<Response>)>,
    blocked_members: HashSet<MemberId>,
    /// The home was restored from a backup and this node has not synced
    /// with a peer since: writes wait (at most [`RESTORE_PATIENCE`] from
    /// this instant), so the member's changes published after the backup
    /// are here before the next one is signed.
    restored: Option<std::time::Instant>,
    rejected: u64,
    /// Shared with the handles.
    metrics: std::sync::Arc<std::sync::Mutex<Metrics>>,
    sync_counters: SyncCounters,
    /// Bytes the sync codec read and wrote on the wire.
    wire: std::sync::Arc<sync::wire::Counters>,
    /// The catch-up under way, for [`Status::catch_up`].
    progress: crate::net::progress::Progress,
    /// Connected peers: since when, and over which address.
    connected: HashMap<PeerId, (Timestamp, Multiaddr)>,
    /// Identify claims (in memory only).
    learnt: peers::Learnt,
    /// Peers dialled and synced with: the store's table and what is not
    /// written yet.
    remembered: peers::Remembered,
    /// Connections this node dialled, and the address it dialled.
    dialled: HashMap<ConnectionId, Multiaddr>,
    /// The replication policy applied before admission.
    gate: trust::Gate,
    /// The trust set grew: a pass with every peer fetches the newcomers.
    trust_grew: bool,
    /// Per-peer budgets of gossip messages.
    gossip_limiter: rate::Limiter<PeerId>,
    gossip_rate_limited: u64,
    /// Reachability, relays, direct or relayed connections.
    reach: reach::Reach,
}

/// What `/mutu/sync/1` and `/2` cost, for [`Status`] (bytes on the wire
/// are counted by the codec: [`sync::wire::Counters`]).
#[derive(Debug, Default, Clone, Copy)]
struct SyncCounters {
    passes: u64,
    requests: u64,
    served: u64,
    refused: u64,
    identify: u64,
}

/// A peer's share of the registry's pending buffer: the first 8 bytes of
/// SHA-256 of its peer id (a stranger cannot pick an id that lands on an
/// honest peer's share without ~2^64 work).
fn source_of(peer: &PeerId) -> Source {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(peer.to_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    Source(u64::from_be_bytes(first))
}

/// CBOR size of a sync message (our codec; the wire codec encodes the same
/// serde value).
fn cbor_len<T: serde::Serialize>(value: &T) -> u64 {
    mutu_protocol::codec::to_cbor(value).len() as u64
}

/// How long a node on a restored home waits for a peer to sync before it
/// writes anyway (with no peer at all, the new replica nonce still keeps
/// the two histories apart; records edited on both sides resolve by their
/// timestamps).
pub const RESTORE_PATIENCE: Duration = Duration::from_secs(60);

/// Starts the actor on the current tokio runtime. It stops when `shutdown`
/// turns true or every handle is dropped.
pub fn spawn(
    mut state: State,
    swarm: Swarm<Behaviour>,
    config: Config,
    shutdown: watch::Receiver<bool>,
) -> Result<(Handle, tokio::task::JoinHandle<()>), state::Error> {
    let (tx, rx) = mpsc::channel(COMMAND_CAPACITY);
    let metrics: std::sync::Arc<std::sync::Mutex<Metrics>> = std::sync::Arc::default();
    let blocked_members = state.store().blocked()?.into_iter().collect();
    let remembered = peers::Remembered::load(state.store().known_peers()?, state::now());
    let gate = open_gate(&mut state, config.policy);
    let seed = state.member_id().as_bytes()[..8]
        .iter()
        .fold(0u64, |a, b| a << 8 | u64::from(*b));
    let restored = state.home().restored_path().exists().then(std::time::Instant::now);
    let wire = sync::wire::counters(swarm.local_peer_id()).unwrap_or_default();
    let relay_server = swarm.behaviour().relay.is_enabled();
    let actor = Actor {
        restored,
        state,
        swarm,
        sync: sync::Machine::new(sync::machine::Config {
            limits: config.sync_limits,
            seed,
        }),
        deciding: HashMap::new(),
        blocked_members,
        rejected: 0,
        metrics: metrics.clone(),
        connected: HashMap::new(),
        sync_counters: SyncCounters::default(),
        wire,
        progress: crate::net::progress::Progress::default(),
        learnt: peers::Learnt::default(),
        remembered,
        dialled: HashMap::new(),
        gate,
        trust_grew: false,
        gossip_limiter: rate::Limiter::new(config.gossip_limits),
        gossip_rate_limited: 0,
        reach: reach::Reach::new(config.bootstrap.clone(), relay_server),
        config,
    };
    let task = tokio::spawn(actor.run(rx, shutdown));
    let readers = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_READERS));
    Ok((
        Handle {
            commands: tx,
            readers,
            metrics,
        },
        task,
    ))
}

/// The gate of `policy` over what `state` holds: its trust set, the inbox
/// (strangers whose records answer the set), and what strangers' documents
/// already take of their quotas. A `trusted` node evicts the other
/// strangers' documents (held from before, under another policy).
fn open_gate(state: &mut State, policy: trust::Policy) -> trust::Gate {
    let me = state.member_id();
    let set = trust::Set::from_index(me, state.registry().index(), policy.hops);
    let answering = trust::answering(state.registry().index(), &set);
    let moderated = trust::moderated(me, state.registry().index(), &set);
    let mut gate = trust::Gate::new(policy, set);
    for doc in &moderated {
        if state.registry().doc(doc).is_some()
            && let Err(e) = state.evict(doc)
        {
            tracing::warn!(%doc, error = %e, "cannot evict a moderated member");
        }
    }
    gate.set_moderated(moderated);
    let strangers: Vec<(MemberId, u64)> = state
        .registry()
        .docs()
        .filter(|d| !gate.set().contains(&d.owner()))
        .map(|d| (d.owner(), d.change_count() as u64))
        .collect();
    for (doc, changes) in strangers {
        if policy.scope == trust::Scope::Trusted && !answering.contains(&doc) {
            if let Err(e) = state.evict(&doc) {
                tracing::warn!(%doc, error = %e, "cannot evict a document outside the trust set");
            }
            continue;
        }
        let bytes = match state.store().doc_changes(&doc) {
            Ok(cs) => cs.iter().map(|c| c.change_bytes().len() as u64).sum(),
            Err(e) => {
                tracing::warn!(%doc, error = %e, "cannot read a stranger's changes to count them");
                0
            }
        };
        if answering.contains(&doc) {
            gate.seed_inbox(doc, changes, bytes);
        } else {
            gate.seed(doc, changes, bytes);
        }
    }
    gate
}

impl Actor {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>, mut shutdown: watch::Receiver<bool>) {
        let mut sync_timer = tokio::time::interval(self.config.sync_interval);
        sync_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        sync_timer.tick().await;
        let mut retry_timer = tokio::time::interval(PULL_RETRY);
        retry_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                command = commands.recv() => match command {
                    Some(c) => self.handle_command(c),
                    None => break,
                },
                event = self.swarm.select_next_some() => self.handle_swarm_event(event),
                _ = sync_timer.tick() => self.handle_sync_tick(),
                _ = retry_timer.tick() => {
                    self.drive(sync::Input::Retry);
                    self.reach.tick(&mut self.swarm, Instant::now());
                    // What a catch-up left uncommitted in the full-text index.
                    self.state.flush_search(state::now());
                }
            }
        }
        self.save_peers();
        tracing::info!("node stopped");
    }

    fn handle_command(&mut self, command: Command) {
        match command {
            Command::Apply { request, now, reply } => {
                let _ = reply.send(self.handle_apply(request, now));
            }
            Command::Import { changes, now, reply } => {
                let _ = reply.send(self.handle_import(changes, now));
            }
            Command::Block { member, blocked, reply } => {
                let _ = reply.send(self.handle_block_member(member, blocked));
            }
            Command::Peers(reply) => {
                let _ = reply.send(self.handle_peers());
            }
            Command::Status(reply) => {
                let _ = reply.send(self.status());
            }
            Command::SetPolicy { scope, hops, reply } => {
                let mut policy = *self.gate.policy();
                policy.scope = scope;
                policy.hops = hops.min(trust::MAX_HOPS);
                self.gate = open_gate(&mut self.state, policy);
                self.drive(sync::Input::Resync);
                let _ = reply.send(());
            }
            Command::Dial { addr, reply } => {
                self.handle_dial(addr);
                let _ = reply.send(());
            }
            Command::Invite(reply) => {
                let _ = reply.send(self.reach.invitation(&self.swarm, self.state.member_id()));
            }
            Command::Join { invitation, reply } => {
                self.reach.join(&mut self.swarm, &invitation);
                let _ = reply.send(());
            }
            Command::Snapshot(reply) => {
                let _ = reply.send(self.state.snapshot());
            }
            Command::LeftOut(reply) => {
                let _ = reply.send(self.handle_left_out());
            }
            #[cfg(any(test, feature = "testing"))]
            Command::Test(f) => {
                f(&mut self.state, &mut self.swarm);
                self.publish_outgoing();
                self.refresh_trust();
                self.resync_if_trust_grew();
            }
        }
    }

    fn handle_apply(&mut self, request: ops::Request, now: Timestamp) -> Result<RecordId, ops::Error> {
        if let Some(since) = self.restored {
            if since.elapsed() < RESTORE_PATIENCE {
                return Err(ops::Error::Conflict(format!(
                    "this home was restored from a backup: the node first fetches what the member published since \
                     from its peers (at most {} s, or until a peer has synced); try again in a moment",
                    RESTORE_PATIENCE.as_secs()
                )));
            }
            tracing::warn!(
                "restored home: no peer synced in time; writing anyway (the new replica keeps histories apart)"
            );
            self.restored_done();
        }
        // Recomputing the trust set scans every visible record: only a
        // write that can change it pays for that.
        let shapes_trust = request.shapes_trust();
        let result = request.apply(&mut self.state, now);
        self.publish_outgoing();
        if shapes_trust {
            self.refresh_trust();
            self.resync_if_trust_grew();
        }
        result
    }

    /// The restored home has caught up (or waited long enough): writes
    /// open, and the marker goes.
    fn restored_done(&mut self) {
        self.restored = None;
        let marker = self.state.home().restored_path();
        if let Err(e) = std::fs::remove_file(&marker) {
            tracing::warn!(path = %marker.display(), error = %e, "cannot remove the restore marker");
        }
    }

    fn handle_import(&mut self, changes: Vec<SignedChange>, now: Timestamp) -> Result<Report, state::Error> {
        let report = self.state.import_changes(changes, now);
        if let Ok(r) = &report {
            self.rejected += r.rejected.len() as u64;
            self.count(|m| m.count_report(r));
        }
        self.publish_outgoing();
        self.refresh_trust();
        self.resync_if_trust_grew();
        report
    }

    fn handle_peers(&self) -> Vec<PeerInfo> {
        let mut peers: Vec<PeerInfo> = self
            .connected
            .iter()
            .map(|(peer, (since, addr))| {
                let path = self.reach.path(peer);
                PeerInfo {
                    peer_id: peer.to_string(),
                    address: path.map_or(addr, |(_, a)| a).to_string(),
                    connected_since: *since,
                    connection: path.map(|(p, _)| p),
                }
            })
            .collect();
        peers.sort_by(|a, b| (a.connected_since, &a.peer_id).cmp(&(b.connected_since, &b.peer_id)));
        peers
    }

    fn handle_dial(&mut self, addr: Multiaddr) {
        if let Err(e) = self.swarm.dial(addr) {
            tracing::warn!(error = %e, "dial failed");
        }
    }

    fn handle_left_out(&self) -> (state::Snapshot, Vec<state::LeftOut>) {
        (self.state.snapshot(), self.state.left_out())
    }

    fn handle_block_member(&mut self, member: MemberId, blocked: bool) -> Result<(), state::Error> {
        if blocked {
            self.state.block(&member)?;
            self.blocked_members.insert(member);
        } else {
            self.state.unblock(&member)?;
            self.blocked_members.remove(&member);
            self.drive(sync::Input::Resync);
        }
        Ok(())
    }

    fn status(&self) -> Status {
        Status {
            member: self.state.member_id(),
            peer_id: self.swarm.local_peer_id().to_string(),
            peers: self.swarm.connected_peers().count(),
            documents: self.state.registry().doc_count(),
            records: self.state.registry().index().len(),
            pending: self.state.registry().pending_count(),
            rejected: self.rejected,
            listen: self.swarm.listeners().map(ToString::to_string).collect(),
            sync_passes: self.sync_counters.passes,
            sync_requests: self.sync_counters.requests,
            sync_bytes_sent: self.wire.written.load(std::sync::atomic::Ordering::Relaxed),
            sync_bytes_received: self.wire.read.load(std::sync::atomic::Ordering::Relaxed),
            sync_requests_served: self.sync_counters.served,
            sync_requests_refused: self.sync_counters.refused,
            identify_received: self.sync_counters.identify,
            catch_up: self.progress.report(
                Instant::now(),
                self.state.registry().index().len(),
                self.sync.requests_in_flight() > 0,
            ),
            replication: Some(Replication {
                scope: self.gate.policy().scope,
                hops: self.gate.policy().hops,
                trusted: self.gate.set().len(),
                stranger_bytes: self.gate.stranger_bytes(),
                ignored: self.gate.ignored(),
                inbox: {
                    let mut inbox: Vec<MemberId> = self.gate.inbox().copied().collect();
                    inbox.sort();
                    inbox
                },
                moderated: self.gate.moderated().len(),
                gossip_rate_limited: self.gossip_rate_limited,
            }),
            reach: Some(self.reach.report(&self.swarm)),
        }
    }

    /// Recomputes the trust set from the records held; notes whether it
    /// gained members (see [`Actor::resync_if_trust_grew`]).
    fn refresh_trust(&mut self) {
        let policy = *self.gate.policy();
        let me = self.state.member_id();
        let set = trust::Set::from_index(me, self.state.registry().index(), policy.hops);
        self.refresh_moderation(&set);
        if &set == self.gate.set() {
            return;
        }
        let grew = set.iter().any(|m| !self.gate.set().contains(m));
        let left: Vec<MemberId> = self.gate.set().iter().filter(|m| !set.contains(m)).copied().collect();
        tracing::info!(trusted = set.len(), left = left.len(), "trust set changed");
        self.gate.set_trusted(set);
        self.trust_grew |= grew;
        if policy.scope == trust::Scope::Trusted {
            // Members who left are evicted (peers still hold them; a sync
            // brings them back if they come back), unless they answer the
            // set (then they are the inbox's).
            let answering = trust::answering(self.state.registry().index(), self.gate.set());
            for m in left {
                if answering.contains(&m) || self.state.registry().doc(&m).is_none() {
                    continue;
                }
                match self.state.evict(&m) {
                    Ok(()) => self.gate.forget(&m),
                    Err(e) => tracing::warn!(member = %m, error = %e, "cannot evict a member who left the trust set"),
                }
            }
        }
    }

    /// Members newly on a subscribed moderation list are evicted (treated
    /// as blocked, without the local block's record); members who came off
    /// every list may be fetched again.
    fn refresh_moderation(&mut self, set: &trust::Set) {
        let moderated = trust::moderated(self.state.member_id(), self.state.registry().index(), set);
        // Members off every list now: the next pass may fetch them again.
        let freed = self.gate.moderated().iter().any(|m| !moderated.contains(m));
        let added: Vec<MemberId> = moderated
            .iter()
            .filter(|m| !self.gate.is_moderated(m))
            .copied()
            .collect();
        if added.is_empty() && !freed {
            return;
        }
        tracing::info!(moderated = moderated.len(), "moderation lists changed");
        self.gate.set_moderated(moderated);
        for m in added {
            if self.state.registry().doc(&m).is_none() {
                continue;
            }
            match self.state.evict(&m) {
                Ok(()) => self.gate.forget(&m),
                Err(e) => tracing::warn!(member = %m, error = %e, "cannot evict a moderated member"),
            }
        }
        self.trust_grew |= freed;
    }

    /// A pass with every connected peer, if the trust set grew.
    fn resync_if_trust_grew(&mut self) {
        if std::mem::take(&mut self.trust_grew) {
            self.drive(sync::Input::Resync);
        }
    }

    /// Updates the counters handles read.
    fn count(&self, update: impl FnOnce(&mut Metrics)) {
        update(&mut self.metrics.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    /// Publishes what the state made since the last call, one gossip
    /// message per document (split at the batch bound).
    fn publish_outgoing(&mut self) {
        let changes = self.state.take_outgoing();
        if !changes.is_empty() {
            self.drive(sync::Input::Local(changes));
        }
    }

    /// Feeds `input` to the sync machine and carries out what it answers,
    /// feeding back the results (requests sent, comparisons, admissions,
    /// answers) until nothing is left.
    fn drive(&mut self, input: sync::Input<Libp2p>) {
        let mut inputs = VecDeque::from([input]);
        while let Some(input) = inputs.pop_front() {
            if let sync::Input::Differ { docs, .. } = &input {
                let records = self.state.registry().index().len();
                let pulling = self.sync.requests_in_flight() > 0;
                self.progress.announce(docs, Instant::now(), records, pulling);
            }
            for output in self.sync.handle(input, Instant::now()) {
                self.carry(output, &mut inputs);
            }
            if std::mem::take(&mut self.trust_grew) {
                inputs.push_back(sync::Input::Resync);
            }
        }
    }

    /// Carries out one effect of the sync machine; what it needs to know
    /// back goes to `inputs`.
    fn carry(&mut self, output: sync::Output<Libp2p>, inputs: &mut VecDeque<sync::Input<Libp2p>>) {
        match output {
            sync::Output::Send { peer, ask } => {
                let requests = match ask {
                    sync::Ask::Summary => {
                        self.sync_counters.passes += 1;
                        vec![sync::summary(&self.inventory())]
                    }
                    sync::Ask::Inventory => sync::inventory_pages(&self.inventory())
                        .into_iter()
                        .map(Request::Inventory)
                        .collect(),
                    sync::Ask::Changes(doc) => {
                        let heads = self.state.registry().doc(&doc).map(|d| d.heads()).unwrap_or_default();
                        vec![Request::changes_since(doc, &heads)]
                    }
                    sync::Ask::Reconcile(_) => vec![Request::Reconcile(self.inventory_set().initiate())],
                };
                for request in requests {
                    let id = self.send_sync_request(peer, request);
                    inputs.push_back(sync::Input::Sent { peer, id, ask });
                }
            }
            sync::Output::Reconcile { peer, theirs, round } => {
                match self
                    .inventory_set()
                    .reconcile(&theirs, sync::reconcile::Role::Initiator)
                {
                    Err(e) => {
                        tracing::debug!(%peer, error = %e, "malformed reconciliation answer");
                        inputs.push_back(sync::Input::Fault(peer));
                    }
                    Ok(outcome) => {
                        let docs = outcome
                            .need
                            .into_iter()
                            .filter(|doc| !self.blocked_members.contains(doc) && self.gate.wants(doc))
                            .collect();
                        inputs.push_back(sync::Input::Differ { peer, docs });
                        if let Some(message) = outcome.reply {
                            let round = round.saturating_add(1);
                            inputs.push_back(sync::Input::Continue { peer, message, round });
                        }
                    }
                }
            }
            sync::Output::Continue { peer, message, round } => {
                let id = self.send_sync_request(peer, Request::Reconcile(message));
                inputs.push_back(sync::Input::Sent {
                    peer,
                    id,
                    ask: sync::Ask::Reconcile(round),
                });
            }
            sync::Output::Compare { peer, theirs } => {
                let docs = self.differing(&theirs);
                inputs.push_back(sync::Input::Differ { peer, docs });
            }
            sync::Output::Admit { peer, changes, pulled } => {
                for (doc, more) in &pulled {
                    if !more {
                        self.progress.fetched(*doc);
                    }
                }
                let report = self.admit(peer, changes);
                let admission = admission_of(report.as_ref(), pulled);
                inputs.push_back(sync::Input::Admitted { peer, admission });
            }
            sync::Output::Synced { peer, via, in_sync } => {
                // A peer holds nothing this node lacks (its summary equals
                // ours once the pulls of an earlier pass are in).
                if in_sync && self.restored.is_some() {
                    tracing::info!(%peer, "restored home: in sync with a peer; writes are open");
                    self.restored_done();
                }
                // The address this node dialled works: remember it (written
                // at the next tick).
                if let Some(addr) = self.dialled.get(&via) {
                    self.remembered.synced(peer, addr, state::now());
                }
            }
            sync::Output::Serve(id) => {
                if let Some((peer, request, channel)) = self.deciding.remove(&id) {
                    self.sync_counters.served += 1;
                    let (response, work, differ) = self.serve(request);
                    if let Some(docs) = differ {
                        inputs.push_back(sync::Input::Differ { peer, docs });
                    }
                    let size = self.send_sync_response(channel, response);
                    inputs.push_back(sync::Input::Served { peer, id, work, size });
                }
            }
            sync::Output::Refuse { id, reason } => {
                if let Some((peer, _, channel)) = self.deciding.remove(&id) {
                    // Over budget, or too many unread answers: a cheap
                    // refusal, no strike (being busy is not forgery).
                    self.sync_counters.refused += 1;
                    tracing::debug!(%peer, %reason, "sync request refused");
                    self.send_sync_response(channel, Response::error(reason.to_string()));
                }
            }
            sync::Output::Publish(batch) => match self.swarm.behaviour_mut().publish(&batch) {
                Ok(_) => self.count(|m| m.gossip_published += 1),
                Err(e) => tracing::debug!(error = %e, "gossip publish"),
            },
            sync::Output::Block(peer) => {
                tracing::warn!(%peer, "blocking a peer that keeps sending forged changes");
                self.swarm.behaviour_mut().blocked.block_peer(peer);
            }
            sync::Output::Unblock(peer) => {
                self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            }
        }
    }

    fn handle_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => self.handle_gossip(propagation_source, message_id, message),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.handle_sync_event(event),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })) => {
                self.handle_identify(peer_id, info)
            }
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Discovered(found))) => {
                for (peer, addr) in found {
                    if !self.swarm.is_connected(&peer) {
                        let _ = self.swarm.dial(addr);
                    }
                }
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                num_established,
                endpoint,
                ..
            } => {
                if let ConnectedPoint::Dialer { address, .. } = &endpoint {
                    self.dialled.insert(connection_id, address.clone());
                }
                for relayed in self.reach.on_connected(connection_id, peer_id, &endpoint) {
                    tracing::debug!(%peer_id, "a direct connection is open: closing a relayed one");
                    self.swarm.close_connection(relayed);
                }
                if num_established.get() == 1 {
                    let addr = endpoint.get_remote_address().clone();
                    self.connected.insert(peer_id, (state::now(), addr));
                    self.drive(sync::Input::Connected(peer_id));
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                self.dialled.remove(&connection_id);
                if self.reach.on_closed(&mut self.swarm, connection_id) {
                    // The sync requests that circuit carried failed: a new
                    // pass over the direct connection finds what they fetched.
                    self.drive(sync::Input::Connected(peer_id));
                }
                if num_established == 0 {
                    self.connected.remove(&peer_id);
                    self.drive(sync::Input::Disconnected(peer_id));
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => tracing::info!(%address, "listening"),
            SwarmEvent::ListenerClosed { listener_id, .. } => self.reach.on_listener_closed(listener_id),
            SwarmEvent::Behaviour(BehaviourEvent::RelayClient(relay::client::Event::ReservationReqAccepted {
                relay_peer_id,
                ..
            })) => {
                tracing::info!(relay = %relay_peer_id, "reservation on a relay");
                self.reach.on_reservation(relay_peer_id);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Autonat(autonat::v2::client::Event {
                tested_addr, result, ..
            })) => {
                tracing::debug!(%tested_addr, ok = result.is_ok(), "AutoNAT test");
                self.reach.on_autonat(result.is_ok());
            }
            SwarmEvent::Behaviour(BehaviourEvent::Dcutr(dcutr::Event { remote_peer_id, result })) => {
                tracing::info!(peer = %remote_peer_id, ok = result.is_ok(), "hole punching");
            }
            SwarmEvent::ExternalAddrConfirmed { address } => tracing::info!(%address, "reachable at"),
            _ => {}
        }
    }

    fn handle_gossip(&mut self, source: PeerId, id: gossipsub::MessageId, message: gossipsub::Message) {
        self.count(|m| m.gossip_received += 1);
        let now = Instant::now();
        if self.gossip_limiter.admit(&source, now).is_err() {
            // Over budget: not looked at, not forwarded, no strike.
            self.gossip_rate_limited += 1;
            self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                &id,
                &source,
                MessageAcceptance::Ignore,
            );
            return;
        }
        self.gossip_limiter.charge(&source, message.data.len() as u64, now);
        let acceptance = match GossipBatch::decode(&message.data) {
            Err(e) => {
                tracing::debug!(%source, error = %e, "malformed gossip");
                self.drive(sync::Input::Fault(source));
                MessageAcceptance::Reject
            }
            Ok(batch) if self.blocked_members.contains(&batch.doc) => {
                let n = batch.changes.len() as u64;
                self.count(|m| *m.ignored.entry("blocked_member").or_default() += n);
                MessageAcceptance::Ignore
            }
            Ok(batch) => {
                let report = self.admit(source, batch.changes);
                let admission = admission_of(report.as_ref(), Vec::new());
                self.drive(sync::Input::Admitted {
                    peer: source,
                    admission,
                });
                match report {
                    Some(report) if report.has_misbehaviour() => MessageAcceptance::Reject,
                    Some(report) if !report.admitted.is_empty() => MessageAcceptance::Accept,
                    _ => MessageAcceptance::Ignore,
                }
            }
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&id, &source, acceptance);
    }

    /// Admits changes from `peer` (members blocked here left out). What it
    /// means for `peer` (strikes, for what proves it relayed something no
    /// honest node forwards, see [`mutu_protocol::admission::Fault`]; pulls
    /// of missing dependencies) is the sync machine's business. `None` if
    /// the store failed.
    fn admit(&mut self, peer: PeerId, changes: Vec<SignedChange>) -> Option<Report> {
        let (source, now) = (source_of(&peer), state::now());
        let offered = changes.len();
        let index = self.state.registry().index();
        let gate = &mut self.gate;
        let blocked = &self.blocked_members;
        // Strangers' documents with an answer to the trust set anywhere in
        // the batch: all their changes go to the inbox (the answer depends
        // on the changes before it, which may come first).
        let answering: HashSet<MemberId> = changes
            .iter()
            .filter(|c| gate.may_refuse() && !gate.set().contains(&c.doc()) && !gate.in_inbox(&c.doc()))
            .filter(|c| trust::answers_trusted(c, index, gate.set()))
            .map(SignedChange::doc)
            .collect();
        let changes: Vec<SignedChange> = changes.into_iter().filter(|c| !blocked.contains(&c.doc())).collect();
        let blocked_out = (offered - changes.len()) as u64;
        let changes: Vec<SignedChange> = changes
            .into_iter()
            .filter(|c| {
                gate.take(source, c.doc(), c.change_bytes().len() as u64, now, |_| {
                    answering.contains(&c.doc())
                })
                .is_ok()
            })
            .collect();
        let policy_out = (offered as u64).saturating_sub(blocked_out + changes.len() as u64);
        self.count(|m| {
            *m.ignored.entry("blocked_member").or_default() += blocked_out;
            *m.ignored.entry("replication_policy").or_default() += policy_out;
        });
        if changes.len() < offered {
            tracing::debug!(%peer, ignored = offered - changes.len(), "changes turned away by the replication policy");
        }
        if changes.is_empty() {
            return Some(Report::default());
        }
        let report = match self.state.admit_from(source, changes, now) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "admission failed to persist");
                return None;
            }
        };
        self.rejected += report.rejected.len() as u64;
        self.count(|m| m.count_report(&report));
        let me = self.state.member_id();
        if report
            .admitted
            .iter()
            .any(|(doc, _)| *doc == me || self.gate.set().contains(doc))
        {
            self.refresh_trust();
        }
        if let Some(r) = report.rejected.iter().find(|r| r.reason.is_misbehaviour()) {
            tracing::warn!(%peer, rejected = report.rejected.len(), reason = %r.reason, "rejected changes");
        } else if let Some(r) = report.rejected.first() {
            tracing::debug!(%peer, rejected = report.rejected.len(), reason = %r.reason, "changes not taken");
        }
        Some(report)
    }

    fn inventory(&self) -> BTreeMap<MemberId, HeadsDigest> {
        self.state
            .registry()
            .docs()
            .map(|d| (d.owner(), sync::heads_digest(&d.heads())))
            .collect()
    }

    /// Our inventory as a reconciliation set.
    fn inventory_set(&self) -> sync::reconcile::Set<MemberId, HeadsDigest> {
        sync::reconcile::Set::from_sorted(self.inventory().into_iter().collect())
    }

    /// Documents of `theirs` (a peer's inventory) that differ from ours,
    /// members blocked here left out.
    fn differing(&self, theirs: &[(MemberId, HeadsDigest)]) -> Vec<MemberId> {
        sync::diff_inventory(&self.inventory(), theirs)
            .into_iter()
            .filter(|doc| !self.blocked_members.contains(doc) && self.gate.wants(doc))
            .collect()
    }

    fn send_sync_request(&mut self, peer: PeerId, request: Request) -> OutboundRequestId {
        self.sync_counters.requests += 1;
        self.swarm.behaviour_mut().sync.send_request(&peer, request)
    }

    /// Sends `response`; returns its encoded size.
    fn send_sync_response(&mut self, channel: ResponseChannel<Response>, response: Response) -> u64 {
        let size = cbor_len(&response);
        let _ = self.swarm.behaviour_mut().sync.send_response(channel, response);
        size
    }

    fn handle_sync_event(&mut self, event: request_response::Event<Request, Response>) {
        match event {
            request_response::Event::Message {
                peer,
                connection_id,
                message,
            } => match message {
                request_response::Message::Request {
                    request_id,
                    request,
                    channel,
                } => self.handle_sync_request(peer, request_id, request, channel),
                request_response::Message::Response { request_id, response } => {
                    self.drive(sync::Input::Response {
                        id: request_id,
                        via: connection_id,
                        response,
                    });
                }
            },
            request_response::Event::OutboundFailure {
                request_id,
                error,
                peer,
                ..
            } => {
                tracing::debug!(%peer, %error, "sync request failed");
                self.drive(sync::Input::Failed(request_id));
            }
            request_response::Event::InboundFailure {
                peer,
                error,
                request_id,
                ..
            } => {
                self.drive(sync::Input::Answered(request_id));
                tracing::debug!(%peer, %error, "sync response failed")
            }
            request_response::Event::ResponseSent { request_id, .. } => self.drive(sync::Input::Answered(request_id)),
        }
    }

    fn handle_sync_request(
        &mut self,
        peer: PeerId,
        id: InboundRequestId,
        request: Request,
        channel: ResponseChannel<Response>,
    ) {
        if let Err(e) = request.check() {
            self.drive(sync::Input::Fault(peer));
            self.send_sync_response(channel, Response::error(e.to_string()));
            return;
        }
        // The machine serves it or refuses it (over budget, too many
        // unread answers) in this drive.
        self.deciding.insert(id, (peer, request, channel));
        self.drive(sync::Input::Request { peer, id });
        if let Some((peer, _, channel)) = self.deciding.remove(&id) {
            tracing::error!(%peer, "the sync machine neither served nor refused a request");
            self.send_sync_response(channel, Response::error("internal error"));
        }
    }

    /// The answer to a well-formed request, the work it cost (budget
    /// bytes), and, for an inventory, the documents the peer holds
    /// differently (to pull them too).
    fn serve(&self, request: Request) -> (Response, u64, Option<Vec<MemberId>>) {
        match request {
            Request::Summary { digest, docs } => {
                let ours = self.inventory();
                let work = ours.len() as u64 * INVENTORY_ENTRY_COST;
                let response = match sync::summary_response(&ours, &digest, docs) {
                    // Reconcile ranges; the codec says `OutOfSync` to a
                    // `/mutu/sync/1` peer.
                    Response::OutOfSync => Response::Differ,
                    in_sync => in_sync,
                };
                (response, work, None)
            }
            Request::Reconcile(message) => {
                let ours = self.inventory_set();
                let work = (ours.len() + message.items()) as u64 * INVENTORY_ENTRY_COST;
                let (response, differ) = match ours.reconcile(&message, sync::reconcile::Role::Responder) {
                    Ok(outcome) => {
                        // The pairs they listed show what they hold that we
                        // lack: pull it too (as an inventory does).
                        let differ: Vec<MemberId> = outcome
                            .need
                            .into_iter()
                            .filter(|doc| !self.blocked_members.contains(doc) && self.gate.wants(doc))
                            .collect();
                        let reply = outcome.reply.unwrap_or(sync::DocsMessage { ranges: Vec::new() });
                        (Response::Reconcile(reply), (!differ.is_empty()).then_some(differ))
                    }
                    Err(e) => (Response::error(e.to_string()), None),
                };
                (response, work, differ)
            }
            Request::Inventory(theirs) => {
                let ours = self.inventory();
                // They may hold what we lack: pull it too.
                let differ = self.differing(&theirs);
                let work = (ours.len() + theirs.len()) as u64 * INVENTORY_ENTRY_COST;
                let response = Response::Inventory(sync::inventory_response(&ours, &theirs));
                (response, work, Some(differ))
            }
            Request::ChangesSince { doc, heads } => {
                let (response, work) = self.changes_response(doc, |d| sync::changes_since(d, &sync::from_wire(&heads)));
                (response, work, None)
            }
            Request::ChangesByHash { doc, hashes } => {
                let (response, work) =
                    self.changes_response(doc, |d| sync::changes_by_hash(d, &sync::from_wire(&hashes)));
                (response, work, None)
            }
        }
    }

    /// One page of the changes of `doc` that `hashes` picks, read from the
    /// store, and the work it cost: the hashes computed and the bytes read.
    fn changes_response(
        &self,
        doc: MemberId,
        hashes: impl FnOnce(&mutu_protocol::doc::MemberDoc) -> Vec<automerge::ChangeHash>,
    ) -> (Response, u64) {
        let Some(d) = self.state.registry().doc(&doc) else {
            let none = Response::Changes {
                changes: Vec::new(),
                more: false,
            };
            return (none, 0);
        };
        let wanted: Vec<[u8; 32]> = hashes(d).into_iter().map(|h| h.0).collect();
        let hashing = wanted.len() as u64 * HASH_COST;
        match self.state.store().changes_page(
            &wanted,
            sync::PAGE_BYTES,
            sync::MAX_CHANGES_PER_RESPONSE,
            sync::CHANGE_ENCODING_OVERHEAD,
        ) {
            Ok(page) => (
                Response::Changes {
                    changes: page.changes,
                    more: page.more,
                },
                hashing + page.bytes_read,
            ),
            Err(e) => (Response::error(e.to_string()), hashing),
        }
    }

    /// Writes what [`peers::Remembered`] changed since the last call, in one
    /// commit, forgetting blocked peers first.
    fn save_peers(&mut self) {
        for peer in self.sync.blocked() {
            self.remembered.forget(peer);
        }
        if let Some((upserts, removed)) = self.remembered.take_changes(state::now())
            && let Err(e) = self.state.store().update_peers(&upserts, &removed)
        {
            tracing::warn!(error = %e, "could not remember peers");
        }
    }

    /// An identify claim: kept in memory, fed to Kademlia only if the peer
    /// speaks it ([`peers::Learnt`]); nothing is written.
    fn handle_identify(&mut self, peer: PeerId, info: identify::Info) {
        self.sync_counters.identify += 1;
        let connected = &self.connected;
        // A loopback address is only this host's: passed on to a peer
        // elsewhere, it makes its dial reach itself, and that failure ends
        // the whole dial (its relayed address included).
        let local = connected.get(&peer).is_some_and(|(_, a)| !reach::routable(a));
        let addrs: Vec<Multiaddr> = (info.listen_addrs.iter())
            .filter(|a| local || reach::routable(a))
            .cloned()
            .collect();
        let update = self
            .learnt
            .learn(peer, &addrs, &info.protocols, |p| connected.contains_key(p));
        let kad = &mut self.swarm.behaviour_mut().kad;
        if let Some(evicted) = update.evicted {
            kad.remove_peer(&evicted);
        }
        for addr in &update.remove {
            kad.remove_address(&peer, addr);
        }
        for addr in update.add {
            kad.add_address(&peer, addr);
        }
        self.reach.on_identify(&mut self.swarm, peer, &info.protocols);
    }

    fn handle_sync_tick(&mut self) {
        let dropped = self.state.expire_pending(state::now());
        if dropped > 0 {
            tracing::debug!(dropped, "changes waited too long for their dependencies");
        }
        self.drive(sync::Input::Tick);
        self.gossip_limiter.forget_full(Instant::now());
        self.save_peers();
    }
}

/// What the sync machine needs of an admission `report` (`None`: the
/// store failed, nothing was taken); `pulled` as [`sync::Output::Admit`]
/// gave it.
fn admission_of(report: Option<&Report>, pulled: Vec<(MemberId, bool)>) -> sync::Admission {
    let Some(report) = report else {
        return sync::Admission {
            pulled,
            ..sync::Admission::default()
        };
    };
    sync::Admission {
        faults: report.rejected.iter().filter(|r| r.reason.is_misbehaviour()).count(),
        missing: report.missing.iter().map(|(doc, _)| *doc).collect(),
        progressed: report.admitted.iter().map(|(doc, _)| *doc).collect(),
        pulled,
    }
}
