//! Counters as Prometheus text (exposition format 0.0.4, through the `prometheus`
//! crate's encoder), shared by the sensor's and the correlator's `/metrics`. The
//! counters are the JSON objects both already keep (a sensor's `stats` record, the
//! correlator's `/api/v1/stats`); each number becomes a sample of a metric family
//! named as Prometheus asks:
//!
//! - every family has `# HELP` and `# TYPE`; counters end in `_total`; sizes end in
//!   `_bytes`, durations in `_seconds`; levels (flows active, memory in use, rules
//!   loaded, spool size, sensors up, …) are gauges;
//! - counters of many kinds of one thing are one family with a label, not a family
//!   each: decoder events (`gatewatch_sensor_decoder_events_total{layer, event}`),
//!   application-layer errors (`…_app_layer_errors_total{protocol, error}`), packets
//!   by decoded protocol (`…_decoder_protocol_packets_total{protocol}`), response
//!   decisions by kind, Elasticsearch watermarks by stream, tailed EVE files by path;
//! - non-numeric leaves are left out; booleans are gauges of 0 or 1.

use std::collections::BTreeMap;

use prometheus::{CounterVec, Encoder, GaugeVec, Opts, Registry, TextEncoder};
use serde_json::Value;

/// One object of counters to expose: the prefix of its metric names, the counters,
/// and labels every sample of it carries (`interface="eth1"`).
pub struct Tree<'a> {
    /// `gatewatch_sensor`, `gatewatch_correlator`.
    pub prefix: &'a str,
    /// The counters.
    pub value: &'a Value,
    /// Labels of every sample.
    pub labels: Vec<(&'static str, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Counter,
    Gauge,
}

/// A family being gathered: its kind, help, label names and samples.
struct Family {
    kind: Kind,
    help: String,
    label_names: Vec<String>,
    samples: Vec<(Vec<String>, f64)>,
}

/// Leaf names that are levels, not running totals.
const GAUGES: &[&str] = &[
    "active",
    "memuse",
    "memuse_peak",
    "reassembly_memuse",
    "uptime",
    "rules_loaded",
    "rules_skipped",
    "rules_generation",
    "workers",
    "known",
    "up",
    "segments",
    "pending",
    "in_flight",
    "correlation_rules",
    "correlation_windows",
    "alert_correlation_rules",
    "alert_correlation_windows",
    "failing_for",
    "installed",
    "files",
];

/// What one number is: its name (without prefix and `_total`), kind and labels.
fn classify(path: &[String]) -> (String, Kind, Vec<(String, String)>) {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    let label = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    match p.as_slice() {
        ["decoder", "event", layer, event] => (
            "decoder_events".into(),
            Kind::Counter,
            vec![("layer".into(), layer.to_string()), ("event".into(), event.to_string())],
        ),
        ["app_layer", "flow", proto] => {
            ("app_layer_flows".into(), Kind::Counter, label("protocol", proto))
        }
        ["app_layer", "tx", proto] => {
            ("app_layer_transactions".into(), Kind::Counter, label("protocol", proto))
        }
        ["app_layer", "error", proto, kind] => (
            "app_layer_protocol_errors".into(),
            Kind::Counter,
            vec![("protocol".into(), proto.to_string()), ("kind".into(), kind.to_string())],
        ),
        ["defrag", ip @ ("ipv4" | "ipv6"), what] => {
            (format!("defrag_{}", sanitize(what)), Kind::Counter, label("ip", ip))
        }
        ["app_layer", "errors", proto, error] => (
            "app_layer_errors".into(),
            Kind::Counter,
            vec![("protocol".into(), proto.to_string()), ("error".into(), error.to_string())],
        ),
        ["decoder", "pkts"] => ("decoder_packets".into(), Kind::Counter, vec![]),
        ["decoder", "bytes"] => ("decoder_bytes".into(), Kind::Counter, vec![]),
        ["decoder", "invalid"] => ("decoder_invalid_packets".into(), Kind::Counter, vec![]),
        ["decoder", "checksum_dropped"] => {
            ("decoder_checksum_dropped_packets".into(), Kind::Counter, vec![])
        }
        ["decoder", proto] => {
            ("decoder_protocol_packets".into(), Kind::Counter, label("protocol", proto))
        }
        ["response", "decisions", decision] => {
            ("response_decisions".into(), Kind::Counter, label("decision", decision))
        }
        ["elasticsearch", "watermarks", stream] => {
            ("elasticsearch_watermark".into(), Kind::Gauge, label("stream", stream))
        }
        _ => {
            let last = p.last().copied().unwrap_or("");
            let spool_size = p.len() >= 2 && p[p.len() - 2] == "spool" && last == "bytes";
            let kind =
                if GAUGES.contains(&last) || spool_size { Kind::Gauge } else { Kind::Counter };
            let mut name = p.iter().map(|s| sanitize(s)).collect::<Vec<_>>().join("_");
            if last == "uptime" {
                name.push_str("_seconds");
            } else if last.contains("memuse") {
                name = name
                    .replace("memuse", "memory_bytes")
                    .replace("memory_bytes_peak", "memory_peak_bytes");
            }
            (name, kind, vec![])
        }
    }
}

