//! Why a store operation failed.

use std::path::PathBuf;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file could not be opened (or set up).
    #[error("cannot open the store `{path}`: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The folder of the database file could not be created.
    #[error("cannot create the folder of the store `{path}`: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The file was written by a newer Gatewatch: it is left untouched.
    #[error("the store `{path}` has schema version {found}; this gatewatch knows up to {known}")]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A query failed.
    #[error("store query failed: {0}")]
    Sql(#[from] rusqlite::Error),
    /// What was asked for does not exist (`incident 12`).
    #[error("no {0}")]
    NotFound(String),
    /// The change is not allowed (the message says why).
    #[error("refused: {0}")]
    Refused(String),
    /// Optimistic locking: the incident changed since the caller read it.
    #[error("incident {id} changed meanwhile (version {found}, you saw {expected}): reload it")]
    Conflict {
        /// The incident.
        id: i64,
        /// The version the caller read.
        expected: i64,
        /// The version stored now.
        found: i64,
    },
}
