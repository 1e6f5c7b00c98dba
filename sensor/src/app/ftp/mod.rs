//! FTP control connections (RFC 959, 2428): commands and replies paired into
//! transactions, multi-line replies, and the data channels the session sets up
//! (PASV/EPSV replies, PORT/EPRT commands) with the file the next transfer command
//! names. One EVE `ftp` record per command (and one for the server's greeting).

use std::collections::VecDeque;

use gatewatch_rules::signature::{AppProto, Buffer};
use serde::Serialize;

use super::expect::Expect;
use super::files::{FileLimits, FileSink};
use super::parser::{meta, AppCx, AppParser, Inspection, Probe, Registration, Sender};
use super::records::{text, Record};

/// FTP control connections over TCP.
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Ftp,
    ports: &[21],
    needs_port: false,
    probe,
    new: |_| Box::<FtpConn>::default(),
};

/// Commands a client opens with, or the server's `220` greeting. POP3 shares `USER`
/// and SMTP the greeting: without port 21, the other side must agree (a greeting
/// before a command, a command after a greeting).
fn probe(data: &[u8], other: &[u8], port_hint: bool) -> Probe {
    if data.len() < 4 {
        return Probe::NeedMore;
    }
    let (command, greeting) = (is_command(data), is_greeting(data));
    if !command && !greeting {
        return Probe::No;
    }
    let agrees = if command { is_greeting(other) } else { is_command(other) };
    let sender = if command { Sender::Client } else { Sender::Server };
    if port_hint || agrees {
        Probe::Yes(sender)
    } else if other.len() < 4 {
        Probe::NeedMore
    } else {
        Probe::No
    }
}

fn is_command(d: &[u8]) -> bool {
    const OPENERS: &[&[u8]] = &[b"USER ", b"AUTH ", b"FEAT", b"SYST", b"OPTS "];
    let upper = d[..d.len().min(5)].to_ascii_uppercase();
    OPENERS.iter().any(|o| upper.starts_with(o))
}

fn is_greeting(d: &[u8]) -> bool {
    d.starts_with(b"220 ") || d.starts_with(b"220-")
}

/// The EVE `ftp` record of one command and its reply.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct FtpRecord {
    #[serde(skip)]
    pub(crate) tx_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) command_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) command_truncated: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) completion_code: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) reply: Vec<String>,
    pub(crate) reply_received: &'static str,
    pub(crate) reply_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dynamic_port: Option<u16>,
    /// `active` or `passive` (data connections).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
}

/// The EVE `ftp_data` record of a transfer.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct FtpDataRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) filename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) command: Option<String>,
}

/// Longest command or reply line kept; longer ones are cut (`*_truncated`).
pub const MAX_LINE: usize = 4096;
/// Lines of one reply kept.
const MAX_REPLY_LINES: usize = 64;
/// Commands waiting for their reply.
const MAX_PENDING: usize = 256;

/// A line splitter for one direction, bounded.
#[derive(Debug, Default)]
struct Lines {
    buf: Vec<u8>,
    truncated: bool,
}

impl Lines {
    /// Complete lines (without CRLF) and whether each was cut.
    fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<(Vec<u8>, bool)>) {
        while let Some(nl) = memchr::memchr(b'\n', bytes) {
            self.take(&bytes[..nl]);
            let mut line = std::mem::take(&mut self.buf);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            out.push((line, std::mem::take(&mut self.truncated)));
            bytes = &bytes[nl + 1..];
        }
        self.take(bytes);
    }

    fn take(&mut self, b: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.buf.len());
        if b.len() > room {
            self.truncated = true;
        }
        self.buf.extend_from_slice(&b[..b.len().min(room)]);
    }
}

#[derive(Debug, Default)]
struct Tx {
    rec: FtpRecord,
    /// A multi-line reply in progress: its code.
    open_reply: Option<[u8; 3]>,
}

/// The FTP control parser of one connection.
#[derive(Debug, Default)]
pub struct FtpConn {
    lines: [Lines; 2],
    txs: VecDeque<Tx>,
    next_tx: u64,
    mode: Option<&'static str>,
    /// The data channel set up last: its port, and whether the FTP server accepts it
    /// (passive) or the client (active).
    /// The transfer its next command will describe; shared with the data connection,
    /// which may open before the command.
    pending: Option<Transfer>,
}

