//! HTTP/2 framing (RFC 9113 §4): one direction's bytes cut into frames.
//!
//! DATA payloads are streamed to their stream as they arrive (never held whole);
//! other frames are held until complete, up to [`MAX_CONTROL_FRAME`] bytes, beyond
//! which they are skipped (counted). HTTP/2 has no marker to resynchronise on: after
//! a gap a direction is given up (counted).

use gatewatch_rules::signature::http2;

/// The client's connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// The largest non-DATA frame held for parsing.
pub const MAX_CONTROL_FRAME: usize = 256 * 1024;

pub const DATA: u8 = 0;
pub const HEADERS: u8 = 1;
pub const PRIORITY: u8 = 2;
pub const RST_STREAM: u8 = 3;
pub const SETTINGS: u8 = 4;
pub const PUSH_PROMISE: u8 = 5;
#[cfg(test)]
pub const PING: u8 = 6;
pub const GOAWAY: u8 = 7;
pub const WINDOW_UPDATE: u8 = 8;
pub const CONTINUATION: u8 = 9;

pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIORITY_FLAG: u8 = 0x20;

/// The name of an error code, or its number.
pub fn error_name(code: u32) -> String {
    http2::ERROR_CODES.get(code as usize).map_or_else(|| code.to_string(), |s| s.to_string())
}

