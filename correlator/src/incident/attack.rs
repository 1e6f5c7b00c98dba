//! What an alert means: its MITRE ATT&CK tactics and techniques, and its class in the
//! ENISA Reference Security Incident Taxonomy (RSIT) that the monthly report uses.
//!
//! ATT&CK comes from the rule when it says: ET Open's `metadata: mitre_tactic_id …,
//! mitre_technique_id …`, Sigma's tags (`attack.t1059.001`, `attack.execution`).
//! Otherwise from the alert's classification (the `classtype` description EVE
//! carries in `alert.category`), by the table [`BY_CLASSTYPE`].
//!
//! The RSIT class is taken, in order, from: a `rsit` metadata value on the rule; the
//! classification ([`BY_CLASSTYPE`]); the tactics (Impact → availability, Command
//! and Control / Execution → malicious code, Reconnaissance / Discovery → information
//! gathering, Initial Access / Credential Access → intrusion attempts, Privilege
//! Escalation / Lateral Movement / Exfiltration → intrusions); else `other`.
//! An incident's class is the gravest of its alerts' classes ([`RsitClass::gravity`]),
//! and *intrusion attempts* become *intrusions* once the attack is seen to have
//! succeeded.

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::domain::rsit::RsitClass;

/// The enterprise ATT&CK tactics: id, name.
pub const TACTICS: &[(&str, &str)] = &[
    ("TA0043", "Reconnaissance"),
    ("TA0042", "Resource Development"),
    ("TA0001", "Initial Access"),
    ("TA0002", "Execution"),
    ("TA0003", "Persistence"),
    ("TA0004", "Privilege Escalation"),
    ("TA0005", "Defense Evasion"),
    ("TA0006", "Credential Access"),
    ("TA0007", "Discovery"),
    ("TA0008", "Lateral Movement"),
    ("TA0009", "Collection"),
    ("TA0011", "Command and Control"),
    ("TA0010", "Exfiltration"),
    ("TA0040", "Impact"),
];

/// The name of a tactic id.
pub fn tactic_name(id: &str) -> Option<&'static str> {
    TACTICS.iter().find(|(t, _)| t.eq_ignore_ascii_case(id)).map(|(_, n)| *n)
}

/// The id of a tactic name in any common spelling (`Initial_Access`,
/// `initial-access`, `Command and Control`).
pub fn tactic_id(name: &str) -> Option<&'static str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '-', ' '], "");
    let n = norm(name);
    TACTICS.iter().find(|(_, t)| norm(t) == n).map(|(id, _)| *id)
}

