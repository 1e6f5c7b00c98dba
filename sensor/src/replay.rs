//! Replay: the pipeline over capture files, on this thread or on worker threads (the
//! offline counterpart of [`crate::daemon`]).

use std::io;
use std::path::Path;

use gatewatch_rules::detection::Detection;
use gatewatch_rules::engine::profile::ProfileReport;

use crate::capture::pcap::{PcapError, PcapReader};
use crate::capture::Frame;
use crate::config::SensorConfig;
use crate::output::EventSink;
use crate::pipeline::{stats_record, Pipeline};
use crate::reload::RuleSlot;

/// What a replay reports besides its EVE output.
#[derive(Debug, Default)]
pub struct ReplaySummary {
    /// The `stats` object of the EVE record, added up over the workers.
    pub stats: serde_json::Value,
    /// Worker threads used.
    pub workers: usize,
    /// Files that stopped early, with where and why.
    pub warnings: Vec<String>,
    /// The rule profile (with `detect.profile_rules`), also written to that file.
    pub profile: Option<ProfileReport>,
    /// Wall time of the replay, set by the caller that timed it.
    pub processing: std::time::Duration,
}

impl ReplaySummary {
    /// A counter of [`ReplaySummary::stats`] by its dotted path (`decoder.pkts`); 0
    /// when absent.
    pub fn counter(&self, path: &str) -> u64 {
        path.split('.').fold(&self.stats, |v, k| &v[k]).as_u64().unwrap_or(0)
    }

    /// What `gatewatch replay` prints when it is done, one line per subject: packets,
    /// flows and alerts; packet processing time (net of start-up, as Suricata's `time
    /// elapsed`: from the first packet read to the last event written); peak memory
    /// when given; then IOC, Sigma and YARA when they ran.
    pub fn text(&self, peak_rss_kib: Option<u64>) -> String {
        let c = |k: &str| self.counter(k);
        let workers =
            if self.workers > 1 { format!(" ({} workers)", self.workers) } else { String::new() };
        let mut lines = vec![
            format!(
                "replay: {} packets, {} bytes, {} flows, {} alerts, {} invalid packets{workers}",
                c("decoder.pkts"),
                c("decoder.bytes"),
                c("flow.total"),
                c("detect.alert"),
                c("decoder.invalid")
            ),
            format!("replay: packet processing {:.3} s", self.processing.as_secs_f64()),
        ];
        if let Some(kib) = peak_rss_kib {
            lines.push(format!("replay: peak memory {:.1} MiB", kib as f64 / 1024.0));
        }
        if c("ioc.hits") > 0 {
            lines.push(format!("ioc: {} indicator hits", c("ioc.hits")));
        }
        if self.stats["sigma"].is_object() {
            lines.push(format!(
                "sigma: {} network events tested, {} alerts, {:.2} s evaluating",
                c("sigma.events"),
                c("sigma.hits"),
                c("sigma.eval_us") as f64 / 1e6
            ));
        }
        if self.stats["yara"].is_object() {
            lines.push(format!(
                "yara: {} files and {} stream chunks scanned, {:.1} MB, {} matches, {} timeouts, {:.2} s scanning",
                c("yara.files"),
                c("yara.streams"),
                c("yara.bytes") as f64 / 1e6,
                c("yara.matches"),
                c("yara.timeouts"),
                c("yara.scan_us") as f64 / 1e6
            ));
        }
        lines.join("\n") + "\n"
    }
}

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// A capture file could not be opened or read at all (a truncated one is a warning).
    #[error(transparent)]
    Capture(#[from] PcapError),
    /// The output (the EVE file, the in-process correlator) refused a record.
    #[error("cannot write the output: {0}")]
    Output(io::Error),
    /// The worker threads could not be started.
    #[error("cannot start the worker threads: {0}")]
    Workers(io::Error),
}

fn output_error(e: io::Error) -> ReplayError {
    ReplayError::Output(e)
}

/// Runs the pipeline over capture files, with `cfg.capture.workers` worker threads.
/// `progress(bytes_read, frames)` is called now and then. An unreadable file is an
/// error; a truncated one is a warning. With one worker, records come out in capture
/// order; with several, each worker's records are in order.
pub fn replay_files(
    paths: &[impl AsRef<Path>],
    cfg: SensorConfig,
    detection: impl Into<Detection>,
    sink: &mut dyn EventSink,
    reload: Option<&RuleSlot>,
    progress: impl FnMut(u64, u64),
) -> Result<ReplaySummary, ReplayError> {
    if cfg.capture.workers > 1 {
        return replay_with_workers(paths, cfg, detection.into(), sink, reload, progress);
    }
    let mut sensor = Pipeline::new(cfg, detection);
    let mut generation = reload.map_or(1, RuleSlot::generation);
    let mut summary = ReplaySummary { workers: 1, ..Default::default() };
    let ends = read_files(paths, &mut summary, progress, |frame, _| {
        if let Some(slot) = reload.filter(|s| s.generation() != generation) {
            let (g, detection) = slot.current();
            sensor.reload(detection, g);
            generation = g;
        }
        sensor.process(frame, sink).map_err(output_error)
    })?;
    for truncated in ends {
        sensor.note_file(truncated);
    }
    sensor.finish(sink).map_err(output_error)?;
    summary.stats = sensor.stats().to_json();
    summary.profile = sensor.profile_report();
    Ok(summary)
}

