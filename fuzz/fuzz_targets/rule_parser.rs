//! Any text as a rules file: every rule loads or is reported; the loaded ones compile
//! and run against the remaining bytes as a payload.
#![no_main]
use gatewatch_rules::engine::{FlowState, FlowView, Limits, Packet, RuleSet, StreamChunk, TcpInfo};
use gatewatch_rules::load_report::LoadReport;
use gatewatch_rules::signature::{file, Vars};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let text = String::from_utf8_lossy(&data[..split]);
    let payload = data.get(split + 1..).unwrap_or(&[]);
    let mut sigs = Vec::new();
    let mut report = LoadReport::default();
    file::load_text(&text, "fuzz.rules", &Vars::default(), &mut sigs, &mut report);
    assert_eq!(report.total, sigs.len() + report.skipped.len());
    let rs = RuleSet::build(sigs, Limits { threshold_entries: 16, ..Limits::default() });
    let mut det = rs.detector();
    let mut flow = FlowState::default();
    let mut out = Vec::new();
    let pkt = Packet {
        sport: 1234,
        dport: 80,
        has_ports: true,
        ttl: 64,
        ip_id: 1,
        tcp: Some(TcpInfo { flags: 0x18, seq: 1, ack: 1, window: 1 }),
        flow: Some(FlowView { to_server: true, established: true }),
        ..Packet::new(0, 6, [10, 0, 0, 1].into(), [10, 0, 0, 2].into(), payload)
    };
    rs.detect(&mut det, &pkt, Some(&mut flow), &mut out);
    // The same bytes again as reassembled stream data, the second half new.
    let stream = StreamChunk { data: payload, new_from: payload.len() / 2, offset: 0 };
    let in_stream = Packet { in_stream: true, stream: Some(stream), ..pkt };
    rs.detect(&mut det, &in_stream, Some(&mut flow), &mut out);
});
