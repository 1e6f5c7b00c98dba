//! The YARA-X engine: compiling a rule set and scanning with it (cargo feature `yara`).

use std::sync::Arc;

use super::{
    is_index_file, ScanError, ScanLimits, ScanTarget, YaraMatch, EXTERNALS, IGNORED_MODULES,
};
use crate::load_report::{LoadReport, Skipped};

/// A compiled YARA rule set.
pub struct YaraSet {
    rules: yara_x::Rules,
    /// Rules in the set.
    pub rule_count: usize,
    /// Files that contributed rules.
    pub files: usize,
}

impl std::fmt::Debug for YaraSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YaraSet")
            .field("rules", &self.rule_count)
            .field("files", &self.files)
            .finish()
    }
}

/// Compiles `(origin, namespace, text)` sources into one set; see [`compile_paths`](super::compile_paths).
pub fn compile_sources(
    sources: &[(String, String, Vec<u8>)],
    report: &mut LoadReport,
) -> Option<YaraSet> {
    if report.unit.is_empty() {
        report.unit = "YARA files".into();
    }
    let mut compiler = yara_x::Compiler::new();
    compiler.colorize_errors(false);
    for m in IGNORED_MODULES {
        compiler.ignore_module(*m);
    }
    for ext in EXTERNALS {
        // Cannot fail: valid identifiers, defined once.
        let _ = compiler.define_global(ext, "");
    }
    let mut files = 0;
    for (origin, ns, bytes) in sources {
        report.total += 1;
        if std::str::from_utf8(bytes).is_ok_and(is_index_file) {
            report.disabled += 1;
            report.total -= 1;
            continue;
        }
        compiler.new_namespace(ns);
        let errors_before = compiler.errors().len();
        let ignored_before = compiler.ignored_rules().len();
        let src = yara_x::SourceCode::from(bytes.as_slice()).with_origin(origin.clone());
        let _ = compiler.add_source(src);
        let errors = &compiler.errors()[errors_before..];
        if errors.is_empty() {
            report.parsed += 1;
            report.loaded += 1;
            files += 1;
        } else {
            for e in errors {
                let (line, title) = error_position(e);
                report.skip(Skipped {
                    file: origin.clone(),
                    line,
                    sid: None,
                    reason: format!("compile error: {}", generic_title(&title)),
                    code: e.code().to_string(),
                    message: title,
                });
            }
        }
        for (rule, reason) in compiler.ignored_rules().skip(ignored_before) {
            if let yara_x::IgnoredRuleReason::IgnoredModule(m) = reason {
                *report.unsupported_features.entry(format!("module `{m}`")).or_insert(0) += 1;
                report.notes.push(format!(
                    "{origin}: rule `{rule}` ignored: it uses module `{m}`, not built into the sensor"
                ));
            }
        }
    }
    let rules = compiler.build();
    let rule_count = rules.iter().len();
    report.rules = Some(rule_count);
    Some(YaraSet { rules, rule_count, files })
}

/// The line (1-based) and first line of a compile error's text.
fn error_position(e: &yara_x::errors::CompileError) -> (u32, String) {
    let v = serde_json::to_value(e).unwrap_or_default();
    let report = v.as_object().and_then(|o| o.values().find(|x| x.is_object())).unwrap_or(&v);
    let line = report.get("line").and_then(|l| l.as_u64()).unwrap_or(0) as u32;
    let title = report.get("title").and_then(|t| t.as_str()).map(str::to_string);
    (line, title.unwrap_or_else(|| e.to_string().lines().next().unwrap_or_default().to_string()))
}

type BoundScanner<'a> = yara_x::Scanner<'a>;

self_cell::self_cell!(
    struct ScannerCell {
        owner: Arc<YaraSet>,
        #[not_covariant]
        dependent: BoundScanner,
    }
);

/// One worker's scanner over a shared [`YaraSet`].
pub struct YaraScanner {
    cell: ScannerCell,
    limits: ScanLimits,
}

impl YaraScanner {
    /// A scanner of `set` within `limits`.
    pub fn new(set: Arc<YaraSet>, limits: ScanLimits) -> Self {
        let cell = ScannerCell::new(set, |s| {
            let mut sc = yara_x::Scanner::new(&s.rules);
            sc.set_timeout(limits.timeout);
            sc.max_scan_size(limits.max_bytes);
            sc
        });
        YaraScanner { cell, limits }
    }

    /// The set this scanner runs.
    pub fn set(&self) -> &Arc<YaraSet> {
        self.cell.borrow_owner()
    }

    /// Its limits.
    pub fn limits(&self) -> ScanLimits {
        self.limits
    }

    /// Scans `data` (up to the size limit) and returns the matching rules.
    pub fn scan(
        &mut self,
        data: &[u8],
        target: &ScanTarget<'_>,
    ) -> Result<Vec<YaraMatch>, ScanError> {
        let extension = target
            .filename
            .rsplit_once('.')
            .map(|(_, e)| e)
            .filter(|e| !e.is_empty() && e.len() <= 16)
            .unwrap_or("");
        self.cell.with_dependent_mut(|_, sc| {
            for (k, v) in [
                ("filename", target.filename),
                ("filepath", target.filepath),
                ("extension", extension),
                ("filetype", target.filetype),
            ] {
                // Defined at compile time with the same type: cannot fail.
                let _ = sc.set_global(k, v);
            }
            let results = match sc.scan(data) {
                Ok(r) => r,
                Err(yara_x::ScanError::Timeout) => return Err(ScanError::Timeout),
                Err(e) => return Err(ScanError::Other(e.to_string())),
            };
            Ok(results
                .matching_rules()
                .map(|r| YaraMatch {
                    namespace: r.namespace().to_string(),
                    rule: r.identifier().to_string(),
                    tags: r.tags().map(|t| t.identifier().to_string()).collect(),
                    meta: r.metadata().map(|(k, v)| (k.to_string(), meta_text(&v))).collect(),
                })
                .collect())
        })
    }
}

fn meta_text(v: &yara_x::MetaValue<'_>) -> String {
    match v {
        yara_x::MetaValue::Integer(i) => i.to_string(),
        yara_x::MetaValue::Float(f) => f.to_string(),
        yara_x::MetaValue::Bool(b) => b.to_string(),
        yara_x::MetaValue::String(s) => s.to_string(),
        yara_x::MetaValue::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Groups error titles: quoted names are replaced, so that `unknown identifier `foo``
/// and `unknown identifier `bar`` count together.
fn generic_title(title: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in title.chars() {
        if c == '`' {
            if !quoted {
                out.push_str("`…`");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}
