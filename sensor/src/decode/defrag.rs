//! IPv4 and IPv6 fragment reassembly, bounded.
//!
//! Overlap policy: **first wins** — bytes already received are kept; a later fragment
//! only fills gaps. A later fragment whose overlapping bytes differ is counted as a
//! conflict (the classic evasion). Bounds: number of datagrams being reassembled, total
//! buffered bytes and a timeout, each counted when hit.

use gatewatch_rules::bounded::BoundedMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::{DecodeEvents, Fragment, L3};

/// Largest reassembled IP payload (an IPv4 datagram is at most 65,535 bytes).
const MAX_DATAGRAM: u32 = 65_535;

/// `[defrag]`: IP reassembly bounds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DefragConfig {
    /// Datagrams under reassembly at once; the oldest is dropped beyond this.
    pub max_trackers: usize,
    /// Bytes buffered over all datagrams; fragments beyond are dropped.
    pub memcap_bytes: usize,
    /// Seconds a datagram may wait for its missing fragments.
    pub timeout_secs: u32,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig { max_trackers: 65_535, memcap_bytes: 32 << 20, timeout_secs: 60 }
    }
}

/// Counters of reassembly.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct DefragStats {
    /// Fragments and packets reassembled, of IPv4 (`[0]`) and IPv6 (`[1]`).
    pub(crate) fragments: [u64; 2],
    pub(crate) reassembled: [u64; 2],
    pub(crate) overlaps: u64,
    pub(crate) overlap_conflicts: u64,
    pub(crate) timeouts: u64,
    pub(crate) tracker_evictions: u64,
    pub(crate) memcap_drops: u64,
    pub(crate) too_large: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
    vlan: [u16; 3],
}

#[derive(Debug)]
struct Tracker {
    first_us: i64,
    data: Vec<u8>,
    /// Received byte ranges, sorted, disjoint, half-open.
    have: Vec<(u32, u32)>,
    total: Option<u32>,
}

impl Tracker {
    /// Fills the gaps of the fragment's range with its bytes (the first copy of a
    /// byte wins) and compares the overlaps: (overlapped, differently).
    fn fill(&mut self, start: u32, payload: &[u8]) -> (bool, bool) {
        let end = start + payload.len() as u32;
        let mut cursor = start;
        let mut overlapped = false;
        let mut conflict = false;
        for &(a, b) in self.have.iter() {
            if b <= cursor || a >= end {
                continue;
            }
            if a > cursor {
                let (s, e) = (cursor as usize, a as usize);
                self.data[s..e].copy_from_slice(&payload[s - start as usize..e - start as usize]);
            }
            let (os, oe) = (a.max(start) as usize, b.min(end) as usize);
            overlapped = true;
            if self.data[os..oe] != payload[os - start as usize..oe - start as usize] {
                conflict = true;
            }
            cursor = cursor.max(b);
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            let (s, e) = (cursor as usize, end as usize);
            self.data[s..e].copy_from_slice(&payload[s - start as usize..]);
        }
        (overlapped, conflict)
    }

    /// Merges `[start, end)` into the received ranges.
    fn merge(&mut self, start: u32, end: u32) {
        self.have.push((start, end));
        self.have.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(self.have.len());
        for &(a, b) in &self.have {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.have = merged;
    }
}

/// IPv4 and IPv6 fragment reassembly, bounded in trackers, bytes and time.
pub struct Defrag {
    cfg: DefragConfig,
    /// Datagrams in reassembly, oldest first: the oldest gives way in constant time
    /// when the table is full or its timeout passed.
    trackers: BoundedMap<Key, Tracker>,
    bytes: usize,
    /// Counters since it was made.
    pub stats: DefragStats,
}

impl Defrag {
    /// A reassembler with these bounds.
    pub fn new(cfg: DefragConfig) -> Self {
        Defrag {
            trackers: BoundedMap::new(cfg.max_trackers),
            cfg,
            bytes: 0,
            stats: DefragStats::default(),
        }
    }

    /// Datagrams being reassembled.
    pub fn in_progress(&self) -> usize {
        self.trackers.len()
    }

    /// Fragment bytes held.
    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    fn remove(&mut self, key: &Key) {
        if let Some(t) = self.trackers.remove(key) {
            self.bytes -= t.data.len();
        }
    }

