//! Transforms run on buffers the wire fills: every transform, with arguments taken from
//! the input, on the rest of the input — bounded output, never a panic.
#![no_main]
use gatewatch_rules::signature::{base64_decode, Base64Mode, Transform};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let arg = format!("offset {}, bytes {}", sel % 16, sel / 16);
    let specs: [(&str, Option<&str>); 9] = [
        ("from_base64", Some(&arg)),
        ("from_base64", Some("mode rfc2045")),
        ("from_base64", Some("mode strict")),
        ("xor", Some("\"0d0ac8ff\"")),
        ("pcrexform", Some(r#""([a-z]+)=(.*)""#)),
        ("zlib_deflate", Some("max-size 4096")),
        ("gunzip", None),
        ("header_lowercase", None),
        ("strip_pseudo_headers", None),
    ];
    for (kw, v) in specs {
        if let Some(Ok(t)) = Transform::parse(kw, v) {
            let out = t.apply(rest);
            assert!(out.len() <= rest.len().max(1 << 20) + 1);
        }
    }
    for mode in [Base64Mode::Rfc4648, Base64Mode::Rfc2045, Base64Mode::Strict] {
        assert!(base64_decode(rest, mode, 100).len() <= 100);
    }
});
