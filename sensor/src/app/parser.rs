//! The interface every application protocol implements, and the registry that lists
//! them.
//!
//! A protocol is one module: a [`Registration`] (how its first bytes are recognised,
//! which ports hint at it, how its per-connection parser is made) and a type
//! implementing [`AppParser`]. The session ([`super::session::TcpSession`]) reassembles
//! both directions, probes the first bytes with every registration, then hands each
//! direction's in-order bytes to the chosen parser. The parser keeps its transactions
//! and reports, through [`AppCx`]:
//!
//! - an [`Inspection`] when a message completes a direction of a transaction: the
//!   sticky buffers it offers the rules crate and the transaction as alerts show it;
//! - EVE `Record`s (its own record type, `fileinfo` for the files it carries);
//! - its counters and parse errors, by stable name ([`AppCx::count`]).

use std::collections::BTreeMap;

use gatewatch_rules::signature::{AppProto, Buffer};
use serde::Serialize;

use super::records::Record;
use super::session::SessionLimits;
use crate::stream::raw::RawChunk;

/// Direction of application data: the protocol's client sends [`TO_SERVER`].
pub const TO_SERVER: usize = 0;
/// Direction of application data: the protocol's server sends [`TO_CLIENT`].
pub const TO_CLIENT: usize = 1;

/// One detection pass asked for by the application layer.
#[derive(Debug, Default)]
pub struct Inspection {
    /// The direction of the message that completed it.
    pub to_server: bool,
    pub(crate) buffers: Vec<(Buffer, Vec<u8>)>,
    /// The transaction as alerts of this inspection show it: (`http`, its record).
    pub meta: Option<TxMeta>,
}

impl Inspection {
    /// An inspection of the data sent in direction `dir`.
    pub fn new(dir: usize) -> Inspection {
        Inspection { to_server: dir == TO_SERVER, ..Default::default() }
    }

    /// The hashes and size of a complete file, for `filemd5`, `filesha1`, `filesha256`
    /// and `filesize`.
    pub fn push_file_facts(&mut self, f: &crate::app::records::FileRecord) {
        self.push(Buffer::FileMd5, f.md5.as_bytes());
        self.push(Buffer::FileSha1, f.sha1.as_bytes());
        self.push(Buffer::FileSha256, f.sha256.as_bytes());
        self.push(Buffer::FileSize, f.size.to_string().as_bytes());
        if let Some(m) = &f.magic {
            self.push(Buffer::FileMagic, m.as_bytes());
        }
    }

    /// Adds buffer `b` with value `v`.
    pub fn push(&mut self, b: Buffer, v: &[u8]) {
        self.buffers.push((b, v.to_vec()));
    }
}

/// A transaction under its protocol's name, as alert records carry it. The record is
/// made JSON only when an alert needs it: most inspections raise none.
#[derive(Debug)]
pub struct TxMeta {
    /// The transaction's protocol name, as EVE writes it.
    pub name: &'static str,
    record: Box<dyn TxRecord>,
    /// The transaction's number in its flow, when the protocol numbers them.
    pub tx_id: Option<u64>,
}

impl TxMeta {
    /// The same, numbered `tx_id`.
    pub fn with_tx(self, tx_id: u64) -> TxMeta {
        TxMeta { tx_id: Some(tx_id), ..self }
    }

    /// (`http`, the record as JSON).
    pub fn json(&self) -> Option<(&'static str, serde_json::Value)> {
        self.record.json().map(|v| (self.name, v))
    }
}

/// A record that can be made JSON later.
trait TxRecord: std::fmt::Debug + Send {
    fn json(&self) -> Option<serde_json::Value>;
}

impl<T: Serialize + std::fmt::Debug + Send> TxRecord for T {
    fn json(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }
}

