//! Bits kept per host and per host pair (`hostbits`, `xbits`), shared by every flow
//! and every worker of a rule set, each with an expiry in capture time; and the host
//! tags (`tag:host`), each with what is left of its budget.
//!
//! The table is bounded: when it holds [`MAX_HOSTS`] hosts, expired bits are swept (at
//! most once per second of capture time) and a bit for a new host that still finds no
//! room is refused and counted, never grown past the bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::signature::tag::TagBudget;
use crate::signature::{BitTarget, FlowbitCmd, HostBit};

/// Most hosts and host pairs with bits.
pub const MAX_HOSTS: usize = 200_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Host(IpAddr),
    /// The lower address first: a pair has no direction.
    Pair(IpAddr, IpAddr),
}

#[derive(Debug, Default)]
pub struct HostBits {
    /// (name, expiry in capture seconds) of the bits of each host.
    map: HashMap<Key, Vec<(Arc<str>, i64)>>,
    /// Capture second before which no sweep is tried again.
    next_sweep: i64,
    /// Bits not set because the table was full of live entries.
    pub refused: u64,
    /// Host tags: the budget of each (sid) that tagged a host.
    tags: HashMap<IpAddr, Vec<(u32, TagBudget)>>,
    /// Host tags not set because [`MAX_HOSTS`] hosts were tagged.
    pub tags_refused: u64,
}

/// The table shared by the detectors of one rule set.
pub type SharedHostBits = Arc<Mutex<HostBits>>;

pub(super) fn lock(t: &SharedHostBits) -> MutexGuard<'_, HostBits> {
    t.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn keys(target: BitTarget, src: IpAddr, dst: IpAddr) -> ([Option<Key>; 2], usize) {
    match target {
        BitTarget::Src => ([Some(Key::Host(src)), None], 1),
        BitTarget::Dst => ([Some(Key::Host(dst)), None], 1),
        BitTarget::Both => ([Some(Key::Host(src)), Some(Key::Host(dst))], 2),
        BitTarget::Pair => ([Some(Key::Pair(src.min(dst), src.max(dst))), None], 1),
    }
}

impl HostBits {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn is_set_at(&self, key: Key, name: &str, now: i64) -> bool {
        self.map
            .get(&key)
            .is_some_and(|bits| bits.iter().any(|(n, exp)| &**n == name && *exp > now))
    }

    /// Does the condition `b` (isset or isnotset) hold for this packet? For `both`,
    /// isset holds when either host has the bit, isnotset when neither has.
    pub fn check(&self, b: &HostBit, src: IpAddr, dst: IpAddr, now: i64) -> bool {
        let (ks, n) = keys(b.target, src, dst);
        let any = ks[..n].iter().flatten().any(|&k| self.is_set_at(k, &b.name, now));
        match b.cmd {
            FlowbitCmd::IsSet => any,
            FlowbitCmd::IsNotSet => !any,
            _ => true,
        }
    }

    /// Applies a set, unset or toggle of a rule that matched.
    pub fn apply(&mut self, b: &HostBit, src: IpAddr, dst: IpAddr, now: i64) {
        let (ks, n) = keys(b.target, src, dst);
        for &k in ks[..n].iter().flatten() {
            let set = match b.cmd {
                FlowbitCmd::Set => true,
                FlowbitCmd::Unset => false,
                FlowbitCmd::Toggle => !self.is_set_at(k, &b.name, now),
                FlowbitCmd::IsSet | FlowbitCmd::IsNotSet => continue,
            };
            if set {
                self.set(k, &b.name, now.saturating_add(i64::from(b.expire)), now);
            } else if let Some(bits) = self.map.get_mut(&k) {
                bits.retain(|(n, _)| **n != *b.name);
                if bits.is_empty() {
                    self.map.remove(&k);
                }
            }
        }
    }

