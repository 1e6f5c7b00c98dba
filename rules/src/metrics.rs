//! Counters as Prometheus text (exposition format 0.0.4), shared by the sensor's and
//! the correlator's `/metrics`: every number in a JSON counters object becomes one
//! sample named by its path (`gatewatch_sensor_decoder_pkts`), with the given labels.
//! Non-numeric leaves are left out; booleans are 0/1.

use serde_json::Value;

/// Appends the samples of `counters` to `out`, each name prefixed with `prefix` and
/// carrying `labels` (`interface="eth1"`, or empty).
pub fn prometheus_text(out: &mut String, prefix: &str, counters: &Value, labels: &str) {
    walk(out, &sanitize(prefix), counters, labels);
}

fn sanitize(s: &str) -> String {
    let mut n: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if n.starts_with(|c: char| c.is_ascii_digit()) {
        n.insert(0, '_');
    }
    n
}

fn walk(out: &mut String, name: &str, v: &Value, labels: &str) {
    let sample = |out: &mut String, x: String| {
        let l = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        out.push_str(&format!("{name}{l} {x}\n"));
    };
    match v {
        Value::Number(n) => sample(out, n.to_string()),
        Value::Bool(b) => sample(out, (*b as u8).to_string()),
        Value::Object(m) => {
            for (k, child) in m {
                walk(out, &format!("{name}_{}", sanitize(k)), child, labels);
            }
        }
        _ => {}
    }
}

/// A label value with `\`, `"` and newlines escaped.
pub fn label_value(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_samples_named_by_their_path() {
        let v = serde_json::json!({"decoder": {"pkts": 5, "event": {"ipv4.trunc": 1}},
                                   "capture": {"interface": "eth1", "kernel_drops": 0},
                                   "ok": true, "ratio": 0.5, "list": [1, 2]});
        let mut out = String::new();
        prometheus_text(
            &mut out,
            "gatewatch_sensor",
            &v,
            &format!("interface=\"{}\"", label_value("e\"1")),
        );
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.contains(&"gatewatch_sensor_decoder_pkts{interface=\"e\\\"1\"} 5"), "{out}");
        assert!(
            lines.contains(&"gatewatch_sensor_decoder_event_ipv4_trunc{interface=\"e\\\"1\"} 1")
        );
        assert!(lines.contains(&"gatewatch_sensor_ok{interface=\"e\\\"1\"} 1"));
        assert!(lines.contains(&"gatewatch_sensor_ratio{interface=\"e\\\"1\"} 0.5"));
        assert!(
            !out.contains("interface_eth1") && !out.contains("list"),
            "strings and lists are left out"
        );
        let mut plain = String::new();
        prometheus_text(&mut plain, "x", &serde_json::json!({"9a": 1}), "");
        assert_eq!(plain, "x__9a 1\n");
    }
}
