//! Documents in Elastic Common Schema (ECS) fields: alerts, protocol records and
//! incidents. Gatewatch's own fields are under `gatewatch.*`; a record's original EVE
//! is kept, not indexed, under `gatewatch.eve`.
//!
//! Every ECS field written is one of ECS [`ECS_VERSION`], with that version's type
//! (`elastic/ecs-8.11.tsv`, checked by a test over every kind of document).

use crate::store::feed::FeedAlert;
use gatewatch_rules::event::dns::DnsView;
use serde_json::{json, Map, Value};

use crate::incident::attack::tactic_name;
use crate::store::IncidentRow;

/// The ECS version the documents follow (`ecs.version`).
pub const ECS_VERSION: &str = "8.11.0";

/// `2026-10-14T01:00:00.000000Z` from µs.
pub fn timestamp(us: i64) -> String {
    crate::store::sqlite::iso_utc(us)
}

fn put(m: &mut Map<String, Value>, path: &str, v: Value) {
    if v.is_null() {
        return;
    }
    let mut cur = m;
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(p.to_string(), v);
            return;
        }
        let next = cur.entry(p.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        let Value::Object(o) = next else { return };
        cur = o;
    }
}

/// ECS `network.transport` of an EVE `proto`: none for what is not an IP protocol
/// (host logs).
fn transport(proto: &str) -> Value {
    match proto {
        "" | "LOG" => Value::Null,
        p => Value::String(p.to_ascii_lowercase()),
    }
}

