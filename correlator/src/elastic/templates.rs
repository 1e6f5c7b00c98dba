//! What the correlator installs in Elasticsearch (or OpenSearch) at start: the
//! lifecycle policy, the index templates of the data streams (alerts, protocol
//! records) and of the incidents index, and that index behind its alias.
//!
//! - `logs-gatewatch.alert-default`: alerts (data stream, `create`, deterministic ids);
//! - `logs-gatewatch.<type>-default`: protocol records, one data stream per EVE type;
//! - `<prefix>-incidents` (alias) → `<prefix>-incidents-000001`: incidents, `index`
//!   with external versions (the store's change number), updated on every change.
//!
//! Every field a dashboard uses is mapped explicitly ([`FIELDS`]); `gatewatch.eve`
//! (the original record) is stored, not indexed.

use serde_json::{json, Map, Value};

/// Mapped fields: (path, Elasticsearch type).
pub const FIELDS: &[(&str, &str)] = &[
    ("@timestamp", "date"),
    ("ecs.version", "keyword"),
    ("event.kind", "keyword"),
    ("event.category", "keyword"),
    ("event.type", "keyword"),
    ("event.module", "keyword"),
    ("event.dataset", "keyword"),
    ("event.id", "keyword"),
    ("event.severity", "long"),
    ("event.risk_score", "float"),
    ("event.start", "date"),
    ("event.end", "date"),
    ("rule.id", "keyword"),
    ("rule.name", "keyword"),
    ("rule.category", "keyword"),
    ("rule.version", "keyword"),
    ("rule.ruleset", "keyword"),
    ("source.ip", "ip"),
    ("source.port", "long"),
    ("destination.ip", "ip"),
    ("destination.port", "long"),
    ("network.transport", "keyword"),
    ("network.protocol", "keyword"),
    ("network.bytes", "long"),
    ("network.packets", "long"),
    ("network.community_id", "keyword"),
    ("observer.name", "keyword"),
    ("observer.type", "keyword"),
    ("observer.vendor", "keyword"),
    ("observer.product", "keyword"),
    ("related.ip", "ip"),
    ("related.hosts", "keyword"),
    ("related.hash", "keyword"),
    ("threat.framework", "keyword"),
    ("threat.tactic.id", "keyword"),
    ("threat.tactic.name", "keyword"),
    ("threat.technique.id", "keyword"),
    ("url.domain", "keyword"),
    ("url.original", "wildcard"),
    ("http.request.method", "keyword"),
    ("http.response.status_code", "long"),
    ("user_agent.original", "keyword"),
    ("dns.question.name", "keyword"),
    ("dns.question.type", "keyword"),
    ("dns.response_code", "keyword"),
    ("dns.type", "keyword"),
    ("dns.answers.data", "keyword"),
    ("tls.client.server_name", "keyword"),
    ("tls.version", "keyword"),
    ("tls.version_protocol", "keyword"),
    ("tls.client.ja3", "keyword"),
    ("tls.server.ja3s", "keyword"),
    ("tls.server.subject", "keyword"),
    ("tls.server.issuer", "keyword"),
    ("file.name", "keyword"),
    ("file.size", "long"),
    ("file.hash.md5", "keyword"),
    ("file.hash.sha1", "keyword"),
    ("file.hash.sha256", "keyword"),
    ("file.mime_type", "keyword"),
    ("gatewatch.sensor.packets", "long"),
    ("gatewatch.sensor.kernel_drops", "long"),
    ("gatewatch.sensor.queue_drops", "long"),
    ("gatewatch.sensor.uptime", "long"),
    ("gatewatch.sensor.rules_generation", "long"),
    ("gatewatch.sensor.rules_loaded", "long"),
    ("gatewatch.sensor.spool_bytes", "long"),
    ("gatewatch.alert.count", "long"),
    ("gatewatch.alert.gid", "long"),
    ("gatewatch.flow_id", "keyword"),
    ("gatewatch.rsit", "keyword"),
    ("gatewatch.succeeded", "boolean"),
    ("gatewatch.suppressed_by", "long"),
    ("gatewatch.incident.id", "long"),
    ("gatewatch.incident.title", "text"),
    ("gatewatch.incident.status", "keyword"),
    ("gatewatch.incident.severity", "keyword"),
    ("gatewatch.incident.score", "long"),
    ("gatewatch.incident.entity", "keyword"),
    ("gatewatch.incident.entity_zone", "keyword"),
    ("gatewatch.incident.agency", "keyword"),
    ("gatewatch.incident.agency_name", "keyword"),
    ("gatewatch.incident.system", "keyword"),
    ("gatewatch.incident.security_level", "long"),
    ("gatewatch.incident.criticality", "keyword"),
    ("gatewatch.incident.rsit", "keyword"),
    ("gatewatch.incident.alert_count", "long"),
    ("gatewatch.incident.rule_count", "long"),
    ("gatewatch.incident.succeeded", "boolean"),
    ("gatewatch.incident.correlations", "keyword"),
    ("gatewatch.incident.assignee", "keyword"),
    ("gatewatch.incident.first_seen", "date"),
    ("gatewatch.incident.last_seen", "date"),
    ("gatewatch.incident.created", "date"),
    ("gatewatch.incident.acknowledged", "date"),
    ("gatewatch.incident.resolved", "date"),
    ("gatewatch.incident.merged_into", "long"),
    ("gatewatch.incident.version", "long"),
];

