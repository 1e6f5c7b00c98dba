//! `gatewatch sensor` on a real interface: two network namespaces joined by a veth
//! pair; `tcpreplay` sends the demo capture from one, the sensor captures in the other
//! (TPACKET_V3 ring, two workers) and must raise exactly the alerts an offline replay
//! of the same capture raises, with zero drops. A BPF filter narrows what is captured.
//!
//! Needs root, `ip` (iproute2), `tcpreplay`, `sysctl` and `kill` (procps); without
//! them the tests say why and pass (CI runs them as root with all installed).

use std::collections::BTreeMap;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{eve_lines, gatewatch, installed, run_in, Scratch};

/// The tests that send traffic through namespaces take turns: each measures what a
/// sensor captured, and they would take CPU from each other.
pub(super) static NETNS: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(super) fn netns_turn() -> std::sync::MutexGuard<'static, ()> {
    NETNS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Why live tests cannot run here, if they cannot.
pub(super) fn cannot_run() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not root".into());
    }
    for tool in ["ip", "tcpreplay", "sysctl", "kill"] {
        if !installed(tool) {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    None
}

/// Two namespaces and a veth pair between them, removed on drop.
pub(super) struct Veth {
    pub sender: String,
    pub capture: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let o = Command::new("ip").args(args).output().map_err(|e| e.to_string())?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&o.stderr)))
    }
}

impl Veth {
    pub fn new(tag: &str) -> Result<Veth, String> {
        let id = std::process::id();
        let v = Veth { sender: format!("gws{tag}{id}"), capture: format!("gwc{tag}{id}") };
        let _ = ip(&["netns", "del", &v.sender]);
        let _ = ip(&["netns", "del", &v.capture]);
        ip(&["netns", "add", &v.sender])?;
        ip(&["netns", "add", &v.capture])?;
        ip(&[
            "link", "add", "gw-out", "netns", &v.sender, "type", "veth", "peer", "name", "gw-in",
            "netns", &v.capture,
        ])?;
        // No IPv6 on the pair: the kernel's own neighbour discovery would add frames.
        for ns in [&v.sender, &v.capture] {
            let o = Command::new("ip")
                .args(["netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
                .output()
                .map_err(|e| e.to_string())?;
            if !o.status.success() {
                return Err(format!("sysctl in {ns}: {}", String::from_utf8_lossy(&o.stderr)));
            }
        }
        ip(&["-n", &v.capture, "link", "set", "lo", "up"])?;
        ip(&["-n", &v.sender, "link", "set", "gw-out", "up"])?;
        ip(&["-n", &v.capture, "link", "set", "gw-in", "up"])?;
        Ok(v)
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.sender]);
        let _ = ip(&["netns", "del", &self.capture]);
    }
}

const CONFIG: &str = r#"
[vars.address_groups]
HOME_NET = "[10.46.0.0/16]"
[live]
stats_interval = 1
[control]
dir = "run"
"#;

fn alerts_by_sid(events: &[serde_json::Value]) -> BTreeMap<u64, usize> {
    let mut m = BTreeMap::new();
    for e in events.iter().filter(|e| e["event_type"] == "alert") {
        *m.entry(e["alert"]["signature_id"].as_u64().unwrap_or(0)).or_insert(0) += 1;
    }
    m
}

