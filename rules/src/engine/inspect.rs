//! Payload inspection: content, pcre and isdataat in rule order, with Suricata's
//! relative-match semantics and backtracking (a relative item that fails makes the item
//! before it try its next occurrence), bounded by a recursion budget.

use memchr::memmem;

use crate::signature::options::MAX_BYTE_VARS;
use crate::signature::{ByteCmp, ByteOp, ByteRead, Content, PayloadMatch, Value};

/// Suricata's default inspection recursion limit.
const RECURSION_LIMIT: u32 = 3000;

/// A content pattern ready to search.
#[derive(Debug, Clone)]
pub(crate) enum Needle {
    Exact(Box<memmem::Finder<'static>>),
    /// Lower-cased pattern; searched case-insensitively (ASCII).
    NoCase(Vec<u8>),
}

impl Needle {
    pub(crate) fn new(c: &Content) -> Needle {
        if c.nocase {
            Needle::NoCase(c.pattern.to_ascii_lowercase())
        } else {
            Needle::Exact(Box::new(memmem::Finder::new(&c.pattern).into_owned()))
        }
    }

    fn len(&self) -> usize {
        match self {
            Needle::Exact(f) => f.needle().len(),
            Needle::NoCase(p) => p.len(),
        }
    }

    /// First occurrence starting in `hay`, or None.
    fn find(&self, hay: &[u8]) -> Option<usize> {
        match self {
            Needle::Exact(f) => f.find(hay),
            Needle::NoCase(p) => {
                let n = p.len();
                if n == 0 || hay.len() < n {
                    return None;
                }
                let first = p[0];
                let upper = first.to_ascii_uppercase();
                let last_start = hay.len() - n;
                let mut i = 0;
                while i <= last_start {
                    let off = memchr::memchr2(first, upper, &hay[i..=last_start])?;
                    let at = i + off;
                    if hay[at..at + n].eq_ignore_ascii_case(p) {
                        return Some(at);
                    }
                    i = at + 1;
                }
                None
            }
        }
    }

    fn is_at(&self, hay: &[u8], at: usize) -> bool {
        let n = self.len();
        if at + n > hay.len() {
            return false;
        }
        match self {
            Needle::Exact(f) => &hay[at..at + n] == f.needle(),
            Needle::NoCase(p) => hay[at..at + n].eq_ignore_ascii_case(p),
        }
    }
}

/// Counters of the inspection, shared by the calling thread.
#[derive(Debug, Default, Clone, Copy)]
pub struct InspectStats {
    pub pcre_errors: u64,
    pub recursion_limit: u64,
}

pub(crate) struct Inspector<'a> {
    pub items: &'a [PayloadMatch],
    pub needles: &'a [Option<Needle>],
    pub buf: &'a [u8],
    pub budget: u32,
    pub stats: &'a mut InspectStats,
    /// `byte_extract` variables.
    pub vars: [u64; MAX_BYTE_VARS],
    /// Stream inspection: the match must cover this offset (start before, end after).
    pub cross: Option<usize>,
}

