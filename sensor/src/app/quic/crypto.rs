//! QUIC Initial packet protection (RFC 9001 §5, RFC 9369 for version 2): keys derived
//! from the client's first Destination Connection ID, header protection removed with
//! AES-128, the payload opened with AES-128-GCM. Anyone on the path can do this by
//! design: Initial packets are protected against tampering, not against reading.

use ring::aead::{self, quic as hp, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf;

/// The versions whose Initial packets are read, with their salt and label prefix.
pub(super) fn version_params(version: u32) -> Option<(&'static [u8; 20], &'static str)> {
    const V1: [u8; 20] = [
        0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c,
        0xad, 0xcc, 0xbb, 0x7f, 0x0a,
    ];
    const V2: [u8; 20] = [
        0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d,
        0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
    ];
    const DRAFT29: [u8; 20] = [
        0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11,
        0xe0, 0x43, 0x90, 0xa8, 0x99,
    ];
    match version {
        1 => Some((&V1, "quic")),
        VERSION_2 => Some((&V2, "quicv2")),
        0xff00_001d..=0xff00_0020 => Some((&DRAFT29, "quic")),
        _ => None,
    }
}

pub(crate) const VERSION_2: u32 = 0x6b33_43cf;

/// Is `version` one whose Initial packets can be read?
pub fn known(version: u32) -> bool {
    version_params(version).is_some()
}

/// A length for ring's HKDF output.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.
pub(super) fn expand_label(prk: &hkdf::Prk, label: &str, out: &mut [u8]) -> Option<()> {
    let full = format!("tls13 {label}");
    let len = (out.len() as u16).to_be_bytes();
    let info = [&len[..], &[full.len() as u8], full.as_bytes(), &[0u8]];
    prk.expand(&info, Len(out.len())).ok()?.fill(out).ok()
}

/// The keys protecting one direction's Initial packets.
pub struct InitialKeys {
    key: LessSafeKey,
    iv: [u8; 12],
    hp: hp::HeaderProtectionKey,
}

impl std::fmt::Debug for InitialKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InitialKeys")
    }
}

impl InitialKeys {
    /// The client's (`client`) or server's keys for a connection whose client first
    /// sent Destination Connection ID `dcid`.
    pub fn new(version: u32, dcid: &[u8], client: bool) -> Option<InitialKeys> {
        let (salt, prefix) = version_params(version)?;
        let initial = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(dcid);
        let mut secret = [0u8; 32];
        expand_label(&initial, if client { "client in" } else { "server in" }, &mut secret)?;
        let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &secret);
        let (mut key, mut iv, mut hpk) = ([0u8; 16], [0u8; 12], [0u8; 16]);
        expand_label(&prk, &format!("{prefix} key"), &mut key)?;
        expand_label(&prk, &format!("{prefix} iv"), &mut iv)?;
        expand_label(&prk, &format!("{prefix} hp"), &mut hpk)?;
        Some(InitialKeys {
            key: LessSafeKey::new(UnboundKey::new(&aead::AES_128_GCM, &key).ok()?),
            iv,
            hp: hp::HeaderProtectionKey::new(&hp::AES_128, &hpk).ok()?,
        })
    }

    /// Opens one long-header packet: `packet` is the whole packet (header, packet
    /// number, payload with tag, as its Length says) and `pn_offset` where the packet
    /// number starts. Returns the payload's plaintext frames.
    pub fn open(&self, packet: &[u8], pn_offset: usize) -> Option<Vec<u8>> {
        let sample = packet.get(pn_offset + 4..pn_offset + 20)?;
        let mask = self.hp.new_mask(sample).ok()?;
        let mut buf = packet.to_vec();
        buf[0] ^= mask[0] & 0x0f;
        let pn_len = (buf[0] & 0x03) as usize + 1;
        let mut pn = 0u64;
        for i in 0..pn_len {
            buf[pn_offset + i] ^= mask[1 + i];
            pn = (pn << 8) | buf[pn_offset + i] as u64;
        }
        let mut nonce = self.iv;
        for (i, b) in pn.to_be_bytes().iter().enumerate() {
            nonce[4 + i] ^= b;
        }
        let (header, payload) = buf.split_at_mut(pn_offset + pn_len);
        let plain = self
            .key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(&*header), payload)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9001 Appendix A: the client's keys for DCID 0x8394c8f03e515708.
    #[test]
    fn rfc9001_client_initial_keys() {
        let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
        let (salt, _) = version_params(1).unwrap();
        let initial = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(&dcid);
        let mut secret = [0u8; 32];
        expand_label(&initial, "client in", &mut secret).unwrap();
        let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &secret);
        let mut iv = [0u8; 12];
        expand_label(&prk, "quic iv", &mut iv).unwrap();
        assert_eq!(crate::app::tls::hex(&iv), "fa044b2f42a3fd3b46fb255c");
        let mut hpk = [0u8; 16];
        expand_label(&prk, "quic hp", &mut hpk).unwrap();
        assert_eq!(crate::app::tls::hex(&hpk), "9f50449e04a0e810283a1e9933adedd2");
        assert!(InitialKeys::new(1, &dcid, true).is_some());
        assert!(InitialKeys::new(0x1234, &dcid, true).is_none());
    }
}
