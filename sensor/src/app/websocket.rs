//! WebSocket (RFC 6455) after an HTTP/1 `101 Switching Protocols` to `websocket`.
//!
//! Each frame is a transaction with Suricata's `websocket.opcode`, `websocket.flags`,
//! `websocket.mask`, `websocket.payload` (unmasked, and inflated when the handshake
//! agreed `permessage-deflate`, RFC 7692) and the frames `websocket.pdu`,
//! `websocket.header`, `websocket.data` as they are on the wire; an EVE `websocket`
//! record per frame.

use flate2::{Decompress, FlushDecompress};
use gatewatch_rules::signature::Buffer;
use serde::Serialize;

use super::parser::{meta, AppCx, Inspection};
use super::records::Record;

/// Payload bytes inspected of one frame (and inflated from a compressed one).
const MAX_PAYLOAD: usize = 1 << 20;
/// Bytes held while a frame is incomplete; a longer frame is inspected from its
/// first part.
const MAX_HELD: usize = MAX_PAYLOAD + 14;

/// Opcode names as Suricata writes and matches them.
const OPCODES: [(u8, &str); 6] =
    [(0, "continuation"), (1, "text"), (2, "binary"), (8, "close"), (9, "ping"), (10, "pong")];

/// The opcode of a name, for `websocket.opcode:text`.
pub fn opcode_of(name: &str) -> Option<u8> {
    OPCODES.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|(c, _)| *c)
}

/// The EVE `websocket` object of a frame.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct WebsocketRecord {
    pub(crate) fin: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mask: Option<u32>,
    pub(crate) opcode: String,
}

/// A frame's header: its length, flags byte, opcode, mask and payload length.
struct Header {
    len: usize,
    flags: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: usize,
}

fn header(d: &[u8]) -> Option<Header> {
    let (b0, b1) = (*d.first()?, *d.get(1)?);
    let (mut len, mut payload) = (2usize, (b1 & 0x7f) as usize);
    if payload == 126 {
        payload = u16::from_be_bytes(d.get(2..4)?.try_into().ok()?) as usize;
        len = 4;
    } else if payload == 127 {
        let v = u64::from_be_bytes(d.get(2..10)?.try_into().ok()?);
        payload = usize::try_from(v).unwrap_or(usize::MAX);
        len = 10;
    }
    let mask = if b1 & 0x80 != 0 {
        let m: [u8; 4] = d.get(len..len + 4)?.try_into().ok()?;
        len += 4;
        Some(m)
    } else {
        None
    };
    Some(Header { len, flags: b0 & 0xf0, opcode: b0 & 0x0f, mask, payload })
}

/// One direction's frames.
#[derive(Default)]
struct Direction {
    held: Vec<u8>,
    /// The inflater of a compressed message, kept across messages (context takeover).
    inflate: Option<Decompress>,
}

impl std::fmt::Debug for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Direction({} held)", self.held.len())
    }
}

/// The WebSocket parser of one upgraded connection.
#[derive(Debug, Default)]
pub struct WebsocketConn {
    dirs: [Direction; 2],
    deflate: bool,
}

impl WebsocketConn {
    /// After the handshake; `deflate` when the server agreed `permessage-deflate`.
    pub fn new(deflate: bool) -> WebsocketConn {
        WebsocketConn { deflate, ..Default::default() }
    }

    /// Heap bytes held: partial frames, and each inflater's window and state.
    pub fn mem_usage(&self) -> usize {
        const INFLATE_STATE: usize = 48 * 1024;
        self.dirs
            .iter()
            .map(|d| d.held.capacity() + d.inflate.as_ref().map_or(0, |_| INFLATE_STATE))
            .sum()
    }

