//! A message body as it arrives: counted, hashed whole, kept up to the inspection
//! limit, and content-decoded (gzip, deflate) when complete. HTTP/1 and HTTP/2 share
//! it.

use std::io::Read;

use super::{Body, Head, Limits};
use crate::app::files::Hashes;

/// A Content-Encoding undone on completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Identity,
    Gzip,
    Deflate,
}

impl Encoding {
    /// The encoding a message's `Content-Encoding` names.
    pub(crate) fn of(head: &Head) -> Encoding {
        Encoding::named(head.header("Content-Encoding"))
    }

    pub(crate) fn named(v: Option<&[u8]>) -> Encoding {
        match v.map(|v| v.to_ascii_lowercase()) {
            Some(v) if v.starts_with(b"gzip") || v.starts_with(b"x-gzip") => Encoding::Gzip,
            Some(v) if v.starts_with(b"deflate") => Encoding::Deflate,
            _ => Encoding::Identity,
        }
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
        if self.encoding != Encoding::Identity && !data.is_empty() {
            match decode(&data, self.encoding, limits.decoded_limit) {
                Some(d) => {
                    data = d;
                    decoded = true;
                }
                None => *decode_failed += 1,
            }
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

/// Decodes a gzip or deflate body, up to `limit` output bytes. A truncated stream
/// yields what decoded before the cut; `None` when nothing decodes.
fn decode(data: &[u8], enc: Encoding, limit: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let res = match enc {
        Encoding::Gzip => {
            flate2::read::MultiGzDecoder::new(data).take(limit as u64).read_to_end(&mut out)
        }
        Encoding::Deflate => {
            // `deflate` is zlib-wrapped by the standard, raw in much real traffic.
            let r = flate2::read::ZlibDecoder::new(data).take(limit as u64).read_to_end(&mut out);
            if r.is_err() && out.is_empty() {
                flate2::read::DeflateDecoder::new(data).take(limit as u64).read_to_end(&mut out)
            } else {
                r
            }
        }
        Encoding::Identity => return Some(data.to_vec()),
    };
    match res {
        Ok(_) => Some(out),
        Err(_) if !out.is_empty() => Some(out),
        Err(_) => None,
    }
}
