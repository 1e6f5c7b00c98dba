//! Golden files: generated capture + rules → expected EVE, byte for byte.
//! Regenerate with `UPDATE_GOLDENFILES=1 cargo test --test tests golden`.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4};
use std::path::Path;

use gatewatch_sensor::capture::writer::PcapWriter;
use gatewatch_sensor::capture::LinkType;
use gatewatch_sensor::decode::checksum::transport_checksum;
use gatewatch_sensor::synth::{
    dns_message, eth_ipv4, icmp_echo, icmp_error, tls_client_hello, udp_datagram, Capture,
    TcpSession,
};

use super::common::{alert_sids, eve_lines, golden, run_in, Scratch};

pub(super) const T0: i64 = 1_791_939_600_000_000;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

pub(super) fn replay(dir: &Scratch, pcaps: &[&str], rules: &str, extra: &[&str]) -> String {
    std::fs::write(dir.path("test.rules"), rules).expect("rules");
    let mut args = vec!["replay"];
    args.extend_from_slice(pcaps);
    args.extend_from_slice(&["--rules", "test.rules", "--eve", "eve.json"]);
    args.extend_from_slice(extra);
    let out = run_in(&dir.0, &args);
    assert!(out.status.success(), "replay failed: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(dir.path("eve.json")).expect("eve output")
}

const PAYLOAD_RULES: &str = r#"
alert tcp any any -> any 80 (msg:"GET of an html page"; flow:to_server,established; content:"GET "; startswith; content:".html"; distance:0; within:20; sid:1; rev:2;)
alert tcp any 80 -> any any (msg:"HTTP 200 to client"; flow:to_client,established; content:"HTTP/1.1 200"; depth:12; classtype:misc-activity; sid:2;)
alert tcp any any -> any any (msg:"pcre relative"; content:"GET"; pcre:"/^\s+\/index/R"; content:"Host|3a|"; nocase; sid:3;)
alert tcp any any -> any 80 (msg:"set flowbit"; content:"GET "; flowbits:set,gw.get; flowbits:noalert; sid:4;)
alert tcp any 80 -> any any (msg:"response after GET"; flowbits:isset,gw.get; content:"hello"; sid:5; metadata:created_at 2026_10_01, signature_severity Major;)
alert tcp any any -> any any (msg:"id check returned root"; flow:not_established; content:"uid=0|28|root|29|"; target:dest_ip; classtype:bad-unknown; sid:6;)
alert udp any any -> any 53 (msg:"DNS evil name"; content:"|04|EVIL|07|example|03|org|00|"; nocase; classtype:trojan-activity; sid:7;)
alert icmp any any -> any any (msg:"ping limited"; itype:8; threshold:type limit, track by_src, count 2, seconds 60; sid:8;)
alert tcp any any -> any any (msg:"GET not POST"; content:"GET"; content:!"POST"; priority:1; sid:9;)
alert tcp any any -> any any (msg:"never: big"; dsize:>1000; sid:10;)
alert ip 10.1.1.0/24 any -> any any (msg:"ip-only from the office"; sid:11;)
pass tcp any any -> any 8443 (msg:"allowed service"; sid:12;)
alert tcp any any -> any 8443 (msg:"suppressed by pass"; content:"secret"; sid:13;)
alert icmp any any -> any any (msg:"port unreachable, in the DNS flow"; itype:3; flow:to_client; sid:14;)
alert icmp any any -> any any (msg:"time exceeded"; itype:11; sid:15;)
alert icmp any any -> any any (msg:"never: time exceeded in a flow"; itype:11; flow:to_client; sid:16;)
"#;

fn payload_capture() -> Capture {
    let mut cap = Capture::default();
    let mut s = TcpSession::new(
        SocketAddrV4::new(ip("10.1.1.1"), 40001),
        SocketAddrV4::new(ip("192.0.2.10"), 80),
        T0,
    );
    s.handshake()
        .client_send(b"GET /index.html HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n")
        .server_send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        .close();
    cap.add(s.into_frames());
    // No handshake: not established (midstream off).
    let mut m = TcpSession::new(
        SocketAddrV4::new(ip("192.0.2.99"), 8080),
        SocketAddrV4::new(ip("10.1.1.2"), 51000),
        T0 + 100_000,
    );
    m.client_send(b"uid=0(root) gid=0(root)\n");
    cap.add(m.into_frames());
    let q = dns_message(7, "evil.example.org", None);
    let query = eth_ipv4(
        ip("10.1.1.1"),
        ip("192.0.2.53"),
        17,
        &udp_datagram(ip("10.1.1.1"), ip("192.0.2.53"), 5000, 53, &q),
        1,
    );
    cap.push(T0 + 200_000, query.clone());
    // ICMP errors quoting the query (its IP header and 8 bytes): the server's port
    // unreachable counts in the DNS flow; a router's time exceeded belongs to no flow.
    let quoted = &query[14..14 + 28];
    let unreachable = icmp_error(3, 3, quoted);
    cap.push(T0 + 210_000, eth_ipv4(ip("192.0.2.53"), ip("10.1.1.1"), 1, &unreachable, 2));
    let exceeded = icmp_error(11, 0, quoted);
    cap.push(T0 + 220_000, eth_ipv4(ip("198.51.100.1"), ip("10.1.1.1"), 1, &exceeded, 3));
    for seq in 0..3 {
        cap.push(
            T0 + 300_000 + seq as i64 * 1000,
            eth_ipv4(
                ip("10.1.1.1"),
                ip("192.0.2.10"),
                1,
                &icmp_echo(true, 1, seq, b"ping"),
                10 + seq,
            ),
        );
    }
    let mut p = TcpSession::new(
        SocketAddrV4::new(ip("10.1.1.3"), 40002),
        SocketAddrV4::new(ip("192.0.2.10"), 8443),
        T0 + 400_000,
    );
    p.handshake().client_send(b"secret").close();
    cap.add(p.into_frames());
    cap
}

#[test]
fn payload_flow_flowbits_threshold_eve() {
    let dir = Scratch::new("golden-payload");
    payload_capture().write_pcap(&dir.path("payload.pcap")).expect("pcap");
    let eve = replay(&dir, &["payload.pcap"], PAYLOAD_RULES, &[]);
    let events = eve_lines(&dir.path("eve.json"));
    let mut sids = alert_sids(&events);
    sids.sort();
    // Rules with a content at an absolute position (1: startswith, 2: depth) match the
    // packet when it comes and the stream once the other side acknowledged it: two
    // alerts, as Suricata raises them.
    assert_eq!(sids, vec![1, 1, 2, 2, 3, 5, 6, 7, 8, 8, 9, 11, 11, 11, 11, 14, 15]);
    // The port unreachable is the DNS flow's packet to its client; no ICMP flow.
    let dns_flow = events
        .iter()
        .find(|e| e["event_type"] == "flow" && e["dest_port"] == 53)
        .expect("DNS flow record");
    assert_eq!(dns_flow["flow"]["pkts_toclient"], 1, "{dns_flow}");
    assert!(!events
        .iter()
        .any(|e| e["event_type"] == "flow" && e["proto"] == "ICMP" && e["icmp_type"] != 8));
    let exceeded = events.iter().find(|e| e["alert"]["signature_id"] == 15).expect("sid 15");
    assert!(exceeded.get("flow_id").is_none() && exceeded.get("direction").is_none());
    golden("payload.eve.json", &eve);
}

/// A UDP datagram split into three IPv4 fragments, sent out of order, plus a
/// conflicting overlap that first-wins must ignore.
fn fragment_frames() -> Vec<(i64, Vec<u8>)> {
    let (src, dst) = (ip("10.2.2.2"), ip("192.0.2.20"));
    let mut payload = vec![b'.'; 100];
    payload[20..37].copy_from_slice(b"FRAGMENTED-SECRET");
    let udp = udp_datagram(src, dst, 7777, 9999, &payload);
    let frag = |off: usize, end: usize, more: bool, data: &[u8]| {
        let mut f = eth_ipv4(src, dst, 17, &data[off..end], 0x4242);
        let flags_off: u16 = (if more { 0x2000 } else { 0 }) | (off / 8) as u16;
        f[14 + 6..14 + 8].copy_from_slice(&flags_off.to_be_bytes());
        f[14 + 10] = 0;
        f[14 + 11] = 0;
        let c = gatewatch_sensor::decode::checksum::ipv4_header_checksum(&f[14..34]);
        f[14 + 10..14 + 12].copy_from_slice(&c.to_be_bytes());
        f
    };
    let mut evil = udp.clone();
    evil[24..32].copy_from_slice(b"XXXXXXXX");
    vec![
        (T0, frag(24, 48, true, &udp)),
        (T0 + 1, frag(48, udp.len(), false, &udp)),
        (T0 + 2, frag(24, 32, true, &evil)),
        (T0 + 3, frag(0, 24, true, &udp)),
    ]
}

fn ipv6_tcp_frame(payload: &[u8]) -> Vec<u8> {
    let src: Ipv6Addr = "2001:db8:1::5".parse().expect("v6");
    let dst: Ipv6Addr = "2001:db8:2::80".parse().expect("v6");
    let mut tcp =
        vec![0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0];
    tcp.extend_from_slice(payload);
    let c = transport_checksum(src.into(), dst.into(), 6, &tcp);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd, 0x60, 0, 0, 0];
    f.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
    f.extend_from_slice(&[6, 64]);
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&dst.octets());
    f.extend_from_slice(&tcp);
    f
}

