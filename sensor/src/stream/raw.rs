//! Raw stream inspection: what the signature engine sees of a reassembled TCP
//! direction.
//!
//! As in Suricata, content rules inspect the reassembled stream rather than each
//! packet, so that a pattern split over two segments is found and a retransmission is
//! not inspected twice. Each run of in-order bytes handed on (once acknowledged, see
//! [`crate::app::session`]) yields one chunk: the last [`STREAM_CONTEXT`] bytes already
//! inspected, then the new bytes. The engine counts a match only if it ends in the new
//! bytes, so a match is reported once, with the chunk that completed it. A match that starts more than [`STREAM_CONTEXT`]
//! bytes before the segment that completes it is not found. Nothing past the
//! reassembly depth is inspected (the depth is where Suricata stops inspecting a
//! stream too).

/// Bytes already inspected that a chunk repeats before its new bytes.
pub const STREAM_CONTEXT: usize = 256;

/// A chunk of one direction's stream for inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChunk {
    /// Up to [`STREAM_CONTEXT`] bytes already inspected, then the new bytes.
    pub data: Vec<u8>,
    /// Where the new bytes start in `data`.
    pub new_from: usize,
    /// Stream offset of `data[0]` (0 is the first byte of the direction).
    pub offset: u64,
}

/// The end of one direction's stream kept for the next chunk.
#[derive(Debug, Default)]
pub struct RawTail {
    tail: Vec<u8>,
    /// Stream offset just after the tail.
    end: u64,
}

impl RawTail {
    /// The chunk for `bytes`, new in-order bytes that start at stream offset `at`. After
    /// a gap (bytes given up on), the bytes before it are not repeated.
    pub fn chunk(&mut self, bytes: &[u8], at: u64) -> RawChunk {
        if at != self.end {
            self.tail.clear();
        }
        let new_from = self.tail.len();
        let mut data = Vec::with_capacity(new_from + bytes.len());
        data.extend_from_slice(&self.tail);
        data.extend_from_slice(bytes);
        let offset = at - new_from as u64;
        let keep = STREAM_CONTEXT.min(data.len());
        self.tail.clear();
        self.tail.extend_from_slice(&data[data.len() - keep..]);
        self.end = at + bytes.len() as u64;
        RawChunk { data, new_from, offset }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_repeat_a_bounded_context_and_restart_after_a_gap() {
        let mut t = RawTail::default();
        let a = t.chunk(b"hello", 0);
        assert_eq!((a.data.as_slice(), a.new_from, a.offset), (&b"hello"[..], 0, 0));
        let big = vec![b'x'; 1000];
        let b = t.chunk(&big, 5);
        assert_eq!((b.new_from, b.offset), (5, 0));
        let c = t.chunk(b"yz", 1005);
        assert_eq!(c.new_from, STREAM_CONTEXT);
        assert_eq!(c.offset, 1005 - STREAM_CONTEXT as u64);
        assert_eq!(&c.data[STREAM_CONTEXT - 1..], b"xyz");
        // Bytes 1007..2000 were given up on: nothing before the gap is repeated.
        let d = t.chunk(b"after", 2000);
        assert_eq!((d.data.as_slice(), d.new_from, d.offset), (&b"after"[..], 0, 2000));
    }
}
