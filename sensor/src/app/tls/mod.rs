//! TLS records and the handshake messages an IDS reads: ClientHello (SNI, ALPN,
//! versions, cipher suites, JA3 and JA4), ServerHello (JA3S) and the Certificate chain
//! (DER certificates, for TLS ≤ 1.2 where it travels in clear).
//!
//! Handshake messages may span records and records may span segments:
//! [`HandshakeAssembler`] collects the handshake bytes of one direction.

use std::fmt::Write as _;

pub mod conn;

use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::{Cursor, ParseError};

pub(crate) const CONTENT_HANDSHAKE: u8 = 22;
/// Handshake type of a ClientHello.
pub const HS_CLIENT_HELLO: u8 = 1;
/// Handshake type of a ServerHello.
pub const HS_SERVER_HELLO: u8 = 2;
/// Handshake type of a Certificate message.
pub const HS_CERTIFICATE: u8 = 11;

/// Largest record fragment accepted (2^14 plus the expansion TLS allows).
const MAX_RECORD: usize = (1 << 14) + 2048;
/// Largest handshake message assembled.
pub const MAX_HANDSHAKE: usize = 1 << 17;

/// A TLS record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub(crate) content_type: u8,
    /// The record's protocol version.
    pub version: u16,
    /// The record's payload.
    pub fragment: &'a [u8],
}

/// One record from the front of `buf`; returns it and the rest.
pub fn parse_record(buf: &[u8]) -> Result<(Record<'_>, &[u8]), ParseError> {
    let mut c = Cursor::new(buf);
    let content_type = c.u8()?;
    if !(20..=24).contains(&content_type) {
        return Err(ParseError::Malformed("tls.invalid_record_type"));
    }
    let version = c.u16()?;
    if version >> 8 != 3 {
        return Err(ParseError::Malformed("tls.invalid_record_version"));
    }
    let len = c.u16()? as usize;
    if len > MAX_RECORD {
        return Err(ParseError::Malformed("tls.record_too_long"));
    }
    let fragment = c.bytes(len)?;
    Ok((Record { content_type, version, fragment }, &buf[c.pos..]))
}

/// One handshake message from the front of `buf`: (type, body, rest).
pub fn parse_handshake(buf: &[u8]) -> Result<(u8, &[u8], &[u8]), ParseError> {
    let mut c = Cursor::new(buf);
    let t = c.u8()?;
    let l = c.bytes(3)?;
    let len = (l[0] as usize) << 16 | (l[1] as usize) << 8 | l[2] as usize;
    if len > MAX_HANDSHAKE {
        return Err(ParseError::Malformed("tls.handshake_too_long"));
    }
    let body = c.bytes(len)?;
    Ok((t, body, &buf[c.pos..]))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Extension<'a> {
    pub(crate) etype: u16,
    pub data: &'a [u8],
}

/// RFC 8701 GREASE values (0x0a0a, 0x1a1a, ..., 0xfafa).
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

fn read_extensions<'a>(c: &mut Cursor<'a>) -> Result<Vec<Extension<'a>>, ParseError> {
    let mut out = Vec::new();
    if c.remaining() == 0 {
        return Ok(out);
    }
    let total = c.u16()? as usize;
    let mut e =
        Cursor::new(c.bytes(total).map_err(|_| ParseError::Malformed("tls.extensions_length"))?);
    while e.remaining() > 0 {
        let etype = e.u16().map_err(|_| ParseError::Malformed("tls.extension_header"))?;
        let len = e.u16().map_err(|_| ParseError::Malformed("tls.extension_header"))? as usize;
        let data = e.bytes(len).map_err(|_| ParseError::Malformed("tls.extension_length"))?;
        out.push(Extension { etype, data });
    }
    Ok(out)
}

fn u16_list(data: &[u8], len_bytes: usize) -> Vec<u16> {
    let mut c = Cursor::new(data);
    let n = match len_bytes {
        1 => c.u8().map(|v| v as usize),
        _ => c.u16().map(|v| v as usize),
    };
    let Ok(n) = n else { return Vec::new() };
    let Ok(body) = c.bytes(n) else { return Vec::new() };
    body.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect()
}

