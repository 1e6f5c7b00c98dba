//! A stream of fragments with fuzzed offsets, flags, ids and data: reassembly stays
//! within its bounds and never panics.
#![no_main]
use gatewatch_sensor::decode::defrag::{Defrag, DefragConfig};
use gatewatch_sensor::decode::{DecodeEvents, Fragment, L3};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = DefragConfig { max_trackers: 8, memcap_bytes: 1 << 16, timeout_secs: 2 };
    let mut d = Defrag::new(cfg);
    let mut rest = data;
    let mut now = 0i64;
    while rest.len() >= 5 {
        let (hdr, tail) = rest.split_at(5);
        let len = (hdr[4] as usize).min(tail.len());
        let (payload, tail) = tail.split_at(len);
        rest = tail;
        let offset = u16::from_be_bytes([hdr[0], hdr[1]]) as u32 * 8 / 4;
        let frag = Fragment { id: (hdr[2] & 3) as u32, offset, more: hdr[3] & 1 == 1 };
        now += (hdr[3] >> 4) as i64 * 100_000;
        let l3 = L3 {
            version: 4,
            src: [10, 0, 0, 1].into(),
            dst: [10, 0, 0, 2].into(),
            proto: 17,
            ttl: 64,
            ip_id: 0,
            frag_bits: 0,
            fragment: Some(frag),
            vlan: [0, 0, 0],
            header: &[],
            payload,
            events: DecodeEvents::default(),
        };
        let mut events = DecodeEvents::default();
        if let Some(out) = d.insert(&l3, frag, now, &mut events) {
            assert!(out.len() <= 65_535);
        }
        assert!(d.buffered_bytes() <= 1 << 16);
        assert!(d.in_progress() <= 8);
    }
});
