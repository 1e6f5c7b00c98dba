//! A file of JSON lines written for years by a daemon: appended to, reopened on
//! `SIGHUP` (logrotate renamed it; [`crate::control::reopen_on_hangup`]) and, when asked,
//! rotated by the writer itself at a size or an age — always between two lines, so that
//! no record is cut in two files.
//!
//! A rotated file is renamed `<name>.<UTC time>` (`eve.json.20261207T000000Z`); the
//! `keep` newest of them stay, older ones are deleted. A reopen or rotation that fails
//! (the folder went away, no space) is reported on standard error and writing goes on in
//! the file already open, so that no record is lost for want of a new file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// When the writer starts a new file by itself (besides on `SIGHUP`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rotation {
    /// Start a new file once this many bytes were written to the current one; 0: never.
    pub max_bytes: u64,
    /// Start a new file this many seconds after the current one was opened; 0: never.
    pub interval_secs: u64,
    /// Rotated files kept (the newest); 0: every one (logrotate or the operator
    /// deletes them).
    pub keep: usize,
}

impl Rotation {
    fn is_off(&self) -> bool {
        self.max_bytes == 0 && self.interval_secs == 0
    }
}

/// An appended file that reopens on `SIGHUP` and rotates as [`Rotation`] says.
pub struct LogFile {
    path: PathBuf,
    file: File,
    rotation: Rotation,
    /// Bytes written to the current file (its size when opened, plus what was added).
    written: u64,
    /// When the current file was opened.
    opened: SystemTime,
    /// [`crate::control::reopen_generation`] when the current file was opened.
    generation: u64,
    /// Whether the last byte written ended a line: only then may the file change.
    at_line_start: bool,
    /// Files started since this writer opened (reopens and rotations).
    pub reopened: u64,
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl LogFile {
    /// Opens (or creates) `path` for appending.
    pub fn open(path: &Path, rotation: Rotation) -> io::Result<LogFile> {
        let file = open_append(path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot open `{}`: {e}", path.display()))
        })?;
        let written = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(LogFile {
            path: path.to_path_buf(),
            file,
            rotation,
            written,
            opened: SystemTime::now(),
            generation: crate::control::reopen_generation(),
            at_line_start: true,
            reopened: 0,
        })
    }

    /// The path written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn rotation_due(&self) -> bool {
        if self.rotation.is_off() {
            return false;
        }
        let r = &self.rotation;
        (r.max_bytes > 0 && self.written >= r.max_bytes)
            || (r.interval_secs > 0
                && self.opened.elapsed().unwrap_or_default()
                    >= Duration::from_secs(r.interval_secs))
    }

    /// Between two lines: a new file when `SIGHUP` asked for one or rotation is due.
    fn maybe_switch(&mut self) {
        let generation = crate::control::reopen_generation();
        let rotate = self.rotation_due();
        if generation == self.generation && !rotate {
            return;
        }
        self.generation = generation;
        let _ = self.file.flush();
        if rotate {
            if let Err(e) = self.rotate_away() {
                tracing::error!("cannot rotate `{}`: {e}; writing on", self.path.display());
                self.opened = SystemTime::now();
                self.written = 0;
                return;
            }
        }
        match open_append(&self.path) {
            Ok(file) => {
                self.written = file.metadata().map(|m| m.len()).unwrap_or(0);
                self.file = file;
                self.opened = SystemTime::now();
                self.reopened += 1;
            }
            Err(e) => {
                tracing::error!(
                    "cannot reopen `{}`: {e}; writing on to the file already open",
                    self.path.display()
                );
            }
        }
    }

    /// Renames the current file `<name>.<UTC time>` and deletes rotated files beyond
    /// `keep`.
    fn rotate_away(&mut self) -> io::Result<()> {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let mut target = rotated_name(&self.path, &stamp, 0);
        let mut n = 0;
        while target.exists() {
            n += 1;
            target = rotated_name(&self.path, &stamp, n);
        }
        std::fs::rename(&self.path, &target)?;
        if self.rotation.keep > 0 {
            prune(&self.path, self.rotation.keep)?;
        }
        Ok(())
    }
}

