//! Correlator configuration sections.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[correlator]`: incident building (windows, correlation rules, assets, retention).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CorrelatorConfig {
    /// An incident takes the alerts of its entity while each comes within this many
    /// seconds of the previous one (its window closes after this much inactivity).
    pub incident_window_secs: u32,
    /// … and while its first alert is at most this many seconds old (a week).
    pub incident_max_span_secs: u64,
    /// Alerts written to SQLite per transaction.
    pub batch_size: usize,
    /// The asset inventory (`.toml` or `.csv`; see `incident::assets`). Unset: every
    /// address is unknown internal (RFC 1918 and the like) or external.
    pub assets: Option<PathBuf>,
    /// Run the shipped correlation rules (`correlator/correlation/builtin.yml`).
    pub correlation_builtin: bool,
    /// More correlation rules over alerts: Sigma files or folders.
    pub correlation_rules: Vec<PathBuf>,
    /// Correlation windows kept at most (across rules and groups).
    pub correlation_max_windows: usize,
    /// Alerts older than this many days are deleted, with closed incidents last active
    /// before then; 0 keeps everything.
    pub retention_days: u32,
    /// Protocol records (EVE event types) kept as evidence and for Elasticsearch.
    pub record_types: Vec<String>,
    /// Protocol records are kept this many days (at most `retention_days`); sensors'
    /// heartbeats (`stats`) are kept `retention_days`, for the monthly report.
    pub records_retention_days: u32,
}

impl Default for CorrelatorConfig {
    fn default() -> Self {
        CorrelatorConfig {
            incident_window_secs: 3600,
            incident_max_span_secs: 7 * 86_400,
            batch_size: 512,
            assets: None,
            correlation_builtin: true,
            correlation_rules: Vec::new(),
            correlation_max_windows: 100_000,
            retention_days: 180,
            record_types: [
                "dns", "http", "tls", "fileinfo", "smtp", "ssh", "flow", "anomaly", "stats",
            ]
            .map(String::from)
            .to_vec(),
            records_retention_days: 14,
        }
    }
}

/// `[store]`: the SQLite file.
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

/// The correlator's listeners for host logs (and, later, sensors).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// HTTPS API (`POST /api/v1/logs`), `address:port`; empty: off. Mutual TLS: a
    /// client must present a certificate signed by `client_ca`.
    pub https: String,
    /// PEM files: the server's certificate chain and key, and the CA of the clients.
    pub tls_cert: PathBuf,
    /// Its private key (PEM, mode 0600).
    pub tls_key: PathBuf,
    pub(crate) client_ca: PathBuf,
    /// Syslog over UDP and over TCP (RFC 5424/3164; TCP framed per RFC 6587),
    /// `address:port`; empty: off.
    pub syslog_udp: String,
    pub(crate) syslog_tcp: String,
    /// Networks allowed to send syslog (CIDR); empty: any. Others are counted and
    /// dropped.
    pub syslog_allow: Vec<String>,
    /// Largest syslog message (longer ones are cut and counted).
    pub max_message_bytes: usize,
    /// Largest HTTPS request body.
    pub max_body_bytes: usize,
    /// Events waiting for detection; when full, UDP messages are dropped (counted) and
    /// TCP and HTTPS senders wait.
    pub queue_events: usize,
    /// Open syslog TCP connections at most.
    pub max_tcp_connections: usize,
    /// Open syslog TCP connections from one address at most (more are refused,
    /// counted), so that one host cannot take every slot.
    pub max_tcp_connections_per_address: usize,
    /// A syslog TCP or HTTPS connection that sends nothing this long is closed.
    pub idle_timeout_secs: u64,
    /// An HTTPS request body must arrive whole within this many seconds (`408`).
    pub body_timeout_secs: u64,
    /// HTTPS requests with a body processed at once, at most; beyond, `503` with
    /// `Retry-After`.
    pub max_concurrent_requests: usize,
    /// … and from one address at most; beyond, `429` with `Retry-After`.
    pub max_requests_per_address: usize,
    /// Bytes of request bodies held at once (each body counts its `Content-Length`, or
    /// `max_body_bytes` when it has none); beyond, `503` with `Retry-After`. Processing
    /// a body of JSON costs about ten times its size.
    pub max_inflight_bytes: usize,
    /// The kernel's receive buffer of the syslog UDP socket (what absorbs a burst while
    /// detection is busy); the kernel's own drops on that socket are in `stats`.
    pub udp_receive_buffer_bytes: usize,
    /// Zone of event times written without one (BSD syslog, nxlog's `EventTime`).
    pub local_utc_offset: String,
    /// Sigma correlation windows kept at most (across rules and groups).
    pub correlation_max_windows: usize,
    /// A sensor without a heartbeat (shipped `stats` record) this long is down.
    pub sensor_down_secs: u64,
    /// Suricata `eve.json` files to tail (rotation-safe; the position is remembered
    /// in the store across restarts).
    pub eve_files: Vec<PathBuf>,
    /// How often a tailed file that had nothing new is read again.
    pub eve_poll_ms: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            https: String::new(),
            tls_cert: PathBuf::from("gatewatch-data/pki/correlator.crt"),
            tls_key: PathBuf::from("gatewatch-data/pki/correlator.key"),
            client_ca: PathBuf::from("gatewatch-data/pki/ca.crt"),
            syslog_udp: String::new(),
            syslog_tcp: String::new(),
            syslog_allow: Vec::new(),
            max_message_bytes: 64 * 1024,
            max_body_bytes: 32 << 20,
            queue_events: 65_536,
            max_tcp_connections: 512,
            max_tcp_connections_per_address: 16,
            idle_timeout_secs: 120,
            body_timeout_secs: 60,
            max_concurrent_requests: 64,
            max_requests_per_address: 8,
            max_inflight_bytes: 96 << 20,
            udp_receive_buffer_bytes: 8 << 20,
            local_utc_offset: "+07:00".into(),
            correlation_max_windows: 100_000,
            sensor_down_secs: 180,
            eve_files: Vec::new(),
            eve_poll_ms: 200,
        }
    }
}

/// `ingest.local_utc_offset` is not `+HH:MM` or `-HH:MM` (at most ±14:59).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("ingest.local_utc_offset `{0}`: expected +HH:MM or -HH:MM")]
pub struct OffsetError(pub String);

impl IngestConfig {
    /// `local_utc_offset` as an offset.
    pub fn local_offset(&self) -> Result<chrono::FixedOffset, OffsetError> {
        let s = self.local_utc_offset.trim();
        let bad = || OffsetError(s.to_string());
        let (sign, rest) = match s.as_bytes().first() {
            Some(b'+') => (1, &s[1..]),
            Some(b'-') => (-1, &s[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = rest.split_once(':').ok_or_else(bad)?;
        let h: i32 = h.parse().map_err(|_| bad())?;
        let m: i32 = m.parse().map_err(|_| bad())?;
        if h > 14 || m > 59 {
            return Err(bad());
        }
        chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(bad)
    }
}
