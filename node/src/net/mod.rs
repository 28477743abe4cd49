//! The network layer: the libp2p swarm of a node and the sync wire format.
//!
//! [`build_swarm`] gives the production swarm (TCP + QUIC, noise, yamux,
//! DNS); [`build_memory_swarm`] gives the same behaviour over the in-process
//! memory transport (listen on `/memory/0`), with the real noise + yamux
//! stack, for multi-node tests. The node actor owns the swarm and drives
//! it; this module only builds it and defines what goes over the wire.

pub mod behaviour;
pub mod sync;

#[cfg(test)]
mod tests;

use std::time::Duration;

use libp2p::core::Transport;
use libp2p::core::transport::MemoryTransport;
use libp2p::core::upgrade::Version;
use libp2p::identity::Keypair;
use libp2p::{Swarm, SwarmBuilder, noise, tcp, yamux};

pub use behaviour::{Behaviour, BehaviourEvent, MAX_GOSSIP_BATCH_BYTES, TOPIC};

/// Network settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Discover peers on the local network with mDNS.
    pub mdns: bool,
    /// gossipsub `max_transmit_size`: the largest frame sent or accepted.
    pub gossip_max_transmit: usize,
    /// gossipsub heartbeat (mesh maintenance, gossip emission).
    pub gossip_heartbeat: Duration,
    /// Time for a `/mutu/sync/1` request to get its response.
    pub sync_request_timeout: Duration,
    /// Concurrent `/mutu/sync/1` streams per connection.
    pub sync_max_concurrent_streams: usize,
    /// How long a connection without any active stream stays open.
    pub idle_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mdns: true,
            gossip_max_transmit: MAX_GOSSIP_BATCH_BYTES + behaviour::GOSSIP_FRAME_OVERHEAD,
            gossip_heartbeat: Duration::from_secs(1),
            sync_request_timeout: Duration::from_secs(60),
            sync_max_concurrent_streams: 32,
            idle_timeout: Duration::from_secs(60),
        }
    }
}

impl Config {
    /// Settings for in-process tests: no mDNS (it would find every other
    /// test node on the host), a fast heartbeat, short timeouts.
    pub fn for_tests() -> Self {
        Self {
            mdns: false,
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
    #[error("gossipsub setup: {0}")]
    Gossipsub(String),
    #[error("gossipsub subscription: {0}")]
    Subscribe(#[from] libp2p::gossipsub::SubscriptionError),
    #[error("gossipsub publish: {0}")]
    Publish(#[source] libp2p::gossipsub::PublishError),
    #[error(transparent)]
    Sync(#[from] sync::Error),
}

/// The production swarm: TCP (nodelay) and QUIC, noise, yamux, DNS.
pub fn build_swarm(keypair: Keypair, config: &Config) -> Result<Swarm<Behaviour>, Error> {
    let behaviour = Behaviour::new(&keypair, config)?;
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_quic()
        .with_dns()
        .map_err(Error::Dns)?
        .with_behaviour(|_| behaviour)
        .unwrap_or_else(|never| match never {})
        .with_swarm_config(|c| c.with_idle_connection_timeout(config.idle_timeout))
        .build();
    Ok(swarm)
}

/// The same behaviour over the in-process memory transport with noise and
/// yamux, for multi-node tests: listen on `/memory/0`, dial the address the
/// listener reports.
pub fn build_memory_swarm(keypair: Keypair, config: &Config) -> Result<Swarm<Behaviour>, Error> {
    let behaviour = Behaviour::new(&keypair, config)?;
    let noise_config = noise::Config::new(&keypair)?;
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_other_transport(|_| {
            MemoryTransport::default()
                .upgrade(Version::V1)
                .authenticate(noise_config)
                .multiplex(yamux::Config::default())
        })
        .unwrap_or_else(|never| match never {})
        .with_behaviour(|_| behaviour)
        .unwrap_or_else(|never| match never {})
        .with_swarm_config(|c| c.with_idle_connection_timeout(config.idle_timeout))
        .build();
    Ok(swarm)
}