pub(crate) fn meta<T>(name: &'static str, v: &T) -> Option<TxMeta>
where
    T: Serialize + Clone + std::fmt::Debug + Send + 'static,
{
    Some(TxMeta { name, record: Box::new(v.clone()), tx_id: None })
}

/// What one segment produced.
#[derive(Debug, Default)]
pub struct AppOutput {
    pub(crate) inspections: Vec<Inspection>,
    /// The segment's payload went to reassembly: content rules inspect the chunks
    /// below, not the packet (see [`crate::stream::raw`]).
    pub in_stream: bool,
    /// The stream bytes this segment made available for inspection: usually one chunk;
    /// a second after a gap given up on at the end of the direction.
    pub chunks: Vec<RawChunk>,
    /// Stream bytes still held after a hole when the flow ended, by packet direction
    /// (0: sent by the flow's client): inspected by the flow-end pass.
    pub end_chunks: Vec<(usize, RawChunk)>,
    /// Parser events of the bytes inspected at the flow's end, by packet direction.
    pub end_events: Vec<(usize, &'static str)>,
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
    /// Connections the session announced (FTP data channels).
    pub expect: Vec<super::expect::Expect>,
    /// Anomalies the parsers found in this packet's data (`app-layer-event`), by
    /// Suricata's names (`http.request_chunk_extension`).
    pub events: Vec<&'static str>,
    /// This segment's bytes made the session encrypted: what it still holds for
    /// inspection goes to pseudo packets after this one (Suricata's detect/log flush).
    pub went_encrypted: bool,
}

/// Counters of the application layer (all sessions of a worker).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AppCounters {
    pub(crate) http_tx: u64,
    pub(crate) dns_tcp: u64,
    pub(crate) detect_failed: u64,
    pub(crate) http_head_too_long: u64,
    pub(crate) http_bad_start_line: u64,
    pub(crate) http_bad_chunk: u64,
    pub(crate) http_decode_failed: u64,
    pub(crate) http_junk_bytes: u64,
    pub(crate) dns_tcp_errors: u64,
    pub(crate) tls_handshakes: u64,
    pub(crate) tls_errors: u64,
    pub(crate) ssh_banners: u64,
    pub(crate) smtp_mails: u64,
    pub(crate) smtp_attachments: u64,
    pub(crate) smtp_errors: u64,
    /// Stream chunks for content scanning cut short by the reassembly memcap.
    pub scan_chunks_memcap: u64,
    /// Stream chunks not inspected: the reassembly memcap could not hold them until
    /// their direction's next packet.
    pub raw_chunks_memcap: u64,
    /// Counters of the other protocols by name (`smb_tx`, `smb_errors_bad_header`, ...).
    #[serde(flatten)]
    pub by_name: BTreeMap<&'static str, u64>,
    /// Flows by the protocol detected on them (Suricata's `app_layer.flow` names:
    /// `http`, `dns_tcp`, `dns_udp`, …); written under `app_layer.flow`.
    #[serde(skip)]
    pub flows: BTreeMap<&'static str, u64>,
}

impl AppCounters {
    /// A flow's protocol is known: counted under Suricata's name for it on `tcp` or UDP.
    pub(crate) fn flow_detected(&mut self, proto: gatewatch_rules::signature::AppProto, tcp: bool) {
        *self.flows.entry(flow_key(proto, tcp)).or_insert(0) += 1;
    }
}

/// Suricata's counter name of a protocol's flows: protocols it parses over both
/// transports are told apart by a suffix.
fn flow_key(proto: gatewatch_rules::signature::AppProto, tcp: bool) -> &'static str {
    use gatewatch_rules::signature::AppProto::*;
    match (proto, tcp) {
        (Dns, true) => "dns_tcp",
        (Dns, false) => "dns_udp",
        (Dcerpc, true) => "dcerpc_tcp",
        (Dcerpc, false) => "dcerpc_udp",
        (Krb5, true) => "krb5_tcp",
        (Krb5, false) => "krb5_udp",
        (Sip, true) => "sip_tcp",
        (Sip, false) => "sip_udp",
        (p, _) => p.as_str(),
    }
}

/// Where a parser reports what it found.
pub struct AppCx<'a> {
    /// Counters of the application layer.
    pub counters: &'a mut AppCounters,
    /// Records, inspections and events of the parser.
    pub out: &'a mut AppOutput,
}

impl AppCx<'_> {
    /// Adds `n` to the counter `name` (a stable name: `<proto>_<what>`).
    pub fn count(&mut self, name: &'static str, n: u64) {
        if n > 0 {
            *self.counters.by_name.entry(name).or_insert(0) += n;
        }
    }

    /// Asks for a detection pass.
    pub fn inspect(&mut self, insp: Inspection) {
        self.out.inspections.push(insp);
    }

    /// An anomaly of the protocol (`app-layer-event`), by Suricata's name.
    pub fn event(&mut self, name: &'static str) {
        if !self.out.events.contains(&name) {
            self.out.events.push(name);
        }
    }

    /// An EVE record sent by the protocol's client (`to_server`) or server.
    pub fn record(&mut self, to_server: bool, rec: Record) {
        self.out.records.push((to_server, rec));
    }
}

