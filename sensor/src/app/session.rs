//! The application layer of one TCP session: reassembly of both directions, protocol
//! detection by content, and the per-protocol state that turns stream bytes into
//! inspection buffers (for the rules engine) and EVE records.
//!
//! Data is handed to the parsers as soon as it is in order (inline), so an inspection
//! belongs to the packet that completed a message. A direction holding more than
//! [`SessionLimits::max_pending`] bytes out of order gives up on the missing bytes
//! (a counted gap); the HTTP parser of that direction then resynchronises on the next
//! message start.

use std::collections::VecDeque;

use gatewatch_rules::signature::{AppProto, Buffer, Side as BufferSide};
use serde::Serialize;

use super::http::{self, Body, Event, Head, HttpParser, RequestInfo, Side};
use super::{dns, smtp, tls, x509};
use crate::output::eve::DnsBody;
use crate::stream::{Memcap, StreamDir, StreamStats};

/// Bounds of the application layer of one session.
#[derive(Clone, Copy, Debug)]
pub struct SessionLimits {
    /// Bytes of each direction reassembled and parsed (Suricata's `reassembly.depth`).
    pub depth: u64,
    /// Out-of-order bytes held per direction before the gap is given up on.
    pub max_pending: usize,
    /// Bytes looked at to identify the protocol.
    pub probe_bytes: usize,
    pub http: http::Limits,
    /// Bytes of an SMTP message kept for MIME parsing.
    pub smtp_message_limit: usize,
    /// First bytes of each direction handed out as one chunk for content scanning
    /// (YARA); 0 = none. Charged to the reassembly memcap while they accumulate.
    pub scan_depth: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            depth: 1024 * 1024,
            max_pending: 256 * 1024,
            probe_bytes: 4096,
            http: http::Limits::default(),
            smtp_message_limit: 1024 * 1024,
            scan_depth: 0,
        }
    }
}

/// One detection pass asked for by the application layer.
#[derive(Debug, Default)]
pub struct Inspection {
    /// The direction of the message that completed it.
    pub to_server: bool,
    pub buffers: Vec<(Buffer, Vec<u8>)>,
    /// The transaction as alerts of this inspection show it: (`http`, its record).
    pub meta: Option<TxMeta>,
}

