//! The TLS glue of a session: handshake messages of both directions become inspection
//! buffers (SNI, JA3/JA3S/JA4, certificate fields) and the EVE `tls` record.

use gatewatch_rules::signature::{AppProto, Buffer};
use serde::Serialize;

use crate::app::parser::{
    meta, push, AppCx, AppParser, Inspection, Probe, Registration, Sender, TxMeta,
};
use crate::app::records::{text, Record};
use crate::app::{tls, x509};

/// TLS over TCP.
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Tls,
    ports: &[443, 465, 993, 995, 636, 8443],
    needs_port: false,
    probe,
    new: |_| Box::<TlsConn>::default(),
};

/// A handshake record (type 22) of SSL 3.0 to TLS 1.3; a ServerHello (handshake type
/// 2) comes from the server.
fn probe(data: &[u8], _other: &[u8], _port_hint: bool) -> Probe {
    if data.len() < 3 {
        return Probe::NeedMore;
    }
    if data[0] == 0x16 && data[1] == 3 && data[2] <= 4 {
        Probe::Yes(if data.get(5) == Some(&2) { Sender::Server } else { Sender::Client })
    } else {
        Probe::No
    }
}

/// The EVE `tls` record of a session.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct TlsRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) issuerdn: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) subjectaltname: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sni: Option<String>,
    /// The negotiated version (`TLS 1.2`, `TLS 1.3`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) notbefore: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) notafter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ja3: Option<Fingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ja3s: Option<Fingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ja4: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) client_alpns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) server_alpns: Vec<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct Fingerprint {
    pub(crate) hash: String,
    pub(crate) string: String,
}

#[derive(Debug, Default)]
pub(crate) struct TlsConn {
    pub(crate) asm: [tls::HandshakeAssembler; 2],
    pub(crate) rec: TlsRecord,
    /// Request-side buffers kept for the server's inspections.
    pub(crate) client_buffers: Vec<(Buffer, Vec<u8>)>,
    pub(crate) logged: bool,
}

pub(crate) fn tls_version(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        v => format!("0x{v:04x}"),
    }
}

/// `tls.random` and its two parts, from a hello's 32 random bytes.
fn push_random(buffers: &mut Vec<(Buffer, Vec<u8>)>, random: &[u8]) {
    push(buffers, Buffer::TlsRandom, random);
    push(buffers, Buffer::TlsRandomTime, &random[..4.min(random.len())]);
    push(buffers, Buffer::TlsRandomBytes, &random[4.min(random.len())..]);
}

/// Handshake bytes of one direction of a TLS session.
fn tls_bytes(t: &mut TlsConn, d: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
    let mut msgs: Vec<(u8, Vec<u8>)> = Vec::new();
    let was_failed = t.asm[d].failed.is_some();
    t.asm[d].feed(bytes, |ty, body| msgs.push((ty, body.to_vec())));
    if !was_failed && t.asm[d].failed.is_some() {
        cx.counters.tls_errors += 1;
    }
    let mut insp = Inspection::new(d);
    if d == 0 && msgs.is_empty() && t.rec.version.is_none() {
        if let Some(v) = t.asm[0].sslv2_hello {
            t.rec.version = Some(tls_version(v));
            push(&mut insp.buffers, Buffer::SslVersion, v.to_string().as_bytes());
        }
    }
    for (ty, body) in msgs {
        let parsed = match (d, ty) {
            (0, tls::HS_CLIENT_HELLO) => client_hello(t, &body, &mut insp.buffers),
            (1, tls::HS_SERVER_HELLO) => {
                let ok = server_hello(t, &body, &mut insp.buffers);
                cx.counters.tls_handshakes += u64::from(ok);
                ok
            }
            (1, tls::HS_CERTIFICATE) => certificate(t, &body, &mut insp.buffers),
            _ => true,
        };
        if !parsed {
            cx.counters.tls_errors += 1;
        }
    }
    if !insp.buffers.is_empty() {
        if d == 1 {
            // Server-side inspections also see the client's buffers (rules mixing both).
            insp.buffers.extend(t.client_buffers.iter().cloned());
        }
        insp.meta = meta("tls", &t.rec);
        cx.inspect(insp);
    }
    // The handshake in clear is over once the server encrypts.
    if !t.logged && (t.asm[1].encrypted || t.asm[1].failed.is_some()) {
        t.logged = true;
        cx.record(true, Record::Tls(t.rec.clone()));
    }
}