fn rotated_name(path: &Path, stamp: &str, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".{stamp}"));
    if n > 0 {
        name.push(format!("-{n}"));
    }
    PathBuf::from(name)
}

/// The rotated files of `path`, oldest first.
pub fn rotated_files(path: &Path) -> io::Result<Vec<PathBuf>> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Some(base) = path.file_name().and_then(|n| n.to_str()) else { return Ok(Vec::new()) };
    let prefix = format!("{base}.");
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name().to_str().is_some_and(|n| {
                n.strip_prefix(&prefix).is_some_and(|rest| {
                    rest.len() >= 16 && rest.as_bytes()[..8].iter().all(u8::is_ascii_digit)
                })
            })
        })
        .map(|e| e.path())
        .collect();
    // The stamp sorts by time; `-N` suffixes of the same second after the plain one.
    out.sort_by_key(|p| {
        let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let (stamp, seq) = match n.rsplit_once('-') {
            Some((s, k)) if k.bytes().all(|b| b.is_ascii_digit()) => {
                (s.to_string(), k.parse::<u32>().unwrap_or(0))
            }
            _ => (n.clone(), 0),
        };
        (stamp, seq)
    });
    Ok(out)
}

fn prune(path: &Path, keep: usize) -> io::Result<()> {
    let files = rotated_files(path)?;
    let excess = files.len().saturating_sub(keep);
    for old in &files[..excess] {
        std::fs::remove_file(old)?;
    }
    Ok(())
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.at_line_start {
            self.maybe_switch();
        }
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if n > 0 {
            self.at_line_start = buf[n - 1] == b'\n';
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("gw-logfile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reopens_after_a_rename_and_a_hangup_between_lines() {
        let d = tmp("reopen");
        let path = d.join("eve.json");
        let mut f = LogFile::open(&path, Rotation::default()).unwrap();
        f.write_all(b"{\"a\":1}\n").unwrap();
        // logrotate: rename, then SIGHUP, in the middle of a line being written.
        f.write_all(b"{\"b\":").unwrap();
        std::fs::rename(&path, d.join("eve.json.1")).unwrap();
        crate::control::request_reopen();
        f.write_all(b"2}\n").unwrap();
        f.write_all(b"{\"c\":3}\n").unwrap();
        f.flush().unwrap();
        let old = std::fs::read_to_string(d.join("eve.json.1")).unwrap();
        let new = std::fs::read_to_string(&path).unwrap();
        assert_eq!(old, "{\"a\":1}\n{\"b\":2}\n", "the cut line stays whole in the old file");
        assert_eq!(new, "{\"c\":3}\n");
        assert_eq!(f.reopened, 1);
    }

    #[test]
    fn rotates_by_size_and_keeps_the_newest() {
        let d = tmp("size");
        let path = d.join("eve.json");
        let rotation = Rotation { max_bytes: 20, interval_secs: 0, keep: 2 };
        let mut f = LogFile::open(&path, rotation).unwrap();
        for i in 0..20 {
            writeln!(f, "{{\"n\":{i:04}}}").unwrap(); // 11 bytes a line
        }
        f.flush().unwrap();
        let rotated = rotated_files(&path).unwrap();
        assert_eq!(rotated.len(), 2, "{rotated:?}");
        // Every file holds whole lines, two of them (22 bytes ≥ 20 starts a new file).
        let mut lines = Vec::new();
        for p in rotated.iter().chain([&path]) {
            let text = std::fs::read_to_string(p).unwrap();
            assert!(text.ends_with('\n'), "{p:?}: {text:?}");
            lines.extend(text.lines().map(str::to_string));
        }
        assert_eq!(lines.last().map(String::as_str), Some("{\"n\":0019}"));
        assert_eq!(lines.len(), 6, "the two newest rotated files and the current one");
    }

    #[test]
    fn appends_to_what_is_there() {
        let d = tmp("append");
        let path = d.join("eve.json");
        std::fs::write(&path, "{\"old\":1}\n").unwrap();
        let mut f = LogFile::open(&path, Rotation::default()).unwrap();
        f.write_all(b"{\"new\":2}\n").unwrap();
        f.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"old\":1}\n{\"new\":2}\n");
    }
}
