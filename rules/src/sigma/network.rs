//! Network events as Sigma rules see them: one flat JSON object per DNS message, HTTP
//! transaction, TLS session, file or flow, built from its EVE record (Gatewatch's own,
//! or Suricata's, which the correlator also ingests). The fields are the ones the
//! pipeline file `rules/sigma/network.yml` maps Sigma's field names to; its header
//! lists them.

use serde_json::{json, Map, Value};

/// The event types network rules run on.
pub const EVENT_TYPES: [&str; 5] = ["dns", "http", "tls", "fileinfo", "flow"];

/// The Sigma event of an EVE record, with its event type; `None` for records Sigma
/// rules do not run on (alerts, stats, …).
pub fn event_from_eve(eve: &Value) -> Option<(&'static str, Value)> {
    let event_type = eve.get("event_type")?.as_str()?;
    let event_type = EVENT_TYPES.iter().copied().find(|t| *t == event_type)?;
    let mut out = Map::new();
    out.insert("event_type".into(), json!(event_type));
    for k in ["src_ip", "src_port", "dest_ip", "dest_port", "proto", "app_proto"] {
        if let Some(v) = eve.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    let body = eve.get(event_type).unwrap_or(&Value::Null);
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            out.insert(k.into(), v);
        }
    };
    let get = |k: &str| body.get(k).cloned();
    match event_type {
        "dns" => dns(body, &mut put),
        "http" => {
            let uri = body.get("url").and_then(Value::as_str).unwrap_or_default();
            let host = body.get("hostname").and_then(Value::as_str);
            let (stem, query) = match uri.split_once('?') {
                Some((s, q)) => (s, Some(q)),
                None => (uri, None),
            };
            let last = stem.rsplit('/').next().unwrap_or_default();
            let ext = last.rsplit_once('.').map(|(_, e)| e).filter(|e| !e.is_empty());
            put("http.method", get("http_method"));
            put("http.host", get("hostname"));
            put("http.uri", get("url"));
            put("http.uri_stem", (!stem.is_empty()).then(|| json!(stem)));
            put("http.uri_query", query.map(|q| json!(q)));
            put("http.uri_extension", ext.map(|e| json!(e)));
            let url = match host {
                Some(h) if uri.starts_with('/') => Some(format!("http://{h}{uri}")),
                _ if !uri.is_empty() => Some(uri.to_string()),
                _ => None,
            };
            put("http.url", url.map(Value::String));
            put("http.user_agent", get("http_user_agent"));
            put("http.referer", get("http_refer"));
            put("http.status", get("status"));
            put("http.content_type", get("http_content_type"));
            put("http.protocol", get("protocol"));
        }
        "tls" => {
            put("tls.sni", get("sni"));
            put("tls.version", get("version"));
            put("tls.subject", get("subject"));
            put("tls.issuer", get("issuerdn"));
            put("tls.serial", get("serial"));
            put("tls.fingerprint", get("fingerprint"));
            put("tls.ja3", body.pointer("/ja3/hash").cloned());
            put("tls.ja3s", body.pointer("/ja3s/hash").cloned());
            put("tls.ja4", get("ja4"));
        }
        "fileinfo" => {
            let path = body.get("filename").and_then(Value::as_str);
            let name = path.map(|p| p.rsplit(['/', '\\']).next().unwrap_or(p));
            put("file.path", path.map(|p| json!(p)));
            put("file.name", name.map(|n| json!(n)));
            put("file.size", get("size"));
            put("file.md5", get("md5"));
            put("file.sha1", get("sha1"));
            put("file.sha256", get("sha256"));
            put("file.type", get("magic"));
        }
        _ => {
            for k in [
                "pkts_toserver",
                "pkts_toclient",
                "bytes_toserver",
                "bytes_toclient",
                "state",
                "reason",
            ] {
                put(&format!("flow.{k}"), get(k));
            }
            put("flow.duration", get("age"));
        }
    }
    Some((event_type, Value::Object(out)))
}

