//! The network layer: the libp2p swarm of a node and the sync wire format.
//!
//! [`build_swarm`] gives the production swarm (TCP + QUIC, noise, yamux,
//! DNS); [`build_memory_swarm`] gives the same behaviour over the in-process
//! memory transport (listen on `/memory/0`), with the real noise + yamux
//! stack, for multi-node tests. The node actor owns the swarm and drives
//! it; this module only builds it and defines what goes over the wire.

pub mod behaviour;
pub mod invite;
pub mod peers;
pub mod progress;
pub mod rate;
pub mod reach;
pub mod sync;

#[cfg(test)]
mod tests;

use std::time::Duration;

use libp2p::core::Transport;
use libp2p::core::transport::MemoryTransport;
use libp2p::core::upgrade::Version;
use libp2p::identity::Keypair;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{Swarm, SwarmBuilder, noise, tcp, yamux};
use mutu_protocol::Timestamp;

use crate::store::{self, Store};

pub use behaviour::{Behaviour, BehaviourEvent, MAX_GOSSIP_BATCH_BYTES, TOPIC};

/// Network settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Discover peers on the local network with mDNS.
    pub mdns: bool,
    /// Speak `/mutu/sync/2` (range reconciliation, compressed answers) as
    /// well as `/mutu/sync/1`. Off only to test and measure an old node.
    pub sync_v2: bool,
    /// Ask the router for a port mapping (UPnP IGD) when one answers.
    pub upnp: bool,
    /// Serve Circuit Relay v2 for others (a node with a public address),
    /// within [`behaviour::relay_config`]'s limits.
    pub relay_server: bool,
    /// gossipsub `max_transmit_size`: the largest frame sent or accepted.
    pub gossip_max_transmit: usize,
    /// gossipsub heartbeat (mesh maintenance, gossip emission).
    pub gossip_heartbeat: Duration,
    /// Time for a `/mutu/sync/1` request to get its response, and for an
    /// inbound one to be read, answered and written: a stream a peer keeps
    /// open without reading its answer holds that answer this long at most.
    pub sync_request_timeout: Duration,
    /// Concurrent `/mutu/sync/1` streams per connection, inbound and
    /// outbound together (libp2p fails the outbound ones and drops the
    /// inbound ones beyond).
    pub sync_max_concurrent_streams: usize,
    /// How long a connection without any active stream stays open.
    pub idle_timeout: Duration,
    /// Incoming connections still in their handshake (noise, yamux).
    pub max_pending_incoming: u32,
    /// Dials in progress (remembered peers at start, mDNS, Kademlia).
    pub max_pending_outgoing: u32,
    /// Established connections that peers opened.
    pub max_established_incoming: u32,
    /// Established connections that this node opened.
    pub max_established_outgoing: u32,
    /// Established connections, both directions.
    pub max_established: u32,
    /// Established connections with one peer (two: both sides may dial at
    /// once).
    pub max_established_per_peer: u32,
    /// New connections, in or out, are refused while the process uses
    /// more than this share of the machine's physical memory.
    pub max_memory_share: f64,
}

