//! `rules check`: which engine reads a rule file (by its extension; a folder by the
//! files in it), and the load report of each kind.

use std::path::{Path, PathBuf};

use crate::load_report::LoadReport;
use crate::signature::Vars;

/// The rule language of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleKind {
    /// Suricata signatures (`.rules`).
    Signatures,
    /// YARA (`.yar`, `.yara`).
    Yara,
    /// Sigma (`.yml`, `.yaml`).
    Sigma,
    /// Indicator lists (`.txt`, `.list`, `.csv`, MISP `.json`).
    Ioc,
}

impl RuleKind {
    /// Every kind, in report order.
    pub const ALL: [RuleKind; 4] =
        [RuleKind::Signatures, RuleKind::Yara, RuleKind::Sigma, RuleKind::Ioc];

    /// `signatures`, `yara`, `sigma` or `ioc`.
    pub fn name(self) -> &'static str {
        match self {
            RuleKind::Signatures => "signatures",
            RuleKind::Yara => "yara",
            RuleKind::Sigma => "sigma",
            RuleKind::Ioc => "ioc",
        }
    }

    /// The kind of a file from its extension, of a folder from the first rule file found
    /// in it (breadth-first, four levels deep).
    pub fn of(path: &Path) -> Option<RuleKind> {
        if path.is_dir() {
            return folder_kind(path, 4);
        }
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("yar" | "yara") => Some(RuleKind::Yara),
            Some("rules") => Some(RuleKind::Signatures),
            Some("yml" | "yaml") => Some(RuleKind::Sigma),
            Some("txt" | "list" | "csv" | "json") => Some(RuleKind::Ioc),
            _ => None,
        }
    }
}

/// The kind of the first rule file found in a folder (breadth-first, `depth` levels).
fn folder_kind(dir: &Path, depth: u32) -> Option<RuleKind> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).collect();
    entries.sort();
    if let Some(k) = entries.iter().filter(|p| p.is_file()).find_map(|p| RuleKind::of(p)) {
        return Some(k);
    }
    if depth == 0 {
        return None;
    }
    entries.iter().filter(|p| p.is_dir()).find_map(|p| folder_kind(p, depth - 1))
}

/// A folder holding no rule file of any kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}`: no rule files (.rules, .yar, .yara, .yml, .yaml, .txt, .csv, .json) in this folder"
)]
pub struct NoRuleFiles(pub PathBuf);

/// Loads `paths` with the engine of each one's kind (a file of unknown extension as
/// Suricata rules) and returns one load report per kind present, in [`RuleKind::ALL`]
/// order. Nothing is kept: this is the check, not the load.
pub fn check_paths(
    paths: &[PathBuf],
    vars: &Vars,
) -> Result<Vec<(RuleKind, LoadReport)>, NoRuleFiles> {
    let mut by_kind: Vec<(RuleKind, Vec<PathBuf>)> =
        RuleKind::ALL.iter().map(|k| (*k, Vec::new())).collect();
    for p in paths {
        let kind = match RuleKind::of(p) {
            Some(k) => k,
            None if p.is_file() || !p.exists() => RuleKind::Signatures,
            None => return Err(NoRuleFiles(p.clone())),
        };
        if let Some((_, v)) = by_kind.iter_mut().find(|(k, _)| *k == kind) {
            v.push(p.clone());
        }
    }
    let mut reports = Vec::new();
    for (kind, files) in by_kind.into_iter().filter(|(_, f)| !f.is_empty()) {
        let report = match kind {
            RuleKind::Signatures => crate::signature::file::load_files(&files, vars).1,
            RuleKind::Yara => crate::yara::compile_paths(&files).1,
            RuleKind::Sigma => crate::sigma::load_paths(&files).1,
            RuleKind::Ioc => crate::ioc::load_paths(&files).1,
        };
        reports.push((kind, report));
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_extension_and_folder() {
        assert_eq!(RuleKind::of(Path::new("a.RULES")), Some(RuleKind::Signatures));
        assert_eq!(RuleKind::of(Path::new("a.yara")), Some(RuleKind::Yara));
        assert_eq!(RuleKind::of(Path::new("a.yml")), Some(RuleKind::Sigma));
        assert_eq!(RuleKind::of(Path::new("a.csv")), Some(RuleKind::Ioc));
        assert_eq!(RuleKind::of(Path::new("a.exe")), None);
        let dir = std::env::temp_dir().join(format!("gw-check-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/x.yar"), "rule x { condition: true }").unwrap();
        assert_eq!(RuleKind::of(&dir), Some(RuleKind::Yara));
        std::fs::remove_file(dir.join("sub/x.yar")).unwrap();
        assert_eq!(
            check_paths(std::slice::from_ref(&dir), &Vars::default()).err(),
            Some(NoRuleFiles(dir.clone()))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
