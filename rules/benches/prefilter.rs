//! Cost of detection per packet as the rule count grows: the prefilter must keep it
//! close to flat. `cargo bench -p gatewatch-rules --bench prefilter`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gatewatch_rules::engine::{FlowState, FlowView, Limits, Packet, RuleSet, TcpInfo};
use gatewatch_rules::signature::{file, Vars};

fn ruleset(n: usize) -> RuleSet {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "alert tcp $EXTERNAL_NET any -> $HOME_NET any (msg:\"r{i}\"; flow:to_server,established; content:\"pattern-{i:06}-x\"; nocase; content:\"tail{i}\"; distance:0; sid:{};)\n",
            i + 1
        ));
    }
    let mut sigs = Vec::new();
    let mut rep = Default::default();
    file::load_text(&text, "bench", &Vars::default(), &mut sigs, &mut rep);
    RuleSet::build(sigs, Limits::default())
}

fn bench(c: &mut Criterion) {
    let payload: Vec<u8> = (0..1400u32)
        .map(|i| b"GET /index.html HTTP/1.1\r\nHost: example\r\n"[i as usize % 41])
        .collect();
    let mut g = c.benchmark_group("detect_1400B_packet");
    g.throughput(Throughput::Bytes(payload.len() as u64));
    for n in [10usize, 1_000, 20_000] {
        let rs = ruleset(n);
        let mut det = rs.detector();
        let mut out = Vec::new();
        let (src, dst) = ("203.0.113.5".parse().unwrap(), "10.1.1.1".parse().unwrap());
        let pkt = Packet {
            sport: 40000,
            dport: 80,
            has_ports: true,
            ttl: 60,
            tcp: Some(TcpInfo { flags: 0x18, seq: 0, ack: 0, window: 0 }),
            flow: Some(FlowView { to_server: true, established: true }),
            ..Packet::new(0, 6, src, dst, &payload)
        };
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            let mut f = FlowState::default();
            b.iter(|| rs.detect(&mut det, &pkt, Some(&mut f), &mut out))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
