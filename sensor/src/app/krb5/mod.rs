//! Kerberos 5 (RFC 4120) over UDP and TCP port 88: AS-REQ, AS-REP, TGS-REQ, TGS-REP
//! and KRB-ERROR with their client and service principals, realm, encryption types
//! (DES and RC4 flagged weak) and error codes. One EVE `krb5` record per message, as
//! Suricata writes them. Over TCP each message has a 4-byte length before it.

use gatewatch_rules::signature::{AppProto, Buffer};
use serde::Serialize;

use super::der;
use super::parser::{meta, AppCx, AppParser, Inspection, Probe, Registration, Sender};
use super::records::Record;

/// Kerberos 5 over TCP (length-prefixed messages).
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Krb5,
    ports: &[88],
    needs_port: true,
    probe: probe_tcp,
    new: |_| Box::<Krb5Conn>::default(),
};

const AS_REQ: u32 = 10;
const AS_REP: u32 = 11;
const TGS_REQ: u32 = 12;
const TGS_REP: u32 = 13;
const KRB_ERROR: u32 = 30;
/// Longest message over TCP followed.
const MAX_TCP_MSG: usize = 256 * 1024;

/// The application tag of a message (its first byte), with who sends it.
fn sender_of(first: u8) -> Option<Sender> {
    match first {
        0x6a | 0x6c => Some(Sender::Client),
        0x6b | 0x6d | 0x7e => Some(Sender::Server),
        _ => None,
    }
}

fn probe_tcp(d: &[u8], _other: &[u8], _port_hint: bool) -> Probe {
    if d.len() < 5 {
        return Probe::NeedMore;
    }
    let len = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize;
    match sender_of(d[4]) {
        Some(s) if len <= MAX_TCP_MSG => Probe::Yes(s),
        _ => Probe::No,
    }
}

/// Is this datagram a Kerberos message?
pub fn probe_udp(d: &[u8]) -> bool {
    d.first().and_then(|b| sender_of(*b)).is_some()
}

/// The EVE `krb5` record of one message.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Krb5Record {
    pub(crate) msg_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) failed_request: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error_code: Option<String>,
    pub(crate) cname: String,
    pub(crate) realm: String,
    pub(crate) sname: String,
    pub(crate) encryption: String,
    pub(crate) weak_encryption: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ticket_encryption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ticket_weak_encryption: Option<bool>,
}

/// A parsed message: its record and its message type and error code as numbers.
#[derive(Debug)]
pub struct Message {
    pub(crate) record: Krb5Record,
    pub(crate) msg_type: u32,
    pub(crate) error_code: Option<u32>,
    /// The ticket's encryption type: number, name, weak.
    pub ticket_etype: Option<(i64, String, bool)>,
}

fn msg_name(t: u32) -> &'static str {
    match t {
        AS_REQ => "KRB_AS_REQ",
        AS_REP => "KRB_AS_REP",
        TGS_REQ => "KRB_TGS_REQ",
        TGS_REP => "KRB_TGS_REP",
        KRB_ERROR => "KRB_ERROR",
        14 => "KRB_AP_REQ",
        15 => "KRB_AP_REP",
        _ => "UNKNOWN",
    }
}

/// Encryption type names as Suricata writes them; weak: DES and RC4.
fn etype(e: i64) -> (String, bool) {
    let name = match e {
        1 => "des-cbc-crc",
        2 => "des-cbc-md4",
        3 => "des-cbc-md5",
        16 => "des3-cbc-sha1",
        17 => "aes128-cts-hmac-sha1-96",
        18 => "aes256-cts-hmac-sha1-96",
        19 => "aes128-cts-hmac-sha256-128",
        20 => "aes256-cts-hmac-sha384-192",
        23 => "rc4-hmac",
        24 => "rc4-hmac-exp",
        other => return (format!("unknown-{other}"), false),
    };
    (name.to_string(), matches!(e, 1..=3 | 23 | 24))
}

