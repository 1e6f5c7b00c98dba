//! Rule sets that change while packets flow.
//!
//! A [`RuleSlot`] holds the current [`Detection`] and its generation. Whoever compiles a
//! new set (the reload thread, on `SIGUSR2` or `gatewatch rules reload`) publishes it;
//! each worker checks the generation before every packet (one atomic load) and, when it
//! changed, swaps the new set in between two packets with [`Pipeline::reload`], carrying
//! flow state over. Capture never pauses: no packet waits for a compilation, and none
//! is dropped.
//!
//! [`Pipeline::reload`]: crate::pipeline::Pipeline::reload

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use gatewatch_rules::control::{ControlError, Process, ReloadControl};
use gatewatch_rules::detection::Detection;

/// The current rule set and its generation (1 for the set loaded at start).
pub struct RuleSlot {
    generation: AtomicU64,
    current: Mutex<(u64, Detection)>,
}

impl RuleSlot {
    /// A slot holding `detection`.
    pub fn new(detection: Detection) -> Arc<RuleSlot> {
        Arc::new(RuleSlot { generation: AtomicU64::new(1), current: Mutex::new((1, detection)) })
    }

    /// Makes `detection` the current set; returns its generation.
    pub fn publish(&self, detection: Detection) -> u64 {
        let mut cur = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let generation = cur.0 + 1;
        *cur = (generation, detection);
        self.generation.store(generation, Ordering::Release);
        generation
    }

    /// The generation of the current set (cheap: for the per-packet check).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The current set with its generation.
    pub fn current(&self) -> (u64, Detection) {
        let cur = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        (cur.0, cur.1.clone())
    }
}

/// Writes the sensor's pid file in `dir` and starts the thread that, on `SIGUSR2`,
/// compiles a new set with `load` and publishes it to `slot` (see
/// [`gatewatch_rules::control`]).
pub fn control<E: std::fmt::Display>(
    dir: &std::path::Path,
    slot: Arc<RuleSlot>,
    load: impl Fn() -> Result<(Detection, String), E> + Send + 'static,
) -> Result<ReloadControl, ControlError> {
    let current = slot.clone();
    ReloadControl::start_for(
        dir,
        Process::Sensor,
        move || load().map(|(d, summary)| (slot.publish(d), summary)),
        move || current.generation(),
    )
}
