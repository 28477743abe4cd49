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
use libp2p::{StreamProtocol, identify, mdns, memory_connection_limits, ping};
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
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub gossipsub: gossipsub::Behaviour,
    pub sync: request_response::Behaviour<sync::wire::Codec>,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    pub kad: kad::Behaviour<MemoryStore>,
    pub mdns: Toggle<mdns::tokio::Behaviour>,
    pub blocked: allow_block_list::Behaviour<BlockedPeers>,
    pub limits: connection_limits::Behaviour,
    pub memory: memory_connection_limits::Behaviour,
}

impl std::fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Behaviour")
            .field("mdns", &self.mdns.is_enabled())
            .field("blocked", self.blocked.blocked_peers())
            .field("max_memory_bytes", &self.memory.max_allowed_bytes())
            .finish_non_exhaustive()
    }
}

impl Behaviour {
    /// Builds every behaviour for `key` and subscribes to [`TOPIC`]. mDNS
    /// needs a running tokio runtime.
    pub fn new(key: &Keypair, config: &Config) -> Result<Self, Error> {
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
                .with_agent_version(format!("mutu/{}", env!("CARGO_PKG_VERSION"))),
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
