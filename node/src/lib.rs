//! The mutu node: the durable store ([`store`]), a member's home directory
//! ([`home`]), the state every front end shares ([`state`]), and (in later
//! modules) the libp2p swarm, the node actor and the HTTP API.

pub mod actor;
pub mod api;
pub mod demo;
pub mod export;
pub mod home;
pub mod http;
pub mod net;
pub mod ops;
pub mod runtime;
pub mod state;
pub mod store;
#[cfg(test)]
pub(crate) mod testing;
pub mod verify;
pub mod web;
