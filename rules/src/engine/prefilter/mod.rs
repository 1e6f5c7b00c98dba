//! Multi-pattern prefilter: Aho-Corasick automata over every rule's fast pattern of a
//! buffer, so that per-packet cost grows with the data, not with the number of rules.
//!
//! A pattern that can only occur near the start of its buffer (a content with `depth`)
//! goes to an automaton that scans only that far: most packet-anchored patterns of ET
//! Open (protocol headers at fixed offsets) then cost a few bytes per packet, not a
//! scan of the whole payload. Patterns are grouped by that bound; a group is skipped
//! for a stream chunk that starts past it.
//!
//! As Suricata's signature groups do, patterns of rules for a few destination ports
//! (`-> $HOME_NET 445`) are only searched in traffic to those ports: each port with
//! enough such patterns gets its own groups (its patterns and those for any port);
//! patterns for rarer ports join the groups for any port.

mod hashed;
#[cfg(feature = "hyperscan")]
mod hyperscan;

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use hashed::HashedSet;

/// A destination port gets groups of its own from this many patterns for it.
const PORT_GROUP_FROM: usize = 16;

/// Bulk groups with more patterns than this use the hashed matcher (see [`hashed`]);
/// smaller ones, and short fields, an Aho-Corasick automaton.
const HASHED_FROM: usize = 64;

/// Scan limits of the bounded groups (bytes from the start of the buffer); a pattern
/// whose bound is larger than the last one is scanned everywhere. (Headers at fixed
/// offsets are within the first 64 bytes; a group for a longer prefix would cost a
/// pass of its own for few patterns.)
const BOUNDS: [u64; 1] = [64];

/// The rules behind one (lowercased) pattern of an automaton.
#[derive(Debug, Default)]
struct Entry {
    /// Rules whose fast pattern is `nocase`.
    nocase: Vec<u32>,
    /// Case-sensitive variants: exact bytes and the rules that chose them.
    exact: Vec<(Vec<u8>, Vec<u32>)>,
    /// The offset the pattern cannot end after, for any of its rules (`u64::MAX`:
    /// anywhere).
    reach: u64,
}

/// The matcher of buffers that carry bulk data and have many patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMatcher {
    /// The pure-Rust hashed matcher (see `hashed`), the default build.
    Hashed,
    /// Hyperscan, with the `hyperscan` feature (without it, the hashed matcher).
    Hyperscan,
}

impl BulkMatcher {
    /// Hyperscan when the build has it.
    pub const BEST: BulkMatcher =
        if cfg!(feature = "hyperscan") { BulkMatcher::Hyperscan } else { BulkMatcher::Hashed };

    /// Can this build use it?
    pub fn available(self) -> bool {
        self == BulkMatcher::Hashed || cfg!(feature = "hyperscan")
    }

    /// `hashed` or `hyperscan`.
    pub fn name(self) -> &'static str {
        match self {
            BulkMatcher::Hashed => "hashed",
            BulkMatcher::Hyperscan => "hyperscan",
        }
    }
}

/// One ASCII case-insensitive automaton over the patterns of one bound; matches of
/// case-sensitive patterns are confirmed by comparing the bytes. One pass over the data
/// instead of one per case mode. (Hyperscan compiles case-sensitive variants as they
/// are: nothing to confirm.)
#[derive(Debug)]
enum Matcher {
    Ac(AhoCorasick),
    Hashed(Box<HashedSet>),
    #[cfg(feature = "hyperscan")]
    Hyperscan(HsGroup),
}

/// A Hyperscan database and, per pattern id, the entry and the case-sensitive variant
/// it stands for ([`NOCASE`]: the entry's `nocase` rules).
#[cfg(feature = "hyperscan")]
#[derive(Debug)]
struct HsGroup {
    set: hyperscan::HsSet,
    ids: Vec<(u32, u32)>,
}

#[cfg(feature = "hyperscan")]
const NOCASE: u32 = u32::MAX;

