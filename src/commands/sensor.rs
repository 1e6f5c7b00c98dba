//! `gatewatch sensor`: the live sensor. Captures on the interfaces of `[live]`, runs
//! every engine in `capture.workers` threads per interface and writes EVE JSON to
//! `live.eve` (`--eve`). `SIGUSR2` or `gatewatch rules reload` swaps in recompiled
//! rules; `SIGHUP` reopens the EVE file (logrotate); `SIGINT`/`SIGTERM` end every flow,
//! write the last `stats` and stop.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_rules::logfile::LogFile;
use gatewatch_sensor::capture::live::Method;
use gatewatch_sensor::daemon::{self, SharedSink};
use gatewatch_sensor::output::{EveWriter, Tee};
use gatewatch_sensor::reload::RuleSlot;
use gatewatch_sensor::ship::Shipper;

use gatewatch_sensor::rule_loading::{accept_reloads, load_detection, NoRules};

use super::replay::EngineArgs;
use crate::config::Config;
use crate::systemd::Notifier;

#[derive(Args)]
pub struct SensorArgs {
    /// Interfaces to capture on (default: `live.interfaces`).
    #[arg(long = "interface", short = 'i')]
    pub interfaces: Vec<String>,
    /// Rule files (default: `detect.rule_files`).
    #[arg(long, num_args = 1..)]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub engines: EngineArgs,
    /// EVE output, appended to (default: `live.eve`).
    #[arg(long)]
    pub eve: Option<PathBuf>,
}

/// The EVE file (its folder made), appended to, reopened on `SIGHUP`, rotated as
/// `[eve.rotate]` says.
fn open_eve(path: &std::path::Path, cfg: &Config) -> Result<LogFile> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    LogFile::open(path, cfg.eve.rotate.clone())
        .with_context(|| format!("cannot open EVE output `{}`", path.display()))
}

/// The Prometheus endpoint on `addr` (none when empty): the interfaces' counters and
/// the shipper's.
fn serve_metrics(
    addr: &str,
    shipper: Option<&Shipper>,
    shared: &daemon::Shared,
) -> Result<Option<std::thread::JoinHandle<()>>> {
    if addr.is_empty() {
        return Ok(None);
    }
    let counters = shipper.map(Shipper::counters_handle);
    let extra: gatewatch_sensor::metrics::Extra = Box::new(move || counters.as_ref().map(|c| c()));
    let board = shared.board.clone();
    let (addr, t) = gatewatch_sensor::metrics::serve(addr, board, extra, shared.stop.clone())?;
    tracing::info!("metrics on http://{addr}/metrics");
    Ok(Some(t))
}

pub fn run(a: SensorArgs, cfg: Config) -> Result<ExitCode> {
    let mut live = cfg.live.clone();
    if !a.interfaces.is_empty() {
        live.interfaces = a.interfaces.clone();
    }
    if live.interfaces.is_empty() {
        anyhow::bail!("no interface: give --interface NAME or set live.interfaces");
    }
    let files = if a.rules.is_empty() { cfg.detect.rule_files.clone() } else { a.rules.clone() };
    if files.is_empty() {
        anyhow::bail!("no rules: give --rules FILE or set detect.rule_files in the config");
    }
    let detection =
        load_detection(&files, &a.engines.paths(), &cfg.sensor(), false, NoRules::Refuse)?;
    let slot = RuleSlot::new(detection);
    let _control =
        accept_reloads(&cfg.control.dir, &files, &a.engines.paths(), &cfg.sensor(), slot.clone())?;
    let eve_path = a.eve.clone().unwrap_or_else(|| live.eve.clone());
    let file = open_eve(&eve_path, &cfg)?;
    let mut tee = Tee::default();
    tee.sinks.push(Box::new(EveWriter::new(file, &cfg.eve)));
    let stop = Arc::new(AtomicBool::new(false));
    let shipper = if cfg.ship.url.is_empty() {
        None
    } else {
        let name = cfg.eve.sensor_name.clone().unwrap_or_else(|| "sensor".into());
        let shipper = Shipper::start(&cfg.ship, cfg.spool.clone(), &name)?;
        tee.sinks.push(Box::new(shipper.sink()));
        Some(shipper)
    };
    let sink: SharedSink = Arc::new(Mutex::new(Box::new(tee)));
    let shared = daemon::Shared { stop: stop.clone(), ..Default::default() };
    let metrics = serve_metrics(&live.metrics, shipper.as_ref(), &shared)?;
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone())
            .context("cannot install the stop signal handlers")?;
    }
    gatewatch_rules::control::reopen_on_hangup()?;
    let notify = Arc::new(Notifier::from_env());
    let ready = || {
        let status = format!(
            "capturing on {} ({}, {} workers each) → {}",
            live.interfaces.join(", "),
            match live.method {
                Method::TpacketV3 => "tpacket-v3",
                Method::Pnet => "pnet",
            },
            cfg.capture.workers.max(1),
            eve_path.display()
        );
        tracing::info!("{status}");
        notify.ready(&status);
        // Every capture loop goes round at least once a second; one that has not for a
        // minute is stuck.
        let beats = shared.heartbeats.clone();
        notify.watchdog(move || beats.all_within(Duration::from_secs(60)), stop.clone());
    };
    let captured = daemon::run(&cfg.sensor(), &live, slot, sink, &shared, ready);
    notify.stopping();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    if let Some(t) = metrics {
        let _ = t.join();
    }
    // The capture ended (or failed): the last records are sealed and the shipper gets
    // a few seconds to send them; what it did not send stays in the spool for the
    // next start.
    if let Some(shipper) = shipper {
        let summary = shipper.finish(std::time::Duration::from_secs(5))?;
        tracing::info!("{summary}");
    }
    let summaries = captured.context("live capture failed")?;
    for s in summaries {
        tracing::info!(
            "{}: {} frames received, {} dropped by the kernel, {} by full worker queues, {} alerts",
            s.interface,
            s.capture.received,
            s.capture.kernel_drops,
            s.dispatch.queue_drops,
            s.stats["detect"]["alert"].as_u64().unwrap_or(0)
        );
    }
    Ok(ExitCode::SUCCESS)
}
