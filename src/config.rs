//! The one configuration file (TOML). Every section has working defaults; an unknown key
//! is an error naming it. `--set section.key=value` overrides any key.

use std::path::Path;

use anyhow::{bail, Context, Result};
use gatewatch_correlator::config::{CorrelatorConfig, IngestConfig, StoreConfig};
use gatewatch_sensor::config::{
    CaptureConfig, DefragConfig, DetectConfig, EveConfig, FilesConfig, FlowConfig, IocConfig,
    SensorConfig, SigmaConfig, StreamConfig, VarsConfig, YaraConfig,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Capture options (checksum validation, worker threads).
    pub capture: CaptureConfig,
    /// Live capture of `gatewatch sensor`: interfaces, method, ring, filter.
    pub live: gatewatch_sensor::capture::live::LiveConfig,
    /// Shipping findings to the correlator (mutual TLS).
    pub ship: gatewatch_sensor::ship::client::ShipConfig,
    /// The sensor's on-disk spool of findings not yet acknowledged.
    pub spool: gatewatch_sensor::ship::spool::SpoolConfig,
    /// TCP stream options (midstream pickup).
    pub stream: StreamConfig,
    /// Flow table bounds and timeouts.
    pub flow: FlowConfig,
    /// IP fragment reassembly bounds.
    pub defrag: DefragConfig,
    /// Rule files and detection bounds.
    pub detect: DetectConfig,
    /// Rule variables ($HOME_NET, $HTTP_PORTS, ...).
    pub vars: VarsConfig,
    /// EVE JSON output.
    pub eve: EveConfig,
    /// Storing of extracted files.
    pub files: FilesConfig,
    /// YARA rules and scanning of files and streams.
    pub yara: YaraConfig,
    /// Indicator lists.
    pub ioc: IocConfig,
    /// Sigma rules.
    pub sigma: SigmaConfig,
    /// Incident building.
    pub correlator: CorrelatorConfig,
    /// Where the correlator keeps its data.
    pub store: StoreConfig,
    /// The correlator's listeners for host logs.
    pub ingest: IngestConfig,
    /// The Elasticsearch/OpenSearch sink (off unless `url` is set).
    pub elasticsearch: gatewatch_correlator::elastic::ElasticConfig,
    /// The analyst console (web UI and REST API over HTTPS; off unless `listen` is set).
    pub console: gatewatch_correlator::console::ConsoleConfig,
    /// Automated blocking: response policies, allowlists, actions, rate limits.
    pub response: gatewatch_correlator::response::ResponseConfig,
    /// The monthly security compliance report.
    pub report: gatewatch_correlator::report::ReportConfig,
    /// Control of running processes (rule reloads).
    pub control: ControlConfig,
    /// Rule sources `gatewatch rules update` downloads.
    pub update: gatewatch_rules::update::UpdateConfig,
}

/// Where a running process keeps its pid file and reload status.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ControlConfig {
    pub dir: std::path::PathBuf,
}

impl Default for ControlConfig {
    fn default() -> Self {
        ControlConfig { dir: "gatewatch-data/run".into() }
    }
}

impl Config {
    pub fn sensor(&self) -> SensorConfig {
        SensorConfig {
            capture: self.capture.clone(),
            stream: self.stream.clone(),
            flow: self.flow.clone(),
            defrag: self.defrag.clone(),
            detect: self.detect.clone(),
            vars: self.vars.clone(),
            eve: self.eve.clone(),
            files: self.files.clone(),
            yara: self.yara.clone(),
            ioc: self.ioc.clone(),
            sigma: self.sigma.clone(),
        }
    }
}

/// Parses the value of `--set k=v`: a TOML value when it is one (`true`, `3`, `"x"`,
/// `[1, 2]`), else the text as a string.
fn parse_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

/// Applies one `section.key=value` override to a TOML table.
pub fn apply_set(table: &mut toml::Table, set: &str) -> Result<()> {
    let (path, raw) =
        set.split_once('=').with_context(|| format!("--set `{set}`: expected key=value"))?;
    let keys: Vec<&str> = path.trim().split('.').collect();
    if keys.iter().any(|k| k.is_empty()) {
        bail!("--set `{set}`: empty key in `{path}`");
    }
    let mut cur = table;
    for k in &keys[..keys.len() - 1] {
        let entry =
            cur.entry(k.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = match entry {
            toml::Value::Table(t) => t,
            _ => bail!("--set `{set}`: `{k}` is not a section"),
        };
    }
    cur.insert(keys[keys.len() - 1].to_string(), parse_value(raw.trim()));
    Ok(())
}

/// Turns a table into a [`Config`], naming the offending key on error.
pub fn from_table(table: toml::Table, origin: &str) -> Result<Config> {
    let value = toml::Value::Table(table);
    let cfg = serde_path_to_error::deserialize::<_, Config>(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            anyhow::anyhow!("{origin}: {inner}")
        } else {
            anyhow::anyhow!("{origin}: key `{path}`: {inner}")
        }
    })?;
    check_bounds(&cfg, origin)?;
    Ok(cfg)
}

