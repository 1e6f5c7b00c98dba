//! From alerts to incidents.
//!
//! - [`assets`]: the asset inventory (agency, system, security level, criticality);
//! - `attack`: what an alert means (ATT&CK tactics and techniques, RSIT class);
//! - `entity`: which entity an alert is about, so which incident it joins;
//! - `suppress`: analysts' suppressions;
//! - `correlate`: correlation rules over alerts, in Sigma correlation syntax;
//! - `score`: the risk score and its documented formula;
//! - [`engine`]: all of it, for each alert, inside the ingest transaction.

pub mod assets;
pub(crate) mod attack;
pub(crate) mod correlate;
pub mod engine;
pub(crate) mod entity;
pub mod observables;
pub(crate) mod score;
pub mod success;
pub(crate) mod suppress;
pub mod techniques;
