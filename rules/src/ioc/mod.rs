//! Indicator-of-compromise lists: IP addresses and networks, domains (exact and
//! suffix), URLs, JA3/JA4 fingerprints and file hashes.
//!
//! Lists are read from plain text (one indicator per line, `#` comments, the kind
//! inferred), CSV with a header naming a `value` (or `indicator`, `ioc`) column and
//! optionally a `type` column (MISP's CSV export has both), and MISP JSON exports
//! (events with their attributes and objects, or a `restSearch` attribute list). Only
//! MISP attributes with `to_ids` true are loaded (as MISP means them for IDS export).
//! A line or attribute that is not an indicator is reported with `file:line` and the
//! rest loads. A list is named after its file.
//!
//! Lookups are hash lookups: an address is tried once per distinct prefix length of
//! the loaded networks; a domain once per label suffix (`a.b.example.org`,
//! `b.example.org`, …).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::load_report::{LoadReport, Skipped};

/// What an indicator describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IocKind {
    /// An IPv4 or IPv6 address (or network).
    Ip,
    /// A domain and its subdomains.
    Domain,
    /// A URL (matched without its scheme).
    Url,
    /// A JA3 client fingerprint (MD5).
    Ja3,
    /// A JA4 client fingerprint.
    Ja4,
    /// An MD5 file hash.
    Md5,
    /// A SHA-1 file hash.
    Sha1,
    /// A SHA-256 file hash.
    Sha256,
}

impl IocKind {
    /// `ip`, `domain`, `url`, `ja3`, `ja4`, `md5`, `sha1` or `sha256`.
    pub fn as_str(self) -> &'static str {
        match self {
            IocKind::Ip => "ip",
            IocKind::Domain => "domain",
            IocKind::Url => "url",
            IocKind::Ja3 => "ja3",
            IocKind::Ja4 => "ja4",
            IocKind::Md5 => "md5",
            IocKind::Sha1 => "sha1",
            IocKind::Sha256 => "sha256",
        }
    }
}

/// One loaded indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    /// Index into [`IocSet::lists`].
    pub list: u32,
    /// What kind of indicator it is.
    pub kind: IocKind,
    /// As written in the list (normalised: lowercase domains and hashes).
    pub value: String,
    /// The list's comment or MISP event title, if any.
    pub comment: Option<String>,
}

/// All loaded lists.
#[derive(Debug, Default)]
pub struct IocSet {
    /// List names (file stems).
    pub lists: Vec<String>,
    indicators: Vec<Indicator>,
    ip_exact: HashMap<IpAddr, u32>,
    /// Networks by prefix length, keyed by the masked address.
    nets_v4: Vec<(u8, HashMap<u32, u32>)>,
    nets_v6: Vec<(u8, HashMap<u128, u32>)>,
    domains: HashMap<String, u32>,
    /// `*.example.org` / `.example.org`: the name and every name under it.
    domain_suffixes: HashMap<String, u32>,
    urls: HashMap<String, u32>,
    /// JA3 (md5), JA4 and file hashes, lowercase.
    fingerprints: HashMap<(IocKind, String), u32>,
}

impl IocSet {
    /// Indicators loaded.
    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    /// No indicator loaded.
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// The indicator numbered `i`.
    pub fn indicator(&self, i: u32) -> &Indicator {
        &self.indicators[i as usize]
    }

    /// The name of the list the indicator came from.
    pub fn list_name(&self, ind: &Indicator) -> &str {
        self.lists.get(ind.list as usize).map(String::as_str).unwrap_or("")
    }

