//! Running a node: `mutu run`'s engine. Opens (or creates) the member's
//! state, builds the swarm, listens, dials known and configured peers,
//! spawns the actor, serves the local HTTP API, and stops cleanly on
//! SIGINT/SIGTERM (in-flight commits finish, the store closes).
//!
//! Settings come from flags, then `$MUTU_HOME/config.toml`, then defaults:
//!
//! ```toml
//! listen = ["/ip4/0.0.0.0/tcp/7071", "/ip4/0.0.0.0/udp/7071/quic-v1"]
//! peer = ["/ip4/192.0.2.7/tcp/7071/p2p/12D3Koo..."]
//! mdns = true
//! http = "127.0.0.1:7070"
//! http_hosts = ["mutu.example.org"]
//! sync_interval = 30
//! ```
//!
//! `http_hosts` (flag `--http-host`) adds host names the HTTP server answers
//! to besides the loopback names and its own address (see [`crate::guard`]).
//!
//! When a default port is taken the node takes a free one and says which.
//! While it runs, `$MUTU_HOME/node.json` tells local clients (the CLI) where
//! its HTTP API is; the API token is in `$MUTU_HOME/api.token` (0600).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use libp2p::futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use mutu_protocol::identity::MemberId;
use mutu_protocol::record::{MemberKind, Profile};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use mutu_node::actor::{self, Handle};
use mutu_node::home::{self, Home};
use mutu_node::net::{self, Behaviour};
use mutu_node::state::{self, State};

pub const DEFAULT_TCP: &str = "/ip4/0.0.0.0/tcp/7071";
pub const DEFAULT_QUIC: &str = "/ip4/0.0.0.0/udp/7071/quic-v1";
pub const DEFAULT_HTTP: &str = "127.0.0.1:7070";
pub const DEFAULT_SYNC_INTERVAL_SECS: u64 = 30;
/// Upper bound on `config.toml`.
const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// Errors starting a node.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    State(#[from] state::Error),
    #[error(transparent)]
    Home(#[from] home::Error),
    #[error("{path}: {problem}")]
    Config { path: String, problem: String },
    #[error("`{0}` is not a multiaddr, e.g. /ip4/192.0.2.7/tcp/7071")]
    Multiaddr(String),
    #[error("`{0}` is not an address to serve HTTP on, e.g. 127.0.0.1:7070")]
    HttpAddr(String),
    #[error("`{0}` is not a host name to serve HTTP under, e.g. mutu.example.org or mutu.example.org:443")]
    HttpHost(String),
    #[error("cannot listen on {addr}: {problem}")]
    Listen { addr: String, problem: String },
    #[error("cannot serve HTTP on {addr}: {source}")]
    Http { addr: String, source: std::io::Error },
    #[error("network: {0}")]
    Net(#[from] net::Error),
    #[error("identity: {0}")]
    Identity(String),
}

/// `config.toml`, every key optional.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<Vec<String>>,
    pub peer: Option<Vec<String>>,
    pub mdns: Option<bool>,
    pub http: Option<String>,
    pub http_hosts: Option<Vec<String>>,
    pub sync_interval: Option<u64>,
}

impl FileConfig {
    /// Reads `config.toml` if it exists.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let err = |problem: String| Error::Config {
            path: path.display().to_string(),
            problem,
        };
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(err(e.to_string())),
            Ok(m) if m.len() > MAX_CONFIG_BYTES => return Err(err(format!("larger than {MAX_CONFIG_BYTES} bytes"))),
            Ok(_) => {}
        }
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        toml::from_str(&text).map_err(|e| err(e.to_string().replace('\n', " ")))
    }
}

/// Settings of a running node (flags over file over defaults).
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: Vec<Multiaddr>,
    pub peers: Vec<Multiaddr>,
    pub mdns: bool,
    pub http: SocketAddr,
    /// Host names the HTTP server answers to besides its defaults.
    pub http_hosts: Vec<String>,
    pub sync_interval: Duration,
    /// Whether listen/http are the defaults (then a taken port falls back to a free one).
    pub default_ports: bool,
    pub default_http: bool,
}

/// What `mutu run` was given on the command line.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub listen: Vec<String>,
    pub peers: Vec<String>,
    pub no_mdns: bool,
    pub http: Option<String>,
    pub http_hosts: Vec<String>,
    pub sync_interval: Option<u64>,
}

fn parse_addrs(list: &[String]) -> Result<Vec<Multiaddr>, Error> {
    list.iter()
        .map(|a| a.parse().map_err(|_| Error::Multiaddr(a.clone())))
        .collect()
}

