//! The correlator's listeners under hostile load (hardening findings 3, 4 and 5):
//! large bodies do not stall it or take its memory, idle connections do not lock
//! senders out. Figures (latencies, peak memory) are printed, not asserted: tests never
//! fail on time; what is asserted is that every request was answered as documented and
//! nothing was lost.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::common::{peak_mib, Scratch};
use super::correlator::{client, pki, port, start, wait_stats, write_pki};

fn config(dir: &Scratch, extra: &str) {
    let text = format!(
        r#"
[store]
path = "data/gatewatch.db"
[control]
dir = "run"
[ingest]
https = "127.0.0.1:0"
syslog_udp = "127.0.0.1:0"
syslog_tcp = "127.0.0.1:0"
tls_cert = "pki/correlator.crt"
tls_key = "pki/correlator.key"
client_ca = "pki/ca.crt"
{extra}
"#
    );
    std::fs::write(dir.path("gatewatch.toml"), text).expect("config");
}

/// A host log body of `events` pretty-printed events (one key per line).
fn multi_line_logs(events: usize, keys: usize) -> String {
    let mut body = String::from("[\n");
    for e in 0..events {
        body.push_str("  {\n");
        for k in 0..keys {
            body.push_str(&format!("    \"Field{k}\": \"value {e} {k}\",\n"));
        }
        body.push_str("    \"EventID\": 1\n  }");
        body.push_str(if e + 1 < events { ",\n" } else { "\n" });
    }
    body.push_str("]\n");
    body
}

/// A findings body of about `bytes` bytes (records the store does not keep).
fn findings_body(tag: usize, bytes: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(bytes + 1024);
    let mut n = 0;
    while body.len() < bytes {
        let line = format!(
            "{{\"id\":\"load-{tag}-{n}\",\"record\":{{\"event_type\":\"netflow\",\"src_ip\":\"10.0.0.{}\",\"pad\":\"{}\"}}}}\n",
            n % 250,
            "x".repeat(400)
        );
        body.extend_from_slice(line.as_bytes());
        n += 1;
    }
    body
}

