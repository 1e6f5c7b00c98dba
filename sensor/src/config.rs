//! Sensor configuration sections. Every field has a working default; unknown keys are
//! errors that name the key.

use std::collections::BTreeMap;
use std::path::PathBuf;

use gatewatch_rules::engine::BulkMatcher;
use gatewatch_rules::signature::Vars;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::decode::defrag::DefragConfig;
pub use crate::flow::FlowConfig;

/// Checksum validation of IPv4, TCP, UDP and ICMP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ChecksumMode {
    /// Packets with a bad checksum are counted and not inspected.
    Yes,
    /// Checksums are not looked at (captures from hosts with checksum offloading).
    No,
    /// Like Suricata's `auto`: the first 1,000 packets are inspected whatever their
    /// checksums; if more than 10% of them were bad, validation stays off, else it is on.
    #[default]
    Auto,
}

impl<'de> Deserialize<'de> for ChecksumMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            B(bool),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::B(true) => Ok(ChecksumMode::Yes),
            Raw::B(false) => Ok(ChecksumMode::No),
            Raw::S(s) => match s.as_str() {
                "yes" | "true" => Ok(ChecksumMode::Yes),
                "no" | "false" | "none" => Ok(ChecksumMode::No),
                "auto" => Ok(ChecksumMode::Auto),
                other => Err(serde::de::Error::custom(format!(
                    "invalid checksum_validation `{other}`: expected true, false or \"auto\""
                ))),
            },
        }
    }
}

impl Serialize for ChecksumMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ChecksumMode::Yes => s.serialize_bool(true),
            ChecksumMode::No => s.serialize_bool(false),
            ChecksumMode::Auto => s.serialize_str("auto"),
        }
    }
}

/// `[capture]`: how packets are taken in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    /// `true`, `false` or `"auto"` (default).
    pub checksum_validation: ChecksumMode,
    /// Pipeline threads; packets reach them by a symmetric flow hash. 1 (the default)
    /// keeps every record in capture order.
    pub workers: usize,
}

/// `[stream]`: TCP tracking and reassembly.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StreamConfig {
    /// Pick up TCP sessions whose handshake was not seen (they count as established).
    pub midstream: bool,
    /// Bytes of each direction of a TCP session reassembled for the application layer.
    pub depth: u64,
    /// Memory all reassembly buffers of a worker may hold.
    pub memcap: usize,
    /// Out-of-order bytes held per direction before the missing bytes are given up on.
    pub max_pending: usize,
    /// Memory the application-layer state of a worker's sessions may hold (pending
    /// transactions, headers, partial messages, decoder tables). A session whose
    /// parser would pass it is no longer parsed (`app_layer.memcap`, counted).
    pub app_memcap: usize,
    /// HTTP/1 transactions of one connection waiting for their response (Suricata's
    /// `max-tx`); a request beyond them ends HTTP parsing of the connection
    /// (`http.too_many_transactions`).
    pub http_max_tx: usize,
    /// HTTP bodies kept for inspection (`http.request_body`, `file.data`), counted
    /// after content decoding.
    pub http_body_limit: usize,
    /// Bytes of each file of SMB, FTP and SMTP that `file.data` inspects (Suricata's
    /// `content-limit`); the whole file is still hashed.
    pub file_data_limit: usize,
    /// Inspect each direction's bytes as they arrive (Suricata's `stream.inline`). Off,
    /// as Suricata in IDS mode: bytes reach the parsers and stream inspection once the
    /// other side acknowledged them (or the flow ends, or a direction nobody answers
    /// holds more than `max_pending` bytes), so data the receiver never got is not taken
    /// for what it received.
    pub inline: bool,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            midstream: false,
            depth: 1024 * 1024,
            memcap: 256 * 1024 * 1024,
            max_pending: 256 * 1024,
            app_memcap: 256 * 1024 * 1024,
            http_max_tx: 512,
            http_body_limit: 100 * 1024,
            file_data_limit: crate::app::files::DEFAULT_INSPECT_LIMIT,
            inline: false,
        }
    }
}

