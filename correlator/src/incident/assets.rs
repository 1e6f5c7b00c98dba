//! The asset inventory: which agency (sở/ban/ngành, commune office) and system an
//! address belongs to, its security level under Decree 85/2016 (1–5), its owner and
//! how critical it is.
//!
//! Read from TOML or CSV (by the file's extension). Entries are networks or single
//! hosts; the most specific entry that contains an address wins. Addresses in no
//! entry are *unknown internal* when inside one of the `internal` networks (RFC 1918,
//! CGNAT and IPv6 ULA by default), else *external*.
//!
//! TOML:
//! ```toml
//! internal = ["10.0.0.0/8"]            # optional; replaces the default list
//! [[agencies]]
//! id = "so-tai-chinh"
//! name = "Sở Tài chính"
//! name_en = "Department of Finance"    # optional
//! [[assets]]
//! address = "10.46.10.0/24"            # a network or a host
//! agency = "so-tai-chinh"              # an id of [[agencies]]
//! system = "Cổng thông tin điện tử"
//! security_level = 3                   # 1–5
//! criticality = "high"                 # low | medium | high | critical
//! owner = "Trần Thị B <b@stc.hue.gov.vn>"
//! names = ["portal01", "portal01.stc.hue.gov.vn"]   # optional: host-log names
//! ```
//!
//! CSV (header required, any column order, `#` comments):
//! `address,agency,agency_name,system,security_level,criticality,owner,names` (names
//! separated by spaces); an agency
//! named by a row is created from `agency_name` the first time it appears.
//!
//! Lookup is one hash probe per prefix length present (at most 33 for IPv4), so its
//! cost does not grow with the size of the inventory.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::domain::network::{mask, parse_prefix, to_bits, NetworkError, Prefix};

/// How critical an asset is to its agency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    /// Its loss hinders little.
    Low,
    /// The default.
    #[default]
    Medium,
    /// Its loss stops a service of the agency.
    High,
    /// Its loss stops the agency (or others that depend on it).
    Critical,
}

impl Criticality {
    /// `low`, `medium`, `high` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        }
    }

    fn parse(s: &str) -> Option<Criticality> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Criticality::Low),
            "medium" | "" => Some(Criticality::Medium),
            "high" => Some(Criticality::High),
            "critical" => Some(Criticality::Critical),
            _ => None,
        }
    }
}

/// An agency (department, district, commune office) of the inventory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    /// Its id (`so-tttt`).
    pub id: String,
    /// Its Vietnamese name.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name_en: Option<String>,
}

/// One inventory entry as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetEntry {
    pub(crate) address: String,
    /// The agency id, from the asset inventory.
    pub agency: String,
    /// The information system, from the asset inventory.
    #[serde(default)]
    pub system: String,
    /// The system's security level (Decree 85/2016, 1–5), from the asset inventory.
    #[serde(default = "default_level")]
    pub security_level: u8,
    #[serde(default)]
    pub(crate) criticality: Criticality,
    #[serde(default)]
    pub(crate) owner: String,
    /// Host names of this entry (as host logs name the computer), matched without
    /// regard to case; only for single hosts.
    #[serde(default)]
    pub names: Vec<String>,
}

fn default_level() -> u8 {
    1
}

/// What the inventory knows of an address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "zone", rename_all = "snake_case")]
pub enum Zone<'a> {
    /// In the inventory.
    Asset(&'a Asset),
    /// Inside an internal network, in no inventory entry.
    UnknownInternal,
    /// Outside every internal network.
    External,
}

impl Zone<'_> {
    pub(crate) fn is_internal(&self) -> bool {
        !matches!(self, Zone::External)
    }

    /// `asset`, `unknown_internal` or `external`.
    pub fn name(&self) -> &'static str {
        match self {
            Zone::Asset(_) => "asset",
            Zone::UnknownInternal => "unknown_internal",
            Zone::External => "external",
        }
    }

    pub(crate) fn asset(&self) -> Option<&Asset> {
        match self {
            Zone::Asset(a) => Some(a),
            _ => None,
        }
    }
}

