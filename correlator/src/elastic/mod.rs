//! The Elasticsearch (and OpenSearch 2) sink: alerts and protocol records to data
//! streams with ECS fields, incidents to an index behind an alias, all from the
//! SQLite store.
//!
//! It talks to the REST API with `reqwest` (rustls) and serde, as Vector's sink does;
//! the official `elasticsearch` crate is only published as alphas and pulls OpenSSL.
//!
//! ```text
//!  SQLite ──(rows after the watermark)──▶ dispatcher ──bulk──▶ N senders ──▶ _bulk
//!    ▲                                       │  ▲                   │
//!    └──── watermark (when all before done) ─┘  └──── answers ──────┘
//! ```
//!
//! - The store is the buffer: while Elasticsearch is away, alerts, records and
//!   incident changes simply stay in SQLite and the watermark stays put; nothing is
//!   lost, and after a restart sending resumes at the watermark (`ledger`).
//! - Alerts and records are written with `create` and ids made of the store's id and
//!   the row id, so a document sent twice (an answer lost, a restart) is stored once.
//!   Incidents are written with `index` and the store's change number as an external
//!   version, so an older state arriving late never replaces a newer one.
//! - Bulk requests are sized by bytes, several in flight. A whole request that fails
//!   (connection refused, timeout, 429, 5xx, 401/403 until fixed) is retried with
//!   exponential backoff and jitter; a 413 or 400 is split in halves. Items are read
//!   one by one: 429 and 5xx items are retried; other 4xx items will never succeed and
//!   go to the dead letter file with the reason ([`bulk`]).
//! - At start it installs the lifecycle policy (ILM, or ISM on OpenSearch), the index
//!   templates and the incidents index with its alias ([`templates`]), and retries
//!   that until it works before sending any document.

pub mod bulk;
pub mod ecs;
mod error;
pub mod kibana;
pub(crate) mod ledger;
pub mod templates;

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::store::feed;
use crate::store::Store;
use bulk::{Answer, Doc, Item, Op, Stream};
use ledger::{Key, Ledger};
use templates::{Flavor, Names};

pub use error::SinkError;

/// `[elasticsearch]`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ElasticConfig {
    /// `https://es.soc.hue.gov.vn:9200`; empty: no sink. No credentials in it.
    pub url: String,
    /// Basic authentication: the user, and a file holding the password.
    pub username: String,
    /// The file holding the password (mode 0600).
    pub password_file: Option<PathBuf>,
    /// Or an API key (the base64 `id:key`), from a file.
    pub api_key_file: Option<PathBuf>,
    /// PEM of the CA that signed the cluster's certificate (else the system's roots).
    pub ca: Option<PathBuf>,
    /// `auto` (asks the cluster), `elasticsearch` or `opensearch`.
    pub flavor: String,
    /// Names of the incidents index, its alias and the lifecycle policy.
    pub index_prefix: String,
    /// Bulk request body size at most.
    pub bulk_max_bytes: usize,
    /// Bulk requests in flight.
    pub in_flight: usize,
    /// Seconds a bulk request may take.
    pub request_timeout_secs: u64,
    /// Backoff after a failure: from this, doubling, up to `retry_max_ms`, ±50% jitter.
    pub retry_initial_ms: u64,
    /// The longest backoff.
    pub retry_max_ms: u64,
    /// Documents that will never be accepted, with the reason (JSON lines).
    pub dead_letter: PathBuf,
    /// Rollover of the data streams' backing indices, and their deletion age.
    pub rollover_max_age: String,
    /// Days after which the backing indices are deleted.
    pub delete_after_days: u32,
    /// Documents read from the store and not yet acknowledged, at most.
    pub max_pending: usize,
}

impl Default for ElasticConfig {
    fn default() -> Self {
        ElasticConfig {
            url: String::new(),
            username: String::new(),
            password_file: None,
            api_key_file: None,
            ca: None,
            flavor: "auto".into(),
            index_prefix: "gatewatch".into(),
            bulk_max_bytes: 5 << 20,
            in_flight: 4,
            request_timeout_secs: 30,
            retry_initial_ms: 500,
            retry_max_ms: 60_000,
            dead_letter: PathBuf::from("gatewatch-data/elasticsearch-dead-letter.jsonl"),
            rollover_max_age: "1d".into(),
            delete_after_days: 180,
            max_pending: 50_000,
        }
    }
}

