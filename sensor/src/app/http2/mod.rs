//! HTTP/2 over cleartext TCP (RFC 9113): prior knowledge (the client preface) and the
//! `h2c` upgrade from HTTP/1 (handed over by [`crate::app::http::conn`]). TLS-wrapped
//! HTTP/2 stays opaque, as all TLS payload does.
//!
//! Each direction is cut into frames (`frame`), header blocks are decompressed with
//! one HPACK decoder per direction (`hpack`, bounded dynamic tables), and every
//! stream is a transaction (`stream`): when a direction of a stream ends, its
//! request or response fills the same `http.*` buffers as HTTP/1 (so ET Open's HTTP
//! rules match over HTTP/2, as in Suricata 8) plus the `http2.*` ones, and a finished
//! stream is logged as an EVE `http` record with `http2` details and its file.
//! Frames of stream 0 (SETTINGS, GOAWAY, PING, WINDOW_UPDATE) are transactions of
//! their own.

mod doh;
pub(crate) mod frame;
pub(crate) mod hpack;
pub(crate) mod stream;

use std::collections::BTreeMap;

use gatewatch_rules::signature::{AppProto, Buffer};

use self::frame::{FrameHeader, Framer, Piece, PREFACE};
use self::hpack::{DecodeErrors, Decoder, Field};
use self::stream::{Facts, Stream};
use super::http::{self, Head};
use super::parser::{
    AppCx, AppParser, Inspection, Probe, Registration, Sender, TO_CLIENT, TO_SERVER,
};

/// HTTP/2 over TCP (prior knowledge).
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Http2,
    ports: &[],
    needs_port: false,
    probe,
    new: |limits| Box::new(Http2Conn::new(limits.http, true)),
};

/// The client preface identifies HTTP/2 with prior knowledge.
fn probe(data: &[u8], _other: &[u8], _port_hint: bool) -> Probe {
    let n = data.len().min(PREFACE.len());
    if data[..n] != PREFACE[..n] {
        Probe::No
    } else if n < PREFACE.len() {
        Probe::NeedMore
    } else {
        Probe::Yes(Sender::Client)
    }
}

/// Open streams kept per connection; beyond, the oldest is finished (counted).
const MAX_STREAMS: usize = 256;
/// The largest header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs) held.
const MAX_HEADER_BLOCK: usize = 256 * 1024;

/// A header block waiting for its CONTINUATION frames.
#[derive(Debug)]
struct PendingBlock {
    stream: u32,
    /// PUSH_PROMISE: the stream it promises; its fields are that stream's.
    promised: Option<u32>,
    end_stream: bool,
    data: Vec<u8>,
}

/// The HTTP/2 parser of one connection.
#[derive(Debug)]
pub struct Http2Conn {
    limits: http::Limits,
    framers: [Framer; 2],
    /// The decoder of each direction's header blocks.
    hpack: [Decoder; 2],
    block: [Option<PendingBlock>; 2],
    streams: BTreeMap<u32, Stream>,
    /// Streams ended by the bytes being parsed: finished (logged) once all of them
    /// are, so that frames right behind the end (a RST_STREAM in the same segment)
    /// join the transaction, as in Suricata.
    ended: Vec<u32>,
    next_tx: u64,
}

impl Http2Conn {
    /// `preface`: the client direction starts with the connection preface.
    pub fn new(limits: http::Limits, preface: bool) -> Http2Conn {
        Http2Conn {
            limits,
            framers: [Framer::new(preface), Framer::new(false)],
            hpack: [Decoder::default(), Decoder::default()],
            block: [None, None],
            streams: BTreeMap::new(),
            ended: Vec::new(),
            next_tx: 0,
        }
    }

