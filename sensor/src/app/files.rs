//! Files carried by a protocol (SMB reads and writes, FTP data connections), as they
//! arrive in order: counted and hashed whole, their first bytes kept for YARA and the
//! file store, and a shorter window of them offered to `file.data` rules.
//!
//! As in Suricata, `file.data` inspects the first [`DEFAULT_INSPECT_LIMIT`] bytes of a
//! file (its `content-limit` of 100,000 bytes, per file, for every protocol but HTTP,
//! whose bodies have their own limit): a rule cannot ask for more, and the cost of a
//! large transfer stays bounded.

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::Sha256;

use super::filetype;
use super::records::FileRecord;
use super::tls::hex;

/// Bytes of each file `file.data` inspects by default (`stream.file_data_limit`).
pub const DEFAULT_INSPECT_LIMIT: usize = 100 * 1024;

/// Bytes of each file kept by default when YARA or the file store wants them.
pub const DEFAULT_KEEP: usize = 1024 * 1024;

/// How much of each file a protocol's parser looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileLimits {
    /// Bytes `file.data` inspects.
    pub inspect: usize,
    /// Bytes kept for YARA and the file store (at least `inspect`); without either,
    /// nothing more than `inspect` needs keeping.
    pub keep: usize,
}

impl FileLimits {
    /// The part of a file's bytes `file.data` inspects.
    pub fn window<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        &data[..data.len().min(self.inspect)]
    }
}

impl Default for FileLimits {
    fn default() -> Self {
        FileLimits { inspect: DEFAULT_INSPECT_LIMIT, keep: DEFAULT_KEEP }
    }
}

/// MD5, SHA-1 and SHA-256 of bytes fed in order.
#[derive(Clone, Default)]
pub(crate) struct Hashes {
    md5: Md5,
    sha1: Sha1,
    sha256: Sha256,
}

impl Hashes {
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        self.sha1.update(data);
        self.sha256.update(data);
    }

    /// (md5, sha1, sha256) as lowercase hex.
    pub(crate) fn finish(self) -> (String, String, String) {
        (hex(&self.md5.finalize()), hex(&self.sha1.finalize()), hex(&self.sha256.finalize()))
    }
}

/// One file on its way in.
pub struct FileSink {
    data: Vec<u8>,
    size: u64,
    hashes: Hashes,
    limits: FileLimits,
    /// Bytes were lost before the end: hashes and size are not the file's.
    gaps: bool,
    /// Bytes that arrived ahead of the next offset ([`FileSink::push_at`]), by offset.
    ahead: BTreeMap<u64, Vec<u8>>,
    ahead_bytes: usize,
}

/// Bytes of one file held while the bytes before them are awaited.
pub const MAX_AHEAD: usize = 4 * 1024 * 1024;

impl FileSink {
    /// Heap bytes held: the kept data and the bytes waiting ahead.
    pub fn held(&self) -> usize {
        self.data.capacity() + self.ahead_bytes
    }
}

impl std::fmt::Debug for FileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSink").field("size", &self.size).field("gaps", &self.gaps).finish()
    }
}

impl FileSink {
    pub fn new(limits: FileLimits) -> FileSink {
        let limits = FileLimits { keep: limits.keep.max(limits.inspect), ..limits };
        FileSink {
            data: Vec::new(),
            size: 0,
            hashes: Hashes::default(),
            limits,
            gaps: false,
            ahead: BTreeMap::new(),
            ahead_bytes: 0,
        }
    }

    /// Bytes at file offset `at`, in any order (SMB reads and writes answered out of
    /// order, a file read twice): bytes already seen are skipped, bytes ahead are held
    /// (up to [`MAX_AHEAD`]) until the bytes before them come. True when a bound was
    /// hit (bytes kept, or bytes held ahead); the caller counts it.
    pub fn push_at(&mut self, at: u64, bytes: &[u8]) -> bool {
        if at > self.size {
            if self.ahead_bytes + bytes.len() > MAX_AHEAD {
                self.gaps = true;
                return true;
            }
            // The same offset twice (a read repeated): the longer is kept.
            let held = self.ahead.entry(at).or_default();
            if bytes.len() > held.len() {
                self.ahead_bytes += bytes.len() - held.len();
                *held = bytes.to_vec();
            }
            return false;
        }
        let mut bound = self.push_new(at, bytes);
        while let Some(entry) = self.ahead.first_entry() {
            if *entry.key() > self.size {
                break;
            }
            let (at, held) = entry.remove_entry();
            self.ahead_bytes -= held.len();
            bound |= self.push_new(at, &held);
        }
        bound
    }