/// `[detect]`: signature rules and their limits.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// Rule files loaded by `gatewatch run` (replay takes `--rules`).
    pub rule_files: Vec<PathBuf>,
    /// Entries of the host threshold table (by_src, by_dst, by_rule).
    pub threshold_entries: usize,
    /// Rule profiling: when set, every rule check and prefilter scan is counted and
    /// timed, and the profile (rules and buffers sorted by time spent) is written to
    /// this file when the sensor stops. Costs two clock reads per rule checked.
    pub profile_rules: Option<PathBuf>,
    /// The multi-pattern matcher of payloads, streams and bodies: `auto` (Hyperscan
    /// when the build has it), `hashed` (pure Rust) or `hyperscan`.
    pub matcher: MatcherChoice,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            rule_files: Vec::new(),
            threshold_entries: 65_536,
            profile_rules: None,
            matcher: MatcherChoice::Auto,
        }
    }
}

/// `detect.matcher`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MatcherChoice {
    /// Hyperscan when the build has it, else the hashed matcher (the default).
    #[default]
    Auto,
    /// The built-in hashed multi-pattern matcher.
    Hashed,
    /// Hyperscan (builds with the `hyperscan` feature); refused otherwise.
    Hyperscan,
}

/// `detect.matcher = "hyperscan"` in a build without Hyperscan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "detect.matcher = \"hyperscan\", but this build has no Hyperscan: build with \
     `--features hyperscan` (needs libhyperscan-dev), or use \"auto\""
)]
pub struct NoHyperscan;

impl MatcherChoice {
    /// The matcher to build rule sets with, or why this build cannot.
    pub fn resolve(self) -> Result<BulkMatcher, NoHyperscan> {
        match self {
            MatcherChoice::Auto => Ok(BulkMatcher::BEST),
            MatcherChoice::Hashed => Ok(BulkMatcher::Hashed),
            MatcherChoice::Hyperscan if BulkMatcher::Hyperscan.available() => {
                Ok(BulkMatcher::Hyperscan)
            }
            MatcherChoice::Hyperscan => Err(NoHyperscan),
        }
    }
}

/// Rule variables; entries replace Suricata's defaults of the same name.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VarsConfig {
    /// e.g. `HOME_NET = "[10.0.0.0/8,172.16.0.0/12]"`
    pub address_groups: BTreeMap<String, String>,
    /// e.g. `HTTP_PORTS = "[80,8080]"`
    pub port_groups: BTreeMap<String, String>,
}

impl VarsConfig {
    /// The rule variables (`$HOME_NET`, `$HTTP_PORTS`) these groups define.
    pub fn to_vars(&self) -> Vars {
        let mut v = Vars::default();
        for (k, val) in &self.address_groups {
            v.addresses.insert(k.clone(), val.clone());
        }
        for (k, val) in &self.port_groups {
            v.ports.insert(k.clone(), val.clone());
        }
        v
    }
}

/// `[eve]`: which EVE event types are written.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EveConfig {
    /// Write `flow` records.
    pub flow: bool,
    /// Write `dns` records (one per DNS message).
    pub dns: bool,
    /// Write `http` records (one per transaction).
    pub http: bool,
    /// Write `fileinfo` records (one per file seen in HTTP).
    pub fileinfo: bool,
    /// Write `tls` records (one per session, after the handshake).
    pub tls: bool,
    /// Write `ssh` records (one per session, with both banners).
    pub ssh: bool,
    /// Write `smtp` records (one per mail: envelope and `email` headers, attachments).
    pub smtp: bool,
    /// Write a `stats` record at the end of a replay.
    pub stats: bool,
    /// Written as `host` in every record; default: none.
    pub sensor_name: Option<String>,
    /// Add the packet's payload to its alerts, as Suricata does with `payload: yes` and
    /// `payload-printable: yes`: `payload` (base64) and `payload_printable` (bytes that
    /// do not print as `.`), at most [`PAYLOAD_MAX`] bytes. Off by default (the payload
    /// of government traffic is kept only where the SOC's rules allow it).
    pub payload: bool,
    /// Add the flow's Community ID (version 1) to flow, alert and protocol records, as
    /// Suricata does with `community-id: true`, so that records of other tools (Zeek,
    /// Elastic) of the same flow can be joined. On by default.
    pub community_id: bool,
    /// The seed of the Community ID hash (Suricata's `community-id-seed`): 0 unless
    /// networks that reuse addresses must hash apart; every tool of the SOC must use the
    /// same.
    pub community_id_seed: u16,
    /// The live sensor's own rotation of its EVE file (`[eve.rotate]`: `max_bytes`,
    /// `interval_secs`, `keep`); off by default, as logrotate with `SIGHUP` does it.
    pub rotate: gatewatch_rules::logfile::Rotation,
    /// The interface the records of a live capture come from (EVE `in_iface`), set by
    /// the live sensor for each interface's workers; not a configuration key.
    #[serde(skip)]
    pub in_iface: Option<String>,
}

