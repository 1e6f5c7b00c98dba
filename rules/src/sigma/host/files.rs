//! Host log files through Sigma, as the correlator runs the rules on the host events it
//! receives: reading every event of a file, and SigmaHQ's regression data (`info.yml`
//! with the rule id and `match_count`, the events beside it as `.json`).

use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::sigma::SigmaSet;

/// A file that could not be read at all (an event that is not JSON is not this: it is
/// reported with its lines and the rest is read).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostFileError {
    /// The file or folder could not be read.
    #[error("cannot read `{path}`: {err}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        err: std::io::Error,
    },
    /// A regression `info.yml` that is not one.
    #[error("`{path}` is not a regression info file: {why}")]
    Info {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> HostFileError + '_ {
    move |err| HostFileError::Io { path: path.to_path_buf(), err }
}

/// Calls `each(index, event)` for every event of `file` (JSON lines, objects one after
/// another, or arrays); returns what could not be read, each naming where.
pub fn read_file(
    file: &Path,
    mut each: impl FnMut(usize, &Value),
) -> Result<Vec<String>, HostFileError> {
    let f = std::fs::File::open(file).map_err(io(file))?;
    let mut errors = Vec::new();
    let mut not_objects = Vec::new();
    let mut index = 0usize;
    super::for_each_event(
        BufReader::with_capacity(1 << 20, f),
        |v| {
            if v.is_object() {
                each(index, &v);
                index += 1;
            } else {
                not_objects
                    .push(format!("after event {index}: a JSON value that is not an object"));
            }
        },
        |e| errors.push(e),
    )
    .map_err(io(file))?;
    errors.extend(not_objects);
    Ok(errors)
}

#[derive(serde::Deserialize)]
struct Info {
    #[serde(default)]
    rule_metadata: Vec<RuleMeta>,
    #[serde(default)]
    regression_tests_info: Vec<TestInfo>,
}

#[derive(serde::Deserialize)]
struct RuleMeta {
    id: String,
    #[serde(default)]
    title: String,
}

#[derive(serde::Deserialize)]
struct TestInfo {
    #[serde(default)]
    name: String,
    path: String,
    match_count: Option<usize>,
}

/// One regression test's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegressionCase {
    /// The rule's id and title.
    pub rule_id: String,
    /// The rule's title.
    pub title: String,
    /// The test's name.
    pub name: String,
    /// How often the rule fired on the test's events.
    pub fired: usize,
    /// How often the data says it fires (none: at least once).
    pub match_count: Option<usize>,
    /// Events that could not be read.
    pub errors: Vec<String>,
}

impl RegressionCase {
    /// The rule fired and every event was read.
    pub fn passed(&self) -> bool {
        self.fired > 0 && self.errors.is_empty()
    }

    /// It passed, and fired exactly as often as `match_count` says (when it says).
    pub fn exact(&self) -> bool {
        self.passed() && self.match_count.is_none_or(|n| n == self.fired)
    }
}

fn info_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), HostFileError> {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(io(dir))?.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            info_files(&p, out)?;
        } else if p.file_name().is_some_and(|n| n == "info.yml") {
            out.push(p);
        }
    }
    Ok(())
}

/// Runs `set` over SigmaHQ's regression data in `dir` (its parent is where `path:`
/// entries start): one case per test, in the order of the folders.
pub fn regression(set: &SigmaSet, dir: &Path) -> Result<Vec<RegressionCase>, HostFileError> {
    let root = dir.parent().unwrap_or(dir);
    let mut infos = Vec::new();
    info_files(dir, &mut infos)?;
    let mut cases = Vec::new();
    for info_path in &infos {
        let text = std::fs::read_to_string(info_path).map_err(io(info_path))?;
        let info: Info = yaml_serde::from_str(&text)
            .map_err(|e| HostFileError::Info { path: info_path.clone(), why: e.to_string() })?;
        let Some(rule) = info.rule_metadata.first() else { continue };
        for t in &info.regression_tests_info {
            let json_path = root.join(&t.path).with_extension("json");
            let json_path = if json_path.exists() {
                json_path
            } else {
                let name = Path::new(&t.path).with_extension("json");
                info_path.with_file_name(name.file_name().unwrap_or_default())
            };
            let mut fired = 0usize;
            let errors = read_file(&json_path, |_, ev| {
                fired += set.evaluate_host(ev).iter().filter(|h| h.id == rule.id).count();
            })?;
            cases.push(RegressionCase {
                rule_id: rule.id.clone(),
                title: rule.title.clone(),
                name: t.name.clone(),
                fired,
                match_count: t.match_count,
                errors,
            });
        }
    }
    Ok(cases)
}