/// Default connection limits, sized for a small VPS (1 vCPU, 1–2 GiB): a
/// registry node talks to tens of member nodes, not thousands.
///
/// What a peer can make a node hold at most, whatever it sends (it has to
/// send the bytes, and a stream lasts at most
/// [`Config::sync_request_timeout`]), per connection:
/// - sync requests being read: [`DEFAULT_SYNC_STREAMS`] ×
///   [`sync::MAX_REQUEST_BYTES`] = 6 MiB, 12 MiB of `Vec` capacity;
/// - streams in negotiation: [`MAX_NEGOTIATING_STREAMS`] × a 256 KiB yamux
///   window = 8 MiB;
/// - a gossip frame being read: 1 MiB, 2 MiB of capacity;
///
/// and per peer, over its connections: answers it has not read,
/// `actor::MAX_RESPONSE_BYTES_IN_FLIGHT_PER_PEER` (8 MiB) + one answer
/// ([`sync::MAX_RESPONSE_BYTES`], 1.06 MiB), held twice while libp2p
/// encodes them: 18 MiB. So one peer ([`DEFAULT_MAX_PER_PEER`]
/// connections) can make a node hold about 62 MiB; answers in flight are
/// also capped over all peers (`actor::MAX_RESPONSE_BYTES_IN_FLIGHT`,
/// 32 MiB), so [`DEFAULT_MAX_ESTABLISHED`] connections of as many
/// identities all sending at full speed could hold about 2.2 GiB, and the
/// memory limit refuses new connections once the process holds
/// [`DEFAULT_MAX_MEMORY_SHARE`] of the machine.
pub const DEFAULT_MAX_PENDING_INCOMING: u32 = 16;
/// See [`DEFAULT_MAX_PENDING_INCOMING`].
pub const DEFAULT_MAX_PENDING_OUTGOING: u32 = 32;
/// See [`DEFAULT_MAX_PENDING_INCOMING`].
pub const DEFAULT_MAX_INCOMING: u32 = 64;
/// See [`DEFAULT_MAX_PENDING_INCOMING`].
pub const DEFAULT_MAX_OUTGOING: u32 = 32;
/// See [`DEFAULT_MAX_PENDING_INCOMING`].
pub const DEFAULT_MAX_ESTABLISHED: u32 = 96;
/// See [`DEFAULT_MAX_PENDING_INCOMING`].
pub const DEFAULT_MAX_PER_PEER: u32 = 2;
/// See [`DEFAULT_MAX_PENDING_INCOMING`]: three quarters of the machine.
pub const DEFAULT_MAX_MEMORY_SHARE: f64 = 0.75;
/// `/mutu/sync/1` streams per connection: an honest peer uses up to
/// `actor::MAX_PULLS_PER_PEER` (8) pulls plus a summary and an inventory
/// page each way, 20 in all.
pub const DEFAULT_SYNC_STREAMS: usize = 24;
/// A page ([`sync::MAX_RESPONSE_BYTES`], 1.06 MiB) takes 9 s at 1 Mbit/s;
/// 20 s leaves room for a slow link and a busy peer.
pub const DEFAULT_SYNC_TIMEOUT: Duration = Duration::from_secs(20);

impl Default for Config {
    fn default() -> Self {
        Self {
            mdns: true,
            upnp: true,
            relay_server: false,
            gossip_max_transmit: MAX_GOSSIP_BATCH_BYTES + behaviour::GOSSIP_FRAME_OVERHEAD,
            gossip_heartbeat: Duration::from_secs(1),
            sync_request_timeout: DEFAULT_SYNC_TIMEOUT,
            sync_max_concurrent_streams: DEFAULT_SYNC_STREAMS,
            idle_timeout: Duration::from_secs(60),
            max_pending_incoming: DEFAULT_MAX_PENDING_INCOMING,
            max_pending_outgoing: DEFAULT_MAX_PENDING_OUTGOING,
            max_established_incoming: DEFAULT_MAX_INCOMING,
            max_established_outgoing: DEFAULT_MAX_OUTGOING,
            max_established: DEFAULT_MAX_ESTABLISHED,
            max_established_per_peer: DEFAULT_MAX_PER_PEER,
            max_memory_share: DEFAULT_MAX_MEMORY_SHARE,
            sync_v2: true,
        }
    }
}

impl Config {
    /// Settings for in-process tests: no mDNS (it would find every other
    /// test node on the host), a fast heartbeat, short timeouts.
    pub fn for_tests() -> Self {
        Self {
            mdns: false,
            upnp: false,
            gossip_heartbeat: Duration::from_millis(100),
            sync_request_timeout: Duration::from_secs(10),
            ..Self::default()
        }
    }
}

