//! A multi-literal matcher for bulk data (payloads, stream chunks, HTTP bodies), for
//! sets of thousands of patterns where an Aho-Corasick DFA no longer fits in cache.
//!
//! Each pattern of at least [`WINDOW`] bytes is represented by its rarest window of
//! four bytes (by a byte-frequency heuristic: `\0`, spaces, line ends and common
//! letters are poor choices, rare bytes good ones). The data, lowercased, is read four
//! bytes at a time: a hash of each window is tested in a 32 KiB bit set, which rejects
//! almost every position with one cache-resident load; the few that pass are compared
//! with the windows in their hash bucket, and then with the whole pattern. Patterns
//! shorter than the window are found in the same pass: one-byte patterns by a table of
//! bytes, two- and three-byte ones by a bit set of their first two bytes.
//!
//! Every occurrence of a pattern is found, as with Aho-Corasick; a pattern already
//! reported for the buffer (`done`) is not verified again.

use std::ops::ControlFlow;

/// Bytes per window.
pub(crate) const WINDOW: usize = 4;
/// log2 of the bit set size: 2^18 bits, 32 KiB.
const BITS: u32 = 18;
/// log2 of the number of buckets.
const BUCKETS: u32 = 12;

/// How common a byte is in network data, 0 (rare) to 255 (everywhere); of lowercased
/// bytes. A heuristic, not measured on any one capture.
fn rank(b: u8) -> u32 {
    match b {
        0x00 => 255,
        b' ' => 230,
        b'\r' | b'\n' => 220,
        0xff => 200,
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' => 180,
        b'h' | b'l' | b'd' | b'c' | b'u' | b'm' | b'p' => 150,
        b'0'..=b'9' => 140,
        b'/' | b'.' | b'=' | b':' | b'-' | b'_' | b'&' | b'%' | b'"' => 140,
        b'a'..=b'z' => 110,
        0x01..=0x08 | 0x10 | 0x20..=0x7e => 90,
        0x80..=0xfe => 60,
        _ => 70,
    }
}

/// Where each two-byte key's patterns start in the sorted list of (key, pattern).
fn starts(pairs: &[(u16, u32)]) -> Vec<u32> {
    let mut start = vec![0u32; (1 << 16) + 1];
    for (k, _) in pairs {
        start[*k as usize + 1] += 1;
    }
    for k in 0..(1usize << 16) {
        start[k + 1] += start[k];
    }
    start
}

fn hash(w: u32) -> u32 {
    w.wrapping_mul(0x9E37_79B1) >> (32 - BITS)
}

