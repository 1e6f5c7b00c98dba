//! Response policies, compiled from the configuration: which incidents they match and
//! which addresses or names of an incident they aim at.

use std::collections::BTreeSet;

use super::allowlist::{normalize_domain, Target, TargetValue};
use super::config::{parse_duration, Mode, PolicyConfig, TargetKind, MAX_TTL_SECS};
use super::ConfigError;
use crate::incident::assets::Inventory;
use crate::store::sqlite::{IncidentHost, IncidentRow};

/// What is known of an incident when policies look at it.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The incident as stored.
    pub incident: IncidentRow,
    /// The (gid, sid) of its rules.
    pub rules: BTreeSet<(u32, u32)>,
    pub(crate) hosts: Vec<IncidentHost>,
    /// Rule tags, lower case (read only when a policy asks for tags).
    pub tags: BTreeSet<String>,
    /// Domain names seen in its alerts (read only when a policy blocks domains).
    pub domains: BTreeSet<String>,
    /// Every alert of the incident came from forwarded host logs: what they say is the
    /// sending host's word, so an `enforce` policy waits for an analyst.
    pub forwarded_only: bool,
}

/// A response policy: which incidents it matches, and how it blocks.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Its name.
    pub name: String,
    /// What it does when it matches.
    pub mode: Mode,
    /// The action it uses.
    pub action: String,
    /// Which side of the incident it blocks.
    pub target: TargetKind,
    min_score: u32,
    min_severity: u8,
    rules: BTreeSet<(u32, u32)>,
    tags: BTreeSet<String>,
    tactics: Vec<String>,
    classes: Vec<String>,
    correlations: Vec<String>,
    agencies: Vec<String>,
    zones: Vec<String>,
    only_succeeded: bool,
    /// How long the block lasts, in seconds (0: until undone).
    pub ttl_secs: u64,
    pub(crate) repeat_factor: u32,
    pub(crate) max_ttl_secs: u64,
    pub(crate) max_per_minute: u32,
    pub(crate) max_targets: usize,
}

/// Rank of a severity word: low 0 … critical 3.
fn severity_rank(w: &str) -> Option<u8> {
    ["low", "medium", "high", "critical"].iter().position(|s| *s == w).map(|p| p as u8)
}

fn parse_rule(s: &str) -> Result<(u32, u32), ConfigError> {
    let t = s.trim();
    let (g, sid) = t.split_once(':').unwrap_or(("1", t));
    match (g.trim().parse(), sid.trim().parse()) {
        (Ok(g), Ok(s)) => Ok((g, s)),
        _ => Err(ConfigError::new(format!("rule `{s}`: expected GID:SID or SID"))),
    }
}

impl Policy {
    /// Compiles a policy; errors name the policy and the key.
    pub fn new(c: &PolicyConfig) -> Result<Policy, ConfigError> {
        let name = c.name.trim();
        let err = |m: String| ConfigError::new(m).at(format!("policy `{name}`"));
        if name.is_empty() {
            return Err(ConfigError::new("a policy needs a `name`"));
        }
        let ttl_secs = parse_duration(&c.ttl).map_err(|e| err(format!("ttl {e}")))?;
        let max_ttl_secs = parse_duration(&c.max_ttl).map_err(|e| err(format!("max_ttl {e}")))?;
        if ttl_secs == 0 || ttl_secs > max_ttl_secs {
            return Err(err(format!(
                "ttl must be at least 1 s and at most max_ttl ({})",
                c.max_ttl
            )));
        }
        if max_ttl_secs > MAX_TTL_SECS {
            return Err(err(format!(
                "max_ttl {} is longer than 90 days: every block expires",
                c.max_ttl
            )));
        }
        if c.repeat_factor == 0 {
            return Err(err("repeat_factor must be at least 1".into()));
        }
        let min_severity = match &c.min_severity {
            None => 0,
            Some(w) => severity_rank(w.trim())
                .ok_or_else(|| err(format!("min_severity `{w}`: low, medium, high or critical")))?,
        };
        let rules = c
            .rules
            .iter()
            .map(|r| parse_rule(r))
            .collect::<Result<_, _>>()
            .map_err(|e| err(e.to_string()))?;
        for z in &c.zones {
            if !["external", "internal", "asset", "unknown_internal"].contains(&z.as_str()) {
                return Err(err(format!(
                    "zone `{z}`: external, internal, asset or unknown_internal"
                )));
            }
        }
        let zones = if !c.zones.is_empty() {
            c.zones.clone()
        } else if c.target == TargetKind::Host {
            vec!["internal".to_string()]
        } else {
            vec!["external".to_string()]
        };
        if c.max_targets == 0 {
            return Err(err("max_targets must be at least 1".into()));
        }
        Ok(Policy {
            name: name.to_string(),
            mode: c.mode,
            action: c.action.clone(),
            target: c.target,
            min_score: c.min_score,
            min_severity,
            rules,
            tags: c.tags.iter().map(|t| t.trim().to_ascii_lowercase()).collect(),
            tactics: c.tactics.clone(),
            classes: c.classes.clone(),
            correlations: c.correlations.clone(),
            agencies: c.agencies.clone(),
            zones,
            only_succeeded: c.only_succeeded,
            ttl_secs,
            repeat_factor: c.repeat_factor,
            max_ttl_secs,
            max_per_minute: c.max_per_minute,
            max_targets: c.max_targets,
        })
    }