/// Counters of the sink.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SinkStats {
    pub(crate) flavor: Option<String>,
    /// The index templates and lifecycle policy are installed.
    pub installed: bool,
    /// Bulk requests sent.
    pub requests: u64,
    /// Bulk requests that failed as a whole (connection, 429, 5xx).
    pub request_failures: u64,
    /// Documents accepted.
    pub docs_sent: u64,
    pub(crate) docs_done: u64,
    /// Documents sent again after a per-item error that may pass.
    pub docs_retried: u64,
    /// Documents that will never be accepted (written to the dead-letter file).
    pub docs_dead: u64,
    pub(crate) splits: u64,
    /// Per stream: the watermark's first key.
    pub watermarks: HashMap<String, i64>,
    /// The last error, for the status page.
    pub last_error: Option<String>,
    /// Consecutive failures now (0 when Elasticsearch answers).
    pub failing_for: u32,
}

/// The running sink.
pub struct Sink {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Result<(), SinkError>>>,
    /// The counters, shared with the status page.
    pub stats: Arc<Mutex<SinkStats>>,
}

impl Sink {
    /// Starts the sink on the store at `store_path` (its own connection). Errors are
    /// configuration errors; an unreachable cluster is not one (it is retried).
    pub fn start(cfg: ElasticConfig, store_path: &Path) -> Result<Sink, SinkError> {
        let client = Client::new(&cfg)?;
        let store = Store::open(store_path)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(SinkStats::default()));
        let (s2, st2) = (stop.clone(), stats.clone());
        let thread = std::thread::Builder::new()
            .name("elasticsearch".into())
            .spawn(move || {
                let _span = tracing::info_span!("elasticsearch", url = %cfg.url).entered();
                Dispatcher::new(cfg, client, store, st2)?.run(&s2)
            })
            .map_err(|e| SinkError::Thread(e.to_string()))?;
        Ok(Sink { stop, thread: Some(thread), stats })
    }

    /// Stops after the requests in flight are answered (within the request
    /// timeout) and the watermarks are saved.
    pub fn stop(mut self) -> Result<SinkStats, SinkError> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().map_err(|_| SinkError::Thread("it panicked".into()))??;
        }
        Ok(self.stats.lock().map(|s| s.clone()).unwrap_or_default())
    }

    /// A copy of the counters now.
    pub fn snapshot(&self) -> SinkStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The HTTP side: one `reqwest` client (connection pool) shared by the senders.
#[derive(Clone)]
struct Client {
    http: reqwest::blocking::Client,
    base: String,
    auth: Auth,
}

/// How requests authenticate (secrets only here, never in logs).
#[derive(Clone)]
enum Auth {
    None,
    Basic(String, String),
    ApiKey(String),
}

impl Client {
    fn new(cfg: &ElasticConfig) -> Result<Client, SinkError> {
        let config = |key, message| SinkError::Config { key, message };
        let url = reqwest::Url::parse(&cfg.url)
            .map_err(|e| config("url", format!("`{}`: {e}", cfg.url)))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(config(
                "url",
                "put credentials in username/password_file or api_key_file, not in the URL".into(),
            ));
        }
        let mut b = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(cfg.request_timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(cfg.in_flight.max(1));
        if let Some(ca) = &cfg.ca {
            let pem =
                std::fs::read(ca).map_err(|e| config("ca", format!("`{}`: {e}", ca.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| config("ca", format!("`{}`: {e}", ca.display())))?;
            b = b.add_root_certificate(cert);
        }
        let secret = |p: &Path, key: &'static str| {
            std::fs::read_to_string(p)
                .map(|s| s.trim().to_string())
                .map_err(|e| config(key, format!("`{}`: {e}", p.display())))
        };
        let auth = match (&cfg.api_key_file, &cfg.password_file) {
            (Some(k), _) => Auth::ApiKey(secret(k, "api_key_file")?),
            (None, Some(p)) => Auth::Basic(cfg.username.clone(), secret(p, "password_file")?),
            (None, None) => Auth::None,
        };
        let http = b.build().map_err(|e| SinkError::Client(e.to_string()))?;
        Ok(Client { http, base: cfg.url.trim_end_matches('/').to_string(), auth })
    }

    /// One request; the status and body, or why there is none.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        ndjson: bool,
    ) -> Result<(u16, Vec<u8>), SinkError> {
        let failed = |message: String| SinkError::Request {
            method: method.to_string(),
            path: path.to_string(),
            message,
        };
        let url = format!("{}{path}", self.base);
        let m =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| failed(e.to_string()))?;
        let mut rq = self.http.request(m, &url);
        rq = match &self.auth {
            Auth::None => rq,
            Auth::Basic(u, p) => rq.basic_auth(u, Some(p)),
            Auth::ApiKey(k) => rq.header("authorization", format!("ApiKey {k}")),
        };
        if let Some(b) = body {
            let ct = if ndjson { "application/x-ndjson" } else { "application/json" };
            rq = rq.header("content-type", ct).body(b);
        }
        // reqwest's errors name the URL, never the headers (no secret in the logs).
        let r = rq.send().map_err(|e| failed(e.to_string()))?;
        let status = r.status().as_u16();
        let bytes = r.bytes().map_err(|e| failed(format!("reading the answer: {e}")))?;
        Ok((status, bytes.to_vec()))
    }
}

