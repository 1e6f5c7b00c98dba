//! Content scanning with YARA: every extracted file (HTTP bodies, SMTP attachments) and
//! the first `yara.stream_depth` bytes of each TCP stream direction, never single
//! packets (a scan costs about as much as 1.5 KB of data whatever its size, so many
//! small scans would cost more than the rest of the sensor).
//!
//! A match becomes an EVE alert with `alert.gid` 9100 and the rule named in
//! `alert.signature` and `alert.metadata` (see `gatewatch_rules::detection`). The time
//! spent scanning is in `stats.yara.scan_us`, beside the other counters, so that its
//! share of the sensor's CPU is visible.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatewatch_rules::event::AlertInfo;
use gatewatch_rules::ids::{stable_sid, GID_YARA};
use gatewatch_rules::yara::{ScanError, ScanLimits, ScanTarget, YaraMatch, YaraScanner, YaraSet};
use serde::Serialize;

use crate::app::records::FileRecord;
use crate::config::YaraConfig;

/// Counters of content scanning.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScanStats {
    pub files: u64,
    pub streams: u64,
    pub bytes: u64,
    pub matches: u64,
    pub timeouts: u64,
    pub errors: u64,
    /// Microseconds spent in YARA scans.
    pub scan_us: u64,
    /// Rules in the loaded set.
    pub rules: u64,
}

/// One worker's YARA scanner and its counters.
pub struct ContentScanner {
    yara: YaraScanner,
    scan_files: bool,
    dump_dir: Option<std::path::PathBuf>,
    pub stats: ScanStats,
}

impl ContentScanner {
    pub fn new(set: Arc<YaraSet>, cfg: &YaraConfig) -> Self {
        let limits = ScanLimits {
            timeout: Duration::from_millis(cfg.timeout_ms.max(1)),
            max_bytes: cfg.max_scan_bytes,
        };
        let stats = ScanStats { rules: set.rule_count as u64, ..Default::default() };
        ContentScanner {
            yara: YaraScanner::new(set, limits),
            scan_files: cfg.scan_files,
            dump_dir: cfg.dump_dir.clone(),
            stats,
        }
    }

    /// Scans an extracted file (what was kept of it: decoded, within the body limit).
    pub fn scan_file(&mut self, f: &FileRecord) -> Vec<YaraMatch> {
        if !self.scan_files || f.data.is_empty() {
            return Vec::new();
        }
        self.stats.files += 1;
        let filename = f.filename.rsplit('/').next().unwrap_or_default();
        let target = ScanTarget {
            filename,
            filepath: &f.filename,
            filetype: f.magic.as_deref().unwrap_or_default(),
        };
        self.run(&f.data, &target)
    }

    /// Scans the first bytes of a stream direction.
    pub fn scan_stream(&mut self, data: &[u8]) -> Vec<YaraMatch> {
        if data.is_empty() {
            return Vec::new();
        }
        self.stats.streams += 1;
        self.run(data, &ScanTarget::default())
    }

    fn run(&mut self, data: &[u8], target: &ScanTarget<'_>) -> Vec<YaraMatch> {
        let n = data.len().min(self.yara.limits().max_bytes);
        if let Some(dir) = &self.dump_dir {
            let seq = self.stats.files + self.stats.streams;
            if std::fs::write(dir.join(format!("{seq}.bin")), &data[..n]).is_err() {
                self.stats.errors += 1;
            }
        }
        let start = Instant::now();
        self.stats.bytes += n as u64;
        let out = match self.yara.scan(data, target) {
            Ok(m) => m,
            Err(ScanError::Timeout) => {
                self.stats.timeouts += 1;
                Vec::new()
            }
            Err(ScanError::Other(_)) => {
                self.stats.errors += 1;
                Vec::new()
            }
        };
        self.stats.scan_us += start.elapsed().as_micros() as u64;
        self.stats.matches += out.len() as u64;
        out
    }
}

/// Metadata values longer than this are cut (some rules list dozens of hashes).
const META_VALUE_MAX: usize = 256;
/// Metadata keys copied from a rule at most.
const META_KEYS_MAX: usize = 16;

