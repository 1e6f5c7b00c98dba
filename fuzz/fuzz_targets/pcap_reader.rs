//! Any bytes as a capture file: the reader returns frames or an error, never panics.
#![no_main]
use gatewatch_sensor::capture::pcap::PcapReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = PcapReader::new(data, "fuzz") {
        let mut n = 0;
        while let Ok(Some(f)) = r.next_frame() {
            assert!(f.data.len() <= gatewatch_sensor::capture::pcap::MAX_RECORD);
            n += 1;
            if n > 10_000 {
                break;
            }
        }
    }
});