/// The name of a setting, or its number.
pub fn setting_name(id: u16) -> String {
    match http2::SETTINGS.get((id as usize).wrapping_sub(1)) {
        Some(n) if !n.is_empty() => format!("SETTINGS{n}"),
        _ => id.to_string(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub len: u32,
    pub ftype: u8,
    pub flags: u8,
    pub stream: u32,
}

impl FrameHeader {
    pub fn parse(b: &[u8]) -> Option<FrameHeader> {
        let b: &[u8; 9] = b.get(..9)?.try_into().ok()?;
        Some(FrameHeader {
            len: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            ftype: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        })
    }

    pub fn encode(&self) -> [u8; 9] {
        let l = self.len.to_be_bytes();
        let s = self.stream.to_be_bytes();
        [l[1], l[2], l[3], self.ftype, self.flags, s[0], s[1], s[2], s[3]]
    }
}

/// What the framer hands the connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A complete non-DATA frame.
    Frame(FrameHeader, &'a [u8]),
    /// The header of a DATA frame (its payload follows as [`Piece::Data`]).
    DataStart(FrameHeader),
    /// Payload bytes of the current DATA frame, padding removed.
    Data(u32, &'a [u8]),
    /// The current DATA frame is complete.
    DataEnd(FrameHeader),
    /// A non-DATA frame too long to hold: skipped.
    Skipped(FrameHeader),
}

#[derive(Debug)]
enum State {
    /// Waiting for the connection preface (client side, prior knowledge).
    Preface,
    Header,
    /// Holding a frame until complete.
    Frame(FrameHeader),
    /// The pad length octet of a padded DATA frame.
    DataPad(FrameHeader),
    /// DATA payload: `data` bytes then `pad` bytes of padding.
    Data {
        hdr: FrameHeader,
        data: u32,
        pad: u32,
    },
    Skip(u32),
    /// Given up (a gap, or not HTTP/2).
    Dead,
}

/// One direction's framing state.
#[derive(Debug)]
pub struct Framer {
    state: State,
    buf: Vec<u8>,
}

impl Framer {
    /// Bytes held for a frame not complete yet.
    pub fn held(&self) -> usize {
        self.buf.capacity()
    }

    /// `preface`: the direction starts with the client preface (which may also be
    /// absent, as after an `h2c` upgrade's request was seen elsewhere).
    pub fn new(preface: bool) -> Framer {
        Framer { state: if preface { State::Preface } else { State::Header }, buf: Vec::new() }
    }

    pub fn is_dead(&self) -> bool {
        matches!(self.state, State::Dead)
    }

    /// Gives up on the direction.
    pub fn kill(&mut self) {
        self.state = State::Dead;
        self.buf = Vec::new();
    }

    /// Bytes held for an incomplete frame.
    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Cuts `bytes` into pieces, handing each to `f` in order.
    pub fn feed(&mut self, bytes: &[u8], f: &mut dyn FnMut(Piece<'_>)) {
        if self.buf.is_empty() {
            let used = self.step(bytes, f);
            if used < bytes.len() && !self.is_dead() {
                self.buf.extend_from_slice(&bytes[used..]);
            }
        } else {
            let mut buf = std::mem::take(&mut self.buf);
            buf.extend_from_slice(bytes);
            let used = self.step(&buf, f);
            if !self.is_dead() {
                buf.drain(..used);
                self.buf = buf;
            }
        }
    }

    /// Consumes what it can of `b`; returns the bytes used (the rest waits for more).
    fn step(&mut self, b: &[u8], f: &mut dyn FnMut(Piece<'_>)) -> usize {
        let mut pos = 0;
        loop {
            let rest = &b[pos..];
            match self.state {
                State::Dead => return b.len(),
                State::Preface => {
                    let n = rest.len().min(PREFACE.len());
                    if rest[..n] != PREFACE[..n] {
                        // No preface: frames from the start.
                        self.state = State::Header;
                    } else if n < PREFACE.len() {
                        return pos;
                    } else {
                        pos += n;
                        self.state = State::Header;
                    }
                }
                State::Header => {
                    let Some(h) = FrameHeader::parse(rest) else { return pos };
                    pos += 9;
                    self.state = match h.ftype {
                        DATA if h.flags & PADDED != 0 => State::DataPad(h),
                        DATA => {
                            f(Piece::DataStart(h));
                            State::Data { hdr: h, data: h.len, pad: 0 }
                        }
                        _ if h.len as usize > MAX_CONTROL_FRAME => {
                            f(Piece::Skipped(h));
                            State::Skip(h.len)
                        }
                        _ => State::Frame(h),
                    };
                }
                State::Frame(h) => {
                    if rest.len() < h.len as usize {
                        return pos;
                    }
                    f(Piece::Frame(h, &rest[..h.len as usize]));
                    pos += h.len as usize;
                    self.state = State::Header;
                }
                State::DataPad(h) => {
                    if h.len == 0 {
                        // A padded frame without room for its pad length: malformed.
                        f(Piece::DataStart(h));
                        f(Piece::DataEnd(h));
                        self.state = State::Header;
                        continue;
                    }
                    let Some(&p) = rest.first() else { return pos };
                    pos += 1;
                    let pad = (p as u32).min(h.len - 1);
                    f(Piece::DataStart(h));
                    self.state = State::Data { hdr: h, data: h.len - 1 - pad, pad };
                }
                State::Data { hdr, data, pad } => {
                    if data == 0 && pad == 0 {
                        f(Piece::DataEnd(hdr));
                        self.state = State::Header;
                        continue;
                    }
                    if rest.is_empty() {
                        return pos;
                    }
                    let take = rest.len().min(data as usize);
                    if take > 0 {
                        f(Piece::Data(hdr.stream, &rest[..take]));
                    }
                    let skip = (rest.len() - take).min(pad as usize);
                    pos += take + skip;
                    self.state =
                        State::Data { hdr, data: data - take as u32, pad: pad - skip as u32 };
                }
                State::Skip(left) => {
                    let take = rest.len().min(left as usize);
                    pos += take;
                    if take as u32 == left {
                        self.state = State::Header;
                    } else {
                        self.state = State::Skip(left - take as u32);
                        return pos;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ftype: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let h = FrameHeader { len: payload.len() as u32, ftype, flags, stream };
        let mut v = h.encode().to_vec();
        v.extend_from_slice(payload);
        v
    }

    fn pieces(framer: &mut Framer, bytes: &[u8], seg: usize) -> Vec<String> {
        let mut out = Vec::new();
        for part in bytes.chunks(seg) {
            framer.feed(part, &mut |p| {
                out.push(match p {
                    Piece::Frame(h, b) => format!("frame {} {}", h.ftype, b.len()),
                    Piece::DataStart(h) => format!("data {}", h.stream),
                    Piece::Data(_, b) => format!("d:{}", String::from_utf8_lossy(b)),
                    Piece::DataEnd(_) => "end".into(),
                    Piece::Skipped(h) => format!("skipped {}", h.ftype),
                })
            });
        }
        out
    }

    #[test]
    fn frames_in_any_segmentation() {
        let mut bytes = PREFACE.to_vec();
        bytes.extend(frame(SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]));
        // Padded DATA: pad length 2, "hello", two bytes of padding.
        bytes.extend(frame(DATA, PADDED | END_STREAM, 1, b"\x02hello\0\0"));
        bytes.extend(frame(PING, 0, 0, &[0; 8]));
        for seg in [1, 3, 7, 1000] {
            let got = pieces(&mut Framer::new(true), &bytes, seg);
            let text: String =
                got.iter().filter_map(|s| s.strip_prefix("d:")).collect::<Vec<_>>().concat();
            let other: Vec<_> = got.iter().filter(|s| !s.starts_with("d:")).collect();
            assert_eq!(other, ["frame 4 6", "data 1", "end", "frame 6 8"], "seg {seg}");
            assert_eq!(text, "hello", "seg {seg}");
        }
    }

    #[test]
    fn oversized_control_frames_are_skipped() {
        let mut f = Framer::new(false);
        let big = frame(HEADERS, 0, 1, &vec![0; MAX_CONTROL_FRAME + 1]);
        let mut bytes = big;
        bytes.extend(frame(PING, 0, 0, &[0; 8]));
        assert_eq!(pieces(&mut f, &bytes, 4096), ["skipped 1", "frame 6 8"]);
        assert_eq!(f.buffered(), 0);
    }
}