#[derive(Debug)]
struct Group {
    /// Only `buf[..limit]` (in buffer or stream offsets) is scanned; None: all of it.
    limit: Option<u64>,
    matcher: Matcher,
    entries: Vec<Entry>,
    /// Mark index of the group's first entry and first case-sensitive variant.
    entry_base: usize,
    variant_base: Vec<u32>,
}

#[derive(Debug, Default)]
pub struct Prefilter {
    /// The groups for traffic to any port: patterns of rules for any port, or for a
    /// port without groups of its own.
    any: Vec<Group>,
    /// Groups of the ports that have their own (an index into `sets`).
    by_port: HashMap<u16, usize>,
    sets: Vec<Vec<Group>>,
    entries: usize,
    variants: usize,
    patterns: usize,
    /// Some group uses the hashed matcher, which scans lowercased data.
    lowercase: bool,
    /// Scratch space fitted to every Hyperscan database of the prefilter, cloned for
    /// each detector.
    #[cfg(feature = "hyperscan")]
    scratch: hyperscan::Scratch,
}

/// One rule's pattern, before grouping.
struct Pending {
    rule: u32,
    pattern: Vec<u8>,
    nocase: bool,
    bound: Option<u64>,
    /// The destination ports the rule is limited to (None: any).
    ports: Option<Vec<u16>>,
}

#[derive(Default)]
pub struct PrefilterBuilder {
    pending: Vec<Pending>,
}

/// Patterns by bound (None: unbounded), then by lowercased bytes.
type Grouping = HashMap<Option<u64>, HashMap<Vec<u8>, Entry>>;

fn group_add(groups: &mut Grouping, p: &Pending) {
    let limit = p.bound.and_then(|b| BOUNDS.iter().copied().find(|&l| b <= l));
    let group = groups.entry(limit).or_default();
    let e = group.entry(p.pattern.to_ascii_lowercase()).or_default();
    e.reach = e.reach.max(p.bound.unwrap_or(u64::MAX));
    if p.nocase {
        e.nocase.push(p.rule);
    } else {
        match e.exact.iter_mut().find(|(x, _)| *x == p.pattern) {
            Some((_, rules)) => rules.push(p.rule),
            None => e.exact.push((p.pattern.clone(), vec![p.rule])),
        }
    }
}

impl PrefilterBuilder {
    /// Adds `rule`'s fast pattern. `bound`: the pattern cannot end after this offset
    /// of its buffer (`offset + depth` of its content). `ports`: the rule only matches
    /// packets to these destination ports.
    pub fn add(
        &mut self,
        rule: u32,
        pattern: &[u8],
        nocase: bool,
        bound: Option<u64>,
        ports: Option<Vec<u16>>,
    ) {
        let pattern = pattern.to_vec();
        self.pending.push(Pending { rule, pattern, nocase, bound, ports });
    }

    /// `bulk`: the matcher of large groups of buffers that carry bulk data (smaller
    /// groups get a full DFA, fastest and several times the memory); None for short
    /// fields, which use the contiguous NFA.
    pub fn build(self, bulk: Option<BulkMatcher>) -> Prefilter {
        let mut per_port: HashMap<u16, usize> = HashMap::new();
        for p in &self.pending {
            for &port in p.ports.iter().flatten() {
                *per_port.entry(port).or_default() += 1;
            }
        }
        let own = |port: &u16| per_port.get(port).is_some_and(|&n| n >= PORT_GROUP_FROM);
        // Any port: rules for any port, and rules with at least one port without groups.
        let mut any = Grouping::new();
        for p in &self.pending {
            if p.ports.as_ref().is_none_or(|ports| !ports.iter().all(own)) {
                group_add(&mut any, p);
            }
        }
        // Ports with groups of their own: their rules and the any-port ones. Ports with
        // the same rules share groups.
        let mut by_rules: HashMap<Vec<u32>, Vec<u16>> = HashMap::new();
        let mut ports: Vec<u16> = per_port.keys().copied().filter(own).collect();
        ports.sort_unstable();
        for port in ports {
            let rules: Vec<u32> = self
                .pending
                .iter()
                .filter(|p| p.ports.as_ref().is_some_and(|ps| ps.contains(&port)))
                .map(|p| p.rule)
                .collect();
            by_rules.entry(rules).or_default().push(port);
        }
        let mut pf = Prefilter::default();
        let mut variants = 0u32;
        pf.any = pf.groups(any, bulk, &mut variants);
        let mut sets: Vec<(Vec<u32>, Vec<u16>)> = by_rules.into_iter().collect();
        sets.sort();
        for (_, ports) in sets {
            // Packets to these ports can only match rules for any port or for them.
            let mut g = Grouping::new();
            for p in &self.pending {
                if p.ports.as_ref().is_none_or(|ps| ps.iter().any(|x| ports.contains(x))) {
                    group_add(&mut g, p);
                }
            }
            let set = pf.groups(g, bulk, &mut variants);
            let idx = pf.sets.len();
            pf.sets.push(set);
            ports.into_iter().for_each(|port| {
                pf.by_port.insert(port, idx);
            });
        }
        pf.variants = variants as usize;
        pf.lowercase = pf
            .any
            .iter()
            .chain(pf.sets.iter().flatten())
            .any(|g| matches!(g.matcher, Matcher::Hashed(_)));
        let distinct: std::collections::HashSet<(&[u8], bool)> =
            self.pending.iter().map(|p| (p.pattern.as_slice(), p.nocase)).collect();
        pf.patterns = distinct.len();
        pf
    }
}

