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
    pub fn new(cfg: &WebhookConfig) -> Result<Webhook, String> {
        let url = reqwest::Url::parse(&cfg.url).map_err(|e| format!("url `{}`: {e}", cfg.url))?;
        if url.scheme() != "https" {
            return Err(format!("url `{}`: only https is allowed", cfg.url));
        }
        if cfg.secret_file.as_os_str().is_empty() {
            return Err("`secret_file` is required (the HMAC key)".into());
        }
        let text = std::fs::read_to_string(&cfg.secret_file)
            .map_err(|e| format!("cannot read secret_file `{}`: {e}", cfg.secret_file.display()))?;
        let secret = text.lines().next().unwrap_or("").trim().as_bytes().to_vec();
        if secret.len() < 16 {
            return Err(format!(
                "the secret in `{}` is shorter than 16 bytes",
                cfg.secret_file.display()
            ));
        }
        let mut b = reqwest::blocking::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(cfg.timeout_secs.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("gatewatch/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &cfg.ca {
            let pem =
                std::fs::read(ca).map_err(|e| format!("cannot read ca `{}`: {e}", ca.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("ca `{}`: {e}", ca.display()))?;
            b = b.tls_built_in_root_certs(false);
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        let client = b.build().map_err(|e| format!("HTTPS client: {e}"))?;
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
}
