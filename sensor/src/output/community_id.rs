//! The Community ID flow hash, version 1 (corelight's community-id-spec), as Suricata
//! writes it in EVE with `community-id: true`: one string per flow, the same in every
//! record of the flow and in the records other tools (Zeek, Arkime, Elastic's ingest
//! processor) write of it, so that a SOC can join them.
//!
//! `1:` followed by the base64 of the SHA-1 of: the seed (2 bytes, big-endian), the two
//! addresses, the protocol number, a zero byte and two ports (2 bytes each). The
//! endpoints are ordered so that both directions hash alike: the smaller address first,
//! or the smaller port when the addresses are equal.
//!
//! Gatewatch writes what the Suricata sensors of the same SOC write (the point of the
//! hash is to match theirs), measured against Suricata 8.0.6 on every flow of a mixed
//! capture (`benches/community-id-agreement.py`). Where Suricata departs from the
//! specification's reference code, so does Gatewatch:
//! - ICMP has no ports: the source "port" is the type of the flow's first message and
//!   the destination "port" the type that answers it (echo → echo reply, router
//!   solicitation → advertisement, …), or 0 when no type answers it (the specification
//!   writes the code there and skips the ordering).
//! - Protocols without ports (IP-in-IP, IPv6-in-IP, GRE) hash two zero ports (the
//!   specification hashes none); ESP hashes its flow's "ports", the low 16 bits of the
//!   SPI and 0, as Suricata keys ESP flows by SPI.

use std::net::IpAddr;

use sha1::{Digest, Sha1};

/// ICMP and ICMPv6: type and answering type in the place of the ports.
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;

/// The type that answers ICMP (v4) type `t`, if one does.
fn icmp4_counterpart(t: u8) -> Option<u8> {
    Some(match t {
        8 => 0,
        0 => 8,
        13 => 14,
        14 => 13,
        15 => 16,
        16 => 15,
        10 => 9,
        9 => 10,
        17 => 18,
        18 => 17,
        _ => return None,
    })
}

/// The type that answers ICMPv6 type `t`, if one does.
fn icmp6_counterpart(t: u8) -> Option<u8> {
    Some(match t {
        128 => 129,
        129 => 128,
        133 => 134,
        134 => 133,
        135 => 136,
        136 => 135,
        130 => 131,
        131 => 130,
        144 => 145,
        145 => 144,
        139 => 140,
        140 => 139,
        _ => return None,
    })
}

/// The community id of a flow between `client` and `server` (address and port; the
/// ports are ignored for ICMP) over IP protocol `proto`; `icmp_type` is the type of
/// the flow's first ICMP message. `seed` is 0 unless the SOC separates networks that
/// reuse addresses.
pub fn community_id(
    seed: u16,
    proto: u8,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    icmp_type: Option<u8>,
) -> String {
    let (sp, dp) = match proto {
        ICMP | ICMPV6 => {
            let t = icmp_type.unwrap_or(0);
            let counterpart =
                if proto == ICMP { icmp4_counterpart(t) } else { icmp6_counterpart(t) };
            (u16::from(t), u16::from(counterpart.unwrap_or(0)))
        }
        _ => (client.1, server.1),
    };
    let ordered = client.0 < server.0 || (client.0 == server.0 && sp < dp);
    let (a, b, ap, bp) =
        if ordered { (client.0, server.0, sp, dp) } else { (server.0, client.0, dp, sp) };
    let mut h = Sha1::new();
    h.update(seed.to_be_bytes());
    add_address(&mut h, a);
    add_address(&mut h, b);
    h.update([proto, 0]);
    h.update(ap.to_be_bytes());
    h.update(bp.to_be_bytes());
    let digest = h.finalize();
    format!("1:{}", gatewatch_rules::signature::transform::base64_encode(&digest))
}

/// The community id EVE records of such a flow carry, when `eve.community_id` is on.
pub fn for_eve(
    eve: &crate::config::EveConfig,
    proto: u8,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    icmp_type: Option<u8>,
) -> Option<String> {
    eve.community_id.then(|| community_id(eve.community_id_seed, proto, client, server, icmp_type))
}

fn add_address(h: &mut Sha1, a: IpAddr) {
    match a {
        IpAddr::V4(v4) => h.update(v4.octets()),
        IpAddr::V6(v6) => h.update(v6.octets()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The specification's test vectors (community-id-spec, baseline/baseline_deflt.json).
    #[test]
    fn specification_vectors() {
        let tcp =
            community_id(0, 6, (ip("128.232.110.120"), 34855), (ip("66.35.250.204"), 80), None);
        assert_eq!(tcp, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
        let udp = community_id(0, 17, (ip("192.168.1.52"), 54585), (ip("8.8.8.8"), 53), None);
        assert_eq!(udp, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
        let v6 = community_id(
            0,
            6,
            (ip("2001:470:e5bf:dead:4957:2174:e82c:4887"), 63943),
            (ip("2607:f8b0:400c:c03::1a"), 25),
            None,
        );
        assert_eq!(v6, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");
        let icmp = community_id(0, 1, (ip("192.168.0.89"), 0), (ip("192.168.0.1"), 0), Some(8));
        assert_eq!(icmp, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
        let icmp6 = community_id(
            0,
            58,
            (ip("fe80::200:86ff:fe05:80da"), 0),
            (ip("fe80::260:97ff:fe07:69ea"), 0),
            Some(135),
        );
        assert_eq!(icmp6, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=");
    }

    /// Where Suricata 8.0.6 departs from the specification (ids it wrote on a mixed
    /// capture): a one-way ICMP type, and ESP keyed by SPI.
    #[test]
    fn as_suricata_writes_them() {
        let (a, b) = ((ip("fe80::a00:27ff:fed4:10bb"), 0), (ip("ff02::16"), 0));
        assert_eq!(community_id(0, 58, a, b, Some(143)), "1:0ELYyHcXyx7f7b41QA2LAsFIwiw=");
        let spi: u32 = 305_419_896;
        let (a, b) = ((ip("10.0.33.100"), (spi & 0xffff) as u16), (ip("10.0.33.1"), 0));
        assert_eq!(community_id(0, 50, a, b, None), "1:KKsvCHDDiXUwt5DH2iZwMhxOfR8=");
    }

    #[test]
    fn both_directions_hash_alike_and_the_seed_changes_it() {
        let (a, b) = ((ip("10.46.1.20"), 51514), (ip("203.0.113.7"), 443));
        assert_eq!(community_id(0, 6, a, b, None), community_id(0, 6, b, a, None));
        assert_ne!(community_id(0, 6, a, b, None), community_id(1, 6, a, b, None));
        // Equal addresses: the ports order the pair.
        let (c, d) = ((ip("10.0.0.1"), 80), (ip("10.0.0.1"), 5000));
        assert_eq!(community_id(0, 17, c, d, None), community_id(0, 17, d, c, None));
        // ICMP: the ports of the flow do not matter, the type does.
        assert_eq!(
            community_id(0, 1, a, b, Some(8)),
            community_id(0, 1, (a.0, 1), (b.0, 2), Some(8))
        );
        assert_ne!(community_id(0, 1, a, b, Some(8)), community_id(0, 1, a, b, Some(13)));
    }

    #[test]
    fn an_echo_and_its_reply_hash_alike() {
        let (a, b) = ((ip("10.0.0.1"), 0), (ip("10.0.0.2"), 0));
        assert_eq!(community_id(0, 1, a, b, Some(8)), community_id(0, 1, b, a, Some(0)));
        assert_eq!(community_id(0, 58, a, b, Some(128)), community_id(0, 58, b, a, Some(129)));
    }
}
