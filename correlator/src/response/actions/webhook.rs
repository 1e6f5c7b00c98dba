//! HTTPS POST of a JSON document to a firewall manager (a FortiGate or pfSense
//! automation endpoint, a SOAR), signed so that the receiver can tell it came from
//! Gatewatch and was not replayed.
//!
//! The document (`schema` `gatewatch.block/1`):
//! ```json
//! {"schema": "gatewatch.block/1", "event": "block", "block_id": 17,
//!  "target": {"kind": "source", "type": "ip", "value": "203.0.113.7"},
//!  "ttl_secs": 3600, "expires_at": "2026-10-14T02:00:00.000000Z",
//!  "incident_id": 3, "policy": "external-exploit", "reason": "…",
//!  "sent_at": "2026-10-14T01:00:00.000000Z"}
//! ```
//! `event` is `block` or `unblock` (then `ttl_secs` is 0). Headers:
//! `X-Gatewatch-Timestamp` (Unix seconds), `X-Gatewatch-Signature`
//! (`sha256=` and the hex HMAC-SHA256, keyed with the secret, of the timestamp, a dot
//! and the body), and `Idempotency-Key` (`gatewatch-block-17-block`): a receiver that
//! sees a key twice (a retry after a lost answer) does nothing the second time.
//!
//! Any 2xx answer is success. 408, 429, 5xx and network errors are tried again, up to
//! `tries` times with a growing pause; other answers fail at once.

use std::time::Duration;

use super::{ActionError, BlockAction, Outcome, Request};
use crate::response::allowlist::TargetValue;
use crate::response::config::WebhookConfig;
use crate::response::ConfigError;
use crate::store::sqlite::iso_utc;

pub struct Webhook {
    url: String,
    secret: Vec<u8>,
    tries: u32,
    client: reqwest::blocking::Client,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("url", &self.url).field("secret", &"<redacted>").finish()
    }
}