/// Errors building or using the swarm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("noise handshake setup: {0}")]
    Noise(#[from] noise::Error),
    #[error("DNS resolver setup: {0}")]
    Dns(#[source] std::io::Error),
    #[error("mDNS setup: {0}")]
    Mdns(#[source] std::io::Error),
    #[error("behaviour setup: {0}")]
    Behaviour(String),
    #[error("gossipsub setup: {0}")]
    Gossipsub(String),
    #[error("gossipsub subscription: {0}")]
    Subscribe(#[from] libp2p::gossipsub::SubscriptionError),
    #[error("gossipsub publish: {0}")]
    Publish(#[source] libp2p::gossipsub::PublishError),
    #[error(transparent)]
    Sync(#[from] sync::Error),
}

/// Dials the peers this node synced with in earlier runs, as a starting
/// node does: at most [`peers::MAX_REDIALS`], most recently synced first,
/// each over the addresses that worked (Kademlia learns them too). Returns
/// how many peers were dialled.
pub fn dial_remembered(swarm: &mut Swarm<Behaviour>, store: &Store, now: Timestamp) -> Result<usize, store::Error> {
    let redials = peers::Remembered::load(store.known_peers()?, now).redials(peers::MAX_REDIALS);
    let count = redials.len();
    for (peer, addrs) in redials {
        for a in &addrs {
            swarm.behaviour_mut().kad.add_address(&peer, a.clone());
        }
        if let Err(e) = swarm.dial(DialOpts::peer_id(peer).addresses(addrs).build()) {
            tracing::debug!(%peer, error = %e, "dial a remembered peer");
        }
    }
    Ok(count)
}

/// The production swarm: TCP (nodelay) and QUIC, noise, yamux, DNS.
pub fn build_swarm(keypair: Keypair, config: &Config) -> Result<Swarm<Behaviour>, Error> {
    let behaviour_key = keypair.clone();
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux_config)?
        .with_quic()
        .with_dns()
        .map_err(Error::Dns)?
        .with_relay_client(noise::Config::new, yamux_config)?
        .with_behaviour(|_, relay_client| {
            Behaviour::new(&behaviour_key, config, relay_client)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        })
        .map_err(|e| Error::Behaviour(e.to_string()))?
        .with_swarm_config(|c| swarm_config(c, config))
        .build();
    Ok(swarm)
}

/// Streams a peer may have in negotiation (multistream-select) on one
/// connection at once; more are reset. Each may hold a yamux window
/// (256 KiB) of data nobody reads yet: 32 of them hold 8 MiB at most. An
/// honest peer opens about ten at once (its pulls, a summary, gossip).
pub const MAX_NEGOTIATING_STREAMS: usize = 32;
/// Streams per connection, all protocols, both directions (yamux's default
/// is 512): sync uses up to 2 × [`DEFAULT_SYNC_STREAMS`], gossip, Kademlia,
/// identify and ping a few.
pub const MAX_STREAMS: usize = 128;

fn yamux_config() -> yamux::Config {
    let mut c = yamux::Config::default();
    c.set_max_num_streams(MAX_STREAMS);
    c
}

fn swarm_config(c: libp2p::swarm::Config, config: &Config) -> libp2p::swarm::Config {
    c.with_idle_connection_timeout(config.idle_timeout)
        .with_max_negotiating_inbound_streams(MAX_NEGOTIATING_STREAMS)
}

/// The same behaviour over the in-process memory transport with noise and
/// yamux, for multi-node tests: listen on `/memory/0`, dial the address the
/// listener reports.
pub fn build_memory_swarm(keypair: Keypair, config: &Config) -> Result<Swarm<Behaviour>, Error> {
    let behaviour_key = keypair.clone();
    let noise_config = noise::Config::new(&keypair)?;
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_other_transport(|_| {
            MemoryTransport::default()
                .upgrade(Version::V1)
                .authenticate(noise_config)
                .multiplex(yamux_config())
        })
        .unwrap_or_else(|never| match never {})
        .with_relay_client(noise::Config::new, yamux_config)?
        .with_behaviour(|_, relay_client| {
            Behaviour::new(&behaviour_key, config, relay_client)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        })
        .map_err(|e| Error::Behaviour(e.to_string()))?
        .with_swarm_config(|c| swarm_config(c, config))
        .build();
    Ok(swarm)
}
