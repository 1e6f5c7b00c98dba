//! The load report of a rule set: what loaded, what was skipped and why, with
//! `file:line` and sid for every skipped rule.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// One rule that did not load.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Skipped {
    /// The rule file.
    pub file: String,
    /// The line the rule starts on.
    pub line: u32,
    /// Signature id.
    pub sid: Option<u32>,
    /// Grouping key, e.g. "unsupported: keyword `http.uri`".
    pub reason: String,
    /// Stable code, e.g. "E_UNSUPPORTED".
    pub code: String,
    /// What was wrong, naming the offending text.
    pub message: String,
}

/// What loaded of a rule set, and why the rest did not: counts, reasons, examples.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LoadReport {
    /// Enabled rules read.
    pub total: usize,
    /// Rules whose grammar is valid (loaded, or skipped only for an unsupported feature).
    pub parsed: usize,
    /// Rules that loaded.
    pub loaded: usize,
    /// Commented-out rules (not counted in `total`).
    pub disabled: usize,
    /// Rules that did not, with the reason.
    pub skipped: Vec<Skipped>,
    /// Files that could not be read at all.
    pub file_errors: Vec<String>,
    /// Every unsupported feature → rules using it (a rule counts once per feature; the
    /// skip reason names only its first).
    pub unsupported_features: BTreeMap<String, usize>,
    /// What `total` counts: "rules" when empty; "YARA files" for YARA, whose unit of
    /// loading is a file.
    pub unit: String,
    /// Rules in the compiled set, where the unit is not a rule (YARA).
    pub rules: Option<usize>,
    /// Loaded rules by where they run (Sigma: per event type and host-log product).
    pub breakdown: BTreeMap<String, usize>,
    /// Other things the operator should know (rules ignored inside a loaded file).
    pub notes: Vec<String>,
}

impl LoadReport {
    pub(crate) fn skip(&mut self, s: Skipped) {
        self.skipped.push(s);
    }

    pub(crate) fn unit(&self) -> &str {
        if self.unit.is_empty() {
            "rules"
        } else {
            &self.unit
        }
    }

    pub(crate) fn skipped_by_reason(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for s in &self.skipped {
            *m.entry(s.reason.clone()).or_insert(0) += 1;
        }
        m
    }

    /// The report as one JSON object (the `--json` form of `gatewatch rules check`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "total": self.total,
            "parsed": self.parsed,
            "loaded": self.loaded,
            "skipped": self.skipped.len(),
            "disabled": self.disabled,
            "skipped_by_reason": self.skipped_by_reason(),
            "unsupported_features": self.unsupported_features,
            "skipped_rules": self.skipped,
            "file_errors": self.file_errors,
            "unit": self.unit(),
            "compiled_rules": self.rules,
            "breakdown": self.breakdown,
            "notes": self.notes,
        })
    }

    /// The human-readable form: totals, then reasons by count with up to `examples`
    /// rules each.
    pub fn to_text(&self, examples: usize) -> String {
        let mut s = String::new();
        let pct =
            |n: usize| if self.total == 0 { 0.0 } else { 100.0 * n as f64 / self.total as f64 };
        let _ = writeln!(
            s,
            "{} {} read ({} disabled not counted): {} loaded ({:.1}%), {} parse ({:.1}%), {} skipped",
            self.total,
            self.unit(),
            self.disabled,
            self.loaded,
            pct(self.loaded),
            self.parsed,
            pct(self.parsed),
            self.skipped.len()
        );
        if let Some(n) = self.rules {
            let _ = writeln!(s, "{n} rules compiled");
        }
        if !self.breakdown.is_empty() {
            let _ = writeln!(s, "loaded rules by where they run:");
            for (place, n) in &self.breakdown {
                let _ = writeln!(s, "  {n:>6}  {place}");
            }
        }
        for e in &self.file_errors {
            let _ = writeln!(s, "error: {e}");
        }
        let mut reasons: Vec<(String, usize)> = self.skipped_by_reason().into_iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if !self.unsupported_features.is_empty() {
            let mut feats: Vec<(&String, &usize)> = self.unsupported_features.iter().collect();
            feats.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let top: Vec<String> =
                feats.iter().take(12).map(|(f, n)| format!("{f} ({n})")).collect();
            let _ = writeln!(s, "unsupported features used by skipped rules: {}", top.join(", "));
        }
        if !reasons.is_empty() {
            let _ = writeln!(s, "skipped, by reason:");
        }
        for (reason, count) in reasons {
            let _ = writeln!(s, "  {count:>6}  {reason}");
            for sk in self.skipped.iter().filter(|x| x.reason == reason).take(examples) {
                let sid = sk.sid.map(|x| format!("sid {x} ")).unwrap_or_default();
                let at =
                    if sk.line > 0 { format!("{}:{}", sk.file, sk.line) } else { sk.file.clone() };
                let _ = writeln!(s, "          {sid}at {at}: {}", sk.message);
            }
        }
        for n in self.notes.iter().take(examples) {
            let _ = writeln!(s, "note: {n}");
        }
        if self.notes.len() > examples {
            let _ = writeln!(
                s,
                "note: ... {} more notes (--json lists them)",
                self.notes.len() - examples
            );
        }
        s
    }
}

/// The files under `dir` whose extension (ASCII case-insensitive) is one of
/// `extensions`, walked into sub-folders when `recursive`, sorted. A folder that cannot
/// be read is reported in `report.file_errors` and the rest still count.
pub fn files_in_folder(
    dir: &std::path::Path,
    extensions: &[&str],
    recursive: bool,
    report: &mut LoadReport,
) -> Vec<std::path::PathBuf> {
    fn walk(
        dir: &std::path::Path,
        extensions: &[&str],
        recursive: bool,
        out: &mut Vec<std::path::PathBuf>,
        report: &mut LoadReport,
    ) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                report.file_errors.push(format!("cannot read folder `{}`: {e}", dir.display()));
                return;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if recursive {
                    walk(&path, extensions, recursive, out, report);
                }
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, extensions, recursive, &mut out, report);
    out.sort();
    out
}

/// `paths` with every folder replaced by its files of `extensions` (see
/// [`files_in_folder`]); files are kept as given, whatever their extension.
pub fn expand_folders(
    paths: &[std::path::PathBuf],
    extensions: &[&str],
    recursive: bool,
    report: &mut LoadReport,
) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            out.extend(files_in_folder(p, extensions, recursive, report));
        } else {
            out.push(p.clone());
        }
    }
    out
}
