//! What carries a block out. Each kind implements [`BlockAction`]: `block` puts the
//! target on the firewall (and checks that it is there: a block that silently did
//! nothing is an error), `unblock` takes it off (and succeeds when it is already
//! gone, so an expiry after a firewall restart is not an error).

use crate::response::ConfigError;

pub mod nft;
pub(crate) mod program;
pub(crate) mod webhook;

use std::collections::BTreeMap;

use super::allowlist::TargetValue;
use super::config::{ActionConfig, TargetKind};

/// One block or unblock, as the action sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub(crate) block_id: i64,
    /// What kind of target.
    pub kind: TargetKind,
    /// The target.
    pub target: TargetValue,
    /// Seconds the block lasts from now (for an unblock, 0).
    pub ttl_secs: u64,
    /// When it ends (µs).
    pub expires_us: i64,
    /// The incident it belongs to.
    pub incident_id: Option<i64>,
    /// The policy that decided it.
    pub policy: String,
    /// Why.
    pub reason: String,
}

/// Why an action failed; `retry` when trying again may help.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ActionError {
    /// What went wrong.
    pub message: String,
    pub(crate) retry: bool,
}

impl ActionError {
    pub(crate) fn fatal(message: impl Into<String>) -> ActionError {
        ActionError { message: message.into(), retry: false }
    }
    pub(crate) fn transient(message: impl Into<String>) -> ActionError {
        ActionError { message: message.into(), retry: true }
    }
}

/// A block carried out or lifted: what the action saw (kept in the audit record).
pub type Outcome = serde_json::Value;

/// A way of blocking: nft, webhook or program.
pub trait BlockAction: Send {
    /// `nft`, `webhook`, `program`.
    fn kind(&self) -> &'static str;
    /// Whether it can block this kind of target (an nft set holds addresses only).
    fn supports(&self, target: &TargetValue) -> bool;
    /// Puts the block in place.
    fn block(&mut self, r: &Request) -> Result<Outcome, ActionError>;
    /// Lifts it.
    fn unblock(&mut self, r: &Request) -> Result<Outcome, ActionError>;
}

/// The configured actions by name. Errors name the action and what is wrong.
pub fn build(
    configs: &BTreeMap<String, ActionConfig>,
) -> Result<BTreeMap<String, Box<dyn BlockAction>>, ConfigError> {
    let mut out: BTreeMap<String, Box<dyn BlockAction>> = BTreeMap::new();
    for (name, c) in configs {
        let a: Box<dyn BlockAction> = match c {
            ActionConfig::Nft(c) => {
                Box::new(nft::Nft::new(c).map_err(|e| e.at(format!("action `{name}`")))?)
            }
            ActionConfig::Webhook(c) => {
                Box::new(webhook::Webhook::new(c).map_err(|e| e.at(format!("action `{name}`")))?)
            }
            ActionConfig::Program(c) => {
                Box::new(program::Program::new(c).map_err(|e| e.at(format!("action `{name}`")))?)
            }
        };
        out.insert(name.clone(), a);
    }
    Ok(out)
}
