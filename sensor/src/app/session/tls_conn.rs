//! The TLS glue of a session: handshake messages of both directions become inspection
//! buffers (SNI, JA3/JA3S/JA4, certificate fields) and the EVE `tls` record.

use gatewatch_rules::signature::Buffer;
use serde::Serialize;

use super::{meta, push, text, AppCounters, AppOutput, Inspection, Record};
use crate::app::{tls, x509};

/// The EVE `tls` record of a session.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct TlsRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuerdn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notbefore: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notafter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3: Option<Fingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3s: Option<Fingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_alpns: Vec<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Fingerprint {
    pub hash: String,
    pub string: String,
}

#[derive(Debug, Default)]
pub(super) struct TlsConn {
    pub(super) asm: [tls::HandshakeAssembler; 2],
    pub(super) rec: TlsRecord,
    /// Request-side buffers kept for the server's inspections.
    pub(super) client_buffers: Vec<(Buffer, Vec<u8>)>,
    pub(super) logged: bool,
}

pub(super) fn tls_version(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        v => format!("0x{v:04x}"),
    }
}

/// Handshake bytes of one direction of a TLS session.
pub(super) fn tls_bytes(
    t: &mut TlsConn,
    d: usize,
    bytes: &[u8],
    counters: &mut AppCounters,
    out: &mut AppOutput,
) {
    let mut msgs: Vec<(u8, Vec<u8>)> = Vec::new();
    let was_failed = t.asm[d].failed.is_some();
    t.asm[d].feed(bytes, |ty, body| msgs.push((ty, body.to_vec())));
    if !was_failed && t.asm[d].failed.is_some() {
        counters.tls_errors += 1;
    }
    let mut insp = Inspection { to_server: d == 0, ..Default::default() };
    for (ty, body) in msgs {
        match (d, ty) {
            (0, tls::HS_CLIENT_HELLO) => {
                let Ok(ch) = tls::parse_client_hello(&body) else {
                    counters.tls_errors += 1;
                    continue;
                };
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
                t.rec.client_alpns = ch.alpn().iter().map(|a| text(a)).collect();
                t.rec.version.get_or_insert_with(|| tls_version(ch.version));
                insp.buffers.extend(b.iter().cloned());
                t.client_buffers = b;
            }
            (1, tls::HS_SERVER_HELLO) => {
                let Ok(sh) = tls::parse_server_hello(&body) else {
                    counters.tls_errors += 1;
                    continue;
                };
                counters.tls_handshakes += 1;
                let ja3s = Fingerprint { hash: sh.ja3s_hash(), string: sh.ja3s_string() };
                push(&mut insp.buffers, Buffer::Ja3sHash, ja3s.hash.as_bytes());
                push(&mut insp.buffers, Buffer::Ja3sString, ja3s.string.as_bytes());
                t.rec.ja3s = Some(ja3s);
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
                push(&mut insp.buffers, Buffer::TlsVersion, short.as_bytes());
            }
            (1, tls::HS_CERTIFICATE) => {
                let certs = tls::parse_certificates(&body).unwrap_or_default();
                for c in &certs {
                    push(&mut insp.buffers, Buffer::TlsCerts, c);
                }
                let Some(first) = certs.first() else { continue };
                match x509::parse(first) {
                    Ok(c) => {
                        push(&mut insp.buffers, Buffer::TlsCertSubject, c.subject.as_bytes());
                        push(&mut insp.buffers, Buffer::TlsCertIssuer, c.issuer.as_bytes());
                        push(&mut insp.buffers, Buffer::TlsCertSerial, c.serial.as_bytes());
                        push(
                            &mut insp.buffers,
                            Buffer::TlsCertFingerprint,
                            c.fingerprint.as_bytes(),
                        );
                        t.rec.subject = Some(c.subject);
                        t.rec.issuerdn = Some(c.issuer);
                        t.rec.serial = Some(c.serial);
                        t.rec.fingerprint = Some(c.fingerprint);
                        t.rec.notbefore = Some(c.not_before);
                        t.rec.notafter = Some(c.not_after);
                    }
                    Err(_) => counters.tls_errors += 1,
                }
            }
            _ => {}
        }
    }
    if !insp.buffers.is_empty() {
        if d == 1 {
            // Server-side inspections also see the client's buffers (rules mixing both).
            insp.buffers.extend(t.client_buffers.iter().cloned());
        }
        insp.meta = meta("tls", &t.rec);
        out.inspections.push(insp);
    }
    // The handshake in clear is over once the server encrypts.
    if !t.logged && (t.asm[1].encrypted || t.asm[1].failed.is_some()) {
        t.logged = true;
        out.records.push((true, Record::Tls(t.rec.clone())));
    }
}
