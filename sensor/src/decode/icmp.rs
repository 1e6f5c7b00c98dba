//! ICMPv4 and ICMPv6.

use std::net::IpAddr;

use super::DecodeError;

#[derive(Debug, Clone, Copy)]
pub struct IcmpRepr<'a> {
    pub v6: bool,
    pub itype: u8,
    pub icode: u8,
    /// Echo request/reply identifier and sequence.
    pub echo: Option<(u16, u16)>,
    /// The header before `payload` (`icmpv4.hdr`, `icmpv6.hdr`).
    pub header: &'a [u8],
    pub payload: &'a [u8],
}

/// A connection an ICMP error quotes: (protocol, source, destination).
pub type Quoted = (u8, (IpAddr, u16), (IpAddr, u16));

/// The connection an ICMPv4 destination-unreachable message reports on: (protocol,
/// source, destination) of the packet it quotes, when that is an IPv4 TCP or UDP
/// packet quoted far enough to hold its header (20 bytes of TCP, 8 of UDP), as
/// Suricata requires to count the error in that connection's flow.
pub fn quoted_connection(icmp: &IcmpRepr<'_>) -> Option<Quoted> {
    if icmp.v6 || icmp.itype != 3 {
        return None;
    }
    let ip = icmp.payload;
    if ip.len() < 20 || ip[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let proto = ip[9];
    let need = match proto {
        6 => 20,
        17 => 8,
        _ => return None,
    };
    if ihl < 20 || ip.len() < ihl + need {
        return None;
    }
    let addr = |at: usize| IpAddr::from([ip[at], ip[at + 1], ip[at + 2], ip[at + 3]]);
    let port = |at: usize| u16::from_be_bytes([ip[at], ip[at + 1]]);
    Some((proto, (addr(12), port(ihl)), (addr(16), port(ihl + 2))))
}

/// An ICMPv4 error message (destination unreachable, source quench, redirect, time
/// exceeded, parameter problem): it quotes a packet rather than starting a flow.
pub fn is_v4_error(icmp: &IcmpRepr<'_>) -> bool {
    !icmp.v6 && matches!(icmp.itype, 3 | 4 | 5 | 11 | 12)
}

pub fn decode(data: &[u8], v6: bool) -> Result<IcmpRepr<'_>, DecodeError> {
    if data.len() < 4 {
        return Err(DecodeError::IcmpTooSmall);
    }
    let (itype, icode) = (data[0], data[1]);
    let is_echo =
        if v6 { matches!(itype, 128 | 129) } else { matches!(itype, 0 | 8 | 13 | 14 | 15 | 16) };
    let echo = if is_echo {
        if data.len() < 8 {
            return Err(DecodeError::IcmpTooSmall);
        }
        Some((u16::from_be_bytes([data[4], data[5]]), u16::from_be_bytes([data[6], data[7]])))
    } else {
        None
    };
    let at = if data.len() >= 8 { 8 } else { 4 };
    let header_len = if v6 { at } else { v4_header_len(itype, data).unwrap_or(at) };
    Ok(IcmpRepr { v6, itype, icode, echo, header: &data[..header_len], payload: &data[at..] })
}

/// The ICMPv4 header as Suricata bounds `icmpv4.hdr`: 8 bytes, plus the timestamps of a
/// timestamp message and the addresses of a router advertisement when they are all
/// there (`None` when they are not).
fn v4_header_len(itype: u8, data: &[u8]) -> Option<usize> {
    let extra = match itype {
        13 | 14 => 12,
        // Number of addresses times their size in 32-bit words.
        9 => usize::from(*data.get(4)?) * usize::from(*data.get(5)?) * 4,
        _ => 0,
    };
    (data.len() >= 8 + extra).then_some(8 + extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_connection_of_destination_unreachable() {
        let mut ip = vec![0x45, 0, 0, 48, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        ip.extend_from_slice(&[0x13, 0x88, 0, 53, 0, 8, 0, 0]);
        let error = |itype: u8, quoted: &[u8]| {
            let mut m = vec![itype, 3, 0, 0, 0, 0, 0, 0];
            m.extend_from_slice(quoted);
            m
        };
        let m = error(3, &ip);
        let q = quoted_connection(&decode(&m, false).unwrap()).unwrap();
        assert_eq!(q, (17, ("10.0.0.1".parse().unwrap(), 5000), ("10.0.0.2".parse().unwrap(), 53)));
        // Time exceeded is not attached; 8 bytes of TCP are too few (Suricata wants 20).
        assert!(quoted_connection(&decode(&error(11, &ip), false).unwrap()).is_none());
        assert!(is_v4_error(&decode(&error(11, &ip), false).unwrap()));
        ip[9] = 6;
        assert!(quoted_connection(&decode(&error(3, &ip), false).unwrap()).is_none());
        ip.extend_from_slice(&[0; 12]);
        assert!(quoted_connection(&decode(&error(3, &ip), false).unwrap()).is_some());
        // A quoted header cut short, an IPv6 message.
        assert!(quoted_connection(&decode(&error(3, &ip[..12]), false).unwrap()).is_none());
        assert!(quoted_connection(&decode(&error(3, &ip), true).unwrap()).is_none());
    }

    #[test]
    fn echo() {
        let i = decode(&[8, 0, 0, 0, 0, 7, 0, 1, b'x'], false).unwrap();
        assert_eq!((i.itype, i.echo, i.payload), (8, Some((7, 1)), &b"x"[..]));
        assert!(decode(&[8, 0, 0, 0, 0], false).is_err());
        assert!(decode(&[3, 3, 0, 0], false).unwrap().echo.is_none());
        assert_eq!(decode(&[128, 0, 0, 0, 0, 1, 0, 2], true).unwrap().echo, Some((1, 2)));
    }

    #[test]
    fn v4_header_takes_router_addresses_and_timestamps() {
        // A router advertisement of one address of two words.
        let ra = [9, 0, 0, 0, 1, 2, 0, 10, 1, 2, 3, 4, 0, 0, 0, 0, 0xee];
        let i = decode(&ra, false).unwrap();
        assert_eq!((i.header.len(), i.payload.len()), (16, 9));
        // Addresses cut short: the fixed 8 bytes only.
        assert_eq!(decode(&ra[..12], false).unwrap().header.len(), 8);
        let ts = [13u8; 20];
        assert_eq!(decode(&ts, false).unwrap().header.len(), 20);
        assert_eq!(decode(&ts[..19], false).unwrap().header.len(), 8);
    }
}