impl Prefilter {
    /// Builds the groups of one grouping, numbering their entries after those already
    /// built.
    fn groups(
        &mut self,
        grouping: Grouping,
        bulk: Option<BulkMatcher>,
        variants: &mut u32,
    ) -> Vec<Group> {
        let mut limits: Vec<Option<u64>> = grouping.keys().copied().collect();
        limits.sort();
        let mut groups_in = grouping;
        let mut out = Vec::new();
        for limit in limits {
            let Some(map) = groups_in.remove(&limit) else { continue };
            let mut entries: Vec<(Vec<u8>, Entry)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let (pats, entries): (Vec<Vec<u8>>, Vec<Entry>) = entries.into_iter().unzip();
            let mut variant_base = Vec::with_capacity(entries.len());
            for e in &entries {
                variant_base.push(*variants);
                *variants += e.exact.len() as u32;
            }
            let matcher = match bulk {
                Some(kind) if pats.len() > HASHED_FROM => self.bulk_matcher(kind, &pats, &entries),
                _ => {
                    let Some(ac) = automaton(&pats, bulk.is_some()) else { continue };
                    Matcher::Ac(ac)
                }
            };
            let entry_base = self.entries;
            self.entries += entries.len();
            out.push(Group { limit, matcher, entries, entry_base, variant_base });
        }
        out
    }
}

impl Prefilter {
    /// The matcher of a large group of bulk data: Hyperscan if asked for and built in
    /// (and it compiles the patterns), else the hashed one.
    #[cfg_attr(not(feature = "hyperscan"), allow(unused_variables))]
    fn bulk_matcher(&mut self, kind: BulkMatcher, pats: &[Vec<u8>], entries: &[Entry]) -> Matcher {
        #[cfg(feature = "hyperscan")]
        if kind == BulkMatcher::Hyperscan {
            if let Some(g) = self.hyperscan_group(pats, entries) {
                return Matcher::Hyperscan(g);
            }
        }
        let reach: Vec<u64> = entries.iter().map(|e| e.reach).collect();
        Matcher::Hashed(Box::new(HashedSet::new(pats, &reach)))
    }

    /// `nocase` entries as caseless literals, case-sensitive variants as they are.
    #[cfg(feature = "hyperscan")]
    fn hyperscan_group(&mut self, pats: &[Vec<u8>], entries: &[Entry]) -> Option<HsGroup> {
        let mut literals = Vec::new();
        let mut ids = Vec::new();
        for (pid, (pat, e)) in pats.iter().zip(entries).enumerate() {
            if !e.nocase.is_empty() {
                literals.push(hyperscan::Literal { bytes: pat, caseless: true });
                ids.push((pid as u32, NOCASE));
            }
            for (k, (bytes, _)) in e.exact.iter().enumerate() {
                literals.push(hyperscan::Literal { bytes, caseless: false });
                ids.push((pid as u32, k as u32));
            }
        }
        // A set Hyperscan cannot compile or size scratch for keeps the hashed matcher.
        let set = hyperscan::HsSet::new(&literals).ok()?;
        set.fit(&mut self.scratch).ok()?;
        Some(HsGroup { set, ids })
    }
}