/// The fields of a ClientHello that EVE and the rules use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// The client's `legacy_version`.
    pub version: u16,
    pub(crate) random: &'a [u8],
    pub(crate) session_id: &'a [u8],
    pub(crate) cipher_suites: Vec<u16>,
    pub(crate) compression: &'a [u8],
    pub(crate) extensions: Vec<Extension<'a>>,
}

/// Parses a ClientHello body (after the handshake header).
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello<'_>, ParseError> {
    let m = |_| ParseError::Malformed("tls.client_hello");
    let mut c = Cursor::new(body);
    let version = c.u16().map_err(m)?;
    let random = c.bytes(32).map_err(m)?;
    let sid_len = c.u8().map_err(m)? as usize;
    if sid_len > 32 {
        return Err(ParseError::Malformed("tls.session_id_length"));
    }
    let session_id = c.bytes(sid_len).map_err(m)?;
    let cs_len = c.u16().map_err(m)? as usize;
    if !cs_len.is_multiple_of(2) {
        return Err(ParseError::Malformed("tls.cipher_suites_length"));
    }
    let cs = c.bytes(cs_len).map_err(m)?;
    let cipher_suites = cs.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
    let comp_len = c.u8().map_err(m)? as usize;
    let compression = c.bytes(comp_len).map_err(m)?;
    let extensions = read_extensions(&mut c)?;
    Ok(ClientHello { version, random, session_id, cipher_suites, compression, extensions })
}

