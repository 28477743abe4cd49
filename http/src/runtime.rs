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
//! bootstrap = ["/ip4/203.0.113.1/tcp/7071/p2p/12D3Koo..."]
//! mdns = true
//! upnp = true               # ask the home router for a port mapping
//! relay = false             # serve Circuit Relay v2 for members behind NAT
//! http = "127.0.0.1:7070"
//! http_hosts = ["mutu.example.org"]
//! sync_interval = 30
//!
//! [replication]             # whose documents this node holds and forwards
//! scope = "open"            # or "trusted": only the trust set's
//! hops = 2                  # vouch steps from whom this member follows
//! docs_per_peer_hour = 64   # strangers' quotas (open scope)
//! changes_per_doc = 4096
//! bytes_per_doc = 4194304
//! stranger_bytes = 67108864
//! inbox_docs = 64           # strangers answering the trust set (both scopes)
//! inbox_bytes = 4194304
//!
//! [webhooks]                # each inbox event POSTed as JSON (see `webhooks`)
//! urls = ["http://127.0.0.1:8080/mutu"]
//! ```
//!
//! `peer` and `bootstrap` (flags `--peer`, `--bootstrap`) are the same:
//! dialled at start and again every few seconds while not connected (a
//! restarted relay is found again); peers synced with are remembered
//! across restarts. A node behind NAT reserves a slot on the bootstrap
//! peers that serve as relays (`net::reach`). `relay = true` (`--relay`)
//! serves Circuit Relay v2 within `net::behaviour::relay_config`'s limits:
//! for a node with a public address.
//!
//! The trust set is this member, the members it follows (`mutu follow`) and
//! the members within `hops` vouch steps of those. `open` (the default)
//! holds everyone, strangers under the quotas; flags `--scope`, `--hops`.
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
use mutu_protocol::trust;
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
    #[error("replication: {0}")]
    Replication(String),
    #[error("webhooks: {0}")]
    Webhooks(String),
}

/// `config.toml`, every key optional.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<Vec<String>>,
    pub peer: Option<Vec<String>>,
    pub bootstrap: Option<Vec<String>>,
    pub mdns: Option<bool>,
    pub upnp: Option<bool>,
    pub relay: Option<bool>,
    pub http: Option<String>,
    pub http_hosts: Option<Vec<String>>,
    pub sync_interval: Option<u64>,
    pub replication: Option<ReplicationConfig>,
    pub webhooks: Option<crate::webhooks::FileConfig>,
}

/// `[replication]` in `config.toml`, every key optional.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicationConfig {
    pub scope: Option<String>,
    pub hops: Option<u8>,
    pub docs_per_peer_hour: Option<u32>,
    pub changes_per_doc: Option<u32>,
    pub bytes_per_doc: Option<u64>,
    pub stranger_bytes: Option<u64>,
    pub inbox_docs: Option<u32>,
    pub inbox_bytes: Option<u64>,
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
    /// Ask the router for a port mapping (UPnP).
    pub upnp: bool,
    /// Serve Circuit Relay v2.
    pub relay: bool,
    pub http: SocketAddr,
    /// Host names the HTTP server answers to besides its defaults.
    pub http_hosts: Vec<String>,
    pub sync_interval: Duration,
    /// Whom the node replicates.
    pub policy: trust::Policy,
    /// Where inbox events are POSTed.
    pub webhooks: crate::webhooks::Config,
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
    pub no_upnp: bool,
    pub relay: bool,
    pub http: Option<String>,
    pub http_hosts: Vec<String>,
    pub sync_interval: Option<u64>,
    /// `--scope`: `open` or `trusted`.
    pub scope: Option<String>,
    pub hops: Option<u8>,
}

fn parse_addrs(list: &[String]) -> Result<Vec<Multiaddr>, Error> {
    list.iter()
        .map(|a| a.parse().map_err(|_| Error::Multiaddr(a.clone())))
        .collect()
}

/// The replication policy: flags over `[replication]` over defaults.
fn policy(scope: Option<String>, hops: Option<u8>, file: ReplicationConfig) -> Result<trust::Policy, Error> {
    let defaults = trust::Policy::default();
    let bad = |problem: String| Error::Replication(problem);
    let scope = match scope.or(file.scope).as_deref() {
        None => defaults.scope,
        Some("open") => trust::Scope::Open,
        Some("trusted") => trust::Scope::Trusted,
        Some(other) => {
            return Err(bad(format!(
                "scope `{other}` is neither `open` (everyone, strangers under quotas) nor `trusted` (only the trust set)"
            )));
        }
    };
    let hops = hops.or(file.hops).unwrap_or(defaults.hops);
    if hops > trust::MAX_HOPS {
        return Err(bad(format!(
            "hops = {hops} is more than {}: give a number of vouch steps from 0 to {}",
            trust::MAX_HOPS,
            trust::MAX_HOPS
        )));
    }
    let q = defaults.quotas;
    let quotas = trust::Quotas {
        docs_per_peer_hour: file.docs_per_peer_hour.unwrap_or(q.docs_per_peer_hour),
        changes_per_doc: file.changes_per_doc.unwrap_or(q.changes_per_doc),
        bytes_per_doc: file.bytes_per_doc.unwrap_or(q.bytes_per_doc),
        stranger_bytes: file.stranger_bytes.unwrap_or(q.stranger_bytes),
        inbox_docs: file.inbox_docs.unwrap_or(q.inbox_docs),
        inbox_bytes: file.inbox_bytes.unwrap_or(q.inbox_bytes),
    };
    Ok(trust::Policy { scope, hops, quotas })
}

