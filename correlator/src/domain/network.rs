//! Networks and addresses: `10.0.0.0/8`, `10.1.2.3`, `2001:db8::/32`, and whether an
//! address is in one. Used by the asset inventory, suppressions and allowlists.

use std::net::IpAddr;

/// A network: address bits and prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Prefix {
    pub(crate) v6: bool,
    pub(crate) bits: u128,
    pub(crate) len: u8,
}

/// The address as bits, and whether it is IPv6 (IPv4-mapped IPv6 counts as IPv4).
pub(crate) fn to_bits(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(v) => (false, u32::from(v) as u128),
        IpAddr::V6(v) => match v.to_ipv4_mapped() {
            Some(v4) => (false, u32::from(v4) as u128),
            None => (true, u128::from(v)),
        },
    }
}

/// `bits` with only the first `len` bits kept.
pub(crate) fn mask(v6: bool, bits: u128, len: u8) -> u128 {
    let width = if v6 { 128 } else { 32 };
    if len == 0 {
        0
    } else {
        bits & (u128::MAX << (width - len as u32)) & if v6 { u128::MAX } else { u32::MAX as u128 }
    }
}

/// Why a network does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// Not an IPv4 or IPv6 address (before any `/`).
    #[error("`{0}` is not an address or network")]
    NotAnAddress(String),
    /// The prefix length is not a number up to the address width.
    #[error("`{text}`: prefix length must be 0–{width}")]
    PrefixLength {
        /// The network as written.
        text: String,
        /// 32 or 128.
        width: u8,
    },
}

/// Parses `10.0.0.0/8`, `10.1.2.3` or `2001:db8::/32`.
pub(crate) fn parse_prefix(s: &str) -> Result<Prefix, NetworkError> {
    let s = s.trim();
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| NetworkError::NotAnAddress(s.to_string()))?;
    let (v6, bits) = to_bits(ip);
    let width = if v6 { 128 } else { 32 };
    let len = match len {
        None => width,
        Some(l) => l
            .parse::<u8>()
            .ok()
            .filter(|l| *l <= width)
            .ok_or_else(|| NetworkError::PrefixLength { text: s.to_string(), width })?,
    };
    Ok(Prefix { v6, bits: mask(v6, bits, len), len })
}

/// A network (or one address) that addresses can be tested against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network(Prefix);

impl Network {
    /// `10.0.0.0/8`, `10.1.2.3`, `2001:db8::/32`.
    pub fn parse(s: &str) -> Result<Network, NetworkError> {
        parse_prefix(s).map(Network)
    }

    /// Whether `ip` is in the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (v6, bits) = to_bits(ip);
        v6 == self.0.v6 && mask(v6, bits, self.0.len) == self.0.bits
    }
}
