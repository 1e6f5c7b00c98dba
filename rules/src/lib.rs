//! Gatewatch rules: the rule languages and detection engines of the sensor, and the
//! event model that sensor and correlator share.
//!
//! The crate knows nothing about packets: the sensor hands it a [`engine::Packet`]
//! (addresses, ports, flow direction, payload) and gets back the rules that matched.
//!
//! ```
//! use gatewatch_rules::engine::{FlowState, Limits, RuleSet};
//! use gatewatch_rules::signature::{file, Vars};
//!
//! let mut sigs = Vec::new();
//! let mut report = Default::default();
//! let text = r#"alert tcp any any -> any 80 (msg:"GET seen"; content:"GET "; sid:1;)"#;
//! file::load_text(text, "inline.rules", &Vars::default(), &mut sigs, &mut report);
//! let rules = RuleSet::build(sigs, Limits::default());
//! assert_eq!(rules.len(), 1);
//! ```

// No `unsafe` code, except the Hyperscan bindings (`engine/prefilter/hyperscan.rs`, a
// feature off by default), which document each block.
#![warn(missing_docs)]
#![cfg_attr(not(feature = "hyperscan"), forbid(unsafe_code))]
#![cfg_attr(feature = "hyperscan", deny(unsafe_code))]

pub mod bounded;
pub mod check;
pub mod control;
pub mod detection;
pub mod engine;
pub mod event;
pub mod ids;
pub mod ioc;
pub mod load_report;
pub mod logfile;
pub mod metrics;
pub mod sigma;
pub mod signature;
#[cfg(feature = "update")]
pub mod update;
pub mod yara;
