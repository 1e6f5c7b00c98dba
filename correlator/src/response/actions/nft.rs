//! nftables: addresses go into two named sets (IPv4, IPv6) with a timeout equal to the
//! block's remaining time, so the kernel lifts a block even if the correlator is gone.
//!
//! `nft` runs with an argument vector; the one thing it reads from standard input is
//! a batch this module writes from a parsed address and validated names. A block is
//! one atomic batch — add the element, delete it, add it again with the timeout — so
//! it is idempotent and a repeated block gets the new timeout; then `nft get element`
//! must find it (a block that silently did nothing is an error). An unblock adds and
//! deletes in one batch (no error when the kernel already let it expire), then checks
//! that the element is gone.
//!
//! With `create = true`, a missing table is created with the sets and three chains at
//! priority `filter - 10`: input drops packets from blocked addresses, forward drops
//! packets from and to them, output drops packets to them.

use std::time::Duration;

use super::program::{run, RunOutput};
use super::{ActionError, BlockAction, Outcome, Request};
use crate::response::allowlist::TargetValue;
use crate::response::config::NftConfig;
use crate::response::ConfigError;

pub(crate) struct Nft {
    cfg: NftConfig,
    /// The table was found (or made) once.
    ready: bool,
}

fn name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Nft {
    pub fn new(cfg: &NftConfig) -> Result<Nft, ConfigError> {
        if !["ip", "ip6", "inet", "bridge", "netdev"].contains(&cfg.family.as_str()) {
            return Err(ConfigError::new(format!(
                "family `{}`: ip, ip6, inet, bridge or netdev",
                cfg.family
            )));
        }
        for (what, n) in
            [("table", &cfg.table), ("set_ipv4", &cfg.set_ipv4), ("set_ipv6", &cfg.set_ipv6)]
        {
            if !name_ok(n) {
                return Err(ConfigError::new(format!(
                    "{what} `{n}`: letters, digits, `_` and `-`, starting with a letter"
                )));
            }
        }
        if !cfg.program.is_absolute() {
            return Err(ConfigError::new(format!(
                "program `{}` must be an absolute path",
                cfg.program.display()
            )));
        }
        Ok(Nft { cfg: cfg.clone(), ready: false })
    }

    fn nft(&self, args: &[&str], stdin: Option<&str>) -> Result<RunOutput, ActionError> {
        let mut argv = vec![self.cfg.program.display().to_string()];
        argv.extend(args.iter().map(|s| s.to_string()));
        run(&argv, stdin.map(str::as_bytes), Duration::from_secs(self.cfg.timeout_secs.max(1)), &[])
    }

    fn batch(&self, script: &str) -> Result<(), ActionError> {
        let o = self.nft(&["-f", "/dev/stdin"], Some(script))?;
        if o.code != Some(0) {
            return Err(ActionError::transient(format!(
                "nft refused the batch: {}",
                first_line(&o)
            )));
        }
        Ok(())
    }

    fn set_of(&self, ip: &TargetValue) -> Option<(&str, String)> {
        match ip {
            TargetValue::Ip(a @ std::net::IpAddr::V4(_)) => {
                Some((&self.cfg.set_ipv4, a.to_string()))
            }
            TargetValue::Ip(a @ std::net::IpAddr::V6(_)) => {
                Some((&self.cfg.set_ipv6, a.to_string()))
            }
            TargetValue::Domain(_) => None,
        }
    }

    /// Finds the table and its sets, creating them when configured to.
    fn ensure(&mut self) -> Result<(), ActionError> {
        if self.ready {
            return Ok(());
        }
        let (f, t) = (self.cfg.family.as_str(), self.cfg.table.as_str());
        let found = self.nft(&["list", "table", f, t], None)?.code == Some(0);
        if !found {
            if !self.cfg.create {
                return Err(ActionError::fatal(format!(
                    "the nftables table `{f} {t}` does not exist (create it, or set `create = true`)"
                )));
            }
            self.batch(&self.creation_script())?;
        }
        for set in [&self.cfg.set_ipv4, &self.cfg.set_ipv6] {
            let o = self.nft(&["list", "set", f, t, set], None)?;
            if o.code != Some(0) {
                return Err(ActionError::fatal(format!(
                    "the nftables set `{f} {t} {set}` does not exist: {}",
                    first_line(&o)
                )));
            }
        }
        self.ready = true;
        Ok(())
    }

    fn creation_script(&self) -> String {
        let (f, t, s4, s6) =
            (&self.cfg.family, &self.cfg.table, &self.cfg.set_ipv4, &self.cfg.set_ipv6);
        format!(
            "table {f} {t} {{\n\
             \tset {s4} {{ type ipv4_addr; flags timeout; }}\n\
             \tset {s6} {{ type ipv6_addr; flags timeout; }}\n\
             \tchain input {{ type filter hook input priority filter - 10; policy accept; ip saddr @{s4} counter drop; ip6 saddr @{s6} counter drop; }}\n\
             \tchain forward {{ type filter hook forward priority filter - 10; policy accept; ip saddr @{s4} counter drop; ip daddr @{s4} counter drop; ip6 saddr @{s6} counter drop; ip6 daddr @{s6} counter drop; }}\n\
             \tchain output {{ type filter hook output priority filter - 10; policy accept; ip daddr @{s4} counter drop; ip6 daddr @{s6} counter drop; }}\n\
             }}\n"
        )
    }

    /// Whether the set holds the address now.
    fn present(&self, set: &str, addr: &str) -> Result<bool, ActionError> {
        let elem = format!("{{ {addr} }}");
        let o =
            self.nft(&["get", "element", &self.cfg.family, &self.cfg.table, set, &elem], None)?;
        Ok(o.code == Some(0) && o.stdout.contains(addr))
    }
}

