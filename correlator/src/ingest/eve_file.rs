//! Tailing an `eve.json` that a Suricata (or Gatewatch) sensor writes.
//!
//! The read position is remembered in the store, in the same transaction as the
//! alerts read up to it ([`crate::Correlator::mark_position`]), so a restart resumes
//! exactly where the last commit ended: nothing is lost, nothing is stored twice.
//!
//! Rotation is handled both ways sensors and logrotate do it:
//! - *rename* (`eve.json` → `eve.json.1`, a new `eve.json`): at the end of the old
//!   file, once the path names another file, the rest of the old one is read and then
//!   the new one from its start. When the rename happened while the correlator was
//!   down, the old file is found again by its inode in the same folder and its rest is
//!   read first.
//! - *copytruncate*: a file shorter than the position was truncated; reading starts
//!   again at its beginning.
//!
//! Only whole lines are consumed: a line still being written waits for its newline.
//! A line that is not JSON is counted and reported with its byte offset, and skipped.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Counters of one tailed file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TailStats {
    pub(crate) lines: u64,
    pub(crate) bytes: u64,
    pub(crate) bad_lines: u64,
    /// Lines longer than the limit (skipped).
    pub long_lines: u64,
    pub(crate) rotations: u64,
    pub(crate) truncations: u64,
}

/// Where a tail stands: the file (device, inode) and the bytes of whole lines read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    /// Bytes read of the file.
    pub offset: u64,
}

/// One tailed file.
pub struct EveTail {
    path: PathBuf,
    file: Option<File>,
    pos: Position,
    /// Bytes after the last newline.
    partial: Vec<u8>,
    /// Skipping the rest of an over-long line.
    skipping: bool,
    max_line: usize,
    /// Counters of the file.
    pub stats: TailStats,
}

fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    (m.dev(), m.ino())
}

/// A file in `dir` with this identity (a rotated file's new name).
fn find_by_inode(dir: &Path, dev: u64, ino: u64) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && identity(&m) == (dev, ino)))
}

impl EveTail {
    /// Starts tailing `path` from a remembered position (or from the start of the file
    /// when there is none). The file need not exist yet.
    pub fn new(path: &Path, remembered: Option<Position>, max_line: usize) -> EveTail {
        let mut t = EveTail {
            path: path.to_path_buf(),
            file: None,
            pos: Position::default(),
            partial: Vec::new(),
            skipping: false,
            max_line: max_line.max(1024),
            stats: TailStats::default(),
        };
        if let Some(r) = remembered {
            let current = std::fs::metadata(path).ok().map(|m| identity(&m));
            let file = if current == Some((r.dev, r.ino)) {
                File::open(path).ok()
            } else {
                // Rotated while we were away: finish the old file first, if it is still
                // next to the new one.
                let dir =
                    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                find_by_inode(dir, r.dev, r.ino).and_then(|p| File::open(p).ok())
            };
            if let Some(mut f) = file {
                let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                let offset = if len < r.offset {
                    t.stats.truncations += 1;
                    0
                } else {
                    r.offset
                };
                if f.seek(SeekFrom::Start(offset)).is_ok() {
                    t.pos = Position { offset, ..r };
                    t.file = Some(f);
                }
            }
        }
        t
    }

    /// The file tailed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The position after the last whole line handed out.
    pub fn position(&self) -> Position {
        self.pos
    }

