//! Payload inspection: content, pcre, isdataat and the `byte_*` keywords in rule order,
//! with Suricata's relative-match semantics.
//!
//! As in Suricata (`detect-engine-content-inspection.c`), a keyword that matched tries
//! its next occurrence only when a later keyword depends on where it matched in a way
//! a later occurrence could satisfy: a content is tried again only when a following
//! content has `within` (its window is bounded on the right), a pcre when a relative
//! keyword follows it. Every other failure ends the inspection of the buffer at once
//! ("discontinue"): a later occurrence could only shrink the windows after it. This is
//! what keeps a rule like `content:"powershell"; content:"DownloadFile("; distance:0;`
//! linear in the buffer instead of quadratic. A recursion budget bounds the rest.
//!
//! `nocase` contents are searched in a lowercased copy of the buffer with the same SIMD
//! substring search as the others; the copy is made once per buffer and detection call
//! ([`LowerCache`]) and shared by every rule that needs it.

use memchr::memmem;

use crate::signature::keyword_parsers::MAX_BYTE_VARS;
use crate::signature::{
    Base64Mode, ByteCmp, ByteOp, ByteRead, Content, MathOp, PayloadMatch, Pcre, Value,
};

/// The values of a rule's `byte_extract` and `byte_math` variables, by slot; shared by
/// the buffers of one rule evaluation, as a variable read in one buffer may place a
/// match in another.
pub(crate) type ByteVars = [u64; MAX_BYTE_VARS];

/// Where a content may match, with variables resolved.
#[derive(Clone, Copy, Debug)]
struct Placement {
    relative: bool,
    offset: Option<u64>,
    depth: Option<u64>,
    distance: Option<i64>,
    within: Option<i64>,
}

/// Suricata's default inspection recursion limit.
const RECURSION_LIMIT: u32 = 3000;

/// A content pattern ready to search: exact bytes, or lowercased bytes searched in the
/// lowercased buffer.
#[derive(Debug, Clone)]
pub(crate) struct Needle {
    finder: memmem::Finder<'static>,
    nocase: bool,
}

impl Needle {
    pub(crate) fn new(c: &Content) -> Needle {
        let finder = if c.nocase {
            memmem::Finder::new(&c.pattern.to_ascii_lowercase()).into_owned()
        } else {
            memmem::Finder::new(&c.pattern).into_owned()
        };
        Needle { finder, nocase: c.nocase }
    }

    fn len(&self) -> usize {
        self.finder.needle().len()
    }

    /// First occurrence in `hay` (the lowercased buffer for a `nocase` needle).
    fn find(&self, hay: &[u8]) -> Option<usize> {
        if self.len() == 0 {
            return None;
        }
        self.finder.find(hay)
    }

    fn is_at(&self, hay: &[u8], at: usize) -> bool {
        let n = self.len();
        at.checked_add(n).and_then(|end| hay.get(at..end)) == Some(self.finder.needle())
    }
}

/// An inspection list compiled for matching: the needle of each content and, for each
/// content and pcre, whether it tries its next occurrence when what follows fails.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prepared {
    needles: Vec<Option<Needle>>,
    retry: Vec<bool>,
    nocase: bool,
    /// The `base64_data` list of each `base64_decode`, prepared.
    nested: Vec<Option<Prepared>>,
}

impl Prepared {
    pub(crate) fn new(items: &[PayloadMatch]) -> Prepared {
        let needles = items
            .iter()
            .map(|m| match m {
                PayloadMatch::Content(c) => Some(Needle::new(c)),
                _ => None,
            })
            .collect();
        let nested = items
            .iter()
            .map(|m| match m {
                PayloadMatch::Base64Decode { data, .. } => Some(Prepared::new(data)),
                _ => None,
            })
            .collect();
        let nocase = items.iter().any(|m| matches!(m, PayloadMatch::Content(c) if c.nocase));
        Prepared { needles, retry: retry_flags(items), nocase, nested }
    }
}

