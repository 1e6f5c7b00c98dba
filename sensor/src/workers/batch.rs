//! A batch of frames on its way to a worker: the bytes of every frame in one buffer,
//! so that dispatching a frame is a copy, not an allocation, and the worker frees
//! nothing the reader allocated. Workers hand emptied batches back to the reader
//! ([`super::Workers`]), which fills them again.

use crate::capture::{Frame, LinkType};

#[derive(Clone, Copy, Debug)]
struct Slot {
    number: u64,
    ts_us: i64,
    orig_len: u32,
    link: LinkType,
    start: usize,
    end: usize,
}

#[derive(Debug, Default)]
pub struct FrameBatch {
    slots: Vec<Slot>,
    bytes: Vec<u8>,
}

impl FrameBatch {
    pub fn with_capacity(frames: usize) -> Self {
        FrameBatch { slots: Vec::with_capacity(frames), bytes: Vec::with_capacity(frames * 512) }
    }

    /// Copies `frame`, the `number`th of the capture, into the batch.
    pub fn push(&mut self, frame: &Frame<'_>, number: u64) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(frame.data);
        self.slots.push(Slot {
            number,
            ts_us: frame.ts_us,
            orig_len: frame.orig_len,
            link: frame.link,
            start,
            end: self.bytes.len(),
        });
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Empties the batch, keeping its buffers for the next.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.bytes.clear();
    }

    pub fn first_number(&self) -> Option<u64> {
        self.slots.first().map(|s| s.number)
    }

    /// The highest frame number in the batch (held fragments may come out of order).
    pub fn last_number(&self) -> Option<u64> {
        self.slots.iter().map(|s| s.number).max()
    }

    /// The frames with their numbers, in the order they were pushed.
    pub fn frames(&self) -> impl Iterator<Item = (u64, Frame<'_>)> + '_ {
        self.slots.iter().map(|s| {
            let frame = Frame {
                ts_us: s.ts_us,
                orig_len: s.orig_len,
                link: s.link,
                data: &self.bytes[s.start..s.end],
            };
            (s.number, frame)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_come_back_as_pushed_and_clear_keeps_the_buffers() {
        let mut b = FrameBatch::with_capacity(4);
        let f = |ts_us, data| Frame { ts_us, orig_len: 99, link: LinkType::ETHERNET, data };
        b.push(&f(1, b"abc"), 7);
        b.push(&f(2, b""), 3);
        b.push(&f(3, b"de"), 9);
        let got: Vec<(u64, i64, Vec<u8>)> =
            b.frames().map(|(n, fr)| (n, fr.ts_us, fr.data.to_vec())).collect();
        assert_eq!(got, vec![(7, 1, b"abc".to_vec()), (3, 2, vec![]), (9, 3, b"de".to_vec())]);
        assert_eq!((b.first_number(), b.last_number(), b.len()), (Some(7), Some(9), 3));
        let cap = b.bytes.capacity();
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.bytes.capacity(), cap);
    }
}
