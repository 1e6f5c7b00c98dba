//! Every reader of protocol records reads what the sensor really writes: the demo's
//! capture goes through the sensor, then each reader takes those very lines. DNS
//! (Suricata's version 3 layout, one record per message): the shared reader, Sigma's
//! field mapping, the response's sinkhole targets. Every record type: each field the
//! console's evidence tables, the ECS documents, the observables the search finds and
//! the report's sensor health read is there and not empty. The console's tables are
//! checked in Chromium (`browser.rs`).

use std::collections::BTreeSet;
use std::net::IpAddr;

use gatewatch_correlator::elastic::ecs;
use gatewatch_correlator::incident::observables;
use gatewatch_correlator::response::policy::domains_in;
use gatewatch_rules::event::dns::DnsView;
use gatewatch_rules::sigma::network::event_from_eve;
use serde_json::Value;

use super::common::{run_in, Scratch};

/// The demo's malware domain and the province's resolver (see `sensor::synth::demo`).
const C2_NAME: &str = "update.hue-gov-portal.top";
const RESOLVER: &str = "10.46.1.53";

fn sensor_output(dir: &Scratch) -> Vec<Value> {
    let out = run_in(&dir.0, &["demo", "--no-console"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let eve = std::fs::read_to_string(dir.path("gatewatch-data/demo/eve.json")).expect("eve");
    eve.lines().map(|l| serde_json::from_str(l).expect("an EVE line")).collect()
}

#[test]
fn every_dns_reader_reads_what_the_sensor_writes() {
    let dir = Scratch::new("dns-readers");
    let eve = sensor_output(&dir);
    let all: Vec<&Value> = eve.iter().filter(|r| r["event_type"] == "dns").collect();
    // The layout is version 3: the names are in `queries`, none at the top; the shared
    // reader finds the name asked in every record.
    for r in &all {
        assert_eq!(r["dns"]["version"], 3, "{r}");
        assert!(r["dns"].get("rrname").is_none(), "{r}");
        assert_eq!(DnsView::of(&r["dns"]).names.len(), 1, "{r}");
    }
    let dns: Vec<&Value> =
        all.into_iter().filter(|r| DnsView::of(&r["dns"]).names == [C2_NAME]).collect();
    assert_eq!(dns.len(), 8, "four lookups of the malware domain, a query and a response each");
    let views: Vec<DnsView> = dns.iter().map(|r| DnsView::of(&r["dns"])).collect();
    assert!(views.iter().all(|v| v.types == ["A"]), "{views:#?}");
    let answers: BTreeSet<(String, String)> =
        views.iter().flat_map(|v| v.answers.iter().cloned()).collect();
    assert_eq!(answers, BTreeSet::from([("A".to_string(), "198.51.100.200".to_string())]));
    let kinds: Vec<_> = views.iter().filter_map(|v| v.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "query").count(), 4, "{kinds:?}");

    // Sigma's network mapping: `dns.query` and the answer.
    let (event, fields) = event_from_eve(dns[0]).expect("dns is a Sigma event type");
    assert_eq!(event, "dns");
    assert_eq!(fields["dns.query"], C2_NAME, "{fields}");
    let response = dns.iter().find(|r| r["dns"]["type"] == "response").expect("a response");
    let (_, fields) = event_from_eve(response).expect("dns");
    assert_eq!(fields["dns.answer"], serde_json::json!(["198.51.100.200"]), "{fields}");

    // The sinkhole's targets: the domain of the sensor's DNS alert (sid 9000005).
    let alert = eve
        .iter()
        .find(|r| r["event_type"] == "alert" && r["alert"]["signature_id"] == 9_000_005)
        .expect("the demo's DNS alert");
    let internal = |ip: IpAddr| ip.to_string().starts_with("10.46.");
    let resolver = |ip: IpAddr| ip.to_string() == RESOLVER;
    assert_eq!(domains_in(&alert.to_string(), &internal, &resolver), [C2_NAME], "{alert}");
}

/// The value at a dotted path, `None` when missing, null, empty text or an empty list.
fn field<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let x = path.split('.').try_fold(v, |v, k| v.get(k))?;
    match x {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(a) if a.is_empty() => None,
        _ => Some(x),
    }
}

