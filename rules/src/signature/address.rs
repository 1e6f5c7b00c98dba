//! Address and port expressions of the rule header: `any`, `1.2.3.4`, `10.0.0.0/8`,
//! `[a,b,!c]`, `$HOME_NET`, `80`, `1024:`, `[80,8080:8090]`, `!$HTTP_PORTS`.
//!
//! Every expression is compiled once into a sorted set of disjoint intervals, so that a
//! packet is tested with a binary search, whatever the nesting of groups and negations was.

use std::collections::HashMap;
use std::net::IpAddr;

use super::ParseError;

/// A sorted set of disjoint, non-adjacent closed intervals over `u128`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct IntervalSet {
    ranges: Vec<(u128, u128)>,
}

impl IntervalSet {
    pub(crate) fn empty() -> Self {
        IntervalSet { ranges: Vec::new() }
    }

    pub(crate) fn range(lo: u128, hi: u128) -> Self {
        IntervalSet { ranges: vec![(lo.min(hi), lo.max(hi))] }
    }

    /// No value in the set.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub(crate) fn ranges(&self) -> &[(u128, u128)] {
        &self.ranges
    }

    fn normalise(mut v: Vec<(u128, u128)>) -> Self {
        v.sort_unstable();
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
        for (lo, hi) in v {
            match out.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => out.push((lo, hi)),
            }
        }
        IntervalSet { ranges: out }
    }

    pub(crate) fn union(&self, other: &Self) -> Self {
        let mut v = self.ranges.clone();
        v.extend_from_slice(&other.ranges);
        Self::normalise(v)
    }

    /// Complement within `[0, max]`.
    pub fn complement(&self, max: u128) -> Self {
        let mut out = Vec::new();
        let mut next = 0u128;
        let mut done = false;
        for &(lo, hi) in &self.ranges {
            if lo > next {
                out.push((next, lo - 1));
            }
            if hi >= max {
                done = true;
                break;
            }
            next = hi + 1;
        }
        if !done && next <= max {
            out.push((next, max));
        }
        IntervalSet { ranges: out }
    }

    pub(crate) fn difference(&self, other: &Self, max: u128) -> Self {
        self.intersect(&other.complement(max))
    }

    pub(crate) fn intersect(&self, other: &Self) -> Self {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a0, a1) = self.ranges[i];
            let (b0, b1) = other.ranges[j];
            let lo = a0.max(b0);
            let hi = a1.min(b1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a1 < b1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        IntervalSet { ranges: out }
    }

    /// `x` is in the set.
    pub fn contains(&self, x: u128) -> bool {
        // Index of the first range whose upper bound is >= x.
        let idx = self.ranges.partition_point(|&(_, hi)| hi < x);
        self.ranges.get(idx).is_some_and(|&(lo, _)| lo <= x)
    }
}

const V4_MAX: u128 = u32::MAX as u128;
const V6_MAX: u128 = u128::MAX;

/// A compiled address expression: one interval set per address family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressSet {
    pub(crate) v4: IntervalSet,
    pub(crate) v6: IntervalSet,
    /// True when the expression was literally `any` (lets the engine skip the test).
    pub any: bool,
}

impl AddressSet {
    /// Every address (`any`).
    pub(crate) fn any() -> Self {
        AddressSet {
            v4: IntervalSet::range(0, V4_MAX),
            v6: IntervalSet::range(0, V6_MAX),
            any: true,
        }
    }

    fn empty() -> Self {
        AddressSet { v4: IntervalSet::empty(), v6: IntervalSet::empty(), any: false }
    }

    fn union(&self, o: &Self) -> Self {
        AddressSet { v4: self.v4.union(&o.v4), v6: self.v6.union(&o.v6), any: self.any || o.any }
    }

    fn complement(&self) -> Self {
        AddressSet { v4: self.v4.complement(V4_MAX), v6: self.v6.complement(V6_MAX), any: false }
    }

    fn difference(&self, o: &Self) -> Self {
        AddressSet {
            v4: self.v4.difference(&o.v4, V4_MAX),
            v6: self.v6.difference(&o.v6, V6_MAX),
            any: false,
        }
    }

    fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// `ip` is in the set.
    pub fn contains(&self, ip: IpAddr) -> bool {
        if self.any {
            return true;
        }
        match ip {
            IpAddr::V4(a) => self.v4.contains(u32::from(a) as u128),
            IpAddr::V6(a) => self.v6.contains(u128::from(a)),
        }
    }
}

/// A compiled port expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSet {
    pub(crate) set: IntervalSet,
    pub(crate) any: bool,
}

impl PortSet {
    /// `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        self.any || self.set.contains(port as u128)
    }
}

