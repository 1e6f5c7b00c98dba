//! UDP.

use super::DecodeError;

#[derive(Debug, Clone, Copy)]
pub struct UdpRepr<'a> {
    pub sport: u16,
    pub dport: u16,
    pub checksum: u16,
    /// Header and payload, as long as the UDP length says.
    pub datagram: &'a [u8],
    pub payload: &'a [u8],
}

pub fn decode(data: &[u8]) -> Result<UdpRepr<'_>, DecodeError> {
    // Suricata's order and names: a header that does not fit, a datagram longer than
    // the IP payload, then a length field shorter than the header.
    if data.len() < 8 {
        return Err(DecodeError::UdpHlenTooSmall);
    }
    let len = u16::from_be_bytes([data[4], data[5]]) as usize;
    // Length 0 is allowed for jumbograms; otherwise it must fit the IP payload.
    let len = if len == 0 { data.len() } else { len };
    if len > data.len() {
        return Err(DecodeError::UdpTooSmall);
    }
    if len < 8 {
        return Err(DecodeError::UdpLenInvalid);
    }
    Ok(UdpRepr {
        sport: u16::from_be_bytes([data[0], data[1]]),
        dport: u16::from_be_bytes([data[2], data[3]]),
        checksum: u16::from_be_bytes([data[6], data[7]]),
        datagram: &data[..len],
        payload: &data[8..len],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        let d = [0, 53, 0x30, 0x39, 0, 10, 0, 0, b'a', b'b', 0xee];
        let u = decode(&d).unwrap();
        assert_eq!((u.sport, u.dport, u.payload), (53, 12345, &b"ab"[..]));
        assert_eq!(decode(&[0, 53, 0, 53, 0, 40, 0, 0]).unwrap_err(), DecodeError::UdpTooSmall);
        assert_eq!(decode(&[0, 53, 0, 53, 0, 4, 0, 0]).unwrap_err(), DecodeError::UdpLenInvalid);
        assert_eq!(decode(&[0; 7]).unwrap_err(), DecodeError::UdpHlenTooSmall);
    }
}