impl Group {
    /// Entry `pid` occurs at `start` of `hay` (caselessly): reports its `nocase` rules
    /// and the case-sensitive variants whose bytes are there.
    fn report(
        &self,
        pid: usize,
        start: usize,
        hay: &[u8],
        seen: &mut PatternSeen,
        hit: &mut impl FnMut(u32),
    ) {
        let e = &self.entries[pid];
        if !e.nocase.is_empty() && seen.mark(0, self.entry_base + pid) {
            e.nocase.iter().for_each(|&r| hit(r));
        }
        for (k, (bytes, rules)) in e.exact.iter().enumerate() {
            let vid = self.variant_base[pid] as usize + k;
            if !seen.is_marked(1, vid) && hay.get(start..start + bytes.len()) == Some(bytes) {
                seen.mark(1, vid);
                rules.iter().for_each(|&r| hit(r));
            }
        }
    }

    /// Hyperscan found pattern `id` (once per scan; nothing to confirm).
    #[cfg(feature = "hyperscan")]
    fn report_literal(
        &self,
        (pid, k): (u32, u32),
        seen: &mut PatternSeen,
        hit: &mut impl FnMut(u32),
    ) {
        let e = &self.entries[pid as usize];
        if k == NOCASE {
            if seen.mark(0, self.entry_base + pid as usize) {
                e.nocase.iter().for_each(|&r| hit(r));
            }
        } else if let Some((_, rules)) = e.exact.get(k as usize) {
            if seen.mark(1, self.variant_base[pid as usize] as usize + k as usize) {
                rules.iter().for_each(|&r| hit(r));
            }
        }
    }

    /// Has everything entry `pid` can report been reported for this buffer?
    fn done(&self, pid: usize, seen: &PatternSeen) -> bool {
        let e = &self.entries[pid];
        (e.nocase.is_empty() || seen.is_marked(0, self.entry_base + pid))
            && (0..e.exact.len()).all(|k| seen.is_marked(1, self.variant_base[pid] as usize + k))
    }
}

fn automaton(pats: &[Vec<u8>], dfa: bool) -> Option<AhoCorasick> {
    if pats.is_empty() {
        return None;
    }
    let kind = if dfa { AhoCorasickKind::DFA } else { AhoCorasickKind::ContiguousNFA };
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .ascii_case_insensitive(true)
        .kind(Some(kind))
        .build(pats)
        .or_else(|_| {
            // Too large for a DFA: let the crate choose.
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(true)
                .build(pats)
        })
        .ok()
}

impl Prefilter {
    pub fn pattern_count(&self) -> usize {
        self.patterns
    }

    /// Does the prefilter want `buf` lowercased (see [`Prefilter::scan`])?
    pub fn wants_lowercase(&self) -> bool {
        self.lowercase
    }