/// Variables (`$HOME_NET`, `$HTTP_PORTS`) available to rule headers.
#[derive(Clone, Debug)]
pub struct Vars {
    /// Address groups (`HOME_NET` → `[10.0.0.0/8]`).
    pub addresses: HashMap<String, String>,
    /// Port groups (`HTTP_PORTS` → `[80,8080]`).
    pub ports: HashMap<String, String>,
}

impl Default for Vars {
    /// The address and port groups of Suricata's default `suricata.yaml`.
    fn default() -> Self {
        let addresses = [
            ("HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"),
            ("EXTERNAL_NET", "!$HOME_NET"),
            ("HTTP_SERVERS", "$HOME_NET"),
            ("SMTP_SERVERS", "$HOME_NET"),
            ("SQL_SERVERS", "$HOME_NET"),
            ("DNS_SERVERS", "$HOME_NET"),
            ("TELNET_SERVERS", "$HOME_NET"),
            ("AIM_SERVERS", "$EXTERNAL_NET"),
            ("DC_SERVERS", "$HOME_NET"),
            ("DNP3_SERVER", "$HOME_NET"),
            ("DNP3_CLIENT", "$HOME_NET"),
            ("MODBUS_CLIENT", "$HOME_NET"),
            ("MODBUS_SERVER", "$HOME_NET"),
            ("ENIP_CLIENT", "$HOME_NET"),
            ("ENIP_SERVER", "$HOME_NET"),
        ];
        let ports = [
            ("HTTP_PORTS", "80"),
            ("SHELLCODE_PORTS", "!80"),
            ("ORACLE_PORTS", "1521"),
            ("SSH_PORTS", "22"),
            ("DNP3_PORTS", "20000"),
            ("MODBUS_PORTS", "502"),
            ("FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"),
            ("FTP_PORTS", "21"),
            ("GENEVE_PORTS", "6081"),
            ("VXLAN_PORTS", "4789"),
            ("TEREDO_PORTS", "3544"),
        ];
        Vars {
            addresses: addresses.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ports: ports.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }
}

const MAX_VAR_DEPTH: usize = 16;

/// Splits a group body `a,b,[c,d]` at top-level commas.
fn split_group(s: &str) -> Result<Vec<&str>, ParseError> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth < 0 {
                    return Err(ParseError::grammar(format!("unbalanced brackets in `{s}`")));
                }
            }
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(ParseError::grammar(format!("unbalanced brackets in `{s}`")));
    }
    out.push(s[start..].trim());
    Ok(out)
}

/// Evaluates a group's items: union of the positive items (or everything when there are
/// only negations) minus the union of the negated ones.
fn combine<T, FU, FD>(items: Vec<(bool, T)>, all: T, union: FU, diff: FD) -> T
where
    FU: Fn(&T, &T) -> T,
    FD: Fn(&T, &T) -> T,
    T: Clone,
{
    let mut pos: Option<T> = None;
    let mut neg: Option<T> = None;
    for (negated, v) in items {
        let slot = if negated { &mut neg } else { &mut pos };
        *slot = Some(match slot.take() {
            Some(acc) => union(&acc, &v),
            None => v,
        });
    }
    let base = pos.unwrap_or(all);
    match neg {
        Some(n) => diff(&base, &n),
        None => base,
    }
}

/// A top-level comma list without brackets (`!5800,!445`) is a group, as in Suricata.
fn bracket_top_level_list(expr: &str) -> std::borrow::Cow<'_, str> {
    let mut depth = 0i32;
    for c in expr.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => return std::borrow::Cow::Owned(format!("[{expr}]")),
            _ => {}
        }
    }
    std::borrow::Cow::Borrowed(expr)
}

/// Parses an address expression (`[$HOME_NET,!10.1.0.0/16]`) with the groups of `vars`.
pub fn parse_addresses(expr: &str, vars: &Vars) -> Result<AddressSet, ParseError> {
    parse_addr_inner(&bracket_top_level_list(expr.trim()), vars, 0)
}

