//! TCP header and options.

use super::DecodeError;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// A view over a TCP segment whose header length and options were validated.
#[derive(Debug, Clone, Copy)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    pub fn new_checked(buffer: T) -> Result<Self, DecodeError> {
        let b = buffer.as_ref();
        if b.len() < 20 {
            return Err(DecodeError::TcpTooSmall);
        }
        let hlen = ((b[12] >> 4) as usize) * 4;
        if hlen < 20 {
            return Err(DecodeError::TcpHlenTooSmall);
        }
        if b.len() < hlen {
            return Err(DecodeError::TcpTooSmall);
        }
        let p = TcpPacket { buffer };
        p.check_options()?;
        Ok(p)
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn sport(&self) -> u16 {
        u16::from_be_bytes([self.b()[0], self.b()[1]])
    }
    pub fn dport(&self) -> u16 {
        u16::from_be_bytes([self.b()[2], self.b()[3]])
    }
    pub fn seq(&self) -> u32 {
        let b = self.b();
        u32::from_be_bytes([b[4], b[5], b[6], b[7]])
    }
    pub fn ack(&self) -> u32 {
        let b = self.b();
        u32::from_be_bytes([b[8], b[9], b[10], b[11]])
    }
    pub fn header_len(&self) -> usize {
        ((self.b()[12] >> 4) as usize) * 4
    }
    pub fn flags(&self) -> u8 {
        self.b()[13]
    }
    pub fn window(&self) -> u16 {
        u16::from_be_bytes([self.b()[14], self.b()[15]])
    }

    fn check_options(&self) -> Result<(), DecodeError> {
        let opts = &self.b()[20..self.header_len()];
        super::check_tlv_options(opts, DecodeError::TcpOptionInvalidLength)
    }
}

/// What the pipeline acts on.
#[derive(Debug, Clone, Copy)]
pub struct TcpRepr<'a> {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    /// The header, options included (`tcp.hdr`).
    pub header: &'a [u8],
    pub payload: &'a [u8],
}

pub fn decode(data: &[u8]) -> Result<TcpRepr<'_>, DecodeError> {
    let p = TcpPacket::new_checked(data)?;
    Ok(TcpRepr {
        sport: p.sport(),
        dport: p.dport(),
        seq: p.seq(),
        ack: p.ack(),
        flags: p.flags(),
        window: p.window(),
        header: &data[..p.header_len()],
        payload: &data[p.header_len()..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_options() {
        let mut s =
            vec![0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, SYN, 0xff, 0xff, 0, 0, 0, 0];
        s.extend_from_slice(&[2, 4, 0x05, 0xb4]); // MSS
        s.extend_from_slice(b"hi");
        let t = decode(&s).unwrap();
        assert_eq!((t.sport, t.dport, t.flags, t.payload), (1234, 80, SYN, &b"hi"[..]));
        s[21] = 9; // MSS option claims 9 bytes
        assert_eq!(decode(&s).unwrap_err(), DecodeError::TcpOptionInvalidLength);
        assert_eq!(decode(&s[..19]).unwrap_err(), DecodeError::TcpTooSmall);
        let mut bad = s.clone();
        bad[12] = 0x40;
        assert_eq!(decode(&bad).unwrap_err(), DecodeError::TcpHlenTooSmall);
    }
}
