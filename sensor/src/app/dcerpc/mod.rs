//! DCE/RPC connection-oriented PDUs (C706, chapter 12; MS-RPCE): bind and alter
//! context (the interfaces a client asks for, with the server's answer), requests
//! and responses (operation number and stub data, fragments reassembled by call id).
//!
//! [`DcerpcState`] follows one byte stream per direction; it serves DCERPC over TCP
//! (port 135 and the dynamic ports the endpoint mapper hands out, found by content)
//! and over SMB named pipes, where SMB hands it the bytes written to and read from a
//! pipe.

use std::collections::BTreeMap;

use gatewatch_rules::signature::{AppProto, Buffer};
use serde::Serialize;

use super::parser::{meta, AppCx, AppParser, Inspection, Probe, Registration, Sender};
use super::records::Record;

pub mod pdu;

use pdu::{Pdu, PduKind};

/// DCE/RPC over TCP.
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Dcerpc,
    ports: &[135, 593],
    needs_port: false,
    probe,
    new: |_| Box::<DcerpcConn>::default(),
};

/// A connection-oriented PDU header of version 5.0 or 5.1, with a plausible type and
/// length.
fn probe(data: &[u8], _other: &[u8], _port_hint: bool) -> Probe {
    if data.len() < pdu::HEADER_LEN {
        return if data.first().is_none_or(|v| *v == 5) { Probe::NeedMore } else { Probe::No };
    }
    match pdu::header(data) {
        Some(h) => match h.ptype {
            pdu::BIND | pdu::ALTER_CONTEXT | pdu::REQUEST => Probe::Yes(Sender::Client),
            pdu::BIND_ACK | pdu::ALTER_CONTEXT_RESP | pdu::RESPONSE | pdu::BIND_NAK => {
                Probe::Yes(Sender::Server)
            }
            _ => Probe::No,
        },
        None => Probe::No,
    }
}

/// The EVE `dcerpc` record of one call (or of a bind).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct DcerpcRecord {
    #[serde(skip)]
    pub(crate) tx_id: u64,
    pub(crate) request: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) req: Option<CallSide>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) interfaces: Vec<Interface>,
    pub(crate) response: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) res: Option<CallSide>,
    pub(crate) call_id: u32,
    pub(crate) rpc_version: String,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub(crate) struct CallSide {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) opnum: Option<u16>,
    pub(crate) frag_cnt: u32,
    pub(crate) stub_data_size: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub(crate) struct Interface {
    pub(crate) uuid: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ack_result: Option<u16>,
    /// The presentation context the client numbered it with.
    #[serde(skip)]
    pub context: u16,
}

/// Stub data kept per call direction for inspection.
const MAX_STUB: usize = 256 * 1024;
/// Calls waiting for their response.
const MAX_CALLS: usize = 256;
/// Interfaces remembered per connection.
const MAX_INTERFACES: usize = 64;

/// One call in progress.
#[derive(Debug, Default)]
struct Call {
    rec: DcerpcRecord,
    stub: [Vec<u8>; 2],
    done: [bool; 2],
    context: u16,
}

/// What the state reports: inspections and finished calls.
#[derive(Debug, Default)]
pub struct DceOutput {
    pub(crate) inspections: Vec<Inspection>,
    pub(crate) records: Vec<DcerpcRecord>,
}

/// The DCERPC state of one connection or one SMB named pipe.
#[derive(Debug, Default)]
pub struct DcerpcState {
    framer: [pdu::Framer; 2],
    interfaces: Vec<Interface>,
    calls: BTreeMap<u32, Call>,
    /// A bind waiting for its acknowledgement.
    bind: Option<DcerpcRecord>,
    next_tx: u64,
    pub(crate) errors: u64,
    pub(crate) bounds_hit: u64,
}

impl DcerpcState {
    /// Heap bytes held: PDUs being framed, calls in progress with their stubs, the
    /// bound interfaces.
    pub fn heap_bytes(&self) -> usize {
        let calls: usize =
            self.calls.values().map(|c| 256 + crate::app::parser::held_bytes(&c.stub)).sum();
        self.framer.iter().map(pdu::Framer::held).sum::<usize>()
            + calls
            + 64 * self.interfaces.len()
    }

