//! Live capture from network interfaces, behind one trait ([`LiveSource`]) with two
//! methods:
//!
//! - `tpacket-v3` (default): our AF_PACKET TPACKET_V3 ring ([`super::afpacket`]):
//!   large memory-mapped ring, block-at-a-time reads, kernel timestamps, BPF filter,
//!   snap length, fanout, and the kernel's packet and drop counters.
//! - `pnet`: pnet's datalink channel (AF_PACKET, one `recvfrom` per frame into a
//!   socket buffer). Its limits: no ring (a syscall and a copy per frame), no kernel
//!   timestamps (frames are stamped when read), no BPF filter, no fanout and no drop
//!   counters (pnet does not expose the socket). Kept for portability and as a
//!   second opinion in tests; not for a busy mirror port.

use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::afpacket::{self, KernelStats, Ring, RingConfig};
use super::{Frame, LinkType};

/// How frames are read from an interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// `tpacket-v3`: the AF_PACKET ring (the default).
    #[default]
    #[serde(rename = "tpacket-v3")]
    TpacketV3,
    /// `pnet`: pnet's AF_PACKET socket, a frame per call.
    #[serde(rename = "pnet")]
    Pnet,
}

/// `[live]`: what `gatewatch sensor` captures from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveConfig {
    /// Interfaces to capture on (mirror/SPAN ports); each gets its own reader thread
    /// and `capture.workers` workers.
    pub interfaces: Vec<String>,
    /// How frames are read.
    pub method: Method,
    pub(crate) promiscuous: bool,
    /// Bytes kept of each frame.
    pub snaplen: u32,
    /// Ring size per interface, MiB (`tpacket-v3`).
    pub ring_mb: usize,
    /// Ring block size, KiB (a multiple of 4; larger than `snaplen`).
    pub block_kb: usize,
    /// A block is handed over after this many milliseconds even when not full.
    pub block_timeout_ms: u32,
    /// A classic BPF program as `tcpdump -ddd 'EXPRESSION'` prints it (`tpacket-v3`).
    pub bpf: Option<String>,
    /// Seconds between EVE `stats` records.
    pub stats_interval: u64,
    /// Where `gatewatch sensor` writes EVE JSON.
    pub eve: std::path::PathBuf,
    /// Address of the Prometheus endpoint (plain HTTP; empty: none), e.g.
    /// `127.0.0.1:9101`.
    pub metrics: String,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            interfaces: Vec::new(),
            method: Method::TpacketV3,
            promiscuous: true,
            snaplen: 65_535,
            ring_mb: 64,
            block_kb: 1024,
            block_timeout_ms: 10,
            bpf: None,
            stats_interval: 60,
            eve: "gatewatch-data/eve.json".into(),
            metrics: String::new(),
        }
    }
}

/// Counters of one live source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LiveStats {
    /// Frames read from the source.
    pub received: u64,
    /// Frames the kernel accepted for this socket (`tpacket-v3`; includes drops).
    pub kernel_packets: u64,
    /// Frames the kernel dropped because the ring was full (`tpacket-v3`).
    pub kernel_drops: u64,
    /// Times the ring froze because it was full (`tpacket-v3`).
    pub kernel_freezes: u64,
    /// Ring blocks whose frame headers did not add up (counted, block skipped).
    pub bad_blocks: u64,
}

/// A source of live frames.
pub trait LiveSource: Send {
    /// Waits up to `timeout` for frames and hands each to `each`; returns how many.
    fn read(&mut self, timeout: Duration, each: &mut dyn FnMut(&Frame<'_>)) -> io::Result<usize>;
    /// Counters since the source was opened.
    fn stats(&mut self) -> LiveStats;
    /// The interface it reads.
    fn interface(&self) -> &str;
}

/// Opens `interface` with the method and options of `cfg`.
pub fn open(interface: &str, cfg: &LiveConfig) -> io::Result<Box<dyn LiveSource>> {
    match cfg.method {
        Method::TpacketV3 => Ok(Box::new(TpacketSource::open(interface, cfg)?)),
        Method::Pnet => {
            if cfg.bpf.is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "live.bpf needs method \"tpacket-v3\": pnet cannot attach a filter",
                ));
            }
            Ok(Box::new(PnetSource::open(interface, cfg)?))
        }
    }
}

