//! Automated response: blocking an attacker at the firewall, safely.
//!
//! ```text
//!  incidents ──▶ policies ──▶ allowlist ──▶ mode / rate limit ──▶ decision (store)
//!  (changes)     (match,      (checked      (enforce, approve,      │
//!                 targets)     first)        dry-run)               ▼
//!                                                   action: nft set / webhook / program
//!                                                   expiry and undo: the same action
//! ```
//!
//! - [`config`]: the `[response]` section (policies, allowlists, actions, limits);
//! - [`allowlist`]: the one check every decision and every execution goes through;
//! - [`guard`]: what an analyst's manual block or approval is checked against;
//! - [`policy`]: which incidents a policy matches and what it aims at;
//! - [`actions`]: nftables, webhook and program, each a [`actions::BlockAction`];
//! - `engine`: the [`Responder`] that decides and acts, following the store.
//!
//! Decisions live in the store ([`crate::store::blocks`]): the correlator's responder,
//! the console (approve, deny, undo) and `gatewatch blocks` share them, and every step
//! is an audit record linked to its incident.

pub mod actions;
pub mod allowlist;
pub mod config;
mod error;
mod execution;
pub mod guard;
pub mod policy;
pub(crate) mod responder;
pub(crate) mod service;

pub use config::ResponseConfig;
pub use error::{ConfigError, ResponseError};
pub use responder::Responder;
pub use service::Service;

#[cfg(test)]
mod tests;
