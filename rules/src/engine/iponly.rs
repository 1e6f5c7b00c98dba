//! Index of IP-only rules by address, so that the thousands of list rules of a real set
//! (ET DROP, CINS, Tor exit nodes: `alert ip [hundreds of addresses] any -> $HOME_NET
//! any`) cost one lookup per flow direction instead of one test per rule.
//!
//! Each rule is indexed on its more selective side (the address set covering fewer
//! addresses), per address family. The side is partitioned into elementary intervals,
//! each listing the rules whose set covers it; a lookup is one binary search. Rules
//! whose both sides are broad (`$EXTERNAL_NET -> $HOME_NET`), and bidirectional rules,
//! stay in a plain list. Candidates are then fully checked by the engine.

use std::net::IpAddr;

use crate::signature::{AddressSet, Signature};

/// Above this many addresses a side is too broad to index.
const BROAD_V4: u128 = 1 << 24;
const BROAD_V6: u128 = 1 << 100;

/// Rules covering each elementary interval of one address family and side.
#[derive(Debug, Default)]
struct Partition {
    /// Start of each elementary interval, sorted; interval i is `starts[i]..starts[i+1]`.
    starts: Vec<u128>,
    /// Rules of interval i: `rules[offsets[i]..offsets[i+1]]`.
    offsets: Vec<u32>,
    rules: Vec<u32>,
}

impl Partition {
    fn build(mut entries: Vec<(u128, u128, u32)>) -> Partition {
        if entries.is_empty() {
            return Partition::default();
        }
        // Boundaries: every range start and every range end + 1.
        let mut starts: Vec<u128> = Vec::with_capacity(entries.len() * 2);
        for &(lo, hi, _) in &entries {
            starts.push(lo);
            if let Some(next) = hi.checked_add(1) {
                starts.push(next);
            }
        }
        starts.sort_unstable();
        starts.dedup();
        // Sweep: which rules cover each elementary interval.
        entries.sort_unstable();
        let mut covering: Vec<Vec<u32>> = vec![Vec::new(); starts.len()];
        for (lo, hi, rule) in entries {
            let first = starts.partition_point(|&s| s < lo);
            let mut i = first;
            while i < starts.len() && starts[i] <= hi {
                covering[i].push(rule);
                i += 1;
            }
        }
        let mut offsets = Vec::with_capacity(starts.len() + 1);
        let mut rules = Vec::new();
        for mut c in covering {
            offsets.push(rules.len() as u32);
            c.sort_unstable();
            c.dedup();
            rules.extend(c);
        }
        offsets.push(rules.len() as u32);
        Partition { starts, offsets, rules }
    }

    fn lookup(&self, x: u128) -> &[u32] {
        let i = self.starts.partition_point(|&s| s <= x);
        if i == 0 {
            return &[];
        }
        let (a, b) = (self.offsets[i - 1] as usize, self.offsets[i] as usize);
        &self.rules[a..b]
    }
}

/// IP-only rules of one protocol class.
#[derive(Debug, Default)]
pub struct IpOnlyIndex {
    /// Rules not indexed (tested on every new flow direction), sorted.
    linear: Vec<u32>,
    /// [v4, v6] × [by source, by destination].
    parts: [[Partition; 2]; 2],
    len: usize,
}

fn size(set: &AddressSet, v6: bool) -> u128 {
    let ranges = if v6 { set.v6.ranges() } else { set.v4.ranges() };
    ranges.iter().fold(0u128, |acc, &(lo, hi)| acc.saturating_add(hi - lo).saturating_add(1))
}