/// An inventory entry, resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Asset {
    pub(crate) network: String,
    pub(crate) agency_id: String,
    /// The agency's name, from the asset inventory.
    pub agency_name: String,
    /// The information system, from the asset inventory.
    pub system: String,
    /// The system's security level (Decree 85/2016, 1–5), from the asset inventory.
    pub security_level: u8,
    pub(crate) criticality: Criticality,
    pub(crate) owner: String,
}

/// An inventory that could not be read: the file, the entry (line or index) and why.
#[derive(Debug, thiserror::Error)]
#[error("asset inventory `{file}`{}: {message}", at.as_ref().map(|a| format!(", {a}")).unwrap_or_default())]
pub struct InventoryError {
    /// The inventory file.
    pub file: String,
    pub(crate) at: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Networks matched by longest prefix.
#[derive(Clone, Debug)]
struct PrefixMap<T> {
    /// (v6, length) → network bits → value; lengths probed longest first.
    by_len: BTreeMap<(bool, std::cmp::Reverse<u8>), HashMap<u128, T>>,
}

impl<T> Default for PrefixMap<T> {
    fn default() -> Self {
        PrefixMap { by_len: BTreeMap::new() }
    }
}

impl<T> PrefixMap<T> {
    fn insert(&mut self, p: Prefix, v: T) -> Option<T> {
        self.by_len.entry((p.v6, std::cmp::Reverse(p.len))).or_default().insert(p.bits, v)
    }

    fn lookup(&self, ip: IpAddr) -> Option<&T> {
        let (v6, bits) = to_bits(ip);
        self.by_len
            .range((v6, std::cmp::Reverse(u8::MAX))..=(v6, std::cmp::Reverse(0)))
            .find_map(|((_, std::cmp::Reverse(len)), m)| m.get(&mask(v6, bits, *len)))
    }

    fn len(&self) -> usize {
        self.by_len.values().map(HashMap::len).sum()
    }
}

/// The default internal networks: RFC 1918, RFC 6598 (CGNAT), loopback, link-local,
/// IPv6 ULA and link-local.
pub const DEFAULT_INTERNAL: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
];

/// What is wrong with one entry of an inventory (placed in an [`InventoryError`] with
/// the file and the entry).
#[derive(Debug, thiserror::Error)]
enum EntryProblem {
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error("security_level {0} is not 1–5")]
    SecurityLevel(u8),
    #[error("agency `{0}` is not in [[agencies]]")]
    UnknownAgency(String),
    #[error("host names belong to a single address, not a network")]
    NamesOfNetwork,
    #[error("host name `{0}` is empty or listed twice")]
    HostName(String),
    #[error("`{0}` is listed twice")]
    Twice(String),
    #[error("a quoted field is not closed")]
    OpenQuote,
}

/// The inventory, ready for lookups.
#[derive(Clone, Debug)]
pub struct Inventory {
    assets: PrefixMap<Asset>,
    /// Lower-case host name → asset.
    by_name: HashMap<String, Asset>,
    internal: PrefixMap<()>,
    /// The agencies, by id.
    pub agencies: BTreeMap<String, Agency>,
}

