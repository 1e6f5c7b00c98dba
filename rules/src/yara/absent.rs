//! A build without the YARA engine (cargo feature `yara` off; the fuzz targets of the
//! other parsers are built this way, which saves compiling wasmtime). Rule files are
//! still found and counted, and each one is reported as not loaded, with the reason:
//! a sensor built like this never pretends to scan.

use std::sync::Arc;

use super::{is_index_file, ScanError, ScanLimits, ScanTarget, YaraMatch};
use crate::load_report::{LoadReport, Skipped};

/// No value of this type exists: nothing can be compiled without the engine.
#[derive(Debug)]
enum Never {}

/// A compiled YARA rule set; none can exist in this build.
#[derive(Debug)]
pub struct YaraSet {
    never: Never,
    /// Rules in the set.
    pub rule_count: usize,
    /// Files that contributed rules.
    pub files: usize,
}

/// Reports every rule file as not loaded; returns no set.
pub fn compile_sources(
    sources: &[(String, String, Vec<u8>)],
    report: &mut LoadReport,
) -> Option<YaraSet> {
    if report.unit.is_empty() {
        report.unit = "YARA files".into();
    }
    for (origin, _, bytes) in sources {
        if std::str::from_utf8(bytes).is_ok_and(is_index_file) {
            report.disabled += 1;
            continue;
        }
        report.total += 1;
        report.skip(Skipped {
            file: origin.clone(),
            line: 0,
            sid: None,
            reason: "this build has no YARA engine".into(),
            code: "no_yara_engine".into(),
            message: "gatewatch was built without the cargo feature `yara`".into(),
        });
    }
    None
}

/// A scanner over a [`YaraSet`]; none can exist in this build.
pub struct YaraScanner {
    never: Never,
}

impl YaraScanner {
    /// Cannot be called: no [`YaraSet`] exists in this build.
    pub fn new(set: Arc<YaraSet>, _limits: ScanLimits) -> Self {
        match set.never {}
    }

    /// Cannot be called.
    pub fn set(&self) -> &Arc<YaraSet> {
        match self.never {}
    }

    /// Cannot be called.
    pub fn limits(&self) -> ScanLimits {
        match self.never {}
    }

    /// Cannot be called.
    pub fn scan(
        &mut self,
        _data: &[u8],
        _target: &ScanTarget<'_>,
    ) -> Result<Vec<YaraMatch>, ScanError> {
        match self.never {}
    }
}
