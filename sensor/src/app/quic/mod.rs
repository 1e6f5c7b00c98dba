//! QUIC (RFC 9000, version 2 of RFC 9369, drafts 29 to 32) over UDP ports 443 and 80.
//!
//! The TLS handshake of a QUIC connection travels in Initial packets whose protection
//! any observer can remove ([`crypto`]). Each Initial packet read is a transaction:
//! `quic.version`, and once a direction's CRYPTO frames hold its whole hello, the
//! ClientHello's `quic.sni`, `ja3.*` and `ja4.hash` (JA4 with the `q` transport) or the
//! ServerHello's `ja3s.*`; an EVE `quic` record as Suricata writes it (version, SNI,
//! extensions with the server names and ALPN values, JA3/JA3S, JA4). Later packets
//! (Handshake, 1-RTT) are encrypted with keys only the endpoints have: after its
//! hello a direction is no longer read.

pub mod crypto;

use gatewatch_rules::signature::Buffer;
use serde::Serialize;

use super::parser::{meta, AppCx, AppParser, Inspection};
use super::records::Record;
use super::tls::conn::Fingerprint;
use super::tls::{self, ClientHello, ServerHello};
use crypto::InitialKeys;

/// CRYPTO bytes kept per direction: a hello larger than this is not read.
const MAX_CRYPTO: usize = 64 * 1024;

/// A variable-length integer (RFC 9000 §16) at `d[*at..]`.
fn varint(d: &[u8], at: &mut usize) -> Option<u64> {
    let first = *d.get(*at)?;
    let len = 1usize << (first >> 6);
    let bytes = d.get(*at..*at + len)?;
    let mut v = (first & 0x3f) as u64;
    for b in &bytes[1..] {
        v = (v << 8) | *b as u64;
    }
    *at += len;
    Some(v)
}

/// A long-header packet's fields up to its packet number.
#[derive(Debug)]
struct LongHeader<'a> {
    version: u32,
    /// 0 Initial, 1 0-RTT, 2 Handshake, 3 Retry (version 1 numbering).
    kind: u8,
    dcid: &'a [u8],
    pn_offset: usize,
    /// The packet's end in the datagram.
    end: usize,
}

fn long_header(d: &[u8]) -> Option<LongHeader<'_>> {
    let b0 = *d.first()?;
    if b0 & 0xc0 != 0xc0 {
        return None;
    }
    let version = u32::from_be_bytes(d.get(1..5)?.try_into().ok()?);
    let raw = (b0 >> 4) & 3;
    // Version 2 numbers the types differently (RFC 9369 §3.2).
    let kind = if version == crypto::VERSION_2 { (raw + 3) % 4 } else { raw };
    let mut at = 5;
    let dcid_len = *d.get(at)? as usize;
    let dcid = d.get(at + 1..at + 1 + dcid_len)?;
    at += 1 + dcid_len;
    let scid_len = *d.get(at)? as usize;
    at += 1 + scid_len;
    if dcid_len > 20 || scid_len > 20 || kind == 3 {
        return None;
    }
    if kind == 0 {
        let token = varint(d, &mut at)? as usize;
        at = at.checked_add(token)?;
    }
    let len = varint(d, &mut at)? as usize;
    let end = at.checked_add(len).filter(|e| *e <= d.len())?;
    Some(LongHeader { version, kind, dcid, pn_offset: at, end })
}

/// Is this datagram a QUIC long-header packet of a version that can be read?
pub fn probe(d: &[u8]) -> bool {
    long_header(d).is_some_and(|h| crypto::known(h.version))
}

/// The CRYPTO frames of one direction, put back in order.
#[derive(Debug, Default)]
struct CryptoStream {
    parts: Vec<(u64, Vec<u8>)>,
    /// The hello was read.
    done: bool,
}

impl CryptoStream {
    fn add(&mut self, offset: u64, data: &[u8]) {
        let held: usize = self.parts.iter().map(|(_, d)| d.len()).sum();
        if !self.done && offset < MAX_CRYPTO as u64 && held + data.len() <= MAX_CRYPTO {
            self.parts.push((offset, data.to_vec()));
        }
    }

    /// The bytes contiguous from offset 0.
    fn contiguous(&mut self) -> Vec<u8> {
        self.parts.sort_by_key(|(o, _)| *o);
        let mut out: Vec<u8> = Vec::new();
        for (o, d) in &self.parts {
            let o = *o as usize;
            if o > out.len() {
                break;
            }
            if o + d.len() > out.len() {
                out.extend_from_slice(&d[out.len() - o..]);
            }
        }
        out
    }
}

