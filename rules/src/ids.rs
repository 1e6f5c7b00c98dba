//! How the findings of the engines other than signatures are named in EVE alerts.
//!
//! Signature alerts keep their rule's `gid` (1 for ET Open). The other engines have a
//! `gid` of their own, and a `signature_id` derived from the rule's name, stable across
//! restarts and hosts, so that the correlator groups and an analyst searches by them:
//!
//! | engine | `alert.gid` | `alert.signature_id` from | `alert.signature` |
//! |---|---|---|---|
//! | YARA | 9100 | `namespace:rule` | `YARA namespace:rule` |
//! | IOC lists | 9200 | list name | `IOC <list>: <kind> <indicator>` |
//! | Sigma | 9300 | rule id | `SIGMA <title>` |
//!
//! A leaf module: the engines use it, it uses none of them.

/// `alert.gid` of YARA matches.
pub const GID_YARA: u32 = 9100;
/// `alert.gid` of indicator-list hits.
pub const GID_IOC: u32 = 9200;
/// `alert.gid` of Sigma matches and correlations.
pub const GID_SIGMA: u32 = 9300;

/// A `signature_id` for a named rule: FNV-1a of the name, in 1..2^31.
pub fn stable_sid(name: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    (h & 0x7fff_ffff).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_sids_are_stable_and_positive() {
        assert_eq!(stable_sid("a:b"), stable_sid("a:b"));
        assert_ne!(stable_sid("a:b"), stable_sid("a:c"));
        // FNV-1a of "" is the offset basis.
        assert_eq!(stable_sid(""), 0x811c_9dc5 & 0x7fff_ffff);
        for n in ["", "x", "signature_base.apt_foo:Rule"] {
            assert!(stable_sid(n) >= 1 && stable_sid(n) < 1 << 31);
        }
    }
}
