//! What a suppression is, as the store keeps it and an analyst makes it (the matching
//! of alerts against suppressions is `incident::suppress`).

use serde::Serialize;

use super::network::{Network, NetworkError};

/// What a suppression silences, why, and who made it: the part an analyst writes. A
/// suppression names at least one of a signature id, a source and a destination; all it
/// names must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SuppressionRule {
    /// Generator id (with `sid`; none: any).
    pub gid: Option<u32>,
    /// Signature id (none: any).
    pub sid: Option<u32>,
    /// A source address or network (CIDR).
    pub src: Option<String>,
    /// A destination address or network (CIDR).
    pub dest: Option<String>,
    /// Why the alerts are noise here.
    pub reason: String,
    /// Who made it (`user` or `user (token)`).
    pub created_by: String,
}

/// A suppression as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// Its id.
    pub id: i64,
    /// What it silences.
    #[serde(flatten)]
    pub rule: SuppressionRule,
    /// When it was made (µs since the epoch).
    pub created_us: i64,
    /// When it ends, if it does.
    pub expires_us: Option<i64>,
    /// When it was removed, if it was.
    pub removed_us: Option<i64>,
    /// Alerts it suppressed (stored and counted).
    pub hits: u64,
    /// The last of them.
    pub last_hit_us: Option<i64>,
}

/// What a new suppression is made of; checked by [`NewSuppression::validate`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewSuppression {
    /// What it silences.
    pub rule: SuppressionRule,
    /// When it ends (µs since the epoch; none: when removed).
    pub expires_us: Option<i64>,
}

/// Why a suppression is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SuppressionError {
    /// It would silence every alert.
    #[error("a suppression names a signature id, a source or a destination")]
    Everything,
    /// A generator id alone means nothing.
    #[error("a generator id needs a signature id")]
    GidWithoutSid,
    /// Every suppression says why.
    #[error("a suppression needs a reason")]
    NoReason,
    /// A source or destination network does not parse.
    #[error("network: {0}")]
    Network(#[from] NetworkError),
}

impl NewSuppression {
    /// Refuses a suppression that would silence everything, has no reason, or names a
    /// network that does not parse.
    pub fn validate(&self) -> Result<(), SuppressionError> {
        self.rule.validate()
    }
}

impl SuppressionRule {
    /// As [`NewSuppression::validate`].
    pub fn validate(&self) -> Result<(), SuppressionError> {
        if self.sid.is_none() && self.src.is_none() && self.dest.is_none() {
            return Err(SuppressionError::Everything);
        }
        if self.gid.is_some() && self.sid.is_none() {
            return Err(SuppressionError::GidWithoutSid);
        }
        if self.reason.trim().is_empty() {
            return Err(SuppressionError::NoReason);
        }
        for n in self.src.iter().chain(&self.dest) {
            Network::parse(n)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_suppression_of_everything() {
        let rule = SuppressionRule { reason: "x".into(), ..Default::default() };
        let mut n = NewSuppression { rule, expires_us: None };
        assert_eq!(n.validate(), Err(SuppressionError::Everything));
        n.rule.src = Some("10.0.0.0/33".into());
        assert!(n.validate().unwrap_err().to_string().contains("prefix length"));
        n.rule.src = Some("10.0.0.0/8".into());
        assert!(n.validate().is_ok());
        n.rule.reason = " ".into();
        assert_eq!(n.validate(), Err(SuppressionError::NoReason));
    }
}