/// The frames of an Initial packet: CRYPTO data into `stream`; false when a frame
/// cannot be read (the packet was not decrypted right, or is not an Initial's).
fn read_frames(plain: &[u8], stream: &mut CryptoStream) -> bool {
    let mut at = 0;
    while at < plain.len() {
        let Some(t) = varint(plain, &mut at) else { return false };
        let ok = match t {
            0x00 | 0x01 => true,
            0x02 | 0x03 => (|| {
                let _largest = varint(plain, &mut at)?;
                let _delay = varint(plain, &mut at)?;
                let ranges = varint(plain, &mut at)?;
                let _first = varint(plain, &mut at)?;
                for _ in 0..ranges.min(1024) * 2 {
                    varint(plain, &mut at)?;
                }
                if t == 0x03 {
                    for _ in 0..3 {
                        varint(plain, &mut at)?;
                    }
                }
                Some(())
            })()
            .is_some(),
            0x06 => (|| {
                let offset = varint(plain, &mut at)?;
                let len = varint(plain, &mut at)? as usize;
                let data = plain.get(at..at.checked_add(len)?)?;
                at += len;
                stream.add(offset, data);
                Some(())
            })()
            .is_some(),
            0x1c | 0x1d => (|| {
                let _code = varint(plain, &mut at)?;
                if t == 0x1c {
                    let _frame = varint(plain, &mut at)?;
                }
                let len = varint(plain, &mut at)? as usize;
                at = at.checked_add(len).filter(|e| *e <= plain.len())?;
                Some(())
            })()
            .is_some(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// An extension as the EVE record lists it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct QuicExtension {
    /// The extension's name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'static str>,
    #[serde(rename = "type")]
    pub(crate) etype: u16,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) values: Vec<String>,
}

/// The EVE `quic` record of one Initial packet.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct QuicRecord {
    /// Hexadecimal, as Suricata writes it (`1`, `6b3343cf`).
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sni: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ja3: Option<Fingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ja3s: Option<Fingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ja4: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) extensions: Vec<QuicExtension>,
}

fn extensions(
    exts: &[tls::Extension<'_>],
    sni: Option<&[u8]>,
    alpn: &[&[u8]],
) -> Vec<QuicExtension> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    exts.iter()
        .map(|e| QuicExtension {
            name: extension_name(e.etype),
            etype: e.etype,
            values: match e.etype {
                0x0000 => sni.map(text).into_iter().collect(),
                0x0010 => alpn.iter().map(|a| text(a)).collect(),
                _ => Vec::new(),
            },
        })
        .collect()
}

/// TLS extension names (IANA registry) as Suricata's QUIC records write them.
fn extension_name(t: u16) -> Option<&'static str> {
    const NAMES: [&str; 60] = [
        "server_name",
        "max_fragment_length",
        "client_certificate_url",
        "trusted_ca_keys",
        "truncated_hmac",
        "status_request",
        "user_mapping",
        "client_authz",
        "server_authz",
        "cert_type",
        "supported_groups",
        "ec_point_formats",
        "srp",
        "signature_algorithms",
        "use_srtp",
        "heartbeat",
        "alpn",
        "status_request_v2",
        "signed_certificate_timestamp",
        "client_certificate_type",
        "server_certificate_type",
        "padding",
        "encrypt_then_mac",
        "extended_master_secret",
        "token_binding",
        "cached_info",
        "tls_lts",
        "compress_certificate",
        "record_size_limit",
        "pwd_protect",
        "pwd_clear",
        "password_salt",
        "ticket_pinning",
        "tls_cert_with_extern_psk",
        "delegated_credentials",
        "session_ticket",
        "tlmsp",
        "tlmsp_proxying",
        "tlmsp_delegate",
        "supported_ekt_ciphers",
        "",
        "pre_shared_key",
        "early_data",
        "supported_versions",
        "cookie",
        "psk_key_exchange_modes",
        "",
        "certificate_authorities",
        "oid_filters",
        "post_handshake_auth",
        "signature_algorithms_cert",
        "key_share",
        "transparency_info",
        "connection_id_deprecated",
        "connection_id",
        "external_id_hash",
        "external_session_id",
        "quic_transport_parameters",
        "ticket_request",
        "dnssec_chain",
    ];
    match t {
        13172 => Some("next_protocol_negotiation"),
        65281 => Some("renegotiation_info"),
        t => NAMES.get(t as usize).copied().filter(|n| !n.is_empty()),
    }
}

/// The QUIC parser of one flow (over UDP).
#[derive(Debug, Default)]
pub struct QuicConn {
    /// The Destination Connection ID of the client's first Initial: both directions'
    /// Initial keys come from it.
    first_dcid: Option<(u32, Vec<u8>)>,
    keys: [Option<InitialKeys>; 2],
    crypto: [CryptoStream; 2],
}

