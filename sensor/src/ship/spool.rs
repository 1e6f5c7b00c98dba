//! The on-disk spool between the sensor's pipeline and the correlator: findings are
//! appended here before they are sent, and deleted only once the correlator has
//! acknowledged them as stored.
//!
//! Layout: a folder of segment files `NNNNNNNNNNNNNNNNNNNN.seg` (the segment id,
//! microseconds since the epoch at creation, strictly increasing). A segment is a
//! sequence of records `[u32 length LE][u32 CRC-32 of the payload LE][payload]`; the
//! payload is one JSON record. A record's id, `SENSOR:SEGMENT:INDEX`, is stable across
//! restarts and re-sends, so that the correlator drops duplicates.
//!
//! The writer appends to the open segment and seals it (fsync, then a new segment)
//! when it reaches `segment_bytes` or is older than `seal_after`; the shipper reads
//! sealed segments oldest first. After a crash the newest segment is sealed as it is:
//! a record cut short by the crash fails its length or checksum, is counted, and
//! the rest of that segment is skipped (the records before it are sent).
//!
//! Bound: `max_bytes` for all segments. When a record would pass it, the policy
//! decides: [`FullPolicy::DropNewest`] (default) refuses the new record, so what is
//! already spooled is never lost; [`FullPolicy::DropOldest`] deletes the oldest sealed
//! segments until it fits (their records are counted as dropped). Either way the
//! pipeline never waits and every dropped record is counted.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// What happens to a record that would pass `max_bytes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FullPolicy {
    /// The new record is dropped (counted); spooled records are kept.
    #[default]
    DropNewest,
    /// The oldest sealed segments are deleted (their records counted) to make room.
    DropOldest,
}

/// `[ship.spool]`: the folder findings wait in while the correlator is away, and its bounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpoolConfig {
    pub(crate) dir: PathBuf,
    /// All segments together, bytes.
    pub max_bytes: u64,
    /// A segment is sealed at this size...
    pub segment_bytes: u64,
    /// ...or this many milliseconds after its first record.
    pub seal_after_ms: u64,
    pub(crate) when_full: FullPolicy,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig {
            dir: "gatewatch-data/spool".into(),
            max_bytes: 1 << 30,
            segment_bytes: 4 << 20,
            seal_after_ms: 1_000,
            when_full: FullPolicy::DropNewest,
        }
    }
}

/// Counters of the spool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SpoolStats {
    /// Records appended.
    pub appended: u64,
    /// Records refused or deleted because the spool was full.
    pub dropped_full: u64,
    /// Records that failed their length or checksum when read back.
    pub corrupt: u64,
    /// Records acknowledged by the correlator (their segments deleted).
    pub acknowledged: u64,
    /// Bytes on disk now.
    pub bytes: u64,
    /// Segments on disk now (sealed and open).
    pub segments: u64,
    pub(crate) write_errors: u64,
    /// Segments the correlator refused for good, moved to `dead-letter/` with the
    /// reason, and their records.
    pub dead_letter_segments: u64,
    /// Records refused (whole segments, and lines the correlator rejected in a batch
    /// it otherwise stored).
    pub dead_letter_records: u64,
}

const HEADER: usize = 8;
/// A record larger than this is refused (counted as a write error).
pub const MAX_RECORD: usize = 16 << 20;

/// A record read back from a sealed segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spooled {
    /// `SENSOR:SEGMENT:INDEX`.
    pub id: String,
    /// The record (an EVE JSON line).
    pub payload: Vec<u8>,
}

/// A sealed segment's records, as the shipper sends them.
#[derive(Debug)]
pub struct Batch {
    pub(crate) segment: u64,
    pub(crate) records: Vec<Spooled>,
    /// Why reading stopped early, if it did (the records before are good).
    pub damage: Option<String>,
}

struct Sealed {
    id: u64,
    bytes: u64,
}

struct Open {
    id: u64,
    out: BufWriter<File>,
    bytes: u64,
    since: Instant,
}

/// The spool: one writer (the pipeline's output) and one reader (the shipper), both
/// through `&mut self`; share it behind a mutex.
pub struct Spool {
    cfg: SpoolConfig,
    sensor: String,
    sealed: VecDeque<Sealed>,
    open: Option<Open>,
    last_id: u64,
    /// Counters since it was opened.
    pub stats: SpoolStats,
}

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.seg"))
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

