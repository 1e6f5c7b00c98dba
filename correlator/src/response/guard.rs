//! What an analyst's block must pass before it is recorded: the target is an address
//! or a domain name, the action is configured and can hold it, the time is a duration,
//! and neither an allowlist nor Gatewatch's own addresses stop it. The console checks
//! its manual blocks and approvals here; the responder checks again when it carries
//! them out (the allowlist may have grown meanwhile).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use super::allowlist::{AllowHit, Allowlist, TargetValue};
use super::config::{parse_duration, ResponseConfig};
use super::responder::SELF_LIST;
use super::ResponseError;
use crate::incident::assets::Inventory;

/// A configured action as a form offers it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ActionChoice {
    /// Its name in `[response.actions]`.
    pub name: String,
    /// `nft`, `webhook` or `program`.
    pub kind: &'static str,
    /// Whether it can hold a domain name (an nftables set holds addresses only).
    pub takes_domains: bool,
}

/// A manual block that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedBlock {
    /// The target in canonical form.
    pub target: String,
    /// `host` for an address, `domain` for a name.
    pub target_kind: &'static str,
    /// The action's name and kind.
    pub action: String,
    /// `nft`, `webhook` or `program`.
    pub action_kind: &'static str,
    /// Seconds; 0: until lifted.
    pub ttl_secs: u64,
}

/// Why a target may not be blocked: a configured (or the built-in) allowlist, or it is
/// this machine or one of `sensors`. The responder and the console ask the same.
pub fn stopped_by(
    allow: &Allowlist,
    inventory: &Inventory,
    own: &[IpAddr],
    sensors: &[IpAddr],
    t: &TargetValue,
) -> Option<AllowHit> {
    if let Some(hit) = allow.check(t, inventory) {
        return Some(hit);
    }
    let TargetValue::Ip(ip) = t else { return None };
    let ip = ip.to_canonical();
    let own_hit =
        |what: &str| Some(AllowHit { list: SELF_LIST.into(), entry: format!("{ip} ({what})") });
    if own.contains(&ip) {
        return own_hit("this machine");
    }
    if sensors.iter().any(|a| a.to_canonical() == ip) {
        return own_hit("a sensor");
    }
    None
}

/// The checks of the console (built from the `[response]` section).
pub struct BlockGuard {
    allow: Allowlist,
    inventory: Arc<Inventory>,
    actions: BTreeMap<String, &'static str>,
    own: Vec<IpAddr>,
}

impl BlockGuard {
    /// The guard of a `[response]` section; its errors name the list or entry.
    pub fn new(
        cfg: &ResponseConfig,
        inventory: Arc<Inventory>,
    ) -> Result<BlockGuard, ResponseError> {
        Ok(BlockGuard {
            allow: Allowlist::new(&cfg.allowlists)?,
            inventory,
            actions: cfg.actions.iter().map(|(n, a)| (n.clone(), a.kind())).collect(),
            own: super::responder::local_addresses(),
        })
    }

    /// The configured actions, by name.
    pub fn actions(&self) -> Vec<ActionChoice> {
        self.actions
            .iter()
            .map(|(name, kind)| ActionChoice {
                name: name.clone(),
                kind,
                takes_domains: *kind != "nft",
            })
            .collect()
    }

    /// The allowlist entry (or Gatewatch's own address) that stops blocking `target`.
    pub fn stopped_by(&self, target: &TargetValue) -> Option<AllowHit> {
        stopped_by(&self.allow, &self.inventory, &self.own, &[], target)
    }

    /// Checks a manual block: each refusal says what was wrong.
    pub fn check(&self, target: &str, action: &str, ttl: &str) -> Result<CheckedBlock, String> {
        let value = TargetValue::parse(target).ok_or_else(|| {
            format!("`{}` is neither an address nor a domain name", target.trim())
        })?;
        let kind = *self.actions.get(action.trim()).ok_or_else(|| {
            let names: Vec<&str> = self.actions.keys().map(String::as_str).collect();
            if names.is_empty() {
                "no action is configured in [response.actions]".to_string()
            } else {
                format!("no action `{}` (configured: {})", action.trim(), names.join(", "))
            }
        })?;
        let target_kind = match value {
            TargetValue::Ip(_) => "host",
            TargetValue::Domain(_) => "domain",
        };
        if target_kind == "domain" && kind == "nft" {
            return Err(format!(
                "action `{}` (nft) holds addresses, not domain names",
                action.trim()
            ));
        }
        let ttl_secs = parse_duration(ttl).map_err(|e| format!("the duration {}", e.problem()))?;
        if let Some(hit) = self.stopped_by(&value) {
            return Err(format!("{value} is on allowlist {hit}: it is never blocked"));
        }
        Ok(CheckedBlock {
            target: value.to_string(),
            target_kind,
            action: action.trim().to_string(),
            action_kind: kind,
            ttl_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> BlockGuard {
        let cfg: ResponseConfig = toml::from_str(
            r#"
            [allowlists]
            resolvers = ["10.46.1.53"]
            province = ["hue.gov.vn"]
            [actions.edge]
            kind = "nft"
            [actions.sinkhole]
            kind = "program"
            block = ["/bin/true"]
            unblock = ["/bin/true"]
            "#,
        )
        .unwrap();
        BlockGuard::new(&cfg, Arc::new(Inventory::default())).unwrap()
    }

    #[test]
    fn manual_blocks_are_checked() {
        let g = guard();
        let ok = g.check(" 203.0.113.9 ", "edge", "2h").unwrap();
        assert_eq!(
            (ok.target.as_str(), ok.target_kind, ok.ttl_secs),
            ("203.0.113.9", "host", 7200)
        );
        let d = g.check("Evil.Example.", "sinkhole", "0").unwrap();
        assert_eq!((d.target.as_str(), d.target_kind, d.ttl_secs), ("evil.example", "domain", 0));
        let err = |t: &str, a: &str, ttl: &str| g.check(t, a, ttl).unwrap_err();
        assert!(err("10.46.1.53", "edge", "1h").contains("allowlist resolvers"));
        assert!(err("portal.hue.gov.vn", "sinkhole", "1h").contains("allowlist province"));
        assert!(err("127.0.0.1", "edge", "1h").contains("allowlist"));
        assert!(err("evil.example", "edge", "1h").contains("holds addresses"));
        assert!(err("not an address!", "edge", "1h").contains("neither an address"));
        assert!(err("203.0.113.9", "firewall", "1h").contains("configured: edge, sinkhole"));
        assert!(err("203.0.113.9", "edge", "1w").contains("unknown unit"));
        let names: Vec<(String, bool)> =
            g.actions().into_iter().map(|a| (a.name, a.takes_domains)).collect();
        assert_eq!(names, [("edge".to_string(), false), ("sinkhole".to_string(), true)]);
    }
}
