use super::*;

#[test]
fn varints_of_each_length() {
    // RFC 9000 §A.1 examples.
    for (bytes, v) in [
        (&[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c][..], 151_288_809_941_952_652u64),
        (&[0x9d, 0x7f, 0x3e, 0x7d][..], 494_878_333),
        (&[0x7b, 0xbd][..], 15_293),
        (&[0x25][..], 37),
    ] {
        let mut at = 0;
        assert_eq!(varint(bytes, &mut at), Some(v));
        assert_eq!(at, bytes.len());
    }
    assert_eq!(varint(&[0x40], &mut 0), None);
}

#[test]
fn crypto_frames_are_put_back_in_order() {
    let mut s = CryptoStream::default();
    // CRYPTO at offset 4 ("efgh"), PADDING, CRYPTO at 0 ("abcdef"), PING.
    let frames =
        [&[0x06, 0x04, 0x04][..], b"efgh", &[0x00, 0x00, 0x06, 0x00, 0x06], b"abcdef", &[0x01]]
            .concat();
    assert!(read_frames(&frames, &mut s));
    assert_eq!(s.contiguous(), b"abcdefgh");
    // An unknown frame type in an Initial packet: not readable.
    assert!(!read_frames(&[0x08, 0x00], &mut CryptoStream::default()));
}

/// A client Initial protected with RFC 9001's keys for the DCID of its Appendix A is
/// opened again, its header read; a changed byte fails authentication.
#[test]
fn rfc9001_client_initial_is_opened() {
    let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
    let keys = InitialKeys::new(1, &dcid, true).unwrap();
    // A packet sealed with the same keys round-trips through `open`; a changed byte
    // fails authentication.
    let (packet, pn_offset) = sealed_initial(&dcid, b"\x06\x00\x04\x01\x00\x00\x00");
    let plain = keys.open(&packet, pn_offset).unwrap();
    assert!(plain.starts_with(b"\x06\x00\x04\x01\x00\x00\x00"));
    let mut bad = packet.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(keys.open(&bad, pn_offset).is_none());
    let h = long_header(&packet).unwrap();
    assert_eq!((h.version, h.kind, h.dcid, h.end), (1, 0, &dcid[..], packet.len()));
    assert!(probe(&packet));
}

/// Protects `frames` (padded to 1162 bytes) as a client Initial with packet number 2,
/// as RFC 9001 §5 describes.
fn sealed_initial(dcid: &[u8], frames: &[u8]) -> (Vec<u8>, usize) {
    use ring::aead::{quic as hp, Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
    let (salt, _) = crypto::version_params(1).unwrap();
    let initial = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, salt).extract(dcid);
    let label = |prk: &ring::hkdf::Prk, l: &str, n: usize| {
        let mut out = vec![0u8; n];
        crypto::expand_label(prk, l, &mut out).unwrap();
        out
    };
    let secret = label(&initial, "client in", 32);
    let prk = ring::hkdf::Prk::new_less_safe(ring::hkdf::HKDF_SHA256, &secret);
    let (key, iv, hpk) =
        (label(&prk, "quic key", 16), label(&prk, "quic iv", 12), label(&prk, "quic hp", 16));
    let mut payload = frames.to_vec();
    payload.resize(1162, 0);
    let pn: u8 = 2;
    let mut header = vec![0xc0, 0, 0, 0, 1, dcid.len() as u8];
    header.extend_from_slice(dcid);
    header.extend_from_slice(&[0, 0]); // no source id, no token
    let len = (1 + payload.len() + 16) as u16 | 0x4000;
    header.extend_from_slice(&len.to_be_bytes());
    let pn_offset = header.len();
    header.push(pn);
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&iv);
    nonce[11] ^= pn;
    let k = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &key).unwrap());
    k.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(&header),
        &mut payload,
    )
    .unwrap();
    let mut packet = header;
    packet.extend_from_slice(&payload);
    let mask = hp::HeaderProtectionKey::new(&hp::AES_128, &hpk)
        .unwrap()
        .new_mask(&packet[pn_offset + 4..pn_offset + 20])
        .unwrap();
    packet[0] ^= mask[0] & 0x0f;
    packet[pn_offset] ^= mask[1];
    (packet, pn_offset)
}
