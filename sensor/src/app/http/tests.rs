//! Tests of the HTTP/1 parser.

use super::*;

fn parse(side: Side, chunks: &[&[u8]]) -> (Vec<Event>, HttpParser) {
    let mut p = HttpParser::new(side, Limits::default());
    let mut out = Vec::new();
    for c in chunks {
        p.feed(c, RequestInfo::default, &mut out);
    }
    (out, p)
}

fn heads(ev: &[Event]) -> Vec<&Head> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Head(h) => Some(&**h),
            _ => None,
        })
        .collect()
}

fn bodies(ev: &[Event]) -> Vec<&Body> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Done(b) => Some(&**b),
            _ => None,
        })
        .collect()
}

#[test]
fn pipelined_requests_split_anywhere() {
    let wire: &[u8] = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.0\n\n";
    for split in 0..wire.len() {
        let (ev, p) = parse(Side::Request, &[&wire[..split], &wire[split..]]);
        let h = heads(&ev);
        assert_eq!(h.len(), 3, "split at {split}");
        assert_eq!(h[0].parts[1], b"/a");
        assert_eq!(h[1].parts[0], b"POST");
        assert_eq!(h[2].parts[2], b"HTTP/1.0");
        let b = bodies(&ev);
        assert_eq!(b.len(), 3);
        assert_eq!(b[1].data, b"hello");
        assert_eq!(p.errors, HttpErrors::default());
    }
}

#[test]
fn chunked_and_gzip_response() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"<html>secret payload</html>").unwrap();
    let z = gz.finish().unwrap();
    let mut wire =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
    let (a, b) = z.split_at(10);
    wire.extend_from_slice(format!("{:x};ext=1\r\n", a.len()).as_bytes());
    wire.extend_from_slice(a);
    wire.extend_from_slice(format!("\r\n{:X}\r\n", b.len()).as_bytes());
    wire.extend_from_slice(b);
    wire.extend_from_slice(b"\r\n0\r\nX-Trailer: 1\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n");
    for split in [1, 20, 80, wire.len() - 3] {
        let (ev, _) = parse(Side::Response, &[&wire[..split], &wire[split..]]);
        let b = bodies(&ev);
        assert_eq!(b.len(), 2, "split {split}");
        assert_eq!(b[0].data, b"<html>secret payload</html>");
        assert_eq!(b[0].size, z.len() as u64);
        assert_eq!(heads(&ev)[1].status(), Some(304));
    }
}

#[test]
fn a_decoded_body_is_inspected_to_the_body_limit_and_kept_whole() {
    use std::io::Write;
    let page: Vec<u8> = b"<p>a</p>".repeat(40_000); // 320,000 bytes, compresses well
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&page).unwrap();
    let z = gz.finish().unwrap();
    let mut wire =
        format!("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n", z.len())
            .into_bytes();
    wire.extend_from_slice(&z);
    let (ev, _) = parse(Side::Response, &[&wire]);
    let b = bodies(&ev)[0];
    assert!(b.decoded);
    assert_eq!(b.data, page, "decoded up to the decoding limit, for YARA");
    assert_eq!(b.inspected(), &page[..Limits::default().body_limit], "inspected to the body limit");
}

#[test]
fn head_response_has_no_body_and_close_delimits() {
    let mut p = HttpParser::new(Side::Response, Limits::default());
    let mut out = Vec::new();
    let info = RequestInfo { head_method: true, connect: false };
    p.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", || info, &mut out);
    assert_eq!(bodies(&out).len(), 1);
    out.clear();
    p.feed(b"HTTP/1.0 200 OK\r\n\r\nuntil the end", RequestInfo::default, &mut out);
    assert!(bodies(&out).is_empty());
    p.close(&mut out);
    let b = bodies(&out);
    assert_eq!(b[0].data, b"until the end");
    assert!(!b[0].incomplete);
    assert_eq!(b[0].md5, "15c97885f033007e322907c25b5356b8");
}