    /// Bytes of direction `dir`; `out` receives what completed.
    pub fn feed(&mut self, dir: usize, bytes: &[u8], out: &mut DceOutput) {
        let mut pdus = Vec::new();
        self.framer[dir].feed(bytes, &mut pdus);
        self.errors += std::mem::take(&mut self.framer[dir].errors);
        for raw in pdus {
            // The PDU's frames, inspected as they complete.
            let mut frames = Inspection::new(dir);
            frames.push(Buffer::DcerpcPduFrame, &raw);
            let hdr = raw.len().min(pdu::HEADER_LEN);
            frames.push(Buffer::DcerpcHdrFrame, &raw[..hdr]);
            frames.push(Buffer::DcerpcDataFrame, &raw[hdr..]);
            out.inspections.push(frames);
            match pdu::parse(&raw) {
                Ok(p) => self.on_pdu(dir, p, out),
                Err(_) => self.errors += 1,
            }
        }
    }

    /// Bytes of `dir` were lost: the PDU in progress is dropped.
    pub fn gap(&mut self, dir: usize) {
        self.framer[dir].reset();
    }

    /// The state ends: calls without a response are reported as unreplied.
    pub fn finish(&mut self, out: &mut DceOutput) {
        if let Some(b) = self.bind.take() {
            out.records.push(b);
        }
        for (_, c) in std::mem::take(&mut self.calls) {
            out.records.push(c.rec);
        }
    }

    fn on_pdu(&mut self, dir: usize, p: Pdu<'_>, out: &mut DceOutput) {
        let version = format!("{}.{}", p.header.major, p.header.minor);
        match p.kind {
            PduKind::Bind { contexts } => {
                let mut rec = self.new_record("BIND", p.header.call_id, version);
                if p.header.ptype == pdu::ALTER_CONTEXT {
                    rec.request = "ALTER_CONTEXT";
                }
                for (context, uuid, ver) in contexts {
                    rec.interfaces.push(Interface {
                        uuid: pdu::uuid_text(&uuid),
                        version: format!("{}.{}", ver & 0xffff, ver >> 16),
                        ack_result: None,
                        context,
                    });
                }
                let mut insp = Inspection::new(dir);
                for i in &rec.interfaces {
                    insp.push(Buffer::DceIface, i.uuid.as_bytes());
                }
                insp.meta = meta("dcerpc", &rec);
                out.inspections.push(insp);
                if let Some(old) = self.bind.replace(rec) {
                    out.records.push(old);
                }
            }
            PduKind::BindAck { results } => {
                let Some(mut rec) = self.bind.take() else { return };
                rec.response = if p.header.ptype == pdu::BIND_NAK { "BIND_NAK" } else { "BINDACK" };
                for (i, r) in rec.interfaces.iter_mut().zip(results) {
                    i.ack_result = Some(r);
                }
                for i in rec.interfaces.iter().filter(|i| i.ack_result == Some(0)) {
                    if self.interfaces.len() >= MAX_INTERFACES {
                        self.bounds_hit += 1;
                        break;
                    }
                    self.interfaces.retain(|x| x.context != i.context);
                    self.interfaces.push(i.clone());
                }
                out.records.push(rec);
            }
            PduKind::Request { context, opnum, stub } => {
                self.request(p.header, version, context, opnum, stub, out)
            }
            PduKind::Response { stub } => self.response(p.header, stub, out),
            PduKind::Other => {}
        }
    }

    fn new_record(&mut self, request: &'static str, call_id: u32, version: String) -> DcerpcRecord {
        let tx_id = self.next_tx;
        self.next_tx += 1;
        DcerpcRecord {
            tx_id,
            request,
            response: "UNREPLIED",
            call_id,
            rpc_version: version,
            ..Default::default()
        }
    }