    /// Parses the bytes of direction `dir`.
    pub fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        self.dirs[dir].held.extend_from_slice(bytes);
        loop {
            let held = &self.dirs[dir].held;
            let Some(h) = header(held) else { break };
            let whole = h.len.saturating_add(h.payload);
            let end = if whole <= held.len() {
                whole
            } else if held.len() >= MAX_HELD {
                // Too long to hold whole: inspected from what came; the rest is lost.
                cx.count("websocket_frames_cut", 1);
                held.len()
            } else {
                break;
            };
            let frame: Vec<u8> = self.dirs[dir].held.drain(..end).collect();
            self.frame(dir, &h, &frame, cx);
            if end < whole {
                // Resynchronising inside a frame is not possible: stop this direction.
                self.dirs[dir].held = Vec::new();
                self.dirs[dir].held.shrink_to_fit();
                break;
            }
        }
    }

    fn frame(&mut self, dir: usize, h: &Header, frame: &[u8], cx: &mut AppCx<'_>) {
        cx.count("websocket_frames", 1);
        let data = &frame[h.len..];
        let mut payload = data[..data.len().min(MAX_PAYLOAD)].to_vec();
        if let Some(m) = h.mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= m[i % 4];
            }
        }
        // RSV1 marks a compressed message (its first frame).
        if self.deflate && h.flags & 0x40 != 0 {
            let inflater = self.dirs[dir].inflate.get_or_insert_with(|| Decompress::new(false));
            match inflate(inflater, &payload) {
                Some(p) => payload = p,
                None => cx.event("websocket.invalid_compression"),
            }
        }
        let mut insp = Inspection::new(dir);
        insp.push(Buffer::WebsocketPdu, frame);
        insp.push(Buffer::WebsocketHeader, &frame[..h.len]);
        insp.push(Buffer::WebsocketData, data);
        insp.push(Buffer::WebsocketPayload, &payload);
        insp.push(Buffer::WebsocketOpcode, h.opcode.to_string().as_bytes());
        insp.push(Buffer::WebsocketFlags, h.flags.to_string().as_bytes());
        let mask = h.mask.map(u32::from_be_bytes);
        if let Some(m) = mask {
            insp.push(Buffer::WebsocketMask, m.to_string().as_bytes());
        }
        let opcode = OPCODES
            .iter()
            .find(|(c, _)| *c == h.opcode)
            .map_or_else(|| h.opcode.to_string(), |(_, n)| n.to_string());
        let rec = WebsocketRecord { fin: h.flags & 0x80 != 0, mask, opcode };
        insp.meta = meta("websocket", &rec);
        cx.inspect(insp);
        cx.record(dir == 0, Record::Websocket(rec));
    }
}

/// Inflates one compressed message (RFC 7692 §7.2.2: the deflate tail removed by the
/// sender is put back), bounded.
fn inflate(d: &mut Decompress, payload: &[u8]) -> Option<Vec<u8>> {
    let mut input = payload.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(input.len() * 4);
    let mut at = 0;
    while at < input.len() && out.len() < MAX_PAYLOAD {
        out.reserve(16 * 1024);
        let before = d.total_in();
        d.decompress_vec(&input[at..], &mut out, FlushDecompress::Sync).ok()?;
        let used = (d.total_in() - before) as usize;
        if used == 0 && out.len() < out.capacity() {
            break;
        }
        at += used;
    }
    out.truncate(MAX_PAYLOAD);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::parser::{AppCounters, AppOutput};

    fn run(conn: &mut WebsocketConn, script: &[(usize, Vec<u8>)], seg: usize) -> AppOutput {
        let (mut out, mut counters) = (AppOutput::default(), AppCounters::default());
        let mut cx = AppCx { counters: &mut counters, out: &mut out };
        for (dir, bytes) in script {
            for part in bytes.chunks(seg) {
                conn.parse(*dir, part, &mut cx);
            }
        }
        out
    }

    fn buffer(out: &AppOutput, i: usize, b: Buffer) -> Vec<u8> {
        out.inspections[i].buffers.iter().find(|(x, _)| *x == b).map(|(_, v)| v.clone()).unwrap()
    }

    #[test]
    fn masked_and_plain_frames_in_any_segmentation() {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut client = vec![0x81, 0x85];
        client.extend_from_slice(&mask);
        client.extend(b"Hello".iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        let server = [&[0x81u8, 0x03][..], b"abc", &[0x89, 0x00]].concat();
        for seg in [1, 4, 100] {
            let mut conn = WebsocketConn::new(false);
            let out = run(&mut conn, &[(0, client.clone()), (1, server.clone())], seg);
            assert_eq!(out.inspections.len(), 3, "seg {seg}");
            assert_eq!(buffer(&out, 0, Buffer::WebsocketPayload), b"Hello");
            assert_eq!(
                buffer(&out, 0, Buffer::WebsocketMask),
                0x37fa213du32.to_string().as_bytes()
            );
            assert_eq!(buffer(&out, 0, Buffer::WebsocketHeader), &client[..6]);
            assert_eq!(buffer(&out, 1, Buffer::WebsocketData), b"abc");
            assert_eq!(buffer(&out, 2, Buffer::WebsocketOpcode), b"9");
            let Record::Websocket(r) = &out.records[0].1 else { panic!() };
            assert_eq!((r.fin, r.mask, r.opcode.as_str()), (true, Some(0x37fa213d), "text"));
        }
    }

    #[test]
    fn a_compressed_message_is_inflated() {
        // "Hello" compressed as RFC 7692 §7.2.3.1 shows.
        let frame = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let mut conn = WebsocketConn::new(true);
        let out = run(&mut conn, &[(1, frame.to_vec())], 100);
        assert_eq!(buffer(&out, 0, Buffer::WebsocketPayload), b"Hello");
        assert_eq!(opcode_of("TEXT"), Some(1));
    }
}
