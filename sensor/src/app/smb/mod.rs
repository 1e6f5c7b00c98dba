//! SMB 1, 2 and 3 over TCP (445 direct, 139 behind a NetBIOS session): negotiate,
//! session setup (NTLMSSP user, domain and host), tree connect (share), create
//! (file names and named pipes), read and write (files extracted, DCERPC over named
//! pipes handed to [`super::dcerpc`]), close and ioctl. SMB3 encrypted messages
//! (transform header) are noticed and counted; their content is opaque.
//!
//! Each request is a transaction, completed by its response (an interim
//! `STATUS_PENDING` response does not complete it); one EVE `smb` record per
//! transaction, as Suricata writes them.

use std::collections::HashMap;

use gatewatch_rules::signature::{AppProto, Buffer};
use serde::Serialize;

use super::dcerpc::{DceOutput, DcerpcRecord, DcerpcState};
use super::files::{FileLimits, FileSink};
use super::parser::{meta, AppCx, AppParser, Inspection, Probe, Registration, Sender, TxMeta};
use super::records::Record;

mod nbss;
pub(crate) mod ntlmssp;
pub(crate) mod wire;

use ntlmssp::Ntlmssp;
use wire::{Body, Command, Msg};

/// SMB over TCP (port 445 or 139; NetBIOS session framing).
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Smb,
    ports: &[445, 139],
    needs_port: false,
    probe,
    new: |limits| Box::new(SmbConn { file_limits: limits.files, ..SmbConn::default() }),
};

/// A NetBIOS session message holding an SMB1, SMB2 or SMB3-transform header; on a
/// hinted port also a NetBIOS session request.
fn probe(data: &[u8], _other: &[u8], port_hint: bool) -> Probe {
    if data.len() < 9 {
        return Probe::NeedMore;
    }
    if port_hint && data[0] == 0x81 {
        return Probe::Yes(Sender::Client);
    }
    if data[0] != 0 {
        return Probe::No;
    }
    match &data[4..8] {
        b"\xffSMB" => {
            Probe::Yes(if data[4 + 9] & 0x80 != 0 { Sender::Server } else { Sender::Client })
        }
        b"\xfeSMB" if data.len() >= 4 + 20 => {
            Probe::Yes(if data[4 + 16] & 1 != 0 { Sender::Server } else { Sender::Client })
        }
        b"\xfeSMB" => Probe::NeedMore,
        b"\xfdSMB" => Probe::Yes(Sender::Either),
        _ => Probe::No,
    }
}

/// The EVE `smb` record of one transaction.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SmbRecord {
    #[serde(skip)]
    pub(crate) tx_id: u64,
    /// The transaction's number on the connection (EVE `smb.id`).
    pub id: u64,
    pub(crate) dialect: String,
    pub(crate) command: String,
    /// The NT status name (`STATUS_SUCCESS`).
    pub status: String,
    pub(crate) status_code: String,
    pub(crate) session_id: u64,
    pub(crate) tree_id: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) client_dialects: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) server_guid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ntlmssp: Option<Ntlmssp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) share: Option<String>,
    /// The share of a tree connect to IPC$ (Suricata names it so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub named_pipe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) share_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) filename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) disposition: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dcerpc: Option<DcerpcRecord>,
}

/// Bound on open transactions, trees and files of one connection.
const MAX_OPEN: usize = 1024;

#[derive(Debug)]
struct Tree {
    pipe: bool,
}

/// An open file or named pipe.
#[derive(Debug)]
struct File {
    name: String,
    pipe: bool,
    data: FileSink,
    tx_id: u64,
    dce: Option<Box<DcerpcState>>,
}

#[derive(Debug, Default)]
struct Tx {
    rec: SmbRecord,
    /// The file a read, write or transaction is about.
    fid: Option<Vec<u8>>,
    /// The file offset a read asked for: its response's bytes go there.
    read_offset: Option<u64>,
}

/// The SMB parser of one connection.
#[derive(Debug, Default)]
pub struct SmbConn {
    framer: [nbss::Framer; 2],
    txs: HashMap<(u8, u64), Tx>,
    trees: HashMap<u32, Tree>,
    files: HashMap<Vec<u8>, File>,
    dialect: String,
    client_dialects: Vec<String>,
    next_tx: u64,
    bounds_hit: u64,
    file_limits: FileLimits,
}

