//! Multi-pattern prefilter: one Aho-Corasick automaton over every rule's fast pattern
//! (one case-sensitive, one ASCII case-insensitive), so that per-packet cost grows with
//! the payload, not with the number of rules.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

#[derive(Debug)]
struct Automaton {
    ac: AhoCorasick,
    /// Pattern id → rule indices that chose this pattern.
    rules: Vec<Vec<u32>>,
}

#[derive(Debug, Default)]
pub struct Prefilter {
    exact: Option<Automaton>,
    nocase: Option<Automaton>,
    patterns: usize,
}

#[derive(Default)]
pub struct PrefilterBuilder {
    exact: HashMap<Vec<u8>, Vec<u32>>,
    nocase: HashMap<Vec<u8>, Vec<u32>>,
}

impl PrefilterBuilder {
    pub fn add(&mut self, rule: u32, pattern: &[u8], nocase: bool) {
        if nocase {
            self.nocase.entry(pattern.to_ascii_lowercase()).or_default().push(rule);
        } else {
            self.exact.entry(pattern.to_vec()).or_default().push(rule);
        }
    }

    pub fn build(self) -> Prefilter {
        let patterns = self.exact.len() + self.nocase.len();
        Prefilter {
            exact: automaton(self.exact, false),
            nocase: automaton(self.nocase, true),
            patterns,
        }
    }
}

fn automaton(map: HashMap<Vec<u8>, Vec<u32>>, nocase: bool) -> Option<Automaton> {
    if map.is_empty() {
        return None;
    }
    let mut entries: Vec<(Vec<u8>, Vec<u32>)> = map.into_iter().collect();
    entries.sort();
    let (pats, rules): (Vec<Vec<u8>>, Vec<Vec<u32>>) = entries.into_iter().unzip();
    let ac = AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .ascii_case_insensitive(nocase)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&pats)
        .or_else(|_| {
            // Too large for a DFA: fall back to the contiguous NFA.
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(nocase)
                .build(&pats)
        })
        .ok()?;
    Some(Automaton { ac, rules })
}

impl Prefilter {
    pub fn pattern_count(&self) -> usize {
        self.patterns
    }

    /// Calls `hit` with each rule whose fast pattern occurs in `buf` (a rule may be
    /// reported more than once; `seen` marks patterns already reported for this buffer).
    pub fn scan(&self, buf: &[u8], seen: &mut PatternSeen, mut hit: impl FnMut(u32)) {
        for (slot, a) in [(0usize, &self.exact), (1, &self.nocase)] {
            let Some(a) = a else { continue };
            for m in a.ac.find_overlapping_iter(buf) {
                let pid = m.pattern().as_usize();
                if seen.mark(slot, pid) {
                    for &r in &a.rules[pid] {
                        hit(r);
                    }
                }
            }
        }
    }

    pub(crate) fn sizes(&self) -> (usize, usize) {
        (
            self.exact.as_ref().map_or(0, |a| a.rules.len()),
            self.nocase.as_ref().map_or(0, |a| a.rules.len()),
        )
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