/// Whether each content and pcre tries its next occurrence when what follows it fails:
/// when a later keyword placed relative to it could succeed after a later occurrence
/// although it failed after this one. That is any relative keyword before the next
/// content or pcre (isdataat, byte_*), and the next content or pcre itself when it is
/// relative, except a content that is not negated and has no `within`: its window
/// only shrinks when the match before it moves on, so if it failed it fails again.
/// (This is what Suricata 8 does, checked keyword by keyword against the reference.)
fn retry_flags(items: &[PayloadMatch]) -> Vec<bool> {
    let anchors = |m: &PayloadMatch| matches!(m, PayloadMatch::Content(_) | PayloadMatch::Pcre(_));
    (0..items.len())
        .map(|i| {
            if !anchors(&items[i]) {
                return false;
            }
            for m in &items[i + 1..] {
                if !anchors(m) {
                    // base64_decode never sends the match before it to its next
                    // occurrence (Suricata sets no RELATIVE_NEXT for it).
                    if m.is_relative() && !matches!(m, PayloadMatch::Base64Decode { .. }) {
                        return true;
                    }
                    continue;
                }
                return match m {
                    PayloadMatch::Content(c) => c.is_relative() && (c.negated || c.has_within()),
                    other => other.is_relative(),
                };
            }
            false
        })
        .collect()
}

/// Lowercased copies of the buffers of one detection call, made on first use and shared
/// by the rules inspected in that call. Buffers are told apart by address and length,
/// which is sound because [`LowerCache::clear`] runs at the start of every call, while
/// the buffers of the packet are borrowed and cannot change; buffers made during the
/// call (transforms) are lowercased without the cache.
#[derive(Debug, Default)]
pub(crate) struct LowerCache {
    entries: Vec<(usize, usize, Vec<u8>)>,
    used: usize,
}

impl LowerCache {
    pub(crate) fn clear(&mut self) {
        self.used = 0;
    }

    pub(crate) fn get(&mut self, buf: &[u8]) -> &[u8] {
        let key = (buf.as_ptr() as usize, buf.len());
        let hit = self.entries[..self.used].iter().position(|e| (e.0, e.1) == key);
        let i = match hit {
            Some(i) => i,
            None => {
                if self.used == self.entries.len() {
                    self.entries.push((0, 0, Vec::new()));
                }
                let e = &mut self.entries[self.used];
                e.0 = key.0;
                e.1 = key.1;
                e.2.clear();
                e.2.extend(buf.iter().map(u8::to_ascii_lowercase));
                self.used += 1;
                self.used - 1
            }
        };
        &self.entries[i].2
    }
}

/// Where the lowercased buffer comes from.
pub(crate) enum Lower<'a> {
    /// A buffer of the packet: shared through the call's cache.
    Cached(&'a mut LowerCache),
    /// A buffer made for this rule (a transform's output): lowercased for it alone.
    Own,
}

/// Counters of the inspection, shared by the calling thread.
#[derive(Debug, Default, Clone, Copy)]
pub struct InspectStats {
    /// PCRE matches that failed (match limit, bad UTF).
    pub pcre_errors: u64,
    /// Inspections cut at the recursion limit.
    pub recursion_limit: u64,
}

/// Stream inspection: where the new bytes of a chunk start and where the chunk is in
/// its stream.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StreamView {
    /// A match counts only if it ends after this offset of the chunk (one that ends
    /// before was found in an earlier chunk).
    pub new_from: usize,
    /// Stream offset of the chunk's first byte: absolute `offset`/`depth` count from
    /// the start of the stream.
    pub offset: u64,
}

/// The outcome of inspecting from one keyword on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Match,
    /// No match from here; an earlier keyword may try its next occurrence.
    NoMatch,
    /// No match, and no earlier keyword may try again: the buffer does not match.
    Discontinue,
}

pub(crate) struct Inspector<'a> {
    items: &'a [PayloadMatch],
    prep: &'a Prepared,
    buf: &'a [u8],
    /// `buf` lowercased, when the list has a `nocase` content.
    lower: &'a [u8],
    budget: u32,
    stats: &'a mut InspectStats,
    /// `byte_extract` and `byte_math` variables.
    vars: &'a mut ByteVars,
    /// Stream inspection of a chunk.
    stream: Option<StreamView>,
}