/// An EVE time (`2026-10-14T01:00:00.001500+0000`) as ECS dates are written
/// (`2026-10-14T01:00:00.001500Z`); none when it is not a time.
fn eve_time(v: Value) -> Value {
    let parsed =
        v.as_str().and_then(|s| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").ok());
    match parsed {
        Some(t) => json!(t
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        None => Value::Null,
    }
}

/// An address only when it is one (host logs may have none, or a host name).
fn ip(v: Value) -> Value {
    match v.as_str().map(|s| s.parse::<std::net::IpAddr>()) {
        Some(Ok(a)) => json!(a.to_string()),
        _ => Value::Null,
    }
}

/// What every document says of itself and of who observed it.
fn put_common(m: &mut Map<String, Value>, observer: Value) {
    put(m, "ecs.version", json!(ECS_VERSION));
    put(m, "observer.vendor", json!("Gatewatch"));
    put(m, "observer.product", json!("Gatewatch"));
    if !observer.is_null() {
        put(m, "observer.name", observer);
        put(m, "observer.type", json!("ids"));
    }
}

/// The value at dotted `path` in a document being built, `null` when absent.
fn leaf(m: &Map<String, Value>, path: &str) -> Value {
    let parts: Vec<&str> = path.split('.').collect();
    m.get(parts[0]).map_or(Value::Null, |v| at(v, &parts[1..]))
}

/// `related.ip`, `related.hosts`, `related.hash`: every address, name and hash of the
/// document, once each, for a search that does not know where they are.
fn put_related(m: &mut Map<String, Value>) {
    let collect = |m: &Map<String, Value>, paths: &[&str], want_ip: bool| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in paths {
            let values = match leaf(m, p) {
                Value::Array(a) => a,
                Value::Null => continue,
                v => vec![v],
            };
            for v in values.iter().filter_map(Value::as_str) {
                let keep = !want_ip || v.parse::<std::net::IpAddr>().is_ok();
                if keep && !v.is_empty() && !out.iter().any(|o| o == v) {
                    out.push(v.to_string());
                }
            }
        }
        out
    };
    let ips = collect(m, &["source.ip", "destination.ip", "dns.answers.data"], true);
    let hosts = collect(m, &["dns.question.name", "url.domain", "tls.client.server_name"], false);
    let hashes = collect(
        m,
        &[
            "file.hash.md5",
            "file.hash.sha1",
            "file.hash.sha256",
            "tls.client.ja3",
            "tls.server.ja3s",
        ],
        false,
    );
    for (path, list) in [("related.ip", ips), ("related.hosts", hosts), ("related.hash", hashes)] {
        if !list.is_empty() {
            put(m, path, json!(list));
        }
    }
}

/// ECS `tls.version` and `tls.version_protocol` of EVE's `TLS 1.2`, `SSLv3`, `TLSv1.3`.
fn tls_version(eve: &str) -> Option<(String, &'static str)> {
    let lower = eve.trim().to_ascii_lowercase();
    let (protocol, rest) = if let Some(r) = lower.strip_prefix("tls") {
        ("tls", r)
    } else if let Some(r) = lower.strip_prefix("ssl") {
        ("ssl", r)
    } else {
        return None;
    };
    let number = rest.trim_start_matches(['v', ' ']);
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let number = if number.contains('.') { number.to_string() } else { format!("{number}.0") };
    Some((number, protocol))
}

/// The MIME type of a file from the type EVE's `fileinfo.magic` names (libmagic's
/// words, or the sensor's), when it is a known one.
fn mime_of_magic(magic: &str) -> Option<&'static str> {
    const TABLE: &[(&str, &str)] = &[
        ("PE32", "application/vnd.microsoft.portable-executable"),
        ("MS-DOS executable", "application/x-dosexec"),
        ("ELF", "application/x-executable"),
        ("PDF document", "application/pdf"),
        (
            "Microsoft Word 2007",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "Microsoft Excel 2007",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "Microsoft PowerPoint 2007",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        ("Composite Document File", "application/x-ole-storage"),
        ("Zip archive", "application/zip"),
        ("gzip compressed", "application/gzip"),
        ("RAR archive", "application/vnd.rar"),
        ("7-zip archive", "application/x-7z-compressed"),
        ("bzip2 compressed", "application/x-bzip2"),
        ("XZ compressed", "application/x-xz"),
        ("POSIX tar archive", "application/x-tar"),
        ("Java archive", "application/java-archive"),
        ("PNG image", "image/png"),
        ("JPEG image", "image/jpeg"),
        ("GIF image", "image/gif"),
        ("SVG Scalable Vector Graphics", "image/svg+xml"),
        ("Web Open Font", "font/woff"),
        ("HTML document", "text/html"),
        ("XML", "text/xml"),
        ("JSON", "application/json"),
        ("Rich Text Format", "text/rtf"),
        ("shell script", "text/x-shellscript"),
        ("ASCII text", "text/plain"),
        ("UTF-8 Unicode text", "text/plain"),
        ("Unicode text", "text/plain"),
        ("ISO-8859 text", "text/plain"),
    ];
    TABLE.iter().find(|(word, _)| magic.contains(word)).map(|(_, mime)| *mime)
}

/// An alert of the store's feed (with its stored EVE) as an ECS document.
pub fn alert(a: &FeedAlert, doc_id: &str) -> Value {
    let raw: Value = serde_json::from_str(&a.raw).unwrap_or(Value::Null);
    let mut m = Map::new();
    put(&mut m, "@timestamp", json!(timestamp(a.ts_us)));
    put(&mut m, "event.kind", json!("alert"));
    put(&mut m, "event.category", json!(["intrusion_detection"]));
    put(&mut m, "event.type", json!(["info"]));
    put(&mut m, "event.module", json!("gatewatch"));
    put(&mut m, "event.dataset", json!("gatewatch.alert"));
    put(&mut m, "event.id", json!(doc_id));
    put(&mut m, "event.severity", json!(a.alert.severity));
    put(&mut m, "event.start", json!(timestamp(a.ts_us)));
    put(&mut m, "event.end", json!(timestamp(a.last_us)));
    put(&mut m, "rule.id", json!(a.alert.sid.to_string()));
    put(&mut m, "rule.name", json!(a.alert.signature));
    put(&mut m, "rule.category", json!(a.alert.category));
    put(&mut m, "rule.version", json!(a.rev.to_string()));
    put(&mut m, "rule.ruleset", json!(format!("gid {}", a.alert.gid)));
    put(&mut m, "source.ip", ip(json!(a.alert.src_ip)));
    put(&mut m, "source.port", json!(a.alert.src_port));
    put(&mut m, "destination.ip", ip(json!(a.alert.dest_ip)));
    put(&mut m, "destination.port", json!(a.alert.dest_port));
    put(&mut m, "network.transport", transport(&a.alert.proto));
    put(&mut m, "network.protocol", raw.get("app_proto").cloned().unwrap_or(Value::Null));
    put(&mut m, "network.community_id", raw.get("community_id").cloned().unwrap_or(Value::Null));
    let network = a.alert.proto != "LOG";
    put_common(&mut m, if network { json!(a.alert.sensor) } else { Value::Null });
    if !a.alert.tactics.is_empty() || !a.techniques.is_empty() {
        put(&mut m, "threat.framework", json!("MITRE ATT&CK"));
        put(&mut m, "threat.tactic.id", json!(a.alert.tactics));
        let names: Vec<&str> = a.alert.tactics.iter().filter_map(|t| tactic_name(t)).collect();
        put(&mut m, "threat.tactic.name", json!(names));
        put(&mut m, "threat.technique.id", json!(a.techniques));
    }
    if let Some(h) = raw.get("http") {
        put(&mut m, "url.domain", h.get("hostname").cloned().unwrap_or(Value::Null));
        put(&mut m, "url.original", h.get("url").cloned().unwrap_or(Value::Null));
        put(&mut m, "http.request.method", h.get("http_method").cloned().unwrap_or(Value::Null));
        put(&mut m, "http.response.status_code", h.get("status").cloned().unwrap_or(Value::Null));
        put(
            &mut m,
            "user_agent.original",
            h.get("http_user_agent").cloned().unwrap_or(Value::Null),
        );
    }
    if let Some(t) = raw.get("tls") {
        put(&mut m, "tls.client.server_name", t.get("sni").cloned().unwrap_or(Value::Null));
    }
    if raw.get("dns").is_some() {
        dns_fields(&mut m, &raw);
    }
    put_related(&mut m);
    put(&mut m, "gatewatch.alert.count", json!(a.alert.count));
    put(&mut m, "gatewatch.alert.gid", json!(a.alert.gid));
    put(&mut m, "gatewatch.flow_id", json!(a.alert.flow_id.map(|f| f.to_string())));
    put(&mut m, "gatewatch.rsit", json!(a.alert.rsit));
    put(&mut m, "gatewatch.succeeded", json!(a.alert.succeeded));
    put(&mut m, "gatewatch.incident.id", json!(a.alert.incident_id));
    put(&mut m, "gatewatch.suppressed_by", json!(a.alert.suppressed_by));
    Value::Object(m)
}

/// The value at `path` in `body`, `null` when it is absent.
fn at(body: &Value, path: &[&str]) -> Value {
    let mut cur = body;
    for p in path {
        match cur.get(p) {
            Some(v) => cur = v,
            None => return Value::Null,
        }
    }
    cur.clone()
}

/// A protocol record (EVE `dns`, `http`, `tls`, `fileinfo`, `flow` …) as an ECS
/// document.
pub fn record(event_type: &str, ts_us: i64, body: &Value, doc_id: &str) -> Value {
    let g = |path: &[&str]| at(body, path);
    let mut m = Map::new();
    put(&mut m, "@timestamp", json!(timestamp(ts_us)));
    put(&mut m, "event.kind", json!("event"));
    put(&mut m, "event.module", json!("gatewatch"));
    put(&mut m, "event.dataset", json!(format!("gatewatch.{event_type}")));
    put(&mut m, "event.id", json!(doc_id));
    let (category, kind) = match event_type {
        "flow" => (json!(["network"]), json!(["connection", "end"])),
        "fileinfo" => (json!(["network", "file"]), json!(["info"])),
        _ => (json!(["network"]), json!(["protocol"])),
    };
    put(&mut m, "event.category", category);
    put(&mut m, "event.type", kind);
    put(&mut m, "source.ip", ip(g(&["src_ip"])));
    put(&mut m, "source.port", g(&["src_port"]));
    put(&mut m, "destination.ip", ip(g(&["dest_ip"])));
    put(&mut m, "destination.port", g(&["dest_port"]));
    put(&mut m, "network.transport", transport(g(&["proto"]).as_str().unwrap_or("")));
    put(&mut m, "network.protocol", g(&["app_proto"]));
    put(&mut m, "network.community_id", g(&["community_id"]));
    put_common(&mut m, g(&["host"]));
    put(&mut m, "gatewatch.flow_id", json!(g(&["flow_id"]).as_u64().map(|f| f.to_string())));
    match event_type {
        "dns" => dns_fields(&mut m, body),
        "http" => {
            put(&mut m, "url.domain", g(&["http", "hostname"]));
            put(&mut m, "url.original", g(&["http", "url"]));
            put(&mut m, "http.request.method", g(&["http", "http_method"]));
            put(&mut m, "http.response.status_code", g(&["http", "status"]));
            put(&mut m, "user_agent.original", g(&["http", "http_user_agent"]));
        }
        "tls" => {
            put(&mut m, "tls.client.server_name", g(&["tls", "sni"]));
            if let Some((version, protocol)) = g(&["tls", "version"]).as_str().and_then(tls_version)
            {
                put(&mut m, "tls.version", json!(version));
                put(&mut m, "tls.version_protocol", json!(protocol));
            }
            put(&mut m, "tls.client.ja3", g(&["tls", "ja3", "hash"]));
            put(&mut m, "tls.server.ja3s", g(&["tls", "ja3s", "hash"]));
            put(&mut m, "tls.server.subject", g(&["tls", "subject"]));
            put(&mut m, "tls.server.issuer", g(&["tls", "issuerdn"]));
        }
        "fileinfo" => {
            put(&mut m, "file.name", g(&["fileinfo", "filename"]));
            put(&mut m, "file.size", g(&["fileinfo", "size"]));
            put(&mut m, "file.hash.md5", g(&["fileinfo", "md5"]));
            put(&mut m, "file.hash.sha1", g(&["fileinfo", "sha1"]));
            put(&mut m, "file.hash.sha256", g(&["fileinfo", "sha256"]));
            let magic = g(&["fileinfo", "magic"]);
            put(&mut m, "file.mime_type", json!(magic.as_str().and_then(mime_of_magic)));
        }
        "flow" => flow_fields(&mut m, body),
        "stats" => stats_fields(&mut m, body),
        _ => {}
    }
    put_related(&mut m);
    put(&mut m, "gatewatch.eve", body.clone());
    Value::Object(m)
}

/// A DNS record's question, answers, response code and type, from either EVE layout
/// (Suricata's version 3, which the sensor writes, or version 2).
fn dns_fields(m: &mut Map<String, Value>, body: &Value) {
    let view = DnsView::of(&body["dns"]);
    put(m, "dns.question.name", json!(view.names.first()));
    put(m, "dns.question.type", json!(view.types.first()));
    put(m, "dns.response_code", json!(view.rcode));
    put(m, "dns.type", json!(view.kind));
    if !view.answers.is_empty() {
        let data: Vec<&str> = view.answers.iter().map(|(_, d)| d.as_str()).collect();
        put(m, "dns.answers.data", json!(data));
    }
}

/// A flow record's totals of both directions and its span.
fn flow_fields(m: &mut Map<String, Value>, body: &Value) {
    let g = |path: &[&str]| at(body, path);
    let sum = |a: Value, b: Value| match (a.as_u64(), b.as_u64()) {
        (Some(x), Some(y)) => json!(x + y),
        _ => Value::Null,
    };
    let bytes = sum(g(&["flow", "bytes_toserver"]), g(&["flow", "bytes_toclient"]));
    put(m, "network.bytes", bytes);
    let packets = sum(g(&["flow", "pkts_toserver"]), g(&["flow", "pkts_toclient"]));
    put(m, "network.packets", packets);
    put(m, "event.start", eve_time(g(&["flow", "start"])));
    put(m, "event.end", eve_time(g(&["flow", "end"])));
}

/// A sensor's heartbeat: the counters the sensor-health dashboard draws.
fn stats_fields(m: &mut Map<String, Value>, body: &Value) {
    let n = |path: &[&str]| at(body, path).as_u64().map_or(Value::Null, |v| json!(v));
    put(m, "event.kind", json!("metric"));
    put(m, "event.category", json!(["host"]));
    put(m, "event.type", json!(["info"]));
    let packets = match n(&["stats", "capture", "received"]) {
        Value::Null => n(&["stats", "decoder", "pkts"]),
        v => v,
    };
    put(m, "gatewatch.sensor.packets", packets);
    put(m, "gatewatch.sensor.kernel_drops", n(&["stats", "capture", "kernel_drops"]));
    put(m, "gatewatch.sensor.queue_drops", n(&["stats", "capture", "queue_drops"]));
    put(m, "gatewatch.sensor.uptime", n(&["stats", "uptime"]));
    put(m, "gatewatch.sensor.rules_generation", n(&["stats", "detect", "rules_generation"]));
    put(m, "gatewatch.sensor.rules_loaded", n(&["stats", "detect", "rules_loaded"]));
    put(m, "gatewatch.sensor.spool_bytes", n(&["heartbeat", "spool", "bytes"]));
}

/// An incident as a document of the incidents index (updated on every change).
pub fn incident(i: &IncidentRow) -> Value {
    let mut m = Map::new();
    put(&mut m, "@timestamp", json!(i.last_seen));
    put(&mut m, "ecs.version", json!(ECS_VERSION));
    put(&mut m, "event.kind", json!("state"));
    put(&mut m, "event.module", json!("gatewatch"));
    put(&mut m, "event.dataset", json!("gatewatch.incident"));
    put(&mut m, "event.start", json!(i.first_seen));
    put(&mut m, "event.end", json!(i.last_seen));
    put(&mut m, "event.risk_score", json!(i.score));
    put(&mut m, "rule.id", json!(i.sid.to_string()));
    put(&mut m, "rule.name", json!(i.signature));
    if !i.tactics.is_empty() {
        put(&mut m, "threat.framework", json!("MITRE ATT&CK"));
        put(&mut m, "threat.tactic.id", json!(i.tactics));
        let names: Vec<&str> = i.tactics.iter().filter_map(|t| tactic_name(t)).collect();
        put(&mut m, "threat.tactic.name", json!(names));
        put(&mut m, "threat.technique.id", json!(i.techniques));
    }
    let inc = json!({
        "id": i.id, "title": i.title, "status": i.status, "severity": i.severity,
        "score": i.score, "entity": i.entity, "entity_zone": i.entity_zone,
        "agency": i.agency, "agency_name": i.agency_name, "system": i.system,
        "security_level": i.security_level, "criticality": i.criticality, "rsit": i.rsit,
        "alert_count": i.alert_count, "rule_count": i.rule_count, "succeeded": i.succeeded,
        "correlations": i.correlations, "assignee": i.assignee, "first_seen": i.first_seen,
        "last_seen": i.last_seen, "created": i.created_at, "acknowledged": i.acknowledged_at,
        "resolved": i.resolved_at, "merged_into": i.merged_into, "version": i.version,
    });
    let inc: Map<String, Value> = inc
        .as_object()
        .map(|o| {
            o.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect()
        })
        .unwrap_or_default();
    put(&mut m, "gatewatch.incident", Value::Object(inc));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dns_record_gets_ecs_fields_and_keeps_its_eve() {
        let body = json!({"timestamp": "x", "event_type": "dns", "src_ip": "10.0.0.1", "src_port": 5353,
            "dest_ip": "10.0.0.53", "dest_port": 53, "proto": "UDP", "flow_id": 77, "host": "s1",
            "dns": {"type": "query", "rrname": "a.example", "rrtype": "A"}});
        let d = record("dns", 1_000_000, &body, "x-r1");
        assert_eq!(d["dns"]["question"]["name"], "a.example");
        assert_eq!(d["network"]["transport"], "udp");
        assert_eq!(d["observer"]["name"], "s1");
        assert_eq!(d["gatewatch"]["flow_id"], "77");
        assert_eq!(d["gatewatch"]["eve"]["dns"]["rrtype"], "A");
        assert_eq!(d["@timestamp"], "1970-01-01T00:00:01.000000Z");
    }

    #[test]
    fn dns_in_the_layout_the_sensor_writes_gets_question_type_and_answers() {
        // Suricata's version 3 layout, as `e2e::dns_readers` sees the sensor write it.
        let body = json!({"event_type": "dns", "proto": "UDP", "dns": {"version": 3,
            "type": "response", "id": 20736, "rcode": "NOERROR",
            "queries": [{"rrname": "update.hue-gov-portal.top", "rrtype": "A"}],
            "answers": [{"rrname": "update.hue-gov-portal.top", "rrtype": "A", "ttl": 300,
                         "rdata": "198.51.100.200"}]}});
        let d = record("dns", 1_000_000, &body, "x-r2");
        assert_eq!(d["dns"]["question"]["name"], "update.hue-gov-portal.top");
        assert_eq!(d["dns"]["question"]["type"], "A");
        assert_eq!(d["dns"]["type"], "answer");
        assert_eq!(d["dns"]["response_code"], "NOERROR");
        assert_eq!(d["dns"]["answers"]["data"], json!(["198.51.100.200"]));
    }

    #[test]
    fn tls_versions_and_mime_types_as_ecs_writes_them() {
        assert_eq!(tls_version("TLS 1.2"), Some(("1.2".into(), "tls")));
        assert_eq!(tls_version("TLSv1.3"), Some(("1.3".into(), "tls")));
        assert_eq!(tls_version("SSLv3"), Some(("3.0".into(), "ssl")));
        assert_eq!(tls_version("UNDETERMINED"), None);
        let pe = "PE32 executable (GUI) Intel 80386, for MS Windows";
        assert_eq!(mime_of_magic(pe), Some("application/vnd.microsoft.portable-executable"));
        assert_eq!(mime_of_magic("PDF document, version 1.7"), Some("application/pdf"));
        assert_eq!(mime_of_magic("data"), None);
    }

    #[test]
    fn a_host_log_alert_has_no_network_transport_and_no_made_up_address() {
        let body = json!({"event_type": "alert", "proto": "LOG", "src_ip": "WS-KT-014",
            "dest_ip": "", "app_proto": "hostlog"});
        let d = record("alert", 1_000_000, &body, "h-1");
        assert!(d["network"]["transport"].is_null(), "{d}");
        assert!(d["source"]["ip"].is_null() && d["destination"]["ip"].is_null(), "{d}");
        assert!(d["related"].is_null(), "{d}");
    }

    #[test]
    fn related_fields_gather_addresses_names_and_hashes_once() {
        let body = json!({"event_type": "fileinfo", "proto": "TCP", "src_ip": "198.51.100.200",
            "dest_ip": "10.46.120.15", "community_id": "1:abc=",
            "fileinfo": {"filename": "a.exe", "md5": "m", "sha1": "s1", "sha256": "s256",
                         "magic": "PE32 executable"}});
        let d = record("fileinfo", 1_000_000, &body, "f-1");
        assert_eq!(d["related"]["ip"], json!(["198.51.100.200", "10.46.120.15"]));
        assert_eq!(d["related"]["hash"], json!(["m", "s1", "s256"]));
        assert_eq!(d["network"]["community_id"], "1:abc=");
        assert_eq!(d["event"]["category"], json!(["network", "file"]));
    }

    #[test]
    fn flow_times_are_written_as_ecs_dates() {
        let body = json!({"event_type": "flow", "proto": "TCP", "flow": {
            "start": "2026-10-14T08:00:00.001500+0700", "end": "not a time"}});
        let d = record("flow", 1_000_000, &body, "f-2");
        assert_eq!(d["event"]["start"], "2026-10-14T01:00:00.001500Z");
        assert!(d["event"]["end"].is_null());
    }

    #[test]
    fn a_sensor_heartbeat_gets_the_health_fields() {
        let body = json!({"timestamp": "x", "event_type": "stats", "host": "hue-gw-sensor-01",
            "stats": {"uptime": 3600, "capture": {"received": 1_000_000, "kernel_drops": 12, "queue_drops": 3},
                      "detect": {"rules_generation": 4, "rules_loaded": 48_000}},
            "heartbeat": {"version": "0.1.0", "spool": {"bytes": 4096}}});
        let d = record("stats", 1_000_000, &body, "s-1");
        let s = &d["gatewatch"]["sensor"];
        assert_eq!(
            (s["packets"].as_u64(), s["kernel_drops"].as_u64(), s["queue_drops"].as_u64()),
            (Some(1_000_000), Some(12), Some(3))
        );
        assert_eq!(
            (s["rules_generation"].as_u64(), s["rules_loaded"].as_u64(), s["spool_bytes"].as_u64()),
            (Some(4), Some(48_000), Some(4096))
        );
        assert_eq!(d["observer"]["name"], "hue-gw-sensor-01");
        assert_eq!(d["event"]["dataset"], "gatewatch.stats");
        assert_eq!(d["event"]["kind"], "metric");
        for (path, _) in crate::elastic::templates::FIELDS
            .iter()
            .filter(|(p, _)| p.starts_with("gatewatch.sensor."))
        {
            let mut cur = &d;
            for part in path.split('.') {
                cur = &cur[part];
            }
            assert!(!cur.is_null(), "{path} is filled");
        }
    }
}
