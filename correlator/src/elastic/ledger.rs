//! Which documents of a stream are safely in Elasticsearch: the watermark.
//!
//! Rows are read from SQLite in key order and sent in bulk requests, several in
//! flight, acknowledged in any order, some retried. The watermark is the largest key
//! such that every row read up to it is done (acknowledged, or written to the dead
//! letter file); it is what the store remembers, so after a restart sending resumes
//! after it. Rows past the watermark that were already done are sent again after a
//! crash; Elasticsearch answers `create` of an existing id with a conflict, which
//! counts as done, so nothing is duplicated.

use std::collections::VecDeque;

/// A row's position in its stream: `(id, 0)` for alerts and records, `(change
/// number, id)` for incidents.
pub type Key = (i64, i64);

/// The rows of one stream between the watermark and the last row read.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    watermark: Key,
    /// Rows read past the watermark, in key order, and whether each is done.
    open: VecDeque<(Key, bool)>,
}

impl Ledger {
    pub fn new(watermark: Key) -> Ledger {
        Ledger { watermark, open: VecDeque::new() }
    }

    /// The last key read (the next read starts after it).
    pub fn read_cursor(&self) -> Key {
        self.open.back().map_or(self.watermark, |(k, _)| *k)
    }

    /// Records that `key` was read; keys must come in increasing order.
    pub fn read(&mut self, key: Key) -> Result<(), super::SinkError> {
        if key <= self.read_cursor() {
            return Err(super::SinkError::OutOfOrder { key, after: self.read_cursor() });
        }
        self.open.push_back((key, false));
        Ok(())
    }

    /// Marks `key` done; returns the new watermark if it moved.
    pub fn done(&mut self, key: Key) -> Option<Key> {
        if let Ok(i) = self.open.binary_search_by(|(k, _)| k.cmp(&key)) {
            self.open[i].1 = true;
        }
        let before = self.watermark;
        while let Some(&(k, true)) = self.open.front() {
            self.watermark = k;
            self.open.pop_front();
        }
        (self.watermark != before).then_some(self.watermark)
    }

    pub fn watermark(&self) -> Key {
        self.watermark
    }

    /// Rows read and not yet done.
    pub fn pending(&self) -> usize {
        self.open.iter().filter(|(_, d)| !d).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_watermark_waits_for_the_oldest_row() {
        let mut l = Ledger::new((0, 0));
        for k in 1..=4 {
            l.read((k, 0)).unwrap();
        }
        assert_eq!(l.done((2, 0)), None);
        assert_eq!(l.done((3, 0)), None);
        assert_eq!(l.done((1, 0)), Some((3, 0)));
        assert_eq!(l.pending(), 1);
        assert!(l.read((2, 0)).is_err(), "keys only grow");
        assert_eq!(l.done((4, 0)), Some((4, 0)));
        assert_eq!(l.read_cursor(), (4, 0));
    }

    proptest! {
        /// Rows are sent, acknowledged in any order, some only after failures, with
        /// crashes (restart from the stored watermark) in between: every row ends up
        /// in the model index exactly once (a `create` of an existing id changes
        /// nothing), and the watermark never passes a row that is not in the index.
        #[test]
        fn no_row_is_lost_or_duplicated(
            rows in 1i64..60,
            plan in proptest::collection::vec((0usize..8, any::<bool>(), 0u8..20), 1..400),
        ) {
            let mut stored_mark: Key = (0, 0);
            let mut index: std::collections::BTreeMap<i64, u32> = Default::default();
            let mut ledger = Ledger::new(stored_mark);
            let mut in_flight: Vec<i64> = Vec::new();
            for (pick, ok, action) in plan {
                match action {
                    // Crash: everything in memory is lost; restart from the store.
                    0 => {
                        ledger = Ledger::new(stored_mark);
                        in_flight.clear();
                    }
                    // Read and send the next row.
                    1..=9 => {
                        let next = ledger.read_cursor().0 + 1;
                        if next <= rows {
                            ledger.read((next, 0)).unwrap();
                            in_flight.push(next);
                        }
                    }
                    // An answer for one row in flight: stored (create: only once), or failed (resent later).
                    _ => {
                        if in_flight.is_empty() { continue; }
                        let k = in_flight.remove(pick % in_flight.len());
                        if ok {
                            *index.entry(k).or_insert(0) = 1;
                            if let Some(w) = ledger.done((k, 0)) {
                                stored_mark = w;
                            }
                        } else {
                            in_flight.push(k);
                        }
                    }
                }
                for k in 1..=stored_mark.0 {
                    prop_assert!(index.contains_key(&k), "watermark {stored_mark:?} passed row {k}, not stored");
                }
            }
            // Drain: resume and send the rest until all are acknowledged.
            loop {
                let next = ledger.read_cursor().0 + 1;
                if next <= rows {
                    ledger.read((next, 0)).unwrap();
                    in_flight.push(next);
                }
                if let Some(k) = in_flight.pop() {
                    index.insert(k, 1);
                    if let Some(w) = ledger.done((k, 0)) { stored_mark = w; }
                }
                if stored_mark.0 == rows { break; }
            }
            prop_assert_eq!(index.len() as i64, rows);
            prop_assert!(index.values().all(|&n| n == 1));
        }
    }
}
