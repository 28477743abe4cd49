//! mutu's pure core.
//!
//! Everything a node needs to decide, without doing any I/O: identities
//! ([`identity`]), signed records ([`record`]), member documents
//! ([`doc`]), signed changes ([`change`]) and their admission
//! ([`admission`]), the registry of all documents and its views
//! ([`registry`], [`view`]), and portable bundles ([`bundle`]).
//!
//! This crate never reads the clock, draws randomness, spawns or touches the
//! disk or the network: time and random bytes are parameters, and effects are
//! returned as data for the node to carry out.

pub mod admission;
pub mod bundle;
pub mod change;
pub mod codec;
pub mod doc;
pub mod identity;
pub mod inbox;
pub mod money;
pub mod record;
pub mod registry;
pub mod rules;
pub mod time;
pub mod trust;
pub mod verify;
pub mod view;

pub use change::SignedChange;
pub use identity::{MemberId, SecretKey};
pub use record::{Record, RecordId, SignedRecord};
pub use registry::Registry;
pub use time::{Date, Timestamp};
