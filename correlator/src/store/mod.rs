//! Storage of alerts and incidents. SQLite is the embedded default ([`sqlite`]): the
//! engine's writes ([`write`]), analysts' changes and the audit log ([`lifecycle`]),
//! schema [`migrations`], block decisions of the automated response ([`blocks`]), the
//! change feed its consumers follow ([`feed`]) and the monthly report's queries
//! ([`monthly`]).

pub mod accounts;
pub mod blocks;
pub mod feed;
pub mod lifecycle;
pub mod migrations;
pub mod monthly;
pub mod overview;
pub mod sqlite;
pub mod write;

pub use lifecycle::Status;
pub use sqlite::{AlertFilter, AlertRow, IncidentFilter, IncidentRow, Store, StoreError};
