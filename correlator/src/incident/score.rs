//! The risk score of an incident, 0–100, and the severity word analysts see.
//!
//! ```text
//! score = min(100, S + A + K + W + V)
//!   S  severity of its gravest alert    EVE severity 1 → 40, 2 → 25, 3 → 10, 4+ → 5
//!   A  the asset at stake               4 × security level (1–5, Decree 85/2016)
//!                                       + criticality: low 0, medium 4, high 8, critical 12
//!                                       unknown internal host: level 1, medium (8);
//!                                       external entity: 0
//!   K  kill-chain stages reached        6 × (distinct ATT&CK tactics − 1), at most 18
//!   W  the attack worked                15 when success was seen (a 2xx/3xx HTTP answer
//!                                       to an attack request, or a kill-chain
//!                                       correlation fired), else 0
//!   V  volume                           1 per doubling of the alert count, at most 5
//!
//! severity = critical ≥ 75 > high ≥ 50 > medium ≥ 25 > low
//! ```
//!
//! So an exploit attempt (severity 1) on a level-3, high-criticality portal scores
//! 40 + 20 = 60 (high); seen to succeed, 75 (critical). A scan (severity 3) of an
//! unknown internal host scores 10 + 8 = 18 (low).

use serde::Serialize;

use super::assets::{Criticality, Zone};

/// What the score is computed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScoreInputs {
    /// EVE severity of the gravest alert (1 is the highest).
    pub severity: u8,
    /// Security level 1–5 of the entity, 0 for an external one.
    pub security_level: u8,
    pub criticality: Option<Criticality>,
    /// Distinct ATT&CK tactics seen.
    pub stages: u32,
    pub succeeded: bool,
    pub alert_count: u64,
}

impl ScoreInputs {
    /// The asset part of the inputs for an entity's zone.
    pub fn with_zone(mut self, zone: &Zone<'_>) -> Self {
        (self.security_level, self.criticality) = match zone {
            Zone::Asset(a) => (a.security_level, Some(a.criticality)),
            Zone::UnknownInternal => (1, Some(Criticality::Medium)),
            Zone::External => (0, None),
        };
        self
    }
}

/// The score, by the formula in the module's documentation.
pub fn score(i: &ScoreInputs) -> u32 {
    let s = match i.severity {
        0 | 1 => 40,
        2 => 25,
        3 => 10,
        _ => 5,
    };
    let a = 4 * i.security_level.min(5) as u32
        + match i.criticality {
            None | Some(Criticality::Low) => 0,
            Some(Criticality::Medium) => 4,
            Some(Criticality::High) => 8,
            Some(Criticality::Critical) => 12,
        };
    let k = (6 * i.stages.saturating_sub(1)).min(18);
    let w = if i.succeeded { 15 } else { 0 };
    let v = (63 - i.alert_count.max(1).leading_zeros()).min(5);
    (s + a + k + w + v).min(100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::severity::severity_of;

    fn inputs(severity: u8, level: u8, crit: Option<Criticality>) -> ScoreInputs {
        ScoreInputs {
            severity,
            security_level: level,
            criticality: crit,
            stages: 1,
            succeeded: false,
            alert_count: 1,
        }
    }

    #[test]
    fn the_documented_examples() {
        let exploit = inputs(1, 3, Some(Criticality::High));
        assert_eq!(score(&exploit), 60);
        assert_eq!(severity_of(score(&exploit)), "high");
        let worked = ScoreInputs { succeeded: true, ..exploit };
        assert_eq!(score(&worked), 75);
        assert_eq!(severity_of(75), "critical");
        let scan = inputs(3, 0, None).with_zone(&Zone::UnknownInternal);
        assert_eq!(score(&scan), 18);
        assert_eq!(severity_of(18), "low");
    }

    #[test]
    fn each_term_counts_and_the_total_caps() {
        let base = inputs(2, 2, Some(Criticality::Low));
        assert_eq!(score(&base), 25 + 8);
        assert_eq!(score(&ScoreInputs { stages: 3, ..base }), 33 + 12);
        assert_eq!(score(&ScoreInputs { stages: 9, ..base }), 33 + 18, "stages cap at 18");
        assert_eq!(score(&ScoreInputs { alert_count: 4, ..base }), 33 + 2);
        assert_eq!(
            score(&ScoreInputs { alert_count: u64::MAX, ..base }),
            33 + 5,
            "volume caps at 5"
        );
        assert_eq!(score(&ScoreInputs { alert_count: 0, ..base }), 33);
        let max = ScoreInputs {
            severity: 1,
            security_level: 5,
            criticality: Some(Criticality::Critical),
            stages: 10,
            succeeded: true,
            alert_count: 1 << 20,
        };
        assert_eq!(score(&max), 100);
        assert!(score(&inputs(1, 5, None)) > score(&inputs(1, 4, None)));
        assert!(score(&inputs(1, 1, None)) > score(&inputs(2, 1, None)));
        assert_eq!(severity_of(74), "high");
        assert_eq!(severity_of(49), "medium");
        assert_eq!(severity_of(24), "low");
    }
}