    pub(crate) fn wants_tags(&self) -> bool {
        !self.tags.is_empty()
    }

    /// Whether the incident meets every condition.
    pub fn matches(&self, f: &Facts) -> bool {
        let i = &f.incident;
        let any = |want: &[String], have: &[String]| {
            want.is_empty() || want.iter().any(|w| have.contains(w))
        };
        i.score >= self.min_score
            && severity_rank(&i.severity).unwrap_or(0) >= self.min_severity
            && (self.rules.is_empty() || self.rules.iter().any(|r| f.rules.contains(r)))
            && (self.tags.is_empty() || self.tags.iter().any(|t| f.tags.contains(t)))
            && any(&self.tactics, &i.tactics)
            && any(&self.classes, std::slice::from_ref(&i.rsit))
            && any(&self.correlations, &i.correlations)
            && (self.agencies.is_empty()
                || i.agency.as_ref().is_some_and(|a| self.agencies.contains(a)))
            && (!self.only_succeeded || i.succeeded)
    }

    fn zone_ok(&self, inv: &Inventory, ip: std::net::IpAddr) -> bool {
        let z = inv.zone_of(ip);
        self.zones.iter().any(|w| match w.as_str() {
            "internal" => z.is_internal(),
            other => other == z.name(),
        })
    }

    /// The targets of a matching incident, at most `max_targets`, in a stable order.
    pub fn targets(&self, f: &Facts, inv: &Inventory) -> Vec<Target> {
        let i = &f.incident;
        let entity_ip = i.entity.parse::<std::net::IpAddr>().ok();
        let mut values: BTreeSet<TargetValue> = BTreeSet::new();
        let role = |r: &'static str| {
            f.hosts
                .iter()
                .filter(move |h| h.role == r)
                .filter_map(|h| h.ip.parse().ok())
                .map(TargetValue::Ip)
        };
        match self.target {
            TargetKind::Source => {
                if i.entity_zone == "external" {
                    values.extend(entity_ip.map(TargetValue::Ip));
                }
                values.extend(role("source"));
            }
            TargetKind::Destination => values.extend(role("target")),
            TargetKind::Host => {
                if i.entity_zone != "external" {
                    values.extend(entity_ip.map(TargetValue::Ip));
                }
            }
            TargetKind::Domain => {}
        }
        let mut out: Vec<Target> = values
            .into_iter()
            .filter_map(|v| match v {
                TargetValue::Ip(ip) => {
                    let ip = ip.to_canonical();
                    self.zone_ok(inv, ip).then_some(TargetValue::Ip(ip))
                }
                d => Some(d),
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|value| Target { kind: self.target, value })
            .collect();
        if self.target == TargetKind::Domain {
            out = f
                .domains
                .iter()
                .filter_map(|d| TargetValue::parse(d))
                .filter(|v| matches!(v, TargetValue::Domain(_)))
                .map(|value| Target { kind: self.target, value })
                .collect();
        }
        out.truncate(self.max_targets);
        out
    }

    /// How long the next block of a target lasts, after `repeat` earlier ones.
    pub fn ttl_for(&self, repeat: u32) -> u64 {
        let factor = (self.repeat_factor as u64).saturating_pow(repeat.min(63));
        self.ttl_secs.saturating_mul(factor).min(self.max_ttl_secs)
    }
}

/// Domain names to sinkhole from an alert's EVE body: the names of a DNS query between
/// an internal client and a monitored resolver (either way round: a query or its
/// answer), validated as DNS names. A TLS SNI or HTTP `Host` is never taken: whoever
/// triggers the alert chooses it (`Host: microsoft.com`), and nothing was resolved.
pub fn domains_in(
    raw: &str,
    internal: &dyn Fn(std::net::IpAddr) -> bool,
    resolver: &dyn Fn(std::net::IpAddr) -> bool,
) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) else { return Vec::new() };
    let ip = |k: &str| v[k].as_str().and_then(|s| s.parse::<std::net::IpAddr>().ok());
    let (Some(a), Some(b)) = (ip("src_ip"), ip("dest_ip")) else { return Vec::new() };
    if !((internal(a) && resolver(b)) || (internal(b) && resolver(a))) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut push = |x: &serde_json::Value| {
        if let Some(d) = x.as_str().and_then(normalize_domain) {
            out.push(d);
        }
    };
    let dns = &v["dns"];
    for name in gatewatch_rules::event::dns::DnsView::of(dns).names {
        push(&serde_json::Value::String(name));
    }
    out
}

