//! Dataset files come from feeds and analysts: every type and format on the same
//! bytes — a count or an error naming the line, never a panic.
#![no_main]
use gatewatch_rules::signature::dataset::{check_file, DataType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let kinds = [
        DataType::String,
        DataType::Md5,
        DataType::Sha1,
        DataType::Sha256,
        DataType::Ipv4,
        DataType::Ip,
    ];
    for kind in kinds {
        let _ = check_file(kind, "csv", None, None, &text);
        let _ = check_file(kind, "json", Some("v"), None, &text);
        let _ = check_file(kind, "json", Some("a.b"), Some("x.y"), &text);
        let _ = check_file(kind, "ndjson", Some("v"), None, &text);
    }
});
