//! Sigma rules on the sensor's protocol events (and, through [`host`], on host logs).
//!
//! Rules are read as SigmaHQ publishes them (`.yml`/`.yaml`, several documents per
//! file allowed), parsed by `rsigma-parser` and compiled by `rsigma-eval` (both pinned
//! at 0.23), behind the small [`SigmaBackend`] trait of our own so that the engine can
//! be replaced without touching the sensor or the correlator.
//!
//! Which events a rule runs on, and under which field names, is data: the pipeline file
//! [`NETWORK_PIPELINE`] (`rules/sigma/network.yml`) routes logsources to event types
//! (`category: proxy` → `http`, …) and maps Sigma field names to the event's fields.
//! Rules are compiled once per event type they route to, so an event is only tested
//! against the rules of its logsources. Rules of other logsources (Windows, Linux, …)
//! load into `SigmaSet::host`, for host logs.
//!
//! Every rule gets an id before compilation (rsigma feeds correlation rules only from
//! rules with ids): a rule without one gets `gw-<fnv of file and title>`.

pub mod host;
pub mod network;

use std::collections::BTreeMap;
use std::path::PathBuf;

use rsigma_eval::event::JsonEvent;
use rsigma_parser::{LogSource, SigmaRule};

use crate::load_report::{LoadReport, Skipped};

/// The shipped network pipeline: routes and field mappings (see the file's header).
pub const NETWORK_PIPELINE: &str = include_str!("../../sigma/network.yml");

/// A rule that matched an event.
#[derive(Clone, Debug, PartialEq)]
pub struct SigmaHit {
    /// The rule's `id`.
    pub id: String,
    /// The rule's `title`.
    pub title: String,
    /// `informational`, `low`, `medium`, `high`, `critical`.
    pub level: Option<String>,
    /// The rule's `tags` (`attack.t1110`).
    pub tags: Vec<String>,
}

impl SigmaHit {
    /// The alert of a hit: gid [`GID_SIGMA`](crate::ids::GID_SIGMA), a signature
    /// id stable across reloads (from the rule id), the rule's title, and its id, level
    /// and tags as metadata. Severity follows the level: critical and high → 1, medium →
    /// 2, low and informational → 3.
    pub fn alert_info(&self) -> crate::event::AlertInfo {
        let severity = match self.level.as_deref() {
            Some("critical" | "high") => 1,
            Some("medium") | None => 2,
            _ => 3,
        };
        let mut metadata = std::collections::BTreeMap::new();
        metadata.insert("sigma_id".to_string(), vec![self.id.clone()]);
        if let Some(l) = &self.level {
            metadata.insert("sigma_level".to_string(), vec![l.clone()]);
        }
        if !self.tags.is_empty() {
            metadata.insert("sigma_tags".to_string(), self.tags.iter().take(32).cloned().collect());
        }
        crate::event::AlertInfo {
            action: "allowed".into(),
            gid: crate::ids::GID_SIGMA,
            signature_id: crate::ids::stable_sid(&self.id),
            rev: 1,
            signature: format!("SIGMA {}", self.title),
            category: "Sigma rule".into(),
            severity,
            source: None,
            target: None,
            metadata: Some(metadata),
            context: None,
        }
    }
}

/// The Sigma engine, as Gatewatch uses it.
pub trait SigmaBackend: Send + Sync {
    /// Rules that match `event` (a JSON object).
    fn evaluate(&self, event: &serde_json::Value) -> Vec<SigmaHit>;
    /// Rules loaded.
    fn rule_count(&self) -> usize;
}

/// rsigma's engine.
struct Rsigma(rsigma_eval::Engine);

impl SigmaBackend for Rsigma {
    fn evaluate(&self, event: &serde_json::Value) -> Vec<SigmaHit> {
        let ev = JsonEvent::borrow(event);
        self.0
            .evaluate(&ev)
            .into_iter()
            .map(|r| SigmaHit {
                id: r.header.rule_id.unwrap_or_default(),
                title: r.header.rule_title,
                level: r.header.level.map(|l| format!("{l:?}").to_ascii_lowercase()),
                tags: r.header.tags,
            })
            .collect()
    }

    fn rule_count(&self) -> usize {
        self.0.rule_count()
    }
}