fn parse_addr_inner(expr: &str, vars: &Vars, depth: usize) -> Result<AddressSet, ParseError> {
    if depth > MAX_VAR_DEPTH {
        return Err(ParseError::grammar(format!("address variables nest too deeply at `{expr}`")));
    }
    if let Some(rest) = expr.strip_prefix('!') {
        let inner = parse_addr_inner(rest.trim(), vars, depth + 1)?;
        let out = inner.complement();
        if out.is_empty() {
            return Err(ParseError::grammar(format!("address matches nothing: `{expr}`")));
        }
        return Ok(out);
    }
    if let Some(body) = expr.strip_prefix('[') {
        let body = body
            .strip_suffix(']')
            .ok_or_else(|| ParseError::grammar(format!("unterminated address group `{expr}`")))?;
        let mut items = Vec::new();
        for item in split_group(body)? {
            if item.is_empty() {
                return Err(ParseError::grammar(format!("empty item in address group `{expr}`")));
            }
            let (neg, rest) = match item.strip_prefix('!') {
                Some(r) => (true, r.trim()),
                None => (false, item),
            };
            items.push((neg, parse_addr_inner(rest, vars, depth + 1)?));
        }
        let out = combine(items, AddressSet::any(), AddressSet::union, AddressSet::difference);
        if out.is_empty() {
            return Err(ParseError::grammar(format!("address group matches nothing: `{expr}`")));
        }
        let any = out.v4.ranges() == [(0, V4_MAX)] && out.v6.ranges() == [(0, V6_MAX)];
        return Ok(AddressSet { any, ..out });
    }
    if let Some(name) = expr.strip_prefix('$') {
        let value = vars
            .addresses
            .get(name)
            .ok_or_else(|| ParseError::grammar(format!("undefined address variable `${name}`")))?;
        return parse_addr_inner(value.trim(), vars, depth + 1);
    }
    if expr.eq_ignore_ascii_case("any") {
        return Ok(AddressSet::any());
    }
    parse_cidr(expr)
}

fn parse_cidr(s: &str) -> Result<AddressSet, ParseError> {
    let bad = || ParseError::grammar(format!("invalid address `{s}`"));
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let ip: IpAddr = addr.trim().parse().map_err(|_| bad())?;
    let mut out = AddressSet::empty();
    match ip {
        IpAddr::V4(a) => {
            let base = u32::from(a) as u128;
            let bits = match prefix {
                None => 32,
                Some(p) if p.contains('.') => {
                    // Netmask notation: 255.255.255.0
                    let m: std::net::Ipv4Addr = p.parse().map_err(|_| bad())?;
                    let m = u32::from(m);
                    if m.leading_ones() + m.trailing_zeros() != 32 {
                        return Err(bad());
                    }
                    m.leading_ones()
                }
                Some(p) => p.parse::<u32>().ok().filter(|b| *b <= 32).ok_or_else(bad)?,
            };
            let host = if bits == 32 { 0 } else { (1u128 << (32 - bits)) - 1 };
            let lo = base & !host & V4_MAX;
            out.v4 = IntervalSet::range(lo, lo | host);
        }
        IpAddr::V6(a) => {
            let base = u128::from(a);
            let bits = match prefix {
                None => 128,
                Some(p) => p.parse::<u32>().ok().filter(|b| *b <= 128).ok_or_else(bad)?,
            };
            let host = if bits == 128 {
                0
            } else if bits == 0 {
                u128::MAX
            } else {
                (1u128 << (128 - bits)) - 1
            };
            let lo = base & !host;
            out.v6 = IntervalSet::range(lo, lo | host);
        }
    }
    Ok(out)
}

pub(crate) fn parse_ports(expr: &str, vars: &Vars) -> Result<PortSet, ParseError> {
    let set = parse_port_inner(&bracket_top_level_list(expr.trim()), vars, 0)?;
    let any = set.ranges() == [(0, 65535)];
    Ok(PortSet { set, any })
}

