//! The mutu node: the durable store ([`store`]), a member's home directory
//! ([`home`]), the state every front end shares ([`state`]), the write
//! operations ([`ops`]), full-text search ([`search`]), the libp2p swarm ([`net`]) and the node actor
//! ([`actor`]) that owns them, and whose fault each failure is
//! ([`error::Class`]). No HTTP: the web UI, the JSON API and the
//! exports are the `mutu-http` crate's.

pub mod actor;
pub mod backup;
pub mod error;
pub mod home;
pub mod net;
pub mod ops;
pub mod reindex;
pub mod search;
pub mod state;
pub mod store;
/// A small tmpfs for disk-full tests (`testing` feature).
#[cfg(any(test, feature = "testing"))]
pub mod tmpfs;
pub mod verify;
pub mod watch;
