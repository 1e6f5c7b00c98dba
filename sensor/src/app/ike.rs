//! IKE (IKEv1 RFC 2409, IKEv2 RFC 7296) over UDP ports 500 and 4500 (after the
//! four-byte non-ESP marker). Each message is a transaction with Suricata's
//! `ike.init_spi`, `ike.resp_spi` (hex), `ike.exchtype`, `ike.vendor` (hex),
//! `ike.key_exchange_payload`, `ike.nonce_payload` and their lengths, and an EVE `ike`
//! record. An IKEv2 proposal offering weak cryptography (DES, 3DES, MD5/SHA-1 PRF and
//! integrity, Diffie-Hellman groups 1, 2, 5, 22 or none) raises Suricata's
//! `ike.weak_crypto_*` events; a message whose payloads do not fit, `malformed_data`.

use gatewatch_rules::signature::Buffer;
use serde::Serialize;

use super::parser::{meta, AppCx, AppParser, Inspection};
use super::records::Record;
use super::tls::hex;

const HEADER: usize = 28;
/// Payloads read of one message.
const MAX_PAYLOADS: usize = 64;

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub(crate) struct Ikev2Details {
    pub(crate) errors: u32,
    pub(crate) notify: Vec<String>,
}

/// The EVE `ike` record of one message.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct IkeRecord {
    pub(crate) version_major: u8,
    pub(crate) version_minor: u8,
    pub(crate) exchange_type: u8,
    pub(crate) message_id: u32,
    pub(crate) init_spi: String,
    pub(crate) resp_spi: String,
    /// `initiator` or `responder`: who sent the message.
    pub role: &'static str,
    /// The payload types the message carries, by name.
    pub payload: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ikev2: Option<Ikev2Details>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) vendor_ids: Vec<String>,
}

/// Payload type names as Suricata logs them.
fn payload_name(v2: bool, t: u8) -> &'static str {
    if v2 {
        return match t {
            0 => "NoNextPayload",
            33 => "SecurityAssociation",
            34 => "KeyExchange",
            35 => "IdentInitiator",
            36 => "IdentResponder",
            37 => "Certificate",
            38 => "CertificateRequest",
            39 => "Authentication",
            40 => "Nonce",
            41 => "Notify",
            42 => "Delete",
            43 => "VendorID",
            44 => "TrafficSelectorInitiator",
            45 => "TrafficSelectorResponder",
            46 => "EncryptedAndAuthenticated",
            47 => "Configuration",
            48 => "ExtensibleAuthentication",
            _ => "Unknown",
        };
    }
    match t {
        0 => "NoNextPayload",
        1 => "SecurityAssociation",
        2 => "Proposal",
        3 => "Transform",
        4 => "KeyExchange",
        5 => "Identification",
        6 => "Certificate",
        7 => "CertificateRequest",
        8 => "Hash",
        9 => "Signature",
        10 => "Nonce",
        11 => "Notification",
        12 => "Delete",
        13 => "VendorID",
        _ => "Unknown",
    }
}

/// The weak-cryptography events of an IKEv2 SA payload's proposals.
fn weak_transforms(sa: &[u8], events: &mut Vec<&'static str>) {
    let mut rest = sa;
    while rest.len() >= 8 {
        let len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
        let Some(prop) = rest.get(8..len) else { return };
        let (spi, count) = (rest[6] as usize, rest[7] as usize);
        let mut t = prop.get(spi..).unwrap_or_default();
        for _ in 0..count {
            if t.len() < 8 {
                break;
            }
            let tlen = (u16::from_be_bytes([t[2], t[3]]) as usize).max(8);
            let id = u16::from_be_bytes([t[6], t[7]]);
            let weak = match t[4] {
                1 if matches!(id, 1..=9 | 11) => Some("ike.weak_crypto_enc"),
                2 if matches!(id, 1 | 2) => Some("ike.weak_crypto_prf"),
                3 if matches!(id, 1..=7) => Some("ike.weak_crypto_auth"),
                3 if id == 0 => Some("ike.weak_crypto_no_auth"),
                4 if matches!(id, 1 | 2 | 5 | 22) => Some("ike.weak_crypto_dh"),
                4 if id == 0 => Some("ike.weak_crypto_no_dh"),
                _ => None,
            };
            if let Some(e) = weak.filter(|e| !events.contains(e)) {
                events.push(e);
            }
            t = t.get(tlen..).unwrap_or_default();
        }
        if rest[0] == 0 || len < 8 {
            return;
        }
        rest = rest.get(len..).unwrap_or_default();
    }
}

