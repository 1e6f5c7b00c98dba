//! Sigma correlation rules (`event_count`, `value_count`, `temporal`,
//! `temporal_ordered`, and rsigma's `value_sum`/`value_avg`/`value_percentile`/
//! `value_median`), with `group-by`, `timespan` and field `aliases`, evaluated over the
//! detections of our own engines.
//!
//! Detection runs in [`SigmaSet`](super::SigmaSet) (network or host logsources); its
//! hits are fed here with the event they matched and the event's time. rsigma's
//! correlation engine keeps the windows. Two things are done before it sees the rules:
//! a correlation's `rules:` may name a rule by its `name:` or its `id:`, but rsigma
//! only resolves names of rules compiled into its own engine, so every name is replaced
//! by the rule's id here (aliases too); and every correlation gets an id (`gw-corr-…`
//! from its file and title) so that its alerts have a stable signature id.
//!
//! rsigma 0.23 reads a `temporal` correlation without a `condition` as "any one of
//! the rules" (`gte: 1`), where the specification means "all of them";
//! [`fix_temporal_default`] gives such correlations `gte: <number of rules>` (an
//! explicit `gte: 1` cannot be told apart and is read the same way; the test
//! `rsigma_0_23_still_reads_temporal_default_as_any` notices when rsigma changes).
//!
//! A rule referenced by a correlation with `generate: false` (the default of the
//! specification) produces no alert of its own: [`SigmaCorrelation::surfaces`].

use std::collections::{HashMap, HashSet};

use rsigma_eval::correlation_engine::{CorrelationConfig, CorrelationEngine, TimestampFallback};
use rsigma_eval::event::JsonEvent;
use rsigma_eval::result::{DetectionBody, EvaluationResult, ResultBody, RuleHeader};
use rsigma_parser::{CorrelationRule, SigmaRule};

use super::SigmaHit;
use crate::load_report::{LoadReport, Skipped};

/// A correlation that fired.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrelationHit {
    /// The correlation rule's `id`.
    pub id: String,
    /// Its `title`.
    pub title: String,
    pub(crate) level: Option<String>,
    /// Its `tags`.
    pub tags: Vec<String>,
    /// `event_count`, `value_count`, `temporal`, `temporal_ordered`, …
    pub kind: String,
    /// The `group-by` fields and their values in this window.
    pub group_key: Vec<(String, String)>,
    /// The count (or other aggregate) that met the condition.
    pub value: f64,
    /// Its `timespan`, seconds.
    pub timespan_secs: u64,
}

impl CorrelationHit {
    /// The alert of a correlation: gid [`GID_SIGMA`](crate::ids::GID_SIGMA), a
    /// signature id from the correlation's id, `SIGMA correlation <title>`, and the
    /// kind, group and aggregate as metadata.
    pub fn alert_info(&self) -> crate::event::AlertInfo {
        let as_hit = SigmaHit {
            id: self.id.clone(),
            title: self.title.clone(),
            level: self.level.clone(),
            tags: self.tags.clone(),
        };
        let mut info = as_hit.alert_info();
        info.signature = format!("SIGMA correlation {}", self.title);
        info.category = "Sigma correlation".into();
        let meta = info.metadata.get_or_insert_with(Default::default);
        meta.insert("sigma_correlation".into(), vec![self.kind.clone()]);
        meta.insert(
            "sigma_group".into(),
            self.group_key.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        );
        meta.insert("sigma_value".into(), vec![format!("{}", self.value)]);
        meta.insert("sigma_timespan_secs".into(), vec![self.timespan_secs.to_string()]);
        info
    }
}

/// Limits of the correlation state.
#[derive(Clone, Debug)]
pub struct CorrelationLimits {
    /// Windows kept across all correlations and groups; beyond it, expired ones are
    /// evicted first (rsigma's `max_state_entries`).
    pub max_state_entries: usize,
    /// Entries kept in one group's window (oldest dropped first: can only under-count).
    pub max_group_entries: usize,
}

impl Default for CorrelationLimits {
    fn default() -> Self {
        CorrelationLimits { max_state_entries: 100_000, max_group_entries: 10_000 }
    }
}

/// The correlation rules of a rule set and their windows.
pub struct SigmaCorrelation {
    engine: CorrelationEngine,
    /// `event_count` and `value_count`, counted incrementally (see [`super::counting`]).
    counting: super::counting::Counting,
    /// Ids of rules referenced only by correlations that do not `generate`.
    silent: HashSet<String>,
    rules: usize,
}

impl std::fmt::Debug for SigmaCorrelation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigmaCorrelation")
            .field("rules", &self.rules)
            .field("windows", &self.windows())
            .finish()
    }
}

/// See the module documentation: a temporal correlation's default condition is every
/// rule in the window. Returns whether the condition was changed.
pub fn fix_temporal_default(c: &mut CorrelationRule) -> bool {
    use rsigma_parser::{ConditionOperator, CorrelationCondition, CorrelationType};
    if c.correlation_type != CorrelationType::Temporal || c.rules.len() < 2 {
        return false;
    }
    match &mut c.condition {
        CorrelationCondition::Threshold { predicates, field: None, .. }
            if predicates.as_slice() == [(ConditionOperator::Gte, 1)] =>
        {
            predicates[0].1 = c.rules.len() as u64;
            true
        }
        _ => false,
    }
}