    /// Calls `hit` with each rule whose fast pattern occurs in `buf`, whose first byte
    /// is at offset `base` of its stream (0 for a packet or a field); `lower` is `buf`
    /// lowercased, when [`Prefilter::wants_lowercase`]; `dport` the destination port of
    /// the packet, if it has one. A rule may be reported more than once; `seen` marks
    /// patterns already reported for this buffer.
    #[allow(clippy::too_many_arguments)]
    pub fn scan(
        &self,
        buf: &[u8],
        lower: &[u8],
        base: u64,
        dport: Option<u16>,
        seen: &mut PatternSeen,
        mut hit: impl FnMut(u32),
    ) {
        let set = dport.and_then(|p| self.by_port.get(&p)).map_or(&self.any, |&i| &self.sets[i]);
        for g in set {
            let n = match g.limit {
                None => buf.len(),
                Some(limit) if base >= limit => continue,
                Some(limit) => buf.len().min(usize::try_from(limit - base).unwrap_or(usize::MAX)),
            };
            let hay = &buf[..n];
            match &g.matcher {
                Matcher::Ac(ac) => {
                    for m in ac.find_overlapping_iter(hay) {
                        g.report(m.pattern().as_usize(), m.start(), hay, seen, &mut hit);
                    }
                }
                Matcher::Hashed(set) => {
                    let Some(lower) = lower.get(..n) else { continue };
                    // `done` and `found` both need the marks: `done` only reads them,
                    // so it works on a copy of the generation check.
                    let seen_cell = std::cell::RefCell::new(&mut *seen);
                    set.scan(
                        lower,
                        |pid| g.done(pid as usize, &seen_cell.borrow()),
                        |pid, start| {
                            g.report(
                                pid as usize,
                                start,
                                hay,
                                &mut seen_cell.borrow_mut(),
                                &mut hit,
                            )
                        },
                    );
                }
                #[cfg(feature = "hyperscan")]
                Matcher::Hyperscan(hs) => {
                    let mut scratch = std::mem::take(&mut seen.scratch);
                    let ok = hs.set.scan(hay, &mut scratch, |id| {
                        if let Some(&lit) = hs.ids.get(id as usize) {
                            g.report_literal(lit, seen, &mut hit);
                        }
                    });
                    seen.scratch = scratch;
                    seen.errors += u64::from(!ok);
                }
            }
        }
    }

    /// The groups, for profiles: `first 64 B: 120 (Aho-Corasick); all: 1800 (hashed, 45
    /// short)`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .any
            .iter()
            .map(|g| {
                let at = g.limit.map_or("all".to_string(), |l| format!("first {l} B"));
                let how = match &g.matcher {
                    Matcher::Ac(_) => "Aho-Corasick".to_string(),
                    Matcher::Hashed(h) => format!("hashed, {} short", h.short_count()),
                    #[cfg(feature = "hyperscan")]
                    Matcher::Hyperscan(h) => format!("Hyperscan, {} literals", h.set.len()),
                };
                format!("{at}: {} ({how})", g.entries.len())
            })
            .collect();
        if !self.by_port.is_empty() {
            let mut ports: Vec<u16> = self.by_port.keys().copied().collect();
            ports.sort_unstable();
            let list: Vec<String> = ports.iter().take(12).map(|p| p.to_string()).collect();
            let more = if ports.len() > 12 { ", …" } else { "" };
            parts.push(format!(
                "{} ports with their own groups ({}{more})",
                ports.len(),
                list.join(", ")
            ));
        }
        parts.join("; ")
    }

    /// The per-detector state of scans of this prefilter.
    pub fn new_seen(&self) -> PatternSeen {
        PatternSeen {
            gen: 1,
            marks: [vec![0; self.entries], vec![0; self.variants]],
            errors: 0,
            #[cfg(feature = "hyperscan")]
            scratch: self.scratch.clone(),
        }
    }
}

/// Generation-stamped "already reported" marks for patterns, reused across packets.
#[derive(Debug, Default)]
pub struct PatternSeen {
    gen: u32,
    marks: [Vec<u32>; 2],
    /// Scans the matcher failed (counted in [`crate::engine::DetectStats`]).
    pub(crate) errors: u64,
    /// This detector's Hyperscan scratch space.
    #[cfg(feature = "hyperscan")]
    scratch: hyperscan::Scratch,
}

impl PatternSeen {
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
    use proptest::prelude::*;

