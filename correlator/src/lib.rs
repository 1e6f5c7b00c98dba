//! Gatewatch correlator: ingests findings (EVE alerts from Gatewatch sensors or from
//! Suricata), groups them into incidents and stores both in SQLite.
//!
//! Stages are folders: [`ingest`] (alerts, and host logs through Sigma), [`server`]
//! (the listeners: syslog, HTTPS), [`incident`] (grouping rules and scoring),
//! [`store`] (SQLite with migrations), [`response`] (blocking hooks), [`report`] (the monthly report), [`console`]
//! (analyst web UI and API), [`elastic`] (the Elasticsearch sink).
//!
//! ```
//! use gatewatch_correlator::{config::CorrelatorConfig, Correlator, store::Store};
//! let store = Store::open_in_memory().unwrap();
//! let mut c = Correlator::new(CorrelatorConfig::default(), store);
//! assert_eq!(c.store().incident_count().unwrap(), 0);
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod config;
pub mod console;
pub mod domain;
pub mod elastic;
pub mod incident;
pub mod ingest;
pub mod pki;
pub mod report;
pub mod response;
pub mod server;
pub mod service;
pub mod store;
pub mod terminal;

pub use ingest::Correlator;
