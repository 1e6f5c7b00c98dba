//! Suricata EVE lines as a tailed file or `POST /api/v1/eve` delivers them: each line
//! read as an EVE record, alerts placed by the incident engine (with the shipped
//! correlation rules) into an in-memory store, other records kept as evidence. Nothing
//! panics, the store accepts every alert that parsed, and every placed alert is in an
//! incident.
#![no_main]
use gatewatch_correlator::config::CorrelatorConfig;
use gatewatch_correlator::server::eve_input::{parse_line, EveRecord};
use gatewatch_correlator::store::Store;
use gatewatch_correlator::Correlator;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(store) = Store::open_in_memory() else { return };
    let mut c = Correlator::new(CorrelatorConfig { batch_size: 8, ..Default::default() }, store);
    let mut alerts = 0u64;
    for line in data.split(|b| *b == b'\n').take(64) {
        match parse_line(line) {
            Ok(EveRecord::Alert(a)) => {
                alerts += 1;
                c.ingest(&a).expect("the store accepts a parsed alert");
            }
            Ok(EveRecord::Other(r)) => c.ingest_record(r).expect("the store accepts a record"),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    c.flush().expect("flush");
    assert_eq!(c.stats.alerts, alerts + c.stats.correlations);
    let placed: u64 = c.store().list_incidents(10_000).expect("list").iter().map(|i| i.alert_count).sum();
    assert_eq!(placed, c.stats.alerts);
});