/// Gives back the spare room of a buffer that once held a large message, so a flow
/// does not keep its largest message's worth of memory for the rest of its life.
pub(crate) fn trim_spare(buf: &mut Vec<u8>) {
    const KEEP: usize = 4096;
    if buf.capacity() > KEEP && buf.capacity() > 2 * buf.len() {
        buf.shrink_to(buf.len().max(KEEP));
    }
}

/// Heap bytes of per-direction buffers (bytes waiting for the rest of a message).
pub(crate) fn held_bytes(held: &[Vec<u8>]) -> usize {
    held.iter().map(Vec::capacity).sum()
}

/// The state of one protocol on one connection.
pub trait AppParser: std::fmt::Debug + Send {
    /// In-order bytes of direction `dir` ([`TO_SERVER`] or [`TO_CLIENT`]).
    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>);

    /// One datagram of `dir` (a protocol over UDP): a whole message.
    fn datagram(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        self.parse(dir, bytes, cx);
    }

    /// Bytes of `dir` were lost: the message in progress cannot be completed; the
    /// parser resynchronises on the next message it recognises.
    fn gap(&mut self, _dir: usize, _cx: &mut AppCx<'_>) {}

    /// Direction `dir` ended (FIN or RST): a message waiting for the end completes.
    fn close(&mut self, _dir: usize, _cx: &mut AppCx<'_>) {}

    /// The flow ends: unfinished transactions are logged, counters handed over.
    fn end(&mut self, _cx: &mut AppCx<'_>) {}

    /// The protocol the connection switched to, if it did (HTTP/1 upgraded to `h2c`).
    fn app_proto(&self) -> Option<AppProto> {
        None
    }

    /// Both directions are encrypted: the payload is no longer inspected.
    fn encrypted(&self) -> bool {
        false
    }

    /// For a protocol whose whole session is one transaction (TLS, SSH): that
    /// transaction as it stands now. An inspection that waited for a packet of its
    /// direction shows it so, as Suricata's alert shows the transaction when detection
    /// runs, not when the message arrived.
    fn session_meta(&self) -> Option<TxMeta> {
        None
    }

    /// Heap bytes the parser's state holds now (buffered bytes, pending transactions,
    /// decoder tables): charged to the worker's application-layer memcap after each
    /// call. A parser whose state is a few fixed fields holds none.
    fn mem_usage(&self) -> usize {
        0
    }
}

/// What a protocol's probe says of the first bytes of one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// These bytes are this protocol, sent by the side named.
    Yes(Sender),
    /// They are not.
    No,
    /// Too few bytes to tell.
    NeedMore,
}

/// Which side of a protocol sends the bytes a probe recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// The protocol's client.
    Client,
    /// The protocol's server.
    Server,
    /// Both sides send such bytes (an SSH banner): the bytes do not tell.
    Either,
}

/// A protocol as the session knows it.
pub struct Registration {
    /// The application protocol it parses.
    pub proto: AppProto,
    /// Ports that hint at the protocol (either end of the connection).
    pub ports: &'static [u16],
    /// The probe is weak alone (a length and a few header bits): it runs only when a
    /// port hints at the protocol.
    pub needs_port: bool,
    /// Recognises the first bytes of a direction (`other`: the first bytes of the
    /// other direction, maybe none yet); `port_hint` is set when a port of the
    /// connection is one of [`Registration::ports`].
    pub probe: fn(data: &[u8], other: &[u8], port_hint: bool) -> Probe,
    /// Makes a parser for a new connection.
    pub new: fn(&SessionLimits) -> Box<dyn AppParser>,
}

/// The protocols over TCP, in the order their probes run: the most specific first.
pub fn registry() -> &'static [Registration] {
    use super::{dcerpc, dns, ftp, http, http2, krb5, mqtt, rdp, rfb, sip, smb, smtp, ssh, tls};
    static REGISTRY: [Registration; 14] = [
        http2::REGISTRATION,
        http::conn::REGISTRATION,
        tls::conn::REGISTRATION,
        ssh::REGISTRATION,
        rfb::REGISTRATION,
        smb::REGISTRATION,
        dcerpc::REGISTRATION,
        rdp::REGISTRATION,
        dns::conn::REGISTRATION,
        krb5::REGISTRATION,
        sip::REGISTRATION,
        mqtt::REGISTRATION,
        ftp::REGISTRATION,
        smtp::conn::REGISTRATION,
    ];
    &REGISTRY
}

