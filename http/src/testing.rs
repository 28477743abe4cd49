#![allow(clippy::unwrap_used, clippy::expect_used)]
//! In-process test nodes for this crate's unit tests: a fresh member in a
//! temporary home, on a memory swarm, with its actor running.
//!
//! The tests crate has a richer harness (`mutu_tests::net`) for networks of
//! nodes that restart; this one is the plain single node the API, web and
//! export tests put a router in front of.

use libp2p::Multiaddr;
use mutu_protocol::record::Profile;
use tokio::sync::watch;

use mutu_node::actor::{self, Handle};
use mutu_node::home::Home;
use mutu_node::net;
use mutu_node::state::{self, State};

/// A running node. Dropping it stops the actor (the shutdown sender goes)
/// and removes its home directory.
pub(crate) struct TestNode {
    /// The running actor.
    pub handle: Handle,
    /// The memory address it listens on, `/memory/{port}`.
    pub addr: Multiaddr,
    /// Its home directory.
    pub home: Home,
    /// Keeps the actor running while held.
    _shutdown: watch::Sender<bool>,
    /// Holds the home directory, `<tempdir>/home`.
    _dir: tempfile::TempDir,
}

/// A French public body named `name`, the profile most tests start from.
pub(crate) fn profile(name: &str) -> Profile {
    Profile {
        name: name.into(),
        member_kind: mutu_protocol::record::MemberKind::PublicBody,
        country: Some("FR".into()),
        sectors: vec![],
        website: None,
        description: String::new(),
    }
}

impl TestNode {
    /// Initialises a member with `profile` in a new temporary home, listens
    /// on `/memory/{port}` and spawns its actor (must run inside a Tokio
    /// runtime). Each test uses its own `port`, distinct across the crate.
    pub fn spawn(port: u64, profile: Profile) -> TestNode {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(dir.path().join("home"))).unwrap();
        let state = State::init(home.clone(), profile, state::now()).unwrap();
        let keypair = libp2p::identity::Keypair::ed25519_from_bytes(state.secret_key().to_bytes()).unwrap();
        let mut swarm = net::build_memory_swarm(keypair, &net::Config::for_tests()).unwrap();
        let addr: Multiaddr = format!("/memory/{port}").parse().unwrap();
        swarm.listen_on(addr.clone()).unwrap();
        let (tx, rx) = watch::channel(false);
        let (handle, _task) = actor::spawn(state, swarm, actor::Config::default(), rx).unwrap();
        TestNode {
            handle,
            addr,
            home,
            _shutdown: tx,
            _dir: dir,
        }
    }
}

/// Another member's needs (tagged `tags`), written in a home of their own
/// and brought to `node` as a bundle: records by someone else, as a node
/// receives them.
pub(crate) async fn needs_from_elsewhere(node: &Handle, titles: &[&str], tags: &[&str]) {
    use mutu_node::ops::{NewNeed, Request};
    let dir = tempfile::tempdir().unwrap();
    let home = Home::resolve(Some(dir.path().join("elsewhere"))).unwrap();
    let mut other = State::init(home, profile("Elsewhere"), state::now()).unwrap();
    for title in titles {
        Request::from(NewNeed {
            title: (*title).into(),
            description: None,
            project: None,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            goal: None,
            days_goal: None,
            deadline: None,
            decision: None,
        })
        .apply(&mut other, state::now())
        .unwrap();
    }
    node.import(other.export().unwrap().changes().to_vec(), state::now())
        .await
        .unwrap();
}
