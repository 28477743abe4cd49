#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Peers a node remembers (issue 7, row 7): identify claims cost no commit
//! and never reach the store; only an address this node dialled and synced
//! over is kept, and a restarted node dials those peers by itself.

use std::collections::{BTreeMap, BTreeSet};

use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use mutu_node::net::peers::MAX_LEARNT_ADDRS;
use mutu_node::net::sync::Response;
use mutu_node::net::{self, Behaviour, BehaviourEvent};
use mutu_node::store::StoredPeer;
use mutu_tests::net::{TIMEOUT, TestNode, connect, seeded_bytes, wait_for};
use tokio::sync::{mpsc, oneshot};

/// Throwaway identities that connect to the node.
const IDENTITIES: u64 = 40;
/// Identify messages each identity sends (the first on connecting, then
/// pushes), each with [`CLAIMED`] made-up addresses.
const MESSAGES: u32 = 5;
/// Made-up addresses per message (libp2p announces at most 20 external
/// addresses).
const CLAIMED: u32 = 20;

type Cmd = Box<dyn FnOnce(&mut Swarm<Behaviour>) + Send>;

/// A raw swarm with a throwaway identity, driven by a task of this test. It
/// answers nothing useful and ignores gossip.
struct Throwaway {
    peer_id: PeerId,
    commands: mpsc::Sender<Cmd>,
}

impl Throwaway {
    fn spawn(n: u64) -> Self {
        let keypair = libp2p::identity::Keypair::ed25519_from_bytes(seeded_bytes::<32>("throwaway", n)).unwrap();
        let peer_id = keypair.public().to_peer_id();
        let mut swarm = net::build_memory_swarm(keypair, &net::Config::for_tests()).unwrap();
        let (tx, mut rx) = mpsc::channel::<Cmd>(16);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    command = rx.recv() => match command {
                        Some(f) => f(&mut swarm),
                        None => break,
                    },
                    event = swarm.select_next_some() => on_event(&mut swarm, event),
                }
            }
        });
        Self { peer_id, commands: tx }
    }

    async fn run<R: Send + 'static>(&self, f: impl FnOnce(&mut Swarm<Behaviour>) -> R + Send + 'static) -> R {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Box::new(move |s| {
                let _ = tx.send(f(s));
            }))
            .await
            .unwrap();
        rx.await.unwrap()
    }
}

