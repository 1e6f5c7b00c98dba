//! The `[response]` section: response policies, allowlists, actions, rate limits.
//!
//! ```toml
//! [response]
//! max_blocks_per_minute = 20          # automatic blocks, all policies together
//! pardon = "24h"                      # after an analyst's undo or denial
//!
//! [response.allowlists]               # never blocked, whatever a policy says
//! resolvers = ["10.46.0.53", "10.46.0.54"]
//! gateways = ["10.46.0.1", "113.160.0.0/28"]
//! critical = ["criticality:critical", "level:4", "hue.gov.vn"]
//!
//! [response.actions.edge]
//! kind = "nft"                        # nft | webhook | program
//! table = "gatewatch"
//! create = true
//!
//! [[response.policies]]
//! name = "external-exploit"
//! mode = "enforce"                    # enforce | approve | dry-run
//! action = "edge"
//! target = "source"                   # source | destination | domain | host
//! min_score = 70
//! tactics = ["TA0001"]
//! ttl = "1h"
//! max_ttl = "7d"
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Longest a block may last: every block expires.
pub const MAX_TTL_SECS: u64 = 90 * 86_400;

/// `[response]`: automated blocking (policies, actions, allowlist, limits).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseConfig {
    /// Blocks started without an analyst per minute, all policies together; beyond,
    /// decisions wait for approval and one "blocking storm" incident is raised.
    pub max_blocks_per_minute: u32,
    /// After an analyst lifts a block or denies one, the target is not proposed again
    /// for this long (no ban loops).
    pub pardon: String,
    /// Earlier blocks of a target within this period make it a repeat offender.
    pub repeat_window: String,
    /// Named lists of what is never blocked: addresses and networks (`10.46.0.53`,
    /// `10.46.0.0/24`), domain names with their subdomains (`hue.gov.vn`), and inventory
    /// references (`criticality:critical`, `level:4` — security level 4 and up —,
    /// `agency:ID`). Loopback, link-local, multicast and broadcast are always on it.
    pub allowlists: BTreeMap<String, Vec<String>>,
    /// Actions by name.
    pub actions: BTreeMap<String, ActionConfig>,
    /// The policies, tried in order.
    pub policies: Vec<PolicyConfig>,
    /// Tries of one action before the decision is `failed`.
    pub max_attempts: u32,
    /// The monitored DNS resolvers (addresses, networks): a domain is sinkholed only
    /// from a query an internal client made to one of them. Empty: any internal
    /// address counts as a resolver.
    pub resolvers: Vec<String>,
}

impl Default for ResponseConfig {
    fn default() -> Self {
        ResponseConfig {
            max_blocks_per_minute: 20,
            pardon: "24h".into(),
            repeat_window: "30d".into(),
            allowlists: BTreeMap::new(),
            actions: BTreeMap::new(),
            policies: Vec::new(),
            max_attempts: 3,
            resolvers: Vec::new(),
        }
    }
}

/// What a policy does when it matches.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Block at once (within the rate limits).
    Enforce,
    /// An analyst approves each block first.
    Approve,
    /// Record what would have happened; touch nothing.
    #[default]
    DryRun,
}

impl Mode {
    /// `enforce`, `approve` or `dry-run`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Approve => "approve",
            Mode::DryRun => "dry-run",
        }
    }
}

/// What a policy blocks.
#[derive(
    Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// The attacking addresses (an external entity, or the sources that attacked it).
    #[default]
    Source,
    /// The addresses a compromised host reached (command and control).
    Destination,
    /// Domain names in the incident's DNS, TLS and HTTP alerts (a DNS sinkhole list).
    Domain,
    /// The internal host the incident is about (quarantine).
    Host,
}

impl TargetKind {
    /// `source`, `destination`, `domain` or `host`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Source => "source",
            TargetKind::Destination => "destination",
            TargetKind::Domain => "domain",
            TargetKind::Host => "host",
        }
    }
}

/// One response policy. Every condition set must hold (an empty list holds).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// The policy's name (in decisions and the audit).
    pub name: String,
    /// What it does when it matches.
    #[serde(default)]
    pub mode: Mode,
    /// The name of an action in `[response.actions]`.
    pub action: String,
    /// Which side of the incident is blocked.
    #[serde(default)]
    pub target: TargetKind,
    /// The incident's score at least this (0–100).
    #[serde(default)]
    pub min_score: u32,
    /// The incident's severity at least this: `low`, `medium`, `high`, `critical`.
    #[serde(default)]
    pub min_severity: Option<String>,
    /// Any of these rules in the incident: `GID:SID` or `SID` (gid 1).
    #[serde(default)]
    pub rules: Vec<String>,
    /// Any of these rule tags (the rules' `metadata: tag …`, case-insensitive).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Any of these ATT&CK tactic ids in the incident.
    #[serde(default)]
    pub tactics: Vec<String>,
    /// Any of these RSIT classes (`intrusion-attempts`, `malicious-code` …).
    #[serde(default)]
    pub classes: Vec<String>,
    /// Any of these correlation rules fired in the incident (their titles).
    #[serde(default)]
    pub correlations: Vec<String>,
    /// The incident's agency is one of these (inventory ids).
    #[serde(default)]
    pub agencies: Vec<String>,
    /// Zones a target address must be in: `external`, `internal` (asset or unknown
    /// internal). Default: `external` for source and destination, `internal` for host.
    #[serde(default)]
    pub zones: Vec<String>,
    /// Only when the attack worked (an answer showed success).
    #[serde(default)]
    pub only_succeeded: bool,
    /// How long a block lasts (`90s`, `30m`, `1h`, `7d`).
    #[serde(default = "default_ttl")]
    pub ttl: String,
    /// A repeat offender's block lasts `ttl × repeat_factor^n` (n earlier blocks)…
    #[serde(default = "default_factor")]
    pub repeat_factor: u32,
    /// … at most this long.
    #[serde(default = "default_max_ttl")]
    pub max_ttl: String,
    /// Automatic blocks of this policy per minute (0: only the overall limit).
    #[serde(default)]
    pub max_per_minute: u32,
    /// Targets one incident may yield at most.
    #[serde(default = "default_max_targets")]
    pub max_targets: usize,
}

