//! A harness for multi-node tests: in-process nodes over the real libp2p
//! stack (memory transport, noise, yamux, gossipsub, `/mutu/sync/1`).
//!
//! - [`TestNode`]: a node actor on its own home in a temporary directory,
//!   with a fixed identity (keys from [`seeded_bytes`]) and a fixed memory
//!   address (`/memory/<BASE_PORT + n>`): [`TestNode::spawn`],
//!   [`TestNode::stop`], [`TestNode::restart`] (same home, same address).
//! - Topology helpers: [`connect`], [`partition`], [`heal`]. A partition
//!   blocks every peer across the cut on both sides with the swarm's
//!   allow/block list (connections close and new ones are refused); healing
//!   unblocks and dials again.
//! - Waiting: [`wait_for`] polls a predicate every 50 ms under a timeout;
//!   nothing here sleeps as a way to synchronise.
//! - [`views_digest`]: SHA-256 of the JSON of every listing view, to compare
//!   what nodes show.
//!
//! Seeds: every key, nonce and record this harness makes derives from
//! [`test_seed`] (`MUTU_TEST_SEED`, default fixed) and a label, so a run is
//! reproducible.
//!
//! Everything here panics on failure, with a message saying what failed:
//! this is test code, and a test that cannot set itself up must fail.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use libp2p::core::transport::ListenerId;
use libp2p::{Multiaddr, PeerId};
use mutu_node::actor::{self, Handle, Status};
use mutu_node::home::Home;
use mutu_node::net;
use mutu_node::state::{self, State};
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::{MemberId, ReplicaNonce};
use mutu_protocol::record::{
    Body, Condition, Cosign, MemberKind, Need, NeedStatus, Pledge, PledgeStatus, Profile, RecordId, Resource,
};
use mutu_protocol::registry::{Registry, Trust};
use mutu_protocol::view::{Filter, Index, Views};
use mutu_protocol::{Record, SecretKey, SignedChange, Timestamp};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Memory port of node `n` is `BASE_PORT + n`. Memory ports are global to a
/// process (one test binary): tests of one binary use distinct `n`.
pub const BASE_PORT: u64 = 40_000;
/// Anti-entropy interval of test nodes unless a test sets its own.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);
/// Default wait for a predicate.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How often [`wait_for`] polls.
pub const POLL: Duration = Duration::from_millis(50);
/// The instant views are computed at by [`views_digest`] callers that have
/// no reason to pick another: 2030-01-01T00:00:00Z.
pub const VIEWS_NOW: Timestamp = Timestamp::from_millis(1_893_456_000_000);

