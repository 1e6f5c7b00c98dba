//! Shipping findings to the correlator: the pipeline's records go to an on-disk
//! [`spool`] through a [`SpoolSink`]; the [`client`] sends sealed segments over mutual
//! TLS and deletes them once the correlator has stored them (at-least-once; record ids
//! let the correlator drop duplicates).

pub mod client;
mod shipper;
pub mod spool;

pub use shipper::{ShipError, ShipSummary, Shipper};

use std::io;
use std::sync::{Arc, Mutex};

use gatewatch_rules::event::AlertEvent;

use crate::output::{AppEvent, EventSink, FlowEvent};
use spool::Spool;

/// Appends the sensor's records to the spool: alerts and protocol records always,
/// flows when asked, `stats` records (the correlator reads them as heartbeats).
pub struct SpoolSink {
    pub(crate) spool: Arc<Mutex<Spool>>,
    pub(crate) flows: bool,
    buf: Vec<u8>,
}

impl SpoolSink {
    /// A sink appending to `spool` (flow records too when `flows`).
    pub fn new(spool: Arc<Mutex<Spool>>, flows: bool) -> Self {
        SpoolSink { spool, flows, buf: Vec::with_capacity(4096) }
    }

    fn append(&mut self, record: &impl serde::Serialize) -> io::Result<()> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, record).map_err(io::Error::other)?;
        // A refused record (spool full) is counted by the spool; the pipeline goes on.
        self.spool.lock().unwrap_or_else(|p| p.into_inner()).append(&self.buf);
        Ok(())
    }
}

impl EventSink for SpoolSink {
    fn alert(&mut self, a: &AlertEvent) -> io::Result<()> {
        self.append(a)
    }
    fn flow(&mut self, f: &FlowEvent) -> io::Result<()> {
        if self.flows {
            self.append(f)?;
        }
        Ok(())
    }
    fn app(&mut self, e: &AppEvent) -> io::Result<()> {
        self.append(e)
    }
    /// A `stats` record is the sensor's heartbeat: the version and the spool's
    /// counters ride along.
    fn stats(&mut self, v: &serde_json::Value) -> io::Result<()> {
        let spool = self.spool.lock().unwrap_or_else(|p| p.into_inner()).stats;
        let mut beat = v.clone();
        if let Some(o) = beat.as_object_mut() {
            o.insert(
                "heartbeat".into(),
                serde_json::json!({"version": env!("CARGO_PKG_VERSION"), "spool": spool}),
            );
        }
        self.append(&beat)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.spool.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}
