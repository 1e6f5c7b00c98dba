//! The EVE `dns` record (Suricata 8, version 3 layout: one record per message).

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DnsBody {
    pub version: u8,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub tx_id: u64,
    pub id: u16,
    pub flags: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub qr: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub aa: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tc: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rd: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ra: bool,
    /// The reserved Z bit is set (Suricata logs `"z": true` then).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub z: bool,
    pub opcode: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcode: Option<&'static str>,
    pub queries: Vec<DnsQueryItem>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<DnsAnswerItem>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub grouped: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DnsQueryItem {
    pub rrname: String,
    pub rrtype: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DnsAnswerItem {
    pub rrname: String,
    pub rrtype: String,
    pub ttl: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdata: Option<String>,
}

impl DnsBody {
    /// The EVE body of a parsed DNS message.
    pub fn from_message(m: &super::Message<'_>, tx_id: u64) -> DnsBody {
        use super::{rcode_name, rtype, RData};
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let flags = m.flags;
        let mut grouped: std::collections::BTreeMap<String, Vec<String>> =
            std::collections::BTreeMap::new();
        let answers: Vec<DnsAnswerItem> = m
            .answers
            .iter()
            .map(|r| {
                let rdata = match &r.data {
                    RData::A(a) => Some(a.to_string()),
                    RData::Aaaa(a) => Some(a.to_string()),
                    RData::Name(n) => Some(text(n)),
                    RData::Mx { exchange, .. } => Some(text(exchange)),
                    RData::Txt(parts) => {
                        Some(parts.iter().map(|p| text(p)).collect::<Vec<_>>().join(""))
                    }
                    RData::Soa { mname, .. } => Some(text(mname)),
                    RData::Other(_) => None,
                };
                if let Some(d) = &rdata {
                    grouped.entry(rtype::name(r.rtype)).or_default().push(d.clone());
                }
                DnsAnswerItem {
                    rrname: text(&r.name),
                    rrtype: rtype::name(r.rtype),
                    ttl: r.ttl,
                    rdata,
                }
            })
            .collect();
        DnsBody {
            version: 3,
            kind: if m.is_response() { "response" } else { "request" },
            tx_id,
            id: m.id,
            flags: format!("{flags:x}"),
            qr: m.is_response(),
            aa: flags & 0x0400 != 0,
            tc: m.truncated(),
            rd: flags & 0x0100 != 0,
            ra: flags & 0x0080 != 0,
            z: flags & 0x0040 != 0,
            opcode: m.opcode(),
            rcode: m.is_response().then(|| rcode_name(m.rcode())),
            queries: m
                .questions
                .iter()
                .map(|q| DnsQueryItem { rrname: text(&q.name), rrtype: rtype::name(q.qtype) })
                .collect(),
            answers,
            grouped,
        }
    }
}
