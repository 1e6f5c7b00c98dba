//! TCP byte-stream reassembly, one [`StreamDir`] per direction of a session.
//!
//! Policy: **first wins** — a byte, once received, keeps its value; later segments only
//! fill gaps, and a later segment whose overlapping bytes differ is counted as a
//! conflict. Bounds: a per-direction depth (bytes delivered at most) and a memory cap
//! shared by all streams ([`Memcap`]); bytes refused at a bound are counted.
//!
//! The application layer ([`crate::app::session`]) consumes [`StreamDir::take_acked`]
//! (or [`StreamDir::take`] inline).

pub mod raw;

use std::collections::BTreeMap;

/// Counters of reassembly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    pub(crate) segments: u64,
    /// Segments whose every byte was already received (retransmissions).
    pub retransmissions: u64,
    /// Segments that overlapped received bytes.
    pub overlaps: u64,
    /// Overlaps whose bytes differed from what was received first.
    pub overlap_conflicts: u64,
    /// Bytes not kept because the stream reached its depth.
    pub depth_dropped: u64,
    /// Bytes not kept because the memory cap was reached.
    pub memcap_dropped: u64,
    /// Gaps skipped (missing bytes given up on).
    pub gaps: u64,
    pub(crate) gap_bytes: u64,
}

impl StreamStats {
    /// Adds another direction's counters.
    pub fn add(&mut self, o: &StreamStats) {
        self.segments += o.segments;
        self.retransmissions += o.retransmissions;
        self.overlaps += o.overlaps;
        self.overlap_conflicts += o.overlap_conflicts;
        self.depth_dropped += o.depth_dropped;
        self.memcap_dropped += o.memcap_dropped;
        self.gaps += o.gaps;
        self.gap_bytes += o.gap_bytes;
    }
}

/// Memory budget shared by the streams of one worker.
#[derive(Debug)]
pub struct Memcap {
    limit: usize,
    used: usize,
}

impl Memcap {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Memcap { limit, used: 0 }
    }

    /// Bytes in use.
    pub fn used(&self) -> usize {
        self.used
    }

    pub(crate) fn take(&mut self, n: usize) -> bool {
        if self.used + n > self.limit {
            return false;
        }
        self.used += n;
        true
    }

    pub(crate) fn give(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }
}

/// One direction of a TCP session.
#[derive(Debug)]
pub struct StreamDir {
    /// Sequence number of stream offset 0.
    base: u32,
    /// Stream offset of the next byte expected in order.
    next: u64,
    /// Out-of-order data by stream offset; disjoint ranges.
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    /// In-order data not yet taken.
    ready: Vec<u8>,
    depth: u64,
    /// Counters of the direction.
    pub stats: StreamStats,
}

impl StreamDir {
    /// A direction whose first data byte has sequence number `first_seq` (the SYN's
    /// sequence + 1, or the first segment seen on midstream pickup).
    pub fn new(first_seq: u32, depth: u64) -> Self {
        StreamDir {
            base: first_seq,
            next: 0,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            ready: Vec::new(),
            depth,
            stats: StreamStats::default(),
        }
    }

    /// Stream offset of the next in-order byte (bytes delivered so far, gaps included).
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// Stream offset just after the bytes taken so far.
    pub fn taken_offset(&self) -> u64 {
        self.next - self.ready.len() as u64
    }

    /// Bytes held out of order, waiting for a gap to fill.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// The stream offset of `seq`, near the current position (handles wrap-around).
    fn offset_of(&self, seq: u32) -> i64 {
        let expected = self.base.wrapping_add(self.next as u32);
        self.next as i64 + seq.wrapping_sub(expected) as i32 as i64
    }

    /// Adds a segment. Returns the number of in-order bytes that became ready.
    pub fn insert(&mut self, seq: u32, data: &[u8], mem: &mut Memcap) -> usize {
        if data.is_empty() {
            return 0;
        }
        self.stats.segments += 1;
        let start = self.offset_of(seq);
        let end = start + data.len() as i64;
        if end <= self.next as i64 {
            self.stats.retransmissions += 1;
            self.stats.overlaps += 1;
            return 0;
        }
        // Bytes before `next` were delivered first: they win.
        let (mut start, mut data) = (start, data);
        if start < self.next as i64 {
            self.stats.overlaps += 1;
            let cut = (self.next as i64 - start) as usize;
            data = &data[cut..];
            start = self.next as i64;
        }
        let start = start as u64;
        let end = start + data.len() as u64;
        // Beyond the depth nothing is kept.
        let keep_end = end.min(self.depth.max(self.next));
        if keep_end < end {
            self.stats.depth_dropped += end - keep_end.max(start);
        }
        if keep_end <= start {
            return 0;
        }
        let data = &data[..(keep_end - start) as usize];
        self.add_uncovered(start, data, mem);
        self.drain_in_order(mem)
    }