/// A transaction under its protocol's name, as alert records carry it.
pub type TxMeta = (&'static str, serde_json::Value);

fn meta<T: Serialize>(name: &'static str, v: &T) -> Option<TxMeta> {
    serde_json::to_value(v).ok().map(|v| (name, v))
}

/// An EVE record produced by the application layer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Record {
    Http(HttpRecord),
    Fileinfo(FileRecord),
    Dns(DnsBody),
    Tls(TlsRecord),
    Ssh(SshRecord),
    /// `smtp` and `email`, side by side as Suricata writes them.
    #[serde(untagged)]
    Smtp(SmtpEvent),
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SmtpEvent {
    #[serde(skip)]
    pub tx_id: u64,
    pub smtp: SmtpRecord,
    pub email: EmailRecord,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SmtpRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helo: Option<String>,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct EmailRecord {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachment: Vec<String>,
}

#[derive(Debug)]
struct SmtpConn {
    parser: smtp::SmtpParser,
    next_tx: u64,
}

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

/// The EVE `ssh` record of a session.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SshRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<SshSide>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<SshSide>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SshSide {
    pub proto_version: String,
    pub software_version: String,
}

#[derive(Debug, Default)]
struct TlsConn {
    asm: [tls::HandshakeAssembler; 2],
    rec: TlsRecord,
    /// Request-side buffers kept for the server's inspections.
    client_buffers: Vec<(Buffer, Vec<u8>)>,
    logged: bool,
}

#[derive(Debug, Default)]
struct SshConn {
    line: [Vec<u8>; 2],
    done: [bool; 2],
    rec: SshRecord,
    logged: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HttpRecord {
    #[serde(skip)]
    pub tx_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_refer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
    pub length: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileRecord {
    pub filename: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic: Option<&'static str>,
    pub gaps: bool,
    pub state: &'static str,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    pub stored: bool,
    pub size: u64,
    pub tx_id: u64,
    /// The bytes kept of the file: content-decoded, up to the body limit. What YARA
    /// scans.
    #[serde(skip)]
    pub data: Vec<u8>,
    /// `data` is the whole file as `sha256` names it (complete, within the limit, not
    /// content-encoded): what a file store may write.
    #[serde(skip)]
    pub storable: bool,
}

/// Bytes on each side of a segment boundary given to stream inspection: a match that
/// spans the boundary and is longer than this on one side is not found.
pub const STREAM_SPAN: usize = 256;

/// What one segment produced.
#[derive(Debug, Default)]
pub struct AppOutput {
    pub inspections: Vec<Inspection>,
    /// The raw stream around this segment's in-order bytes: (up to [`STREAM_SPAN`]
    /// bytes already seen, then the new bytes; where the new bytes start).
    pub stream: Option<(Vec<u8>, usize)>,
    /// The segment carried only bytes already received (a retransmission).
    pub retransmission: bool,
    /// (to server, record): the direction orients the EVE envelope.
    pub records: Vec<(bool, Record)>,
    /// The first [`SessionLimits::scan_depth`] bytes of a direction, (to server, bytes),
    /// once complete or when the direction ends.
    pub scan_chunks: Vec<(bool, Vec<u8>)>,
}

/// Counters of the application layer (all sessions of a worker).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AppCounters {
    pub http_tx: u64,
    pub dns_tcp: u64,
    pub detect_failed: u64,
    pub http_head_too_long: u64,
    pub http_bad_start_line: u64,
    pub http_bad_chunk: u64,
    pub http_decode_failed: u64,
    pub http_junk_bytes: u64,
    pub dns_tcp_errors: u64,
    pub tls_handshakes: u64,
    pub tls_errors: u64,
    pub ssh_banners: u64,
    pub smtp_mails: u64,
    pub smtp_attachments: u64,
    pub smtp_errors: u64,
    /// Stream chunks for content scanning cut short by the reassembly memcap.
    pub scan_chunks_memcap: u64,
}

#[derive(Debug)]
struct HttpTx {
    id: u64,
    request: Option<Box<Head>>,
    request_body: Option<Box<Body>>,
    response: Option<Box<Head>>,
}

#[derive(Debug)]
struct HttpConn {
    req: HttpParser,
    resp: HttpParser,
    txs: VecDeque<HttpTx>,
    next_tx: u64,
}

#[derive(Debug)]
enum Proto {
    /// Not identified yet: the first bytes of each direction.
    Probing([Vec<u8>; 2]),
    Http(Box<HttpConn>),
    Dns([Vec<u8>; 2]),
    Tls(Box<TlsConn>),
    Ssh(Box<SshConn>),
    Smtp(Box<SmtpConn>),
    /// Identified as something not parsed here, or identification gave up.
    Other,
}

/// The application layer of one TCP session.
#[derive(Debug)]
pub struct TcpSession {
    /// [to server, to client].
    streams: [Option<StreamDir>; 2],
    /// Initial sequence numbers from the handshake, +1.
    isn: [Option<u32>; 2],
    /// The last [`STREAM_SPAN`] in-order bytes of each direction.
    tail: [Vec<u8>; 2],
    /// First bytes of each direction for content scanning, until handed out.
    scan: [Vec<u8>; 2],
    scan_done: [bool; 2],
    proto: Proto,
    pub app_proto: Option<AppProto>,
    /// The side that opened the connection is the server (midstream pickup that saw a
    /// response first): application directions are the packet directions swapped.
    pub reversed: bool,
}

impl Default for TcpSession {
    fn default() -> Self {
        TcpSession {
            streams: [None, None],
            isn: [None, None],
            tail: [Vec::new(), Vec::new()],
            scan: [Vec::new(), Vec::new()],
            scan_done: [false, false],
            proto: Proto::Probing([Vec::new(), Vec::new()]),
            app_proto: None,
            reversed: false,
        }
    }
}

impl TcpSession {
    /// Handles one TCP segment of direction `to_server`.
    #[allow(clippy::too_many_arguments)]
    pub fn on_segment(
        &mut self,
        to_server: bool,
        flags: u8,
        seq: u32,
        payload: &[u8],
        dport_53: bool,
        limits: &SessionLimits,
        mem: &mut Memcap,
        counters: &mut AppCounters,
        out: &mut AppOutput,
    ) {
        let d = if to_server { 0 } else { 1 };
        const SYN: u8 = 0x02;
        const FIN: u8 = 0x01;
        const RST: u8 = 0x04;
        if flags & SYN != 0 {
            self.isn[d] = Some(seq.wrapping_add(1));
        }
        let mut bytes = Vec::new();
        // Data on a SYN (TCP Fast Open) starts after the SYN's sequence number.
        let seq = if flags & SYN != 0 { seq.wrapping_add(1) } else { seq };
        if !payload.is_empty() {
            let isn = self.isn[d];
            let stream = self.streams[d]
                .get_or_insert_with(|| StreamDir::new(isn.unwrap_or(seq), limits.depth));
            let before = stream.stats.retransmissions;
            stream.insert(seq, payload, mem);
            out.retransmission = stream.stats.retransmissions > before;
            if stream.pending_bytes() > limits.max_pending {
                stream.skip_gap(mem);
                self.gap(d ^ self.rev());
            }
            bytes = self.streams[d].as_mut().map(|s| s.take(mem)).unwrap_or_default();
        }
        if !bytes.is_empty() {
            let tail = &mut self.tail[d];
            if !tail.is_empty() {
                // Only the bytes around the boundary: a match across it is shorter than
                // STREAM_SPAN on each side.
                let before = &tail[..];
                let after = &bytes[..bytes.len().min(STREAM_SPAN)];
                let mut window = Vec::with_capacity(before.len() + after.len());
                window.extend_from_slice(before);
                window.extend_from_slice(after);
                out.stream = Some((window, before.len()));
            }
            let keep = STREAM_SPAN.min(tail.len() + bytes.len());
            if bytes.len() >= keep {
                tail.clear();
                tail.extend_from_slice(&bytes[bytes.len() - keep..]);
            } else {
                tail.drain(..tail.len() + bytes.len() - keep);
                tail.extend_from_slice(&bytes);
            }
            self.collect_scan(d, &bytes, limits.scan_depth, mem, counters, out);
            self.deliver(d, &bytes, dport_53, limits, counters, out);
        }
        if flags & (FIN | RST) != 0 {
            if let Some(s) = self.streams[d].as_mut() {
                if s.pending_bytes() > 0 {
                    s.skip_gap(mem);
                    let rest = s.take(mem);
                    self.gap(d ^ self.rev());
                    if !rest.is_empty() {
                        self.deliver(d, &rest, dport_53, limits, counters, out);
                    }
                }
            }
            self.close_dir(d ^ self.rev(), counters, out);
            self.flush_scan(d, mem, out);
        }
    }

    fn rev(&self) -> usize {
        self.reversed as usize
    }

    /// Adds in-order bytes of direction `d` to its scan chunk; hands the chunk out when
    /// it reaches `depth`.
    fn collect_scan(
        &mut self,
        d: usize,
        bytes: &[u8],
        depth: usize,
        mem: &mut Memcap,
        counters: &mut AppCounters,
        out: &mut AppOutput,
    ) {
        if depth == 0 || self.scan_done[d] {
            return;
        }
        let take = bytes.len().min(depth - self.scan[d].len());
        if !mem.take(take) {
            counters.scan_chunks_memcap += 1;
            self.flush_scan(d, mem, out);
            return;
        }
        self.scan[d].extend_from_slice(&bytes[..take]);
        if self.scan[d].len() >= depth {
            self.flush_scan(d, mem, out);
        }
    }

    /// Hands out the scan chunk of direction `d` (if any); no more is collected.
    fn flush_scan(&mut self, d: usize, mem: &mut Memcap, out: &mut AppOutput) {
        self.scan_done[d] = true;
        let chunk = std::mem::take(&mut self.scan[d]);
        mem.give(chunk.len());
        if !chunk.is_empty() {
            out.scan_chunks.push(((d ^ self.rev()) == 0, chunk));
        }
    }

    /// Reassembly counters of both directions.
    pub fn stream_stats(&self) -> [StreamStats; 2] {
        [0, 1].map(|d| self.streams[d].as_ref().map(|s| s.stats).unwrap_or_default())
    }

    /// The flow ends: pending messages are reported, memory is released.
    pub fn end(&mut self, mem: &mut Memcap, counters: &mut AppCounters, out: &mut AppOutput) {
        self.close_dir(1, counters, out);
        self.close_dir(0, counters, out);
        if let Proto::Http(h) = &mut self.proto {
            for e in [h.req.errors, h.resp.errors] {
                counters.http_head_too_long += e.head_too_long;
                counters.http_bad_start_line += e.bad_start_line;
                counters.http_bad_chunk += e.bad_chunk;
                counters.http_decode_failed += e.decode_failed;
                counters.http_junk_bytes += e.junk_bytes;
            }
            while let Some(tx) = h.txs.pop_front() {
                if let Some(rec) = http_record(&tx, None, None) {
                    out.records.push((true, Record::Http(rec)));
                }
            }
        }
        match &mut self.proto {
            Proto::Tls(t) if !t.logged && (t.rec.sni.is_some() || t.rec.version.is_some()) => {
                t.logged = true;
                out.records.push((true, Record::Tls(t.rec.clone())));
            }
            Proto::Ssh(sh)
                if !sh.logged && (sh.rec.client.is_some() || sh.rec.server.is_some()) =>
            {
                sh.logged = true;
                out.records.push((true, Record::Ssh(sh.rec.clone())));
            }
            _ => {}
        }
        for s in self.streams.iter_mut().flatten() {
            s.release(mem);
        }
        for d in 0..2 {
            self.flush_scan(d, mem, out);
        }
    }

    fn gap(&mut self, d: usize) {
        if let Proto::Http(h) = &mut self.proto {
            // The message in progress cannot be completed; the parser resynchronises on
            // the next message start.
            let p = if d == 0 { &mut h.req } else { &mut h.resp };
            let mut ev = Vec::new();
            p.close(&mut ev);
        }
    }

    fn close_dir(&mut self, d: usize, counters: &mut AppCounters, out: &mut AppOutput) {
        if let (Proto::Smtp(m), 0) = (&mut self.proto, d) {
            let mut mails = Vec::new();
            m.parser.close(&mut mails);
            smtp_mails(m, mails, counters, out);
        }
        if let Proto::Http(h) = &mut self.proto {
            let mut ev = Vec::new();
            if d == 0 {
                h.req.close(&mut ev);
            } else {
                h.resp.close(&mut ev);
            }
            http_events(h, d == 0, ev, counters, out);
        }
    }

    fn deliver(
        &mut self,
        d: usize,
        bytes: &[u8],
        dport_53: bool,
        limits: &SessionLimits,
        counters: &mut AppCounters,
        out: &mut AppOutput,
    ) {
        if let Proto::Probing(probe) = &mut self.proto {
            let room = limits.probe_bytes.saturating_sub(probe[d].len());
            probe[d].extend_from_slice(&bytes[..room.min(bytes.len())]);
            let app = match detect(probe, dport_53) {
                Detected::Wait if probe[0].len() + probe[1].len() < 2 * limits.probe_bytes => {
                    return;
                }
                Detected::Wait | Detected::Unknown => {
                    counters.detect_failed += 1;
                    self.proto = Proto::Other;
                    return;
                }
                Detected::Known(app) => app,
            };
            let mut pending = std::mem::take(probe);
            if app == AppProto::Http {
                let response_first =
                    http::looks_like_response(&pending[0]) == Some(true) && pending[1].is_empty();
                let request_back =
                    http::looks_like_request(&pending[1]) == Some(true) && pending[0].is_empty();
                if response_first || request_back {
                    self.reversed = true;
                    pending.swap(0, 1);
                }
            }
            self.app_proto = Some(app);
            self.proto = match app {
                AppProto::Http => Proto::Http(Box::new(HttpConn {
                    req: HttpParser::new(Side::Request, limits.http),
                    resp: HttpParser::new(Side::Response, limits.http),
                    txs: VecDeque::new(),
                    next_tx: 0,
                })),
                AppProto::Dns => Proto::Dns([Vec::new(), Vec::new()]),
                AppProto::Tls => Proto::Tls(Box::default()),
                AppProto::Ssh => Proto::Ssh(Box::default()),
                AppProto::Smtp => Proto::Smtp(Box::new(SmtpConn {
                    parser: smtp::SmtpParser::new(limits.smtp_message_limit),
                    next_tx: 0,
                })),
            };
            // Replay what was held while probing (the current bytes are in it), then
            // what did not fit.
            for (dir, data) in pending.iter().enumerate() {
                if !data.is_empty() {
                    self.parse(dir, data, counters, out);
                }
            }
            if bytes.len() > room {
                self.parse(d ^ self.rev(), &bytes[room..], counters, out);
            }
            return;
        }
        self.parse(d ^ self.rev(), bytes, counters, out);
    }

    fn parse(&mut self, d: usize, bytes: &[u8], counters: &mut AppCounters, out: &mut AppOutput) {
        match &mut self.proto {
            Proto::Http(h) => {
                let mut ev = Vec::new();
                if d == 0 {
                    h.req.feed(bytes, RequestInfo::default, &mut ev);
                } else {
                    // The k-th response head answers the k-th transaction without one.
                    let mut k =
                        h.txs.iter().position(|t| t.response.is_none()).unwrap_or(h.txs.len());
                    let txs = &h.txs;
                    h.resp.feed(
                        bytes,
                        || {
                            let info =
                                txs.get(k).and_then(|t| t.request.as_ref()).map(|r| RequestInfo {
                                    head_method: r.parts[0].eq_ignore_ascii_case(b"HEAD"),
                                    connect: r.parts[0].eq_ignore_ascii_case(b"CONNECT"),
                                });
                            k += 1;
                            info.unwrap_or_default()
                        },
                        &mut ev,
                    );
                }
                http_events(h, d == 0, ev, counters, out);
            }
            Proto::Dns(bufs) => {
                let buf = &mut bufs[d];
                buf.extend_from_slice(bytes);
                let mut used = 0;
                loop {
                    match dns::split_tcp(&buf[used..]) {
                        Ok((msg, rest)) => {
                            used = buf.len() - rest.len();
                            match dns::parse_message(msg) {
                                Ok(m) => {
                                    counters.dns_tcp += 1;
                                    let mut insp =
                                        Inspection { to_server: d == 0, ..Default::default() };
                                    if !m.is_response() {
                                        for q in &m.questions {
                                            insp.buffers.push((Buffer::DnsQuery, q.name.clone()));
                                        }
                                    }
                                    let body = DnsBody::from_message(&m, 0);
                                    insp.meta = meta("dns", &body);
                                    out.inspections.push(insp);
                                    out.records.push((d == 0, Record::Dns(body)));
                                }
                                Err(_) => counters.dns_tcp_errors += 1,
                            }
                        }
                        Err(super::ParseError::Incomplete) => break,
                        Err(super::ParseError::Malformed(_)) => {
                            counters.dns_tcp_errors += 1;
                            used = buf.len();
                            break;
                        }
                    }
                }
                buf.drain(..used);
                if buf.len() > 70_000 {
                    buf.clear();
                }
            }
            Proto::Tls(t) => tls_bytes(t, d, bytes, counters, out),
            Proto::Ssh(sh) => ssh_bytes(sh, d, bytes, counters, out),
            Proto::Smtp(m) if d == 0 => {
                let mut mails = Vec::new();
                m.parser.feed(bytes, &mut mails);
                smtp_mails(m, mails, counters, out);
            }
            Proto::Smtp(_) => {}
            Proto::Probing(_) | Proto::Other => {}
        }
    }
}

/// Finished mail transactions: inspection (envelope and attachments), `smtp` record,
/// one `fileinfo` per attachment.
fn smtp_mails(
    m: &mut SmtpConn,
    mails: Vec<smtp::Mail>,
    counters: &mut AppCounters,
    out: &mut AppOutput,
) {
    counters.smtp_errors += std::mem::take(&mut m.parser.errors);
    for mail in mails {
        let tx_id = m.next_tx;
        m.next_tx += 1;
        counters.smtp_mails += 1;
        let mut insp = Inspection { to_server: true, ..Default::default() };
        if let Some(h) = &mail.helo {
            push(&mut insp.buffers, Buffer::SmtpHelo, h);
        }
        push(&mut insp.buffers, Buffer::SmtpMailFrom, &mail.mail_from);
        for r in &mail.rcpt_to {
            push(&mut insp.buffers, Buffer::SmtpRcptTo, r);
        }
        let ev = SmtpEvent {
            tx_id,
            smtp: SmtpRecord {
                helo: mail.helo.as_deref().map(text),
                mail_from: format!("<{}>", text(&mail.mail_from)),
                rcpt_to: mail.rcpt_to.iter().map(|r| format!("<{}>", text(r))).collect(),
            },
            email: EmailRecord {
                status: if mail.truncated { "PARSE_INCOMPLETE" } else { "PARSE_DONE" },
                from: mail.from.clone(),
                to: mail.to.clone(),
                subject: mail.subject.clone(),
                attachment: mail.attachments.iter().map(|a| a.filename.clone()).collect(),
            },
        };
        insp.meta = meta("smtp", &ev.smtp);
        for a in &mail.attachments {
            counters.smtp_attachments += 1;
            push(&mut insp.buffers, Buffer::FileData, &a.data);
            out.records.push((
                true,
                Record::Fileinfo(file_of(&a.filename, &a.data, tx_id, mail.truncated)),
            ));
        }
        out.inspections.push(insp);
        out.records.push((true, Record::Smtp(ev)));
    }
}

/// The `fileinfo` record of a file held whole in memory.
fn file_of(filename: &str, data: &[u8], tx_id: u64, truncated: bool) -> FileRecord {
    use md5::Digest as _;
    FileRecord {
        filename: filename.to_string(),
        magic: magic(data),
        gaps: truncated,
        state: if truncated { "TRUNCATED" } else { "CLOSED" },
        md5: http::hex(&md5::Md5::digest(data)),
        sha1: http::hex(&sha1::Sha1::digest(data)),
        sha256: http::hex(&sha2::Sha256::digest(data)),
        stored: false,
        size: data.len() as u64,
        tx_id,
        data: data.to_vec(),
        storable: !truncated,
    }
}

fn tls_version(v: u16) -> String {
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
fn tls_bytes(
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

/// Banner bytes of one direction of an SSH session.
fn ssh_bytes(
    sh: &mut SshConn,
    d: usize,
    bytes: &[u8],
    counters: &mut AppCounters,
    out: &mut AppOutput,
) {
    if sh.done[d] {
        return;
    }
    let room = 255usize.saturating_sub(sh.line[d].len());
    sh.line[d].extend_from_slice(&bytes[..room.min(bytes.len())]);
    let Some(nl) = memchr::memchr(b'\n', &sh.line[d]) else {
        if sh.line[d].len() >= 255 {
            sh.done[d] = true;
        }
        return;
    };
    sh.done[d] = true;
    let line = sh.line[d][..nl].strip_suffix(b"\r").unwrap_or(&sh.line[d][..nl]).to_vec();
    let Some(rest) = line.strip_prefix(b"SSH-") else { return };
    let dash = memchr::memchr(b'-', rest).unwrap_or(rest.len());
    let proto = &rest[..dash];
    let sw = rest.get(dash + 1..).unwrap_or_default();
    let sw = sw.split(|c| *c == b' ').next().unwrap_or_default();
    counters.ssh_banners += 1;
    let mut insp = Inspection { to_server: d == 0, ..Default::default() };
    push(&mut insp.buffers, Buffer::SshProto, proto);
    push(&mut insp.buffers, Buffer::SshSoftware, sw);
    let side = SshSide { proto_version: text(proto), software_version: text(sw) };
    if d == 0 {
        sh.rec.client = Some(side);
    } else {
        sh.rec.server = Some(side);
    }
    insp.meta = meta("ssh", &sh.rec);
    out.inspections.push(insp);
    if sh.done[0] && sh.done[1] && !sh.logged {
        sh.logged = true;
        out.records.push((true, Record::Ssh(sh.rec.clone())));
    }
}

/// Applies parser events to the transactions of a connection.
fn http_events(
    h: &mut HttpConn,
    request_side: bool,
    events: Vec<Event>,
    counters: &mut AppCounters,
    out: &mut AppOutput,
) {
    for ev in events {
        match (request_side, ev) {
            (true, Event::Head(head)) => {
                let id = h.next_tx;
                h.next_tx += 1;
                counters.http_tx += 1;
                h.txs.push_back(HttpTx {
                    id,
                    request: Some(head),
                    request_body: None,
                    response: None,
                });
            }
            (true, Event::Done(body)) => {
                let Some(tx) = h.txs.iter_mut().rev().find(|t| t.request.is_some()) else {
                    continue;
                };
                let mut insp = Inspection { to_server: true, ..Default::default() };
                if let Some(req) = &tx.request {
                    request_buffers(req, Some(&body), true, &mut insp.buffers);
                }
                insp.meta = http_record(tx, None, None).and_then(|r| meta("http", &r));
                tx.request_body = Some(body);
                out.inspections.push(insp);
            }
            (false, Event::Head(head)) => {
                match h.txs.iter_mut().find(|t| t.response.is_none()) {
                    Some(tx) => tx.response = Some(head),
                    None => {
                        // A response without a request (midstream pickup).
                        let id = h.next_tx;
                        h.next_tx += 1;
                        counters.http_tx += 1;
                        h.txs.push_back(HttpTx {
                            id,
                            request: None,
                            request_body: None,
                            response: Some(head),
                        });
                    }
                }
            }
            (false, Event::Done(body)) => {
                let Some(pos) = h.txs.iter().position(|t| t.response.is_some()) else { continue };
                let Some(tx) = h.txs.remove(pos) else { continue };
                let mut insp = Inspection { to_server: false, ..Default::default() };
                if let Some(req) = &tx.request {
                    request_buffers(req, None, false, &mut insp.buffers);
                }
                if let Some(resp) = &tx.response {
                    response_buffers(resp, &body, &mut insp.buffers);
                }
                let rec = http_record(&tx, tx.response.as_deref(), Some(&body));
                insp.meta = rec.as_ref().and_then(|r| meta("http", r));
                out.inspections.push(insp);
                if let Some(rec) = rec {
                    out.records.push((true, Record::Http(rec)));
                }
                if body.size > 0 {
                    out.records.push((false, Record::Fileinfo(file_record(&tx, &body))));
                }
            }
        }
    }
}

fn push(out: &mut Vec<(Buffer, Vec<u8>)>, b: Buffer, v: &[u8]) {
    out.push((b, v.to_vec()));
}

/// Headers as `Name: value\r\n` lines followed by `\r\n`.
fn header_buffers(head: &Head, out: &mut Vec<(Buffer, Vec<u8>)>, per_header: Buffer) {
    let mut all = Vec::new();
    let mut names = b"\r\n".to_vec();
    for (n, v) in &head.headers {
        let mut line = n.clone();
        line.extend_from_slice(b": ");
        line.extend_from_slice(v);
        all.extend_from_slice(&line);
        all.extend_from_slice(b"\r\n");
        names.extend_from_slice(n);
        names.extend_from_slice(b"\r\n");
        out.push((per_header, line));
    }
    all.extend_from_slice(b"\r\n");
    names.extend_from_slice(b"\r\n");
    out.push((Buffer::HttpHeader, all));
    out.push((Buffer::HttpHeaderNames, names));
    push(out, Buffer::HttpHeaderRaw, &head.raw_headers);
    push(out, Buffer::HttpStart, &head.raw);
    push(
        out,
        Buffer::HttpProtocol,
        if per_header == Buffer::HttpRequestHeader { &head.parts[2] } else { &head.parts[0] },
    );
    for (name, b) in [
        ("Content-Type", Buffer::HttpContentType),
        ("Content-Length", Buffer::HttpContentLen),
        ("Connection", Buffer::HttpConnection),
    ] {
        if let Some(v) = head.header(name) {
            push(out, b, v);
        }
    }
}

/// The buffers of a request. `with_either`: also the buffers that exist in both
/// directions (inspected with the request); without it, only request-only buffers,
/// for a rule that also needs the response.
fn request_buffers(
    req: &Head,
    body: Option<&Body>,
    with_either: bool,
    out: &mut Vec<(Buffer, Vec<u8>)>,
) {
    push(out, Buffer::HttpMethod, &req.parts[0]);
    push(out, Buffer::HttpUriRaw, &req.parts[1]);
    out.push((Buffer::HttpUri, http::normalize_uri(&req.parts[1])));
    push(out, Buffer::HttpRequestLine, &req.start_line);
    for (name, b) in [
        ("User-Agent", Buffer::HttpUserAgent),
        ("Accept", Buffer::HttpAccept),
        ("Accept-Encoding", Buffer::HttpAcceptEnc),
        ("Accept-Language", Buffer::HttpAcceptLang),
        ("Referer", Buffer::HttpReferer),
    ] {
        if let Some(v) = req.header(name) {
            push(out, b, v);
        }
    }
    if let Some(h) = req.header("Host") {
        push(out, Buffer::HttpHostRaw, h);
        out.push((Buffer::HttpHost, http::normalize_host(h)));
    }
    if let Some(b) = body.filter(|b| b.size > 0) {
        push(out, Buffer::HttpRequestBody, &b.data);
    }
    if with_either {
        header_buffers(req, out, Buffer::HttpRequestHeader);
        if let Some(c) = req.header_joined("Cookie") {
            out.push((Buffer::HttpCookie, c));
        }
        if let Some(b) = body.filter(|b| b.size > 0) {
            push(out, Buffer::FileData, &b.data);
        }
    } else {
        // Request headers one by one stay available to a response-side rule.
        for (n, v) in &req.headers {
            let mut line = n.clone();
            line.extend_from_slice(b": ");
            line.extend_from_slice(v);
            out.push((Buffer::HttpRequestHeader, line));
        }
    }
    debug_assert!(out.iter().all(|(b, _)| with_either || b.side() == BufferSide::Request));
}

fn response_buffers(resp: &Head, body: &Body, out: &mut Vec<(Buffer, Vec<u8>)>) {
    push(out, Buffer::HttpStatCode, &resp.parts[1]);
    push(out, Buffer::HttpStatMsg, &resp.parts[2]);
    push(out, Buffer::HttpResponseLine, &resp.start_line);
    header_buffers(resp, out, Buffer::HttpResponseHeader);
    if let Some(c) = resp.header_joined("Set-Cookie") {
        out.push((Buffer::HttpCookie, c));
    }
    for (name, b) in [("Location", Buffer::HttpLocation), ("Server", Buffer::HttpServer)] {
        if let Some(v) = resp.header(name) {
            push(out, b, v);
        }
    }
    if body.size > 0 {
        push(out, Buffer::FileData, &body.data);
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn http_record(tx: &HttpTx, resp: Option<&Head>, body: Option<&Body>) -> Option<HttpRecord> {
    let req = tx.request.as_deref();
    if req.is_none() && resp.is_none() {
        return None;
    }
    let rh = |n: &str| req.and_then(|r| r.header(n)).map(text);
    Some(HttpRecord {
        tx_id: tx.id,
        hostname: req.and_then(|r| r.header("Host")).map(|h| text(&http::normalize_host(h))),
        url: req.map(|r| text(&r.parts[1])),
        http_user_agent: rh("User-Agent"),
        http_content_type: resp.and_then(|r| r.header("Content-Type")).map(text),
        http_refer: rh("Referer"),
        http_method: req.map(|r| text(&r.parts[0])),
        protocol: req.map(|r| text(&r.parts[2])).or_else(|| resp.map(|r| text(&r.parts[0]))),
        status: resp.and_then(|r| r.status()),
        redirect: resp.and_then(|r| r.header("Location")).map(text),
        length: body.map_or(0, |b| b.size),
    })
}

fn file_record(tx: &HttpTx, body: &Body) -> FileRecord {
    let filename = tx
        .request
        .as_ref()
        .map(|r| {
            let uri = &r.parts[1];
            let path = uri.split(|c| *c == b'?').next().unwrap_or_default();
            text(path)
        })
        .unwrap_or_default();
    FileRecord {
        filename,
        magic: magic(&body.data),
        gaps: body.incomplete,
        state: if body.incomplete { "TRUNCATED" } else { "CLOSED" },
        md5: body.md5.clone(),
        sha1: body.sha1.clone(),
        sha256: body.sha256.clone(),
        stored: false,
        size: body.size,
        tx_id: tx.id,
        data: body.data.clone(),
        storable: !body.incomplete && !body.truncated && !body.decoded,
    }
}

/// A short description of a file's type from its first bytes.
pub fn magic(data: &[u8]) -> Option<&'static str> {
    const SIGS: &[(&[u8], &str)] = &[
        (b"MZ", "PE32 executable (MS Windows)"),
        (b"\x7fELF", "ELF executable"),
        (b"%PDF-", "PDF document"),
        (b"PK\x03\x04", "Zip archive data"),
        (b"\x1f\x8b", "gzip compressed data"),
        (b"\x89PNG\r\n\x1a\n", "PNG image data"),
        (b"\xff\xd8\xff", "JPEG image data"),
        (b"GIF8", "GIF image data"),
        (b"Rar!\x1a\x07", "RAR archive data"),
        (b"7z\xbc\xaf\x27\x1c", "7-zip archive data"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Composite Document File V2 Document"),
        (b"{\\rtf", "Rich Text Format data"),
        (b"#!", "script text executable"),
    ];
    for (sig, name) in SIGS {
        if data.starts_with(sig) {
            return Some(name);
        }
    }
    let head = &data[..data.len().min(256)];
    let lower = head.to_ascii_lowercase();
    if memchr::memmem::find(&lower, b"<html").is_some()
        || memchr::memmem::find(&lower, b"<!doctype html").is_some()
    {
        return Some("HTML document, ASCII text");
    }
    if lower.starts_with(b"<?xml") {
        return Some("XML document text");
    }
    if lower.first().is_some_and(|c| *c == b'{' || *c == b'[') && head.is_ascii() {
        return Some("JSON data");
    }
    if !head.is_empty() && head.iter().all(|c| c.is_ascii_graphic() || c.is_ascii_whitespace()) {
        return Some("ASCII text");
    }
    None
}

enum Detected {
    Wait,
    Unknown,
    Known(AppProto),
}

/// Identifies the protocol from the first bytes of each direction.
fn detect(probe: &[Vec<u8>; 2], port_53: bool) -> Detected {
    let mut waiting = false;
    for data in probe.iter().filter(|d| !d.is_empty()) {
        match (http::looks_like_request(data), http::looks_like_response(data)) {
            (Some(true), _) | (_, Some(true)) => return Detected::Known(AppProto::Http),
            (None, _) | (_, None) => waiting = true,
            _ => {}
        }
        if data.len() >= 3 && data[0] == 0x16 && data[1] == 3 && data[2] <= 4 {
            return Detected::Known(AppProto::Tls);
        }
        if data.starts_with(b"SSH-") {
            return Detected::Known(AppProto::Ssh);
        }
        if data.len() < 4 {
            waiting = true;
        }
    }
    if port_53 {
        if let Some(d) = probe.iter().find(|d| d.len() >= 2) {
            let len = u16::from_be_bytes([d[0], d[1]]) as usize;
            if len >= 12 {
                if d.len() < 2 + 12 {
                    return Detected::Wait;
                }
                // A DNS header: at most a few questions.
                let qd = u16::from_be_bytes([d[6], d[7]]);
                if qd <= 16 {
                    return Detected::Known(AppProto::Dns);
                }
            }
        }
    }
    // SMTP: the client's greeting (a `220` banner alone is also FTP's).
    let smtp_client = probe[0].len() >= 5
        && (probe[0][..5].eq_ignore_ascii_case(b"EHLO ")
            || probe[0][..5].eq_ignore_ascii_case(b"HELO "));
    if smtp_client {
        return Detected::Known(AppProto::Smtp);
    }
    if waiting || probe[0].is_empty() || probe[1].is_empty() {
        Detected::Wait
    } else {
        Detected::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(segs: &[(bool, u8, u32, &[u8])]) -> (TcpSession, Vec<AppOutput>, AppCounters) {
        let mut s = TcpSession::default();
        let mut mem = Memcap::new(1 << 20);
        let mut c = AppCounters::default();
        let limits = SessionLimits::default();
        let outs = segs
            .iter()
            .map(|(ts, f, seq, data)| {
                let mut out = AppOutput::default();
                s.on_segment(*ts, *f, *seq, data, false, &limits, &mut mem, &mut c, &mut out);
                out
            })
            .collect();
        (s, outs, c)
    }

    fn has(insp: &Inspection, b: Buffer, v: &[u8]) -> bool {
        insp.buffers.iter().any(|(x, d)| *x == b && d == v)
    }

    #[test]
    fn http_out_of_order_request_then_response() {
        let req = b"GET /a/../x%41?q=1 HTTP/1.1\r\nHost: WWW.Ex.org:8080\r\nUser-Agent: ua\r\n\r\n";
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/html\r\n\r\nhello";
        let (s, outs, c) = run(&[
            (true, 0x02, 999, b""),
            (false, 0x12, 4999, b""),
            // Second half first.
            (true, 0x18, 1010, &req[10..]),
            (true, 0x18, 1000, &req[..10]),
            (false, 0x18, 5000, resp),
        ]);
        assert_eq!(s.app_proto, Some(AppProto::Http));
        assert!(outs[2].inspections.is_empty());
        let r = &outs[3].inspections[0];
        assert!(has(r, Buffer::HttpUri, b"/xA?q=1"));
        assert!(has(r, Buffer::HttpHost, b"www.ex.org"));
        assert!(has(r, Buffer::HttpUserAgent, b"ua"));
        assert!(has(r, Buffer::HttpHeaderNames, b"\r\nHost\r\nUser-Agent\r\n\r\n"));
        let p = &outs[4].inspections[0];
        assert!(has(p, Buffer::HttpStatCode, b"200"));
        assert!(has(p, Buffer::FileData, b"hello"));
        assert!(has(p, Buffer::HttpMethod, b"GET"));
        // Response-time inspections carry no request buffers of both directions.
        assert!(!p.buffers.iter().any(|(b, d)| *b == Buffer::HttpHeader && d.starts_with(b"Host")));
        let recs: Vec<_> = outs[4].records.iter().map(|(_, r)| r).collect();
        match recs[0] {
            Record::Http(h) => {
                assert_eq!(h.status, Some(200));
                assert_eq!(h.hostname.as_deref(), Some("www.ex.org"));
                assert_eq!(h.length, 5);
            }
            other => panic!("{other:?}"),
        }
        match recs[1] {
            Record::Fileinfo(f) => {
                assert_eq!(
                    f.sha256,
                    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
                );
                assert_eq!(f.filename, "/a/../x%41");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.http_tx, 1);
    }

    #[test]
    fn midstream_response_first_reverses_directions() {
        let resp: &[u8] = b"HTTP/1.0 200 OK\r\n\r\nbody";
        let (mut s, _, mut c) = run(&[(true, 0x18, 7, resp)]);
        assert!(s.reversed);
        let mut out = AppOutput::default();
        s.end(&mut Memcap::new(1 << 20), &mut c, &mut out);
        let insp = &out.inspections[0];
        assert!(!insp.to_server);
        assert!(has(insp, Buffer::HttpStatCode, b"200"));
        assert!(has(insp, Buffer::FileData, b"body"));
    }

    #[test]
    fn stream_window_keeps_a_bounded_tail() {
        let a = vec![b'a'; 3000];
        let (_, outs, _) =
            run(&[(true, 0x18, 1, &a), (true, 0x18, 3001, b"bcd"), (true, 0x18, 3001, b"bcd")]);
        assert!(outs[0].stream.is_none());
        let (w, k) = outs[1].stream.as_ref().unwrap();
        assert_eq!(*k, STREAM_SPAN);
        assert_eq!(&w[k - 2..], b"aabcd");
        assert!(outs[2].retransmission);
        assert!(outs[2].stream.is_none());
    }

    #[test]
    fn retransmission_does_not_inspect_twice() {
        let req: &[u8] = b"GET / HTTP/1.1\r\n\r\n";
        let (_, outs, c) = run(&[(true, 0x18, 1, req), (true, 0x18, 1, req)]);
        assert_eq!(outs[0].inspections.len(), 1);
        assert!(outs[1].inspections.is_empty());
        assert_eq!(c.http_tx, 1);
    }

    #[test]
    fn unknown_protocols_give_up_after_the_probe() {
        let (s, _, c) = run(&[(true, 0x18, 1, &[0u8; 5000]), (false, 0x18, 1, &[1u8; 5000])]);
        assert_eq!(s.app_proto, None);
        assert_eq!(c.detect_failed, 1);
    }

    /// A handshake message in a TLS record.
    fn record(hs_type: u8, body: &[u8]) -> Vec<u8> {
        let mut hs = vec![hs_type];
        hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend(body);
        let mut r = vec![22, 3, 1];
        r.extend((hs.len() as u16).to_be_bytes());
        r.extend(hs);
        r
    }

    #[test]
    fn tls_handshake_buffers_and_record() {
        let ch = record(1, &tls::tests::hello());
        let mut sh_body = vec![3, 3];
        sh_body.extend([9u8; 32]);
        sh_body.extend([0, 0x13, 0x01, 0]);
        sh_body.extend([0, 0]);
        let cert = x509::tests::certificate("portal.hue.gov.vn", "Test CA");
        let mut cert_body = Vec::new();
        cert_body.extend(&((cert.len() + 3) as u32).to_be_bytes()[1..]);
        cert_body.extend(&(cert.len() as u32).to_be_bytes()[1..]);
        cert_body.extend(&cert);
        let mut server = record(2, &sh_body);
        server.extend(record(11, &cert_body));
        server.extend([20, 3, 3, 0, 1, 1]); // ChangeCipherSpec
                                            // The ClientHello split across two segments.
        let (a, b) = ch.split_at(7);
        let (s, outs, c) = run(&[
            (true, 0x18, 1, a),
            (true, 0x18, 1 + a.len() as u32, b),
            (false, 0x18, 1, &server),
        ]);
        assert_eq!(s.app_proto, Some(AppProto::Tls));
        let client = &outs[1].inspections[0];
        assert!(has(client, Buffer::TlsSni, b"portal.hue.gov.vn"));
        assert!(client.buffers.iter().any(|(b, v)| *b == Buffer::Ja3Hash && v.len() == 32));
        let srv = &outs[2].inspections[0];
        assert!(has(srv, Buffer::TlsCertSubject, b"O=So TTTT Hue, CN=portal.hue.gov.vn"));
        assert!(has(srv, Buffer::TlsCertIssuer, b"C=VN, CN=Test CA"));
        assert!(has(srv, Buffer::TlsCerts, &cert));
        assert!(has(srv, Buffer::TlsVersion, b"1.2"));
        assert!(has(srv, Buffer::TlsSni, b"portal.hue.gov.vn"));
        match &outs[2].records[0].1 {
            Record::Tls(t) => {
                assert_eq!(t.sni.as_deref(), Some("portal.hue.gov.vn"));
                assert_eq!(t.version.as_deref(), Some("TLS 1.2"));
                assert_eq!(t.serial.as_deref(), Some("9C:01:FF"));
                assert_eq!(t.client_alpns, vec!["h2".to_string()]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.tls_handshakes, 1);
        assert_eq!(c.tls_errors, 0);
    }

    #[test]
    fn ssh_banners() {
        let (_, outs, c) = run(&[
            (false, 0x18, 1, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
            (true, 0x18, 1, b"SSH-2.0-"),
            (true, 0x18, 9, b"libssh_0.9.6\r\n\x00\x00"),
        ]);
        assert!(has(&outs[0].inspections[0], Buffer::SshSoftware, b"OpenSSH_9.2p1"));
        assert!(has(&outs[2].inspections[0], Buffer::SshProto, b"2.0"));
        match &outs[2].records[0].1 {
            Record::Ssh(r) => {
                assert_eq!(r.client.as_ref().unwrap().software_version, "libssh_0.9.6");
                assert_eq!(r.server.as_ref().unwrap().software_version, "OpenSSH_9.2p1");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.ssh_banners, 2);
    }

    #[test]
    fn smtp_envelope_attachment_and_starttls() {
        let mail: &[u8] = b"EHLO pc01\r\nMAIL FROM:<a@hue.gov.vn>\r\nRCPT TO:<b@hue.gov.vn>\r\nDATA\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nhello\r\n--B--\r\n.\r\n";
        let (s, outs, c) =
            run(&[(false, 0x18, 1, b"220 mail.hue.gov.vn ESMTP\r\n"), (true, 0x18, 1, mail)]);
        assert_eq!(s.app_proto, Some(AppProto::Smtp));
        let insp = &outs[1].inspections[0];
        assert!(has(insp, Buffer::SmtpHelo, b"pc01"));
        assert!(has(insp, Buffer::SmtpRcptTo, b"b@hue.gov.vn"));
        assert!(has(insp, Buffer::FileData, b"hello"));
        let kinds: Vec<&str> = outs[1]
            .records
            .iter()
            .map(|(_, r)| match r {
                Record::Fileinfo(f) => {
                    assert_eq!(f.filename, "a.txt");
                    "fileinfo"
                }
                Record::Smtp(e) => {
                    assert_eq!(e.smtp.rcpt_to, vec!["<b@hue.gov.vn>"]);
                    assert_eq!(e.email.attachment, vec!["a.txt"]);
                    "smtp"
                }
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, vec!["fileinfo", "smtp"]);
        assert_eq!((c.smtp_mails, c.smtp_attachments), (1, 1));
    }

    #[test]
    fn magic_types() {
        assert_eq!(magic(b"MZ\x90\x00"), Some("PE32 executable (MS Windows)"));
        assert_eq!(magic(b"<!DOCTYPE html><html>"), Some("HTML document, ASCII text"));
        assert_eq!(magic(b"\x00\x01\x02"), None);
    }
}