/// The `mappings` of every template: [`FIELDS`] as nested properties.
pub fn mappings() -> Value {
    let mut root = Map::new();
    for (path, ty) in FIELDS {
        let mut cur = &mut root;
        let parts: Vec<&str> = path.split('.').collect();
        for (i, p) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                let mut leaf = json!({"type": ty});
                if *ty == "keyword" {
                    leaf["ignore_above"] = json!(1024);
                }
                cur.insert(p.to_string(), leaf);
            } else {
                let node = cur.entry(p.to_string()).or_insert_with(|| json!({"properties": {}}));
                let Some(Value::Object(props)) = node.get_mut("properties") else { break };
                cur = props;
            }
        }
    }
    // The original record: kept in _source, not indexed (no mapping explosion).
    if let Some(Value::Object(g)) = root.get_mut("gatewatch").and_then(|g| g.get_mut("properties"))
    {
        g.insert("eve".into(), json!({"type": "object", "enabled": false}));
    }
    json!({"dynamic": false, "properties": root})
}

/// Whether the cluster is Elasticsearch or OpenSearch (lifecycle APIs differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Elasticsearch (ILM).
    Elasticsearch,
    /// OpenSearch (ISM).
    OpenSearch,
}

/// Names of what is installed.
#[derive(Clone, Debug)]
pub struct Names {
    /// The lifecycle policy's name.
    pub policy: String,
    pub(crate) alerts_stream: String,
    pub(crate) incidents_alias: String,
    pub(crate) incidents_first_index: String,
}

impl Names {
    /// The names under `prefix` (`gatewatch`).
    pub fn new(prefix: &str) -> Names {
        Names {
            policy: format!("{prefix}-policy"),
            alerts_stream: "logs-gatewatch.alert-default".into(),
            incidents_alias: format!("{prefix}-incidents"),
            incidents_first_index: format!("{prefix}-incidents-000001"),
        }
    }

    /// The data stream of a protocol record type.
    pub fn record_stream(event_type: &str) -> String {
        let t: String = event_type
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect();
        format!("logs-gatewatch.{t}-default")
    }
}

/// The requests that install everything: (method, path, body), in order.
pub fn install_requests(
    flavor: Flavor,
    n: &Names,
    rollover_max_age: &str,
    delete_after_days: u32,
) -> Vec<(&'static str, String, Value)> {
    let policy = match flavor {
        Flavor::Elasticsearch => (
            "PUT",
            format!("/_ilm/policy/{}", n.policy),
            json!({"policy": {"phases": {
                "hot": {"actions": {"rollover": {"max_age": rollover_max_age, "max_primary_shard_size": "50gb"}}},
                "delete": {"min_age": format!("{delete_after_days}d"), "actions": {"delete": {}}}
            }}}),
        ),
        Flavor::OpenSearch => (
            "PUT",
            format!("/_plugins/_ism/policies/{}", n.policy),
            json!({"policy": {
                "description": "Gatewatch: roll over daily, delete after retention",
                "default_state": "hot",
                "states": [
                    {"name": "hot", "actions": [{"rollover": {"min_index_age": rollover_max_age}}],
                     "transitions": [{"state_name": "delete", "conditions": {"min_index_age": format!("{delete_after_days}d")}}]},
                    {"name": "delete", "actions": [{"delete": {}}], "transitions": []}
                ],
                "ism_template": [{"index_patterns": [".ds-logs-gatewatch.*"], "priority": 200}]
            }}),
        ),
    };
    let lifecycle_setting = match flavor {
        Flavor::Elasticsearch => json!({"index.lifecycle.name": n.policy}),
        Flavor::OpenSearch => json!({}),
    };
    vec![
        policy,
        (
            "PUT",
            "/_index_template/gatewatch-alerts".into(),
            json!({
                "index_patterns": ["logs-gatewatch.alert-*"],
                "data_stream": {},
                "priority": 250,
                "template": {"settings": lifecycle_setting, "mappings": mappings()},
                "_meta": {"managed_by": "gatewatch"}
            }),
        ),
        (
            "PUT",
            "/_index_template/gatewatch-records".into(),
            json!({
                "index_patterns": ["logs-gatewatch.*-*"],
                "data_stream": {},
                "priority": 240,
                "template": {"settings": lifecycle_setting, "mappings": mappings()},
                "_meta": {"managed_by": "gatewatch"}
            }),
        ),
        (
            "PUT",
            format!("/_index_template/{}", n.incidents_alias),
            json!({
                "index_patterns": [format!("{}-*", n.incidents_alias)],
                "priority": 250,
                "template": {"mappings": mappings()},
                "_meta": {"managed_by": "gatewatch"}
            }),
        ),
    ]
}

/// The body that creates the first incidents index with its alias.
pub fn incidents_index_body(n: &Names) -> Value {
    json!({"aliases": {n.incidents_alias.clone(): {"is_write_index": true}}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_nest_every_field() {
        let m = mappings();
        assert_eq!(m["properties"]["source"]["properties"]["ip"]["type"], "ip");
        assert_eq!(
            m["properties"]["threat"]["properties"]["tactic"]["properties"]["id"]["type"],
            "keyword"
        );
        assert_eq!(m["properties"]["gatewatch"]["properties"]["eve"]["enabled"], false);
        assert_eq!(
            m["properties"]["gatewatch"]["properties"]["incident"]["properties"]["score"]["type"],
            "long"
        );
        assert_eq!(Names::record_stream("DNS"), "logs-gatewatch.dns-default");
        let reqs = install_requests(Flavor::OpenSearch, &Names::new("gatewatch"), "1d", 180);
        assert!(reqs[0].1.starts_with("/_plugins/_ism/"));
        let reqs = install_requests(Flavor::Elasticsearch, &Names::new("gatewatch"), "1d", 180);
        assert_eq!(reqs[0].1, "/_ilm/policy/gatewatch-policy");
        assert_eq!(reqs[1].2["template"]["settings"]["index.lifecycle.name"], "gatewatch-policy");
    }
}