impl AppParser for SmbConn {
    /// Records being framed, open transactions and trees (a few hundred bytes each),
    /// and the files' kept data.
    fn mem_usage(&self) -> usize {
        let framed: usize = self.framer.iter().map(|f| f.held.capacity()).sum();
        let files: usize = self
            .files
            .values()
            .map(|f| 256 + f.data.held() + f.dce.as_ref().map_or(0, |d| d.heap_bytes()))
            .sum();
        framed + files + 512 * self.txs.len() + 128 * self.trees.len()
    }

    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        let mut framer = std::mem::take(&mut self.framer[dir]);
        framer.feed(bytes, |rec| self.on_record(rec, cx));
        cx.count("smb_errors_framing", std::mem::take(&mut framer.errors));
        cx.count("smb_bounds_hit", std::mem::take(&mut framer.truncated));
        self.framer[dir] = framer;
        cx.count("smb_bounds_hit", std::mem::take(&mut self.bounds_hit));
    }

    fn gap(&mut self, dir: usize, cx: &mut AppCx<'_>) {
        self.framer[dir].resync();
        for f in self.files.values_mut() {
            f.data.gap();
            if let Some(d) = f.dce.as_mut() {
                d.gap(dir);
            }
        }
        cx.count("smb_gaps", 1);
    }

    fn end(&mut self, cx: &mut AppCx<'_>) {
        let mut txs: Vec<Tx> = self.txs.drain().map(|(_, t)| t).collect();
        txs.sort_by_key(|t| t.rec.tx_id);
        for tx in txs {
            cx.record(true, Record::Smb(tx.rec));
        }
        let files: Vec<File> = self.files.drain().map(|(_, f)| f).collect();
        for f in files {
            self.close_file(f, None, cx);
        }
    }
}

impl SmbConn {
    fn on_record(&mut self, rec: &[u8], cx: &mut AppCx<'_>) {
        match rec.get(..4) {
            Some(b"\xfeSMB") => {
                for m in wire::smb2(rec) {
                    self.on_msg(m, cx);
                }
            }
            Some(b"\xffSMB") => match wire::smb1(rec) {
                Some(m) => self.on_msg(m, cx),
                None => cx.count("smb_errors_bad_header", 1),
            },
            Some(b"\xfdSMB") => cx.count("smb_encrypted", 1),
            _ => cx.count("smb_errors_bad_header", 1),
        }
    }

    fn version(c: Command) -> u8 {
        match c {
            Command::V1(_) => 1,
            Command::V2(_) => 2,
        }
    }

    fn on_msg(&mut self, m: Msg<'_>, cx: &mut AppCx<'_>) {
        let key = (Self::version(m.command), m.key);
        if !m.response {
            self.request(key, m, cx);
        } else if m.status == 0x103 && matches!(m.command, Command::V2(_)) {
            // An interim response: the final one follows.
        } else {
            self.response(key, m, cx);
        }
    }

    fn new_tx(&mut self, m: &Msg<'_>) -> Tx {
        let tx_id = self.next_tx;
        self.next_tx += 1;
        Tx {
            rec: SmbRecord {
                tx_id,
                id: tx_id + 1,
                command: wire::command_name(m.command),
                session_id: m.session_id,
                tree_id: m.tree_id,
                ..Default::default()
            },
            fid: None,
            read_offset: None,
        }
    }

