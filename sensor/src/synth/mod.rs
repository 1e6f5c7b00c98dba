//! Builds captures from code: Ethernet/IPv4 frames with correct checksums, TCP sessions,
//! DNS and TLS messages. Used by the tests (they generate their own captures) and by
//! `gatewatch demo`.

pub mod demo;
pub mod files;
pub mod http2;
pub mod windows;

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::path::Path;

use crate::capture::writer::PcapWriter;
use crate::capture::{Frame, LinkType};
use crate::decode::checksum::{ipv4_header_checksum, transport_checksum};
use crate::decode::tcp::{ACK, FIN, PSH, RST, SYN};

const CLIENT_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const SERVER_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

/// An Ethernet frame view for feeding the pipeline directly.
pub fn frame(ts_us: i64, data: &[u8]) -> Frame<'_> {
    Frame { ts_us, orig_len: data.len() as u32, link: LinkType::ETHERNET, data }
}

/// Ethernet + IPv4 around a transport segment.
pub fn eth_ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, l4: &[u8], ident: u16) -> Vec<u8> {
    let mut f = Vec::with_capacity(34 + l4.len());
    f.extend_from_slice(&SERVER_MAC);
    f.extend_from_slice(&CLIENT_MAC);
    f.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + l4.len()) as u16;
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[4..6].copy_from_slice(&ident.to_be_bytes());
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = proto;
    ip[12..16].copy_from_slice(&src.octets());
    ip[16..20].copy_from_slice(&dst.octets());
    let c = ipv4_header_checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(l4);
    f
}

/// Ethernet + IPv4 fragments of one datagram carrying `l4`: pieces of `piece` bytes
/// (rounded down to a multiple of 8), in datagram order.
pub fn eth_ipv4_fragments(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    l4: &[u8],
    ident: u16,
    piece: usize,
) -> Vec<Vec<u8>> {
    let piece = (piece / 8).max(1) * 8;
    let mut out = Vec::new();
    let mut off = 0;
    while off < l4.len() {
        let end = (off + piece).min(l4.len());
        let mut f = eth_ipv4(src, dst, proto, &l4[off..end], ident);
        let more = end < l4.len();
        let flags_off: u16 = (if more { 0x2000 } else { 0 }) | (off / 8) as u16;
        f[14 + 6..14 + 8].copy_from_slice(&flags_off.to_be_bytes());
        f[14 + 10..14 + 12].copy_from_slice(&[0, 0]);
        let c = ipv4_header_checksum(&f[14..34]);
        f[14 + 10..14 + 12].copy_from_slice(&c.to_be_bytes());
        out.push(f);
        off = end;
    }
    out
}

/// An Ethernet frame of one IPv4 TCP segment (checksums filled in).
#[allow(clippy::too_many_arguments)]
pub fn tcp_segment(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    let c = transport_checksum(IpAddr::V4(src), IpAddr::V4(dst), 6, &t);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}

