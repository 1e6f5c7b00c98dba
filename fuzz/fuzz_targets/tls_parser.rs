//! Any bytes as one direction of a TLS stream, fed in pieces: records, handshake
//! assembly, ClientHello/ServerHello/Certificate parsing and the fingerprints.
#![no_main]
use gatewatch_sensor::app::tls::{
    parse_certificates, parse_client_hello, parse_server_hello, HandshakeAssembler, HS_CERTIFICATE,
    HS_CLIENT_HELLO, HS_SERVER_HELLO, MAX_HANDSHAKE,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, stream)) = data.split_first() else { return };
    let step = (step as usize).max(1);
    let mut asm = HandshakeAssembler::default();
    for chunk in stream.chunks(step) {
        asm.feed(chunk, |t, body| {
            assert!(body.len() <= MAX_HANDSHAKE);
            match t {
                HS_CLIENT_HELLO => {
                    if let Ok(ch) = parse_client_hello(body) {
                        let _ = (ch.sni(), ch.alpn(), ch.ja3_hash());
                        let ja4 = ch.ja4();
                        assert_eq!(ja4.split('_').count(), 3);
                    }
                }
                HS_SERVER_HELLO => {
                    if let Ok(sh) = parse_server_hello(body) {
                        let _ = (sh.ja3s_hash(), sh.negotiated_version());
                    }
                }
                HS_CERTIFICATE => {
                    let _ = parse_certificates(body);
                }
                _ => {}
            }
        });
    }
});
