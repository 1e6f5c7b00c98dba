//! What the listeners let in, so that no client can stall the correlator or take its
//! memory: HTTPS requests with a body are admitted within a number of requests at once,
//! per address and in all, and a number of body bytes held at once (each body counts
//! what it declares, or the largest body allowed); beyond, the answer is `429` (that
//! address) or `503` (everyone), with `Retry-After`. A body must arrive whole within
//! `ingest.body_timeout_secs` (`408`), and a connection that sends nothing for
//! `ingest.idle_timeout_secs` is closed ([`IdleTimeout`]). Requests without a body
//! (health, stats, reads) are never held back.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};

use super::api::Client;
use super::Shared;
use crate::config::IngestConfig;

/// Admission state of the HTTPS listener.
pub struct Admission {
    requests: Semaphore,
    /// In KiB.
    bytes: Semaphore,
    bytes_kib: u32,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    max_per_address: usize,
    max_body: usize,
    body_timeout: Duration,
    pub stats: AdmissionStats,
}

/// Requests turned away, and why.
#[derive(Debug, Default)]
pub struct AdmissionStats {
    /// `503`: the listener is at its request or byte limit.
    pub busy: AtomicU64,
    /// `429`: the address is at its request limit.
    pub too_many_from_address: AtomicU64,
    /// `408`: the body did not arrive in time.
    pub body_timeouts: AtomicU64,
    /// `413`: the body is larger than `ingest.max_body_bytes`.
    pub too_large: AtomicU64,
}

impl AdmissionStats {
    pub fn snapshot(&self) -> serde_json::Value {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        json!({
            "https_busy": g(&self.busy),
            "https_too_many_from_address": g(&self.too_many_from_address),
            "https_body_timeouts": g(&self.body_timeouts),
            "https_too_large": g(&self.too_large),
        })
    }
}

impl Admission {
    pub fn new(cfg: &IngestConfig) -> Admission {
        let bytes_kib = u32::try_from(cfg.max_inflight_bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, Semaphore::MAX_PERMITS as u32);
        Admission {
            requests: Semaphore::new(cfg.max_concurrent_requests.max(1)),
            bytes: Semaphore::new(bytes_kib as usize),
            bytes_kib,
            per_address: Mutex::new(HashMap::new()),
            max_per_address: cfg.max_requests_per_address.max(1),
            max_body: cfg.max_body_bytes,
            body_timeout: Duration::from_secs(cfg.body_timeout_secs.max(1)),
            stats: AdmissionStats::default(),
        }
    }

    /// A slot of `ip`'s requests, given back when dropped; `None` at its limit.
    fn address_slot(&self, ip: IpAddr) -> Option<AddressSlot<'_>> {
        let mut map = self.per_address.lock().ok()?;
        let n = map.entry(ip).or_insert(0);
        if *n >= self.max_per_address {
            return None;
        }
        *n += 1;
        Some(AddressSlot { admission: self, ip })
    }
}

struct AddressSlot<'a> {
    admission: &'a Admission,
    ip: IpAddr,
}

impl Drop for AddressSlot<'_> {
    fn drop(&mut self) {
        if let Ok(mut map) = self.admission.per_address.lock() {
            if let Some(n) = map.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&self.ip);
                }
            }
        }
    }
}

/// Reads what the client sends of a refused request's body and throws it away (within
/// the body timeout and size limit), so that a client that writes its whole body
/// before reading gets the answer rather than a broken connection. Nothing is kept.
async fn drain(req: Request, adm: &Admission) {
    use futures_util::StreamExt;
    let mut data = req.into_body().into_data_stream();
    let mut seen = 0usize;
    let read = async {
        while let Some(Ok(chunk)) = data.next().await {
            seen += chunk.len();
            if seen > adm.max_body {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(adm.body_timeout, read).await;
}

fn refuse(status: StatusCode, retry_after_secs: u32, message: &str) -> Response {
    let mut r = (status, Json(json!({"error": message}))).into_response();
    if retry_after_secs > 0 {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    }
    r
}

/// The middleware: admits a request with a body, reads the body within the timeout,
/// and holds the request's share of the limits until its answer is made.
pub async fn admit(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let adm = &shared.admission;
    let bump = |c: &AtomicU64| c.fetch_add(1, Ordering::Relaxed);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > adm.max_body as u64) {
        bump(&adm.stats.too_large);
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, 0, "the body is larger than allowed");
    }
    let ip = req.extensions().get::<Client>().map(|c| c.addr.ip());
    let _slot = match ip.map(|ip| adm.address_slot(ip)) {
        Some(None) => {
            bump(&adm.stats.too_many_from_address);
            drain(req, adm).await;
            return refuse(StatusCode::TOO_MANY_REQUESTS, 1, "too many requests from this address");
        }
        Some(slot) => slot,
        None => None,
    };
    let Ok(_request) = adm.requests.try_acquire() else {
        bump(&adm.stats.busy);
        drain(req, adm).await;
        return refuse(StatusCode::SERVICE_UNAVAILABLE, 1, "too many requests at once");
    };
    let kib = declared.unwrap_or(adm.max_body as u64).div_ceil(1024).max(1);
    let kib = u32::try_from(kib).unwrap_or(u32::MAX).min(adm.bytes_kib);
    let Ok(_bytes) = adm.bytes.try_acquire_many(kib) else {
        bump(&adm.stats.busy);
        drain(req, adm).await;
        return refuse(StatusCode::SERVICE_UNAVAILABLE, 5, "too many bytes in flight");
    };
    let (parts, body) = req.into_parts();
    let read = axum::body::to_bytes(body, adm.max_body);
    let bytes = match tokio::time::timeout(adm.body_timeout, read).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => {
            bump(&adm.stats.too_large);
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, 0, "the body is larger than allowed");
        }
        Err(_) => {
            bump(&adm.stats.body_timeouts);
            return refuse(StatusCode::REQUEST_TIMEOUT, 0, "the body did not arrive in time");
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// A connection closed when nothing is read from or written to it for `idle`: reads
/// fail with `TimedOut` once the deadline passes.
pub struct IdleTimeout<S> {
    inner: S,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<S> IdleTimeout<S> {
    pub fn new(inner: S, idle: Duration) -> IdleTimeout<S> {
        IdleTimeout { inner, idle, deadline: Box::pin(tokio::time::sleep(idle)) }
    }

    fn touch(&mut self) {
        let at = Instant::now() + self.idle;
        self.deadline.as_mut().reset(at);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleTimeout<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.touch();
                }
                Poll::Ready(r)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "idle connection")))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