impl<'a> ClientHello<'a> {
    fn ext(&self, t: u16) -> Option<&'a [u8]> {
        self.extensions.iter().find(|e| e.etype == t).map(|e| e.data)
    }

    /// The server name (SNI host_name entry).
    pub fn sni(&self) -> Option<&'a [u8]> {
        let mut c = Cursor::new(self.ext(0x0000)?);
        let list = c.u16().ok()? as usize;
        let mut l = Cursor::new(c.bytes(list).ok()?);
        while l.remaining() > 0 {
            let kind = l.u8().ok()?;
            let n = l.u16().ok()? as usize;
            let name = l.bytes(n).ok()?;
            if kind == 0 {
                return Some(name);
            }
        }
        None
    }

    /// The protocols the client offers (ALPN).
    pub fn alpn(&self) -> Vec<&'a [u8]> {
        self.ext(0x0010).map(alpn_list).unwrap_or_default()
    }

    pub(crate) fn supported_versions(&self) -> Vec<u16> {
        self.ext(0x002b).map(|d| u16_list(d, 1)).unwrap_or_default()
    }

    pub(crate) fn supported_groups(&self) -> Vec<u16> {
        self.ext(0x000a).map(|d| u16_list(d, 2)).unwrap_or_default()
    }

    pub(crate) fn signature_algorithms(&self) -> Vec<u16> {
        self.ext(0x000d).map(|d| u16_list(d, 2)).unwrap_or_default()
    }

    pub(crate) fn ec_point_formats(&self) -> Vec<u8> {
        self.ext(0x000b)
            .and_then(|d| {
                d.split_first().map(|(n, rest)| rest[..(*n as usize).min(rest.len())].to_vec())
            })
            .unwrap_or_default()
    }

    /// The JA3 string: version,ciphers,extensions,groups,point formats (GREASE removed).
    pub fn ja3_string(&self) -> String {
        let join = |v: &mut dyn Iterator<Item = u16>| {
            v.map(|x| x.to_string()).collect::<Vec<_>>().join("-")
        };
        format!(
            "{},{},{},{},{}",
            self.version,
            join(&mut self.cipher_suites.iter().copied().filter(|c| !is_grease(*c))),
            join(&mut self.extensions.iter().map(|e| e.etype).filter(|c| !is_grease(*c))),
            join(&mut self.supported_groups().into_iter().filter(|c| !is_grease(*c))),
            join(&mut self.ec_point_formats().into_iter().map(u16::from)),
        )
    }

    /// The JA3 fingerprint (MD5 of the JA3 string).
    pub fn ja3_hash(&self) -> String {
        hex(&Md5::digest(self.ja3_string().as_bytes()))
    }

    /// JA4 over TCP (FoxIO's specification).
    pub fn ja4(&self) -> String {
        self.ja4_over('t')
    }

    /// JA4 with its transport letter: `t` (TCP), `q` (QUIC), `d` (DTLS).
    pub fn ja4_over(&self, transport: char) -> String {
        let versions: Vec<u16> =
            self.supported_versions().into_iter().filter(|v| !is_grease(*v)).collect();
        let version = versions.iter().copied().max().unwrap_or(self.version);
        let v = match version {
            0x0304 => "13",
            0x0303 => "12",
            0x0302 => "11",
            0x0301 => "10",
            0x0300 => "s3",
            0x0002 => "s2",
            0xfeff => "d1",
            0xfefd => "d2",
            0xfefc => "d3",
            _ => "00",
        };
        let sni = if self.sni().is_some() { 'd' } else { 'i' };
        let ciphers: Vec<u16> =
            self.cipher_suites.iter().copied().filter(|c| !is_grease(*c)).collect();
        let exts: Vec<u16> =
            self.extensions.iter().map(|e| e.etype).filter(|c| !is_grease(*c)).collect();
        let alpn = match self.alpn().first() {
            Some(a) if !a.is_empty() => {
                let (f, l) = (a[0], a[a.len() - 1]);
                if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
                    format!("{}{}", f as char, l as char)
                } else {
                    let h = hex(a);
                    format!("{}{}", &h[..1], &h[h.len() - 1..])
                }
            }
            _ => "00".to_string(),
        };
        let a = format!(
            "{transport}{v}{sni}{:02}{:02}{alpn}",
            ciphers.len().min(99),
            exts.len().min(99)
        );
        let hex_list =
            |v: &[u16]| v.iter().map(|x| format!("{x:04x}")).collect::<Vec<_>>().join(",");
        let trunc = |s: &str| -> String {
            if s.is_empty() {
                "000000000000".into()
            } else {
                hex(&Sha256::digest(s.as_bytes()))[..12].to_string()
            }
        };
        let mut sorted_c = ciphers.clone();
        sorted_c.sort_unstable();
        let mut sorted_e: Vec<u16> =
            exts.iter().copied().filter(|e| *e != 0x0000 && *e != 0x0010).collect();
        sorted_e.sort_unstable();
        let sigs: Vec<u16> =
            self.signature_algorithms().into_iter().filter(|s| !is_grease(*s)).collect();
        let c_input = if sorted_e.is_empty() {
            String::new()
        } else if sigs.is_empty() {
            hex_list(&sorted_e)
        } else {
            format!("{}_{}", hex_list(&sorted_e), hex_list(&sigs))
        };
        format!("{a}_{}_{}", trunc(&hex_list(&sorted_c)), trunc(&c_input))
    }
}

/// The fields of a ServerHello that EVE and the rules use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerHello<'a> {
    /// The server's `legacy_version`.
    pub version: u16,
    pub(crate) random: &'a [u8],
    pub(crate) session_id: &'a [u8],
    pub(crate) cipher_suite: u16,
    pub(crate) compression: u8,
    pub(crate) extensions: Vec<Extension<'a>>,
}

/// Parses a ServerHello body (after the handshake header).
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello<'_>, ParseError> {
    let m = |_| ParseError::Malformed("tls.server_hello");
    let mut c = Cursor::new(body);
    let version = c.u16().map_err(m)?;
    let random = c.bytes(32).map_err(m)?;
    let sid_len = c.u8().map_err(m)? as usize;
    if sid_len > 32 {
        return Err(ParseError::Malformed("tls.session_id_length"));
    }
    let session_id = c.bytes(sid_len).map_err(m)?;
    let cipher_suite = c.u16().map_err(m)?;
    let compression = c.u8().map_err(m)?;
    let extensions = read_extensions(&mut c)?;
    Ok(ServerHello { version, random, session_id, cipher_suite, compression, extensions })
}

