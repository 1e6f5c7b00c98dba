//! The analyst console in a real headless Chromium (Debian's `chromium`, driven through
//! `chromedriver` over the W3C WebDriver protocol): sign in, see the demo's incidents,
//! open one, acknowledge it, add a note, resolve it; the store agrees. Screenshots of
//! the main pages go to `target/tmp/console-screenshots/`.
//!
//! Skipped (and says so) where Chromium or ChromeDriver is not installed; `.ci/run`
//! installs both.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{json, Value};

use super::common::{run_in, Scratch};
use super::console::{add_user, start_console};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C name of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    http: Client,
    base: String,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start(profile: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        let base = format!("http://127.0.0.1:{port}");
        let mut d = Driver { child, http, base, session: String::new() };
        let deadline = Instant::now() + Duration::from_secs(30);
        while d.call("GET", "/status", None).get("ready") != Some(&json!(true)) {
            assert!(Instant::now() < deadline, "chromedriver did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        // The flags Debian's Chromium needs here: no sandbox as root, and no background
        // connections (refused on this closed network, many at a time).
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {"binary": CHROMIUM, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,1000", format!("--user-data-dir={}", profile.display())
            ]}
        }}});
        let v = d.call("POST", "/session", Some(caps));
        d.session =
            v["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_string();
        d
    }

    /// One WebDriver command; its `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path.starts_with("/status") || path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let r = match method {
            "GET" => self.http.get(url),
            _ => self
                .http
                .post(url)
                .header("content-type", "application/json")
                .body(body.unwrap_or(json!({})).to_string()),
        };
        let v: Value = r
            .send()
            .ok()
            .and_then(|r| r.bytes().ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        v.get("value").cloned().unwrap_or(Value::Null)
    }

    fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    fn find(&self, css: &str) -> Option<String> {
        let v = self.call("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        v.get(ELEMENT).and_then(|e| e.as_str()).map(str::to_string)
    }

    /// Waits for an element (20 s).
    fn wait(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(e) = self.find(css) {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` never appeared; the page: {}",
                self.text("body")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn text(&self, css: &str) -> String {
        match self.find(css) {
            Some(e) => self
                .call("GET", &format!("/element/{e}/text"), None)
                .as_str()
                .unwrap_or("")
                .to_string(),
            None => String::new(),
        }
    }

    fn click(&self, css: &str) {
        let e = self.wait(css);
        self.call("POST", &format!("/element/{e}/click"), None);
    }

    fn type_in(&self, css: &str, text: &str) {
        let e = self.wait(css);
        self.call("POST", &format!("/element/{e}/value"), Some(json!({"text": text})));
    }

    /// Presses and releases keys on the page (W3C actions).
    fn keys(&self, text: &str) {
        let mut actions = Vec::new();
        for c in text.chars() {
            actions.push(json!({"type": "keyDown", "value": c.to_string()}));
            actions.push(json!({"type": "keyUp", "value": c.to_string()}));
        }
        self.call(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        );
    }

    /// Clicks `css`, which opens a `prompt()`, types `text` into it and accepts it. A live
    /// update may redraw the page under the click (the element is then gone and no prompt
    /// opens): the click is made again on the redrawn element.
    fn click_and_answer_prompt(&self, css: &str, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            self.click(css);
            let tried = Instant::now();
            while tried.elapsed() < Duration::from_secs(1) {
                if self.call("GET", "/alert/text", None).is_string() {
                    self.call("POST", "/alert/text", Some(json!({"text": text})));
                    self.call("POST", "/alert/accept", None);
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            assert!(Instant::now() < deadline, "no prompt opened after clicking `{css}`");
        }
    }

    fn script(&self, js: &str) -> Value {
        self.call("POST", "/execute/sync", Some(json!({"script": js, "args": []})))
    }

    /// Waits until `js` (an expression) is true.
    fn until(&self, js: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.script(&format!("return !!({js});")) != json!(true) {
            assert!(Instant::now() < deadline, "never true: {js}; the page: {}", self.text("body"));
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&self, dir: &Path, name: &str) -> PathBuf {
        let b64 = self.call("GET", "/screenshot", None);
        let png = base64_decode(b64.as_str().unwrap_or(""));
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let path = dir.join(name);
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[test]
fn an_analyst_triages_an_incident_in_chromium() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        eprintln!("SKIPPED: the browser test needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}); .ci/run installs them");
        return;
    }
    let dir = Scratch::new("browser");
    let out = run_in(&dir.0, &["demo", "--no-console"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    add_user(&dir, "lan", "analyst", "lan's long password");
    let console = start_console(&dir);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let profile = dir.path("chromium-profile");
    let d = Driver::start(&profile);

    // Sign in (the page starts in Vietnamese).
    d.go(&format!("{}/", console.base));
    d.wait("#login-name");
    // Before sign-in the top bar (and its sign-out button) is not shown.
    let bar = d.script("return getComputedStyle(document.querySelector('#bar')).display;");
    assert_eq!(bar, json!("none"), "the top bar on the sign-in page");
    d.screenshot(&shots, "1-login.png");
    d.type_in("#login-name", "lan");
    d.type_in("#login-password", "lan's long password");
    d.click("#login-submit");
    d.wait("#queue tbody tr");
    d.until("document.querySelector('#who').textContent.includes('lan')");

    // The queue shows the demo's open incidents, as the command line lists them.
    let cli: Value = serde_json::from_slice(
        &run_in(
            &dir.0,
            &["incidents", "list", "--json", "--status", "new,acknowledged,in_progress"],
        )
        .stdout,
    )
    .expect("json");
    let want: Vec<i64> =
        cli.as_array().expect("array").iter().filter_map(|i| i["id"].as_i64()).collect();
    let shown = d.script(
        "return [...document.querySelectorAll('#queue tbody tr')].map(r => Number(r.dataset.id));",
    );
    let shown: Vec<i64> =
        shown.as_array().expect("ids").iter().filter_map(|v| v.as_i64()).collect();
    assert_eq!(shown, want);
    d.screenshot(&shots, "2-queue-vi.png");

    // Keys: `j` moves the selection down, `k` up.
    d.keys("j");
    d.until("document.querySelectorAll('#queue tbody tr')[1]?.classList.contains('sel')");
    d.keys("k");
    d.until("document.querySelectorAll('#queue tbody tr')[0].classList.contains('sel')");

    // Live update: a change made elsewhere (the command line) shows without a reload.
    let other = want[want.len() - 1];
    let out = run_in(&dir.0, &["incidents", "ack", &other.to_string(), "--by", "minh"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    d.until(&format!("document.querySelector(\"#queue tbody tr[data-id='{other}'] [data-status]\")?.dataset.status === 'acknowledged'"));

    // Open the first; acknowledge; note; resolve.
    let id = want[0];
    d.click(&format!("#queue tbody tr[data-id='{id}'] a"));
    d.wait("#incident-title");
    d.until(&format!("document.querySelector('#incident-title').textContent.startsWith('#{id} ')"));
    d.screenshot(&shots, "3-incident.png");
    // The rules table names the rule's column as such (not "Sự cố").
    let heads = d.text("#incident-rules thead");
    assert!(heads.to_lowercase().contains("tên luật"), "{heads}");
    d.click("[data-action='acknowledged']");
    d.until("document.querySelector(\"[data-fact='status'] [data-status]\")?.dataset.status === 'acknowledged'");
    let note = "Đã chặn IP nguồn tại tường lửa; kiểm tra máy chủ <b>web</b>.";
    d.type_in("#note-text", note);
    d.click("#note-submit");
    d.until("document.querySelector('#notes .note') !== null");
    assert!(d.text("#notes").contains(note), "the note is shown as text: {}", d.text("#notes"));
    d.click("[data-action='resolved']");
    d.until("document.querySelector(\"[data-fact='status'] [data-status]\")?.dataset.status === 'resolved'");
    d.screenshot(&shots, "4-incident-resolved.png");

    // The store agrees.
    let shown: Value = serde_json::from_slice(
        &run_in(&dir.0, &["incidents", "show", &id.to_string(), "--json"]).stdout,
    )
    .expect("json");
    assert_eq!(shown["incident"]["status"], "resolved");
    assert!(shown["incident"]["acknowledged_at"].is_string());
    assert_eq!(shown["notes"][0]["text"], note);
    assert_eq!(shown["notes"][0]["author"], "lan");
    let actions: Vec<(String, String)> = shown["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .map(|a| {
            (
                a["actor"].as_str().unwrap_or("").to_string(),
                a["action"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for want in ["incident.transition", "incident.note"] {
        assert!(
            actions.iter().any(|(who, what)| who == "lan" && what == want),
            "{want} by lan in {actions:?}"
        );
    }

    // The evidence of the malware-domain incident names what was asked and answered
    // (the sensor writes DNS in Suricata's version 3 layout: `queries`, `answers`).
    let dns_incident = want
        .iter()
        .copied()
        .find(|i| {
            let shown: Value = serde_json::from_slice(
                &run_in(&dir.0, &["incidents", "show", &i.to_string(), "--json"]).stdout,
            )
            .unwrap_or_default();
            shown["rules"].as_array().is_some_and(|r| r.iter().any(|r| r["sid"] == 9_000_005))
        })
        .expect("the demo's DNS incident");
    d.go(&format!("{}/#/incidents/{dns_incident}", console.base));
    d.wait("#dns tbody tr");
    let evidence = d.text("#dns");
    assert!(evidence.contains("update.hue-gov-portal.top A"), "{evidence}");
    assert!(evidence.contains("198.51.100.200"), "{evidence}");

    // Automated response: the demo's dry-run decisions, then a run with an `approve`
    // policy adds decisions that wait; the analyst approves one, with a reason.
    super::console::replay_demo_with_policies(&dir, "");
    let cli: Value = serde_json::from_slice(&run_in(&dir.0, &["blocks", "list", "--json"]).stdout)
        .expect("json");
    let ids: Vec<i64> =
        cli.as_array().expect("blocks").iter().filter_map(|b| b["id"].as_i64()).collect();
    let waiting = cli
        .as_array()
        .expect("blocks")
        .iter()
        .find(|b| b["state"] == "awaiting-approval")
        .expect("one waits");
    let wid = waiting["id"].as_i64().expect("id");
    d.go(&format!("{}/#/blocks", console.base));
    d.wait("#blocks tr[data-block]");
    let shown = d.script("return [...document.querySelectorAll('#blocks tr[data-block]')].map((r) => Number(r.dataset.block));");
    assert_eq!(shown, json!(ids), "the page lists what `gatewatch blocks list` lists");
    assert!(
        d.text("#blocks").contains("thuộc danh sách cho phép, không chặn"),
        "the allowlist skip in Vietnamese: {}",
        d.text("#blocks")
    );
    d.screenshot(&shots, "5-blocks-vi.png");
    d.click_and_answer_prompt(
        &format!("#blocks tr[data-block='{wid}'] [data-block-action='approve']"),
        "Đã xác minh với Sở Tài chính",
    );
    d.until(&format!("document.querySelector(\"#blocks tr[data-block='{wid}'] [data-state]\")?.dataset.state === 'approved'"));
    let b: Value = serde_json::from_slice(
        &run_in(&dir.0, &["blocks", "show", &wid.to_string(), "--json"]).stdout,
    )
    .expect("json");
    assert_eq!(b["block"]["state"], "approved");
    assert_eq!(b["history"][1]["actor"], "lan");
    assert_eq!(b["history"][1]["detail"]["reason"], "Đã xác minh với Sở Tài chính");

    // Monthly reports: the form makes a download link; the PDF of the demo's month.
    d.go(&format!("{}/#/reports", console.base));
    d.wait("#report-download");
    d.script("const m = document.querySelector('#report-month'); m.value = '2026-10'; m.dispatchEvent(new Event('change'));");
    d.until(
        "document.querySelector('#report-download').getAttribute('href').includes('month=2026-10')",
    );
    let href = d.script("return document.querySelector('#report-download').getAttribute('href');");
    assert_eq!(href, json!("/api/v1/reports/generate?month=2026-10&lang=vi&format=pdf"));
    d.script("window.gwPdf = null; fetch(document.querySelector('#report-download').href).then((r) => r.arrayBuffer().then((b) => { window.gwPdf = [r.status, r.headers.get('content-type'), new TextDecoder().decode(new Uint8Array(b).slice(0, 5))]; }));");
    d.until("window.gwPdf !== null");
    assert_eq!(d.script("return window.gwPdf;"), json!([200, "application/pdf", "%PDF-"]));
    d.screenshot(&shots, "6-reports.png");

    // The overview draws its charts; English labels on request.
    d.go(&format!("{}/#/overview", console.base));
    d.wait("#chart-by-day rect");
    d.wait("#bars-status .bar");
    d.screenshot(&shots, "7-overview.png");
    d.script("const s = document.querySelector('#lang'); s.value = 'en'; s.dispatchEvent(new Event('change'));");
    d.until("document.querySelector(\"#nav [data-nav='queue']\").textContent === 'Incidents'");
    d.go(&format!("{}/#/incidents?status=", console.base));
    d.wait("#queue tbody tr");
    d.until("document.querySelector('#queue th').textContent === 'Severity'");
    d.screenshot(&shots, "8-queue-en.png");
    eprintln!("screenshots: {}", shots.display());
}
