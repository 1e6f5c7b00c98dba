//! `vlan.id` and `vlan.layers`: tests on the VLAN tags of a packet (up to three, the
//! outer first, as Suricata decodes them).

use super::keyword_parsers::need;
use super::keywords::{HeaderCheck, NumCmp};
use super::ParseError;

/// Which VLAN layers `vlan.id` looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VlanLayer {
    /// Any layer (no layer given).
    Any,
    /// Every layer (`all`).
    All,
    /// One layer: 0 the outer, -1 the inner.
    Index(i8),
}

/// `vlan.id:<number test>[,<layer>]`, the layer a number (negative from the inner one)
/// or `all`.
pub(super) fn parse_vlan_id(name: &str, value: Option<&str>) -> Result<HeaderCheck, ParseError> {
    let v = need(name, value)?;
    let (cmp, layer) = match v.split_once(',') {
        Some((c, l)) => (c, Some(l.trim())),
        None => (v, None),
    };
    let cmp = NumCmp::parse(name, cmp, 4095)?;
    let layer = match layer {
        None => VlanLayer::Any,
        Some("all") => VlanLayer::All,
        Some(l) => match l.parse::<i8>() {
            Ok(i) if (-3..3).contains(&i) => VlanLayer::Index(i),
            _ => {
                return Err(ParseError::invalid(
                    name,
                    format!("layer `{l}`: a number from -3 to 2, or `all`"),
                ))
            }
        },
    };
    Ok(HeaderCheck::VlanId { cmp, layer })
}

/// `vlan.layers:<number test>`: how many VLAN tags the packet has (0 to 3).
pub(super) fn parse_vlan_layers(
    name: &str,
    value: Option<&str>,
) -> Result<HeaderCheck, ParseError> {
    Ok(HeaderCheck::VlanLayers(NumCmp::parse(name, need(name, value)?, 3)?))
}

/// The VLAN ids of a packet or flow held as three slots, 0 after the last layer.
pub fn layers(ids: &[u16; 3]) -> &[u16] {
    let n = ids.iter().position(|v| *v == 0).unwrap_or(ids.len());
    &ids[..n]
}

/// Whether the VLAN ids `ids` (outer first) pass `vlan.id`.
pub fn vlan_id_matches(ids: &[u16], cmp: NumCmp, layer: VlanLayer) -> bool {
    let test = |v: &u16| cmp.matches(u64::from(*v));
    match layer {
        VlanLayer::Any => ids.iter().any(test),
        VlanLayer::All => !ids.is_empty() && ids.iter().all(test),
        VlanLayer::Index(i) => {
            let at = if i < 0 {
                ids.len().checked_sub(i.unsigned_abs() as usize)
            } else {
                Some(i as usize)
            };
            at.and_then(|at| ids.get(at)).is_some_and(test)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: &str) -> (NumCmp, VlanLayer) {
        match parse_vlan_id("vlan.id", Some(v)).unwrap() {
            HeaderCheck::VlanId { cmp, layer } => (cmp, layer),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn layers_by_index_from_either_end_any_or_all() {
        let ids = [200, 300, 400];
        let m = |v: &str| {
            let (c, l) = check(v);
            vlan_id_matches(&ids, c, l)
        };
        assert!(m("200,0") && m("300") && m("400,-1") && m("0x12C,1") && m("!200,1"));
        assert!(m("!500,all") && m("100-600,2") && m("<400,1") && m(">=0xC8") && m(">100,all"));
        assert!(!m("300,0") && !m("200,-1") && !m("500") && !m(">250,all") && !m("1,-3"));
        assert!(!vlan_id_matches(&[], NumCmp::Ne(5), VlanLayer::All));
        assert!(parse_vlan_id("vlan.id", Some("5000")).is_err());
        assert!(parse_vlan_id("vlan.id", Some("5,7")).is_err());
        assert!(parse_vlan_id("vlan.id", Some("5,outer")).is_err());
        assert!(parse_vlan_layers("vlan.layers", Some("4")).is_err());
    }
}