/// Rule tags in an alert's EVE body (`metadata.tag`), lower case.
pub fn tags_in(raw: &str) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) else { return Vec::new() };
    let md = &v["alert"]["metadata"];
    ["tag", "tags"]
        .iter()
        .filter_map(|k| md[*k].as_array())
        .flatten()
        .filter_map(|t| t.as_str())
        .map(|t| t.trim().to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str) -> PolicyConfig {
        toml::from_str(&format!("name = \"p\"\naction = \"fw\"\n{extra}")).unwrap()
    }

    fn facts() -> Facts {
        Facts {
            incident: IncidentRow {
                id: 3,
                score: 80,
                severity: "critical".into(),
                status: "new".into(),
                entity: "10.46.10.20".into(),
                entity_zone: "asset".into(),
                agency: Some("stc".into()),
                rsit: "intrusion-attempts".into(),
                tactics: vec!["TA0001".into()],
                ..Default::default()
            },
            rules: [(1, 2024897)].into(),
            hosts: vec![
                IncidentHost {
                    ip: "10.46.10.20".into(),
                    role: "entity".into(),
                    zone: "asset".into(),
                    agency: None,
                },
                IncidentHost {
                    ip: "203.0.113.7".into(),
                    role: "source".into(),
                    zone: "external".into(),
                    agency: None,
                },
                IncidentHost {
                    ip: "10.46.9.9".into(),
                    role: "source".into(),
                    zone: "unknown_internal".into(),
                    agency: None,
                },
            ],
            tags: ["exploit".to_string()].into(),
            domains: ["evil.example".to_string(), "10.0.0.1".to_string()].into(),
            forwarded_only: false,
        }
    }

    #[test]
    fn conditions() {
        let f = facts();
        assert!(Policy::new(&cfg("min_score = 80\nrules = [\"2024897\"]\ntags = [\"Exploit\"]"))
            .unwrap()
            .matches(&f));
        assert!(!Policy::new(&cfg("min_score = 81")).unwrap().matches(&f));
        assert!(Policy::new(&cfg("min_severity = \"high\"")).unwrap().matches(&f));
        assert!(!Policy::new(&cfg("rules = [\"1:1\"]")).unwrap().matches(&f));
        assert!(!Policy::new(&cfg("tactics = [\"TA0011\"]")).unwrap().matches(&f));
        assert!(Policy::new(&cfg("classes = [\"intrusion-attempts\"]\nagencies = [\"stc\"]"))
            .unwrap()
            .matches(&f));
        assert!(!Policy::new(&cfg("only_succeeded = true")).unwrap().matches(&f));
        assert!(!Policy::new(&cfg("correlations = [\"scan\"]")).unwrap().matches(&f));
    }

    #[test]
    fn targets_by_kind_and_zone() {
        let (f, inv) = (facts(), Inventory::default());
        let t = |extra: &str| -> Vec<String> {
            Policy::new(&cfg(extra))
                .unwrap()
                .targets(&f, &inv)
                .iter()
                .map(|t| t.value.to_string())
                .collect()
        };
        assert_eq!(t(""), ["203.0.113.7"], "external sources only by default");
        assert_eq!(t("zones = [\"external\", \"internal\"]"), ["10.46.9.9", "203.0.113.7"]);
        assert_eq!(t("target = \"host\""), ["10.46.10.20"]);
        assert_eq!(t("target = \"domain\""), ["evil.example"]);
        assert!(t("target = \"destination\"").is_empty());
    }

    #[test]
    fn repeat_offenders_and_limits() {
        let p = Policy::new(&cfg("ttl = \"1h\"\nrepeat_factor = 4\nmax_ttl = \"1d\"")).unwrap();
        assert_eq!(
            (p.ttl_for(0), p.ttl_for(1), p.ttl_for(2), p.ttl_for(60)),
            (3600, 14_400, 57_600, 86_400)
        );
        for (bad, why) in [
            ("ttl = \"0s\"", "ttl must be"),
            ("max_ttl = \"365d\"", "every block expires"),
            ("min_severity = \"urgent\"", "min_severity"),
            ("rules = [\"x:y\"]", "rule `x:y`"),
            ("zones = [\"dmz\"]", "zone `dmz`"),
        ] {
            let e = Policy::new(&cfg(bad)).unwrap_err().to_string();
            assert!(e.contains("policy `p`") && e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn names_and_tags_from_alert_bodies() {
        let raw = r#"{"src_ip":"10.0.0.5","dest_ip":"10.0.0.53","dns":{"query":[{"rrname":"a.evil.example"},{"rrname":"-c.x"}]},"tls":{"sni":"c2.example"},"http":{"hostname":"microsoft.com"},"alert":{"metadata":{"tag":["Exploit","CVE"]}}}"#;
        let internal = |ip: std::net::IpAddr| ip.to_string().starts_with("10.");
        let resolver = |ip: std::net::IpAddr| ip.to_string() == "10.0.0.53";
        // The resolved name only: not the SNI or Host the client chose, not `-c.x`.
        assert_eq!(domains_in(raw, &internal, &resolver), ["a.evil.example"]);
        assert!(domains_in(raw, &internal, &|_| false).is_empty(), "not through a resolver");
        assert_eq!(tags_in(raw), ["exploit", "cve"]);
        assert!(domains_in("not json", &internal, &resolver).is_empty());
    }
}
