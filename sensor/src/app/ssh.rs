//! The SSH glue of a session: the banners of both directions become inspection
//! buffers and the EVE `ssh` record; the binary packets after them are followed (by
//! their length fields) until each side sends NEWKEYS, after which the session is
//! encrypted and its payload is not inspected any more.

use gatewatch_rules::signature::{AppProto, Buffer};
use serde::Serialize;

use super::parser::{
    meta, push, AppCx, AppParser, Inspection, Probe, Registration, Sender, TxMeta,
};
use super::records::{text, Record};

pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Ssh,
    ports: &[22],
    needs_port: false,
    probe,
    new: |_| Box::<SshConn>::default(),
};

/// The identification string (RFC 4253, 4.2); either side may send it first.
fn probe(data: &[u8], _other: &[u8], _port_hint: bool) -> Probe {
    if data.starts_with(b"SSH-") {
        Probe::Yes(Sender::Either)
    } else if b"SSH-".starts_with(&data[..data.len().min(4)]) {
        Probe::NeedMore
    } else {
        Probe::No
    }
}

/// The EVE `ssh` record of a session.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SshRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<SshSide>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<SshSide>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SshSide {
    pub proto_version: String,
    pub software_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hassh: Option<Hassh>,
}

/// The HASSH fingerprint of a side's KEXINIT.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Hassh {
    pub hash: String,
    pub string: String,
}

#[derive(Debug, Default)]
pub(crate) struct SshConn {
    pub(crate) line: [Vec<u8>; 2],
    pub(crate) done: [bool; 2],
    pub(crate) rec: SshRecord,
    pub(crate) logged: bool,
    /// The binary packets of each direction after its banner.
    packets: [SshPackets; 2],
}

/// SSH_MSG_KEXINIT (RFC 4253, 7.1).
const MSG_KEXINIT: u8 = 20;
/// SSH_MSG_NEWKEYS (RFC 4253, 7.3).
const MSG_NEWKEYS: u8 = 21;
/// Larger packets than this are not SSH key exchange: the walk stops.
const MAX_PACKET: usize = 256 * 1024;

/// Follows the unencrypted binary packets of one direction (RFC 4253, 6): a 4-byte
/// length, the padding length, the message code, then the rest, skipped.
#[derive(Debug, Default)]
struct SshPackets {
    header: [u8; 6],
    have: usize,
    /// Bytes of the current packet still to skip.
    skip: usize,
    /// The KEXINIT being read: its bytes after the message code, and how many of the
    /// packet's bytes to keep.
    kexinit: Option<(Vec<u8>, usize)>,
    /// A complete KEXINIT, for the caller to take.
    kexinit_done: Option<Vec<u8>>,
    newkeys: bool,
    /// The bytes are not SSH packets: given up on (the session stays inspected).
    lost: bool,
}

impl SshPackets {
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.newkeys && !self.lost {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                if let Some((kex, keep)) = &mut self.kexinit {
                    let k = (*keep - kex.len()).min(n);
                    kex.extend_from_slice(&bytes[..k]);
                }
                self.skip -= n;
                bytes = &bytes[n..];
                // A later packet ending in the same bytes must not drop a KEXINIT
                // completed earlier in them.
                if self.skip == 0 {
                    if let Some((k, _)) = self.kexinit.take() {
                        self.kexinit_done = Some(k);
                    }
                }
                continue;
            }
            let n = (self.header.len() - self.have).min(bytes.len());
            self.header[self.have..self.have + n].copy_from_slice(&bytes[..n]);
            self.have += n;
            bytes = &bytes[n..];
            if self.have < self.header.len() {
                return;
            }
            self.have = 0;
            let len = u32::from_be_bytes([
                self.header[0],
                self.header[1],
                self.header[2],
                self.header[3],
            ]) as usize;
            if !(2..=MAX_PACKET).contains(&len) {
                self.lost = true;
                return;
            }
            if self.header[5] == MSG_NEWKEYS {
                self.newkeys = true;
                return;
            }
            // The length counts the padding-length byte and the code, read already.
            self.skip = len - 2;
            if self.header[5] == MSG_KEXINIT {
                // The payload ends before the padding.
                let keep = self.skip.saturating_sub(self.header[4] as usize);
                self.kexinit = Some((Vec::with_capacity(keep.min(4096)), keep));
            }
        }
    }
}

/// The HASSH of a KEXINIT (its bytes after the message code): the key exchange,
/// cipher, MAC and compression algorithms the side offers for its own direction
/// (client to server for a client), `;`-joined, and their MD5. `None` when the
/// name-lists are cut short.
pub(crate) fn hassh(kexinit: &[u8], client: bool) -> Option<(String, String)> {
    let mut rest = kexinit.get(16..)?; // the cookie
    let mut lists = Vec::with_capacity(10);
    for _ in 0..10 {
        let n = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        lists.push(rest.get(4..4 + n)?);
        rest = &rest[4 + n..];
    }
    // kex, host key, enc c2s, enc s2c, mac c2s, mac s2c, comp c2s, comp s2c, ...
    let pick: [usize; 4] = if client { [0, 2, 4, 6] } else { [0, 3, 5, 7] };
    let s = pick.iter().map(|i| text(lists[*i])).collect::<Vec<_>>().join(";");
    let hash = super::tls::hex(&<md5::Md5 as md5::Digest>::digest(s.as_bytes()));
    Some((hash, s))
}