/// A bulk request handed to a sender.
struct Batch {
    docs: Vec<Doc>,
}

struct Dispatcher {
    cfg: ElasticConfig,
    client: Client,
    store: Store,
    store_id: String,
    names: Names,
    stats: Arc<Mutex<SinkStats>>,
    ledgers: HashMap<Stream, Ledger>,
    /// Read, not yet sent.
    ready: VecDeque<Doc>,
    /// Sent and failed: sent again first, after the backoff.
    retry: VecDeque<Doc>,
    in_flight: usize,
    failures: u32,
    gate: Instant,
    /// Streams that had nothing new at the last read.
    idle_until: Instant,
    dirty_marks: bool,
    marks_saved: Instant,
    /// Reopened on `SIGHUP` (logrotate), as every file a daemon writes.
    dead_letter: Option<gatewatch_rules::logfile::LogFile>,
}

fn jitter(d: Duration) -> Duration {
    // ±50%, from the clock's nanoseconds (no RNG dependency needed for spreading).
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.subsec_nanos());
    let f = 0.5 + (n % 1000) as f64 / 1000.0;
    d.mul_f64(f)
}

fn load_mark(store: &Store, stream: Stream) -> Result<Key, SinkError> {
    let at = feed::position(store.conn(), stream.state_key())?;
    Ok(at.unwrap_or((0, 0)))
}

impl Dispatcher {
    fn new(
        cfg: ElasticConfig,
        client: Client,
        store: Store,
        stats: Arc<Mutex<SinkStats>>,
    ) -> Result<Dispatcher, SinkError> {
        let store_id = feed::store_id(store.conn())?;
        let mut ledgers = HashMap::new();
        for s in Stream::ALL {
            ledgers.insert(s, Ledger::new(load_mark(&store, s)?));
        }
        let names = Names::new(&cfg.index_prefix);
        let now = Instant::now();
        Ok(Dispatcher {
            cfg,
            client,
            store,
            store_id,
            names,
            stats,
            ledgers,
            ready: VecDeque::new(),
            retry: VecDeque::new(),
            in_flight: 0,
            failures: 0,
            gate: now,
            idle_until: now,
            dirty_marks: false,
            marks_saved: now,
            dead_letter: None,
        })
    }

