//! The daemons' log: JSON lines under systemd (its journal stream on stderr), with the
//! span of the connection or worker an event belongs to; text elsewhere; secrets never.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{gatewatch, Scratch};

const SECRET: &str = "Hue-s3cret-Pa55word";

fn lines_of(path: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}")))
        .collect()
}

fn wait_for(path: &std::path::Path, done: impl Fn(&[serde_json::Value]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(&lines_of(path)) {
        assert!(
            Instant::now() < deadline,
            "never logged: {}",
            std::fs::read_to_string(path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn is(v: &serde_json::Value, level: &str, span: &str, message: &str) -> bool {
    v["level"] == level
        && v["span"]["name"] == span
        && v["message"].as_str().is_some_and(|m| m.contains(message))
}

#[test]
fn under_systemd_the_correlator_logs_json_lines_with_spans_and_no_secret() {
    let dir = Scratch::new("logging-journal");
    std::fs::write(dir.path("es.pass"), SECRET).expect("password");
    std::fs::write(
        dir.path("gatewatch.toml"),
        r#"
[store]
path = "data/gatewatch.db"
[control]
dir = "run"
[ingest]
syslog_tcp = "127.0.0.1:0"
syslog_allow = ["127.0.0.0/8"]
max_message_bytes = 64
[elasticsearch]
url = "http://127.0.0.1:9"
username = "elastic"
password_file = "es.pass"
retry_max_ms = 200
"#,
    )
    .expect("config");
    // What systemd does: stderr is its stream, and JOURNAL_STREAM names its device and inode.
    let log = dir.path("journal");
    let stderr = std::fs::File::create(&log).expect("log file");
    let meta = stderr.metadata().expect("stat");
    let mut child = gatewatch()
        .current_dir(&dir.0)
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .env_remove("GATEWATCH_LOG")
        .args(["--config", "gatewatch.toml", "correlator", "--print-addresses"])
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start the correlator");
    let mut line = String::new();
    let read = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
    let addresses: serde_json::Value = match read.map(|_| serde_json::from_str(&line)) {
        Ok(Ok(a)) => a,
        other => {
            let _ = child.kill();
            panic!("{other:?}: {line:?}");
        }
    };
    let tcp = addresses["syslog_tcp"].as_str().unwrap_or_default().to_string();
    let sent = std::net::TcpStream::connect(&tcp).and_then(|mut s| {
        s.write_all(format!("<13>Dec  7 10:00:00 host app: {}\n", "x".repeat(200)).as_bytes())
    });
    let logged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sent.expect("send to syslog");
        wait_for(&log, |ls| {
            ls.iter().any(|v| is(v, "WARN", "connection", "message cut"))
                && ls.iter().any(|v| is(v, "WARN", "elasticsearch", "elasticsearch"))
        });
    }));
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let stopped = child.wait().expect("wait");
    if let Err(p) = logged {
        std::panic::resume_unwind(p);
    }
    assert!(stopped.success(), "{stopped:?}");
    let lines = lines_of(&log);
    let cut = lines.iter().find(|v| is(v, "WARN", "connection", "message cut")).expect("cut");
    assert_eq!(cut["span"]["listener"], "syslog", "{cut}");
    assert!(cut["span"]["peer"].as_str().is_some_and(|p| p.starts_with("127.0.0.1:")), "{cut}");
    assert_eq!(cut["bad_input"], 1, "{cut}");
    assert!(
        cut["target"].as_str().is_some_and(|t| t.starts_with("gatewatch_correlator::server")),
        "{cut}"
    );
    let es = lines.iter().find(|v| is(v, "WARN", "elasticsearch", "elasticsearch")).expect("es");
    assert_eq!(es["span"]["url"], "http://127.0.0.1:9", "{es}");
    assert!(lines.iter().any(|v| v["level"] == "INFO" && v["message"] == "stopping"), "{lines:?}");
    assert!(lines.iter().all(|v| v["timestamp"].as_str().is_some()), "{lines:?}");
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!text.contains(SECRET), "the Elasticsearch password was logged");
}

#[test]
fn a_redirected_stderr_is_text_and_log_format_json_is_json() {
    let dir = Scratch::new("logging-formats");
    let run = |extra: &[&str]| {
        let out = gatewatch()
            .current_dir(&dir.0)
            // A journal stream that is not this stderr: the process was started by systemd,
            // its stderr redirected since (a pipe here).
            .env("JOURNAL_STREAM", "1:1")
            .env_remove("GATEWATCH_LOG")
            .args(extra)
            .args(["--set", "store.path=\"g.db\"", "correlator"])
            .output()
            .expect("run");
        assert!(!out.status.success(), "nothing to listen on is refused");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let text = run(&[]);
    let last = text.lines().last().unwrap_or_default();
    assert!(last.contains("ERROR") && last.contains("nothing to listen on"), "{text}");
    assert!(serde_json::from_str::<serde_json::Value>(last).is_err(), "{text}");
    let json = run(&["--log-format", "json"]);
    let last: serde_json::Value = serde_json::from_str(json.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(last["level"], "ERROR", "{last}");
    assert!(last["message"].as_str().is_some_and(|m| m.contains("nothing to listen on")), "{last}");
    let bad = run(&["--log-level", "verbose"]);
    assert!(bad.contains("`verbose` is not a level"), "{bad}");
}