    /// The rules an exhaustive search reports: a `nocase` pattern anywhere caselessly,
    /// a case-sensitive one as it is.
    fn naive(rules: &[(Vec<u8>, bool)], buf: &[u8]) -> Vec<u32> {
        let lower = buf.to_ascii_lowercase();
        let mut out: Vec<u32> = (0..rules.len() as u32)
            .filter(|&r| {
                let (p, nocase) = &rules[r as usize];
                let (hay, pat) =
                    if *nocase { (&lower[..], p.to_ascii_lowercase()) } else { (buf, p.clone()) };
                hay.windows(pat.len()).any(|w| w == &pat[..])
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// Every matcher a bulk buffer can have in this build.
    fn bulk_matchers() -> Vec<BulkMatcher> {
        [BulkMatcher::Hashed, BulkMatcher::Hyperscan]
            .into_iter()
            .filter(|m| m.available())
            .collect()
    }

    proptest! {
        /// Large groups (the hashed matcher, or Hyperscan) report exactly the rules whose
        /// pattern occurs, with mixed case modes and case variants of one pattern.
        #[test]
        fn large_groups_report_exactly_the_rules_whose_pattern_occurs(
            rules in prop::collection::vec(
                (prop::collection::vec(prop::sample::select(b"aAbB\0-".to_vec()), 1..7),
                 any::<bool>()),
                HASHED_FROM + 1..HASHED_FROM + 60),
            buf in prop::collection::vec(prop::sample::select(b"aAbB\0-".to_vec()), 0..200),
        ) {
            for m in bulk_matchers() {
                let mut b = PrefilterBuilder::default();
                for (r, (p, nocase)) in rules.iter().enumerate() {
                    b.add(r as u32, p, *nocase, None, None);
                }
                let pf = b.build(Some(m));
                let distinct: std::collections::HashSet<Vec<u8>> =
                    rules.iter().map(|(p, _)| p.to_ascii_lowercase()).collect();
                if distinct.len() > HASHED_FROM {
                    let word = if m == BulkMatcher::Hashed { "hashed" } else { "Hyperscan" };
                    prop_assert!(pf.describe().contains(word), "{}", pf.describe());
                }
                let mut got = hits(&pf, &buf);
                got.dedup();
                prop_assert_eq!(&got, &naive(&rules, &buf), "matcher {}", m.name());
            }
        }
    }

    fn hits(pf: &Prefilter, buf: &[u8]) -> Vec<u32> {
        let mut seen = pf.new_seen();
        seen.next_buffer();
        let mut out = Vec::new();
        let lower = buf.to_ascii_lowercase();
        pf.scan(buf, &lower, 0, None, &mut seen, |r| out.push(r));
        out.sort_unstable();
        out
    }

    #[test]
    fn case_variants_share_one_pattern() {
        let mut b = PrefilterBuilder::default();
        b.add(1, b"Evil", false, None, None);
        b.add(2, b"EVIL", false, None, None);
        b.add(3, b"evil", true, None, None);
        b.add(4, b"Evil", false, None, None);
        b.add(5, b"other", false, None, None);
        let pf = b.build(Some(BulkMatcher::BEST));
        assert_eq!(pf.pattern_count(), 3 + 1);
        assert_eq!(hits(&pf, b"xx Evil yy"), vec![1, 3, 4]);
        assert_eq!(hits(&pf, b"eViL EVIL"), vec![2, 3]);
        // Reported once per buffer even when the pattern occurs again.
        assert_eq!(hits(&pf, b"Evil Evil EVIL other"), vec![1, 2, 3, 4, 5]);
        assert!(hits(&pf, b"OTHER").is_empty());
    }

    #[test]
    fn bounded_patterns_are_only_searched_near_the_start() {
        let mut b = PrefilterBuilder::default();
        b.add(1, b"HEAD", false, Some(4), None);
        b.add(2, b"tail", false, None, None);
        b.add(3, b"mid", false, Some(300), None);
        let pf = b.build(Some(BulkMatcher::BEST));
        assert_eq!(hits(&pf, b"HEAD tail mid"), vec![1, 2, 3]);
        // 64 bytes are scanned for a bound of 4: a near miss is still a candidate (the
        // rule's own check decides), a far one is not.
        let mut far = vec![b'.'; 100];
        far.extend_from_slice(b"HEAD mid tail");
        assert_eq!(hits(&pf, &far), vec![2, 3]);
        // A stream chunk that starts past a group's bound skips it.
        let mut seen = pf.new_seen();
        seen.next_buffer();
        let mut got = Vec::new();
        pf.scan(b"HEAD tail mid", b"head tail mid", 5000, None, &mut seen, |r| got.push(r));
        got.sort_unstable();
        // (A bound past the first 64 bytes is not worth a group: "mid" is searched
        // everywhere.)
        assert_eq!(got, vec![2, 3]);
    }
}