fn on_event(swarm: &mut Swarm<Behaviour>, event: SwarmEvent<BehaviourEvent>) {
    match event {
        SwarmEvent::Behaviour(BehaviourEvent::Sync(libp2p::request_response::Event::Message {
            message: libp2p::request_response::Message::Request { channel, .. },
            ..
        })) => {
            let _ = swarm
                .behaviour_mut()
                .sync
                .send_response(channel, Response::error("not served"));
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

/// The `k`-th batch of made-up addresses of identity `n`.
fn claims(n: u64, k: u32) -> Vec<Multiaddr> {
    (0..CLAIMED)
        .map(|i| {
            format!("/ip4/203.0.{}.{}/tcp/{}", n, k * CLAIMED + i, 7_000 + i)
                .parse()
                .unwrap()
        })
        .collect()
}

async fn table(node: &TestNode) -> Vec<StoredPeer> {
    node.handle()
        .test(|s, _| s.store().known_peers().unwrap())
        .await
        .unwrap()
}

async fn commits(node: &TestNode) -> u64 {
    node.handle().test(|s, _| s.store().commits()).await.unwrap()
}

/// Addresses Kademlia holds per peer at `node`.
async fn kad_addrs(node: &TestNode) -> BTreeMap<PeerId, BTreeSet<Multiaddr>> {
    node.handle()
        .test(|_, s| {
            let mut out = BTreeMap::new();
            for bucket in s.behaviour_mut().kad.kbuckets() {
                for e in bucket.iter() {
                    // Kademlia keeps addresses with `/p2p/<id>`: compare without.
                    let bare = e.node.value.iter().map(|a| {
                        let mut a = a.clone();
                        if matches!(a.iter().last(), Some(Protocol::P2p(_))) {
                            a.pop();
                        }
                        a
                    });
                    out.insert(*e.node.key.preimage(), bare.collect());
                }
            }
            out
        })
        .await
        .unwrap()
}

/// Topology:
///
/// ```text
///        c ◄──── a ◄──── b          (a dials c, b dials a)
///                ▲
///                │ t_0 … t_39: throwaway identities dialling a one after
///                │ the other, each sending 5 identify messages of 20
///                │ made-up addresses (4 000 claims in all)
/// ```
///
/// 1. a syncs with c over the connection it dialled: a remembers c at the
///    address it dialled; it does not remember b (b dialled a: whatever b
///    listens on is only a claim).
/// 2. The identities connect and claim. a's peer table stays exactly what
///    it was, a's store commits nothing meanwhile (identify costs no
///    commit), and Kademlia holds at most 8 addresses for any identity.
/// 3. b restarts and dials a by itself (it remembers a); a restarts and
///    dials c by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claimed_addresses_are_never_stored_and_synced_peers_are_redialled() {
    let mut a = TestNode::spawn(0, "a").await;
    let mut b = TestNode::spawn(1, "b").await;
    let c = TestNode::spawn(2, "c").await;
    connect(&a, &c).await;
    connect(&b, &a).await;

    // 1. What a and b remember.
    let c_id = c.peer_id.to_string();
    wait_for(TIMEOUT, "a to remember c", || async {
        table(&a).await.iter().any(|p| p.peer == c_id)
    })
    .await;
    let a_table = table(&a).await;
    assert_eq!(a_table.len(), 1, "{a_table:?}");
    assert_eq!(a_table[0].addrs, vec![c.addr.to_string()]);
    let a_id = a.peer_id.to_string();
    wait_for(TIMEOUT, "b to remember a", || async {
        table(&b).await.iter().any(|p| p.peer == a_id)
    })
    .await;
    // (b may also remember c, if Kademlia made it dial c.)
    let b_table = table(&b).await;
    let b_of_a = b_table.iter().find(|p| p.peer == a_id).unwrap();
    assert_eq!(b_of_a.addrs, vec![a.addr.to_string()]);
    let a_commits = commits(&a).await;
    let identified = a.status().await.identify_received;

    // 2. The identities.
    let mut identities = BTreeSet::new();
    for n in 0..IDENTITIES {
        let t = Throwaway::spawn(n);
        let (t_id, a_peer, a_addr) = (t.peer_id, a.peer_id, a.addr.clone());
        identities.insert(t_id);
        for claim in claims(n, 0) {
            t.run(move |s| s.add_external_address(claim)).await;
        }
        t.run(move |s| s.dial(a_addr).unwrap()).await;
        // Both ends: identify pushes only to peers it knows connected.
        wait_for(TIMEOUT, "an identity to connect", || async {
            a.is_connected(t_id).await && t.run(move |s| s.is_connected(&a_peer)).await
        })
        .await;
        // And a has its first identify of it: libp2p-identify 0.48 drops a
        // push that arrives before a connection's first identify exchange
        // is done (`handler.rs`, `remote_info` still `None`).
        let first = identified + u64::from(MESSAGES) * n + 1;
        wait_for(TIMEOUT, "a to identify the identity", || async {
            a.status().await.identify_received >= first
        })
        .await;
        for k in 1..MESSAGES {
            let (old, new) = (claims(n, k - 1), claims(n, k));
            t.run(move |s| {
                for addr in &old {
                    s.remove_external_address(addr);
                }
                for addr in new {
                    s.add_external_address(addr);
                }
                s.behaviour_mut().identify.push([a_peer]);
            })
            .await;
        }
        let heard = identified + u64::from(MESSAGES) * (n + 1);
        wait_for(TIMEOUT, "a to hear every claim of the identity", || async {
            a.status().await.identify_received >= heard
        })
        .await;
        t.run(move |s| {
            let _ = s.disconnect_peer_id(a_peer);
        })
        .await;
    }
    assert_eq!(table(&a).await, a_table, "identify claims reached the peer table");
    assert_eq!(commits(&a).await, a_commits, "identify cost commits");
    let kad = kad_addrs(&a).await;
    let claimed: Vec<usize> = kad
        .iter()
        .filter(|(p, _)| identities.contains(p))
        .map(|(_, addrs)| addrs.len())
        .collect();
    assert!(
        !claimed.is_empty(),
        "no identity reached Kademlia: the test proves nothing"
    );
    let most = claimed.iter().max().copied().unwrap_or(0);
    assert!(most <= MAX_LEARNT_ADDRS, "Kademlia holds {most} addresses of one peer");

    // 3. Restarts: each dials what it remembers, nobody dials by hand.
    b.stop().await;
    wait_for(TIMEOUT, "a to see b gone", || async {
        !a.is_connected(b.peer_id).await
    })
    .await;
    b.restart().await;
    wait_for(TIMEOUT, "the restarted b to dial a", || async {
        b.is_connected(a.peer_id).await && a.is_connected(b.peer_id).await
    })
    .await;
    a.stop().await;
    a.restart().await;
    wait_for(TIMEOUT, "the restarted a to dial c", || async {
        a.is_connected(c.peer_id).await && c.is_connected(a.peer_id).await
    })
    .await;
    // a remembers c, and no identity: they only claimed. (It may remember
    // b too if Kademlia made it dial b while b was restarting.)
    let after: BTreeSet<String> = table(&a).await.into_iter().map(|p| p.peer).collect();
    assert!(after.contains(&c_id), "{after:?}");
    let honest: BTreeSet<String> = [c_id, b.peer_id.to_string()].into();
    assert!(after.is_subset(&honest), "{after:?}");
}
