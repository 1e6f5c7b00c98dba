//! The analyst console over HTTPS, as an automation and an attacker see it: the demo's
//! store, `gatewatch users`/`tokens`, `gatewatch console`, and requests with and
//! without a session, a CSRF token, a role. The browser's view is in `browser.rs`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::common::{gatewatch, run_in, Scratch};

/// JSON bodies and answers (reqwest is built without its `json` feature).
pub trait JsonBody {
    fn json(self, v: &Value) -> Self;
}

impl JsonBody for RequestBuilder {
    fn json(self, v: &Value) -> Self {
        self.header("content-type", "application/json").body(v.to_string())
    }
}

fn json_of(r: Response) -> Value {
    r.bytes().ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null)
}

pub struct Console {
    pub child: Child,
    pub base: String,
    pub ca: String,
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo's store with users `lan` (analyst), `minh` (viewer) and `admin`.
pub fn demo_with_users(dir: &Scratch) {
    let out = run_in(&dir.0, &["demo", "--no-console"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (name, role, pw) in [
        ("lan", "analyst", "lan's long password"),
        ("minh", "viewer", "minh's long password"),
        ("admin", "admin", "admin's long password"),
    ] {
        add_user(dir, name, role, pw);
    }
}

pub fn add_user(dir: &Scratch, name: &str, role: &str, pw: &str) {
    let mut c = gatewatch()
        .current_dir(&dir.0)
        .args(["users", "add", name, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("users add");
    writeln!(c.stdin.take().expect("stdin"), "{pw}").expect("password");
    let out = c.wait_with_output().expect("users add");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Replays the demo's capture into its store with `approve.toml`: a program action `fw`
/// (`/bin/true`), an `approve` policy on sources (`ask-first`), and `more` policies.
pub fn replay_demo_with_policies(dir: &Scratch, more: &str) {
    let config = format!(
        "[correlator]\nassets = \"gatewatch-data/demo/assets.toml\"\n[response.actions.fw]\nkind = \"program\"\nblock = [\"/bin/true\"]\nunblock = [\"/bin/true\"]\n[[response.policies]]\nname = \"ask-first\"\nmode = \"approve\"\naction = \"fw\"\ntarget = \"source\"\n{more}"
    );
    std::fs::write(dir.path("approve.toml"), config).expect("config");
    let out = run_in(
        &dir.0,
        &[
            "--config",
            "approve.toml",
            "run",
            "--rules",
            "gatewatch-data/demo/demo.rules",
            "--",
            "gatewatch-data/demo/demo.pcap",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

pub fn start_console(dir: &Scratch) -> Console {
    start_console_with(dir, &[])
}

/// The console with more options before the command (`--config FILE`).
pub fn start_console_with(dir: &Scratch, options: &[&str]) -> Console {
    let mut child = gatewatch()
        .current_dir(&dir.0)
        .args(options)
        // The demo's inventory, as a deployment's configuration names it.
        .args(["--set", "correlator.assets=gatewatch-data/demo/assets.toml"])
        .args(["console", "--listen", "127.0.0.1:0", "--print-address"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the console");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("address");
    let mut console = Console { child, base: String::new(), ca: String::new() };
    let a: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let port =
        a["console"].as_str().unwrap_or_default().rsplit(':').next().unwrap_or("").to_string();
    let ca = std::fs::read_to_string(dir.path("gatewatch-data/console-pki/ca.crt"))
        .expect("the console's CA");
    console.base = format!("https://localhost:{port}");
    console.ca = ca;
    console
}

pub fn client(c: &Console) -> Client {
    Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(c.ca.as_bytes()).expect("ca"))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// A signed-in browser-like caller: its cookie and CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub set_cookie: String,
}

pub fn login(
    http: &Client,
    c: &Console,
    name: &str,
    pw: &str,
) -> Result<Session, (StatusCode, Value)> {
    let r = http
        .post(format!("{}/api/v1/login", c.base))
        .json(&json!({"name": name, "password": pw}))
        .send()
        .expect("login");
    let status = r.status();
    let set_cookie =
        r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = json_of(r);
    if status != StatusCode::OK {
        return Err((status, body));
    }
    let cookie = set_cookie.split(';').next().unwrap_or("").to_string();
    Ok(Session { cookie, csrf: body["csrf"].as_str().unwrap_or("").to_string(), set_cookie })
}

pub fn with(s: &Session, r: RequestBuilder) -> RequestBuilder {
    r.header("cookie", &s.cookie).header("x-csrf-token", &s.csrf)
}

pub fn body(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    (status, json_of(r))
}

pub fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// The API scenario's steps on one console: its client and the demo's folder.
struct Scenario<'a> {
    http: Client,
    c: &'a Console,
    dir: &'a Scratch,
}

impl Scenario<'_> {
    fn url(&self, p: &str) -> String {
        format!("{}{p}", self.c.base)
    }

    /// Without a session nothing is read or changed; the OpenAPI document and the
    /// page (with its security headers, loading nothing from outside) are public.
    fn anonymous(&self) {
        let (http, url) = (&self.http, |p: &str| self.url(p));
        let (st, v) = body(http.get(url("/api/v1/incidents")).send().expect("get"));
        assert_eq!((st, code(&v)), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{v}");
        let (st, v) = body(
            http.post(url("/api/v1/incidents/1/transition"))
                .json(&json!({"to": "resolved", "version": 0}))
                .send()
                .expect("post"),
        );
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
        // Public: the OpenAPI document, and the page (with its security headers).
        let (st, doc) = body(http.get(url("/api/openapi.json")).send().expect("openapi"));
        assert_eq!(st, StatusCode::OK);
        assert!(doc["paths"]["/api/v1/incidents"]["get"].is_object());
        let page = http.get(url("/")).send().expect("page");
        let csp = page.headers()["content-security-policy"].to_str().unwrap_or("").to_string();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        let html = page.text().expect("html");
        assert!(html.contains("/assets/app.js"));
        for asset in ["/", "/assets/app.js", "/assets/incident.js", "/assets/app.css"] {
            let text = http.get(url(asset)).send().expect("asset").text().expect("text");
            // The SVG namespace is a name, not a location.
            let text = text.replace("http://www.w3.org/2000/svg", "");
            assert!(
                !text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"),
                "{asset} loads nothing from outside"
            );
        }
    }

    /// Sign-in: a wrong password, then the right one; the cookie's attributes.
    fn sign_in(&self) -> Session {
        let http = &self.http;
        let (st, v) = login(http, self.c, "lan", "not lan's password").err().expect("refused");
        assert_eq!((st, code(&v)), (StatusCode::UNAUTHORIZED, "login_failed"));
        let lan = login(http, self.c, "lan", "lan's long password").expect("lan signs in");
        for attr in ["__Host-gw_session=", "Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(lan.set_cookie.contains(attr), "{attr} in {}", lan.set_cookie);
        }
        lan
    }

    /// The queue is the store's, as the command line lists it (most recent first);
    /// by default most urgent first; the detail has the evidence behind the alerts.
    /// Returns the open incidents, the first one and its version.
    fn queue(&self, lan: &Session) -> (Vec<i64>, i64, i64) {
        let (http, url) = (&self.http, |p: &str| self.url(p));
        let (st, page) = body(
            with(lan, http.get(url("/api/v1/incidents?status=open&sort=last_seen")))
                .send()
                .expect("queue"),
        );
        assert_eq!(st, StatusCode::OK, "{page}");
        let cli: Value =
            serde_json::from_slice(&run_in(&self.dir.0, &["incidents", "list", "--json"]).stdout)
                .expect("cli json");
        let cli_ids: Vec<i64> =
            cli.as_array().expect("array").iter().map(|i| i["id"].as_i64().unwrap_or(0)).collect();
        let api_ids: Vec<i64> = page["incidents"]
            .as_array()
            .expect("array")
            .iter()
            .map(|i| i["id"].as_i64().unwrap_or(0))
            .collect();
        assert!(!api_ids.is_empty());
        assert_eq!(api_ids, cli_ids);
        assert_eq!(page["total"], json!(api_ids.len()));
        let (_, urgent) =
            body(with(lan, http.get(url("/api/v1/incidents?status=open"))).send().expect("queue"));
        let scores: Vec<u64> = urgent["incidents"]
            .as_array()
            .expect("array")
            .iter()
            .map(|i| i["score"].as_u64().unwrap_or(0))
            .collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "highest score first: {scores:?}");
        let (st, bad) =
            body(with(lan, http.get(url("/api/v1/incidents?sort=id;drop"))).send().expect("queue"));
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
        assert!(bad.to_string().contains("is not one of last_seen, priority"), "{bad}");
        let first = &page["incidents"][0];
        let id = first["id"].as_i64().expect("id");
        let version = first["version"].as_i64().expect("version");

        // The detail has the evidence behind the alerts.
        let (st, d) = body(
            with(lan, http.get(url(&format!("/api/v1/incidents/{id}")))).send().expect("detail"),
        );
        assert_eq!(st, StatusCode::OK);
        assert!(!d["alerts"].as_array().expect("alerts").is_empty());
        assert!(!d["timeline"].as_array().expect("timeline").is_empty());
        let (st, _) =
            body(with(lan, http.get(url("/api/v1/incidents/999999"))).send().expect("missing"));
        assert_eq!(st, StatusCode::NOT_FOUND);
        (api_ids, id, version)
    }

    /// A change without the CSRF token, from another origin, by a viewer or on an
    /// old version is refused; the analyst's acknowledgement goes through.
    fn changes_need_csrf_and_a_role(&self, lan: &Session, minh: &Session, id: i64, version: i64) {
        let (http, url) = (&self.http, |p: &str| self.url(p));
        let ack = json!({"to": "acknowledged", "version": version});
        let (st, v) = body(
            http.post(url(&format!("/api/v1/incidents/{id}/transition")))
                .header("cookie", &lan.cookie)
                .json(&ack)
                .send()
                .expect("post"),
        );
        assert_eq!((st, code(&v)), (StatusCode::FORBIDDEN, "csrf"));
        let (st, v) = body(
            with(lan, http.post(url(&format!("/api/v1/incidents/{id}/transition"))))
                .header("origin", "https://evil.example")
                .json(&ack)
                .send()
                .expect("post"),
        );
        assert_eq!((st, code(&v)), (StatusCode::FORBIDDEN, "csrf"));

        // A viewer reads but cannot change.
        let (st, _) = body(
            with(minh, http.get(url(&format!("/api/v1/incidents/{id}")))).send().expect("read"),
        );
        assert_eq!(st, StatusCode::OK);
        let (st, v) = body(
            with(minh, http.post(url(&format!("/api/v1/incidents/{id}/transition"))))
                .json(&ack)
                .send()
                .expect("post"),
        );
        assert_eq!((st, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
        let (st, _) = body(with(minh, http.get(url("/api/v1/users"))).send().expect("users"));
        assert_eq!(st, StatusCode::FORBIDDEN, "accounts are the admin's");

        // The analyst acknowledges; a change on the old version is a conflict.
        let (st, v) = body(
            with(lan, http.post(url(&format!("/api/v1/incidents/{id}/transition"))))
                .json(&ack)
                .send()
                .expect("ack"),
        );
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["incident"]["status"], "acknowledged");
        let (st, v) = body(
            with(lan, http.post(url(&format!("/api/v1/incidents/{id}/assign"))))
                .json(&json!({"assignee": "lan", "version": version}))
                .send()
                .expect("stale"),
        );
        assert_eq!((st, code(&v)), (StatusCode::CONFLICT, "conflict"), "{v}");
    }

    /// Injection in a note and in every filter is stored or matched as text.
    fn injection_is_text(&self, lan: &Session, id: i64) {
        let (http, url) = (&self.http, |p: &str| self.url(p));
        let evil = "<script>alert(1)</script>'; DROP TABLE incidents; --";
        let (st, v) = body(
            with(lan, http.post(url(&format!("/api/v1/incidents/{id}/notes"))))
                .json(&json!({"text": evil}))
                .send()
                .expect("note"),
        );
        assert_eq!(st, StatusCode::CREATED, "{v}");
        for q in [
            "q=%27%20OR%201%3D1%20--",
            "agency=x%27%20OR%20%271%27%3D%271",
            "asset=%27%3B%20DROP%20TABLE%20alerts%3B--",
            "tactic=%22)%20OR%201%3D1--",
            "assignee=%27%20OR%20%27%27%3D%27",
        ] {
            let (st, v) = body(
                with(lan, http.get(url(&format!("/api/v1/incidents?status=&{q}"))))
                    .send()
                    .expect("filter"),
            );
            assert_eq!(st, StatusCode::OK, "{q}: {v}");
            assert_eq!(v["total"], 0, "{q} matches nothing");
        }
        let (st, v) =
            body(with(lan, http.get(url("/api/v1/incidents?sort=id;DROP"))).send().expect("sort"));
        assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"));
        let (_, d) = body(
            with(lan, http.get(url(&format!("/api/v1/incidents/{id}")))).send().expect("detail"),
        );
        assert_eq!(d["notes"][0]["text"], evil, "kept verbatim, as JSON text");
    }

    /// Saved views belong to their user; alerts, sensors, assets and the overview
    /// read back.
    fn reads(&self, lan: &Session, minh: &Session, id: i64, open: usize) {
        let (http, url) = (&self.http, |p: &str| self.url(p));
        let (st, v) = body(
            with(lan, http.post(url("/api/v1/views")))
                .json(&json!({"name": "critical open", "query": "status=open&severity=critical"}))
                .send()
                .expect("view"),
        );
        assert_eq!(st, StatusCode::OK, "{v}");
        let (_, views) = body(with(lan, http.get(url("/api/v1/views"))).send().expect("views"));
        assert_eq!(views[0]["query"], "status=open&severity=critical");
        let (_, theirs) = body(with(minh, http.get(url("/api/v1/views"))).send().expect("views"));
        assert_eq!(theirs, json!([]));

        // Alerts, sensors, assets, the overview and the incident's audit trail read back.
        let (st, alerts) = body(
            with(lan, http.get(url(&format!("/api/v1/alerts?incident={id}"))))
                .send()
                .expect("alerts"),
        );
        assert_eq!(st, StatusCode::OK);
        assert!(!alerts.as_array().expect("alerts").is_empty());
        let (_, sensors) =
            body(with(lan, http.get(url("/api/v1/sensors"))).send().expect("sensors"));
        assert_eq!(sensors[0]["name"], "hue-gw-sensor-01", "{sensors}");
        // Its health comes from the heartbeat the replay stored (the console reads the
        // store alone here): the demo capture's packets, rules, and that it read a file.
        let s = &sensors[0];
        assert_eq!(
            (s["heartbeat"].as_bool(), s["reads_files"].as_bool()),
            (Some(true), Some(true)),
            "{s}"
        );
        assert_eq!(s["up"], Value::Null, "{s}");
        assert!(s["packets"].as_u64().is_some_and(|p| p > 1000), "{s}");
        assert_eq!(
            (s["rules_generation"].as_u64(), s["rules_loaded"].as_u64()),
            (Some(1), Some(8)),
            "{s}"
        );
        assert!(s["last_heartbeat"].as_str().is_some_and(|t| t.starts_with("2026-10-14")), "{s}");
        let (_, assets) = body(with(lan, http.get(url("/api/v1/assets"))).send().expect("assets"));
        assert_eq!(assets["agencies"].as_array().map(|a| a.len()), Some(4));
        let (st, o) = body(
            with(lan, http.get(url("/api/v1/overview?until=2026-10-31"))).send().expect("overview"),
        );
        assert_eq!(st, StatusCode::OK, "{o}");
        let per_day: u64 = o["by_day"]
            .as_array()
            .expect("days")
            .iter()
            .map(|d| {
                ["critical", "high", "medium", "low"]
                    .iter()
                    .map(|k| d[k].as_u64().unwrap_or(0))
                    .sum::<u64>()
            })
            .sum();
        assert_eq!(per_day, open as u64, "every open incident of the demo is in the period");
    }

    /// Suppressions (a reason required, not by a viewer); a merge takes the
    /// incident out of the queue with its alerts.
    fn suppressions_and_merge(&self, lan: &Session, minh: &Session, api_ids: &[i64]) {
        let (http, url) = (&self.http, |p: &str| self.url(p));
        let (st, v) = body(
            with(lan, http.post(url("/api/v1/suppressions")))
                .json(&json!({"src": "10.46.1.0/24", "reason": ""}))
                .send()
                .expect("no reason"),
        );
        assert_eq!((st, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "refused"), "{v}");
        let (st, v) = body(with(lan, http.post(url("/api/v1/suppressions"))).json(&json!({"src": "10.46.1.0/24", "sid": 1, "reason": "SOC scanner", "expires_days": 7})).send().expect("suppress"));
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!(v["created_by"], "lan");
        let (st, _) = body(
            with(minh, http.delete(url(&format!("/api/v1/suppressions/{}", v["id"]))))
                .send()
                .expect("viewer"),
        );
        assert_eq!(st, StatusCode::FORBIDDEN);

        // Merge: the last incident into the second; it leaves the queue, its alerts move.
        if api_ids.len() >= 3 {
            let (from, into) = (api_ids[2], api_ids[1]);
            let (_, f) = body(
                with(lan, http.get(url(&format!("/api/v1/incidents/{from}"))))
                    .send()
                    .expect("from"),
            );
            let (_, t0) = body(
                with(lan, http.get(url(&format!("/api/v1/incidents/{into}"))))
                    .send()
                    .expect("into"),
            );
            let (st, v) = body(
                with(lan, http.post(url(&format!("/api/v1/incidents/{from}/merge"))))
                    .json(&json!({"into": into, "version": f["incident"]["version"]}))
                    .send()
                    .expect("merge"),
            );
            assert_eq!(st, StatusCode::OK, "{v}");
            let sum = f["incident"]["alert_count"].as_u64().unwrap_or(0)
                + t0["incident"]["alert_count"].as_u64().unwrap_or(0);
            assert_eq!(v["incident"]["alert_count"].as_u64(), Some(sum));
            let (_, q) =
                body(with(lan, http.get(url("/api/v1/incidents?status="))).send().expect("queue"));
            assert!(q["incidents"]
                .as_array()
                .expect("list")
                .iter()
                .all(|i| i["id"] != json!(from)));
        }
    }

    /// Resolving: the store says the same, with the user in the audit log.
    fn resolve(&self, lan: &Session, id: i64) {
        let (http, url) = (&self.http, |p: &str| self.url(p));
        let (_, d) = body(
            with(lan, http.get(url(&format!("/api/v1/incidents/{id}")))).send().expect("detail"),
        );
        let v2 = d["incident"]["version"].as_i64().expect("version");
        let (st, v) = body(
            with(lan, http.post(url(&format!("/api/v1/incidents/{id}/transition"))))
                .json(&json!({"to": "resolved", "note": "blocked at the gateway", "version": v2}))
                .send()
                .expect("resolve"),
        );
        assert_eq!(st, StatusCode::OK, "{v}");
        let shown: Value = serde_json::from_slice(
            &run_in(&self.dir.0, &["incidents", "show", &id.to_string(), "--json"]).stdout,
        )
        .expect("show json");
        assert_eq!(shown["incident"]["status"], "resolved");
        assert!(
            shown["incident"]["acknowledged_at"].is_string()
                && shown["incident"]["resolved_at"].is_string()
        );
        let actors: Vec<&str> = shown["audit"]
            .as_array()
            .expect("audit")
            .iter()
            .filter_map(|a| a["actor"].as_str())
            .collect();
        assert!(actors.iter().filter(|a| **a == "lan").count() >= 3, "{actors:?}");
        let total = run_in(&self.dir.0, &["incidents", "list", "--json", "--limit", "1000"]);
        assert!(
            !serde_json::from_slice::<Value>(&total.stdout)
                .expect("json")
                .as_array()
                .expect("array")
                .is_empty(),
            "tables intact"
        );
    }

    /// Tokens: scoped by role, revocable, no CSRF needed.
    fn tokens(&self, id: i64) {
        let (http, url) = (&self.http, |p: &str| self.url(p));
        let out =
            run_in(&self.dir.0, &["tokens", "add", "soar", "--user", "lan", "--role", "viewer"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let bearer = |r: RequestBuilder| r.header("authorization", format!("Bearer {token}"));
        let (st, _) = body(bearer(http.get(url("/api/v1/incidents"))).send().expect("token read"));
        assert_eq!(st, StatusCode::OK);
        let (st, v) = body(
            bearer(http.post(url(&format!("/api/v1/incidents/{id}/notes"))))
                .json(&json!({"text": "x"}))
                .send()
                .expect("token write"),
        );
        assert_eq!((st, code(&v)), (StatusCode::FORBIDDEN, "forbidden"), "a viewer token");
        assert!(run_in(&self.dir.0, &["tokens", "revoke", "1"]).status.success());
        let (st, _) = body(bearer(http.get(url("/api/v1/incidents"))).send().expect("revoked"));
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }

    /// Sign-out ends the session; five failures lock an account, even against the
    /// right password, and no password is written anywhere.
    fn sign_out_and_throttle(&self, lan: &Session, id: i64) {
        let (http, url) = (&self.http, |p: &str| self.url(p));
        let (st, _) = body(with(lan, http.post(url("/api/v1/logout"))).send().expect("logout"));
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = body(with(lan, http.get(url("/api/v1/incidents"))).send().expect("after"));
        assert_eq!(st, StatusCode::UNAUTHORIZED);

        // Throttling: five failures lock the account, even against the right password.
        for _ in 0..5 {
            let (st, _) = login(http, self.c, "minh", "guess guess guess").err().expect("wrong");
            assert_eq!(st, StatusCode::UNAUTHORIZED);
        }
        let r = http
            .post(url("/api/v1/login"))
            .json(&json!({"name": "minh", "password": "minh's long password"}))
            .send()
            .expect("locked");
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(r.headers().get("retry-after").is_some());
        let failed = String::from_utf8_lossy(
            &run_in(&self.dir.0, &["incidents", "show", &id.to_string(), "--json"]).stdout,
        )
        .to_string();
        assert!(!failed.contains("guess"), "passwords are never written anywhere");
    }
}

#[test]
fn console_api_guards_every_change() {
    let dir = Scratch::new("console-api");
    demo_with_users(&dir);
    let c = start_console(&dir);
    let api = Scenario { http: client(&c), c: &c, dir: &dir };
    api.anonymous();
    let lan = api.sign_in();
    let (api_ids, id, version) = api.queue(&lan);
    let minh = login(&api.http, &c, "minh", "minh's long password").expect("minh signs in");
    api.changes_need_csrf_and_a_role(&lan, &minh, id, version);
    api.injection_is_text(&lan, id);
    api.reads(&lan, &minh, id, api_ids.len());
    api.suppressions_and_merge(&lan, &minh, &api_ids);
    api.resolve(&lan, id);
    api.tokens(id);
    api.sign_out_and_throttle(&lan, id);
}

/// Block decisions through the API: the demo's dry-run decisions, then a run of the
/// demo capture with an `approve` policy and an `enforce` one (a program action, `/bin/true`)
/// adds decisions that wait and one in force. A viewer reads but cannot decide; an
/// analyst approves, denies and lifts; refused moves name the state; every step is in
/// the decision's audit trail and on the incident's page.
#[test]
fn console_block_decisions_approve_deny_undo() {
    let dir = Scratch::new("console-blocks");
    demo_with_users(&dir);
    replay_demo_with_policies(
        &dir,
        r#"
[[response.policies]]
name = "cut-c2"
mode = "enforce"
action = "fw"
target = "destination"
classes = ["malicious-code"]
"#,
    );
    let c = start_console(&dir);
    let http = client(&c);
    let lan = login(&http, &c, "lan", "lan's long password").expect("lan");
    let minh = login(&http, &c, "minh", "minh's long password").expect("minh");
    let get = |s: &Session, p: &str| {
        body(with(s, http.get(format!("{}{p}", c.base))).send().expect("get"))
    };
    let post = |s: &Session, p: &str, v: Value| {
        body(
            with(s, http.post(format!("{}{p}", c.base)))
                .header("origin", &c.base)
                .json(&v)
                .send()
                .expect("post"),
        )
    };

    let (st, all) = get(&minh, "/api/v1/blocks");
    assert_eq!(st, StatusCode::OK);
    let cli = run_in(&dir.0, &["blocks", "list", "--json"]);
    let cli: Value = serde_json::from_slice(&cli.stdout).expect("cli json");
    assert_eq!(all, cli, "the API lists what the CLI lists");
    let by_state = |s: &str| -> Vec<Value> {
        all.as_array().unwrap().iter().filter(|b| b["state"] == s).cloned().collect()
    };
    assert_eq!(by_state("dry-run").len(), 6, "the demo's dry-run decisions");
    let waiting = by_state("awaiting-approval");
    assert_eq!(waiting.len(), 4, "four external sources wait: {all:#}");
    let executed = by_state("executed");
    assert_eq!(executed.len(), 1, "{all:#}");
    let (st, only) = get(&minh, "/api/v1/blocks?state=awaiting-approval");
    assert_eq!((st, only.as_array().map(Vec::len)), (StatusCode::OK, Some(4)));
    let (st, e) = get(&minh, "/api/v1/blocks?state=blocked");
    assert_eq!((st, code(&e)), (StatusCode::BAD_REQUEST, "bad_request"));

    let (a, d) = (waiting[0]["id"].as_i64().unwrap(), waiting[1]["id"].as_i64().unwrap());
    let (st, e) = post(&minh, &format!("/api/v1/blocks/{a}/approve"), json!({}));
    assert_eq!((st, code(&e)), (StatusCode::FORBIDDEN, "forbidden"), "a viewer cannot approve");
    let (st, b) = post(
        &lan,
        &format!("/api/v1/blocks/{a}/approve"),
        json!({"reason": "confirmed with Sở Tài chính"}),
    );
    assert_eq!(
        (st, b["state"].as_str(), b["decided_by"].as_str()),
        (StatusCode::OK, Some("approved"), Some("lan"))
    );
    let (st, e) = post(&lan, &format!("/api/v1/blocks/{a}/deny"), json!({}));
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e["error"]["message"].as_str().unwrap_or("").contains("is approved: it cannot be denied"),
        "{e}"
    );
    let (st, b) =
        post(&lan, &format!("/api/v1/blocks/{d}/deny"), json!({"reason": "<b>a partner</b>"}));
    assert_eq!((st, b["state"].as_str()), (StatusCode::OK, Some("denied")));
    let x = executed[0]["id"].as_i64().unwrap();
    let (st, b) = post(&lan, &format!("/api/v1/blocks/{x}/undo"), json!({"reason": "false alarm"}));
    assert_eq!((st, b["state"].as_str()), (StatusCode::OK, Some("undoing")));
    let (st, e) = post(&lan, &format!("/api/v1/blocks/{x}/undo"), json!({}));
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    let (st, detail) = get(&minh, &format!("/api/v1/blocks/{d}"));
    assert_eq!(st, StatusCode::OK);
    let steps: Vec<(String, String)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["action"].as_str().unwrap_or("").into(), r["actor"].as_str().unwrap_or("").into())
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("block.awaiting-approval".into(), "gatewatch".into()),
            ("block.denied".into(), "lan".into())
        ]
    );
    assert_eq!(detail["history"][1]["detail"]["reason"], "<b>a partner</b>", "kept verbatim");
    let incident = waiting[0]["incident_id"].as_i64().unwrap();
    let (_, inc) = get(&minh, &format!("/api/v1/incidents/{incident}"));
    assert!(inc["blocks"].as_array().unwrap().iter().any(|b| b["id"] == a), "{inc:#}");
    assert!(
        inc["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["text"].as_str().unwrap_or("").starts_with("approved")),
        "the timeline shows the approval"
    );

    // The lift asked for in the console is carried out from the command line (the
    // correlator is not running here).
    let out = run_in(&dir.0, &["--config", "approve.toml", "blocks", "undo", &x.to_string()]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("lifted"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, b) = get(&minh, &format!("/api/v1/blocks/{x}"));
    assert_eq!(b["block"]["state"], "undone");
}

/// Monthly reports through the API: made on request (a viewer may), kept ones listed
/// and downloaded by name (nothing else is reachable by a name), errors that say what.
#[test]
fn console_reports_made_listed_and_downloaded() {
    let dir = Scratch::new("console-reports");
    demo_with_users(&dir);
    let out = run_in(
        &dir.0,
        &[
            "--set",
            "correlator.assets=gatewatch-data/demo/assets.toml",
            "--set",
            "report.per_agency=false",
            "report",
            "--month",
            "2026-10",
            "--all",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let c = start_console(&dir);
    let http = client(&c);
    let minh = login(&http, &c, "minh", "minh's long password").expect("minh");
    let get = |p: &str| with(&minh, http.get(format!("{}{p}", c.base))).send().expect("get");

    let r = get("/api/v1/reports/generate?month=2026-10&format=json&lang=en");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("gatewatch-report-2026-10-province-en.json"));
    let v = json_of(r);
    assert_eq!((v["incidents"]["total"].as_u64(), v["month"].as_str()), (Some(3), Some("2026-10")));
    let r = get("/api/v1/reports/generate?month=2026-10&format=pdf&agency=so-y-te");
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.bytes().unwrap().starts_with(b"%PDF-"));
    for (q, code) in [
        ("month=2026-13", "bad_request"),
        ("month=2026-10&agency=nope", "bad_request"),
        ("month=2026-10&format=docx", "bad_request"),
    ] {
        let (st, e) = body(get(&format!("/api/v1/reports/generate?{q}")));
        assert_eq!((st, self::code(&e)), (StatusCode::BAD_REQUEST, code), "{q}: {e}");
    }
    let anon =
        http.get(format!("{}/api/v1/reports/generate?month=2026-10", c.base)).send().unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);

    let (st, list) = body(get("/api/v1/reports"));
    assert_eq!(st, StatusCode::OK);
    let files: Vec<&str> =
        list.as_array().unwrap().iter().filter_map(|a| a["file"].as_str()).collect();
    // Province-wide and 4 agencies: vi and en, html and pdf, and the figures once (json).
    assert_eq!(files.len(), 25, "{files:?}");
    assert!(files.contains(&"gatewatch-report-2026-10-province-vi.pdf"), "{files:?}");
    let r = get(&format!("/api/v1/reports/files/{}", files[0]));
    assert_eq!(r.status(), StatusCode::OK);
    for name in [
        "..%2F..%2Fgatewatch.db",
        "gatewatch-report-2026-10-province-vi.exe",
        "gatewatch-report-2026-09-province-vi.pdf",
    ] {
        assert_eq!(
            get(&format!("/api/v1/reports/files/{name}")).status(),
            StatusCode::NOT_FOUND,
            "{name}"
        );
    }
}
