//! `gatewatch rules update` against a local HTTP server (no internet here): an ET
//! Open-style tarball with its published md5, a GitHub-style zip of a Sigma repository
//! (stripped to `rules/`), a checksum that does not match, an archive whose member
//! escapes the folder, and a missing file. Good sources are installed whole and replace
//! the previous version; a bad one installs nothing and leaves the old folder in place.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::common::{run_in, Scratch};

type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// Serves `files` by path over HTTP/1.1, one request per connection; 404 otherwise.
fn serve(files: Files) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let addr = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&req);
            let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
            let body = files.lock().expect("files").get(&path).cloned();
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", b"not found".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body);
        }
    });
    format!("http://{addr}")
}

fn tar_gz(members: &[(&str, &str)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, text) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // Written raw so that a hostile name (`../x`) reaches the archive as such.
        let raw = &mut h.as_old_mut().name;
        raw.fill(0);
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        tar.append(&h, text.as_bytes()).expect("tar member");
    }
    tar.into_inner().expect("tar").finish().expect("gzip")
}

fn zip(members: &[(&str, &str)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in members {
        if name.ends_with('/') {
            z.add_directory(*name, zip::write::SimpleFileOptions::default()).expect("zip folder");
        } else {
            z.start_file(*name, zip::write::SimpleFileOptions::default()).expect("zip member");
            z.write_all(text.as_bytes()).expect("zip data");
        }
    }
    z.finish().expect("zip").into_inner()
}

fn md5_hex(data: &[u8]) -> String {
    use md5::Digest as _;
    md5::Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

const DNS_RULE: &str = "alert dns any any -> any any (msg:\"ET DNS query for a test domain\"; dns.query; content:\"example.test\"; sid:2000001; rev:1;)\n";
const HTTP_RULE: &str = "alert http any any -> any any (msg:\"ET HTTP test UA\"; http.user_agent; content:\"TestAgent\"; sid:2000002; rev:1;)\n";
const SIGMA_RULE: &str = "title: Test DNS query\nid: 3c1a0a1e-7d1b-4bd6-9a8f-1f8f2b0c0001\nstatus: test\nlogsource:\n  category: dns\ndetection:\n  selection:\n    query|endswith: '.example.test'\n  condition: selection\nlevel: medium\n";

fn files_in(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read folder").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).expect("under dir").display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn update_installs_verified_archives_and_refuses_bad_ones() {
    let dir = Scratch::new("rules-update");
    let files: Files = Arc::default();
    let base = serve(files.clone());
    let et_v1 =
        tar_gz(&[("rules/emerging-dns.rules", DNS_RULE), ("rules/old-only.rules", HTTP_RULE)]);
    let et_v2 =
        tar_gz(&[("rules/emerging-dns.rules", DNS_RULE), ("rules/emerging-http.rules", HTTP_RULE)]);
    let sigma = zip(&[
        ("sigma-master/", ""),
        ("sigma-master/README.md", "# Sigma\n"),
        ("sigma-master/rules/network/dns/test_dns.yml", SIGMA_RULE),
        ("sigma-master/tests/not-a-rule.yml", "x: 1\n"),
    ]);
    let evil = tar_gz(&[("rules/fine.rules", DNS_RULE), ("../escaped.rules", HTTP_RULE)]);
    {
        let mut f = files.lock().expect("files");
        f.insert(
            "/et/emerging.rules.tar.gz.md5".into(),
            format!("{}\n", md5_hex(&et_v1)).into_bytes(),
        );
        f.insert("/et/emerging.rules.tar.gz".into(), et_v1);
        f.insert("/sigma/master.zip".into(), sigma);
        f.insert("/bad/emerging.rules.tar.gz".into(), et_v2.clone());
        f.insert(
            "/bad/emerging.rules.tar.gz.md5".into(),
            b"0123456789abcdef0123456789abcdef\n".to_vec(),
        );
        f.insert("/evil/rules.tar.gz".into(), evil);
    }
    let config = format!(
        r#"[update]
timeout_secs = 30

[[update.sources]]
name = "et-open"
url = "{base}/et/emerging.rules.tar.gz"
checksum_url = "{base}/et/emerging.rules.tar.gz.md5"
dest = "rules/et"
strip_components = 1
allow_http = true
unpinned = true

[[update.sources]]
name = "sigmahq"
url = "{base}/sigma/master.zip"
dest = "rules/sigma"
strip_components = 1
include = "rules"
allow_http = true
unpinned = true

[[update.sources]]
name = "tampered"
url = "{base}/bad/emerging.rules.tar.gz"
checksum_url = "{base}/bad/emerging.rules.tar.gz.md5"
dest = "rules/et"
strip_components = 1
allow_http = true
unpinned = true

[[update.sources]]
name = "escaping"
url = "{base}/evil/rules.tar.gz"
dest = "rules/evil"
allow_http = true
unpinned = true

[[update.sources]]
name = "plain-http"
url = "{base}/et/emerging.rules.tar.gz"
dest = "rules/plain"
unpinned = true

[[update.sources]]
name = "no-pin"
url = "{base}/et/emerging.rules.tar.gz"
dest = "rules/nopin"
allow_http = true

[[update.sources]]
name = "missing"
url = "{base}/nowhere.tar.gz"
dest = "rules/missing"
allow_http = true
unpinned = true
"#
    );
    std::fs::write(dir.path("gatewatch.toml"), config).expect("config");

    // The two good sources.
    let out = run_in(
        &dir.0,
        &[
            "--config",
            "gatewatch.toml",
            "rules",
            "update",
            "--source",
            "et-open",
            "--source",
            "sigmahq",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("et-open: installed 2 files") && stdout.contains("md5 ok"), "{stdout}");
    assert!(
        stdout.contains("sigmahq: installed 1 files") && stdout.contains("no checksum published"),
        "{stdout}"
    );
    assert_eq!(files_in(&dir.path("rules/et")), ["emerging-dns.rules", "old-only.rules"]);
    assert_eq!(files_in(&dir.path("rules/sigma")), ["network/dns/test_dns.yml"]);

    // What was installed loads.
    let check = run_in(&dir.0, &["rules", "check", "rules/et", "rules/sigma"]);
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}{}", String::from_utf8_lossy(&check.stderr));

    // A new version replaces the folder as a whole: the file it no longer has is gone.
    {
        let mut f = files.lock().expect("files");
        f.insert(
            "/et/emerging.rules.tar.gz.md5".into(),
            format!("{}  emerging.rules.tar.gz\n", md5_hex(&et_v2)).into_bytes(),
        );
        f.insert("/et/emerging.rules.tar.gz".into(), et_v2);
    }
    let out =
        run_in(&dir.0, &["--config", "gatewatch.toml", "rules", "update", "--source", "et-open"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(files_in(&dir.path("rules/et")), ["emerging-dns.rules", "emerging-http.rules"]);

    // The bad sources: each fails with its reason, nothing of them is installed, the
    // installed ET folder is untouched and no staging folder is left behind.
    let out = run_in(
        &dir.0,
        &[
            "--config",
            "gatewatch.toml",
            "rules",
            "update",
            "--source",
            "tampered",
            "--source",
            "escaping",
            "--source",
            "missing",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "bad sources must fail the command: {stdout}");
    assert!(stdout.contains("tampered: FAILED, nothing installed: md5 mismatch: published 0123456789abcdef0123456789abcdef"), "{stdout}");
    assert!(stdout.contains("escaping: FAILED, nothing installed: archive member `../escaped.rules` leaves the folder"), "{stdout}");
    assert!(
        stdout.contains("missing: FAILED, nothing installed:") && stdout.contains("HTTP 404"),
        "{stdout}"
    );
    assert_eq!(files_in(&dir.path("rules/et")), ["emerging-dns.rules", "emerging-http.rules"]);
    assert!(!dir.path("rules/evil").exists() && !dir.path("rules/missing").exists());
    assert!(!dir.path("escaped.rules").exists() && !dir.path("rules/escaped.rules").exists());
    let left: Vec<String> = std::fs::read_dir(dir.path("rules"))
        .expect("rules folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, ["et", "sigma"], "no staging folder may remain");

    // Hardening finding 10: plain HTTP is refused unless the source allows it, and
    // nothing installs without a pinned sha256 unless the source waives it.
    let out = run_in(
        &dir.0,
        &[
            "--config",
            "gatewatch.toml",
            "rules",
            "update",
            "--source",
            "plain-http",
            "--source",
            "no-pin",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("plain-http: FAILED, nothing installed: `http://")
            && stdout.contains("is not HTTPS"),
        "{stdout}"
    );
    assert!(stdout.contains("no-pin: FAILED, nothing installed: no pinned `sha256`"), "{stdout}");
    assert!(!dir.path("rules/plain").exists() && !dir.path("rules/nopin").exists());
}

#[test]
fn update_without_sources_says_what_to_configure() {
    let dir = Scratch::new("rules-update-none");
    let out = run_in(&dir.0, &["rules", "update"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[[update.sources]]"), "{stderr}");
}
