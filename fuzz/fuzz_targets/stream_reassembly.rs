//! Segments with fuzzed sequence numbers, lengths and bytes: reassembly stays within
//! its depth and memory cap and never panics.
#![no_main]
use gatewatch_sensor::stream::{Memcap, StreamDir};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let isn = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let mut mem = Memcap::new(4096);
    let mut s = StreamDir::new(isn, 2048);
    let mut delivered = 0usize;
    let mut rest = &data[4..];
    while rest.len() >= 3 {
        let off = u16::from_le_bytes([rest[0], rest[1]]) as u32;
        let len = (rest[2] as usize).min(rest.len() - 3);
        let seg = &rest[3..3 + len];
        rest = &rest[3 + len..];
        // Offsets near the current position, some far away, some "behind".
        let seq = isn.wrapping_add(off.wrapping_sub(0x2000));
        s.insert(seq, seg, &mut mem);
        if off % 7 == 0 {
            s.skip_gap(&mut mem);
        }
        delivered += s.take(&mut mem).len();
        assert!(mem.used() <= 4096);
        assert!(delivered as u64 <= s.next_offset());
    }
    assert!(delivered <= 2048);
    s.release(&mut mem);
    assert_eq!(mem.used(), 0);
});
