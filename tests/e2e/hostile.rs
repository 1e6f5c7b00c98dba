//! Hostile inputs: truncated and corrupt captures, random frames, SYN floods. Nothing
//! panics, bounds hold, and what was dropped is counted.

use std::net::SocketAddrV4;

use gatewatch_sensor::capture::writer::PcapWriter;
use gatewatch_sensor::capture::LinkType;
use gatewatch_sensor::synth::{eth_ipv4, tcp_segment, Capture, TcpSession};

use super::common::{eve_lines, run_in, Scratch};

const T0: i64 = 1_791_939_600_000_000;

/// xorshift64*: deterministic noise without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn stats(dir: &Scratch) -> serde_json::Value {
    eve_lines(&dir.path("eve.json"))
        .into_iter()
        .find(|e| e["event_type"] == "stats")
        .expect("stats record")["stats"]
        .clone()
}

#[test]
fn truncated_capture_keeps_what_was_readable() {
    let dir = Scratch::new("truncated");
    let mut s = TcpSession::new(
        "10.0.0.1:1000".parse().expect("addr"),
        "10.0.0.2:80".parse().expect("addr"),
        T0,
    );
    s.handshake().client_send(b"GET /ok HTTP/1.1\r\n\r\n").close();
    let mut cap = Capture::default();
    cap.add(s.into_frames());
    let bytes = cap.to_pcap_bytes();
    std::fs::write(dir.path("cut.pcap"), &bytes[..bytes.len() - 10]).expect("write");
    std::fs::write(
        dir.path("r.rules"),
        "alert tcp any any -> any any (content:\"GET /ok\"; sid:1;)\n",
    )
    .expect("write");
    let out = run_in(&dir.0, &["replay", "cut.pcap", "--rules", "r.rules", "--eve", "eve.json"]);
    assert!(out.status.success(), "a truncated file is not fatal");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("truncated packet data at byte"), "{err}");
    let st = stats(&dir);
    assert_eq!(st["capture"]["files_truncated"], 1);
    assert_eq!(st["decoder"]["pkts"], 7, "all complete records before the cut");
    assert_eq!(st["detect"]["alert"], 1);
}

