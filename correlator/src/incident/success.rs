//! Whether the protocol records of an incident's flows show that the attack worked:
//! an executable reached a host (a file transfer that completed), or a host's beacon
//! to a command-and-control server was answered (an HTTP answer 2xx/3xx, a TLS
//! handshake the server completed). The alert alone says so when the rule does, or
//! when an attack request was answered (`engine::attack_succeeded`); these are what
//! the records add.

use serde::Serialize;
use serde_json::Value;

use super::attack::RsitClass;

/// What a record shows of an attack that worked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Success {
    /// `executable` (a file that runs reached a host), `c2-http` or `c2-tls` (a
    /// command-and-control server answered).
    pub kind: &'static str,
    /// The host that received the file, or the server that answered.
    pub host: String,
    /// The file's name, or the HTTP host or TLS server name.
    pub name: Option<String>,
    /// The file's size in bytes, or the HTTP status.
    pub number: Option<u64>,
}

impl Success {
    /// In a sentence (English; the console words it in the page's language).
    pub fn sentence(&self) -> String {
        let name = self.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
        match self.kind {
            "executable" => format!(
                "executable file {} ({} bytes) transferred to {}",
                self.name.as_deref().unwrap_or("?"),
                self.number.unwrap_or(0),
                self.host
            ),
            "c2-http" => format!(
                "command-and-control server {}{name} answered HTTP {}",
                self.host,
                self.number.unwrap_or(0)
            ),
            _ => {
                format!("command-and-control server {}{name} completed a TLS handshake", self.host)
            }
        }
    }
}

/// File types that run: by `magic`, MIME type or name.
const EXECUTABLE_MAGIC: &[&str] =
    &["executable", "pe32", "ms-dos", "elf ", "mach-o", "shared object"];
const EXECUTABLE_MIME: &[&str] = &[
    "application/x-dosexec",
    "application/x-msdownload",
    "application/x-executable",
    "application/x-sharedlib",
    "application/x-elf",
    "application/vnd.microsoft.portable-executable",
    "application/x-msi",
];
const EXECUTABLE_EXT: &[&str] = &[
    "exe", "dll", "scr", "msi", "elf", "so", "ps1", "bat", "cmd", "vbs", "hta", "jar", "apk", "sys",
];

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// Whether record `r` is of a kind that can show success (before reading anything else).
pub fn may_show(r: &Value) -> bool {
    matches!(text(r, &["event_type"]), Some("fileinfo" | "http" | "tls"))
}

/// What record `r` shows of the success of an attack of class `rsit`, if anything.
pub fn shown_by(r: &Value, rsit: &str) -> Option<Success> {
    let class = RsitClass::parse(rsit)?;
    let attack = matches!(
        class,
        RsitClass::MaliciousCode | RsitClass::IntrusionAttempts | RsitClass::Intrusions
    );
    match text(r, &["event_type"])? {
        "fileinfo" if attack => executable_received(r),
        "http" if class == RsitClass::MaliciousCode => c2_answered_http(r),
        "tls" if class == RsitClass::MaliciousCode => c2_answered_tls(r),
        _ => None,
    }
}

/// A transfer of an executable file that completed.
fn executable_received(r: &Value) -> Option<Success> {
    let f = r.get("fileinfo")?;
    let state = text(f, &["state"]).unwrap_or("CLOSED");
    let size = f.get("size").and_then(Value::as_u64).unwrap_or(0);
    if !state.eq_ignore_ascii_case("CLOSED") || size == 0 {
        return None;
    }
    let name = text(f, &["filename"]).unwrap_or("");
    let magic = text(f, &["magic"]).unwrap_or("").to_ascii_lowercase();
    let mime = text(f, &["mimetype"]).unwrap_or("").to_ascii_lowercase();
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let runs = EXECUTABLE_MAGIC.iter().any(|m| magic.contains(m))
        || EXECUTABLE_MIME.iter().any(|m| mime.starts_with(m))
        || EXECUTABLE_EXT.contains(&ext.as_str());
    if !runs {
        return None;
    }
    Some(Success {
        kind: "executable",
        host: text(r, &["dest_ip"]).unwrap_or("?").to_string(),
        name: Some(name.rsplit('/').next().unwrap_or(name).to_string()),
        number: Some(size),
    })
}