impl SigmaCorrelation {
    /// Compiles `correlations` over the detection rules `rules` (with their ids); one
    /// that does not compile is reported and skipped. `files` names the file of each
    /// correlation, for ids and the report (may be empty).
    pub fn new(
        rules: &[SigmaRule],
        correlations: &[CorrelationRule],
        files: &[String],
        limits: &CorrelationLimits,
        report: &mut LoadReport,
    ) -> SigmaCorrelation {
        let config = CorrelationConfig {
            // The caller passes each event's time; never the wall clock.
            timestamp_fields: Vec::new(),
            timestamp_fallback: TimestampFallback::Skip,
            max_state_entries: limits.max_state_entries,
            max_group_entries: Some(limits.max_group_entries),
            ..CorrelationConfig::default()
        };
        let mut engine = CorrelationEngine::new(config);
        let mut by_name: HashMap<&str, &str> = HashMap::new();
        for r in rules {
            if let (Some(name), Some(id)) = (r.name.as_deref(), r.id.as_deref()) {
                by_name.insert(name, id);
            }
        }
        let resolve = |r: &str| by_name.get(r).map_or_else(|| r.to_string(), |id| id.to_string());
        let mut silent = HashSet::new();
        let mut count = 0;
        let mut counted = Vec::new();
        for (i, c) in correlations.iter().enumerate() {
            let file = files.get(i).map(String::as_str).unwrap_or("");
            let mut c = c.clone();
            if c.id.as_deref().is_none_or(str::is_empty) {
                c.id = Some(format!(
                    "gw-corr-{:08x}",
                    crate::ids::stable_sid(&format!("{file}\n{}", c.title))
                ));
            }
            c.rules = c.rules.iter().map(|r| resolve(r)).collect();
            fix_temporal_default(&mut c);
            for a in &mut c.aliases {
                a.mapping = a.mapping.drain().map(|(k, v)| (resolve(&k), v)).collect();
            }
            report.total += 1;
            report.parsed += 1;
            if super::counting::counts(&c) {
                count += 1;
                report.loaded += 1;
                if !c.generate {
                    silent.extend(c.rules.iter().cloned());
                }
                counted.push(c);
                continue;
            }
            match engine.add_correlation(&c) {
                Ok(()) => {
                    count += 1;
                    report.loaded += 1;
                    if !c.generate {
                        silent.extend(c.rules.iter().cloned());
                    }
                }
                Err(e) => report.skip(Skipped {
                    file: file.to_string(),
                    line: 0,
                    sid: None,
                    reason: "correlation compile error".into(),
                    code: "E_SIGMA".into(),
                    message: format!("correlation `{}`: {e}", c.title),
                }),
            }
        }
        let counting = super::counting::Counting::new(&counted, limits.max_state_entries);
        SigmaCorrelation { engine, counting, silent, rules: count }
    }

    /// Correlation rules loaded.
    pub fn len(&self) -> usize {
        self.rules
    }

    /// No correlation rule loaded.
    pub fn is_empty(&self) -> bool {
        self.rules == 0
    }

    /// Open windows (across correlations and groups).
    pub fn windows(&self) -> usize {
        self.engine.state_count() + self.counting.windows()
    }

    /// Whether a detection hit is an alert of its own: not when its rule only feeds
    /// correlations that do not `generate` its matches.
    pub fn surfaces(&self, hit: &SigmaHit) -> bool {
        !self.silent.contains(&hit.id)
    }

    /// Feeds the hits of one event (`event`: the JSON object the rules matched, for the
    /// `group-by` values) at `ts_secs` (the event's own time, Unix seconds); returns the
    /// correlations that fired.
    pub fn observe(
        &mut self,
        event: &serde_json::Value,
        hits: &[SigmaHit],
        ts_secs: i64,
    ) -> Vec<CorrelationHit> {
        if hits.is_empty() || self.rules == 0 {
            return Vec::new();
        }
        let mut fired = self.counting.observe(event, hits, ts_secs);
        if self.engine.correlation_rule_count() == 0 {
            return fired;
        }
        let detections: Vec<EvaluationResult> = hits
            .iter()
            .map(|h| EvaluationResult {
                header: RuleHeader {
                    rule_title: h.title.clone(),
                    rule_id: Some(h.id.clone()),
                    level: None,
                    tags: Vec::new(),
                    custom_attributes: Default::default(),
                    enrichments: None,
                },
                body: ResultBody::Detection(DetectionBody {
                    matched_selections: Vec::new(),
                    matched_fields: Vec::new(),
                    event: None,
                }),
            })
            .collect();
        let ev = JsonEvent::borrow(event);
        let from_engine =
            self.engine.process_with_detections(&ev, detections, ts_secs).into_iter().filter_map(
                |r| {
                    let body = r.as_correlation()?.clone();
                    Some(CorrelationHit {
                        id: r.header.rule_id.clone().unwrap_or_default(),
                        title: r.header.rule_title.clone(),
                        level: r.header.level.map(|l| format!("{l:?}").to_ascii_lowercase()),
                        tags: r.header.tags.clone(),
                        kind: body.correlation_type.as_str().to_string(),
                        group_key: body.group_key,
                        value: body.aggregated_value,
                        timespan_secs: body.timespan_secs,
                    })
                },
            );
        fired.extend(from_engine);
        fired
    }

    /// Takes over the open windows of `old` (the set before a reload) for the
    /// correlations that kept their id; the others start empty.
    pub fn take_windows_from(&mut self, old: &mut SigmaCorrelation) {
        self.engine.import_state(old.engine.export_state());
        self.counting.take_windows_from(&mut old.counting);
    }

    /// Drops windows that ended before `now_secs` (call now and then on a quiet
    /// stream; busy streams evict as they go).
    pub fn evict_expired(&mut self, now_secs: i64) {
        self.engine.evict_expired(now_secs);
        self.counting.evict_expired(now_secs);
    }
}
