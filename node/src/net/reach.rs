//! Reachability of a node behind NAT: what it knows about itself (public,
//! private, unknown; confirmed external addresses), the relays it reserves
//! a slot on, and whether each connection is direct or relayed.
//!
//! - **Public** when the swarm has a confirmed external address that is not
//!   a relayed one (AutoNAT v2 had a peer dial it back, or UPnP mapped a
//!   port); **private** when AutoNAT tests failed and none is confirmed;
//!   **unknown** before any test ended.
//! - Unless public, the node reserves a slot on up to [`MAX_RELAYS`] relays
//!   among the peers that speak Circuit Relay v2's hop protocol (learnt by
//!   identify, over a direct connection this node dialled): it listens on
//!   `<relay address>/p2p/<relay>/p2p-circuit`, and identify and Kademlia
//!   then advertise that circuit address. Reserving while the answer is
//!   still unknown lets a new node be reached from its first seconds.
//! - Every [`REDIAL_EVERY`], bootstrap peers that are not connected are
//!   dialled again and lost reservations renewed, so a restarted relay is
//!   found again; with fewer than [`FEW_PEERS`] peers, a Kademlia bootstrap
//!   finds members whose circuit addresses appeared since, and dials them.
//! - A relayed connection that closes (circuit limits, relay gone) while
//!   it was the only one with its peer is redialled once (over what
//!   Kademlia knows): sync resumes on the new connection.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use libp2p::core::ConnectedPoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{ConnectionId, dial_opts::DialOpts};
use libp2p::{Multiaddr, PeerId, Swarm, relay};

use super::Behaviour;
use super::invite::Invitation;

/// Relays a private node reserves a slot on at once.
pub const MAX_RELAYS: usize = 2;
/// Relays kept as candidates (peers seen speaking the hop protocol).
pub const MAX_KNOWN_RELAYS: usize = 16;
/// Below this many connected peers, every tick runs a Kademlia bootstrap.
pub const FEW_PEERS: usize = 8;
/// Bootstrap addresses kept (configured and joined).
pub const MAX_BOOTSTRAP: usize = 64;
/// How often bootstrap peers are redialled and reservations renewed.
pub const REDIAL_EVERY: Duration = Duration::from_secs(5);

/// What a node knows of its own reachability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reachability {
    Public,
    Private,
    Unknown,
}

/// How a peer is connected: directly (TCP, QUIC, hole punched or not) or
/// through a relay's circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Path {
    Direct,
    Relayed,
}

/// Reachability as `mutu status` and the network page show it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub reachability: Reachability,
    /// Confirmed external addresses (relayed ones included).
    pub external: Vec<String>,
    /// Relays holding a reservation for this node (their peer ids).
    pub relays: Vec<String>,
    /// This node serves Circuit Relay v2 for others.
    pub relay_server: bool,
}

/// The reachability state the actor keeps.
#[derive(Debug)]
pub struct Reach {
    bootstrap: Vec<Multiaddr>,
    relay_server: bool,
    /// Peers that speak the hop protocol, at the address this node dialled.
    relays: BTreeMap<PeerId, Multiaddr>,
    /// Circuit listeners this node opened, by relay.
    reservations: HashMap<libp2p::core::transport::ListenerId, PeerId>,
    /// Relays that accepted a reservation (and whose listener is open).
    accepted: BTreeSet<PeerId>,
    /// Open connections: peer, relayed or not, remote address.
    connections: HashMap<ConnectionId, (PeerId, Path, Multiaddr)>,
    /// Relayed connections closed because a direct one is open.
    superseded: HashSet<ConnectionId>,
    autonat_failed: u64,
    last_tick: Option<Instant>,
}

impl Reach {
    pub fn new(bootstrap: Vec<Multiaddr>, relay_server: bool) -> Self {
        Self {
            bootstrap,
            relay_server,
            relays: BTreeMap::new(),
            reservations: HashMap::new(),
            accepted: BTreeSet::new(),
            connections: HashMap::new(),
            superseded: HashSet::new(),
            autonat_failed: 0,
            last_tick: None,
        }
    }