/// The result of probing the first bytes of both directions.
#[derive(Debug, PartialEq, Eq)]
pub enum Detected {
    /// Not enough bytes yet to tell.
    Wait,
    /// No registered protocol recognises the bytes.
    Unknown,
    /// The registration (index) and whether the connection's opener is the
    /// protocol's server (a midstream pickup that saw a response first).
    Known(usize, bool),
}

/// Identifies the protocol from the first bytes of each direction (`probe[0]` from
/// the side that opened the connection). `ports` are the connection's two ports.
pub fn detect(probe: &[Vec<u8>; 2], ports: [u16; 2]) -> Detected {
    let mut waiting = probe.iter().any(|d| d.is_empty());
    for (dir, data) in probe.iter().enumerate().filter(|(_, d)| !d.is_empty()) {
        // Fewer bytes than any protocol's shortest greeting.
        waiting |= data.len() < 4;
        for (i, reg) in registry().iter().enumerate() {
            let hint = reg.ports.iter().any(|p| ports.contains(p));
            if reg.needs_port && !hint {
                continue;
            }
            match (reg.probe)(data, &probe[dir ^ 1], hint) {
                Probe::Yes(sender) => {
                    // Bytes from the opener that the protocol's server sends (or the
                    // other way round), with nothing seen from the other side yet.
                    let other_empty = probe[dir ^ 1].is_empty();
                    let reversed = other_empty
                        && match sender {
                            Sender::Client => dir == 1,
                            Sender::Server => dir == 0,
                            Sender::Either => false,
                        };
                    return Detected::Known(i, reversed);
                }
                Probe::NeedMore => waiting = true,
                Probe::No => {}
            }
        }
    }
    if waiting {
        Detected::Wait
    } else {
        Detected::Unknown
    }
}

/// Appends a buffer with a copy of `v`.
pub(crate) fn push(out: &mut Vec<(Buffer, Vec<u8>)>, b: Buffer, v: &[u8]) {
    out.push((b, v.to_vec()));
}

/// Feeds a scripted session to a parser, each message in segments of `seg` bytes,
/// then ends it; returns everything it reported.
#[cfg(test)]
pub(crate) fn drive(
    parser: &mut dyn AppParser,
    script: &[(bool, Vec<u8>)],
    seg: usize,
) -> (AppOutput, AppCounters) {
    let (mut out, mut counters) = (AppOutput::default(), AppCounters::default());
    let mut cx = AppCx { counters: &mut counters, out: &mut out };
    for (to_server, bytes) in script {
        for part in bytes.chunks(seg.max(1)) {
            parser.parse(if *to_server { TO_SERVER } else { TO_CLIENT }, part, &mut cx);
        }
    }
    parser.end(&mut cx);
    (out, counters)
}

/// The values of buffer `b` over all inspections.
#[cfg(test)]
pub(crate) fn values(out: &AppOutput, b: Buffer) -> Vec<String> {
    out.inspections
        .iter()
        .flat_map(|i| i.buffers.iter())
        .filter(|(x, _)| *x == b)
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// Feeds any bytes to a parser as a session: each piece is `[header, bytes…]`, the
/// header's top bit the direction (set: to the client) and its low bits the length.
/// For fuzzing: whatever the bytes, the parser must neither panic nor grow without
/// bound. Returns the number of records and inspections it reported.
pub fn feed_pieces(parser: &mut dyn AppParser, mut data: &[u8]) -> (usize, usize) {
    let (mut out, mut counters) = (AppOutput::default(), AppCounters::default());
    let mut cx = AppCx { counters: &mut counters, out: &mut out };
    while let Some((&h, rest)) = data.split_first() {
        let n = ((h & 0x7f) as usize).min(rest.len());
        let dir = if h & 0x80 != 0 { TO_CLIENT } else { TO_SERVER };
        if n == 0 {
            parser.gap(dir, &mut cx);
        } else {
            parser.parse(dir, &rest[..n], &mut cx);
        }
        data = &rest[n..];
    }
    parser.close(TO_SERVER, &mut cx);
    parser.end(&mut cx);
    (out.records.len(), out.inspections.len())
}
