//! What a node knows about other peers' addresses, and what it keeps.
//!
//! Two tables, both bounded:
//!
//! - [`Learnt`]: what peers *claim* in identify (their listen addresses).
//!   In memory only, never written to the store: at most
//!   [`MAX_LEARNT_ADDRS`] addresses per peer and [`MAX_LEARNT_PEERS`] peers
//!   (the least recently heard disconnected peer makes room first). It
//!   decides what Kademlia is told: only peers that speak
//!   [`KAD_PROTOCOL`](super::behaviour::KAD_PROTOCOL), only their current
//!   claim, so Kademlia's routing table holds at most
//!   [`MAX_LEARNT_ADDRS`] addresses for a peer however often it pushes new
//!   ones.
//! - [`Remembered`]: peers this node *dialled and synced with*, and the
//!   address that worked (the connection's own address, not a claim). This
//!   is what the store keeps across restarts (`store::Store::known_peers`)
//!   and what a starting node dials ([`Remembered::redials`], at most
//!   [`MAX_REDIALS`]). At most [`MAX_REMEMBERED`] peers, most recently
//!   synced kept; a peer not synced with for [`FORGET_AFTER`] is dropped.
//!   Changes are written in batches ([`Remembered::take_changes`], once per
//!   anti-entropy tick at most), and a peer synced again is rewritten only
//!   when its entry is older than [`REFRESH_AFTER`]: a connection storm
//!   costs no commit.
//!
//! Pure: time is passed in.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId, StreamProtocol};
use mutu_protocol::Timestamp;

use super::behaviour::KAD_PROTOCOL;
use crate::store::StoredPeer;

/// Addresses kept per peer from its identify claims.
pub const MAX_LEARNT_ADDRS: usize = 8;
/// Peers whose claims are kept: 1 024 × 8 addresses of ~30 bytes, about
/// 300 KB.
pub const MAX_LEARNT_PEERS: usize = 1_024;
/// Peers remembered across restarts.
pub const MAX_REMEMBERED: usize = 256;
/// Addresses remembered per peer (a peer may be reachable over TCP and
/// QUIC, on IPv4 and IPv6).
pub const MAX_REMEMBERED_ADDRS: usize = 4;
/// Remembered peers dialled when a node starts, most recently synced first.
pub const MAX_REDIALS: usize = 32;
/// A remembered peer not synced with for this long is forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(30 * 24 * 3600);
/// A remembered peer synced with again is rewritten only if its entry is
/// older than this (or the address changed).
pub const REFRESH_AFTER: Duration = Duration::from_secs(3600);

/// `addr` without a trailing `/p2p/<id>`.
fn bare(addr: &Multiaddr) -> Multiaddr {
    let mut a = addr.clone();
    if matches!(a.iter().last(), Some(Protocol::P2p(_))) {
        a.pop();
    }
    a
}

/// Whether `addr` names a peer other than `peer` (a relay circuit's
/// `/p2p/<relay>/p2p-circuit` is fine: only a trailing id counts).
fn names_other_peer(addr: &Multiaddr, peer: &PeerId) -> bool {
    matches!(addr.iter().last(), Some(Protocol::P2p(id)) if id != *peer)
}

/// What Kademlia must be told after an identify message.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KadUpdate {
    /// Addresses of the peer to remove (no longer in its claim).
    pub remove: Vec<Multiaddr>,
    /// Addresses of the peer to add.
    pub add: Vec<Multiaddr>,
    /// A peer forgotten to make room: remove it from Kademlia.
    pub evicted: Option<PeerId>,
}

#[derive(Debug)]
struct Claim {
    addrs: Vec<Multiaddr>,
    heard: u64,
}

/// Addresses peers claim, in memory (see the module documentation).
#[derive(Debug, Default)]
pub struct Learnt {
    peers: HashMap<PeerId, Claim>,
    counter: u64,
}