fn first_line(o: &RunOutput) -> String {
    let text = if o.stderr.is_empty() { &o.stdout } else { &o.stderr };
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").to_string()
}

impl BlockAction for Nft {
    fn kind(&self) -> &'static str {
        "nft"
    }

    fn supports(&self, target: &TargetValue) -> bool {
        matches!(target, TargetValue::Ip(_))
    }

    fn block(&mut self, r: &Request) -> Result<Outcome, ActionError> {
        let (set, addr) = self.set_of(&r.target).ok_or_else(|| {
            ActionError::fatal("an nftables set holds addresses, not domain names")
        })?;
        let set = set.to_string();
        self.ensure()?;
        let (f, t) = (&self.cfg.family, &self.cfg.table);
        let ttl = r.ttl_secs.max(1);
        self.batch(&format!(
            "add element {f} {t} {set} {{ {addr} }}\n\
             delete element {f} {t} {set} {{ {addr} }}\n\
             add element {f} {t} {set} {{ {addr} timeout {ttl}s }}\n"
        ))?;
        if !self.present(&set, &addr)? {
            // The table may have been replaced under us: look again next time.
            self.ready = false;
            return Err(ActionError::transient(format!(
                "nft accepted the block but `{addr}` is not in set `{f} {t} {set}`"
            )));
        }
        Ok(
            serde_json::json!({"set": format!("{f} {t} {set}"), "timeout_secs": ttl, "verified": true}),
        )
    }

    fn unblock(&mut self, r: &Request) -> Result<Outcome, ActionError> {
        let (set, addr) = self.set_of(&r.target).ok_or_else(|| {
            ActionError::fatal("an nftables set holds addresses, not domain names")
        })?;
        let set = set.to_string();
        self.ensure()?;
        let (f, t) = (&self.cfg.family, &self.cfg.table);
        self.batch(&format!(
            "add element {f} {t} {set} {{ {addr} }}\ndelete element {f} {t} {set} {{ {addr} }}\n"
        ))?;
        if self.present(&set, &addr)? {
            return Err(ActionError::transient(format!(
                "`{addr}` is still in set `{f} {t} {set}`"
            )));
        }
        Ok(serde_json::json!({"set": format!("{f} {t} {set}"), "verified_absent": true}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        let ok = NftConfig::default();
        assert!(Nft::new(&ok).is_ok());
        let bad = NftConfig { table: "gw; flush ruleset".into(), ..Default::default() };
        assert!(Nft::new(&bad).err().unwrap().to_string().contains("table `gw; flush ruleset`"));
        let bad = NftConfig { family: "arp".into(), ..Default::default() };
        assert!(Nft::new(&bad).is_err());
        let n = Nft::new(&ok).unwrap();
        assert!(!n.supports(&TargetValue::parse("evil.example").unwrap()));
        assert!(n.creation_script().contains("ip saddr @blocked4 counter drop"));
    }
}