/// Hardening findings 3 and 4: two 200 KB multi-line `/logs` bodies and eight 30 MB
/// findings bodies at once. Health is answered all along; each body is answered 200,
/// or 503/429 with `Retry-After` when beyond the listener's limits; 1,000 UDP syslog
/// messages sent at 1,000/s meanwhile all arrive, with no drop counted by the kernel.
#[test]
fn finding_3_and_4_large_bodies_do_not_stall_the_correlator() {
    let dir = Scratch::new("listeners-load");
    let p = pki();
    write_pki(&dir, &p);
    // The in-flight byte limit is what this test reaches (not the per-address one).
    config(&dir, "max_inflight_bytes = 67108864\nmax_requests_per_address = 16\n");
    let svc = start(&dir);
    let https = port(&svc.https).to_string();
    let stop = Arc::new(AtomicBool::new(false));

    // Health, every 100 ms, timed.
    let health = {
        let (c, https, stop) = (client(&p, Some(&p.client)), https.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut worst = Duration::ZERO;
            let mut answered = 0;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = c.get(format!("https://localhost:{https}/api/v1/health")).send();
                assert!(r.is_ok_and(|r| r.status() == 200), "health did not answer");
                worst = worst.max(t.elapsed());
                answered += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            (answered, worst)
        })
    };
    // UDP syslog at 1,000 messages a second.
    let udp = {
        let to: SocketAddr = svc.udp.parse().expect("udp address");
        std::thread::spawn(move || {
            let sock = UdpSocket::bind("127.0.0.1:0").expect("udp");
            let start = Instant::now();
            for i in 0..1000u32 {
                let msg = format!("<13>Nov 23 10:00:00 fw1 app[1]: message {i}");
                sock.send_to(msg.as_bytes(), to).expect("send");
                let due = start + Duration::from_millis(u64::from(i + 1));
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
        })
    };
    let mut posts = Vec::new();
    for i in 0..2 {
        let (c, https) = (client(&p, Some(&p.client)), https.clone());
        let body = multi_line_logs(200 + i, 40);
        assert!(body.len() > 200_000);
        posts.push(std::thread::spawn(move || {
            let r = c.post(format!("https://localhost:{https}/api/v1/logs")).body(body).send();
            let r = r.expect("logs answered");
            let status = r.status().as_u16();
            let retry = r.headers().contains_key("retry-after");
            let v: serde_json::Value =
                r.bytes().ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
            (status, retry, v)
        }));
    }
    for i in 0..8 {
        let (c, https) = (client(&p, Some(&p.client)), https.clone());
        let body = findings_body(i, 30 << 20);
        posts.push(std::thread::spawn(move || {
            let r = c.post(format!("https://localhost:{https}/api/v1/findings")).body(body).send();
            let r = r.expect("findings answered");
            let status = r.status().as_u16();
            let retry = r.headers().contains_key("retry-after");
            let v: serde_json::Value =
                r.bytes().ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
            (status, retry, v)
        }));
    }
    let answers: Vec<_> = posts.into_iter().map(|t| t.join().expect("poster")).collect();
    udp.join().expect("udp sender");
    stop.store(true, Ordering::Relaxed);
    let (answered, worst) = health.join().expect("health");
    let c = client(&p, Some(&p.client));
    let st = wait_stats(&c, &svc.https, |s| s["listeners"]["udp_messages"] == 1000);
    let l = &st["listeners"];
    eprintln!(
        "health: {answered} answers, slowest {:.3} s; correlator peak {:.0} MiB; answers {:?}",
        worst.as_secs_f64(),
        peak_mib(svc.child.id()),
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    for (i, (status, retry, v)) in answers[..2].iter().enumerate() {
        assert_eq!(*status, 200, "{v}");
        assert_eq!(
            (v["accepted"].as_u64(), v["rejected"].as_u64()),
            (Some(200 + i as u64), Some(0))
        );
        assert!(!retry);
    }
    let mut stored = 0;
    for (status, retry, v) in &answers[2..] {
        match status {
            200 => stored += 1,
            503 | 429 => assert!(retry, "{status} without Retry-After"),
            other => panic!("findings answered {other}: {v}"),
        }
    }
    assert!(stored >= 1, "some findings bodies are admitted");
    assert_eq!(l["udp_kernel_drops"], 0, "{l}");
    assert_eq!(l["udp_dropped_queue_full"], 0, "{l}");
    assert!(answered > 0);
}

/// Hardening finding 5: 600 silent syslog TCP connections from one address do not lock
/// out a sender at another address; silent connections are closed after the idle
/// timeout.
#[test]
fn finding_5_idle_syslog_connections_do_not_lock_out_a_sender() {
    let dir = Scratch::new("listeners-idle");
    let p = pki();
    write_pki(&dir, &p);
    config(&dir, "idle_timeout_secs = 3\n");
    let svc = start(&dir);
    let to: SocketAddr = svc.tcp.parse().expect("tcp address");
    let idle: Vec<TcpStream> = (0..600).filter_map(|_| TcpStream::connect(to).ok()).collect();
    let c = client(&p, Some(&p.client));
    let n = |s: &serde_json::Value, k: &str| s["listeners"][k].as_u64().unwrap_or(0);
    let st = wait_stats(&c, &svc.https, |s| {
        n(s, "tcp_connections") + n(s, "tcp_refused_per_address") >= 600
    });
    // At most 16 open at once from that address (more are let in as idle ones close).
    let open = n(&st, "tcp_connections") - n(&st, "tcp_idle_closed");
    assert!(open <= 16 && n(&st, "tcp_refused_per_address") >= 500, "{st}");
    // A real sender, from another loopback address.
    let mut sender = connect_from("127.0.0.2", to);
    sender.write_all(b"<13>Nov 23 10:00:00 fw2 app[1]: from the real sender\n").expect("send");
    drop(sender);
    wait_stats(&c, &svc.https, |s| n(s, "tcp_messages") == 1);
    // The silent ones are all closed once idle (the sender closed its own).
    let st = wait_stats(&c, &svc.https, |s| n(s, "tcp_idle_closed") + 1 == n(s, "tcp_connections"));
    assert_eq!(n(&st, "bad_messages"), 0);
    drop(idle);
}

/// A TCP connection to `to` from the loopback address `from` (any of 127/8).
fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let sock =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let from: SocketAddr = format!("{from}:0").parse().expect("address");
    sock.bind(&from.into()).expect("bind a loopback address");
    sock.connect(&to.into()).expect("connect");
    sock.into()
}

