//! `gatewatch replay` (sensor offline → EVE) and `gatewatch run` (sensor → correlator →
//! store).

use std::fs::File;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_correlator::{store::Store, Correlator};
use gatewatch_rules::detection::Detection;
use gatewatch_rules::engine::{Limits, RuleSet};
use gatewatch_rules::event::AlertEvent;
use gatewatch_rules::report::LoadReport;
use gatewatch_rules::signature::file::load_files;
use gatewatch_rules::yara::compile_paths;
use gatewatch_sensor::output::{AppEvent, EveWriter, EventSink, Fanout, FlowEvent};
use gatewatch_sensor::reload::RuleSlot;
use gatewatch_sensor::replay::{replay_files, ReplaySummary};

use gatewatch_rules::control::ReloadControl;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;

/// Rules of the engines besides signatures; each defaults to its section of the config.
#[derive(Args, Clone, Debug, Default)]
pub struct EnginePaths {
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

#[derive(Args)]
pub struct ReplayArgs {
    /// pcap or pcapng files, processed in order as one capture.
    #[arg(required = true)]
    pub pcaps: Vec<PathBuf>,
    /// Suricata rule files.
    #[arg(long, num_args = 1.., required = true)]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub engines: EnginePaths,
    /// Accept rule reloads while running (`SIGHUP`, `gatewatch rules reload`): writes
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
    pub engines: EnginePaths,
    /// Accept rule reloads while running (`SIGHUP`, `gatewatch rules reload`).
    #[arg(long)]
    pub reload: bool,
    /// Also write EVE JSON here.
    #[arg(long)]
    pub eve: Option<PathBuf>,
}

/// Loads rules, telling the operator on stderr what was skipped.
/// What to do when rules are given and none of them loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoRules {
    /// Refuse to go on (the sensor, `run`, a reload).
    Refuse,
    /// Warn and go on (`replay`, as Suricata does).
    Warn,
}