/// The `alert` object of a YARA match.
pub fn yara_alert_info(m: &YaraMatch) -> AlertInfo {
    let name = m.qualified_name();
    let mut metadata: BTreeMap<String, Vec<String>> = BTreeMap::new();
    metadata.insert("yara_namespace".into(), vec![m.namespace.clone()]);
    metadata.insert("yara_rule".into(), vec![m.rule.clone()]);
    if !m.tags.is_empty() {
        metadata.insert("yara_tags".into(), m.tags.clone());
    }
    let mut keys = 0;
    for (k, v) in &m.meta {
        let entry = metadata.entry(k.clone()).or_default();
        if entry.is_empty() {
            keys += 1;
            if keys > META_KEYS_MAX {
                metadata.remove(k);
                continue;
            }
        }
        let mut v = v.clone();
        if v.len() > META_VALUE_MAX {
            let mut cut = META_VALUE_MAX;
            while !v.is_char_boundary(cut) {
                cut -= 1;
            }
            v.truncate(cut);
            v.push('…');
        }
        entry.push(v);
    }
    let mut signature = format!("YARA {name}");
    if let Some(d) = m.meta.iter().find(|(k, _)| k == "description").map(|(_, v)| v) {
        signature.push_str(" — ");
        signature.push_str(d.chars().take(160).collect::<String>().as_str());
    }
    AlertInfo {
        action: "allowed".into(),
        gid: GID_YARA,
        signature_id: stable_sid(&name),
        rev: 1,
        signature,
        category: "Malicious content (YARA)".into(),
        severity: severity(m),
        source: None,
        target: None,
        metadata: Some(metadata),
        context: None,
    }
}

/// 1 (high) to 3 from the rule's `score` (signature-base: 0–100) or `severity` meta;
/// 2 when it has neither.
fn severity(m: &YaraMatch) -> u8 {
    let meta = |k: &str| m.meta.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Some(score) = meta("score").and_then(|s| s.trim().parse::<i64>().ok()) {
        return if score >= 75 {
            1
        } else if score >= 50 {
            2
        } else {
            3
        };
    }
    match meta("severity").map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("critical" | "high" | "1") => 1,
        Some("low" | "info" | "informational" | "3" | "4") => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(meta: &[(&str, &str)]) -> YaraMatch {
        YaraMatch {
            namespace: "sb.apt".into(),
            rule: "Evil".into(),
            tags: vec!["apt".into()],
            meta: meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn alert_names_the_rule_and_carries_its_metadata() {
        let long = "x".repeat(1000);
        let a = yara_alert_info(&m(&[
            ("description", "Detects evil"),
            ("score", "80"),
            ("hash", "a"),
            ("hash", "b"),
            ("blob", &long),
        ]));
        assert_eq!(a.gid, GID_YARA);
        assert_eq!(a.signature_id, stable_sid("sb.apt:Evil"));
        assert_eq!(a.signature, "YARA sb.apt:Evil — Detects evil");
        assert_eq!(a.severity, 1);
        let md = a.metadata.unwrap();
        assert_eq!(md["yara_rule"], ["Evil"]);
        assert_eq!(md["yara_tags"], ["apt"]);
        assert_eq!(md["hash"], ["a", "b"]);
        assert!(md["blob"][0].chars().count() <= META_VALUE_MAX + 1);
    }

    #[test]
    fn severity_from_score_or_severity() {
        assert_eq!(severity(&m(&[("score", "60")])), 2);
        assert_eq!(severity(&m(&[("score", "40")])), 3);
        assert_eq!(severity(&m(&[("severity", "High")])), 1);
        assert_eq!(severity(&m(&[])), 2);
    }

    #[test]
    fn many_meta_keys_are_bounded() {
        let owned: Vec<(String, String)> =
            (0..40).map(|i| (format!("k{i}"), "v".to_string())).collect();
        let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let md = yara_alert_info(&m(&refs)).metadata.unwrap();
        assert_eq!(md.len(), 3 + META_KEYS_MAX);
    }
}