/// The binary packets of direction `d` after its banner: a complete KEXINIT gives
/// the side's HASSH to rules and to the EVE record.
fn ssh_packets(sh: &mut SshConn, d: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
    sh.packets[d].feed(bytes);
    let Some(kex) = sh.packets[d].kexinit_done.take() else { return };
    let Some((hash, string)) = hassh(&kex, d == 0) else { return };
    let mut insp = Inspection::new(d);
    let (hb, sb) = if d == 0 {
        (Buffer::SshHassh, Buffer::SshHasshString)
    } else {
        (Buffer::SshHasshServer, Buffer::SshHasshServerString)
    };
    push(&mut insp.buffers, hb, hash.as_bytes());
    push(&mut insp.buffers, sb, string.as_bytes());
    let side = if d == 0 { &mut sh.rec.client } else { &mut sh.rec.server };
    if let Some(side) = side {
        side.hassh = Some(Hassh { hash, string });
    }
    insp.meta = meta("ssh", &sh.rec);
    cx.inspect(insp);
}

/// The EVE record is written once the key exchange is over (both sides sent NEWKEYS,
/// their HASSH known), or when the session ends before.
fn log_when_keyed(sh: &mut SshConn, cx: &mut AppCx<'_>) {
    if !sh.logged && sh.packets.iter().all(|p| p.newkeys) && sh.done.iter().all(|d| *d) {
        sh.logged = true;
        cx.record(true, Record::Ssh(sh.rec.clone()));
    }
}

/// Banner bytes of one direction of an SSH session.
fn ssh_bytes(sh: &mut SshConn, d: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
    if sh.done[d] {
        ssh_packets(sh, d, bytes, cx);
        return;
    }
    let held = sh.line[d].len();
    let room = 255usize.saturating_sub(held);
    sh.line[d].extend_from_slice(&bytes[..room.min(bytes.len())]);
    let Some(nl) = memchr::memchr(b'\n', &sh.line[d]) else {
        if sh.line[d].len() >= 255 {
            sh.done[d] = true;
            sh.line[d] = Vec::new();
        }
        return;
    };
    sh.done[d] = true;
    let whole = std::mem::take(&mut sh.line[d]);
    let line = whole[..nl].strip_suffix(b"\r").unwrap_or(&whole[..nl]);
    let Some(rest) = line.strip_prefix(b"SSH-") else { return };
    // The binary packets start after the banner's line end.
    let after = bytes.get(nl + 1 - held..).unwrap_or_default();
    let dash = memchr::memchr(b'-', rest).unwrap_or(rest.len());
    let proto = &rest[..dash];
    let sw = rest.get(dash + 1..).unwrap_or_default();
    let sw = sw.split(|c| *c == b' ').next().unwrap_or_default();
    cx.counters.ssh_banners += 1;
    let mut insp = Inspection::new(d);
    push(&mut insp.buffers, Buffer::SshProto, proto);
    push(&mut insp.buffers, Buffer::SshSoftware, sw);
    let side = SshSide { proto_version: text(proto), software_version: text(sw), hassh: None };
    if d == 0 {
        sh.rec.client = Some(side);
    } else {
        sh.rec.server = Some(side);
    }
    insp.meta = meta("ssh", &sh.rec);
    cx.inspect(insp);
    ssh_packets(sh, d, after, cx);
}

impl AppParser for SshConn {
    /// Banner lines being read and the KEXINIT messages being collected.
    fn mem_usage(&self) -> usize {
        let kex = |p: &SshPackets| {
            p.kexinit.as_ref().map_or(0, |(b, _)| b.capacity())
                + p.kexinit_done.as_ref().map_or(0, Vec::capacity)
        };
        crate::app::parser::held_bytes(&self.line) + self.packets.iter().map(kex).sum::<usize>()
    }

    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        ssh_bytes(self, dir, bytes, cx);
        log_when_keyed(self, cx);
    }

    fn end(&mut self, cx: &mut AppCx<'_>) {
        if !self.logged && (self.rec.client.is_some() || self.rec.server.is_some()) {
            self.logged = true;
            cx.record(true, Record::Ssh(self.rec.clone()));
        }
    }

    /// Both sides have sent NEWKEYS: what follows is encrypted.
    fn encrypted(&self) -> bool {
        self.packets.iter().all(|p| p.newkeys)
    }

    fn session_meta(&self) -> Option<TxMeta> {
        meta("ssh", &self.rec)
    }
}