struct TpacketSource {
    ring: Ring,
    interface: String,
    stats: LiveStats,
}

impl TpacketSource {
    fn open(interface: &str, cfg: &LiveConfig) -> io::Result<Self> {
        let filter =
            cfg.bpf.as_deref().map(afpacket::parse_bpf).transpose().map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("live.bpf: {e}"))
            })?;
        let block_size = cfg.block_kb.max(4) * 1024;
        let rc = RingConfig {
            interface: interface.to_string(),
            block_size,
            block_count: (cfg.ring_mb.max(1) * 1024 * 1024 / block_size).max(2),
            block_timeout_ms: cfg.block_timeout_ms,
            promiscuous: cfg.promiscuous,
            snaplen: cfg.snaplen,
            filter,
            fanout_group: None,
        };
        Ok(TpacketSource {
            ring: Ring::open(&rc)?,
            interface: interface.into(),
            stats: LiveStats::default(),
        })
    }
}

impl LiveSource for TpacketSource {
    fn read(&mut self, timeout: Duration, each: &mut dyn FnMut(&Frame<'_>)) -> io::Result<usize> {
        let (n, bad) =
            self.ring.next_block(timeout.as_millis().min(i32::MAX as u128) as i32, each)?;
        self.stats.received += n as u64;
        self.stats.bad_blocks += bad;
        Ok(n)
    }

    fn stats(&mut self) -> LiveStats {
        if let Ok(KernelStats { packets, drops, freezes }) = self.ring.kernel_stats() {
            self.stats.kernel_packets = packets;
            self.stats.kernel_drops = drops;
            self.stats.kernel_freezes = freezes;
        }
        self.stats
    }

    fn interface(&self) -> &str {
        &self.interface
    }
}

struct PnetSource {
    rx: Box<dyn pnet_datalink::DataLinkReceiver>,
    interface: String,
    snaplen: usize,
    stats: LiveStats,
}

impl PnetSource {
    fn open(interface: &str, cfg: &LiveConfig) -> io::Result<Self> {
        let iface = pnet_datalink::interfaces()
            .into_iter()
            .find(|i| i.name == interface)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("interface `{interface}`: no such interface"),
                )
            })?;
        let config = pnet_datalink::Config {
            read_timeout: Some(Duration::from_millis(100)),
            read_buffer_size: 65_536,
            promiscuous: cfg.promiscuous,
            ..Default::default()
        };
        match pnet_datalink::channel(&iface, config) {
            Ok(pnet_datalink::Channel::Ethernet(_tx, rx)) => Ok(PnetSource {
                rx,
                interface: interface.into(),
                snaplen: cfg.snaplen as usize,
                stats: LiveStats::default(),
            }),
            Ok(_) => {
                Err(io::Error::other(format!("interface `{interface}`: not an Ethernet channel")))
            }
            Err(e) => Err(io::Error::new(e.kind(), format!("interface `{interface}`: {e}"))),
        }
    }
}

impl LiveSource for PnetSource {
    fn read(&mut self, timeout: Duration, each: &mut dyn FnMut(&Frame<'_>)) -> io::Result<usize> {
        // pnet's own read timeout (100 ms) bounds the wait; one frame per call.
        let _ = timeout;
        match self.rx.next() {
            Ok(data) => {
                let ts_us = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros() as i64);
                let kept = &data[..data.len().min(self.snaplen)];
                each(&Frame {
                    ts_us,
                    orig_len: data.len() as u32,
                    link: LinkType::ETHERNET,
                    data: kept,
                });
                self.stats.received += 1;
                Ok(1)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    fn stats(&mut self) -> LiveStats {
        self.stats
    }

    fn interface(&self) -> &str {
        &self.interface
    }
}