#[test]
fn unreadable_capture_is_an_error_naming_the_file() {
    let dir = Scratch::new("garbage");
    std::fs::write(dir.path("notes.txt"), b"this is not a capture").expect("write");
    std::fs::write(dir.path("r.rules"), "alert ip any any -> any any (sid:1;)\n").expect("write");
    let out = run_in(&dir.0, &["replay", "notes.txt", "--rules", "r.rules", "--eve", "eve.json"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.txt") && err.contains("not a pcap"), "{err}");
    let out =
        run_in(&dir.0, &["replay", "missing.pcap", "--rules", "r.rules", "--eve", "eve.json"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open `missing.pcap`"));
}

#[test]
fn random_frames_are_counted_not_fatal() {
    let dir = Scratch::new("random");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let f = std::fs::File::create(dir.path("noise.pcap")).expect("create");
    let mut w =
        PcapWriter::new(std::io::BufWriter::new(f), LinkType::ETHERNET, false).expect("header");
    let valid = eth_ipv4(
        "10.9.9.9".parse().expect("ip"),
        "10.8.8.8".parse().expect("ip"),
        6,
        &tcp_segment(
            "10.9.9.9".parse().expect("ip"),
            "10.8.8.8".parse().expect("ip"),
            1,
            2,
            0,
            0,
            0x18,
            b"hello",
        ),
        1,
    );
    for i in 0..20_000i64 {
        let mut frame =
            if i % 2 == 0 { valid.clone() } else { vec![0u8; (rng.next() % 200) as usize] };
        // Flip random bytes, including the headers.
        for _ in 0..(rng.next() % 8) {
            if !frame.is_empty() {
                let at = (rng.next() as usize) % frame.len();
                frame[at] = rng.next() as u8;
            }
        }
        w.write(T0 + i, &frame).expect("record");
    }
    w.flush().expect("flush");
    drop(w);
    std::fs::write(dir.path("r.rules"), "alert tcp any any -> any any (content:\"hello\"; sid:1;)\nalert ip any any -> any any (sid:2;)\n").expect("write");
    let out = run_in(
        &dir.0,
        &[
            "replay",
            "noise.pcap",
            "--rules",
            "r.rules",
            "--eve",
            "eve.json",
            "--set",
            "capture.checksum_validation=true",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let st = stats(&dir);
    assert_eq!(st["decoder"]["pkts"], 20_000);
    assert!(st["decoder"]["invalid"].as_u64().unwrap_or(0) > 1000, "{st}");
    assert!(st["decoder"]["checksum_dropped"].as_u64().unwrap_or(0) > 100, "{st}");
    assert!(st["decoder"]["event"].as_object().is_some_and(|m| !m.is_empty()));
}

#[test]
fn syn_flood_is_bounded_by_the_flow_cap() {
    let dir = Scratch::new("synflood");
    let mut cap = Capture::default();
    for i in 0..100_000u32 {
        let src = SocketAddrV4::new(
            std::net::Ipv4Addr::from(0x0a00_0000 + i),
            1024 + (i % 60_000) as u16,
        );
        let dst: std::net::Ipv4Addr = "192.0.2.1".parse().expect("ip");
        let seg = tcp_segment(*src.ip(), dst, src.port(), 80, i, 0, 0x02, &[]);
        cap.push(T0 + i as i64 * 10, eth_ipv4(*src.ip(), dst, 6, &seg, i as u16));
    }
    cap.write_pcap(&dir.path("syn.pcap")).expect("pcap");
    std::fs::write(dir.path("r.rules"), "alert tcp any any -> any 80 (flags:S; threshold:type limit, track by_dst, count 1, seconds 60; sid:1;)\n").expect("write");
    let out = run_in(
        &dir.0,
        &[
            "replay",
            "syn.pcap",
            "--rules",
            "r.rules",
            "--eve",
            "eve.json",
            "--set",
            "flow.max_flows=5000",
            "--set",
            "eve.flow=false",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let st = stats(&dir);
    assert_eq!(st["flow"]["total"], 100_000);
    assert_eq!(st["flow"]["evicted"], 95_000);
    assert_eq!(st["detect"]["alert"], 1);
}

#[test]
fn out_of_order_data_is_bounded_by_the_stream_memcap() {
    let dir = Scratch::new("memcap");
    let mut cap = Capture::default();
    let body: Vec<u8> = (0..4000u32).map(|i| b'a' + (i % 26) as u8).collect();
    for i in 0..500u32 {
        let mut s = TcpSession::new(
            SocketAddrV4::new(std::net::Ipv4Addr::from(0x0a01_0000 + i), 40000),
            "192.0.2.80:80".parse().expect("addr"),
            T0 + i as i64 * 1000,
        );
        // The first segment is lost: everything after it waits out of order.
        s.handshake().client_send_in_order(&body, 400, &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        cap.add(s.into_frames());
    }
    cap.write_pcap(&dir.path("ooo.pcap")).expect("pcap");
    std::fs::write(dir.path("r.rules"), "alert tcp any any -> any any (content:\"zzz\"; sid:1;)\n")
        .expect("write");
    let out = run_in(
        &dir.0,
        &[
            "replay",
            "ooo.pcap",
            "--rules",
            "r.rules",
            "--eve",
            "eve.json",
            "--set",
            "stream.memcap=100000",
            // Bytes go on as they come: with acknowledgements, the receiver's ack of the
            // lost segment would give the hole up at once and nothing would wait.
            "--set",
            "stream.inline=true",
            "--set",
            "eve.flow=false",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let st = stats(&dir);
    let dropped = st["tcp"]["memcap_dropped"].as_u64().unwrap_or(0);
    // 500 × 3,600 bytes held out of order against a 100,000-byte cap.
    assert!(dropped >= 500 * 3600 - 100_000, "{st}");
    assert_eq!(st["tcp"]["reassembly_memuse"], 0, "all reassembly memory given back");
    assert_eq!(st["flow"]["total"], 500);
}

#[test]
fn overlapping_conflicting_segments_are_counted_and_bounded() {
    let dir = Scratch::new("overlap");
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut cap = Capture::default();
    let dst: std::net::Ipv4Addr = "192.0.2.80".parse().expect("ip");
    let mut t = T0;
    for i in 0..300u32 {
        let src = std::net::Ipv4Addr::from(0x0a02_0000 + i);
        let sport = 30000 + i as u16;
        let isn = rng.next() as u32;
        let syn = tcp_segment(src, dst, sport, 80, isn, 0, 0x02, &[]);
        cap.push(t, eth_ipv4(src, dst, 6, &syn, 1));
        t += 10;
        // The server answers: a SYN nobody answers starts no reassembly.
        let syn_ack = tcp_segment(dst, src, 80, sport, 7, isn.wrapping_add(1), 0x12, &[]);
        cap.push(t, eth_ipv4(dst, src, 6, &syn_ack, 1));
        t += 10;
        // 40 segments at random offsets in the first 2 KB, random lengths and bytes:
        // overlaps, conflicts, holes, retransmissions, some HTTP-looking starts.
        for k in 0..40u16 {
            let off = (rng.next() % 2048) as u32;
            let len = (rng.next() % 300) as usize + 1;
            let mut data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if k % 7 == 0 {
                data.splice(0..0, b"GET /x HTTP/1.1\r\n".iter().copied());
            }
            let seg = tcp_segment(src, dst, sport, 80, isn.wrapping_add(1 + off), 1, 0x18, &data);
            cap.push(t, eth_ipv4(src, dst, 6, &seg, k));
            t += 10;
        }
    }
    cap.write_pcap(&dir.path("overlap.pcap")).expect("pcap");
    std::fs::write(
        dir.path("r.rules"),
        "alert http any any -> any any (http.uri; content:\"/x\"; sid:1;)\nalert tcp any any -> any any (content:\"GET\"; sid:2;)\n",
    )
    .expect("write");
    let out = run_in(
        &dir.0,
        &[
            "replay",
            "overlap.pcap",
            "--rules",
            "r.rules",
            "--eve",
            "eve.json",
            "--set",
            "stream.midstream=true",
            "--set",
            "stream.memcap=300000",
            "--set",
            "eve.flow=false",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let st = stats(&dir);
    assert_eq!(st["decoder"]["pkts"], 300 * 42);
    assert!(st["tcp"]["overlap"].as_u64().unwrap_or(0) > 1000, "{st}");
    assert!(st["tcp"]["overlap_diff_data"].as_u64().unwrap_or(0) > 1000, "{st}");
    assert_eq!(st["tcp"]["reassembly_memuse"], 0, "all reassembly memory given back");
}

/// A capture of `flows` TCP connections to port 80, each with `size` bytes from the
/// client: requests nobody answers when `pipelined`, otherwise one request answered
/// by a `size`-byte response (the benign capture of the same size).
fn http_capture(path: &std::path::Path, flows: u32, size: usize, pipelined: bool) {
    let req: &[u8] = b"GET / HTTP/1.0\r\n\r\n";
    let mut cap = Capture::default();
    for i in 0..flows {
        let mut s = TcpSession::new(
            SocketAddrV4::new(std::net::Ipv4Addr::from(0x0a02_0000 + i), 40000),
            "192.0.2.80:80".parse().expect("addr"),
            T0 + i as i64 * 1000,
        );
        s.handshake();
        if pipelined {
            s.client_send(&req.repeat(size / req.len()));
        } else {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n");
            s.client_send(req).server_send(&[head.as_bytes(), &vec![b'x'; size]].concat());
        }
        cap.add(s.into_frames());
    }
    cap.write_pcap(path).expect("pcap");
}

/// The peak memory `gatewatch replay` reports.
fn reported_peak_mib(stderr: &[u8]) -> f64 {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().find_map(|l| l.strip_prefix("replay: peak memory "));
    line.and_then(|l| l.trim_end_matches(" MiB").parse().ok()).expect("peak memory reported")
}

/// Hardening finding 1: 200 connections of 50,000 pipelined requests nobody answers
/// (the capture that took the sensor to 5.2 GB) stay within the per-flow bound and the
/// memcaps: at most `max_tx` transactions per flow are held, each flow raises
/// `http.too_many_transactions`, and the peak memory stays near that of a benign
/// capture of the same size.
#[test]
fn finding_1_pipelined_http_is_bounded_by_the_memcaps() {
    let dir = Scratch::new("pipelined");
    let (flows, size) = (200, 50_000 * 18);
    http_capture(&dir.path("attack.pcap"), flows, size, true);
    http_capture(&dir.path("benign.pcap"), flows, size, false);
    std::fs::write(dir.path("r.rules"), "alert tcp any any -> any any (content:\"zzz\"; sid:1;)\n")
        .expect("write");
    let mut peaks = Vec::new();
    for name in ["benign", "attack"] {
        let (pcap, eve) = (format!("{name}.pcap"), format!("{name}.json"));
        let args = ["replay", &pcap, "--rules", "r.rules", "--eve", &eve];
        let out = run_in(&dir.0, &[&args[..], &["--set", "eve.flow=false"]].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        peaks.push(reported_peak_mib(&out.stderr));
    }
    let events = eve_lines(&dir.path("attack.json"));
    let st = &events.iter().find(|e| e["event_type"] == "stats").expect("stats")["stats"];
    let tcp = &st["app_layer"]["counters"];
    assert_eq!(tcp["http_too_many_transactions"], flows, "{tcp}");
    assert_eq!(tcp["http_tx"], flows * 512, "{tcp}");
    assert_eq!(st["app_layer"]["memuse"], 0, "all parser memory given back");
    let http = events.iter().filter(|e| e["event_type"] == "http").count();
    assert_eq!(http, flows as usize * 512, "the held transactions are logged");
    // The transactions held: 200 × 512 × a few hundred bytes, far below the memcaps.
    let (benign, attack) = (peaks[0], peaks[1]);
    assert!(attack < benign + 128.0, "attack {attack:.1} MiB, benign {benign:.1} MiB");
}