impl<'a> Inspector<'a> {
    /// Does `buf` match the list? With `stream`, `buf` is a stream chunk: only a match
    /// that ends in its new bytes counts, and absolute positions are stream offsets.
    pub(crate) fn run(
        items: &[PayloadMatch],
        prep: &Prepared,
        buf: &[u8],
        stream: Option<StreamView>,
        lower: Lower<'_>,
        stats: &mut InspectStats,
        vars: &mut ByteVars,
    ) -> bool {
        let own;
        let lower: &[u8] = match (prep.nocase, lower) {
            (false, _) => &[],
            (true, Lower::Cached(cache)) => cache.get(buf),
            (true, Lower::Own) => {
                own = buf.to_ascii_lowercase();
                &own
            }
        };
        let mut ins =
            Inspector { items, prep, buf, lower, budget: RECURSION_LIMIT, stats, vars, stream };
        ins.match_from(0, 0, (usize::MAX, 0)) == Step::Match
    }

    /// `c`'s placement with its variables read.
    fn placement(&self, c: &Content) -> Placement {
        let var = |slot: Option<u8>| slot.map(|s| self.vars.get(s as usize).copied().unwrap_or(0));
        let v = &c.vars;
        Placement {
            relative: c.is_relative(),
            offset: var(v.offset).or(c.offset.map(u64::from)),
            depth: var(v.depth).or(c.depth.map(u64::from)),
            distance: var(v.distance).map(|d| d as i64).or(c.distance.map(i64::from)),
            within: var(v.within).map(|w| w as i64).or(c.within.map(i64::from)),
        }
    }

    /// The window `[start, end)` a content may occupy, or None if it is empty.
    fn window(&self, c: &Content, prev_end: usize) -> Option<(usize, usize)> {
        let len = self.buf.len();
        let base = self.stream.map_or(0, |s| s.offset);
        let p = self.placement(c);
        if base > 0 && !p.relative && (p.offset.is_some() || p.depth.is_some()) {
            // Absolute positions in a chunk that starts inside the stream: count them
            // from the start of the stream, as Suricata does.
            let start = p.offset.unwrap_or(0);
            let end = p.depth.map(|d| start.saturating_add(d));
            if end.is_some_and(|e| e <= base) {
                return None;
            }
            let s = usize::try_from(start.saturating_sub(base)).unwrap_or(usize::MAX);
            let e = end.map_or(len, |e| usize::try_from(e - base).unwrap_or(usize::MAX).min(len));
            return (s <= e && s <= len).then_some((s, e));
        }
        Self::window_in(&p, prev_end, len)
    }

