//! Tests of the session: reassembly, detection and each protocol's glue.

use gatewatch_rules::signature::Buffer;

use super::*;
use crate::app::filetype::describe;
use crate::app::parser::Inspection;
use crate::app::records::Record;
use crate::app::{tls, x509};
use crate::stream::raw::STREAM_CONTEXT;

/// Inline delivery (bytes go on as they arrive): the parsers' behaviour segment by
/// segment.
fn run(segs: &[(bool, u8, u32, &[u8])]) -> (TcpSession, Vec<AppOutput>, AppCounters) {
    let segs: Vec<_> = segs.iter().map(|&(ts, f, seq, data)| (ts, f, seq, 0, data)).collect();
    run_with(true, &segs)
}

/// (to server, flags, seq, ack, payload) segments through a session.
fn run_with(
    inline: bool,
    segs: &[(bool, u8, u32, u32, &[u8])],
) -> (TcpSession, Vec<AppOutput>, AppCounters) {
    let mut mem = Memcap::new(1 << 20);
    let mut s = TcpSession::default();
    let (outs, c) = run_in(&mut s, inline, segs, &mut mem);
    (s, outs, c)
}

/// Segments through session `s`, charging reassembly to `mem`.
fn run_in(
    s: &mut TcpSession,
    inline: bool,
    segs: &[(bool, u8, u32, u32, &[u8])],
    mem: &mut Memcap,
) -> (Vec<AppOutput>, AppCounters) {
    let mut app_mem = Memcap::new(1 << 20);
    let mut c = AppCounters::default();
    let limits = SessionLimits { inline, ..SessionLimits::default() };
    let outs = segs
        .iter()
        .map(|&(to_server, flags, seq, ack, payload)| {
            let mut out = AppOutput::default();
            let mut cx = SegmentCx {
                ports: [40000, 1],
                limits: &limits,
                mem: &mut *mem,
                app_mem: &mut app_mem,
                counters: &mut c,
            };
            s.on_segment(Segment { to_server, flags, seq, ack, payload }, &mut cx, &mut out);
            out
        })
        .collect();
    (outs, c)
}

/// The flow's end, with budgets of its own.
fn end(s: &mut TcpSession, c: &mut AppCounters, out: &mut AppOutput) {
    let (mut mem, mut app_mem) = (Memcap::new(1 << 20), Memcap::new(1 << 20));
    let limits = SessionLimits::default();
    let mut cx = SegmentCx {
        ports: [0, 0],
        limits: &limits,
        mem: &mut mem,
        app_mem: &mut app_mem,
        counters: c,
    };
    s.end(&mut cx, out);
}

#[test]
fn bytes_go_on_once_acknowledged_and_are_inspected_with_their_direction() {
    let req: &[u8] = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
    let n = req.len() as u32;
    let (mut s, outs, mut c) = run_with(
        false,
        &[
            (true, 0x02, 99, 0, b""),
            (false, 0x12, 499, 100, b""),
            (true, 0x10, 100, 500, b""),
            // The request: nothing is parsed until the server acknowledges it.
            (true, 0x18, 100, 500, req),
            // Half of it acknowledged: still no complete request.
            (false, 0x10, 500, 110, b""),
            (false, 0x10, 500, 100 + n, b""),
            // The client's next packet carries the stream chunk of its bytes.
            (true, 0x10, 100 + n, 500, b""),
        ],
    );
    assert!(outs[3].inspections.is_empty() && outs[3].chunks.is_empty());
    assert_eq!(s.app_proto, Some(AppProto::Http));
    assert!(outs[4].inspections.is_empty());
    // The request completes on the server's packet (its inspection is of the request's
    // direction, which the pipeline holds for the client's next packet).
    let r = &outs[5].inspections[0];
    assert!(r.to_server && has(r, Buffer::HttpUri, b"/x"));
    assert!(outs[4].chunks.is_empty() && outs[5].chunks.is_empty());
    let whole: Vec<u8> =
        outs[6].chunks.iter().flat_map(|ch| ch.data[ch.new_from..].to_vec()).collect();
    assert_eq!(whole, req);
    // Bytes never acknowledged are flushed at the end, with no gap counted.
    let mut out = AppOutput::default();
    end(&mut s, &mut c, &mut out);
    assert!(out.end_chunks.is_empty());
    assert_eq!(s.stream_stats()[0].gaps, 0);
}

