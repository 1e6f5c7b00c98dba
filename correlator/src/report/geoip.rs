//! Countries of addresses (`report.geoip`), from what operators download: a MaxMind
//! DB file (`.mmdb`: GeoLite2-Country, DB-IP "IP to Country Lite"), read through the
//! `maxminddb` crate, or a CSV of ranges — DB-IP's `first,last,CC` (IPv4 and IPv6
//! mixed) or `network/len,CC` lines. The kind is told by the file's contents. Loaded
//! once per report; a lookup is a tree walk or a binary search.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::PathElement;

use super::ReportError;

/// What ends every MaxMind DB file: the start of its metadata.
const MMDB_METADATA: &[u8] = b"\xab\xcd\xefMaxMind.com";

pub struct GeoIp {
    source: Source,
}

enum Source {
    /// (first, last, country), sorted by first; IPv4 as IPv4-mapped IPv6.
    Ranges(Vec<(u128, u128, [u8; 2])>),
    Mmdb(maxminddb::Reader<Vec<u8>>),
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
        let bad = |e: &dyn std::fmt::Display| {
            ReportError::Input(format!("report.geoip `{}`: {e}", path.display()))
        };
        let bytes = std::fs::read(path).map_err(|e| bad(&e))?;
        // The metadata marker is within the last 128 KiB of a MaxMind DB file.
        let tail = &bytes[bytes.len().saturating_sub(128 * 1024)..];
        if memchr::memmem::rfind(tail, MMDB_METADATA).is_some() {
            return GeoIp::mmdb(bytes).map_err(|e| bad(&e));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| bad(&"neither a MaxMind DB (.mmdb) nor a CSV of text"))?;
        GeoIp::parse(&text, &path.display().to_string())
    }

    /// A MaxMind DB file's bytes.
    pub fn mmdb(bytes: Vec<u8>) -> Result<GeoIp, maxminddb::MaxMindDbError> {
        Ok(GeoIp { source: Source::Mmdb(maxminddb::Reader::from_source(bytes)?) })
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
        Ok(GeoIp { source: Source::Ranges(ranges) })
    }

    /// The country code of an address (`VN`), if the database has one.
    pub fn country(&self, ip: &str) -> Option<String> {
        let ip: IpAddr = ip.trim().parse().ok()?;
        match &self.source {
            Source::Ranges(ranges) => {
                let k = key(ip);
                let i = ranges.partition_point(|r| r.0 <= k);
                let (_, last, cc) = ranges.get(i.checked_sub(1)?)?;
                (k <= *last).then(|| String::from_utf8_lossy(cc).into_owned())
            }
            Source::Mmdb(reader) => {
                // An IPv4 database cannot look up IPv6; a mapped IPv4 address is IPv4.
                let found = reader.lookup(ip.to_canonical()).ok()?;
                // The country where the address is used, else where it is registered.
                ["country", "registered_country"].iter().find_map(|k| {
                    let path = [PathElement::Key(k), PathElement::Key("iso_code")];
                    found.decode_path::<String>(&path).ok().flatten()
                })
            }
        }
        .map(|cc| cc.to_ascii_uppercase())
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

    #[test]
    fn maxmind_databases_are_read_by_their_contents() {
        let dir = std::env::temp_dir().join(format!("gw-geoip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let db = dir.join("dbip-country-lite.mmdb");
        let nets =
            [("14.160.0.0", 11, "VN"), ("203.0.113.0", 24, "vn"), ("198.51.100.0", 24, "US")];
        std::fs::write(&db, test_mmdb::country_db(&nets)).expect("write");
        let g = GeoIp::load(&db).expect("a MaxMind DB");
        assert_eq!(g.country("14.177.1.2").as_deref(), Some("VN"));
        assert_eq!(g.country("203.0.113.250").as_deref(), Some("VN"));
        assert_eq!(g.country("::ffff:198.51.100.7").as_deref(), Some("US"));
        assert_eq!(g.country("198.51.101.1"), None);
        assert_eq!(g.country("10.0.0.1"), None);
        // A damaged database is an error naming the file, not an empty map.
        let mut broken = test_mmdb::country_db(&nets);
        broken.truncate(broken.len() - 12);
        std::fs::write(&db, broken).expect("write");
        let e = GeoIp::load(&db).err().expect("refused").to_string();
        assert!(e.contains("dbip-country-lite.mmdb"), "{e}");
        std::fs::write(&db, [0xff, 0xfe, 0x00]).expect("write");
        let e = GeoIp::load(&db).err().expect("refused").to_string();
        assert!(e.contains("neither a MaxMind DB"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A MaxMind DB file written as the format's specification lays it out (an IPv4
/// search tree of 24-bit records, the data section, the metadata), for the tests.
#[cfg(test)]
pub(crate) mod test_mmdb {
    #[derive(Clone, Copy)]
    enum Rec {
        Node(usize),
        Empty,
        Data(usize),
    }

    fn string(s: &str) -> Vec<u8> {
        let mut v = vec![0x40 | s.len() as u8];
        v.extend_from_slice(s.as_bytes());
        v
    }

    fn uint(kind: u8, n: u32) -> Vec<u8> {
        let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        let mut v = vec![(kind << 5) | bytes.len() as u8];
        v.extend(bytes);
        v
    }

    /// Networks (`address`, prefix length, country code) → the database's bytes.
    pub fn country_db(nets: &[(&str, u32, &str)]) -> Vec<u8> {
        let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
        let mut data = Vec::new();
        let mut offsets = Vec::new();
        for (i, (addr, len, cc)) in nets.iter().enumerate() {
            let a = u32::from(addr.parse::<std::net::Ipv4Addr>().expect("IPv4"));
            let mut node = 0;
            for depth in 0..*len {
                let bit = ((a >> (31 - depth)) & 1) as usize;
                if depth + 1 == *len {
                    nodes[node][bit] = Rec::Data(i);
                } else if let Rec::Node(next) = nodes[node][bit] {
                    node = next;
                } else {
                    nodes.push([Rec::Empty, Rec::Empty]);
                    nodes[node][bit] = Rec::Node(nodes.len() - 1);
                    node = nodes.len() - 1;
                }
            }
            offsets.push(data.len());
            data.extend([0xe1]);
            data.extend(string("country"));
            data.extend([0xe1]);
            data.extend(string("iso_code"));
            data.extend(string(cc));
        }
        let count = nodes.len();
        let mut out = Vec::new();
        for n in &nodes {
            for r in n {
                let v = match *r {
                    Rec::Node(i) => i,
                    Rec::Empty => count,
                    Rec::Data(i) => count + 16 + offsets[i],
                };
                out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
            }
        }
        out.extend([0u8; 16]);
        out.extend(data);
        out.extend_from_slice(super::MMDB_METADATA);
        out.push(0xe9);
        out.extend(string("binary_format_major_version"));
        out.extend(uint(5, 2));
        out.extend(string("binary_format_minor_version"));
        out.extend(uint(5, 0));
        out.extend(string("build_epoch"));
        out.extend([0x01, 0x02, 0x01]); // uint64 (extended type 9) of one byte: 1
        out.extend(string("database_type"));
        out.extend(string("Test-Country"));
        out.extend(string("description"));
        out.extend([0xe1]);
        out.extend(string("en"));
        out.extend(string("test"));
        out.extend(string("ip_version"));
        out.extend(uint(5, 4));
        out.extend(string("languages"));
        out.extend([0x01, 0x04]); // array (extended type 11) of one
        out.extend(string("en"));
        out.extend(string("node_count"));
        out.extend(uint(6, count as u32));
        out.extend(string("record_size"));
        out.extend(uint(5, 24));
        out
    }
}
