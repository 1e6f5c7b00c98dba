//! Syslog listeners: UDP (one message per datagram) and TCP (RFC 6587 framing).
//! Senders outside `ingest.syslog_allow` are dropped and counted; a message that does
//! not parse is counted and logged with the sender and the reason, and the rest go on.
//! A TCP sender holds at most `ingest.max_tcp_connections_per_address` connections, and
//! a connection silent for `ingest.idle_timeout_secs` is closed; when all
//! `ingest.max_tcp_connections` are open, the one silent the longest gives its place to
//! the newcomer. Idle connections cannot lock senders out. The UDP socket gets a receive buffer of
//! `ingest.udp_receive_buffer_bytes`, and the kernel's drops on it are counted
//! (`udp_kernel_drops`, read from `/proc/net/udp`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Notify;

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

/// The open syslog TCP connections: how many per sender address, and when each last
/// spoke. When the listener is full, the connection silent the longest (at least
/// [`EVICTABLE_AFTER`]) is told to close so a new sender gets its place: idle
/// connections from many addresses cannot lock a real sender out either.
#[derive(Default)]
struct Connections {
    inner: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    open: HashMap<u64, Open>,
    per_address: HashMap<IpAddr, usize>,
}

struct Open {
    ip: IpAddr,
    last_heard: Instant,
    close: Arc<Notify>,
}

/// A connection silent for less than this is never evicted for a newcomer.
const EVICTABLE_AFTER: Duration = Duration::from_secs(1);

enum Admit {
    Yes { id: u64, close: Arc<Notify>, evicted: bool },
    PerAddress,
    Full,
}

impl Connections {
    fn admit(&self, ip: IpAddr, max: usize, max_per_address: usize) -> Admit {
        let Ok(mut t) = self.inner.lock() else { return Admit::Full };
        if t.per_address.get(&ip).copied().unwrap_or(0) >= max_per_address {
            return Admit::PerAddress;
        }
        let mut evicted = false;
        if t.open.len() >= max {
            let now = Instant::now();
            let quietest = t
                .open
                .iter()
                .filter(|(_, o)| now.duration_since(o.last_heard) >= EVICTABLE_AFTER)
                .min_by_key(|(_, o)| o.last_heard)
                .map(|(id, _)| *id);
            let Some(id) = quietest else { return Admit::Full };
            if let Some(o) = t.remove(id) {
                o.close.notify_one();
            }
            evicted = true;
        }
        t.next_id += 1;
        let id = t.next_id;
        let close = Arc::new(Notify::new());
        t.open.insert(id, Open { ip, last_heard: Instant::now(), close: close.clone() });
        *t.per_address.entry(ip).or_insert(0) += 1;
        Admit::Yes { id, close, evicted }
    }

    fn heard(&self, id: u64) {
        if let Ok(mut t) = self.inner.lock() {
            if let Some(o) = t.open.get_mut(&id) {
                o.last_heard = Instant::now();
            }
        }
    }

    fn closed(&self, id: u64) {
        if let Ok(mut t) = self.inner.lock() {
            t.remove(id);
        }
    }
}

impl Table {
    fn remove(&mut self, id: u64) -> Option<Open> {
        let o = self.open.remove(&id)?;
        if let Some(n) = self.per_address.get_mut(&o.ip) {
            *n -= 1;
            if *n == 0 {
                self.per_address.remove(&o.ip);
            }
        }
        Some(o)
    }
}

pub(super) async fn serve_tcp(listener: TcpListener, shared: Arc<Shared>) {
    let table = Arc::new(Connections::default());
    let max = shared.cfg.max_tcp_connections.max(1);
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
        let (id, close) = match table.admit(peer.ip(), max, max_per_address) {
            Admit::Yes { id, close, evicted } => {
                if evicted {
                    ListenerStats::bump(&shared.listeners.tcp_evicted_idle);
                }
                (id, close)
            }
            Admit::PerAddress => {
                ListenerStats::bump(&shared.listeners.tcp_refused_per_address);
                continue;
            }
            Admit::Full => {
                ListenerStats::bump(&shared.listeners.tcp_refused_too_many);
                continue;
            }
        };
        ListenerStats::bump(&shared.listeners.tcp_connections);
        let (shared, table) = (shared.clone(), table.clone());
        let span = tracing::info_span!("connection", peer = %peer, listener = "syslog");
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                connection(stream, peer, &shared, || table.heard(id), &close).await;
                table.closed(id);
            },
            span,
        ));
    }
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    heard: impl Fn(),
    close: &Notify,
) {
    let mut framer = Framer::new(shared.cfg.max_message_bytes);
    let mut buf = vec![0u8; 64 * 1024];
    let idle = Duration::from_secs(shared.cfg.idle_timeout_secs.max(1));
    loop {
        let read = tokio::select! {
            r = tokio::time::timeout(idle, stream.read(&mut buf)) => r,
            () = close.notified() => break,
        };
        let n = match read {
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
        heard();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 1, last])
    }

    fn age(c: &Connections, id: u64, by: Duration) {
        let mut t = c.inner.lock().expect("table");
        let o = t.open.get_mut(&id).expect("open");
        o.last_heard = Instant::now().checked_sub(by).expect("time");
    }

    fn id(a: Admit) -> u64 {
        match a {
            Admit::Yes { id, .. } => id,
            _ => panic!("refused"),
        }
    }

    #[test]
    fn a_full_listener_gives_the_longest_silent_place_to_a_newcomer() {
        let c = Connections::default();
        let ids: Vec<u64> = (1..=4).map(|i| id(c.admit(ip(i), 4, 2))).collect();
        // Nobody has been silent long enough: a newcomer is refused.
        assert!(matches!(c.admit(ip(9), 4, 2), Admit::Full));
        age(&c, ids[1], Duration::from_secs(30));
        age(&c, ids[2], Duration::from_secs(90));
        let Admit::Yes { evicted, .. } = c.admit(ip(9), 4, 2) else { panic!("refused") };
        assert!(evicted);
        let t = c.inner.lock().expect("table");
        assert!(!t.open.contains_key(&ids[2]), "the quietest was evicted");
        assert!(t.open.contains_key(&ids[1]));
        assert_eq!(t.open.len(), 4);
        assert_eq!(t.per_address.get(&ip(3)), None);
    }

    #[test]
    fn the_evicted_connection_is_told_to_close_and_heard_ones_stay() {
        let c = Connections::default();
        let Admit::Yes { id: quiet, close, .. } = c.admit(ip(1), 2, 2) else { panic!() };
        let loud = id(c.admit(ip(2), 2, 2));
        age(&c, quiet, Duration::from_secs(5));
        age(&c, loud, Duration::from_secs(50));
        c.heard(loud);
        assert!(matches!(c.admit(ip(3), 2, 2), Admit::Yes { evicted: true, .. }));
        // The close was signalled (a permit is stored for the connection's next wait).
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("rt");
        let told = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(1), close.notified()).await.is_ok()
        });
        assert!(told);
        assert!(c.inner.lock().expect("table").open.contains_key(&loud));
    }

    #[test]
    fn per_address_share_is_counted_and_given_back() {
        let c = Connections::default();
        let a = id(c.admit(ip(1), 10, 2));
        let _b = id(c.admit(ip(1), 10, 2));
        assert!(matches!(c.admit(ip(1), 10, 2), Admit::PerAddress));
        c.closed(a);
        assert!(matches!(c.admit(ip(1), 10, 2), Admit::Yes { evicted: false, .. }));
    }
}
