//! Prints, for the payload fast patterns of a rule file and the TCP/UDP payloads of a
//! capture: compile time, scan time (median of N) and throughput of both matchers, and
//! checks that they report the same (payload, pattern) pairs.
//!
//!   mpm-compare [RULES] [PCAP] [N]

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use aho_corasick::{AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use gatewatch_rules::signature::file::load_files;
use gatewatch_rules::signature::{Buffer, Vars};
use gatewatch_sensor::capture::pcap::PcapReader;
use gatewatch_sensor::decode::{decode_l3, decode_l4, Decoded};
use hyperscan::prelude::*;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rules = args.get(1).map_or("../shared/corpus/et-open/etopen-2024-04-21-all-but-malware.rules", |s| s);
    let pcap = args.get(2).map_or("../shared/corpus/pcaps/bench-mixed.pcap", |s| s);
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);

    let (sigs, _) = load_files(&[rules], &Vars::default());
    // Distinct payload fast patterns, lowercased for nocase (as the engine keys them).
    let mut pats: BTreeSet<(Vec<u8>, bool)> = BTreeSet::new();
    for s in &sigs {
        if let Some((Buffer::Payload, t, c)) = s.fast_pattern() {
            if t.is_empty() {
                let p = c.prefilter_bytes();
                pats.insert(if c.nocase { (p.to_ascii_lowercase(), true) } else { (p.to_vec(), false) });
            }
        }
    }
    let pats: Vec<(Vec<u8>, bool)> = pats.into_iter().collect();

    let mut payloads: Vec<Vec<u8>> = Vec::new();
    let mut r = PcapReader::open(Path::new(pcap)).expect("capture");
    while let Ok(Some(f)) = r.next_frame() {
        let Ok((_, Decoded::Ip(l3))) = decode_l3(f.link, f.data) else { continue };
        if l3.fragment.is_some() {
            continue;
        }
        let Ok(l4) = decode_l4(&l3, l3.payload) else { continue };
        if !l4.payload().is_empty() {
            payloads.push(l4.payload().to_vec());
        }
    }
    let bytes: usize = payloads.iter().map(Vec::len).sum();
    println!(
        "{} payload fast patterns from {rules}; {} payloads, {:.1} MB from {pcap}; N={n}",
        pats.len(),
        payloads.len(),
        bytes as f64 / 1e6
    );

    // Aho-Corasick as the engine builds it: one case-insensitive DFA, exact patterns
    // confirmed by bytes.
    let t = Instant::now();
    let ac = AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .ascii_case_insensitive(true)
        .kind(Some(AhoCorasickKind::DFA))
        .build(pats.iter().map(|(p, _)| p))
        .expect("ac");
    let ac_build = t.elapsed().as_secs_f64();
    let ac_scan = |found: &mut BTreeSet<(usize, usize)>| {
        for (i, p) in payloads.iter().enumerate() {
            for m in ac.find_overlapping_iter(p) {
                let id = m.pattern().as_usize();
                let (pat, nocase) = &pats[id];
                if *nocase || &p[m.start()..m.end()] == pat.as_slice() {
                    found.insert((i, id));
                }
            }
        }
    };

    // Hyperscan as Suricata uses it: block mode, one literal per pattern, caseless
    // where nocase, single match per pattern and buffer.
    let t = Instant::now();
    let hs_pats: Vec<Pattern> = pats
        .iter()
        .enumerate()
        .map(|(i, (p, nocase))| {
            let expr: String = p.iter().map(|b| format!("\\x{b:02x}")).collect();
            let mut flags = CompileFlags::SINGLEMATCH;
            if *nocase {
                flags |= CompileFlags::CASELESS;
            }
            Pattern { expression: expr, flags, id: Some(i), ext: Default::default(), som: None }
        })
        .collect();
    let db: BlockDatabase = Patterns::from(hs_pats).build().expect("hyperscan compile");
    let hs_build = t.elapsed().as_secs_f64();
    let scratch = db.alloc_scratch().expect("scratch");
    let hs_scan = |found: &mut BTreeSet<(usize, usize)>| {
        for (i, p) in payloads.iter().enumerate() {
            db.scan(p, &scratch, |id, _, _, _| {
                found.insert((i, id as usize));
                Matching::Continue
            })
            .expect("scan");
        }
    };

    let mut a = BTreeSet::new();
    ac_scan(&mut a);
    let mut h = BTreeSet::new();
    hs_scan(&mut h);
    println!("matches (payload, pattern): aho-corasick {}, hyperscan {}, same set: {}", a.len(), h.len(), a == h);
    let time = |f: &dyn Fn(&mut BTreeSet<(usize, usize)>)| {
        median(
            (0..n)
                .map(|_| {
                    let mut s = BTreeSet::new();
                    let t = Instant::now();
                    f(&mut s);
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    let ta = time(&ac_scan);
    let th = time(&hs_scan);
    println!(
        "aho-corasick: build {:.3} s, heap {:.1} MB, scan median {:.3} s = {:.0} MB/s",
        ac_build,
        ac.memory_usage() as f64 / 1e6,
        ta,
        bytes as f64 / ta / 1e6
    );
    println!(
        "hyperscan:    build {:.3} s, db {:.1} MB, scan median {:.3} s = {:.0} MB/s",
        hs_build,
        db.size().unwrap_or(0) as f64 / 1e6,
        th,
        bytes as f64 / th / 1e6
    );
    println!("ratio scan time aho-corasick / hyperscan: {:.2}", ta / th);
}
