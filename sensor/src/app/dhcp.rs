//! DHCP (RFC 2131, 2132) over UDP ports 67 and 68: each BOOTP message is a
//! transaction with Suricata's `dhcp.leasetime`, `dhcp.renewal_time` and
//! `dhcp.rebinding_time`, and an EVE `dhcp` record with Suricata's extended fields
//! (message type, addresses, client identifier, host name, requested parameters,
//! lease times, subnet mask, routers, DNS servers).

use std::net::Ipv4Addr;

use gatewatch_rules::signature::Buffer;
use serde::Serialize;

use super::parser::{meta, AppCx, AppParser, Inspection};
use super::records::Record;

/// The fixed BOOTP part before the magic cookie.
const FIXED: usize = 236;
const COOKIE: [u8; 4] = [0x63, 0x82, 0x53, 0x63];

/// The EVE `dhcp` object.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct DhcpRecord {
    /// `request` (BOOTREQUEST) or `reply`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The transaction id (`xid`).
    pub id: u32,
    pub(crate) client_mac: String,
    pub(crate) assigned_ip: String,
    pub(crate) client_ip: String,
    pub(crate) relay_ip: String,
    pub(crate) next_server_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dhcp_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) requested_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vendor_class_identifier: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) params: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lease_time: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) renewal_time: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rebinding_time: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subnet_mask: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) routers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) dns_servers: Vec<String>,
}

/// Message types (option 53) by number.
const TYPES: [&str; 9] =
    ["", "discover", "offer", "request", "decline", "ack", "nak", "release", "inform"];

/// The parameter names Suricata logs for option 55 (it leaves the others out).
fn param_name(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "subnet_mask",
        3 => "router",
        6 => "dns_server",
        15 => "domain",
        35 => "arp_timeout",
        42 => "ntp_server",
        66 => "tftp_server_name",
        150 => "tftp_server_ip",
        _ => return None,
    })
}

fn ip(b: &[u8]) -> String {
    match b {
        [a, b, c, d, ..] => Ipv4Addr::new(*a, *b, *c, *d).to_string(),
        _ => String::new(),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":")
}

fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// Is this datagram a BOOTP message with the DHCP cookie?
pub fn probe(d: &[u8]) -> bool {
    d.len() >= FIXED + 4 && matches!(d[0], 1 | 2) && d[FIXED..FIXED + 4] == COOKIE
}

fn parse(d: &[u8]) -> Option<DhcpRecord> {
    if !probe(d) {
        return None;
    }
    let hlen = (d[2] as usize).min(16);
    let mut r = DhcpRecord {
        kind: if d[0] == 1 { "request" } else { "reply" },
        id: be32(&d[4..])?,
        client_mac: hex(&d[28..28 + hlen]),
        client_ip: ip(&d[12..16]),
        assigned_ip: ip(&d[16..20]),
        next_server_ip: ip(&d[20..24]),
        relay_ip: ip(&d[24..28]),
        ..Default::default()
    };
    let mut opts = &d[FIXED + 4..];
    while let Some((&code, rest)) = opts.split_first() {
        match code {
            0 => {
                opts = rest;
                continue;
            }
            255 => break,
            _ => {}
        }
        let (&len, rest) = rest.split_first()?;
        let v = rest.get(..len as usize)?;
        opts = &rest[len as usize..];
        match code {
            1 => r.subnet_mask = Some(ip(v)),
            3 => r.routers = v.chunks_exact(4).map(ip).collect(),
            6 => r.dns_servers = v.chunks_exact(4).map(ip).collect(),
            12 => r.hostname = Some(String::from_utf8_lossy(v).into_owned()),
            50 => r.requested_ip = Some(ip(v)),
            51 => r.lease_time = be32(v),
            53 => r.dhcp_type = v.first().and_then(|t| TYPES.get(*t as usize)).copied(),
            55 => r.params = v.iter().filter_map(|c| param_name(*c)).collect(),
            58 => r.renewal_time = be32(v),
            59 => r.rebinding_time = be32(v),
            60 => r.vendor_class_identifier = Some(String::from_utf8_lossy(v).into_owned()),
            // The identifier after its type byte, as Suricata logs it.
            61 if v.len() > 1 => r.client_id = Some(hex(&v[1..])),
            _ => {}
        }
    }
    Some(r)
}