    fn stat(&self, f: impl FnOnce(&mut SinkStats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }

    fn backoff(&mut self, why: String) {
        self.failures = self.failures.saturating_add(1);
        let exp = self
            .cfg
            .retry_initial_ms
            .saturating_mul(1u64 << self.failures.min(20).saturating_sub(1));
        let wait = jitter(Duration::from_millis(exp.min(self.cfg.retry_max_ms).max(1)));
        self.gate = Instant::now() + wait;
        if self.failures <= 3 || self.failures.is_power_of_two() {
            tracing::warn!(
                failures = self.failures,
                "elasticsearch: {why} (failure {}; next try in {:.1} s)",
                self.failures,
                wait.as_secs_f64()
            );
        }
        let f = self.failures;
        self.stat(|s| {
            s.request_failures += 1;
            s.failing_for = f;
            s.last_error = Some(why);
        });
    }

    fn succeeded(&mut self) {
        if self.failures > 0 {
            tracing::info!("elasticsearch: answering again");
        }
        self.failures = 0;
        self.stat(|s| s.failing_for = 0);
    }

    /// Installs policy, templates and the incidents index; retries until it works.
    fn install(&mut self, stop: &AtomicBool) -> bool {
        while !stop.load(Ordering::Relaxed) {
            match self.try_install() {
                Ok(flavor) => {
                    self.succeeded();
                    let f = format!("{flavor:?}").to_ascii_lowercase();
                    self.stat(|s| {
                        s.installed = true;
                        s.flavor = Some(f);
                    });
                    return true;
                }
                Err(e) => {
                    self.backoff(format!("installing templates: {e}"));
                    while Instant::now() < self.gate && !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        }
        false
    }

    fn try_install(&self) -> Result<Flavor, SinkError> {
        let flavor = match self.cfg.flavor.as_str() {
            "elasticsearch" => Flavor::Elasticsearch,
            "opensearch" => Flavor::OpenSearch,
            _ => {
                let (st, body) = self.client.call("GET", "/", None, false)?;
                if st != 200 {
                    return Err(SinkError::status("GET", "/", st, &[]));
                }
                let v: serde_json::Value =
                    serde_json::from_slice(&body).map_err(|e| SinkError::Answer {
                        method: "GET".into(),
                        path: "/".into(),
                        message: e.to_string(),
                    })?;
                if v["version"]["distribution"] == "opensearch" {
                    Flavor::OpenSearch
                } else {
                    Flavor::Elasticsearch
                }
            }
        };
        let reqs = templates::install_requests(
            flavor,
            &self.names,
            &self.cfg.rollover_max_age,
            self.cfg.delete_after_days,
        );
        for (method, path, body) in reqs {
            let (st, answer) =
                self.client.call(method, &path, Some(body.to_string().into_bytes()), false)?;
            if !(200..300).contains(&st) {
                return Err(SinkError::status(method, &path, st, &answer));
            }
        }
        let alias = format!("/_alias/{}", self.names.incidents_alias);
        let (st, _) = self.client.call("GET", &alias, None, false)?;
        if st == 404 {
            let path = format!("/{}", self.names.incidents_first_index);
            let body = templates::incidents_index_body(&self.names).to_string().into_bytes();
            let (st, answer) = self.client.call("PUT", &path, Some(body), false)?;
            let exists =
                String::from_utf8_lossy(&answer).contains("resource_already_exists_exception");
            if !(200..300).contains(&st) && !exists {
                return Err(SinkError::status("PUT", &path, st, &[]));
            }
        } else if !(200..300).contains(&st) {
            return Err(SinkError::status("GET", &alias, st, &[]));
        }
        Ok(flavor)
    }

    fn pending(&self) -> usize {
        self.ledgers.values().map(Ledger::pending).sum()
    }

    /// Reads the next rows of every stream into `ready`.
    fn read_more(&mut self) -> Result<usize, SinkError> {
        let room = self.cfg.max_pending.saturating_sub(self.pending());
        if room == 0 {
            return Ok(0);
        }
        let per = (room / 3).clamp(1, 5_000) as i64;
        let mut n = 0;
        for stream in Stream::ALL {
            let after = self.ledgers.get(&stream).map_or((0, 0), Ledger::read_cursor);
            let docs = self.read_stream(stream, after, per)?;
            for d in docs {
                if let Some(l) = self.ledgers.get_mut(&stream) {
                    l.read(d.key)?;
                }
                self.ready.push_back(d);
                n += 1;
            }
        }
        Ok(n)
    }

    fn read_stream(
        &self,
        stream: Stream,
        after: Key,
        limit: i64,
    ) -> Result<Vec<Doc>, rusqlite::Error> {
        let conn = self.store.conn();
        let limit = limit.max(0) as usize;
        let mut out = Vec::new();
        match stream {
            Stream::Alerts => {
                for a in feed::alerts_after(conn, after.0, limit)? {
                    let doc_id = format!("{}-a{}", self.store_id, a.alert.id);
                    out.push(Doc {
                        stream,
                        key: (a.alert.id, 0),
                        index: self.names.alerts_stream.clone(),
                        source: ecs::alert(&a, &doc_id).to_string(),
                        id: doc_id,
                        op: Op::Create,
                        attempts: 0,
                    });
                }
            }
            Stream::Records => {
                for r in feed::records_after(conn, after.0, limit)? {
                    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
                    let doc_id = format!("{}-r{}", self.store_id, r.id);
                    out.push(Doc {
                        stream,
                        key: (r.id, 0),
                        index: Names::record_stream(&r.event_type),
                        source: ecs::record(&r.event_type, r.ts_us, &body, &doc_id).to_string(),
                        id: doc_id,
                        op: Op::Create,
                        attempts: 0,
                    });
                }
            }
            Stream::Incidents => {
                for (seq, id) in feed::incidents_changed(conn, after, limit)? {
                    let Ok(Some(row)) = self.store.get_incident(id) else { continue };
                    out.push(Doc {
                        stream,
                        key: (seq, id),
                        index: self.names.incidents_alias.clone(),
                        id: format!("{}-i{id}", self.store_id),
                        op: Op::Index { version: seq.max(row.version) },
                        source: ecs::incident(&row).to_string(),
                        attempts: 0,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The next batch: retries first (once the backoff allows), then new documents.
    fn next_batch(&mut self) -> Vec<Doc> {
        let mut docs = Vec::new();
        let mut bytes = 0;
        let source = if !self.retry.is_empty() { &mut self.retry } else { &mut self.ready };
        while let Some(d) = source.front() {
            if !docs.is_empty() && bytes + d.size() > self.cfg.bulk_max_bytes {
                break;
            }
            bytes += d.size();
            if let Some(d) = source.pop_front() {
                docs.push(d);
            }
        }
        docs
    }

    fn done(&mut self, d: &Doc) {
        if let Some(l) = self.ledgers.get_mut(&d.stream) {
            if l.done(d.key).is_some() {
                self.dirty_marks = true;
            }
        }
    }

    fn dead(&mut self, d: &Doc, status: u16, reason: &str) {
        let line = serde_json::json!({
            "at": ecs::timestamp(chrono::Utc::now().timestamp_micros()),
            "index": d.index, "id": d.id, "status": status, "reason": reason,
            "source": serde_json::from_str::<serde_json::Value>(&d.source).unwrap_or_default(),
        });
        let written = (|| -> std::io::Result<()> {
            if self.dead_letter.is_none() {
                if let Some(dir) =
                    self.cfg.dead_letter.parent().filter(|p| !p.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir)?;
                }
                self.dead_letter = Some(gatewatch_rules::logfile::LogFile::open(
                    &self.cfg.dead_letter,
                    Default::default(),
                )?);
            }
            let f = self.dead_letter.as_mut().ok_or_else(|| std::io::Error::other("no file"))?;
            writeln!(f, "{line}")?;
            f.flush()
        })();
        match written {
            Ok(()) => {
                tracing::warn!(
                    "elasticsearch refused {} ({status} {reason}): written to `{}`",
                    d.id,
                    self.cfg.dead_letter.display()
                );
                self.stat(|s| s.docs_dead += 1);
                self.done(d);
            }
            Err(e) => {
                // Not written anywhere: keep it (sent again later) rather than lose it.
                tracing::error!(
                    "elasticsearch: cannot write the dead letter file `{}`: {e}",
                    self.cfg.dead_letter.display()
                );
                self.retry.push_back(d.clone());
            }
        }
    }

    fn handle(&mut self, docs: Vec<Doc>, result: Result<(u16, Vec<u8>), SinkError>) {
        self.in_flight -= 1;
        let answer = match result {
            Ok((status, body)) => bulk::answer(status, &body, docs.len()),
            Err(e) => Answer::RetryAll(e.to_string()),
        };
        match answer {
            Answer::RetryAll(why) => {
                let n = docs.len() as u64;
                self.stat(|s| s.docs_retried += n);
                for mut d in docs.into_iter().rev() {
                    d.attempts += 1;
                    self.retry.push_front(d);
                }
                self.backoff(why);
            }
            Answer::Split(why) => {
                if docs.len() == 1 {
                    if let Some(d) = docs.first() {
                        self.dead(d, 400, &why);
                    }
                } else {
                    self.stat(|s| s.splits += 1);
                    let mut docs = docs;
                    let second = docs.split_off(docs.len() / 2);
                    // Halves go first, separately: cap the next batch at the half's size.
                    for d in second.into_iter().rev().chain(docs.into_iter().rev()) {
                        self.retry.push_front(d);
                    }
                    self.cfg.bulk_max_bytes = (self.cfg.bulk_max_bytes / 2).max(64 * 1024);
                }
            }
            Answer::Items(items) => {
                let mut retry_reason = None;
                let mut done = 0u64;
                for (d, item) in docs.into_iter().zip(items) {
                    match item {
                        Item::Done => {
                            done += 1;
                            self.done(&d);
                        }
                        Item::Retry(why) => {
                            retry_reason.get_or_insert(why);
                            let mut d = d;
                            d.attempts += 1;
                            self.retry.push_back(d);
                            self.stat(|s| s.docs_retried += 1);
                        }
                        Item::Dead { status, reason } => self.dead(&d, status, &reason),
                    }
                }
                self.stat(|s| s.docs_done += done);
                match retry_reason {
                    Some(why) => self.backoff(format!("some documents refused for now: {why}")),
                    None => self.succeeded(),
                }
            }
        }
    }

    fn save_marks(&mut self) -> Result<(), SinkError> {
        if !self.dirty_marks {
            return Ok(());
        }
        let marks: Vec<(Stream, Key)> =
            self.ledgers.iter().map(|(s, l)| (*s, l.watermark())).collect();
        let tx = self.store.transaction()?;
        for (s, at) in &marks {
            feed::save_position(&tx, s.state_key(), *at)?;
        }
        tx.commit()?;
        self.dirty_marks = false;
        self.marks_saved = Instant::now();
        self.stat(|st| {
            for (s, k) in &marks {
                st.watermarks.insert(s.state_key().to_string(), k.0);
            }
        });
        Ok(())
    }

    fn run(mut self, stop: &AtomicBool) -> Result<(), SinkError> {
        if !self.install(stop) {
            return Ok(());
        }
        let (work_tx, work_rx) = mpsc::channel::<Batch>();
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, done_rx) = mpsc::channel::<(Vec<Doc>, Result<(u16, Vec<u8>), SinkError>)>();
        let mut senders = Vec::new();
        for i in 0..self.cfg.in_flight.max(1) {
            let (rx, tx, client) = (work_rx.clone(), done_tx.clone(), self.client.clone());
            let h = std::thread::Builder::new()
                .name(format!("elasticsearch-{i}"))
                .spawn(move || loop {
                    let batch = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    let Ok(batch) = batch else { return };
                    let result = client.call("POST", "/_bulk", Some(bulk::body(&batch.docs)), true);
                    if tx.send((batch.docs, result)).is_err() {
                        return;
                    }
                })
                .map_err(|e| SinkError::Thread(e.to_string()))?;
            senders.push(h);
        }
        drop(done_tx);
        let mut stopping_since: Option<Instant> = None;
        loop {
            if stop.load(Ordering::Relaxed) && stopping_since.is_none() {
                stopping_since = Some(Instant::now());
            }
            if let Some(t) = stopping_since {
                let grace = Duration::from_secs(self.cfg.request_timeout_secs.max(1) + 2);
                if self.in_flight == 0 || t.elapsed() > grace {
                    break;
                }
            }
            // Fill the pipe.
            while stopping_since.is_none() && self.in_flight < self.cfg.in_flight.max(1) {
                let now = Instant::now();
                if now < self.gate {
                    break;
                }
                if self.ready.is_empty() && self.retry.is_empty() && now >= self.idle_until {
                    match self.read_more() {
                        Ok(0) => self.idle_until = now + Duration::from_millis(200),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!("elasticsearch: {e}");
                            self.idle_until = now + Duration::from_secs(1);
                        }
                    }
                }
                let docs = self.next_batch();
                if docs.is_empty() {
                    break;
                }
                let n = docs.len() as u64;
                self.stat(|s| {
                    s.requests += 1;
                    s.docs_sent += n;
                });
                self.in_flight += 1;
                if work_tx.send(Batch { docs }).is_err() {
                    return Err(SinkError::Thread("the senders ended".into()));
                }
            }
            match done_rx.recv_timeout(Duration::from_millis(50)) {
                Ok((docs, result)) => self.handle(docs, result),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if self.dirty_marks && self.marks_saved.elapsed() > Duration::from_millis(500) {
                if let Err(e) = self.save_marks() {
                    tracing::warn!("elasticsearch: saving the watermarks: {e}");
                }
            }
        }
        drop(work_tx);
        self.save_marks()?;
        for h in senders {
            let _ = h.join();
        }
        Ok(())
    }
}
