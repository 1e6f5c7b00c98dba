//! The application layer of one TCP session: reassembly of both directions, protocol
//! detection by content (the probes of [`super::parser::registry`]), and the parser of
//! the protocol found, which turns stream bytes into inspection buffers (for the rules
//! engine) and EVE records.
//!
//! As Suricata in IDS mode, a direction's in-order bytes go to the parser and to stream
//! inspection once the other side acknowledged them; the transactions, stream chunks
//! and parser events of a direction are inspected with that direction's next packet,
//! and what is still held when the flow ends with its flow-end pseudo packets
//! ([`TcpSession::end`]). With [`SessionLimits::inline`] bytes go on as they come. A
//! direction holding more than [`SessionLimits::max_pending`] bytes out of order gives
//! up on the missing bytes (a counted gap); the parser of that direction then
//! resynchronises.

use gatewatch_rules::signature::AppProto;

use super::http;
use super::parser::{
    detect, registry, AppCounters, AppCx, AppOutput, AppParser, Detected, Inspection,
};
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
    /// Bounds of the HTTP parser.
    pub http: http::Limits,
    /// Bytes of an SMTP message kept for MIME parsing.
    pub smtp_message_limit: usize,
    /// Bytes of each file of SMB, FTP and SMTP inspected and kept (HTTP has its body
    /// limit).
    pub files: super::files::FileLimits,
    /// First bytes of each direction handed out as one chunk for content scanning
    /// (YARA); 0 = none. Charged to the reassembly memcap while they accumulate.
    pub scan_depth: usize,
    /// Bytes go on as they arrive rather than once acknowledged
    /// ([`crate::config::StreamConfig::inline`]).
    pub inline: bool,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            depth: 1024 * 1024,
            max_pending: 256 * 1024,
            probe_bytes: 4096,
            http: http::Limits::default(),
            smtp_message_limit: 1024 * 1024,
            files: Default::default(),
            scan_depth: 0,
            inline: false,
        }
    }
}

/// Transactions a session holds for a packet of their direction, at most.
const MAX_DEFERRED: usize = 256;

#[derive(Debug)]
enum Proto {
    /// Not identified yet: the first bytes of each direction.
    Probing([Vec<u8>; 2]),
    Known(Box<dyn AppParser>),
    /// Identified as something not parsed here, or identification gave up.
    Other,
}

/// The application layer of one TCP session (also of a UDP flow with a known protocol,
/// which has no streams: [`TcpSession::datagram`]).
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
    /// The application protocol of the flow, as EVE names it.
    pub app_proto: Option<AppProto>,
    /// The side that opened the connection is the server (midstream pickup that saw a
    /// response first): application directions are the packet directions swapped.
    pub reversed: bool,
    /// The packet direction whose bytes came first while probing.
    first_speaker: usize,
    /// Transactions completed by a packet of the other direction (a request parsed
    /// once its response identified the protocol): inspected with the next packet of
    /// their own direction, as Suricata inspects a direction's transactions.
    deferred: Vec<Inspection>,
    /// Chunks of each direction's stream waiting for a packet of that direction.
    raw_pending: [Vec<RawChunk>; 2],
    /// Parser events of each packet direction's bytes, waiting for a packet of it.
    events_pending: [Vec<&'static str>; 2],
    /// Bytes of the parser's state charged to the application-layer memcap.
    app_charged: usize,
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
            first_speaker: 0,
            deferred: Vec::new(),
            raw_pending: [Vec::new(), Vec::new()],
            events_pending: [Vec::new(), Vec::new()],
            app_charged: 0,
        }
    }
}

/// What a segment's handling needs besides the segment.
pub struct SegmentCx<'a> {
    /// The connection's two ports: hints for protocol detection.
    pub ports: [u16; 2],
    /// The bounds of the session.
    pub limits: &'a SessionLimits,
    /// The worker's budget for reassembly buffers.
    pub mem: &'a mut Memcap,
    /// The worker's budget for parser state (pending transactions, partial messages).
    pub app_mem: &'a mut Memcap,
    /// Counters of the application layer.
    pub counters: &'a mut AppCounters,
}