impl Inspector<'_> {
    pub(crate) fn run(
        items: &[PayloadMatch],
        needles: &[Option<Needle>],
        buf: &[u8],
        stats: &mut InspectStats,
    ) -> bool {
        Self::run_crossing(items, needles, buf, None, stats)
    }

    /// Like [`Inspector::run`]; with `cross`, only a match whose span covers that offset
    /// counts (stream inspection of already-seen bytes followed by new ones).
    pub(crate) fn run_crossing(
        items: &[PayloadMatch],
        needles: &[Option<Needle>],
        buf: &[u8],
        cross: Option<usize>,
        stats: &mut InspectStats,
    ) -> bool {
        let mut ins = Inspector {
            items,
            needles,
            buf,
            budget: RECURSION_LIMIT,
            stats,
            vars: [0; MAX_BYTE_VARS],
            cross,
        };
        ins.match_from(0, 0, (usize::MAX, 0))
    }

    /// The window `[start, end)` a content may occupy, or None if it is empty.
    fn window(c: &Content, prev_end: usize, len: usize) -> Option<(usize, usize)> {
        let (mut start, mut end);
        if c.is_relative() {
            end = len;
            let distance = c.distance.unwrap_or(0) as i64;
            let s = prev_end as i64 + distance;
            start = if s < 0 { 0 } else { s as usize };
            if let Some(w) = c.within {
                let e = prev_end as i64 + distance + w as i64;
                if e < 0 {
                    return None;
                }
                end = end.min(e as usize);
            }
            if let Some(o) = c.offset {
                start = start.max(o as usize);
            }
            if let Some(d) = c.depth {
                end = end.min(c.offset.unwrap_or(0) as usize + d as usize);
            }
        } else {
            start = c.offset.unwrap_or(0) as usize;
            end = match c.depth {
                Some(d) => len.min(start + d as usize),
                None => len,
            };
        }
        if start > end || start > len {
            return None;
        }
        Some((start, end))
    }

    /// Finds `c` in its window at or after `from`; returns the match start.
    fn find(
        &self,
        c: &Content,
        needle: &Needle,
        win: (usize, usize),
        from: usize,
    ) -> Option<usize> {
        let (start, end) = win;
        let n = needle.len();
        let from = from.max(start);
        if c.endswith {
            // Only one place can satisfy endswith: the end of the buffer.
            let at = self.buf.len().checked_sub(n)?;
            return (at >= from && self.buf.len() <= end && needle.is_at(self.buf, at))
                .then_some(at);
        }
        if from + n > end {
            return None;
        }
        needle.find(&self.buf[from..end]).map(|p| p + from)
    }

    fn value(&self, v: Value) -> i64 {
        match v {
            Value::Num(n) => n,
            Value::Var(slot) => self.vars.get(slot as usize).map_or(0, |&x| x as i64),
        }
    }

    /// Reads the number of a `byte_*` keyword: (value, position just after it).
    fn byte_read(&self, r: &ByteRead, prev_end: usize) -> Option<(u64, usize)> {
        let base = if r.relative { prev_end as i64 } else { 0 };
        let at = base.checked_add(self.value(r.offset))?;
        let at = usize::try_from(at).ok()?;
        let n = match (r.nbytes, r.string_base) {
            (0, Some(base)) => {
                let rest = self.buf.get(at..)?;
                let digits =
                    rest.iter().take(23).take_while(|c| (**c as char).is_digit(base)).count();
                if digits == 0 {
                    return None;
                }
                digits
            }
            (n, _) => n as usize,
        };
        let end = at.checked_add(n)?;
        let bytes = self.buf.get(at..end)?;
        let mut v = match r.string_base {
            Some(base) => {
                let s = std::str::from_utf8(bytes).ok()?;
                u64::from_str_radix(s.trim(), base).ok()?
            }
            None if r.little_endian => bytes.iter().rev().fold(0u64, |a, &b| a << 8 | b as u64),
            None => bytes.iter().fold(0u64, |a, &b| a << 8 | b as u64),
        };
        if let Some(mask) = r.bitmask {
            v &= mask;
            if mask != 0 {
                v >>= mask.trailing_zeros();
            }
        }
        Some((v, end))
    }

    /// Evaluates a `byte_*` keyword; the position where the next relative item starts.
    fn byte_op(&mut self, op: &ByteOp, prev_end: usize) -> Option<usize> {
        match op {
            ByteOp::Test { read, op, negated, value } => {
                let (v, _) = self.byte_read(read, prev_end)?;
                let t = self.value(*value) as u64;
                let ok = match op {
                    ByteCmp::Lt => v < t,
                    ByteCmp::Gt => v > t,
                    ByteCmp::Eq => v == t,
                    ByteCmp::Le => v <= t,
                    ByteCmp::Ge => v >= t,
                    ByteCmp::And => v & t != 0,
                    ByteCmp::Xor => v ^ t != 0,
                };
                // byte_test does not move the detection pointer.
                (ok != *negated).then_some(prev_end)
            }
            ByteOp::Jump { read, multiplier, align, from_beginning, from_end, post_offset } => {
                let (v, after) = self.byte_read(read, prev_end)?;
                let mut jump = v.checked_mul(*multiplier)? as i64;
                if *align && jump % 4 != 0 {
                    jump += 4 - jump % 4;
                }
                let from = if *from_beginning {
                    0
                } else if *from_end {
                    self.buf.len() as i64
                } else {
                    after as i64
                };
                let to = from.checked_add(jump)?.checked_add(*post_offset)?;
                usize::try_from(to).ok().filter(|&t| t <= self.buf.len())
            }
            ByteOp::Extract { read, multiplier, align, slot } => {
                let (v, after) = self.byte_read(read, prev_end)?;
                let mut v = v.checked_mul(*multiplier)?;
                if *align && v % 4 != 0 {
                    v += 4 - v % 4;
                }
                *self.vars.get_mut(*slot as usize)? = v;
                Some(after)
            }
        }
    }

    fn next_is_relative(&self, i: usize) -> bool {
        self.items.get(i + 1).is_some_and(|m| m.is_relative())
    }

    /// `span`: (lowest start, highest end) of the positive matches so far.
    fn match_from(&mut self, i: usize, prev_end: usize, span: (usize, usize)) -> bool {
        let Some(item) = self.items.get(i) else {
            // Stream inspection: only a match across the boundary is new.
            return self.cross.is_none_or(|k| span.0 < k && span.1 > k);
        };
        if self.budget == 0 {
            self.stats.recursion_limit += 1;
            return false;
        }
        self.budget -= 1;
        match item {
            PayloadMatch::Content(c) => {
                let Some(needle) = self.needles.get(i).and_then(|n| n.as_ref()) else {
                    return false;
                };
                let win = Self::window(c, prev_end, self.buf.len());
                if c.negated {
                    let found = win.is_some_and(|w| self.find(c, needle, w, w.0).is_some());
                    return !found && self.match_from(i + 1, prev_end, span);
                }
                let Some(win) = win else { return false };
                let mut from = win.0;
                loop {
                    let Some(at) = self.find(c, needle, win, from) else { return false };
                    let end = at + c.pattern.len();
                    if self.match_from(i + 1, end, (span.0.min(at), span.1.max(end))) {
                        return true;
                    }
                    if !self.next_is_relative(i) || self.budget == 0 {
                        return false;
                    }
                    from = at + 1;
                }
            }
            PayloadMatch::Pcre(p) => {
                let base = if p.relative { prev_end } else { 0 };
                if base > self.buf.len() {
                    return p.negated && self.match_from(i + 1, prev_end, span);
                }
                let subject = &self.buf[base..];
                let mut from = 0;
                loop {
                    match p.regex.find_at(subject, from) {
                        Ok(Some(m)) => {
                            if p.negated {
                                return false;
                            }
                            let sp = (span.0.min(base + m.start()), span.1.max(base + m.end()));
                            if self.match_from(i + 1, base + m.end(), sp) {
                                return true;
                            }
                            if !self.next_is_relative(i)
                                || self.budget == 0
                                || m.start() >= subject.len()
                            {
                                return false;
                            }
                            from = m.start() + 1;
                        }
                        Ok(None) => return p.negated && self.match_from(i + 1, prev_end, span),
                        Err(_) => {
                            // Match limit or another PCRE runtime error: counted, no match.
                            self.stats.pcre_errors += 1;
                            return false;
                        }
                    }
                }
            }
            PayloadMatch::IsDataAt { offset, relative, negated } => {
                let has = if *relative {
                    prev_end + *offset as usize <= self.buf.len()
                } else {
                    (*offset as usize) < self.buf.len()
                };
                has != *negated && self.match_from(i + 1, prev_end, span)
            }
            PayloadMatch::Byte(op) => match self.byte_op(op, prev_end) {
                Some(next) => self.match_from(i + 1, next, span),
                None => false,
            },
            PayloadMatch::Bsize(n) => {
                n.matches(self.buf.len() as u64) && self.match_from(i + 1, prev_end, span)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::{Origin, Signature, Vars};

    fn run(opts: &str, buf: &[u8]) -> bool {
        let text = format!("alert tcp any any -> any any ({opts} sid:1;)");
        let sig = Signature::parse(&text, &Vars::default(), Origin { file: "t".into(), line: 1 })
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let needles: Vec<Option<Needle>> = sig
            .payload
            .iter()
            .map(|m| match m {
                PayloadMatch::Content(c) => Some(Needle::new(c)),
                _ => None,
            })
            .collect();
        Inspector::run(&sig.payload, &needles, buf, &mut InspectStats::default())
    }

    #[test]
    fn byte_test_jump_extract() {
        // A length-prefixed record: 2-byte big-endian length, then data.
        let buf = b"HDR\x00\x05helloTAIL";
        assert!(run(r#"content:"HDR"; byte_test:2,=,5,0,relative;"#, buf));
        assert!(!run(r#"content:"HDR"; byte_test:2,>,5,0,relative;"#, buf));
        assert!(run(r#"content:"HDR"; byte_test:2,!=,6,0,relative;"#, buf));
        assert!(run(r#"byte_test:1,&,0x04,4;"#, buf));
        assert!(run(r#"byte_test:2,=,0x0500,3,little;"#, buf));
        // Jump over the record: TAIL must follow directly.
        assert!(run(r#"content:"HDR"; byte_jump:2,0,relative; content:"TAIL"; within:4;"#, buf));
        assert!(!run(
            r#"content:"HDR"; byte_jump:2,0,relative,post_offset 1; content:"TAIL"; within:4;"#,
            buf
        ));
        // Past the end of the buffer: no match, no panic.
        assert!(!run(r#"byte_jump:2,3,multiplier 100;"#, buf));
        assert!(!run(r#"byte_test:8,=,1,10;"#, buf));
        // A variable: the length drives a later test.
        assert!(run(r#"byte_extract:2,3,len; byte_test:1,=,len,4;"#, buf));
        assert!(!run(r#"byte_extract:2,3,len; byte_test:1,>,len,4;"#, buf));
        // Numbers written as text.
        assert!(run(r#"content:"id="; byte_test:3,>,99,0,relative,string,dec;"#, b"x id=123;"));
        assert!(run(r#"byte_test:2,=,255,0,string,hex;"#, b"ff"));
        assert!(run(r#"content:"n="; byte_test:0,>,450,0,relative,string,dec;"#, b"n=4512&"));
        assert!(!run(r#"content:"n="; byte_test:0,>,450,0,relative,string,dec;"#, b"n=&"));
        // Bitmask: the masked value is shifted down.
        assert!(run(r#"byte_test:1,=,3,0,bitmask 0x30;"#, b"\x3f"));
    }

    #[test]
    fn offset_depth() {
        assert!(run(r#"content:"abc"; offset:2; depth:3;"#, b"xxabcxx"));
        assert!(!run(r#"content:"abc"; offset:3;"#, b"xxabcxx"));
        assert!(!run(r#"content:"abc"; depth:4;"#, b"xxabcxx"));
        assert!(run(r#"content:"ABC"; nocase; depth:5;"#, b"xxabcxx"));
    }

    #[test]
    fn distance_within_backtracks() {
        // The first "a" is followed by "c" too far away; the second one is close enough.
        assert!(run(r#"content:"a"; content:"c"; distance:0; within:2;"#, b"a...ac"));
        assert!(!run(r#"content:"a"; content:"c"; distance:0; within:2;"#, b"a...a..c"));
        assert!(run(
            r#"content:"AllWork"; content:"Dull"; distance:1; within:5;"#,
            b"AllWork Dull"
        ));
        assert!(!run(
            r#"content:"AllWork"; content:"Dull"; distance:2; within:5;"#,
            b"AllWork Dull"
        ));
        // Negative distance looks back.
        assert!(run(r#"content:"bc"; content:"ab"; distance:-3; within:2;"#, b"abc"));
    }

    #[test]
    fn negation_and_ends() {
        assert!(run(r#"content:"GET"; content:!"POST";"#, b"GET /"));
        assert!(!run(r#"content:"GET"; content:!"/";"#, b"GET /"));
        assert!(run(r#"content:".exe"; endswith;"#, b"/a.exe"));
        assert!(!run(r#"content:".exe"; endswith;"#, b"/a.exe?x"));
        assert!(run(r#"content:"GET"; startswith;"#, b"GET /"));
        assert!(!run(r#"content:"GET"; startswith;"#, b" GET /"));
        assert!(run(r#"content:"y"; distance:2; within:3; endswith;"#, b"xxxy"));
    }

    #[test]
    fn pcre_relative_and_isdataat() {
        assert!(run(r#"content:"GET"; pcre:"/^\s+\//R";"#, b"GET /x"));
        assert!(!run(r#"content:"GET"; pcre:"/^\//R";"#, b"GET /x"));
        assert!(run(r#"content:"GET"; isdataat:2,relative;"#, b"GET /x"));
        assert!(!run(r#"content:"GET"; isdataat:4,relative;"#, b"GET /x"));
        assert!(run(r#"content:"GET"; isdataat:!4,relative;"#, b"GET /x"));
        assert!(run(r#"pcre:"/get/i";"#, b"xGeT"));
        assert!(run(r#"content:"x"; pcre:!"/zz/";"#, b"x"));
    }

    #[test]
    fn catastrophic_pcre_is_bounded() {
        let buf = vec![b'a'; 5000];
        // Would backtrack exponentially without the match limit.
        assert!(!run(r#"pcre:"/(a+)+b/";"#, &buf));
    }
}
