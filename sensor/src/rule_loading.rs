//! Loading the sensor's rules from files: Suricata signatures, YARA rules, indicator
//! lists and Sigma rules, as one [`Detection`]. What was skipped is told on standard
//! error (`quiet` keeps only errors); rule files that cannot be read stop the load.
//! [`accept_reloads`] loads the same paths again on each reload request.

use std::path::PathBuf;
use std::sync::Arc;

use gatewatch_rules::control::{ControlError, ReloadControl};
use gatewatch_rules::detection::Detection;
use gatewatch_rules::engine::{Limits, RuleSet};
use gatewatch_rules::load_report::LoadReport;
use gatewatch_rules::signature::file::load_files;
use gatewatch_rules::yara::compile_paths;

use crate::config::SensorConfig;
use crate::reload::RuleSlot;

/// Why the rules did not load.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// Rule files that cannot be read or parsed as a whole, each named.
    #[error("{}", .0.join("; "))]
    Files(Vec<String>),
    /// Rules were given and none of them loads.
    #[error("{0}")]
    NoneLoads(String),
    /// `detect.matcher` names a matcher this build does not have.
    #[error("{0}")]
    Matcher(#[from] crate::config::NoHyperscan),
    /// The Sigma rules did not compile.
    #[error("the Sigma rules did not compile")]
    Sigma,
}

/// Rules of the engines besides signatures; each, when empty, is its section of the
/// configuration.
#[derive(Clone, Debug, Default)]
pub struct EnginePaths {
    /// YARA rule files or folders (else `yara.rules`).
    pub yara: Vec<PathBuf>,
    /// Indicator list files or folders (else `ioc.lists`).
    pub ioc: Vec<PathBuf>,
    /// Sigma rule files or folders (else `sigma.rules`).
    pub sigma: Vec<PathBuf>,
}

/// What to do when rules are given and none of them loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoRules {
    /// Refuse to go on (the sensor, `run`, a reload).
    Refuse,
    /// Warn and go on (`replay`, as Suricata does).
    Warn,
}

/// Loads the signatures of `files`, telling the operator on standard error what was
/// skipped.
pub fn load_rules(
    files: &[PathBuf],
    cfg: &SensorConfig,
    quiet: bool,
    no_rules: NoRules,
) -> Result<(Arc<RuleSet>, LoadReport), LoadError> {
    let (sigs, report) = load_files(files, &cfg.vars.to_vars());
    if !report.file_errors.is_empty() {
        return Err(LoadError::Files(report.file_errors));
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
            NoRules::Refuse => return Err(LoadError::NoneLoads(what)),
            NoRules::Warn => tracing::warn!("{what}: nothing will alert"),
        }
    }
    if !quiet {
        tracing::info!(
            "rules: {} loaded, {} skipped of {} ({})",
            report.loaded,
            report.skipped.len(),
            report.total,
            files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        for s in report.skipped.iter().take(5) {
            tracing::warn!(
                "  skipped sid {} at {}:{}: {}",
                s.sid.map(|x| x.to_string()).unwrap_or("?".into()),
                s.file,
                s.line,
                s.message
            );
        }
        if report.skipped.len() > 5 {
            tracing::info!("  ... `gatewatch rules check` lists them all");
        }
    }
    let matcher = cfg.detect.matcher.resolve()?;
    let limits = Limits { threshold_entries: cfg.detect.threshold_entries, matcher };
    Ok((Arc::new(RuleSet::build(sigs, limits)), report))
}

/// Signatures, and YARA rules from `yara` (or the config's `yara.rules`): every engine
/// the sensor runs.
pub fn load_detection(
    signature_files: &[PathBuf],
    engines: &EnginePaths,
    cfg: &SensorConfig,
    quiet: bool,
    no_rules: NoRules,
) -> Result<Detection, LoadError> {
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
            return Err(LoadError::Files(report.file_errors));
        }
        if !quiet {
            tracing::info!(
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
            return Err(LoadError::Files(report.file_errors));
        }
        if !quiet {
            tracing::info!(
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
            return Err(LoadError::Files(report.file_errors));
        }
        let set = set.ok_or(LoadError::Sigma)?;
        if !quiet {
            let per_type: Vec<String> =
                set.network_rule_counts().iter().map(|(t, n)| format!("{t} {n}")).collect();
            tracing::info!(
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
    control_dir: &std::path::Path,
    signature_files: &[PathBuf],
    engines: &EnginePaths,
    cfg: &SensorConfig,
    slot: Arc<RuleSlot>,
) -> Result<ReloadControl, ControlError> {
    let (files, engines, cfg_for_load) = (signature_files.to_vec(), engines.clone(), cfg.clone());
    crate::reload::control(control_dir, slot, move || {
        let d = load_detection(&files, &engines, &cfg_for_load, true, NoRules::Refuse)?;
        Ok::<_, LoadError>((d.clone(), describe(&d)))
    })
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
