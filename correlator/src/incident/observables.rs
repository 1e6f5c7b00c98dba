//! The observables of an EVE event — what an analyst searches for and pivots on:
//! addresses (in DNS answers, HTTP hosts), domains, URLs, file names and hashes, mail
//! addresses, user names. Read
//! from an alert (with the application metadata the sensor attaches) and from the
//! protocol records of its flow; stored per incident (`incident_observables`), lower
//! case, so that a search for any of them finds the incidents behind it.

use gatewatch_rules::event::dns::DnsView;
use serde_json::Value;

/// Longest value kept (a URL past this is cut; the search matches what is kept).
pub const MAX_LEN: usize = 512;

/// One observable: its kind (`ip`, `domain`, `url`, `file`, `hash`, `email`, `user`)
/// and its value, lower case.
pub type Observable = (&'static str, String);

/// The observables of one EVE event (an alert or a protocol record), without repeats.
/// Its own addresses are not among them: those are the incident's hosts
/// (`incident_hosts`), which the search reads too.
pub fn of_event(v: &Value) -> Vec<Observable> {
    let mut out: Vec<Observable> = Vec::new();
    application(&mut out, |k| v.get(k));
    out
}

/// [`of_event`] of an alert as the engine holds it.
pub fn of_alert(a: &gatewatch_rules::event::AlertEvent) -> Vec<Observable> {
    let mut out: Vec<Observable> = Vec::new();
    application(&mut out, |k| a.app_metadata.get(k));
    out
}

/// What the application layer of an event names: DNS, HTTP, TLS, files, mail, host
/// logs (`get` reads the event's top-level objects).
fn application<'a>(out: &mut Vec<Observable>, get: impl Fn(&str) -> Option<&'a Value>) {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(dns) = get("dns") {
        let d = DnsView::of(dns);
        for name in &d.names {
            domain(out, name);
        }
        for (_, data) in &d.answers {
            match host_kind(data) {
                "domain" => domain(out, data),
                kind => push(out, kind, data),
            }
        }
    }
    if let Some(http) = get("http") {
        let host = text(http, "hostname");
        if let Some(h) = &host {
            match host_kind(h) {
                "domain" => domain(out, h),
                kind => push(out, kind, h),
            }
        }
        if let Some(url) = text(http, "url") {
            let full = match &host {
                Some(h) if url.starts_with('/') => format!("{h}{url}"),
                _ => url.clone(),
            };
            push(out, "url", &full);
            file_name(out, url.split(['?', '#']).next().unwrap_or(""));
        }
    }
    if let Some(sni) = get("tls").and_then(|t| text(t, "sni")) {
        domain(out, &sni);
    }
    for key in ["ja3", "ja3s", "ja4"] {
        let hash = get("tls")
            .and_then(|t| t.get(key))
            .and_then(|j| j.as_str().map(str::to_string).or_else(|| text(j, "hash")));
        if let Some(h) = hash {
            push(out, "hash", &h);
        }
    }
    files(out, &get);
    if let Some(smtp) = get("smtp") {
        for m in smtp.get("mail_from").into_iter().chain(smtp.get("rcpt_to")) {
            for a in m.as_array().cloned().unwrap_or_else(|| vec![m.clone()]) {
                if let Some(a) = a.as_str() {
                    push(out, "email", a.trim_matches(['<', '>', ' ']));
                }
            }
        }
    }
    users(out, &get);
}

/// `fileinfo` (a record) and `files` (an alert's): names and hashes.
fn files<'a>(out: &mut Vec<Observable>, get: &impl Fn(&str) -> Option<&'a Value>) {
    let list = get("files").and_then(Value::as_array).into_iter().flatten();
    for f in get("fileinfo").into_iter().chain(list) {
        if let Some(name) = f.get("filename").and_then(Value::as_str) {
            file_name(out, name);
        }
        for h in ["md5", "sha1", "sha256"] {
            if let Some(x) = f.get(h).and_then(Value::as_str) {
                push(out, "hash", x);
            }
        }
    }
}

/// A host log's user names (Windows' and the usual syslog fields).
fn users<'a>(out: &mut Vec<Observable>, get: &impl Fn(&str) -> Option<&'a Value>) {
    let Some(ev) = get("hostlog").and_then(|h| h.get("event")) else { return };
    const FIELDS: [&str; 8] = [
        "TargetUserName",
        "SubjectUserName",
        "User",
        "UserName",
        "AccountName",
        "user",
        "username",
        "user.name",
    ];
    for f in FIELDS {
        if let Some(u) = ev.get(f).and_then(Value::as_str).filter(|u| !u.is_empty() && *u != "-") {
            push(out, "user", u);
        }
    }
}