/// What the readers take from each record type: (event type, fields of every record,
/// fields of at least one, ECS fields of every document, kinds of observable found in
/// at least one record; a record's own addresses are its incident's hosts, not
/// observables).
type Reads = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

fn reads() -> [Reads; 6] {
    [
        (
            "flow",
            &[
                "flow.state",
                "flow.bytes_toserver",
                "flow.bytes_toclient",
                "flow.pkts_toserver",
                "proto",
            ],
            &["app_proto"],
            &[
                "source.ip",
                "destination.ip",
                "network.transport",
                "network.bytes",
                "network.packets",
                "event.start",
                "event.end",
            ],
            &[],
        ),
        (
            "dns",
            &["dns.version", "dns.type", "dns.queries"],
            &["dns.answers", "dns.rcode"],
            &["dns.question.name", "dns.question.type", "dns.type"],
            &["domain", "ip"],
        ),
        (
            "http",
            &["http.hostname", "http.url", "http.http_method"],
            &["http.status", "http.http_user_agent"],
            &["url.domain", "url.original", "http.request.method"],
            &["domain", "url", "file"],
        ),
        (
            "tls",
            &["tls.sni", "tls.version"],
            &["tls.ja3.hash"],
            &["tls.client.server_name", "tls.version"],
            &["domain", "hash"],
        ),
        (
            "fileinfo",
            &[
                "fileinfo.filename",
                "fileinfo.size",
                "fileinfo.md5",
                "fileinfo.sha1",
                "fileinfo.sha256",
            ],
            &["app_proto"],
            &["file.name", "file.size", "file.hash.sha256"],
            &["file", "hash"],
        ),
        (
            "ssh",
            &[
                "ssh.client.software_version",
                "ssh.client.proto_version",
                "ssh.server.software_version",
                "ssh.server.proto_version",
            ],
            &[],
            &["source.ip", "destination.port"],
            &[],
        ),
    ]
}

#[test]
fn every_field_the_readers_take_is_in_the_sensors_records() {
    let dir = Scratch::new("record-readers");
    let eve = sensor_output(&dir);
    for (kind, every, some, ecs_fields, found) in reads() {
        let records: Vec<&Value> = eve.iter().filter(|r| r["event_type"] == kind).collect();
        assert!(!records.is_empty(), "the demo's sensor wrote no {kind} record");
        for r in &records {
            for f in ["timestamp", "flow_id", "src_ip", "dest_ip", "host"].iter().chain(every) {
                assert!(field(r, f).is_some(), "{kind}: `{f}` missing or empty in {r}");
            }
            let doc = ecs::record(kind, 0, r, "id");
            for f in ecs_fields.iter().chain(&["source.ip", "observer.name", "gatewatch.flow_id"]) {
                assert!(field(&doc, f).is_some(), "{kind}: ECS `{f}` missing in {doc} (from {r})");
            }
        }
        for f in some {
            assert!(records.iter().any(|r| field(r, f).is_some()), "{kind}: no record has `{f}`");
        }
        let kinds: BTreeSet<&str> =
            records.iter().flat_map(|r| observables::of_event(r)).map(|(k, _)| k).collect();
        for k in found {
            assert!(kinds.contains(k), "{kind}: no `{k}` observable (found {kinds:?})");
        }
    }
    // The report's sensor health and the console's sensors page read the heartbeat.
    let stats = eve.iter().find(|r| r["event_type"] == "stats").expect("a stats record");
    for f in [
        "host",
        "stats.uptime",
        "stats.decoder.pkts",
        "stats.detect.rules_loaded",
        "stats.detect.rules_generation",
        "stats.capture.files",
    ] {
        assert!(field(stats, f).is_some(), "stats: `{f}` missing");
    }
    let doc = ecs::record("stats", 0, stats, "id");
    assert!(field(&doc, "gatewatch.sensor.packets").is_some(), "{doc}");
}