fn sanitize(s: &str) -> String {
    let mut n: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if n.starts_with(|c: char| c.is_ascii_digit()) {
        n.insert(0, '_');
    }
    n
}

/// The label an element of a list of objects is told apart by (a tailed file's path).
fn element_label(item: &Value) -> Option<(String, String)> {
    [("path", "file"), ("name", "name"), ("interface", "interface")].iter().find_map(|(k, l)| {
        item.get(k).and_then(Value::as_str).map(|v| (l.to_string(), v.to_string()))
    })
}

fn walk(
    prefix: &str,
    path: &mut Vec<String>,
    v: &Value,
    labels: &[(String, String)],
    out: &mut BTreeMap<String, Family>,
) {
    let number = match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Object(m) => {
            for (k, child) in m {
                path.push(k.clone());
                walk(prefix, path, child, labels, out);
                path.pop();
            }
            return;
        }
        Value::Array(items) => {
            for item in items.iter().filter(|i| i.is_object()) {
                let Some(l) = element_label(item) else { continue };
                let mut with = labels.to_vec();
                with.push(l);
                walk(prefix, path, item, &with, out);
            }
            return;
        }
        _ => None,
    };
    let Some(value) = number else { return };
    let (name, mut kind, extra) = classify(path);
    if matches!(v, Value::Bool(_)) {
        kind = Kind::Gauge;
    }
    let full = match kind {
        Kind::Counter => format!("{}_{name}_total", sanitize(prefix)),
        Kind::Gauge => format!("{}_{name}", sanitize(prefix)),
    };
    let all: Vec<(String, String)> = labels.iter().cloned().chain(extra).collect();
    let names: Vec<String> = all.iter().map(|(k, _)| k.clone()).collect();
    let values: Vec<String> = all.into_iter().map(|(_, v)| v).collect();
    let help = format!("`{}` of the {} counters", path.join("."), prefix.replace('_', " "));
    let family = out.entry(full).or_insert_with(|| Family {
        kind,
        help,
        label_names: names.clone(),
        samples: Vec::new(),
    });
    // A family keeps one set of label names; a number that would break it is left out.
    if family.label_names == names && family.kind == kind {
        family.samples.push((values, value));
    }
}

