//! YARA rules, compiled by YARA-X, scanned over extracted files and the first bytes of
//! TCP streams.
//!
//! A rule folder is compiled into one [`YaraSet`]: every `.yar`/`.yara` file under it
//! gets its own namespace (its path relative to the folder), so that two community
//! sets may both have a rule called `Mimikatz`. A file that does not compile is
//! reported with `file:line` and the reason, and the other files still load; rules of
//! a file compiled before its first error stay in. Files that hold only `include`
//! statements (the `*_index.yar` of Yara-Rules) are index files: the folder walk loads
//! the files they name, so they are listed, not compiled twice.
//!
//! The compiled set is shared by the workers (`Arc<YaraSet>`); each worker owns a
//! [`YaraScanner`] bound to it, with a timeout and a size limit per scan.
//!
//! Rules may use the external variables `filename`, `filepath`, `extension`,
//! `filetype` and `owner` as published in signature-base; they are defined at compile
//! time (empty) and set before each scan from the file's context.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::load_report::LoadReport;

/// Modules compiled into the sensor (cargo features of `yara-x`): what files carried
/// over HTTP and SMTP need.
pub const MODULES: &[&str] =
    &["pe", "elf", "dotnet", "lnk", "hash", "math", "string", "time", "console"];

/// Modules of YARA that the sensor leaves out: rules using them are ignored (reported),
/// the rest of their file loads.
pub const IGNORED_MODULES: &[&str] =
    &["cuckoo", "androguard", "magic", "dex", "macho", "crx", "vt", "zip"];

/// External variables defined for every rule set.
pub const EXTERNALS: &[&str] = &["filename", "filepath", "extension", "filetype", "owner"];

#[cfg(not(feature = "yara"))]
mod absent;
#[cfg(feature = "yara")]
mod scanner;
#[cfg(not(feature = "yara"))]
pub use absent::{compile_sources, YaraScanner, YaraSet};
#[cfg(feature = "yara")]
pub use scanner::{compile_sources, YaraScanner, YaraSet};

/// Rule files under `paths` (files as given; folders walked, sorted, for
/// `.yar`/`.yara`), each with the namespace it gets.
pub fn rule_files(paths: &[PathBuf], report: &mut LoadReport) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            for f in crate::load_report::files_in_folder(p, &["yar", "yara"], true, report) {
                let rel = f.strip_prefix(p).unwrap_or(&f);
                let ns = namespace_of(rel);
                out.push((f, ns));
            }
        } else {
            out.push((p.clone(), namespace_of(Path::new(p.file_name().unwrap_or_default()))));
        }
    }
    out
}

/// `apt/apt_foo.yar` → `apt.apt_foo`.
fn namespace_of(rel: &Path) -> String {
    let s = rel.with_extension("").to_string_lossy().replace(['/', '\\'], ".");
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect()
}

/// A file whose statements are only `include`s (and comments).
fn is_index_file(text: &str) -> bool {
    let mut includes = 0;
    let mut in_block = false;
    for line in text.lines() {
        let mut l = line.trim();
        if in_block {
            match l.find("*/") {
                Some(i) => {
                    in_block = false;
                    l = l[i + 2..].trim();
                }
                None => continue,
            }
        }
        if l.is_empty() || l.starts_with("//") {
            continue;
        }
        if l.starts_with("/*") {
            in_block = !l.contains("*/");
            continue;
        }
        if l.starts_with("include ") || l.starts_with("include\t") {
            includes += 1;
            continue;
        }
        return false;
    }
    includes > 0
}

/// Loads and compiles rule files and folders. The report counts files: `total` files
/// read, `loaded` files that compiled whole (`parsed` likewise); each compile error is
/// a skipped entry with `file:line`; rules ignored for a module the sensor leaves out
/// are counted under `unsupported_features`.
pub fn compile_paths(paths: &[PathBuf]) -> (Option<YaraSet>, LoadReport) {
    let mut report = LoadReport { unit: "YARA files".into(), ..Default::default() };
    let files = rule_files(paths, &mut report);
    let mut sources = Vec::with_capacity(files.len());
    for (path, ns) in files {
        match std::fs::read(&path) {
            Ok(bytes) => sources.push((path.display().to_string(), ns, bytes)),
            Err(e) => report.file_errors.push(format!("cannot read `{}`: {e}", path.display())),
        }
    }
    let set = compile_sources(&sources, &mut report);
    (set, report)
}

/// What the scanner knows of the scanned bytes; sets the external variables.
#[derive(Clone, Debug, Default)]
pub struct ScanTarget<'a> {
    /// File name (from the URL path or the attachment), empty for streams.
    pub filename: &'a str,
    /// Full path or URL as seen.
    pub filepath: &'a str,
    /// Magic type description.
    pub filetype: &'a str,
}

/// Bounds of one scan.
#[derive(Clone, Copy, Debug)]
pub struct ScanLimits {
    /// Longest scan of one buffer or file.
    pub timeout: Duration,
    /// Bytes scanned at most; the rest of a bigger buffer is not looked at.
    pub max_bytes: usize,
}

impl Default for ScanLimits {
    fn default() -> Self {
        ScanLimits { timeout: Duration::from_millis(500), max_bytes: 16 * 1024 * 1024 }
    }
}