/// Commands that move data over the data channel.
const TRANSFERS: &[&[u8]] = &[b"RETR", b"STOR", b"APPE", b"STOU", b"LIST", b"NLST", b"MLSD"];

impl AppParser for FtpConn {
    /// Lines being read and the commands waiting for their reply (a few hundred bytes
    /// each).
    fn mem_usage(&self) -> usize {
        self.lines.iter().map(|l| l.buf.capacity()).sum::<usize>() + 384 * self.txs.len()
    }

    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        let mut lines = Vec::new();
        self.lines[dir].feed(bytes, &mut lines);
        for (line, cut) in lines {
            if dir == 0 {
                self.command(&line, cut, cx);
            } else {
                self.reply_line(&line, cut, cx);
            }
        }
    }

    fn gap(&mut self, dir: usize, _cx: &mut AppCx<'_>) {
        self.lines[dir] = Lines::default();
        if dir == 1 {
            if let Some(t) = self.txs.iter_mut().find(|t| t.open_reply.is_some()) {
                t.open_reply = None;
                t.rec.reply_truncated = true;
            }
        }
    }

    fn end(&mut self, cx: &mut AppCx<'_>) {
        while let Some(t) = self.txs.pop_front() {
            cx.record(true, Record::Ftp(t.rec));
        }
    }
}

impl FtpConn {
    /// A data channel was set up: the connection is announced now (a client may open
    /// it before it sends the command), the command fills in its transfer.
    fn announce(&mut self, port: u16, on_server: bool, cx: &mut AppCx<'_>) {
        let transfer = Transfer::default();
        cx.out.expect.push(Expect { port, on_server, transfer: transfer.clone() });
        self.pending = Some(transfer);
    }

    fn new_tx(&mut self) -> Tx {
        let tx_id = self.next_tx;
        self.next_tx += 1;
        Tx {
            rec: FtpRecord { tx_id, reply_received: "no", ..Default::default() },
            open_reply: None,
        }
    }

    fn command(&mut self, line: &[u8], cut: bool, cx: &mut AppCx<'_>) {
        if line.is_empty() {
            return;
        }
        let sp = memchr::memchr(b' ', line).unwrap_or(line.len());
        let cmd = line[..sp].to_ascii_uppercase();
        let data = line.get(sp + 1..).unwrap_or_default();
        cx.count("ftp_commands", 1);
        if cut {
            cx.event("ftp.request_command_too_long");
        }
        let mut tx = self.new_tx();
        tx.rec.command = Some(text(&cmd));
        // As Suricata: a command without argument has neither field.
        if !data.is_empty() {
            tx.rec.command_data = Some(text(data));
            tx.rec.command_truncated = Some(cut);
        }
        match cmd.as_slice() {
            b"PORT" | b"EPRT" => {
                self.mode = Some("active");
                tx.rec.mode = self.mode;
                tx.rec.dynamic_port =
                    if cmd == b"PORT" { port_of_pasv(data) } else { port_of_eprt(data) };
                if let Some(port) = tx.rec.dynamic_port {
                    self.announce(port, false, cx);
                }
            }
            b"PASV" | b"EPSV" => self.mode = Some("passive"),
            c if TRANSFERS.contains(&c) => {
                if let Some(t) = self.pending.take() {
                    if let Ok(mut r) = t.lock() {
                        r.filename =
                            Some(if data.is_empty() { "<stou>".into() } else { text(data) });
                        r.command = Some(text(c));
                    }
                }
            }
            _ => {}
        }
        let mut insp = Inspection::new(0);
        insp.push(Buffer::FtpCommand, &cmd);
        insp.push(Buffer::FtpCommandData, data);
        if let Some(m) = self.mode {
            insp.push(Buffer::FtpMode, m.as_bytes());
        }
        if let Some(p) = tx.rec.dynamic_port {
            insp.push(Buffer::FtpDynamicPort, p.to_string().as_bytes());
        }
        if cmd == b"PORT" {
            if let Some(a) = address_of_port(data) {
                insp.push(Buffer::FtpPortAddress, a.to_string().as_bytes());
            }
        }
        insp.meta = meta("ftp", &tx.rec);
        cx.inspect(insp);
        if self.txs.len() >= MAX_PENDING {
            cx.count("ftp_bounds_hit", 1);
            if let Some(t) = self.txs.pop_front() {
                cx.record(true, Record::Ftp(t.rec));
            }
        }
        self.txs.push_back(tx);
    }

