//! What the correlator sends to Elasticsearch, checked against ECS: the demo's store
//! (the sensor's own alerts and protocol records of the demo capture, its heartbeat,
//! the incidents) through the real sink into the in-process stand-in for Elasticsearch
//! (`correlator/tests/support/es_mock.rs`), and every field of every document checked
//! against the ECS 8.11 field list committed in the repository
//! (`correlator/src/elastic/ecs-8.11.tsv`): the name exists, the value has the field's
//! type, allowed values are respected, fields ECS keeps as arrays are arrays, and the
//! index templates map the field with ECS's type. Gatewatch's own fields are under
//! `gatewatch.*` and not checked against ECS.

#[path = "../../correlator/tests/support/es_mock.rs"]
mod es_mock;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use gatewatch_correlator::elastic::{templates, ElasticConfig, Sink};
use serde_json::Value;

use super::common::{run_in, Scratch};

/// An ECS field: its type, whether ECS keeps it as an array, its allowed values.
struct Field {
    ty: String,
    array: bool,
    allowed: Vec<String>,
}

fn ecs_fields() -> BTreeMap<String, Field> {
    let text = include_str!("../../correlator/src/elastic/ecs-8.11.tsv");
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let allowed = cols.get(3).map_or(Vec::new(), |a| {
            a.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
        });
        let field =
            Field { ty: cols[1].to_string(), array: cols.get(2) == Some(&"array"), allowed };
        out.insert(cols[0].to_string(), field);
    }
    out
}

/// Every leaf of a document outside `gatewatch.*`: (path, value), arrays as they are.
fn leaves(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                if path != "gatewatch" {
                    leaves(&path, child, out);
                }
            }
        }
        _ => out.push((prefix.to_string(), v.clone())),
    }
}

/// Why `v` is not a value of ECS type `ty`, if it is not.
fn type_error(ty: &str, v: &Value) -> Option<String> {
    let ok = match ty {
        "keyword" | "constant_keyword" | "wildcard" | "text" | "match_only_text" => v.is_string(),
        "long" | "integer" | "short" | "byte" | "unsigned_long" => v.is_i64() || v.is_u64(),
        "float" | "double" | "scaled_float" | "half_float" => v.is_number(),
        "boolean" => v.is_boolean(),
        "date" => v.as_str().is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        "ip" => v.as_str().is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
        "object" | "flattened" | "nested" => v.is_object(),
        other => return Some(format!("type {other} not handled by the check")),
    };
    (!ok).then(|| format!("{v} is not a {ty}"))
}

/// Every problem of one document against ECS and the templates.
fn check(doc: &Value, ecs: &BTreeMap<String, Field>, mapped: &BTreeMap<&str, &str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut all = Vec::new();
    leaves("", doc, &mut all);
    for (path, value) in all {
        let Some(field) = ecs.get(&path) else {
            out.push(format!("`{path}` is not an ECS 8.11 field"));
            continue;
        };
        if field.array && !value.is_array() {
            out.push(format!("`{path}` must be an array: {value}"));
        }
        let items = match &value {
            Value::Array(a) => a.clone(),
            v => vec![v.clone()],
        };
        for item in &items {
            if let Some(e) = type_error(&field.ty, item) {
                out.push(format!("`{path}`: {e}"));
            }
            if !field.allowed.is_empty()
                && !field.allowed.iter().any(|a| Some(a.as_str()) == item.as_str())
            {
                out.push(format!("`{path}`: {item} is not one of {:?}", field.allowed));
            }
        }
        match mapped.get(path.as_str()) {
            None => out.push(format!("`{path}` is written but not in the index templates")),
            Some(t) if *t != field.ty => {
                out.push(format!("`{path}` is mapped as {t}, ECS says {}", field.ty))
            }
            _ => {}
        }
    }
    out
}