/// The protocol names of an ALPN extension (RFC 7301): a length-prefixed list of
/// length-prefixed names; a malformed tail is dropped.
fn alpn_list(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut c = Cursor::new(data);
    let Ok(n) = c.u16() else { return out };
    let Ok(list) = c.bytes(n as usize) else { return out };
    let mut l = Cursor::new(list);
    while let Ok(len) = l.u8() {
        match l.bytes(len as usize) {
            Ok(p) => out.push(p),
            Err(_) => break,
        }
    }
    out
}

impl<'a> ServerHello<'a> {
    /// The protocol the server selected (ALPN): one name.
    pub fn alpn(&self) -> Vec<&'a [u8]> {
        let ext = self.extensions.iter().find(|e| e.etype == 0x0010);
        ext.map(|e| alpn_list(e.data)).unwrap_or_default()
    }

    /// The negotiated version: supported_versions when present (TLS 1.3), else legacy.
    pub fn negotiated_version(&self) -> u16 {
        self.extensions
            .iter()
            .find(|e| e.etype == 0x002b && e.data.len() == 2)
            .map(|e| u16::from_be_bytes([e.data[0], e.data[1]]))
            .unwrap_or(self.version)
    }

    pub(crate) fn ja3s_string(&self) -> String {
        let exts: Vec<String> = self.extensions.iter().map(|e| e.etype.to_string()).collect();
        format!("{},{},{}", self.version, self.cipher_suite, exts.join("-"))
    }

    /// The JA3S fingerprint (MD5 of the JA3S string).
    pub fn ja3s_hash(&self) -> String {
        hex(&Md5::digest(self.ja3s_string().as_bytes()))
    }
}

/// The DER certificates of a Certificate message (TLS ≤ 1.2 layout).
pub fn parse_certificates(body: &[u8]) -> Result<Vec<&[u8]>, ParseError> {
    let m = |_| ParseError::Malformed("tls.certificate");
    let mut c = Cursor::new(body);
    let l = c.bytes(3).map_err(m)?;
    let total = (l[0] as usize) << 16 | (l[1] as usize) << 8 | l[2] as usize;
    let mut list = Cursor::new(c.bytes(total).map_err(m)?);
    let mut out = Vec::new();
    while list.remaining() > 0 {
        let l = list.bytes(3).map_err(m)?;
        let n = (l[0] as usize) << 16 | (l[1] as usize) << 8 | l[2] as usize;
        out.push(list.bytes(n).map_err(m)?);
    }
    Ok(out)
}

