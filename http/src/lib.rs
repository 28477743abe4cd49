//! The HTTP surface of a mutu node, in front of its actor
//! ([`mutu_node::actor::Handle`]):
//!
//! - [`api`]: the JSON API under `/api/v1` (OpenAPI at `/api/v1/openapi.json`);
//! - [`control`]: the `mutu` CLI's typed requests (`POST /api/v1/control`),
//!   run on a node or, with none running, on the home's state;
//! - [`web`]: the server-rendered web UI (English and French), sign-in,
//!   forms;
//! - [`export`]: researchers' exports (`registry.json`, CSVs, the bundle);
//! - [`health`]: `/healthz`, `/readyz` and `/metrics` for monitoring;
//! - [`guard`]: the layers around the whole router (known host names only,
//!   security headers) and the router's assembly;
//! - [`runtime`]: `mutu run`'s engine (config, swarm, actor, HTTP server);
//! - [`demo`]: `mutu demo`, three nodes loading the sample registry.

pub mod api;
pub mod control;
pub mod demo;
pub mod export;
pub mod feeds;
pub mod guard;
pub mod health;
pub mod runtime;
#[cfg(test)]
pub(crate) mod testing;
pub mod web;
pub mod webhooks;