#[test]
fn body_limit_truncates_but_hashes_everything() {
    let mut p = HttpParser::new(Side::Request, Limits { body_limit: 4, ..Limits::default() });
    let mut out = Vec::new();
    p.feed(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", RequestInfo::default, &mut out);
    let b = bodies(&out);
    assert_eq!(b[0].sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    out.clear();
    p.feed(b"POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\nabcdef", RequestInfo::default, &mut out);
    let b = bodies(&out);
    assert_eq!(b[0].data, b"abcd");
    assert!(b[0].truncated);
    assert_eq!(b[0].size, 6);
}

#[test]
fn lenient_with_junk_folding_and_unknown_methods() {
    let (ev, p) = parse(
        Side::Request,
        &[b"\r\n\x00\x01junk\r\nFOO /x HTTP/1.1\nA: 1\n  continued\nNoColon\n\n"],
    );
    let h = heads(&ev);
    assert_eq!(h[0].parts[0], b"FOO");
    // One fold byte joins the lines; the rest of the continuation's whitespace stays,
    // as libhtp keeps it.
    assert_eq!(h[0].header("a"), Some(&b"1  continued"[..]));
    assert_eq!(p.errors.junk_bytes, 8);
    // A target with spaces.
    let (ev, _) = parse(Side::Request, &[b"GET /a b c HTTP/1.1\r\n\r\n"]);
    assert_eq!(heads(&ev)[0].parts[1], b"/a b c");
}

#[test]
fn a_head_cut_short_is_parsed_on_close() {
    let (mut ev, mut p) = parse(Side::Request, &[b"GET /x HTTP/1.0\r\nHost: a\r\nUser-Ag"]);
    assert!(ev.is_empty());
    p.close(&mut ev);
    let h = heads(&ev);
    assert_eq!(h[0].start_line, b"GET /x HTTP/1.0");
    // A line without a colon is a header without a name, as libhtp reads it.
    assert_eq!(h[0].headers[1], (Vec::new(), b"User-Ag".to_vec()));
    assert!(bodies(&ev)[0].incomplete);
    // Nothing but whitespace: nothing to report.
    let (mut ev, mut p) = parse(Side::Request, &[b"\r\n"]);
    p.close(&mut ev);
    assert!(ev.is_empty());
}

#[test]
fn junk_is_counted_once_across_segments() {
    let mut p = HttpParser::new(Side::Response, Limits::default());
    let mut out = Vec::new();
    p.feed(b"junk line\n", RequestInfo::default, &mut out);
    p.feed(b"HT", RequestInfo::default, &mut out);
    p.feed(b"TP/1.1 204 No Content\r\n\r\n", RequestInfo::default, &mut out);
    assert_eq!(p.errors.junk_bytes, 10);
    assert_eq!(heads(&out).len(), 1);
}

#[test]
fn bounds_end_the_direction() {
    let mut p = HttpParser::new(Side::Request, Limits { max_head: 100, ..Limits::default() });
    let mut out = Vec::new();
    p.feed(&[b'G'; 10], RequestInfo::default, &mut out);
    p.feed(b"ET / HTTP/1.1\r\n", RequestInfo::default, &mut out);
    p.feed(&[b'a'; 200], RequestInfo::default, &mut out);
    assert!(p.is_dead());
    assert_eq!(p.errors.head_too_long, 1);
    // A chunk size without hex digits: as libhtp, the body is not chunked after all
    // and runs to the close, the bad line included.
    let (mut ev, mut p) =
        parse(Side::Response, &[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]);
    assert!(!p.is_dead());
    p.close(&mut ev);
    assert_eq!(bodies(&ev)[0].data, b"zz\r\n");
    assert_eq!(p.errors.bad_chunk, 1);
}

#[test]
fn chunk_sizes_read_as_libhtp_reads_them() {
    for (line, want) in [
        (&b"f\x00\r\n"[..], ChunkLine::Size(15)),
        (b"f x\r\n", ChunkLine::Size(15)),
        (b"\x0bf\r\n", ChunkLine::Size(15)),
        (b" 1a;ext=1\r\n", ChunkLine::Size(26)),
        (b"\r\n", ChunkLine::Skip),
        (b"ffffffff\r\n", ChunkLine::Skip),
        (b"X5O!P\r\n", ChunkLine::Invalid),
    ] {
        assert_eq!(chunk_length(line), want, "{line:?}");
    }
    // Chunk data ends at the next line end, whatever precedes it.
    let (ev, _) = parse(
        Side::Response,
        &[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcJUNK\r\n2\r\nde\r\n0\r\n\r\n"],
    );
    assert_eq!(bodies(&ev)[0].data, b"abcde");
}

#[test]
fn content_codings_stack_and_fall_back_as_libhtp() {
    use std::io::Write;
    let gz = |d: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(d).unwrap();
        e.finish().unwrap()
    };
    let raw_deflate = |d: &[u8]| {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(d).unwrap();
        e.finish().unwrap()
    };
    let respond = |ce: &str, body: &[u8]| {
        let mut m = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: {ce}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        m.extend_from_slice(body);
        let (ev, _) = parse(Side::Response, &[&m]);
        bodies(&ev)[0].data.clone()
    };
    // Two layers, the last listed undone first.
    assert_eq!(respond("deflate, gzip", &gz(&raw_deflate(b"secret"))), b"secret");
    // Labelled gzip, sent as raw deflate: the fallback decoder reads it.
    assert_eq!(respond("gzip", &raw_deflate(b"secret")), b"secret");
    // Reserved flag bits in the gzip header are ignored, as browsers ignore them.
    let mut odd = gz(b"secret");
    odd[3] |= 0x20;
    assert_eq!(respond("gzip", &odd), b"secret");
    // Nothing decodes: the bytes pass through.
    assert_eq!(respond("gzip", b"plain"), b"plain");
}

#[test]
fn uri_and_host_normalisation() {
    assert_eq!(normalize_uri(b"/a/./b/../c//d%2Ee?x=%41+b"), b"/a/c/d.e?x=A+b");
    assert_eq!(normalize_uri(b"http://h.example:8080/p?q"), b"/p?q");
    assert_eq!(normalize_uri(b"/../../etc/passwd"), b"/etc/passwd");
    assert_eq!(normalize_uri(b"/dir/"), b"/dir/");
    assert_eq!(normalize_uri(b"/%zz%4"), b"/%zz%4");
    assert_eq!(normalize_host(b" WWW.Example.ORG:8080 "), b"www.example.org");
    assert_eq!(normalize_host(b"[::1]:80"), b"[::1]");
}

#[test]
fn anomalies_become_app_layer_events() {
    let (_, p) = parse(
        Side::Request,
        &[b"POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n4 \nabcd\n0 ; x=1\n\n"],
    );
    assert_eq!(p.events, ["http.request_chunk_extension"]);
    let (_, p) = parse(Side::Request, &[b"GET /x\r\nHost: a\r\n\r\n"]);
    assert_eq!(p.events, ["http.request_line_missing_protocol"]);
    let (_, p) = parse(Side::Request, &[b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"]);
    assert!(p.events.is_empty());
    let (_, p) = parse(Side::Request, &[b"GET / HTTP/1.1\r\nAuthorization: NTLM TlRMTVNT\r\n\r\n"]);
    assert_eq!(p.events, ["http.request_auth_unrecognized"]);
    let (_, p) = parse(Side::Request, &[b"GET / HTTP/1.1\r\nAuthorization: basic YTpi\r\n\r\n"]);
    assert!(p.events.is_empty());
}
