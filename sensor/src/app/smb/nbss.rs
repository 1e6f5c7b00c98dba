//! NetBIOS session service framing (RFC 1002, 4.3): a type byte and a length before
//! each SMB message; also the framing of SMB over port 445 (RFC-less "direct TCP",
//! [MS-SMB2] 2.1, a 24-bit length).

/// Longest record kept whole; the rest of a longer one (a large write) is skipped and
/// what was kept is parsed (counted in `truncated`).
pub const MAX_RECORD: usize = 1024 * 1024 + 4096;
const SESSION_MESSAGE: u8 = 0x00;

#[derive(Debug, Default)]
pub struct Framer {
    pub(crate) held: Vec<u8>,
    /// Bytes of an oversized record still to skip.
    skip: usize,
    /// After a gap or garbage: the next SMB header is searched for.
    lost: bool,
    pub errors: u64,
    pub truncated: u64,
}

impl Framer {
    /// Bytes were lost: resynchronise on the next SMB header.
    pub fn resync(&mut self) {
        self.held.clear();
        self.skip = 0;
        self.lost = true;
    }

    /// Hands `f` each SMB message completed by `bytes` (without its 4-byte header).
    /// Messages whole in `bytes` are not copied.
    pub fn feed(&mut self, mut bytes: &[u8], mut f: impl FnMut(&[u8])) {
        if self.skip > 0 {
            let n = self.skip.min(bytes.len());
            self.skip -= n;
            bytes = &bytes[n..];
        }
        if self.held.is_empty() {
            let used = self.cut(bytes, &mut f);
            self.held.extend_from_slice(&bytes[used..]);
        } else {
            self.held.extend_from_slice(bytes);
            let held = std::mem::take(&mut self.held);
            let used = self.cut(&held, &mut f);
            self.held = held;
            self.held.drain(..used);
        }
        crate::app::parser::trim_spare(&mut self.held);
    }

    /// Cuts the messages at the start of `buf`; returns the bytes used.
    fn cut(&mut self, buf: &[u8], f: &mut impl FnMut(&[u8])) -> usize {
        let mut at = 0;
        loop {
            if self.lost {
                match find_header(&buf[at..]) {
                    Some(p) => {
                        at += p;
                        self.lost = false;
                    }
                    None => {
                        // Keep the last bytes: a header may straddle segments.
                        return buf.len().saturating_sub(7).max(at);
                    }
                }
            }
            let rest = &buf[at..];
            if rest.len() < 4 {
                return at;
            }
            let len = u32::from_be_bytes([0, rest[1], rest[2], rest[3]]) as usize;
            if rest[0] != SESSION_MESSAGE {
                // Session request/response and keep-alives carry no SMB.
                if rest[0] & 0x7f > 5 || len > 1024 {
                    self.errors += 1;
                    self.lost = true;
                    at += 1;
                    continue;
                }
                if rest.len() < 4 + len {
                    return at;
                }
                at += 4 + len;
                continue;
            }
            if len > MAX_RECORD {
                // Keep the head of the record, skip its tail as it arrives.
                if rest.len() < 4 + MAX_RECORD {
                    return at;
                }
                self.truncated += 1;
                f(&rest[4..4 + MAX_RECORD]);
                let have = rest.len() - 4;
                if have >= len {
                    at += 4 + len;
                    continue;
                }
                self.skip = len - have;
                return buf.len();
            }
            if rest.len() < 4 + len {
                return at;
            }
            if rest.get(5..8) != Some(b"SMB") {
                self.errors += 1;
            } else {
                f(&rest[4..4 + len]);
            }
            at += 4 + len;
        }
    }
}

/// The offset of the record header (4 bytes before an SMB signature) in `b`.
fn find_header(b: &[u8]) -> Option<usize> {
    let mut from = 4;
    while from + 4 <= b.len() {
        let p = memchr::memmem::find(&b[from..], b"SMB")?;
        let sig = from + p - 1;
        if sig >= 4 && matches!(b[sig], 0xfd..=0xff) && b[sig - 4] == SESSION_MESSAGE {
            return Some(sig - 4);
        }
        from += p + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(body: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0];
        v[1..4].copy_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn cuts_records_across_segments_and_skips_keepalives() {
        let mut f = Framer::default();
        let mut stream = vec![0x85, 0, 0, 0];
        stream.extend(rec(b"\xfeSMBaaaa"));
        stream.extend(rec(b"\xffSMBbb"));
        let mut out = Vec::new();
        for b in stream.chunks(3) {
            f.feed(b, |r| out.push(r.to_vec()));
        }
        assert_eq!(out, vec![b"\xfeSMBaaaa".to_vec(), b"\xffSMBbb".to_vec()]);
        assert_eq!(f.errors, 0);
    }

    #[test]
    fn resynchronises_after_a_gap() {
        let mut f = Framer::default();
        let mut out = Vec::new();
        f.feed(&rec(b"\xfeSMB0123456789")[..9], |r| out.push(r.to_vec()));
        f.resync();
        let mut tail = b"56789junk".to_vec();
        tail.extend(rec(b"\xfeSMBnext"));
        f.feed(&tail, |r| out.push(r.to_vec()));
        assert_eq!(out, vec![b"\xfeSMBnext".to_vec()]);
    }

    #[test]
    fn oversized_records_keep_their_head() {
        let mut f = Framer::default();
        let mut body = b"\xfeSMB".to_vec();
        body.resize(MAX_RECORD + 10, 7);
        let mut stream = rec(&body);
        stream.extend(rec(b"\xfeSMBafter"));
        let mut out = Vec::new();
        for b in stream.chunks(65536) {
            f.feed(b, |r| out.push(r.to_vec()));
        }
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].len(), MAX_RECORD);
        assert_eq!(out[1], b"\xfeSMBafter");
        assert_eq!(f.truncated, 1);
    }
}
