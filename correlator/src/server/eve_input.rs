//! Suricata EVE JSON into the correlator: tailed `eve.json` files (`ingest.eve_files`)
//! and `POST /api/v1/eve` (see [`super::api`]).
//!
//! One thread per file reads appended lines ([`EveTail`]), keeps the `alert` records
//! and hands them, with the file position after them, to the detection thread, which
//! stores both in one transaction. Records of other event types (dns, http, flow …)
//! are stored as evidence when of `correlator.record_types`; a line that is not an EVE record is counted and logged with its file and
//! byte offset, and skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gatewatch_rules::event::AlertEvent;
use serde::Serialize;

use super::{ServerError, Shared, Work};
use crate::ingest::eve_file::{EveTail, Position, TailStats};
use crate::store::Store;

/// Lines handed to detection per batch at most.
const LINES_PER_BATCH: usize = 2_000;
/// Longest EVE line accepted.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// Counters of one tailed file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EveFileStats {
    /// The file.
    pub path: String,
    #[serde(flatten)]
    pub(crate) tail: TailStats,
    /// Alerts read from it.
    pub alerts: u64,
    /// Records of other event types (stored when of `correlator.record_types`).
    pub other_events: u64,
}

/// What one EVE line is.
#[derive(Debug)]
pub enum EveRecord {
    /// An alert.
    Alert(Box<AlertEvent>),
    /// A record of another event type.
    Other(serde_json::Value),
}

/// Why a line (of an EVE file or body, or of shipped findings) was not taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// The line is not JSON.
    #[error("not JSON: {0}")]
    NotJson(serde_json::Error),
    /// The line is JSON without an `event_type`.
    #[error("no `event_type`: not an EVE record")]
    NoEventType,
    /// An `alert` record lacks a field an alert needs (or has one of the wrong type).
    #[error("an alert record without {0}")]
    BadAlert(serde_json::Error),
    /// A shipped finding is not the JSON the sensor writes.
    #[error("{0}")]
    BadFinding(serde_json::Error),
    /// A shipped finding's id is empty or too long.
    #[error("the id is empty or longer than 256 bytes")]
    BadId,
}

/// Reads one EVE line; the error says what is wrong with it.
pub fn parse_line(line: &[u8]) -> Result<EveRecord, LineError> {
    let v: serde_json::Value = serde_json::from_slice(line).map_err(LineError::NotJson)?;
    let Some(kind) = v.get("event_type").and_then(|t| t.as_str()) else {
        return Err(LineError::NoEventType);
    };
    if kind != "alert" {
        return Ok(EveRecord::Other(v));
    }
    let a: AlertEvent = serde_json::from_value(v).map_err(LineError::BadAlert)?;
    Ok(EveRecord::Alert(Box::new(a)))
}

/// A batch read from a file: its alerts and the position after them.
pub(super) struct TailBatch {
    pub source: String,
    pub alerts: Vec<AlertEvent>,
    pub records: Vec<serde_json::Value>,
    pub position: Position,
}

/// Starts one tail thread per file. Positions are read from the store at `store_path`.
pub(super) fn start_tails(
    files: &[PathBuf],
    store_path: &Path,
    poll: Duration,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
) -> Result<Vec<std::thread::JoinHandle<()>>, ServerError> {
    let mut handles = Vec::new();
    let reader = if files.is_empty() { None } else { Some(Store::open_reader(store_path)?) };
    for f in files {
        let source = f.display().to_string();
        let remembered = match &reader {
            Some(r) => r
                .input_position(&source)
                .map_err(|e| ServerError::Position { file: source.clone(), source: e })?
                .map(|(dev, ino, offset)| Position { dev, ino, offset }),
            None => None,
        };
        if let Some(p) = remembered {
            tracing::info!("`{source}`: resuming at byte {}", p.offset);
        }
        let tail = EveTail::new(f, remembered, MAX_LINE_BYTES);
        let (shared, stop) = (shared.clone(), stop.clone());
        let h = std::thread::Builder::new()
            .name("correlator-eve".into())
            .spawn(move || tail_loop(tail, source, poll, &shared, &stop))
            .map_err(|e| ServerError::Detection(format!("starting a tail thread: {e}")))?;
        handles.push(h);
    }
    Ok(handles)
}

fn tail_loop(
    mut tail: EveTail,
    source: String,
    poll: Duration,
    shared: &Shared,
    stop: &AtomicBool,
) {
    let mut stats = EveFileStats { path: source.clone(), ..Default::default() };
    let mut logged_missing = false;
    let mut bad_total = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let mut alerts = Vec::new();
        let mut records = Vec::new();
        let mut lines = 0usize;
        let mut bad: Vec<String> = Vec::new();
        let mut last = tail.position();
        let read = tail.poll(LINES_PER_BATCH * 2_048, |line, pos| {
            lines += 1;
            last = pos;
            match parse_line(line) {
                Ok(EveRecord::Alert(a)) => alerts.push(*a),
                Ok(EveRecord::Other(r)) => {
                    stats.other_events += 1;
                    records.push(r);
                }
                Err(e) => {
                    let at = pos.offset.saturating_sub(line.len() as u64 + 1);
                    bad.push(format!("`{source}` at byte {at}: {e}"));
                }
            }
        });
        match read {
            Err(e) => {
                shared.log_error(|| format!("reading `{source}`: {e}"));
                std::thread::sleep(poll.max(Duration::from_millis(500)));
                continue;
            }
            Ok(0) if !tail.path().exists() && !logged_missing => {
                tracing::warn!("`{source}` does not exist yet; waiting for it");
                logged_missing = true;
            }
            Ok(_) => {}
        }
        bad_total += bad.len() as u64;
        stats.tail = tail.stats;
        stats.tail.bad_lines = bad_total;
        for e in bad {
            shared.log_error(|| e);
        }
        if lines > 0 {
            stats.alerts += alerts.len() as u64;
            let batch = TailBatch { source: source.clone(), alerts, records, position: last };
            // Waits while detection is busy: the file is the buffer.
            if shared.queue.blocking_send(Work::Tail(batch)).is_err() {
                return;
            }
        }
        if let Ok(mut m) = shared.eve_files.lock() {
            m.insert(source.clone(), stats.clone());
        }
        if lines == 0 {
            std::thread::sleep(poll);
        }
    }
}

/// Per-file counters, for `/api/v1/stats`.
pub(super) fn stats_json(files: &BTreeMap<String, EveFileStats>) -> serde_json::Value {
    serde_json::to_value(files.values().collect::<Vec<_>>()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_alerts_other_records_or_errors_that_say_why() {
        let alert = br#"{"timestamp":"2026-10-14T01:00:00.000000+0000","event_type":"alert","src_ip":"1.2.3.4","dest_ip":"10.0.0.1","proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":5,"rev":1,"signature":"s","category":"c","severity":2,"metadata":{"mitre_tactic_id":["TA0001"]}},"http":{"status":200}}"#;
        match parse_line(alert) {
            Ok(EveRecord::Alert(a)) => {
                assert_eq!(a.alert.signature_id, 5);
                assert!(a.app_metadata.contains_key("http"));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(parse_line(br#"{"event_type":"dns"}"#), Ok(EveRecord::Other(t)) if t["event_type"] == "dns")
        );
        assert!(parse_line(b"{oops").unwrap_err().to_string().starts_with("not JSON"));
        assert!(matches!(parse_line(br#"{"a":1}"#), Err(LineError::NoEventType)));
        let e = parse_line(br#"{"event_type":"alert","src_ip":"1.2.3.4"}"#).unwrap_err();
        assert!(e.to_string().contains("missing field"), "{e}");
    }
}
