use gatewatch_rules::signature::{AppProto, Buffer};

use super::frame::{CONTINUATION, END_HEADERS, END_STREAM, GOAWAY, HEADERS, PREFACE, RST_STREAM};
use super::Http2Conn;
use crate::app::http;
use crate::app::parser::{drive, values, AppParser};
use crate::app::records::Record;
use crate::app::session::SessionLimits;
use crate::synth::http2::{h2_frame, h2_session, h2c_session, Exchange, HpackEncoder};

const PAGE: &[u8] = b"<html><body>Cong thong tin dien tu tinh Thua Thien Hue</body></html>";

fn get<'a>(path: &'a str) -> Exchange<'a> {
    Exchange {
        method: "GET",
        authority: "dichvucong.hue.gov.vn",
        path,
        request_headers: &[("user-agent", "Mozilla/5.0 (Windows NT 10.0)"), ("accept", "*/*")],
        request_body: b"",
        status: "200",
        response_headers: &[("content-type", "text/html"), ("server", "nginx")],
        response_body: PAGE,
    }
}

fn http_records(out: &crate::app::parser::AppOutput) -> Vec<serde_json::Value> {
    out.records
        .iter()
        .filter_map(|(_, r)| match r {
            Record::Http(h) => serde_json::to_value(h).ok(),
            _ => None,
        })
        .collect()
}

#[test]
fn prior_knowledge_streams_fill_the_http_buffers_in_any_segmentation() {
    let post = Exchange {
        method: "POST",
        path: "/api/hoso?ma=42",
        request_body: b"{\"cccd\":\"046200001234\"}",
        status: "201",
        response_body: b"",
        ..get("/")
    };
    let script = h2_session(&[get("/index.html"), get("/tai-lieu/../img/logo.png"), post]);
    for seg in [1, 7, 1000] {
        let mut p = Http2Conn::new(http::Limits::default(), true);
        let (out, counters) = drive(&mut p, &script, seg);
        assert_eq!(
            values(&out, Buffer::HttpUri),
            [
                "/index.html",
                "/index.html",
                "/img/logo.png",
                "/img/logo.png",
                "/api/hoso?ma=42",
                "/api/hoso?ma=42"
            ],
            "seg {seg}"
        );
        assert_eq!(values(&out, Buffer::HttpMethod)[4], "POST");
        assert!(values(&out, Buffer::HttpHost).iter().all(|h| h == "dichvucong.hue.gov.vn"));
        assert_eq!(values(&out, Buffer::HttpUserAgent)[0], "Mozilla/5.0 (Windows NT 10.0)");
        assert!(values(&out, Buffer::HttpRequestHeader).contains(&":method: GET".to_string()));
        assert_eq!(values(&out, Buffer::HttpRequestBody), ["{\"cccd\":\"046200001234\"}"]);
        assert_eq!(values(&out, Buffer::HttpStatCode), ["200", "200", "201"]);
        // Two pages, and the POST body (file.data of a request, as over HTTP/1).
        assert_eq!(values(&out, Buffer::FileData).len(), 3);
        assert!(values(&out, Buffer::Http2Header).contains(&"server: nginx".to_string()));
        assert!(values(&out, Buffer::Http2Settings).contains(&"3=100".to_string()));
        let recs = http_records(&out);
        let streams: Vec<_> = recs.iter().filter(|r| r["http2"]["stream_id"] != 0).collect();
        assert_eq!(streams.len(), 3);
        assert_eq!(streams[0]["url"], "/index.html");
        assert_eq!(streams[0]["status"], 200);
        assert_eq!(streams[0]["version"], "2");
        assert_eq!(streams[0]["length"], PAGE.len());
        assert_eq!(streams[0]["hostname"], "dichvucong.hue.gov.vn");
        assert_eq!(streams[0]["request_headers"][0]["name"], ":method");
        assert_eq!(streams[2]["http_method"], "POST");
        // Stream 0: the settings of each side and the client's GOAWAY.
        let control: Vec<_> = recs.iter().filter(|r| r["http2"]["stream_id"] == 0).collect();
        assert_eq!(control.len(), 3, "{control:?}");
        assert!(control.iter().any(|r| r["http2"]["request"]["error_code"] == "NOERROR"));
        let files = out.records.iter().filter(|(_, r)| matches!(r, Record::Fileinfo(_))).count();
        assert_eq!(files, 2);
        assert_eq!(counters.by_name.get("http2_tx"), Some(&3));
        assert!(!counters.by_name.keys().any(|k| k.starts_with("http2_errors")), "{counters:?}");
    }
}

#[test]
fn h2c_upgrade_continues_the_http1_request_as_stream_1() {
    let script = h2c_session("intranet.hue.gov.vn", "/", &get("/"), &[get("/bao-cao.pdf")]);
    let limits = SessionLimits::default();
    let mut p = (http::conn::REGISTRATION.new)(&limits);
    assert_eq!(p.app_proto(), None);
    let (out, counters) = drive(p.as_mut(), &script, 1000);
    let recs = http_records(&out);
    // No HTTP/1 record for the 101: the request is logged as HTTP/2 stream 1.
    assert!(recs.iter().all(|r| r["status"] != 101), "{recs:?}");
    let s1 = recs.iter().find(|r| r["http2"]["stream_id"] == 1).expect("stream 1");
    assert_eq!(s1["url"], "/");
    assert_eq!(s1["status"], 200);
    assert_eq!(s1["http_user_agent"], "curl/8.5.0");
    assert_eq!(s1["request_headers"][2]["name"], ":authority");
    let s3 = recs.iter().find(|r| r["http2"]["stream_id"] == 3).expect("stream 3");
    assert_eq!(s3["url"], "/bao-cao.pdf");
    assert_eq!(counters.by_name.get("http2_h2c_upgrades"), Some(&1));
    assert_eq!(counters.http_junk_bytes, 0);
    let mut p = (http::conn::REGISTRATION.new)(&limits);
    drive(p.as_mut(), &script[..2], 1000);
    assert_eq!(p.app_proto(), Some(AppProto::Http2));
}

