//! Detection state kept per flow, and how it carries over a rule reload.

use super::threshold::Entry;

/// Detection state kept per flow by the sensor.
#[derive(Debug, Default, Clone)]
pub struct FlowState {
    bits: Vec<u64>,
    /// `flowint` variables by id; `None`: not set.
    ints: Vec<Option<i64>>,
    pub(super) flow_thresholds: Vec<(u32, Entry)>,
    /// IP-only rules were already tested in this direction (0 = to server, 1 = to client).
    pub(super) iponly_done: [bool; 2],
    /// A `pass` rule matched: the flow is no longer inspected.
    pub pass: bool,
    /// At least one alert was raised on this flow.
    pub alerted: bool,
    /// `tag:session`: what is left of the session's tag.
    pub(super) session_tag: Option<crate::signature::tag::TagBudget>,
    /// The last entropy measured of each buffer by an `entropy` keyword of a rule that
    /// matched, by the buffer's EVE name (`file_data`).
    pub(super) entropy: Vec<(String, f64)>,
    /// Flow variables set by `pcre` captures (`flow:name`), in the order first set.
    pub(super) vars: Vec<(String, Vec<u8>)>,
}

/// The map from one rule set's rule and flowbit indices to another's (see
/// [`RuleSet::migration_from`](super::RuleSet::migration_from)); `None` where the new set has no counterpart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Migration {
    /// The new index of each old rule.
    pub rules: Vec<Option<u32>>,
    pub(crate) flowbits: Vec<Option<u32>>,
    pub(crate) flowints: Vec<Option<u32>>,
}

impl Migration {
    /// The new index of old rule `old`.
    pub fn rule(&self, old: u32) -> Option<u32> {
        self.rules.get(old as usize).copied().flatten()
    }
}

impl FlowState {
    /// Carries this flow's flowbits and flow thresholds over to a reloaded rule set;
    /// state of rules and flowbits the new set does not have is dropped.
    pub fn migrate(&mut self, m: &Migration) {
        let old = std::mem::take(&mut self.bits);
        for (i, new) in m.flowbits.iter().enumerate() {
            if let Some(n) = new {
                if old.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1) {
                    self.set_bit(*n, true);
                }
            }
        }
        let ints = std::mem::take(&mut self.ints);
        for (i, new) in m.flowints.iter().enumerate() {
            if let (Some(n), Some(Some(v))) = (new, ints.get(i)) {
                self.set_int(*n, *v);
            }
        }
        self.flow_thresholds = std::mem::take(&mut self.flow_thresholds)
            .into_iter()
            .filter_map(|(r, e)| m.rule(r).map(|n| (n, e)))
            .collect();
    }

    /// The ids of the flowbits set, in order.
    pub(super) fn set_bits(&self) -> impl Iterator<Item = u32> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, word)| {
            (0..64u32).filter(move |b| word >> b & 1 == 1).map(move |b| w as u32 * 64 + b)
        })
    }

    pub(super) fn bit(&self, i: u32) -> bool {
        self.bits.get(i as usize / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    pub(super) fn int(&self, i: u32) -> Option<i64> {
        self.ints.get(i as usize).copied().flatten()
    }

    pub(super) fn set_int(&mut self, i: u32, v: i64) {
        let i = i as usize;
        if self.ints.len() <= i {
            self.ints.resize(i + 1, None);
        }
        self.ints[i] = Some(v);
    }

    pub(super) fn set_bit(&mut self, i: u32, v: bool) {
        let w = i as usize / 64;
        if self.bits.len() <= w {
            if !v {
                return;
            }
            self.bits.resize(w + 1, 0);
        }
        if v {
            self.bits[w] |= 1 << (i % 64);
        } else {
            self.bits[w] &= !(1 << (i % 64));
        }
    }
}
