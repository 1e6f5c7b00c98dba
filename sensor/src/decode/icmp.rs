//! ICMPv4 and ICMPv6.

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