fn error_name(c: u32) -> String {
    let n = match c {
        1 => "KDC_ERR_NAME_EXP",
        3 => "KDC_ERR_BAD_PVNO",
        6 => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
        7 => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
        12 => "KDC_ERR_POLICY",
        13 => "KDC_ERR_BADOPTION",
        14 => "KDC_ERR_ETYPE_NOSUPP",
        18 => "KDC_ERR_CLIENT_REVOKED",
        23 => "KDC_ERR_KEY_EXPIRED",
        24 => "KDC_ERR_PREAUTH_FAILED",
        25 => "KDC_ERR_PREAUTH_REQUIRED",
        31 => "KRB_AP_ERR_BAD_INTEGRITY",
        32 => "KRB_AP_ERR_TKT_EXPIRED",
        37 => "KRB_AP_ERR_SKEW",
        41 => "KRB_AP_ERR_MODIFIED",
        52 => "KRB_ERR_RESPONSE_TOO_BIG",
        60 => "KRB_ERR_GENERIC",
        68 => "KDC_ERR_WRONG_REALM",
        _ => "",
    };
    if n.is_empty() {
        format!("UNKNOWN_{c}")
    } else {
        n.to_string()
    }
}

/// Parses one message; `None` if it is not a Kerberos message this sensor reads.
pub fn parse(b: &[u8]) -> Option<Message> {
    let (tag, body, _) = der::tlv(b)?;
    let msg_type = match tag {
        0x6a => AS_REQ,
        0x6b => AS_REP,
        0x6c => TGS_REQ,
        0x6d => TGS_REP,
        0x7e => KRB_ERROR,
        _ => return None,
    };
    let (_, seq, _) = der::tlv(body)?;
    let fields = der::context_fields(seq);
    let mut r = Krb5Record { msg_type: msg_name(msg_type), ..Default::default() };
    let mut error_code = None;
    let mut ticket_etype = None;
    match msg_type {
        AS_REQ | TGS_REQ => {
            let req_body = der::context_fields(der::tlv(der::field(&fields, 4)?)?.1);
            r.cname = der::field(&req_body, 1).and_then(principal).unwrap_or("<empty>".into());
            r.realm = der::field(&req_body, 2).and_then(der::string).unwrap_or_default();
            r.sname = der::field(&req_body, 3).and_then(principal).unwrap_or("<empty>".into());
            r.encryption = "<none>".into();
        }
        AS_REP | TGS_REP => {
            r.realm = der::field(&fields, 3).and_then(der::string).unwrap_or_default();
            r.cname = der::field(&fields, 4).and_then(principal).unwrap_or("<empty>".into());
            // Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno, realm, sname, enc-part }
            let ticket = der::field(&fields, 5)
                .and_then(der::tlv)
                .and_then(|(_, t, _)| der::tlv(t))
                .map(|(_, seq, _)| der::context_fields(seq))
                .unwrap_or_default();
            r.sname = der::field(&ticket, 2).and_then(principal).unwrap_or("<empty>".into());
            let tkt_etype = der::field(&ticket, 3).and_then(enc_etype);
            let rep_etype = der::field(&fields, 6).and_then(enc_etype);
            let (e, weak) = rep_etype.map(etype).unwrap_or(("<none>".into(), false));
            r.encryption = e;
            r.weak_encryption = weak;
            if let Some(n) = tkt_etype {
                let (e, weak) = etype(n);
                r.ticket_encryption = Some(e.clone());
                r.ticket_weak_encryption = Some(weak);
                ticket_etype = Some((n, e, weak));
            }
        }
        _ => {
            let code = der::field(&fields, 6).and_then(der::integer).unwrap_or(-1);
            error_code = u32::try_from(code).ok();
            r.error_code =
                Some(error_code.map(error_name).unwrap_or_else(|| format!("UNKNOWN_{code}")));
            r.cname = der::field(&fields, 8).and_then(principal).unwrap_or("<empty>".into());
            r.realm = der::field(&fields, 9).and_then(der::string).unwrap_or_default();
            r.sname = der::field(&fields, 10).and_then(principal).unwrap_or("<empty>".into());
            r.encryption = "<none>".into();
        }
    }
    Some(Message { record: r, msg_type, error_code, ticket_etype })
}