#[test]
fn fragments_and_ipv6_eve() {
    let dir = Scratch::new("golden-frag");
    let mut cap = Capture::default();
    cap.add(fragment_frames());
    cap.push(T0 + 10, ipv6_tcp_frame(b"v6-hello"));
    cap.write_pcap(&dir.path("frag.pcap")).expect("pcap");
    let rules = "alert udp any any -> any 9999 (msg:\"secret across fragments\"; flow:only_frag; content:\"FRAGMENTED-SECRET\"; sid:20;)\n\
                 alert tcp any any -> [2001:db8::/32] 80 (msg:\"v6 payload\"; content:\"v6-hello\"; sid:21;)\n";
    let eve = replay(&dir, &["frag.pcap"], rules, &["--set", "stream.midstream=true"]);
    let events = eve_lines(&dir.path("eve.json"));
    assert_eq!(alert_sids(&events), vec![20, 21]);
    let stats = events.iter().find(|e| e["event_type"] == "stats").expect("stats");
    assert_eq!(stats["stats"]["defrag"]["ipv4"]["reassembled"], 1);
    assert!(stats["stats"]["defrag"]["overlap_conflicts"].as_u64().unwrap_or(0) >= 1);
    golden("fragments.eve.json", &eve);
}

fn write_link(path: &Path, link: LinkType, frames: &[Vec<u8>]) {
    let f = std::fs::File::create(path).expect("pcap file");
    let mut w = PcapWriter::new(std::io::BufWriter::new(f), link, true).expect("header");
    for (i, fr) in frames.iter().enumerate() {
        w.write(T0 + i as i64 * 1000, fr).expect("record");
    }
    w.flush().expect("flush");
}