/// One matching rule.
#[derive(Clone, Debug, PartialEq)]
pub struct YaraMatch {
    /// The rule's namespace (its file).
    pub namespace: String,
    /// The rule's name.
    pub rule: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// The rule's `meta:` section, values as text.
    pub meta: Vec<(String, String)>,
}

impl YaraMatch {
    /// `namespace:rule`, the name an analyst searches for.
    pub fn qualified_name(&self) -> String {
        format!("{}:{}", self.namespace, self.rule)
    }
}

/// Why a scan did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The scan took longer than the limit.
    #[error("YARA scan timed out")]
    Timeout,
    /// Scanning failed otherwise.
    #[error("YARA scan failed: {0}")]
    Other(String),
}

#[cfg(all(test, feature = "yara"))]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn compile(srcs: &[(&str, &str)]) -> (Option<YaraSet>, LoadReport) {
        let sources: Vec<(String, String, Vec<u8>)> = srcs
            .iter()
            .map(|(name, text)| {
                (name.to_string(), namespace_of(Path::new(name)), text.as_bytes().to_vec())
            })
            .collect();
        let mut report = LoadReport::default();
        let set = compile_sources(&sources, &mut report);
        (set, report)
    }

    #[test]
    fn a_bad_file_is_reported_with_its_line_and_the_rest_loads() {
        let (set, report) = compile(&[
            ("good.yar", "rule Good : tagA tagB { meta: score = 80 description = \"x\" strings: $a = \"evil\" condition: $a }"),
            ("bad.yar", "rule Fine { condition: true }\n\nrule Bad {\n  condition: $nope\n}\n"),
            ("index.yar", "// all\ninclude \"./good.yar\"\ninclude \"./bad.yar\"\n"),
        ]);
        let set = set.unwrap();
        assert_eq!(report.total, 2, "the index file is not counted");
        assert_eq!(report.disabled, 1);
        assert_eq!(report.loaded, 1);
        assert_eq!(report.skipped.len(), 1);
        let s = &report.skipped[0];
        assert_eq!((s.file.as_str(), s.line), ("bad.yar", 4), "{s:?}");
        assert!(s.message.contains("nope"), "{s:?}");
        assert_eq!(set.rule_count, 2, "Good, and Fine which came before the error");

        let mut sc = YaraScanner::new(Arc::new(set), ScanLimits::default());
        let m = sc.scan(b"an evil payload", &ScanTarget::default()).unwrap();
        let names: Vec<String> = m.iter().map(|m| m.qualified_name()).collect();
        assert_eq!(names, ["good:Good", "bad:Fine"], "in load order");
        let good = &m[0];
        assert_eq!(good.tags, ["tagA", "tagB"]);
        assert_eq!(good.meta[0], ("score".into(), "80".into()));
        assert_eq!(sc.scan(b"benign", &ScanTarget::default()).unwrap().len(), 1);
    }

    #[test]
    fn externals_come_from_the_file_context() {
        let (set, report) = compile(&[(
            "ext.yar",
            "rule Exe { condition: extension == \"exe\" and filename contains \"setup\" and filetype contains \"PE32\" }",
        )]);
        assert_eq!(report.loaded, 1, "{:?}", report.skipped);
        let mut sc = YaraScanner::new(Arc::new(set.unwrap()), ScanLimits::default());
        let t = ScanTarget {
            filename: "setup.exe",
            filepath: "/d/setup.exe",
            filetype: "PE32 executable",
        };
        assert_eq!(sc.scan(b"MZ", &t).unwrap().len(), 1);
        let t = ScanTarget { filename: "setup.pdf", ..t };
        assert!(sc.scan(b"MZ", &t).unwrap().is_empty());
    }

    #[test]
    fn rules_of_a_left_out_module_are_ignored_not_fatal() {
        let (set, report) = compile(&[(
            "c.yar",
            "import \"cuckoo\"\nrule C { condition: cuckoo.network.host(/x/) }\nrule Plain { strings: $a = \"abc\" condition: $a }",
        )]);
        assert_eq!(report.loaded, 1, "{:?}", report.skipped);
        assert_eq!(report.unsupported_features.get("module `cuckoo`"), Some(&1));
        assert_eq!(set.unwrap().rule_count, 1);
    }

    #[test]
    fn the_size_limit_bounds_what_is_scanned() {
        let (set, _) = compile(&[("t.yar", "rule Tail { strings: $a = \"TAIL\" condition: $a }")]);
        let limits = ScanLimits { max_bytes: 1000, ..Default::default() };
        let mut sc = YaraScanner::new(Arc::new(set.unwrap()), limits);
        let mut data = vec![b'.'; 2000];
        data.extend_from_slice(b"TAIL");
        assert!(sc.scan(&data, &ScanTarget::default()).unwrap().is_empty());
        assert_eq!(sc.scan(&data[1900..], &ScanTarget::default()).unwrap().len(), 1);
    }

    #[test]
    fn index_files_are_recognised() {
        assert!(is_index_file("/* x\n y */\ninclude \"a.yar\"\n// c\ninclude \"b.yar\"\n"));
        assert!(!is_index_file("include \"a.yar\"\nrule x { condition: true }"));
        assert!(!is_index_file("// nothing\n"));
    }
}
