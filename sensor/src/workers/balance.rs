//! Which worker a flow goes to: the least busy one when the flow starts, and that one
//! for the rest of its life.
//!
//! Hashing flows onto workers splits the flows evenly, not the work: a few large
//! transfers decide the load, and on real captures one of two workers gets 52–57% of
//! it depending on the hash key. The balancer instead pins each new flow to the worker
//! with the fewest frames waiting (ties go to the flow's hash), so that a worker busy
//! with a large flow receives fewer new ones.
//!
//! A flow must never move: its packets, TCP stream and detection state live in one
//! worker. A pin is therefore kept until the flow has been quiet longer than any flow
//! timeout of the workers (a worker has ended the flow by then); only the flow's hash
//! is stored, and two flows sharing a hash merely share a worker. The table has a
//! capacity: when it is full, new flows go by their hash and are not pinned, and for an
//! idle period after the table was last full every flow not pinned still goes by its
//! hash (and is pinned to that worker once there is room), so a flow that started
//! while the table was full stays where its hash put it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Frames each worker has finished, counted by the worker, read by the dispatcher.
pub type Finished = Arc<[AtomicU64]>;

/// How flows were placed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BalanceStats {
    /// New flows placed on the least busy worker.
    pub by_load: u64,
    /// New flows placed by their hash because the pin table was full (or had been
    /// full within the idle period).
    pub by_hash: u64,
}

#[derive(Clone, Copy, Debug)]
struct Pin {
    worker: u32,
    last_us: i64,
}

/// The flow hashes are keyed and mixed already: they are their own table hash.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

pub struct Balancer {
    pins: HashMap<u64, Pin, BuildHasherDefault<Prehashed>>,
    capacity: usize,
    idle_us: i64,
    now_us: i64,
    last_sweep_us: i64,
    /// Until then, flows not pinned go by their hash (the table was full).
    by_hash_until_us: i64,
    /// Frames handed to each worker (including those in its unsent batch).
    queued: Vec<u64>,
    finished: Finished,
    pub stats: BalanceStats,
}

impl Balancer {
    /// A balancer over `workers` workers whose flows end after at most `idle_secs`
    /// of quiet, pinning at most `capacity` flows.
    pub fn new(workers: usize, idle_secs: u32, capacity: usize) -> Balancer {
        let workers = workers.max(1);
        Balancer {
            pins: HashMap::default(),
            capacity: capacity.max(1),
            idle_us: i64::from(idle_secs) * 1_000_000,
            now_us: i64::MIN,
            last_sweep_us: i64::MIN,
            by_hash_until_us: i64::MIN,
            queued: vec![0; workers],
            finished: (0..workers).map(|_| AtomicU64::new(0)).collect(),
            stats: BalanceStats::default(),
        }
    }

    /// The counters the workers add their finished frames to.
    pub fn finished(&self) -> Finished {
        Arc::clone(&self.finished)
    }

    /// Flows pinned now.
    #[cfg(test)]
    pub fn pinned(&self) -> usize {
        self.pins.len()
    }

    /// The worker for a packet of the flow with hash `hash`, seen at `ts_us`.
    pub fn worker(&mut self, hash: u64, ts_us: i64) -> usize {
        self.advance(ts_us);
        if let Some(pin) = self.pins.get_mut(&hash) {
            pin.last_us = pin.last_us.max(ts_us);
            return pin.worker as usize;
        }
        if self.pins.len() >= self.capacity {
            self.sweep();
            if self.pins.len() >= self.capacity {
                self.by_hash_until_us = self.now_us.saturating_add(self.idle_us);
                self.stats.by_hash += 1;
                return self.by_hash(hash);
            }
        }
        let worker = if self.now_us <= self.by_hash_until_us {
            self.stats.by_hash += 1;
            self.by_hash(hash)
        } else {
            self.stats.by_load += 1;
            self.least_busy(hash)
        };
        self.pins.insert(hash, Pin { worker: worker as u32, last_us: ts_us });
        worker
    }

    /// `n` frames were handed to worker `w`.
    pub fn queued(&mut self, w: usize, n: u64) {
        self.queued[w] += n;
    }

    /// `n` frames handed to worker `w` were dropped before it saw them.
    pub fn dropped(&mut self, w: usize, n: u64) {
        self.queued[w] = self.queued[w].saturating_sub(n);
    }