impl Config {
    pub fn resolve(flags: Flags, file: FileConfig) -> Result<Self, Error> {
        let listen_given = if flags.listen.is_empty() {
            file.listen
        } else {
            Some(flags.listen)
        };
        let default_ports = listen_given.is_none();
        let listen = parse_addrs(&listen_given.unwrap_or_else(|| vec![DEFAULT_TCP.into(), DEFAULT_QUIC.into()]))?;
        let mut peers = parse_addrs(&flags.peers)?;
        peers.extend(parse_addrs(&file.peer.unwrap_or_default())?);
        let http_given = flags.http.or(file.http);
        let default_http = http_given.is_none();
        let http_text = http_given.unwrap_or_else(|| DEFAULT_HTTP.into());
        let http = http_text.parse().map_err(|_| Error::HttpAddr(http_text.clone()))?;
        let http_hosts = flags
            .http_hosts
            .into_iter()
            .chain(file.http_hosts.unwrap_or_default())
            .map(|h| crate::guard::host_name(&h).ok_or(Error::HttpHost(h)))
            .collect::<Result<_, _>>()?;
        let secs = flags
            .sync_interval
            .or(file.sync_interval)
            .unwrap_or(DEFAULT_SYNC_INTERVAL_SECS)
            .max(1);
        Ok(Self {
            listen,
            peers,
            mdns: !flags.no_mdns && file.mdns.unwrap_or(true),
            http,
            http_hosts,
            sync_interval: Duration::from_secs(secs),
            default_ports,
            default_http,
        })
    }
}

/// Where a running node's API is, for local clients.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeInfo {
    pub http: SocketAddr,
    pub pid: u32,
    pub member: String,
    pub peer_id: String,
}

impl NodeInfo {
    pub fn path(home: &Home) -> std::path::PathBuf {
        home.root().join("node.json")
    }