    fn request(&mut self, key: (u8, u64), m: Msg<'_>, cx: &mut AppCx<'_>) {
        let mut tx = self.new_tx(&m);
        let mut insp = Inspection::new(0);
        match m.body {
            Body::Negotiate { dialects } => {
                tx.rec.client_dialects = dialects.clone();
                self.client_dialects = dialects;
            }
            Body::SessionSetup { blob } => {
                if let Some(n) = ntlmssp::authenticate(blob) {
                    insp.push(Buffer::SmbNtlmsspUser, n.user.as_bytes());
                    insp.push(Buffer::SmbNtlmsspDomain, n.domain.as_bytes());
                    tx.rec.ntlmssp = Some(n);
                }
            }
            // As Suricata: `smb.named_pipe` is the share of a tree connect to the pipe
            // share (IPC$), `smb.share` that of any other share.
            Body::TreeConnect { path } => {
                let pipe = path.to_ascii_uppercase().ends_with("IPC$");
                let b = if pipe { Buffer::SmbNamedPipe } else { Buffer::SmbShare };
                insp.push(b, path.as_bytes());
                tx.rec.share = Some(path);
            }
            // `file.name` is inspected with the file's content, when it is closed.
            Body::Create { name, disposition } => {
                tx.rec.filename = Some(if name.is_empty() { "<share_root>".into() } else { name });
                tx.rec.disposition = Some(wire::disposition_name(disposition));
            }
            Body::Write { fid, offset, data } => {
                tx.rec.filename = self.name_of(&fid);
                self.file_data(&fid, 0, offset, data, &mut tx, cx);
                tx.fid = Some(fid);
            }
            Body::Transact { fid, data } => {
                tx.rec.filename = self.name_of(&fid);
                self.file_data(&fid, 0, u64::MAX, data, &mut tx, cx);
                tx.fid = Some(fid);
            }
            Body::Read { fid, offset } => {
                tx.rec.filename = self.name_of(&fid);
                tx.fid = Some(fid);
                tx.read_offset = Some(offset);
            }
            Body::Close { fid } => {
                tx.rec.filename = self.name_of(&fid);
                tx.fid = Some(fid);
            }
            _ => {}
        }
        // Only requests that fill a buffer are inspected (the version alone is not
        // worth a detection pass).
        if !insp.buffers.is_empty() {
            insp.push(Buffer::SmbVersion, &[b'0' + key.0]);
            insp.meta = meta("smb", &tx.rec);
            cx.inspect(insp);
        }
        if self.txs.len() >= MAX_OPEN {
            self.bounds_hit += 1;
            let oldest = self.txs.iter().min_by_key(|(_, t)| t.rec.tx_id).map(|(k, _)| *k);
            if let Some(t) = oldest.and_then(|k| self.txs.remove(&k)) {
                cx.record(true, Record::Smb(t.rec));
            }
        }
        // A reused key: the earlier transaction is logged as it is.
        if let Some(old) = self.txs.insert(key, tx) {
            cx.record(true, Record::Smb(old.rec));
        }
    }