impl Learnt {
    /// Takes `peer`'s identify claim (`listen_addrs`, `protocols`) and says
    /// what Kademlia must learn. A peer that does not speak Kademlia is
    /// not fed to it (and loses what it had, if it stopped speaking it).
    /// `connected` tells which peers are connected, for eviction.
    pub fn learn(
        &mut self,
        peer: PeerId,
        listen_addrs: &[Multiaddr],
        protocols: &[StreamProtocol],
        connected: impl Fn(&PeerId) -> bool,
    ) -> KadUpdate {
        let mut new: Vec<Multiaddr> = Vec::new();
        if protocols.contains(&KAD_PROTOCOL) {
            for a in listen_addrs {
                if new.len() >= MAX_LEARNT_ADDRS {
                    break;
                }
                if names_other_peer(a, &peer) {
                    continue;
                }
                let a = bare(a);
                if !new.contains(&a) {
                    new.push(a);
                }
            }
        }
        self.counter += 1;
        let old = self.peers.remove(&peer).map(|c| c.addrs).unwrap_or_default();
        let update = KadUpdate {
            remove: old.iter().filter(|a| !new.contains(a)).cloned().collect(),
            add: new.iter().filter(|a| !old.contains(a)).cloned().collect(),
            evicted: None,
        };
        if new.is_empty() {
            return update;
        }
        let evicted = if self.peers.len() >= MAX_LEARNT_PEERS {
            self.evict(&connected)
        } else {
            None
        };
        self.peers.insert(
            peer,
            Claim {
                addrs: new,
                heard: self.counter,
            },
        );
        KadUpdate { evicted, ..update }
    }

    /// The least recently heard peer, disconnected ones first.
    fn evict(&mut self, connected: &impl Fn(&PeerId) -> bool) -> Option<PeerId> {
        let victim = self
            .peers
            .iter()
            .min_by_key(|(p, c)| (connected(p), c.heard))
            .map(|(p, _)| *p)?;
        self.peers.remove(&victim);
        Some(victim)
    }

    /// The addresses `peer` claims (as kept).
    pub fn addrs(&self, peer: &PeerId) -> &[Multiaddr] {
        self.peers.get(peer).map_or(&[], |c| &c.addrs)
    }

