//! The rules of the domain that both the incident engine and the store apply: RSIT
//! classes and which is graver, severity bands of a score, what a suppression is,
//! networks, and what a sensor's heartbeat says. A leaf: it uses no other module of the crate, so that `incident` (which
//! writes through `store`) and `store` (which keeps these values) both import it
//! without depending on each other.

pub(crate) mod heartbeat;
pub mod network;
pub(crate) mod rsit;
pub(crate) mod severity;
pub mod suppression;
