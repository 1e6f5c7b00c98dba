//! Every reader of DNS records reads what the sensor really writes: the demo's capture
//! goes through the sensor (Suricata's version 3 layout, one record per message), then
//! each reader takes those very lines — the shared reader, Sigma's field mapping, the
//! response's sinkhole targets. The console's evidence table is checked in Chromium
//! (`browser.rs`), the Elasticsearch documents through the same shared reader.

use std::collections::BTreeSet;
use std::net::IpAddr;

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