/// Writes a rule profile as text (see [`ProfileReport::write_text`]) to `path`.
pub fn write_profile(path: &Path, profile: &ProfileReport) -> io::Result<()> {
    let mut out = io::BufWriter::new(std::fs::File::create(path)?);
    profile.write_text(&mut out)?;
    io::Write::flush(&mut out)
}

/// Reads every frame of `paths` in order into `each(frame, number)`; returns for each
/// file whether it ended early.
fn read_files(
    paths: &[impl AsRef<Path>],
    summary: &mut ReplaySummary,
    mut progress: impl FnMut(u64, u64),
    mut each: impl FnMut(&Frame<'_>, u64) -> Result<(), ReplayError>,
) -> Result<Vec<bool>, ReplayError> {
    let mut ends = Vec::with_capacity(paths.len());
    let mut done_bytes = 0u64;
    let mut number = 0u64;
    for p in paths {
        let mut reader = PcapReader::open(p.as_ref())?;
        let mut n = 0u64;
        let mut truncated = false;
        let mut unknown_links = Vec::new();
        loop {
            match reader.next_frame() {
                Ok(Some(frame)) => {
                    if !frame.link.is_decoded() && !unknown_links.contains(&frame.link.0) {
                        unknown_links.push(frame.link.0);
                        summary.warnings.push(format!(
                            "`{}`: link type {} is not one Gatewatch decodes (Ethernet, Linux SLL and SLL2, raw IP, BSD loopback, Cisco HDLC): its packets count as invalid",
                            p.as_ref().display(),
                            frame.link.0
                        ));
                    }
                    number += 1;
                    each(&frame, number)?;
                    n += 1;
                    if n.is_multiple_of(4096) {
                        progress(done_bytes + reader.offset(), n);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    truncated = true;
                    summary.warnings.push(format!("{e} (packets before it were processed)"));
                    break;
                }
            }
        }
        done_bytes += reader.offset();
        progress(done_bytes, n);
        ends.push(truncated);
    }
    Ok(ends)
}

fn replay_with_workers(
    paths: &[impl AsRef<Path>],
    cfg: SensorConfig,
    detection: Detection,
    sink: &mut dyn EventSink,
    reload: Option<&RuleSlot>,
    progress: impl FnMut(u64, u64),
) -> Result<ReplaySummary, ReplayError> {
    use crate::workers::{merge_stats, Backpressure, WorkerLimits, Workers};
    let n = cfg.capture.workers;
    let mut workers =
        Workers::start(n, &cfg, &detection, WorkerLimits::default(), Backpressure::Wait)
            .map_err(ReplayError::Workers)?;
    let mut generation = reload.map_or(1, RuleSlot::generation);
    let mut summary = ReplaySummary { workers: n, ..Default::default() };
    let mut last_ts = 0i64;
    let read = read_files(paths, &mut summary, progress, |frame, number| {
        if let Some(slot) = reload.filter(|s| s.generation() != generation) {
            let (g, detection) = slot.current();
            workers.reload(&detection, g);
            generation = g;
        }
        last_ts = last_ts.max(frame.ts_us);
        workers.dispatch(frame, number);
        if number % 1024 == 0 {
            workers.drain(sink).map_err(output_error)?;
        }
        Ok(())
    });
    // Even when a file could not be read, the workers end their flows.
    let balance = workers.stats.balance;
    let finished = workers.finish(sink).map_err(output_error)?;
    let records = finished.stats;
    summary.profile = finished.profile;
    let ends = read?;
    let (files, truncated_files) = (ends.len(), ends.iter().filter(|t| **t).count());
    let mut stats = merge_stats(&records);
    stats["capture"] = serde_json::json!({
        "files": files,
        "files_truncated": truncated_files,
        "flows_by_load": balance.by_load,
        "flows_by_hash": balance.by_hash,
    });
    stats["workers"] = serde_json::json!(n);
    if cfg.eve.stats {
        sink.stats(&stats_record(&stats, last_ts, &cfg)).map_err(output_error)?;
    }
    sink.flush().map_err(output_error)?;
    summary.stats = stats;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_what_ran() {
        let stats = serde_json::json!({
            "decoder": {"pkts": 1200, "bytes": 900_000, "invalid": 2},
            "flow": {"total": 40},
            "detect": {"alert": 7},
            "sigma": {"events": 30, "hits": 1, "eval_us": 250_000},
        });
        let s = ReplaySummary {
            stats,
            workers: 2,
            warnings: Vec::new(),
            profile: None,
            processing: std::time::Duration::from_millis(1250),
        };
        let text = s.text(Some(2048));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "replay: 1200 packets, 900000 bytes, 40 flows, 7 alerts, 2 invalid packets (2 workers)",
                "replay: packet processing 1.250 s",
                "replay: peak memory 2.0 MiB",
                "sigma: 30 network events tested, 1 alerts, 0.25 s evaluating",
            ]
        );
        // No YARA or IOC line when they did not run; no memory line when unknown.
        let one = ReplaySummary { workers: 1, stats: serde_json::json!({}), ..s };
        assert_eq!(
            one.text(None),
            "replay: 0 packets, 0 bytes, 0 flows, 0 alerts, 0 invalid packets\nreplay: packet processing 1.250 s\n"
        );
    }
}
