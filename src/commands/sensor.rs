//! `gatewatch sensor`: the live sensor. Captures on the interfaces of `[live]`, runs
//! every engine in `capture.workers` threads per interface and writes EVE JSON to
//! `live.eve` (`--eve`). `SIGHUP` or `gatewatch rules reload` swaps in recompiled
//! rules; `SIGINT`/`SIGTERM` end every flow, write the last `stats` and stop.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_sensor::capture::live::Method;
use gatewatch_sensor::daemon::{self, SharedSink};
use gatewatch_sensor::output::{EveWriter, Tee};
use gatewatch_sensor::reload::RuleSlot;
use gatewatch_sensor::ship::Shipper;

use gatewatch_sensor::rule_loading::{accept_reloads, load_detection, NoRules};

use super::replay::EngineArgs;
use crate::config::Config;

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
    if let Some(dir) = eve_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&eve_path)
        .with_context(|| format!("cannot open EVE output `{}`", eve_path.display()))?;
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
    let board = gatewatch_sensor::metrics::Board::default();
    let metrics = if live.metrics.is_empty() {
        None
    } else {
        let counters = shipper.as_ref().map(Shipper::counters_handle);
        let extra = Box::new(move |out: &mut String| {
            if let Some(counters) = &counters {
                gatewatch_rules::metrics::prometheus_text(out, "gatewatch_sensor", &counters(), "");
            }
        });
        let (addr, t) =
            gatewatch_sensor::metrics::serve(&live.metrics, board.clone(), extra, stop.clone())?;
        eprintln!("gatewatch sensor: metrics on http://{addr}/metrics");
        Some(t)
    };
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone())
            .context("cannot install the stop signal handlers")?;
    }
    let ready = || {
        eprintln!(
            "gatewatch sensor: capturing on {} ({}, {} workers each) → {}",
            live.interfaces.join(", "),
            match live.method {
                Method::TpacketV3 => "tpacket-v3",
                Method::Pnet => "pnet",
            },
            cfg.capture.workers.max(1),
            eve_path.display()
        )
    };
    let captured = daemon::run(&cfg.sensor(), &live, slot, sink, stop.clone(), board, ready);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    if let Some(t) = metrics {
        let _ = t.join();
    }
    // The capture ended (or failed): the last records are sealed and the shipper gets
    // a few seconds to send them; what it did not send stays in the spool for the
    // next start.
    if let Some(shipper) = shipper {
        let summary = shipper.finish(std::time::Duration::from_secs(5))?;
        eprintln!("gatewatch sensor: {summary}");
    }
    let summaries = captured.context("live capture failed")?;
    for s in summaries {
        eprintln!(
            "gatewatch sensor: {}: {} frames received, {} dropped by the kernel, {} by full worker queues, {} alerts",
            s.interface,
            s.capture.received,
            s.capture.kernel_drops,
            s.dispatch.queue_drops,
            s.stats["detect"]["alert"].as_u64().unwrap_or(0)
        );
    }
    Ok(ExitCode::SUCCESS)
}