/// Hardening finding 5, from many addresses: 600 silent connections, ten from each of
/// 60 addresses (within the per-address share), against the 512 the listener holds and
/// an idle timeout of two minutes. The listener holds 512 at once; a real sender who
/// comes later takes the place of the connection silent the longest, and
/// its message is read at once, not after the idle timeout.
#[test]
fn finding_5_idle_connections_from_many_addresses_do_not_lock_out_a_sender() {
    let dir = Scratch::new("listeners-idle-many");
    let p = pki();
    write_pki(&dir, &p);
    config(&dir, "");
    let svc = start(&dir);
    let to: SocketAddr = svc.tcp.parse().expect("tcp address");
    let idle: Vec<TcpStream> =
        (0..600).map(|i| connect_from(&format!("127.0.1.{}", 1 + i / 10), to)).collect();
    let c = client(&p, Some(&p.client));
    let n = |s: &serde_json::Value, k: &str| s["listeners"][k].as_u64().unwrap_or(0);
    let st = wait_stats(&c, &svc.https, |s| {
        n(s, "tcp_connections") + n(s, "tcp_refused_too_many") >= 600
    });
    // 512 held; the rest refused, or let in in place of one silent for a second by then
    // (opening 600 connections may take that long on a busy machine).
    let open = |s: &serde_json::Value| n(s, "tcp_connections") - n(s, "tcp_evicted_idle");
    assert_eq!(open(&st), 512, "{st}");
    assert_eq!((n(&st, "tcp_refused_per_address"), n(&st, "tcp_idle_closed")), (0, 0), "{st}");
    // Silence long enough to be evictable; a sender that arrives now gets a place.
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    let mut sender = connect_from("127.0.0.2", to);
    sender.write_all(b"<13>Nov 23 10:00:00 fw2 app[1]: the real sender\n").expect("send");
    let before = n(&st, "tcp_evicted_idle");
    let st = wait_stats(&c, &svc.https, |s| n(s, "tcp_messages") == 1);
    assert_eq!(n(&st, "tcp_evicted_idle"), before + 1, "{st}");
    assert_eq!((open(&st), n(&st, "tcp_idle_closed")), (512, 0), "{st}");
    drop((sender, idle));
}