    /// Gives up the datagrams whose timeout passed, oldest first: each one is looked at
    /// once, so the cost stays constant per fragment whatever the table holds.
    fn sweep(&mut self, now_us: i64) {
        let timeout = self.cfg.timeout_secs as i64 * 1_000_000;
        while let Some((_, t)) = self.trackers.oldest() {
            if now_us - t.first_us <= timeout {
                return;
            }
            if let Some((_, t)) = self.trackers.pop_oldest() {
                self.stats.timeouts += 1;
                self.bytes -= t.data.len();
            }
        }
    }

    /// Adds a fragment; the datagram once complete. Events of the fragment itself
    /// (overlap, bad length, too large) are added to `events`.
    pub fn insert(
        &mut self,
        l3: &L3<'_>,
        frag: Fragment,
        now_us: i64,
        events: &mut DecodeEvents,
    ) -> Option<Vec<u8>> {
        self.stats.fragments[usize::from(l3.src.is_ipv6())] += 1;
        if frag.more && !l3.payload.len().is_multiple_of(8) {
            events.insert(DecodeEvents::FRAG_INVALID_LENGTH);
        }
        self.sweep(now_us);
        let key = Key { src: l3.src, dst: l3.dst, id: frag.id, proto: l3.proto, vlan: l3.vlan };
        let start = frag.offset;
        let end = start + l3.payload.len() as u32;
        if end > MAX_DATAGRAM {
            events.insert(DecodeEvents::FRAG_PKT_TOO_LARGE);
            self.stats.too_large += 1;
            self.remove(&key);
            return None;
        }
        let (_, evicted) = self.trackers.get_or_insert_with(key, || Tracker {
            first_us: now_us,
            data: Vec::new(),
            have: Vec::new(),
            total: None,
        });
        // The table was full: the oldest datagram gave way.
        if let Some((_, old)) = evicted {
            self.stats.tracker_evictions += 1;
            self.bytes -= old.data.len();
        }
        let grow = {
            let t = self.trackers.get(&key)?;
            (end as usize).saturating_sub(t.data.len())
        };
        if self.bytes + grow > self.cfg.memcap_bytes {
            self.stats.memcap_drops += 1;
            return None;
        }
        let t = self.trackers.get_mut(&key)?;
        if !frag.more {
            match t.total {
                Some(tot) if tot != end => self.stats.overlap_conflicts += 1,
                Some(_) => {}
                None => t.total = Some(end),
            }
        }
        if t.data.len() < end as usize {
            self.bytes += grow;
            t.data.resize(end as usize, 0);
        }
        let (overlapped, conflict) = t.fill(start, l3.payload);
        if overlapped {
            events.insert(DecodeEvents::FRAG_OVERLAP);
            self.stats.overlaps += 1;
        }
        if conflict {
            self.stats.overlap_conflicts += 1;
        }
        t.merge(start, end);
        let done = matches!((t.total, t.have.as_slice()), (Some(tot), [(0, e)]) if *e >= tot);
        if done {
            let tot = t.total.unwrap_or(0) as usize;
            let mut tr = self.trackers.remove(&key)?;
            self.bytes -= tr.data.len();
            tr.data.truncate(tot);
            self.stats.reassembled[usize::from(key.src.is_ipv6())] += 1;
            return Some(tr.data);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l3(payload: &[u8]) -> L3<'_> {
        L3 {
            version: 4,
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            proto: 17,
            ttl: 64,
            ip_id: 7,
            frag_bits: 0,
            fragment: None,
            vlan: [0; 3],
            header: &[],
            payload,
            events: Default::default(),
        }
    }

    fn frag(offset: u32, more: bool) -> Fragment {
        Fragment { id: 7, offset, more }
    }

    #[test]
    fn out_of_order_and_first_wins() {
        let mut d = Defrag::new(DefragConfig::default());
        assert!(d.insert(&l3(b"CCCC"), frag(16, false), 0, &mut DecodeEvents::default()).is_none());
        assert!(d
            .insert(&l3(b"AAAAAAAA"), frag(0, true), 0, &mut DecodeEvents::default())
            .is_none());
        // Overlaps 8..16 fully and conflicts with nothing yet; then a conflicting copy.
        let mut ev = DecodeEvents::default();
        assert!(d.insert(&l3(b"XXXXXXXX"), frag(4, true), 0, &mut ev).is_none());
        assert_eq!(ev.names(4).collect::<Vec<_>>(), ["ipv4.frag_overlap"]);
        let out =
            d.insert(&l3(b"BBBBBBBB"), frag(8, true), 0, &mut DecodeEvents::default()).unwrap();
        // First wins: A keeps 4..8, X keeps 8..12.
        assert_eq!(&out, b"AAAAAAAAXXXXBBBBCCCC");
        assert_eq!(d.stats.reassembled, [1, 0]);
        assert!(d.stats.overlap_conflicts >= 2);
        assert_eq!(d.buffered_bytes(), 0);
        // Not the last fragment, yet not a multiple of 8 bytes.
        let mut ev = DecodeEvents::default();
        d.insert(&l3(b"abc"), Fragment { id: 8, offset: 0, more: true }, 0, &mut ev);
        assert_eq!(ev.names(6).collect::<Vec<_>>(), ["ipv6.frag_invalid_length"]);
    }

    /// Hardening finding 2: a flood of first fragments that never complete fills the
    /// table; each further one evicts the oldest datagram (counted) instead of scanning
    /// the table, and recent datagrams still reassemble.
    #[test]
    fn fragment_flood_is_bounded_with_evictions_counted() {
        let mut d = Defrag::new(DefragConfig::default());
        let cap = DefragConfig::default().max_trackers;
        let n = 200_000u32;
        for id in 0..n {
            let f = Fragment { id, offset: 0, more: true };
            d.insert(&l3(b"abcdefgh"), f, i64::from(id), &mut DecodeEvents::default());
        }
        assert_eq!(d.in_progress(), cap);
        assert_eq!(d.stats.tracker_evictions, u64::from(n) - cap as u64);
        assert_eq!(d.buffered_bytes(), cap * 8);
        let last = |id: u32| Fragment { id, offset: 8, more: false };
        // The newest datagram completes; the oldest was given up.
        let newest = d.insert(&l3(b"ijkl"), last(n - 1), 1, &mut DecodeEvents::default());
        assert_eq!(newest.as_deref(), Some(&b"abcdefghijkl"[..]));
        assert!(d.insert(&l3(b"ijkl"), last(0), 1, &mut DecodeEvents::default()).is_none());
    }

    #[test]
    fn bounds_are_counted() {
        let mut d =
            Defrag::new(DefragConfig { max_trackers: 2, memcap_bytes: 100, timeout_secs: 1 });
        for id in 0..5 {
            let f = Fragment { id, offset: 0, more: true };
            d.insert(&l3(b"abcdefgh"), f, 0, &mut DecodeEvents::default());
        }
        assert_eq!(d.in_progress(), 2);
        assert_eq!(d.stats.tracker_evictions, 3);
        d.insert(
            &l3(&[0u8; 200]),
            Fragment { id: 99, offset: 0, more: true },
            0,
            &mut DecodeEvents::default(),
        );
        assert_eq!(d.stats.memcap_drops, 1);
        d.insert(
            &l3(b"x"),
            Fragment { id: 50, offset: 65_535, more: false },
            0,
            &mut DecodeEvents::default(),
        );
        assert_eq!(d.stats.too_large, 1);
        d.insert(
            &l3(b"abcdefgh"),
            Fragment { id: 77, offset: 8, more: true },
            5_000_000,
            &mut DecodeEvents::default(),
        );
        assert!(d.stats.timeouts >= 2);
    }

    proptest::proptest! {
        /// Any order and duplication of a datagram's fragments gives the datagram back.
        #[test]
        fn any_order_reassembles(len in 9usize..200, cut in proptest::collection::vec(1usize..40, 1..10),
                                 order in proptest::collection::vec(0usize..100, 1..30)) {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let mut pieces = Vec::new();
            let mut off = 0;
            for c in cut.iter().cycle() {
                if off >= len { break; }
                let step = (c * 8).min(len - off);
                pieces.push((off, off + step));
                off += step;
            }
            let mut d = Defrag::new(DefragConfig::default());
            let mut result = None;
            let mut seq: Vec<usize> = order.iter().map(|o| o % pieces.len()).collect();
            seq.extend(0..pieces.len());
            for i in seq {
                let (a, b) = pieces[i];
                if let Some(out) = d.insert(&l3(&data[a..b]), frag(a as u32, b != len), 0, &mut DecodeEvents::default()) {
                    result = Some(out);
                    break;
                }
            }
            proptest::prop_assert_eq!(result, Some(data));
        }
    }
}