    fn response(&mut self, key: (u8, u64), m: Msg<'_>, cx: &mut AppCx<'_>) {
        let mut tx = match self.txs.remove(&key) {
            Some(t) => t,
            None => self.new_tx(&m),
        };
        tx.rec.status = wire::status_name(m.status);
        tx.rec.status_code = format!("0x{:x}", m.status);
        if m.session_id != 0 {
            tx.rec.session_id = m.session_id;
        }
        if m.tree_id != 0 {
            tx.rec.tree_id = m.tree_id;
        }
        let ok = m.status == 0 || m.status == 0x8000_0005;
        match m.body {
            Body::NegotiateResp { dialect, dialect_index, guid } => {
                self.dialect = match (dialect, dialect_index) {
                    (Some(d), _) => wire::dialect_name(d),
                    (None, Some(i)) => {
                        self.client_dialects.get(i as usize).cloned().unwrap_or_default()
                    }
                    (None, None) => String::new(),
                };
                tx.rec.server_guid = guid.map(|g| super::dcerpc::pdu::uuid_text(&g));
                if tx.rec.client_dialects.is_empty() {
                    tx.rec.client_dialects = self.client_dialects.clone();
                }
            }
            Body::TreeConnectResp { pipe } if ok => {
                let share = tx.rec.share.clone().unwrap_or_default();
                let pipe = pipe || share.to_ascii_uppercase().ends_with("IPC$");
                tx.rec.share_type = Some(if pipe { "PIPE" } else { "FILE" });
                if pipe {
                    tx.rec.named_pipe = tx.rec.share.take();
                }
                if self.trees.len() < MAX_OPEN {
                    self.trees.insert(m.tree_id, Tree { pipe });
                } else {
                    self.bounds_hit += 1;
                }
            }
            Body::CreateResp { fid, size } if ok => {
                let pipe = self.trees.get(&m.tree_id).is_some_and(|t| t.pipe);
                tx.rec.size = Some(size);
                tx.rec.fuid = Some(super::tls::hex(&fid));
                let name = tx.rec.filename.clone().unwrap_or_default();
                if self.files.len() < MAX_OPEN {
                    let dce = pipe.then(Box::<DcerpcState>::default);
                    let data = FileSink::new(self.file_limits);
                    let file = File { name, pipe, data, tx_id: tx.rec.tx_id, dce };
                    self.files.insert(fid, file);
                } else {
                    self.bounds_hit += 1;
                }
            }
            Body::ReadResp { data } | Body::TransactResp { data } if ok => {
                if let Some(fid) = tx.fid.clone() {
                    // Bytes read go where the request asked: a file read twice, or out
                    // of order, is not its bytes one after the other.
                    let at = tx.read_offset.unwrap_or(u64::MAX);
                    self.file_data(&fid, 1, at, data, &mut tx, cx);
                }
            }
            _ => {}
        }
        if matches!(m.command, Command::V1(wire::SMB1_CLOSE) | Command::V2(wire::SMB2_CLOSE)) {
            if let Some(f) = tx.fid.as_ref().and_then(|fid| self.files.remove(fid)) {
                tx.rec.filename = Some(f.name.clone());
                self.close_file(f, meta("smb", &tx.rec), cx);
            }
        }
        tx.rec.dialect = self.dialect.clone();
        cx.count("smb_tx", 1);
        cx.record(true, Record::Smb(tx.rec));
    }

    /// A request about an open file names it, as Suricata's records do.
    fn name_of(&self, fid: &[u8]) -> Option<String> {
        self.files.get(fid).map(|f| f.name.clone())
    }

    /// Bytes written to (`dir` 0) or read from a file or pipe. `offset` is the file
    /// offset of a write; `u64::MAX` for data that simply follows (pipes, reads).
    fn file_data(
        &mut self,
        fid: &[u8],
        dir: usize,
        offset: u64,
        data: &[u8],
        tx: &mut Tx,
        cx: &mut AppCx<'_>,
    ) {
        let Some(f) = self.files.get_mut(fid) else { return };
        if let Some(dce) = f.dce.as_mut() {
            let mut out = DceOutput::default();
            dce.feed(dir, data, &mut out);
            cx.count("dcerpc_errors", std::mem::take(&mut dce.errors));
            cx.count("smb_bounds_hit", std::mem::take(&mut dce.bounds_hit));
            for insp in out.inspections {
                cx.inspect(insp);
            }
            if let Some(last) = out.records.pop() {
                cx.count("dcerpc_tx", 1 + out.records.len() as u64);
                tx.rec.dcerpc = Some(last);
            }
            return;
        }
        if f.pipe {
            return;
        }
        let at = if offset == u64::MAX { f.data.size() } else { offset };
        if f.data.push_at(at, data) {
            cx.count("smb_bounds_hit", 1);
        }
    }

    /// A file is closed: its `fileinfo` record and an inspection of its content.
    fn close_file(&mut self, f: File, tx: Option<TxMeta>, cx: &mut AppCx<'_>) {
        if let Some(mut dce) = f.dce {
            let mut out = DceOutput::default();
            dce.finish(&mut out);
            return;
        }
        if f.data.is_empty() {
            return;
        }
        cx.count("smb_files", 1);
        let mut insp = Inspection::new(0);
        insp.push(Buffer::FileName, f.name.as_bytes());
        insp.push(Buffer::FileData, f.data.inspected());
        let mut rec = f.data.finish(&f.name, f.tx_id);
        if let Some((name, object)) = tx.as_ref().and_then(|t| t.json()) {
            rec = rec.carried_by(name, &object);
        }
        insp.push_file_facts(&rec);
        insp.meta = tx;
        cx.inspect(insp);
        cx.record(true, Record::Fileinfo(rec));
    }
}

#[cfg(test)]
mod tests;
