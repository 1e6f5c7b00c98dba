//! Suppressions: analysts silence an alert that is noise here (a rule, a rule from or
//! to some addresses, or everything from a scanner the SOC runs itself), with a reason
//! and usually an expiry. A suppressed alert is still stored and counted, against the
//! suppression, but joins no incident.
//!
//! A suppression names at least one of: generator and signature id, source network,
//! destination network. All that it names must match. Expired or removed
//! suppressions match nothing.

use std::net::IpAddr;

use crate::domain::network::Network;
use crate::domain::suppression::Suppression;

/// The active suppressions, ready for matching.
#[derive(Clone, Debug, Default)]
pub struct Suppressions {
    list: Vec<(Suppression, Option<Network>, Option<Network>)>,
}

impl Suppressions {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub fn new(rows: Vec<Suppression>) -> Suppressions {
        let list = rows
            .into_iter()
            .filter(|s| s.removed_us.is_none())
            .map(|s| {
                let net = |n: &Option<String>| n.as_deref().and_then(|n| Network::parse(n).ok());
                let (src, dest) = (net(&s.rule.src), net(&s.rule.dest));
                (s, src, dest)
            })
            .collect();
        Suppressions { list }
    }

    /// The first suppression that silences an alert of `gid:sid` from `src` to `dest`
    /// at `at_us`.
    pub fn matching(&self, gid: u32, sid: u32, src: &str, dest: &str, at_us: i64) -> Option<i64> {
        let (src, dest) = (src.parse::<IpAddr>().ok(), dest.parse::<IpAddr>().ok());
        let net_ok = |n: &Option<Network>, named: bool, ip: Option<IpAddr>| match (n, named) {
            (_, false) => true,
            (Some(n), true) => ip.is_some_and(|ip| n.contains(ip)),
            (None, true) => false,
        };
        self.list
            .iter()
            .find(|(s, ns, nd)| {
                s.expires_us.is_none_or(|e| at_us < e)
                    && s.rule.sid.is_none_or(|x| x == sid)
                    && s.rule.gid.is_none_or(|x| x == gid)
                    && net_ok(ns, s.rule.src.is_some(), src)
                    && net_ok(nd, s.rule.dest.is_some(), dest)
            })
            .map(|(s, ..)| s.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::suppression::SuppressionRule;

    fn sup(id: i64, sid: Option<u32>, src: Option<&str>, expires: Option<i64>) -> Suppression {
        let rule = SuppressionRule {
            sid,
            src: src.map(str::to_string),
            reason: "noise".into(),
            created_by: "an".into(),
            ..Default::default()
        };
        Suppression {
            id,
            rule,
            created_us: 0,
            expires_us: expires,
            removed_us: None,
            hits: 0,
            last_hit_us: None,
        }
    }

    #[test]
    fn matches_what_it_names_until_it_expires() {
        let s = Suppressions::new(vec![
            sup(1, Some(2001), None, Some(100)),
            sup(2, None, Some("10.46.1.0/24"), None),
            Suppression { removed_us: Some(5), ..sup(3, Some(7), None, None) },
        ]);
        assert_eq!(s.len(), 2);
        assert_eq!(s.matching(1, 2001, "1.1.1.1", "2.2.2.2", 99), Some(1));
        assert_eq!(s.matching(1, 2001, "1.1.1.1", "2.2.2.2", 100), None, "expired");
        assert_eq!(s.matching(1, 9, "10.46.1.53", "2.2.2.2", 0), Some(2));
        assert_eq!(s.matching(1, 9, "10.46.2.53", "2.2.2.2", 0), None);
        assert_eq!(s.matching(1, 7, "1.1.1.1", "2.2.2.2", 0), None, "removed");
        assert_eq!(s.matching(1, 9, "not-an-ip", "2.2.2.2", 0), None);
    }
}