/// One TCP segment: its direction, flags, sequence number and payload.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    /// Sent by the client.
    pub to_server: bool,
    /// TCP flags.
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// The acknowledgement number (meaningful with the ACK flag).
    pub ack: u32,
    /// The segment's payload.
    pub payload: &'a [u8],
}

impl TcpSession {
    /// What side `d` (0: the flow's client) has sent in order, plus one for its SYN:
    /// Suricata's `next_seq - isn`, what `stream_size` compares.
    pub fn stream_size(&self, d: usize) -> u64 {
        let sent = self.streams[d].as_ref().map_or(0, |s| s.next_offset());
        sent + u64::from(self.isn[d].is_some())
    }

    /// A session whose protocol is already known (the data connection an FTP control
    /// session announced): no probing.
    pub fn expecting(parser: Box<dyn AppParser>, proto: AppProto) -> TcpSession {
        TcpSession { proto: Proto::Known(parser), app_proto: Some(proto), ..Default::default() }
    }

    /// One datagram of a UDP flow whose protocol is known: a whole message of
    /// application direction `dir`.
    pub fn datagram(
        &mut self,
        dir: usize,
        bytes: &[u8],
        app_mem: &mut Memcap,
        counters: &mut AppCounters,
        out: &mut AppOutput,
    ) {
        if let Proto::Known(p) = &mut self.proto {
            p.datagram(dir, bytes, &mut AppCx { counters, out });
        }
        self.charge(app_mem, counters, out);
    }

    /// Charges what the parser's state holds now to the application-layer memcap. At
    /// the memcap the session is no longer parsed, as Suricata stops a flow's parser
    /// at its memcap: what the parser held is logged now (nothing it had is lost),
    /// its memory given back, `app_layer.memcap` raised and counted; reassembly and
    /// stream inspection go on.
    fn charge(&mut self, app_mem: &mut Memcap, counters: &mut AppCounters, out: &mut AppOutput) {
        let Proto::Known(p) = &mut self.proto else { return };
        let now = p.mem_usage();
        if now <= self.app_charged {
            app_mem.give(self.app_charged - now);
            self.app_charged = now;
            return;
        }
        if app_mem.take(now - self.app_charged) {
            self.app_charged = now;
            return;
        }
        let mut cx = AppCx { counters, out };
        p.end(&mut cx);
        cx.event("app_layer.memcap");
        cx.count("app_layer_memcap", 1);
        app_mem.give(self.app_charged);
        self.app_charged = 0;
        self.proto = Proto::Other;
    }

    /// Handles one TCP segment.
    pub fn on_segment(&mut self, seg: Segment<'_>, cx: &mut SegmentCx<'_>, out: &mut AppOutput) {
        let d = if seg.to_server { 0 } else { 1 };
        const SYN: u8 = 0x02;
        const FIN: u8 = 0x01;
        const RST: u8 = 0x04;
        const ACK: u8 = 0x10;
        let (flags, payload) = (seg.flags, seg.payload);
        if flags & SYN != 0 {
            self.isn[d] = Some(seg.seq.wrapping_add(1));
        }
        // Data on a SYN (TCP Fast Open) starts after the SYN's sequence number.
        let seq = if flags & SYN != 0 { seg.seq.wrapping_add(1) } else { seg.seq };
        // Encrypted by an earlier segment: this one is still reassembled (the parsers
        // track the session) but not inspected.
        out.encrypted = self.encrypted();
        if !payload.is_empty() {
            let isn = self.isn[d];
            let stream = self.streams[d]
                .get_or_insert_with(|| StreamDir::new(isn.unwrap_or(seq), cx.limits.depth));
            let before = stream.stats;
            stream.insert(seq, payload, cx.mem);
            out.retransmission = stream.stats.retransmissions > before.retransmissions;
            // Past the reassembly depth the stream stops; Suricata then inspects the
            // packets themselves, and so does this sensor.
            let beyond = stream.stats.depth_dropped - before.depth_dropped;
            out.in_stream = beyond < payload.len() as u64;
            if stream.pending_bytes() > cx.limits.max_pending {
                // The bytes before the hole go first, then the parser learns of it.
                self.hand_over_ready(d, cx, out);
                if let Some(s) = self.streams[d].as_mut() {
                    s.skip_gap(cx.mem);
                }
                self.gap(d ^ self.rev(), cx.counters, out);
            }
        }
        if cx.limits.inline {
            self.hand_over_ready(d, cx, out);
            if flags & (FIN | RST) != 0 {
                self.close_inline(d, cx, out);
            }
        } else {
            // What this packet acknowledges of the other direction reaches the parsers;
            // a SYN/ACK's acknowledgement waits for the session to be established
            // (data on a SYN), as in Suricata.
            if flags & ACK != 0 && flags & SYN == 0 {
                self.deliver_acked(d ^ 1, seg.ack, cx, out);
            }
            // A direction nobody acknowledges (one side of the traffic captured) goes
            // on once it holds more than `max_pending` bytes.
            if self.streams[d].as_ref().is_some_and(|s| s.ready_len() > cx.limits.max_pending) {
                self.hand_over_ready(d, cx, out);
            }
        }
        // Stream inspection of a direction, and its parser's events, happen with its
        // own packets.
        self.charge(cx.app_mem, cx.counters, out);
        Self::give_pending(&self.raw_pending[d], cx.mem);
        out.chunks.append(&mut self.raw_pending[d]);
        out.events.append(&mut self.events_pending[d]);
        out.went_encrypted = !out.encrypted && self.encrypted();
    }