    /// Adds an indicator of list `list`; returns false for a duplicate (the first
    /// list that names an indicator keeps it).
    fn add(
        &mut self,
        list: u32,
        kind: IocKind,
        value: &str,
        comment: Option<String>,
    ) -> Result<bool, BadIndicator> {
        let idx = self.indicators.len() as u32;
        let norm = match kind {
            IocKind::Ip => {
                let (addr, prefix) = parse_ip_or_net(value)?;
                let fresh = match (addr, prefix) {
                    (a, None) => insert_new(&mut self.ip_exact, a, idx),
                    (IpAddr::V4(a), Some(p)) => {
                        let key = u32::from(a) & mask_v4(p);
                        insert_new(net_bucket(&mut self.nets_v4, p), key, idx)
                    }
                    (IpAddr::V6(a), Some(p)) => {
                        let key = u128::from(a) & mask_v6(p);
                        insert_new(net_bucket(&mut self.nets_v6, p), key, idx)
                    }
                };
                if !fresh {
                    return Ok(false);
                }
                value.trim().to_string()
            }
            IocKind::Domain => {
                let d = value.trim().trim_end_matches('.').to_ascii_lowercase();
                if let Some(suffix) = d.strip_prefix("*.").or_else(|| d.strip_prefix('.')) {
                    check_domain(suffix)?;
                    if !insert_new(&mut self.domain_suffixes, suffix.to_string(), idx) {
                        return Ok(false);
                    }
                } else {
                    check_domain(&d)?;
                    if !insert_new(&mut self.domains, d.clone(), idx) {
                        return Ok(false);
                    }
                }
                d
            }
            IocKind::Url => {
                let u = normalize_url(value).ok_or_else(|| BadIndicator::new("a URL", value))?;
                if !insert_new(&mut self.urls, u.clone(), idx) {
                    return Ok(false);
                }
                u
            }
            IocKind::Ja3 | IocKind::Md5 | IocKind::Sha1 | IocKind::Sha256 | IocKind::Ja4 => {
                let v = value.trim().to_ascii_lowercase();
                let ok = match kind {
                    IocKind::Ja4 => is_ja4(&v),
                    IocKind::Sha1 => is_hex(&v, 40),
                    IocKind::Sha256 => is_hex(&v, 64),
                    _ => is_hex(&v, 32),
                };
                if !ok {
                    return Err(BadIndicator::new(format!("a {} value", kind.as_str()), value));
                }
                if !insert_new(&mut self.fingerprints, (kind, v.clone()), idx) {
                    return Ok(false);
                }
                v
            }
        };
        self.indicators.push(Indicator { list, kind, value: norm, comment });
        Ok(true)
    }

    /// The indicator naming `ip` (exact, or the longest network holding it).
    pub fn lookup_ip(&self, ip: IpAddr) -> Option<&Indicator> {
        if let Some(&i) = self.ip_exact.get(&ip) {
            return Some(self.indicator(i));
        }
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.nets_v4.iter().find_map(|(p, m)| m.get(&(a & mask_v4(*p))))
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.nets_v6.iter().find_map(|(p, m)| m.get(&(a & mask_v6(*p))))
            }
        }
        .map(|&i| self.indicator(i))
    }

    /// The indicator naming `name` exactly or one of its parent domains as a suffix.
    pub fn lookup_domain(&self, name: &str) -> Option<&Indicator> {
        if name.is_empty() || (self.domains.is_empty() && self.domain_suffixes.is_empty()) {
            return None;
        }
        let lower;
        let name = if name.bytes().any(|b| b.is_ascii_uppercase()) || name.ends_with('.') {
            lower = name.trim_end_matches('.').to_ascii_lowercase();
            lower.as_str()
        } else {
            name
        };
        if let Some(&i) = self.domains.get(name) {
            return Some(self.indicator(i));
        }
        let mut rest = name;
        loop {
            if let Some(&i) = self.domain_suffixes.get(rest) {
                return Some(self.indicator(i));
            }
            match rest.split_once('.') {
                Some((_, r)) if !r.is_empty() => rest = r,
                _ => return None,
            }
        }
    }

    /// The indicator naming this URL (`http://host/path?query`); also tried without
    /// its query.
    pub fn lookup_url(&self, url: &str) -> Option<&Indicator> {
        if self.urls.is_empty() {
            return None;
        }
        let u = normalize_url(url)?;
        if let Some(&i) = self.urls.get(&u) {
            return Some(self.indicator(i));
        }
        let no_query = u.split_once('?').map(|(a, _)| a)?;
        self.urls.get(no_query).map(|&i| self.indicator(i))
    }

    /// JA3/JA4 fingerprints and file hashes.
    pub fn lookup_fingerprint(&self, kind: IocKind, value: &str) -> Option<&Indicator> {
        if self.fingerprints.is_empty() || value.is_empty() {
            return None;
        }
        let v = value.to_ascii_lowercase();
        let i = self.fingerprints.get(&(kind, v.clone())).or_else(|| {
            // A bare 32-hex-digit line may be a JA3 or an MD5: it is loaded as MD5 and
            // also answers JA3 lookups.
            (kind == IocKind::Ja3).then(|| self.fingerprints.get(&(IocKind::Md5, v))).flatten()
        })?;
        Some(self.indicator(*i))
    }
}