/// The most payload bytes an alert carries.
pub const PAYLOAD_MAX: usize = 4096;

impl Default for EveConfig {
    fn default() -> Self {
        EveConfig {
            flow: true,
            dns: true,
            http: true,
            fileinfo: true,
            tls: true,
            ssh: true,
            smtp: true,
            stats: true,
            sensor_name: None,
            payload: false,
            community_id: true,
            community_id_seed: 0,
            rotate: Default::default(),
            in_iface: None,
        }
    }
}

/// Extracted files (HTTP bodies) written to disk.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    /// Folder of stored files, named by sha256 (`ab/abcdef…`); none: nothing stored.
    pub store_dir: Option<PathBuf>,
    /// Bytes all stored files may take; when full, files are not stored (counted).
    pub store_max_bytes: u64,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig { store_dir: None, store_max_bytes: 1024 * 1024 * 1024 }
    }
}

/// YARA scanning of extracted files and of the first bytes of TCP streams.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct YaraConfig {
    /// Rule files and folders (`.yar`, `.yara`); none: YARA is off.
    pub rules: Vec<PathBuf>,
    /// Scan every extracted file (HTTP bodies, SMTP attachments).
    pub scan_files: bool,
    /// Bytes at the start of each TCP stream direction scanned as one chunk; 0: streams
    /// are not scanned. They accumulate within `stream.memcap`.
    pub stream_depth: usize,
    /// A scan that takes longer is abandoned (counted in `stats.yara.timeouts`).
    pub timeout_ms: u64,
    /// Bytes of one file scanned at most.
    pub max_scan_bytes: usize,
    /// For measurements only: every scanned buffer is also written here (`N.bin`), so
    /// that another scanner can be timed on exactly the same bytes
    /// (`benches/yara-vs-yr.sh`). Off by default.
    pub dump_dir: Option<PathBuf>,
}

impl Default for YaraConfig {
    fn default() -> Self {
        YaraConfig {
            rules: Vec::new(),
            scan_files: true,
            stream_depth: 64 * 1024,
            timeout_ms: 1000,
            max_scan_bytes: 16 * 1024 * 1024,
            dump_dir: None,
        }
    }
}

/// Indicator lists (IPs and networks, domains, URLs, JA3/JA4, file hashes).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IocConfig {
    /// List files and folders: plain text, CSV, MISP JSON exports.
    pub lists: Vec<PathBuf>,
}

/// Sigma rules: those whose logsource maps to network events (see
/// `rules/sigma/network.yml`) run in the sensor; host-log rules run in the correlator.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SigmaConfig {
    /// Rule files and folders (`.yml`, `.yaml`).
    pub rules: Vec<PathBuf>,
}

/// Everything the sensor pipeline needs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SensorConfig {
    /// `[capture]`.
    pub capture: CaptureConfig,
    /// `[stream]`.
    pub stream: StreamConfig,
    /// `[flow]`.
    pub flow: FlowConfig,
    /// `[defrag]`.
    pub defrag: DefragConfig,
    /// `[detect]`.
    pub detect: DetectConfig,
    /// `[vars]`.
    pub vars: VarsConfig,
    /// `[eve]`.
    pub eve: EveConfig,
    /// `[files]`: file extraction.
    pub files: FilesConfig,
    /// `[yara]`.
    pub yara: YaraConfig,
    /// `[ioc]`.
    pub ioc: IocConfig,
    /// `[sigma]`.
    pub sigma: SigmaConfig,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig { checksum_validation: ChecksumMode::default(), workers: 1 }
    }
}
