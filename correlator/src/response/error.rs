//! Why the responder could not be set up or run: a setting that cannot be used (where,
//! and why), the store, the incident engine's set-up, its thread.

use crate::store::StoreError;

/// A `[response]` setting that cannot be used: where it is (outermost first: the
/// policy, action or list, then the key) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.text())]
pub struct ConfigError {
    place: Vec<String>,
    problem: String,
}

impl ConfigError {
    pub(crate) fn new(problem: impl Into<String>) -> ConfigError {
        ConfigError { place: Vec::new(), problem: problem.into() }
    }

    /// The same problem, found inside `outer` (`policy `p``, `action `nft``).
    pub(crate) fn at(mut self, outer: impl Into<String>) -> ConfigError {
        self.place.insert(0, outer.into());
        self
    }

    /// Where the setting is, outermost first (`["policy `p`", "ttl"]`).
    pub fn place(&self) -> &[String] {
        &self.place
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &str {
        &self.problem
    }

    fn text(&self) -> String {
        let mut parts = self.place.clone();
        parts.push(self.problem.clone());
        parts.join(": ")
    }
}

/// Why the responder could not start, or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// A setting of `[response]` cannot be used.
    #[error("[response] {0}")]
    Config(#[from] ConfigError),
    /// The asset inventory (or the incident windows) could not be set up.
    #[error(transparent)]
    Setup(#[from] crate::ingest::SetupError),
    /// The store could not be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The blocks in force could not be read back at start-up.
    #[error("reading the blocks in force: {0}")]
    Restore(StoreError),
    /// The responder's thread could not start, or panicked.
    #[error("the responder's thread: {0}")]
    Thread(String),
}
