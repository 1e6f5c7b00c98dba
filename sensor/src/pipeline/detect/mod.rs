//! The detection stage of a worker: signatures on packets, streams and transactions
//! ([`signatures`]), indicator lists ([`indicators`]), YARA and Sigma ([`content`]), and
//! the alerts they all make ([`alerts`]: EVE alert records with their flow, transaction
//! and metadata). The stages before it (decoding, flows, the application layer) hand it
//! packets, chunks, transactions and records; it writes alerts to the worker's sink.

pub(super) mod alerts;
mod content;
mod indicators;
mod signatures;
