//! SIP (RFC 3261) over UDP and TCP port 5060: each request and response becomes a
//! transaction with Suricata's `sip.*` buffers — method, URI, protocol, request and
//! status lines, and the From, To, Via, User-Agent, Content-Type, Content-Length and
//! Server headers (compact names `f`, `t`, `v`, `c`, `l` too) — and an EVE `sip` record.
//! Over TCP a message's body is framed by its Content-Length.

use gatewatch_rules::signature::{AppProto, Buffer};
use serde::Serialize;

use super::parser::{meta, AppCx, AppParser, Inspection, Probe, Registration, Sender};
use super::records::Record;

/// SIP over TCP.
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Sip,
    ports: &[5060],
    needs_port: true,
    probe: probe_tcp,
    new: |_| Box::<SipConn>::default(),
};

/// Longest head followed over TCP; a longer one ends parsing of the direction.
const MAX_HEAD: usize = 64 * 1024;
/// Longest body skipped over TCP.
const MAX_BODY: usize = 1 << 20;

const METHODS: &[&[u8]] = &[
    b"INVITE",
    b"ACK",
    b"BYE",
    b"CANCEL",
    b"REGISTER",
    b"OPTIONS",
    b"PRACK",
    b"SUBSCRIBE",
    b"NOTIFY",
    b"PUBLISH",
    b"INFO",
    b"REFER",
    b"MESSAGE",
    b"UPDATE",
];

/// Who sent a message that starts with `d`, if it is SIP.
fn sender(d: &[u8]) -> Option<Sender> {
    if d.starts_with(b"SIP/2.0 ") {
        return Some(Sender::Server);
    }
    let sp = memchr::memchr(b' ', &d[..d.len().min(16)])?;
    METHODS.contains(&&d[..sp]).then_some(Sender::Client)
}

fn probe_tcp(d: &[u8], _other: &[u8], _port_hint: bool) -> Probe {
    match sender(d) {
        Some(s) => Probe::Yes(s),
        None if d.len() < 16 => Probe::NeedMore,
        None => Probe::No,
    }
}

/// Is this datagram a SIP message?
pub fn probe_udp(d: &[u8]) -> bool {
    sender(d).is_some()
}

/// The EVE `sip` record of one message, as Suricata writes it.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SipRecord {
    /// The request's method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) uri: Option<String>,
    /// `SIP/2.0`.
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request_line: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<String>,
    /// The response's reason phrase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) response_line: Option<String>,
}

/// A parsed message: its record, its buffers and the length of its head.
#[derive(Debug)]
struct Message {
    record: SipRecord,
    buffers: Vec<(Buffer, Vec<u8>)>,
    head_len: usize,
    content_length: usize,
}

/// The header buffer a header name fills.
fn header_buffer(name: &[u8]) -> Option<Buffer> {
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_slice() {
        b"from" | b"f" => Buffer::SipFrom,
        b"to" | b"t" => Buffer::SipTo,
        b"via" | b"v" => Buffer::SipVia,
        b"user-agent" => Buffer::SipUserAgent,
        b"content-type" | b"c" => Buffer::SipContentType,
        b"content-length" | b"l" => Buffer::SipContentLength,
        b"server" => Buffer::SipServer,
        _ => return None,
    })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parses the head of a message (start line and headers, to the blank line).
