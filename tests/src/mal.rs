//! A malicious peer for multi-node tests: a raw swarm with the node's own
//! behaviour and its own key, driven by the test. It publishes whatever
//! gossip batches the test gives it and, once told to forge, answers
//! `/mutu/sync/1` with an inventory claiming the forged documents and with
//! the forged changes for any document asked for.
//!
//! [`MalNode::spawn`] runs over the memory transport (multi-node tests);
//! [`MalNode::spawn_tcp`] over TCP, dialling only (the `hostile` benchmark,
//! whose flooded node is another process).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap, HashSet};

use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::request_response::{self, Message};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use mutu_node::net::sync::{GossipBatch, HeadsDigest, Request, Response};
use mutu_node::net::{self, Behaviour, BehaviourEvent};
use mutu_protocol::{MemberId, SignedChange};
use tokio::sync::{mpsc, oneshot};

use crate::net::{memory_addr, seeded_bytes};

/// What the malicious swarm has seen, for the test to wait on.
#[derive(Debug, Default)]
pub struct Log {
    pub established: HashMap<PeerId, u32>,
    /// Connections that ended, and dials that failed, per peer.
    pub lost: HashMap<PeerId, u32>,
    pub subscribed: HashSet<PeerId>,
    /// `Changes` responses carrying forgeries.
    pub forged_responses: u32,
    /// Bytes of the forged changes in those responses.
    pub forged_bytes: u64,
}

/// The malicious peer's state, shared by its event loop and the test's
/// commands.
#[derive(Debug, Default)]
pub struct Mal {
    pub log: Log,
    /// When set, sync answers carry these forged changes, per document.
    pub forge_sync: Option<BTreeMap<MemberId, Vec<SignedChange>>>,
}

pub type MalFn = Box<dyn FnOnce(&mut Swarm<Behaviour>, &mut Mal) + Send>;

/// A handle on the task that drives the malicious swarm.
#[derive(Debug)]
pub struct MalNode {
    pub peer_id: PeerId,
    commands: mpsc::Sender<MalFn>,
}

impl MalNode {
    /// Malicious peer `n` on the memory transport, listening on
    /// [`memory_addr`]`(n)`.
    pub fn spawn(n: u64) -> Self {
        let keypair = libp2p::identity::Keypair::ed25519_from_bytes(seeded_bytes::<32>("malicious", n)).unwrap();
        let mut swarm = net::build_memory_swarm(keypair, &net::Config::for_tests()).unwrap();
        swarm.listen_on(memory_addr(n)).unwrap();
        Self::drive(swarm)
    }

    /// A malicious peer with `keypair` on the production transports (TCP,
    /// noise, yamux) with `config`; it listens nowhere, it only dials.
    pub fn spawn_tcp(keypair: libp2p::identity::Keypair, config: &net::Config) -> Self {
        Self::drive(net::build_swarm(keypair, config).unwrap())
    }

    /// Runs `swarm` in a task of its own; the task ends when the handle is
    /// dropped.
    fn drive(mut swarm: Swarm<Behaviour>) -> Self {
        let peer_id = *swarm.local_peer_id();
        let (tx, mut rx) = mpsc::channel::<MalFn>(16);
        tokio::spawn(async move {
            let mut mal = Mal::default();
            loop {
                tokio::select! {
                    command = rx.recv() => match command {
                        Some(f) => f(&mut swarm, &mut mal),
                        None => break,
                    },
                    event = swarm.select_next_some() => mal.on_event(&mut swarm, event),
                }
            }
        });
        Self { peer_id, commands: tx }
    }

    /// Runs `f` on the swarm and the malicious state.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Swarm<Behaviour>, &mut Mal) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Box::new(move |s, m| {
                let _ = tx.send(f(s, m));
            }))
            .await
            .unwrap();
        rx.await.unwrap()
    }

    pub async fn dial(&self, addr: Multiaddr) {
        self.run(move |s, _| s.dial(addr).unwrap()).await;
    }

    /// Publishes a forged batch; it must reach at least one peer.
    pub async fn publish(&self, batch: GossipBatch) {
        self.run(move |s, _| {
            // The node's own encoder refuses nothing here: the shape is
            // right, only signatures are wrong.
            let bytes = batch.encode().unwrap();
            s.behaviour_mut()
                .gossipsub
                .publish(net::behaviour::topic(), bytes)
                .unwrap();
        })
        .await;
    }
}

impl Mal {
    fn on_event(&mut self, swarm: &mut Swarm<Behaviour>, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, .. } => *self.log.established.entry(peer_id).or_default() += 1,
            SwarmEvent::ConnectionClosed { peer_id, .. }
            | SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer_id), ..
            } => *self.log.lost.entry(peer_id).or_default() += 1,
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed { peer_id, .. })) => {
                self.log.subscribed.insert(peer_id);
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
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                message: Message::Request { request, channel, .. },
                ..
            })) => {
                let response = self.answer(request);
                let _ = swarm.behaviour_mut().sync.send_response(channel, response);
            }
            _ => {}
        }
    }

    /// Honest answers (nothing to offer) until forging starts; then an
    /// inventory that claims every forged document, and forged changes for
    /// any document asked for. Other requests (e.g. a summary step before
    /// inventories) get `Error`, which an honest node does not count as
    /// misbehaviour.
    fn answer(&mut self, request: Request) -> Response {
        match (request, &self.forge_sync) {
            (Request::Inventory(_), None) => Response::Inventory(Vec::new()),
            (Request::Inventory(_), Some(forged)) => Response::Inventory(forged_inventory(forged)),
            (Request::ChangesSince { doc, .. } | Request::ChangesByHash { doc, .. }, forged) => {
                let changes = forged.as_ref().and_then(|f| f.get(&doc)).cloned().unwrap_or_default();
                if !changes.is_empty() {
                    self.log.forged_responses += 1;
                    self.log.forged_bytes += changes.iter().map(|c| c.size() as u64).sum::<u64>();
                }
                Response::Changes { changes, more: false }
            }
            _ => Response::error("not served"),
        }
    }
}

/// An inventory claiming heads for every forged document that nobody has.
pub fn forged_inventory(forged: &BTreeMap<MemberId, Vec<SignedChange>>) -> Vec<(MemberId, HeadsDigest)> {
    forged.keys().map(|d| (*d, HeadsDigest([0xa5; 32]))).collect()
}
