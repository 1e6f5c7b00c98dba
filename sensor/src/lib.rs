//! Gatewatch sensor: capture, decode, flows, detection glue and EVE output.
//!
//! The stages are folders: [`capture`] (pcap/pcapng files), [`decode`] (link, IP,
//! fragments, transport), `flow` (the flow table), [`pipeline`] (one worker running
//! them with the rules engine), [`output`] (EVE JSON). [`synth`] builds captures from
//! code for tests and the demo.
//!
//! ```
//! use std::sync::Arc;
//! use gatewatch_rules::engine::{Limits, RuleSet};
//! use gatewatch_sensor::{config::SensorConfig, output::AlertCollector, pipeline::Pipeline, synth};
//!
//! let rules = Arc::new(RuleSet::build(Vec::new(), Limits::default()));
//! let mut sensor = Pipeline::new(SensorConfig::default(), rules);
//! let mut out = AlertCollector::default();
//! for (ts, frame) in synth::TcpSession::demo_pair().frames() {
//!     sensor.process(&synth::frame(ts, &frame), &mut out).unwrap();
//! }
//! sensor.finish(&mut out).unwrap();
//! assert_eq!(sensor.stats().flow.created, 1);
//! ```

// No `unsafe` code, except the capture ring (`capture/afpacket.rs`: the TPACKET_V3 mmap
// ring), which allows it for itself and documents each block. `deny` rather than
// `forbid` only so that one module can.
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod app;
pub mod capture;
pub mod config;
pub mod daemon;
pub mod decode;
pub(crate) mod flow;
pub(crate) mod ioc;
pub mod metrics;
pub mod output;
pub mod pipeline;
pub mod reload;
pub mod replay;
pub mod rule_loading;
pub(crate) mod scan;
pub mod ship;
pub(crate) mod sigma;
pub(crate) mod stats;
pub mod stream;
pub mod synth;
pub(crate) mod workers;