    /// Public, private or unknown (see the module's documentation).
    pub fn reachability(&self, swarm: &Swarm<Behaviour>) -> Reachability {
        if swarm.external_addresses().any(|a| !is_relayed(a)) {
            Reachability::Public
        } else if self.autonat_failed > 0 {
            Reachability::Private
        } else {
            Reachability::Unknown
        }
    }

    pub fn report(&self, swarm: &Swarm<Behaviour>) -> Report {
        let mut external: Vec<String> = swarm.external_addresses().map(ToString::to_string).collect();
        external.sort();
        Report {
            reachability: self.reachability(swarm),
            external,
            relays: self.accepted.iter().map(ToString::to_string).collect(),
            relay_server: self.relay_server,
        }
    }

    /// How `peer` is connected, and over which address: direct if any of
    /// its connections is.
    pub fn path(&self, peer: &PeerId) -> Option<(Path, &Multiaddr)> {
        let mut best = None;
        for (p, path, addr) in self.connections.values() {
            if p == peer && (best.is_none() || *path == Path::Direct) {
                best = Some((*path, addr));
            }
        }
        best
    }

    /// A connection opened. Returns the relayed connections with `peer`
    /// to close because a direct one is open: left open, they would keep
    /// carrying part of sync (request-response spreads requests over every
    /// connection with a peer) and gossip through the relay, within its
    /// circuit limits, after hole punching succeeded.
    #[must_use]
    pub fn on_connected(
        &mut self,
        connection: ConnectionId,
        peer: PeerId,
        endpoint: &ConnectedPoint,
    ) -> Vec<ConnectionId> {
        let path = if endpoint.is_relayed() {
            Path::Relayed
        } else {
            Path::Direct
        };
        self.connections
            .insert(connection, (peer, path, endpoint.get_remote_address().clone()));
        let direct = self
            .connections
            .values()
            .any(|(p, path, _)| *p == peer && *path == Path::Direct);
        if !direct {
            return Vec::new();
        }
        let relayed: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|(_, (p, path, _))| *p == peer && *path == Path::Relayed)
            .map(|(id, _)| *id)
            .collect();
        self.superseded.extend(relayed.iter().copied());
        relayed
    }

    /// A connection closed: a relayed one that was the last with its peer
    /// is redialled once. True when it was a relayed one closed for a
    /// direct one ([`Self::on_connected`]): the sync requests it carried
    /// failed, and a new sync pass over the direct one finds what they
    /// were fetching.
    pub fn on_closed(&mut self, swarm: &mut Swarm<Behaviour>, connection: ConnectionId) -> bool {
        let superseded = self.superseded.remove(&connection);
        let Some((peer, path, _)) = self.connections.remove(&connection) else {
            return false;
        };
        let others = self.connections.values().any(|(p, ..)| *p == peer);
        if path == Path::Relayed
            && !others
            && let Err(e) = swarm.dial(DialOpts::peer_id(peer).build())
        {
            tracing::debug!(%peer, error = %e, "redial after a circuit closed");
        }
        superseded && others
    }

    /// Identify told us what `peer` speaks: a relay dialled directly
    /// becomes a candidate, and reservations are made if needed.
    pub fn on_identify(&mut self, swarm: &mut Swarm<Behaviour>, peer: PeerId, protocols: &[libp2p::StreamProtocol]) {
        tracing::debug!(%peer, hop = protocols.contains(&relay::HOP_PROTOCOL_NAME), "identify");
        if !protocols.contains(&relay::HOP_PROTOCOL_NAME) || self.relays.contains_key(&peer) {
            return;
        }
        if self.relays.len() >= MAX_KNOWN_RELAYS {
            return;
        }
        let dialled = self
            .connections
            .values()
            .find(|(p, path, addr)| *p == peer && *path == Path::Direct && !is_relayed(addr))
            .map(|(.., addr)| addr.clone());
        let Some(addr) = dialled.or_else(|| self.bootstrap_addr(&peer)) else {
            tracing::debug!(%peer, "a relay not dialled directly: not used");
            return;
        };
        self.relays.insert(peer, without_peer(addr));
        self.reserve(swarm);
    }

    fn bootstrap_addr(&self, peer: &PeerId) -> Option<Multiaddr> {
        self.bootstrap.iter().find(|a| peer_of(a) == Some(*peer)).cloned()
    }

    /// Reserves on known relays up to [`MAX_RELAYS`], unless public.
    pub fn reserve(&mut self, swarm: &mut Swarm<Behaviour>) {
        if self.reachability(swarm) == Reachability::Public {
            return;
        }
        let wanted: Vec<(PeerId, Multiaddr)> = self
            .relays
            .iter()
            .filter(|(p, _)| !self.reservations.values().any(|r| r == *p))
            .map(|(p, a)| (*p, a.clone()))
            .take(MAX_RELAYS.saturating_sub(self.reservations.len()))
            .collect();
        for (relay, addr) in wanted {
            let circuit = addr.with(Protocol::P2p(relay)).with(Protocol::P2pCircuit);
            match swarm.listen_on(circuit.clone()) {
                Ok(id) => {
                    tracing::debug!(%circuit, "reserving");
                    self.reservations.insert(id, relay);
                }
                Err(e) => tracing::debug!(%circuit, error = %e, "reserve on a relay"),
            }
        }
    }

    pub fn on_reservation(&mut self, relay: PeerId) {
        if self.reservations.values().any(|r| *r == relay) {
            self.accepted.insert(relay);
        }
    }

    /// A listener closed: if it was a reservation, the relay may be gone;
    /// [`Reach::tick`] tries again.
    pub fn on_listener_closed(&mut self, id: libp2p::core::transport::ListenerId) {
        if let Some(relay) = self.reservations.remove(&id) {
            self.accepted.remove(&relay);
        }
    }

    pub fn on_autonat(&mut self, ok: bool) {
        if !ok {
            self.autonat_failed += 1;
        }
    }

    /// Redials bootstrap peers that are not connected and renews lost
    /// reservations, at most every [`REDIAL_EVERY`].
    pub fn tick(&mut self, swarm: &mut Swarm<Behaviour>, now: Instant) {
        if self.last_tick.is_some_and(|t| now.duration_since(t) < REDIAL_EVERY) {
            return;
        }
        self.last_tick = Some(now);
        for addr in &self.bootstrap {
            if let Some(peer) = peer_of(addr)
                && !swarm.is_connected(&peer)
                && let Err(e) = swarm.dial(addr.clone())
            {
                tracing::debug!(%addr, error = %e, "redial a bootstrap peer");
            }
        }
        self.reserve(swarm);
        // Few peers yet: ask the DHT again, so members that became
        // reachable since (a new circuit address) are found and dialled.
        if swarm.connected_peers().count() < FEW_PEERS {
            let _ = swarm.behaviour_mut().kad.bootstrap();
        }
    }
}