/// The signature header's value for a body sent at `ts` (Unix seconds).
pub fn signature(secret: &[u8], ts: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(ts.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl Webhook {
    pub fn new(cfg: &WebhookConfig) -> Result<Webhook, ConfigError> {
        let url = reqwest::Url::parse(&cfg.url)
            .map_err(|e| ConfigError::new(format!("url `{}`: {e}", cfg.url)))?;
        if url.scheme() != "https" {
            return Err(ConfigError::new(format!("url `{}`: only https is allowed", cfg.url)));
        }
        if cfg.secret_file.as_os_str().is_empty() {
            return Err(ConfigError::new("`secret_file` is required (the HMAC key)"));
        }
        let text = std::fs::read_to_string(&cfg.secret_file).map_err(|e| {
            ConfigError::new(format!(
                "cannot read secret_file `{}`: {e}",
                cfg.secret_file.display()
            ))
        })?;
        let secret = text.lines().next().unwrap_or("").trim().as_bytes().to_vec();
        if secret.len() < 16 {
            return Err(ConfigError::new(format!(
                "the secret in `{}` is shorter than 16 bytes",
                cfg.secret_file.display()
            )));
        }
        let mut b = reqwest::blocking::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(cfg.timeout_secs.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("gatewatch/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &cfg.ca {
            let pem = std::fs::read(ca)
                .map_err(|e| ConfigError::new(format!("cannot read ca `{}`: {e}", ca.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| ConfigError::new(format!("ca `{}`: {e}", ca.display())))?;
            b = b.tls_built_in_root_certs(false);
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        let client = b.build().map_err(|e| ConfigError::new(format!("HTTPS client: {e}")))?;
        Ok(Webhook { url: cfg.url.clone(), secret, tries: cfg.tries.max(1), client })
    }

    /// The document of one request.
    pub fn document(r: &Request, event: &str, now_us: i64) -> serde_json::Value {
        let kind = match r.target {
            TargetValue::Ip(_) => "ip",
            TargetValue::Domain(_) => "domain",
        };
        serde_json::json!({
            "schema": "gatewatch.block/1",
            "event": event,
            "block_id": r.block_id,
            "target": {"kind": r.target_kind_str(), "type": kind, "value": r.target.to_string()},
            "ttl_secs": if event == "block" { r.ttl_secs } else { 0 },
            "expires_at": iso_utc(r.expires_us),
            "incident_id": r.incident_id,
            "policy": r.policy,
            "reason": r.reason,
            "sent_at": iso_utc(now_us),
        })
    }

    fn post(&self, r: &Request, event: &str) -> Result<Outcome, ActionError> {
        let now_us = chrono::Utc::now().timestamp_micros();
        let body = serde_json::to_vec(&Webhook::document(r, event, now_us)).unwrap_or_default();
        let mut last = String::new();
        for attempt in 0..self.tries {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis((250u64 << attempt.min(5)).min(5_000)));
            }
            let ts = chrono::Utc::now().timestamp();
            let sent = self
                .client
                .post(&self.url)
                .header("Content-Type", "application/json")
                .header("X-Gatewatch-Timestamp", ts.to_string())
                .header("X-Gatewatch-Signature", signature(&self.secret, ts, &body))
                .header("Idempotency-Key", format!("gatewatch-block-{}-{event}", r.block_id))
                .body(body.clone())
                .send();
            match sent {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let text: String = resp.text().unwrap_or_default().chars().take(512).collect();
                    if (200..300).contains(&status) {
                        return Ok(
                            serde_json::json!({"status": status, "answer": text, "tries": attempt + 1}),
                        );
                    }
                    last = format!("{} answered {status}: {}", self.url, text.trim());
                    if !(status == 408 || status == 429 || status >= 500) {
                        return Err(ActionError::fatal(last));
                    }
                }
                Err(e) => last = format!("{}: {e}", self.url),
            }
        }
        Err(ActionError::transient(format!("{last} (after {} tries)", self.tries)))
    }
}

impl Request {
    fn target_kind_str(&self) -> &'static str {
        self.kind.as_str()
    }
}

impl BlockAction for Webhook {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn supports(&self, _: &TargetValue) -> bool {
        true
    }

    fn block(&mut self, r: &Request) -> Result<Outcome, ActionError> {
        self.post(r, "block")
    }

    fn unblock(&mut self, r: &Request) -> Result<Outcome, ActionError> {
        self.post(r, "unblock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        let s = signature(b"a secret of 16+ bytes", 1_800_000_000, b"{\"event\":\"block\"}");
        let hex = s.strip_prefix("sha256=").unwrap();
        let tag: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"a secret of 16+ bytes");
        assert!(ring::hmac::verify(&key, b"1800000000.{\"event\":\"block\"}", &tag).is_ok());
        assert!(ring::hmac::verify(&key, b"1800000001.{\"event\":\"block\"}", &tag).is_err());
    }

    /// What the stand-in received: headers (lower-case names) and the body.
    type Received = std::sync::mpsc::Receiver<(Vec<(String, String)>, Vec<u8>)>;

    /// A firewall manager stand-in over real TLS: it answers 503 to the first
    /// request, then 200, and keeps what it received.
    fn stand_in(dir: &std::path::Path) -> (String, std::path::PathBuf, Received) {
        use std::io::{BufRead, BufReader, Read, Write};
        let key = rcgen::KeyPair::generate().unwrap();
        let ca_params = {
            let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            p.distinguished_name.push(rcgen::DnType::CommonName, "test CA");
            p
        };
        let ca = ca_params.self_signed(&key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, &key);
        let skey = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&skey, &issuer)
            .unwrap();
        let (ca_path, crt, kp) = (dir.join("ca.crt"), dir.join("fw.crt"), dir.join("fw.key"));
        std::fs::write(&ca_path, ca.pem()).unwrap();
        std::fs::write(&crt, leaf.pem()).unwrap();
        std::fs::write(&kp, skey.serialize_pem()).unwrap();
        let cfg = crate::server::tls::server_config_without_clients(&crt, &kp).unwrap();
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://localhost:{}/api/block", l.local_addr().unwrap().port());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for (n, s) in l.incoming().enumerate() {
                let Ok(s) = s else { continue };
                let conn = rustls::ServerConnection::new(cfg.clone()).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, s);
                let mut r = BufReader::new(&mut tls);
                let mut headers = Vec::new();
                let mut line = String::new();
                if r.read_line(&mut line).is_err() {
                    continue;
                }
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.trim().split_once(':') {
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; len];
                let _ = r.read_exact(&mut body);
                let answer = if n == 0 {
                    "HTTP/1.1 503 Busy\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy"
                } else {
                    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                };
                let _ = tls.write_all(answer.as_bytes());
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
                let _ = tx.send((headers, body));
            }
        });
        (url, ca_path, rx)
    }

    #[test]
    fn posts_a_signed_document_over_tls_and_tries_again_on_503() {
        let dir = std::env::temp_dir().join(format!("gw-webhook-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (url, ca, rx) = stand_in(&dir);
        let secret = dir.join("hook.secret");
        std::fs::write(&secret, "0123456789abcdef-secret\n").unwrap();
        let mut w = Webhook::new(&WebhookConfig {
            url,
            secret_file: secret,
            ca: Some(ca),
            timeout_secs: 5,
            tries: 3,
        })
        .unwrap();
        assert!(!format!("{w:?}").contains("0123456789abcdef"), "the secret is never printed");
        let r = Request {
            block_id: 17,
            kind: crate::response::config::TargetKind::Source,
            target: TargetValue::parse("203.0.113.7").unwrap(),
            ttl_secs: 3600,
            expires_us: 1_800_003_600_000_000,
            incident_id: Some(3),
            policy: "external-exploit".into(),
            reason: "test".into(),
        };
        let o = w.block(&r).unwrap();
        assert_eq!((o["status"].as_u64(), o["tries"].as_u64()), (Some(200), Some(2)));
        let (_, _) = rx.recv().unwrap(); // the 503
        let (headers, body) = rx.recv().unwrap();
        let h = |k: &str| {
            headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default()
        };
        let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(doc["schema"], "gatewatch.block/1");
        assert_eq!(doc["event"], "block");
        assert_eq!(
            doc["target"],
            serde_json::json!({"kind": "source", "type": "ip", "value": "203.0.113.7"})
        );
        assert_eq!((doc["ttl_secs"].as_u64(), doc["incident_id"].as_i64()), (Some(3600), Some(3)));
        assert_eq!(h("idempotency-key"), "gatewatch-block-17-block");
        let ts: i64 = h("x-gatewatch-timestamp").parse().unwrap();
        assert_eq!(h("x-gatewatch-signature"), signature(b"0123456789abcdef-secret", ts, &body));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn configuration_is_checked() {
        let e = Webhook::new(&WebhookConfig { url: "http://fw/api".into(), ..Default::default() })
            .unwrap_err()
            .to_string();
        assert!(e.contains("only https"), "{e}");
        let e = Webhook::new(&WebhookConfig { url: "https://fw/api".into(), ..Default::default() })
            .unwrap_err()
            .to_string();
        assert!(e.contains("secret_file"), "{e}");
    }
}