/// A domain and its parents down to two labels (`a.b.example.top` also as
/// `b.example.top` and `example.top`): a search for the registered domain finds its
/// hosts.
fn domain(out: &mut Vec<Observable>, name: &str) {
    let name = name.trim_end_matches('.');
    push(out, "domain", name);
    let mut rest = name;
    while let Some((_, parent)) = rest.split_once('.') {
        if !parent.contains('.') {
            break;
        }
        push(out, "domain", parent);
        rest = parent;
    }
}

/// A path's last part, when it names a file.
fn file_name(out: &mut Vec<Observable>, path: &str) {
    let name = path.rsplit(['/', '\\']).next().unwrap_or("");
    if !name.is_empty() {
        push(out, "file", name);
    }
}

fn host_kind(h: &str) -> &'static str {
    if h.parse::<std::net::IpAddr>().is_ok() {
        "ip"
    } else {
        "domain"
    }
}

fn push(out: &mut Vec<Observable>, kind: &'static str, value: &str) {
    let mut v = value.trim().to_lowercase();
    if v.is_empty() {
        return;
    }
    if v.len() > MAX_LEN {
        let mut cut = MAX_LEN;
        while !v.is_char_boundary(cut) {
            cut -= 1;
        }
        v.truncate(cut);
    }
    if !out.iter().any(|(_, x)| *x == v) {
        out.push((kind, v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(v: &Value) -> Vec<String> {
        of_event(v).into_iter().map(|(k, v)| format!("{k}:{v}")).collect()
    }

    #[test]
    fn an_http_alert_and_its_file() {
        let v = json!({"src_ip": "203.0.113.45", "dest_ip": "10.46.10.20",
            "http": {"hostname": "Portal.Hue.gov.vn", "url": "/upload/Shell.PHP?x=1"},
            "files": [{"filename": "/upload/shell.php", "md5": "D41D8CD98F00B204E9800998ECF8427E"}]});
        assert_eq!(
            values(&v),
            [
                "domain:portal.hue.gov.vn",
                "domain:hue.gov.vn",
                "domain:gov.vn",
                "url:portal.hue.gov.vn/upload/shell.php?x=1",
                "file:shell.php",
                "hash:d41d8cd98f00b204e9800998ecf8427e"
            ]
        );
    }

    #[test]
    fn dns_in_either_layout_tls_smtp_and_host_logs() {
        let v3 = json!({"dns": {"version": 3, "queries": [{"rrname": "update.hue-gov-portal.top", "rrtype": "A"}],
            "answers": [{"rrname": "update.hue-gov-portal.top", "rrtype": "A", "rdata": "198.51.100.200"},
                        {"rrname": "x", "rrtype": "CNAME", "rdata": "cdn.example."}]}});
        assert_eq!(
            values(&v3),
            [
                "domain:update.hue-gov-portal.top",
                "domain:hue-gov-portal.top",
                "ip:198.51.100.200",
                "domain:cdn.example"
            ]
        );
        let v2 = json!({"dns": {"type": "answer", "rrname": "a.example", "rrtype": "A", "rdata": "192.0.2.1"}});
        assert_eq!(values(&v2), ["domain:a.example", "ip:192.0.2.1"]);
        let tls = json!({"tls": {"sni": "c2.example", "ja3": {"hash": "ABC"}}});
        assert_eq!(values(&tls), ["domain:c2.example", "hash:abc"]);
        let smtp =
            json!({"smtp": {"mail_from": "<x@bad.example>", "rcpt_to": ["<vt@hue.gov.vn>"]}});
        assert_eq!(values(&smtp), ["email:x@bad.example", "email:vt@hue.gov.vn"]);
        let log = json!({"src_ip": "10.46.1.5",
            "hostlog": {"event": {"TargetUserName": "Administrator", "SubjectUserName": "-"}}});
        assert_eq!(values(&log), ["user:administrator"]);
        let long = json!({"http": {"url": format!("/{}", "é".repeat(400))}});
        assert!(of_event(&long).iter().all(|(_, v)| v.len() <= MAX_LEN));
    }
}
