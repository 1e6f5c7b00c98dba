//! The shipper: sends sealed spool segments to the correlator over HTTPS with mutual
//! TLS (TLS 1.3, rustls), oldest first, and deletes a segment only when the correlator
//! answers that its records are stored. Failures back off exponentially with jitter;
//! the pipeline is never held up (it only appends to the spool).
//!
//! Wire format (`POST {url}/api/v1/findings`): one JSON object per line,
//! `{"id": "SENSOR:SEGMENT:INDEX", "record": <EVE record>}`. The answer
//! `200 {"stored": N, "duplicates": M}` acknowledges the whole batch. An answer that
//! would not change on a retry (a 4xx other than 408 and 429) moves the segment to the
//! spool's `dead-letter/` folder with the answer as its reason, counted, and shipping
//! goes on; records rejected in a stored batch are kept there too.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

use super::spool::{Batch, Spool};

/// `[ship]`: where findings go (the correlator over mutual TLS) and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShipConfig {
    /// The correlator, `https://HOST:PORT` (empty: findings stay in the spool).
    pub url: String,
    /// The CA that signed the correlator's certificate (PEM).
    pub ca: PathBuf,
    /// This sensor's certificate and key (PEM): its identity.
    pub cert: PathBuf,
    pub(crate) key: PathBuf,
    /// Seconds before a request is given up.
    pub timeout_secs: u64,
    /// First and longest wait between failed attempts, milliseconds.
    pub backoff_min_ms: u64,
    pub(crate) backoff_max_ms: u64,
    /// Also ship flow records (alerts and protocol records always are).
    pub flows: bool,
}

impl Default for ShipConfig {
    fn default() -> Self {
        ShipConfig {
            url: String::new(),
            ca: "pki/ca.crt".into(),
            cert: "pki/sensor.crt".into(),
            key: "pki/sensor.key".into(),
            timeout_secs: 30,
            backoff_min_ms: 200,
            backoff_max_ms: 30_000,
            flows: false,
        }
    }
}

/// Counters of the shipper.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShipStats {
    /// Batches the correlator accepted.
    pub batches_sent: u64,
    /// Records in them.
    pub records_sent: u64,
    /// Records the correlator already had (re-sent after a lost acknowledgement).
    pub duplicates: u64,
    /// Batches that failed (kept in the spool, sent again).
    pub failures: u64,
    /// Bytes of request bodies sent.
    pub bytes_sent: u64,
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("`{}`: {e}", path.display()))
}

/// The TLS client configuration: TLS 1.3, the correlator verified against `ca`, this
/// sensor's certificate presented.
pub fn client_tls(cfg: &ShipConfig) -> io::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&cfg.ca).map_err(|e| file_err(&cfg.ca, e))? {
        roots.add(c.map_err(|e| file_err(&cfg.ca, e))?).map_err(|e| file_err(&cfg.ca, e))?;
    }
    if roots.is_empty() {
        return Err(file_err(&cfg.ca, "no CA certificate in it"));
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cfg.cert)
        .map_err(|e| file_err(&cfg.cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err(&cfg.cert, e))?;
    let key = PrivateKeyDer::from_pem_file(&cfg.key).map_err(|e| file_err(&cfg.key, e))?;
    rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| file_err(&cfg.cert, format!("certificate and key: {e}")))
}

/// The request body of a batch.
pub fn batch_body(batch: &Batch) -> Vec<u8> {
    let mut body = Vec::with_capacity(batch.records.iter().map(|r| r.payload.len() + 64).sum());
    for r in &batch.records {
        body.extend_from_slice(b"{\"id\":");
        body.extend_from_slice(&serde_json::to_vec(&r.id).unwrap_or_default());
        body.extend_from_slice(b",\"record\":");
        body.extend_from_slice(&r.payload);
        body.extend_from_slice(b"}\n");
    }
    body
}

#[derive(Deserialize)]
struct Ack {
    stored: u64,
    duplicates: u64,
    /// Lines the correlator rejected (each named in `errors`, `line N: ...`).
    #[serde(default)]
    rejected: u64,
    #[serde(default)]
    errors: Vec<String>,
}

/// How a batch went.
enum Sent {
    Stored(Ack),
    /// Refused for good: the same batch would be refused again (a 4xx other than 408
    /// and 429). The segment goes to the dead-letter folder.
    Refused(String),
    /// Worth retrying (no connection, timeout, 5xx, 408, 429).
    Failed(String),
}

