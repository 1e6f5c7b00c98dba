//! Rule profiling, as Suricata's `rule-profiling`: where detection spends its time.
//!
//! When a [`Detector`](super::Detector) profiles, every rule tested after the prefilter
//! (or tested without one) counts a check, its matches and the time it took, and every
//! prefilter scan counts a call, the bytes scanned, the candidates it produced and its
//! time. Workers profile separately; [`ProfileReport::merge`] adds them up, and
//! [`ProfileReport::write_text`] writes them sorted by time, so the top of the file is
//! where the time goes. Profiling costs two clock reads per rule checked: it is off
//! unless asked for.

use std::io::{self, Write};
use std::time::Instant;

use serde::Serialize;

/// Counters of one rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RuleCost {
    pub checks: u64,
    pub matches: u64,
    pub nanos: u64,
}

/// Counters of one prefilter (one buffer after its transforms).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PrefilterCost {
    pub calls: u64,
    pub bytes: u64,
    pub candidates: u64,
    pub nanos: u64,
}

/// One detector's profile, aligned with its rule set.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    pub(crate) rules: Vec<RuleCost>,
    pub(crate) prefilters: Vec<PrefilterCost>,
    /// Rules tested on every packet of their protocol (no fast pattern).
    pub(crate) unfiltered_checks: u64,
    /// Time of whole `detect` calls (prefilters, rule checks and the rest).
    pub(crate) detect_calls: u64,
    pub(crate) detect_nanos: u64,
}

impl Profile {
    pub(crate) fn new(rules: usize, prefilters: usize) -> Profile {
        Profile {
            rules: vec![RuleCost::default(); rules],
            prefilters: vec![PrefilterCost::default(); prefilters],
            ..Profile::default()
        }
    }
}

/// Nanoseconds since `t`, saturating.
pub(crate) fn since(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// A rule's line of the report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RuleLine {
    /// Generator id (1 for rules; see `gatewatch_rules::ids`).
    pub gid: u32,
    /// Signature id.
    pub sid: u32,
    /// Rule revision.
    pub rev: u32,
    /// The rule's message.
    pub msg: String,
    /// Times the rule was tested on a packet, a stream chunk or a transaction.
    pub checks: u64,
    pub(crate) matches: u64,
    pub(crate) nanos: u64,
}

/// A prefilter's line of the report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PrefilterLine {
    /// The buffer and its transforms, as in a rule (`http.uri`, `dns.query|dotprefix`).
    pub buffer: String,
    pub(crate) patterns: usize,
    /// How the patterns are grouped and searched.
    pub groups: String,
    pub(crate) calls: u64,
    pub(crate) bytes: u64,
    /// Rules the scans handed to the rule checks.
    pub candidates: u64,
    pub(crate) nanos: u64,
}

/// Where detection spent its time, over one or more detectors of the same rule set.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ProfileReport {
    pub(crate) detect_calls: u64,
    pub(crate) detect_nanos: u64,
    pub(crate) unfiltered_checks: u64,
    /// Sorted by time, most first.
    pub rules: Vec<RuleLine>,
    /// Sorted by time, most first.
    pub prefilters: Vec<PrefilterLine>,
}

impl ProfileReport {
    /// Adds `other` (another worker's report of the same rule set) to this one.
    pub fn merge(&mut self, other: &ProfileReport) {
        self.detect_calls += other.detect_calls;
        self.detect_nanos += other.detect_nanos;
        self.unfiltered_checks += other.unfiltered_checks;
        for o in &other.rules {
            match self.rules.iter_mut().find(|r| (r.gid, r.sid) == (o.gid, o.sid)) {
                Some(r) => {
                    r.checks += o.checks;
                    r.matches += o.matches;
                    r.nanos += o.nanos;
                }
                None => self.rules.push(o.clone()),
            }
        }
        for o in &other.prefilters {
            match self.prefilters.iter_mut().find(|p| p.buffer == o.buffer) {
                Some(p) => {
                    p.calls += o.calls;
                    p.bytes += o.bytes;
                    p.candidates += o.candidates;
                    p.nanos += o.nanos;
                }
                None => self.prefilters.push(o.clone()),
            }
        }
        self.sort();
    }

    pub(crate) fn sort(&mut self) {
        self.rules.sort_by(|a, b| b.nanos.cmp(&a.nanos).then(a.sid.cmp(&b.sid)));
        self.prefilters.sort_by(|a, b| b.nanos.cmp(&a.nanos).then(a.buffer.cmp(&b.buffer)));
    }

