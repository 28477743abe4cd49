//! The composed libp2p behaviour of a mutu node.
//!
//! - gossipsub on [`TOPIC`]: anonymous messages (our changes are signed by
//!   their authors; gossipsub signing would only prove who relayed, at ~5x
//!   the cost), message id = SHA-256 of the payload, validation on (the node
//!   reports Accept / Reject / Ignore after admission), peer scoring on so a
//!   Reject penalises the relaying peer;
//! - `/mutu/sync/1` request-response with CBOR ([`super::sync`]);
//! - identify, ping, Kademlia (own protocol name, server mode), mDNS
//!   (toggle), and an allow/block list for local blocks and test partitions;
//! - for members behind NAT: the Circuit Relay v2 client (reservations on
//!   relays, see [`super::reach`]), DCUtR (hole punching: a relayed
//!   connection upgraded to a direct one), AutoNAT v2 client and server
//!   (which of our addresses others can dial), UPnP port mapping (toggle),
//!   and the relay server (toggle, `mutu run --relay`, limits in
//!   [`relay_config`]);
//! - connection limits (pending and established, incoming and outgoing, per
//!   peer) and a memory limit that refuses new connections while the
//!   process uses more than a share of the machine's memory: see
//!   [`Config`] for the numbers and what they cost at most.

use std::collections::HashMap;

use libp2p::allow_block_list::{self, BlockedPeers};
use libp2p::connection_limits::{self, ConnectionLimits};
use libp2p::gossipsub::{
    self, IdentTopic, MessageAuthenticity, MessageId, PeerScoreParams, PeerScoreThresholds, PublishError,
    TopicScoreParams, ValidationMode,
};
use libp2p::identity::Keypair;
use libp2p::kad::{self, store::MemoryStore};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, behaviour::toggle::Toggle};
use libp2p::{StreamProtocol, autonat, dcutr, identify, mdns, memory_connection_limits, ping, relay, upnp};
use sha2::{Digest, Sha256};

use super::sync::{self, GossipBatch};
use super::{Config, Error};

/// The gossipsub topic of signed changes.
pub const TOPIC: &str = "mutu/v1/changes";
/// Upper bound on one encoded gossip batch (the payload of one message).
pub const MAX_GOSSIP_BATCH_BYTES: usize = 1024 * 1024;
/// Room for gossipsub's protobuf framing around a payload (topic, field
/// tags, lengths): `max_transmit_size` bounds the whole frame.
pub const GOSSIP_FRAME_OVERHEAD: usize = 4 * 1024;
/// Kademlia protocol name: mutu peers form their own DHT, apart from IPFS.
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/mutu/kad/1");
/// Identify protocol version string.
pub const IDENTIFY_PROTOCOL: &str = "/mutu/1";

/// The topic of signed changes.
pub fn topic() -> IdentTopic {
    IdentTopic::new(TOPIC)
}

/// Every behaviour of a node. The derived event enum is `BehaviourEvent`,
/// one variant per field (`BehaviourEvent::Gossipsub(..)`, `::Sync(..)`…).
///
/// The behaviours that refuse connections come first: the derived
/// behaviour asks each field in order and stops at the first refusal, so a
/// refused connection leaves no handler in the others (request-response
/// would otherwise keep a connection it never hears closed, and trip its
/// own assertion when the peer's last connection closes).
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub blocked: allow_block_list::Behaviour<BlockedPeers>,
    pub limits: connection_limits::Behaviour,
    pub memory: memory_connection_limits::Behaviour,
    pub gossipsub: gossipsub::Behaviour,
    pub sync: request_response::Behaviour<sync::wire::Codec>,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    pub kad: kad::Behaviour<MemoryStore>,
    pub mdns: Toggle<mdns::tokio::Behaviour>,
    pub relay_client: relay::client::Behaviour,
    pub dcutr: dcutr::Behaviour,
    pub autonat: autonat::v2::client::Behaviour,
    pub autonat_server: autonat::v2::server::Behaviour,
    pub upnp: Toggle<upnp::tokio::Behaviour>,
    pub relay: Toggle<relay::Behaviour>,
}

impl std::fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Behaviour")
            .field("mdns", &self.mdns.is_enabled())
            .field("blocked", self.blocked.blocked_peers())
            .field("max_memory_bytes", &self.memory.max_allowed_bytes())
            .field("upnp", &self.upnp.is_enabled())
            .field("relay", &self.relay.is_enabled())
            .finish_non_exhaustive()
    }
}