fn insert_new<K: std::hash::Hash + Eq>(m: &mut HashMap<K, u32>, k: K, v: u32) -> bool {
    match m.entry(k) {
        std::collections::hash_map::Entry::Occupied(_) => false,
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(v);
            true
        }
    }
}

/// The map of prefix length `p`, kept sorted longest first (so that a lookup finds the
/// most specific network).
fn net_bucket<K>(buckets: &mut Vec<(u8, HashMap<K, u32>)>, p: u8) -> &mut HashMap<K, u32> {
    let pos = match buckets.iter().position(|(q, _)| *q <= p) {
        Some(i) if buckets[i].0 == p => i,
        Some(i) => {
            buckets.insert(i, (p, HashMap::new()));
            i
        }
        None => {
            buckets.push((p, HashMap::new()));
            buckets.len() - 1
        }
    };
    &mut buckets[pos].1
}

fn mask_v4(p: u8) -> u32 {
    if p == 0 {
        0
    } else {
        u32::MAX << (32 - p.min(32) as u32)
    }
}

fn mask_v6(p: u8) -> u128 {
    if p == 0 {
        0
    } else {
        u128::MAX << (128 - p.min(128) as u32)
    }
}

/// An indicator value that is not what its kind needs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not {expected}: `{value}`")]
pub struct BadIndicator {
    /// What it should have been (`an IP address`, `a domain name`, `a sha256 value`).
    pub expected: String,
    /// The value as written.
    pub value: String,
}

impl BadIndicator {
    fn new(expected: impl Into<String>, value: &str) -> BadIndicator {
        BadIndicator { expected: expected.into(), value: value.to_string() }
    }
}

/// `10.0.0.1`, `10.0.0.0/8`, `2001:db8::/32`; a `/32` (`/128`) is an address.
fn parse_ip_or_net(s: &str) -> Result<(IpAddr, Option<u8>), BadIndicator> {
    let s = s.trim();
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| BadIndicator::new("an IP address", s))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match prefix {
        None => Ok((ip, None)),
        Some(p) => match p.parse::<u8>() {
            Ok(p) if p == max => Ok((ip, None)),
            Ok(p) if p <= max => Ok((ip, Some(p))),
            _ => Err(BadIndicator::new("a network with a valid prefix length", s)),
        },
    }
}

fn check_domain(d: &str) -> Result<(), BadIndicator> {
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(BadIndicator::new("a domain name", d))
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `t13d1516h2_8daaf6152771_e5627efa2ab1`.
fn is_ja4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('_').collect();
    parts.len() == 3
        && parts[0].len() == 10
        && parts[0].bytes().all(|b| b.is_ascii_alphanumeric())
        && is_hex(parts[1], 12)
        && is_hex(parts[2], 12)
}

