//! Storage of alerts and incidents. SQLite is the embedded default ([`sqlite`]).

pub mod migrations;
pub mod sqlite;

pub use sqlite::{IncidentRow, Store, StoreError};