    /// [`Inspector::window`] in buffer coordinates.
    fn window_in(p: &Placement, prev_end: usize, len: usize) -> Option<(usize, usize)> {
        let clamp = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let (mut start, mut end);
        if p.relative {
            end = len;
            let distance = p.distance.unwrap_or(0);
            let s = (prev_end as i64).saturating_add(distance);
            start = if s < 0 { 0 } else { s as usize };
            if let Some(w) = p.within {
                let e = (prev_end as i64).saturating_add(distance).saturating_add(w);
                if e < 0 {
                    return None;
                }
                end = end.min(e as usize);
            }
            if let Some(o) = p.offset {
                start = start.max(clamp(o));
            }
            if let Some(d) = p.depth {
                end = end.min(clamp(p.offset.unwrap_or(0).saturating_add(d)));
            }
        } else {
            start = clamp(p.offset.unwrap_or(0));
            end = match p.depth {
                Some(d) => len.min(start.saturating_add(clamp(d))),
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
        let hay = if needle.nocase { self.lower } else { self.buf };
        if c.endswith {
            // Only one place can satisfy endswith: the end of the buffer.
            let at = hay.len().checked_sub(n)?;
            return (at >= from && hay.len() <= end && needle.is_at(hay, at)).then_some(at);
        }
        if from + n > end {
            return None;
        }
        needle.find(hay.get(from..end)?).map(|p| p + from)
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
                // As Suricata: a jump before the buffer lands on its start, one to its
                // end or beyond fails.
                let to = from.checked_add(jump)?.checked_add(*post_offset)?.max(0);
                usize::try_from(to).ok().filter(|&t| t < self.buf.len())
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
            ByteOp::Math { read, nbytes_var, oper, rvalue, slot } => {
                let mut read = *read;
                if let Some(var) = nbytes_var {
                    let n = self.vars.get(*var as usize).copied()?;
                    let max = if read.string_base.is_some() { 10 } else { 8 };
                    read.nbytes = u8::try_from(n).ok().filter(|n| (1..=max).contains(n))?;
                }
                // The bitmask applies to the result, not to the bytes read.
                let bitmask = read.bitmask.take();
                let (v, after) = self.byte_read(&read, prev_end)?;
                let r = self.value(*rvalue) as u64;
                let mut v = match oper {
                    MathOp::Add => v.wrapping_add(r),
                    MathOp::Sub => v.wrapping_sub(r),
                    MathOp::Mul => v.wrapping_mul(r),
                    MathOp::Div => v.checked_div(r)?,
                    MathOp::Shl => v.checked_shl(u32::try_from(r).ok()?).unwrap_or(0),
                    MathOp::Shr => v.checked_shr(u32::try_from(r).ok()?).unwrap_or(0),
                };
                if let Some(mask) = bitmask {
                    v &= mask;
                    if v != 0 && mask != 0 {
                        v >>= mask.trailing_zeros();
                    }
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
    fn match_from(&mut self, i: usize, prev_end: usize, span: (usize, usize)) -> Step {
        let Some(item) = self.items.get(i) else {
            // Stream inspection: only a match that ends in the new bytes is new.
            return match self.stream {
                Some(s) if span.1 <= s.new_from => Step::NoMatch,
                _ => Step::Match,
            };
        };
        if self.budget == 0 {
            self.stats.recursion_limit += 1;
            return Step::Discontinue;
        }
        self.budget -= 1;
        match item {
            PayloadMatch::Content(c) => self.content(i, c, prev_end, span),
            PayloadMatch::Pcre(p) => self.pcre(i, p, prev_end, span),
            PayloadMatch::IsDataAt { offset, relative, negated } => {
                let offset = usize::try_from(self.value(*offset)).unwrap_or(usize::MAX);
                let has = if *relative {
                    prev_end.saturating_add(offset) <= self.buf.len()
                } else {
                    offset < self.buf.len()
                };
                match (has, *negated) {
                    (true, false) | (false, true) => self.match_from(i + 1, prev_end, span),
                    // Data where there must be none, after a relative match: a later
                    // match of what came before might still leave none.
                    (true, true) if *relative => Step::NoMatch,
                    _ => Step::Discontinue,
                }
            }
            PayloadMatch::Byte(op) => match self.byte_op(op, prev_end) {
                Some(next) => self.match_from(i + 1, next, span),
                None => Step::NoMatch,
            },
            PayloadMatch::Base64Decode { bytes, offset, relative, data } => {
                self.base64_decode(i, (*bytes, *offset, *relative), data, prev_end, span)
            }
            PayloadMatch::Bsize(n) => {
                let holds = n.matches(self.buf.len() as u64);
                self.then_if(holds, i, prev_end, span)
            }
            PayloadMatch::Dataset(d) => self.then_if(d.matches(self.buf), i, prev_end, span),
            PayloadMatch::Entropy(e) => self.then_if(e.matches(self.buf), i, prev_end, span),
            PayloadMatch::Number(cmps) => {
                // The number after what matched before (`id=` of a setting), usually the
                // whole buffer.
                let rest = self.buf.get(prev_end..).unwrap_or_default();
                let v = std::str::from_utf8(rest).ok().and_then(|t| t.parse::<u64>().ok());
                let holds = v.is_some_and(|v| cmps.iter().any(|c| c.matches(v)));
                self.then_if(holds, i, prev_end, span)
            }
        }
    }

    /// A test of the whole buffer at item `i`: the rest of the list when it holds;
    /// otherwise no later match of what came before can change it.
    fn then_if(&mut self, holds: bool, i: usize, prev_end: usize, span: (usize, usize)) -> Step {
        if holds {
            self.match_from(i + 1, prev_end, span)
        } else {
            Step::Discontinue
        }
    }

    /// `pcre` at item `i`: each match in turn (from `prev_end` when relative) until
    /// the rest of the list matches after it; a negated one holds when none matches.
    fn pcre(&mut self, i: usize, p: &'a Pcre, prev_end: usize, span: (usize, usize)) -> Step {
        let base = if p.relative { prev_end } else { 0 };
        if base > self.buf.len() {
            return if p.negated { self.match_from(i + 1, prev_end, span) } else { Step::NoMatch };
        }
        let subject = &self.buf[base..];
        let mut from = 0;
        loop {
            match p.regex.find_at(subject, from) {
                Ok(Some(m)) => {
                    if p.negated {
                        return Step::NoMatch;
                    }
                    let sp = (span.0.min(base + m.start()), span.1.max(base + m.end()));
                    let rest = self.match_from(i + 1, base + m.end(), sp);
                    if rest != Step::NoMatch || !self.retries(i) {
                        return rest;
                    }
                    if m.start() >= subject.len() {
                        return Step::NoMatch;
                    }
                    from = m.start() + 1;
                }
                Ok(None) => {
                    return if p.negated {
                        self.match_from(i + 1, prev_end, span)
                    } else {
                        Step::NoMatch
                    };
                }
                Err(_) => {
                    // Match limit or another PCRE runtime error: counted, no match.
                    self.stats.pcre_errors += 1;
                    return Step::NoMatch;
                }
            }
        }
    }

    /// `base64_decode` at item `i`: decodes from where it is placed (RFC 4648, at most
    /// 64 KiB, as Suricata) and, with a `base64_data` list, inspects the decoded bytes
    /// with it; that list is terminal: its match is the rule's.
    fn base64_decode(
        &mut self,
        i: usize,
        (bytes, offset, relative): (u32, u32, bool),
        data: &[PayloadMatch],
        prev_end: usize,
        span: (usize, usize),
    ) -> Step {
        let start = if relative { prev_end } else { 0 };
        let Some(rest) = self.buf.get(start..) else { return Step::NoMatch };
        let offset = offset as usize;
        if offset > 0 && offset >= rest.len() {
            return Step::NoMatch;
        }
        let rest = &rest[offset..];
        let n = if bytes == 0 { rest.len() } else { rest.len().min(bytes as usize) };
        let decoded = crate::signature::base64_decode(&rest[..n], Base64Mode::Rfc4648, 65535);
        if decoded.is_empty() {
            return Step::NoMatch;
        }
        if data.is_empty() {
            return self.match_from(i + 1, prev_end, span);
        }
        let Some(prep) = self.prep.nested.get(i).and_then(|p| p.as_ref()) else {
            return Step::NoMatch;
        };
        let hit = Inspector::run(data, prep, &decoded, None, Lower::Own, self.stats, self.vars);
        if hit {
            Step::Match
        } else {
            Step::NoMatch
        }
    }

    /// Does keyword `i` try its next occurrence when what follows fails? Also when it
    /// is the last keyword of a stream inspection, whose match must end in new bytes.
    fn retries(&self, i: usize) -> bool {
        self.prep.retry.get(i).copied().unwrap_or(false)
            || (self.stream.is_some() && i + 1 == self.items.len())
    }

    fn content(&mut self, i: usize, c: &Content, prev_end: usize, span: (usize, usize)) -> Step {
        let Some(needle) = self.prep.needles.get(i).and_then(|n| n.as_ref()) else {
            return Step::Discontinue;
        };
        let win = self.window(c, prev_end);
        if c.negated {
            let found = win.is_some_and(|w| self.find(c, needle, w, w.0).is_some());
            if !found {
                return self.match_from(i + 1, prev_end, span);
            }
            // Found where it must not be: independent of what came before unless it is
            // placed relative to it (Suricata's DETECT_CONTENT_IS_SINGLE).
            let single = !c.is_relative()
                && c.offset.is_none()
                && c.depth.is_none()
                && !self.next_is_relative(i);
            return if single { Step::Discontinue } else { Step::NoMatch };
        }
        let Some(win) = win else { return Step::NoMatch };
        let mut from = win.0;
        loop {
            let Some(at) = self.find(c, needle, win, from) else {
                // An absolute content that is not there is not there for any earlier
                // match either.
                return if c.is_relative() { Step::NoMatch } else { Step::Discontinue };
            };
            let end = at + c.pattern.len();
            let rest = self.match_from(i + 1, end, (span.0.min(at), span.1.max(end)));
            if rest == Step::Match {
                return Step::Match;
            }
            if rest == Step::Discontinue || !self.retries(i) {
                return Step::Discontinue;
            }
            if self.budget == 0 {
                self.stats.recursion_limit += 1;
                return Step::Discontinue;
            }
            from = at + 1;
        }
    }
}

#[cfg(test)]
#[path = "inspect_tests.rs"]
mod tests;