impl Config {
    pub fn resolve(flags: Flags, file: FileConfig) -> Result<Self, Error> {
        let policy = policy(flags.scope, flags.hops, file.replication.unwrap_or_default())?;
        let webhooks = crate::webhooks::Config::new(file.webhooks.unwrap_or_default().urls).map_err(Error::Webhooks)?;
        let listen_given = if flags.listen.is_empty() {
            file.listen
        } else {
            Some(flags.listen)
        };
        let default_ports = listen_given.is_none();
        let listen = parse_addrs(&listen_given.unwrap_or_else(|| vec![DEFAULT_TCP.into(), DEFAULT_QUIC.into()]))?;
        let mut peers = parse_addrs(&flags.peers)?;
        peers.extend(parse_addrs(&file.peer.unwrap_or_default())?);
        peers.extend(parse_addrs(&file.bootstrap.unwrap_or_default())?);
        peers.dedup();
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
            upnp: !flags.no_upnp && file.upnp.unwrap_or(true),
            relay: flags.relay || file.relay.unwrap_or(false),
            http,
            http_hosts,
            sync_interval: Duration::from_secs(secs),
            policy,
            webhooks,
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
        upnp: config.upnp,
        relay_server: config.relay,
        ..net::Config::default()
    };
    let mut swarm = net::build_swarm(keypair, &net_config)?;
    for addr in &config.listen {
        listen(&mut swarm, addr, config.default_ports)?;
    }
    let listen = listen_addrs(&mut swarm, config.listen.len()).await;
    if config.relay {
        // A relay says it is public: its reservations hand out these
        // addresses (a relay without one refuses to reserve).
        for addr in listen.iter().filter(|a| net::reach::routable(a)) {
            swarm.add_external_address(addr.clone());
        }
    }

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
            policy: config.policy,
            gossip_limits: actor::GOSSIP_LIMITS,
            bootstrap: config.peers.clone(),
            ..actor::Config::default()
        },
        shutdown_rx.clone(),
    )?;
    crate::webhooks::spawn(handle.clone(), config.webhooks.clone());
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

    #[test]
    fn webhook_urls_come_from_the_file_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[webhooks]\nurls = [\"http://127.0.0.1:8080/mutu\"]\n").unwrap();
        let config = Config::resolve(Flags::default(), FileConfig::load(&path).unwrap()).unwrap();
        assert_eq!(config.webhooks.urls, vec!["http://127.0.0.1:8080/mutu".to_owned()]);
        std::fs::write(&path, "[webhooks]\nurls = [\"ftp://example.org/x\"]\n").unwrap();
        let e = Config::resolve(Flags::default(), FileConfig::load(&path).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "webhooks: `ftp://example.org/x` is not an http:// or https:// URL"
        );
    }

    #[test]
    fn the_replication_policy_comes_from_flags_then_the_file_then_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        // Unknown keys of the table are refused too.
        std::fs::write(&path, "[replication]\nscope = \"trusted\"\nhopz = 1\n").unwrap();
        let text = FileConfig::load(&path).unwrap_err().to_string();
        assert!(text.contains("hopz"), "{text}");
        std::fs::write(
            &path,
            "[replication]\nscope = \"trusted\"\nhops = 1\nchanges_per_doc = 7\n",
        )
        .unwrap();
        let file = FileConfig::load(&path).unwrap();
        let config = Config::resolve(Flags::default(), file.clone()).unwrap();
        assert_eq!(config.policy.scope, trust::Scope::Trusted);
        assert_eq!((config.policy.hops, config.policy.quotas.changes_per_doc), (1, 7));
        let flags = Flags {
            scope: Some("open".into()),
            hops: Some(3),
            ..Flags::default()
        };
        let config = Config::resolve(flags, file).unwrap();
        assert_eq!((config.policy.scope, config.policy.hops), (trust::Scope::Open, 3));
        let none = Config::resolve(Flags::default(), FileConfig::default()).unwrap();
        assert_eq!(none.policy, trust::Policy::default());
        assert_eq!(none.policy.scope, trust::Scope::Open);
        // Wrong values say what is expected.
        let wrong = Flags {
            scope: Some("friends".into()),
            ..Flags::default()
        };
        let text = Config::resolve(wrong, FileConfig::default()).unwrap_err().to_string();
        assert!(text.contains("`friends`") && text.contains("trusted"), "{text}");
        let far = Flags {
            hops: Some(200),
            ..Flags::default()
        };
        let text = Config::resolve(far, FileConfig::default()).unwrap_err().to_string();
        assert!(text.contains("hops = 200"), "{text}");
    }
}