/// A parsed message: its record, its buffers, its anomalies.
type Parsed = (IkeRecord, Vec<(Buffer, Vec<u8>)>, Vec<&'static str>);

fn parse(d: &[u8], to_server: bool) -> Option<Parsed> {
    let h = d.get(..HEADER)?;
    let version = h[17];
    let (major, minor) = (version >> 4, version & 0x0f);
    if !(1..=2).contains(&major) {
        return None;
    }
    let v2 = major == 2;
    let mut rec = IkeRecord {
        version_major: major,
        version_minor: minor,
        exchange_type: h[18],
        message_id: u32::from_be_bytes([h[20], h[21], h[22], h[23]]),
        init_spi: hex(&h[0..8]),
        resp_spi: hex(&h[8..16]),
        role: if to_server { "initiator" } else { "responder" },
        ikev2: v2.then(Ikev2Details::default),
        ..Default::default()
    };
    let mut bufs = vec![
        (Buffer::IkeInitSpi, rec.init_spi.clone().into_bytes()),
        (Buffer::IkeRespSpi, rec.resp_spi.clone().into_bytes()),
        (Buffer::IkeExchType, h[18].to_string().into_bytes()),
    ];
    let mut events = Vec::new();
    let total = (u32::from_be_bytes([h[24], h[25], h[26], h[27]]) as usize).min(d.len());
    let mut body = d.get(HEADER..total).unwrap_or_default();
    let mut next = h[16];
    rec.payload.push(payload_name(v2, next));
    // IKEv1 payloads after an encrypted header are not readable.
    let encrypted = !v2 && h[19] & 0x01 != 0;
    while next != 0 && !encrypted && rec.payload.len() < MAX_PAYLOADS {
        if body.len() < 4 {
            events.push("ike.malformed_data");
            break;
        }
        let len = u16::from_be_bytes([body[2], body[3]]) as usize;
        let Some(data) = body.get(4..len.max(4)) else {
            events.push("ike.malformed_data");
            break;
        };
        match (v2, next) {
            (true, 33) => weak_transforms(data, &mut events),
            (true, 34) if data.len() >= 4 => {
                bufs.push((Buffer::IkeKeyExchange, data[4..].to_vec()));
                bufs.push((Buffer::IkeKeyExchangeLen, (data.len() - 4).to_string().into_bytes()));
            }
            (false, 4) => {
                bufs.push((Buffer::IkeKeyExchange, data.to_vec()));
                bufs.push((Buffer::IkeKeyExchangeLen, data.len().to_string().into_bytes()));
            }
            (true, 40) | (false, 10) => {
                bufs.push((Buffer::IkeNonce, data.to_vec()));
                bufs.push((Buffer::IkeNonceLen, data.len().to_string().into_bytes()));
            }
            (true, 43) | (false, 13) => {
                let id = hex(data);
                bufs.push((Buffer::IkeVendor, id.clone().into_bytes()));
                rec.vendor_ids.push(id);
            }
            (true, 41) if data.len() >= 4 => {
                let kind = u16::from_be_bytes([data[2], data[3]]);
                if let Some(v) = rec.ikev2.as_mut() {
                    v.notify.push(kind.to_string());
                    if kind < 16384 {
                        v.errors += 1;
                    }
                }
            }
            _ => {}
        }
        next = body[0];
        rec.payload.push(payload_name(v2, next));
        body = body.get(len.max(4)..).unwrap_or_default();
    }
    Some((rec, bufs, events))
}

/// Is this datagram an IKE message (on port 4500, after the non-ESP marker)?
pub fn probe(d: &[u8]) -> bool {
    let d = d.strip_prefix(&[0, 0, 0, 0][..]).unwrap_or(d);
    if d.len() < HEADER || d[..8] == [0; 8] {
        return false;
    }
    match d[17] >> 4 {
        1 => true,
        // IKEv2 as Suricata recognises it: version 2.0, an IKEv2 exchange type, and a
        // length that is the datagram's.
        2 => {
            let len = u32::from_be_bytes([d[24], d[25], d[26], d[27]]) as usize;
            d[17] & 0x0f == 0 && (34..=37).contains(&d[18]) && len == d.len()
        }
        _ => false,
    }
}

/// The IKE parser (over UDP; stateless per datagram).
#[derive(Debug, Default)]
pub struct IkeConn;

impl AppParser for IkeConn {
    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        self.datagram(dir, bytes, cx);
    }

    fn datagram(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        let d = bytes.strip_prefix(&[0, 0, 0, 0][..]).unwrap_or(bytes);
        let Some((rec, bufs, events)) = parse(d, dir == 0) else {
            cx.count("ike_errors", 1);
            cx.event("ike.malformed_data");
            return;
        };
        cx.count("ike_messages", 1);
        for e in events {
            cx.event(e);
        }
        let mut insp = Inspection::new(dir);
        insp.buffers = bufs;
        insp.meta = meta("ike", &rec);
        cx.inspect(insp);
        cx.record(dir == 0, Record::Ike(rec));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IKEv2 IKE_SA_INIT: SA (3DES, HMAC-SHA1 PRF, DH group 2), KE, Nonce.
    fn sa_init() -> Vec<u8> {
        let mut transforms = Vec::new();
        for (last, kind, id) in [(3u8, 1u8, 3u16), (3, 2, 2), (0, 4, 2)] {
            transforms.extend_from_slice(&[last, 0, 0, 8, kind, 0]);
            transforms.extend_from_slice(&id.to_be_bytes());
        }
        let mut prop = vec![0, 0, 0, 0, 1, 1, 0, 3];
        prop.extend_from_slice(&transforms);
        let plen = prop.len() as u16;
        prop[2..4].copy_from_slice(&plen.to_be_bytes());
        let mut sa = vec![34, 0, 0, 0];
        sa.extend_from_slice(&prop);
        let salen = sa.len() as u16;
        sa[2..4].copy_from_slice(&salen.to_be_bytes());
        let ke = [&[40u8, 0, 0, 12, 0, 2, 0, 0][..], &[0xaa; 4]].concat();
        let nonce = [&[0u8, 0, 0, 8][..], &[0xbb; 4]].concat();
        let mut m = vec![0x61, 0xd3, 0x69, 0x3c, 0xe1, 0x2a, 0xf5, 0x28];
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&[33, 0x20, 34, 0x08, 0, 0, 0, 0]);
        let len = (HEADER + sa.len() + ke.len() + nonce.len()) as u32;
        m.extend_from_slice(&len.to_be_bytes());
        m.extend_from_slice(&sa);
        m.extend_from_slice(&ke);
        m.extend_from_slice(&nonce);
        m
    }

    #[test]
    fn an_ikev2_sa_init_with_weak_proposals() {
        let m = sa_init();
        assert!(probe(&m));
        let (rec, bufs, events) = parse(&m, true).unwrap();
        assert_eq!((rec.version_major, rec.exchange_type, rec.role), (2, 34, "initiator"));
        assert_eq!(rec.init_spi, "61d3693ce12af528");
        assert_eq!(rec.payload, ["SecurityAssociation", "KeyExchange", "Nonce", "NoNextPayload"]);
        assert_eq!(events, ["ike.weak_crypto_enc", "ike.weak_crypto_prf", "ike.weak_crypto_dh"]);
        assert!(bufs.contains(&(Buffer::IkeKeyExchange, vec![0xaa; 4])));
        assert!(bufs.contains(&(Buffer::IkeNonce, vec![0xbb; 4])));
        // A payload running past the message.
        let mut bad = m.clone();
        bad[HEADER + 3] = 0xff;
        assert_eq!(parse(&bad, true).unwrap().2, ["ike.malformed_data"]);
        assert!(parse(&m[..20], true).is_none());
    }
}
