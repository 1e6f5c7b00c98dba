//! The responder as a service: its own thread and connection to the store, a step every
//! interval until stopped.

use std::sync::Arc;

use super::responder::{Responder, ResponseStats};
use super::ResponseError;
use crate::store::Store;

/// The responder on a thread of its own, with its own connection to the store: a
/// step every `interval` until stopped.
pub struct Service {
    stop: Arc<std::sync::atomic::AtomicBool>,
    handle: std::thread::JoinHandle<Result<(), ResponseError>>,
    /// The responder's counters, shared with the status page.
    pub stats: Arc<std::sync::Mutex<ResponseStats>>,
}

impl Service {
    /// Opens the store, starts following it (policies act on what changes from now on),
    /// puts blocks in force back on the firewall, and runs.
    pub fn start(
        mut responder: Responder,
        store_path: &std::path::Path,
        interval: std::time::Duration,
    ) -> Result<Service, ResponseError> {
        let mut store = Store::open(store_path)?;
        responder.attach(&mut store, false)?;
        let now = chrono::Utc::now().timestamp_micros();
        match responder.restore(&mut store, now) {
            Ok(0) => {}
            Ok(n) => tracing::info!("response: {n} blocks in force put back on the firewall"),
            Err(e) => return Err(ResponseError::Restore(e)),
        }
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stats = Arc::new(std::sync::Mutex::new(ResponseStats::default()));
        let (stop2, stats2) = (stop.clone(), stats.clone());
        let handle = std::thread::Builder::new()
            .name("correlator-respond".into())
            .spawn(move || {
                let mut errors = 0u64;
                while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                    let now = chrono::Utc::now().timestamp_micros();
                    if let Err(e) = responder.step(&mut store, now) {
                        errors += 1;
                        if errors <= 100 || errors.is_multiple_of(1000) {
                            tracing::warn!("response: {e} (error #{errors})");
                        }
                    }
                    if let Ok(mut s) = stats2.lock() {
                        *s = responder.stats.clone();
                    }
                    std::thread::sleep(interval);
                }
                Ok(())
            })
            .map_err(|e| ResponseError::Thread(e.to_string()))?;
        Ok(Service { stop, handle, stats })
    }

    /// Stops the responder thread and returns its last counters.
    pub fn stop(self) -> Result<ResponseStats, ResponseError> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle.join().map_err(|_| ResponseError::Thread("it panicked".into()))??;
        Ok(self.stats.lock().map(|s| s.clone()).unwrap_or_default())
    }
}