impl QuicConn {
    /// The keys of direction `dir` for a packet of `h`.
    fn keys(&mut self, dir: usize, h: &LongHeader<'_>) -> Option<&InitialKeys> {
        if self.first_dcid.is_none() && dir == 0 {
            self.first_dcid = Some((h.version, h.dcid.to_vec()));
        }
        let (version, dcid) = self.first_dcid.as_ref()?;
        if self.keys[dir].is_none() {
            self.keys[dir] = InitialKeys::new(*version, dcid, dir == 0);
        }
        self.keys[dir].as_ref()
    }

    /// One Initial packet opened: a transaction.
    fn initial(&mut self, dir: usize, version: u32, plain: &[u8], cx: &mut AppCx<'_>) {
        let stream = &mut self.crypto[dir];
        if !read_frames(plain, stream) {
            cx.count("quic_bad_frames", 1);
            cx.event("quic.error_on_data");
            return;
        }
        cx.count("quic_initial_packets", 1);
        let mut insp = Inspection::new(dir);
        insp.push(Buffer::QuicVersion, &version.to_be_bytes());
        let mut rec = QuicRecord { version: format!("{version:x}"), ..Default::default() };
        if !stream.done {
            let data = stream.contiguous();
            if let Ok((t, body, _)) = tls::parse_handshake(&data) {
                stream.done = true;
                stream.parts.clear();
                match (t, dir) {
                    (1, 0) => match tls::parse_client_hello(body) {
                        Ok(ch) => client_hello(&ch, &mut insp, &mut rec),
                        Err(_) => cx.count("quic_bad_hello", 1),
                    },
                    (2, 1) => match tls::parse_server_hello(body) {
                        Ok(sh) => server_hello(&sh, &mut insp, &mut rec),
                        Err(_) => cx.count("quic_bad_hello", 1),
                    },
                    _ => cx.count("quic_bad_hello", 1),
                }
            }
        }
        insp.meta = meta("quic", &rec);
        cx.inspect(insp);
        cx.record(dir == 0, Record::Quic(rec));
    }
}

fn client_hello(ch: &ClientHello<'_>, insp: &mut Inspection, rec: &mut QuicRecord) {
    let sni = ch.sni();
    if let Some(s) = sni {
        insp.push(Buffer::QuicSni, s);
        rec.sni = Some(String::from_utf8_lossy(s).into_owned());
    }
    let (string, hash) = (ch.ja3_string(), ch.ja3_hash());
    insp.push(Buffer::Ja3String, string.as_bytes());
    insp.push(Buffer::Ja3Hash, hash.as_bytes());
    let ja4 = ch.ja4_over('q');
    insp.push(Buffer::Ja4Hash, ja4.as_bytes());
    rec.ja3 = Some(Fingerprint { hash, string });
    rec.ja4 = Some(ja4);
    rec.extensions = extensions(&ch.extensions, sni, &ch.alpn());
}

fn server_hello(sh: &ServerHello<'_>, insp: &mut Inspection, rec: &mut QuicRecord) {
    let (string, hash) = (sh.ja3s_string(), sh.ja3s_hash());
    insp.push(Buffer::Ja3sString, string.as_bytes());
    insp.push(Buffer::Ja3sHash, hash.as_bytes());
    rec.ja3s = Some(Fingerprint { hash, string });
    rec.extensions = extensions(&sh.extensions, None, &sh.alpn());
}

impl AppParser for QuicConn {
    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        self.datagram(dir, bytes, cx);
    }

    fn datagram(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        // Coalesced packets: each long-header packet in turn (a short-header one ends
        // the datagram).
        let mut rest = bytes;
        while let Some(h) = long_header(rest) {
            // After its hello, a direction's packets carry nothing readable (as Suricata,
            // they are no longer transactions).
            if self.crypto[dir].done {
                return;
            }
            let packet = &rest[..h.end];
            if h.kind == 0 && crypto::known(h.version) {
                let version = h.version;
                let opened = self.keys(dir, &h).and_then(|k| k.open(packet, h.pn_offset));
                match opened {
                    Some(plain) => self.initial(dir, version, &plain, cx),
                    None => cx.count("quic_undecrypted", 1),
                }
            }
            rest = &rest[h.end..];
        }
    }

    fn mem_usage(&self) -> usize {
        let parts = |c: &CryptoStream| c.parts.iter().map(|(_, d)| d.capacity()).sum::<usize>();
        let dcid = self.first_dcid.as_ref().map_or(0, |(_, d)| d.capacity());
        dcid + self.crypto.iter().map(parts).sum::<usize>()
    }
}

#[cfg(test)]
mod tests;