impl Spool {
    /// Opens (or creates) the spool folder. Segments left by an earlier run are
    /// sealed and will be sent first.
    pub fn open(cfg: SpoolConfig, sensor: &str) -> io::Result<Spool> {
        fs::create_dir_all(&cfg.dir).map_err(|e| {
            io::Error::new(e.kind(), format!("spool folder `{}`: {e}", cfg.dir.display()))
        })?;
        // Findings waiting to be shipped: the sensor's alone, whatever the umask.
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&cfg.dir, fs::Permissions::from_mode(0o700))?;
        }
        let mut ids = Vec::new();
        for entry in fs::read_dir(&cfg.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".seg"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            ids.push((id, entry.metadata()?.len()));
        }
        ids.sort_unstable();
        let mut spool = Spool {
            last_id: ids.last().map_or(0, |(id, _)| *id),
            sealed: ids.into_iter().map(|(id, bytes)| Sealed { id, bytes }).collect(),
            open: None,
            sensor: sensor.to_string(),
            cfg,
            stats: SpoolStats::default(),
        };
        spool.refresh_stats();
        Ok(spool)
    }

    fn refresh_stats(&mut self) {
        self.stats.bytes = self.sealed.iter().map(|s| s.bytes).sum::<u64>()
            + self.open.as_ref().map_or(0, |o| o.bytes);
        self.stats.segments = self.sealed.len() as u64 + self.open.is_some() as u64;
    }

    /// Appends one record. Returns false when it was dropped (spool full, too large,
    /// or a write error); the counters say which.
    pub fn append(&mut self, payload: &[u8]) -> bool {
        if payload.len() > MAX_RECORD {
            self.stats.write_errors += 1;
            return false;
        }
        let need = (HEADER + payload.len()) as u64;
        if self.stats.bytes + need > self.cfg.max_bytes && !self.make_room(need) {
            self.stats.dropped_full += 1;
            return false;
        }
        match self.write_record(payload) {
            Ok(()) => {
                self.stats.appended += 1;
                true
            }
            Err(_) => {
                self.stats.write_errors += 1;
                false
            }
        }
    }

    fn make_room(&mut self, need: u64) -> bool {
        if self.cfg.when_full == FullPolicy::DropNewest {
            return false;
        }
        while self.stats.bytes + need > self.cfg.max_bytes {
            let Some(old) = self.sealed.pop_front() else { return false };
            let path = segment_path(&self.cfg.dir, old.id);
            let records = count_records(&path);
            if fs::remove_file(&path).is_ok() {
                self.stats.dropped_full += records;
            }
            self.refresh_stats();
        }
        true
    }

    fn write_record(&mut self, payload: &[u8]) -> io::Result<()> {
        if self.open.as_ref().is_some_and(|o| o.bytes >= self.cfg.segment_bytes) {
            self.seal()?;
        }
        if self.open.is_none() {
            let id = now_us().max(self.last_id + 1);
            self.last_id = id;
            let f = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(segment_path(&self.cfg.dir, id))?;
            self.open = Some(Open { id, out: BufWriter::new(f), bytes: 0, since: Instant::now() });
        }
        let Some(o) = self.open.as_mut() else { return Err(io::Error::other("no open segment")) };
        let crc = crc32fast::hash(payload);
        o.out.write_all(&(payload.len() as u32).to_le_bytes())?;
        o.out.write_all(&crc.to_le_bytes())?;
        o.out.write_all(payload)?;
        o.bytes += (HEADER + payload.len()) as u64;
        self.stats.bytes += (HEADER + payload.len()) as u64;
        self.stats.segments = self.sealed.len() as u64 + 1;
        Ok(())
    }

    /// Hands written records to the kernel (they survive a crash of the process).
    pub fn flush(&mut self) -> io::Result<()> {
        match self.open.as_mut() {
            Some(o) => o.out.flush(),
            None => Ok(()),
        }
    }

    /// Seals the open segment (flush, fsync) so the shipper can send it.
    pub fn seal(&mut self) -> io::Result<()> {
        if let Some(mut o) = self.open.take() {
            o.out.flush()?;
            o.out.get_ref().sync_all()?;
            self.sealed.push_back(Sealed { id: o.id, bytes: o.bytes });
        }
        Ok(())
    }

    /// Seals the open segment if it is older than `seal_after_ms` (call now and then).
    pub fn seal_if_due(&mut self) -> io::Result<()> {
        let due = self
            .open
            .as_ref()
            .is_some_and(|o| o.since.elapsed() >= Duration::from_millis(self.cfg.seal_after_ms));
        if due {
            self.seal()?;
        }
        Ok(())
    }

    /// The oldest sealed segment's records, or `None` when there is none.
    pub fn oldest(&mut self) -> io::Result<Option<Batch>> {
        let Some(s) = self.sealed.front() else { return Ok(None) };
        let id = s.id;
        let mut data = Vec::new();
        File::open(segment_path(&self.cfg.dir, id))?.read_to_end(&mut data)?;
        let (records, damage) = parse_segment(&data, &self.sensor, id);
        if damage.is_some() {
            self.stats.corrupt += 1;
        }
        Ok(Some(Batch { segment: id, records, damage }))
    }

    /// The correlator stored segment `id`: delete it.
    pub fn acknowledge(&mut self, id: u64, records: u64) -> io::Result<()> {
        if let Some(pos) = self.sealed.iter().position(|s| s.id == id) {
            self.sealed.remove(pos);
            fs::remove_file(segment_path(&self.cfg.dir, id))?;
            self.stats.acknowledged += records;
            self.refresh_stats();
        }
        Ok(())
    }

    /// The folder of what the correlator refused for good.
    pub fn dead_letter_dir(&self) -> PathBuf {
        self.cfg.dir.join("dead-letter")
    }

    /// The correlator refused segment `id` for good (its answer, `reason`, would not
    /// change on a retry): the segment moves to `dead-letter/` beside a `.reason`
    /// file, is counted, and the next one is sent.
    pub fn dead_letter(&mut self, id: u64, records: u64, reason: &str) -> io::Result<()> {
        let Some(pos) = self.sealed.iter().position(|s| s.id == id) else { return Ok(()) };
        let dir = self.dead_letter_dir();
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(format!("{id:020}.reason")), format!("{reason}\n"))?;
        fs::rename(segment_path(&self.cfg.dir, id), segment_path(&dir, id))?;
        self.sealed.remove(pos);
        self.stats.dead_letter_segments += 1;
        self.stats.dead_letter_records += records;
        self.refresh_stats();
        Ok(())
    }

    /// Records of segment `id` the correlator rejected in a batch it otherwise stored:
    /// written to `dead-letter/ID.rejected.jsonl` (one line each), the reasons beside.
    pub fn dead_letter_records(
        &mut self,
        id: u64,
        rejected: u64,
        records: &[&Spooled],
        reasons: &[String],
    ) -> io::Result<()> {
        let dir = self.dead_letter_dir();
        fs::create_dir_all(&dir)?;
        let mut lines = Vec::new();
        for r in records {
            lines.extend_from_slice(&r.payload);
            lines.push(b'\n');
        }
        fs::write(dir.join(format!("{id:020}.rejected.jsonl")), lines)?;
        fs::write(dir.join(format!("{id:020}.reason")), reasons.join("\n") + "\n")?;
        self.stats.dead_letter_records += rejected;
        Ok(())
    }

    /// Sealed segments waiting to be sent.
    pub fn pending_segments(&self) -> usize {
        self.sealed.len()
    }
}

fn count_records(path: &Path) -> u64 {
    fs::read(path).map_or(0, |d| parse_segment(&d, "", 0).0.len() as u64)
}

/// The records of a segment, up to the first damaged one.
pub fn parse_segment(data: &[u8], sensor: &str, segment: u64) -> (Vec<Spooled>, Option<String>) {
    let mut out = Vec::new();
    let mut off = 0usize;
    while off < data.len() {
        let Some(h) = data.get(off..off + HEADER) else {
            return (out, Some(format!("segment {segment}: record header cut at byte {off}")));
        };
        let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let crc = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        if len > MAX_RECORD {
            return (out, Some(format!("segment {segment}: record length {len} at byte {off}")));
        }
        let Some(p) = data.get(off + HEADER..off + HEADER + len) else {
            return (out, Some(format!("segment {segment}: record cut at byte {off}")));
        };
        if crc32fast::hash(p) != crc {
            return (out, Some(format!("segment {segment}: checksum mismatch at byte {off}")));
        }
        out.push(Spooled { id: format!("{sensor}:{segment}:{}", out.len()), payload: p.to_vec() });
        off += HEADER + len;
    }
    (out, None)
}

#[cfg(test)]
mod tests;
