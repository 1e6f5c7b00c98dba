//! What a flow's detection state says about it in EVE, as Suricata logs it on alerts
//! and flow records: `traffic` (flowbits named `traffic/id/<x>` and
//! `traffic/label/<x>`) and `metadata` (the other flowbits, the flowints, the last
//! entropy measured of each buffer).

use serde_json::{Map, Value};

use super::evaluate::instances;
use super::{Compiled, FlowState, Packet, RuleSet};
use crate::signature::entropy::EntropyCheck;
use crate::signature::{PayloadMatch, Transform};

/// The `entropy` keywords of a list.
fn entropy_checks(items: &[PayloadMatch]) -> impl Iterator<Item = EntropyCheck> + '_ {
    items.iter().filter_map(|m| match m {
        PayloadMatch::Entropy(e) => Some(*e),
        _ => None,
    })
}

/// At most this many buffers' entropy kept per flow.
const MAX_ENTROPY_VALUES: usize = 16;
/// At most this many flow variables per flow, of at most this many bytes each.
const MAX_FLOW_VARS: usize = 64;
const MAX_FLOW_VAR_LEN: usize = 4096;

/// The `pcre` keywords of a list that store captures.
fn capturing(items: &[PayloadMatch]) -> impl Iterator<Item = &crate::signature::Pcre> {
    items.iter().filter_map(|m| match m {
        PayloadMatch::Pcre(p) if !p.captures.is_empty() && !p.negated => Some(p),
        _ => None,
    })
}

/// Stores the groups `p` captures in the first of `data` it matches.
fn store_captures<D: std::ops::Deref<Target = [u8]>>(
    p: &crate::signature::Pcre,
    data: impl Iterator<Item = D>,
    f: &mut FlowState,
) {
    for d in data {
        let Ok(Some(caps)) = p.regex.captures(&d) else { continue };
        for (i, name) in p.captures.iter().enumerate() {
            if let Some(m) = caps.get(i + 1) {
                f.set_var(name, &m.as_bytes()[..m.as_bytes().len().min(MAX_FLOW_VAR_LEN)]);
            }
        }
        return;
    }
}

impl FlowState {
    /// Sets flow variable `name` (a pcre capture), kept in the order first set.
    pub(super) fn set_var(&mut self, name: &str, v: &[u8]) {
        if let Some(e) = self.vars.iter_mut().find(|(n, _)| n == name) {
            e.1 = v.to_vec();
        } else if self.vars.len() < MAX_FLOW_VARS {
            self.vars.push((name.to_string(), v.to_vec()));
        }
    }

    /// Keeps the last entropy measured of buffer `name`.
    pub(super) fn set_entropy(&mut self, name: &str, v: f64) {
        if let Some(e) = self.entropy.iter_mut().find(|(n, _)| n == name) {
            e.1 = v;
        } else if self.entropy.len() < MAX_ENTROPY_VALUES {
            self.entropy.push((name.to_string(), v));
        }
    }
}

impl RuleSet {
    /// After rule `c` matched: the entropy its `entropy` keywords measured, on the
    /// first instance of each buffer (transforms applied) and on the payload.
    pub(super) fn record_flow_vars(&self, c: &Compiled, pkt: &Packet<'_>, f: &mut FlowState) {
        for e in entropy_checks(&c.sig.payload) {
            f.set_entropy("payload", e.entropy_of(pkt.payload));
        }
        for p in capturing(&c.sig.payload) {
            let stream = pkt.stream.map(|s| s.data);
            store_captures(p, stream.into_iter().chain([pkt.payload]), f);
        }
        for list in &c.sig.buffers {
            for p in capturing(&list.matches) {
                let data = instances(pkt, list.buffer);
                store_captures(p, data.map(|d| Transform::apply_all(&list.transforms, &d)), f);
            }
            let mut checks = entropy_checks(&list.matches).peekable();
            if checks.peek().is_none() {
                continue;
            }
            let Some(first) = instances(pkt, list.buffer).next() else { continue };
            let data = Transform::apply_all(&list.transforms, &first);
            for e in checks {
                // Suricata's names of the buffers: `file_data`, `http_uri`.
                f.set_entropy(&list.buffer.name().replace('.', "_"), e.entropy_of(&data));
            }
        }
    }

    /// The `traffic` and `metadata` objects of a flow's EVE records (absent when empty).
    pub fn flow_metadata(&self, f: &FlowState) -> Map<String, Value> {
        let mut traffic: Map<String, Value> = Map::new();
        let mut flowbits: Vec<Value> = Vec::new();
        for name in f.set_bits().filter_map(|i| self.flowbit_names.get(i as usize)) {
            let kind = ["id", "label"].into_iter().find_map(|k| {
                name.strip_prefix("traffic/")?.strip_prefix(k)?.strip_prefix('/').map(|v| (k, v))
            });
            match kind {
                Some((k, v)) => {
                    let list = traffic.entry(k).or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(a) = list {
                        a.push(v.into());
                    }
                }
                None => flowbits.push(name.as_str().into()),
            }
        }
        let mut meta: Map<String, Value> = Map::new();
        if !flowbits.is_empty() {
            meta.insert("flowbits".into(), flowbits.into());
        }
        if !f.vars.is_empty() {
            // One object per variable, as Suricata writes them.
            let vars = f.vars.iter().map(|(n, v)| {
                let text = String::from_utf8_lossy(v).into_owned();
                Value::Object(Map::from_iter([(n.clone(), Value::String(text))]))
            });
            meta.insert("flowvars".into(), vars.collect::<Vec<_>>().into());
        }
        let ints: Map<String, Value> = self
            .flowint_names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| f.int(i as u32).map(|v| (n.clone(), v.into())))
            .collect();
        if !ints.is_empty() {
            meta.insert("flowints".into(), ints.into());
        }
        if !f.entropy.is_empty() {
            let e: Map<String, Value> =
                f.entropy.iter().map(|(n, v)| (n.clone(), (*v).into())).collect();
            meta.insert("entropy".into(), e.into());
        }
        let mut out = Map::new();
        if !traffic.is_empty() {
            out.insert("traffic".into(), traffic.into());
        }
        if !meta.is_empty() {
            out.insert("metadata".into(), meta.into());
        }
        out
    }
}