/// Lowercase scheme and host, default port dropped, no fragment; `http://` assumed
/// when there is no scheme. None when there is no host.
pub fn normalize_url(u: &str) -> Option<String> {
    let u = u.trim();
    let (scheme, rest) = match u.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_string(), u),
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit('@').next().unwrap_or_default().to_ascii_lowercase();
    let host = match (scheme.as_str(), authority.rsplit_once(':')) {
        ("http", Some((h, "80"))) | ("https", Some((h, "443"))) => h.to_string(),
        _ => authority,
    };
    if host.is_empty() {
        return None;
    }
    let path = if path.starts_with('?') { format!("/{path}") } else { path.to_string() };
    Some(format!("{scheme}://{host}{path}"))
}

/// The kind of a bare indicator, by its shape.
pub fn infer_kind(v: &str) -> Option<IocKind> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    if parse_ip_or_net(v).is_ok() {
        return Some(IocKind::Ip);
    }
    if v.contains("://") {
        return Some(IocKind::Url);
    }
    let l = v.to_ascii_lowercase();
    if is_hex(&l, 32) {
        return Some(IocKind::Md5);
    }
    if is_hex(&l, 40) {
        return Some(IocKind::Sha1);
    }
    if is_hex(&l, 64) {
        return Some(IocKind::Sha256);
    }
    if is_ja4(&l) {
        return Some(IocKind::Ja4);
    }
    let d = l.strip_prefix("*.").or_else(|| l.strip_prefix('.')).unwrap_or(&l);
    if check_domain(d.trim_end_matches('.')).is_ok() {
        return Some(IocKind::Domain);
    }
    if l.contains('/') && check_domain(l.split('/').next().unwrap_or_default()).is_ok() {
        return Some(IocKind::Url);
    }
    None
}

/// The kind named by a `type` column or MISP attribute type, with the part of a
/// composite value (`filename|md5`, `ip-dst|port`) that holds the indicator. None:
/// a type that is not matched on traffic (e.g. `email-src`, `regkey`).
fn kind_of_type(t: &str) -> Option<(IocKind, usize)> {
    let t = t.trim().to_ascii_lowercase();
    Some(match t.as_str() {
        "ip" | "ip-dst" | "ip-src" | "ipv4" | "ipv6" | "cidr" | "ip-addr" | "ipv4-addr"
        | "ipv6-addr" => (IocKind::Ip, 0),
        "ip-dst|port" | "ip-src|port" => (IocKind::Ip, 0),
        "domain" | "hostname" | "fqdn" | "domain-name" => (IocKind::Domain, 0),
        "domain|ip" => (IocKind::Domain, 0),
        "hostname|port" => (IocKind::Domain, 0),
        "url" | "uri" | "link" => (IocKind::Url, 0),
        "ja3" | "ja3-fingerprint-md5" | "ja3-hash" => (IocKind::Ja3, 0),
        "ja4" | "ja4-fingerprint" | "ja4+" => (IocKind::Ja4, 0),
        "md5" | "file-md5" => (IocKind::Md5, 0),
        "sha1" | "file-sha1" => (IocKind::Sha1, 0),
        "sha256" | "file-sha256" => (IocKind::Sha256, 0),
        "filename|md5" => (IocKind::Md5, 1),
        "filename|sha1" => (IocKind::Sha1, 1),
        "filename|sha256" => (IocKind::Sha256, 1),
        _ => return None,
    })
}

/// List files under `paths` (folders walked, sorted: `.txt`, `.list`, `.csv`, `.json`).
pub fn list_files(paths: &[PathBuf], report: &mut LoadReport) -> Vec<PathBuf> {
    crate::load_report::expand_folders(paths, &["txt", "list", "csv", "json"], false, report)
}