#[test]
fn link_types_vlan_and_nanosecond_pcaps_eve() {
    let dir = Scratch::new("golden-links");
    let (src, dst) = (ip("10.3.3.3"), ip("192.0.2.30"));
    let eth = eth_ipv4(src, dst, 17, &udp_datagram(src, dst, 1111, 2222, b"linktest"), 5);
    let ipv4 = eth[14..].to_vec();
    let mut vlan = eth[..12].to_vec();
    vlan.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a, 0x08, 0x00]);
    vlan.extend_from_slice(&ipv4);
    let mut qinq = eth[..12].to_vec();
    qinq.extend_from_slice(&[0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x00]);
    qinq.extend_from_slice(&ipv4);
    let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ipv4);
    let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    sll2.extend_from_slice(&ipv4);
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&ipv4);
    write_link(&dir.path("eth.pcap"), LinkType::ETHERNET, &[eth, vlan, qinq]);
    write_link(&dir.path("sll.pcap"), LinkType::LINUX_SLL, &[sll]);
    write_link(&dir.path("sll2.pcap"), LinkType::LINUX_SLL2, &[sll2]);
    write_link(&dir.path("raw.pcap"), LinkType::RAW, std::slice::from_ref(&ipv4));
    write_link(&dir.path("null.pcap"), LinkType::NULL, &[null]);
    let rules =
        "alert udp any any -> any 2222 (msg:\"link test\"; content:\"linktest\"; sid:30;)\n";
    let eve =
        replay(&dir, &["eth.pcap", "sll.pcap", "sll2.pcap", "raw.pcap", "null.pcap"], rules, &[]);
    let events = eve_lines(&dir.path("eve.json"));
    assert_eq!(alert_sids(&events).len(), 7);
    let stats = events.iter().find(|e| e["event_type"] == "stats").expect("stats");
    assert_eq!(stats["stats"]["decoder"]["vlan"], 2);
    assert_eq!(stats["stats"]["decoder"]["vlan_qinq"], 1);
    assert_eq!(stats["stats"]["capture"]["files"], 5);
    golden("link-types.eve.json", &eve);
}