/// Hardening finding 7: certificates made by `gatewatch pki issue` carry a role; a log
/// forwarder may post logs only (not findings: `403`, which a sensor's shipper would
/// put in its dead-letter folder), a reader may read only, a sensor may post findings.
#[test]
fn finding_7_a_certificate_may_do_what_its_role_says() {
    let dir = Scratch::new("listeners-roles");
    let gw = |args: &[&str]| {
        let out = super::common::run_in(&dir.0, args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    gw(&["pki", "init"]);
    gw(&["pki", "issue", "correlator", "--role", "server", "--dns", "localhost"]);
    for (name, role) in [("hue-sensor-01", "sensor"), ("wec01", "forwarder"), ("grafana", "reader")]
    {
        gw(&["pki", "issue", name, "--role", role]);
    }
    config(&dir, "");
    let svc = start(&dir);
    let https = port(&svc.https).to_string();
    let pem = |f: &str| std::fs::read(dir.path(&format!("pki/{f}"))).expect("pem");
    let as_ = |name: &str| {
        let ca = reqwest::Certificate::from_pem(&pem("ca.crt")).expect("ca");
        let id = reqwest::Identity::from_pem(
            &[pem(&format!("{name}.crt")), pem(&format!("{name}.key"))].concat(),
        )
        .expect("identity");
        reqwest::blocking::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .identity(id)
            .build()
            .expect("client")
    };
    let url = |p: &str| format!("https://localhost:{https}{p}");
    let finding = "{\"id\":\"1\",\"record\":{\"event_type\":\"netflow\"}}\n";
    let post = |who: &str, p: &str, body: &str| {
        as_(who).post(url(p)).body(body.to_string()).send().expect("answered").status().as_u16()
    };
    let get = |who: &str, p: &str| as_(who).get(url(p)).send().expect("answered").status().as_u16();
    assert_eq!(post("wec01", "/api/v1/findings", finding), 403);
    assert_eq!(post("wec01", "/api/v1/eve", "{}"), 403);
    assert_eq!(post("wec01", "/api/v1/logs", "{\"EventID\": 1}\n"), 200);
    assert_eq!(get("wec01", "/api/v1/incidents"), 403);
    assert_eq!(post("grafana", "/api/v1/logs", "{\"EventID\": 1}\n"), 403);
    assert_eq!(get("grafana", "/api/v1/incidents"), 200);
    assert_eq!(post("hue-sensor-01", "/api/v1/findings", finding), 200);
    assert_eq!(get("hue-sensor-01", "/api/v1/incidents"), 403);
    assert_eq!(get("wec01", "/api/v1/health"), 200);
    let st: serde_json::Value = serde_json::from_slice(
        &as_("grafana").get(url("/api/v1/stats")).send().expect("stats").bytes().expect("body"),
    )
    .expect("json");
    assert_eq!(st["listeners"]["forbidden"], 5, "{st}");
}

/// A request body that arrives one byte every 50 ms, and never ends in time.
struct Trickle(usize);

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0 == 0 || buf.is_empty() {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(50));
        self.0 -= 1;
        buf[0] = b' ';
        Ok(1)
    }
}

/// Hardening finding 12: the correlator stops when asked while a body trickles in and
/// large bodies are being read and parsed: it does not wait for them (it took 30 s).
/// The time is printed; what is asserted is that it stops, cleanly, with its counters.
#[test]
fn finding_12_the_correlator_stops_during_slow_requests() {
    let dir = Scratch::new("listeners-stop");
    let p = pki();
    write_pki(&dir, &p);
    config(&dir, "");
    let mut svc = start(&dir);
    let https = port(&svc.https).to_string();
    let c = client(&p, Some(&p.client));
    let mut posts = Vec::new();
    {
        let (c, https) = (client(&p, Some(&p.client)), https.clone());
        posts.push(std::thread::spawn(move || {
            let body = reqwest::blocking::Body::sized(Trickle(100_000), 100_000);
            let _ = c.post(format!("https://localhost:{https}/api/v1/logs")).body(body).send();
        }));
    }
    for i in 0..2 {
        let (c, https) = (client(&p, Some(&p.client)), https.clone());
        let (path, body) = match i {
            0 => ("logs", multi_line_logs(400, 40).into_bytes()),
            _ => ("findings", findings_body(9, 30 << 20)),
        };
        posts.push(std::thread::spawn(move || {
            let _ = c.post(format!("https://localhost:{https}/api/v1/{path}")).body(body).send();
        }));
    }
    // The two large bodies are read (their parsing starts); the trickle goes on.
    let n = |s: &serde_json::Value, k: &str| s["listeners"][k].as_u64().unwrap_or(0);
    wait_stats(&c, &svc.https, |s| n(s, "https_requests") >= 2);
    let asked = Instant::now();
    assert!(super::common::terminate(svc.child.id()));
    let status = loop {
        if let Some(st) = svc.child.try_wait().expect("wait") {
            break st;
        }
        assert!(asked.elapsed() < Duration::from_secs(120), "the correlator did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!("finding 12: stopped {:.2} s after SIGTERM", asked.elapsed().as_secs_f64());
    assert!(status.success(), "{status:?}");
    for t in posts {
        let _ = t.join();
    }
}