/// `None`: not complete, or not SIP.
fn parse(d: &[u8]) -> Option<Message> {
    let end = memchr::memmem::find(d, b"\r\n\r\n")
        .map(|e| e + 4)
        .or_else(|| memchr::memmem::find(d, b"\n\n").map(|e| e + 2))?;
    let mut lines = d[..end].split(|c| *c == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let start = lines.next()?;
    let mut m = Message {
        record: SipRecord::default(),
        buffers: Vec::new(),
        head_len: end,
        content_length: 0,
    };
    let mut parts = start.splitn(3, |c| *c == b' ');
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next().unwrap_or_default());
    if a.starts_with(b"SIP/") {
        m.buffers.push((Buffer::SipProtocol, a.to_vec()));
        m.buffers.push((Buffer::SipStatCode, b.to_vec()));
        m.buffers.push((Buffer::SipStatMsg, c.to_vec()));
        m.buffers.push((Buffer::SipResponseLine, start.to_vec()));
        m.record.version = text(a);
        m.record.code = Some(text(b));
        m.record.reason = Some(text(c));
        m.record.response_line = Some(text(start));
    } else {
        if !c.starts_with(b"SIP/") {
            return None;
        }
        m.buffers.push((Buffer::SipMethod, a.to_vec()));
        m.buffers.push((Buffer::SipUri, b.to_vec()));
        m.buffers.push((Buffer::SipProtocol, c.to_vec()));
        m.buffers.push((Buffer::SipRequestLine, start.to_vec()));
        m.record.method = Some(text(a));
        m.record.uri = Some(text(b));
        m.record.version = text(c);
        m.record.request_line = Some(text(start));
    }
    for line in lines {
        let Some(colon) = memchr::memchr(b':', line) else { continue };
        let (name, value) = (line[..colon].trim_ascii(), line[colon + 1..].trim_ascii());
        if let Some(buf) = header_buffer(name) {
            if buf == Buffer::SipContentLength {
                m.content_length = std::str::from_utf8(value).ok()?.parse().unwrap_or(0);
            }
            m.buffers.push((buf, value.to_vec()));
        }
    }
    Some(m)
}

/// The frames of a message (`frame:sip.pdu`, `sip.request.line`, ...): the message,
/// its start line with its line end, its header lines (without the blank line that
/// ends them) and its body.
fn frames(m: &Message, raw: &[u8], request: bool, insp: &mut Inspection) {
    let head = &raw[..m.head_len.min(raw.len())];
    let line_end = memchr::memchr(b'\n', head).map_or(head.len(), |i| i + 1);
    let blank = if head.ends_with(b"\r\n\r\n") { 2 } else { 1 };
    let headers = head.get(line_end..head.len().saturating_sub(blank)).unwrap_or_default();
    let (line, hdrs, body) = if request {
        (Buffer::SipRequestLineFrame, Buffer::SipRequestHeadersFrame, Buffer::SipRequestBodyFrame)
    } else {
        (
            Buffer::SipResponseLineFrame,
            Buffer::SipResponseHeadersFrame,
            Buffer::SipResponseBodyFrame,
        )
    };
    insp.push(Buffer::SipPduFrame, raw);
    insp.push(line, &head[..line_end]);
    insp.push(hdrs, headers);
    if raw.len() > head.len() {
        insp.push(body, &raw[head.len()..]);
    }
}

/// SIP on one connection or UDP flow.
#[derive(Debug, Default)]
pub struct SipConn {
    /// TCP bytes of each direction not parsed yet.
    held: [Vec<u8>; 2],
    /// Body bytes of each direction still to skip.
    skip: [usize; 2],
}

impl SipConn {
    /// One message; `raw` its bytes as far as they came (head, then body).
    fn message(&mut self, dir: usize, m: Message, raw: &[u8], cx: &mut AppCx<'_>) {
        cx.count("sip_messages", 1);
        let mut insp = Inspection::new(dir);
        for (b, v) in &m.buffers {
            insp.push(*b, v);
        }
        frames(&m, raw, dir == 0, &mut insp);
        insp.meta = meta("sip", &m.record);
        cx.inspect(insp);
        cx.record(dir == 0, Record::Sip(m.record));
    }
}

