//! Output of the sensor: EVE JSON records ([`eve`]) and the sink trait they go through.

pub mod community_id;
pub mod eve;
pub(crate) mod filestore;

use std::io;

use gatewatch_rules::event::AlertEvent;
use gatewatch_rules::signature::Threshold;

pub use eve::{AppEvent, EveWriter, FlowEvent};

/// What decides whether a match of a rule with a host-tracked threshold alerts, when
/// the worker that matched it leaves that to the merge of all workers
/// (`crate::workers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldThreshold {
    /// The rule's threshold.
    pub threshold: Threshold,
    /// Addresses of the packet that matched (the tracked keys).
    pub src: std::net::IpAddr,
    /// Destination address.
    pub dst: std::net::IpAddr,
    /// Packet time, seconds.
    pub ts_secs: i64,
}

/// Where sensor events go: an EVE file, the in-process correlator, a spool (later).
/// Only `alert` is required; other record types are optional.
pub trait EventSink {
    /// Writes an alert.
    fn alert(&mut self, alert: &AlertEvent) -> io::Result<()>;

    /// An alert whose host-tracked threshold is still to be applied. Only the workers'
    /// channel holds such alerts back; other sinks never see deferred thresholds and
    /// write it as it is.
    fn held_alert(&mut self, alert: &AlertEvent, _held: &HeldThreshold) -> io::Result<()> {
        self.alert(alert)
    }

    /// Writes a flow record (ignored unless the sink wants them).
    fn flow(&mut self, _flow: &FlowEvent) -> io::Result<()> {
        Ok(())
    }

    /// Writes a stats record.
    fn stats(&mut self, _stats: &serde_json::Value) -> io::Result<()> {
        Ok(())
    }

    /// Writes a protocol, file or anomaly record.
    fn app(&mut self, _event: &AppEvent) -> io::Result<()> {
        Ok(())
    }

    /// [`EventSink::flow`] for a sink that keeps the event: it is handed over, not copied
    /// (the workers' channel).
    fn flow_owned(&mut self, flow: FlowEvent) -> io::Result<()> {
        self.flow(&flow)
    }

    /// [`EventSink::app`], handing the event over.
    fn app_owned(&mut self, event: AppEvent) -> io::Result<()> {
        self.app(&event)
    }

    /// Writes out what is buffered.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Discards everything (benchmarks).
pub struct NullSink;

impl EventSink for NullSink {
    fn alert(&mut self, _: &AlertEvent) -> io::Result<()> {
        Ok(())
    }
}

/// Sends every event to several sinks, in order: borrowed ones
/// (`Fanout<&mut dyn EventSink>`, a replay's EVE file and correlator) or owned ones
/// that may move between threads ([`Tee`]).
pub struct Fanout<S> {
    /// The sinks, each given every event.
    pub sinks: Vec<S>,
}

/// Owned sinks that may move between threads (the live sensor's EVE file and spool).
pub type Tee = Fanout<Box<dyn EventSink + Send>>;

impl<S> Default for Fanout<S> {
    fn default() -> Self {
        Fanout { sinks: Vec::new() }
    }
}

impl<S, T> EventSink for Fanout<S>
where
    S: std::ops::DerefMut<Target = T>,
    T: EventSink + ?Sized,
{
    fn alert(&mut self, a: &AlertEvent) -> io::Result<()> {
        self.sinks.iter_mut().try_for_each(|s| s.alert(a))
    }
    fn flow(&mut self, f: &FlowEvent) -> io::Result<()> {
        self.sinks.iter_mut().try_for_each(|s| s.flow(f))
    }
    fn stats(&mut self, v: &serde_json::Value) -> io::Result<()> {
        self.sinks.iter_mut().try_for_each(|s| s.stats(v))
    }
    fn app(&mut self, e: &AppEvent) -> io::Result<()> {
        self.sinks.iter_mut().try_for_each(|s| s.app(e))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.sinks.iter_mut().try_for_each(|s| s.flush())
    }
}

/// Collects alerts in memory (tests, the demo).
#[derive(Default)]
pub struct AlertCollector {
    /// The alerts, in the order written.
    pub alerts: Vec<AlertEvent>,
}

impl EventSink for AlertCollector {
    fn alert(&mut self, a: &AlertEvent) -> io::Result<()> {
        self.alerts.push(a.clone());
        Ok(())
    }
}
