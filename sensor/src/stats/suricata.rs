//! The parts of the `stats` record that follow Suricata's layout: decoder events by
//! layer, and the application layer's flows, transactions and parser errors per
//! protocol under Suricata's counter names (`app_layer.flow.dns_udp`,
//! `app_layer.tx.http`, `app_layer.error.tls.parser`).
//!
//! A Gatewatch counter is put under a Suricata name only when it counts the same
//! thing; the others stay under Gatewatch's names (`app_layer.counters`).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::AppStats;
use crate::decode::DecodeError;

/// Transactions Gatewatch counts as Suricata counts them (one request and its answer;
/// a DNS message; a WebSocket frame), by Suricata's `app_layer.tx` name.
const TX: &[(&str, &str)] = &[
    ("http_tx", "http"),
    ("dns_tcp", "dns_tcp"),
    ("smb_tx", "smb"),
    ("ntp_messages", "ntp"),
    ("snmp_messages", "snmp"),
    ("dhcp_messages", "dhcp"),
    ("tftp_requests", "tftp"),
    ("websocket_frames", "websocket"),
];

/// Messages a parser refused, by Suricata's protocol name: its `parser` error.
const PARSER_ERRORS: &[(&str, &str)] = &[
    ("dns_tcp_errors", "dns_tcp"),
    ("tls_errors", "tls"),
    ("smtp_errors", "smtp"),
    ("dcerpc_errors", "dcerpc_tcp"),
    ("rdp_errors", "rdp"),
    ("snmp_errors", "snmp"),
    ("dhcp_errors", "dhcp"),
    ("ike_errors", "ike"),
    ("mqtt_malformed", "mqtt"),
    ("ftp_errors_bad_reply", "ftp"),
    ("smb_errors_bad_header", "smb"),
    ("smb_errors_framing", "smb"),
    ("http_bad_start_line", "http"),
    ("http_bad_chunk", "http"),
    ("http_head_too_long", "http"),
    ("http2_errors_doh", "http2"),
];

/// `decoder.event`: `{"ipv4": {"trunc_pkt": 3}, …}`, Suricata's event names.
pub(super) fn decoder_events(events: &BTreeMap<DecodeError, u64>) -> Value {
    grouped(events.iter().map(|(e, n)| (e.as_str(), *n)), "decoder")
}

/// `group.key` counters as `{"group": {"key": n}}`; a name without a dot goes under
/// `ungrouped`.
fn grouped<'a>(counters: impl Iterator<Item = (&'a str, u64)>, ungrouped: &str) -> Value {
    let mut out: Map<String, Value> = Map::new();
    for (name, n) in counters {
        let (group, key) = name.split_once('.').unwrap_or((ungrouped, name));
        let g = out.entry(group.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = g {
            m.insert(key.to_string(), json!(n));
        }
    }
    Value::Object(out)
}

/// `app_layer`: `flow`, `tx` and `error` as Suricata writes them, then Gatewatch's
/// own counters (`counters`), parse errors by reason (`errors`) and `memuse`.
pub(super) fn app_layer(a: &AppStats) -> Value {
    let counters = serde_json::to_value(&a.session).unwrap_or_else(|_| json!({}));
    let count = |name: &str| counters.get(name).and_then(Value::as_u64).unwrap_or(0);
    let mut flow: Map<String, Value> = Map::new();
    flow.insert("failed_tcp".into(), json!(a.session.detect_failed));
    for (k, n) in &a.session.flows {
        flow.insert((*k).to_string(), json!(n));
    }
    let mut tx: Map<String, Value> = Map::new();
    tx.insert("dns_udp".into(), json!(a.dns_udp));
    for (ours, theirs) in TX {
        tx.insert((*theirs).to_string(), json!(count(ours)));
    }
    let mut parser: BTreeMap<&str, u64> = BTreeMap::new();
    for (ours, theirs) in PARSER_ERRORS {
        *parser.entry(theirs).or_insert(0) += count(ours);
    }
    *parser.entry("dns_udp").or_insert(0) +=
        a.errors.iter().filter(|(k, _)| k.starts_with("dns.")).map(|(_, n)| n).sum::<u64>();
    let error: Map<String, Value> =
        parser.into_iter().map(|(k, n)| (k.to_string(), json!({ "parser": n }))).collect();
    json!({
        "flow": flow,
        "tx": tx,
        "error": error,
        "counters": counters,
        "errors": grouped(a.errors.iter().map(|(k, n)| (*k, *n)), "other"),
        "memuse": a.memuse,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatewatch_rules::signature::AppProto;

    #[test]
    fn the_application_layer_is_written_under_suricatas_names() {
        let mut a = AppStats { dns_udp: 7, ..Default::default() };
        a.errors.insert("dns.label_type", 2);
        a.errors.insert("dns.truncated_message", 1);
        a.session.http_tx = 5;
        a.session.tls_errors = 3;
        a.session.detect_failed = 4;
        a.session.by_name.insert("smb_tx", 9);
        a.session.by_name.insert("smb_errors_framing", 1);
        a.session.by_name.insert("smb_errors_bad_header", 2);
        a.session.flow_detected(AppProto::Dns, false);
        a.session.flow_detected(AppProto::Dns, true);
        a.session.flow_detected(AppProto::Http, true);
        a.session.flow_detected(AppProto::Http, true);
        a.session.flow_detected(AppProto::FtpData, true);
        let v = app_layer(&a);
        assert_eq!(
            v["flow"],
            json!({"failed_tcp": 4, "dns_tcp": 1, "dns_udp": 1, "ftp-data": 1, "http": 2})
        );
        assert_eq!((v["tx"]["http"].as_u64(), v["tx"]["dns_udp"].as_u64()), (Some(5), Some(7)));
        assert_eq!(v["tx"]["smb"], 9);
        assert_eq!(v["error"]["tls"]["parser"], 3);
        assert_eq!(v["error"]["smb"]["parser"], 3, "the two SMB reasons are parser errors");
        assert_eq!(v["error"]["dns_udp"]["parser"], 3);
        // Gatewatch's own counters stay, by protocol and reason.
        assert_eq!(v["errors"]["dns"]["label_type"], 2);
        assert_eq!(v["counters"]["smb_errors_framing"], 1);
        assert!(v["counters"].get("flows").is_none(), "flows are under `flow` only");
    }
}
