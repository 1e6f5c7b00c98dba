//! Severity words of a risk score (0–100): the bands every view, filter, figure and
//! document uses.

/// `critical`, `high`, `medium` or `low`.
pub fn severity_of(score: u32) -> &'static str {
    match score {
        75.. => "critical",
        50..=74 => "high",
        25..=49 => "medium",
        _ => "low",
    }
}

/// The scores (inclusive) of a severity word, for filters; `None` for an unknown word.
pub fn band_of(word: &str) -> Option<(u32, u32)> {
    match word {
        "critical" => Some((75, 100)),
        "high" => Some((50, 74)),
        "medium" => Some((25, 49)),
        "low" => Some((0, 24)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_agree_with_the_words() {
        for score in 0..=100 {
            let (lo, hi) = band_of(severity_of(score)).unwrap();
            assert!((lo..=hi).contains(&score), "{score}");
        }
        assert_eq!(band_of("urgent"), None);
    }
}
