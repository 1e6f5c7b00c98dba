//! Internet checksums (RFC 1071) for IPv4 headers and TCP/UDP/ICMPv6 with their
//! pseudo-headers.

use std::net::IpAddr;

/// Folds `data` into a running one's-complement sum and returns the folded 16-bit sum.
pub fn ones_complement(initial: u32, data: &[u8]) -> u16 {
    let mut sum = initial as u64;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u64;
    }
    if let [last] = chunks.remainder() {
        sum += (*last as u64) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    let mut sum: u64 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            sum += u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u64;
        }
    };
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            add(&s.octets());
            add(&d.octets());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            add(&s.octets());
            add(&d.octets());
        }
        _ => {}
    }
    sum += proto as u64 + (len as u64 & 0xffff) + ((len as u64) >> 16);
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u32
}

/// True when the transport segment's checksum (included in `segment`) is correct.
pub fn verify_transport(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8]) -> bool {
    ones_complement(pseudo_header(src, dst, proto, segment.len()), segment) == 0xffff
}

/// The checksum to write into a transport header whose checksum field is zero.
pub fn transport_checksum(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8]) -> u16 {
    let c = !ones_complement(pseudo_header(src, dst, proto, segment.len()), segment);
    if proto == 17 && c == 0 {
        0xffff
    } else {
        c
    }
}

/// The checksum to write into an IPv4 header whose checksum field is zero.
pub fn ipv4_header_checksum(header: &[u8]) -> u16 {
    !ones_complement(0, header)
}