/// The run's seed: `MUTU_TEST_SEED` (decimal) or a fixed default.
pub fn test_seed() -> u64 {
    std::env::var("MUTU_TEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0x6d75_7475)
}

/// `N` deterministic bytes for `(label, n)` under [`test_seed`].
pub fn seeded_bytes<const N: usize>(label: &str, n: u64) -> [u8; N] {
    let mut out = [0u8; N];
    for (counter, chunk) in (0u32..).zip(out.chunks_mut(32)) {
        let mut h = Sha256::new();
        h.update(test_seed().to_le_bytes());
        h.update(label.as_bytes());
        h.update(n.to_le_bytes());
        h.update(counter.to_le_bytes());
        let digest = h.finalize();
        chunk.copy_from_slice(&digest[..chunk.len()]);
    }
    out
}

/// The member key of `(label, n)`.
pub fn member_key(label: &str, n: u64) -> SecretKey {
    SecretKey::from_bytes(&seeded_bytes(label, n))
}

/// The fixed memory address of node `n`.
pub fn memory_addr(n: u64) -> Multiaddr {
    format!("/memory/{}", BASE_PORT + n)
        .parse()
        .expect("a memory multiaddr parses")
}

/// A profile named `name`.
pub fn profile(name: &str) -> Profile {
    Profile {
        name: name.to_owned(),
        member_kind: MemberKind::Association,
        country: Some("FR".into()),
        sectors: vec![],
        website: None,
        description: String::new(),
    }
}

/// An open need titled `title`, with a goal of 600 EUR.
pub fn need(title: &str) -> Body {
    Body::Need(Need {
        title: title.to_owned(),
        description: String::new(),
        tags: vec!["test".into()],
        project: None,
        goal: Some("600EUR".parse().expect("an amount parses")),
        days_goal: None,
        deadline: None,
        status: NeedStatus::Open,
        merged_into: None,
        decision: Default::default(),
    })
}

/// A conditional pledge of `amount` (e.g. `"100EUR"`) toward `need`.
pub fn pledge(need: RecordId, amount: &str) -> Body {
    Body::Pledge(Pledge {
        need,
        resource: Resource::Money(amount.parse().expect("an amount parses")),
        condition: Condition::IfGoalReached,
        expires_at: None,
        status: PledgeStatus::Active,
    })
}

/// "We need this too" on `need`.
pub fn cosign(need: RecordId, note: &str) -> Body {
    Body::Cosign(Cosign {
        need,
        note: note.to_owned(),
    })
}

/// A member's document written with the protocol alone, no node: one
/// signed change per batch of bodies, each change on top of the previous
/// one, as replica `replica` of `key`, at `now`. Record nonces derive from
/// `(label, n)`. Returns the changes in causal order and the record ids.
pub fn member_changes(
    key: &SecretKey,
    replica: ReplicaNonce,
    batches: Vec<Vec<Body>>,
    now: Timestamp,
    label: &str,
) -> (Vec<SignedChange>, Vec<RecordId>) {
    let me = key.member_id();
    let mut registry = Registry::new();
    let (mut changes, mut ids) = (Vec::new(), Vec::new());
    let mut counter = 0u64;
    for bodies in batches {
        let records: Vec<_> = bodies
            .into_iter()
            .map(|body| {
                counter += 1;
                let nonce = seeded_bytes(label, counter);
                Record::new(me, nonce, now, body).sign(key).expect("a valid record")
            })
            .collect();
        ids.extend(records.iter().map(|r| r.id()));
        let doc = registry.doc(&me).cloned().unwrap_or_else(|| MemberDoc::new(me));
        let change = doc.write(key, &replica, &records, now).expect("a change");
        let report = registry
            .admit(vec![change.clone()], now, Trust::Untrusted, |_| Ok::<(), ()>(()))
            .expect("nothing to persist");
        assert_eq!(report.admitted.len(), 1, "the change is admitted: {report:?}");
        changes.push(change);
    }
    (changes, ids)
}

/// SHA-256 (hex) of the JSON of the needs, pledges, catalogues, projects
/// and members views of `index` at `now`: equal digests, equal views.
pub fn views_digest(index: &Index, now: Timestamp) -> String {
    let views = Views::new(index, now);
    let all = Filter::default();
    let json = serde_json::json!({
        "needs": views.needs(&all),
        "pledges": views.pledges(&all),
        "catalogues": views.catalogues(&all),
        "projects": views.projects(&all),
        "members": views.members(&all),
    });
    let digest = Sha256::digest(json.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Polls `pred` every [`POLL`] until it holds; panics naming `what` after
/// `limit`.
pub async fn wait_for<F, Fut>(limit: Duration, what: &str, mut pred: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if pred().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// A node actor on its own home, with a fixed identity and address.
#[derive(Debug)]
pub struct TestNode {
    /// The node's number: its key seed and its memory port.
    pub n: u64,
    pub name: String,
    pub addr: Multiaddr,
    pub peer_id: PeerId,
    pub member: MemberId,
    home: PathBuf,
    config: actor::Config,
    net: net::Config,
    running: Option<Running>,
    _dir: tempfile::TempDir,
}

/// What exists while the actor runs.
#[derive(Debug)]
struct Running {
    handle: Handle,
    listener: ListenerId,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl TestNode {
    /// A new member `name` (key from `("node", n)`) on a fresh home,
    /// listening on [`memory_addr`]`(n)`, anti-entropy every
    /// [`SYNC_INTERVAL`].
    pub async fn spawn(n: u64, name: &str) -> Self {
        Self::spawn_with(
            n,
            name,
            actor::Config {
                sync_interval: SYNC_INTERVAL,
                ..actor::Config::default()
            },
        )
        .await
    }

    /// [`TestNode::spawn`] with actor settings of the test's choosing.
    pub async fn spawn_with(n: u64, name: &str, config: actor::Config) -> Self {
        Self::spawn_with_net(n, name, config, net::Config::for_tests()).await
    }

    /// [`TestNode::spawn_with`] with network settings of the test's
    /// choosing (e.g. an old node that speaks `/mutu/sync/1` only).
    pub async fn spawn_with_net(n: u64, name: &str, config: actor::Config, net: net::Config) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().join("home");
        let home = Home::resolve(Some(root.clone())).expect("a home");
        // State::init would draw a random identity: make a seeded one.
        let key = home
            .create_identity(seeded_bytes("node", n), seeded_bytes("replica", n))
            .expect("an identity");
        let mut state = State::open(home).expect("the new home opens");
        state
            .create(Body::Profile(profile(name)), state::now())
            .expect("the profile is written");
        let keypair = libp2p::identity::Keypair::ed25519_from_bytes(key.to_bytes()).expect("an ed25519 key");
        let mut node = Self {
            n,
            name: name.to_owned(),
            addr: memory_addr(n),
            peer_id: keypair.public().to_peer_id(),
            member: key.member_id(),
            home: root,
            config,
            net,
            running: None,
            _dir: dir,
        };
        node.start(state).await;
        node
    }

    async fn start(&mut self, state: State) {
        let keypair =
            libp2p::identity::Keypair::ed25519_from_bytes(state.secret_key().to_bytes()).expect("an ed25519 key");
        let mut swarm = net::build_memory_swarm(keypair, &self.net).expect("a memory swarm");
        let listener = swarm.listen_on(self.addr.clone()).expect("the memory address is free");
        // As `mutu run` does: dial the peers remembered from earlier runs.
        net::dial_remembered(&mut swarm, state.store(), state::now()).expect("the peer table reads");
        let (tx, rx) = watch::channel(false);
        let (handle, task) = actor::spawn(state, swarm, self.config.clone(), rx).expect("the actor starts");
        // Listening is asynchronous: wait until the address is bound, so a
        // peer's dial cannot race it.
        let addr = self.addr.to_string();
        wait_for(TIMEOUT, "the node to listen", || {
            let (handle, addr) = (handle.clone(), addr.clone());
            async move { handle.status().await.is_ok_and(|s| s.listen.contains(&addr)) }
        })
        .await;
        self.running = Some(Running {
            handle,
            listener,
            shutdown: tx,
            task,
        });
    }

    /// The running node's handle. Panics if the node is stopped.
    pub fn handle(&self) -> &Handle {
        &self.running.as_ref().expect("the node is running").handle
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Stops the actor (closing its listener first, which frees the memory
    /// address) and waits until it has dropped its swarm and its store
    /// (releasing the lock).
    pub async fn stop(&mut self) {
        let running = self.running.take().expect("the node is running");
        // The memory transport frees a port only when its listener is
        // removed, not when the swarm is dropped: remove it, or a restart
        // could not listen on the same address.
        let listener = running.listener;
        running
            .handle
            .test(move |_, s| s.remove_listener(listener))
            .await
            .expect("the node runs");
        running.shutdown.send(true).expect("the actor listens for shutdown");
        running.task.await.expect("the actor task ends cleanly");
    }

    /// Starts the node again from its home, on the same memory address.
    pub async fn restart(&mut self) {
        assert!(self.running.is_none(), "stop the node before restarting it");
        let home = Home::resolve(Some(self.home.clone())).expect("a home");
        let state = State::open(home).expect("the home opens again");
        self.start(state).await;
    }

    /// Opens the stopped node's home without a network: what a restart
    /// would start from. Drop it before [`TestNode::restart`].
    pub fn open_offline(&self) -> State {
        assert!(self.running.is_none(), "stop the node before opening its home");
        State::open(Home::resolve(Some(self.home.clone())).expect("a home")).expect("the home opens")
    }

    pub async fn status(&self) -> Status {
        self.handle().status().await.expect("the node runs")
    }

    /// Creates a record as this node's member (published by gossip).
    pub async fn create(&self, body: Body) -> RecordId {
        self.handle()
            .test(move |s, _| s.create(body, state::now()))
            .await
            .expect("the node runs")
            .unwrap_or_else(|e| panic!("the write is refused: {e}"))
    }

    /// Whether `id` is visible in this node's index.
    pub async fn has(&self, id: RecordId) -> bool {
        self.handle()
            .with_snapshot(move |s| s.index().get(&id).is_some())
            .await
            .expect("the node runs")
    }

    /// Whether every one of `ids` is visible here.
    pub async fn has_all(&self, ids: &[RecordId]) -> bool {
        let ids = ids.to_vec();
        self.handle()
            .with_snapshot(move |s| ids.iter().all(|id| s.index().get(id).is_some()))
            .await
            .expect("the node runs")
    }

    /// Whether none of `ids` is in this node's index (not even tombstoned).
    pub async fn has_none(&self, ids: &[RecordId]) -> bool {
        let ids = ids.to_vec();
        self.handle()
            .with_snapshot(move |s| ids.iter().all(|id| s.index().get_any(id).is_none()))
            .await
            .expect("the node runs")
    }

    /// Number of valid records in the index (tombstones included).
    pub async fn record_count(&self) -> usize {
        self.handle()
            .with_snapshot(|s| s.index().len())
            .await
            .expect("the node runs")
    }

    /// [`views_digest`] of this node's index at `now`.
    pub async fn digest(&self, now: Timestamp) -> String {
        self.handle()
            .with_snapshot(move |s| views_digest(s.index(), now))
            .await
            .expect("the node runs")
    }

    /// Whether this node's swarm has a connection to `peer`.
    pub async fn is_connected(&self, peer: PeerId) -> bool {
        self.handle()
            .test(move |_, s| s.is_connected(&peer))
            .await
            .expect("the node runs")
    }

    /// Blocks (`true`) or unblocks `peer` on this node's swarm.
    pub async fn set_blocked(&self, peer: PeerId, blocked: bool) {
        self.handle()
            .test(move |_, s| {
                if blocked {
                    s.behaviour_mut().blocked.block_peer(peer);
                } else {
                    s.behaviour_mut().blocked.unblock_peer(peer);
                }
            })
            .await
            .expect("the node runs");
    }
}

/// Dials `to` from `from` and waits until both ends see the connection.
pub async fn connect(from: &TestNode, to: &TestNode) {
    from.handle().dial(to.addr.clone()).await.expect("the node runs");
    let what = format!("{} and {} to connect", from.name, to.name);
    wait_for(TIMEOUT, &what, || async {
        from.is_connected(to.peer_id).await && to.is_connected(from.peer_id).await
    })
    .await;
}

/// Connects every pair of `nodes` (the earlier dials the later).
pub async fn connect_all(nodes: &[&TestNode]) {
    for (i, a) in nodes.iter().enumerate() {
        for b in &nodes[i + 1..] {
            connect(a, b).await;
        }
    }
}

/// Cuts every link between `left` and `right`: each side blocks every node
/// of the other side, and the call returns once no connection crosses.
pub async fn partition(left: &[&TestNode], right: &[&TestNode]) {
    for l in left {
        for r in right {
            l.set_blocked(r.peer_id, true).await;
            r.set_blocked(l.peer_id, true).await;
        }
    }
    wait_for(TIMEOUT, "the partition to close every crossing connection", || async {
        for l in left {
            for r in right {
                if l.is_connected(r.peer_id).await || r.is_connected(l.peer_id).await {
                    return false;
                }
            }
        }
        true
    })
    .await;
}

/// Undoes [`partition`]: unblocks both ways and reconnects every pair
/// across the cut (left dials right).
pub async fn heal(left: &[&TestNode], right: &[&TestNode]) {
    for l in left {
        for r in right {
            l.set_blocked(r.peer_id, false).await;
            r.set_blocked(l.peer_id, false).await;
        }
    }
    for l in left {
        for r in right {
            connect(l, r).await;
        }
    }
}

/// Waits until every node shows the same views (at `now`); returns the
/// common digest.
pub async fn wait_converged(nodes: &[&TestNode], now: Timestamp, limit: Duration) -> String {
    wait_for(limit, "every node to show the same views", || async {
        let first = nodes[0].digest(now).await;
        for n in &nodes[1..] {
            if n.digest(now).await != first {
                return false;
            }
        }
        true
    })
    .await;
    nodes[0].digest(now).await
}
