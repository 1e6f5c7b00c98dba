//! `gatewatch correlator` as a process: host logs over HTTPS (mutual TLS), syslog UDP
//! and syslog TCP, through Sigma detection and correlation rules, into incidents in
//! SQLite; a rule reload on `gatewatch rules reload`; a clean stop on SIGTERM.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};

use super::common::{gatewatch, run_in, Scratch};

pub(super) struct Pki {
    pub ca: String,
    server: (String, String),
    pub client: (String, String),
    /// A client certificate of another CA.
    rogue: (String, String),
    /// A client certificate of the right CA that expired in 2021.
    expired: (String, String),
}

pub(super) fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().expect("key");
    let cert = p.self_signed(&key).expect("ca cert");
    (cert.pem(), Issuer::new(p, key))
}

pub(super) fn leaf(
    issuer: &Issuer<'static, KeyPair>,
    cn: &str,
    sans: &[&str],
    usage: ExtendedKeyUsagePurpose,
) -> (String, String) {
    let mut p = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("params");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.extended_key_usages = vec![usage];
    let key = KeyPair::generate().expect("key");
    let cert = p.signed_by(&key, issuer).expect("leaf cert");
    (cert.pem(), key.serialize_pem())
}

pub(super) fn pki() -> Pki {
    let (ca_pem, issuer) = ca("Gatewatch test CA");
    let (_, other) = ca("Someone else");
    Pki {
        ca: ca_pem,
        server: leaf(
            &issuer,
            "correlator",
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        ),
        client: leaf(&issuer, "wec01.hue.gov.vn", &[], ExtendedKeyUsagePurpose::ClientAuth),
        rogue: leaf(&other, "intruder", &[], ExtendedKeyUsagePurpose::ClientAuth),
        expired: {
            let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
            p.distinguished_name.push(DnType::CommonName, "old-sensor");
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2021, 1, 1);
            let key = KeyPair::generate().expect("key");
            (p.signed_by(&key, &issuer).expect("expired cert").pem(), key.serialize_pem())
        },
    }
}

const RULES: &str = r#"
title: Failed logon
name: failed_logon
id: 0e95725d-7320-415d-80f7-004da920fc11
logsource: { product: windows, service: security }
detection:
    selection: { EventID: 4625 }
    condition: selection
level: low
---
title: Logon brute force
id: 5b1f4b8e-0000-4000-8000-0000000000b1
correlation:
    type: event_count
    rules: [failed_logon]
    group-by: [IpAddress]
    timespan: 5m
    condition: { gte: 3 }
level: high
"#;

const LINUX_RULES: &str = r#"
title: SSH root login failure
id: 5b1f4b8e-0000-4000-8000-0000000000b2
logsource: { product: linux, service: sshd }
detection:
    keywords: ['Failed password for root']
    condition: keywords
level: medium
---
title: Chmod of a file in tmp
id: 5b1f4b8e-0000-4000-8000-0000000000b3
logsource: { product: linux, service: auditd }
detection:
    selection:
        type: EXECVE
        a0: chmod
        a2|startswith: '/tmp/'
    condition: selection
level: medium
"#;

pub(super) struct Service {
    pub child: Child,
    pub https: String,
    pub udp: String,
    pub tcp: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) fn start(dir: &Scratch) -> Service {
    let mut child = gatewatch()
        .current_dir(&dir.0)
        .args(["--config", "gatewatch.toml", "correlator", "--print-addresses"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the correlator");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("addresses");
    let a: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    // Listeners that are off are null: empty here (a panic before `child` is owned by
    // the Service would leave the process running and the test run hanging on it).
    let s = |k: &str| a[k].as_str().unwrap_or_default().to_string();
    Service { https: s("https"), udp: s("syslog_udp"), tcp: s("syslog_tcp"), child }
}

pub(super) fn client(p: &Pki, identity: Option<&(String, String)>) -> reqwest::blocking::Client {
    let mut b = reqwest::blocking::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(p.ca.as_bytes()).expect("ca"))
        .timeout(Duration::from_secs(60));
    if let Some((cert, key)) = identity {
        b = b.identity(
            reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).expect("identity"),
        );
    }
    b.build().expect("client")
}

/// Polls the stats until `done` holds (the service is asynchronous for syslog).
pub(super) fn wait_stats(
    c: &reqwest::blocking::Client,
    https: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s: serde_json::Value = c
            .get(format!("https://localhost:{}/api/v1/stats", port(https)))
            .send()
            .expect("stats")
            .bytes()
            .map(|b| serde_json::from_slice(&b).expect("json"))
            .expect("body");
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "stats never got there: {s:#}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(super) fn port(addr: &str) -> &str {
    addr.rsplit(':').next().expect("port")
}