const APP_RULES: &str = r#"
alert http any any -> any any (msg:"normalised uri"; http.uri; content:"/admin/login.php"; startswith; sid:101;)
alert http any any -> any any (msg:"credentials posted"; http.method; content:"POST"; http.request_body; content:"passwd="; sid:102;)
alert http any any -> any any (msg:"exe download"; flow:to_client; http.stat_code; content:"200"; file.data; content:"MZ"; startswith; sid:103;)
alert http any any -> any any (msg:"odd header"; http.header_names; content:"|0d 0a|X-Evil|0d 0a|"; nocase; sid:104;)
alert tls any any -> any any (msg:"sni of the province"; tls.sni; dotprefix; content:".hue.gov.vn"; endswith; sid:105;)
alert ssh any any -> any any (msg:"libssh client"; ssh.software; content:"libssh"; startswith; sid:106;)
alert tcp any any -> any any (msg:"legacy modifiers"; content:"login"; http_uri; content:"user="; http_uri; distance:0; sid:107;)
alert http any any -> any any (msg:"uri raw keeps the escape"; http.uri.raw; content:"%2e"; sid:108;)
alert http any any -> any any (msg:"never: host is lowercased"; http.host; content:"PORTAL"; sid:109;)
alert smtp any any -> any any (msg:"executable mailed to the director"; smtp.rcpt_to; content:"giamdoc@"; startswith; file.data; content:"MZ"; startswith; sid:110;)
"#;