/// One route of the pipeline file: rules of `logsource` run on events `event`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Route {
    pub(crate) event: String,
    pub(crate) logsource: RouteSource,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteSource {
    pub category: Option<String>,
    pub(crate) product: Option<String>,
    pub(crate) service: Option<String>,
}

impl RouteSource {
    /// The rule's logsource has every field this route names, with the same value.
    fn covers(&self, ls: &LogSource) -> bool {
        let eq = |want: &Option<String>, have: &Option<String>| match want {
            None => true,
            Some(w) => have.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(w)),
        };
        (self.category.is_some() || self.product.is_some() || self.service.is_some())
            && eq(&self.category, &ls.category)
            && eq(&self.product, &ls.product)
            && eq(&self.service, &ls.service)
    }
}

/// A YAML file of the Sigma set-up (the processing pipeline, the host logsource map)
/// that does not read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {message}")]
pub struct SetupFileError {
    /// Which file (`pipeline`, `host logsources`).
    pub what: &'static str,
    /// The YAML reader's message (with the line).
    pub message: String,
}

/// The routes of a pipeline file (its `gatewatch_routes` key).
pub fn parse_routes(pipeline_yaml: &str) -> Result<Vec<Route>, SetupFileError> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        gatewatch_routes: Vec<Route>,
    }
    let f: File = yaml_serde::from_str(pipeline_yaml)
        .map_err(|e| SetupFileError { what: "pipeline", message: e.to_string() })?;
    Ok(f.gatewatch_routes)
}

/// (product, category, service), lower-case.
type LogsourceKey = (Option<String>, Option<String>, Option<String>);

/// Host-log rules of one logsource.
struct HostGroup {
    product: Option<String>,
    category: Option<String>,
    service: Option<String>,
    engine: Box<dyn SigmaBackend>,
}

/// Compiled Sigma rules: one engine per network event type, and one per host-log
/// logsource.
pub struct SigmaSet {
    network: BTreeMap<String, Box<dyn SigmaBackend>>,
    /// Rules of host products (and of logsources no network route covers), grouped by
    /// logsource, for host logs (correlator).
    host: Vec<HostGroup>,
    host_sources: host::HostLogsources,
    /// Correlation rules read (evaluated by the correlator).
    pub correlations: Vec<rsigma_parser::CorrelationRule>,
    /// The file of each correlation rule.
    pub correlation_files: Vec<String>,
    /// Every compiled detection rule, with ids assigned: what the correlator's
    /// correlation engine is built from.
    pub rules: Vec<SigmaRule>,
}

impl std::fmt::Debug for SigmaSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let net: BTreeMap<&String, usize> =
            self.network.iter().map(|(k, v)| (k, v.rule_count())).collect();
        f.debug_struct("SigmaSet")
            .field("network", &net)
            .field("host", &self.host_rule_count())
            .finish()
    }
}

impl SigmaSet {
    /// Rules that match a network event of type `event_type` (`dns`, `http`, `flow`,
    /// `tls`, `fileinfo`).
    pub fn evaluate_network(&self, event_type: &str, event: &serde_json::Value) -> Vec<SigmaHit> {
        match self.network.get(event_type) {
            Some(e) => e.evaluate(event),
            None => Vec::new(),
        }
    }

    /// Whether any rule runs on events of this type (the sensor skips building them
    /// otherwise).
    pub fn wants(&self, event_type: &str) -> bool {
        self.network.get(event_type).is_some_and(|e| e.rule_count() > 0)
    }

    /// Rules that match a host log event (any accepted shape, see [`host`]). The event
    /// is tested only against the rules of its logsources.
    pub fn evaluate_host(&self, event: &serde_json::Value) -> Vec<SigmaHit> {
        self.evaluate_host_flat(&self.host_event(event))
    }

