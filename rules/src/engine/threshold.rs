//! `threshold` and `detection_filter`: whether a match becomes an alert.
//!
//! State per (rule, tracked key) lives in a bounded table (by_src, by_dst, by_both,
//! by_rule) or in the flow (by_flow). Times are packet times in seconds.

use std::net::IpAddr;

use crate::bounded::BoundedMap;

use crate::signature::{Threshold, ThresholdKind, Track};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    active: bool,
    first: i64,
    count: u32,
    /// Backoff: the match count that alerts next.
    next: u64,
}

impl Entry {
    /// Records one match at `now`; returns true if it should alert.
    pub fn hit(&mut self, t: &Threshold, now: i64) -> bool {
        let in_window = self.active && now - self.first < t.seconds as i64;
        match t.kind {
            ThresholdKind::Limit => {
                if in_window {
                    self.count = self.count.saturating_add(1);
                    self.count <= t.count
                } else {
                    *self = Entry { active: true, first: now, count: 1, next: 0 };
                    true
                }
            }
            ThresholdKind::Threshold => {
                if in_window {
                    self.count = self.count.saturating_add(1);
                } else {
                    *self = Entry { active: true, first: now, count: 1, next: 0 };
                }
                if self.count >= t.count {
                    self.count = 0;
                    true
                } else {
                    false
                }
            }
            ThresholdKind::Both => {
                if in_window {
                    self.count = self.count.saturating_add(1);
                } else {
                    *self = Entry { active: true, first: now, count: 1, next: 0 };
                }
                self.count == t.count
            }
            ThresholdKind::DetectionFilter => {
                if in_window {
                    self.count = self.count.saturating_add(1);
                } else {
                    *self = Entry { active: true, first: now, count: 1, next: 0 };
                }
                self.count > t.count
            }
            ThresholdKind::Backoff => {
                // Alerts on the first match, then on count*m, count*m^2, ... (Suricata 8).
                self.count = self.count.saturating_add(1);
                if self.count == 1 {
                    self.next = t.count as u64 * t.multiplier as u64;
                    return true;
                }
                if self.count as u64 == self.next {
                    self.next = self.next.saturating_mul(t.multiplier as u64);
                    return true;
                }
                false
            }
        }
    }
}

/// The tracked key of a host-based threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Ip(IpAddr),
    Pair(IpAddr, IpAddr),
    Rule,
}

/// Host-based threshold state, bounded to `capacity` entries: a new key in a full table
/// takes the place of the oldest one in constant time (a flood of spoofed sources
/// neither slows matching down nor turns the threshold off for the keys still tracked).
#[derive(Debug)]
pub struct ThresholdTable {
    map: BoundedMap<(u32, Key), Entry>,
    /// The rule set (its id) whose indices the entries use.
    pub set_id: u64,
}

impl ThresholdTable {
    /// A table of at most `capacity` entries for the rule set `set_id`.
    pub fn new(capacity: usize, set_id: u64) -> Self {
        ThresholdTable { map: BoundedMap::new(capacity), set_id }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// No entry held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Entries given up to make room for new ones.
    pub fn evicted(&self) -> u64 {
        self.map.evicted
    }

    /// Re-keys the entries to a reloaded rule set's indices; entries of rules it does
    /// not have are dropped.
    pub fn migrate(&mut self, m: &super::Migration) {
        let capacity = self.map.capacity();
        let old = std::mem::replace(&mut self.map, BoundedMap::new(capacity));
        let evicted = old.evicted;
        for ((r, k), e) in old.into_ordered() {
            if let Some(n) = m.rule(r) {
                *self.map.get_or_insert_with((n, k), Entry::default).0 = e;
            }
        }
        self.map.evicted = evicted;
    }

    /// Records a match of rule `rule` (index) and says whether it alerts.
    pub fn hit(&mut self, rule: u32, t: &Threshold, src: IpAddr, dst: IpAddr, now: i64) -> bool {
        let key = match t.track {
            Track::BySrc => Key::Ip(src),
            Track::ByDst => Key::Ip(dst),
            Track::ByBoth => Key::Pair(src, dst),
            Track::ByRule => Key::Rule,
            // Flow-tracked thresholds never reach the host table.
            Track::ByFlow => Key::Rule,
        };
        self.map.get_or_insert_with((rule, key), Entry::default).0.hit(t, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn th(kind: ThresholdKind, count: u32, seconds: u32, multiplier: u32) -> Threshold {
        Threshold { kind, track: Track::ByFlow, count, seconds, multiplier }
    }

    fn alerts(t: &Threshold, times: &[i64]) -> usize {
        let mut e = Entry::default();
        times.iter().filter(|&&now| e.hit(t, now)).count()
    }

    #[test]
    fn limit_threshold_both_filter() {
        let eight = [0, 1, 2, 3, 4, 5, 6, 7];
        assert_eq!(alerts(&th(ThresholdKind::Limit, 1, 3600, 0), &eight), 1);
        assert_eq!(alerts(&th(ThresholdKind::Limit, 2, 3600, 0), &eight), 2);
        assert_eq!(alerts(&th(ThresholdKind::Both, 3, 3600, 0), &eight), 1);
        assert_eq!(alerts(&th(ThresholdKind::Threshold, 3, 3600, 0), &eight), 2);
        assert_eq!(alerts(&th(ThresholdKind::DetectionFilter, 5, 3600, 0), &eight), 3);
        // A new window starts after `seconds`.
        assert_eq!(alerts(&th(ThresholdKind::Limit, 1, 2, 0), &eight), 4);
    }

    #[test]
    fn backoff_sequence() {
        let many: Vec<i64> = vec![0; 6676];
        assert_eq!(alerts(&th(ThresholdKind::Backoff, 1, 0, 2), &many), 13);
        assert_eq!(alerts(&th(ThresholdKind::Backoff, 3, 0, 2), &many), 12);
        assert_eq!(alerts(&th(ThresholdKind::Backoff, 5, 0, 5), &many), 5);
    }

    #[test]
    fn table_is_bounded() {
        let t = Threshold {
            kind: ThresholdKind::Limit,
            track: Track::BySrc,
            count: 1,
            seconds: 60,
            multiplier: 0,
        };
        let mut table = ThresholdTable::new(10, 0);
        let dst: IpAddr = "10.0.0.1".parse().unwrap();
        let src = |i: u32| IpAddr::from(std::net::Ipv4Addr::from(i));
        for i in 0..100u32 {
            assert!(table.hit(0, &t, src(i), dst, 0));
        }
        assert_eq!(table.len(), 10);
        assert_eq!(table.evicted(), 90);
        // The sources still tracked stay limited: a full table does not let every
        // match alert.
        assert!(!table.hit(0, &t, src(99), dst, 1));
        assert!(!table.hit(0, &t, src(95), dst, 1));
        // The oldest gave its place: tracked afresh.
        assert!(table.hit(0, &t, src(0), dst, 1));
    }
}