fn window(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The offset of the rarest window of `p` (at least [`WINDOW`] bytes long).
fn rarest(p: &[u8]) -> usize {
    (0..=p.len() - WINDOW)
        .min_by_key(|&i| p[i..i + WINDOW].iter().map(|&b| rank(b)).sum::<u32>())
        .unwrap_or(0)
}

#[derive(Debug, Clone)]
struct Slot {
    /// The window's bytes, as read from the lowercased data.
    key: u32,
    /// The pattern, and where its window is in it.
    pattern: u32,
    at: u32,
}

/// Lowercased patterns, each reported by index.
#[derive(Debug)]
pub(crate) struct HashedSet {
    /// A fixed-size array: the hash cannot index past it, and the scan's probe needs no
    /// bounds check.
    bits: Box<[u64; 1 << (BITS - 6)]>,
    /// `bucket_start[b]..bucket_start[b + 1]` index `slots`.
    bucket_start: Vec<u32>,
    slots: Vec<Slot>,
    patterns: Vec<Box<[u8]>>,
    /// One-byte patterns by their byte.
    ones: Vec<Vec<u32>>,
    /// Two- and three-byte patterns: a bit per first two bytes, and the patterns.
    pair_bits: Vec<u64>,
    /// `pair_start[k]..pair_start[k + 1]` index `pair_ids` (empty without pairs).
    pair_start: Vec<u32>,
    pair_ids: Vec<u32>,
    short: usize,
    /// The short patterns end within `lower[..short_reach]`.
    short_reach: usize,
    /// The distinct first bytes of the short patterns, as a list and as a table.
    short_starts: Vec<u8>,
    short_start_bits: [u64; 4],
    /// Distinct bytes with one-byte patterns, and distinct first pairs: when that many
    /// are retired, no short pattern is left to find.
    one_bytes: usize,
    pair_keys: usize,
}

impl HashedSet {
    /// `patterns` must be lowercase: the data is searched lowercased. `reach[i]`: the
    /// offset pattern `i` cannot end after (`u64::MAX`: anywhere); the pass over the
    /// short patterns goes no further than the furthest of theirs.
    pub(crate) fn new(patterns: &[Vec<u8>], reach: &[u64]) -> HashedSet {
        let mut bits = Box::new([0u64; 1 << (BITS - 6)]);
        let mut slots: Vec<(u32, Slot)> = Vec::new();
        let mut ones = vec![Vec::new(); 256];
        let mut pair_bits = vec![0u64; 1 << 10];
        let mut pairs: Vec<(u16, u32)> = Vec::new();
        let mut short = 0;
        for (i, p) in patterns.iter().enumerate() {
            if p.len() < WINDOW {
                short += !p.is_empty() as usize;
                match p.len() {
                    0 => {}
                    1 => ones[p[0] as usize].push(i as u32),
                    _ => {
                        let k = u16::from_le_bytes([p[0], p[1]]);
                        pair_bits[(k >> 6) as usize] |= 1 << (k & 63);
                        pairs.push((k, i as u32));
                    }
                }
                continue;
            }
            let at = rarest(p);
            let key = window(p, at);
            let h = hash(key);
            bits[(h >> 6) as usize] |= 1 << (h & 63);
            slots.push((h >> (BITS - BUCKETS), Slot { key, pattern: i as u32, at: at as u32 }));
        }
        slots.sort_by_key(|(b, s)| (*b, s.pattern));
        let mut bucket_start = vec![0u32; (1 << BUCKETS) + 1];
        for (b, _) in &slots {
            bucket_start[*b as usize + 1] += 1;
        }
        for b in 0..(1usize << BUCKETS) {
            bucket_start[b + 1] += bucket_start[b];
        }
        let mut short_starts: Vec<u8> =
            patterns.iter().filter(|p| (1..WINDOW).contains(&p.len())).map(|p| p[0]).collect();
        short_starts.sort_unstable();
        short_starts.dedup();
        let one_bytes = ones.iter().filter(|v| !v.is_empty()).count();
        let mut keys: Vec<u16> = pairs.iter().map(|(k, _)| *k).collect();
        keys.sort_unstable();
        keys.dedup();
        let short_reach = patterns
            .iter()
            .zip(reach)
            .filter(|(p, _)| (1..WINDOW).contains(&p.len()))
            .map(|(_, &r)| usize::try_from(r).unwrap_or(usize::MAX))
            .max()
            .unwrap_or(0);
        let mut short_start_bits = [0u64; 4];
        short_starts.iter().for_each(|&b| short_start_bits[b as usize >> 6] |= 1 << (b & 63));
        HashedSet {
            short_reach,
            short_starts,
            short_start_bits,
            one_bytes,
            // More pairs than can be retired: never all retired.
            pair_keys: if keys.len() > 16 { usize::MAX } else { keys.len() },
            bits,
            bucket_start,
            slots: slots.into_iter().map(|(_, s)| s).collect(),
            patterns: patterns.iter().map(|p| p.clone().into_boxed_slice()).collect(),
            ones: if ones.iter().any(|v| !v.is_empty()) { ones } else { Vec::new() },
            pair_bits: if pairs.is_empty() { Vec::new() } else { pair_bits },
            pair_start: if pairs.is_empty() { Vec::new() } else { starts(&pairs) },
            pair_ids: {
                pairs.sort_unstable();
                pairs.iter().map(|(_, id)| *id).collect()
            },
            short,
        }
    }

    /// Patterns shorter than a window (searched by their own automaton).
    pub(crate) fn short_count(&self) -> usize {
        self.short
    }

    /// Reports `(pattern, start)` for every occurrence in `lower` (the data lowercased)
    /// of a pattern for which `done(pattern)` is false; `found` returns whether the
    /// pattern is now done.
    pub(crate) fn scan(
        &self,
        lower: &[u8],
        mut done: impl FnMut(u32) -> bool,
        mut found: impl FnMut(u32, usize),
    ) {
        if !self.ones.is_empty() || !self.pair_bits.is_empty() {
            self.scan_short(lower, &mut done, &mut found);
        }
        if lower.len() < WINDOW || self.slots.is_empty() {
            return;
        }
        // A window whose bucket held nothing left to verify: the same window at the
        // next position (inside a run of zeros, say) is not verified again.
        let mut idle: Option<u32> = None;
        let windows = lower.len() + 1 - WINDOW;
        // Four windows at a time from one 8-byte load, with one branch when none of
        // them is in the bit set (almost always).
        let mut i = 0;
        while i + 8 <= lower.len() {
            let chunk: [u8; 8] = lower[i..i + 8].try_into().unwrap_or_default();
            let x = u64::from_le_bytes(chunk);
            let ws = [x as u32, (x >> 8) as u32, (x >> 16) as u32, (x >> 24) as u32];
            let hits = ws.map(|w| self.probe(w));
            if hits != [false; 4] {
                for k in (0..4).filter(|&k| hits[k]) {
                    self.verify(lower, i + k, ws[k], &mut idle, &mut done, &mut found);
                }
            }
            i += 4;
        }
        for i in i..windows {
            let w = window(lower, i);
            if self.probe(w) {
                self.verify(lower, i, w, &mut idle, &mut done, &mut found);
            }
        }
    }

    /// Is window `w` (maybe) a pattern's?
    #[inline(always)]
    fn probe(&self, w: u32) -> bool {
        let h = hash(w);
        self.bits[(h >> 6) as usize] & (1 << (h & 63)) != 0
    }

    /// Window `w` starts at `i` and is in the bit set: compares it with the windows of
    /// its bucket, then the whole patterns.
    fn verify(
        &self,
        lower: &[u8],
        i: usize,
        w: u32,
        idle: &mut Option<u32>,
        done: &mut impl FnMut(u32) -> bool,
        found: &mut impl FnMut(u32, usize),
    ) {
        if *idle == Some(w) {
            return;
        }
        let b = (hash(w) >> (BITS - BUCKETS)) as usize;
        let (s, e) = (self.bucket_start[b] as usize, self.bucket_start[b + 1] as usize);
        let mut live = false;
        for slot in &self.slots[s..e] {
            if slot.key != w || done(slot.pattern) {
                continue;
            }
            live = true;
            let Some(start) = i.checked_sub(slot.at as usize) else { continue };
            let p = &self.patterns[slot.pattern as usize];
            if lower.get(start..start + p.len()) == Some(&p[..]) {
                found(slot.pattern, start);
            }
        }
        *idle = (!live).then_some(w);
    }

    /// The patterns shorter than a window, in one pass. With at most three distinct
    /// first bytes (most bulk groups have one or two short patterns) the pass jumps
    /// between their occurrences (`memchr`); it ends once every short pattern is done.
    fn scan_short(
        &self,
        lower: &[u8],
        done: &mut impl FnMut(u32) -> bool,
        found: &mut impl FnMut(u32, usize),
    ) {
        let mut state = ShortScan {
            retired_bytes: [false; 256],
            n_bytes: 0,
            retired_pairs: [0u16; 16],
            n_pairs: 0,
        };
        let lower = &lower[..lower.len().min(self.short_reach)];
        let mut visit = |i: usize| self.short_at(lower, i, &mut state, done, found);
        let _ = match self.short_starts.as_slice() {
            [a] => memchr::memchr_iter(*a, lower).try_for_each(&mut visit),
            [a, b] => memchr::memchr2_iter(*a, *b, lower).try_for_each(&mut visit),
            [a, b, c] => memchr::memchr3_iter(*a, *b, *c, lower).try_for_each(&mut visit),
            _ => (0..lower.len())
                .filter(|&i| {
                    self.short_start_bits[lower[i] as usize >> 6] & (1 << (lower[i] & 63)) != 0
                })
                .try_for_each(visit),
        };
    }

    /// The short patterns that may start at `lower[i]`; `Break` once none is left.
    fn short_at(
        &self,
        lower: &[u8],
        i: usize,
        st: &mut ShortScan,
        done: &mut impl FnMut(u32) -> bool,
        found: &mut impl FnMut(u32, usize),
    ) -> ControlFlow<()> {
        let b = lower[i];
        if !st.retired_bytes[b as usize] {
            if let Some(ids) = self.ones.get(b as usize).filter(|v| !v.is_empty()) {
                let mut all_done = true;
                for &id in ids {
                    if !done(id) {
                        found(id, i);
                        all_done &= done(id);
                    }
                }
                if all_done {
                    st.retired_bytes[b as usize] = true;
                    st.n_bytes += 1;
                }
            }
        }
        if !self.pair_bits.is_empty() {
            let Some(&b1) = lower.get(i + 1) else { return ControlFlow::Break(()) };
            let k = u16::from_le_bytes([b, b1]);
            if self.pair_bits[(k >> 6) as usize] & (1 << (k & 63)) != 0
                && !st.retired_pairs[..st.n_pairs].contains(&k)
            {
                let mut all_done = true;
                let (s, e) = (
                    self.pair_start[k as usize] as usize,
                    self.pair_start[k as usize + 1] as usize,
                );
                for &id in &self.pair_ids[s..e] {
                    if done(id) {
                        continue;
                    }
                    let p = &self.patterns[id as usize];
                    if lower.get(i..i + p.len()) == Some(&p[..]) {
                        found(id, i);
                    }
                    all_done &= done(id);
                }
                if all_done && st.n_pairs < st.retired_pairs.len() {
                    st.retired_pairs[st.n_pairs] = k;
                    st.n_pairs += 1;
                }
            }
        }
        if st.n_bytes == self.one_bytes && st.n_pairs == self.pair_keys {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

/// What a pass over the short patterns has retired: bytes whose one-byte patterns and
/// pairs whose patterns are all done are not looked at again.
struct ShortScan {
    retired_bytes: [bool; 256],
    /// Retired bytes that have one-byte patterns.
    n_bytes: usize,
    retired_pairs: [u16; 16],
    n_pairs: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every (pattern, start) an exhaustive search finds.
    fn naive(pats: &[Vec<u8>], data: &[u8]) -> Vec<(u32, usize)> {
        let mut out = Vec::new();
        for (i, p) in pats.iter().enumerate() {
            if p.is_empty() || p.len() > data.len() {
                continue;
            }
            for s in 0..=data.len() - p.len() {
                if &data[s..s + p.len()] == p.as_slice() {
                    out.push((i as u32, s));
                }
            }
        }
        out.sort_unstable();
        out
    }

    fn all(set: &HashedSet, data: &[u8]) -> Vec<(u32, usize)> {
        let mut out = Vec::new();
        set.scan(data, |_| false, |p, s| out.push((p, s)));
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_long_and_short_patterns_at_every_position() {
        let pats: Vec<Vec<u8>> = vec![
            b"\x00\x00\x00\x00\x01evil".to_vec(),
            b"get /".to_vec(),
            b"ab".to_vec(),
            b"x".to_vec(),
            b"ell".to_vec(),
        ];
        let set = HashedSet::new(&pats, &vec![u64::MAX; pats.len()]);
        let data = b"get /hello\x00\x00\x00\x00\x01evil get /x ab";
        assert_eq!(all(&set, data), naive(&pats, data));
        // A pattern marked done is not reported again.
        let n = std::cell::Cell::new(0);
        set.scan(b"get / get / get /", |_| n.get() > 0, |_, _| n.set(n.get() + 1));
        assert_eq!(n.get(), 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn agrees_with_an_exhaustive_search(
            pats in prop::collection::vec(prop::collection::vec(0u8..6, 1..9), 1..40),
            data in prop::collection::vec(0u8..6, 0..300),
        ) {
            let set = HashedSet::new(&pats, &vec![u64::MAX; pats.len()]);
            prop_assert_eq!(all(&set, &data), naive(&pats, &data));
        }

        /// A short pattern is found wherever it ends within its reach; a longer one
        /// anywhere; nothing is reported that is not there.
        #[test]
        fn finds_short_patterns_within_their_reach(
            pats in prop::collection::vec(
                (prop::collection::vec(0u8..6, 1..7), prop::option::of(0u64..60)),
                1..6,
            ),
            data in prop::collection::vec(0u8..6, 0..80),
        ) {
            let (pats, reach): (Vec<Vec<u8>>, Vec<u64>) =
                pats.into_iter().map(|(p, r)| (p, r.unwrap_or(u64::MAX))).unzip();
            let set = HashedSet::new(&pats, &reach);
            let got = all(&set, &data);
            let every = naive(&pats, &data);
            for hit in &got {
                prop_assert!(every.contains(hit), "{:?} is not in the data", hit);
            }
            for &(p, start) in &every {
                let end = (start + pats[p as usize].len()) as u64;
                if pats[p as usize].len() >= WINDOW || end <= reach[p as usize] {
                    prop_assert!(got.contains(&(p, start)), "{:?} missed", (p, start));
                }
            }
        }

        /// Reported once each (as the prefilter marks them done), every pattern that
        /// occurs is still found, however early the pass retires bytes and pairs and
        /// ends.
        #[test]
        fn finds_each_pattern_once_when_marked_done(
            pats in prop::collection::vec(prop::collection::vec(0u8..6, 1..6), 1..40),
            data in prop::collection::vec(0u8..6, 0..300),
        ) {
            let set = HashedSet::new(&pats, &vec![u64::MAX; pats.len()]);
            let done = std::cell::RefCell::new(std::collections::BTreeSet::new());
            set.scan(&data, |p| done.borrow().contains(&p), |p, _| {
                done.borrow_mut().insert(p);
            });
            // Equal patterns are one entry in the real prefilter; here each index counts.
            let expected: std::collections::BTreeSet<u32> =
                naive(&pats, &data).into_iter().map(|(p, _)| p).collect();
            prop_assert_eq!(done.into_inner(), expected);
        }
    }
}
