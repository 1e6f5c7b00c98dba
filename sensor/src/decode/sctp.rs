//! SCTP (RFC 9260): the common header's ports, so that SCTP packets make flows and
//! rules can name their ports; the chunks are the payload.

use super::DecodeError;

#[derive(Debug, Clone, Copy)]
pub struct SctpRepr<'a> {
    pub sport: u16,
    pub dport: u16,
    /// The 12-byte common header.
    pub header: &'a [u8],
    /// The chunks.
    pub payload: &'a [u8],
}

pub fn decode(data: &[u8]) -> Result<SctpRepr<'_>, DecodeError> {
    if data.len() < 12 {
        return Err(DecodeError::SctpTooSmall);
    }
    Ok(SctpRepr {
        sport: u16::from_be_bytes([data[0], data[1]]),
        dport: u16::from_be_bytes([data[2], data[3]]),
        header: &data[..12],
        payload: &data[12..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_a_short_header() {
        let d = [0, 7, 0, 9, 1, 2, 3, 4, 0, 0, 0, 0, 1, 0, 0, 4];
        let s = decode(&d).unwrap();
        assert_eq!((s.sport, s.dport, s.payload.len()), (7, 9, 4));
        assert_eq!(decode(&d[..11]).unwrap_err(), DecodeError::SctpTooSmall);
    }
}