/// Pipeline threads at most: more than a machine has cores only costs memory (each
/// worker holds its own flow table and reassembly buffers).
pub const MAX_WORKERS: usize = 256;

/// Values that parse but cannot work, refused with the key and the bound.
fn check_bounds(cfg: &Config, origin: &str) -> Result<()> {
    let w = cfg.capture.workers;
    if w == 0 || w > MAX_WORKERS {
        bail!("{origin}: key `capture.workers`: {w} is out of range (1 to {MAX_WORKERS})");
    }
    Ok(())
}

/// Reads the config file (if any) and applies the overrides.
pub fn load(path: Option<&Path>, sets: &[String]) -> Result<Config> {
    let (mut table, origin) = match path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read config `{}`", p.display()))?;
            let t: toml::Table = toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("config `{}`: {e}", p.display()))?;
            (t, format!("config `{}`", p.display()))
        }
        None => (toml::Table::new(), "configuration".to_string()),
    };
    for s in sets {
        apply_set(&mut table, s)?;
    }
    let origin = if sets.is_empty() { origin } else { format!("{origin} with --set overrides") };
    from_table(table, &origin)
}

/// The line that starts the list of keys without a default in [`default_toml`].
pub const UNSET_HEADER: &str = "# Keys without a default (unset unless given):";

/// The default configuration as TOML: every key with its default, then, as comments,
/// the keys that have none (TOML has no way to write "unset").
pub fn default_toml() -> String {
    let cfg = Config::default();
    let mut out = toml::to_string_pretty(&cfg).unwrap_or_default();
    let unset = unset_keys(&serde_json::to_value(&cfg).unwrap_or_default());
    if !unset.is_empty() {
        out.push('\n');
        out.push_str(UNSET_HEADER);
        out.push('\n');
        for k in unset {
            out.push_str(&format!("#   {k}\n"));
        }
    }
    out
}

/// The dotted names of the `null` values of a configuration (its unset options).
fn unset_keys(v: &serde_json::Value) -> Vec<String> {
    fn walk(v: &serde_json::Value, at: &str, out: &mut Vec<String>) {
        if let serde_json::Value::Object(m) = v {
            for (k, child) in m {
                let name = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                match child {
                    serde_json::Value::Null => out.push(name),
                    serde_json::Value::Object(_) => walk(child, &name, out),
                    _ => {}
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_overrides_and_types() {
        let c = load(
            None,
            &[
                "stream.midstream=true".into(),
                "capture.checksum_validation=false".into(),
                "flow.max_flows=10".into(),
                "vars.address_groups.HOME_NET=[10.46.0.0/16]".into(),
            ],
        )
        .unwrap();
        assert!(c.stream.midstream);
        assert_eq!(c.flow.max_flows, 10);
        assert_eq!(c.capture.checksum_validation, gatewatch_sensor::config::ChecksumMode::No);
        assert_eq!(c.vars.address_groups["HOME_NET"], "[10.46.0.0/16]");
    }

    #[test]
    fn errors_name_the_key() {
        let e = load(None, &["flow.max_flow=10".into()]).unwrap_err().to_string();
        assert!(e.contains("flow.max_flow") || e.contains("max_flow"), "{e}");
        let e = load(None, &["flow.max_flows=many".into()]).unwrap_err().to_string();
        assert!(e.contains("flow.max_flows"), "{e}");
        let e = load(None, &["capture.checksum_validation=maybe".into()]).unwrap_err().to_string();
        assert!(e.contains("capture.checksum_validation") && e.contains("maybe"), "{e}");
        assert!(load(None, &["nokey".into()]).is_err());
    }

    #[test]
    fn unset_options_are_listed() {
        let text = default_toml();
        let (_, list) = text.split_once(UNSET_HEADER).expect("the unset keys are listed");
        assert!(list.lines().any(|l| l.trim() == "#   elasticsearch.password_file"), "{list}");
    }

    #[test]
    fn default_round_trips() {
        let t: toml::Table = toml::from_str(&default_toml()).unwrap();
        assert_eq!(from_table(t, "x").unwrap(), Config::default());
    }
}