    /// The event host-log rules see (Windows shapes flattened, see [`host`]): what
    /// [`SigmaSet::evaluate_host_flat`] and correlation `group-by` take.
    pub fn host_event<'a>(
        &self,
        event: &'a serde_json::Value,
    ) -> std::borrow::Cow<'a, serde_json::Value> {
        host::flatten_windows(event)
    }

    /// [`SigmaSet::evaluate_host`] of an event already flattened by
    /// [`SigmaSet::host_event`].
    pub fn evaluate_host_flat(&self, flat: &serde_json::Value) -> Vec<SigmaHit> {
        let source = self.host_sources.source_of(flat);
        let mut hits = Vec::new();
        for g in &self.host {
            if source.admits(g.product.as_deref(), g.category.as_deref(), g.service.as_deref()) {
                hits.extend(g.engine.evaluate(flat));
            }
        }
        hits
    }

    /// The correlation rules of this set, with empty windows.
    pub fn correlation(
        &self,
        limits: &correlation::CorrelationLimits,
    ) -> correlation::SigmaCorrelation {
        let mut report = LoadReport::default();
        correlation::SigmaCorrelation::new(
            &self.rules,
            &self.correlations,
            &self.correlation_files,
            limits,
            &mut report,
        )
    }

    /// Rules loaded for host logs.
    pub fn host_rule_count(&self) -> usize {
        self.host.iter().map(|g| g.engine.rule_count()).sum()
    }

    /// Rules per network event type.
    pub fn network_rule_counts(&self) -> BTreeMap<String, usize> {
        self.network.iter().map(|(k, v)| (k.clone(), v.rule_count())).collect()
    }
}

/// Rules as read, before compilation.
#[derive(Default)]
pub struct Parsed {
    /// The rules that parsed.
    pub rules: Vec<SigmaRule>,
    /// The file of each rule of `rules`.
    pub files: Vec<String>,
    /// The correlation rules that parsed.
    pub correlations: Vec<rsigma_parser::CorrelationRule>,
    /// The file of each correlation rule.
    pub correlation_files: Vec<String>,
}

/// Rule files under `paths` (folders walked, sorted: `.yml`, `.yaml`).
pub fn rule_files(paths: &[PathBuf], report: &mut LoadReport) -> Vec<PathBuf> {
    crate::load_report::expand_folders(paths, &["yml", "yaml"], true, report)
}

/// Parses rule files; every rule gets an id. Parse errors are reported with the file.
pub fn parse_paths(paths: &[PathBuf], report: &mut LoadReport) -> Parsed {
    let mut parsed = Parsed::default();
    for f in rule_files(paths, report) {
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                report.file_errors.push(format!("cannot read `{}`: {e}", f.display()));
                continue;
            }
        };
        parse_text(&text, &f.display().to_string(), report, &mut parsed);
    }
    parsed
}

/// Parses one file's text (see [`parse_paths`]).
pub fn parse_text(text: &str, file: &str, report: &mut LoadReport, parsed: &mut Parsed) {
    let skip = |report: &mut LoadReport, reason: &str, message: String| {
        report.total += 1;
        report.skip(Skipped {
            file: file.to_string(),
            line: 0,
            sid: None,
            reason: reason.to_string(),
            code: "E_SIGMA".into(),
            message,
        });
    };
    match rsigma_parser::parse_sigma_yaml(text) {
        Ok(c) => {
            for e in &c.errors {
                skip(report, "parse error", e.clone());
            }
            for mut r in c.rules {
                fix_wildcard_anchors(&mut r);
                if r.id.as_deref().is_none_or(str::is_empty) {
                    r.id = Some(format!(
                        "gw-{:08x}",
                        crate::ids::stable_sid(&format!("{file}\n{}", r.title))
                    ));
                }
                parsed.rules.push(r);
                parsed.files.push(file.to_string());
            }
            parsed.correlation_files.extend(c.correlations.iter().map(|_| file.to_string()));
            parsed.correlations.extend(c.correlations);
        }
        Err(e) => skip(report, "parse error", e.to_string()),
    }
}