/// A PrincipalName (`SEQUENCE { name-type [0], name-string [1] SEQUENCE OF
/// KerberosString }`) as `part/part`.
fn principal(b: &[u8]) -> Option<String> {
    let (_, seq, _) = der::tlv(b)?;
    let fields = der::context_fields(seq);
    let (_, mut names, _) = der::tlv(der::field(&fields, 1)?)?;
    let mut parts = Vec::new();
    while let Some((_, _, rest)) = der::tlv(names) {
        parts.push(der::string(names)?);
        names = rest;
        if parts.len() > 16 {
            break;
        }
    }
    Some(parts.join("/"))
}

/// The etype of an EncryptedData (`SEQUENCE { etype [0], kvno [1], cipher [2] }`).
fn enc_etype(b: &[u8]) -> Option<i64> {
    let (_, seq, _) = der::tlv(b)?;
    der::integer(der::field(&der::context_fields(seq), 0)?)
}

/// Kerberos on one flow (TCP, or the datagrams of a UDP flow).
#[derive(Debug, Default)]
pub struct Krb5Conn {
    held: [Vec<u8>; 2],
    /// The last request's type, named by an error that answers it.
    last_request: Option<&'static str>,
}

impl Krb5Conn {
    /// One message (a datagram, or a TCP message without its length).
    pub fn message(&mut self, dir: usize, b: &[u8], cx: &mut AppCx<'_>) {
        let Some(mut m) = parse(b) else {
            cx.count("krb5_errors", 1);
            return;
        };
        cx.count("krb5_messages", 1);
        match m.msg_type {
            AS_REQ | TGS_REQ => self.last_request = Some(m.record.msg_type),
            KRB_ERROR => m.record.failed_request = self.last_request.or(Some("UNKNOWN")),
            _ => {}
        }
        let mut insp = Inspection::new(dir);
        insp.push(Buffer::Krb5MsgType, m.msg_type.to_string().as_bytes());
        // As Suricata: one buffer per part of a principal name.
        for part in m.record.cname.split('/') {
            insp.push(Buffer::Krb5Cname, part.as_bytes());
        }
        for part in m.record.sname.split('/') {
            insp.push(Buffer::Krb5Sname, part.as_bytes());
        }
        if let Some(c) = m.error_code {
            insp.push(Buffer::Krb5ErrCode, c.to_string().as_bytes());
        }
        if let Some((n, name, weak)) = &m.ticket_etype {
            insp.push(Buffer::Krb5TicketEncryption, n.to_string().as_bytes());
            insp.push(Buffer::Krb5TicketEncryption, name.as_bytes());
            if *weak {
                insp.push(Buffer::Krb5TicketEncryption, b"weak");
            }
        }
        let weak = m.record.weak_encryption || m.record.ticket_weak_encryption == Some(true);
        if weak {
            insp.push(Buffer::Krb5WeakEncryption, b"1");
        }
        insp.meta = meta("krb5", &m.record);
        cx.inspect(insp);
        cx.record(dir == 0, Record::Krb5(m.record));
    }
}

impl AppParser for Krb5Conn {
    fn mem_usage(&self) -> usize {
        crate::app::parser::held_bytes(&self.held)
    }

    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        self.held[dir].extend_from_slice(bytes);
        loop {
            let h = &self.held[dir];
            if h.len() < 4 {
                return;
            }
            let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
            if len > MAX_TCP_MSG {
                cx.count("krb5_errors", 1);
                self.held[dir].clear();
                return;
            }
            if h.len() < 4 + len {
                return;
            }
            let msg: Vec<u8> = self.held[dir].drain(..4 + len).skip(4).collect();
            self.message(dir, &msg, cx);
        }
    }

    fn datagram(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        self.message(dir, bytes, cx);
    }

    fn gap(&mut self, dir: usize, _cx: &mut AppCx<'_>) {
        self.held[dir].clear();
    }
}

#[cfg(test)]
mod tests;
