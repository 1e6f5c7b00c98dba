//! What is never blocked. One check, [`Allowlist::check`], used for every decision
//! and again right before an action runs (an approval, a retry, or an allowlist that
//! grew since the decision cannot get past it).
//!
//! Entries: addresses and networks (IPv4-mapped IPv6 targets are checked as IPv4),
//! domain names (a domain target is stopped when it is the name, one of its subdomains,
//! or a parent of it: sinkholing `gov.vn` would take `hue.gov.vn` with it), and
//! references to the asset inventory: `criticality:critical` (that criticality and
//! graver), `level:4` (security level 4 and up), `agency:ID`. The built-in list
//! (loopback, unspecified, link-local, multicast, reserved and broadcast) is always on.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use super::config::TargetKind;
use super::ConfigError;
use crate::domain::network::Network;
use crate::incident::assets::{Criticality, Inventory};

/// The name of the list that is always on.
pub const BUILTIN: &str = "built-in";

const BUILTIN_NETWORKS: &[&str] = &[
    "0.0.0.0/8",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "fe80::/10",
    "ff00::/8",
];

/// What a block is aimed at.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetValue {
    /// Canonical: an IPv4-mapped IPv6 address is its IPv4 address.
    Ip(IpAddr),
    /// Lower case, without a trailing dot.
    Domain(String),
}

impl TargetValue {
    /// An address (canonical form) or a domain name; `None` for anything else.
    pub fn parse(s: &str) -> Option<TargetValue> {
        let s = s.trim();
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Some(TargetValue::Ip(ip.to_canonical()));
        }
        normalize_domain(s).map(TargetValue::Domain)
    }
}

impl fmt::Display for TargetValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetValue::Ip(ip) => write!(f, "{ip}"),
            TargetValue::Domain(d) => f.write_str(d),
        }
    }
}

/// A target of a policy: what and why (its role in the incident).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    /// What kind of target it protects.
    pub kind: TargetKind,
    pub(crate) value: TargetValue,
}

/// A domain name in canonical form: ASCII letters, digits, `-` and `_`, lower case,
/// at least two labels, no trailing dot; `*.` in front is dropped.
pub fn normalize_domain(s: &str) -> Option<String> {
    let d = s.trim().trim_start_matches("*.").trim_end_matches('.').to_ascii_lowercase();
    // A label neither starts nor ends with `-` (RFC 952/1123): `-c.x` is no name, and
    // no program handed it could take it for an option.
    let ok_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let labels: Vec<&str> = d.split('.').collect();
    (d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| ok_label(l))
        && d.parse::<IpAddr>().is_err()
        && !labels.last().is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit())))
    .then_some(d)
}

#[derive(Clone, Debug)]
enum Entry {
    Net(Network),
    Domain(String),
    Criticality(Criticality),
    Level(u8),
    Agency(String),
}

#[derive(Clone, Debug)]
struct List {
    name: String,
    entries: Vec<(Entry, String)>,
}

/// Why a target may not be blocked: the list and the entry as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AllowHit {
    pub(crate) list: String,
    pub(crate) entry: String,
}

impl fmt::Display for AllowHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.list, self.entry)
    }
}

/// Every allowlist of the configuration, and the built-in one.
#[derive(Clone, Debug)]
pub struct Allowlist {
    lists: Vec<List>,
}

fn parse_entry(raw: &str) -> Result<Entry, ConfigError> {
    let s = raw.trim();
    if let Some((k, v)) =
        s.split_once(':').filter(|(k, _)| k.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return match k {
            "criticality" => match v.trim() {
                "low" => Ok(Entry::Criticality(Criticality::Low)),
                "medium" => Ok(Entry::Criticality(Criticality::Medium)),
                "high" => Ok(Entry::Criticality(Criticality::High)),
                "critical" => Ok(Entry::Criticality(Criticality::Critical)),
                o => Err(ConfigError::new(format!(
                    "`{raw}`: criticality `{o}` (low, medium, high, critical)"
                ))),
            },
            "level" => match v.trim().parse::<u8>() {
                Ok(n @ 1..=5) => Ok(Entry::Level(n)),
                _ => Err(ConfigError::new(format!("`{raw}`: a security level is 1 to 5"))),
            },
            "agency" if !v.trim().is_empty() => Ok(Entry::Agency(v.trim().to_string())),
            _ => Err(ConfigError::new(format!(
                "`{raw}`: unknown reference `{k}:` (criticality:, level:, agency:)"
            ))),
        };
    }
    if let Ok(n) = Network::parse(s) {
        return Ok(Entry::Net(n));
    }
    normalize_domain(s).map(Entry::Domain).ok_or_else(|| {
        ConfigError::new(format!(
            "`{raw}`: not an address, a network, a domain name or a reference"
        ))
    })
}

