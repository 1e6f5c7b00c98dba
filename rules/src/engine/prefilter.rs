//! Multi-pattern prefilter: one Aho-Corasick automaton over every rule's fast pattern
//! of a buffer, so that per-packet cost grows with the data, not with the number of
//! rules.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// The rules behind one (lowercased) pattern of the automaton.
#[derive(Debug, Default)]
struct Entry {
    /// Rules whose fast pattern is `nocase`.
    nocase: Vec<u32>,
    /// Case-sensitive variants: exact bytes and the rules that chose them.
    exact: Vec<(Vec<u8>, Vec<u32>)>,
}

/// One ASCII case-insensitive automaton over every fast pattern of a buffer; matches of
/// case-sensitive patterns are confirmed by comparing the bytes. One pass over the data
/// instead of one per case mode.
#[derive(Debug, Default)]
pub struct Prefilter {
    ac: Option<AhoCorasick>,
    entries: Vec<Entry>,
    /// Id of the first case-sensitive variant of each entry.
    variant_base: Vec<u32>,
    variants: usize,
    patterns: usize,
}

#[derive(Default)]
pub struct PrefilterBuilder {
    entries: HashMap<Vec<u8>, Entry>,
}

impl PrefilterBuilder {
    pub fn add(&mut self, rule: u32, pattern: &[u8], nocase: bool) {
        let e = self.entries.entry(pattern.to_ascii_lowercase()).or_default();
        if nocase {
            e.nocase.push(rule);
        } else {
            match e.exact.iter_mut().find(|(p, _)| p == pattern) {
                Some((_, rules)) => rules.push(rule),
                None => e.exact.push((pattern.to_vec(), vec![rule])),
            }
        }
    }

    /// `dfa`: a full DFA (fastest, several times the memory) for buffers that carry
    /// bulk data; short fields use the contiguous NFA.
    pub fn build(self, dfa: bool) -> Prefilter {
        let mut entries: Vec<(Vec<u8>, Entry)> = self.entries.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let patterns =
            entries.iter().map(|(_, e)| !e.nocase.is_empty() as usize + e.exact.len()).sum();
        let (pats, entries): (Vec<Vec<u8>>, Vec<Entry>) = entries.into_iter().unzip();
        let mut variant_base = Vec::with_capacity(entries.len());
        let mut variants = 0u32;
        for e in &entries {
            variant_base.push(variants);
            variants += e.exact.len() as u32;
        }
        let ac = (!pats.is_empty())
            .then(|| {
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(true)
                    .kind(Some(if dfa {
                        AhoCorasickKind::DFA
                    } else {
                        AhoCorasickKind::ContiguousNFA
                    }))
                    .build(&pats)
                    .or_else(|_| {
                        // Too large for a DFA: fall back to the contiguous NFA.
                        AhoCorasickBuilder::new()
                            .match_kind(MatchKind::Standard)
                            .ascii_case_insensitive(true)
                            .build(&pats)
                    })
                    .ok()
            })
            .flatten();
        Prefilter { ac, entries, variant_base, variants: variants as usize, patterns }
    }
}

impl Prefilter {
    pub fn pattern_count(&self) -> usize {
        self.patterns
    }

    /// Calls `hit` with each rule whose fast pattern occurs in `buf` (a rule may be
    /// reported more than once; `seen` marks patterns already reported for this buffer).
    pub fn scan(&self, buf: &[u8], seen: &mut PatternSeen, mut hit: impl FnMut(u32)) {
        let Some(ac) = &self.ac else { return };
        for m in ac.find_overlapping_iter(buf) {
            let pid = m.pattern().as_usize();
            let e = &self.entries[pid];
            if !e.nocase.is_empty() && seen.mark(0, pid) {
                e.nocase.iter().for_each(|&r| hit(r));
            }
            for (k, (bytes, rules)) in e.exact.iter().enumerate() {
                let vid = self.variant_base[pid] as usize + k;
                if !seen.is_marked(1, vid) && &buf[m.start()..m.end()] == bytes.as_slice() {
                    seen.mark(1, vid);
                    rules.iter().for_each(|&r| hit(r));
                }
            }
        }
    }

    pub(crate) fn sizes(&self) -> (usize, usize) {
        (self.entries.len(), self.variants)
    }
}

/// Generation-stamped "already reported" marks for patterns, reused across packets.
#[derive(Debug, Default)]
pub struct PatternSeen {
    gen: u32,
    marks: [Vec<u32>; 2],
}

impl PatternSeen {
    pub fn new(sizes: (usize, usize)) -> Self {
        PatternSeen { gen: 1, marks: [vec![0; sizes.0], vec![0; sizes.1]] }
    }

    pub fn next_buffer(&mut self) {
        self.gen = self.gen.wrapping_add(1);
        if self.gen == 0 {
            for m in &mut self.marks {
                m.iter_mut().for_each(|x| *x = 0);
            }
            self.gen = 1;
        }
    }

    fn is_marked(&self, slot: usize, id: usize) -> bool {
        self.marks[slot][id] == self.gen
    }

    fn mark(&mut self, slot: usize, pid: usize) -> bool {
        let m = &mut self.marks[slot][pid];
        if *m == self.gen {
            false
        } else {
            *m = self.gen;
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(pf: &Prefilter, buf: &[u8]) -> Vec<u32> {
        let mut seen = PatternSeen::new(pf.sizes());
        seen.next_buffer();
        let mut out = Vec::new();
        pf.scan(buf, &mut seen, |r| out.push(r));
        out.sort_unstable();
        out
    }

    #[test]
    fn case_variants_share_one_pattern() {
        let mut b = PrefilterBuilder::default();
        b.add(1, b"Evil", false);
        b.add(2, b"EVIL", false);
        b.add(3, b"evil", true);
        b.add(4, b"Evil", false);
        b.add(5, b"other", false);
        let pf = b.build(true);
        assert_eq!(pf.pattern_count(), 3 + 1);
        assert_eq!(hits(&pf, b"xx Evil yy"), vec![1, 3, 4]);
        assert_eq!(hits(&pf, b"eViL EVIL"), vec![2, 3]);
        // Reported once per buffer even when the pattern occurs again.
        assert_eq!(hits(&pf, b"Evil Evil EVIL other"), vec![1, 2, 3, 4, 5]);
        assert!(hits(&pf, b"OTHER").is_empty());
    }
}