/// DNS in EVE versions 2 (one record per query or answer) and 3 (one per message), as
/// [`DnsView`](crate::event::dns::DnsView) reads them.
fn dns(body: &Value, put: &mut impl FnMut(&str, Option<Value>)) {
    let view = crate::event::dns::DnsView::of(body);
    let one_or_list = |mut v: Vec<String>| match v.len() {
        0 => None,
        1 => v.pop().map(Value::String),
        _ => Some(json!(v)),
    };
    put("dns.query", one_or_list(view.names));
    put("dns.type", one_or_list(view.types));
    put("dns.rcode", view.rcode.map(Value::String));
    // Header bits, from the 16-bit `flags` (hex) that EVE writes.
    if let Some(flags) =
        body.get("flags").and_then(Value::as_str).and_then(|f| u16::from_str_radix(f, 16).ok())
    {
        for (name, bit) in [("aa", 0x0400), ("tc", 0x0200), ("rd", 0x0100), ("ra", 0x0080)] {
            put(&format!("dns.{name}"), Some(json!(flags & bit != 0)));
        }
        put("dns.z", Some(json!((flags >> 6) & 1)));
    }
    let (answer_types, answers): (Vec<String>, Vec<String>) = view.answers.into_iter().unzip();
    put("dns.answer", (!answers.is_empty()).then(|| json!(answers)));
    put("dns.answer_type", (!answer_types.is_empty()).then(|| json!(answer_types)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_fields_are_split_and_named_for_the_pipeline() {
        let eve = json!({"event_type": "http", "src_ip": "10.0.0.1", "src_port": 40000,
            "dest_ip": "192.0.2.1", "dest_port": 80, "proto": "TCP", "app_proto": "http",
            "http": {"hostname": "ex.com", "url": "/a/b/run.ps1?x=1", "http_method": "GET",
                     "http_user_agent": "curl/8", "status": 200, "protocol": "HTTP/1.1"}});
        let (t, ev) = event_from_eve(&eve).expect("http is an event type");
        assert_eq!(t, "http");
        assert_eq!(ev["http.url"], "http://ex.com/a/b/run.ps1?x=1");
        assert_eq!(ev["http.uri_stem"], "/a/b/run.ps1");
        assert_eq!(ev["http.uri_query"], "x=1");
        assert_eq!(ev["http.uri_extension"], "ps1");
        assert_eq!(ev["http.status"], 200);
        assert_eq!(ev["dest_port"], 80);
        assert!(ev.get("http.referer").is_none());
    }

    #[test]
    fn dns_versions_2_and_3_give_the_same_fields() {
        let v3 = json!({"event_type": "dns", "dns": {"version": 3, "type": "response", "rcode": "NOERROR",
            "queries": [{"rrname": "a.example", "rrtype": "A"}],
            "answers": [{"rrname": "a.example", "rrtype": "A", "ttl": 5, "rdata": "192.0.2.7"}]}});
        let v2 = json!({"event_type": "dns", "dns": {"version": 2, "type": "answer", "rcode": "NOERROR", "flags": "81c0",
            "rrname": "a.example", "rrtype": "A", "grouped": {"A": ["192.0.2.7"]}}});
        for eve in [v3, v2] {
            let (_, ev) = event_from_eve(&eve).expect("dns");
            assert_eq!(ev["dns.query"], "a.example");
            assert_eq!(ev["dns.type"], "A");
            assert_eq!(ev["dns.answer"], json!(["192.0.2.7"]));
            assert_eq!(ev["dns.rcode"], "NOERROR");
        }
        let z = json!({"event_type": "dns", "dns": {"flags": "0140", "rrname": "b.example"}});
        let (_, ev) = event_from_eve(&z).expect("dns");
        assert_eq!(
            (ev["dns.z"].clone(), ev["dns.rd"].clone(), ev["dns.ra"].clone()),
            (json!(1), json!(true), json!(false))
        );
        let (_, ev) =
            event_from_eve(&json!({"event_type": "dns", "dns": {"flags": "8180"}})).expect("dns");
        assert_eq!(ev["dns.z"], 0);
    }

    #[test]
    fn tls_files_flows_and_other_records() {
        let tls = json!({"event_type": "tls", "tls": {"sni": "x.example", "ja3": {"hash": "abc", "string": "1,2"}, "issuerdn": "CN=ca"}});
        let (_, ev) = event_from_eve(&tls).expect("tls");
        assert_eq!(
            (ev["tls.sni"].clone(), ev["tls.ja3"].clone(), ev["tls.issuer"].clone()),
            (json!("x.example"), json!("abc"), json!("CN=ca"))
        );
        let file = json!({"event_type": "fileinfo", "fileinfo": {"filename": "/dl/a.exe", "size": 3, "magic": "PE32"}});
        let (_, ev) = event_from_eve(&file).expect("fileinfo");
        assert_eq!(
            (ev["file.name"].clone(), ev["file.path"].clone(), ev["file.type"].clone()),
            (json!("a.exe"), json!("/dl/a.exe"), json!("PE32"))
        );
        let flow = json!({"event_type": "flow", "flow": {"pkts_toserver": 3, "age": 7, "state": "closed"}});
        let (_, ev) = event_from_eve(&flow).expect("flow");
        assert_eq!(
            (ev["flow.pkts_toserver"].clone(), ev["flow.duration"].clone()),
            (json!(3), json!(7))
        );
        assert!(event_from_eve(&json!({"event_type": "alert"})).is_none());
        assert!(event_from_eve(&json!({"no": "type"})).is_none());
    }
}