impl Default for Inventory {
    fn default() -> Self {
        let mut internal = PrefixMap::default();
        for n in DEFAULT_INTERNAL {
            if let Ok(p) = parse_prefix(n) {
                internal.insert(p, ());
            }
        }
        Inventory {
            assets: PrefixMap::default(),
            by_name: HashMap::new(),
            internal,
            agencies: BTreeMap::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    internal: Option<Vec<String>>,
    #[serde(default)]
    agencies: Vec<Agency>,
    #[serde(default)]
    assets: Vec<AssetEntry>,
}

impl Inventory {
    /// Reads a `.toml` or `.csv` inventory.
    pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| InventoryError {
            file: file.clone(),
            at: None,
            message: e.to_string(),
        })?;
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => Inventory::from_csv(&text, &file),
            _ => Inventory::from_toml(&text, &file),
        }
    }

    /// Reads the TOML form (`[[agency]]`, `[[asset]]`, `[[internal]]`); errors name the entry.
    pub fn from_toml(text: &str, file: &str) -> Result<Inventory, InventoryError> {
        let err = |at: Option<String>, message: String| InventoryError {
            file: file.to_string(),
            at,
            message,
        };
        let f: TomlFile = toml::from_str(text).map_err(|e| err(None, e.to_string()))?;
        let mut inv = Inventory::default();
        if let Some(nets) = f.internal {
            inv.internal = PrefixMap::default();
            for (i, n) in nets.iter().enumerate() {
                let p = parse_prefix(n)
                    .map_err(|m| err(Some(format!("internal[{i}]")), m.to_string()))?;
                inv.internal.insert(p, ());
            }
        }
        for (i, a) in f.agencies.into_iter().enumerate() {
            if a.id.trim().is_empty() {
                return Err(err(Some(format!("agencies[{i}]")), "empty id".into()));
            }
            if inv.agencies.insert(a.id.clone(), a.clone()).is_some() {
                return Err(err(
                    Some(format!("agencies[{i}]")),
                    format!("agency `{}` twice", a.id),
                ));
            }
        }
        for (i, e) in f.assets.iter().enumerate() {
            inv.add(e)
                .map_err(|m| err(Some(format!("assets[{i}] ({})", e.address)), m.to_string()))?;
        }
        Ok(inv)
    }

    /// Reads the CSV form (one asset a line, with a header); errors name the line.
    pub fn from_csv(text: &str, file: &str) -> Result<Inventory, InventoryError> {
        let err = |line: usize, message: String| InventoryError {
            file: file.to_string(),
            at: Some(format!("line {line}")),
            message,
        };
        let mut inv = Inventory::default();
        let mut header: Option<HashMap<String, usize>> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let raw = raw.trim_start_matches('\u{feff}');
            if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
                continue;
            }
            let cells = split_csv(raw).map_err(|m| err(line, m.to_string()))?;
            let Some(cols) = &header else {
                let cols: HashMap<String, usize> = cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.trim().to_ascii_lowercase(), i))
                    .collect();
                for need in ["address", "agency"] {
                    if !cols.contains_key(need) {
                        return Err(err(line, format!("the header has no `{need}` column")));
                    }
                }
                header = Some(cols);
                continue;
            };
            let get = |k: &str| cols.get(k).and_then(|&i| cells.get(i)).map_or("", |s| s.trim());
            let agency = get("agency").to_string();
            if !inv.agencies.contains_key(&agency) && !agency.is_empty() {
                let name = match get("agency_name") {
                    "" => agency.clone(),
                    n => n.to_string(),
                };
                let name_en = Some(get("agency_name_en").to_string()).filter(|s| !s.is_empty());
                inv.agencies.insert(agency.clone(), Agency { id: agency.clone(), name, name_en });
            }
            let level = match get("security_level") {
                "" => 1,
                l => {
                    l.parse().map_err(|_| err(line, format!("security_level `{l}` is not 1–5")))?
                }
            };
            let criticality = Criticality::parse(get("criticality")).ok_or_else(|| {
                err(
                    line,
                    format!("criticality `{}`: low, medium, high or critical", get("criticality")),
                )
            })?;
            let e = AssetEntry {
                address: get("address").to_string(),
                agency,
                system: get("system").to_string(),
                security_level: level,
                criticality,
                owner: get("owner").to_string(),
                names: get("names").split_whitespace().map(str::to_string).collect(),
            };
            inv.add(&e).map_err(|m| err(line, m.to_string()))?;
        }
        Ok(inv)
    }

    fn add(&mut self, e: &AssetEntry) -> Result<(), EntryProblem> {
        let p = parse_prefix(&e.address)?;
        if !(1..=5).contains(&e.security_level) {
            return Err(EntryProblem::SecurityLevel(e.security_level));
        }
        let agency = self
            .agencies
            .get(&e.agency)
            .ok_or_else(|| EntryProblem::UnknownAgency(e.agency.clone()))?;
        let asset = Asset {
            network: e.address.trim().to_string(),
            agency_id: agency.id.clone(),
            agency_name: agency.name.clone(),
            system: e.system.clone(),
            security_level: e.security_level,
            criticality: e.criticality,
            owner: e.owner.clone(),
        };
        let host = p.len == if p.v6 { 128 } else { 32 };
        if !e.names.is_empty() && !host {
            return Err(EntryProblem::NamesOfNetwork);
        }
        for n in &e.names {
            let key = n.trim().to_ascii_lowercase();
            if key.is_empty() || self.by_name.insert(key, asset.clone()).is_some() {
                return Err(EntryProblem::HostName(n.trim().to_string()));
            }
        }
        if self.assets.insert(p, asset).is_some() {
            return Err(EntryProblem::Twice(e.address.trim().to_string()));
        }
        Ok(())
    }

    /// Where `ip` is. Text that is not an address is external.
    pub fn zone(&self, ip: &str) -> Zone<'_> {
        let Ok(ip) = ip.trim().parse::<IpAddr>() else { return Zone::External };
        self.zone_of(ip)
    }

    /// Where a host named in a host log is: its inventory entry, else unknown internal
    /// (a host that sends us its logs is ours).
    pub fn zone_of_name(&self, name: &str) -> Zone<'_> {
        match self.by_name.get(&name.trim().to_ascii_lowercase()) {
            Some(a) => Zone::Asset(a),
            None => Zone::UnknownInternal,
        }
    }

    /// Where an incident's entity is: an address, `host:NAME` or `sensor:NAME` (a
    /// sensor is outside the inventory: external).
    pub fn zone_of_entity(&self, entity: &str) -> Zone<'_> {
        if let Some(name) = entity.strip_prefix("host:") {
            self.zone_of_name(name)
        } else if entity.starts_with("sensor:") || entity.starts_with("response:") {
            Zone::External
        } else {
            self.zone(entity)
        }
    }

    pub(crate) fn zone_of(&self, ip: IpAddr) -> Zone<'_> {
        if let Some(a) = self.assets.lookup(ip) {
            return Zone::Asset(a);
        }
        if self.internal.lookup(ip).is_some() {
            Zone::UnknownInternal
        } else {
            Zone::External
        }
    }

    /// Number of entries (networks and hosts).
    /// Every entry, most specific networks first.
    pub fn assets(&self) -> Vec<&Asset> {
        self.assets.by_len.values().flat_map(HashMap::values).collect()
    }

    /// Assets in it.
    pub fn len(&self) -> usize {
        self.assets.len()
    }

    /// No asset in it.
    pub fn is_empty(&self) -> bool {
        self.assets.len() == 0
    }
}

