//! A sensor's heartbeat — its EVE `stats` record — read once for every reader (the
//! sensor registry, the console's sensors page, the report's sensor health): packets
//! from a live capture (`capture.received`) or a replay (`decoder.pkts`), drops, rules,
//! version, spool, and whether the sensor read capture files.

use serde_json::Value;

/// What a `stats` record says of its sensor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Beat {
    /// Seconds the sensor had been running.
    pub uptime: Option<u64>,
    pub packets: Option<u64>,
    pub kernel_drops: Option<u64>,
    pub queue_drops: Option<u64>,
    pub rules_generation: Option<u64>,
    pub rules_loaded: Option<u64>,
    pub rules_skipped: Option<u64>,
    pub version: Option<String>,
    pub spool_bytes: Option<u64>,
    /// The sensor read capture files (`gatewatch replay`, the demo), not an interface.
    pub reads_files: bool,
}

impl Beat {
    /// Reads a `stats` record.
    pub fn of(record: &Value) -> Beat {
        let st = &record["stats"];
        let n = |v: &Value| v.as_u64();
        Beat {
            uptime: n(&st["uptime"]),
            packets: n(&st["capture"]["received"]).or(n(&st["decoder"]["pkts"])),
            kernel_drops: n(&st["capture"]["kernel_drops"]),
            queue_drops: n(&st["capture"]["queue_drops"]),
            rules_generation: n(&st["detect"]["rules_generation"]),
            rules_loaded: n(&st["detect"]["rules_loaded"]),
            rules_skipped: n(&st["detect"]["rules_skipped"]),
            version: record["heartbeat"]["version"].as_str().map(str::to_string),
            spool_bytes: n(&record["heartbeat"]["spool"]["bytes"]),
            reads_files: st["capture"].get("files").is_some(),
        }
    }

    /// Kernel and queue drops together.
    pub fn drops(&self) -> u64 {
        self.kernel_drops.unwrap_or(0) + self.queue_drops.unwrap_or(0)
    }
}