/// The Prometheus text exposition of `trees`.
pub fn exposition(trees: &[Tree<'_>]) -> String {
    let mut families = BTreeMap::new();
    for t in trees {
        let labels: Vec<(String, String)> =
            t.labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        walk(t.prefix, &mut Vec::new(), t.value, &labels, &mut families);
    }
    let registry = Registry::new();
    for (name, f) in families {
        let names: Vec<&str> = f.label_names.iter().map(String::as_str).collect();
        let opts = Opts::new(name, f.help);
        let registered = match f.kind {
            Kind::Counter => CounterVec::new(opts, &names).and_then(|c| {
                for (values, v) in &f.samples {
                    let values: Vec<&str> = values.iter().map(String::as_str).collect();
                    // The same labels twice (two lists naming one file) add up.
                    c.get_metric_with_label_values(&values)?.inc_by(v.max(0.0));
                }
                registry.register(Box::new(c))
            }),
            Kind::Gauge => GaugeVec::new(opts, &names).and_then(|g| {
                for (values, v) in &f.samples {
                    let values: Vec<&str> = values.iter().map(String::as_str).collect();
                    g.get_metric_with_label_values(&values)?.set(*v);
                }
                registry.register(Box::new(g))
            }),
        };
        // A family the registry refuses (a name clash) is left out, not the page.
        let _ = registered;
    }
    let mut buf = Vec::new();
    if TextEncoder::new().encode(&registry.gather(), &mut buf).is_err() {
        return String::new();
    }
    String::from_utf8(buf).unwrap_or_default()
}

/// The content type of [`exposition`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn families_have_help_type_total_units_and_labels() {
        let stats = serde_json::json!({
            "uptime": 60,
            "decoder": {"pkts": 5, "bytes": 900, "ipv4": 4, "ipv6": 1,
                        "event": {"ipv4": {"trunc_pkt": 2}, "tcp": {"hlen_too_small": 1}}},
            "flow": {"active": 3, "memuse": 4096, "total": 9},
            "app_layer": {"errors": {"dns": {"label_type": 7}}, "flow": {"dns_udp": 2},
                          "tx": {"http": 5}, "error": {"tls": {"parser": 1}}},
            "defrag": {"ipv6": {"reassembled": 3}},
            "tcp": {"reassembly_memuse": 8192},
            "capture": {"interface": "eth1", "kernel_drops": 0},
            "detect": {"rules_loaded": 48000, "engines": [{"id": 0, "rules_loaded": 48000}]},
        });
        let tree = Tree {
            prefix: "gatewatch_sensor",
            value: &stats,
            labels: vec![("interface", "e\"1".into())],
        };
        let text = exposition(&[tree]);
        let l = lines(&text);
        let has = |s: &str| l.contains(&s);
        assert!(has("# TYPE gatewatch_sensor_decoder_packets_total counter"), "{text}");
        assert!(has("gatewatch_sensor_decoder_packets_total{interface=\"e\\\"1\"} 5"), "{text}");
        assert!(has("gatewatch_sensor_decoder_bytes_total{interface=\"e\\\"1\"} 900"));
        assert!(has(
            "gatewatch_sensor_decoder_protocol_packets_total{interface=\"e\\\"1\",protocol=\"ipv4\"} 4"
        ));
        assert!(has("gatewatch_sensor_decoder_events_total{event=\"trunc_pkt\",interface=\"e\\\"1\",layer=\"ipv4\"} 2"), "{text}");
        assert!(has("gatewatch_sensor_app_layer_errors_total{error=\"label_type\",interface=\"e\\\"1\",protocol=\"dns\"} 7"));
        // Suricata's per-protocol layout becomes labels of one family each.
        assert!(has("gatewatch_sensor_app_layer_flows_total{interface=\"e\\\"1\",protocol=\"dns_udp\"} 2"), "{text}");
        assert!(has("gatewatch_sensor_app_layer_transactions_total{interface=\"e\\\"1\",protocol=\"http\"} 5"));
        assert!(has("gatewatch_sensor_app_layer_protocol_errors_total{interface=\"e\\\"1\",kind=\"parser\",protocol=\"tls\"} 1"));
        assert!(has(
            "gatewatch_sensor_defrag_reassembled_total{interface=\"e\\\"1\",ip=\"ipv6\"} 3"
        ));
        assert!(has("# TYPE gatewatch_sensor_tcp_reassembly_memory_bytes gauge"), "{text}");
        assert!(has("# TYPE gatewatch_sensor_flow_active gauge"));
        assert!(has("# TYPE gatewatch_sensor_flow_memory_bytes gauge"), "{text}");
        assert!(has("# TYPE gatewatch_sensor_uptime_seconds gauge"));
        assert!(has("# TYPE gatewatch_sensor_detect_rules_loaded gauge"));
        assert!(!text.contains("eth1"), "strings are left out");
        // Every family has its help.
        let types = l.iter().filter(|x| x.starts_with("# TYPE")).count();
        let helps = l.iter().filter(|x| x.starts_with("# HELP")).count();
        assert_eq!(types, helps);
        assert!(types >= 10);
    }

    #[test]
    fn lists_of_objects_are_told_apart_by_a_label_and_maps_become_labels() {
        let stats = serde_json::json!({
            "eve_files": [{"path": "/var/log/suricata/eve.json", "alerts": 3, "tail": {"lines": 10}}],
            "response": {"decisions": {"dry-run": 4, "executed": 1}},
            "elasticsearch": {"installed": true, "watermarks": {"alerts": 77}},
            "spool": {"bytes": 4096, "appended": 9},
        });
        let text =
            exposition(&[Tree { prefix: "gatewatch_correlator", value: &stats, labels: vec![] }]);
        let l = lines(&text);
        let has = |s: &str| l.contains(&s);
        assert!(has("gatewatch_correlator_eve_files_alerts_total{file=\"/var/log/suricata/eve.json\"} 3"), "{text}");
        assert!(has("gatewatch_correlator_eve_files_tail_lines_total{file=\"/var/log/suricata/eve.json\"} 10"));
        assert!(has("gatewatch_correlator_response_decisions_total{decision=\"dry-run\"} 4"));
        assert!(has("gatewatch_correlator_elasticsearch_installed 1"));
        assert!(has("gatewatch_correlator_elasticsearch_watermark{stream=\"alerts\"} 77"));
        assert!(has("# TYPE gatewatch_correlator_spool_bytes gauge"));
        assert!(has("gatewatch_correlator_spool_appended_total 9"));
    }
}
