//! Findings from a live sensor to the correlator over mutual TLS, through the spool:
//! the sensor captures on a veth pair (as in `live.rs`), the correlator listens on the
//! capture namespace's loopback. The correlator is killed (-9) in the middle of a
//! stream of 100,000 findings and restarted: every finding is stored exactly once.
//! Then the sensor is killed (-9) with findings spooled that the correlator (down)
//! never acknowledged, and restarted: none is lost.

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gatewatch_sensor::synth::{self, Capture};

use super::common::{run_in, Scratch};
use super::live::{cannot_run, netns_turn, Veth};

const RULE: &str =
    "alert udp any any -> any 5555 (msg:\"GW-TEST probe\"; content:\"GWX\"; sid:7000001; rev:1;)\n";

/// The deployment's certificates, made with `gatewatch pki` as an operator would.
pub(super) fn write_pki(dir: &Scratch) {
    for args in [
        &["pki", "init", "--name", "Hue SOC test CA"][..],
        &[
            "pki",
            "issue",
            "correlator",
            "--role",
            "server",
            "--dns",
            "localhost",
            "--ip",
            "127.0.0.1",
        ],
        &["pki", "issue", "hue-sensor-01", "--role", "client"],
    ] {
        let out = run_in(&dir.0, args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// `count` UDP probes from one client to 203.0.113.5:5555 over 1,000 source ports.
fn probes(first: u32, count: u32) -> Capture {
    let mut cap = Capture::default();
    let (src, dst) = (Ipv4Addr::new(10, 46, 1, 10), Ipv4Addr::new(203, 0, 113, 5));
    for i in first..first + count {
        let payload = format!("GWX probe {i}");
        let udp =
            synth::udp_datagram(src, dst, 20_000 + (i % 1_000) as u16, 5555, payload.as_bytes());
        cap.push(
            1_800_000_000_000_000 + i as i64 * 10,
            synth::eth_ipv4(src, dst, 17, &udp, i as u16),
        );
    }
    cap
}

pub(super) fn ns_exec(ns: &str, dir: &Scratch, args: &[&str], err: &str) -> Child {
    let bin = env!("CARGO_BIN_EXE_gatewatch");
    let stderr = std::fs::File::create(dir.path(err)).expect("stderr file");
    Command::new("ip")
        .args(["netns", "exec", ns, bin])
        .args(args)
        .current_dir(&dir.0)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start")
}

/// Starts the correlator in `ns`; returns it and its HTTPS port.
pub(super) fn correlator(dir: &Scratch, ns: &str, port: u16) -> (Child, u16) {
    let https = format!("ingest.https=\"127.0.0.1:{port}\"");
    let mut c = ns_exec(
        ns,
        dir,
        &["--config", "correlator.toml", "--set", &https, "correlator", "--print-addresses"],
        "correlator.err",
    );
    let mut line = String::new();
    BufReader::new(c.stdout.take().expect("stdout")).read_line(&mut line).expect("addresses");
    let err = std::fs::read_to_string(dir.path("correlator.err")).unwrap_or_default();
    let a: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?} {err}"));
    let port = a["https"].as_str().and_then(|s| s.rsplit(':').next()).and_then(|p| p.parse().ok());
    (c, port.expect("a port"))
}

pub(super) fn sensor(dir: &Scratch, ns: &str) -> Child {
    let c = ns_exec(ns, dir, &["--config", "sensor.toml", "sensor", "-i", "gw-in"], "sensor.err");
    let t0 = Instant::now();
    while !std::fs::read_to_string(dir.path("sensor.err"))
        .unwrap_or_default()
        .contains("capturing on")
    {
        assert!(t0.elapsed() < Duration::from_secs(60), "sensor did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    c
}

pub(super) fn kill9(c: &mut Child) {
    let _ = c.kill();
    let _ = c.wait();
}

/// Alerts in the store (the sum over incidents; a duplicate would count twice).
fn stored(dir: &Scratch) -> u64 {
    let out = run_in(
        &dir.0,
        &["--config", "correlator.toml", "incidents", "list", "--json", "--limit", "100000"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v.as_array().map_or(0, |a| a.iter().filter_map(|i| i["alert_count"].as_u64()).sum())
}

fn wait_stored(dir: &Scratch, at_least: u64, secs: u64) -> u64 {
    let t0 = Instant::now();
    loop {
        let n = stored(dir);
        if n >= at_least || t0.elapsed() > Duration::from_secs(secs) {
            return n;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

pub(super) fn send(ns: &str, pcap: &std::path::Path, pps: u32) {
    let o = Command::new("ip")
        .args(["netns", "exec", ns, "tcpreplay", "-q", "-i", "gw-out"])
        .arg(format!("--pps={pps}"))
        .arg(pcap)
        .output()
        .expect("tcpreplay");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Alerts in the EVE file once it stopped growing for two seconds.
fn settled_eve_alerts(dir: &Scratch) -> usize {
    let (mut last, mut since) = (usize::MAX, Instant::now());
    let t0 = Instant::now();
    loop {
        let n = eve_alerts(dir);
        if n != last {
            (last, since) = (n, Instant::now());
        } else if since.elapsed() > Duration::from_secs(2)
            || t0.elapsed() > Duration::from_secs(300)
        {
            return n;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Alerts the sensor wrote to its EVE file.
fn eve_alerts(dir: &Scratch) -> usize {
    std::fs::read_to_string(dir.path("eve.json"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"event_type\":\"alert\""))
        .count()
}

#[test]
fn findings_survive_a_killed_correlator_and_a_killed_sensor_exactly_once() {
    if let Some(why) = cannot_run() {
        eprintln!("skipping the shipping test: {why}");
        return;
    }
    let _turn = netns_turn();
    let dir = Scratch::new("ship");
    write_pki(&dir);
    std::fs::write(dir.path("probe.rules"), RULE).expect("rules");
    probes(0, 100_000).write_pcap(&dir.path("stream.pcap")).expect("pcap");
    probes(100_000, 20_000).write_pcap(&dir.path("more.pcap")).expect("pcap");
    std::fs::write(
        dir.path("correlator.toml"),
        "[store]\npath = \"db/gatewatch.db\"\n[control]\ndir = \"run-c\"\n[ingest]\ntls_cert = \"pki/correlator.crt\"\ntls_key = \"pki/correlator.key\"\nclient_ca = \"pki/ca.crt\"\n[correlator]\nincident_window_secs = 86400\n",
    )
    .expect("config");
    let veth = Veth::new("sh").expect("namespaces");
    let (mut corr, port) = correlator(&dir, &veth.capture, 0);
    std::fs::write(
        dir.path("sensor.toml"),
        format!(
            "[detect]\nrule_files = [\"probe.rules\"]\n[eve]\nsensor_name = \"hue-sensor-01\"\n[live]\neve = \"eve.json\"\nstats_interval = 1\n[control]\ndir = \"run-s\"\n[ship]\nurl = \"https://localhost:{port}\"\nca = \"pki/ca.crt\"\ncert = \"pki/hue-sensor-01.crt\"\nkey = \"pki/hue-sensor-01.key\"\nbackoff_min_ms = 100\nbackoff_max_ms = 1000\n[spool]\ndir = \"spool\"\nseal_after_ms = 200\n"
        ),
    )
    .expect("config");
    let mut sens = sensor(&dir, &veth.capture);

    // 100,000 findings at 20,000/s; the correlator dies (-9) once some are stored.
    let sender = {
        let (ns, pcap) = (veth.sender.clone(), dir.path("stream.pcap"));
        std::thread::spawn(move || send(&ns, &pcap, 10_000))
    };
    let before = wait_stored(&dir, 10_000, 120);
    let logs = || {
        ["sensor.err", "correlator.err"]
            .map(|f| std::fs::read_to_string(dir.path(f)).unwrap_or_default())
            .join("\n---\n")
    };
    assert!(before >= 10_000, "{before} stored before the kill: {}", logs());
    kill9(&mut corr);
    sender.join().expect("sender");
    std::thread::sleep(Duration::from_secs(2)); // the sensor retries against nothing
    let (c2, _) = correlator(&dir, &veth.capture, port);
    corr = c2;
    let produced = settled_eve_alerts(&dir);
    let n = wait_stored(&dir, produced as u64, 300);
    std::thread::sleep(Duration::from_secs(3)); // anything re-sent late would show
    assert_eq!(stored(&dir), produced as u64, "every finding once (seen {n}): {}", logs());
    assert_eq!(produced, 100_000, "the sensor saw every probe: {}", logs());

    // The correlator goes away; 20,000 more findings are spooled, then the sensor dies.
    kill9(&mut corr);
    send(&veth.sender, &dir.path("more.pcap"), 10_000);
    assert_eq!(settled_eve_alerts(&dir), 120_000, "{}", logs());
    std::thread::sleep(Duration::from_secs(2)); // flushed to the spool once a second
    kill9(&mut sens);
    let (c3, _) = correlator(&dir, &veth.capture, port);
    corr = c3;
    sens = sensor(&dir, &veth.capture);
    let n = wait_stored(&dir, 120_000, 300);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(stored(&dir), 120_000, "nothing spooled was lost (seen {n}): {}", logs());
    let _ = Command::new("kill").args(["-TERM", &sens.id().to_string()]).status();
    let _ = sens.wait();
    kill9(&mut corr);
    let err = std::fs::read_to_string(dir.path("sensor.err")).unwrap_or_default();
    assert!(err.contains("shipped"), "{err}");
}

#[test]
fn a_silent_sensor_is_marked_down_and_raises_an_incident() {
    if let Some(why) = cannot_run() {
        eprintln!("skipping the sensor-down test: {why}");
        return;
    }
    let _turn = netns_turn();
    let dir = Scratch::new("sensor-down");
    write_pki(&dir);
    std::fs::write(dir.path("probe.rules"), RULE).expect("rules");
    std::fs::write(
        dir.path("correlator.toml"),
        "[store]\npath = \"db/gatewatch.db\"\n[control]\ndir = \"run-c\"\n[ingest]\ntls_cert = \"pki/correlator.crt\"\ntls_key = \"pki/correlator.key\"\nclient_ca = \"pki/ca.crt\"\nsensor_down_secs = 3\n",
    )
    .expect("config");
    let veth = Veth::new("sd").expect("namespaces");
    let (mut corr, port) = correlator(&dir, &veth.capture, 0);
    std::fs::write(
        dir.path("sensor.toml"),
        format!(
            "[detect]\nrule_files = [\"probe.rules\"]\n[eve]\nsensor_name = \"hue-sensor-01\"\n[live]\neve = \"eve.json\"\nstats_interval = 1\n[control]\ndir = \"run-s\"\n[ship]\nurl = \"https://localhost:{port}\"\nca = \"pki/ca.crt\"\ncert = \"pki/hue-sensor-01.crt\"\nkey = \"pki/hue-sensor-01.key\"\n[spool]\ndir = \"spool\"\nseal_after_ms = 200\n"
        ),
    )
    .expect("config");
    let titles = || -> Vec<String> {
        let out = run_in(&dir.0, &["--config", "correlator.toml", "incidents", "list", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v.as_array()
            .map(|a| a.iter().filter_map(|i| i["title"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let mut sens = sensor(&dir, &veth.capture);
    // Heartbeats every second for a while: the sensor stays up.
    std::thread::sleep(Duration::from_secs(6));
    assert!(titles().iter().all(|t| !t.contains("sensor down")), "{:?}", titles());
    kill9(&mut sens);
    let t0 = Instant::now();
    while !titles().iter().any(|t| t.contains("sensor down: hue-sensor-01")) {
        assert!(t0.elapsed() < Duration::from_secs(60), "no sensor-down incident: {:?}", titles());
        std::thread::sleep(Duration::from_millis(500));
    }
    // One incident per outage, not one per sweep.
    std::thread::sleep(Duration::from_secs(3));
    let downs = titles().into_iter().filter(|t| t.contains("sensor down")).count();
    kill9(&mut corr);
    assert_eq!(downs, 1);
}

#[test]
fn a_full_spool_drops_the_newest_records_and_counts_every_one() {
    if let Some(why) = cannot_run() {
        eprintln!("skipping the spool-full test: {why}");
        return;
    }
    let _turn = netns_turn();
    let dir = Scratch::new("spool-full");
    write_pki(&dir);
    std::fs::write(dir.path("probe.rules"), RULE).expect("rules");
    probes(0, 3_000).write_pcap(&dir.path("burst.pcap")).expect("pcap");
    let veth = Veth::new("sf").expect("namespaces");
    // No correlator: everything waits in a spool of 256 KiB (about a third of it).
    std::fs::write(
        dir.path("sensor.toml"),
        "[detect]\nrule_files = [\"probe.rules\"]\n[eve]\nsensor_name = \"hue-sensor-01\"\n[live]\neve = \"eve.json\"\nstats_interval = 3600\n[control]\ndir = \"run-s\"\n[ship]\nurl = \"https://localhost:9\"\nca = \"pki/ca.crt\"\ncert = \"pki/hue-sensor-01.crt\"\nkey = \"pki/hue-sensor-01.key\"\n[spool]\ndir = \"spool\"\nmax_bytes = 262144\nsegment_bytes = 16384\n",
    )
    .expect("config");
    let mut sens = sensor(&dir, &veth.capture);
    send(&veth.sender, &dir.path("burst.pcap"), 5_000);
    assert_eq!(settled_eve_alerts(&dir), 3_000);
    let _ = Command::new("kill").args(["-TERM", &sens.id().to_string()]).status();
    let _ = sens.wait();
    let err = std::fs::read_to_string(dir.path("sensor.err")).unwrap_or_default();
    // "spool: N records in, D dropped full": the alerts and the final stats record
    // were offered; N + D accounts for every one of them.
    let after = err.split("spool: ").nth(1).expect("spool summary");
    let num = |k: &str| -> u64 {
        after
            .split(k)
            .next()
            .and_then(|s| s.split_whitespace().last())
            .and_then(|n| n.parse().ok())
            .expect(k)
    };
    let (kept, dropped) = (num(" records in"), num(" dropped full"));
    assert!(dropped > 0 && kept > 0, "{err}");
    assert_eq!(kept + dropped, 3_000 + 1, "{err}");
    // Every record counted as kept is on disk, within the bound.
    let on_disk: usize = std::fs::read_dir(dir.path("spool"))
        .expect("spool")
        .filter_map(|e| e.ok())
        .map(|e| {
            let data = std::fs::read(e.path()).expect("segment");
            gatewatch_sensor::ship::spool::parse_segment(&data, "x", 0).0.len()
        })
        .sum();
    assert_eq!(on_disk as u64, kept);
    let size: u64 = std::fs::read_dir(dir.path("spool"))
        .expect("spool")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    assert!(size <= 262_144, "{size} bytes on disk");
}
