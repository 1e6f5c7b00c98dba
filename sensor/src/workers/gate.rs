//! Host-tracked thresholds (`track by_src`, `by_dst`, `by_both`, `by_rule`) over all
//! workers, in capture order.
//!
//! A host's matches come from many flows, so from several workers; each worker leaves
//! the threshold of such a match to this gate ([`crate::pipeline::Pipeline::defer_host_thresholds`]),
//! which holds the alert until every frame before it in the capture has been processed
//! by every worker, then counts the matches in the order one worker would have seen
//! them. The alerts that pass are those of one worker, whatever the number of workers.
//!
//! Order: an alert raised while processing capture frame `n` sorts at `(n, 0)`; one
//! raised by a time tick sent after frame `n` at `(n, 1)`; one raised when the flows
//! end at the end of the capture last. Alerts of one frame keep the order the worker
//! raised them in; alerts of one tick or of the end, which several workers raise, sort
//! by their content so that the order does not depend on which worker raised them.

use std::collections::BTreeMap;
use std::io;

use gatewatch_rules::engine::threshold::ThresholdTable;
use gatewatch_rules::event::AlertEvent;

use crate::output::{EventSink, HeldThreshold};

/// When an alert was raised, in capture order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// The capture number of the frame processed, or the last frame dispatched before a
    /// tick; `u64::MAX` at the end of the capture.
    pub frame: u64,
    /// 0: processing that frame; 1: a tick after it; 2: the end of the capture.
    pub phase: u8,
}

impl Position {
    pub const END: Position = Position { frame: u64::MAX, phase: 2 };

    pub fn frame(n: u64) -> Position {
        Position { frame: n, phase: 0 }
    }

    pub fn tick_after(n: u64) -> Position {
        Position { frame: n, phase: 1 }
    }
}

/// An alert waiting for the gate.
#[derive(Debug)]
pub struct HeldAlert {
    pub position: Position,
    /// The worker's count of held alerts: their order within one frame.
    pub seq: u64,
    pub worker: usize,
    pub alert: AlertEvent,
    pub held: HeldThreshold,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    position: Position,
    /// Empty for frames (one worker raised them all); else the alert's content.
    content: String,
    worker: usize,
    seq: u64,
}

/// The held alerts and the host threshold table they are counted in.
#[derive(Debug)]
pub struct Gate {
    table: ThresholdTable,
    held: BTreeMap<Key, (AlertEvent, HeldThreshold)>,
    /// Matches the gate let alert (added to `detect.alert`) and kept from alerting
    /// (added to `detect.alerts_suppressed`).
    pub passed: u64,
    pub suppressed: u64,
}

impl Gate {
    /// `capacity`: host threshold entries (`detect.threshold_entries`).
    pub fn new(capacity: usize) -> Self {
        Gate {
            table: ThresholdTable::new(capacity, 0),
            held: BTreeMap::new(),
            passed: 0,
            suppressed: 0,
        }
    }

    pub fn hold(&mut self, h: HeldAlert) {
        let content = if h.position.phase == 0 {
            String::new()
        } else {
            let a = &h.alert;
            format!(
                "{} {} {:?} {} {:?} {} {}",
                a.timestamp,
                a.src_ip,
                a.src_port,
                a.dest_ip,
                a.dest_port,
                a.alert.gid,
                a.alert.signature_id
            )
        };
        let key = Key { position: h.position, content, worker: h.worker, seq: h.seq };
        self.held.insert(key, (h.alert, h.held));
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Applies the thresholds to the alerts raised before `before` (every worker has
    /// processed everything up to there) and writes those that alert.
    /// Adds the gate's counts to one worker's `stats` record (the sums stay right).
    pub fn count_into(&self, stats: &mut serde_json::Value) {
        let Some(detect) = stats.get_mut("detect").and_then(|d| d.as_object_mut()) else {
            return;
        };
        for (key, n) in [("alert", self.passed), ("alerts_suppressed", self.suppressed)] {
            let before = detect.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
            detect.insert(key.into(), (before + n).into());
        }
    }

    pub fn release(&mut self, before: Position, sink: &mut dyn EventSink) -> io::Result<()> {
        while let Some(entry) = self.held.first_entry() {
            if entry.key().position >= before {
                break;
            }
            let (alert, held) = entry.remove();
            // Keyed by signature id, so that entries outlive a rule reload as the
            // workers' own thresholds do.
            let alerts = self.table.hit(
                alert.alert.signature_id,
                &held.threshold,
                held.src,
                held.dst,
                held.ts_secs,
            );
            if alerts {
                self.passed += 1;
                sink.alert(&alert)?;
            } else {
                self.suppressed += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::AlertCollector;
    use gatewatch_rules::signature::{Threshold, ThresholdKind, Track};

    fn held(position: Position, worker: usize, seq: u64, src: &str, sid: u32) -> HeldAlert {
        let mut alert: AlertEvent = serde_json::from_value(serde_json::json!({
            "timestamp": "2026-01-01T00:00:00.000000+0000", "event_type": "alert",
            "src_ip": src, "dest_ip": "10.0.0.9", "proto": "TCP",
            "alert": {"action": "allowed", "gid": 1, "signature_id": sid, "rev": 1,
                      "signature": "s", "category": "", "severity": 3},
        }))
        .unwrap();
        alert.pcap_cnt = Some(position.frame);
        let threshold = Threshold {
            kind: ThresholdKind::Limit,
            track: Track::BySrc,
            count: 1,
            seconds: 60,
            multiplier: 0,
        };
        let src = src.parse().unwrap();
        HeldAlert {
            position,
            seq,
            worker,
            alert,
            held: HeldThreshold { threshold, src, dst: "10.0.0.9".parse().unwrap(), ts_secs: 0 },
        }
    }

    #[test]
    fn counts_in_capture_order_whatever_the_arrival() {
        let mut g = Gate::new(100);
        // Worker 1 reports frame 7 before worker 0 reports frame 3, same source.
        g.hold(held(Position::frame(7), 1, 0, "10.0.0.1", 5));
        g.hold(held(Position::frame(3), 0, 0, "10.0.0.1", 5));
        let mut out = AlertCollector::default();
        g.release(Position::frame(3), &mut out).unwrap();
        assert!(out.alerts.is_empty(), "nothing before frame 3 yet");
        g.release(Position::frame(8), &mut out).unwrap();
        let cnts: Vec<_> = out.alerts.iter().map(|a| a.pcap_cnt).collect();
        assert_eq!(cnts, vec![Some(3)], "limit 1 by_src: the earlier match alerts");
        assert_eq!((g.passed, g.suppressed, g.len()), (1, 1, 0));
        let mut stats = serde_json::json!({"detect": {"alert": 2, "alerts_suppressed": 3}});
        g.count_into(&mut stats);
        assert_eq!(stats["detect"], serde_json::json!({"alert": 3, "alerts_suppressed": 4}));
    }

    #[test]
    fn end_of_capture_alerts_sort_by_content_not_worker() {
        let order = |first: usize| {
            let mut g = Gate::new(100);
            g.hold(held(Position::END, first, 0, "10.0.0.2", 5));
            g.hold(held(Position::END, 1 - first, 0, "10.0.0.1", 6));
            let mut out = AlertCollector::default();
            g.release(Position { frame: u64::MAX, phase: 3 }, &mut out).unwrap();
            out.alerts.iter().map(|a| a.alert.signature_id).collect::<Vec<_>>()
        };
        assert_eq!(order(0), order(1));
        assert_eq!(order(0), vec![6, 5]);
    }
}