    /// One line from the server: a reply starts with three digits, a space ends it
    /// and a dash opens a multi-line reply, closed by the same code and a space.
    fn reply_line(&mut self, line: &[u8], cut: bool, cx: &mut AppCx<'_>) {
        if cut {
            cx.event("ftp.response_command_too_long");
        }
        let code: Option<[u8; 3]> = line
            .get(..3)
            .filter(|c| c.iter().all(u8::is_ascii_digit))
            .and_then(|c| c.try_into().ok());
        let sep = line.get(3).copied();
        let open = self.txs.iter().position(|t| t.open_reply.is_some());
        let idx = match open {
            Some(i) => i,
            None => {
                let Some(_) = code else {
                    cx.count("ftp_errors_bad_reply", 1);
                    return;
                };
                match self.txs.iter().position(|t| t.rec.reply_received == "no") {
                    Some(i) => i,
                    None => {
                        // The greeting, or a reply to nothing seen.
                        let tx = self.new_tx();
                        self.txs.push_back(tx);
                        self.txs.len() - 1
                    }
                }
            }
        };
        let mode = self.mode;
        let Some(tx) = self.txs.get_mut(idx) else { return };
        tx.rec.reply_truncated |= cut;
        let (ends, body) = match (code, sep, tx.open_reply) {
            (Some(c), Some(b' ') | None, Some(o)) if c == o => (true, &line[3.min(line.len())..]),
            (_, _, Some(_)) => (false, line),
            (Some(_), Some(b'-'), None) => (false, &line[4..]),
            (Some(_), _, None) => (true, line.get(4..).unwrap_or_default()),
            (None, _, None) => (true, line),
        };
        if tx.open_reply.is_none() {
            if let Some(c) = code {
                tx.rec.completion_code.push(text(&c));
            }
            if !ends {
                tx.open_reply = code;
            }
        }
        if tx.rec.reply.len() < MAX_REPLY_LINES {
            let body =
                body.strip_prefix(b" ").filter(|_| ends && tx.open_reply.is_some()).unwrap_or(body);
            tx.rec.reply.push(text(body));
        }
        if !ends {
            return;
        }
        tx.open_reply = None;
        // A positive preliminary reply (1yz): another reply to the command follows.
        let preliminary = code.is_some_and(|c| c[0] == b'1');
        if !preliminary {
            tx.rec.reply_received = "yes";
        }
        match code.as_ref().map(|c| c.as_slice()) {
            Some(b"227") => tx.rec.dynamic_port = port_of_pasv(line),
            Some(b"229") => tx.rec.dynamic_port = port_of_epsv(line),
            _ => {}
        }
        let passive_port = tx.rec.dynamic_port.filter(|_| tx.rec.mode.is_none());
        if tx.rec.dynamic_port.is_some() && tx.rec.mode.is_none() {
            tx.rec.mode = Some("passive");
        }
        let mut insp = Inspection::new(1);
        for r in &tx.rec.reply {
            insp.push(Buffer::FtpReply, r.as_bytes());
        }
        for c in &tx.rec.completion_code {
            insp.push(Buffer::FtpCompletionCode, c.as_bytes());
        }
        if let Some(m) = mode {
            insp.push(Buffer::FtpMode, m.as_bytes());
        }
        if let Some(p) = tx.rec.dynamic_port {
            insp.push(Buffer::FtpDynamicPort, p.to_string().as_bytes());
        }
        insp.meta = meta("ftp", &tx.rec);
        cx.inspect(insp);
        if let Some(p) = passive_port {
            self.announce(p, true, cx);
        }
        if preliminary {
            return;
        }
        // Replies come in order: this one completes every transaction before it.
        for _ in 0..=idx {
            if let Some(t) = self.txs.pop_front() {
                cx.count("ftp_tx", 1);
                cx.record(true, Record::Ftp(t.rec));
            }
        }
    }
}

