//! Syslog listeners: UDP (one message per datagram) and TCP (RFC 6587 framing).
//! Senders outside `ingest.syslog_allow` are dropped and counted; a message that does
//! not parse is counted and logged with the sender and the reason, and the rest go on.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;

use super::{now_us, submit, ListenerStats, Shared, Work};
use crate::ingest::hostlog::{HostLogEvent, Via};
use crate::ingest::syslog::{parse, Framer};

fn event(shared: &Shared, raw: &[u8], peer: SocketAddr, via: Via) -> Option<HostLogEvent> {
    let received_us = now_us();
    let received = chrono::DateTime::from_timestamp_micros(received_us)
        .unwrap_or_default()
        .with_timezone(&shared.local_offset);
    match parse(raw, received, shared.local_offset) {
        Ok(event) => {
            Some(HostLogEvent { event, received_us, peer: Some(peer.ip()), sender: None, via })
        }
        Err(e) => {
            ListenerStats::bump(&shared.listeners.bad_messages);
            let head = String::from_utf8_lossy(&raw[..raw.len().min(80)]).into_owned();
            shared.log_error(|| format!("syslog from {peer}: {e}: {head:?}"));
            None
        }
    }
}

pub(super) async fn serve_udp(sock: UdpSocket, shared: Arc<Shared>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, peer) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                shared.log_error(|| format!("syslog UDP receive: {e}"));
                continue;
            }
        };
        if !shared.allowed(peer.ip()) {
            ListenerStats::bump(&shared.listeners.denied_senders);
            continue;
        }
        ListenerStats::bump(&shared.listeners.udp_messages);
        let mut raw = &buf[..n];
        if raw.len() > shared.cfg.max_message_bytes {
            ListenerStats::bump(&shared.listeners.truncated_messages);
            raw = &raw[..shared.cfg.max_message_bytes];
        }
        if let Some(ev) = event(&shared, raw, peer, Via::SyslogUdp) {
            // Never wait on UDP: a full queue drops the message, counted.
            if shared.queue.try_send(Work::Events(vec![ev], None)).is_err() {
                ListenerStats::bump(&shared.listeners.udp_dropped_queue_full);
            }
        }
    }
}

pub(super) async fn serve_tcp(listener: TcpListener, shared: Arc<Shared>) {
    let slots = Arc::new(Semaphore::new(shared.cfg.max_tcp_connections.max(1)));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                shared.log_error(|| format!("syslog TCP accept: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        if !shared.allowed(peer.ip()) {
            ListenerStats::bump(&shared.listeners.denied_senders);
            continue;
        }
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            ListenerStats::bump(&shared.listeners.tcp_refused_too_many);
            continue;
        };
        ListenerStats::bump(&shared.listeners.tcp_connections);
        let shared = shared.clone();
        tokio::spawn(async move {
            connection(stream, peer, &shared).await;
            drop(permit);
        });
    }
}

async fn connection(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    let mut framer = Framer::new(shared.cfg.max_message_bytes);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                shared.log_error(|| format!("syslog TCP from {peer}: {e}"));
                break;
            }
        };
        framer.push(&buf[..n]);
        let mut events = Vec::new();
        while let Some((frame, problem)) = framer.next_frame() {
            ListenerStats::bump(&shared.listeners.tcp_messages);
            if let Some(p) = problem {
                ListenerStats::bump(&shared.listeners.truncated_messages);
                shared.log_error(|| format!("syslog TCP from {peer}: message cut ({p:?})"));
            }
            events.extend(event(shared, &frame, peer, Via::SyslogTcp));
        }
        // Waiting here is the backpressure: the sender's TCP window fills.
        if !events.is_empty() && submit(shared, events).await.is_err() {
            return;
        }
    }
    if let Some(last) = framer.finish() {
        ListenerStats::bump(&shared.listeners.tcp_messages);
        if let Some(ev) = event(shared, &last, peer, Via::SyslogTcp) {
            let _ = submit(shared, vec![ev]).await;
        }
    }
}
