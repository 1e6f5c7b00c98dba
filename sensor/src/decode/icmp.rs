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
    Ok(IcmpRepr { v6, itype, icode, echo, header: &data[..at], payload: &data[at..] })
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
}
