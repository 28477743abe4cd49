//! The mutu node: the durable store ([`store`]), a member's home directory
//! ([`home`]) and the state every front end shares ([`state`]).

pub mod home;
pub mod state;
pub mod store;
