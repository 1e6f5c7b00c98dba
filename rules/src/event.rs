//! The event model shared by sensor and correlator: EVE `alert` records, exactly as
//! Suricata writes them, so that the correlator ingests Gatewatch sensors and existing
//! Suricata sensors alike.

pub mod dns;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An EVE `alert` record (`event_type: "alert"`). Unknown fields of other producers
/// are ignored on input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// `2026-10-01T08:15:02.123456+0000`
    pub timestamp: String,
    /// The flow id shared by every event of the flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<u64>,
    /// The packet's number in the capture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcap_cnt: Option<u64>,
    /// The interface of a live capture (Suricata's `in_iface`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_iface: Option<String>,
    /// EVE `event_type` (`alert`, `dns`, `http`, …).
    pub event_type: String,
    /// Source address.
    pub src_ip: String,
    /// Source port (TCP, UDP, SCTP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    /// Destination address.
    pub dest_ip: String,
    /// Destination port (TCP, UDP, SCTP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_port: Option<u16>,
    /// Transport protocol, as EVE names it (`TCP`, `UDP`, `ICMP`, …).
    pub proto: String,
    /// IP version (4 or 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_v: Option<u8>,
    /// ICMP type (ICMP flows and packets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    /// ICMP code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    /// Where the packet came from (`wire/pcap`, `stream (flow timeout)`, …), as EVE says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkt_src: Option<String>,
    /// The Community ID of the alert's flow (version 1, `1:` and a base64 SHA-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community_id: Option<String>,
    /// `to_server` or `to_client`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// The rule and what it said.
    pub alert: AlertInfo,
    /// The application protocol of the flow, as EVE names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_proto: Option<String>,
    /// The flow's counters when the alert was raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowSummary>,
    /// The application transaction the alert belongs to, under its protocol's name
    /// (`http`, `tls`, ...), as Suricata adds it; other unknown fields of ingested EVE
    /// land here too.
    #[serde(flatten, default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub app_metadata: serde_json::Map<String, serde_json::Value>,
    /// The sensor's name (Suricata's `sensor-name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// The `alert` object of an EVE alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertInfo {
    /// `allowed` (IDS) or `blocked`.
    pub action: String,
    /// Generator id (1 for rules; see `gatewatch_rules::ids`).
    pub gid: u32,
    /// Signature id.
    pub signature_id: u32,
    /// Rule revision.
    pub rev: u32,
    /// The rule's message (`msg`).
    pub signature: String,
    /// The rule's classification text.
    pub category: String,
    /// EVE severity: 1 (high) to 4.
    pub severity: u8,
    /// The attacking side (`target` keyword), when the rule says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Endpoint>,
    /// The attacked side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Endpoint>,
    /// The rule's `metadata` (key → values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, Vec<String>>>,
    /// What the rule's `format json` datasets hold on the values that matched, by
    /// `context_key` (Suricata's `alert.context`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
}

/// An address and port (`alert.source`, `alert.target`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The address.
    pub ip: String,
    /// The port, when the protocol has ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// The flow counters Suricata attaches to an alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowSummary {
    /// Packets from the client.
    pub pkts_toserver: u64,
    /// Packets from the server.
    pub pkts_toclient: u64,
    /// Bytes from the client.
    pub bytes_toserver: u64,
    /// Bytes from the server.
    pub bytes_toclient: u64,
    /// When the flow started, as EVE writes times.
    pub start: String,
    /// Source address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<String>,
    /// Destination address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_ip: Option<String>,
    /// Source port (TCP, UDP, SCTP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    /// Destination port (TCP, UDP, SCTP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_port: Option<u16>,
}

/// EVE's timestamp, `2026-10-01T08:15:02.123456+0000`, from microseconds since the
/// epoch (UTC).
pub fn eve_timestamp(ts_us: i64) -> String {
    use chrono::{Datelike, Timelike};
    let dt = chrono::DateTime::<chrono::Utc>::from_timestamp_micros(ts_us)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH);
    let year = dt.year();
    if !(0..=9999).contains(&year) {
        return dt.format("%Y-%m-%dT%H:%M:%S%.6f+0000").to_string();
    }
    // Digits written in place: every EVE record has a timestamp, and the formatting
    // machinery (or chrono's pattern, parsed on each call) shows in profiles.
    let mut out = *b"0000-00-00T00:00:00.000000+0000";
    let fields = [
        (0..4, year as u32),
        (5..7, dt.month()),
        (8..10, dt.day()),
        (11..13, dt.hour()),
        (14..16, dt.minute()),
        (17..19, dt.second()),
        (20..26, dt.timestamp_subsec_micros()),
    ];
    for (range, value) in fields {
        write_digits(&mut out[range], value);
    }
    out.iter().map(|&b| b as char).collect()
}