    pub fn read(home: &Home) -> Option<Self> {
        let text = std::fs::read_to_string(Self::path(home)).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// Reads the API token, creating it (random, 0600) if missing.
pub fn api_token(home: &Home) -> Result<String, Error> {
    let path = home.token_path();
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_owned();
        if t.len() >= 32 {
            return Ok(t);
        }
    }
    let bytes: [u8; 32] = rand::random();
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    home.write_private(&path, token.as_bytes())?;
    Ok(token)
}

/// How long a starting node waits for another mutu process (an offline
/// command such as `mutu ls`) to release the store.
pub const STORE_LOCK_PATIENCE: Duration = Duration::from_secs(15);

/// Opens the home's state, creating an identity (kind individual) first if
/// there is none, so a new user's first `mutu run` works.
pub fn open_or_create(home: Home) -> Result<(State, bool), Error> {
    if home.is_initialised() {
        return Ok((State::open_waiting(home, STORE_LOCK_PATIENCE)?, false));
    }
    let profile = Profile {
        name: "New member".into(),
        member_kind: MemberKind::Individual,
        country: None,
        sectors: Vec::new(),
        website: None,
        description: String::new(),
    };
    Ok((State::init(home, profile, state::now())?, true))
}

/// A started node.
#[derive(Debug)]
pub struct Running {
    pub handle: Handle,
    pub member: MemberId,
    pub peer_id: PeerId,
    pub listen: Vec<Multiaddr>,
    pub http: SocketAddr,
    pub created_identity: bool,
    /// A one-time URL that signs the owner in to the web UI (`mutu run`
    /// prints it; `mutu ui` asks for a fresh one).
    pub login_url: String,
    shutdown: watch::Sender<bool>,
    actor: tokio::task::JoinHandle<()>,
    server: tokio::task::JoinHandle<()>,
    home: Home,
}

/// Listens on `addr`, or on the same address with port 0 if `fallback` and
/// the port is taken.
fn listen(swarm: &mut Swarm<Behaviour>, addr: &Multiaddr, fallback: bool) -> Result<(), Error> {
    match swarm.listen_on(addr.clone()) {
        Ok(_) => Ok(()),
        Err(e) if fallback => {
            let any: Multiaddr = addr
                .iter()
                .map(|p| match p {
                    libp2p::multiaddr::Protocol::Tcp(_) => libp2p::multiaddr::Protocol::Tcp(0),
                    libp2p::multiaddr::Protocol::Udp(_) => libp2p::multiaddr::Protocol::Udp(0),
                    p => p,
                })
                .collect();
            tracing::warn!(%addr, error = %e, "port taken, listening on a free one");
            swarm.listen_on(any).map(|_| ()).map_err(|e| Error::Listen {
                addr: addr.to_string(),
                problem: e.to_string(),
            })
        }
        Err(e) => Err(Error::Listen {
            addr: addr.to_string(),
            problem: e.to_string(),
        }),
    }
}

/// Waits (briefly) until every listener reported its addresses.
async fn listen_addrs(swarm: &mut Swarm<Behaviour>, listeners: usize) -> Vec<Multiaddr> {
    let mut addrs = Vec::new();
    let mut closed = 0;
    let deadline = tokio::time::sleep(Duration::from_secs(3));
    tokio::pin!(deadline);
    let mut reported = std::collections::HashSet::new();
    while reported.len() + closed < listeners {
        tokio::select! {
            _ = &mut deadline => break,
            event = swarm.select_next_some() => match event {
                SwarmEvent::NewListenAddr { listener_id, address } => {
                    reported.insert(listener_id);
                    addrs.push(address);
                }
                SwarmEvent::ListenerClosed { .. } | SwarmEvent::ListenerError { .. } => closed += 1,
                _ => {}
            }
        }
    }
    addrs
}

/// Starts a node on `home`: its swarm, its actor, and its HTTP server
/// (API, control endpoint, web UI, exports, health).
pub async fn start(home: Home, config: Config) -> Result<Running, Error> {
    let (state, created_identity) = open_or_create(home.clone())?;
    let member = state.member_id();
    let token = api_token(&home)?;
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(state.secret_key().to_bytes())
        .map_err(|e| Error::Identity(e.to_string()))?;
    let peer_id = keypair.public().to_peer_id();
    let net_config = net::Config {
        mdns: config.mdns,
        ..net::Config::default()
    };
    let mut swarm = net::build_swarm(keypair, &net_config)?;
    for addr in &config.listen {
        listen(&mut swarm, addr, config.default_ports)?;
    }
    let listen = listen_addrs(&mut swarm, config.listen.len()).await;

    // Peers: configured ones, then those remembered from earlier runs.
    for addr in &config.peers {
        if let Some(libp2p::multiaddr::Protocol::P2p(peer)) = addr.iter().last() {
            swarm.behaviour_mut().kad.add_address(&peer, addr.clone());
        }
        if let Err(e) = swarm.dial(addr.clone()) {
            tracing::debug!(%addr, error = %e, "dial");
        }
    }
    net::dial_remembered(&mut swarm, state.store(), state::now()).map_err(state::Error::from)?;
    if !config.peers.is_empty() {
        let _ = swarm.behaviour_mut().kad.bootstrap();
    }

    // HTTP: bind before announcing anything.
    let listener = match tokio::net::TcpListener::bind(config.http).await {
        Ok(l) => l,
        Err(e) if config.default_http && e.kind() == std::io::ErrorKind::AddrInUse => {
            let any = SocketAddr::new(config.http.ip(), 0);
            tracing::warn!(addr = %config.http, "HTTP port taken, using a free one");
            tokio::net::TcpListener::bind(any).await.map_err(|source| Error::Http {
                addr: any.to_string(),
                source,
            })?
        }
        Err(source) => {
            return Err(Error::Http {
                addr: config.http.to_string(),
                source,
            });
        }
    };
    let http = listener.local_addr().map_err(|source| Error::Http {
        addr: config.http.to_string(),
        source,
    })?;
    let hosts = crate::guard::Hosts::new(http, &config.http_hosts).map_err(Error::HttpHost)?;

    let (shutdown, shutdown_rx) = watch::channel(false);
    let (handle, actor) = actor::spawn(
        state,
        swarm,
        actor::Config {
            sync_interval: config.sync_interval,
            ..actor::Config::default()
        },
        shutdown_rx.clone(),
    )?;
    let sessions = crate::web::auth::Sessions::open(&home);
    let login_url = sessions.login_url(http);
    let (store_path, expects_peers) = (home.store_path(), !config.peers.is_empty());
    let health = crate::health::router(handle.clone(), store_path, expects_peers);
    let router = crate::guard::router(handle.clone(), token, sessions, http, hosts, health);
    let mut server_shutdown = shutdown_rx;
    let server = tokio::spawn(async move {
        let stop = async move {
            let _ = server_shutdown.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(stop).await {
            tracing::error!(error = %e, "HTTP server");
        }
    });
    let info = NodeInfo {
        http,
        pid: std::process::id(),
        member: member.to_string(),
        peer_id: peer_id.to_string(),
    };
    let info_json = serde_json::to_string_pretty(&info).unwrap_or_default();
    home.write_private(&NodeInfo::path(&home), info_json.as_bytes())?;
    Ok(Running {
        handle,
        member,
        peer_id,
        listen,
        http,
        created_identity,
        login_url,
        shutdown,
        actor,
        server,
        home,
    })
}

impl Running {
    /// Stops the node: the actor finishes its current step, the store
    /// closes, the HTTP server drains.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.actor.await;
        let _ = self.server.await;
        let _ = std::fs::remove_file(NodeInfo::path(&self.home));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_config_file_with_an_unknown_key_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "lisen = [\"/ip4/0.0.0.0/tcp/7071\"]\n").unwrap();
        let text = FileConfig::load(&path).unwrap_err().to_string();
        assert!(text.contains("config.toml") && text.contains("lisen"), "{text}");
        std::fs::write(&path, "listen = [\"/ip4/0.0.0.0/tcp/7071\"]\n").unwrap();
        assert!(FileConfig::load(&path).is_ok());
    }
}