/// Starts the sensor in the capture namespace and waits until it captures.
fn start_sensor(dir: &Scratch, veth: &Veth, extra: &[&str], env: &[(&str, &Path)]) -> Child {
    let bin = gatewatch().get_program().to_owned();
    let mut args: Vec<String> = ["netns", "exec", &veth.capture].map(String::from).to_vec();
    args.push(bin.to_string_lossy().into_owned());
    args.extend(["--config", "gatewatch.toml"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(
        ["sensor", "-i", "gw-in", "--rules", "demo/demo.rules", "--eve", "live.json"]
            .map(String::from),
    );
    let err = std::fs::File::create(dir.path("sensor.err")).expect("stderr file");
    let mut child = Command::new("ip")
        .args(&args)
        .envs(env.iter().copied())
        .current_dir(&dir.0)
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .expect("sensor starts");
    let t0 = Instant::now();
    loop {
        let err = std::fs::read_to_string(dir.path("sensor.err")).unwrap_or_default();
        if err.contains("capturing on gw-in") {
            return child;
        }
        if t0.elapsed() > Duration::from_secs(60) || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sensor did not start: {err}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends the demo capture from the sender's namespace, at full speed.
fn send(dir: &Scratch, veth: &Veth) {
    let sent = Command::new("ip")
        .args(["netns", "exec", &veth.sender, "tcpreplay", "-q", "-i", "gw-out", "--topspeed"])
        .arg(dir.path("demo/demo.pcap"))
        .output()
        .expect("tcpreplay runs");
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));
}

/// Waits (up to a minute) until a `stats` record in `eve` shows `expect_pkts` frames
/// received.
fn wait_received(eve: &Path, expect_pkts: u64) {
    let t0 = Instant::now();
    loop {
        // The file grows while we read it: only whole lines count.
        let text = std::fs::read_to_string(eve).unwrap_or_default();
        let received = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["event_type"] == "stats")
            .filter_map(|e| e["stats"]["capture"]["received"].as_u64())
            .max()
            .unwrap_or(0);
        if received >= expect_pkts || t0.elapsed() > Duration::from_secs(60) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Sends the capture, waits until the sensor's stats show `expect_pkts` frames
/// received, stops it and returns its EVE records.
fn send_and_stop(
    dir: &Scratch,
    veth: &Veth,
    mut sensor: Child,
    expect_pkts: u64,
    before_stop: impl FnOnce(),
) -> Vec<serde_json::Value> {
    send(dir, veth);
    wait_received(&dir.path("live.json"), expect_pkts);
    before_stop();
    // `ip netns exec` execs the sensor: the child is the sensor.
    let _ = Command::new("kill").args(["-TERM", &sensor.id().to_string()]).status();
    let status = sensor.wait().expect("sensor exits");
    let err = std::fs::read_to_string(dir.path("sensor.err")).unwrap_or_default();
    assert!(status.success(), "{err}");
    eve_lines(&dir.path("live.json"))
}

/// Scratch folder with the demo capture and rules, their offline replay (EVE
/// records), and the veth pair.
fn prepare(name: &str) -> Option<(Scratch, Veth, Vec<serde_json::Value>)> {
    if let Some(why) = cannot_run() {
        eprintln!("skipping the live capture test: {why}");
        return None;
    }
    let dir = Scratch::new(name);
    std::fs::write(dir.path("gatewatch.toml"), CONFIG).expect("config");
    // The demo writes its capture and rules to gatewatch-data/demo.
    let out = run_in(&dir.0, &["demo", "--no-console"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::rename(dir.path("gatewatch-data/demo"), dir.path("demo")).expect("move");
    let offline = run_in(
        &dir.0,
        &[
            "--config",
            "gatewatch.toml",
            "replay",
            "demo/demo.pcap",
            "--rules",
            "demo/demo.rules",
            "--eve",
            "offline.json",
        ],
    );
    assert!(offline.status.success(), "{}", String::from_utf8_lossy(&offline.stderr));
    let veth = Veth::new(&name[..2]).expect("namespaces and veth");
    let offline = eve_lines(&dir.path("offline.json"));
    Some((dir, veth, offline))
}

fn last_stats(events: &[serde_json::Value]) -> &serde_json::Value {
    &events.iter().rev().find(|e| e["event_type"] == "stats").expect("a stats record")["stats"]
}

#[test]
fn live_capture_on_a_veth_pair_raises_the_alerts_of_an_offline_replay() {
    let _turn = netns_turn();
    let Some((dir, veth, offline_events)) = prepare("live-veth") else { return };
    let frames = last_stats(&offline_events)["decoder"]["pkts"].as_u64().expect("packets");

    let sensor = start_sensor(
        &dir,
        &veth,
        &["--set", "capture.workers=2", "--set", "live.metrics=\"127.0.0.1:0\""],
        &[],
    );
    let mut metrics = String::new();
    let live = send_and_stop(&dir, &veth, sensor, frames, || {
        // The Prometheus endpoint, scraped from inside the namespace.
        let err = std::fs::read_to_string(dir.path("sensor.err")).unwrap_or_default();
        let port = err
            .split("metrics on http://127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .expect("the metrics address is logged")
            .to_string();
        let script = format!(
            "exec 3<>/dev/tcp/127.0.0.1/{port}; printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"
        );
        let out = Command::new("ip")
            .args(["netns", "exec", &veth.capture, "bash", "-c", &script])
            .output()
            .expect("scrape");
        metrics = String::from_utf8_lossy(&out.stdout).into_owned();
    });
    let body = metrics.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    super::common::promtool_check("the sensor's /metrics", body);
    assert!(
        metrics.contains(&format!(
            "gatewatch_sensor_capture_received_total{{interface=\"gw-in\"}} {frames}"
        )),
        "{metrics}"
    );
    assert!(metrics.contains("gatewatch_sensor_capture_kernel_drops_total{interface=\"gw-in\"} 0"));
    let expected = alerts_by_sid(&offline_events);
    assert!(expected.len() >= 6, "{expected:?}");
    assert_eq!(alerts_by_sid(&live), expected);
    // Live records say where they were captured, and carry the flow's community id
    // (the same as the offline replay's for the same flow).
    let records: Vec<&serde_json::Value> =
        live.iter().filter(|e| e["event_type"] != "stats").collect();
    assert!(records.iter().all(|e| e["in_iface"] == "gw-in"), "every live record has in_iface");
    let ids = |events: &[&serde_json::Value]| -> std::collections::BTreeSet<String> {
        events.iter().filter_map(|e| e["community_id"].as_str().map(str::to_string)).collect()
    };
    let offline_flows: Vec<&serde_json::Value> =
        offline_events.iter().filter(|e| e["event_type"] == "flow").collect();
    let live_flows: Vec<&serde_json::Value> =
        live.iter().filter(|e| e["event_type"] == "flow").collect();
    assert_eq!(ids(&live_flows), ids(&offline_flows), "community ids of the flows");
    let last = live.iter().rev().find(|e| e["event_type"] == "stats").expect("final stats");
    let cap = &last["stats"]["capture"];
    assert_eq!(cap["interface"], "gw-in");
    assert_eq!(cap["kernel_drops"], 0, "{cap}");
    assert_eq!(cap["queue_drops"], 0, "{cap}");
    assert_eq!(cap["received"].as_u64(), Some(frames), "every frame sent, and only those");
    assert_eq!(cap["kernel_packets"].as_u64(), Some(frames));
    assert_eq!(last["stats"]["workers"], 2);
    assert_eq!(last["stats"]["decoder"]["pkts"].as_u64(), Some(frames));
}

/// `tcpdump -ddd 'ip and udp'`.
const UDP_ONLY: &str = "6\n40 0 0 12\n21 0 3 2048\n48 0 0 23\n21 0 1 17\n6 0 0 262144\n6 0 0 0\n";

#[test]
fn a_bpf_filter_keeps_only_what_it_accepts() {
    let _turn = netns_turn();
    let Some((dir, veth, offline_events)) = prepare("bpf-veth") else { return };
    let udp = last_stats(&offline_events)["decoder"]["udp"].as_u64().expect("udp");
    let config = CONFIG.replacen(
        "stats_interval = 1\n",
        &format!("stats_interval = 1\nbpf = \"\"\"\n{UDP_ONLY}\"\"\"\n"),
        1,
    );
    std::fs::write(dir.path("gatewatch.toml"), config).expect("config");
    let sensor = start_sensor(&dir, &veth, &[], &[]);
    // The demo's UDP frames are its DNS queries and answers: only they get through.
    let events = send_and_stop(&dir, &veth, sensor, udp, || {});
    let last = events.iter().rev().find(|e| e["event_type"] == "stats").expect("stats");
    let d = &last["stats"]["decoder"];
    assert_eq!(d["udp"].as_u64(), Some(udp), "{d}");
    assert_eq!(last["stats"]["capture"]["received"].as_u64(), Some(udp));
    assert_eq!(d["tcp"], 0, "{d}");
    assert_eq!(d["icmpv4"], 0, "{d}");
    let sids: Vec<u64> = alerts_by_sid(&events).into_keys().collect();
    assert_eq!(sids, [9_000_005], "only the DNS rule can fire");
}

/// Reads the service manager's socket until `STOPPING=1` (or 3 minutes), as systemd
/// does, so that the daemon's messages never wait: (messages other than pings, pings).
fn read_notices(socket: UnixDatagram) -> std::thread::JoinHandle<(Vec<String>, u32)> {
    std::thread::spawn(move || {
        let (mut notices, mut pings) = (Vec::new(), 0);
        let mut buf = [0u8; 512];
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(180) {
            let Ok(n) = socket.recv(&mut buf) else { continue };
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            if msg == "WATCHDOG=1" {
                pings += 1;
                continue;
            }
            let stop = msg.starts_with("STOPPING=1");
            notices.push(msg);
            if stop {
                break;
            }
        }
        (notices, pings)
    })
}

/// The sensor as systemd runs it (`Type=notify`, `WatchdogSec=`): it says it is ready
/// once it captures, pings the watchdog, and after logrotate (rename, `SIGHUP`) writes
/// the next records to a new `live.json`, every line whole in one file or the other;
/// `SIGTERM` says it stops.
#[test]
fn a_sensor_run_by_systemd_notifies_and_reopens_its_eve_on_sighup() {
    let _turn = netns_turn();
    let Some((dir, veth, offline_events)) = prepare("hup-veth") else { return };
    let frames = last_stats(&offline_events)["decoder"]["pkts"].as_u64().expect("packets");
    let socket_path = dir.path("notify");
    let socket = UnixDatagram::bind(&socket_path).expect("notify socket");
    socket.set_read_timeout(Some(Duration::from_secs(1))).expect("timeout");
    let env = [("NOTIFY_SOCKET", socket_path.as_path()), ("WATCHDOG_USEC", Path::new("400000"))];
    let reader = read_notices(socket);
    let mut sensor = start_sensor(&dir, &veth, &[], &env);

    send(&dir, &veth);
    wait_received(&dir.path("live.json"), frames);
    std::fs::rename(dir.path("live.json"), dir.path("live.json.1")).expect("rotate");
    let _ = Command::new("kill").args(["-HUP", &sensor.id().to_string()]).status();
    send(&dir, &veth);
    wait_received(&dir.path("live.json"), 2 * frames);
    let _ = Command::new("kill").args(["-TERM", &sensor.id().to_string()]).status();
    let status = sensor.wait().expect("sensor exits");
    let err = std::fs::read_to_string(dir.path("sensor.err")).unwrap_or_default();
    assert!(status.success(), "SIGHUP must not end the sensor: {err}");
    let (notices, pings) = reader.join().expect("reader");
    assert!(notices[0].starts_with("READY=1\nSTATUS=capturing on gw-in"), "{notices:?}");
    assert!(notices.last().is_some_and(|n| n.starts_with("STOPPING=1")), "{notices:?}");
    assert!(pings >= 2, "the watchdog pinged {pings} times at 0.2 s in a capture of seconds");

    // Every line of both files is a whole record. The first sending's alerts are in the
    // rotated file (those of flows that end later may follow in the new one); the new
    // file has the second sending's.
    let (before, after) = (eve_lines(&dir.path("live.json.1")), eve_lines(&dir.path("live.json")));
    let expected = alerts_by_sid(&offline_events);
    let (first, second) = (alerts_by_sid(&before), alerts_by_sid(&after));
    assert!(first.len() >= expected.len() / 2, "{first:?} of {expected:?}");
    for (sid, n) in &expected {
        let both = first.get(sid).unwrap_or(&0) + second.get(sid).unwrap_or(&0);
        assert!(both >= *n, "sid {sid}: {both} alerts in both files, {n} in one replay");
    }
    assert!(second.keys().all(|k| expected.contains_key(k)), "{second:?}");
    let received = |e: &[serde_json::Value]| last_stats(e)["capture"]["received"].as_u64();
    assert_eq!(received(&after), Some(2 * frames), "the new file continues the counters");
}