/// classtype description → (tactic, technique, RSIT class).
pub const BY_CLASSTYPE: &[(&str, Option<&str>, Option<&str>, RsitClass)] = &[
    ("Attempted Information Leak", Some("TA0043"), Some("T1595"), RsitClass::InformationGathering),
    ("Information Leak", Some("TA0009"), None, RsitClass::InformationContentSecurity),
    ("Large Scale Information Leak", Some("TA0010"), None, RsitClass::InformationContentSecurity),
    ("Detection of a Network Scan", Some("TA0043"), Some("T1595"), RsitClass::InformationGathering),
    ("Attempted Denial of Service", Some("TA0040"), Some("T1498"), RsitClass::Availability),
    ("Denial of Service", Some("TA0040"), Some("T1498"), RsitClass::Availability),
    (
        "Detection of a Denial of Service Attack",
        Some("TA0040"),
        Some("T1498"),
        RsitClass::Availability,
    ),
    ("Attempted User Privilege Gain", Some("TA0001"), Some("T1190"), RsitClass::IntrusionAttempts),
    (
        "Unsuccessful User Privilege Gain",
        Some("TA0001"),
        Some("T1190"),
        RsitClass::IntrusionAttempts,
    ),
    (
        "Attempted Administrator Privilege Gain",
        Some("TA0001"),
        Some("T1190"),
        RsitClass::IntrusionAttempts,
    ),
    ("Web Application Attack", Some("TA0001"), Some("T1190"), RsitClass::IntrusionAttempts),
    ("Misc Attack", Some("TA0001"), None, RsitClass::IntrusionAttempts),
    (
        "Targeted Malicious Activity was Detected",
        Some("TA0001"),
        None,
        RsitClass::IntrusionAttempts,
    ),
    ("Successful User Privilege Gain", Some("TA0004"), Some("T1068"), RsitClass::Intrusions),
    (
        "Successful Administrator Privilege Gain",
        Some("TA0004"),
        Some("T1068"),
        RsitClass::Intrusions,
    ),
    ("Successful Credential Theft Detected", Some("TA0006"), Some("T1555"), RsitClass::Intrusions),
    (
        "An attempted login using a suspicious username was detected",
        Some("TA0006"),
        Some("T1110"),
        RsitClass::IntrusionAttempts,
    ),
    (
        "Attempt to login by a default username and password",
        Some("TA0006"),
        Some("T1078.001"),
        RsitClass::IntrusionAttempts,
    ),
    ("Executable code was detected", Some("TA0002"), Some("T1203"), RsitClass::IntrusionAttempts),
    ("A Network Trojan was detected", Some("TA0011"), Some("T1071"), RsitClass::MaliciousCode),
    (
        "Malware Command and Control Activity Detected",
        Some("TA0011"),
        Some("T1071"),
        RsitClass::MaliciousCode,
    ),
    (
        "Domain Observed Used for C2 Detected",
        Some("TA0011"),
        Some("T1071.004"),
        RsitClass::MaliciousCode,
    ),
    ("Exploit Kit Activity Detected", Some("TA0001"), Some("T1189"), RsitClass::MaliciousCode),
    ("Possibly Unwanted Program Detected", None, None, RsitClass::MaliciousCode),
    ("Possible Social Engineering Attempted", Some("TA0001"), Some("T1566"), RsitClass::Fraud),
    ("Crypto Currency Mining Activity Detected", Some("TA0040"), Some("T1496"), RsitClass::Fraud),
    ("Inappropriate Content was Detected", None, None, RsitClass::AbusiveContent),
    ("Potential Corporate Privacy Violation", None, None, RsitClass::Other),
    (
        "access to a potentially vulnerable web application",
        Some("TA0043"),
        Some("T1595.002"),
        RsitClass::Vulnerable,
    ),
    (
        "Device Retrieving External IP Address Detected",
        Some("TA0007"),
        Some("T1016"),
        RsitClass::InformationGathering,
    ),
    ("A suspicious filename was detected", None, None, RsitClass::IntrusionAttempts),
    ("A system call was detected", Some("TA0002"), None, RsitClass::IntrusionAttempts),
    ("Decode of an RPC Query", Some("TA0043"), None, RsitClass::InformationGathering),
    ("A client was using an unusual port", None, None, RsitClass::Other),
];

/// What an alert is, for grouping, scoring and reporting.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Meaning {
    /// Tactic ids (`TA0001`), in the order found, no repeats.
    pub tactics: Vec<String>,
    /// Technique ids (`T1190`, `T1059.001`).
    pub techniques: Vec<String>,
    pub rsit: Option<RsitClass>,
}

impl Meaning {
    pub fn rsit_or_other(&self) -> RsitClass {
        self.rsit.unwrap_or(RsitClass::Other)
    }
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !s.is_empty() && !v.contains(&s) {
        v.push(s);
    }
}

/// Reads the ATT&CK ids and RSIT class of an alert from its rule's metadata and its
/// classification.
pub fn classify(category: &str, metadata: Option<&BTreeMap<String, Vec<String>>>) -> Meaning {
    let mut m = Meaning::default();
    if let Some(meta) = metadata {
        let get = |k: &str| meta.get(k).into_iter().flatten();
        for t in get("mitre_tactic_id") {
            push_unique(&mut m.tactics, t.trim().to_ascii_uppercase());
        }
        for t in get("mitre_tactic_name") {
            if let Some(id) = tactic_id(t) {
                push_unique(&mut m.tactics, id.to_string());
            }
        }
        for t in get("mitre_technique_id") {
            push_unique(&mut m.techniques, t.trim().to_ascii_uppercase());
        }
        for tag in get("sigma_tags") {
            let Some(rest) = tag.trim().strip_prefix("attack.") else { continue };
            if rest.len() > 1
                && rest.as_bytes()[0].eq_ignore_ascii_case(&b't')
                && rest.as_bytes()[1].is_ascii_digit()
            {
                push_unique(&mut m.techniques, rest.to_ascii_uppercase());
            } else if let Some(id) = tactic_id(rest) {
                push_unique(&mut m.tactics, id.to_string());
            }
        }
        m.rsit = get("rsit").find_map(|v| RsitClass::parse(v));
    }
    let by_class = BY_CLASSTYPE.iter().find(|(d, ..)| d.eq_ignore_ascii_case(category.trim()));
    if let Some((_, tactic, technique, class)) = by_class {
        if m.tactics.is_empty() {
            if let Some(t) = tactic {
                m.tactics.push(t.to_string());
            }
            if m.techniques.is_empty() {
                if let Some(t) = technique {
                    m.techniques.push(t.to_string());
                }
            }
        }
        m.rsit = m.rsit.or(Some(*class));
    }
    if m.rsit.is_none() {
        m.rsit = m.tactics.iter().find_map(|t| rsit_of_tactic(t));
    }
    m
}

