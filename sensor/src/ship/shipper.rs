//! The running shipper: the spool the pipeline's records go to, and the thread that
//! sends its sealed segments to the correlator. Started before the capture, finished
//! after it (the last records sealed and given a few seconds to leave).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::client::{self, ShipConfig, ShipStats};
use super::spool::{Spool, SpoolConfig, SpoolStats};
use super::SpoolSink;

/// Why the shipper could not start, or ended with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShipError {
    /// The TLS set-up (certificates, key, CA) is unusable: said at start, not in the
    /// shipping thread.
    #[error("ship: TLS set-up: {0}")]
    Tls(io::Error),
    /// The spool folder could not be opened.
    #[error("cannot open the spool: {0}")]
    Spool(io::Error),
    /// The last records could not be sealed.
    #[error("spool: seal: {0}")]
    Seal(io::Error),
    /// The shipping thread could not start.
    #[error("cannot start the shipper: {0}")]
    Thread(io::Error),
    /// The shipping thread panicked.
    #[error("the shipper panicked")]
    Panicked,
    /// Shipping failed (the records stay in the spool for the next start); what was
    /// shipped before is in `summary`.
    #[error("shipping: {source} ({summary})")]
    Send {
        /// Why it failed.
        source: io::Error,
        /// What was done before.
        summary: Box<ShipSummary>,
    },
}

/// What the shipper did, for the log line at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShipSummary {
    /// The shipper's counters.
    pub ship: ShipStats,
    /// The spool's counters.
    pub spool: SpoolStats,
    /// Sealed segments still waiting (sent at the next start).
    pub waiting: usize,
}

impl std::fmt::Display for ShipSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (st, sp) = (&self.ship, &self.spool);
        write!(
            f,
            "shipped {} findings in {} batches, {} bytes ({} duplicates, {} failed attempts); \
             spool: {} records in, {} dropped full, {} segments waiting",
            st.records_sent,
            st.batches_sent,
            st.bytes_sent,
            st.duplicates,
            st.failures,
            sp.appended,
            sp.dropped_full,
            self.waiting
        )
    }
}

/// The spool and the thread sending it.
pub struct Shipper {
    thread: JoinHandle<io::Result<()>>,
    spool: Arc<Mutex<Spool>>,
    stats: Arc<Mutex<ShipStats>>,
    stop: Arc<AtomicBool>,
    flows: bool,
}

impl Shipper {
    /// Opens the spool of `sensor` and starts sending it as `ship` says. The TLS
    /// configuration is checked here, so a bad certificate stops the start.
    pub fn start(
        ship: &ShipConfig,
        spool: SpoolConfig,
        sensor: &str,
    ) -> Result<Shipper, ShipError> {
        client::client_tls(ship).map_err(ShipError::Tls)?;
        let spool = Arc::new(Mutex::new(Spool::open(spool, sensor).map_err(ShipError::Spool)?));
        // The shipper has its own stop: it goes on a little after the capture ends.
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(ShipStats::default()));
        let (cfg, spool_t, stats_t, stop_t) =
            (ship.clone(), spool.clone(), stats.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("shipper".into())
            .spawn(move || {
                let _span = tracing::info_span!("ship", correlator = %cfg.url).entered();
                client::run(&cfg, &spool_t, &stats_t, &stop_t)
            })
            .map_err(ShipError::Thread)?;
        Ok(Shipper { thread, spool, stats, stop, flows: ship.flows })
    }

    /// A sink the pipeline writes its records to (flow records too when `ship.flows`).
    pub fn sink(&self) -> SpoolSink {
        SpoolSink::new(self.spool.clone(), self.flows)
    }

    /// The counters as `{"spool": …, "ship": …}`, read each time the returned function is
    /// called (for a metrics page that outlives this borrow).
    pub fn counters_handle(&self) -> impl Fn() -> serde_json::Value + Send + 'static {
        let (spool, stats) = (self.spool.clone(), self.stats.clone());
        move || {
            let sp = spool.lock().map(|s| s.stats).unwrap_or_default();
            let st = stats.lock().map(|s| *s).unwrap_or_default();
            serde_json::json!({"spool": sp, "ship": st})
        }
    }

    fn lock(&self) -> MutexGuard<'_, Spool> {
        self.spool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Seals the last records and gives the shipper up to `grace` to send what waits;
    /// what it did not send stays in the spool for the next start.
    pub fn finish(self, grace: Duration) -> Result<ShipSummary, ShipError> {
        self.lock().seal().map_err(ShipError::Seal)?;
        let deadline = Instant::now() + grace;
        while self.lock().pending_segments() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop.store(true, Ordering::SeqCst);
        let Shipper { thread, spool, stats, .. } = self;
        let sent = thread.join().map_err(|_| ShipError::Panicked)?;
        let sp = spool.lock().unwrap_or_else(|p| p.into_inner());
        let summary = ShipSummary {
            ship: *stats.lock().unwrap_or_else(|p| p.into_inner()),
            spool: sp.stats,
            waiting: sp.pending_segments(),
        };
        sent.map_err(|source| ShipError::Send { source, summary: Box::new(summary) })?;
        Ok(summary)
    }
}