#[test]
fn resets_and_header_blocks_split_over_continuations() {
    let mut enc = HpackEncoder::default();
    let long = "x".repeat(5000);
    let block = enc.block(&[
        (":method", "GET"),
        (":path", "/very-long"),
        (":authority", "a.hue.gov.vn"),
        ("x-padding", &long),
    ]);
    let (a, b) = block.split_at(block.len() / 2);
    let mut client = PREFACE.to_vec();
    client.extend(h2_frame(HEADERS, END_STREAM, 1, a));
    client.extend(h2_frame(CONTINUATION, END_HEADERS, 1, b));
    // The server refuses it (REFUSED_STREAM = 7), then says goodbye (ENHANCE_YOUR_CALM).
    let mut server = h2_frame(RST_STREAM, 0, 1, &7u32.to_be_bytes());
    server.extend(h2_frame(GOAWAY, 0, 0, &[0, 0, 0, 1, 0, 0, 0, 11]));
    let script = vec![(true, client), (false, server)];
    let mut p = Http2Conn::new(http::Limits::default(), true);
    let (out, _) = drive(&mut p, &script, 100);
    // The request's inspection, then the reset response's (request buffers included).
    assert_eq!(values(&out, Buffer::HttpUri), ["/very-long", "/very-long"]);
    // The reset stream is finished once the segment is parsed, after the GOAWAY.
    assert_eq!(values(&out, Buffer::Http2ErrorCode), ["11", "7"]);
    let recs = http_records(&out);
    let by_stream = |id: u32| recs.iter().find(|r| r["http2"]["stream_id"] == id).expect("record");
    assert_eq!(by_stream(1)["http2"]["response"]["error_code"], "RefusedStream");
    assert_eq!(by_stream(1)["url"], "/very-long");
    assert_eq!(by_stream(0)["http2"]["response"]["error_code"], "ENHANCEYOURCALM");
}

#[test]
fn bounds_gaps_and_garbage_are_counted() {
    let mut enc = HpackEncoder::default();
    let mut client = PREFACE.to_vec();
    // 300 requests that never end: the oldest are finished to keep 256 open.
    for i in 0..300u32 {
        let path = format!("/{i}");
        let block = enc.block(&[(":method", "GET"), (":path", &path)]);
        client.extend(h2_frame(HEADERS, END_HEADERS, 1 + 2 * i, &block));
    }
    let mut p = Http2Conn::new(http::Limits::default(), true);
    let (out, counters) = drive(&mut p, &[(true, client)], 4096);
    assert_eq!(counters.by_name.get("http2_streams_evicted"), Some(&44));
    assert_eq!(values(&out, Buffer::HttpUri).len(), 300);
    // After a gap the direction is given up.
    let mut p = Http2Conn::new(http::Limits::default(), true);
    let script = h2_session(&[get("/")]);
    let (mut o, mut c) = Default::default();
    let mut cx = crate::app::parser::AppCx { counters: &mut c, out: &mut o };
    p.parse(0, &script[1].1[..30], &mut cx);
    p.gap(0, &mut cx);
    p.parse(0, &script[2].1, &mut cx);
    assert_eq!(c.by_name.get("http2_gaps"), Some(&1));
    assert!(o.inspections.is_empty());
    // Random bytes after the preface: no panic, bounded memory.
    let mut p = Http2Conn::new(http::Limits::default(), true);
    let junk: Vec<u8> =
        (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    drive(&mut p, &[(true, [PREFACE, &junk].concat()), (false, junk)], 1500);
    assert!(p.framers.iter().all(|f| f.buffered() <= super::frame::MAX_CONTROL_FRAME + 9));
}

/// base64url without padding (RFC 8484's `dns` parameter).
fn base64url(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = c.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..=c.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn dns_over_https_in_cleartext_http2_is_read_as_dns() {
    use crate::synth::dns_message;
    let query = dns_message(0x1234, "c2.example.vn", None);
    let answer = dns_message(0x1234, "c2.example.vn", Some([203, 0, 113, 7].into()));
    let get_path =
        format!("/dns-query?dns={}", base64url(&dns_message(7, "update.hue.gov.vn", None)));
    let doh_headers: &[(&str, &str)] =
        &[("content-type", "application/dns-message"), ("accept", "application/dns-message")];
    let post = Exchange {
        method: "POST",
        path: "/dns-query",
        request_headers: doh_headers,
        request_body: &query,
        response_headers: &[("content-type", "application/dns-message")],
        response_body: &answer,
        ..get("/")
    };
    let script = h2_session(&[post, get(&get_path)]);
    let mut p = Http2Conn::new(http::Limits::default(), true);
    let (out, counters) = drive(&mut p, &script, 1000);
    assert_eq!(values(&out, Buffer::DnsQuery), ["c2.example.vn", "update.hue.gov.vn"]);
    let dns = out.records.iter().filter(|(_, r)| matches!(r, Record::Dns(_))).count();
    assert_eq!(dns, 1, "the POST's answer (the GET's is a page)");
    assert_eq!(counters.by_name.get("http2_doh_messages"), Some(&3));
}