pub(super) fn app_capture() -> Capture {
    let mut cap = Capture::default();
    let mut h = TcpSession::new(
        SocketAddrV4::new(ip("10.20.1.5"), 41000),
        SocketAddrV4::new(ip("192.0.2.80"), 80),
        T0,
    );
    // A request in three segments sent out of order with a retransmission, then a
    // pipelined POST; answers: a chunked page, then an executable.
    let get =
        b"GET /admin/./login%2ephp?user=a HTTP/1.1\r\nHost: PORTAL.example\r\nX-Evil: 1\r\n\r\n";
    let post = b"POST /auth HTTP/1.1\r\nHost: portal.example\r\nContent-Length: 21\r\n\r\npasswd=secret&user=ab";
    let mut both = get.to_vec();
    both.extend_from_slice(post);
    h.handshake()
        .client_send_in_order(&both, 40, &[1, 0, 2, 2, 4, 3])
        .server_send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n5\r\n<html\r\n2\r\n/>\r\n0\r\n\r\n")
        .server_send(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nMZ\x90\x00\x03\x00")
        .close();
    cap.add(h.into_frames());
    let mut t = TcpSession::new(
        SocketAddrV4::new(ip("10.20.1.6"), 41001),
        SocketAddrV4::new(ip("192.0.2.43"), 443),
        T0 + 100_000,
    );
    t.handshake().client_send(&tls_client_hello("mail.hue.gov.vn")).close();
    cap.add(t.into_frames());
    let mut s = TcpSession::new(
        SocketAddrV4::new(ip("10.20.1.7"), 41002),
        SocketAddrV4::new(ip("192.0.2.22"), 2222),
        T0 + 200_000,
    );
    s.handshake()
        .server_send(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        .client_send(b"SSH-2.0-libssh_0.10.6\r\n")
        .close();
    cap.add(s.into_frames());
    let mut m = TcpSession::new(
        SocketAddrV4::new(ip("10.20.1.8"), 41003),
        SocketAddrV4::new(ip("192.0.2.25"), 25),
        T0 + 300_000,
    );
    // A real program's headers, so that libmagic names it (`PE32 executable …`).
    let attachment = gatewatch_rules::signature::transform::base64_encode(
        &gatewatch_sensor::synth::files::pe32_program(0),
    );
    m.handshake()
        .server_send(b"220 mail.hue.gov.vn ESMTP\r\n")
        .client_send(b"EHLO ketoan-pc\r\n")
        .server_send(b"250 mail.hue.gov.vn\r\n")
        .client_send(b"MAIL FROM:<ketoan@phuvang.hue.gov.vn>\r\nRCPT TO:<giamdoc@hue.gov.vn>\r\nDATA\r\n")
        .server_send(b"250 OK\r\n250 OK\r\n354 go ahead\r\n")
        .client_send(format!("From: <ketoan@phuvang.hue.gov.vn>\r\nSubject: Bao cao quy\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nDinh kem.\r\n--b1\r\nContent-Disposition: attachment; filename=\"baocao.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n.\r\nQUIT\r\n", attachment).as_bytes())
        .close();
    cap.add(m.into_frames());
    cap
}

#[test]
fn app_layer_http_tls_ssh_smtp_eve() {
    let dir = Scratch::new("golden-app");
    app_capture().write_pcap(&dir.path("app.pcap")).expect("pcap");
    let eve = replay(&dir, &["app.pcap"], APP_RULES, &[]);
    let events = eve_lines(&dir.path("eve.json"));
    let mut sids = alert_sids(&events);
    sids.sort();
    assert_eq!(sids, vec![101, 102, 103, 104, 105, 106, 107, 108, 110]);
    let kinds: Vec<String> =
        events.iter().map(|e| e["event_type"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "http").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "fileinfo").count(), 3);
    assert_eq!(kinds.iter().filter(|k| *k == "smtp").count(), 1);
    assert_eq!(kinds.iter().filter(|k| *k == "tls").count(), 1);
    assert_eq!(kinds.iter().filter(|k| *k == "ssh").count(), 1);
    // Alerts carry their transaction, as Suricata's do.
    let by_sid = |sid: u64| {
        events.iter().find(|e| e["alert"]["signature_id"] == sid).expect("alert").clone()
    };
    assert_eq!(by_sid(102)["http"]["url"], "/auth");
    assert_eq!(by_sid(103)["http"]["status"], 200);
    assert_eq!(by_sid(105)["tls"]["sni"], "mail.hue.gov.vn");
    assert_eq!(by_sid(106)["ssh"]["client"]["software_version"], "libssh_0.10.6");
    assert_eq!(by_sid(110)["smtp"]["mail_from"], "<ketoan@phuvang.hue.gov.vn>");
    // A file says which transaction carried it, beside `app_proto`, as Suricata's do.
    let files: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event_type"] == "fileinfo").collect();
    let carried = |proto: &str| files.iter().filter(|f| f["app_proto"] == proto).count();
    assert!(files
        .iter()
        .filter(|f| f["app_proto"] == "http")
        .all(|f| f["http"]["url"].is_string()));
    assert!(files.iter().filter(|f| f["app_proto"] == "smtp").all(|f| {
        f["smtp"]["mail_from"] == "<ketoan@phuvang.hue.gov.vn>"
            && f["email"]["attachment"].is_array()
    }));
    assert_eq!(carried("http") + carried("smtp"), files.len(), "{files:?}");
    assert!(carried("http") > 0 && carried("smtp") > 0, "{files:?}");
    // Stats in Suricata's layout where it has the counter.
    let st = &events.iter().find(|e| e["event_type"] == "stats").expect("stats")["stats"];
    assert_eq!(st["app_layer"]["flow"]["http"], 1, "{st}");
    assert_eq!(st["app_layer"]["flow"]["tls"], 1, "{st}");
    assert_eq!(st["app_layer"]["flow"]["smtp"], 1, "{st}");
    assert_eq!(st["app_layer"]["tx"]["http"], 2, "{st}");
    assert_eq!(st["detect"]["engines"][0]["rules_loaded"], st["detect"]["rules_loaded"], "{st}");
    golden("app.eve.json", &eve);
}

#[test]
fn stream_content_across_segments_alerts_once() {
    let dir = Scratch::new("stream-content");
    let mut cap = Capture::default();
    let mut s = TcpSession::new(
        SocketAddrV4::new(ip("10.30.0.9"), 45000),
        SocketAddrV4::new(ip("192.0.2.25"), 9000),
        T0,
    );
    // "cmd=exec-payload" split after "cmd=ex"; every segment retransmitted once.
    let data = b"xxxxxxxxxxxxxxxxxxxxxxxxcmd=exec-payload yyyy";
    s.handshake().client_send_in_order(data, 30, &[0, 1, 0, 1]).close();
    cap.add(s.into_frames());
    cap.write_pcap(&dir.path("s.pcap")).expect("pcap");
    let rules = r#"
alert tcp any any -> any 9000 (msg:"split content"; flow:established,to_server; content:"cmd=exec"; sid:1;)
alert tcp any any -> any 9000 (msg:"in one segment"; flow:established,to_server; content:"payload"; sid:2;)
alert tcp any any -> any 9000 (msg:"anchored: stream offsets"; content:"cmd=exec"; depth:40; sid:3;)
alert tcp any any -> any 9000 (msg:"packet only"; flow:no_stream; content:"cmd=exec"; sid:5;)
alert tcp any any -> any 9000 (msg:"two contents across"; content:"xxxx"; content:"-pay"; distance:0; sid:4;)
"#;
    replay(&dir, &["s.pcap"], rules, &[]);
    let events = eve_lines(&dir.path("eve.json"));
    let mut sids = alert_sids(&events);
    sids.sort();
    // sid 3: as Suricata, an absolute depth counts from the start of the stream too
    // (bytes 24..32 of the stream); sid 5 looks at packets alone, where the content is
    // always split.
    assert_eq!(sids, vec![1, 2, 3, 4]);
    let st = &events.iter().find(|e| e["event_type"] == "stats").expect("stats")["stats"];
    assert_eq!(st["tcp"]["retransmissions"], 2);
}

#[test]
fn extracted_files_are_stored_by_sha256() {
    let dir = Scratch::new("filestore");
    app_capture().write_pcap(&dir.path("app.pcap")).expect("pcap");
    replay(&dir, &["app.pcap"], APP_RULES, &["--set", "files.store_dir=store"]);
    let events = eve_lines(&dir.path("eve.json"));
    let files: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event_type"] == "fileinfo").collect();
    assert_eq!(files.len(), 3);
    for f in files {
        assert_eq!(f["fileinfo"]["stored"], true);
        let sha = f["fileinfo"]["sha256"].as_str().expect("sha256");
        let stored =
            std::fs::read(dir.path("store").join(&sha[..2]).join(sha)).expect("stored file");
        assert_eq!(stored.len() as u64, f["fileinfo"]["size"].as_u64().expect("size"));
    }
    let st = &events.iter().find(|e| e["event_type"] == "stats").expect("stats")["stats"];
    assert_eq!(st["file_store"]["stored"], 3);
}

/// Enough patterns in one buffer for the bulk matchers (over 64 distinct), half of them
/// `nocase`: every matcher this build has raises exactly the alerts of the patterns that
/// occur; a matcher the build lacks is refused, naming the feature.
#[test]
fn bulk_matchers_raise_the_alerts_of_the_patterns_that_occur() {
    let dir = Scratch::new("golden-matchers");
    let mut rules = String::new();
    for i in 0..120u32 {
        let nocase = if i % 2 == 0 { " nocase;" } else { "" };
        rules += &format!(
            "alert tcp any any -> any any (msg:\"needle {i}\"; content:\"Needle-{i:03}\";{nocase} sid:{};)\n",
            1000 + i
        );
    }
    std::fs::write(dir.path("test.rules"), &rules).expect("rules");
    let mut cap = Capture::default();
    let mut s = TcpSession::new(
        SocketAddrV4::new(ip("10.1.1.1"), 40001),
        SocketAddrV4::new(ip("192.0.2.10"), 7000),
        T0,
    );
    // 7 exact, 42 in another case (nocase), 11 in another case (case-sensitive: no),
    // 99 split across two segments (found in the reassembled stream).
    s.handshake()
        .client_send(b"xx Needle-007 NEEDLE-042 NEEDLE-011 Need")
        .client_send(b"le-099 yy")
        .close();
    cap.add(s.into_frames());
    cap.write_pcap(&dir.path("needles.pcap")).expect("pcap");
    for matcher in ["hashed", "hyperscan"] {
        let set = format!("detect.matcher={matcher}");
        let out = run_in(
            &dir.0,
            &[
                "--set",
                &set,
                "replay",
                "needles.pcap",
                "--rules",
                "test.rules",
                "--eve",
                "eve.json",
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        if matcher == "hyperscan" && !cfg!(feature = "hyperscan") {
            assert!(!out.status.success());
            assert!(err.contains("--features hyperscan"), "{err}");
            continue;
        }
        assert!(out.status.success(), "{matcher}: {err}");
        let mut sids = alert_sids(&eve_lines(&dir.path("eve.json")));
        sids.sort();
        assert_eq!(sids, vec![1007, 1042, 1099], "matcher {matcher}");
    }
}
