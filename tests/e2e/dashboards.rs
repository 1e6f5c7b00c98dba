//! The Kibana dashboards of `dashboards/`: every field a panel uses exists in the
//! correlator's index templates with a type that suits its use; references resolve;
//! `gatewatch dashboards install` imports them through a stand-in of Kibana's saved
//! objects API (Kibana itself cannot run on these machines).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;

use gatewatch_correlator::elastic::templates::FIELDS;
use serde_json::Value;

use super::common::{run_in, Scratch};

fn objects() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("dashboards/")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "ndjson")) {
        let name = f.file_name().unwrap_or_default().to_string_lossy().to_string();
        for (n, line) in std::fs::read_to_string(f).expect("read").lines().enumerate() {
            let v: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{}: {e}", n + 1));
            out.push((name.clone(), v));
        }
    }
    assert_eq!(
        files.iter().filter(|f| f.extension().is_some_and(|e| e == "ndjson")).count(),
        4,
        "four dashboards"
    );
    out
}

/// The field names a KQL query names (`field : value`).
fn kql_fields(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in q.split(':').take(q.matches(':').count()) {
        let name: String = part
            .trim_end()
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || "._@".contains(*c))
            .collect();
        let name: String = name.chars().rev().collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

#[test]
fn dashboards_use_only_mapped_fields() {
    let mapped: BTreeMap<&str, &str> = FIELDS.iter().copied().collect();
    let all = objects();
    let ids: BTreeSet<(String, String)> = all
        .iter()
        .map(|(_, o)| {
            (
                o["type"].as_str().unwrap_or("").to_string(),
                o["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut checked = 0;
    let mut dashboards = 0;
    for (file, o) in &all {
        let id = o["id"].as_str().unwrap_or("?");
        for r in o["references"].as_array().expect("references") {
            let key = (
                r["type"].as_str().unwrap_or("").to_string(),
                r["id"].as_str().unwrap_or("").to_string(),
            );
            assert!(ids.contains(&key), "{file}: {id} refers to {key:?}, which no file holds");
        }
        match o["type"].as_str() {
            Some("index-pattern") => {
                let title = o["attributes"]["title"].as_str().expect("title");
                for p in title.split(',') {
                    assert!(
                        p.starts_with("logs-gatewatch.") || p == "gatewatch-incidents",
                        "{file}: data view `{p}` is not one the correlator writes"
                    );
                }
                let tf = o["attributes"]["timeFieldName"].as_str().expect("time field");
                assert_eq!(mapped.get(tf), Some(&"date"), "{file}: time field {tf}");
            }
            Some("lens") => {
                let state = &o["attributes"]["state"];
                for layer in state["datasourceStates"]["formBased"]["layers"]
                    .as_object()
                    .expect("layers")
                    .values()
                {
                    for (cid, col) in layer["columns"].as_object().expect("columns") {
                        let op = col["operationType"].as_str().expect("operation");
                        let field = col["sourceField"].as_str().expect("field");
                        if field == "___records___" {
                            assert_eq!(op, "count");
                            continue;
                        }
                        let ty = mapped.get(field).unwrap_or_else(|| panic!("{file}: {id}/{cid} uses `{field}`, which the index templates do not map"));
                        let fits = match op {
                            "date_histogram" => *ty == "date",
                            "terms" => ["keyword", "ip", "long", "boolean"].contains(ty),
                            "max" | "min" => ["long", "float", "date"].contains(ty),
                            "sum" | "average" | "median" => ["long", "float"].contains(ty),
                            "unique_count" => ["keyword", "ip", "long"].contains(ty),
                            other => panic!("{file}: {id}/{cid}: operation {other} not checked"),
                        };
                        assert!(fits, "{file}: {id}/{cid}: {op} on `{field}` ({ty})");
                        checked += 1;
                    }
                    let order: Vec<&str> = layer["columnOrder"]
                        .as_array()
                        .expect("order")
                        .iter()
                        .filter_map(|c| c.as_str())
                        .collect();
                    assert_eq!(
                        order.len(),
                        layer["columns"].as_object().map_or(0, |c| c.len()),
                        "{file}: {id}: column order"
                    );
                }
                for f in kql_fields(state["query"]["query"].as_str().unwrap_or("")) {
                    assert!(
                        mapped.contains_key(f.as_str()),
                        "{file}: {id}: the query names `{f}`, not mapped"
                    );
                    checked += 1;
                }
            }
            Some("dashboard") => {
                dashboards += 1;
                let panels: Value =
                    serde_json::from_str(o["attributes"]["panelsJSON"].as_str().expect("panels"))
                        .expect("panels JSON");
                let refs: BTreeSet<&str> = o["references"]
                    .as_array()
                    .expect("refs")
                    .iter()
                    .filter_map(|r| r["name"].as_str())
                    .collect();
                for p in panels.as_array().expect("array") {
                    let want = format!(
                        "{}:{}",
                        p["panelIndex"].as_str().unwrap_or(""),
                        p["panelRefName"].as_str().unwrap_or("")
                    );
                    assert!(refs.contains(want.as_str()), "{file}: panel {want} has no reference");
                    let g = &p["gridData"];
                    assert!(
                        g["x"].as_u64().unwrap_or(99) + g["w"].as_u64().unwrap_or(99) <= 48,
                        "{file}: panel {want} wider than the grid"
                    );
                }
            }
            other => panic!("{file}: unexpected object type {other:?}"),
        }
    }
    assert_eq!(dashboards, 4);
    assert!(checked > 40, "{checked} fields checked");
}

#[test]
fn the_kql_field_reader_finds_names() {
    assert_eq!(
        kql_fields(r#"event.dataset : "gatewatch.dns" and dns.response_code : "NXDOMAIN""#),
        ["event.dataset", "dns.response_code"]
    );
    assert!(kql_fields("").is_empty());
}

/// A stand-in of Kibana's `POST /api/saved_objects/_import`: checks the request the
/// way Kibana does (kbn-xsrf, multipart with a `file` part of NDJSON) and answers as
/// Kibana documents; `refuse` makes it answer one object as failed.
fn kibana_stand_in(
    refuse: Option<&'static str>,
) -> (String, std::thread::JoinHandle<(String, String, Vec<Value>)>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept");
        let mut r = BufReader::new(s.try_clone().expect("clone"));
        let mut request_line = String::new();
        r.read_line(&mut request_line).expect("request line");
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            r.read_line(&mut line).expect("header");
            if line.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).expect("body");
        let body = String::from_utf8_lossy(&body).to_string();
        let boundary = headers
            .get("content-type")
            .and_then(|c| c.split("boundary=").nth(1))
            .unwrap_or("")
            .to_string();
        let ok = headers.contains_key("kbn-xsrf")
            && !boundary.is_empty()
            && body.contains("name=\"file\"");
        let part = body
            .split(&format!("--{boundary}"))
            .find(|p| p.contains("name=\"file\""))
            .unwrap_or("");
        let ndjson = part.split("\r\n\r\n").nth(1).unwrap_or("").trim_end_matches("\r\n");
        let objs: Vec<Value> =
            ndjson.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        let answer = if !ok {
            (
                400,
                serde_json::json!({"statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."}),
            )
        } else if let Some(id) = refuse {
            (
                200,
                serde_json::json!({"success": false, "successCount": objs.len() - 1,
                "errors": [{"id": id, "type": "lens", "title": "x", "error": {"type": "missing_references", "references": [{"type": "index-pattern", "id": "gw-alerts"}]}}]}),
            )
        } else {
            (
                200,
                serde_json::json!({"success": true, "successCount": objs.len(), "successResults": []}),
            )
        };
        let text = answer.1.to_string();
        let _ = write!(s, "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}", answer.0, text.len());
        (request_line, headers.get("kbn-xsrf").cloned().unwrap_or_default(), objs)
    });
    (format!("http://{addr}"), h)
}

#[test]
fn dashboards_install_through_the_saved_objects_api() {
    let dir = Scratch::new("dashboards");
    let (url, h) = kibana_stand_in(None);
    let out = run_in(&dir.0, &["dashboards", "install", "--kibana", &url, "--space", "soc"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (line, xsrf, objs) = h.join().expect("stand-in");
    assert!(line.starts_with("POST /s/soc/api/saved_objects/_import?overwrite=true "), "{line}");
    assert_eq!(xsrf, "true");
    assert_eq!(objs.len(), objects().len(), "every object of every file");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("imported {} objects", objs.len()))
    );

    let (url, h) = kibana_stand_in(Some("gw-alerts-top-rules"));
    let out = run_in(&dir.0, &["dashboards", "install", "--kibana", &url]);
    let _ = h.join();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("gw-alerts-top-rules") && err.contains("missing_references"), "{err}");
}