impl AppParser for SipConn {
    fn mem_usage(&self) -> usize {
        crate::app::parser::held_bytes(&self.held)
    }

    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        let mut bytes = bytes;
        let skip = self.skip[dir].min(bytes.len());
        self.skip[dir] -= skip;
        bytes = &bytes[skip..];
        self.held[dir].extend_from_slice(bytes);
        loop {
            let held = &self.held[dir];
            if held.is_empty() {
                return;
            }
            let Some(m) = parse(held) else {
                if held.len() > MAX_HEAD || (held.len() >= 16 && sender(held).is_none()) {
                    cx.count("sip_errors", 1);
                    self.held[dir].clear();
                }
                return;
            };
            let body = m.content_length.min(MAX_BODY);
            let used = (m.head_len + body).min(held.len());
            self.skip[dir] = m.head_len + body - used;
            let raw: Vec<u8> = self.held[dir].drain(..used).collect();
            self.message(dir, m, &raw, cx);
        }
    }

    fn datagram(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        match parse(bytes) {
            Some(m) => self.message(dir, m, bytes, cx),
            None => cx.count("sip_errors", 1),
        }
    }

    fn gap(&mut self, dir: usize, _cx: &mut AppCx<'_>) {
        self.held[dir].clear();
        self.skip[dir] = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffers(m: &Message, b: Buffer) -> Vec<String> {
        m.buffers.iter().filter(|(x, _)| *x == b).map(|(_, v)| text(v)).collect()
    }

    #[test]
    fn a_request_and_a_response_fill_their_buffers() {
        let req = b"REGISTER sip:sip.example.dk SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2\r\nv: SIP/2.0/TCP 10.0.0.3\r\nf: <sip:a@example.dk>\r\nContent-Length: 0\r\nUser-Agent: Phone 2.0\r\n\r\n";
        let m = parse(req).unwrap();
        assert_eq!(buffers(&m, Buffer::SipMethod), ["REGISTER"]);
        assert_eq!(buffers(&m, Buffer::SipUri), ["sip:sip.example.dk"]);
        assert_eq!(buffers(&m, Buffer::SipVia), ["SIP/2.0/UDP 10.0.0.2", "SIP/2.0/TCP 10.0.0.3"]);
        assert_eq!(buffers(&m, Buffer::SipFrom), ["<sip:a@example.dk>"]);
        assert_eq!(buffers(&m, Buffer::SipUserAgent), ["Phone 2.0"]);
        assert_eq!(m.record.request_line.as_deref(), Some("REGISTER sip:sip.example.dk SIP/2.0"));
        let resp = b"SIP/2.0 401 Unauthorized\r\nl: 5\r\n\r\nhello";
        let m = parse(resp).unwrap();
        assert_eq!(buffers(&m, Buffer::SipStatCode), ["401"]);
        assert_eq!(buffers(&m, Buffer::SipStatMsg), ["Unauthorized"]);
        assert_eq!(m.content_length, 5);
        assert!(parse(b"GET / HTTP/1.1\r\n\r\n").is_none());
        assert!(probe_udp(b"INVITE sip:x SIP/2.0\r\n"));
        assert!(!probe_udp(b"\x84\xe7\x01\x10"));
    }

    #[test]
    fn tcp_messages_are_framed_by_content_length_in_any_segmentation() {
        let two = b"SIP/2.0 200 OK\r\nContent-Length: 4\r\n\r\nbodySIP/2.0 180 Ringing\r\n\r\n";
        for cut in 0..two.len() {
            let mut conn = SipConn::default();
            let mut counters = Default::default();
            let mut out = Default::default();
            let mut cx = AppCx { counters: &mut counters, out: &mut out };
            conn.parse(1, &two[..cut], &mut cx);
            conn.parse(1, &two[cut..], &mut cx);
            let codes: Vec<String> = out
                .inspections
                .iter()
                .flat_map(|i| i.buffers.iter())
                .filter(|(b, _)| *b == Buffer::SipStatCode)
                .map(|(_, v)| text(v))
                .collect();
            assert_eq!(codes, ["200", "180"], "cut at {cut}");
        }
    }
}
