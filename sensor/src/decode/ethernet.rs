//! Ethernet II with 802.1Q / 802.1ad (QinQ) tags.

use super::DecodeError;

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const ETHERTYPE_VLAN: u16 = 0x8100;
pub const ETHERTYPE_QINQ: u16 = 0x88a8;
pub const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

mod field {
    use std::ops::Range;
    pub const ETHERTYPE: Range<usize> = 12..14;
    pub const PAYLOAD: usize = 14;
}

/// A view over an Ethernet II frame.
#[derive(Debug, Clone, Copy)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    pub fn new_checked(buffer: T) -> Result<Self, DecodeError> {
        if buffer.as_ref().len() < field::PAYLOAD {
            return Err(DecodeError::EthernetTooSmall);
        }
        Ok(EthernetFrame { buffer })
    }

    pub fn ethertype(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::ETHERTYPE];
        u16::from_be_bytes([b[0], b[1]])
    }
}

impl<'a> EthernetFrame<&'a [u8]> {
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer[field::PAYLOAD..]
    }
}

/// Removes up to three VLAN tags (as Suricata); returns the inner ethertype, the VLAN ids and the rest.
pub fn strip_vlans(
    mut ethertype: u16,
    mut rest: &[u8],
) -> Result<(u16, [u16; 3], &[u8]), DecodeError> {
    let mut vlan = [0u16; 3];
    let mut n = 0;
    while matches!(ethertype, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) {
        if n == 3 {
            return Err(DecodeError::VlanTooManyLayers);
        }
        if rest.len() < 4 {
            return Err(DecodeError::VlanTooSmall);
        }
        vlan[n] = u16::from_be_bytes([rest[0], rest[1]]) & 0x0fff;
        ethertype = u16::from_be_bytes([rest[2], rest[3]]);
        rest = &rest[4..];
        n += 1;
    }
    Ok((ethertype, vlan, rest))
}

/// Ethernet, then VLAN tags.
pub fn decode(data: &[u8]) -> Result<(u16, [u16; 3], &[u8]), DecodeError> {
    let f = EthernetFrame::new_checked(data)?;
    strip_vlans(f.ethertype(), f.payload())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qinq() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x06, 0x08, 0x00, 0x45]);
        let (et, vlan, rest) = decode(&f).unwrap();
        assert_eq!((et, vlan, rest), (ETHERTYPE_IPV4, [100, 6, 0], &[0x45u8][..]));
    }

    #[test]
    fn too_many_and_too_small() {
        // Three layers are decoded, as Suricata; a fourth is too many.
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0, 0, 1, 0x81, 0, 0, 2, 0x81, 0, 0, 3, 0x08, 0]);
        assert_eq!(decode(&f).unwrap(), (0x0800, [1, 2, 3], &[][..]));
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0, 0, 1, 0x81, 0, 0, 2, 0x81, 0, 0, 3, 0x81, 0, 0, 4]);
        f.extend_from_slice(&[0x08, 0]);
        assert_eq!(decode(&f).unwrap_err(), DecodeError::VlanTooManyLayers);
        assert_eq!(decode(&[0; 13]).unwrap_err(), DecodeError::EthernetTooSmall);
        let mut g = vec![0u8; 12];
        g.extend_from_slice(&[0x81, 0, 0]);
        assert_eq!(decode(&g).unwrap_err(), DecodeError::VlanTooSmall);
    }
}