    /// Stores the parts of `[start, start+len)` no pending segment covers; compares the
    /// parts that are covered.
    fn add_uncovered(&mut self, start: u64, data: &[u8], mem: &mut Memcap) {
        let end = start + data.len() as u64;
        let mut cursor = start;
        let mut overlapped = false;
        let mut conflict = false;
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        // Pending segments that may overlap: the one starting before `start` and those inside.
        let first = self.pending.range(..start).next_back().map(|(k, _)| *k);
        let keys: Vec<u64> =
            first.into_iter().chain(self.pending.range(start..end).map(|(k, _)| *k)).collect();
        for k in keys {
            let seg = &self.pending[&k];
            let (a, b) = (k, k + seg.len() as u64);
            if b <= cursor || a >= end {
                continue;
            }
            if a > cursor {
                pieces.push((cursor, a));
            }
            let (os, oe) = (a.max(cursor), b.min(end));
            overlapped = true;
            if seg[(os - a) as usize..(oe - a) as usize]
                != data[(os - start) as usize..(oe - start) as usize]
            {
                conflict = true;
            }
            cursor = cursor.max(b);
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        self.stats.overlaps += overlapped as u64;
        self.stats.overlap_conflicts += conflict as u64;
        for (a, b) in pieces {
            let n = (b - a) as usize;
            if !mem.take(n) {
                self.stats.memcap_dropped += n as u64;
                continue;
            }
            self.pending_bytes += n;
            self.pending.insert(a, data[(a - start) as usize..(b - start) as usize].to_vec());
        }
    }

    fn drain_in_order(&mut self, _mem: &mut Memcap) -> usize {
        let mut moved = 0;
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            let seg = entry.remove();
            self.pending_bytes -= seg.len();
            self.next += seg.len() as u64;
            moved += seg.len();
            // The bytes stay charged to the memcap until taken.
            self.ready.extend_from_slice(&seg);
        }
        moved
    }

    /// Gives up on the bytes missing before the first pending segment (on a timeout, a
    /// FIN, or too much data held): counts the gap and delivers what follows it.
    /// Returns the size of the gap skipped.
    pub fn skip_gap(&mut self, mem: &mut Memcap) -> u64 {
        let Some((&first, _)) = self.pending.first_key_value() else { return 0 };
        if first <= self.next {
            return 0;
        }
        let gap = first - self.next;
        self.stats.gaps += 1;
        self.stats.gap_bytes += gap;
        self.next = first;
        self.drain_in_order(mem);
        gap
    }

    /// The direction ends with bytes still held after a hole (the flow timed out or the
    /// capture ended): the holes are stepped over without counting them as gaps, as
    /// Suricata's flow-end flush does, and each run of bytes after a hole is returned
    /// with its stream offset.
    pub fn flush_at_end(&mut self, mem: &mut Memcap) -> Vec<(u64, Vec<u8>)> {
        let mut runs = Vec::new();
        if !self.ready.is_empty() {
            let at = self.next - self.ready.len() as u64;
            runs.push((at, self.take(mem)));
        }
        while let Some((&first, _)) = self.pending.first_key_value() {
            self.next = self.next.max(first);
            self.drain_in_order(mem);
            runs.push((first, self.take(mem)));
        }
        runs
    }

    /// Takes the in-order bytes that `ack` (the other side's acknowledgement number)
    /// covers, with the stream offset of the first. An acknowledgement beyond the
    /// in-order bytes covers all of them.
    pub fn take_acked(&mut self, ack: u32, mem: &mut Memcap) -> (u64, Vec<u8>) {
        let at = self.taken_offset();
        let acked = self.offset_of(ack).clamp(at as i64, self.next as i64) as u64;
        let n = (acked - at) as usize;
        mem.give(n);
        // Usually all of it, or nothing: no copy then.
        let taken = match n {
            0 => Vec::new(),
            n if n == self.ready.len() => std::mem::take(&mut self.ready),
            n => self.ready.drain(..n).collect(),
        };
        (at, taken)
    }

    /// Does `ack` acknowledge bytes beyond a hole (lost before the capture saw them)?
    pub fn acks_past_hole(&self, ack: u32) -> bool {
        let acked = self.offset_of(ack);
        self.ready.is_empty()
            && self.pending.first_key_value().is_some_and(|(&first, _)| (first as i64) < acked)
    }

    /// In-order bytes not taken yet.
    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// Takes the in-order bytes received so far.
    pub fn take(&mut self, mem: &mut Memcap) -> Vec<u8> {
        mem.give(self.ready.len());
        std::mem::take(&mut self.ready)
    }

