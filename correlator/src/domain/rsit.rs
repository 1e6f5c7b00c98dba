//! The RSIT classes (Reference Security Incident Taxonomy) the report counts, and which
//! is graver: the class an incident of mixed alerts gets.

use serde::{Deserialize, Serialize};

/// The RSIT classes the report counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RsitClass {
    AbusiveContent,
    MaliciousCode,
    InformationGathering,
    IntrusionAttempts,
    Intrusions,
    Availability,
    InformationContentSecurity,
    Fraud,
    Vulnerable,
    Other,
}

impl RsitClass {
    pub const ALL: [RsitClass; 10] = [
        RsitClass::Intrusions,
        RsitClass::MaliciousCode,
        RsitClass::Availability,
        RsitClass::InformationContentSecurity,
        RsitClass::IntrusionAttempts,
        RsitClass::Fraud,
        RsitClass::InformationGathering,
        RsitClass::Vulnerable,
        RsitClass::AbusiveContent,
        RsitClass::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RsitClass::AbusiveContent => "abusive-content",
            RsitClass::MaliciousCode => "malicious-code",
            RsitClass::InformationGathering => "information-gathering",
            RsitClass::IntrusionAttempts => "intrusion-attempts",
            RsitClass::Intrusions => "intrusions",
            RsitClass::Availability => "availability",
            RsitClass::InformationContentSecurity => "information-content-security",
            RsitClass::Fraud => "fraud",
            RsitClass::Vulnerable => "vulnerable",
            RsitClass::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<RsitClass> {
        let s = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        RsitClass::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Higher is graver: the class an incident of mixed alerts gets.
    pub fn gravity(self) -> u8 {
        10 - RsitClass::ALL.iter().position(|c| *c == self).unwrap_or(9) as u8
    }
}

/// The graver of two RSIT class names (unknown names count as `other`).
pub fn graver_class<'a>(a: &'a str, b: &'a str) -> &'a str {
    let g = |s: &str| RsitClass::parse(s).unwrap_or(RsitClass::Other).gravity();
    if g(b) > g(a) {
        b
    } else {
        a
    }
}