impl Reach {
    /// An invitation to this node: its confirmed external addresses, its
    /// circuit addresses through relays, then its other listen addresses
    /// (loopback and unspecified ones left out). `None` if it has none, or
    /// the member key is not a libp2p key (it always is).
    pub fn invitation(&self, swarm: &Swarm<Behaviour>, member: mutu_protocol::MemberId) -> Option<Invitation> {
        let external = swarm.external_addresses().cloned();
        let (circuits, direct): (Vec<Multiaddr>, Vec<Multiaddr>) =
            swarm.listeners().filter(|a| routable(a)).cloned().partition(is_relayed);
        let invitation = Invitation::new(member, external.chain(circuits).chain(direct))?;
        (!invitation.addrs.is_empty()).then_some(invitation)
    }

    /// Dials an invited node over every address it gave, tells Kademlia,
    /// and keeps redialling it as a bootstrap peer while this node runs
    /// (once synced, it is remembered across restarts as any peer is).
    pub fn join(&mut self, swarm: &mut Swarm<Behaviour>, invitation: &Invitation) {
        for a in &invitation.addrs {
            swarm.behaviour_mut().kad.add_address(&invitation.peer, a.clone());
            if !self.bootstrap.contains(a) && self.bootstrap.len() < MAX_BOOTSTRAP {
                self.bootstrap.push(a.clone());
            }
        }
        let opts = DialOpts::peer_id(invitation.peer)
            .addresses(invitation.addrs.clone())
            .build();
        if let Err(e) = swarm.dial(opts) {
            tracing::debug!(peer = %invitation.peer, error = %e, "dial an invited node");
        }
    }
}

