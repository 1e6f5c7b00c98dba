//! AF_PACKET with a TPACKET_V3 memory-mapped ring: the line-rate capture path.
//!
//! The kernel fills fixed-size blocks of a ring shared with us; a block holds many
//! frames and is handed over whole (when full, or after `block_timeout_ms`), so the
//! reader makes one `poll` per block instead of one `recvfrom` per packet, as
//! Suricata's and libpcap's TPACKET_V3 paths do. Options: promiscuous mode, a classic
//! BPF program (in `tcpdump -ddd` text), a snap length (enforced by the filter's
//! return values), `PACKET_FANOUT` to share one interface between several readers, and
//! the kernel's counters (`PACKET_STATISTICS`: packets, drops, ring freezes).
//!
//! This is the one module of the sensor with `unsafe` code: the socket options and the
//! reads of the ring's headers. Every offset read from the ring is checked against the
//! block before it is used, and a block is returned to the kernel only after its frames
//! were handed on (the borrow of [`Ring::next_block`] ends first).
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{fence, Ordering};

use super::{Frame, LinkType};

/// Ring and socket settings.
#[derive(Clone, Debug, PartialEq)]
pub struct RingConfig {
    /// The interface read.
    pub interface: String,
    /// Bytes per block (a multiple of the page size; at least the snap length).
    pub block_size: usize,
    pub(crate) block_count: usize,
    /// A block is handed over after this long even when not full.
    pub block_timeout_ms: u32,
    pub(crate) promiscuous: bool,
    /// Bytes kept of each frame.
    pub snaplen: u32,
    /// A classic BPF program; `None` accepts every frame.
    pub filter: Option<Vec<BpfInstruction>>,
    /// Joins this fanout group (flow hash), for several readers of one interface.
    pub fanout_group: Option<u16>,
}

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BpfInstruction {
    pub(crate) code: u16,
    pub(crate) jt: u8,
    pub(crate) jf: u8,
    pub(crate) k: u32,
}

const BPF_RET: u16 = 0x06;
const BPF_K: u16 = 0x00;

/// A BPF program that does not parse: the line (when one is at fault) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{problem}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct BpfError {
    /// The line at fault (1-based).
    pub line: Option<usize>,
    /// What is wrong.
    pub problem: String,
}

/// Parses a program in `tcpdump -ddd` form: the instruction count on the first line,
/// then one `code jt jf k` line per instruction (decimal). Errors name the line.
pub fn parse_bpf(text: &str) -> Result<Vec<BpfInstruction>, BpfError> {
    let at = |line: usize, problem: String| BpfError { line: Some(line), problem };
    let mut lines = text.lines().map(str::trim).enumerate().filter(|(_, l)| !l.is_empty());
    let (_, first) =
        lines.next().ok_or(BpfError { line: None, problem: "empty BPF program".into() })?;
    let count: usize =
        first.parse().map_err(|_| at(1, format!("`{first}` is not an instruction count")))?;
    if count == 0 || count > 4096 {
        return Err(at(1, format!("{count} instructions (1 to 4096 allowed)")));
    }
    let mut prog = Vec::with_capacity(count);
    for (i, line) in lines {
        let f: Vec<&str> = line.split_whitespace().collect();
        let parsed = match f.as_slice() {
            [c, t, e, k] => (c.parse(), t.parse(), e.parse(), k.parse()),
            _ => return Err(at(i + 1, format!("expected `code jt jf k`, got `{line}`"))),
        };
        match parsed {
            (Ok(code), Ok(jt), Ok(jf), Ok(k)) => prog.push(BpfInstruction { code, jt, jf, k }),
            _ => return Err(at(i + 1, format!("`{line}` has a field out of range"))),
        }
    }
    if prog.len() != count {
        return Err(BpfError {
            line: None,
            problem: format!("the program says {count} instructions but has {}", prog.len()),
        });
    }
    Ok(prog)
}

/// The program that accepts `snaplen` bytes of every frame, or `prog` with every
/// constant return value capped at `snaplen`.
pub fn with_snaplen(prog: Option<&[BpfInstruction]>, snaplen: u32) -> Vec<BpfInstruction> {
    match prog {
        None => vec![BpfInstruction { code: BPF_RET | BPF_K, jt: 0, jf: 0, k: snaplen }],
        Some(p) => p
            .iter()
            .map(|i| {
                if i.code == BPF_RET | BPF_K && i.k > snaplen {
                    BpfInstruction { k: snaplen, ..*i }
                } else {
                    *i
                }
            })
            .collect(),
    }
}