pub fn load_rules(
    files: &[PathBuf],
    cfg: &Config,
    quiet: bool,
    no_rules: NoRules,
) -> Result<(Arc<RuleSet>, LoadReport)> {
    let (sigs, report) = load_files(files, &cfg.vars.to_vars());
    if !report.file_errors.is_empty() {
        anyhow::bail!("{}", report.file_errors.join("; "));
    }
    // Rules were given and none of them loads: a sensor would watch nothing. The
    // sensor, `run` and a reload refuse; `replay` (offline, as Suricata) says so loudly
    // and goes on.
    if report.total > 0 && report.loaded == 0 {
        let first = report.skipped.first().map_or(String::new(), |s| {
            format!("; the first, at {}:{}: {}", s.file, s.line, s.message)
        });
        let what = format!(
            "none of the {} rules in {} loads{first} (`gatewatch rules check` lists them all)",
            report.total,
            files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        match no_rules {
            NoRules::Refuse => anyhow::bail!("{what}"),
            NoRules::Warn => eprintln!("gatewatch: warning: {what}: nothing will alert"),
        }
    }
    if !quiet {
        eprintln!(
            "rules: {} loaded, {} skipped of {} ({})",
            report.loaded,
            report.skipped.len(),
            report.total,
            files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        for s in report.skipped.iter().take(5) {
            eprintln!(
                "  skipped sid {} at {}:{}: {}",
                s.sid.map(|x| x.to_string()).unwrap_or("?".into()),
                s.file,
                s.line,
                s.message
            );
        }
        if report.skipped.len() > 5 {
            eprintln!("  ... `gatewatch rules check` lists them all");
        }
    }
    let matcher = cfg.detect.matcher.resolve().map_err(anyhow::Error::msg)?;
    let limits = Limits { threshold_entries: cfg.detect.threshold_entries, matcher };
    Ok((Arc::new(RuleSet::build(sigs, limits)), report))
}

/// Signatures, and YARA rules from `yara` (or the config's `yara.rules`): every engine
/// the sensor runs.
pub fn load_detection(
    signature_files: &[PathBuf],
    engines: &EnginePaths,
    cfg: &Config,
    quiet: bool,
    no_rules: NoRules,
) -> Result<Detection> {
    let (signatures, report) = load_rules(signature_files, cfg, quiet, no_rules)?;
    let signatures_skipped = report.skipped.len();
    let or_config = |given: &'_ [PathBuf], configured: &'_ [PathBuf]| -> Vec<PathBuf> {
        if given.is_empty() {
            configured.to_vec()
        } else {
            given.to_vec()
        }
    };
    let yara_paths = or_config(&engines.yara, &cfg.yara.rules);
    let yara = if yara_paths.is_empty() {
        None
    } else {
        let (set, report) = compile_paths(&yara_paths);
        if !report.file_errors.is_empty() {
            anyhow::bail!("{}", report.file_errors.join("; "));
        }
        if !quiet {
            eprintln!(
                "yara: {} rules from {} of {} files ({} with errors; `gatewatch rules check` lists them)",
                report.rules.unwrap_or(0),
                report.loaded,
                report.total,
                report.total - report.loaded
            );
        }
        set.map(Arc::new)
    };
    let ioc_paths = or_config(&engines.ioc, &cfg.ioc.lists);
    let ioc = if ioc_paths.is_empty() {
        None
    } else {
        let (set, report) = gatewatch_rules::ioc::load_paths(&ioc_paths);
        if !report.file_errors.is_empty() {
            anyhow::bail!("{}", report.file_errors.join("; "));
        }
        if !quiet {
            eprintln!(
                "ioc: {} indicators in {} lists ({} lines not indicators, {} duplicates)",
                report.loaded,
                set.lists.len(),
                report.skipped.len(),
                report.disabled
            );
        }
        Some(Arc::new(set))
    };
    let sigma_paths = or_config(&engines.sigma, &cfg.sigma.rules);
    let sigma = if sigma_paths.is_empty() {
        None
    } else {
        let (set, report) = gatewatch_rules::sigma::load_paths(&sigma_paths);
        if !report.file_errors.is_empty() {
            anyhow::bail!("{}", report.file_errors.join("; "));
        }
        let set = set.context("the Sigma rules did not compile")?;
        if !quiet {
            let per_type: Vec<String> =
                set.network_rule_counts().iter().map(|(t, n)| format!("{t} {n}")).collect();
            eprintln!(
                "sigma: {} of {} rules loaded ({} skipped; `gatewatch rules check` lists them); on network events: {}",
                report.loaded,
                report.total,
                report.skipped.len(),
                per_type.join(", ")
            );
        }
        Some(Arc::new(set))
    };
    Ok(Detection { signatures, yara, ioc, sigma, signatures_skipped })
}

/// Starts accepting rule reloads: the same paths are loaded again on each request.
pub fn accept_reloads(
    signature_files: &[PathBuf],
    engines: &EnginePaths,
    cfg: &Config,
    slot: Arc<RuleSlot>,
) -> Result<ReloadControl> {
    let (files, engines, cfg_for_load) = (signature_files.to_vec(), engines.clone(), cfg.clone());
    let control = gatewatch_sensor::reload::control(&cfg.control.dir, slot, move || {
        let d = load_detection(&files, &engines, &cfg_for_load, true, NoRules::Refuse)?;
        anyhow::Ok((d.clone(), describe(&d)))
    })?;
    Ok(control)
}

/// What a loaded set holds, in one line.
fn describe(d: &Detection) -> String {
    let mut parts = vec![format!("{} signatures", d.signatures.len())];
    if let Some(y) = &d.yara {
        parts.push(format!("{} YARA rules", y.rule_count));
    }
    if let Some(i) = &d.ioc {
        parts.push(format!("{} indicators", i.len()));
    }
    if let Some(s) = &d.sigma {
        parts.push(format!("{} Sigma rules", s.rules.len()));
    }
    parts.join(", ")
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
        eprintln!("gatewatch: warning: {w}");
    }
    for e in gatewatch_rules::signature::dataset::save_all() {
        eprintln!("gatewatch: warning: {e}");
    }
    if let (Some(path), Some(profile)) = (&cfg.detect.profile_rules, &summary.profile) {
        gatewatch_sensor::replay::write_profile(path, profile)
            .with_context(|| format!("cannot write the rule profile `{}`", path.display()))?;
        eprintln!("rule profile: {}", path.display());
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

fn report_summary(s: &ReplaySummary) {
    let c = |k: &str| s.counter(k);
    let workers = if s.workers > 1 { format!(" ({} workers)", s.workers) } else { String::new() };
    eprintln!(
        "replay: {} packets, {} bytes, {} flows, {} alerts, {} invalid packets{workers}",
        c("decoder.pkts"),
        c("decoder.bytes"),
        c("flow.total"),
        c("detect.alert"),
        c("decoder.invalid")
    );
    // Net of start-up, as Suricata's `time elapsed`: from the first packet read to the
    // last event written.
    eprintln!("replay: packet processing {:.3} s", s.processing.as_secs_f64());
    if let Some(kib) = peak_rss_kib() {
        eprintln!("replay: peak memory {:.1} MiB", kib as f64 / 1024.0);
    }
    if c("ioc.hits") > 0 {
        eprintln!("ioc: {} indicator hits", c("ioc.hits"));
    }
    if s.stats["sigma"].is_object() {
        eprintln!(
            "sigma: {} network events tested, {} alerts, {:.2} s evaluating",
            c("sigma.events"),
            c("sigma.hits"),
            c("sigma.eval_us") as f64 / 1e6
        );
    }
    if s.stats["yara"].is_object() {
        eprintln!(
            "yara: {} files and {} stream chunks scanned, {:.1} MB, {} matches, {} timeouts, {:.2} s scanning",
            c("yara.files"),
            c("yara.streams"),
            c("yara.bytes") as f64 / 1e6,
            c("yara.matches"),
            c("yara.timeouts"),
            c("yara.scan_us") as f64 / 1e6
        );
    }
}

pub fn replay(a: ReplayArgs, mut cfg: Config) -> Result<ExitCode> {
    if a.profile_rules.is_some() {
        cfg.detect.profile_rules = a.profile_rules.clone();
    }
    let loading = std::time::Instant::now();
    let rules = load_detection(&a.rules, &a.engines, &cfg, false, NoRules::Warn)?;
    eprintln!("rules: ready in {:.3} s", loading.elapsed().as_secs_f64());
    let slot = RuleSlot::new(rules.clone());
    let _control =
        a.reload.then(|| accept_reloads(&a.rules, &a.engines, &cfg, slot.clone())).transpose()?;
    let mut eve = eve_writer(&a.eve, &cfg)?;
    let summary = run_pipeline(&a.pcaps, &cfg, rules, &mut eve, a.reload.then_some(&*slot))?;
    drop(eve);
    report_summary(&summary);
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
    fn flush(&mut self) -> io::Result<()> {
        self.correlator.flush().map_err(io::Error::other)
    }
}

pub fn run(a: RunArgs, cfg: Config) -> Result<ExitCode> {
    let files = if a.rules.is_empty() { cfg.detect.rule_files.clone() } else { a.rules.clone() };
    if files.is_empty() {
        anyhow::bail!("no rules: give --rules FILE or set detect.rule_files in the config");
    }
    let rules = load_detection(&files, &a.engines, &cfg, false, NoRules::Refuse)?;
    let slot = RuleSlot::new(rules.clone());
    let _control =
        a.reload.then(|| accept_reloads(&files, &a.engines, &cfg, slot.clone())).transpose()?;
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
        report_summary(&summary);
    }
    correlator.flush()?;
    let st = correlator.stats;
    eprintln!(
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
        eprintln!(
            "response: {} block decisions, {} carried out (see `gatewatch blocks list`)",
            rep.decisions, rep.actions
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