    /// What the session holds for inspection when it turns encrypted (the session is
    /// no longer inspected): transactions waiting for a packet of their direction,
    /// stream bytes and parser events, moved to `out` for pseudo packets, as at the
    /// flow's end.
    pub fn take_held(&mut self, mem: &mut Memcap, out: &mut AppOutput) {
        self.move_held(mem, out);
        self.refresh_session_meta(&mut out.inspections);
    }

    /// Moves what is held for inspection to `out`, as [`TcpSession::take_held`], the
    /// transactions as they were recorded.
    fn move_held(&mut self, mem: &mut Memcap, out: &mut AppOutput) {
        out.inspections.append(&mut self.deferred);
        for d in 0..2 {
            Self::give_pending(&self.raw_pending[d], mem);
            out.end_chunks.extend(self.raw_pending[d].drain(..).map(|c| (d, c)));
            out.end_events.extend(self.events_pending[d].drain(..).map(|e| (d, e)));
        }
    }

    /// Stream chunks leave the session: their bytes are given back to the memcap.
    fn give_pending(chunks: &[RawChunk], mem: &mut Memcap) {
        mem.give(chunks.iter().map(|c| c.data.len()).sum());
    }

    /// Inline mode, a FIN or RST of direction `d`: bytes held after a hole are given up
    /// on, and the direction ends.
    fn close_inline(&mut self, d: usize, cx: &mut SegmentCx<'_>, out: &mut AppOutput) {
        if let Some(s) = self.streams[d].as_mut() {
            if s.pending_bytes() > 0 {
                s.skip_gap(cx.mem);
                self.gap(d ^ self.rev(), cx.counters, out);
                self.hand_over_ready(d, cx, out);
            }
        }
        self.close_dir(d ^ self.rev(), cx.counters, out);
        self.flush_scan(d, cx.mem, out);
    }

    /// The bytes of packet direction `d` that `ack` acknowledges go to the parsers and
    /// to stream inspection; an acknowledgement past a hole (bytes lost before the
    /// capture) gives the hole up.
    fn deliver_acked(&mut self, d: usize, ack: u32, cx: &mut SegmentCx<'_>, out: &mut AppOutput) {
        // Each turn steps over one hole: bounded by the segments held.
        for _ in 0..64 {
            let Some(s) = self.streams[d].as_mut() else { return };
            let (at, bytes) = s.take_acked(ack, cx.mem);
            self.hand_over(d, at, &bytes, cx, out);
            let Some(s) = self.streams[d].as_mut() else { return };
            if !s.acks_past_hole(ack) {
                return;
            }
            s.skip_gap(cx.mem);
            self.gap(d ^ self.rev(), cx.counters, out);
        }
    }

    /// All in-order bytes of packet direction `d` go on now.
    fn hand_over_ready(&mut self, d: usize, cx: &mut SegmentCx<'_>, out: &mut AppOutput) {
        let Some(s) = self.streams[d].as_mut() else { return };
        let at = s.taken_offset();
        let bytes = s.take(cx.mem);
        self.hand_over(d, at, &bytes, cx, out);
    }