/// Works around rsigma 0.23 swapping the anchors of a `startswith`/`endswith` value
/// that holds a `?` wildcard: such an item becomes the equivalent plain wildcard
/// pattern (`startswith: 'a?c'` → `'a?c*'`, `endswith: 'a?c'` → `'*a?c'`). Items with
/// encoding or other value modifiers are left as they are. Returns the items changed.
pub fn fix_wildcard_anchors(rule: &mut SigmaRule) -> usize {
    use rsigma_parser::{Detection, Modifier, SigmaValue, SpecialChar, StringPart};
    fn has_single(v: &SigmaValue) -> bool {
        matches!(v, SigmaValue::String(s) if s.parts.iter().any(|p| matches!(p, StringPart::Special(SpecialChar::WildcardSingle))))
    }
    fn fix(d: &mut Detection) -> usize {
        match d {
            Detection::AllOf(items) => items
                .iter_mut()
                .map(|item| {
                    let m = &item.field.modifiers;
                    let anchor = match (
                        m.contains(&Modifier::StartsWith),
                        m.contains(&Modifier::EndsWith),
                    ) {
                        (true, false) => Modifier::StartsWith,
                        (false, true) => Modifier::EndsWith,
                        _ => return 0,
                    };
                    let plain = m.iter().all(|x| {
                        matches!(
                            x,
                            Modifier::StartsWith
                                | Modifier::EndsWith
                                | Modifier::All
                                | Modifier::Cased
                        )
                    });
                    let all_strings =
                        item.values.iter().all(|v| matches!(v, SigmaValue::String(_)));
                    if !plain || !all_strings || !item.values.iter().any(has_single) {
                        return 0;
                    }
                    item.field.modifiers.retain(|x| *x != anchor);
                    for v in &mut item.values {
                        if let SigmaValue::String(s) = v {
                            let star = StringPart::Special(SpecialChar::WildcardMulti);
                            if anchor == Modifier::StartsWith {
                                s.parts.push(star);
                                s.original.push('*');
                            } else {
                                s.parts.insert(0, star);
                                s.original.insert(0, '*');
                            }
                        }
                    }
                    1
                })
                .sum(),
            Detection::AnyOf(ds) | Detection::And(ds) => ds.iter_mut().map(fix).sum(),
            _ => 0,
        }
    }
    rule.detection.named.values_mut().map(fix).sum()
}

/// Loads and compiles rules with the shipped network pipeline.
pub fn load_paths(paths: &[PathBuf]) -> (Option<SigmaSet>, LoadReport) {
    load_paths_with(paths, NETWORK_PIPELINE)
}

/// Loads and compiles rules with a given pipeline file's text. The report counts
/// rules; `breakdown` gives the rules per network event type (`network: dns events`,
/// …) and per host-log product.
pub fn load_paths_with(paths: &[PathBuf], pipeline_yaml: &str) -> (Option<SigmaSet>, LoadReport) {
    let mut report = LoadReport { unit: "Sigma rules".into(), ..Default::default() };
    let parsed = parse_paths(paths, &mut report);
    let set = compile(parsed, pipeline_yaml, &mut report);
    (set, report)
}

/// Compiles parsed rules (see [`load_paths_with`]): each rule runs on the network
/// event types its logsource is routed to and, when it is a host product's rule (or
/// routed nowhere), on host logs of its logsource.
pub fn compile(parsed: Parsed, pipeline_yaml: &str, report: &mut LoadReport) -> Option<SigmaSet> {
    let Parsed { rules, files, correlations, correlation_files } = parsed;
    let setup = parse_routes(pipeline_yaml).map_err(|e| e.to_string()).and_then(|routes| {
        let pipeline =
            rsigma_eval::parse_pipeline(pipeline_yaml).map_err(|e| format!("pipeline: {e}"))?;
        let host_sources =
            host::HostLogsources::parse(host::HOST_LOGSOURCES).map_err(|e| e.to_string())?;
        Ok((routes, pipeline, host_sources))
    });
    let (routes, pipeline, host_sources) = match setup {
        Ok(s) => s,
        Err(e) => {
            report.file_errors.push(e);
            return None;
        }
    };
    let (by_event, host_rules) = route(&rules, &routes);
    // A rule that fails to compile on host logs or on a network event type is skipped
    // with the reason.
    let mut failed: BTreeMap<usize, String> = BTreeMap::new();
    let host = compile_host(&rules, &host_rules, &mut failed);
    let mut network: BTreeMap<String, Box<dyn SigmaBackend>> = BTreeMap::new();
    for (event, list) in &by_event {
        let mut engine = rsigma_eval::Engine::new_with_pipeline(pipeline.clone());
        for (k, e) in engine.add_rules(list.iter().map(|&i| &rules[i])) {
            failed.insert(list[k], e.to_string());
        }
        *report.breakdown.entry(format!("network: {event} events")).or_insert(0) +=
            engine.rule_count();
        network.insert(event.clone(), Box::new(Rsigma(engine)));
    }
    report_compiled(report, &rules, &files, &host_rules, &failed);
    let kept: Vec<SigmaRule> = rules
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !failed.contains_key(i))
        .map(|(_, r)| r)
        .collect();
    if !correlations.is_empty() {
        report_correlations(report, &kept, &correlations, &correlation_files);
    }
    Some(SigmaSet { network, host, host_sources, correlations, correlation_files, rules: kept })
}