impl HandshakeAssembler {
    /// Reads an SSLv2 ClientHello at the start of the stream (a two-byte header with the
    /// top bit set, message type 1, then the version); returns the bytes it took (0
    /// when the stream does not start with one), `None` while it is incomplete.
    fn sslv2_client_hello(&mut self) -> Option<usize> {
        let r = &self.records;
        if r.first().is_none_or(|b| b & 0x80 == 0) {
            return Some(0);
        }
        if r.len() < 5 {
            return None;
        }
        let len = ((r[0] & 0x7f) as usize) << 8 | r[1] as usize;
        if r[2] != 1 || len < 3 {
            return Some(0);
        }
        if r.len() < 2 + len {
            return None;
        }
        self.sslv2_hello = Some(u16::from_be_bytes([r[3], r[4]]));
        Some(2 + len)
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Collects the handshake bytes of one direction from a TLS byte stream and yields
/// whole handshake messages. Bounded by [`MAX_HANDSHAKE`].
#[derive(Debug, Default)]
pub struct HandshakeAssembler {
    records: Vec<u8>,
    handshake: Vec<u8>,
    /// Set once the stream is not TLS or a bound was hit; nothing more is parsed.
    pub failed: Option<&'static str>,
    /// Application data or an encrypted handshake was reached (TLS 1.3 after the
    /// ServerHello): later records are not handshake in clear.
    pub encrypted: bool,
    /// The version of an SSLv2-framed ClientHello (`0x80 len 01 vv vv ...`) that opened
    /// the stream, as old clients send to reach SSLv3 and TLS 1.0 servers.
    pub sslv2_hello: Option<u16>,
    /// Whether the start of the stream was read: the SSLv2 framing is only read there.
    started: bool,
}

impl HandshakeAssembler {
    /// Bytes held for records and handshake messages not complete yet.
    pub fn held(&self) -> usize {
        self.records.capacity() + self.handshake.capacity()
    }

    /// Feeds stream bytes; calls `on_message(type, body)` for every complete message.
    pub fn feed(&mut self, bytes: &[u8], mut on_message: impl FnMut(u8, &[u8])) {
        if self.failed.is_some() || self.encrypted {
            return;
        }
        self.records.extend_from_slice(bytes);
        let mut consumed = 0;
        if !self.started && !self.records.is_empty() {
            match self.sslv2_client_hello() {
                // An SSLv2 header whose message is not all here yet.
                None => return,
                Some(n) => consumed = n,
            }
            self.started = true;
        }
        loop {
            match parse_record(&self.records[consumed..]) {
                Ok((rec, rest)) => {
                    consumed = self.records.len() - rest.len();
                    match rec.content_type {
                        CONTENT_HANDSHAKE => self.handshake.extend_from_slice(rec.fragment),
                        23 => {
                            self.encrypted = true;
                            break;
                        }
                        20 => {
                            // ChangeCipherSpec: what follows is encrypted.
                            self.encrypted = true;
                            break;
                        }
                        _ => {}
                    }
                }
                Err(ParseError::Incomplete) => break,
                Err(ParseError::Malformed(why)) => {
                    self.failed = Some(why);
                    break;
                }
            }
        }
        self.records.drain(..consumed);
        let mut used = 0;
        loop {
            match parse_handshake(&self.handshake[used..]) {
                Ok((t, body, rest)) => {
                    on_message(t, body);
                    used = self.handshake.len() - rest.len();
                }
                Err(ParseError::Incomplete) => break,
                Err(ParseError::Malformed(why)) => {
                    self.failed = Some(why);
                    break;
                }
            }
        }
        self.handshake.drain(..used);
        if self.records.len() + self.handshake.len() > MAX_HANDSHAKE {
            self.failed = Some("tls.handshake_too_long");
            self.records.clear();
            self.handshake.clear();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ClientHello with GREASE, SNI, ALPN, groups, point formats, signature algorithms
    /// and supported versions.
    pub(crate) fn hello() -> Vec<u8> {
        let mut ext = Vec::new();
        let mut push = |t: u16, d: &[u8]| {
            ext.extend(t.to_be_bytes());
            ext.extend((d.len() as u16).to_be_bytes());
            ext.extend(d);
        };
        push(0x0a0a, &[]);
        let name = b"portal.hue.gov.vn";
        let mut sni = ((name.len() + 3) as u16).to_be_bytes().to_vec();
        sni.push(0);
        sni.extend((name.len() as u16).to_be_bytes());
        sni.extend(name);
        push(0x0000, &sni);
        push(0x000a, &[0, 6, 0x1a, 0x1a, 0, 0x1d, 0, 0x17]);
        push(0x000b, &[1, 0]);
        push(0x000d, &[0, 4, 0x04, 0x03, 0x08, 0x04]);
        push(0x0010, &[0, 3, 2, b'h', b'2']);
        push(0x002b, &[4, 0x03, 0x04, 0x03, 0x03]);
        let mut b = vec![0x03, 0x03];
        b.extend([7u8; 32]);
        b.push(0);
        b.extend([0, 6, 0x2a, 0x2a, 0x13, 0x01, 0xc0, 0x2f]);
        b.extend([1, 0]);
        b.extend((ext.len() as u16).to_be_bytes());
        b.extend(ext);
        b
    }

    #[test]
    fn sslv2_client_hello_gives_its_version_then_records_follow() {
        // `80 0a 01 03 01 ...`: an SSLv2-framed hello for TLS 1.0, in two pieces.
        let v2 = [0x80, 0x0a, 0x01, 0x03, 0x01, 0, 0, 0, 0, 0, 0, 0];
        let mut a = HandshakeAssembler::default();
        let mut n = 0;
        a.feed(&v2[..4], |_, _| n += 1);
        assert_eq!((a.sslv2_hello, a.failed), (None, None));
        a.feed(&v2[4..], |_, _| n += 1);
        assert_eq!((a.sslv2_hello, a.failed), (Some(0x0301), None));
        // A TLS record after it is read as usual.
        a.feed(&[22, 3, 1, 0, 4, 1, 0, 0, 0], |t, _| n += t as usize);
        assert_eq!((n, a.failed), (1, None));
        // A stream starting with a TLS record is not SSLv2.
        let mut b = HandshakeAssembler::default();
        b.feed(&[22, 3, 1, 0, 4, 1, 0, 0, 0], |_, _| {});
        assert_eq!((b.sslv2_hello, b.failed), (None, None));
    }

    #[test]
    fn client_hello_fields_and_fingerprints() {
        let body = hello();
        let ch = parse_client_hello(&body).unwrap();
        assert_eq!(ch.sni(), Some(&b"portal.hue.gov.vn"[..]));
        assert_eq!(ch.alpn(), vec![&b"h2"[..]]);
        assert_eq!(ch.supported_versions(), vec![0x0304, 0x0303]);
        assert_eq!(ch.ja3_string(), "771,4865-49199,0-10-11-13-16-43,29-23,0");
        assert_eq!(ch.ja3_hash().len(), 32);
        let ja4 = ch.ja4();
        // t, TLS 1.3, SNI, 2 ciphers, 6 extensions (GREASE out), ALPN h2.
        assert!(ja4.starts_with("t13d0206h2_"), "{ja4}");
        let expect_b = hex(&Sha256::digest(b"1301,c02f"))[..12].to_string();
        let expect_c = hex(&Sha256::digest(b"000a,000b,000d,002b_0403,0804"))[..12].to_string();
        assert_eq!(ja4, format!("t13d0206h2_{expect_b}_{expect_c}"));
    }

    #[test]
    fn grease() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && !is_grease(0x0a0b) && !is_grease(0x1301));
    }

    #[test]
    fn assembler_across_records_and_segments() {
        let body = hello();
        let mut hs = vec![HS_CLIENT_HELLO];
        hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend(&body);
        // Two records splitting the message, delivered byte by byte.
        let (a, b) = hs.split_at(10);
        let mut stream = Vec::new();
        for part in [a, b] {
            stream.extend([22, 3, 1]);
            stream.extend((part.len() as u16).to_be_bytes());
            stream.extend(part);
        }
        let mut asm = HandshakeAssembler::default();
        let mut got = Vec::new();
        for byte in &stream {
            asm.feed(std::slice::from_ref(byte), |t, b| got.push((t, b.to_vec())));
        }
        assert_eq!(got, vec![(HS_CLIENT_HELLO, body)]);
        assert!(asm.failed.is_none());
        let mut junk = HandshakeAssembler::default();
        junk.feed(b"GET / HTTP/1.1\r\n", |_, _| {});
        assert_eq!(junk.failed, Some("tls.invalid_record_type"));
    }

    #[test]
    fn server_hello_and_certificates() {
        let mut b = vec![0x03, 0x03];
        b.extend([1u8; 32]);
        b.push(0);
        b.extend([0xc0, 0x2f, 0]);
        let mut bad = b.clone();
        bad.extend([0, 9, 0xff, 0x01, 0, 1, 0]); // the list claims more than there is
        assert_eq!(
            parse_server_hello(&bad).unwrap_err(),
            ParseError::Malformed("tls.extensions_length")
        );
        b.extend([0, 5, 0xff, 0x01, 0, 1, 0]);
        let sh = parse_server_hello(&b).unwrap();
        assert_eq!(sh.ja3s_string(), "771,49199,65281");
        let certs = parse_certificates(&[0, 0, 8, 0, 0, 2, 0x30, 0, 0, 0, 0]).unwrap();
        assert_eq!(certs, vec![&[0x30, 0][..], &[][..]]);
        assert!(parse_certificates(&[0, 0, 9, 0, 0, 2]).is_err());
    }
}