    /// The part of `bytes` (at `at`, not after the end) past what was seen.
    fn push_new(&mut self, at: u64, bytes: &[u8]) -> bool {
        let seen = usize::try_from(self.size - at).unwrap_or(usize::MAX);
        bytes.get(seen..).is_some_and(|rest| self.push(rest))
    }

    /// The next bytes of the file; true when they pass the bytes kept for the first
    /// time (the caller counts the bound).
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        if bytes.is_empty() {
            return false;
        }
        let keep = self.limits.keep;
        let was_whole = self.size <= keep as u64;
        self.size += bytes.len() as u64;
        self.hashes.update(bytes);
        let room = keep.saturating_sub(self.data.len());
        self.data.extend_from_slice(&bytes[..bytes.len().min(room)]);
        was_whole && self.size > keep as u64
    }

    /// Bytes of the file are missing (a hole, bytes out of order).
    pub fn gap(&mut self) {
        self.gaps = true;
    }

    /// Bytes received so far (the offset the next bytes in order start at).
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The bytes `file.data` inspects.
    pub fn inspected(&self) -> &[u8] {
        self.limits.window(&self.data)
    }

    /// The file's `fileinfo` record: size and hashes of the whole file, `TRUNCATED`
    /// when bytes were lost; the kept bytes go with it for YARA and the file store.
    pub fn finish(self, filename: &str, tx_id: u64) -> FileRecord {
        let (md5, sha1, sha256) = self.hashes.finish();
        let whole = self.size == self.data.len() as u64;
        // Bytes still held ahead: the bytes before them never came.
        let gaps = self.gaps || !self.ahead.is_empty();
        FileRecord {
            carrier: serde_json::Map::new(),
            filename: filename.to_string(),
            magic: filetype::describe(&self.data),
            gaps,
            state: if gaps { "TRUNCATED" } else { "CLOSED" },
            md5,
            sha1,
            sha256,
            stored: false,
            size: self.size,
            tx_id,
            storable: !gaps && whole,
            data: self.data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256_hex(data: &[u8]) -> String {
        hex(&Sha256::digest(data))
    }

    #[test]
    fn hashes_the_whole_file_and_keeps_its_start() {
        let file: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut sink = FileSink::new(FileLimits { inspect: 100, keep: 4096 });
        let mut bound_hit = 0;
        for piece in file.chunks(1000) {
            bound_hit += sink.push(piece) as usize;
        }
        assert_eq!(bound_hit, 1, "the bound is reported once");
        assert_eq!(sink.inspected(), &file[..100]);
        let rec = sink.finish("a.bin", 7);
        assert_eq!(rec.size, 10_000);
        assert_eq!(rec.sha256, sha256_hex(&file));
        assert_eq!(rec.md5, hex(&Md5::digest(&file)));
        assert_eq!(rec.data, file[..4096]);
        assert_eq!((rec.state, rec.gaps, rec.storable, rec.tx_id), ("CLOSED", false, false, 7));
    }

    #[test]
    fn chunks_in_any_order_and_repeated_make_the_file() {
        let file: Vec<u8> = (0..1000u32).map(|i| (i % 241) as u8).collect();
        let mut sink = FileSink::new(FileLimits { inspect: 1000, keep: 1000 });
        for (at, len) in [(300, 200), (0, 100), (0, 100), (500, 500), (100, 250), (250, 50)] {
            sink.push_at(at as u64, &file[at..at + len]);
        }
        assert_eq!(sink.size(), 1000);
        let rec = sink.finish("f", 0);
        assert_eq!(rec.data, file);
        assert_eq!(rec.sha256, sha256_hex(&file));
        assert_eq!(rec.state, "CLOSED");
        let mut sink = FileSink::new(FileLimits::default());
        sink.push_at(0, b"abc");
        sink.push_at(10, b"xyz");
        assert_eq!(sink.finish("g", 0).state, "TRUNCATED", "bytes 3..10 never came");
    }

    #[test]
    fn a_small_file_is_whole_and_a_gap_truncates() {
        let limits = FileLimits { inspect: 4096, keep: 0 };
        let mut sink = FileSink::new(limits);
        assert!(!sink.push(b"MZ\x90\x00"));
        let rec = sink.finish("x.exe", 0);
        assert!(rec.storable);
        assert_eq!(rec.magic, None, "libmagic names no type in four bytes");
        let mut sink = FileSink::new(limits);
        sink.push(b"abc");
        sink.gap();
        let rec = sink.finish("y", 0);
        assert_eq!((rec.state, rec.gaps, rec.storable), ("TRUNCATED", true, false));
    }
}