/// The rules (by index) of each network event type, and the rules that run on host
/// logs: those of a host product (Sysmon's `dns_query`, `network_connection`) and
/// those routed nowhere; network-only logsources (proxy, zeek) do not.
fn route(rules: &[SigmaRule], routes: &[Route]) -> (BTreeMap<String, Vec<usize>>, Vec<usize>) {
    let mut by_event: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for r in routes {
        by_event.entry(r.event.clone()).or_default();
    }
    let mut host_rules: Vec<usize> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let mut routed = false;
        for (event, list) in by_event.iter_mut() {
            if routes.iter().any(|r| &r.event == event && r.logsource.covers(&rule.logsource)) {
                list.push(i);
                routed = true;
            }
        }
        let host_product = rule.logsource.product.as_deref().is_some_and(|p| {
            !p.eq_ignore_ascii_case("zeek") && !p.eq_ignore_ascii_case("gatewatch")
        });
        if !routed || host_product {
            host_rules.push(i);
        }
    }
    (by_event, host_rules)
}

/// One engine per host logsource (product, category, service, compared in lower
/// case), compiled without the network mapping; failures go to `failed`.
fn compile_host(
    rules: &[SigmaRule],
    host_rules: &[usize],
    failed: &mut BTreeMap<usize, String>,
) -> Vec<HostGroup> {
    let mut host_groups: BTreeMap<LogsourceKey, Vec<usize>> = BTreeMap::new();
    for &i in host_rules {
        let ls = &rules[i].logsource;
        let lower = |x: &Option<String>| x.as_ref().map(|v| v.to_ascii_lowercase());
        host_groups
            .entry((lower(&ls.product), lower(&ls.category), lower(&ls.service)))
            .or_default()
            .push(i);
    }
    let mut host = Vec::new();
    for ((product, category, service), list) in host_groups {
        let mut engine = rsigma_eval::Engine::new();
        for (k, e) in engine.add_rules(list.iter().map(|&i| &rules[i])) {
            failed.insert(list[k], e.to_string());
        }
        host.push(HostGroup { product, category, service, engine: Box::new(Rsigma(engine)) });
    }
    host
}

/// Counts what compiled (host-log rules per product) and reports each rule skipped.
fn report_compiled(
    report: &mut LoadReport,
    rules: &[SigmaRule],
    files: &[String],
    host_rules: &[usize],
    failed: &BTreeMap<usize, String>,
) {
    let mut products: BTreeMap<String, usize> = BTreeMap::new();
    for &i in host_rules {
        if !failed.contains_key(&i) {
            let p = rules[i].logsource.product.clone().unwrap_or_else(|| "(no product)".into());
            *products.entry(p).or_insert(0) += 1;
        }
    }
    for (p, n) in products {
        *report.breakdown.entry(format!("host logs: product {p}")).or_insert(0) += n;
    }
    report.total += rules.len();
    report.parsed += rules.len();
    report.loaded += rules.len() - failed.len();
    for (i, msg) in failed {
        let r = &rules[*i];
        report.skip(Skipped {
            file: files.get(*i).cloned().unwrap_or_default(),
            line: 0,
            sid: None,
            reason: "compile error".into(),
            code: "E_SIGMA".into(),
            message: format!("rule `{}` ({}): {msg}", r.title, r.id.as_deref().unwrap_or_default()),
        });
    }
}

/// Compiles the correlation rules for the report only (the correlator keeps the
/// windows): how many there are, and why any was left out.
fn report_correlations(
    report: &mut LoadReport,
    kept: &[SigmaRule],
    correlations: &[rsigma_parser::CorrelationRule],
    correlation_files: &[String],
) {
    let mut corr_report = LoadReport::default();
    let c = correlation::SigmaCorrelation::new(
        kept,
        correlations,
        correlation_files,
        &correlation::CorrelationLimits::default(),
        &mut corr_report,
    );
    *report.breakdown.entry("correlation rules (run by the correlator)".into()).or_insert(0) +=
        c.len();
    for s in corr_report.skipped {
        report.notes.push(format!("{}: {}", s.file, s.message));
    }
}

pub mod correlation;
pub(crate) mod counting;
#[cfg(test)]
mod tests;