/// The DHCP parser (over UDP; stateless per datagram).
#[derive(Debug, Default)]
pub struct DhcpConn;

impl AppParser for DhcpConn {
    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        self.datagram(dir, bytes, cx);
    }

    fn datagram(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        let Some(rec) = parse(bytes) else {
            cx.count("dhcp_errors", 1);
            cx.event("dhcp.malformed_options");
            return;
        };
        cx.count("dhcp_messages", 1);
        let mut insp = Inspection::new(dir);
        let times = [
            (Buffer::DhcpLeaseTime, rec.lease_time),
            (Buffer::DhcpRenewalTime, rec.renewal_time),
            (Buffer::DhcpRebindingTime, rec.rebinding_time),
        ];
        for (b, t) in times {
            if let Some(t) = t {
                insp.push(b, t.to_string().as_bytes());
            }
        }
        insp.meta = meta("dhcp", &rec);
        cx.inspect(insp);
        cx.record(dir == 0, Record::Dhcp(rec));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(op: u8, options: &[u8]) -> Vec<u8> {
        let mut d = vec![0u8; FIXED];
        d[0] = op;
        d[2] = 6;
        d[4..8].copy_from_slice(&0xef64_9344u32.to_be_bytes());
        d[16..20].copy_from_slice(&[10, 16, 1, 4]);
        d[28..34].copy_from_slice(&[0x00, 0x11, 0x32, 0x17, 0x49, 0xf0]);
        d.extend_from_slice(&COOKIE);
        d.extend_from_slice(options);
        d
    }

    #[test]
    fn an_ack_with_lease_times_and_servers() {
        let opts = [
            53, 1, 5, 51, 4, 0, 0, 0x0e, 0x10, 58, 4, 0, 0, 6, 0x91, 59, 4, 0, 0, 0x0b, 0xd7, 1, 4,
            255, 255, 0, 0, 3, 4, 10, 16, 1, 1, 6, 8, 10, 16, 1, 1, 8, 8, 8, 8, 12, 5, b'n', b'a',
            b's', b'1', 0, 255,
        ];
        let r = parse(&message(2, &opts)).unwrap();
        assert_eq!((r.kind, r.dhcp_type, r.id), ("reply", Some("ack"), 4016345924));
        assert_eq!(
            (r.lease_time, r.renewal_time, r.rebinding_time),
            (Some(3600), Some(1681), Some(3031))
        );
        assert_eq!(r.assigned_ip, "10.16.1.4");
        assert_eq!(r.client_mac, "00:11:32:17:49:f0");
        assert_eq!(r.subnet_mask.as_deref(), Some("255.255.0.0"));
        assert_eq!(r.dns_servers, ["10.16.1.1", "8.8.8.8"]);
        assert_eq!(r.hostname.as_deref(), Some("nas1\0"));
    }

    #[test]
    fn a_request_with_parameters_and_a_client_id() {
        let opts =
            [53, 1, 3, 61, 7, 1, 0, 0x11, 0x32, 0x17, 0x49, 0xf0, 55, 5, 1, 3, 44, 15, 6, 255];
        let r = parse(&message(1, &opts)).unwrap();
        assert_eq!(r.params, ["subnet_mask", "router", "domain", "dns_server"]);
        assert_eq!(r.client_id.as_deref(), Some("00:11:32:17:49:f0"));
        // An option running past the end, a wrong cookie.
        assert!(parse(&message(1, &[53, 9, 3])).is_none());
        let mut bad = message(1, &[255]);
        bad[FIXED] = 0;
        assert!(parse(&bad).is_none());
    }
}
