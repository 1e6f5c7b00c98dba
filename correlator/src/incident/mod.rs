//! From alerts to incidents. The first rule, until the full engine arrives: alerts of
//! the same rule (gid:sid) between the same source and destination belong to one
//! incident while each comes within `incident_window_secs` of the previous one.
//!
//! Provisional score (0–100): a base by severity — 1: 70, 2: 50, 3: 30, 4+: 10 — plus
//! 4 points per doubling of the alert count, at most 20; capped at 100.

/// The provisional risk score of an incident.
pub fn score(severity: u8, alert_count: u64) -> u32 {
    let base = match severity {
        0 | 1 => 70,
        2 => 50,
        3 => 30,
        _ => 10,
    };
    let doublings = 63 - alert_count.max(1).leading_zeros();
    (base + (doublings * 4).min(20)).min(100)
}

/// The title an analyst sees.
pub fn title(signature: &str, src: &str, dst: &str) -> String {
    let sig = if signature.is_empty() { "unnamed rule" } else { signature };
    format!("{sig} ({src} → {dst})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_grows_with_count_and_caps() {
        assert_eq!(score(1, 1), 70);
        assert_eq!(score(1, 2), 74);
        assert_eq!(score(1, 1_000_000), 90);
        assert_eq!(score(3, 0), 30);
        assert_eq!(score(9, 8), 22);
        assert!(score(2, 100) > score(2, 10));
    }
}