/// The port of `h1,h2,h3,h4,p1,p2` (a PORT argument or a 227 reply): the last six
/// numbers of the line.
pub fn port_of_pasv(s: &[u8]) -> Option<u16> {
    let nums: Vec<&[u8]> = s.split(|c| !c.is_ascii_digit()).filter(|n| !n.is_empty()).collect();
    let last = nums.get(nums.len().checked_sub(6)?..)?;
    let num = |n: &[u8]| std::str::from_utf8(n).ok()?.parse::<u16>().ok().filter(|v| *v < 256);
    Some(num(last[4])? * 256 + num(last[5])?)
}

/// The address of `h1,h2,h3,h4,p1,p2` (a PORT argument).
pub fn address_of_port(s: &[u8]) -> Option<std::net::Ipv4Addr> {
    let nums: Vec<&[u8]> = s.split(|c| !c.is_ascii_digit()).filter(|n| !n.is_empty()).collect();
    let last = nums.get(nums.len().checked_sub(6)?..)?;
    let octet = |n: &[u8]| std::str::from_utf8(n).ok()?.parse::<u8>().ok();
    Some(std::net::Ipv4Addr::new(
        octet(last[0])?,
        octet(last[1])?,
        octet(last[2])?,
        octet(last[3])?,
    ))
}

/// The port of `(|||port|)` (a 229 reply).
pub fn port_of_epsv(s: &[u8]) -> Option<u16> {
    let open = memchr::memchr(b'(', s)?;
    let inner = &s[open + 1..];
    let d = *inner.first()?;
    let fields: Vec<&[u8]> = inner.split(|c| *c == d).collect();
    std::str::from_utf8(fields.get(3)?).ok()?.parse().ok()
}

/// The port of `|1|addr|port|` (an EPRT argument).
pub fn port_of_eprt(s: &[u8]) -> Option<u16> {
    let d = *s.first()?;
    let fields: Vec<&[u8]> = s.split(|c| *c == d).collect();
    std::str::from_utf8(fields.get(3)?).ok()?.parse().ok()
}

/// A transfer on a data connection, described by the control session's command.
pub type Transfer = std::sync::Arc<std::sync::Mutex<FtpDataRecord>>;

/// The data connection of an FTP transfer: its bytes are the file the command named.
#[derive(Debug)]
pub struct FtpDataConn {
    record: Transfer,
    data: FileSink,
}

impl FtpDataConn {
    /// A data connection of the transfer `record`, its file kept within `limits`.
    pub fn new(record: Transfer, limits: FileLimits) -> FtpDataConn {
        FtpDataConn { record, data: FileSink::new(limits) }
    }
}

impl AppParser for FtpDataConn {
    fn parse(&mut self, _dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        if self.data.push(bytes) {
            cx.count("ftp_data_bounds_hit", 1);
        }
    }

    fn gap(&mut self, _dir: usize, _cx: &mut AppCx<'_>) {
        self.data.gap();
    }

    fn end(&mut self, cx: &mut AppCx<'_>) {
        cx.count("ftp_data_transfers", 1);
        let record = self.record.lock().map(|r| r.clone()).unwrap_or_default();
        let name = record.filename.clone().unwrap_or_default();
        if !self.data.is_empty() {
            let mut insp = Inspection::new(0);
            insp.push(Buffer::FileName, name.as_bytes());
            insp.push(Buffer::FileData, self.data.inspected());
            insp.meta = meta("ftp_data", &record);
            let data = std::mem::replace(&mut self.data, FileSink::new(FileLimits::default()));
            let rec = data.finish(&name, 0).carried_by("ftp_data", &record);
            insp.push_file_facts(&rec);
            cx.inspect(insp);
            cx.record(true, Record::Fileinfo(rec));
        }
        cx.record(true, Record::FtpData(record));
    }
}

#[cfg(test)]
mod tests;
