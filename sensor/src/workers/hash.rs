//! Which worker a frame goes to: a keyed hash of its flow, the same for both
//! directions.
//!
//! The dispatcher hashes every frame on the one thread that feeds all workers, so the
//! hash must cost little: a folded multiply per endpoint (the construction of
//! `foldhash` and `ahash`'s fallback), with keys drawn at start from the process's
//! random source as `HashMap`'s are. Nobody on the wire knows the keys, so nobody can
//! choose flows that all land on one worker. The two endpoints are added, which makes
//! the hash symmetric without ordering them first.

use std::hash::BuildHasher;
use std::net::IpAddr;

use super::fragments::DatagramKey;
use crate::capture::Frame;
use crate::decode::{self, Decoded};

/// A keyed, symmetric hash of flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowHasher {
    key: [u64; 3],
}

impl Default for FlowHasher {
    fn default() -> Self {
        FlowHasher::new()
    }
}

impl FlowHasher {
    /// A hasher with fresh random keys.
    pub fn new() -> Self {
        let s = std::hash::RandomState::new();
        FlowHasher::with_key([s.hash_one(1u64), s.hash_one(2u64), s.hash_one(3u64)])
    }

    /// A hasher with the given keys (the same keys give the same hashes).
    pub fn with_key(key: [u64; 3]) -> Self {
        FlowHasher { key }
    }

    /// Both 64-bit halves of the 128-bit product, folded: every input bit reaches
    /// every output bit.
    fn fold(a: u64, b: u64) -> u64 {
        let p = u128::from(a).wrapping_mul(u128::from(b));
        (p as u64) ^ ((p >> 64) as u64)
    }

    fn endpoint(&self, ip: IpAddr, port: u16) -> u64 {
        let [k0, k1, _] = self.key;
        let (hi, lo) = match ip {
            IpAddr::V4(a) => (0, u64::from(u32::from(a))),
            IpAddr::V6(a) => {
                let v = u128::from(a);
                ((v >> 64) as u64, v as u64)
            }
        };
        let lo = Self::fold(lo ^ k0, u64::from(port) ^ k1);
        if hi == 0 {
            lo
        } else {
            Self::fold(hi ^ k1, lo ^ k0)
        }
    }

    /// The hash of a flow between two endpoints: `flow(a, b, ..) == flow(b, a, ..)`.
    /// `proto` is left out (`None`) for a later fragment, which does not know its
    /// transport header.
    pub fn flow(&self, a: (IpAddr, u16), b: (IpAddr, u16), proto: Option<u8>, vlan: u16) -> u64 {
        let ends = self.endpoint(a.0, a.1).wrapping_add(self.endpoint(b.0, b.1));
        let rest = (u64::from(proto.map_or(0, |p| u16::from(p) + 1)) << 16) | u64::from(vlan);
        Self::fold(ends ^ self.key[2], rest ^ self.key[0])
    }
}

/// Where the dispatcher sends a frame.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// By this hash of its flow.
    Flow(u64),
    /// The first fragment of a datagram: by its flow's hash (it has the ports).
    FirstFragment(u64, DatagramKey),
    /// A later fragment: where its first went; the hash of its addresses when that
    /// never comes.
    LaterFragment(u64, DatagramKey),
}

pub(super) fn flow_target(hasher: &FlowHasher, frame: &Frame<'_>) -> Target {
    let Ok((_, Decoded::Ip(l3))) = decode::decode_l3(frame.link, frame.data) else {
        return Target::Flow(0);
    };
    let first_part = l3.fragment.is_none_or(|f| f.offset == 0);
    let ports = match l3.proto {
        // The ports the flow table keys on (TCP and UDP; other protocols by addresses).
        6 | 17 if first_part && l3.payload.len() >= 4 => Some((
            u16::from_be_bytes([l3.payload[0], l3.payload[1]]),
            u16::from_be_bytes([l3.payload[2], l3.payload[3]]),
        )),
        _ => None,
    };
    let a = (l3.src, ports.map_or(0, |p| p.0));
    let b = (l3.dst, ports.map_or(0, |p| p.1));
    let hash = hasher.flow(a, b, first_part.then_some(l3.proto), l3.vlan[0]);
    match l3.fragment {
        None => Target::Flow(hash),
        Some(f) => {
            let key = DatagramKey {
                src: l3.src,
                dst: l3.dst,
                id: f.id,
                proto: l3.proto,
                vlan: l3.vlan[0],
            };
            if f.offset == 0 {
                Target::FirstFragment(hash, key)
            } else {
                Target::LaterFragment(hash, key)
            }
        }
    }
}

/// A hash of the frame's flow that is the same for both directions. A datagram's
/// first fragment hashes as its flow; later fragments (no ports) and non-IP frames
/// hash by what they have (addresses, or nothing); the dispatcher sends later
/// fragments after their first.
pub fn flow_hash(hasher: &FlowHasher, frame: &Frame<'_>) -> u64 {
    match flow_target(hasher, frame) {
        Target::Flow(h) | Target::FirstFragment(h, _) | Target::LaterFragment(h, _) => h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(bytes: [u8; 16], v6: bool) -> IpAddr {
        if v6 {
            IpAddr::from(bytes)
        } else {
            IpAddr::from([bytes[0], bytes[1], bytes[2], bytes[3]])
        }
    }

    proptest! {
        #[test]
        fn a_flow_hashes_alike_both_ways(
            key in any::<[u64; 3]>(), a in any::<[u8; 16]>(), b in any::<[u8; 16]>(),
            v6 in any::<bool>(), pa in any::<u16>(), pb in any::<u16>(),
            proto in any::<Option<u8>>(), vlan in any::<u16>(),
        ) {
            let h = FlowHasher::with_key(key);
            let (a, b) = ((ip(a, v6), pa), (ip(b, v6), pb));
            prop_assert_eq!(h.flow(a, b, proto, vlan), h.flow(b, a, proto, vlan));
        }
    }

    #[test]
    fn what_tells_flows_apart_changes_the_hash() {
        let h = FlowHasher::new();
        let a = ("10.0.0.1".parse().unwrap(), 40_000);
        let b = ("10.0.0.2".parse().unwrap(), 80);
        let base = h.flow(a, b, Some(6), 0);
        let others = [
            h.flow((a.0, 40_001), b, Some(6), 0),
            h.flow(a, ("10.0.0.3".parse().unwrap(), 80), Some(6), 0),
            h.flow(a, b, Some(17), 0),
            h.flow(a, b, None, 0),
            h.flow(a, b, Some(6), 7),
            h.flow(("::ffff:10.0.0.1".parse().unwrap(), 40_000), b, Some(6), 0),
        ];
        assert!(others.iter().all(|o| *o != base), "{base:x} {others:x?}");
    }

    /// Sequential client ports from one address, two workers and four: every worker
    /// gets a fair share (what a scan or a busy NAT address looks like).
    #[test]
    fn sequential_ports_spread_over_workers() {
        let h = FlowHasher::new();
        let server = ("203.0.113.5".parse().unwrap(), 443);
        for workers in [2u64, 4] {
            let mut per = vec![0u32; workers as usize];
            for port in 30_000..34_096u16 {
                let client = ("192.168.1.20".parse().unwrap(), port);
                per[(h.flow(client, server, Some(6), 0) % workers) as usize] += 1;
            }
            let fair = 4096 / workers as u32;
            assert!(per.iter().all(|n| n.abs_diff(fair) < fair / 8), "{workers}: {per:?}");
        }
    }

    #[test]
    fn keys_differ_between_hashers() {
        assert_ne!(FlowHasher::new(), FlowHasher::new());
    }
}