    fn request(
        &mut self,
        h: pdu::Header,
        version: String,
        context: u16,
        opnum: u16,
        stub: &[u8],
        out: &mut DceOutput,
    ) {
        if !self.calls.contains_key(&h.call_id) {
            if self.calls.len() >= MAX_CALLS {
                self.bounds_hit += 1;
                if let Some((_, c)) = self.calls.pop_first() {
                    out.records.push(c.rec);
                }
            }
            let mut rec = self.new_record("REQUEST", h.call_id, version);
            rec.req = Some(CallSide { opnum: Some(opnum), ..Default::default() });
            rec.interfaces =
                self.interfaces.iter().filter(|i| i.context == context).cloned().collect();
            self.calls.insert(h.call_id, Call { rec, context, ..Default::default() });
        }
        let Some(call) = self.calls.get_mut(&h.call_id) else { return };
        append_stub(&mut call.stub[0], stub, &mut self.bounds_hit);
        if let Some(req) = call.rec.req.as_mut() {
            req.frag_cnt += 1;
            req.stub_data_size += stub.len() as u64;
        }
        if h.last_frag() {
            call.done[0] = true;
            let mut insp = Inspection::new(0);
            for i in self.interfaces.iter().filter(|i| i.context == call.context) {
                insp.push(Buffer::DceIface, i.uuid.as_bytes());
            }
            insp.push(Buffer::DceOpnum, opnum.to_string().as_bytes());
            insp.push(Buffer::DceStubData, &call.stub[0]);
            insp.meta = meta("dcerpc", &call.rec);
            out.inspections.push(insp);
            call.stub[0] = Vec::new();
        }
    }

    fn response(&mut self, h: pdu::Header, stub: &[u8], out: &mut DceOutput) {
        let Some(call) = self.calls.get_mut(&h.call_id) else {
            self.errors += 1;
            return;
        };
        append_stub(&mut call.stub[1], stub, &mut self.bounds_hit);
        let res = call.rec.res.get_or_insert_with(CallSide::default);
        res.frag_cnt += 1;
        res.stub_data_size += stub.len() as u64;
        if !h.last_frag() {
            return;
        }
        let Some(mut call) = self.calls.remove(&h.call_id) else { return };
        call.rec.response = "RESPONSE";
        let mut insp = Inspection::new(1);
        for i in self.interfaces.iter().filter(|i| i.context == call.context) {
            insp.push(Buffer::DceIface, i.uuid.as_bytes());
        }
        if let Some(op) = call.rec.req.as_ref().and_then(|r| r.opnum) {
            insp.push(Buffer::DceOpnum, op.to_string().as_bytes());
        }
        insp.push(Buffer::DceStubData, &call.stub[1]);
        insp.meta = meta("dcerpc", &call.rec);
        out.inspections.push(insp);
        out.records.push(call.rec);
    }
}

fn append_stub(buf: &mut Vec<u8>, stub: &[u8], bounds_hit: &mut u64) {
    let room = MAX_STUB.saturating_sub(buf.len());
    if stub.len() > room {
        *bounds_hit += 1;
    }
    buf.extend_from_slice(&stub[..stub.len().min(room)]);
}

/// DCERPC directly over TCP.
#[derive(Debug, Default)]
pub struct DcerpcConn {
    state: DcerpcState,
}

impl DcerpcConn {
    fn report(&mut self, out: DceOutput, cx: &mut AppCx<'_>) {
        for insp in out.inspections {
            cx.inspect(insp);
        }
        for rec in out.records {
            cx.count("dcerpc_tx", 1);
            cx.record(true, Record::Dcerpc(rec));
        }
        cx.count("dcerpc_errors", std::mem::take(&mut self.state.errors));
        cx.count("dcerpc_bounds_hit", std::mem::take(&mut self.state.bounds_hit));
    }
}

impl AppParser for DcerpcConn {
    fn mem_usage(&self) -> usize {
        self.state.heap_bytes()
    }

    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        let mut out = DceOutput::default();
        self.state.feed(dir, bytes, &mut out);
        self.report(out, cx);
    }

    fn gap(&mut self, dir: usize, _cx: &mut AppCx<'_>) {
        self.state.gap(dir);
    }

    fn end(&mut self, cx: &mut AppCx<'_>) {
        let mut out = DceOutput::default();
        self.state.finish(&mut out);
        self.report(out, cx);
    }
}

#[cfg(test)]
mod tests;