    /// In-order bytes of packet direction `d`, starting at stream offset `at`: queued for
    /// stream inspection with the direction's next packet (unless the session is
    /// encrypted), collected for content scanning, parsed.
    fn hand_over(
        &mut self,
        d: usize,
        at: u64,
        bytes: &[u8],
        cx: &mut SegmentCx<'_>,
        out: &mut AppOutput,
    ) {
        if bytes.is_empty() {
            return;
        }
        if !out.encrypted {
            // Held until the direction's next packet: charged to the reassembly memcap
            // meanwhile (given back by `give_pending`).
            let chunk = self.raw[d].chunk(bytes, at);
            if cx.mem.take(chunk.data.len()) {
                self.raw_pending[d].push(chunk);
            } else {
                cx.counters.raw_chunks_memcap += 1;
            }
        }
        self.collect_scan(d, bytes, cx, out);
        let before = out.events.len();
        self.deliver(d, bytes, cx, out);
        if !cx.limits.inline {
            self.events_pending[d].extend(out.events.drain(before..));
        }
    }

    /// The transactions a packet of application direction `to_server` inspects: those
    /// of its direction held from earlier packets, then its own; the ones of the other
    /// direction wait for a packet of theirs (at most `MAX_DEFERRED`, beyond which
    /// they are inspected at once rather than held).
    pub fn route_inspections(&mut self, to_server: bool, new: Vec<Inspection>) -> Vec<Inspection> {
        // The usual case: nothing held, everything of this packet's direction.
        if self.deferred.is_empty() && new.iter().all(|i| i.to_server == to_server) {
            let mut new = new;
            self.refresh_session_meta(&mut new);
            return new;
        }
        let (mut now, held): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.deferred).into_iter().partition(|i| i.to_server == to_server);
        self.deferred = held;
        for i in new {
            if i.to_server == to_server {
                now.push(i);
            } else {
                self.deferred.push(i);
            }
        }
        if self.deferred.len() > MAX_DEFERRED {
            now.append(&mut self.deferred);
        }
        self.refresh_session_meta(&mut now);
        now
    }

    /// Inspections of a one-transaction session show the session as it stands when
    /// they are inspected (the server's hello parsed since the client's was).
    fn refresh_session_meta(&self, insps: &mut [Inspection]) {
        let Proto::Known(p) = &self.proto else { return };
        for i in insps.iter_mut() {
            if let Some(old) = &i.meta {
                if let Some(live) = p.session_meta().filter(|m| m.name == old.name) {
                    i.meta = Some(live);
                }
            }
        }
    }

    /// Has the session switched to encryption in both directions (TLS after the
    /// ChangeCipherSpec or application data, SSH after NEWKEYS)?
    pub fn encrypted(&self) -> bool {
        match &self.proto {
            Proto::Known(p) => p.encrypted(),
            _ => false,
        }
    }

    fn rev(&self) -> usize {
        self.reversed as usize
    }

    /// Adds in-order bytes of direction `d` to its scan chunk; hands the chunk out when
    /// it reaches the scan depth.
    fn collect_scan(
        &mut self,
        d: usize,
        bytes: &[u8],
        cx: &mut SegmentCx<'_>,
        out: &mut AppOutput,
    ) {
        let depth = cx.limits.scan_depth;
        if depth == 0 || self.scan_done[d] {
            return;
        }
        let take = bytes.len().min(depth - self.scan[d].len());
        if !cx.mem.take(take) {
            cx.counters.scan_chunks_memcap += 1;
            self.flush_scan(d, cx.mem, out);
            return;
        }
        self.scan[d].extend_from_slice(&bytes[..take]);
        if self.scan[d].len() >= depth {
            self.flush_scan(d, cx.mem, out);
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
    pub fn end(&mut self, cx: &mut SegmentCx<'_>, out: &mut AppOutput) {
        // Refreshed below, once the flushed bytes are parsed.
        self.move_held(cx.mem, out);
        self.flush_held(cx, out);
        let (mem, counters) = (&mut *cx.mem, &mut *cx.counters);
        cx.app_mem.give(std::mem::take(&mut self.app_charged));
        self.close_dir(1, counters, out);
        self.close_dir(0, counters, out);
        if let Proto::Known(p) = &mut self.proto {
            p.end(&mut AppCx { counters, out });
        }
        // The flow-end passes see the session as the end left it.
        self.refresh_session_meta(&mut out.inspections);
        for s in self.streams.iter_mut().flatten() {
            s.release(mem);
        }
        for d in 0..2 {
            self.flush_scan(d, mem, out);
        }
    }

    /// Bytes still held when the flow ends (never acknowledged: sent before a reset,
    /// one side of the traffic captured, a capture cut short) are still inspected, as
    /// Suricata's flow-end flush does: after a hole the parser resynchronises (no gap
    /// is counted), and the bytes go to stream inspection.
    fn flush_held(&mut self, cx: &mut SegmentCx<'_>, out: &mut AppOutput) {
        let encrypted = self.encrypted();
        for d in 0..2 {
            let Some(stream) = self.streams[d].as_mut() else { continue };
            let mut taken = stream.taken_offset();
            for (at, bytes) in stream.flush_at_end(cx.mem) {
                if !encrypted {
                    out.end_chunks.push((d, self.raw[d].chunk(&bytes, at)));
                }
                if at != taken {
                    self.gap(d ^ self.rev(), cx.counters, out);
                }
                taken = at + bytes.len() as u64;
                self.collect_scan(d, &bytes, cx, out);
                let before = out.events.len();
                self.deliver(d, &bytes, cx, out);
                out.end_events.extend(out.events.drain(before..).map(|e| (d, e)));
            }
        }
    }

    /// Bytes of application direction `d` were given up on.
    fn gap(&mut self, d: usize, counters: &mut AppCounters, out: &mut AppOutput) {
        if let Proto::Known(p) = &mut self.proto {
            p.gap(d, &mut AppCx { counters, out });
        }
    }

    fn close_dir(&mut self, d: usize, counters: &mut AppCounters, out: &mut AppOutput) {
        if let Proto::Known(p) = &mut self.proto {
            p.close(d, &mut AppCx { counters, out });
        }
    }

    /// New in-order bytes of packet direction `d`: probed until the protocol is known,
    /// then parsed.
    fn deliver(&mut self, d: usize, bytes: &[u8], cx: &mut SegmentCx<'_>, out: &mut AppOutput) {
        let limits = cx.limits;
        let Proto::Probing(probe) = &mut self.proto else {
            self.parse(d ^ self.rev(), bytes, cx.counters, out);
            return;
        };
        if probe[0].is_empty() && probe[1].is_empty() {
            self.first_speaker = d;
        }
        let room = limits.probe_bytes.saturating_sub(probe[d].len());
        probe[d].extend_from_slice(&bytes[..room.min(bytes.len())]);
        let (reg, reversed) = match detect(probe, cx.ports) {
            Detected::Wait if probe[0].len() + probe[1].len() < 2 * limits.probe_bytes => {
                return;
            }
            Detected::Wait | Detected::Unknown => {
                cx.counters.detect_failed += 1;
                self.proto = Proto::Other;
                return;
            }
            Detected::Known(i, reversed) => (&registry()[i], reversed),
        };
        let mut pending = std::mem::take(probe);
        if reversed {
            self.reversed = true;
            pending.swap(0, 1);
        }
        self.app_proto = Some(reg.proto);
        cx.counters.flow_detected(reg.proto, true);
        self.proto = Proto::Known((reg.new)(limits));
        // Replay what was held while probing (the current bytes are in it), the side
        // that spoke first first (an FTP or SMTP greeting before the command), then
        // what did not fit.
        let first = self.first_speaker ^ self.rev();
        for dir in [first, first ^ 1] {
            if !pending[dir].is_empty() {
                self.parse(dir, &pending[dir], cx.counters, out);
            }
        }
        if bytes.len() > room {
            self.parse(d ^ self.rev(), &bytes[room..], cx.counters, out);
        }
    }

    fn parse(&mut self, d: usize, bytes: &[u8], counters: &mut AppCounters, out: &mut AppOutput) {
        if let Proto::Known(p) = &mut self.proto {
            p.parse(d, bytes, &mut AppCx { counters, out });
            if let Some(now) = p.app_proto() {
                self.app_proto = Some(now);
            }
        }
    }
}

#[cfg(test)]
mod tests;