    /// The connection after an `h2c` upgrade: the HTTP/1 request that asked for it is
    /// stream 1's request (RFC 9113 §3.2), answered in HTTP/2.
    pub fn upgraded(limits: http::Limits, request: &Head, next_tx: u64) -> Http2Conn {
        let mut c = Http2Conn::new(limits, true);
        c.next_tx = next_tx;
        let mut fields = vec![
            Field::Header(b":method".to_vec(), request.parts[0].clone()),
            Field::Header(b":path".to_vec(), request.parts[1].clone()),
        ];
        if let Some(h) = request.header("Host") {
            fields.push(Field::Header(b":authority".to_vec(), h.to_vec()));
        }
        for (n, v) in &request.headers {
            let skip =
                ["Host", "HTTP2-Settings"].iter().any(|s| n.eq_ignore_ascii_case(s.as_bytes()));
            if !skip {
                fields.push(Field::Header(n.clone(), v.clone()));
            }
        }
        let s = c.stream(1);
        s.dirs[TO_SERVER].headers = fields;
        // Already inspected as HTTP/1.
        s.dirs[TO_SERVER].done = true;
        c
    }

    /// The stream `id`, created if new (the oldest finished when too many are open).
    fn stream(&mut self, id: u32) -> &mut Stream {
        let next_tx = &mut self.next_tx;
        self.streams.entry(id).or_insert_with(|| Stream::new(id, take_tx(next_tx)))
    }

    /// Finishes the oldest streams beyond [`MAX_STREAMS`].
    fn bound_streams(&mut self, cx: &mut AppCx<'_>) {
        while self.streams.len() > MAX_STREAMS {
            let Some((_, s)) = self.streams.pop_first() else { break };
            cx.count("http2_streams_evicted", 1);
            s.finish(&self.limits, cx);
        }
    }

    fn piece(&mut self, dir: usize, p: Piece<'_>, cx: &mut AppCx<'_>) {
        match p {
            Piece::Frame(h, payload) => {
                cx.count("http2_frames", 1);
                self.frame(dir, h, payload, cx);
            }
            Piece::DataStart(h) => {
                cx.count("http2_frames", 1);
                if h.stream == 0 {
                    cx.count("http2_errors_data_on_stream_0", 1);
                    return;
                }
                let s = self.stream(h.stream);
                s.dirs[dir].facts.types.push(frame::DATA);
                s.dirs[dir].start_body();
                self.bound_streams(cx);
            }
            Piece::Data(id, bytes) => {
                let limits = self.limits;
                if let Some(s) = self.streams.get_mut(&id) {
                    s.dirs[dir].push_body(bytes, &limits);
                }
            }
            Piece::DataEnd(h) => {
                if h.flags & frame::END_STREAM != 0 {
                    self.end_stream(dir, h.stream, cx);
                }
            }
            Piece::Skipped(h) => {
                cx.count("http2_errors_frame_too_long", 1);
                if matches!(h.ftype, frame::HEADERS | frame::PUSH_PROMISE | frame::CONTINUATION) {
                    // The decoder missed a block: later fields may be wrong.
                    cx.count("http2_errors_header_block_lost", 1);
                }
            }
        }
    }