/// A beacon over HTTP that the server answered with a success or a redirect; an
/// answer that is an executable file is the file reaching the client.
fn c2_answered_http(r: &Value) -> Option<Success> {
    let status = r.get("http")?.get("status")?;
    let status = status.as_u64().or_else(|| status.as_str()?.trim().parse().ok())?;
    if !(200..400).contains(&status) {
        return None;
    }
    let url = text(r, &["http", "url"]).unwrap_or("");
    let path = url.split(['?', '#']).next().unwrap_or("");
    let name = path.rsplit('/').next().unwrap_or("");
    let mime = text(r, &["http", "http_content_type"]).unwrap_or("").to_ascii_lowercase();
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    if status < 300
        && (EXECUTABLE_MIME.iter().any(|m| mime.starts_with(m))
            || EXECUTABLE_EXT.contains(&ext.as_str()))
    {
        return Some(Success {
            kind: "executable",
            // The client asked for it: the file went to the source of the request.
            host: text(r, &["src_ip"]).unwrap_or("?").to_string(),
            name: Some(name.to_string()).filter(|n| !n.is_empty()),
            number: r.get("http").and_then(|h| h.get("length")).and_then(Value::as_u64),
        });
    }
    let host = text(r, &["dest_ip"]).unwrap_or("?").to_string();
    Some(Success {
        kind: "c2-http",
        // A host name that is the address itself says nothing more.
        name: text(r, &["http", "hostname"]).filter(|h| *h != host).map(str::to_string),
        host,
        number: Some(status),
    })
}

/// A TLS session the server answered (its hello or certificate was seen).
fn c2_answered_tls(r: &Value) -> Option<Success> {
    let t = r.get("tls")?;
    // What only the server sends: its hello (JA3S) or its certificate.
    let answered = ["subject", "fingerprint", "ja3s"].iter().any(|k| match t.get(*k) {
        Some(Value::String(s)) => !s.is_empty(),
        Some(v) => v.is_object(),
        None => false,
    });
    if !answered {
        return None;
    }
    Some(Success {
        kind: "c2-tls",
        host: text(r, &["dest_ip"]).unwrap_or("?").to_string(),
        name: text(t, &["sni"]).map(str::to_string),
        number: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_shows_success() {
        let exe = json!({"event_type": "fileinfo", "dest_ip": "10.46.20.7",
            "fileinfo": {"filename": "/update/setup.exe", "magic": "PE32 executable (GUI) Intel 80386", "state": "CLOSED", "size": 73802}});
        let why = shown_by(&exe, "malicious-code").expect("an executable downloaded").sentence();
        assert!(why.contains("setup.exe") && why.contains("10.46.20.7"), "{why}");
        assert!(shown_by(&exe, "intrusion-attempts").is_some());
        // Not for a class where a file means nothing (a scan), nor a truncated transfer.
        assert_eq!(shown_by(&exe, "information-gathering"), None);
        let mut cut = exe.clone();
        cut["fileinfo"]["state"] = json!("TRUNCATED");
        assert_eq!(shown_by(&cut, "malicious-code"), None);
        // A document is not an executable; an ELF by its name is.
        let pdf = json!({"event_type": "fileinfo", "fileinfo": {"filename": "a.pdf", "magic": "PDF document", "size": 10}});
        assert_eq!(shown_by(&pdf, "malicious-code"), None);
        let elf =
            json!({"event_type": "fileinfo", "fileinfo": {"filename": "miner.elf", "size": 10}});
        assert!(shown_by(&elf, "malicious-code").is_some());
        // A C2 beacon answered (HTTP 200, a TLS handshake), or not (404, no server hello).
        let beacon = |status: u64| json!({"event_type": "http", "dest_ip": "198.51.100.4", "http": {"hostname": "c2.example", "status": status}});
        let why = shown_by(&beacon(200), "malicious-code").expect("answered").sentence();
        assert!(why.contains("198.51.100.4 (c2.example) answered HTTP 200"), "{why}");
        assert_eq!(shown_by(&beacon(404), "malicious-code"), None);
        // An answer that is an executable: the file reached the client.
        let download = json!({"event_type": "http", "src_ip": "10.46.120.15", "dest_ip": "203.0.113.99",
            "http": {"url": "/files/hoadon.exe?x=1", "status": 200, "length": 4096, "http_content_type": "application/octet-stream"}});
        let why = shown_by(&download, "malicious-code").expect("a download").sentence();
        assert_eq!(why, "executable file hoadon.exe (4096 bytes) transferred to 10.46.120.15");
        assert_eq!(shown_by(&beacon(200), "information-gathering"), None, "only a C2 incident");
        let tls = json!({"event_type": "tls", "dest_ip": "198.51.100.4", "tls": {"sni": "c2.example", "version": "TLS 1.2", "ja3s": {"hash": "x"}}});
        let why = shown_by(&tls, "malicious-code").expect("a server hello").sentence();
        assert!(why.contains("(c2.example) completed a TLS handshake"), "{why}");
        let hello_only =
            json!({"event_type": "tls", "tls": {"sni": "c2.example", "version": "UNDETERMINED"}});
        assert_eq!(shown_by(&hello_only, "malicious-code"), None);
        assert_eq!(shown_by(&json!({"event_type": "dns"}), "malicious-code"), None);
        assert_eq!(shown_by(&json!({}), "bogus"), None);
    }
}
