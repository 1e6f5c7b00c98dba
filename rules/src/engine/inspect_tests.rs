//! Tests of payload inspection.

use super::*;
use crate::signature::{Origin, Signature, Vars};

fn run(opts: &str, buf: &[u8]) -> bool {
    let text = format!("alert tcp any any -> any any ({opts} sid:1;)");
    let sig = Signature::parse(&text, &Vars::default(), Origin { file: "t".into(), line: 1 })
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    let prep = Prepared::new(&sig.payload);
    let mut cache = LowerCache::default();
    Inspector::run(
        &sig.payload,
        &prep,
        buf,
        None,
        Lower::Cached(&mut cache),
        &mut InspectStats::default(),
        &mut Default::default(),
    )
}

#[test]
fn byte_test_jump_extract() {
    // A length-prefixed record: 2-byte big-endian length, then data.
    let buf = b"HDR\x00\x05helloTAIL";
    assert!(run(r#"content:"HDR"; byte_test:2,=,5,0,relative;"#, buf));
    assert!(!run(r#"content:"HDR"; byte_test:2,>,5,0,relative;"#, buf));
    assert!(run(r#"content:"HDR"; byte_test:2,!=,6,0,relative;"#, buf));
    assert!(run(r#"byte_test:1,&,0x04,4;"#, buf));
    assert!(run(r#"byte_test:2,=,0x0500,3,little;"#, buf));
    // Jump over the record: TAIL must follow directly.
    assert!(run(r#"content:"HDR"; byte_jump:2,0,relative; content:"TAIL"; within:4;"#, buf));
    assert!(!run(
        r#"content:"HDR"; byte_jump:2,0,relative,post_offset 1; content:"TAIL"; within:4;"#,
        buf
    ));
    // Past the end of the buffer: no match, no panic.
    assert!(!run(r#"byte_jump:2,3,multiplier 100;"#, buf));
    assert!(!run(r#"byte_test:8,=,1,10;"#, buf));
    // A variable: the length drives a later test.
    assert!(run(r#"byte_extract:2,3,len; byte_test:1,=,len,4;"#, buf));
    assert!(!run(r#"byte_extract:2,3,len; byte_test:1,>,len,4;"#, buf));
    // Numbers written as text.
    assert!(run(r#"content:"id="; byte_test:3,>,99,0,relative,string,dec;"#, b"x id=123;"));
    assert!(run(r#"byte_test:2,=,255,0,string,hex;"#, b"ff"));
    assert!(run(r#"content:"n="; byte_test:0,>,450,0,relative,string,dec;"#, b"n=4512&"));
    assert!(!run(r#"content:"n="; byte_test:0,>,450,0,relative,string,dec;"#, b"n=&"));
    // Bitmask: the masked value is shifted down.
    assert!(run(r#"byte_test:1,=,3,0,bitmask 0x30;"#, b"\x3f"));
}

#[test]
fn byte_jump_edges_as_suricata() {
    let buf = b"Question?13When will it end?";
    // `string` alone reads decimal; from_end counts back from the end.
    assert!(run(
        r#"content:"Question?"; byte_jump:2,0,relative,string,from_end,post_offset -30; content:"When"; within:4;"#,
        buf
    ));
    // No bytes read: the jump is the post_offset alone; before the start it lands
    // on the start, at the end it fails.
    assert!(run(
        r#"content:"end"; byte_jump:0,0,relative,post_offset -100; content:"Q"; within:1;"#,
        buf
    ));
    assert!(!run(r#"content:"Question"; byte_jump:0,0,relative,post_offset 100;"#, buf));
    assert!(!run(r#"byte_jump:0,0,post_offset 28;"#, buf));
    assert!(run(r#"byte_jump:0,0,post_offset 27; content:"?"; within:1;"#, buf));
}

#[test]
fn byte_math_and_variable_placement() {
    // Length 3 at offset 1, then a record of that length and a marker.
    let buf = b"\x02\x03abcZ";
    assert!(run(
        r#"byte_math:bytes 1, offset 0, oper +, rvalue 1, result n; byte_test:1,=,n,1;"#,
        buf
    ));
    assert!(run(
        r#"byte_math:bytes 1, offset 0, oper *, rvalue 4, result n; byte_test:1,<,n,1;"#,
        buf
    ));
    assert!(run(
        r#"byte_math:bytes 1, offset 0, oper <<, rvalue 2, result n; byte_test:1,>,n,4;"#,
        buf
    ));
    // Division by zero is no match, not a panic.
    assert!(!run(r#"byte_math:bytes 1, offset 0, oper /, rvalue 0, result n;"#, buf));
    // byte_math moves the detection pointer past what it read.
    assert!(run(
        r#"byte_math:bytes 1, offset 0, oper -, rvalue 1, result n; content:"|03|"; within:1;"#,
        buf
    ));
    // Variables give offset, depth, distance and within.
    assert!(run(
        r#"byte_extract:1,1,len; content:"|03|"; content:"Z"; distance:len; within:1;"#,
        buf
    ));
    assert!(!run(
        r#"byte_extract:1,0,len; content:"|03|"; content:"Z"; distance:len; within:1;"#,
        buf
    ));
    assert!(run(r#"byte_extract:1,1,off; content:"b"; offset:off; depth:1;"#, b"\x00\x03\x00b"));
    assert!(!run(r#"byte_extract:1,1,off; content:"b"; offset:off; depth:1;"#, b"\x00\x02\x00b"));
    assert!(run(r#"byte_extract:1,0,n; isdataat:n,relative;"#, b"\x03xxx"));
    assert!(!run(r#"byte_extract:1,0,n; isdataat:n,relative;"#, b"\x04xxx"));
    // byte_math reads its byte count from a variable.
    assert!(run(
        r#"byte_extract:1,0,nb; byte_math:bytes nb, offset 1, oper +, rvalue 0, result v; byte_test:2,=,v,1;"#,
        b"\x02\x01\x02"
    ));
}

#[test]
fn base64_decode_and_data() {
    // "SGVsbG8gV29ybGQ=" is "Hello World".
    let buf = b"aaaaaaaaSGVsbG8gV29ybGQ=";
    assert!(run(
        r#"content:"aaaaaaaa"; base64_decode:relative; base64_data; content:"World";"#,
        buf
    ));
    assert!(run(r#"base64_decode:offset 8; base64_data; content:"Hello"; startswith;"#, buf));
    assert!(!run(r#"base64_decode:offset 8; base64_data; content:"World"; startswith;"#, buf));
    // Only the first bytes decoded.
    assert!(!run(r#"base64_decode:bytes 8, offset 8; base64_data; content:"World";"#, buf));
    assert!(run(r#"base64_decode:bytes 8, offset 8; base64_data; content:"Hello";"#, buf));
    // Nothing to decode: no match.
    assert!(!run(r#"base64_decode:offset 30;"#, buf));
    assert!(run(r#"base64_decode:offset 8;"#, buf));
}

#[test]
fn offset_depth() {
    assert!(run(r#"content:"abc"; offset:2; depth:3;"#, b"xxabcxx"));
    assert!(!run(r#"content:"abc"; offset:3;"#, b"xxabcxx"));
    assert!(!run(r#"content:"abc"; depth:4;"#, b"xxabcxx"));
    assert!(run(r#"content:"ABC"; nocase; depth:5;"#, b"xxabcxx"));
}

#[test]
fn distance_within_backtracks() {
    // The first "a" is followed by "c" too far away; the second one is close enough.
    assert!(run(r#"content:"a"; content:"c"; distance:0; within:2;"#, b"a...ac"));
    assert!(!run(r#"content:"a"; content:"c"; distance:0; within:2;"#, b"a...a..c"));
    assert!(run(r#"content:"AllWork"; content:"Dull"; distance:1; within:5;"#, b"AllWork Dull"));
    assert!(!run(r#"content:"AllWork"; content:"Dull"; distance:2; within:5;"#, b"AllWork Dull"));
    // Negative distance looks back.
    assert!(run(r#"content:"bc"; content:"ab"; distance:-3; within:2;"#, b"abc"));
}

#[test]
fn negation_and_ends() {
    assert!(run(r#"content:"GET"; content:!"POST";"#, b"GET /"));
    assert!(!run(r#"content:"GET"; content:!"/";"#, b"GET /"));
    assert!(run(r#"content:".exe"; endswith;"#, b"/a.exe"));
    assert!(!run(r#"content:".exe"; endswith;"#, b"/a.exe?x"));
    assert!(run(r#"content:"GET"; startswith;"#, b"GET /"));
    assert!(!run(r#"content:"GET"; startswith;"#, b" GET /"));
    assert!(run(r#"content:"y"; distance:2; within:3; endswith;"#, b"xxxy"));
}

#[test]
fn pcre_relative_and_isdataat() {
    assert!(run(r#"content:"GET"; pcre:"/^\s+\//R";"#, b"GET /x"));
    assert!(!run(r#"content:"GET"; pcre:"/^\//R";"#, b"GET /x"));
    assert!(run(r#"content:"GET"; isdataat:2,relative;"#, b"GET /x"));
    assert!(!run(r#"content:"GET"; isdataat:4,relative;"#, b"GET /x"));
    assert!(run(r#"content:"GET"; isdataat:!4,relative;"#, b"GET /x"));
    assert!(run(r#"pcre:"/get/i";"#, b"xGeT"));
    assert!(run(r#"content:"x"; pcre:!"/zz/";"#, b"x"));
}

/// What tries its next occurrence, each case as the reference Suricata 8.0.6 answers
/// it on a UDP packet with that payload (checked with `sv-engine`).
#[test]
fn retries_as_suricata() {
    let cases: [(&str, &[u8], bool); 11] = [
        (r#"content:"X"; content:"Y"; distance:0; isdataat:!2,relative;"#, b"XY123Y", true),
        (r#"content:"X"; pcre:"/^Z/R";"#, b"XaXZ", true),
        (r#"content:"X"; byte_test:1,=,0x5a,0,relative;"#, b"XaXZ", true),
        (r#"content:"X"; content:"Z"; distance:0; within:1;"#, b"XaXZ", true),
        (r#"content:"X"; isdataat:!1,relative;"#, b"XaX", true),
        (r#"content:"X"; content:!"a"; within:1;"#, b"XaXb", true),
        (r#"pcre:"/X./"; content:"Z"; within:1;"#, b"XaXbZ", true),
        (r#"content:"X"; isdataat:3; content:"Z"; within:1;"#, b"XaXZ", true),
        (r#"content:"X"; content:!"a"; distance:0;"#, b"XaXb", true),
        (r#"content:"X"; content:"Y"; distance:0;"#, b"XaXa", false),
        (r#"content:"X"; content:"Y"; distance:0; content:"Z"; within:1;"#, b"XYaYZ", true),
    ];
    for (opts, buf, want) in cases {
        assert_eq!(run(opts, buf), want, "{opts} on {:?}", String::from_utf8_lossy(buf));
    }
}

#[test]
fn a_relative_content_without_within_does_not_make_the_search_quadratic() {
    // 20,000 "powershell" and no "DownloadFile(": one search each, not one per
    // occurrence (which would exhaust the recursion budget).
    let buf = b"powershell ".repeat(20_000);
    let rule = r#"content:"powershell"; nocase; content:"DownloadFile("; nocase; distance:0;"#;
    let text = format!("alert tcp any any -> any any ({rule} sid:1;)");
    let sig = Signature::parse(&text, &Vars::default(), Origin { file: "t".into(), line: 1 })
        .expect("rule");
    let prep = Prepared::new(&sig.payload);
    let mut stats = InspectStats::default();
    let mut cache = LowerCache::default();
    assert!(!Inspector::run(
        &sig.payload,
        &prep,
        &buf,
        None,
        Lower::Cached(&mut cache),
        &mut stats,
        &mut Default::default()
    ));
    assert_eq!(stats.recursion_limit, 0);
}

#[test]
fn nocase_finds_every_case_and_exact_only_its_own() {
    assert!(run(r#"content:"PowerShell"; nocase;"#, b"xx POWERSHELL yy"));
    assert!(run(
        r#"content:"PowerShell"; nocase; content:"-ENC"; nocase; distance:1;"#,
        b"powershell -enc"
    ));
    assert!(!run(r#"content:"PowerShell";"#, b"xx POWERSHELL yy"));
    assert!(run(r#"content:"a|00|B"; nocase; endswith;"#, b"zzA\x00b"));
}

#[test]
fn catastrophic_pcre_is_bounded() {
    let buf = vec![b'a'; 5000];
    // Would backtrack exponentially without the match limit.
    assert!(!run(r#"pcre:"/(a+)+b/";"#, &buf));
}
