//! Reading rule files as their communities publish them: one rule per line, `\` line
//! continuations, `#` comments (a commented-out rule is "disabled", not an error).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::{Origin, Signature, Vars};
use crate::load_report::{LoadReport, Skipped};

/// One rule's text with the line it starts on.
#[derive(Debug, PartialEq, Eq)]
pub struct RuleText {
    /// The line the rule starts on.
    pub line: u32,
    pub(crate) text: String,
}

/// Splits a rules file into enabled rule texts; returns them with the number of
/// commented-out rules.
pub fn split_rules(src: &str) -> (Vec<RuleText>, usize) {
    let mut out = Vec::new();
    let mut disabled = 0;
    let mut pending: Option<RuleText> = None;
    for (idx, raw) in src.lines().enumerate() {
        let lineno = idx as u32 + 1;
        let line = raw.trim_end_matches('\r');
        if let Some(mut p) = pending.take() {
            let (body, cont) = continuation(line);
            p.text.push_str(body);
            if cont {
                pending = Some(p);
            } else {
                out.push(p);
            }
            continue;
        }
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            let c = c.trim_start();
            if ["alert ", "drop ", "pass ", "reject ", "rejectsrc ", "rejectdst ", "rejectboth "]
                .iter()
                .any(|a| c.starts_with(a))
                && c.contains("sid:")
            {
                disabled += 1;
            }
            continue;
        }
        let (body, cont) = continuation(t);
        let rt = RuleText { line: lineno, text: body.to_string() };
        if cont {
            pending = Some(rt);
        } else {
            out.push(rt);
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    (out, disabled)
}

fn continuation(line: &str) -> (&str, bool) {
    match line.trim_end().strip_suffix('\\') {
        Some(body) => (body, true),
        None => (line, false),
    }
}

/// Parses the rules of one source text into `sigs`, recording everything in `report`.
pub fn load_text(
    src: &str,
    file: &str,
    vars: &Vars,
    sigs: &mut Vec<Signature>,
    report: &mut LoadReport,
) {
    let file: Arc<str> = Arc::from(file);
    let (texts, disabled) = split_rules(src);
    report.disabled += disabled;
    for rt in texts {
        report.total += 1;
        let origin = Origin { file: file.clone(), line: rt.line };
        match Signature::parse(&rt.text, vars, origin) {
            Ok(sig) => {
                report.parsed += 1;
                sigs.push(sig);
            }
            Err(e) => {
                if e.is_support_gap() {
                    report.parsed += 1;
                    for g in &e.gaps {
                        *report.unsupported_features.entry(g.clone()).or_insert(0) += 1;
                    }
                }
                report.skip(Skipped {
                    file: file.to_string(),
                    line: rt.line,
                    sid: sid_of(&rt.text),
                    reason: e.reason(),
                    code: e.code().to_string(),
                    message: e.to_string(),
                });
            }
        }
    }
}

/// Reads rule files; a folder stands for its `.rules` files (not its sub-folders, as
/// Suricata's `default-rule-path`). A file that cannot be read is reported and the
/// others still load.
pub fn load_files<P: AsRef<Path>>(paths: &[P], vars: &Vars) -> (Vec<Signature>, LoadReport) {
    let mut sigs = Vec::new();
    let mut report = LoadReport::default();
    let given: Vec<std::path::PathBuf> = paths.iter().map(|p| p.as_ref().to_path_buf()).collect();
    for p in crate::load_report::expand_folders(&given, &["rules"], false, &mut report) {
        let p = p.as_path();
        match std::fs::read(p) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                load_text(&text, &p.display().to_string(), vars, &mut sigs, &mut report);
            }
            Err(e) => report.file_errors.push(format!("cannot read `{}`: {e}", p.display())),
        }
    }
    dedup_sids(&mut sigs, &mut report);
    report.loaded = sigs.len();
    (sigs, report)
}

/// Two rules with the same gid:sid: the higher `rev` wins (Suricata's behaviour); the
/// other is reported as a duplicate.
fn dedup_sids(sigs: &mut Vec<Signature>, report: &mut LoadReport) {
    let mut best: HashMap<(u32, u32), usize> = HashMap::new();
    let mut drop = vec![false; sigs.len()];
    for (i, s) in sigs.iter().enumerate() {
        match best.get(&(s.gid, s.sid)) {
            Some(&j) if sigs[j].rev >= s.rev => drop[i] = true,
            Some(&j) => {
                drop[j] = true;
                best.insert((s.gid, s.sid), i);
            }
            None => {
                best.insert((s.gid, s.sid), i);
            }
        }
    }
    let mut idx = 0;
    sigs.retain(|s| {
        let d = drop[idx];
        idx += 1;
        if d {
            report.skip(Skipped {
                file: s.origin.file.to_string(),
                line: s.origin.line,
                sid: Some(s.sid),
                reason: "duplicate sid".to_string(),
                code: "E_DUPLICATE_SID".to_string(),
                message: format!(
                    "sid {}:{} rev {} is defined again with an equal or higher rev",
                    s.gid, s.sid, s.rev
                ),
            });
        }
        !d
    });
}

/// Best-effort `sid:` of a rule that did not parse, for the report.
fn sid_of(text: &str) -> Option<u32> {
    let i = text.find("sid:")?;
    if i > 0 && !matches!(text.as_bytes()[i - 1], b';' | b' ' | b'(' | b'\t') {
        return None;
    }
    let rest = text[i + 4..].trim_start();
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_handles_continuations_and_comments() {
        let src = "# comment\n#alert tcp any any -> any any (sid:9;)\nalert tcp any any -> any any ( \\\nmsg:\"x\"; \\\nsid:1;)\n\nalert ip any any -> any any (sid:2;)\n";
        let (rules, disabled) = split_rules(src);
        assert_eq!(disabled, 1);
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].line, 3);
        assert!(rules[0].text.contains("msg:\"x\";"));
        assert_eq!(rules[1].line, 7);
    }

    #[test]
    fn report_counts_and_groups() {
        let src = "alert tcp any any -> any any (msg:\"a\"; content:\"x\"; sid:1;)\n\
                   alert modbus any any -> any any (msg:\"b\"; sid:2;)\n\
                   alert tcp any any -> any any (msg:\"c\"; pgsql.query; content:\"x\"; sid:3;)\n\
                   alert tcp any any -> any any (msg:\"d\"; foo; sid:4;)\n\
                   alert tcp any any -> any any (msg:\"e\"; content:\"x\"; sid:1; rev:2;)\n\
                   alert tcp any any -> any (sid:5;)\n";
        let mut sigs = Vec::new();
        let mut rep = LoadReport::default();
        load_text(src, "t.rules", &Vars::default(), &mut sigs, &mut rep);
        dedup_sids(&mut sigs, &mut rep);
        rep.loaded = sigs.len();
        assert_eq!(rep.total, 6);
        assert_eq!(rep.loaded, 1);
        assert_eq!(sigs[0].rev, 2);
        assert_eq!(rep.parsed, 4);
        assert_eq!(rep.skipped_by_reason()["unsupported: protocol `modbus`"], 1);
        assert_eq!(rep.skipped_by_reason()["unsupported: keyword `pgsql.query`"], 1);
        assert_eq!(rep.skipped_by_reason()["unknown keyword `foo`"], 1);
        assert_eq!(rep.skipped_by_reason()["duplicate sid"], 1);
        let s = rep.skipped.iter().find(|s| s.sid == Some(4)).unwrap();
        assert_eq!((s.file.as_str(), s.line), ("t.rules", 4));
    }
}