fn parse_port_inner(expr: &str, vars: &Vars, depth: usize) -> Result<IntervalSet, ParseError> {
    const MAX: u128 = 65535;
    if depth > MAX_VAR_DEPTH {
        return Err(ParseError::grammar(format!("port variables nest too deeply at `{expr}`")));
    }
    if let Some(rest) = expr.strip_prefix('!') {
        let out = parse_port_inner(rest.trim(), vars, depth + 1)?.complement(MAX);
        if out.is_empty() {
            return Err(ParseError::grammar(format!("port matches nothing: `{expr}`")));
        }
        return Ok(out);
    }
    if let Some(body) = expr.strip_prefix('[') {
        let body = body
            .strip_suffix(']')
            .ok_or_else(|| ParseError::grammar(format!("unterminated port group `{expr}`")))?;
        let mut items = Vec::new();
        for item in split_group(body)? {
            if item.is_empty() {
                return Err(ParseError::grammar(format!("empty item in port group `{expr}`")));
            }
            let (neg, rest) = match item.strip_prefix('!') {
                Some(r) => (true, r.trim()),
                None => (false, item),
            };
            items.push((neg, parse_port_inner(rest, vars, depth + 1)?));
        }
        let out = combine(items, IntervalSet::range(0, MAX), IntervalSet::union, |a, b| {
            a.difference(b, MAX)
        });
        if out.is_empty() {
            return Err(ParseError::grammar(format!("port group matches nothing: `{expr}`")));
        }
        return Ok(out);
    }
    if let Some(name) = expr.strip_prefix('$') {
        let value = vars
            .ports
            .get(name)
            .ok_or_else(|| ParseError::grammar(format!("undefined port variable `${name}`")))?;
        return parse_port_inner(value.trim(), vars, depth + 1);
    }
    if expr.eq_ignore_ascii_case("any") {
        return Ok(IntervalSet::range(0, MAX));
    }
    let num = |s: &str| -> Result<u128, ParseError> {
        s.trim()
            .parse::<u16>()
            .map(u128::from)
            .map_err(|_| ParseError::grammar(format!("invalid port `{expr}`")))
    };
    match expr.split_once(':') {
        Some((lo, hi)) => {
            let lo = if lo.trim().is_empty() { 0 } else { num(lo)? };
            let hi = if hi.trim().is_empty() { MAX } else { num(hi)? };
            if lo > hi {
                return Err(ParseError::grammar(format!("invalid port range `{expr}`")));
            }
            Ok(IntervalSet::range(lo, hi))
        }
        None => {
            let p = num(expr)?;
            Ok(IntervalSet::range(p, p))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_group_and_negation() {
        let vars = Vars::default();
        let a = parse_addresses("[10.0.0.0/8,!10.1.0.0/16]", &vars).unwrap();
        assert!(a.contains(ip("10.2.3.4")));
        assert!(!a.contains(ip("10.1.3.4")));
        assert!(!a.contains(ip("11.0.0.1")));
        let ext = parse_addresses("$EXTERNAL_NET", &vars).unwrap();
        assert!(ext.contains(ip("8.8.8.8")));
        assert!(!ext.contains(ip("192.168.1.1")));
        assert!(ext.contains(ip("2001:db8::1")));
        let neg = parse_addresses("!192.168.51.206", &vars).unwrap();
        assert!(!neg.contains(ip("192.168.51.206")));
        assert!(neg.contains(ip("192.168.51.207")));
    }

    #[test]
    fn only_negations_mean_everything_else() {
        let a = parse_addresses("[!1.2.3.4,!5.6.7.8]", &Vars::default()).unwrap();
        assert!(a.contains(ip("1.1.1.1")));
        assert!(!a.contains(ip("5.6.7.8")));
    }

    #[test]
    fn netmask_and_v6() {
        let a =
            parse_addresses("[192.168.1.0/255.255.255.0,2001:db8::/32]", &Vars::default()).unwrap();
        assert!(a.contains(ip("192.168.1.77")));
        assert!(a.contains(ip("2001:db8:1::5")));
        assert!(!a.contains(ip("2001:db9::5")));
    }

    #[test]
    fn ports() {
        let vars = Vars::default();
        let p = parse_ports("[80,8000:8100,!8080]", &vars).unwrap();
        assert!(p.contains(80) && p.contains(8000) && !p.contains(8080) && !p.contains(81));
        assert!(parse_ports("1024:", &vars).unwrap().contains(65535));
        assert!(!parse_ports("!$HTTP_PORTS", &vars).unwrap().contains(80));
        assert!(parse_ports("any", &vars).unwrap().any);
        assert!(parse_ports("70000", &vars).is_err());
        assert!(parse_ports("!any", &vars).is_err());
        let bare = parse_ports("!5800,!445", &vars).unwrap();
        assert!(!bare.contains(445) && !bare.contains(5800) && bare.contains(80));
    }

    #[test]
    fn errors_name_the_problem() {
        let e = parse_addresses("$NOPE", &Vars::default()).unwrap_err();
        assert!(e.to_string().contains("$NOPE"));
        assert!(parse_addresses("[1.2.3.4", &Vars::default()).is_err());
        assert!(parse_addresses("1.2.3.4/33", &Vars::default()).is_err());
    }

    #[test]
    fn self_referencing_variable_is_an_error_not_a_hang() {
        let mut vars = Vars::default();
        vars.addresses.insert("LOOP".into(), "$LOOP".into());
        assert!(parse_addresses("$LOOP", &vars).is_err());
    }

    proptest::proptest! {
        #[test]
        fn interval_ops_agree_with_sets(a in proptest::collection::vec((0u128..64, 0u128..8), 0..6),
                                         b in proptest::collection::vec((0u128..64, 0u128..8), 0..6),
                                         x in 0u128..72) {
            let mk = |v: &Vec<(u128, u128)>| v.iter().fold(IntervalSet::empty(), |s, &(lo, len)| s.union(&IntervalSet::range(lo, lo + len)));
            let inn = |v: &Vec<(u128, u128)>| v.iter().any(|&(lo, len)| x >= lo && x <= lo + len);
            let (sa, sb) = (mk(&a), mk(&b));
            proptest::prop_assert_eq!(sa.contains(x), inn(&a));
            proptest::prop_assert_eq!(sa.union(&sb).contains(x), inn(&a) || inn(&b));
            proptest::prop_assert_eq!(sa.intersect(&sb).contains(x), inn(&a) && inn(&b));
            proptest::prop_assert_eq!(sa.difference(&sb, 100).contains(x), x <= 100 && inn(&a) && !inn(&b));
        }
    }
}