/// A ClientHello: SNI, JA3, JA4, ALPN and version into the record; its buffers
/// into `out`, and those the server side's inspections repeat kept. False when it
/// does not parse.
fn client_hello(t: &mut TlsConn, body: &[u8], out: &mut Vec<(Buffer, Vec<u8>)>) -> bool {
    let Ok(ch) = tls::parse_client_hello(body) else { return false };
    let mut b = Vec::new();
    if let Some(sni) = ch.sni() {
        t.rec.sni = Some(text(sni));
        push(&mut b, Buffer::TlsSni, sni);
    }
    let ja3 = Fingerprint { hash: ch.ja3_hash(), string: ch.ja3_string() };
    push(&mut b, Buffer::Ja3Hash, ja3.hash.as_bytes());
    push(&mut b, Buffer::Ja3String, ja3.string.as_bytes());
    let ja4 = ch.ja4();
    push(&mut b, Buffer::Ja4Hash, ja4.as_bytes());
    t.rec.ja3 = Some(ja3);
    t.rec.ja4 = Some(ja4);
    for a in ch.alpn() {
        push(&mut b, Buffer::TlsAlpn, a);
    }
    t.rec.client_alpns = ch.alpn().iter().map(|a| text(a)).collect();
    t.rec.version.get_or_insert_with(|| tls_version(ch.version));
    out.extend(b.iter().cloned());
    // Not among the client buffers the server's inspections repeat: each side's
    // version is its own.
    push(out, Buffer::SslVersion, ch.version.to_string().as_bytes());
    push_random(out, ch.random);
    t.client_buffers = b;
    true
}

/// A ServerHello: JA3S, ALPN and the negotiated version. False when it does not
/// parse.
fn server_hello(t: &mut TlsConn, body: &[u8], out: &mut Vec<(Buffer, Vec<u8>)>) -> bool {
    let Ok(sh) = tls::parse_server_hello(body) else { return false };
    push_random(out, sh.random);
    let ja3s = Fingerprint { hash: sh.ja3s_hash(), string: sh.ja3s_string() };
    push(out, Buffer::Ja3sHash, ja3s.hash.as_bytes());
    push(out, Buffer::Ja3sString, ja3s.string.as_bytes());
    t.rec.ja3s = Some(ja3s);
    for a in sh.alpn() {
        push(out, Buffer::TlsAlpn, a);
    }
    t.rec.server_alpns = sh.alpn().iter().map(|a| text(a)).collect();
    let v = sh.negotiated_version();
    t.rec.version = Some(tls_version(v));
    let short = match v {
        0x0300 => "ssl3",
        0x0301 => "1.0",
        0x0302 => "1.1",
        0x0303 => "1.2",
        0x0304 => "1.3",
        _ => "",
    };
    push(out, Buffer::TlsVersion, short.as_bytes());
    push(out, Buffer::SslVersion, v.to_string().as_bytes());
    true
}

/// The server's Certificate message: every certificate as a buffer, the chain's
/// length, and the first (the server's own) read for the record. False when that
/// certificate does not parse.
fn certificate(t: &mut TlsConn, body: &[u8], out: &mut Vec<(Buffer, Vec<u8>)>) -> bool {
    let certs = tls::parse_certificates(body).unwrap_or_default();
    for c in &certs {
        push(out, Buffer::TlsCerts, c);
    }
    push(out, Buffer::TlsCertChainLen, certs.len().to_string().as_bytes());
    let Some(first) = certs.first() else { return true };
    let Ok(c) = x509::parse(first) else { return false };
    push(out, Buffer::TlsCertSubject, c.subject.as_bytes());
    push(out, Buffer::TlsCertIssuer, c.issuer.as_bytes());
    push(out, Buffer::TlsCertSerial, c.serial.as_bytes());
    push(out, Buffer::TlsCertFingerprint, c.fingerprint.as_bytes());
    for n in &c.alt_names {
        push(out, Buffer::TlsSubjectAltName, n.as_bytes());
    }
    t.rec.subjectaltname = c.alt_names;
    t.rec.subject = Some(c.subject);
    t.rec.issuerdn = Some(c.issuer);
    t.rec.serial = Some(c.serial);
    t.rec.fingerprint = Some(c.fingerprint);
    t.rec.notbefore = Some(c.not_before);
    t.rec.notafter = Some(c.not_after);
    true
}

impl AppParser for TlsConn {
    fn mem_usage(&self) -> usize {
        let buffers: usize = self.client_buffers.iter().map(|(_, v)| v.capacity() + 32).sum();
        self.asm.iter().map(tls::HandshakeAssembler::held).sum::<usize>() + buffers
    }

    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        tls_bytes(self, dir, bytes, cx);
    }

    fn end(&mut self, cx: &mut AppCx<'_>) {
        if !self.logged && (self.rec.sni.is_some() || self.rec.version.is_some()) {
            self.logged = true;
            cx.record(true, Record::Tls(self.rec.clone()));
        }
    }

    /// After the ChangeCipherSpec or application data of both sides.
    fn encrypted(&self) -> bool {
        self.asm.iter().all(|a| a.encrypted)
    }

    fn session_meta(&self) -> Option<TxMeta> {
        meta("tls", &self.rec)
    }
}