#[test]
fn every_field_sent_to_elasticsearch_is_ecs_with_its_type() {
    let dir = Scratch::new("ecs");
    let out = run_in(&dir.0, &["demo", "--no-console"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store_path = dir.path("gatewatch-data/gatewatch.db");
    let store = gatewatch_correlator::store::Store::open(&store_path).expect("store");
    let alerts = store.alert_count().expect("alerts") as usize;
    drop(store);

    let mock = es_mock::EsMock::start();
    let cfg = ElasticConfig {
        url: mock.url(),
        dead_letter: dir.path("dead.jsonl"),
        request_timeout_secs: 5,
        ..Default::default()
    };
    let sink = Sink::start(cfg, &store_path).expect("sink");
    let st = mock.state.clone();
    let t0 = Instant::now();
    // The alerts, and every kind of record the demo stores.
    let kinds = ["dns", "http", "tls", "fileinfo", "flow", "stats"];
    while st.count("logs-gatewatch.alert") < alerts
        || kinds.iter().any(|k| st.count(&format!("logs-gatewatch.{k}")) == 0)
        || st.count("gatewatch-incidents") == 0
    {
        assert!(t0.elapsed() < Duration::from_secs(60), "{:#?}", sink.snapshot());
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let stats = sink.stop().expect("stop");
    assert_eq!(stats.docs_dead, 0, "{stats:#?}");

    let ecs = ecs_fields();
    let mapped: BTreeMap<&str, &str> = templates::FIELDS.iter().copied().collect();
    // The templates map ECS fields with ECS's types.
    for (path, ty) in &mapped {
        if path.starts_with("gatewatch.") {
            continue;
        }
        let field = ecs.get(*path).unwrap_or_else(|| panic!("template field `{path}` is not ECS"));
        assert_eq!(*ty, field.ty, "the template maps `{path}`");
    }
    let docs = st.docs.lock().expect("docs");
    let mut problems = BTreeSet::new();
    let mut checked = 0;
    let mut samples: BTreeMap<String, Value> = BTreeMap::new();
    for (index, by_id) in docs.iter() {
        for (_, doc) in by_id.values() {
            checked += 1;
            for p in check(doc, &ecs, &mapped) {
                problems.insert(format!("{index}: {p}"));
            }
            assert_eq!(doc["ecs"]["version"], "8.11.0", "{index}");
            samples.entry(index.clone()).or_insert_with(|| doc.clone());
        }
    }
    assert!(problems.is_empty(), "{checked} documents; problems:\n{}", {
        let v: Vec<String> = problems.into_iter().collect();
        v.join("\n")
    });

    // What the fields say, on the demo's own traffic.
    let find = |index: &str, pred: &dyn Fn(&Value) -> bool| -> Value {
        docs.iter()
            .filter(|(i, _)| i.starts_with(index))
            .flat_map(|(_, m)| m.values().map(|(_, d)| d.clone()))
            .find(|d| pred(d))
            .unwrap_or_else(|| panic!("no matching document in {index}"))
    };
    let dns = find("logs-gatewatch.dns", &|d| d["dns"]["type"] == "answer");
    assert_eq!(dns["observer"]["vendor"], "Gatewatch");
    assert!(dns["network"]["community_id"].as_str().is_some_and(|c| c.starts_with("1:")));
    assert!(dns["related"]["ip"].as_array().is_some_and(|a| !a.is_empty()));
    assert!(dns["dns"]["question"]["type"].is_string(), "{dns}");
    let tls = find("logs-gatewatch.tls", &|d| !d["tls"]["version"].is_null());
    assert_eq!(tls["tls"]["version_protocol"], "tls", "{tls}");
    let version = tls["tls"]["version"].as_str().unwrap_or("");
    assert!(version == "1.2" || version == "1.3", "{tls}");
    let file = find("logs-gatewatch.fileinfo", &|d| !d["file"]["mime_type"].is_null());
    assert!(file["file"]["mime_type"].as_str().is_some_and(|m| m.contains('/')), "{file}");
    assert!(file["related"]["hash"].as_array().is_some_and(|h| h.len() >= 3), "{file}");
    let stats_doc = find("logs-gatewatch.stats", &|_| true);
    assert_eq!(stats_doc["event"]["kind"], "metric");

    // The documents, for whoever reads the test's output or the closing note.
    let shown = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ecs-documents");
    std::fs::create_dir_all(&shown).expect("folder");
    for (name, doc) in [("dns", &dns), ("tls", &tls), ("fileinfo", &file)] {
        let mut doc = doc.clone();
        if let Some(g) = doc.get_mut("gatewatch").and_then(Value::as_object_mut) {
            g.remove("eve");
        }
        let text = serde_json::to_string_pretty(&doc).expect("json");
        std::fs::write(shown.join(format!("{name}.json")), text).expect("write");
    }
}
