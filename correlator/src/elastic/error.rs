//! Why the Elasticsearch sink could not start, or stopped.

use crate::store::StoreError;

/// Why the sink could not start, or stopped. An unreachable cluster is not an error of
/// the sink (it retries with a backoff); these are.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// A setting of `[elasticsearch]` is wrong, or a file it names cannot be read.
    #[error("[elasticsearch] {key}: {message}")]
    Config {
        /// The setting (`url`, `ca`, `password_file`, …).
        key: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The HTTP client could not be built.
    #[error("the Elasticsearch client: {0}")]
    Client(String),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A query of the store failed (reading rows, or saving the watermarks).
    #[error("store query failed: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A request could not be sent, or its answer not read.
    #[error("{method} {path}: {message}")]
    Request {
        /// The HTTP method.
        method: String,
        /// The path (never the credentials).
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The cluster answered with an unexpected status.
    #[error("{method} {path} answered {status}{}", detail_suffix(.detail))]
    Status {
        /// The HTTP method.
        method: String,
        /// The path.
        path: String,
        /// The status.
        status: u16,
        /// The start of the answer, when it says why.
        detail: String,
    },
    /// An answer could not be understood.
    #[error("{method} {path}: {message}")]
    Answer {
        /// The HTTP method.
        method: String,
        /// The path.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The store gave rows out of order (a document id went backwards).
    #[error("document key {key:?} read after {after:?}")]
    OutOfOrder {
        /// The key read.
        key: (i64, i64),
        /// The last key read before it.
        after: (i64, i64),
    },
    /// The sink's threads could not start, ended early or panicked.
    #[error("the Elasticsearch sink's thread: {0}")]
    Thread(String),
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl SinkError {
    pub(crate) fn status(method: &str, path: &str, status: u16, answer: &[u8]) -> SinkError {
        SinkError::Status {
            method: method.to_string(),
            path: path.to_string(),
            status,
            detail: String::from_utf8_lossy(&answer[..answer.len().min(300)]).into_owned(),
        }
    }
}