impl Allowlist {
    /// Parses the configured lists; an entry that is none of the forms is an error
    /// naming the list and the entry (a typo must not leave a resolver blockable).
    pub fn new<'a>(
        lists: impl IntoIterator<Item = (&'a String, &'a Vec<String>)>,
    ) -> Result<Allowlist, ConfigError> {
        let mut out = vec![List {
            name: BUILTIN.into(),
            entries: BUILTIN_NETWORKS
                .iter()
                .filter_map(|n| Network::parse(n).ok().map(|net| (Entry::Net(net), n.to_string())))
                .collect(),
        }];
        for (name, entries) in lists {
            if name == BUILTIN {
                return Err(ConfigError::new(format!("allowlist `{BUILTIN}` is reserved")));
            }
            let mut list = List { name: name.clone(), entries: Vec::new() };
            for e in entries {
                let entry = parse_entry(e).map_err(|m| m.at(format!("allowlist `{name}`")))?;
                list.entries.push((entry, e.trim().to_string()));
            }
            out.push(list);
        }
        Ok(Allowlist { lists: out })
    }

    /// The first entry that forbids blocking `t`, if any.
    pub fn check(&self, t: &TargetValue, inv: &Inventory) -> Option<AllowHit> {
        let ip = match t {
            TargetValue::Ip(ip) => Some(ip.to_canonical()),
            TargetValue::Domain(_) => None,
        };
        let asset = ip.and_then(|ip| inv.zone_of(ip).asset().cloned());
        for l in &self.lists {
            for (e, raw) in &l.entries {
                let hit = match (e, t) {
                    (Entry::Net(n), _) => ip.is_some_and(|ip| n.contains(ip)),
                    (Entry::Domain(d), TargetValue::Domain(x)) => related_domains(d, x),
                    (Entry::Domain(_), TargetValue::Ip(_)) => false,
                    (Entry::Criticality(c), _) => {
                        asset.as_ref().is_some_and(|a| a.criticality >= *c)
                    }
                    (Entry::Level(n), _) => asset.as_ref().is_some_and(|a| a.security_level >= *n),
                    (Entry::Agency(id), _) => asset.as_ref().is_some_and(|a| &a.agency_id == id),
                };
                if hit {
                    return Some(AllowHit { list: l.name.clone(), entry: raw.clone() });
                }
            }
        }
        None
    }

    /// Entries across the configured lists (the built-in one not counted).
    pub fn configured_entries(&self) -> usize {
        self.lists.iter().skip(1).map(|l| l.entries.len()).sum()
    }
}

/// `a` and `b` are the same name, or one is a subdomain of the other.
fn related_domains(a: &str, b: &str) -> bool {
    let sub = |x: &str, of: &str| {
        x.len() > of.len() && x.ends_with(of) && x.as_bytes()[x.len() - of.len() - 1] == b'.'
    };
    a == b || sub(a, b) || sub(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Allowlist {
        let name = "critical".to_string();
        let v: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        Allowlist::new([(&name, &v)]).unwrap()
    }

    fn ip(s: &str) -> TargetValue {
        TargetValue::parse(s).unwrap()
    }

    #[test]
    fn addresses_networks_and_mapped_addresses() {
        let inv = Inventory::default();
        let a = list(&["10.46.0.53", "113.160.0.0/28", "2001:db8::/32"]);
        assert_eq!(a.check(&ip("10.46.0.53"), &inv).unwrap().to_string(), "critical: 10.46.0.53");
        assert!(a.check(&ip("::ffff:10.46.0.53"), &inv).is_some(), "IPv4-mapped");
        assert!(a.check(&ip("113.160.0.15"), &inv).is_some());
        assert!(a.check(&ip("113.160.0.16"), &inv).is_none());
        assert!(a.check(&ip("2001:db8::1"), &inv).is_some());
        assert_eq!(a.check(&ip("127.0.0.1"), &inv).unwrap().list, BUILTIN);
        assert_eq!(a.check(&ip("255.255.255.255"), &inv).unwrap().list, BUILTIN);
        assert!(a.check(&ip("203.0.113.7"), &inv).is_none());
    }

    #[test]
    fn domains_both_ways() {
        let inv = Inventory::default();
        let a = list(&["*.hue.gov.vn", "Dichvucong.gov.vn."]);
        let d = |s: &str| TargetValue::Domain(normalize_domain(s).unwrap());
        assert!(a.check(&d("mail.hue.gov.vn"), &inv).is_some());
        assert!(a.check(&d("hue.gov.vn"), &inv).is_some());
        assert!(a.check(&d("gov.vn"), &inv).is_some(), "a parent takes the child with it");
        assert!(a.check(&d("dichvucong.gov.vn"), &inv).is_some());
        assert!(a.check(&d("xhue.gov.vn"), &inv).is_none());
        assert!(a.check(&d("evil.example"), &inv).is_none());
        assert_eq!(normalize_domain("1.2.3.4"), None);
        assert_eq!(normalize_domain("localhost"), None);
        assert_eq!(normalize_domain("a b.vn"), None);
    }

    #[test]
    fn inventory_references() {
        let inv = Inventory::from_toml(
            r#"
            [[agencies]]
            id = "ubnd"
            name = "UBND tỉnh"
            [[assets]]
            address = "10.46.2.0/24"
            agency = "ubnd"
            security_level = 4
            criticality = "critical"
            [[assets]]
            address = "10.46.3.0/24"
            agency = "ubnd"
            security_level = 2
            "#,
            "t",
        )
        .unwrap();
        assert!(list(&["criticality:high"]).check(&ip("10.46.2.9"), &inv).is_some());
        assert!(list(&["criticality:high"]).check(&ip("10.46.3.9"), &inv).is_none());
        assert!(list(&["level:4"]).check(&ip("10.46.2.9"), &inv).is_some());
        assert!(list(&["agency:ubnd"]).check(&ip("10.46.3.9"), &inv).is_some());
        let n = "x".to_string();
        for bad in ["level:9", "criticality:huge", "vip:1", "10.46.0.0/33", "not an entry"] {
            let v = vec![bad.to_string()];
            let e = Allowlist::new([(&n, &v)]).unwrap_err().to_string();
            assert!(e.contains("allowlist `x`") && e.contains(bad), "{e}");
        }
    }
}