/// Whether others could dial `addr`: not loopback, not unspecified.
pub fn routable(addr: &Multiaddr) -> bool {
    !addr.iter().any(|p| match p {
        Protocol::Ip4(ip) => ip.is_loopback() || ip.is_unspecified(),
        Protocol::Ip6(ip) => ip.is_loopback() || ip.is_unspecified(),
        Protocol::Memory(_) => true,
        _ => false,
    })
}

/// Whether `addr` goes through a relay.
pub fn is_relayed(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| p == Protocol::P2pCircuit)
}

/// The peer id at the end of `addr`, if any.
pub fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => Some(peer),
        _ => None,
    }
}

fn without_peer(mut addr: Multiaddr) -> Multiaddr {
    if matches!(addr.iter().last(), Some(Protocol::P2p(_))) {
        addr.pop();
    }
    addr
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_circuit_address_is_relayed_and_its_peer_is_the_last_one() {
        let relay = PeerId::random();
        let target = PeerId::random();
        let direct: Multiaddr = format!("/ip4/203.0.113.1/tcp/7071/p2p/{relay}").parse().unwrap();
        let circuit = direct.clone().with(Protocol::P2pCircuit).with(Protocol::P2p(target));
        assert!(!is_relayed(&direct));
        assert!(is_relayed(&circuit));
        assert_eq!(peer_of(&direct), Some(relay));
        assert_eq!(peer_of(&circuit), Some(target));
        assert_eq!(without_peer(direct).to_string(), "/ip4/203.0.113.1/tcp/7071");
    }

    /// A and B meet through relay R, then hole punching opens a direct
    /// connection: the relayed one is closed, a relayed one with another
    /// peer C is kept, and a circuit opened while a direct connection
    /// exists is closed at once.
    #[test]
    fn a_direct_connection_closes_the_relayed_ones_with_its_peer() {
        use libp2p::core::Endpoint;
        use libp2p::core::transport::PortUse;
        let (relay, b, c) = (PeerId::random(), PeerId::random(), PeerId::random());
        let dialer = |address: Multiaddr| ConnectedPoint::Dialer {
            address,
            role_override: Endpoint::Dialer,
            port_use: PortUse::Reuse,
        };
        let via_r = |peer| {
            let r: Multiaddr = format!("/ip4/203.0.113.1/tcp/7071/p2p/{relay}").parse().unwrap();
            dialer(r.with(Protocol::P2pCircuit).with(Protocol::P2p(peer)))
        };
        let id = ConnectionId::new_unchecked;
        let mut reach = Reach::new(Vec::new(), false);
        assert!(reach.on_connected(id(1), b, &via_r(b)).is_empty());
        assert!(reach.on_connected(id(2), c, &via_r(c)).is_empty());
        let punched = dialer("/ip4/203.0.113.3/udp/7071/quic-v1".parse().unwrap());
        assert_eq!(reach.on_connected(id(3), b, &punched), vec![id(1)]);
        // id(1) stays listed until its close is seen (`on_closed`).
        let closed: HashSet<ConnectionId> = reach.on_connected(id(4), b, &via_r(b)).into_iter().collect();
        assert_eq!(closed, HashSet::from([id(1), id(4)]));
    }
}