/// `value` in decimal, right-aligned in `out` with leading zeros (cut to its width).
fn write_digits(out: &mut [u8], mut value: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// An address as Suricata's EVE writes it: `192.0.2.7`, and IPv6 in full, eight groups
/// of four lowercase hex digits (`2001:0db8:0000:0000:0000:0000:0000:0001`), so that
/// records of Gatewatch and of Suricata sensors name a host the same way. IPv4, nearly
/// every record's, is written without the formatting machinery.
pub fn ip_text(ip: &std::net::IpAddr) -> String {
    let v4 = match ip {
        std::net::IpAddr::V4(v4) => v4,
        std::net::IpAddr::V6(v6) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let mut out = String::with_capacity(39);
            for (i, b) in v6.octets().into_iter().enumerate() {
                if i > 0 && i % 2 == 0 {
                    out.push(':');
                }
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
            return out;
        }
    };
    let mut out = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if octet >= 100 {
            out.push((b'0' + octet / 100) as char);
        }
        if octet >= 10 {
            out.push((b'0' + octet / 10 % 10) as char);
        }
        out.push((b'0' + octet % 10) as char);
    }
    out
}

/// An address in one spelling: IPv6 compressed as RFC 5952 has it (Suricata writes
/// IPv6 in full, `2001:0db8:0000:…`; Gatewatch's sensors compressed). Anything that is
/// not an address is left as it is.
pub fn canonical_ip(s: &mut String) {
    if s.contains(':') {
        if let Ok(ip) = s.parse::<std::net::Ipv6Addr>() {
            *s = ip.to_string();
        }
    }
}

impl AlertEvent {
    /// Every address of the alert in one spelling ([`canonical_ip`]), so that the same
    /// host reported by Suricata and by Gatewatch is one host.
    pub fn canonicalize_addresses(&mut self) {
        canonical_ip(&mut self.src_ip);
        canonical_ip(&mut self.dest_ip);
        for e in [&mut self.alert.source, &mut self.alert.target].into_iter().flatten() {
            canonical_ip(&mut e.ip);
        }
    }
}

/// Microseconds since the epoch of an EVE timestamp (any zone offset).
pub fn parse_eve_timestamp(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").ok().map(|d| d.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_chrono_would() {
        for ts in [0, 1, 999_999, 1_700_000_000_123_456, -1, -86_400_000_001, 4_102_444_800_000_000]
        {
            let dt = chrono::DateTime::<chrono::Utc>::from_timestamp_micros(ts).unwrap();
            let want = dt.format("%Y-%m-%dT%H:%M:%S%.6f+0000").to_string();
            assert_eq!(eve_timestamp(ts), want, "{ts}");
            assert_eq!(parse_eve_timestamp(&want), Some(ts));
        }
        let far = 253_402_300_800_000_000; // year 10000
        assert_eq!(eve_timestamp(far), "+10000-01-01T00:00:00.000000+0000");
    }

    #[test]
    fn suricata_full_ipv6_is_read_as_the_sensor_writes_it() {
        let mut s = "2003:0051:6012:0000:0000:0000:0000:0002".to_string();
        canonical_ip(&mut s);
        assert_eq!(s, "2003:51:6012::2");
        for same in ["10.0.0.1", "2003:51:6012::2", "not an address", ""] {
            let mut s = same.to_string();
            canonical_ip(&mut s);
            assert_eq!(s, same);
        }
    }

    #[test]
    fn addresses_are_written_as_suricata_does() {
        use std::net::{IpAddr, Ipv4Addr};
        for octets in [[0, 0, 0, 0], [255, 255, 255, 255], [10, 0, 100, 9], [192, 168, 1, 20]] {
            let ip = IpAddr::V4(Ipv4Addr::from(octets));
            assert_eq!(ip_text(&ip), ip.to_string());
        }
        for a in (0..=255u8).step_by(3) {
            let ip = IpAddr::V4(Ipv4Addr::new(a, 255 - a, a / 2, a.wrapping_mul(7)));
            assert_eq!(ip_text(&ip), ip.to_string());
        }
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(ip_text(&v6), "2001:0db8:0000:0000:0000:0000:0000:0001");
        let v6: IpAddr = "fe80::20c:29ff:faf2:ab42".parse().unwrap();
        assert_eq!(ip_text(&v6), "fe80:0000:0000:0000:020c:29ff:faf2:ab42");
        assert_eq!(ip_text(&v6).parse::<IpAddr>().unwrap(), v6);
    }

    #[test]
    fn reads_a_suricata_alert_line() {
        let line = r#"{"timestamp":"2024-04-19T10:00:00.000001+0200","flow_id":1234,"in_iface":"eth0","event_type":"alert","src_ip":"10.0.0.1","src_port":1234,"dest_ip":"8.8.8.8","dest_port":53,"proto":"UDP","alert":{"action":"allowed","gid":1,"signature_id":2000001,"rev":3,"signature":"ET X","category":"Misc","severity":2,"metadata":{"created_at":["2020_01_01"]}},"app_proto":"dns"}"#;
        let a: AlertEvent = serde_json::from_str(line).unwrap();
        assert_eq!(a.alert.signature_id, 2000001);
        assert_eq!(a.dest_port, Some(53));
        let back = serde_json::to_string(&a).unwrap();
        assert!(back.starts_with(
            r#"{"timestamp":"2024-04-19T10:00:00.000001+0200","flow_id":1234,"in_iface":"eth0","event_type":"alert""#
        ));
    }
}