impl IpOnlyIndex {
    /// Indexes `rules` (sorted rule indices) of `sig(rule)`.
    pub fn build<'a>(rules: &[u32], sig: impl Fn(u32) -> &'a Signature) -> IpOnlyIndex {
        let mut linear = Vec::new();
        let mut entries: [[Vec<(u128, u128, u32)>; 2]; 2] = Default::default();
        for &r in rules {
            let s = sig(r);
            if s.bidirectional {
                linear.push(r);
                continue;
            }
            let mut in_linear = false;
            for (fam, broad) in [(0usize, BROAD_V4), (1, BROAD_V6)] {
                let v6 = fam == 1;
                let (src_n, dst_n) = (size(&s.src, v6), size(&s.dst, v6));
                if src_n == 0 || dst_n == 0 {
                    continue; // never matches this family
                }
                let (side, set) = if src_n <= dst_n { (0, &s.src) } else { (1, &s.dst) };
                if src_n.min(dst_n) > broad {
                    in_linear = true;
                    continue;
                }
                let ranges = if v6 { set.v6.ranges() } else { set.v4.ranges() };
                entries[fam][side].extend(ranges.iter().map(|&(lo, hi)| (lo, hi, r)));
            }
            if in_linear {
                linear.push(r);
            }
        }
        let parts = entries.map(|sides| sides.map(Partition::build));
        IpOnlyIndex { linear, parts, len: rules.len() }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Candidate rules for a packet from `src` to `dst`, sorted, into `out` (cleared).
    /// A rule in the plain list is tested for both families; an indexed rule only for
    /// the family it was indexed in.
    pub fn candidates(&self, src: IpAddr, dst: IpAddr, out: &mut Vec<u32>) {
        out.clear();
        let (fam, s, d) = match (src, dst) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (0, u32::from(a) as u128, u32::from(b) as u128),
            (IpAddr::V6(a), IpAddr::V6(b)) => (1, u128::from(a), u128::from(b)),
            _ => {
                out.extend_from_slice(&self.linear);
                return;
            }
        };
        out.extend_from_slice(&self.linear);
        out.extend_from_slice(self.parts[fam][0].lookup(s));
        out.extend_from_slice(self.parts[fam][1].lookup(d));
        out.sort_unstable();
        out.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::{Origin, Vars};
    use proptest::prelude::*;

    fn sigs(texts: &[String]) -> Vec<Signature> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Signature::parse(
                    t,
                    &Vars::default(),
                    Origin { file: "t".into(), line: i as u32 + 1 },
                )
                .unwrap_or_else(|e| panic!("{t}: {e}"))
            })
            .collect()
    }

    /// The index returns every rule whose addresses match (it may return more).
    fn check(texts: &[String], probes: &[(IpAddr, IpAddr)]) {
        let s = sigs(texts);
        let ids: Vec<u32> = (0..s.len() as u32).collect();
        let idx = IpOnlyIndex::build(&ids, |r| &s[r as usize]);
        let mut out = Vec::new();
        for &(a, b) in probes {
            idx.candidates(a, b, &mut out);
            for (r, sig) in s.iter().enumerate() {
                let m = sig.src.contains(a) && sig.dst.contains(b)
                    || sig.bidirectional && sig.src.contains(b) && sig.dst.contains(a);
                if m {
                    assert!(
                        out.contains(&(r as u32)),
                        "rule {r} `{}` missed for {a} -> {b}",
                        texts[r]
                    );
                }
            }
        }
    }

    #[test]
    fn lists_and_broad_rules() {
        let t = [
            "alert ip [192.0.2.1,198.51.100.0/24,10.9.0.0/16] any -> any any (sid:1;)".to_string(),
            "alert ip any any -> [203.0.113.7,2001:db8::1] any (sid:2;)".to_string(),
            "alert ip !10.0.0.0/8 any -> 10.0.0.0/8 any (sid:3;)".to_string(),
            "alert ip 198.51.100.5 any <> any any (sid:4;)".to_string(),
            "alert ip [198.51.100.0/25,192.0.2.1] any -> any any (sid:5;)".to_string(),
        ];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        check(
            &t,
            &[
                (ip("192.0.2.1"), ip("10.1.1.1")),
                (ip("198.51.100.200"), ip("1.1.1.1")),
                (ip("1.1.1.1"), ip("203.0.113.7")),
                (ip("2001:db8::9"), ip("2001:db8::1")),
                (ip("8.8.8.8"), ip("198.51.100.5")),
            ],
        );
        let s = sigs(&t);
        let ids: Vec<u32> = (0..5).collect();
        let idx = IpOnlyIndex::build(&ids, |r| &s[r as usize]);
        let mut out = Vec::new();
        idx.candidates(ip("192.0.2.1"), ip("10.1.1.1"), &mut out);
        assert_eq!(out, vec![0, 2, 3, 4]);
        idx.candidates(ip("8.8.4.4"), ip("8.8.8.8"), &mut out);
        // Only the bidirectional rule is left to test: 10.0.0.0/8 is indexed.
        assert_eq!(out, vec![3]);
    }

    proptest! {
        #[test]
        fn never_misses_a_rule(
            lists in prop::collection::vec(prop::collection::vec((0u8..4, 0u8..=32), 1..6), 1..8),
            probes in prop::collection::vec((0u8..4, 0u8..4, 0u8..4), 1..20),
        ) {
            let texts: Vec<String> = lists
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let addrs: Vec<String> =
                        l.iter().map(|(o, p)| format!("10.{o}.{}.0/{}", o * 7, 8 + p % 17)).collect();
                    format!("alert ip [{}] any -> any any (sid:{};)", addrs.join(","), i + 1)
                })
                .collect();
            let probes: Vec<(IpAddr, IpAddr)> = probes
                .iter()
                .map(|(a, b, c)| {
                    (format!("10.{a}.{}.{c}", a * 7).parse().unwrap(), format!("10.{b}.0.1").parse().unwrap())
                })
                .collect();
            check(&texts, &probes);
        }
    }
}