/// The kernel's counters for a socket, since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// Frames that passed the filter (received by the socket, dropped or not).
    pub packets: u64,
    /// Frames dropped because the ring was full.
    pub drops: u64,
    /// Times the ring was frozen (full).
    pub freezes: u64,
}

/// A TPACKET_V3 receive ring on one interface.
pub struct Ring {
    fd: OwnedFd,
    map: NonNull<u8>,
    map_len: usize,
    block_size: usize,
    block_count: usize,
    next: usize,
    totals: KernelStats,
    /// A frame with its VLAN tag put back (the kernel strips it into the header).
    scratch: Vec<u8>,
}

// SAFETY: the ring's memory is owned by this value alone (it is unmapped on drop) and
// only read or released through `&mut self`.
unsafe impl Send for Ring {}

fn last_os_error(what: &str, cfg: &RingConfig) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("interface `{}`: {what}: {e}", cfg.interface))
}

fn setsockopt<T>(fd: &OwnedFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of the size passed.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Refuses a ring whose blocks are not whole pages or cannot hold one frame.
fn check_geometry(cfg: &RingConfig) -> io::Result<()> {
    let page = 4096usize;
    if cfg.block_size < page || !cfg.block_size.is_multiple_of(page) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("block size {} is not a multiple of {page}", cfg.block_size),
        ));
    }
    if (cfg.snaplen as usize) + 128 > cfg.block_size || cfg.block_count == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a block of {} bytes cannot hold a frame of snaplen {} (or no blocks)",
                cfg.block_size, cfg.snaplen
            ),
        ));
    }
    Ok(())
}

/// Attaches the compiled capture filter (with the snap length folded in).
fn attach_filter(fd: &OwnedFd, cfg: &RingConfig) -> io::Result<()> {
    let prog = with_snaplen(cfg.filter.as_deref(), cfg.snaplen);
    let mut insns: Vec<libc::sock_filter> = prog
        .iter()
        .map(|i| libc::sock_filter { code: i.code, jt: i.jt, jf: i.jf, k: i.k })
        .collect();
    let fprog = libc::sock_fprog { len: insns.len() as u16, filter: insns.as_mut_ptr() };
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
        .map_err(|e| io::Error::new(e.kind(), format!("the BPF filter was refused: {e}")))
}

/// Asks for a TPACKET_V3 receive ring of the configured blocks and maps it (locked in
/// memory when RLIMIT_MEMLOCK allows).
fn map_ring(fd: &OwnedFd, cfg: &RingConfig, map_len: usize) -> io::Result<NonNull<u8>> {
    let version: libc::c_int = 2; // TPACKET_V3
    setsockopt(fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version)
        .map_err(|_| last_os_error("TPACKET_V3 is not supported", cfg))?;
    let frame_size = 2048u32;
    let req = libc::tpacket_req3 {
        tp_block_size: cfg.block_size as u32,
        tp_block_nr: cfg.block_count as u32,
        tp_frame_size: frame_size,
        tp_frame_nr: (cfg.block_size * cfg.block_count / frame_size as usize) as u32,
        tp_retire_blk_tov: cfg.block_timeout_ms.max(1),
        tp_sizeof_priv: 0,
        tp_feature_req_word: 0,
    };
    setsockopt(fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)
        .map_err(|_| last_os_error("cannot set up the receive ring", cfg))?;
    let mmap = |flags: i32| {
        // SAFETY: maps the ring the kernel just allocated for this socket.
        unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                fd.as_raw_fd(),
                0,
            )
        }
    };
    let mut map = mmap(libc::MAP_SHARED | libc::MAP_LOCKED);
    // MAP_LOCKED can fail under RLIMIT_MEMLOCK; retry without it.
    if map == libc::MAP_FAILED {
        map = mmap(libc::MAP_SHARED);
    }
    if map == libc::MAP_FAILED {
        return Err(last_os_error("cannot map the receive ring", cfg));
    }
    NonNull::new(map.cast::<u8>()).ok_or_else(|| last_os_error("mmap", cfg))
}

