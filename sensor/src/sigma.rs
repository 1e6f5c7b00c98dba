//! Sigma rules on the sensor's protocol events: every DNS message, HTTP transaction,
//! TLS session, file and flow whose event type has rules is turned into its flat Sigma
//! event (from its EVE record, as the correlator does for Suricata's EVE) and tested
//! against the rules routed to that type. A hit is an alert of gid 9300.

use std::collections::HashSet;
use std::time::Instant;

use gatewatch_rules::sigma::{network::event_from_eve, SigmaHit, SigmaSet};
use serde::Serialize;

/// Counters of Sigma evaluation, in the `stats` record.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SigmaStats {
    /// Events tested.
    pub events: u64,
    /// Rules that matched (alerts raised).
    pub hits: u64,
    /// A DNS question already alerted on by the same rule in its request.
    pub repeats: u64,
    /// Time spent building and testing events, µs.
    pub eval_us: u64,
    /// Rules per network event type.
    pub rules: std::collections::BTreeMap<String, usize>,
}

/// The state of one worker's Sigma evaluation.
pub struct SigmaEval {
    /// (flow, DNS transaction, rule) alerted on: the response of a query repeats the
    /// question, and is not alerted on again for the same rule.
    dns_seen: HashSet<(u64, u64, u32)>,
    pub stats: SigmaStats,
}

/// Entries of `dns_seen` kept before it starts afresh.
const DNS_SEEN_MAX: usize = 65_536;

impl SigmaEval {
    pub fn new(set: &SigmaSet) -> Self {
        SigmaEval {
            dns_seen: HashSet::new(),
            stats: SigmaStats { rules: set.network_rule_counts(), ..Default::default() },
        }
    }

    /// Rules matching an EVE record (`dns`, `http`, `tls`, `fileinfo`, `flow`) of flow
    /// `flow_id`.
    pub fn evaluate(
        &mut self,
        set: &SigmaSet,
        flow_id: u64,
        eve: &impl Serialize,
    ) -> Vec<SigmaHit> {
        let start = Instant::now();
        let Ok(value) = serde_json::to_value(eve) else { return Vec::new() };
        let Some((event_type, flat)) = event_from_eve(&value) else { return Vec::new() };
        if !set.wants(event_type) {
            return Vec::new();
        }
        self.stats.events += 1;
        let mut hits = set.evaluate_network(event_type, &flat);
        if event_type == "dns" && !hits.is_empty() {
            let tx =
                value.pointer("/dns/tx_id").and_then(serde_json::Value::as_u64).unwrap_or(u64::MAX);
            if self.dns_seen.len() >= DNS_SEEN_MAX {
                self.dns_seen.clear();
            }
            let before = hits.len();
            hits.retain(|h| {
                self.dns_seen.insert((flow_id, tx, gatewatch_rules::ids::stable_sid(&h.id)))
            });
            self.stats.repeats += (before - hits.len()) as u64;
        }
        self.stats.hits += hits.len() as u64;
        self.stats.eval_us += start.elapsed().as_micros() as u64;
        hits
    }
}
