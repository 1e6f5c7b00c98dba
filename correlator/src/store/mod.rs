//! Storage of alerts and incidents. SQLite is the embedded default (`sqlite`): the
//! engine's writes ([`write`](mod@write)), analysts' changes and the audit log (`lifecycle`),
//! schema `migrations`, block decisions of the automated response ([`blocks`]), the
//! change feed its consumers follow (`feed`) and the monthly report's queries
//! (`monthly`).
//!
//! Every SQL statement of the correlator lives in this module. Callers call named
//! queries and get typed rows, mapped by column name. The store is not a trait: SQLite
//! is its one implementation, the file database the province runs, and a trait with a
//! single implementation would double every signature with nothing to test it against.
//! Queries that must run inside a caller's transaction (the responder decides and
//! moves its feed position in one) take a `rusqlite::Connection`, which a transaction
//! derefs to.

pub mod accounts;
pub mod block_requests;
pub mod blocks;
mod error;
pub(crate) mod feed;
pub(crate) mod lifecycle;
pub(crate) mod migrations;
pub(crate) mod monthly;
pub(crate) mod overview;
pub(crate) mod queue;
pub mod recommendations;
pub(crate) mod rows;
pub(crate) mod sqlite;
pub(crate) mod wall;
pub mod write;

pub use lifecycle::{IncidentRecord, Status};
pub use queue::Overdue;
pub use sqlite::{
    AlertFilter, AlertRow, IncidentFilter, IncidentOrder, IncidentRow, Store, StoreError,
};
pub use wall::{Wall, WallQuery};