impl Ring {
    /// Opens the socket, sets it up, maps the ring and binds to the interface.
    pub fn open(cfg: &RingConfig) -> io::Result<Ring> {
        check_geometry(cfg)?;
        let name = CString::new(cfg.interface.as_str())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name has NUL"))?;
        // SAFETY: `name` is a valid C string.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if ifindex == 0 {
            return Err(last_os_error("no such interface", cfg));
        }
        let proto = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain socket(2); the descriptor is owned right after.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, proto as i32) };
        if raw < 0 {
            return Err(last_os_error("cannot open an AF_PACKET socket (needs CAP_NET_RAW)", cfg));
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // The filter goes on before the bind, so no unfiltered frame gets in.
        attach_filter(&fd, cfg)?;
        let map_len = cfg.block_size * cfg.block_count;
        let map = map_ring(&fd, cfg, map_len)?;
        let ring = Ring {
            fd,
            map,
            map_len,
            block_size: cfg.block_size,
            block_count: cfg.block_count,
            next: 0,
            totals: KernelStats::default(),
            scratch: Vec::new(),
        };
        ring.bind(cfg, ifindex, proto)?;
        Ok(ring)
    }

    /// Binds the socket to the interface, then enters promiscuous mode and joins the
    /// fanout group as configured.
    fn bind(&self, cfg: &RingConfig, ifindex: u32, proto: u16) -> io::Result<()> {
        // SAFETY: a zeroed sockaddr_ll is valid; the fields set are plain integers.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: `sll` is a valid sockaddr_ll of the size passed.
        let r = unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(last_os_error("cannot bind", cfg));
        }
        if cfg.promiscuous {
            // SAFETY: a zeroed packet_mreq is valid.
            let mut mreq: libc::packet_mreq = unsafe { std::mem::zeroed() };
            mreq.mr_ifindex = ifindex as i32;
            mreq.mr_type = libc::PACKET_MR_PROMISC as u16;
            setsockopt(&self.fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq)
                .map_err(|_| last_os_error("cannot enter promiscuous mode", cfg))?;
        }
        if let Some(group) = cfg.fanout_group {
            let arg: u32 =
                group as u32 | ((libc::PACKET_FANOUT_HASH | libc::PACKET_FANOUT_FLAG_DEFRAG) << 16);
            setsockopt(&self.fd, libc::SOL_PACKET, libc::PACKET_FANOUT, &arg)
                .map_err(|_| last_os_error("cannot join the fanout group", cfg))?;
        }
        Ok(())
    }

    fn block(&self, i: usize) -> *mut libc::tpacket_block_desc {
        // SAFETY: i < block_count, so the offset stays inside the mapping.
        unsafe { self.map.as_ptr().add(i * self.block_size).cast() }
    }

    fn block_status(&self, i: usize) -> u32 {
        let b = self.block(i);
        // SAFETY: the header lies at the start of the block; the kernel writes the
        // status last, so a volatile read followed by an acquire fence sees the block.
        let s = unsafe { std::ptr::addr_of!((*b).hdr.bh1.block_status).read_volatile() };
        fence(Ordering::Acquire);
        s
    }

    /// Waits up to `timeout_ms` for a block, then hands each of its frames to `each`
    /// and returns the block to the kernel. Returns the number of frames (0 on
    /// timeout). Malformed frame headers end the block early and are counted in the
    /// returned error count.
    pub fn next_block(
        &mut self,
        timeout_ms: i32,
        each: &mut dyn FnMut(&Frame<'_>),
    ) -> io::Result<(usize, u64)> {
        if self.block_status(self.next) & libc::TP_STATUS_USER == 0 {
            let mut pfd =
                libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
            if r < 0 {
                let e = io::Error::last_os_error();
                return if e.kind() == io::ErrorKind::Interrupted { Ok((0, 0)) } else { Err(e) };
            }
            if pfd.revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
                return Err(io::Error::other("the capture socket reported an error"));
            }
            if self.block_status(self.next) & libc::TP_STATUS_USER == 0 {
                return Ok((0, 0));
            }
        }
        let base = self.block(self.next).cast::<u8>();
        // SAFETY: the block is ours (TP_STATUS_USER) until we write TP_STATUS_KERNEL.
        let (num, first) = unsafe {
            let h = std::ptr::addr_of!((*self.block(self.next)).hdr.bh1).read();
            (h.num_pkts as usize, h.offset_to_first_pkt as usize)
        };
        let hdr_len = std::mem::size_of::<libc::tpacket3_hdr>();
        let (mut off, mut seen, mut bad) = (first, 0usize, 0u64);
        while seen < num {
            if off < std::mem::size_of::<libc::tpacket_block_desc>()
                || off + hdr_len > self.block_size
            {
                bad += 1;
                break;
            }
            // SAFETY: `off + hdr_len` is inside the block (checked above).
            let h: libc::tpacket3_hdr =
                unsafe { base.add(off).cast::<libc::tpacket3_hdr>().read_unaligned() };
            let start = off + h.tp_mac as usize;
            let len = h.tp_snaplen as usize;
            if start + len > self.block_size {
                bad += 1;
                break;
            }
            // SAFETY: `start..start + len` is inside the block (checked above), and the
            // slice does not outlive this loop iteration.
            let data = unsafe { std::slice::from_raw_parts(base.add(start), len) };
            let ts_us = h.tp_sec as i64 * 1_000_000 + (h.tp_nsec / 1_000) as i64;
            let vlan = h.tp_status & libc::TP_STATUS_VLAN_VALID != 0 && h.hv1.tp_vlan_tci != 0;
            let data = if vlan && data.len() >= 12 {
                let tpid = if h.tp_status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                    h.hv1.tp_vlan_tpid
                } else {
                    0x8100
                };
                self.scratch.clear();
                self.scratch.extend_from_slice(&data[..12]);
                self.scratch.extend_from_slice(&tpid.to_be_bytes());
                self.scratch.extend_from_slice(&(h.hv1.tp_vlan_tci as u16).to_be_bytes());
                self.scratch.extend_from_slice(&data[12..]);
                &self.scratch[..]
            } else {
                data
            };
            let extra = if vlan { 4 } else { 0 };
            each(&Frame {
                ts_us,
                orig_len: h.tp_len.saturating_add(extra),
                link: LinkType::ETHERNET,
                data,
            });
            seen += 1;
            if h.tp_next_offset == 0 {
                break;
            }
            off += h.tp_next_offset as usize;
        }
        fence(Ordering::Release);
        // SAFETY: hands the block back; nothing borrowed from it is alive any more.
        unsafe {
            std::ptr::addr_of_mut!((*self.block(self.next)).hdr.bh1.block_status)
                .write_volatile(libc::TP_STATUS_KERNEL);
        }
        self.next = (self.next + 1) % self.block_count;
        Ok((seen, bad))
    }

    /// The kernel's counters since the socket was opened (the kernel resets them on
    /// each read; they are added up here).
    pub fn kernel_stats(&mut self) -> io::Result<KernelStats> {
        let mut s = libc::tpacket_stats_v3 { tp_packets: 0, tp_drops: 0, tp_freeze_q_cnt: 0 };
        let mut len = std::mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `s` and `len` are valid for the size given.
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut s as *mut libc::tpacket_stats_v3).cast(),
                &mut len,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        // tp_packets counts drops too.
        self.totals.packets += s.tp_packets as u64;
        self.totals.drops += s.tp_drops as u64;
        self.totals.freezes += s.tp_freeze_q_cnt as u64;
        Ok(self.totals)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `open` mapped; no frame borrows outlive `&mut self`.
        unsafe {
            libc::munmap(self.map.as_ptr().cast(), self.map_len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tcpdump_ddd_and_names_bad_lines() {
        let udp_only = "6\n40 0 0 12\n21 0 3 2048\n48 0 0 23\n21 0 1 17\n6 0 0 262144\n6 0 0 0\n";
        let p = parse_bpf(udp_only).expect("parses");
        assert_eq!(p.len(), 6);
        assert_eq!(p[1], BpfInstruction { code: 21, jt: 0, jf: 3, k: 2048 });
        let capped = with_snaplen(Some(&p), 1500);
        assert_eq!(capped[4].k, 1500, "accepting returns are capped");
        assert_eq!(capped[5].k, 0, "rejecting returns stay");
        assert_eq!(
            with_snaplen(None, 9000),
            vec![BpfInstruction { code: 6, jt: 0, jf: 0, k: 9000 }]
        );
        let e = |t: &str| parse_bpf(t).unwrap_err().to_string();
        assert!(e("").contains("empty"));
        assert!(e("x\n").contains("line 1"));
        assert!(e("2\n6 0 0 1\n").contains("says 2"));
        assert_eq!(parse_bpf("1\n6 0 300 1\n").unwrap_err().line, Some(2));
        assert!(e("1\n6 0 0\n").contains("line 2"));
    }

    #[test]
    fn a_missing_interface_or_bad_geometry_is_named() {
        let cfg = RingConfig {
            interface: "gw-no-such-if0".into(),
            block_size: 1 << 20,
            block_count: 4,
            block_timeout_ms: 10,
            promiscuous: false,
            snaplen: 65535,
            filter: None,
            fanout_group: None,
        };
        let e = Ring::open(&cfg).err().expect("fails");
        assert!(e.to_string().contains("gw-no-such-if0"), "{e}");
        let e = Ring::open(&RingConfig { block_size: 5000, ..cfg.clone() }).err().expect("fails");
        assert!(e.to_string().contains("multiple of 4096"), "{e}");
        let e = Ring::open(&RingConfig { block_size: 4096, ..cfg }).err().expect("fails");
        assert!(e.to_string().contains("snaplen"), "{e}");
    }
}
