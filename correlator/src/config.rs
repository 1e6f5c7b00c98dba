//! Correlator configuration sections.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CorrelatorConfig {
    /// Alerts of the same rule between the same two hosts join one incident while they
    /// keep coming within this many seconds of the previous one.
    pub incident_window_secs: u32,
    /// Alerts written to SQLite per transaction.
    pub batch_size: usize,
}

impl Default for CorrelatorConfig {
    fn default() -> Self {
        CorrelatorConfig { incident_window_secs: 3600, batch_size: 512 }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// The SQLite database file (created with its folder when missing).
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { path: PathBuf::from("gatewatch-data/gatewatch.db") }
    }
}
