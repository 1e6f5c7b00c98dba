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

use gatewatch_rules::signature::{AppProto, Buffer};
use serde::Serialize;

mod http_conn;
mod ssh_conn;
mod tls_conn;

pub use http_conn::HttpRecord;
use http_conn::{http_events, http_record, HttpConn};
use ssh_conn::{ssh_bytes, SshConn};
pub use ssh_conn::{SshRecord, SshSide};
use tls_conn::{tls_bytes, TlsConn};
pub use tls_conn::{Fingerprint, TlsRecord};

use super::http::{self, HttpParser, RequestInfo, Side};
use super::{dns, smtp};
use crate::output::eve::DnsBody;
use crate::stream::raw::{RawChunk, RawTail};
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

/// What one segment produced.
#[derive(Debug, Default)]
pub struct AppOutput {
    pub inspections: Vec<Inspection>,
    /// The segment's payload went to reassembly: content rules inspect the chunks
    /// below, not the packet (see [`crate::stream::raw`]).
    pub in_stream: bool,
    /// The stream bytes this segment made available for inspection: usually one chunk;
    /// a second after a gap given up on at the end of the direction.
    pub chunks: Vec<RawChunk>,
    /// The segment carried only bytes already received (a retransmission).
    pub retransmission: bool,
    /// The session is encrypted (after a TLS or SSH handshake): its payload is no
    /// longer inspected, as Suricata's default `encryption-handling: track-only`.
    pub encrypted: bool,
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
    /// The end of each direction's stream for the next inspection chunk.
    raw: [RawTail; 2],
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
            raw: [RawTail::default(), RawTail::default()],
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
        // Encrypted by an earlier segment: this one is still reassembled (the parsers
        // track the session) but not inspected.
        out.encrypted = self.encrypted();
        if !payload.is_empty() {
            let isn = self.isn[d];
            let stream = self.streams[d]
                .get_or_insert_with(|| StreamDir::new(isn.unwrap_or(seq), limits.depth));
            let before = stream.stats;
            stream.insert(seq, payload, mem);
            out.retransmission = stream.stats.retransmissions > before.retransmissions;
            // Past the reassembly depth the stream stops; Suricata then inspects the
            // packets themselves, and so does this sensor.
            let beyond = stream.stats.depth_dropped - before.depth_dropped;
            out.in_stream = beyond < payload.len() as u64;
            if stream.pending_bytes() > limits.max_pending {
                stream.skip_gap(mem);
                self.gap(d ^ self.rev());
            }
            bytes = self.streams[d].as_mut().map(|s| s.take(mem)).unwrap_or_default();
        }
        if !bytes.is_empty() {
            self.inspect_raw(d, &bytes, out);
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
                        self.inspect_raw(d, &rest, out);
                        self.deliver(d, &rest, dport_53, limits, counters, out);
                    }
                }
            }
            self.close_dir(d ^ self.rev(), counters, out);
            self.flush_scan(d, mem, out);
        }
    }

    /// Hands new in-order bytes of direction `d` to stream inspection, unless the
    /// session is encrypted.
    fn inspect_raw(&mut self, d: usize, bytes: &[u8], out: &mut AppOutput) {
        if out.encrypted {
            return;
        }
        let Some(stream) = self.streams[d].as_ref() else { return };
        let at = stream.next_offset().saturating_sub(bytes.len() as u64);
        out.chunks.push(self.raw[d].chunk(bytes, at));
    }

    /// Has the session switched to encryption in both directions (TLS after the
    /// ChangeCipherSpec or application data, SSH after NEWKEYS)?
    pub fn encrypted(&self) -> bool {
        match &self.proto {
            Proto::Tls(t) => t.asm.iter().all(|a| a.encrypted),
            Proto::Ssh(s) => s.newkeys(),
            _ => false,
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

fn push(out: &mut Vec<(Buffer, Vec<u8>)>, b: Buffer, v: &[u8]) {
    out.push((b, v.to_vec()));
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
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
mod tests;
