//! Cost of naming a file's type with libmagic (`fileinfo.magic`), per file.
//!
//! `GATEWATCH_BENCH_FILES=DIR cargo bench -p gatewatch-sensor --bench filetype` measures
//! the files of DIR (e.g. the file store of a replay of `bench-mixed.pcap`, see
//! `benches/filetype-agreement.py`); without it, a few generated files.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gatewatch_sensor::app::filetype::describe;

fn files() -> Vec<Vec<u8>> {
    if let Some(dir) = std::env::var_os("GATEWATCH_BENCH_FILES") {
        let mut out = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(b) = std::fs::read(&p) {
                    out.push(b);
                }
            }
        }
        return out;
    }
    let mut pe = vec![0u8; 4096];
    pe[..2].copy_from_slice(b"MZ");
    pe[0x3c] = 0x80;
    pe[0x80..0x84].copy_from_slice(b"PE\0\0");
    vec![
        pe,
        b"<!DOCTYPE html>\n<html><body>hello</body></html>\n".repeat(50),
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n".to_vec(),
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00".repeat(20),
        (0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect(),
    ]
}

fn bench(c: &mut Criterion) {
    let files = files();
    let mut g = c.benchmark_group("filetype");
    g.throughput(Throughput::Elements(files.len() as u64));
    g.bench_function("libmagic_per_file", |b| {
        b.iter(|| files.iter().filter(|f| describe(f).is_some()).count())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