    fn set(&mut self, key: Key, name: &Arc<str>, expiry: i64, now: i64) {
        if !self.map.contains_key(&key) && self.map.len() >= MAX_HOSTS {
            if now >= self.next_sweep {
                self.sweep(now);
                self.next_sweep = now.saturating_add(1);
            }
            if self.map.len() >= MAX_HOSTS {
                self.refused += 1;
                return;
            }
        }
        let bits = self.map.entry(key).or_default();
        match bits.iter_mut().find(|(n, _)| n == name) {
            Some(b) => b.1 = expiry,
            None => bits.push((name.clone(), expiry)),
        }
    }

    /// Tags `host` for rule `sid` (a rule tagging a host again starts its budget over).
    pub fn tag_host(&mut self, host: IpAddr, sid: u32, budget: TagBudget) {
        if !self.tags.contains_key(&host) && self.tags.len() >= MAX_HOSTS {
            self.tags_refused += 1;
            return;
        }
        let tags = self.tags.entry(host).or_default();
        match tags.iter_mut().find(|(s, _)| *s == sid) {
            Some(t) => t.1 = budget,
            None => tags.push((sid, budget)),
        }
    }

    /// Counts a packet against the tags of its hosts; true when one of them logs it.
    /// Spent tags are dropped.
    pub fn take_host_tags(&mut self, src: IpAddr, dst: IpAddr, now: i64, len: usize) -> bool {
        if self.tags.is_empty() {
            return false;
        }
        let mut logged = false;
        let hosts = [Some(src), (dst != src).then_some(dst)];
        for host in hosts.into_iter().flatten() {
            let Some(tags) = self.tags.get_mut(&host) else { continue };
            tags.retain_mut(|(_, b)| {
                let live = b.take(now, len);
                logged |= live;
                live
            });
            if tags.is_empty() {
                self.tags.remove(&host);
            }
        }
        logged
    }

    /// Drops every expired bit, and hosts left with none.
    fn sweep(&mut self, now: i64) {
        self.map.retain(|_, bits| {
            bits.retain(|(_, exp)| *exp > now);
            !bits.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bit(cmd: FlowbitCmd, target: BitTarget, expire: u32) -> HostBit {
        HostBit { cmd, name: "b".into(), target, expire }
    }

    #[test]
    fn set_check_expire_unset() {
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let mut t = HostBits::default();
        let isset = |target| bit(FlowbitCmd::IsSet, target, 30);
        t.apply(&bit(FlowbitCmd::Set, BitTarget::Src, 30), a, b, 100);
        assert!(t.check(&isset(BitTarget::Src), a, b, 100));
        // The same host seen as destination of another flow.
        assert!(t.check(&isset(BitTarget::Dst), b, a, 120));
        assert!(!t.check(&isset(BitTarget::Dst), a, b, 100));
        // Expired after 30 s of capture time.
        assert!(!t.check(&isset(BitTarget::Src), a, b, 130));
        // A pair has no direction.
        t.apply(&bit(FlowbitCmd::Set, BitTarget::Pair, 30), a, b, 100);
        assert!(t.check(&isset(BitTarget::Pair), b, a, 101));
        t.apply(&bit(FlowbitCmd::Toggle, BitTarget::Pair, 30), b, a, 102);
        assert!(!t.check(&isset(BitTarget::Pair), a, b, 103));
        assert!(t.check(&bit(FlowbitCmd::IsNotSet, BitTarget::Pair, 30), a, b, 103));
        t.apply(&bit(FlowbitCmd::Unset, BitTarget::Src, 30), a, b, 104);
        assert!(t.is_empty());
    }

    #[test]
    fn bounded_with_sweep() {
        let mut t = HostBits::default();
        let set = bit(FlowbitCmd::Set, BitTarget::Src, 1);
        let ip = |i: usize| IpAddr::from([10, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
        for i in 0..MAX_HOSTS {
            t.apply(&set, ip(i), ip(0), 0);
        }
        // Full of live bits: refused.
        t.apply(&set, ip(MAX_HOSTS), ip(0), 0);
        assert_eq!((t.len(), t.refused), (MAX_HOSTS, 1));
        // Later every bit has expired: the sweep makes room.
        t.apply(&set, ip(MAX_HOSTS), ip(0), 5);
        assert_eq!(t.len(), 1);
    }
}