fn default_ttl() -> String {
    "1h".into()
}
fn default_factor() -> u32 {
    2
}
fn default_max_ttl() -> String {
    "7d".into()
}
fn default_max_targets() -> usize {
    16
}

/// One action, by kind.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ActionConfig {
    /// An element added to an nftables set (with a timeout).
    Nft(NftConfig),
    /// An HTTPS request to a firewall's API.
    Webhook(WebhookConfig),
    /// A program run with an argument vector (no shell).
    Program(ProgramConfig),
}

impl ActionConfig {
    /// `nft`, `webhook` or `program`.
    pub fn kind(&self) -> &'static str {
        match self {
            ActionConfig::Nft(_) => "nft",
            ActionConfig::Webhook(_) => "webhook",
            ActionConfig::Program(_) => "program",
        }
    }
}

/// Addresses go into named sets with a timeout (`nft` run with an argument vector).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NftConfig {
    /// The `nft` program.
    pub program: PathBuf,
    pub(crate) family: String,
    pub(crate) table: String,
    pub(crate) set_ipv4: String,
    pub(crate) set_ipv6: String,
    /// Create the table, the sets and chains that drop their addresses (input,
    /// forward, output) when the table is missing.
    pub create: bool,
    pub(crate) timeout_secs: u64,
}

impl Default for NftConfig {
    fn default() -> Self {
        NftConfig {
            program: "/usr/sbin/nft".into(),
            family: "inet".into(),
            table: "gatewatch".into(),
            set_ipv4: "blocked4".into(),
            set_ipv6: "blocked6".into(),
            create: false,
            timeout_secs: 10,
        }
    }
}

/// HTTPS POST of a JSON document (see `response::actions::webhook`) to a firewall
/// manager, signed with HMAC-SHA256.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    pub(crate) url: String,
    /// A file holding the HMAC secret (its first line); required.
    pub secret_file: PathBuf,
    /// A PEM file of CAs to trust instead of the system's.
    pub ca: Option<PathBuf>,
    pub(crate) timeout_secs: u64,
    /// Tries of one request (429, 5xx and network errors are tried again).
    pub tries: u32,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            url: String::new(),
            secret_file: PathBuf::new(),
            ca: None,
            timeout_secs: 10,
            tries: 3,
        }
    }
}

/// A program run without a shell: an absolute path and arguments, with placeholders
/// `{target}`, `{kind}` (source/destination/domain/host), `{ttl}` (seconds),
/// `{expires}` (RFC 3339), `{id}`, `{incident}`, `{policy}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ProgramConfig {
    pub(crate) block: Vec<String>,
    pub(crate) unblock: Vec<String>,
    /// Optional: exits 0 when the block is in place (run after `block`).
    pub verify: Vec<String>,
    pub(crate) timeout_secs: u64,
}

impl Default for ProgramConfig {
    fn default() -> Self {
        ProgramConfig {
            block: Vec::new(),
            unblock: Vec::new(),
            verify: Vec::new(),
            timeout_secs: 30,
        }
    }
}

/// A duration as written in the configuration: `45` (seconds), `90s`, `30m`, `12h`, `7d`.
pub fn parse_duration(s: &str) -> Result<u64, super::ConfigError> {
    use super::ConfigError;
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t, "s"),
    };
    let n: u64 = num.parse().map_err(|_| {
        ConfigError::new(format!("`{s}`: expected a duration like 90s, 30m, 1h, 7d"))
    })?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(ConfigError::new(format!("`{s}`: unknown unit `{unit}` (s, m, h, d)"))),
    };
    n.checked_mul(mult).ok_or_else(|| ConfigError::new(format!("`{s}`: too long")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), 90);
        assert_eq!(parse_duration("30m").unwrap(), 1800);
        assert_eq!(parse_duration("7d").unwrap(), 604_800);
        assert!(parse_duration("1w").unwrap_err().to_string().contains("unknown unit"));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn actions_are_tagged_and_unknown_keys_refused() {
        let c: ResponseConfig = toml::from_str(
            r#"
            [actions.fw]
            kind = "nft"
            create = true
            [actions.hook]
            kind = "webhook"
            url = "https://fw.example/api"
            secret_file = "/etc/gatewatch/hook.secret"
            [[policies]]
            name = "p"
            action = "fw"
            mode = "enforce"
            "#,
        )
        .unwrap();
        assert_eq!(c.actions["fw"].kind(), "nft");
        assert_eq!(c.policies[0].mode, Mode::Enforce);
        assert_eq!(c.policies[0].target, TargetKind::Source);
        let e = toml::from_str::<ResponseConfig>(
            "[[policies]]\nname='p'\naction='fw'\nignore_allowlist=true\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("ignore_allowlist"), "{e}");
        assert!(toml::from_str::<ResponseConfig>("[actions.x]\nkind='ssh'\n").is_err());
    }
}
