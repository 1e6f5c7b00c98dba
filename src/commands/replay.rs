//! `gatewatch replay` (sensor offline → EVE) and `gatewatch run` (sensor → correlator →
//! store).

use std::fs::File;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_correlator::{store::Store, Correlator};
use gatewatch_rules::detection::Detection;
use gatewatch_rules::event::AlertEvent;
use gatewatch_sensor::output::{AppEvent, EveWriter, EventSink, Fanout, FlowEvent};
use gatewatch_sensor::reload::RuleSlot;
use gatewatch_sensor::replay::{replay_files, ReplaySummary};
use gatewatch_sensor::rule_loading::{accept_reloads, load_detection, EnginePaths, NoRules};

use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;

/// Rules of the engines besides signatures; each defaults to its section of the config.
#[derive(Args, Clone, Debug, Default)]
pub struct EngineArgs {
    /// YARA rule files or folders (default: `yara.rules` of the config).
    #[arg(long, num_args = 1..)]
    pub yara: Vec<PathBuf>,
    /// Indicator list files or folders (default: `ioc.lists` of the config).
    #[arg(long, num_args = 1..)]
    pub ioc: Vec<PathBuf>,
    /// Sigma rule files or folders (default: `sigma.rules` of the config); rules of
    /// network logsources run on the sensor's DNS, HTTP, TLS, file and flow events.
    #[arg(long, num_args = 1..)]
    pub sigma: Vec<PathBuf>,
}

impl EngineArgs {
    /// The paths as the sensor's rule loading takes them.
    pub fn paths(&self) -> EnginePaths {
        EnginePaths { yara: self.yara.clone(), ioc: self.ioc.clone(), sigma: self.sigma.clone() }
    }
}

#[derive(Args)]
pub struct ReplayArgs {
    /// pcap or pcapng files, processed in order as one capture.
    #[arg(required = true)]
    pub pcaps: Vec<PathBuf>,
    /// Suricata rule files.
    #[arg(long, num_args = 1.., required = true)]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub engines: EngineArgs,
    /// Accept rule reloads while running (`SIGUSR2`, `gatewatch rules reload`): writes
    /// the pid file and reload status to `control.dir`.
    #[arg(long)]
    pub reload: bool,
    /// EVE JSON output file.
    #[arg(long)]
    pub eve: PathBuf,
    /// Profile the rules: write, per rule, its checks after the prefilter, matches and
    /// time, and per buffer the prefilter's calls, candidates and time, sorted by time
    /// (the config key `detect.profile_rules` does the same).
    #[arg(long, value_name = "FILE")]
    pub profile_rules: Option<PathBuf>,
}

#[derive(Args)]
pub struct RunArgs {
    #[arg(required = true)]
    pub pcaps: Vec<PathBuf>,
    /// Rule files (default: `detect.rule_files` of the config).
    #[arg(long, num_args = 1..)]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub engines: EngineArgs,
    /// Accept rule reloads while running (`SIGUSR2`, `gatewatch rules reload`).
    #[arg(long)]
    pub reload: bool,
    /// Also write EVE JSON here.
    #[arg(long)]
    pub eve: Option<PathBuf>,
}

/// A progress bar on a terminal (packets, bytes, percent); nothing otherwise.
fn progress_bar(pcaps: &[PathBuf]) -> Option<ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = pcaps.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    let pb = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{bar:40} {percent:>3}% {bytes}/{total_bytes} {msg} [{elapsed}]",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    Some(pb)
}

pub fn run_pipeline(
    pcaps: &[PathBuf],
    cfg: &Config,
    rules: impl Into<Detection>,
    sink: &mut dyn EventSink,
    reload: Option<&RuleSlot>,
) -> Result<ReplaySummary> {
    let pb = progress_bar(pcaps);
    let started = std::time::Instant::now();
    let summary = replay_files(pcaps, cfg.sensor(), rules, sink, reload, |bytes, pkts| {
        if let Some(pb) = &pb {
            pb.set_position(bytes);
            pb.set_message(format!("{pkts} packets"));
        }
    });
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let mut summary = summary?;
    summary.processing = started.elapsed();
    for w in &summary.warnings {
        tracing::warn!("{w}");
    }
    for e in gatewatch_rules::signature::dataset::save_all() {
        tracing::warn!("{e}");
    }
    if let (Some(path), Some(profile)) = (&cfg.detect.profile_rules, &summary.profile) {
        gatewatch_sensor::replay::write_profile(path, profile)
            .with_context(|| format!("cannot write the rule profile `{}`", path.display()))?;
        tracing::info!("rule profile: {}", path.display());
    }
    Ok(summary)
}

fn eve_writer(path: &Path, cfg: &Config) -> Result<EveWriter<File>> {
    let f = File::create(path)
        .with_context(|| format!("cannot create EVE output `{}`", path.display()))?;
    Ok(EveWriter::new(f, &cfg.eve))
}

/// The process's peak resident memory (`VmHWM`), where the kernel says it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn replay(a: ReplayArgs, mut cfg: Config) -> Result<ExitCode> {
    if a.profile_rules.is_some() {
        cfg.detect.profile_rules = a.profile_rules.clone();
    }
    let loading = std::time::Instant::now();
    let rules = load_detection(&a.rules, &a.engines.paths(), &cfg.sensor(), false, NoRules::Warn)?;
    tracing::info!("rules: ready in {:.3} s", loading.elapsed().as_secs_f64());
    let slot = RuleSlot::new(rules.clone());
    let _control = a
        .reload
        .then(|| {
            accept_reloads(
                &cfg.control.dir,
                &a.rules,
                &a.engines.paths(),
                &cfg.sensor(),
                slot.clone(),
            )
        })
        .transpose()?;
    let mut eve = eve_writer(&a.eve, &cfg)?;
    let summary = run_pipeline(&a.pcaps, &cfg, rules, &mut eve, a.reload.then_some(&*slot))?;
    drop(eve);
    eprint!("{}", summary.text(peak_rss_kib()));
    Ok(ExitCode::SUCCESS)
}

