//! A map bounded in entries that gives up its oldest entry in constant time.
//!
//! State that traffic creates (IP fragment trackers, host thresholds) must stay bounded
//! without costing a scan of the whole table per packet once it is full: an attacker
//! who fills it would otherwise make every further packet pay for the whole table.
//! Entries are kept in insertion order in a queue beside the map; a removed entry
//! leaves a stale slot in the queue that is skipped when reached, and the queue is
//! rebuilt when stale slots outnumber live ones, so every operation is O(1) amortised.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// A map of at most `capacity` entries; inserting into a full map evicts the entry
/// inserted first (counted in [`BoundedMap::evicted`]).
#[derive(Debug)]
pub struct BoundedMap<K, V> {
    /// Each value with the insertion number its queue slot carries.
    map: HashMap<K, (u64, V)>,
    /// (key, insertion number), oldest first; stale when the map holds another number.
    order: VecDeque<(K, u64)>,
    next: u64,
    capacity: usize,
    /// Entries evicted to make room.
    pub evicted: u64,
}

impl<K: Hash + Eq + Clone, V> BoundedMap<K, V> {
    /// A map of at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        BoundedMap {
            map: HashMap::new(),
            order: VecDeque::new(),
            next: 0,
            capacity: capacity.max(1),
            evicted: 0,
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// No entry held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The value of `k`.
    pub fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|(_, v)| v)
    }

    /// The value of `k`, mutably.
    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.map.get_mut(k).map(|(_, v)| v)
    }

    /// The value of `k`, inserted with `make` if absent; the oldest entry is evicted
    /// first when the map is full (returned, for the caller's accounting).
    pub fn get_or_insert_with(
        &mut self,
        k: K,
        make: impl FnOnce() -> V,
    ) -> (&mut V, Option<(K, V)>) {
        let mut gone = None;
        if !self.map.contains_key(&k) {
            if self.map.len() >= self.capacity {
                gone = self.pop_oldest();
                if gone.is_some() {
                    self.evicted += 1;
                }
            }
            let n = self.next;
            self.next += 1;
            self.order.push_back((k.clone(), n));
            self.map.insert(k.clone(), (n, make()));
        }
        let v = match self.map.get_mut(&k) {
            Some((_, v)) => v,
            None => unreachable!("inserted above"),
        };
        (v, gone)
    }

    /// Removes `k`.
    pub fn remove(&mut self, k: &K) -> Option<V> {
        let (_, v) = self.map.remove(k)?;
        self.compact();
        Some(v)
    }

    /// The entry inserted first, if any.
    pub fn oldest(&mut self) -> Option<(&K, &V)> {
        self.skip_stale();
        let (k, _) = self.order.front()?;
        self.map.get_key_value(k).map(|(k, (_, v))| (k, v))
    }

    /// Removes and returns the entry inserted first.
    pub fn pop_oldest(&mut self) -> Option<(K, V)> {
        self.skip_stale();
        let (k, _) = self.order.pop_front()?;
        let (_, v) = self.map.remove(&k)?;
        Some((k, v))
    }

    /// All entries, oldest first.
    pub fn into_ordered(mut self) -> Vec<(K, V)> {
        let mut out = Vec::with_capacity(self.map.len());
        while let Some(kv) = self.pop_oldest() {
            out.push(kv);
        }
        out
    }

    /// Drops the stale slots at the front of the queue.
    fn skip_stale(&mut self) {
        while let Some((k, n)) = self.order.front() {
            if self.map.get(k).is_some_and(|(m, _)| m == n) {
                return;
            }
            self.order.pop_front();
        }
    }

    /// Rebuilds the queue when stale slots outnumber live entries (amortised O(1)).
    fn compact(&mut self) {
        if self.order.len() <= 2 * self.map.len() + 64 {
            return;
        }
        let map = &self.map;
        self.order.retain(|(k, n)| map.get(k).is_some_and(|(m, _)| m == n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_oldest_goes_first_when_full() {
        let mut m = BoundedMap::new(2);
        m.get_or_insert_with(1, || "a");
        m.get_or_insert_with(2, || "b");
        // Touching an entry does not make it younger: insertion order.
        *m.get_or_insert_with(1, || "x").0 = "a2";
        let (_, gone) = m.get_or_insert_with(3, || "c");
        assert_eq!(gone, Some((1, "a2")));
        assert_eq!((m.len(), m.evicted), (2, 1));
        assert_eq!(m.remove(&2), Some("b"));
        // A key removed and inserted again is young again.
        m.get_or_insert_with(2, || "b2");
        assert_eq!(m.oldest(), Some((&3, &"c")));
        assert_eq!(m.into_ordered(), vec![(3, "c"), (2, "b2")]);
    }

    proptest! {
        /// Against a model (a vector in insertion order): same contents, same
        /// evictions, and the queue never holds more than a bounded number of stale
        /// slots.
        #[test]
        fn behaves_as_an_insertion_ordered_bounded_map(
            cap in 1usize..8,
            ops in proptest::collection::vec((0u8..3, 0u16..12), 0..300),
        ) {
            let mut m = BoundedMap::new(cap);
            let mut model: Vec<(u16, u32)> = Vec::new();
            let mut evicted = 0u64;
            for (i, (op, k)) in ops.into_iter().enumerate() {
                match op {
                    0 => {
                        let (v, gone) = m.get_or_insert_with(k, || i as u32);
                        let got = *v;
                        let want_gone = if model.iter().any(|(mk, _)| *mk == k) {
                            None
                        } else {
                            let g = (model.len() >= cap).then(|| model.remove(0));
                            evicted += u64::from(g.is_some());
                            model.push((k, i as u32));
                            g
                        };
                        prop_assert_eq!(gone, want_gone);
                        let want = model.iter().find(|(mk, _)| *mk == k).map(|(_, v)| *v);
                        prop_assert_eq!(Some(got), want);
                    }
                    1 => {
                        let want = model.iter().position(|(mk, _)| *mk == k).map(|p| model.remove(p).1);
                        prop_assert_eq!(m.remove(&k), want);
                    }
                    _ => {
                        let want = (!model.is_empty()).then(|| model.remove(0));
                        prop_assert_eq!(m.pop_oldest(), want);
                    }
                }
                prop_assert_eq!(m.len(), model.len());
                prop_assert_eq!(m.evicted, evicted);
                prop_assert!(m.order.len() <= 2 * m.map.len() + 65);
            }
            prop_assert_eq!(m.into_ordered(), model);
        }
    }
}