    fn frame(&mut self, dir: usize, h: FrameHeader, payload: &[u8], cx: &mut AppCx<'_>) {
        // The frame as on the wire, its 9-byte header and its payload (frames).
        let mut wire = h.len.to_be_bytes()[1..].to_vec();
        wire.extend_from_slice(&[h.ftype, h.flags]);
        wire.extend_from_slice(&h.stream.to_be_bytes());
        let mut frames = Inspection::new(dir);
        frames.push(Buffer::Http2HdrFrame, &wire);
        wire.extend_from_slice(payload);
        frames.push(Buffer::Http2PduFrame, &wire);
        frames.push(Buffer::Http2DataFrame, payload);
        cx.inspect(frames);
        if h.ftype == frame::CONTINUATION {
            return self.continuation(dir, h, payload, cx);
        }
        if self.block[dir].take().is_some() {
            // A header block left without its CONTINUATION.
            cx.count("http2_errors_continuation_missing", 1);
        }
        let mut facts = Facts { types: vec![h.ftype], ..Default::default() };
        let u32_at =
            |i: usize| payload.get(i..i + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        match h.ftype {
            frame::HEADERS | frame::PUSH_PROMISE => {
                return self.headers(dir, h, payload, cx);
            }
            frame::PRIORITY => facts.priority.extend(payload.get(4).copied()),
            frame::RST_STREAM | frame::GOAWAY => {
                let at = if h.ftype == frame::GOAWAY { 4 } else { 0 };
                facts.error_codes.extend(u32_at(at));
                facts.goaway = h.ftype == frame::GOAWAY;
            }
            frame::WINDOW_UPDATE => facts.window.extend(u32_at(0).map(|w| w & 0x7fff_ffff)),
            frame::SETTINGS if h.flags & frame::ACK == 0 => {
                for e in payload.chunks_exact(6) {
                    let v = u32::from_be_bytes([e[2], e[3], e[4], e[5]]);
                    facts.settings.push((u16::from_be_bytes([e[0], e[1]]), v));
                }
                if !payload.len().is_multiple_of(6) {
                    cx.count("http2_errors_bad_settings", 1);
                }
            }
            _ => {}
        }
        if h.stream == 0 {
            // A transaction of its own.
            let mut s = Stream::new(0, take_tx(&mut self.next_tx));
            s.dirs[dir].facts = facts;
            s.dirs[dir].done = true;
            s.control(dir, cx);
            return;
        }
        let known = self.streams.contains_key(&h.stream);
        if !known && h.ftype != frame::PRIORITY && h.ftype != frame::RST_STREAM {
            // A WINDOW_UPDATE or PING for a finished stream: inspected alone.
            let mut s = Stream::new(h.stream, take_tx(&mut self.next_tx));
            s.dirs[dir].facts = facts;
            s.frames_only(dir, cx);
            return;
        }
        let s = self.stream(h.stream);
        s.dirs[dir].facts.merge(facts);
        self.bound_streams(cx);
        if h.ftype == frame::RST_STREAM && !self.ended.contains(&h.stream) {
            self.ended.push(h.stream);
        }
    }

    fn headers(&mut self, dir: usize, h: FrameHeader, payload: &[u8], cx: &mut AppCx<'_>) {
        let mut p = payload;
        let mut pad = 0usize;
        if h.flags & frame::PADDED != 0 {
            let Some((&n, rest)) = p.split_first() else { return self.malformed(cx) };
            pad = n as usize;
            p = rest;
        }
        let mut priority = None;
        let mut promised = None;
        if h.ftype == frame::PUSH_PROMISE {
            let Some(id) = p.get(..4) else { return self.malformed(cx) };
            promised = Some(u32::from_be_bytes([id[0], id[1], id[2], id[3]]) & 0x7fff_ffff);
            p = &p[4..];
        } else if h.flags & frame::PRIORITY_FLAG != 0 {
            let Some(&w) = p.get(4) else { return self.malformed(cx) };
            priority = Some(w);
            p = &p[5..];
        }
        if pad > p.len() {
            return self.malformed(cx);
        }
        let fragment = &p[..p.len() - pad];
        if h.stream == 0 {
            cx.count("http2_errors_headers_on_stream_0", 1);
        }
        let s = self.stream(h.stream);
        s.dirs[dir].facts.types.push(h.ftype);
        s.dirs[dir].facts.priority.extend(priority);
        self.bound_streams(cx);
        let block = PendingBlock {
            stream: h.stream,
            promised,
            end_stream: h.ftype == frame::HEADERS && h.flags & frame::END_STREAM != 0,
            data: fragment.to_vec(),
        };
        if h.flags & frame::END_HEADERS != 0 {
            self.header_block(dir, block, cx);
        } else {
            self.block[dir] = Some(block);
        }
    }

    fn continuation(&mut self, dir: usize, h: FrameHeader, payload: &[u8], cx: &mut AppCx<'_>) {
        let Some(mut block) = self.block[dir].take() else {
            cx.count("http2_errors_continuation_unexpected", 1);
            return;
        };
        if block.stream != h.stream || block.data.len() + payload.len() > MAX_HEADER_BLOCK {
            cx.count("http2_errors_header_block_lost", 1);
            return;
        }
        block.data.extend_from_slice(payload);
        if let Some(s) = self.streams.get_mut(&h.stream) {
            s.dirs[dir].facts.types.push(frame::CONTINUATION);
        }
        if h.flags & frame::END_HEADERS != 0 {
            self.header_block(dir, block, cx);
        } else {
            self.block[dir] = Some(block);
        }
    }

    /// Decodes a complete header block into its stream's fields.
    fn header_block(&mut self, dir: usize, block: PendingBlock, cx: &mut AppCx<'_>) {
        let mut errors = DecodeErrors::default();
        let fields = self.hpack[dir].decode(&block.data, &mut errors);
        cx.count("http2_errors_hpack_index", errors.bad_index as u64);
        cx.count("http2_errors_hpack_huffman", errors.bad_huffman as u64);
        cx.count("http2_errors_hpack_truncated", errors.truncated as u64);
        cx.count("http2_hpack_table_capped", errors.size_capped as u64);
        let target = block.promised.unwrap_or(block.stream);
        let s = self.stream(target);
        let d = &mut s.dirs[dir];
        d.facts.size_updates.extend(fields.iter().filter_map(|f| match f {
            Field::SizeUpdate(n) => Some(*n),
            Field::Header(..) => None,
        }));
        d.headers.extend(fields);
        self.bound_streams(cx);
        if block.end_stream {
            self.end_stream(dir, block.stream, cx);
        }
    }

    /// Direction `dir` of stream `id` ended (END_STREAM).
    fn end_stream(&mut self, dir: usize, id: u32, cx: &mut AppCx<'_>) {
        let limits = self.limits;
        let Some(s) = self.streams.get_mut(&id) else { return };
        s.complete(dir, &limits, cx);
        if dir == TO_CLIENT && !self.ended.contains(&id) {
            self.ended.push(id);
        }
    }

    /// Finishes the streams that ended.
    fn flush_ended(&mut self, cx: &mut AppCx<'_>) {
        for id in std::mem::take(&mut self.ended) {
            if let Some(s) = self.streams.remove(&id) {
                s.finish(&self.limits, cx);
            }
        }
    }

    fn malformed(&mut self, cx: &mut AppCx<'_>) {
        cx.count("http2_errors_bad_frame", 1);
    }
}

/// The next transaction id of the connection.
fn take_tx(next: &mut u64) -> u64 {
    *next += 1;
    *next - 1
}

impl AppParser for Http2Conn {
    fn mem_usage(&self) -> usize {
        let streams: usize = self.streams.values().map(Stream::heap_bytes).sum();
        let blocks: usize = self.block.iter().flatten().map(|b| b.data.capacity()).sum();
        self.framers.iter().map(Framer::held).sum::<usize>()
            + self.hpack.iter().map(Decoder::heap_bytes).sum::<usize>()
            + blocks
            + streams
    }

    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        let mut framer = std::mem::replace(&mut self.framers[dir], Framer::new(false));
        framer.feed(bytes, &mut |p| self.piece(dir, p, cx));
        self.framers[dir] = framer;
        self.flush_ended(cx);
    }

    fn gap(&mut self, dir: usize, cx: &mut AppCx<'_>) {
        // No frame boundary to resynchronise on, and the HPACK state is lost.
        if !self.framers[dir].is_dead() {
            cx.count("http2_gaps", 1);
            self.framers[dir].kill();
        }
    }

    fn end(&mut self, cx: &mut AppCx<'_>) {
        self.flush_ended(cx);
        let limits = self.limits;
        for (_, s) in std::mem::take(&mut self.streams) {
            s.finish(&limits, cx);
        }
    }
}

#[cfg(test)]
mod tests;