impl Behaviour {
    /// Builds every behaviour for `key` and subscribes to [`TOPIC`]. mDNS
    /// needs a running tokio runtime.
    pub fn new(key: &Keypair, config: &Config, relay_client: relay::client::Behaviour) -> Result<Self, Error> {
        let peer_id = key.public().to_peer_id();

        let gossip_config = gossipsub::ConfigBuilder::default()
            .validation_mode(ValidationMode::Anonymous)
            .validate_messages()
            .message_id_fn(|m: &gossipsub::Message| MessageId::from(Sha256::digest(&m.data).to_vec()))
            .max_transmit_size(config.gossip_max_transmit)
            .heartbeat_interval(config.gossip_heartbeat)
            .build()
            .map_err(|e| Error::Gossipsub(e.to_string()))?;
        let mut gossipsub = gossipsub::Behaviour::new(MessageAuthenticity::Anonymous, gossip_config)
            .map_err(|e| Error::Gossipsub(e.to_string()))?;
        let (params, thresholds) = peer_score();
        gossipsub
            .with_peer_score(params, thresholds)
            .map_err(Error::Gossipsub)?;
        gossipsub.subscribe(&topic())?;

        // `/mutu/sync/2` first: a peer that speaks it picks it.
        let protocols = if config.sync_v2 {
            vec![(sync::wire::PROTOCOL_V2, ProtocolSupport::Full)]
        } else {
            Vec::new()
        };
        let sync = request_response::Behaviour::with_codec(
            sync::wire::Codec::new(sync::wire::register(peer_id)),
            protocols.into_iter().chain([(sync::PROTOCOL, ProtocolSupport::Full)]),
            request_response::Config::default()
                .with_request_timeout(config.sync_request_timeout)
                .with_max_concurrent_streams(config.sync_max_concurrent_streams),
        );

        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.to_owned(), key.public())
                .with_agent_version(format!("mutu/{}", env!("CARGO_PKG_VERSION")))
                // A reservation on a relay adds a circuit address: peers
                // (and through their Kademlia, everyone) learn it at once.
                .with_push_listen_addr_updates(true),
        );

        let mut kad = kad::Behaviour::with_config(peer_id, MemoryStore::new(peer_id), kad::Config::new(KAD_PROTOCOL));
        // Otherwise kad stays a client until it has a confirmed external
        // address, which a node behind NAT or in a test never gets.
        kad.set_mode(Some(kad::Mode::Server));

        let mdns = if config.mdns {
            Some(mdns::tokio::Behaviour::new(mdns::Config::default(), peer_id).map_err(Error::Mdns)?)
        } else {
            None
        };

        let limits = ConnectionLimits::default()
            .with_max_pending_incoming(Some(config.max_pending_incoming))
            .with_max_pending_outgoing(Some(config.max_pending_outgoing))
            .with_max_established_incoming(Some(config.max_established_incoming))
            .with_max_established_outgoing(Some(config.max_established_outgoing))
            .with_max_established(Some(config.max_established))
            .with_max_established_per_peer(Some(config.max_established_per_peer));

        Ok(Self {
            gossipsub,
            sync,
            identify,
            ping: ping::Behaviour::new(ping::Config::new()),
            kad,
            mdns: Toggle::from(mdns),
            blocked: allow_block_list::Behaviour::default(),
            limits: connection_limits::Behaviour::new(limits),
            memory: memory_connection_limits::Behaviour::with_max_percentage(config.max_memory_share),
            relay_client,
            dcutr: dcutr::Behaviour::new(peer_id),
            autonat: autonat::v2::client::Behaviour::default(),
            autonat_server: autonat::v2::server::Behaviour::default(),
            upnp: Toggle::from(config.upnp.then(upnp::tokio::Behaviour::default)),
            relay: Toggle::from(config.relay_server.then(|| {
                let mut relay = relay::Behaviour::new(peer_id, relay_config());
                // Left to itself, the relay waits for AutoNAT to confirm an
                // external address before offering the hop protocol; the
                // operator who turns it on says the node is public.
                relay.set_status(Some(relay::Status::Enable));
                relay
            })),
        })
    }

    /// Publishes `batch` on [`TOPIC`]. `Ok(None)` when gossipsub declines
    /// without harm: the same bytes were already published
    /// (`Duplicate`), or no peer is subscribed yet (catch-up will carry
    /// the changes).
    pub fn publish(&mut self, batch: &GossipBatch) -> Result<Option<MessageId>, Error> {
        let bytes = batch.encode()?;
        match self.gossipsub.publish(topic(), bytes) {
            Ok(id) => Ok(Some(id)),
            Err(PublishError::Duplicate | PublishError::NoPeersSubscribedToTopic) => Ok(None),
            Err(e) => Err(Error::Publish(e)),
        }
    }
}