    /// The report as text: a summary, the prefilters, then every rule that was checked,
    /// each sorted by time spent (most first).
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let ms = |n: u64| n as f64 / 1e6;
        let rule_nanos: u64 = self.rules.iter().map(|r| r.nanos).sum();
        let pf_nanos: u64 = self.prefilters.iter().map(|p| p.nanos).sum();
        let share = |n: u64| {
            if self.detect_nanos == 0 {
                0.0
            } else {
                100.0 * n as f64 / self.detect_nanos as f64
            }
        };
        writeln!(out, "# Gatewatch rule profile")?;
        writeln!(
            out,
            "detection: {} calls, {:.1} ms; prefilters {:.1} ms ({:.1}%), rule checks {:.1} ms \
             ({:.1}%); {} checks of rules without a prefilter pattern",
            self.detect_calls,
            ms(self.detect_nanos),
            ms(pf_nanos),
            share(pf_nanos),
            ms(rule_nanos),
            share(rule_nanos),
            self.unfiltered_checks,
        )?;
        writeln!(out)?;
        writeln!(out, "## Prefilters, by time")?;
        writeln!(
            out,
            "{:>10} {:>6} {:>10} {:>12} {:>12} {:>9}  buffer",
            "ms", "%", "calls", "bytes", "candidates", "patterns"
        )?;
        for p in &self.prefilters {
            writeln!(
                out,
                "{:>10.2} {:>6.2} {:>10} {:>12} {:>12} {:>9}  {}",
                ms(p.nanos),
                share(p.nanos),
                p.calls,
                p.bytes,
                p.candidates,
                p.patterns,
                p.buffer
            )?;
            writeln!(out, "{:>63}  ({})", "", p.groups)?;
        }
        writeln!(out)?;
        writeln!(out, "## Rules, by time (rules never checked are left out)")?;
        writeln!(
            out,
            "{:>10} {:>6} {:>10} {:>9} {:>9}  {:<14} msg",
            "ms", "%", "checks", "matches", "ns/check", "gid:sid:rev"
        )?;
        for r in self.rules.iter().filter(|r| r.checks > 0) {
            writeln!(
                out,
                "{:>10.2} {:>6.2} {:>10} {:>9} {:>9} {:<14} {}",
                ms(r.nanos),
                share(r.nanos),
                r.checks,
                r.matches,
                r.nanos / r.checks.max(1),
                format!("{}:{}:{}", r.gid, r.sid, r.rev),
                r.msg
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sid: u32, nanos: u64) -> RuleLine {
        RuleLine { gid: 1, sid, rev: 1, msg: format!("r{sid}"), checks: 1, matches: 0, nanos }
    }

    #[test]
    fn merge_adds_by_rule_and_buffer_and_sorts_by_time() {
        let pf = |buffer: &str, nanos| PrefilterLine {
            buffer: buffer.into(),
            patterns: 1,
            groups: String::new(),
            calls: 1,
            bytes: 10,
            candidates: 2,
            nanos,
        };
        let mut a = ProfileReport {
            detect_calls: 1,
            detect_nanos: 100,
            unfiltered_checks: 0,
            rules: vec![line(1, 10), line(2, 5)],
            prefilters: vec![pf("pkt_data", 7)],
        };
        let b = ProfileReport {
            detect_calls: 2,
            detect_nanos: 50,
            unfiltered_checks: 3,
            rules: vec![line(2, 30), line(3, 1)],
            prefilters: vec![pf("pkt_data", 1), pf("http.uri", 20)],
        };
        a.merge(&b);
        assert_eq!(a.detect_calls, 3);
        assert_eq!(a.unfiltered_checks, 3);
        let order: Vec<(u32, u64, u64)> =
            a.rules.iter().map(|r| (r.sid, r.checks, r.nanos)).collect();
        assert_eq!(order, vec![(2, 2, 35), (1, 1, 10), (3, 1, 1)]);
        assert_eq!(a.prefilters[0].buffer, "http.uri");
        assert_eq!((a.prefilters[1].calls, a.prefilters[1].nanos), (2, 8));
        let mut text = Vec::new();
        a.write_text(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let first_rule = text.lines().skip_while(|l| !l.starts_with("## Rules")).nth(2).unwrap();
        assert!(first_rule.contains("1:2:1") && first_rule.ends_with("r2"), "{first_rule}");
    }
}
