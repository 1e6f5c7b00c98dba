//! Fragments to the worker of their flow. Only the first fragment of a datagram carries
//! the transport ports, so the dispatcher remembers, per datagram (addresses, id,
//! protocol, VLAN), the worker its first fragment went to, and sends the others there.
//! A fragment that arrives before the first is held until the first comes (bounded in
//! frames and time); one whose first never comes goes, at its timeout, to the worker of
//! its address pair, whose defragmenter drops it as one worker alone would.
//!
//! Without this, the fragments of one flow reach another worker than its unfragmented
//! packets, and the reassembled datagram is inspected without the flow's state (its
//! stream, flowbits, thresholds): the alerts would depend on the number of workers.

use std::collections::HashMap;
use std::net::IpAddr;

use super::OwnedFrame;

/// One IP datagram under fragmentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DatagramKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    pub proto: u8,
    pub vlan: u16,
}

/// Where a fragment goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// To this worker, after the frames released to it (held fragments of the same
    /// datagram, in capture order).
    Worker(usize, Vec<OwnedFrame>),
    /// Held until the datagram's first fragment arrives.
    Held,
}

#[derive(Debug)]
struct Held {
    first_us: i64,
    frames: Vec<OwnedFrame>,
}

/// The dispatcher's table of datagrams and held fragments.
#[derive(Debug)]
pub struct FragmentRouter {
    routes: HashMap<DatagramKey, (usize, i64)>,
    held: HashMap<DatagramKey, Held>,
    held_frames: usize,
    max_held: usize,
    timeout_us: i64,
    last_sweep_us: i64,
    /// Fragments sent to their address pair's worker because their first fragment did
    /// not come in time or the hold was full.
    pub orphans: u64,
}

impl FragmentRouter {
    pub fn new(timeout_secs: u32, max_held: usize) -> Self {
        FragmentRouter {
            routes: HashMap::new(),
            held: HashMap::new(),
            held_frames: 0,
            max_held: max_held.max(1),
            timeout_us: timeout_secs.max(1) as i64 * 1_000_000,
            last_sweep_us: i64::MIN,
            orphans: 0,
        }
    }

    /// A first fragment (offset 0) went to `worker`: the datagram's other fragments
    /// follow it. Returns the held ones, to send before it.
    pub fn first(&mut self, key: DatagramKey, worker: usize, now_us: i64) -> Vec<OwnedFrame> {
        self.routes.insert(key, (worker, now_us));
        match self.held.remove(&key) {
            Some(h) => {
                self.held_frames -= h.frames.len();
                h.frames
            }
            None => Vec::new(),
        }
    }

    /// A later fragment: to its datagram's worker if the first was seen, else held
    /// (or, when the hold is full, handed back to go by address pair).
    pub fn later(&mut self, key: DatagramKey, frame: OwnedFrame) -> Result<Route, OwnedFrame> {
        if let Some(&(w, _)) = self.routes.get(&key) {
            return Ok(Route::Worker(w, vec![frame]));
        }
        if self.held_frames >= self.max_held {
            self.orphans += 1;
            return Err(frame);
        }
        self.held_frames += 1;
        self.held
            .entry(key)
            .or_insert_with(|| Held { first_us: frame.ts_us, frames: Vec::new() })
            .frames
            .push(frame);
        Ok(Route::Held)
    }

    /// Forgets datagrams older than the timeout at capture time `now_us` (at most once
    /// a second); returns the held fragments whose first never came.
    pub fn sweep(&mut self, now_us: i64) -> Vec<OwnedFrame> {
        if now_us.saturating_sub(self.last_sweep_us) < 1_000_000 {
            return Vec::new();
        }
        self.last_sweep_us = now_us;
        let timeout = self.timeout_us;
        self.routes.retain(|_, (_, t)| now_us - *t <= timeout);
        let old: Vec<DatagramKey> = self
            .held
            .iter()
            .filter(|(_, h)| now_us - h.first_us > timeout)
            .map(|(k, _)| *k)
            .collect();
        self.take(&old)
    }

    /// Every held fragment (end of capture), in capture order.
    pub fn drain(&mut self) -> Vec<OwnedFrame> {
        let all: Vec<DatagramKey> = self.held.keys().copied().collect();
        self.take(&all)
    }

    fn take(&mut self, keys: &[DatagramKey]) -> Vec<OwnedFrame> {
        let mut out: Vec<OwnedFrame> = Vec::new();
        for k in keys {
            if let Some(h) = self.held.remove(k) {
                self.held_frames -= h.frames.len();
                self.orphans += h.frames.len() as u64;
                out.extend(h.frames);
            }
        }
        out.sort_by_key(|f| f.number);
        out
    }

    /// The capture number of the oldest held fragment: nothing at or after it is known
    /// to be processed.
    pub fn oldest_held(&self) -> Option<u64> {
        self.held.values().filter_map(|h| h.frames.first()).map(|f| f.number).min()
    }

    #[cfg(test)]
    pub fn held_frames(&self) -> usize {
        self.held_frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;

    fn frame(number: u64, ts_us: i64) -> OwnedFrame {
        OwnedFrame { number, ts_us, orig_len: 0, link: LinkType::ETHERNET, data: Vec::new() }
    }

    fn key(id: u32) -> DatagramKey {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        DatagramKey { src: a, dst: a, id, proto: 17, vlan: 0 }
    }

    #[test]
    fn later_fragments_follow_the_first_and_wait_for_it() {
        let mut r = FragmentRouter::new(60, 16);
        assert_eq!(r.later(key(1), frame(1, 0)), Ok(Route::Held));
        assert_eq!(r.later(key(1), frame(2, 0)), Ok(Route::Held));
        assert_eq!(r.oldest_held(), Some(1));
        let released = r.first(key(1), 3, 0);
        assert_eq!(released.iter().map(|f| f.number).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(r.held_frames(), 0);
        assert_eq!(r.later(key(1), frame(5, 0)), Ok(Route::Worker(3, vec![frame(5, 0)])));
        // Another datagram of the same hosts is another route.
        assert_eq!(r.later(key(2), frame(6, 0)), Ok(Route::Held));
    }

    #[test]
    fn orphans_leave_at_their_timeout_or_when_the_hold_is_full() {
        let mut r = FragmentRouter::new(1, 2);
        assert_eq!(r.later(key(1), frame(1, 0)), Ok(Route::Held));
        assert_eq!(r.later(key(2), frame(2, 500_000)), Ok(Route::Held));
        assert_eq!(r.later(key(3), frame(3, 600_000)), Err(frame(3, 600_000)));
        assert!(r.sweep(900_000).is_empty(), "nothing is older than the timeout yet");
        let out = r.sweep(1_900_000);
        assert_eq!(out.iter().map(|f| f.number).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(r.orphans, 3);
        assert_eq!(r.oldest_held(), None);
    }
}