fn logon(second: u32, ip: &str) -> String {
    format!(
        r##"{{"Event":{{"System":{{"EventID":4625,"Channel":"Security","Computer":"dc1.hue.gov.vn","TimeCreated":{{"#attributes":{{"SystemTime":"2026-11-23T01:00:{second:02}Z"}}}}}},"EventData":{{"IpAddress":"{ip}","TargetUserName":"admin"}}}}}}"##
    )
}

#[test]
fn host_logs_over_https_and_syslog_become_incidents() {
    let dir = Scratch::new("correlator-service");
    let p = pki();
    std::fs::create_dir_all(dir.path("pki")).expect("pki dir");
    std::fs::create_dir_all(dir.path("sigma")).expect("sigma dir");
    for (name, text) in [
        ("pki/ca.crt", p.ca.as_str()),
        ("pki/correlator.crt", p.server.0.as_str()),
        ("pki/correlator.key", p.server.1.as_str()),
        ("sigma/windows.yml", RULES),
    ] {
        std::fs::write(dir.path(name), text).expect("write");
    }
    std::fs::write(
        dir.path("gatewatch.toml"),
        r#"
[sigma]
rules = ["sigma"]
[store]
path = "data/gatewatch.db"
[control]
dir = "run"
[ingest]
https = "127.0.0.1:0"
syslog_udp = "127.0.0.1:0"
syslog_tcp = "127.0.0.1:0"
syslog_allow = ["127.0.0.0/8"]
tls_cert = "pki/correlator.crt"
tls_key = "pki/correlator.key"
client_ca = "pki/ca.crt"
"#,
    )
    .expect("config");
    let svc = start(&dir);
    let c = client(&p, Some(&p.client));
    let logs = format!("https://localhost:{}/api/v1/logs", port(&svc.https));

    // Three failures from one address (and one from another), one line of garbage.
    let body = [
        logon(1, "203.0.113.7"),
        logon(2, "203.0.113.7"),
        logon(3, "198.51.100.2"),
        "{not json".into(),
        logon(4, "203.0.113.7"),
    ]
    .join("\n");
    let r = c.post(&logs).body(body).send().expect("post");
    assert_eq!(r.status(), 200);
    let reply: serde_json::Value = serde_json::from_slice(&r.bytes().expect("body")).expect("json");
    assert_eq!(
        (reply["accepted"].as_u64(), reply["rejected"].as_u64(), reply["alerts"].as_u64()),
        (Some(4), Some(1), Some(1)),
        "{reply}"
    );
    assert!(reply["errors"][0].as_str().is_some_and(|e| e.starts_with("lines 4-")), "{reply}");
    // Nothing usable: 400 with the reason.
    let r = c.post(&logs).body("[1, 2").send().expect("post");
    assert_eq!(r.status(), 400);

    // Without a certificate, with one of another CA, with an expired one, or in plain
    // HTTP: no exchange, and each refusal is counted (and logged).
    let failures =
        |s: &serde_json::Value| s["listeners"]["tls_handshake_failures"].as_u64().unwrap_or(0);
    let refused_before = failures(&wait_stats(&c, &svc.https, |_| true));
    assert!(client(&p, None).post(&logs).body(logon(5, "203.0.113.7")).send().is_err());
    assert!(client(&p, Some(&p.rogue)).post(&logs).body(logon(5, "203.0.113.7")).send().is_err());
    assert!(client(&p, Some(&p.expired)).post(&logs).body(logon(5, "203.0.113.7")).send().is_err());
    let plain = format!("http://127.0.0.1:{}/api/v1/logs", port(&svc.https));
    assert!(reqwest::blocking::Client::new().post(&plain).body("{}").send().is_err());
    let s = wait_stats(&c, &svc.https, |s| failures(s) >= refused_before + 4);
    assert_eq!(failures(&s), refused_before + 4, "four refusals counted");
    let metrics = c
        .get(format!("https://localhost:{}/metrics", port(&svc.https)))
        .send()
        .and_then(|r| r.text())
        .expect("metrics");
    let want = format!(
        "gatewatch_correlator_listeners_tls_handshake_failures_total {}",
        refused_before + 4
    );
    assert!(metrics.lines().any(|l| l == want), "{metrics}");
    super::common::promtool_check("the correlator's /metrics", &metrics);

    // The Linux rules are not loaded yet: add them and reload.
    std::fs::write(dir.path("sigma/linux.yml"), LINUX_RULES).expect("linux rules");
    let out =
        run_in(&dir.0, &["--config", "gatewatch.toml", "rules", "reload", "--timeout", "120"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("reloaded") && text.contains("generation 2"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_stats(&c, &svc.https, |s| s["detection"]["rules_generation"] == 2);

    // Syslog: an sshd failure over UDP; an auditd record and a bad message over TCP
    // (octet-counted, then newline-framed).
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    udp.send_to(b"<38>Nov 23 09:59:58 gw01 sshd[4123]: Failed password for root from 203.0.113.9 port 50022 ssh2", &svc.udp)
        .expect("send");
    let audit = r#"<29>Nov 23 09:00:00 db01 audispd: type=EXECVE msg=audit(1795400000.120:881): argc=3 a0="chmod" a1="+x" a2=2F746D702F782073682E7368"#;
    let mut tcp = std::net::TcpStream::connect(&svc.tcp).expect("tcp");
    tcp.write_all(format!("{} {audit}<999>bad priority\n", audit.len()).as_bytes()).expect("write");
    drop(tcp);
    let stats = wait_stats(&c, &svc.https, |s| {
        s["detection"]["hostlog"]["events"] == 6 && s["listeners"]["bad_messages"] == 1
    });
    assert_eq!(stats["listeners"]["udp_messages"], 1, "{stats:#}");
    assert_eq!(stats["listeners"]["tcp_messages"], 2, "{stats:#}");
    assert_eq!(
        stats["detection"]["hostlog"]["detections"], 6,
        "4 failed logons, sshd, auditd: {stats:#}"
    );
    assert_eq!(stats["detection"]["hostlog"]["correlations"], 1, "{stats:#}");
    assert_eq!(stats["detection"]["alerts_stored"], 3, "{stats:#}");

    // Stop: SIGTERM; the store holds the incidents.
    let mut svc = svc;
    // SAFETY: kill(2) on our own child process.
    assert!(super::common::terminate(svc.child.id()));
    let status = svc.child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    let out = run_in(&dir.0, &["--config", "gatewatch.toml", "incidents", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("incidents json");
    let titles: Vec<&str> =
        list.as_array().expect("array").iter().filter_map(|i| i["title"].as_str()).collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(titles.iter().any(|t| t.contains("SIGMA correlation Logon brute force") && t.contains("203.0.113.7")), "{titles:?}");
    assert!(titles.iter().any(|t| t.contains("SIGMA SSH root login failure")), "{titles:?}");
    assert!(titles.iter().any(|t| t.contains("SIGMA Chmod of a file in tmp")), "{titles:?}");
}

#[test]
fn the_correlator_refuses_to_start_without_listeners_or_with_bad_pki() {
    let dir = Scratch::new("correlator-config");
    std::fs::create_dir_all(dir.path("sigma")).expect("sigma dir");
    std::fs::write(dir.path("sigma/windows.yml"), RULES).expect("rules");
    let out = run_in(&dir.0, &["--set", "sigma.rules=[\"sigma\"]", "correlator"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing to listen on"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run_in(
        &dir.0,
        &[
            "--set",
            "sigma.rules=[\"sigma\"]",
            "--set",
            "ingest.https=\"127.0.0.1:0\"",
            "--set",
            "ingest.tls_cert=\"missing.crt\"",
            "correlator",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("`missing.crt`"), "{err}");
    let out = run_in(
        &dir.0,
        &[
            "--set",
            "sigma.rules=[\"sigma\"]",
            "--set",
            "ingest.syslog_udp=\"127.0.0.1:0\"",
            "--set",
            "ingest.local_utc_offset=\"7\"",
            "correlator",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("ingest.local_utc_offset `7`"), "{err}");
}

/// An EVE alert line of Suricata's shape.
fn eve_alert(n: u32, src: &str, dst: &str) -> String {
    format!(
        r#"{{"timestamp":"2026-11-23T08:{:02}:{:02}.{:06}+0700","flow_id":{n},"in_iface":"eth1","event_type":"alert","src_ip":"{src}","src_port":{},"dest_ip":"{dst}","dest_port":80,"proto":"TCP","alert":{{"action":"allowed","gid":1,"signature_id":2024897,"rev":3,"signature":"ET WEB_SERVER Possible SQL Injection","category":"Web Application Attack","severity":1,"metadata":{{"mitre_tactic_id":["TA0001"]}}}},"http":{{"hostname":"portal","url":"/?id=1","status":404}},"host":"suricata-hue-01"}}"#,
        (n / 60) % 60,
        n % 60,
        n,
        30000 + n % 30000
    )
}

fn append(path: &std::path::Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open eve");
    for l in lines {
        writeln!(f, "{l}").expect("append");
    }
}

fn eve_config(dir: &Scratch) {
    std::fs::write(
        dir.path("gatewatch.toml"),
        r#"
[store]
path = "data/gatewatch.db"
[control]
dir = "run"
[ingest]
https = "127.0.0.1:0"
tls_cert = "pki/correlator.crt"
tls_key = "pki/correlator.key"
client_ca = "pki/ca.crt"
eve_files = ["suricata/eve.json"]
eve_poll_ms = 50
"#,
    )
    .expect("config");
}

pub(super) fn write_pki(dir: &Scratch, p: &Pki) {
    std::fs::create_dir_all(dir.path("pki")).expect("pki dir");
    for (name, text) in [
        ("pki/ca.crt", p.ca.as_str()),
        ("pki/correlator.crt", p.server.0.as_str()),
        ("pki/correlator.key", p.server.1.as_str()),
    ] {
        std::fs::write(dir.path(name), text).expect("write");
    }
}

/// Alerts of the EVE lines' rule the store holds (repeats included; correlation alerts
/// are not counted), through the API.
fn alerts_via_api(c: &reqwest::blocking::Client, https: &str) -> u64 {
    let get = |path: String| -> serde_json::Value {
        let r = c.get(format!("https://localhost:{}{path}", port(https))).send().expect("get");
        serde_json::from_slice(&r.bytes().expect("body")).expect("json")
    };
    let list = get("/api/v1/incidents?limit=1000".into());
    let mut n = 0;
    for i in list.as_array().expect("array") {
        let d = get(format!("/api/v1/incidents/{}", i["id"]));
        for r in d["rules"].as_array().expect("rules") {
            if r["sid"] == 2024897 {
                n += r["alerts"].as_u64().expect("count");
            }
        }
    }
    n
}

fn wait_alerts(c: &reqwest::blocking::Client, https: &str, want: u64) {
    let t0 = Instant::now();
    loop {
        let n = alerts_via_api(c, https);
        if n == want {
            return;
        }
        assert!(n < want, "more alerts than written: {n} > {want}");
        assert!(t0.elapsed() < Duration::from_secs(60), "only {n} of {want} alerts arrived");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn eve_files_are_tailed_through_rotation_and_restart_without_loss_or_duplicates() {
    let dir = Scratch::new("correlator-eve-tail");
    let p = pki();
    write_pki(&dir, &p);
    eve_config(&dir);
    std::fs::create_dir_all(dir.path("suricata")).expect("dir");
    let eve = dir.path("suricata/eve.json");
    let lines = |from: u32, to: u32| -> Vec<String> {
        (from..to)
            .map(|n| eve_alert(n, "203.0.113.9", &format!("10.46.{}.{}", n % 7, n % 200)))
            .collect()
    };
    append(&eve, &lines(0, 100));
    append(&eve, &[r#"{"event_type":"dns","dns":{"rrname":"x"}}"#.into(), "garbage {".into()]);
    let svc = start(&dir);
    let c = client(&p, Some(&p.client));
    wait_alerts(&c, &svc.https, 100);
    let stats = wait_stats(&c, &svc.https, |s| s["eve_files"][0]["bad_lines"] == 1);
    assert_eq!(stats["eve_files"][0]["other_events"], 1, "{stats:#}");

    // Rename rotation while running: the old file's last lines, then the new file.
    append(&eve, &lines(100, 110));
    std::fs::rename(&eve, dir.path("suricata/eve.json.1")).expect("rotate");
    append(&eve, &lines(110, 160));
    wait_alerts(&c, &svc.https, 160);

    // Stopped: lines arrive and the file rotates again while the correlator is down.
    let mut svc = svc;
    // SAFETY: kill(2) on our own child process.
    assert!(super::common::terminate(svc.child.id()));
    assert!(svc.child.wait().expect("wait").success());
    append(&eve, &lines(160, 200));
    std::fs::rename(&eve, dir.path("suricata/eve.json.2")).expect("rotate");
    append(&eve, &lines(200, 220));
    let svc = start(&dir);
    wait_alerts(&c, &svc.https, 220);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(alerts_via_api(&c, &svc.https), 220, "nothing twice after the restart");

    // Alerts of one scanner against many hosts: one campaign incident, not 200.
    let list: serde_json::Value = c
        .get(format!("https://localhost:{}/api/v1/incidents?sort=score", port(&svc.https)))
        .send()
        .expect("list")
        .bytes()
        .map(|b| serde_json::from_slice(&b).expect("json"))
        .expect("body");
    let arr = list.as_array().expect("array");
    assert!(arr.len() < 20, "{} incidents for one scanner", arr.len());
    assert!(arr.iter().any(|i| i["entity"] == "203.0.113.9"), "{list:#}");
}

#[test]
fn eve_over_the_api_is_stored_once_and_incidents_are_served() {
    let dir = Scratch::new("correlator-eve-api");
    let p = pki();
    write_pki(&dir, &p);
    eve_config(&dir);
    let svc = start(&dir);
    let c = client(&p, Some(&p.client));
    let url = |path: &str| format!("https://localhost:{}{path}", port(&svc.https));
    let body = [
        eve_alert(1, "203.0.113.9", "10.46.10.20"),
        eve_alert(2, "203.0.113.9", "10.46.10.20"),
        eve_alert(3, "198.51.100.4", "10.46.20.5"),
        r#"{"event_type":"flow","flow_id":1}"#.into(),
        "{broken".into(),
    ]
    .join("\n");
    let r: serde_json::Value = c
        .post(url("/api/v1/eve"))
        .body(body.clone())
        .send()
        .expect("post")
        .bytes()
        .map(|b| serde_json::from_slice(&b).expect("json"))
        .expect("body");
    assert_eq!(
        (
            r["alerts"].as_u64(),
            r["stored"].as_u64(),
            r["other_events"].as_u64(),
            r["rejected"].as_u64()
        ),
        // Stored: the three alerts and the flow record (evidence).
        (Some(3), Some(4), Some(1), Some(1)),
        "{r}"
    );
    assert!(r["errors"][0].as_str().is_some_and(|e| e.starts_with("line 5: not JSON")), "{r}");
    // Sent again (a forwarder retrying): stored once.
    let r: serde_json::Value = c
        .post(url("/api/v1/eve"))
        .body(body)
        .send()
        .expect("post")
        .bytes()
        .map(|b| serde_json::from_slice(&b).expect("json"))
        .expect("body");
    assert_eq!((r["stored"].as_u64(), r["duplicates"].as_u64()), (Some(0), Some(4)), "{r}");

    let list: serde_json::Value = c
        .get(url("/api/v1/incidents"))
        .send()
        .expect("list")
        .bytes()
        .map(|b| serde_json::from_slice(&b).expect("json"))
        .expect("body");
    let arr = list.as_array().expect("array");
    assert_eq!(arr.len(), 2, "{list:#}");
    let portal = arr.iter().find(|i| i["entity"] == "10.46.10.20").expect("portal incident");
    assert_eq!(portal["alert_count"], 2);
    let id = portal["id"].as_i64().expect("id");
    let d: serde_json::Value = c
        .get(url(&format!("/api/v1/incidents/{id}")))
        .send()
        .expect("detail")
        .bytes()
        .map(|b| serde_json::from_slice(&b).expect("json"))
        .expect("body");
    assert_eq!(d["rules"][0]["sid"], 2024897);
    assert_eq!(d["alerts"].as_array().map(Vec::len), Some(2));
    assert_eq!(d["audit"][0]["action"], "incident.create");
    let r = c.get(url("/api/v1/incidents/999999")).send().expect("missing");
    assert_eq!(r.status(), 404);
    let e: serde_json::Value =
        r.bytes().map(|b| serde_json::from_slice(&b).expect("json")).expect("body");
    assert_eq!(e["error"]["code"], "not_found");
    let r = c.get(url("/api/v1/incidents?status=bogus")).send().expect("bad filter");
    assert_eq!(r.status(), 400);
    // Filters and injection attempts in them are data, not SQL.
    let q: serde_json::Value = c
        .get(url("/api/v1/incidents?q=%27%20OR%201%3D1%20--&agency=x%27%3B%20DROP%20TABLE%20incidents%3B--"))
        .send()
        .expect("query")
        .bytes().map(|b| serde_json::from_slice(&b).expect("json")).expect("body");
    assert_eq!(q.as_array().map(Vec::len), Some(0), "{q}");
    let min: serde_json::Value = c
        .get(url("/api/v1/incidents?min_score=1&status=new"))
        .send()
        .expect("q")
        .bytes()
        .map(|b| serde_json::from_slice(&b).expect("json"))
        .expect("body");
    assert_eq!(min.as_array().map(Vec::len), Some(2));
}
