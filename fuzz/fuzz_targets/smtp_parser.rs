//! Any bytes as the client side of an SMTP session, in pieces: commands, DATA, MIME
//! walking, base64 and quoted-printable decoding, close.
#![no_main]
use gatewatch_sensor::app::smtp::{SmtpParser, MAX_LINE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, rest)) = data.split_first() else { return };
    let limit = 2048;
    let mut p = SmtpParser::new(limit);
    let mut out = Vec::new();
    for chunk in rest.chunks((step as usize).max(1)) {
        p.feed(chunk, &mut out);
    }
    p.close(&mut out);
    for m in &out {
        // Decoded attachments come from at most `limit` message bytes (+ a line).
        let total: usize = m.attachments.iter().map(|a| a.data.len()).sum();
        assert!(total <= limit + MAX_LINE);
    }
});
