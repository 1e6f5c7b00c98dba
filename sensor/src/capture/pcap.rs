//! pcap (both byte orders, µs and ns) and pcapng (SHB, IDB, EPB, SPB, OPB; several
//! interfaces and sections) readers.
//!
//! A corrupt or truncated file yields every readable packet, then an error naming the
//! byte offset where reading stopped. Only an unreadable header is fatal.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::{Frame, LinkType};

/// Largest record accepted; anything bigger is corruption, not a packet.
pub const MAX_RECORD: usize = 256 * 1024;

/// Why a capture file could not be read: the file, the byte and what was wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PcapError {
    /// The file could not be opened.
    #[error("cannot open `{path}`: {source}")]
    Open {
        /// The file.
        path: String,
        /// The system's error.
        source: io::Error,
    },
    /// Neither a pcap nor a pcapng magic number.
    #[error("`{path}` is not a pcap or pcapng file (magic {magic:#010x})")]
    BadMagic {
        /// The file.
        path: String,
        /// The first four bytes.
        magic: u32,
    },
    /// The file ends inside a header or record.
    #[error("`{path}`: truncated {what} at byte {offset}")]
    Truncated {
        /// The file.
        path: String,
        /// What was cut (`record header`, `block`).
        what: &'static str,
        /// Where it starts.
        offset: u64,
    },
    /// A header or record has impossible values.
    #[error("`{path}`: corrupt {what} at byte {offset}: {detail}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is corrupt.
        what: &'static str,
        /// Where it starts.
        offset: u64,
        /// What is wrong with it.
        detail: String,
    },
    /// Reading failed.
    #[error("`{path}`: read error at byte {offset}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Where reading stopped.
        offset: u64,
        /// The system's error.
        source: io::Error,
    },
}

impl PcapError {
    /// True when packets were read before the problem (the file is partly usable).
    pub fn is_partial(&self) -> bool {
        matches!(
            self,
            PcapError::Truncated { .. } | PcapError::Corrupt { .. } | PcapError::Io { .. }
        )
    }
}

enum Format {
    Pcap { big_endian: bool, nanos: bool, link: LinkType },
    PcapNg(NgState),
}

struct NgState {
    big_endian: bool,
    /// Per interface: link type and timestamp units per second.
    ifaces: Vec<(LinkType, u64)>,
}

/// A packet found in the window: its time, original length, link type, and where its
/// bytes are (`window[at..at + len]`).
struct Record {
    ts_us: i64,
    orig_len: u32,
    link: LinkType,
    at: usize,
    len: usize,
}

/// Bytes read ahead from the input at a time (and the window's usual size).
const WINDOW: usize = 1 << 20;

/// Reads packets from a capture file or any byte stream.
///
/// The reader reads ahead into one window and hands out frames that point into it:
/// a packet is copied once, from the kernel into the window, and no more.
pub struct PcapReader<R: Read> {
    inner: R,
    path: String,
    format: Format,
    /// Bytes consumed so far (the offset in the file of `window[start]`).
    offset: u64,
    /// Bytes read and not yet consumed are `window[start..end]`.
    window: Vec<u8>,
    start: usize,
    end: usize,
    failed: bool,
}

impl PcapReader<File> {
    pub(crate) fn open(path: &Path) -> Result<Self, PcapError> {
        let f = File::open(path)
            .map_err(|e| PcapError::Open { path: path.display().to_string(), source: e })?;
        PcapReader::new(f, &path.display().to_string())
    }
}

