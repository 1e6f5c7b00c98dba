//! What sensors ship over HTTPS: Gatewatch findings (`POST /api/v1/findings`) and
//! Suricata EVE lines (`POST /api/v1/eve`). A body is read in batches of lines, each
//! parsed on the blocking pool and committed before the next is parsed, so what a body
//! costs beyond its own bytes is one batch of parsed records, whatever its size. A
//! finding's id makes storing idempotent: a body sent again after a failure half-way
//! is stored once (its first batches count as duplicates).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;

use super::api::{off_workers, Client, MAX_ERRORS_IN_REPLY};
use super::eve_input::LineError;
use super::{Finding, ListenerStats, Shared};

/// Lines parsed and committed at a time.
const BATCH_LINES: usize = 8_192;
/// Bytes of lines parsed and committed at a time (whichever comes first).
const BATCH_BYTES: usize = 8 << 20;

/// Where reading a body goes on from: a byte offset and the number of its line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Resume {
    at: usize,
    line: usize,
}

/// The next batch of non-blank lines of `body` from `from`, each with its line number
/// (from 1), and where the batch after it starts (none at the end of the body).
pub(super) fn batch_of_lines(body: &[u8], from: Resume) -> (Vec<(usize, &[u8])>, Option<Resume>) {
    let (mut at, mut line) = (from.at, from.line);
    let (mut lines, mut bytes) = (Vec::new(), 0);
    while at < body.len() {
        if lines.len() >= BATCH_LINES || bytes >= BATCH_BYTES {
            return (lines, Some(Resume { at, line }));
        }
        let end = memchr::memchr(b'\n', &body[at..]).map_or(body.len(), |i| at + i);
        let text = &body[at..end];
        line += 1;
        at = end + 1;
        if !text.iter().all(u8::is_ascii_whitespace) {
            bytes += text.len();
            lines.push((line, text));
        }
    }
    (lines, None)
}

#[derive(serde::Deserialize)]
struct WireFinding {
    id: String,
    record: serde_json::Value,
}

/// What one batch of a body held.
#[derive(Default)]
struct Read {
    findings: Vec<Finding>,
    /// EVE records that are not alerts.
    other: u64,
    errors: Vec<String>,
    next: Option<Resume>,
}

/// What a whole body came to.
#[derive(Default)]
struct Totals {
    /// Lines read as findings (stored or not).
    read: usize,
    stored: u64,
    duplicates: u64,
    alerts: usize,
    other: u64,
    rejected: usize,
    errors: Vec<String>,
}

/// Reads `body` batch by batch with `read` (on the blocking pool) and commits each
/// batch's findings before the next is read. The error is the answer to give.
async fn read_and_store(
    shared: &Arc<Shared>,
    body: axum::body::Bytes,
    read: impl Fn(&[u8], Resume) -> Read + Clone + Send + 'static,
) -> Result<Totals, (StatusCode, Json<serde_json::Value>)> {
    let mut totals = Totals::default();
    let mut from = Some(Resume::default());
    while let Some(at) = from {
        let (body, read) = (body.clone(), read.clone());
        let batch = off_workers(move || read(&body, at)).await?;
        from = batch.next;
        totals.rejected += batch.errors.len();
        totals.other += batch.other;
        let room = MAX_ERRORS_IN_REPLY.saturating_sub(totals.errors.len());
        totals.errors.extend(batch.errors.into_iter().take(room));
        if batch.findings.is_empty() {
            continue;
        }
        totals.read += batch.findings.len();
        totals.alerts += batch.findings.iter().filter(|f| f.alert.is_some()).count();
        match super::submit_findings(shared, batch.findings).await {
            Ok(o) => {
                totals.stored += o.stored;
                totals.duplicates += o.duplicates;
            }
            Err(e) => {
                return Err((
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({"error": e.to_string()})),
                ))
            }
        }
    }
    Ok(totals)
}