    /// Releases everything this direction holds (flow end).
    pub fn release(&mut self, mem: &mut Memcap) {
        mem.give(self.ready.len() + self.pending_bytes);
        self.ready.clear();
        self.pending.clear();
        self.pending_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_out_of_order_and_retransmission() {
        let mut m = Memcap::new(1 << 20);
        let mut s = StreamDir::new(1000, 1 << 20);
        assert_eq!(s.insert(1005, b"world", &mut m), 0);
        assert_eq!(s.pending_bytes(), 5);
        assert_eq!(s.insert(1000, b"hello", &mut m), 10);
        assert_eq!(s.insert(1000, b"hello", &mut m), 0);
        assert_eq!(s.stats.retransmissions, 1);
        assert_eq!(s.take(&mut m), b"helloworld");
        assert_eq!(m.used(), 0);
    }

    #[test]
    fn first_wins_and_conflicts_are_counted() {
        let mut m = Memcap::new(1 << 20);
        let mut s = StreamDir::new(0, 1 << 20);
        s.insert(4, b"EFGH", &mut m);
        s.insert(2, b"xxXXyy", &mut m); // 2..8: covers 4..8 with different bytes
        s.insert(0, b"AB", &mut m);
        assert_eq!(s.take(&mut m), b"ABxxEFGH");
        assert_eq!(s.stats.overlap_conflicts, 1);
    }

    #[test]
    fn sequence_wraps() {
        let mut m = Memcap::new(1 << 20);
        let mut s = StreamDir::new(u32::MAX - 2, 1 << 20);
        s.insert(u32::MAX - 2, b"abc", &mut m);
        s.insert(0, b"def", &mut m);
        assert_eq!(s.take(&mut m), b"abcdef");
    }

    #[test]
    fn depth_memcap_and_gaps() {
        let mut m = Memcap::new(8);
        let mut s = StreamDir::new(0, 6);
        s.insert(0, b"abcdefgh", &mut m);
        assert_eq!(s.stats.depth_dropped, 2);
        assert_eq!(s.take(&mut m), b"abcdef");
        let mut t = StreamDir::new(0, 1 << 20);
        t.insert(20, &[1; 6], &mut m);
        t.insert(40, &[2; 6], &mut m);
        // A piece that does not fit whole is dropped whole.
        assert_eq!(t.stats.memcap_dropped, 6);
        assert_eq!(t.skip_gap(&mut m), 20);
        assert_eq!(t.stats.gap_bytes, 20);
        assert_eq!(t.take(&mut m), vec![1; 6]);
        t.release(&mut m);
        assert_eq!(m.used(), 0);
    }

    #[test]
    fn flush_at_end_steps_over_holes_without_counting_gaps() {
        let mut m = Memcap::new(1 << 20);
        let mut s = StreamDir::new(0, 1 << 20);
        s.insert(0, b"GET", &mut m);
        assert_eq!(s.take(&mut m), b"GET");
        s.insert(10, b"User-", &mut m);
        s.insert(15, b"Agent", &mut m);
        s.insert(30, b"end", &mut m);
        let runs = s.flush_at_end(&mut m);
        assert_eq!(runs, vec![(10, b"User-Agent".to_vec()), (30, b"end".to_vec())]);
        assert_eq!((s.stats.gaps, s.pending_bytes(), m.used()), (0, 0, 0));
    }

    proptest::proptest! {
        /// Model: whatever the order and duplication of segments (with different bytes
        /// in overlaps), every byte of the stream is the one that arrived first, and the
        /// stream ends up complete.
        #[test]
        fn any_permutation_gives_the_first_wins_stream(
            len in 1usize..300,
            isn in proptest::num::u32::ANY,
            segs in proptest::collection::vec((0usize..300, 1usize..60, 0u8..4), 1..40),
            order in proptest::collection::vec(proptest::num::usize::ANY, 0..40),
        ) {
            let truth: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            // Segments: random ranges; some carry altered bytes (an evasion attempt).
            let mut list: Vec<(usize, Vec<u8>)> = segs
                .iter()
                .map(|&(s, l, alt)| {
                    let s = s % len;
                    let e = (s + l).min(len);
                    let bytes = truth[s..e].iter().map(|b| if alt == 0 { b.wrapping_add(1) } else { *b }).collect();
                    (s, bytes)
                })
                .collect();
            // Make sure every byte is covered at least once, with true bytes.
            list.push((0, truth.clone()));
            // A random permutation.
            for (i, o) in order.iter().enumerate() {
                let a = i % list.len();
                let b = o % list.len();
                list.swap(a, b);
            }
            let mut model: Vec<Option<u8>> = vec![None; len];
            for (s, bytes) in &list {
                for (i, b) in bytes.iter().enumerate() {
                    model[s + i].get_or_insert(*b);
                }
            }
            let mut m = Memcap::new(1 << 20);
            let mut st = StreamDir::new(isn, 1 << 20);
            let mut got = Vec::new();
            for (s, bytes) in &list {
                st.insert(isn.wrapping_add(*s as u32), bytes, &mut m);
                got.extend(st.take(&mut m));
            }
            let want: Vec<u8> = model.into_iter().map(|b| b.unwrap_or(0)).collect();
            proptest::prop_assert_eq!(got, want);
            proptest::prop_assert_eq!(st.pending_bytes(), 0);
            proptest::prop_assert_eq!(m.used(), 0);
        }
    }
}