fn u16_of(b: &[u8], be: bool) -> u16 {
    let a = [b[0], b[1]];
    if be {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}

fn u32_of(b: &[u8], be: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if be {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

impl<R: Read> PcapReader<R> {
    /// A reader of the pcap or pcapng stream `inner`; `name` is the file named in errors.
    pub fn new(inner: R, name: &str) -> Result<Self, PcapError> {
        let mut r = PcapReader {
            inner,
            path: name.to_string(),
            format: Format::Pcap { big_endian: false, nanos: false, link: LinkType::ETHERNET },
            offset: 0,
            window: vec![0; WINDOW],
            start: 0,
            end: 0,
            failed: false,
        };
        let mut magic = [0u8; 4];
        r.read_exact_or("file header", &mut magic)?;
        let m = u32::from_le_bytes(magic);
        match m {
            0xa1b2c3d4 | 0xd4c3b2a1 | 0xa1b23c4d | 0x4d3cb2a1 => {
                let big_endian = matches!(m, 0xd4c3b2a1 | 0x4d3cb2a1);
                let nanos = matches!(m, 0xa1b23c4d | 0x4d3cb2a1);
                let mut hdr = [0u8; 20];
                r.read_exact_or("file header", &mut hdr)?;
                // The link type's low 16 bits; the high bits carry FCS information.
                let link = LinkType(u32_of(&hdr[16..20], big_endian) & 0xffff);
                r.format = Format::Pcap { big_endian, nanos, link };
            }
            0x0a0d0d0a => {
                let mut len = [0u8; 4];
                r.read_exact_or("section header", &mut len)?;
                r.read_section(len)?;
            }
            _ => {
                return Err(PcapError::BadMagic { path: r.path, magic: u32::from_be_bytes(magic) })
            }
        }
        Ok(r)
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Makes `n` unconsumed bytes available in the window, unless the input ends
    /// first; returns how many are.
    fn fill(&mut self, n: usize) -> Result<usize, PcapError> {
        if self.end - self.start >= n {
            return Ok(self.end - self.start);
        }
        if self.start + n > self.window.len() {
            self.window.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if n > self.window.len() {
                self.window.resize(n, 0);
            }
        }
        while self.end - self.start < n {
            match self.inner.read(&mut self.window[self.end..]) {
                Ok(0) => break,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(PcapError::Io {
                        path: self.path.clone(),
                        offset: self.offset,
                        source: e,
                    })
                }
            }
        }
        Ok(self.end - self.start)
    }

    /// Consumes the next `n` bytes, `what` of the file; returns where they start in
    /// the window. Fewer left is a truncated `what`.
    fn take(&mut self, what: &'static str, n: usize) -> Result<usize, PcapError> {
        if self.fill(n)? < n {
            return Err(PcapError::Truncated {
                path: self.path.clone(),
                what,
                offset: self.offset,
            });
        }
        let at = self.start;
        self.start += n;
        self.offset += n as u64;
        Ok(at)
    }

    fn read_exact_or(&mut self, what: &'static str, out: &mut [u8]) -> Result<(), PcapError> {
        let at = self.take(what, out.len())?;
        out.copy_from_slice(&self.window[at..at + out.len()]);
        Ok(())
    }

    /// Reads a fixed-size header at the start of a record: `None` at a clean end of
    /// the input, a truncated `what` when it ends inside the header.
    fn record_header<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<Option<[u8; N]>, PcapError> {
        if self.fill(N)? == 0 {
            return Ok(None);
        }
        let mut hdr = [0u8; N];
        self.read_exact_or(what, &mut hdr)?;
        Ok(Some(hdr))
    }

    fn corrupt(&self, what: &'static str, detail: String) -> PcapError {
        PcapError::Corrupt { path: self.path.clone(), what, offset: self.offset, detail }
    }

    /// Reads the rest of a section header block whose type was already consumed.
    /// Reads the rest of a section header block whose type and length fields were
    /// consumed; the byte order comes from the magic that follows.
    fn read_section(&mut self, len_field: [u8; 4]) -> Result<(), PcapError> {
        let mut bom = [0u8; 4];
        self.read_exact_or("section header", &mut bom)?;
        let big_endian = match u32::from_le_bytes(bom) {
            0x1a2b3c4d => false,
            0x4d3c2b1a => true,
            other => {
                return Err(
                    self.corrupt("section header", format!("byte-order magic {other:#010x}"))
                )
            }
        };
        let len = u32_of(&len_field, big_endian) as usize;
        if !(28..=MAX_RECORD).contains(&len) || !len.is_multiple_of(4) {
            return Err(self.corrupt("section header", format!("block length {len}")));
        }
        self.take("section header", len - 12)?;
        // A new section resets the interfaces.
        self.format = Format::PcapNg(NgState { big_endian, ifaces: Vec::new() });
        Ok(())
    }

    /// The next packet, `Ok(None)` at the end of the file. After an error, every call
    /// returns `Ok(None)`.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, PcapError> {
        if self.failed {
            return Ok(None);
        }
        let r = self.next_inner();
        if r.is_err() {
            self.failed = true;
        }
        // Re-borrow to satisfy the lifetime of the returned frame.
        match r {
            Ok(Some(Record { ts_us, orig_len, link, at, len })) => {
                Ok(Some(Frame { ts_us, orig_len, link, data: &self.window[at..at + len] }))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn next_inner(&mut self) -> Result<Option<Record>, PcapError> {
        match self.format {
            Format::Pcap { big_endian, nanos, link } => {
                let Some(hdr) = self.record_header::<16>("record header")? else {
                    return Ok(None);
                };
                let secs = u32_of(&hdr[0..4], big_endian) as i64;
                let frac = u32_of(&hdr[4..8], big_endian) as i64;
                let caplen = u32_of(&hdr[8..12], big_endian) as usize;
                let orig = u32_of(&hdr[12..16], big_endian);
                if caplen > MAX_RECORD {
                    self.offset -= 16;
                    return Err(self.corrupt(
                        "record header",
                        format!("captured length {caplen} exceeds {MAX_RECORD}"),
                    ));
                }
                let us = if nanos { frac / 1000 } else { frac };
                let at = self.take("packet data", caplen)?;
                Ok(Some(Record {
                    ts_us: secs * 1_000_000 + us,
                    orig_len: orig.max(caplen as u32),
                    link,
                    at,
                    len: caplen,
                }))
            }
            Format::PcapNg(_) => self.next_ng(),
        }
    }

    fn next_ng(&mut self) -> Result<Option<Record>, PcapError> {
        loop {
            let be = match &self.format {
                Format::PcapNg(s) => s.big_endian,
                Format::Pcap { big_endian, .. } => *big_endian,
            };
            let Some(hdr) = self.record_header::<8>("block header")? else {
                return Ok(None);
            };
            let btype_le = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
            if btype_le == 0x0a0d0d0a {
                self.read_section([hdr[4], hdr[5], hdr[6], hdr[7]])?;
                continue;
            }
            let btype = u32_of(&hdr[0..4], be);
            let len = u32_of(&hdr[4..8], be) as usize;
            if !(12..=MAX_RECORD + 64).contains(&len) || !len.is_multiple_of(4) {
                self.offset -= 8;
                return Err(self
                    .corrupt("block header", format!("block type {btype:#x} with length {len}")));
            }
            let body_len = len - 8;
            let body_at = self.take("block body", body_len)?;
            let body = &self.window[body_at..body_at + body_len - 4];
            let Format::PcapNg(state) = &mut self.format else {
                return Err(self.corrupt("block", "pcapng block in a pcap file".into()));
            };
            match btype {
                1 => {
                    let Some(iface) = interface_block(body, be) else {
                        return Err(self.corrupt("interface block", "too short".into()));
                    };
                    state.ifaces.push(iface);
                }
                2 | 3 | 6 => {
                    let Some(p) = packet_block(btype, body, be) else {
                        return Err(self.corrupt("packet block", "too short".into()));
                    };
                    let Some(&(link, units)) = state.ifaces.get(p.iface) else {
                        let iface = p.iface;
                        return Err(
                            self.corrupt("packet block", format!("unknown interface {iface}"))
                        );
                    };
                    if p.data_offset + p.caplen > body.len() {
                        return Err(self.corrupt(
                            "packet block",
                            format!("captured length {} exceeds the block", p.caplen),
                        ));
                    }
                    let ts_us = if units == 1_000_000 {
                        p.ts as i64
                    } else {
                        ((p.ts as u128 * 1_000_000) / units as u128) as i64
                    };
                    return Ok(Some(Record {
                        ts_us,
                        orig_len: p.orig.max(p.caplen as u32),
                        link,
                        at: body_at + p.data_offset,
                        len: p.caplen,
                    }));
                }
                _ => {} // Name resolution, statistics, custom blocks: skipped.
            }
        }
    }
}

/// An interface description block's link type and timestamp units per second
/// (option `if_tsresol`; microseconds without it); `None` when it is too short.
fn interface_block(body: &[u8], be: bool) -> Option<(LinkType, u64)> {
    if body.len() < 8 {
        return None;
    }
    let link = LinkType(u16_of(&body[0..2], be) as u32);
    let mut units = 1_000_000u64;
    let mut opts = &body[8..];
    while opts.len() >= 4 {
        let code = u16_of(&opts[0..2], be);
        let olen = u16_of(&opts[2..4], be) as usize;
        let padded = (olen + 3) & !3;
        if opts.len() < 4 + olen {
            break;
        }
        if code == 9 && olen >= 1 {
            let v = opts[4];
            units = if v & 0x80 != 0 {
                1u64.checked_shl((v & 0x7f) as u32).unwrap_or(0)
            } else {
                10u64.checked_pow(v as u32).unwrap_or(0)
            };
            if units == 0 {
                units = 1_000_000;
            }
        }
        if code == 0 {
            break;
        }
        opts = &opts[(4 + padded).min(opts.len())..];
    }
    Some((link, units))
}

/// The fixed part of a packet block, before its data.
struct PacketBlock {
    iface: usize,
    /// In the interface's units.
    ts: u64,
    caplen: usize,
    orig: u32,
    data_offset: usize,
}

/// Reads an enhanced (6), obsolete (2) or simple (3) packet block's fixed part;
/// `None` when the block is too short for it.
fn packet_block(btype: u32, body: &[u8], be: bool) -> Option<PacketBlock> {
    match btype {
        // Enhanced packet block; the obsolete one has a 16-bit interface (then a 16-bit
        // drop count) where the enhanced one has 32 bits.
        6 | 2 if body.len() >= 20 => Some(PacketBlock {
            iface: if btype == 6 {
                u32_of(&body[0..4], be) as usize
            } else {
                u16_of(&body[0..2], be) as usize
            },
            ts: (u32_of(&body[4..8], be) as u64) << 32 | u32_of(&body[8..12], be) as u64,
            caplen: u32_of(&body[12..16], be) as usize,
            orig: u32_of(&body[16..20], be),
            data_offset: 20,
        }),
        // Simple packet block: no timestamp, interface 0.
        3 if body.len() >= 4 => {
            let orig = u32_of(&body[0..4], be);
            Some(PacketBlock {
                iface: 0,
                ts: 0,
                caplen: (orig as usize).min(body.len() - 4),
                orig,
                data_offset: 4,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::writer::PcapWriter;

    fn sample(nanos: bool) -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, nanos).unwrap();
        w.write(1_700_000_000_123_456, b"frame-one").unwrap();
        w.write(1_700_000_001_000_001, b"frame-two!").unwrap();
        w.into_inner()
    }

    fn read_all(bytes: &[u8]) -> (Vec<(i64, Vec<u8>)>, Option<PcapError>) {
        let mut r = match PcapReader::new(bytes, "mem") {
            Ok(r) => r,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut out = Vec::new();
        loop {
            match r.next_frame() {
                Ok(Some(f)) => out.push((f.ts_us, f.data.to_vec())),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    /// Hands out at most `chunk` bytes per read, as a pipe or a slow disk may.
    struct Trickle<'a> {
        bytes: &'a [u8],
        chunk: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(self.chunk).min(self.bytes.len());
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    proptest::proptest! {
        /// Frames come back whole whatever the read sizes and however they straddle
        /// the read-ahead window (several windows' worth of frames).
        #[test]
        fn frames_survive_any_read_sizes(
            sizes in proptest::collection::vec(0usize..9000, 1..400),
            chunk in proptest::prop_oneof![1usize..64, 1000usize..70_000],
        ) {
            let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, false).unwrap();
            let frames: Vec<Vec<u8>> = sizes
                .iter()
                .enumerate()
                .map(|(i, n)| (0..*n).map(|j| (i * 31 + j) as u8).collect())
                .collect();
            for (i, f) in frames.iter().enumerate() {
                w.write(1_000_000 * i as i64, f).unwrap();
            }
            let bytes = w.into_inner();
            let mut r = PcapReader::new(Trickle { bytes: &bytes, chunk }, "mem").unwrap();
            let mut got = Vec::new();
            while let Some(f) = r.next_frame().unwrap() {
                got.push(f.data.to_vec());
            }
            proptest::prop_assert_eq!(r.offset(), bytes.len() as u64);
            proptest::prop_assert!(got == frames);
        }
    }

    #[test]
    fn pcap_micro_and_nano() {
        for nanos in [false, true] {
            let (frames, err) = read_all(&sample(nanos));
            assert!(err.is_none());
            assert_eq!(frames.len(), 2);
            assert_eq!(frames[0], (1_700_000_000_123_456, b"frame-one".to_vec()));
        }
    }

    #[test]
    fn pcap_big_endian() {
        let mut b = vec![
            0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0,
            1,
        ];
        b.extend_from_slice(&[0, 0, 0, 10, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0, 3, 1, 2, 3]);
        let (frames, err) = read_all(&b);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames, vec![(10_000_005, vec![1, 2, 3])]);
    }

    #[test]
    fn truncated_file_keeps_what_was_read() {
        let full = sample(false);
        let cut = &full[..full.len() - 3];
        let (frames, err) = read_all(cut);
        assert_eq!(frames.len(), 1);
        let err = err.unwrap();
        assert!(err.is_partial());
        assert!(err.to_string().contains("truncated packet data at byte"), "{err}");
    }

    #[test]
    fn corrupt_length_is_reported() {
        let mut b = sample(false);
        b[24 + 8..24 + 12].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
        let (frames, err) = read_all(&b);
        assert!(frames.is_empty());
        assert!(err.unwrap().to_string().contains("captured length"));
    }

    #[test]
    fn bad_magic_is_fatal() {
        let (_, err) = read_all(b"GIF89a....");
        assert!(matches!(err, Some(PcapError::BadMagic { .. })));
        let (_, err) = read_all(b"\xd4");
        assert!(matches!(err, Some(PcapError::Truncated { .. })));
    }

    fn ng_block(t: u32, body: &[u8]) -> Vec<u8> {
        let len = 12 + ((body.len() + 3) & !3);
        let mut v = Vec::new();
        v.extend_from_slice(&t.to_le_bytes());
        v.extend_from_slice(&(len as u32).to_le_bytes());
        v.extend_from_slice(body);
        v.resize(len - 4, 0);
        v.extend_from_slice(&(len as u32).to_le_bytes());
        v
    }

    fn ng_block_be(t: u32, body: &[u8]) -> Vec<u8> {
        let len = 12 + ((body.len() + 3) & !3);
        let mut v = Vec::new();
        v.extend_from_slice(&t.to_be_bytes());
        v.extend_from_slice(&(len as u32).to_be_bytes());
        v.extend_from_slice(body);
        v.resize(len - 4, 0);
        v.extend_from_slice(&(len as u32).to_be_bytes());
        v
    }

    #[test]
    fn pcapng_second_section_big_endian_and_simple_blocks() {
        let mut f = ng_block(
            0x0a0d0d0a,
            &[0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        );
        f.extend(ng_block(1, &[1, 0, 0, 0, 0, 0, 4, 0]));
        let mut spb = 3u32.to_le_bytes().to_vec();
        spb.extend_from_slice(b"abc");
        f.extend(ng_block(3, &spb));
        // Second section, big-endian: the first section's interfaces are forgotten.
        f.extend(ng_block_be(
            0x0a0d0d0a,
            &[0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ));
        f.extend(ng_block_be(1, &[0, 101, 0, 0, 0, 0, 0, 0]));
        let mut epb = Vec::new();
        for v in [0u32, 0, 2_000_000, 2, 9] {
            epb.extend_from_slice(&v.to_be_bytes());
        }
        epb.extend_from_slice(b"xy");
        f.extend(ng_block_be(6, &epb));
        let mut r = PcapReader::new(&f[..], "mem").unwrap();
        let a = r.next_frame().unwrap().unwrap();
        assert_eq!((a.data, a.link), (&b"abc"[..], LinkType::ETHERNET));
        let b = r.next_frame().unwrap().unwrap();
        assert_eq!(
            (b.ts_us, b.data, b.link, b.orig_len),
            (2_000_000, &b"xy"[..], LinkType::RAW, 9)
        );
        assert!(r.next_frame().unwrap().is_none());
    }

    #[test]
    fn pcapng_with_ns_interface() {
        let mut f = ng_block(
            0x0a0d0d0a,
            &[0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        );
        let mut idb = vec![1, 0, 0, 0, 0, 0, 4, 0];
        idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]); // if_tsresol = 10^-9
        f.extend(ng_block(1, &idb));
        let ts: u64 = 1_700_000_000_000_000_123 + 456_000;
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&5u32.to_le_bytes());
        epb.extend_from_slice(&5u32.to_le_bytes());
        epb.extend_from_slice(b"hello");
        f.extend(ng_block(6, &epb));
        f.extend(ng_block(5, &[0; 12])); // statistics block, skipped
        let (frames, err) = read_all(&f);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames, vec![(1_700_000_000_000_000 + 456, b"hello".to_vec())]);
    }
}