/// Loads list files and folders. The report counts indicators (`total` read,
/// `loaded`); duplicates are counted as `disabled`.
pub fn load_paths(paths: &[PathBuf]) -> (IocSet, LoadReport) {
    let mut report = LoadReport { unit: "indicators".into(), ..Default::default() };
    let mut set = IocSet::default();
    for f in list_files(paths, &mut report) {
        match std::fs::read(&f) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                load_text(&mut set, &text, &f, &mut report);
            }
            Err(e) => report.file_errors.push(format!("cannot read `{}`: {e}", f.display())),
        }
    }
    (set, report)
}

/// Loads one list; its format from its extension (`.csv`, `.json`) or else plain text.
pub fn load_text(set: &mut IocSet, text: &str, path: &Path, report: &mut LoadReport) {
    if report.unit.is_empty() {
        report.unit = "indicators".into();
    }
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let list = set.lists.len() as u32;
    set.lists.push(name);
    let file = path.display().to_string();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let mut add = |set: &mut IocSet,
                   line: u32,
                   kind: Option<IocKind>,
                   value: &str,
                   comment: Option<String>,
                   report: &mut LoadReport| {
        report.total += 1;
        let kind = match kind.or_else(|| infer_kind(value)) {
            Some(k) => k,
            None => {
                report.skip(skipped(
                    &file,
                    line,
                    "not an indicator",
                    format!("`{}` is not an IP, network, domain, URL, JA3/JA4 or hash", cut(value)),
                ));
                return;
            }
        };
        report.parsed += 1;
        match set.add(list, kind, value, comment) {
            Ok(true) => report.loaded += 1,
            Ok(false) => report.disabled += 1,
            Err(e) => report.skip(skipped(&file, line, "bad value", e.to_string())),
        }
    };
    match ext.as_str() {
        "json" => load_misp(set, text, &file, report, &mut add),
        "csv" => load_csv(set, text, &file, report, &mut add),
        _ => {
            for (n, raw) in text.lines().enumerate() {
                let (value, comment) = match raw.split_once('#') {
                    Some((v, c)) => {
                        (v.trim(), Some(c.trim().to_string()).filter(|c| !c.is_empty()))
                    }
                    None => (raw.trim(), None),
                };
                // `value ; comment` as the Spamhaus DROP list writes it.
                let (value, comment) = match value.split_once(';') {
                    Some((v, c)) => {
                        (v.trim(), comment.or(Some(c.trim().to_string()).filter(|c| !c.is_empty())))
                    }
                    None => (value, comment),
                };
                if value.is_empty() {
                    continue;
                }
                add(set, n as u32 + 1, None, value, comment, report);
            }
        }
    }
}

type AddFn<'a> =
    dyn FnMut(&mut IocSet, u32, Option<IocKind>, &str, Option<String>, &mut LoadReport) + 'a;

fn load_csv(
    set: &mut IocSet,
    text: &str,
    file: &str,
    report: &mut LoadReport,
    add: &mut AddFn<'_>,
) {
    let mut lines =
        text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let Some((_, header)) = lines.next() else { return };
    let cols: Vec<String> =
        split_csv(header).into_iter().map(|c| c.trim().to_ascii_lowercase()).collect();
    let find = |names: &[&str]| cols.iter().position(|c| names.contains(&c.as_str()));
    let value_col = find(&["value", "indicator", "ioc", "observable"]);
    let type_col = find(&["type", "kind", "indicator_type"]);
    let comment_col = find(&["comment", "description", "info", "event_info"]);
    let to_ids_col = find(&["to_ids"]);
    let Some(value_col) = value_col else {
        report.file_errors.push(format!(
            "{file}:1: CSV header has no `value` (or `indicator`, `ioc`) column: `{}`",
            cut(header)
        ));
        return;
    };
    for (n, line) in lines {
        let fields = split_csv(line);
        let line_no = n as u32 + 1;
        let Some(value) = fields.get(value_col) else {
            report.total += 1;
            report.skip(skipped(
                file,
                line_no,
                "short CSV row",
                format!("no column {} in `{}`", value_col + 1, cut(line)),
            ));
            continue;
        };
        if to_ids_col
            .and_then(|c| fields.get(c))
            .is_some_and(|v| matches!(v.trim(), "0" | "false" | "False"))
        {
            continue;
        }
        let comment = comment_col
            .and_then(|c| fields.get(c))
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        match type_col.and_then(|c| fields.get(c)) {
            Some(t) if !t.trim().is_empty() => match kind_of_type(t) {
                Some((kind, part)) => {
                    let v = value.split('|').nth(part).unwrap_or(value);
                    add(set, line_no, Some(kind), v, comment, report);
                }
                None => {
                    *report
                        .unsupported_features
                        .entry(format!("type `{}`", t.trim()))
                        .or_insert(0) += 1
                }
            },
            _ => add(set, line_no, None, value, comment, report),
        }
    }
}