#[test]
fn unacknowledged_bytes_are_inspected_at_the_flow_end() {
    let (mut s, outs, mut c) = run_with(
        false,
        &[
            (true, 0x02, 9, 0, b""),
            (false, 0x12, 99, 10, b""),
            (true, 0x10, 10, 100, b""),
            (true, 0x18, 10, 100, b"GET / HTTP/1.0\r\n"),
            // A hole, then the rest, and the server resets having acknowledged the
            // first line only.
            (true, 0x18, 40, 100, b"User-Agent: x\r\n\r\n"),
            (false, 0x14, 100, 26, b""),
        ],
    );
    assert!(outs.iter().all(|o| o.chunks.is_empty()));
    let mut out = AppOutput::default();
    end(&mut s, &mut c, &mut out);
    // The acknowledged line waited for a client packet; the bytes after the hole
    // were never acknowledged: both are inspected at the end.
    let client: Vec<u8> = out
        .end_chunks
        .iter()
        .filter(|(d, _)| *d == 0)
        .flat_map(|(_, ch)| ch.data[ch.new_from..].to_vec())
        .collect();
    assert_eq!(client, b"GET / HTTP/1.0\r\nUser-Agent: x\r\n\r\n");
    assert_eq!(s.stream_stats()[0].gaps, 0);
}

fn has(insp: &Inspection, b: Buffer, v: &[u8]) -> bool {
    insp.buffers.iter().any(|(x, d)| *x == b && d == v)
}

