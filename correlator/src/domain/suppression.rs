//! What a suppression is, as the store keeps it and an analyst makes it (the matching
//! of alerts against suppressions is `incident::suppress`).

use serde::Serialize;

use super::network::Network;

/// A suppression as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub id: i64,
    pub gid: Option<u32>,
    pub sid: Option<u32>,
    pub src: Option<String>,
    pub dest: Option<String>,
    pub reason: String,
    pub created_by: String,
    pub created_us: i64,
    pub expires_us: Option<i64>,
    pub removed_us: Option<i64>,
    pub hits: u64,
    pub last_hit_us: Option<i64>,
}

/// What a new suppression is made of; checked by [`NewSuppression::validate`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewSuppression {
    pub gid: Option<u32>,
    pub sid: Option<u32>,
    pub src: Option<String>,
    pub dest: Option<String>,
    pub reason: String,
    pub created_by: String,
    pub expires_us: Option<i64>,
}

impl NewSuppression {
    /// Refuses a suppression that would silence everything, has no reason, or names a
    /// network that does not parse.
    pub fn validate(&self) -> Result<(), String> {
        if self.sid.is_none() && self.src.is_none() && self.dest.is_none() {
            return Err("a suppression names a signature id, a source or a destination".into());
        }
        if self.gid.is_some() && self.sid.is_none() {
            return Err("a generator id needs a signature id".into());
        }
        if self.reason.trim().is_empty() {
            return Err("a suppression needs a reason".into());
        }
        for n in self.src.iter().chain(&self.dest) {
            Network::parse(n).map_err(|e| format!("network: {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_suppression_of_everything() {
        let mut n = NewSuppression { reason: "x".into(), ..Default::default() };
        assert!(n.validate().unwrap_err().contains("names a signature"));
        n.src = Some("10.0.0.0/33".into());
        assert!(n.validate().unwrap_err().contains("prefix length"));
        n.src = Some("10.0.0.0/8".into());
        assert!(n.validate().is_ok());
        n.reason = " ".into();
        assert!(n.validate().unwrap_err().contains("reason"));
    }
}