fn send(client: &reqwest::blocking::Client, url: &str, body: Vec<u8>) -> Sent {
    let r = match client.post(url).header("content-type", "application/x-ndjson").body(body).send()
    {
        Ok(r) => r,
        Err(e) => return Sent::Failed(error_chain(&e)),
    };
    let status = r.status();
    let text = match r.bytes() {
        Ok(b) => b,
        Err(e) => return Sent::Failed(error_chain(&e)),
    };
    if status.is_success() {
        return match serde_json::from_slice::<Ack>(&text) {
            Ok(ack) => Sent::Stored(ack),
            Err(e) => {
                Sent::Failed(format!("the correlator's answer is not an acknowledgement: {e}"))
            }
        };
    }
    let said = String::from_utf8_lossy(&text[..text.len().min(2048)]).into_owned();
    let what = format!("the correlator answered {status}: {said}");
    let retry = status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429;
    if retry {
        Sent::Failed(what)
    } else {
        Sent::Refused(what)
    }
}

/// The records an answer's errors name (`line N: ...`, N counting from 1).
fn named_lines<'a>(batch: &'a Batch, errors: &[String]) -> Vec<&'a super::spool::Spooled> {
    errors
        .iter()
        .filter_map(|e| e.strip_prefix("line ")?.split(':').next()?.parse::<usize>().ok())
        .filter_map(|n| batch.records.get(n.checked_sub(1)?))
        .collect()
}

/// A small xorshift for jitter (no need for a cryptographic generator).
struct Jitter(u64);

impl Jitter {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if below == 0 {
            0
        } else {
            self.0 % below
        }
    }
}

/// An error with its causes (reqwest's own message hides them).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn lock(s: &Mutex<Spool>) -> std::sync::MutexGuard<'_, Spool> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sends the spool's sealed segments until `stop` is set; returns the counters.
pub fn run(
    cfg: &ShipConfig,
    spool: &Mutex<Spool>,
    stats: &Mutex<ShipStats>,
    stop: &AtomicBool,
) -> io::Result<()> {
    let tls = client_tls(cfg)?;
    let client = reqwest::blocking::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(cfg.timeout_secs.max(1)))
        .build()
        .map_err(io::Error::other)?;
    let url = format!("{}/api/v1/findings", cfg.url.trim_end_matches('/'));
    let mut backoff = cfg.backoff_min_ms.max(1);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64 | 1);
    let mut jitter = Jitter(seed);
    while !stop.load(Ordering::Relaxed) {
        let batch = {
            let mut s = lock(spool);
            s.seal_if_due()?;
            s.oldest()?
        };
        let Some(batch) = batch else {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        if let Some(d) = &batch.damage {
            tracing::warn!("spool: {d}; the records before it are sent");
        }
        let n = batch.records.len() as u64;
        let body = if n == 0 { Vec::new() } else { batch_body(&batch) };
        let body_len = body.len() as u64;
        let sent = if n == 0 {
            Sent::Stored(Ack { stored: 0, duplicates: 0, rejected: 0, errors: Vec::new() })
        } else {
            send(&client, &url, body)
        };
        match sent {
            Sent::Refused(why) => {
                tracing::warn!(
                    "segment {} ({n} records) refused for good: {why}; kept in {}",
                    batch.segment,
                    lock(spool).dead_letter_dir().display()
                );
                lock(spool).dead_letter(batch.segment, n, &why)?;
                stats.lock().unwrap_or_else(|p| p.into_inner()).failures += 1;
                backoff = cfg.backoff_min_ms.max(1);
            }
            Sent::Stored(ack) => {
                if ack.rejected > 0 {
                    let named = named_lines(&batch, &ack.errors);
                    tracing::warn!(
                        "segment {}: the correlator rejected {} records; kept in {}",
                        batch.segment,
                        ack.rejected,
                        lock(spool).dead_letter_dir().display()
                    );
                    lock(spool).dead_letter_records(
                        batch.segment,
                        ack.rejected,
                        &named,
                        &ack.errors,
                    )?;
                }
                lock(spool).acknowledge(batch.segment, n)?;
                let mut st = stats.lock().unwrap_or_else(|p| p.into_inner());
                st.batches_sent += 1;
                st.records_sent += ack.stored;
                st.duplicates += ack.duplicates;
                st.bytes_sent += body_len;
                backoff = cfg.backoff_min_ms.max(1);
            }
            Sent::Failed(e) => {
                let failures = {
                    let mut st = stats.lock().unwrap_or_else(|p| p.into_inner());
                    st.failures += 1;
                    st.failures
                };
                // The first failure of a streak, then one in 100 (all are counted).
                if backoff == cfg.backoff_min_ms.max(1) || failures % 100 == 0 {
                    tracing::warn!("shipping to {url} failed: {e}; retrying with backoff");
                }
                // Full jitter: wait a random time up to the current backoff.
                let wait = backoff / 2 + jitter.next(backoff / 2 + 1);
                let until = std::time::Instant::now() + Duration::from_millis(wait);
                while std::time::Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                backoff = (backoff * 2).min(cfg.backoff_max_ms.max(1));
            }
        }
    }
    Ok(())
}
