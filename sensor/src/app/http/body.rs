//! A message body as it arrives: counted, hashed whole, kept up to the inspection
//! limit, and content-decoded (gzip, deflate) when complete. HTTP/1 and HTTP/2 share
//! it.

use std::io::Read;

use super::{Body, Head, Limits};
use crate::app::files::Hashes;

/// Layers of content coding undone, as Suricata's default
/// `response-body-decompress-layer-limit`.
pub(crate) const LAYER_LIMIT: usize = 2;

/// LZMA dictionary memory a body may use, as libhtp.
const LZMA_MEMLIMIT: usize = 1 << 20;

/// One content coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    /// Raw deflate (RFC 1951), what most servers send as `deflate`.
    Deflate,
    /// Zlib-wrapped deflate (RFC 1950), what the standard means by `deflate`.
    Zlib,
    Lzma,
}

impl Coding {
    /// The next decoder tried when one fails, as libhtp tries them: a body labelled
    /// wrongly still decodes.
    fn fallback(self) -> Coding {
        match self {
            Coding::Gzip => Coding::Deflate,
            Coding::Deflate => Coding::Zlib,
            Coding::Zlib => Coding::Gzip,
            Coding::Lzma => Coding::Deflate,
        }
    }
}

/// The content codings of a body in the order they were applied, as libhtp reads
/// `Content-Encoding`: one known name, or a list split on commas and spaces, at most
/// [`LAYER_LIMIT`] entries (unknown names count but decode nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Encoding {
    layers: [Option<Coding>; LAYER_LIMIT],
}

impl Encoding {
    /// The encoding a message's `Content-Encoding` headers name.
    pub(crate) fn of(head: &Head) -> Encoding {
        Encoding::named(head.header_joined("Content-Encoding").as_deref())
    }

    pub(crate) fn named(v: Option<&[u8]>) -> Encoding {
        let mut enc = Encoding::default();
        // NUL bytes are ignored in the value, as libhtp ignores them.
        let Some(v) = v.map(|v| v.iter().copied().filter(|c| *c != 0).collect::<Vec<u8>>()) else {
            return enc;
        };
        let v = super::head::trim(&v);
        let fast = [
            (&b"gzip"[..], Some(Coding::Gzip)),
            (b"x-gzip", Some(Coding::Gzip)),
            (b"deflate", Some(Coding::Deflate)),
            (b"x-deflate", Some(Coding::Deflate)),
            (b"lzma", Some(Coding::Lzma)),
            (b"inflate", None),
            (b"none", None),
        ];
        if let Some((_, c)) = fast.iter().find(|(n, _)| v.eq_ignore_ascii_case(n)) {
            enc.layers[0] = *c;
            return enc;
        }
        let mut lzma = 0;
        let names = v.split(|c| *c == b',' || *c == b' ').filter(|n| !n.is_empty());
        for (i, name) in names.enumerate() {
            if i >= LAYER_LIMIT {
                break;
            }
            let has = |w: &[u8]| name.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w));
            enc.layers[i] = if has(b"gzip") {
                Some(Coding::Gzip)
            } else if has(b"deflate") {
                Some(Coding::Deflate)
            } else if name == b"lzma" {
                lzma += 1;
                if lzma > 1 {
                    break;
                }
                Some(Coding::Lzma)
            } else {
                None
            };
        }
        enc
    }

    pub(crate) fn is_identity(&self) -> bool {
        self.layers.iter().all(Option::is_none)
    }
}

pub(crate) struct BodySink {
    pub(crate) data: Vec<u8>,
    pub(crate) size: u64,
    truncated: bool,
    hashes: Hashes,
    encoding: Encoding,
}

impl std::fmt::Debug for BodySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodySink").field("size", &self.size).finish()
    }
}

impl BodySink {
    pub(crate) fn new(encoding: Encoding) -> BodySink {
        BodySink {
            data: Vec::new(),
            size: 0,
            truncated: false,
            hashes: Hashes::default(),
            encoding,
        }
    }

    /// Body bytes, in order.
    pub(crate) fn push(&mut self, data: &[u8], limits: &Limits) {
        if data.is_empty() {
            return;
        }
        self.size += data.len() as u64;
        self.hashes.update(data);
        let room = limits.body_limit.saturating_sub(self.data.len());
        if data.len() > room {
            self.truncated = true;
        }
        self.data.extend_from_slice(&data[..room.min(data.len())]);
    }