/// Splits one CSV line (RFC 4180 quotes, `""` inside quotes).
fn split_csv(line: &str) -> Result<Vec<String>, EntryProblem> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if cur.trim().is_empty() => {
                cur.clear();
                quoted = true
            }
            (false, ',') => out.push(std::mem::take(&mut cur)),
            (_, c) => cur.push(c),
        }
    }
    if quoted {
        return Err(EntryProblem::OpenQuote);
    }
    out.push(cur);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
        [[agencies]]
        id = "stc"
        name = "Sở Tài chính"
        [[agencies]]
        id = "syt"
        name = "Sở Y tế"
        [[assets]]
        address = "10.46.10.0/24"
        agency = "stc"
        system = "Mạng nội bộ"
        security_level = 2
        [[assets]]
        address = "10.46.10.20"
        agency = "stc"
        system = "Cổng thông tin"
        security_level = 3
        criticality = "high"
        names = ["portal01"]
        [[assets]]
        address = "2001:db8:46::/48"
        agency = "syt"
        system = "HIS"
        security_level = 4
    "#;

    #[test]
    fn the_most_specific_entry_wins() {
        let inv = Inventory::from_toml(TOML, "t.toml").unwrap();
        assert_eq!(inv.len(), 3);
        let portal = inv.zone("10.46.10.20");
        let a = portal.asset().unwrap();
        assert_eq!(
            (a.system.as_str(), a.security_level, a.criticality),
            ("Cổng thông tin", 3, Criticality::High)
        );
        let lan = inv.zone("10.46.10.21");
        assert_eq!(lan.asset().unwrap().security_level, 2);
        assert_eq!(lan.asset().unwrap().agency_name, "Sở Tài chính");
        assert_eq!(inv.zone("10.46.11.1"), Zone::UnknownInternal);
        assert_eq!(inv.zone("203.0.113.5"), Zone::External);
        assert_eq!(inv.zone("not an ip"), Zone::External);
        assert_eq!(inv.zone("2001:db8:46:1::5").asset().unwrap().system, "HIS");
        assert_eq!(inv.zone("::ffff:10.46.10.20").asset().unwrap().system, "Cổng thông tin");
        assert_eq!(inv.zone_of_entity("host:PORTAL01").asset().unwrap().system, "Cổng thông tin");
        assert_eq!(inv.zone_of_entity("host:other"), Zone::UnknownInternal);
        assert_eq!(inv.zone_of_entity("sensor:s1"), Zone::External);
        assert_eq!(inv.zone_of_entity("10.46.10.20").asset().unwrap().security_level, 3);
    }

    #[test]
    fn csv_reads_agencies_from_rows_and_quoted_fields() {
        let csv = "# Huế\naddress,agency,agency_name,system,security_level,criticality,owner\n\
                   10.46.20.0/24,syt,Sở Y tế,\"HIS, bệnh viện\",4,critical,\"A \"\"B\"\"\"\n\
                   10.46.120.0/24,phu-hoi,UBND phường Phú Hội,,1,,\n";
        let inv = Inventory::from_csv(csv, "a.csv").unwrap();
        let his = inv.zone("10.46.20.22");
        let a = his.asset().unwrap();
        assert_eq!(a.system, "HIS, bệnh viện");
        assert_eq!(a.owner, "A \"B\"");
        assert_eq!(a.criticality, Criticality::Critical);
        assert_eq!(inv.agencies["phu-hoi"].name, "UBND phường Phú Hội");
        assert_eq!(inv.zone("10.46.120.9").asset().unwrap().criticality, Criticality::Medium);
    }

    #[test]
    fn errors_name_the_file_and_the_entry() {
        let bad_level = TOML.replace("security_level = 4", "security_level = 7");
        let e = Inventory::from_toml(&bad_level, "inv.toml").unwrap_err().to_string();
        assert!(e.contains("inv.toml") && e.contains("assets[2]") && e.contains("1–5"), "{e}");
        let e = Inventory::from_toml(&TOML.replace("agency = \"syt\"", "agency = \"xx\""), "i")
            .unwrap_err()
            .to_string();
        assert!(e.contains("agency `xx`"), "{e}");
        let e = Inventory::from_csv("address,agency\n10.0.0.300,a\n", "a.csv").unwrap_err();
        assert_eq!(e.at.as_deref(), Some("line 2"));
        let e = Inventory::from_csv("ip,agency\n", "a.csv").unwrap_err().to_string();
        assert!(e.contains("no `address` column"), "{e}");
        let e =
            Inventory::from_csv("address,agency\n10.0.0.1,a\n10.0.0.1,a\n", "a.csv").unwrap_err();
        assert!(e.message.contains("twice"), "{e}");
        let e =
            Inventory::from_csv("address,agency,names\n10.0.0.0/24,a,db01\n", "a.csv").unwrap_err();
        assert!(e.message.contains("single address"), "{e}");
    }

    #[test]
    fn internal_networks_can_be_replaced() {
        let inv = Inventory::from_toml("internal = [\"203.0.113.0/24\"]", "t").unwrap();
        assert_eq!(inv.zone("203.0.113.9"), Zone::UnknownInternal);
        assert_eq!(inv.zone("10.1.1.1"), Zone::External);
        assert_eq!(Inventory::default().zone("192.168.1.1"), Zone::UnknownInternal);
        assert_eq!(Inventory::default().zone("fd00::1"), Zone::UnknownInternal);
    }

    proptest::proptest! {
        /// The prefix map agrees with a linear scan for the longest match.
        #[test]
        fn lookup_is_the_longest_match(nets in proptest::collection::vec((proptest::prelude::any::<u32>(), 0u8..=32), 1..40), probes in proptest::collection::vec(proptest::prelude::any::<u32>(), 1..40)) {
            let mut m = PrefixMap::default();
            let mut list = Vec::new();
            for (i, (bits, len)) in nets.iter().enumerate() {
                let p = Prefix { v6: false, bits: mask(false, *bits as u128, *len), len: *len };
                if m.insert(p, i).is_none() { list.push((p, i)); } else {
                    list.retain(|(q, _)| *q != p);
                    list.push((p, i));
                }
            }
            for ip in probes {
                let want = list.iter().filter(|(p, _)| mask(false, ip as u128, p.len) == p.bits).max_by_key(|(p, _)| p.len).map(|(_, v)| *v);
                let got = m.lookup(IpAddr::V4(ip.into())).copied();
                proptest::prop_assert_eq!(got, want);
            }
        }
    }
}