fn rsit_of_tactic(t: &str) -> Option<RsitClass> {
    Some(match t {
        "TA0040" => RsitClass::Availability,
        "TA0011" | "TA0002" | "TA0003" => RsitClass::MaliciousCode,
        "TA0043" | "TA0007" => RsitClass::InformationGathering,
        "TA0001" | "TA0006" | "TA0042" | "TA0005" => RsitClass::IntrusionAttempts,
        "TA0004" | "TA0008" | "TA0010" | "TA0009" => RsitClass::Intrusions,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn et_metadata_wins_over_the_classtype() {
        let md = meta(&[
            ("mitre_tactic_id", &["TA0011"]),
            ("mitre_tactic_name", &["Command_And_Control"]),
            ("mitre_technique_id", &["T1071.004"]),
        ]);
        let m = classify("Potentially Bad Traffic", Some(&md));
        assert_eq!(m.tactics, ["TA0011"]);
        assert_eq!(m.techniques, ["T1071.004"]);
        assert_eq!(m.rsit, Some(RsitClass::MaliciousCode));
    }

    #[test]
    fn sigma_tags_give_tactics_and_techniques() {
        let md = meta(&[(
            "sigma_tags",
            &["attack.execution", "attack.t1059.001", "attack.credential-access", "cve.2021-1"],
        )]);
        let m = classify("Sigma rule", Some(&md));
        assert_eq!(m.tactics, ["TA0002", "TA0006"]);
        assert_eq!(m.techniques, ["T1059.001"]);
        assert_eq!(m.rsit, Some(RsitClass::MaliciousCode));
    }

    #[test]
    fn the_classtype_fills_in_what_the_rule_does_not_say() {
        let m = classify("Web Application Attack", None);
        assert_eq!(
            (m.tactics.as_slice(), m.rsit),
            (&["TA0001".to_string()][..], Some(RsitClass::IntrusionAttempts))
        );
        let m = classify("Detection of a Network Scan", None);
        assert_eq!(m.rsit, Some(RsitClass::InformationGathering));
        assert_eq!(classify("Misc activity", None).rsit_or_other(), RsitClass::Other);
        let md = meta(&[("rsit", &["vulnerable"])]);
        assert_eq!(classify("Web Application Attack", Some(&md)).rsit, Some(RsitClass::Vulnerable));
    }

    #[test]
    fn gravity_orders_the_classes() {
        assert!(RsitClass::Intrusions.gravity() > RsitClass::IntrusionAttempts.gravity());
        assert!(RsitClass::MaliciousCode.gravity() > RsitClass::InformationGathering.gravity());
        assert!(RsitClass::Other.gravity() < RsitClass::Vulnerable.gravity());
        for c in RsitClass::ALL {
            assert_eq!(RsitClass::parse(c.as_str()), Some(c));
        }
        assert_eq!(tactic_id("Command_And_Control"), Some("TA0011"));
        assert_eq!(tactic_name("ta0001"), Some("Initial Access"));
    }

    #[test]
    fn every_builtin_classtype_is_known_or_deliberately_neutral() {
        // Classtypes that say nothing about the attack stay `other` on purpose.
        let neutral = [
            "Not Suspicious Traffic",
            "Unknown Traffic",
            "Potentially Bad Traffic",
            "A suspicious string was detected",
            "A TCP connection was detected",
            "Detection of a non-standard protocol or event",
            "Generic Protocol Command Decode",
            "Misc activity",
            "Generic ICMP event",
        ];
        for (_, desc, _) in gatewatch_rules::signature::classification::BUILTIN {
            let known = BY_CLASSTYPE.iter().any(|(d, ..)| d == desc);
            assert!(known || neutral.contains(desc), "classtype `{desc}` has no mapping");
        }
    }
}
