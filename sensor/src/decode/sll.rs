//! Linux "cooked" captures (SLL, SLL2) and BSD loopback (NULL / LOOP).

use super::ethernet::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use super::DecodeError;

/// SLL: 16-byte header, protocol at bytes 14..16.
pub fn decode_sll(data: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    if data.len() < 16 {
        return Err(DecodeError::SllTooSmall);
    }
    Ok((u16::from_be_bytes([data[14], data[15]]), &data[16..]))
}

/// SLL2: 20-byte header, protocol at bytes 0..2.
pub fn decode_sll2(data: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    if data.len() < 20 {
        return Err(DecodeError::SllTooSmall);
    }
    Ok((u16::from_be_bytes([data[0], data[1]]), &data[20..]))
}

/// NULL: a 4-byte address family in host byte order of the capturing machine (LOOP:
/// network byte order). IPv6 has several values across BSDs.
pub fn decode_null(data: &[u8], network_order: bool) -> Result<(u16, &[u8]), DecodeError> {
    if data.len() < 4 {
        return Err(DecodeError::NullTooSmall);
    }
    let raw = [data[0], data[1], data[2], data[3]];
    let fam = if network_order {
        u32::from_be_bytes(raw)
    } else {
        // Byte order unknown: the family is small, so whichever reading is small is right.
        let le = u32::from_le_bytes(raw);
        if le < 0x10000 {
            le
        } else {
            u32::from_be_bytes(raw)
        }
    };
    let et = match fam {
        2 => ETHERTYPE_IPV4,
        24 | 28 | 30 => ETHERTYPE_IPV6,
        other => other as u16,
    };
    Ok((et, &data[4..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_both_orders() {
        assert_eq!(decode_null(&[2, 0, 0, 0, 0x45], false).unwrap().0, ETHERTYPE_IPV4);
        assert_eq!(decode_null(&[0, 0, 0, 30, 0x60], false).unwrap().0, ETHERTYPE_IPV6);
        assert_eq!(decode_null(&[0, 0, 0, 2], true).unwrap().0, ETHERTYPE_IPV4);
        assert!(decode_null(&[2, 0], false).is_err());
    }

    #[test]
    fn sll_variants() {
        let mut s = vec![0u8; 14];
        s.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(decode_sll(&s).unwrap(), (ETHERTYPE_IPV4, &[0x45u8][..]));
        let mut s2 = vec![0x86, 0xdd];
        s2.extend_from_slice(&[0u8; 18]);
        assert_eq!(decode_sll2(&s2).unwrap().0, ETHERTYPE_IPV6);
        assert!(decode_sll2(&s2[..10]).is_err());
    }
}