    /// The capture clock moved on (forgets flows quiet for longer than the idle time).
    pub fn advance(&mut self, now_us: i64) {
        self.now_us = self.now_us.max(now_us);
        if self.now_us.saturating_sub(self.last_sweep_us) >= 1_000_000 {
            self.sweep();
        }
    }

    fn sweep(&mut self) {
        self.last_sweep_us = self.now_us;
        let (now, idle) = (self.now_us, self.idle_us);
        self.pins.retain(|_, p| now.saturating_sub(p.last_us) <= idle);
    }

    fn by_hash(&self, hash: u64) -> usize {
        (hash % self.queued.len() as u64) as usize
    }

    /// The worker with the fewest frames waiting; among equals, the first from the
    /// flow's hash on.
    fn least_busy(&self, hash: u64) -> usize {
        let n = self.queued.len();
        let start = self.by_hash(hash);
        let waiting =
            |w: usize| self.queued[w].saturating_sub(self.finished[w].load(Ordering::Relaxed));
        (0..n).map(|i| (start + i) % n).min_by_key(|w| waiting(*w)).unwrap_or(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: i64 = 1_000_000;

    #[test]
    fn a_new_flow_goes_to_the_worker_with_the_fewest_frames_waiting() {
        let mut b = Balancer::new(2, 600, 1000);
        let first = b.worker(7, S);
        b.queued(first, 100);
        let second = b.worker(8, S);
        assert_ne!(first, second, "the busy worker is passed over");
        // The first worker catches up: the next new flow may go there again.
        b.finished[first].store(100, Ordering::Relaxed);
        b.queued(second, 5);
        assert_eq!(b.worker(9, S), first);
        assert_eq!(b.stats, BalanceStats { by_load: 3, by_hash: 0 });
    }

    #[test]
    fn a_pinned_flow_stays_until_quiet_longer_than_the_idle_time() {
        let mut b = Balancer::new(2, 10, 1000);
        let w = b.worker(7, S);
        b.queued(w, 1_000);
        // Busy or not, every packet of the flow goes to its worker.
        for t in 2..=11 {
            assert_eq!(b.worker(7, t * S), w);
        }
        assert_eq!(b.pinned(), 1);
        // Quiet for longer than the idle time: forgotten, placed anew.
        b.advance(22 * S);
        assert_eq!(b.pinned(), 0);
        assert_ne!(b.worker(7, 22 * S), w);
    }

    #[test]
    fn a_full_table_places_new_flows_by_hash_for_an_idle_period() {
        let mut b = Balancer::new(2, 10, 2);
        b.worker(1, S);
        b.worker(2, S);
        b.queued(0, 50); // worker 0 is busy, but a full table places by hash
        assert_eq!(b.worker(4, 5 * S), 0);
        assert_eq!(b.worker(5, 5 * S), 1);
        assert_eq!(b.stats.by_hash, 2);
        assert_eq!(b.pinned(), 2);
        // Room again (the first two pins expire), still within the idle period after
        // the table was full: an unpinned flow keeps going by its hash, and is pinned.
        b.advance(12 * S);
        assert_eq!(b.pinned(), 0);
        assert_eq!(b.worker(4, 12 * S), 0);
        assert_eq!(b.pinned(), 1);
        assert_eq!(b.stats, BalanceStats { by_load: 2, by_hash: 3 });
        // After the idle period, load decides again.
        b.advance(30 * S);
        assert_eq!(b.worker(6, 30 * S), 1);
    }

    proptest! {
        /// Whatever the loads, capacity and timing: while a flow keeps arriving within
        /// the idle time of its last packet, it never changes worker.
        #[test]
        fn flows_never_move_while_alive(
            events in proptest::collection::vec((0u64..40, 0i64..3, 0u64..20), 1..400),
            capacity in 1usize..50,
            workers in 1usize..5,
        ) {
            let idle = 5;
            let mut b = Balancer::new(workers, idle as u32, capacity);
            let mut seen: HashMap<u64, (usize, i64)> = HashMap::new();
            let mut now = 0i64;
            for (flow, step, load) in events {
                now += step * S;
                let w = b.worker(flow, now);
                b.queued(w, load);
                if let Some((was, last)) = seen.get(&flow) {
                    if now - last <= idle * S {
                        prop_assert_eq!(*was, w, "flow {} moved", flow);
                    }
                }
                seen.insert(flow, (w, now));
            }
        }
    }
}
