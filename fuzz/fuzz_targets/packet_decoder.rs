//! Any bytes as a frame of any link type, through every decoder and checksum.
#![no_main]
use gatewatch_sensor::capture::LinkType;
use gatewatch_sensor::decode::{decode_l3, decode_l4, verify_l4_checksum, Decoded};
use libfuzzer_sys::fuzz_target;

const LINKS: [LinkType; 8] = [
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::NULL,
    LinkType::LOOP,
    LinkType::IPV4,
    LinkType::IPV6,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, frame)) = data.split_first() else { return };
    let link = LINKS[sel as usize % LINKS.len()];
    if let Ok((_, Decoded::Ip(l3))) = decode_l3(link, frame) {
        if let Ok(l4) = decode_l4(&l3, l3.payload) {
            let _ = verify_l4_checksum(&l3, l3.payload, &l4);
            let _ = l4.payload();
        }
    }
});