/// Reservations a relay holds at once (one per member node behind NAT it
/// serves; a reservation costs a few hundred bytes of state).
pub const RELAY_MAX_RESERVATIONS: usize = 128;
/// Reservations per peer (one per relay address it listens on).
pub const RELAY_MAX_RESERVATIONS_PER_PEER: usize = 4;
/// Circuits (relayed connections) a relay carries at once.
pub const RELAY_MAX_CIRCUITS: usize = 64;
/// Circuits per peer (as source or destination).
pub const RELAY_MAX_CIRCUITS_PER_PEER: usize = 8;
/// How long one circuit lasts before the relay resets it; the nodes then
/// hole-punch or open a new circuit, and sync resumes where it stopped.
pub const RELAY_MAX_CIRCUIT_DURATION: std::time::Duration = std::time::Duration::from_secs(10 * 60);
/// Bytes one circuit carries (both directions together) before the relay
/// resets it: 64 pages of a sync catch-up. A relay at its limits moves at
/// most [`RELAY_MAX_CIRCUITS`] × this = 4 GiB per 10 minutes, and holds
/// two copy buffers per circuit (a few KiB each): a small VPS (1 vCPU,
/// 1 GiB) carries that.
pub const RELAY_MAX_CIRCUIT_BYTES: u64 = 64 * 1024 * 1024;

/// The relay server's limits, sized for a small VPS: see the `RELAY_*`
/// constants. Reservations last an hour (clients renew them); the rate
/// limits per peer and per IP are libp2p's defaults (a reservation or a
/// circuit every minute or two, bursts of 30 to 60 an hour).
pub fn relay_config() -> relay::Config {
    relay::Config {
        max_reservations: RELAY_MAX_RESERVATIONS,
        max_reservations_per_peer: RELAY_MAX_RESERVATIONS_PER_PEER,
        max_circuits: RELAY_MAX_CIRCUITS,
        max_circuits_per_peer: RELAY_MAX_CIRCUITS_PER_PEER,
        max_circuit_duration: RELAY_MAX_CIRCUIT_DURATION,
        max_circuit_bytes: RELAY_MAX_CIRCUIT_BYTES,
        ..relay::Config::default()
    }
}

/// Peer scoring: only the signals that make sense for a quiet topic.
///
/// - P4 (invalid messages, i.e. our Reject: forged or malformed changes)
///   weighs heavily: score = -20 × count² (decaying over about an hour), so
///   one bad message puts a peer below the gossip threshold (-10), two
///   below publish (-50), three below graylist (-80) whatever its positive
///   score, which is capped at [`PeerScoreParams::topic_score_cap`] = 10.
/// - P1 (time in mesh) and P2 (first deliveries) reward honest peers a
///   little.
/// - P3/P3b (mesh delivery deficits) are off: the registry topic is quiet
///   for long stretches, and a peer that has nothing to deliver is not
///   misbehaving.
/// - IP colocation is off: Sybil resistance comes from signatures, and
///   several nodes behind one address (a LAN, a test host) are normal.
pub fn peer_score() -> (PeerScoreParams, PeerScoreThresholds) {
    let topic_params = TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: std::time::Duration::from_secs(1),
        time_in_mesh_cap: 600.0,
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: gossipsub::score_parameter_decay(std::time::Duration::from_secs(600)),
        first_message_deliveries_cap: 10.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -20.0,
        invalid_message_deliveries_decay: gossipsub::score_parameter_decay(std::time::Duration::from_secs(3600)),
        ..TopicScoreParams::default()
    };
    let mut topics = HashMap::new();
    topics.insert(topic().hash(), topic_params);
    let params = PeerScoreParams {
        topics,
        topic_score_cap: 10.0,
        ip_colocation_factor_weight: 0.0,
        ..PeerScoreParams::default()
    };
    (params, PeerScoreThresholds::default())
}
