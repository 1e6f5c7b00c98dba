//! Countries of addresses, from a CSV of ranges: DB-IP's free "IP to Country Lite"
//! (`first,last,CC`, IPv4 and IPv6 mixed) or `network/len,CC` lines. Loaded once per
//! report; a lookup is a binary search.

use std::net::IpAddr;
use std::path::Path;

use super::ReportError;

pub struct GeoIp {
    /// (first, last, country), sorted by first; IPv4 as IPv4-mapped IPv6.
    ranges: Vec<(u128, u128, [u8; 2])>,
}

fn key(ip: IpAddr) -> u128 {
    match ip.to_canonical() {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn last_of(net: &str) -> Option<(u128, u128)> {
    let (addr, len) = net.split_once('/')?;
    let ip: IpAddr = addr.trim().parse().ok()?;
    let len: u32 = len.trim().parse().ok()?;
    let (first, bits) = match ip {
        IpAddr::V4(_) => (key(ip), len.checked_add(96)?),
        IpAddr::V6(_) => (key(ip), len),
    };
    if bits > 128 {
        return None;
    }
    let host = if bits == 128 { 0 } else { u128::MAX >> bits };
    Some((first & !host, first | host))
}

impl GeoIp {
    pub fn load(path: &Path) -> Result<GeoIp, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ReportError::Input(format!("report.geoip_csv `{}`: {e}", path.display()))
        })?;
        GeoIp::parse(&text, &path.display().to_string())
    }

    /// Parses the CSV; a bad line is an error naming the file and the line.
    pub fn parse(text: &str, file: &str) -> Result<GeoIp, ReportError> {
        let mut ranges = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let bad = || ReportError::Input(format!("GeoIP file `{file}`, line {}: `{l}`", i + 1));
            let cols: Vec<&str> = l.split(',').map(|c| c.trim().trim_matches('"')).collect();
            let (first, last, cc) = match cols.as_slice() {
                [net, cc] => {
                    let (a, b) = last_of(net).ok_or_else(bad)?;
                    (a, b, cc)
                }
                [a, b, cc, ..] => {
                    let a: IpAddr = a.parse().map_err(|_| bad())?;
                    let b: IpAddr = b.parse().map_err(|_| bad())?;
                    (key(a), key(b), cc)
                }
                _ => return Err(bad()),
            };
            let cc = cc.as_bytes();
            if cc.len() != 2 || !cc.iter().all(u8::is_ascii_alphabetic) || first > last {
                return Err(bad());
            }
            ranges.push((first, last, [cc[0].to_ascii_uppercase(), cc[1].to_ascii_uppercase()]));
        }
        ranges.sort_unstable();
        Ok(GeoIp { ranges })
    }

    /// The country code of an address, if a range holds it.
    pub fn country(&self, ip: &str) -> Option<String> {
        let k = key(ip.trim().parse().ok()?);
        let i = self.ranges.partition_point(|r| r.0 <= k);
        let (_, last, cc) = self.ranges.get(i.checked_sub(1)?)?;
        (k <= *last).then(|| String::from_utf8_lossy(cc).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_networks() {
        let g = GeoIp::parse(
            "# DB-IP lite\n1.0.0.0,1.0.0.255,AU\n\"14.160.0.0\",\"14.191.255.255\",\"VN\"\n2001:db8::,2001:db8::ffff,ZZ\n203.0.113.0/24,vn\n",
            "t.csv",
        )
        .unwrap();
        assert_eq!(g.country("14.177.1.2").as_deref(), Some("VN"));
        assert_eq!(g.country("203.0.113.9").as_deref(), Some("VN"));
        assert_eq!(g.country("::ffff:1.0.0.7").as_deref(), Some("AU"));
        assert_eq!(g.country("2001:db8::10").as_deref(), Some("ZZ"));
        assert_eq!(g.country("1.0.1.0"), None);
        assert_eq!(g.country("not an address"), None);
        let e = GeoIp::parse("1.0.0.0,1.0.0.255,AUS\n", "t.csv").err().unwrap().to_string();
        assert!(e.contains("line 1"), "{e}");
    }
}