/// Splits a CSV line (RFC 4180 quoting; no quoted newlines).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn load_misp(
    set: &mut IocSet,
    text: &str,
    file: &str,
    report: &mut LoadReport,
    add: &mut AddFn<'_>,
) {
    let v: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            report.file_errors.push(format!("{file}:{}: not JSON: {e}", e.line()));
            return;
        }
    };
    // {"response": [{"Event": …}]}, {"response": {"Attribute": […]}}, {"Event": …},
    // [{"Event": …}], {"Attribute": […]}.
    let mut events: Vec<&serde_json::Value> = Vec::new();
    let mut loose: Vec<&serde_json::Value> = Vec::new();
    let mut stack = vec![&v];
    while let Some(x) = stack.pop() {
        match x {
            serde_json::Value::Array(a) => stack.extend(a.iter().rev()),
            serde_json::Value::Object(o) => {
                if let Some(e) = o.get("Event") {
                    events.push(e);
                } else if let Some(r) = o.get("response") {
                    stack.push(r);
                } else if let Some(serde_json::Value::Array(a)) = o.get("Attribute") {
                    loose.extend(a.iter());
                }
            }
            _ => {}
        }
    }
    if events.is_empty() && loose.is_empty() {
        report.file_errors.push(format!("{file}: no MISP `Event` or `Attribute` found"));
        return;
    }
    let mut one =
        |set: &mut IocSet, a: &serde_json::Value, info: Option<&str>, report: &mut LoadReport| {
            let t = a.get("type").and_then(|t| t.as_str()).unwrap_or("");
            let value = a.get("value").and_then(|t| t.as_str()).unwrap_or("");
            let to_ids = match a.get("to_ids") {
                Some(serde_json::Value::Bool(b)) => *b,
                Some(serde_json::Value::String(s)) => s != "0" && s != "false",
                Some(serde_json::Value::Number(n)) => n.as_u64() != Some(0),
                _ => true,
            };
            if !to_ids {
                return;
            }
            match kind_of_type(t) {
                Some((kind, part)) => {
                    let v = value.split('|').nth(part).unwrap_or(value);
                    let comment = info.map(str::to_string);
                    add(set, 0, Some(kind), v, comment, report);
                }
                None => {
                    *report.unsupported_features.entry(format!("type `{t}`")).or_insert(0) += 1;
                }
            }
        };
    for e in events {
        let info = e.get("info").and_then(|i| i.as_str());
        for a in e.get("Attribute").and_then(|a| a.as_array()).into_iter().flatten() {
            one(set, a, info, report);
        }
        for o in e.get("Object").and_then(|a| a.as_array()).into_iter().flatten() {
            for a in o.get("Attribute").and_then(|a| a.as_array()).into_iter().flatten() {
                one(set, a, info, report);
            }
        }
    }
    for a in loose {
        one(set, a, None, report);
    }
}

fn skipped(file: &str, line: u32, reason: &str, message: String) -> Skipped {
    Skipped {
        file: file.to_string(),
        line,
        sid: None,
        reason: reason.to_string(),
        code: "E_IOC".into(),
        message,
    }
}

fn cut(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests;
