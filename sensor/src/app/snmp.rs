//! SNMP v1, v2c and v3 (RFC 1157, 3416, 3412) over UDP ports 161 and 162: each message
//! is a transaction with Suricata's `snmp.version`, `snmp.community` and
//! `snmp.pdu_type`, and an EVE `snmp` record (`version`, `pdu_type`, `vars`,
//! `community`).

use gatewatch_rules::signature::Buffer;
use serde::Serialize;

use super::der::tlv;
use super::parser::{meta, AppCx, AppParser, Inspection};
use super::records::Record;

/// PDU types by their context tag number, as Suricata names them.
const PDU_TYPES: [&str; 9] = [
    "get_request",
    "get_next_request",
    "response",
    "set_request",
    "trap_v1",
    "get_bulk_request",
    "inform_request",
    "trap_v2",
    "report",
];

/// The EVE `snmp` object.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SnmpRecord {
    /// 1, 2 (v2c) or 3.
    pub version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pdu_type: Option<&'static str>,
    /// The variable bindings' OIDs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vars: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) community: Option<String>,
    #[serde(skip)]
    pdu: Option<u8>,
}

/// An OID as dotted text.
fn oid(b: &[u8]) -> Option<String> {
    let (&first, rest) = b.split_first()?;
    let mut parts =
        vec![(first / 40).min(2) as u64, (first as u64) - 40 * (first / 40).min(2) as u64];
    let mut v = 0u64;
    for &x in rest {
        v = v.checked_mul(128)? | (x & 0x7f) as u64;
        if x & 0x80 == 0 {
            parts.push(v);
            v = 0;
        }
    }
    Some(parts.iter().map(u64::to_string).collect::<Vec<_>>().join("."))
}

/// Reads a message: SEQUENCE { version, community (v1/v2c) or the v3 header, PDU }.
fn parse(d: &[u8]) -> Option<(SnmpRecord, Option<&[u8]>)> {
    let (0x30, msg, _) = tlv(d)? else { return None };
    let (0x02, ver, rest) = tlv(msg)? else { return None };
    let version = match ver {
        [0] => 1,
        [1] => 2,
        [3] => 3,
        _ => return None,
    };
    if version == 3 {
        // The PDU is inside the (maybe encrypted) scoped PDU: only the version is read.
        let rec =
            SnmpRecord { version, pdu_type: None, vars: Vec::new(), community: None, pdu: None };
        return Some((rec, None));
    }
    let (0x04, community, rest) = tlv(rest)? else { return None };
    let (tag, pdu, _) = tlv(rest)?;
    if tag & 0xe0 != 0xa0 || (tag & 0x1f) as usize >= PDU_TYPES.len() {
        return None;
    }
    let n = tag & 0x1f;
    let mut vars = Vec::new();
    // request-id, error-status, error-index (a v1 trap differs: its OIDs are skipped),
    // then the variable bindings.
    if n != 4 {
        let mut body = pdu;
        for _ in 0..3 {
            body = tlv(body)?.2;
        }
        if let Some((0x30, mut binds, _)) = tlv(body) {
            while let Some((0x30, bind, rest)) = tlv(binds) {
                if let Some((0x06, name, _)) = tlv(bind) {
                    vars.extend(oid(name));
                }
                binds = rest;
                if vars.len() >= 64 {
                    break;
                }
            }
        }
    }
    let rec = SnmpRecord {
        version,
        pdu_type: Some(PDU_TYPES[n as usize]),
        vars,
        community: Some(String::from_utf8_lossy(community).into_owned()),
        pdu: Some(n),
    };
    Some((rec, Some(community)))
}

/// Is this datagram an SNMP message?
pub fn probe(d: &[u8]) -> bool {
    parse(d).is_some()
}

/// The SNMP parser (over UDP; stateless per datagram).
#[derive(Debug, Default)]
pub struct SnmpConn;

impl AppParser for SnmpConn {
    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        self.datagram(dir, bytes, cx);
    }

    fn datagram(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        let Some((rec, community)) = parse(bytes) else {
            cx.count("snmp_errors", 1);
            cx.event("snmp.malformed_data");
            return;
        };
        cx.count("snmp_messages", 1);
        let mut insp = Inspection::new(dir);
        insp.push(Buffer::SnmpVersion, rec.version.to_string().as_bytes());
        if let Some(c) = community {
            insp.push(Buffer::SnmpCommunity, c);
        }
        if let Some(p) = rec.pdu {
            insp.push(Buffer::SnmpPduType, p.to_string().as_bytes());
        }
        insp.meta = meta("snmp", &rec);
        cx.inspect(insp);
        cx.record(dir == 0, Record::Snmp(rec));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v2c_get_request() {
        // version 1 (v2c), community "public", GetRequest id 1 for 1.3.6.1.2.1.1.1.0.
        let d = b"\x30\x26\x02\x01\x01\x04\x06public\xa0\x19\x02\x01\x01\x02\x01\x00\x02\x01\x00\x30\x0e\x30\x0c\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00\x05\x00";
        let (rec, community) = parse(d).unwrap();
        assert_eq!(rec.version, 2);
        assert_eq!(rec.pdu_type, Some("get_request"));
        assert_eq!(rec.vars, ["1.3.6.1.2.1.1.1.0"]);
        assert_eq!(community, Some(&b"public"[..]));
        assert!(parse(&d[..20]).is_none());
        assert!(parse(b"\x30\x03\x02\x01\x07").is_none());
    }
}