    fn open_current(&mut self) -> std::io::Result<bool> {
        match File::open(&self.path) {
            Ok(f) => {
                let (dev, ino) = identity(&f.metadata()?);
                self.file = Some(f);
                self.pos = Position { dev, ino, offset: 0 };
                self.partial.clear();
                self.skipping = false;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Reads what was appended, at most about `max_bytes`, and hands each whole line
    /// to `line` with the position just after it. Returns the bytes read.
    pub fn poll(
        &mut self,
        max_bytes: usize,
        mut line: impl FnMut(&[u8], Position),
    ) -> std::io::Result<usize> {
        if self.file.is_none() && !self.open_current()? {
            return Ok(0);
        }
        let mut read_total = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let Some(f) = self.file.as_mut() else { return Ok(read_total) };
            // Truncated under us (copytruncate)?
            let len = f.metadata()?.len();
            if len < self.pos.offset + self.partial.len() as u64 {
                self.stats.truncations += 1;
                f.seek(SeekFrom::Start(0))?;
                self.pos.offset = 0;
                self.partial.clear();
                self.skipping = false;
            }
            let n = if read_total >= max_bytes { 0 } else { f.read(&mut buf)? };
            if n == 0 {
                if read_total >= max_bytes {
                    return Ok(read_total);
                }
                // At the end: has the path moved on to another file?
                let now = std::fs::metadata(&self.path).ok().map(|m| identity(&m));
                match now {
                    Some(id) if id != (self.pos.dev, self.pos.ino) => {
                        if !self.partial.is_empty() {
                            // The old file ended without a newline: its last line is whole.
                            let rest = std::mem::take(&mut self.partial);
                            self.pos.offset += rest.len() as u64;
                            self.emit(&rest, &mut line);
                        }
                        self.stats.rotations += 1;
                        if !self.open_current()? {
                            return Ok(read_total);
                        }
                        continue;
                    }
                    _ => return Ok(read_total),
                }
            }
            read_total += n;
            self.stats.bytes += n as u64;
            let mut chunk = &buf[..n];
            while let Some(nl) = chunk.iter().position(|b| *b == b'\n') {
                let (head, rest) = chunk.split_at(nl);
                chunk = &rest[1..];
                let consumed = (self.partial.len() + head.len() + 1) as u64;
                let was_skipping = std::mem::replace(&mut self.skipping, false);
                let whole: Vec<u8>;
                let text: &[u8] = if self.partial.is_empty() {
                    head
                } else {
                    self.partial.extend_from_slice(head);
                    whole = std::mem::take(&mut self.partial);
                    &whole
                };
                self.pos.offset += consumed;
                if was_skipping {
                    // The tail of an over-long line, already counted.
                    continue;
                }
                if text.len() > self.max_line {
                    self.stats.long_lines += 1;
                    continue;
                }
                self.emit(text, &mut line);
            }
            if !chunk.is_empty() && !self.skipping {
                if self.partial.len() + chunk.len() > self.max_line {
                    self.stats.long_lines += 1;
                    self.pos.offset += (self.partial.len() + chunk.len()) as u64;
                    self.partial.clear();
                    self.skipping = true;
                } else {
                    self.partial.extend_from_slice(chunk);
                }
            } else if self.skipping {
                self.pos.offset += chunk.len() as u64;
            }
        }
    }

    fn emit(&mut self, text: &[u8], line: &mut impl FnMut(&[u8], Position)) {
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.stats.lines += 1;
        line(text, self.pos);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("gw-tail-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn drain(t: &mut EveTail) -> Vec<String> {
        let mut out = Vec::new();
        t.poll(usize::MAX, |l, _| out.push(String::from_utf8_lossy(l).into_owned())).unwrap();
        out
    }

    fn append(p: &Path, s: &str) {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap()
            .write_all(s.as_bytes())
            .unwrap();
    }

    #[test]
    fn whole_lines_only_and_resume_from_a_position() {
        let d = dir("resume");
        let p = d.join("eve.json");
        let mut t = EveTail::new(&p, None, 1 << 20);
        assert!(drain(&mut t).is_empty(), "no file yet");
        append(&p, "{\"a\":1}\n{\"a\":2");
        assert_eq!(drain(&mut t), ["{\"a\":1}"]);
        assert_eq!(t.position().offset, 8);
        append(&p, "}\n\n{\"a\":3}\r\n");
        assert_eq!(drain(&mut t), ["{\"a\":2}", "{\"a\":3}"]);
        let pos = t.position();
        assert_eq!(pos.offset, std::fs::metadata(&p).unwrap().len());
        append(&p, "{\"a\":4}\n");
        let mut again = EveTail::new(&p, Some(pos), 1 << 20);
        assert_eq!(drain(&mut again), ["{\"a\":4}"]);
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn rename_rotation_reads_the_rest_of_the_old_file_first() {
        let d = dir("rename");
        let p = d.join("eve.json");
        append(&p, "1\n2\n");
        let mut t = EveTail::new(&p, None, 1 << 20);
        assert_eq!(drain(&mut t), ["1", "2"]);
        append(&p, "3\n4");
        std::fs::rename(&p, d.join("eve.json.1")).unwrap();
        append(&p, "5\n");
        assert_eq!(drain(&mut t), ["3", "4", "5"]);
        assert_eq!(t.stats.rotations, 1);
        // Rotated while "down": the remembered inode is found under its new name.
        let pos = t.position();
        append(&p, "6\n");
        std::fs::rename(&p, d.join("eve.json.2")).unwrap();
        append(&p, "7\n");
        let mut again = EveTail::new(&p, Some(pos), 1 << 20);
        assert_eq!(drain(&mut again), ["6", "7"]);
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn copytruncate_starts_over_and_long_lines_are_skipped() {
        let d = dir("trunc");
        let p = d.join("eve.json");
        append(&p, "aaaa\nbbbb\n");
        let mut t = EveTail::new(&p, None, 1024);
        assert_eq!(drain(&mut t).len(), 2);
        std::fs::File::create(&p).unwrap();
        append(&p, "c\n");
        assert_eq!(drain(&mut t), ["c"]);
        assert_eq!(t.stats.truncations, 1);
        let long = "x".repeat(5000);
        append(&p, &format!("{long}\nd\n"));
        assert_eq!(drain(&mut t), ["d"]);
        assert_eq!(t.stats.long_lines, 1);
        assert_eq!(t.position().offset, std::fs::metadata(&p).unwrap().len());
        let _ = std::fs::remove_dir_all(d);
    }
}
