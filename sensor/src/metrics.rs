//! The sensor's Prometheus endpoint: plain HTTP on `live.metrics` (bind it to loopback
//! or a management address). `GET /metrics` answers with the latest `stats` of every
//! interface (label `interface`) and the shipping and spool counters, in Prometheus
//! text; anything else gets 404. One short-lived connection at a time, with timeouts,
//! so a slow scraper cannot hold the sensor.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use gatewatch_rules::metrics::{exposition, Tree, CONTENT_TYPE};
use serde_json::Value;

/// Latest counters by interface.
pub type Board = Arc<Mutex<BTreeMap<String, Value>>>;

/// More counters for the page besides the interfaces' (the shipper's and spool's).
pub type Extra = Box<dyn Fn() -> Option<Value> + Send>;

/// The Prometheus text of `board` (labelled by interface) plus what `extra` adds.
pub fn render(board: &Board, extra: &dyn Fn() -> Option<Value>) -> String {
    let b = board.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let more = extra();
    let mut trees: Vec<Tree<'_>> = b
        .iter()
        .map(|(interface, stats)| Tree {
            prefix: "gatewatch_sensor",
            value: stats,
            labels: vec![("interface", interface.clone())],
        })
        .collect();
    if let Some(v) = &more {
        trees.push(Tree { prefix: "gatewatch_sensor", value: v, labels: vec![] });
    }
    exposition(&trees)
}

/// Serves `GET /metrics` on `addr` until `stop` is set.
pub fn serve(
    addr: &str,
    board: Board,
    extra: Extra,
    stop: Arc<AtomicBool>,
) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr)
        .map_err(|e| io::Error::new(e.kind(), format!("live.metrics `{addr}`: {e}")))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let t = std::thread::Builder::new().name("metrics".into()).spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut conn, _)) => {
                    let _ = conn.set_nonblocking(false);
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                    let _ = conn.set_write_timeout(Some(Duration::from_secs(2)));
                    let mut req = [0u8; 2048];
                    let n = conn.read(&mut req).unwrap_or(0);
                    let line = String::from_utf8_lossy(&req[..n]);
                    let reply = if line.starts_with("GET /metrics ") || line.starts_with("GET /metrics?") {
                        let body = render(&board, &*extra);
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: {CONTENT_TYPE}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    } else {
                        "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into()
                    };
                    let _ = conn.write_all(reply.as_bytes());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    })?;
    Ok((local, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_metrics_and_nothing_else() {
        let board: Board = Arc::default();
        board
            .lock()
            .expect("lock")
            .insert("eth1".into(), serde_json::json!({"capture": {"kernel_drops": 3}}));
        let stop = Arc::new(AtomicBool::new(false));
        let extra: Extra = Box::new(|| Some(serde_json::json!({"spool": {"bytes": 42}})));
        let (addr, t) = serve("127.0.0.1:0", board, extra, stop.clone()).expect("serve");
        let get = |path: &str| {
            let mut c = std::net::TcpStream::connect(addr).expect("connect");
            c.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
                .expect("write");
            let mut s = String::new();
            c.read_to_string(&mut s).expect("read");
            s
        };
        let m = get("/metrics");
        assert!(m.starts_with("HTTP/1.1 200"), "{m}");
        assert!(
            m.contains("gatewatch_sensor_capture_kernel_drops_total{interface=\"eth1\"} 3"),
            "{m}"
        );
        assert!(m.contains("# TYPE gatewatch_sensor_spool_bytes gauge"), "{m}");
        assert!(m.contains("gatewatch_sensor_spool_bytes 42"));
        assert!(get("/other").starts_with("HTTP/1.1 404"));
        stop.store(true, Ordering::SeqCst);
        t.join().expect("join");
    }
}