#[test]
fn http_out_of_order_request_then_response() {
    let req = b"GET /a/../x%41?q=1 HTTP/1.1\r\nHost: WWW.Ex.org:8080\r\nUser-Agent: ua\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/html\r\n\r\nhello";
    let (s, outs, c) = run(&[
        (true, 0x02, 999, b""),
        (false, 0x12, 4999, b""),
        // Second half first.
        (true, 0x18, 1010, &req[10..]),
        (true, 0x18, 1000, &req[..10]),
        (false, 0x18, 5000, resp),
    ]);
    assert_eq!(s.app_proto, Some(AppProto::Http));
    assert!(outs[2].inspections.is_empty());
    let r = &outs[3].inspections[0];
    assert!(has(r, Buffer::HttpUri, b"/xA?q=1"));
    assert!(has(r, Buffer::HttpHost, b"www.ex.org"));
    assert!(has(r, Buffer::HttpUserAgent, b"ua"));
    assert!(has(r, Buffer::HttpHeaderNames, b"\r\nHost\r\nUser-Agent\r\n\r\n"));
    let p = &outs[4].inspections[0];
    assert!(has(p, Buffer::HttpStatCode, b"200"));
    assert!(has(p, Buffer::FileData, b"hello"));
    assert!(has(p, Buffer::HttpMethod, b"GET"));
    // Response-time inspections carry no request buffers of both directions.
    assert!(!p.buffers.iter().any(|(b, d)| *b == Buffer::HttpHeader && d.starts_with(b"Host")));
    let recs: Vec<_> = outs[4].records.iter().map(|(_, r)| r).collect();
    match recs[0] {
        Record::Http(h) => {
            assert_eq!(h.status, Some(200));
            assert_eq!(h.hostname.as_deref(), Some("www.ex.org"));
            assert_eq!(h.length, Some(5));
        }
        other => panic!("{other:?}"),
    }
    match recs[1] {
        Record::Fileinfo(f) => {
            assert_eq!(
                f.sha256,
                "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
            );
            assert_eq!(f.filename, "/a/../x%41");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.http_tx, 1);
}

#[test]
fn midstream_response_first_reverses_directions() {
    let resp: &[u8] = b"HTTP/1.0 200 OK\r\n\r\nbody";
    let (mut s, _, mut c) = run(&[(true, 0x18, 7, resp)]);
    assert!(s.reversed);
    let mut out = AppOutput::default();
    end(&mut s, &mut c, &mut out);
    let insp = &out.inspections[0];
    assert!(!insp.to_server);
    assert!(has(insp, Buffer::HttpStatCode, b"200"));
    assert!(has(insp, Buffer::FileData, b"body"));
}

#[test]
fn raw_stream_chunks_carry_a_bounded_context() {
    let a = vec![b'a'; 3000];
    let (_, outs, _) =
        run(&[(true, 0x18, 1, &a), (true, 0x18, 3001, b"bcd"), (true, 0x18, 3001, b"bcd")]);
    assert!(outs[0].in_stream);
    assert_eq!(outs[0].chunks.len(), 1);
    assert_eq!((outs[0].chunks[0].new_from, outs[0].chunks[0].offset), (0, 0));
    assert_eq!(outs[0].chunks[0].data, a);
    let c = &outs[1].chunks[0];
    assert_eq!(c.new_from, STREAM_CONTEXT);
    assert_eq!(c.offset, (3000 - STREAM_CONTEXT) as u64);
    assert_eq!(&c.data[c.new_from - 2..], b"aabcd");
    assert!(outs[2].retransmission);
    assert!(outs[2].chunks.is_empty());
}

#[test]
fn retransmission_does_not_inspect_twice() {
    let req: &[u8] = b"GET / HTTP/1.1\r\n\r\n";
    let (_, outs, c) = run(&[(true, 0x18, 1, req), (true, 0x18, 1, req)]);
    assert_eq!(outs[0].inspections.len(), 1);
    assert!(outs[1].inspections.is_empty());
    assert_eq!(c.http_tx, 1);
}

#[test]
fn unknown_protocols_give_up_after_the_probe() {
    let (s, _, c) = run(&[(true, 0x18, 1, &[0u8; 5000]), (false, 0x18, 1, &[1u8; 5000])]);
    assert_eq!(s.app_proto, None);
    assert_eq!(c.detect_failed, 1);
}

/// A handshake message in a TLS record.
fn record(hs_type: u8, body: &[u8]) -> Vec<u8> {
    let mut hs = vec![hs_type];
    hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend(body);
    let mut r = vec![22, 3, 1];
    r.extend((hs.len() as u16).to_be_bytes());
    r.extend(hs);
    r
}

#[test]
fn tls_handshake_buffers_and_record() {
    let ch = record(1, &tls::tests::hello());
    let mut sh_body = vec![3, 3];
    sh_body.extend([9u8; 32]);
    sh_body.extend([0, 0x13, 0x01, 0]);
    sh_body.extend([0, 0]);
    let cert = x509::tests::certificate("portal.hue.gov.vn", "Test CA");
    let mut cert_body = Vec::new();
    cert_body.extend(&((cert.len() + 3) as u32).to_be_bytes()[1..]);
    cert_body.extend(&(cert.len() as u32).to_be_bytes()[1..]);
    cert_body.extend(&cert);
    let mut server = record(2, &sh_body);
    server.extend(record(11, &cert_body));
    server.extend([20, 3, 3, 0, 1, 1]); // ChangeCipherSpec
                                        // The ClientHello split across two segments.
    let (a, b) = ch.split_at(7);
    let (s, outs, c) =
        run(&[(true, 0x18, 1, a), (true, 0x18, 1 + a.len() as u32, b), (false, 0x18, 1, &server)]);
    assert_eq!(s.app_proto, Some(AppProto::Tls));
    let client = &outs[1].inspections[0];
    assert!(has(client, Buffer::TlsSni, b"portal.hue.gov.vn"));
    assert!(client.buffers.iter().any(|(b, v)| *b == Buffer::Ja3Hash && v.len() == 32));
    let srv = &outs[2].inspections[0];
    assert!(has(srv, Buffer::TlsCertSubject, "O=Sở TTTT Huế, CN=portal.hue.gov.vn".as_bytes()));
    assert!(has(srv, Buffer::TlsCertIssuer, b"C=VN, CN=Test CA"));
    assert!(has(srv, Buffer::TlsCerts, &cert));
    assert!(has(srv, Buffer::TlsVersion, b"1.2"));
    assert!(has(srv, Buffer::TlsSni, b"portal.hue.gov.vn"));
    match &outs[2].records[0].1 {
        Record::Tls(t) => {
            assert_eq!(t.sni.as_deref(), Some("portal.hue.gov.vn"));
            assert_eq!(t.version.as_deref(), Some("TLS 1.2"));
            assert_eq!(t.serial.as_deref(), Some("00:9C:01:FF"));
            assert_eq!(t.client_alpns, vec!["h2".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.tls_handshakes, 1);
    assert_eq!(c.tls_errors, 0);
}

/// An SSH binary packet (RFC 4253, 6) of message `code` with `payload`, 4 bytes of
/// padding.
fn ssh_packet(code: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = ((payload.len() + 1 + 1 + 4) as u32).to_be_bytes().to_vec();
    p.push(4);
    p.push(code);
    p.extend_from_slice(payload);
    p.extend_from_slice(&[0; 4]);
    p
}

/// A KEXINIT offering `lists` (10 comma-joined name-lists).
fn kexinit(lists: [&str; 10]) -> Vec<u8> {
    let mut body = vec![7u8; 16];
    for l in lists {
        body.extend_from_slice(&(l.len() as u32).to_be_bytes());
        body.extend_from_slice(l.as_bytes());
    }
    body.extend_from_slice(&[0; 5]);
    ssh_packet(20, &body)
}

#[test]
fn ssh_banners_hassh_and_the_record_after_the_key_exchange() {
    let lists = ["k1", "h", "e1", "e2", "m1", "m2", "none", "zlib", "", ""];
    let (srv_kex, cli_kex) = (kexinit(lists), kexinit(lists));
    let mut cli = b"libssh_0.9.6\r\n".to_vec();
    // The client's KEXINIT follows its banner in the same segment, split after 9 bytes.
    cli.extend_from_slice(&cli_kex[..9]);
    let newkeys = ssh_packet(21, &[]);
    let (_, outs, c) = run(&[
        (false, 0x18, 1, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
        (true, 0x18, 1, b"SSH-2.0-"),
        (true, 0x18, 9, &cli),
        (true, 0x18, 9 + cli.len() as u32, &cli_kex[9..]),
        (false, 0x18, 33, &srv_kex),
        (false, 0x18, 33 + srv_kex.len() as u32, &newkeys),
        (true, 0x18, 9 + cli.len() as u32 + cli_kex.len() as u32 - 9, &newkeys),
    ]);
    assert!(has(&outs[0].inspections[0], Buffer::SshSoftware, b"OpenSSH_9.2p1"));
    assert!(has(&outs[2].inspections[0], Buffer::SshProto, b"2.0"));
    // md5("k1;e1;m1;none") and md5("k1;e2;m2;zlib").
    let client_hash = b"d78b70dd0c9bb81766fc4a96f68b6861";
    assert!(has(&outs[3].inspections[0], Buffer::SshHassh, client_hash));
    assert!(has(&outs[3].inspections[0], Buffer::SshHasshString, b"k1;e1;m1;none"));
    assert!(has(&outs[4].inspections[0], Buffer::SshHasshServerString, b"k1;e2;m2;zlib"));
    assert!(outs[..6].iter().all(|o| o.records.is_empty()), "logged before the keys");
    match &outs[6].records[0].1 {
        Record::Ssh(r) => {
            let client = r.client.as_ref().unwrap();
            assert_eq!(client.software_version, "libssh_0.9.6");
            assert_eq!(client.hassh.as_ref().unwrap().hash.as_bytes(), client_hash);
            let server = r.server.as_ref().unwrap();
            assert_eq!(server.software_version, "OpenSSH_9.2p1");
            assert_eq!(server.hassh.as_ref().unwrap().hash, "00df92bd1fc5d8ed2dac8725f9b5cc0b");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.ssh_banners, 2);
}

/// A KEXINIT completed by bytes that also hold the next packet whole (the key
/// exchange's first message reassembled with it) still gives the side's HASSH.
#[test]
fn ssh_kexinit_completed_with_the_next_packet_in_the_same_bytes() {
    let lists = ["k1", "h", "e1", "e2", "m1", "m2", "none", "zlib", "", ""];
    let kex = kexinit(lists);
    let mut rest = kex[20..].to_vec();
    rest.extend_from_slice(&ssh_packet(30, &[9; 40]));
    let mut first = b"SSH-2.0-x\r\n".to_vec();
    first.extend_from_slice(&kex[..20]);
    let (_, outs, _) = run(&[
        (false, 0x18, 1, b"SSH-2.0-OpenSSH_9.2p1\r\n"),
        (true, 0x18, 1, &first),
        (true, 0x18, 1 + first.len() as u32, &rest),
    ]);
    let hassh =
        outs[2].inspections.iter().find(|i| has(i, Buffer::SshHasshString, b"k1;e1;m1;none"));
    assert!(hassh.is_some(), "{:?}", outs[2].inspections);
}

/// The segment whose acknowledgement makes the session encrypted says so, and the
/// clear bytes still held for the other direction's next packet (the client's
/// NEWKEYS) are handed over for pseudo packets rather than lost.
#[test]
fn turning_encrypted_hands_over_what_is_held() {
    let nk = ssh_packet(21, &[]);
    let n = nk.len() as u32;
    let (mut s, outs, _) = run_with(
        false,
        &[
            (true, 0x02, 99, 0, b""),
            (false, 0x12, 499, 100, b""),
            (true, 0x10, 100, 500, b""),
            (false, 0x18, 500, 100, b"SSH-2.0-s\r\n"),
            (true, 0x18, 100, 511, b"SSH-2.0-c\r\n"),
            (false, 0x18, 511, 111, &nk),
            (true, 0x18, 111, 511 + n, &nk),
            // Acknowledges the client's NEWKEYS: both sides have switched keys.
            (false, 0x10, 511 + n, 111 + n, b""),
        ],
    );
    assert!(outs[..7].iter().all(|o| !o.went_encrypted));
    assert!(outs[7].went_encrypted && !outs[7].encrypted);
    assert!(s.encrypted());
    let mut held = AppOutput::default();
    s.take_held(&mut Memcap::new(1 << 20), &mut held);
    let client: Vec<u8> = held
        .end_chunks
        .iter()
        .filter(|(d, _)| *d == 0)
        .flat_map(|(_, c)| c.data[c.new_from..].to_vec())
        .collect();
    assert!(client.ends_with(&nk), "{held:?}");
    // Nothing is handed over twice.
    let mut again = AppOutput::default();
    s.take_held(&mut Memcap::new(1 << 20), &mut again);
    assert!(again.end_chunks.is_empty() && again.inspections.is_empty());
}

#[test]
fn smtp_envelope_attachment_and_starttls() {
    let mail: &[u8] = b"EHLO pc01\r\nMAIL FROM:<a@hue.gov.vn>\r\nRCPT TO:<b@hue.gov.vn>\r\nDATA\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nhello\r\n--B--\r\n.\r\n";
    let (s, outs, c) =
        run(&[(false, 0x18, 1, b"220 mail.hue.gov.vn ESMTP\r\n"), (true, 0x18, 1, mail)]);
    assert_eq!(s.app_proto, Some(AppProto::Smtp));
    let insp = &outs[1].inspections[0];
    assert!(has(insp, Buffer::SmtpHelo, b"pc01"));
    assert!(has(insp, Buffer::SmtpRcptTo, b"b@hue.gov.vn"));
    assert!(has(insp, Buffer::FileData, b"hello"));
    let kinds: Vec<&str> = outs[1]
        .records
        .iter()
        .map(|(_, r)| match r {
            Record::Fileinfo(f) => {
                assert_eq!(f.filename, "a.txt");
                "fileinfo"
            }
            Record::Smtp(e) => {
                assert_eq!(e.smtp.rcpt_to, vec!["<b@hue.gov.vn>"]);
                assert_eq!(e.email.attachment, vec!["a.txt"]);
                "smtp"
            }
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, vec!["fileinfo", "smtp"]);
    assert_eq!((c.smtp_mails, c.smtp_attachments), (1, 1));
}

#[test]
fn magic_types_are_libmagics() {
    let html = describe(b"<!DOCTYPE html><html>");
    assert_eq!(html.as_deref(), Some("HTML document, ASCII text, with no line terminators"));
    // libmagic's "data" (nothing recognised) is no type.
    assert_eq!(describe(b"\x00\x01\x02"), None);
}

/// Pipelined requests nobody answers, `n` of them, through a session with these
/// limits and an application-layer budget of `app_budget` bytes (inline delivery).
fn pipelined(
    n: usize,
    limits: &SessionLimits,
    app_budget: usize,
) -> (TcpSession, Vec<AppOutput>, AppCounters, Memcap) {
    let mut s = TcpSession::default();
    let (mut mem, mut app_mem) = (Memcap::new(1 << 20), Memcap::new(app_budget));
    let mut c = AppCounters::default();
    let req: &[u8] = b"GET /a HTTP/1.0\r\nHost: h\r\nUser-Agent: x\r\n\r\n";
    let mut seq = 100u32;
    let mut outs = Vec::new();
    for _ in 0..n {
        let mut out = AppOutput::default();
        let mut cx = SegmentCx {
            ports: [40000, 80],
            limits,
            mem: &mut mem,
            app_mem: &mut app_mem,
            counters: &mut c,
        };
        let seg = Segment { to_server: true, flags: 0x18, seq, ack: 0, payload: req };
        s.on_segment(seg, &mut cx, &mut out);
        seq = seq.wrapping_add(req.len() as u32);
        outs.push(out);
    }
    (s, outs, c, app_mem)
}

fn http_records(out: &AppOutput) -> usize {
    out.records.iter().filter(|(_, r)| matches!(r, Record::Http(_))).count()
}

/// Hardening finding 1: a flow of requests nobody answers holds at most `max_tx`
/// transactions; the one beyond raises `http.too_many_transactions` and ends HTTP
/// parsing of the flow; what was held is logged at the flow's end.
#[test]
fn finding_1_pending_http_transactions_are_bounded_per_flow() {
    let mut limits = SessionLimits { inline: true, ..SessionLimits::default() };
    limits.http.max_tx = 8;
    let (mut s, outs, mut c, app_mem) = pipelined(50, &limits, 1 << 20);
    let events: Vec<_> = outs.iter().flat_map(|o| o.events.iter().copied()).collect();
    assert_eq!(events, ["http.too_many_transactions"]);
    assert_eq!(c.by_name.get("http_too_many_transactions"), Some(&1));
    // Each request is inspected once complete; none after the bound.
    let inspected: usize = outs.iter().map(|o| o.inspections.len()).sum();
    assert_eq!(inspected, 8);
    assert_eq!(c.http_tx, 8);
    let held = app_mem.used();
    assert!(held > 8 * 40 && held < 64 * 1024, "{held}");
    let mut out = AppOutput::default();
    end(&mut s, &mut c, &mut out);
    assert_eq!(http_records(&out), 8, "the held transactions are logged at the end");
}

/// Hardening finding 1: the parser state of all sessions is charged to the worker's
/// application-layer memcap; a session that would pass it is no longer parsed, its
/// pending transactions are logged at once, and its memory is given back.
#[test]
fn finding_1_parser_state_is_charged_to_the_app_layer_memcap() {
    let limits = SessionLimits { inline: true, ..SessionLimits::default() };
    let (mut s, outs, mut c, app_mem) = pipelined(200, &limits, 16 * 1024);
    let events: Vec<_> = outs.iter().flat_map(|o| o.events.iter().copied()).collect();
    assert_eq!(events, ["app_layer.memcap"]);
    assert_eq!(c.by_name.get("app_layer_memcap"), Some(&1));
    let stopped_at = outs.iter().position(|o| o.events.contains(&"app_layer.memcap")).unwrap();
    let logged = http_records(&outs[stopped_at]);
    assert!(logged > 10 && logged == c.http_tx as usize, "{logged} of {}", c.http_tx);
    assert_eq!(app_mem.used(), 0, "the stopped parser's memory is given back");
    // Later requests are not parsed; the protocol stays known.
    assert!(outs[stopped_at + 1..].iter().all(|o| o.inspections.is_empty()));
    assert_eq!(s.app_proto, Some(AppProto::Http));
    let mut out = AppOutput::default();
    end(&mut s, &mut c, &mut out);
    assert_eq!(http_records(&out), 0, "nothing logged twice");
}

/// Stream bytes acknowledged by the server wait for the client's next packet to be
/// inspected with it: charged to the reassembly memcap meanwhile, given back when
/// handed out; a memcap that cannot hold them drops them from stream inspection,
/// counted, and the parser still gets them.
#[test]
fn stream_chunks_held_for_a_packet_are_charged_to_the_reassembly_memcap() {
    let hs: [(bool, u8, u32, u32, &[u8]); 3] =
        [(true, 0x02, 99, 0, b""), (false, 0x12, 499, 100, b""), (true, 0x10, 100, 500, b"")];
    let get = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    let n = get.len() as u32;
    let mut mem = Memcap::new(1 << 20);
    let mut s = TcpSession::default();
    run_in(&mut s, false, &hs, &mut mem);
    run_in(&mut s, false, &[(true, 0x18, 100, 500, get)], &mut mem);
    assert_eq!(mem.used(), get.len(), "held for reassembly");
    // The server acknowledges: the bytes move to the chunk waiting for the client.
    let (outs, _) = run_in(&mut s, false, &[(false, 0x10, 500, 100 + n, b"")], &mut mem);
    assert!(outs[0].chunks.is_empty());
    assert_eq!(mem.used(), get.len(), "held for the client's next packet");
    let (outs, _) = run_in(&mut s, false, &[(true, 0x10, 100 + n, 500, b"")], &mut mem);
    assert_eq!(outs[0].chunks.len(), 1);
    assert_eq!(mem.used(), 0);

    // A memcap that cannot hold the chunk (what other sessions hold has filled it;
    // a budget of zero here): not held, the parser still sees the request.
    let mut s = TcpSession::default();
    let mut mem = Memcap::new(1 << 20);
    run_in(&mut s, false, &hs, &mut mem);
    run_in(&mut s, false, &[(true, 0x18, 100, 500, get)], &mut mem);
    let mut other = Memcap::new(0);
    let (outs, c) = run_in(&mut s, false, &[(false, 0x10, 500, 100 + n, b"")], &mut other);
    assert_eq!(c.raw_chunks_memcap, 1);
    assert!(outs[0].inspections.iter().any(|i| i.to_server));
    let (outs, _) = run_in(&mut s, false, &[(true, 0x10, 100 + n, 500, b"")], &mut other);
    assert!(outs[0].chunks.is_empty());
}