    pub fn len(&self) -> usize {
        self.peers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

#[derive(Debug, Clone)]
struct Entry {
    synced_at: u64,
    addrs: Vec<Multiaddr>,
}

/// Peers this node dialled and synced with (see the module
/// documentation): the store's table, in memory, with the changes not yet
/// written.
#[derive(Debug, Default)]
pub struct Remembered {
    peers: HashMap<PeerId, Entry>,
    dirty: BTreeSet<PeerId>,
    removed: BTreeSet<String>,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Remembered {
    /// The table as stored, at `now`: entries that do not parse or are
    /// expired are dropped (and will be removed from the store), and so
    /// are the oldest beyond [`MAX_REMEMBERED`].
    pub fn load(stored: Vec<StoredPeer>, now: Timestamp) -> Self {
        let mut table = Self::default();
        for s in stored {
            let addrs: Vec<Multiaddr> = s
                .addrs
                .iter()
                .filter_map(|a| a.parse().ok())
                .take(MAX_REMEMBERED_ADDRS)
                .collect();
            match s.peer.parse::<PeerId>() {
                Ok(peer) if !addrs.is_empty() => {
                    table.peers.insert(
                        peer,
                        Entry {
                            synced_at: s.synced_at,
                            addrs,
                        },
                    );
                }
                _ => {
                    table.removed.insert(s.peer);
                }
            }
        }
        table.prune(now);
        table.cap();
        table
    }

    /// A sync with `peer` over a connection this node dialled at `addr`
    /// succeeded at `now`.
    pub fn synced(&mut self, peer: PeerId, addr: &Multiaddr, now: Timestamp) {
        if names_other_peer(addr, &peer) {
            return;
        }
        let addr = bare(addr);
        let now = now.as_millis();
        if let Some(e) = self.peers.get(&peer)
            && e.addrs.first() == Some(&addr)
            && now.saturating_sub(e.synced_at) < millis(REFRESH_AFTER)
        {
            return;
        }
        let entry = self.peers.entry(peer).or_insert(Entry {
            synced_at: now,
            addrs: Vec::new(),
        });
        entry.synced_at = now;
        entry.addrs.retain(|a| *a != addr);
        entry.addrs.insert(0, addr);
        entry.addrs.truncate(MAX_REMEMBERED_ADDRS);
        self.dirty.insert(peer);
        self.removed.remove(&peer.to_string());
        self.cap();
    }

    /// Forgets the least recently synced peers beyond [`MAX_REMEMBERED`].
    fn cap(&mut self) {
        while self.peers.len() > MAX_REMEMBERED {
            let Some(oldest) = self
                .peers
                .iter()
                .min_by_key(|(p, e)| (e.synced_at, **p))
                .map(|(p, _)| *p)
            else {
                break;
            };
            self.forget(&oldest);
        }
    }

    /// Forgets `peer` (e.g. blocked for misbehaving).
    pub fn forget(&mut self, peer: &PeerId) {
        if self.peers.remove(peer).is_some() {
            self.dirty.remove(peer);
            self.removed.insert(peer.to_string());
        }
    }

    pub fn contains(&self, peer: &PeerId) -> bool {
        self.peers.contains_key(peer)
    }

    /// Drops the entries not synced for [`FORGET_AFTER`].
    pub fn prune(&mut self, now: Timestamp) {
        let horizon = now.as_millis().saturating_sub(millis(FORGET_AFTER));
        let expired: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, e)| e.synced_at < horizon)
            .map(|(p, _)| *p)
            .collect();
        for p in expired {
            self.forget(&p);
        }
    }

    /// What to write to the store since the last call (after pruning at
    /// `now`): entries to write and peer ids to remove. `None` when nothing
    /// changed, so no commit is needed.
    pub fn take_changes(&mut self, now: Timestamp) -> Option<(Vec<StoredPeer>, Vec<String>)> {
        self.prune(now);
        if self.dirty.is_empty() && self.removed.is_empty() {
            return None;
        }
        let upserts = std::mem::take(&mut self.dirty)
            .into_iter()
            .filter_map(|p| {
                self.peers.get(&p).map(|e| StoredPeer {
                    peer: p.to_string(),
                    synced_at: e.synced_at,
                    addrs: e.addrs.iter().map(ToString::to_string).collect(),
                })
            })
            .collect();
        let removed = std::mem::take(&mut self.removed).into_iter().collect();
        Some((upserts, removed))
    }

    /// Up to `max` peers to dial, most recently synced first, each with
    /// its addresses (most recent first, with `/p2p/<id>`).
    pub fn redials(&self, max: usize) -> Vec<(PeerId, Vec<Multiaddr>)> {
        let mut all: Vec<(&PeerId, &Entry)> = self.peers.iter().collect();
        all.sort_by(|(pa, a), (pb, b)| b.synced_at.cmp(&a.synced_at).then(pa.cmp(pb)));
        all.into_iter()
            .take(max)
            .map(|(p, e)| {
                let addrs = e
                    .addrs
                    .iter()
                    .map(|a| a.clone().with_p2p(*p).unwrap_or_else(|a| a))
                    .collect();
                (*p, addrs)
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.peers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use libp2p::identity::Keypair;

    use super::*;

    fn peer(n: u32) -> PeerId {
        let mut seed = [0x70; 32];
        seed[..4].copy_from_slice(&n.to_le_bytes());
        Keypair::ed25519_from_bytes(seed).unwrap().public().to_peer_id()
    }

    fn addr(n: u32) -> Multiaddr {
        format!("/ip4/192.0.2.1/tcp/{n}").parse().unwrap()
    }

    const DAY: u64 = 24 * 3600 * 1000;

    fn at(ms: u64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + ms)
    }

    #[test]
    fn claims_feed_kademlia_only_for_kademlia_peers_and_at_most_eight_addresses() {
        let mut l = Learnt::default();
        let claim: Vec<Multiaddr> = (0..300).map(addr).collect();
        let kad = [KAD_PROTOCOL, StreamProtocol::new("/ipfs/id/1.0.0")];
        let up = l.learn(peer(1), &claim, &kad, |_| true);
        assert_eq!(up.add, claim[..MAX_LEARNT_ADDRS].to_vec());
        assert!(up.remove.is_empty() && up.evicted.is_none());
        // The same claim again changes nothing.
        assert_eq!(l.learn(peer(1), &claim, &kad, |_| true), KadUpdate::default());
        // A new claim replaces the old one: still at most 8 in Kademlia.
        let other: Vec<Multiaddr> = (1_000..1_300).map(addr).collect();
        let up = l.learn(peer(1), &other, &kad, |_| true);
        assert_eq!(up.remove, claim[..MAX_LEARNT_ADDRS].to_vec());
        assert_eq!(up.add, other[..MAX_LEARNT_ADDRS].to_vec());
        assert_eq!(l.addrs(&peer(1)).len(), MAX_LEARNT_ADDRS);
        // A peer that does not speak /mutu/kad/1 feeds nothing, and one
        // that stops speaking it is taken out.
        let up = l.learn(peer(2), &claim, &[StreamProtocol::new("/ipfs/kad/1.0.0")], |_| true);
        assert_eq!(up, KadUpdate::default());
        let up = l.learn(peer(1), &other, &[], |_| true);
        assert_eq!(up.remove, other[..MAX_LEARNT_ADDRS].to_vec());
        assert!(up.add.is_empty());
        assert!(l.is_empty());
    }

    #[test]
    fn claims_naming_another_peer_are_skipped_and_duplicates_count_once() {
        let mut l = Learnt::default();
        let me = peer(1);
        let claim = vec![
            addr(1).with_p2p(peer(2)).unwrap(),
            addr(2).with_p2p(me).unwrap(),
            addr(2),
            addr(3),
        ];
        let up = l.learn(me, &claim, &[KAD_PROTOCOL], |_| false);
        assert_eq!(up.add, vec![addr(2), addr(3)]);
    }

    #[test]
    fn the_claim_table_is_bounded_and_evicts_disconnected_peers_first() {
        let mut l = Learnt::default();
        let keep = peer(0);
        l.learn(keep, &[addr(0)], &[KAD_PROTOCOL], |_| true);
        let ids: Vec<PeerId> = (100..MAX_LEARNT_PEERS as u32 + 150).map(peer).collect();
        let mut evicted = Vec::new();
        for (i, p) in ids.iter().enumerate() {
            let up = l.learn(*p, &[addr(i as u32)], &[KAD_PROTOCOL], |q| *q == keep);
            evicted.extend(up.evicted);
            assert!(l.len() <= MAX_LEARNT_PEERS);
        }
        // The connected peer stayed although it was heard first; the
        // oldest disconnected ones went.
        assert_eq!(l.addrs(&keep), &[addr(0)]);
        assert_eq!(evicted, ids[..51].to_vec());
    }

    #[test]
    fn a_synced_peer_is_written_once_then_only_when_stale_or_moved() {
        let mut r = Remembered::default();
        assert_eq!(r.take_changes(at(0)), None);
        r.synced(peer(1), &addr(1).with_p2p(peer(1)).unwrap(), at(0));
        let (up, removed) = r.take_changes(at(0)).unwrap();
        assert_eq!(
            up,
            vec![StoredPeer {
                peer: peer(1).to_string(),
                synced_at: at(0).as_millis(),
                addrs: vec![addr(1).to_string()],
            }]
        );
        assert!(removed.is_empty());
        // Synced again soon over the same address: nothing to write.
        for i in 1..100 {
            r.synced(peer(1), &addr(1), at(i * 1_000));
        }
        assert_eq!(r.take_changes(at(100_000)), None);
        // Over another address: written, most recent first.
        r.synced(peer(1), &addr(2), at(200_000));
        let (up, _) = r.take_changes(at(200_000)).unwrap();
        assert_eq!(up[0].addrs, vec![addr(2).to_string(), addr(1).to_string()]);
        // An hour later: refreshed.
        r.synced(peer(1), &addr(2), at(200_000 + 3_600_000));
        assert!(r.take_changes(at(200_000 + 3_600_000)).is_some());
        // An address naming another peer is no address of this one.
        r.synced(peer(1), &addr(9).with_p2p(peer(2)).unwrap(), at(5 * DAY));
        assert_eq!(r.take_changes(at(5 * DAY)), None);
    }

    #[test]
    fn the_table_is_capped_most_recent_kept_and_pruned_after_thirty_days() {
        let mut r = Remembered::default();
        let ids: Vec<PeerId> = (100..MAX_REMEMBERED as u32 + 110).map(peer).collect();
        for (i, p) in ids.iter().enumerate() {
            for a in 0..6 {
                r.synced(*p, &addr(a), at(i as u64 * 1_000));
            }
        }
        assert_eq!(r.len(), MAX_REMEMBERED);
        assert!(ids[..10].iter().all(|p| !r.contains(p)));
        let (up, removed) = r.take_changes(at(0)).unwrap();
        assert_eq!(up.len(), MAX_REMEMBERED);
        assert!(up.iter().all(|p| p.addrs.len() == MAX_REMEMBERED_ADDRS));
        assert_eq!(removed.len(), 10);
        // Redials: the most recent first, bounded.
        let redials = r.redials(MAX_REDIALS);
        assert_eq!(redials.len(), MAX_REDIALS);
        assert_eq!(redials[0].0, *ids.last().unwrap());
        assert_eq!(redials[0].1[0], addr(5).with_p2p(redials[0].0).unwrap());
        // Thirty days without a sync: forgotten.
        let last = (MAX_REMEMBERED as u64 + 9) * 1_000;
        r.synced(ids[100], &addr(7), at(last + 20 * DAY));
        let (_, removed) = r.take_changes(at(last + 31 * DAY)).unwrap();
        assert_eq!(removed.len(), MAX_REMEMBERED - 1);
        assert_eq!(r.len(), 1);
        assert!(r.contains(&ids[100]));
    }

    #[test]
    fn loading_drops_damaged_expired_and_excess_entries() {
        let now = at(40 * DAY);
        let mut stored = vec![
            StoredPeer {
                peer: "not a peer id".into(),
                synced_at: now.as_millis(),
                addrs: vec![addr(1).to_string()],
            },
            StoredPeer {
                peer: peer(1).to_string(),
                synced_at: now.as_millis() - 31 * DAY,
                addrs: vec![addr(1).to_string()],
            },
            StoredPeer {
                peer: peer(2).to_string(),
                synced_at: now.as_millis(),
                addrs: vec!["garbage".into()],
            },
            StoredPeer {
                peer: peer(3).to_string(),
                synced_at: now.as_millis() - DAY,
                addrs: (0..10).map(|a| addr(a).to_string()).collect(),
            },
        ];
        stored.sort_by(|a, b| a.peer.cmp(&b.peer));
        let mut r = Remembered::load(stored, now);
        assert_eq!(r.len(), 1);
        assert_eq!(r.redials(10)[0].1.len(), MAX_REMEMBERED_ADDRS);
        let (up, mut removed) = r.take_changes(now).unwrap();
        assert!(up.is_empty());
        removed.sort();
        let mut expected = vec!["not a peer id".to_owned(), peer(1).to_string(), peer(2).to_string()];
        expected.sort();
        assert_eq!(removed, expected);
    }
}