/// `POST /api/v1/findings`.
pub(super) async fn post_findings(
    State(shared): State<Arc<Shared>>,
    Extension(client): Extension<Client>,
    body: axum::body::Bytes,
) -> (StatusCode, Json<serde_json::Value>) {
    ListenerStats::bump(&shared.listeners.https_requests);
    let Some(sensor) = client.name.clone() else {
        return (StatusCode::FORBIDDEN, Json(json!({"error": "no client certificate name"})));
    };
    let (sh, name) = (shared.clone(), sensor.clone());
    let read = move |body: &[u8], from| read_findings(body, from, &name, &client, &sh);
    let t = match read_and_store(&shared, body, read).await {
        Ok(t) => t,
        Err(e) => return e,
    };
    shared.listeners.findings_bad.fetch_add(t.rejected as u64, Ordering::Relaxed);
    shared.listeners.findings.fetch_add(t.stored, Ordering::Relaxed);
    for e in t.errors.iter().take(3) {
        shared.log_error(|| format!("POST /api/v1/findings from {sensor}: {e}"));
    }
    let nothing = t.read == 0 && t.rejected > 0;
    let status = if nothing { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let answer = json!({"stored": t.stored, "duplicates": t.duplicates,
                        "rejected": t.rejected, "errors": t.errors});
    (status, Json(answer))
}

/// One batch of a `/findings` body: the findings (a sensor's heartbeats noted on the
/// way), and the lines that are not findings.
fn read_findings(
    body: &[u8],
    from: Resume,
    sensor: &str,
    client: &Client,
    shared: &Shared,
) -> Read {
    let (lines, next) = batch_of_lines(body, from);
    let mut read = Read { next, ..Read::default() };
    for (n, line) in lines {
        match finding(line, sensor, client, shared) {
            Ok(f) => read.findings.push(f),
            Err(e) => read.errors.push(format!("line {n}: {e}")),
        }
    }
    read
}

fn finding(
    line: &[u8],
    sensor: &str,
    client: &Client,
    shared: &Shared,
) -> Result<Finding, LineError> {
    let w = serde_json::from_slice::<WireFinding>(line).map_err(LineError::BadFinding)?;
    if w.id.is_empty() || w.id.len() > 256 {
        return Err(LineError::BadId);
    }
    if w.record["event_type"] == "stats" {
        let back = shared.sensors.lock().is_ok_and(|mut s| {
            s.heartbeat(sensor, &client.addr.to_string(), &w.record, super::now_us())
        });
        if back {
            tracing::info!("sensor {sensor} is back (heartbeat)");
        }
    }
    let id = format!("{sensor}/{}", w.id);
    if w.record["event_type"] == "alert" {
        let mut a: gatewatch_rules::event::AlertEvent =
            serde_json::from_value(w.record).map_err(LineError::BadAlert)?;
        a.host.get_or_insert_with(|| sensor.to_string());
        Ok(Finding { id, alert: Some(a), record: None })
    } else {
        let mut record = w.record;
        if let Some(o) = record.as_object_mut() {
            o.entry("host").or_insert_with(|| sensor.to_string().into());
        }
        Ok(Finding { id, alert: None, record: Some(record) })
    }
}

/// `POST /api/v1/eve`: Suricata EVE JSON lines (any event types; alerts are stored).
/// A line sent again is stored once: its id is the hash of its bytes and the sender.
pub(super) async fn post_eve(
    State(shared): State<Arc<Shared>>,
    Extension(client): Extension<Client>,
    body: axum::body::Bytes,
) -> (StatusCode, Json<serde_json::Value>) {
    ListenerStats::bump(&shared.listeners.https_requests);
    let sender = client.name.clone().unwrap_or_else(|| client.addr.ip().to_string());
    let who = sender.clone();
    let read = move |body: &[u8], from| read_eve(body, from, &who);
    let t = match read_and_store(&shared, body, read).await {
        Ok(t) => t,
        Err(e) => return e,
    };
    shared.listeners.eve_bad_lines.fetch_add(t.rejected as u64, Ordering::Relaxed);
    shared.listeners.eve_other_events.fetch_add(t.other, Ordering::Relaxed);
    shared.listeners.eve_alerts.fetch_add(t.stored, Ordering::Relaxed);
    for e in t.errors.iter().take(3) {
        shared.log_error(|| format!("POST /api/v1/eve from {sender}: {e}"));
    }
    let nothing = t.read == 0 && t.rejected > 0;
    let status = if nothing { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let answer = json!({"alerts": t.alerts, "stored": t.stored, "duplicates": t.duplicates,
                        "other_events": t.other, "rejected": t.rejected, "errors": t.errors});
    (status, Json(answer))
}

/// One batch of an `/eve` body: its records, how many are not alerts, and the lines
/// that are not EVE.
fn read_eve(body: &[u8], from: Resume, sender: &str) -> Read {
    let (lines, next) = batch_of_lines(body, from);
    let mut read = Read { next, ..Read::default() };
    for (n, line) in lines {
        let id = || format!("eve:{sender}/{:032x}", line_hash(line));
        match super::eve_input::parse_line(line) {
            Ok(super::eve_input::EveRecord::Alert(mut a)) => {
                a.host.get_or_insert_with(|| sender.to_string());
                read.findings.push(Finding { id: id(), alert: Some(*a), record: None });
            }
            Ok(super::eve_input::EveRecord::Other(mut r)) => {
                read.other += 1;
                if let Some(o) = r.as_object_mut() {
                    o.entry("host").or_insert_with(|| sender.to_string().into());
                }
                read.findings.push(Finding { id: id(), alert: None, record: Some(r) });
            }
            Err(e) => read.errors.push(format!("line {n}: {e}")),
        }
    }
    read
}

/// 128-bit FNV-1a of a line (ids of EVE lines sent over the API).
fn line_hash(line: &[u8]) -> u128 {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in line {
        h ^= *b as u128;
        h = h.wrapping_mul(0x0000000001000000000000000000013b);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_read_in_batches_that_cover_every_line_once() {
        let mut body = Vec::new();
        for i in 0..(BATCH_LINES * 2 + 5) {
            if i % 7 == 3 {
                body.extend_from_slice(b"  \n");
            } else {
                body.extend_from_slice(format!("{{\"n\":{i}}}\n").as_bytes());
            }
        }
        body.extend_from_slice(b"last-without-newline");
        let mut from = Some(Resume::default());
        let (mut seen, mut sizes) = (Vec::new(), Vec::new());
        while let Some(at) = from {
            let (lines, next) = batch_of_lines(&body, at);
            sizes.push(lines.len());
            seen.extend(lines.into_iter().map(|(n, l)| (n, l.to_vec())));
            from = next;
        }
        let total = BATCH_LINES * 2 + 6;
        let blank = (0..total - 1).filter(|i| i % 7 == 3).count();
        assert_eq!(seen.len(), total - blank);
        assert_eq!(sizes.len(), seen.len().div_ceil(BATCH_LINES));
        assert!(sizes[..sizes.len() - 1].iter().all(|n| *n == BATCH_LINES), "{sizes:?}");
        // Line numbers are the body's own, blank lines counted.
        assert_eq!(
            seen.last().map(|(n, l)| (*n, l.as_slice())),
            Some((total, &b"last-without-newline"[..]))
        );
        assert!(seen
            .iter()
            .all(|(n, l)| *n == total || l == format!("{{\"n\":{}}}", n - 1).as_bytes()));
    }

    #[test]
    fn a_batch_stops_at_its_byte_budget() {
        let line = vec![b'x'; 1 << 20];
        let mut body = Vec::new();
        for _ in 0..10 {
            body.extend_from_slice(&line);
            body.push(b'\n');
        }
        let (lines, next) = batch_of_lines(&body, Resume::default());
        assert_eq!(lines.len(), 8);
        let (rest, end) = batch_of_lines(&body, next.expect("more"));
        assert_eq!((rest.len(), rest[0].0, end), (2, 9, None));
    }
}
