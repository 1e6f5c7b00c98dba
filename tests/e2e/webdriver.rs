//! A W3C WebDriver client for the browser test: Debian's `chromedriver` driving a
//! headless `chromium` — pages, elements, scripts, prompts, the viewport (Chrome's
//! device metrics), screenshots.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{json, Value};

use super::browser::{CHROMEDRIVER, CHROMIUM};

/// The W3C name of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
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
    pub fn start(profile: &Path) -> Driver {
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
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
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

    pub fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    pub fn find(&self, css: &str) -> Option<String> {
        let v = self.call("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        v.get(ELEMENT).and_then(|e| e.as_str()).map(str::to_string)
    }

    /// Waits for an element (20 s).
    pub fn wait(&self, css: &str) -> String {
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

    pub fn text(&self, css: &str) -> String {
        match self.find(css) {
            Some(e) => self
                .call("GET", &format!("/element/{e}/text"), None)
                .as_str()
                .unwrap_or("")
                .to_string(),
            None => String::new(),
        }
    }

    pub fn click(&self, css: &str) {
        let e = self.wait(css);
        self.call("POST", &format!("/element/{e}/click"), None);
    }

    pub fn type_in(&self, css: &str, text: &str) {
        let e = self.wait(css);
        self.call("POST", &format!("/element/{e}/value"), Some(json!({"text": text})));
    }

    /// Presses and releases keys on the page (W3C actions).
    pub fn keys(&self, text: &str) {
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
    pub fn click_and_answer_prompt(&self, css: &str, text: &str) {
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

    pub fn script(&self, js: &str) -> Value {
        self.call("POST", "/execute/sync", Some(json!({"script": js, "args": []})))
    }

    /// A GET of the console's API from the page (its session cookie); the JSON.
    pub fn api(&self, path: &str) -> Value {
        let js = format!(
            "const done = arguments[arguments.length - 1]; fetch({path:?}).then((r) => r.json()).then(done, (e) => done(String(e)));"
        );
        self.call("POST", "/execute/async", Some(json!({"script": js, "args": []})))
    }

    /// The viewport at `width`×`height` CSS pixels (Chrome's device metrics), so that
    /// screenshots are of exactly that screen.
    pub fn viewport(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": "Emulation.setDeviceMetricsOverride",
                "params": {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}})),
        );
    }

    /// Waits until `js` (an expression) is true.
    pub fn until(&self, js: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.script(&format!("return !!({js});")) != json!(true) {
            assert!(Instant::now() < deadline, "never true: {js}; the page: {}", self.text("body"));
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn screenshot(&self, dir: &Path, name: &str) -> PathBuf {
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