    /// The finished body; a failed content decoding is counted in `decode_failed`.
    pub(crate) fn finish(self, limits: &Limits, incomplete: bool, decode_failed: &mut u64) -> Body {
        let mut data = self.data;
        let mut decoded = false;
        if !self.encoding.is_identity() && !data.is_empty() {
            let (d, any, all) = decode(&data, self.encoding, limits.decoded_limit);
            if !all {
                *decode_failed += 1;
            }
            data = d;
            decoded = any;
        }
        let (md5, sha1, sha256) = self.hashes.finish();
        Body {
            // As Suricata's body limit, counted after content decoding.
            inspect_len: data.len().min(limits.body_limit),
            data,
            size: self.size,
            truncated: self.truncated,
            md5,
            sha1,
            sha256,
            incomplete,
            decoded,
        }
    }
}

/// Undoes the codings of a body, the last applied first, up to `limit` output bytes:
/// (bytes, some layer decoded, every layer decoded). A layer no decoder can read is
/// passed through unchanged, as libhtp does.
fn decode(data: &[u8], enc: Encoding, limit: usize) -> (Vec<u8>, bool, bool) {
    let mut cur = data.to_vec();
    let (mut any, mut all) = (false, true);
    for coding in enc.layers.iter().rev().flatten() {
        match decode_layer(&cur, *coding, limit) {
            Some(out) => {
                cur = out;
                any = true;
            }
            None => all = false,
        }
    }
    (cur, any, all)
}

/// One layer: the named decoder, then the others in libhtp's order (three more
/// tries). A first try that decoded something before failing keeps what it decoded
/// (a truncated body). `None`: nothing decodes.
fn decode_layer(data: &[u8], coding: Coding, limit: usize) -> Option<Vec<u8>> {
    let mut coding = coding;
    for attempt in 0..4 {
        match decode_as(data, coding, limit) {
            Ok(out) if !out.is_empty() || data.is_empty() => return Some(out),
            Err(partial) if attempt == 0 && !partial.is_empty() => return Some(partial),
            _ => coding = coding.fallback(),
        }
    }
    None
}

/// Decodes `data` as `coding`; on an error, what decoded before it.
fn decode_as(data: &[u8], coding: Coding, limit: usize) -> Result<Vec<u8>, Vec<u8>> {
    let mut out = Vec::new();
    let res = match coding {
        Coding::Gzip => {
            let Some(start) = gzip_payload(data) else { return Err(out) };
            flate2::read::DeflateDecoder::new(&data[start..])
                .take(limit as u64)
                .read_to_end(&mut out)
                .map(|_| ())
        }
        Coding::Deflate => flate2::read::DeflateDecoder::new(data)
            .take(limit as u64)
            .read_to_end(&mut out)
            .map(|_| ()),
        Coding::Zlib => flate2::read::ZlibDecoder::new(data)
            .take(limit as u64)
            .read_to_end(&mut out)
            .map(|_| ()),
        Coding::Lzma => {
            let opts = lzma_rs::decompress::Options {
                memlimit: Some(LZMA_MEMLIMIT),
                allow_incomplete: true,
                ..Default::default()
            };
            let mut w = Capped { out: &mut out, room: limit };
            lzma_rs::lzma_decompress_with_options(&mut &data[..], &mut w, &opts)
                .map_err(|e| std::io::Error::other(e.to_string()))
        }
    };
    match res {
        Ok(()) => Ok(out),
        Err(_) => Err(out),
    }
}

/// Where the deflate stream of a gzip member starts. Read leniently, as browsers and
/// libhtp read it: reserved flag bits, the header CRC and the trailer are not checked.
fn gzip_payload(data: &[u8]) -> Option<usize> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if data.len() < 10 || data[..3] != [0x1f, 0x8b, 8] {
        return None;
    }
    let flags = data[3];
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        let xlen = u16::from_le_bytes([*data.get(pos)?, *data.get(pos + 1)?]) as usize;
        pos += 2 + xlen;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            pos += memchr::memchr(0, data.get(pos..)?)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    (pos <= data.len()).then_some(pos)
}

/// A writer that takes `room` bytes and refuses the rest.
struct Capped<'a> {
    out: &'a mut Vec<u8>,
    room: usize,
}

impl std::io::Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let n = buf.len().min(self.room);
        self.out.extend_from_slice(&buf[..n]);
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