/// An Ethernet frame of one IPv4 UDP datagram (checksums filled in).
pub fn udp_datagram(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut u = Vec::with_capacity(8 + payload.len());
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    let c = transport_checksum(IpAddr::V4(src), IpAddr::V4(dst), 17, &u);
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

/// An Ethernet frame of an ICMP echo request (or reply).
pub fn icmp_echo(request: bool, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut i = vec![if request { 8 } else { 0 }, 0, 0, 0];
    i.extend_from_slice(&id.to_be_bytes());
    i.extend_from_slice(&seq.to_be_bytes());
    i.extend_from_slice(payload);
    let c = !crate::decode::checksum::ones_complement(0, &i);
    i[2..4].copy_from_slice(&c.to_be_bytes());
    i
}

/// An ICMPv4 error (`itype` 3 destination unreachable, 11 time exceeded, ...) quoting
/// `quoted`: the start of the IP packet it reports on.
pub fn icmp_error(itype: u8, code: u8, quoted: &[u8]) -> Vec<u8> {
    let mut i = vec![itype, code, 0, 0, 0, 0, 0, 0];
    i.extend_from_slice(quoted);
    let c = !crate::decode::checksum::ones_complement(0, &i);
    i[2..4].copy_from_slice(&c.to_be_bytes());
    i
}

/// A DNS query for `name` (type A), or its answer when `answer` is given.
pub fn dns_message(id: u16, name: &str, answer: Option<Ipv4Addr>) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(if answer.is_some() { &[0x81, 0x80] } else { &[0x01, 0x00] });
    m.extend_from_slice(&[0, 1, 0, answer.is_some() as u8, 0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    if let Some(a) = answer {
        m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
        m.extend_from_slice(&a.octets());
    }
    m
}

/// A TLS 1.2 ClientHello record carrying `sni` (and ALPN h2, http/1.1).
pub fn tls_client_hello(sni: &str) -> Vec<u8> {
    let mut ext = Vec::new();
    let name = sni.as_bytes();
    ext.extend_from_slice(&[0x00, 0x00]);
    ext.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    let alpn: &[u8] = b"\x02h2\x08http/1.1";
    ext.extend_from_slice(&[0x00, 0x10]);
    ext.extend_from_slice(&((alpn.len() + 2) as u16).to_be_bytes());
    ext.extend_from_slice(&(alpn.len() as u16).to_be_bytes());
    ext.extend_from_slice(alpn);
    let mut hello = vec![0x03, 0x03];
    hello.extend((0..32u8).map(|i| i.wrapping_mul(37)));
    hello.push(0);
    let suites: [u16; 4] = [0xc02b, 0xc02f, 0xc02c, 0x009c];
    hello.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        hello.extend_from_slice(&s.to_be_bytes());
    }
    hello.extend_from_slice(&[1, 0]);
    hello.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    hello.extend_from_slice(&ext);
    let mut hs = vec![1];
    hs.extend_from_slice(&(hello.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&hello);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// A TCP connection between two endpoints, producing frames with consistent sequence
/// numbers.
pub struct TcpSession {
    pub(crate) client: SocketAddrV4,
    pub(crate) server: SocketAddrV4,
    cseq: u32,
    sseq: u32,
    pub(crate) now_us: i64,
    pub(crate) step_us: i64,
    ident: u16,
    frames: Vec<(i64, Vec<u8>)>,
}

impl TcpSession {
    /// A session between `client` and `server`, its first packet at `start_us`.
    pub fn new(client: SocketAddrV4, server: SocketAddrV4, start_us: i64) -> Self {
        let seed = u32::from(*client.ip()) ^ (client.port() as u32) << 16 ^ u32::from(*server.ip());
        TcpSession {
            client,
            server,
            cseq: seed.wrapping_mul(2_654_435_761),
            sseq: seed.wrapping_mul(40_503).wrapping_add(7),
            now_us: start_us,
            step_us: 1_000,
            ident: (seed & 0xffff) as u16,
            frames: Vec::new(),
        }
    }

    /// A short HTTP exchange, for examples.
    pub fn demo_pair() -> Self {
        let mut s = TcpSession::new(
            "10.0.0.1:40000".parse().expect("literal"),
            "10.0.0.2:80".parse().expect("literal"),
            1_700_000_000_000_000,
        );
        s.handshake()
            .client_send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .server_send(b"HTTP/1.1 200 OK\r\n\r\n")
            .close();
        s
    }

    fn push(&mut self, from_client: bool, flags: u8, payload: &[u8]) {
        let (src, dst) =
            if from_client { (self.client, self.server) } else { (self.server, self.client) };
        let (seq, ack) = if from_client { (self.cseq, self.sseq) } else { (self.sseq, self.cseq) };
        let ack = if flags & ACK != 0 { ack } else { 0 };
        let seg =
            tcp_segment(*src.ip(), *dst.ip(), src.port(), dst.port(), seq, ack, flags, payload);
        self.ident = self.ident.wrapping_add(1);
        self.frames.push((self.now_us, eth_ipv4(*src.ip(), *dst.ip(), 6, &seg, self.ident)));
        self.now_us += self.step_us;
        let adv = payload.len() as u32 + (flags & (SYN | FIN) != 0) as u32;
        if from_client {
            self.cseq = self.cseq.wrapping_add(adv);
        } else {
            self.sseq = self.sseq.wrapping_add(adv);
        }
    }

    /// The three-way handshake.
    pub fn handshake(&mut self) -> &mut Self {
        self.push(true, SYN, &[]);
        self.push(false, SYN | ACK, &[]);
        self.push(true, ACK, &[]);
        self
    }

    /// A SYN answered by a RST (closed port).
    pub fn refused(&mut self) -> &mut Self {
        self.push(true, SYN, &[]);
        self.push(false, RST | ACK, &[]);
        self
    }

    fn send(&mut self, from_client: bool, data: &[u8]) -> &mut Self {
        for chunk in data.chunks(1448) {
            self.push(from_client, PSH | ACK, chunk);
        }
        self.push(!from_client, ACK, &[]);
        self
    }

    /// Sends `data` from the client as segments of `seg` bytes, emitted in `order`
    /// (indices into the segments; repeats are retransmissions, missing ones are lost).
    pub fn client_send_in_order(&mut self, data: &[u8], seg: usize, order: &[usize]) -> &mut Self {
        let base = self.cseq;
        let chunks: Vec<&[u8]> = data.chunks(seg.max(1)).collect();
        for &i in order {
            let Some(chunk) = chunks.get(i) else { continue };
            self.cseq = base.wrapping_add((i * seg) as u32);
            self.push(true, PSH | ACK, chunk);
        }
        self.cseq = base.wrapping_add(data.len() as u32);
        self.push(false, ACK, &[]);
        self
    }

    /// Data from the client, acknowledged by the server.
    pub fn client_send(&mut self, data: &[u8]) -> &mut Self {
        self.send(true, data)
    }

    /// Data from the server, acknowledged by the client.
    pub fn server_send(&mut self, data: &[u8]) -> &mut Self {
        self.send(false, data)
    }

    /// FIN from each side, acknowledged.
    pub fn close(&mut self) -> &mut Self {
        self.push(true, FIN | ACK, &[]);
        self.push(false, FIN | ACK, &[]);
        self.push(true, ACK, &[]);
        self
    }

    /// The frames so far, with their times (µs).
    pub fn frames(&self) -> Vec<(i64, Vec<u8>)> {
        self.frames.clone()
    }

    /// The frames, with their times (µs).
    pub fn into_frames(self) -> Vec<(i64, Vec<u8>)> {
        self.frames
    }
}

/// Frames collected from several generators, written in time order.
#[derive(Default)]
pub struct Capture {
    /// The frames, with their times (µs).
    pub frames: Vec<(i64, Vec<u8>)>,
}

impl Capture {
    /// Adds frames.
    pub fn add(&mut self, frames: Vec<(i64, Vec<u8>)>) {
        self.frames.extend(frames);
    }

    /// Adds one frame at `ts_us`.
    pub fn push(&mut self, ts_us: i64, frame: Vec<u8>) {
        self.frames.push((ts_us, frame));
    }

    /// The frames in time order.
    pub fn sorted(&mut self) -> &[(i64, Vec<u8>)] {
        self.frames.sort_by_key(|(ts, _)| *ts);
        &self.frames
    }

    /// Writes the frames, in time order, as a pcap file.
    pub fn write_pcap(&mut self, path: &Path) -> io::Result<()> {
        let f = std::fs::File::create(path)?;
        let mut w = PcapWriter::new(io::BufWriter::new(f), LinkType::ETHERNET, false)?;
        for (ts, data) in self.sorted() {
            w.write(*ts, data)?;
        }
        w.flush()
    }

    /// The frames, in time order, as pcap file bytes.
    pub fn to_pcap_bytes(&mut self) -> Vec<u8> {
        let mut w =
            PcapWriter::new(Vec::new(), LinkType::ETHERNET, false).expect("writing to memory");
        for (ts, data) in self.sorted() {
            w.write(*ts, data).expect("writing to memory");
        }
        w.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode_l3, decode_l4, verify_l4_checksum, Decoded};

    #[test]
    fn built_frames_decode_with_valid_checksums() {
        let s = TcpSession::demo_pair();
        for (_, f) in s.frames() {
            let (_, d) = decode_l3(LinkType::ETHERNET, &f).unwrap();
            let Decoded::Ip(l3) = d else { panic!("not ip") };
            assert!(crate::decode::ipv4::header_checksum_ok(l3.header));
            let l4 = decode_l4(&l3, l3.payload).unwrap();
            verify_l4_checksum(&l3, l3.payload, &l4).unwrap();
        }
        let u = udp_datagram(
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            5353,
            53,
            &dns_message(1, "a.vn", None),
        );
        let f = eth_ipv4("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), 17, &u, 1);
        let (_, Decoded::Ip(l3)) = decode_l3(LinkType::ETHERNET, &f).unwrap() else { panic!() };
        let l4 = decode_l4(&l3, l3.payload).unwrap();
        verify_l4_checksum(&l3, l3.payload, &l4).unwrap();
    }
}
