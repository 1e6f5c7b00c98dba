//! Syslog listeners: UDP (one message per datagram) and TCP (RFC 6587 framing).
//! Senders outside `ingest.syslog_allow` are dropped and counted; a message that does
//! not parse is counted and logged with the sender and the reason, and the rest go on.
//! A TCP sender holds at most `ingest.max_tcp_connections_per_address` connections, and
//! a connection silent for `ingest.idle_timeout_secs` is closed, so idle connections
//! cannot lock senders out. The UDP socket gets a receive buffer of
//! `ingest.udp_receive_buffer_bytes`, and the kernel's drops on it are counted
//! (`udp_kernel_drops`, read from `/proc/net/udp`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    if std::str::from_utf8(raw).is_err() {
        ListenerStats::bump(&shared.listeners.not_utf8_messages);
    }
    match parse(raw, received, shared.local_offset) {
        Ok(event) => {
            let peer = Some(peer.ip());
            Some(HostLogEvent { event, received_us, peer, sender: None, via, forwarded: true })
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

/// Sets the receive buffer of the UDP socket and remembers its inode (for
/// [`kernel_drops`]).
pub(super) fn prepare_udp(sock: &UdpSocket, shared: &Shared) {
    let want = shared.cfg.udp_receive_buffer_bytes;
    if want > 0 {
        if let Err(e) = socket2::SockRef::from(sock).set_recv_buffer_size(want) {
            shared
                .log_error(|| format!("syslog UDP: cannot set a {want}-byte receive buffer: {e}"));
        }
    }
    if let Some(inode) = socket_inode(sock) {
        let _ = shared.udp_inode.set(inode);
    }
}

/// The inode of a socket, as `/proc/net/udp` names it.
fn socket_inode(sock: &UdpSocket) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let link = std::fs::read_link(format!("/proc/self/fd/{}", sock.as_raw_fd())).ok()?;
    let text = link.to_str()?;
    text.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// Datagrams the kernel dropped on the socket with this inode (its receive buffer
/// was full): the last column of its line in `/proc/net/udp` or `/proc/net/udp6`.
pub fn kernel_drops(inode: u64) -> Option<u64> {
    ["/proc/net/udp", "/proc/net/udp6"].iter().find_map(|path| {
        let table = std::fs::read_to_string(path).ok()?;
        table.lines().skip(1).find_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let this = cols.get(9)?.parse::<u64>().ok()? == inode;
            this.then(|| cols.last()?.parse().ok()).flatten()
        })
    })
}

/// Open connections per sender address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

impl PerAddress {
    fn take(&self, ip: IpAddr, max: usize) -> bool {
        let Ok(mut map) = self.0.lock() else { return false };
        let n = map.entry(ip).or_insert(0);
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    fn give(&self, ip: IpAddr) {
        if let Ok(mut map) = self.0.lock() {
            if let Some(n) = map.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&ip);
                }
            }
        }
    }
}

pub(super) async fn serve_tcp(listener: TcpListener, shared: Arc<Shared>) {
    let slots = Arc::new(Semaphore::new(shared.cfg.max_tcp_connections.max(1)));
    let per_address = Arc::new(PerAddress::default());
    let max_per_address = shared.cfg.max_tcp_connections_per_address.max(1);
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
        if !per_address.take(peer.ip(), max_per_address) {
            ListenerStats::bump(&shared.listeners.tcp_refused_per_address);
            continue;
        }
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            per_address.give(peer.ip());
            ListenerStats::bump(&shared.listeners.tcp_refused_too_many);
            continue;
        };
        ListenerStats::bump(&shared.listeners.tcp_connections);
        let (shared, per_address) = (shared.clone(), per_address.clone());
        tokio::spawn(async move {
            connection(stream, peer, &shared).await;
            per_address.give(peer.ip());
            drop(permit);
        });
    }
}

async fn connection(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    let mut framer = Framer::new(shared.cfg.max_message_bytes);
    let mut buf = vec![0u8; 64 * 1024];
    let idle = Duration::from_secs(shared.cfg.idle_timeout_secs.max(1));
    loop {
        let n = match tokio::time::timeout(idle, stream.read(&mut buf)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                shared.log_error(|| format!("syslog TCP from {peer}: {e}"));
                break;
            }
            Err(_) => {
                ListenerStats::bump(&shared.listeners.tcp_idle_closed);
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