/// Hands the sensor's alerts to the correlator in process; Sigma alerts also feed the
/// Sigma correlation rules, whose alerts are stored too.
pub struct CorrelatorSink<'a> {
    pub correlator: &'a mut Correlator,
    pub sigma_correlation: Option<gatewatch_correlator::ingest::hostlog::HostLogDetector>,
}

impl<'a> CorrelatorSink<'a> {
    /// A sink with the correlation rules of `detection`'s Sigma set, if it has any.
    pub fn new(
        correlator: &'a mut Correlator,
        detection: &gatewatch_rules::detection::Detection,
    ) -> Self {
        use gatewatch_correlator::ingest::hostlog::HostLogDetector;
        let sigma_correlation =
            detection.sigma.as_ref().filter(|s| !s.correlations.is_empty()).map(|s| {
                let utc = chrono::FixedOffset::east_opt(0).expect("zero offset");
                HostLogDetector::new(s.clone(), Default::default(), utc)
            });
        CorrelatorSink { correlator, sigma_correlation }
    }
}

impl CorrelatorSink<'_> {
    /// Protocol records are the evidence behind the alerts (kept when of
    /// `correlator.record_types`).
    fn record(&mut self, v: serde_json::Value) -> io::Result<()> {
        self.correlator.ingest_record(v).map_err(io::Error::other)
    }
}

impl EventSink for CorrelatorSink<'_> {
    fn alert(&mut self, a: &AlertEvent) -> io::Result<()> {
        self.correlator.ingest(a).map_err(io::Error::other)?;
        if let Some(d) = self.sigma_correlation.as_mut() {
            for c in d.observe_alert(a) {
                self.correlator.ingest(&c).map_err(io::Error::other)?;
            }
        }
        Ok(())
    }
    fn flow(&mut self, f: &FlowEvent) -> io::Result<()> {
        self.record(serde_json::to_value(f).map_err(io::Error::other)?)
    }
    fn app(&mut self, e: &AppEvent) -> io::Result<()> {
        self.record(serde_json::to_value(e).map_err(io::Error::other)?)
    }
    /// The sensor's heartbeat: the console's sensors page and the report's sensor
    /// health read it.
    fn stats(&mut self, v: &serde_json::Value) -> io::Result<()> {
        self.record(v.clone())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.correlator.flush().map_err(io::Error::other)
    }
}

pub fn run(a: RunArgs, cfg: Config) -> Result<ExitCode> {
    let files = if a.rules.is_empty() { cfg.detect.rule_files.clone() } else { a.rules.clone() };
    if files.is_empty() {
        anyhow::bail!("no rules: give --rules FILE or set detect.rule_files in the config");
    }
    let rules = load_detection(&files, &a.engines.paths(), &cfg.sensor(), false, NoRules::Refuse)?;
    let slot = RuleSlot::new(rules.clone());
    let _control = a
        .reload
        .then(|| {
            accept_reloads(
                &cfg.control.dir,
                &files,
                &a.engines.paths(),
                &cfg.sensor(),
                slot.clone(),
            )
        })
        .transpose()?;
    let mut store = Store::open(&cfg.store.path)?;
    let mut responder = response_for(&cfg)?;
    if let Some(r) = &responder {
        r.attach(&mut store, false)?;
    }
    let mut correlator = Correlator::open(cfg.correlator.clone(), store)?;
    let mut eve = a.eve.as_deref().map(|p| eve_writer(p, &cfg)).transpose()?;
    {
        let mut csink = CorrelatorSink::new(&mut correlator, &rules);
        let mut fan: Fanout<&mut dyn EventSink> = Fanout::default();
        fan.sinks.push(&mut csink);
        if let Some(e) = eve.as_mut() {
            fan.sinks.push(e);
        }
        let summary = run_pipeline(&a.pcaps, &cfg, rules, &mut fan, a.reload.then_some(&*slot))?;
        eprint!("{}", summary.text(peak_rss_kib()));
    }
    correlator.flush()?;
    let st = correlator.stats;
    tracing::info!(
        "correlator: {} alerts ({} repeats folded, {} suppressed, {} correlations) in {} incidents ({} new, {} merged into campaigns), store `{}`",
        st.alerts,
        st.repeats,
        st.suppressed,
        st.correlations,
        correlator.store().open_incident_count()?,
        st.incidents_created,
        st.incidents_merged,
        cfg.store.path.display()
    );
    if let Some(r) = responder.as_mut() {
        let rep = r.step(correlator.store_mut(), chrono::Utc::now().timestamp_micros())?;
        tracing::info!(
            "response: {} block decisions, {} carried out (see `gatewatch blocks list`)",
            rep.decisions,
            rep.actions
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The responder of `[response]`, when it has policies.
pub fn response_for(cfg: &Config) -> Result<Option<gatewatch_correlator::response::Responder>> {
    if cfg.response.policies.is_empty() {
        return Ok(None);
    }
    gatewatch_correlator::response::Responder::new(&cfg.response, &cfg.correlator)
        .map(Some)
        .map_err(anyhow::Error::msg)
        .context("[response]")
}
