//! The wire form of connection-oriented DCERPC PDUs: the 16-byte common header, the
//! bodies this sensor reads, and the framer that cuts a byte stream into PDUs.

use crate::app::ParseError;

pub(crate) const HEADER_LEN: usize = 16;
/// A fragment longer than this is not followed (Windows uses at most 5840 by default;
/// the field allows 65535).
const MAX_FRAG: usize = 65535;

pub(crate) const REQUEST: u8 = 0;
pub(crate) const RESPONSE: u8 = 2;
pub(crate) const FAULT: u8 = 3;
pub(crate) const BIND: u8 = 11;
pub(crate) const BIND_ACK: u8 = 12;
pub(crate) const BIND_NAK: u8 = 13;
pub(crate) const ALTER_CONTEXT: u8 = 14;
pub(crate) const ALTER_CONTEXT_RESP: u8 = 15;

const PFC_LAST_FRAG: u8 = 0x02;
const PFC_OBJECT_UUID: u8 = 0x80;

/// The common header of a connection-oriented DCE/RPC PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub(crate) major: u8,
    pub(crate) minor: u8,
    pub(crate) ptype: u8,
    /// `pfc_flags` (first fragment 0x01, last fragment 0x02, …).
    pub flags: u8,
    /// Integers are little-endian (the data representation's first byte, 0x10).
    pub little: bool,
    pub(crate) frag_len: u16,
    pub(crate) auth_len: u16,
    pub(crate) call_id: u32,
}

impl Header {
    pub(crate) fn last_frag(&self) -> bool {
        self.flags & PFC_LAST_FRAG != 0
    }
}

/// The common header, if `b` starts with a plausible one.
pub fn header(b: &[u8]) -> Option<Header> {
    let b = b.get(..HEADER_LEN)?;
    let little = b[4] & 0x10 != 0;
    // Integer representation 0 or 1 only; the other drep nibbles are 0 or 1 too.
    if b[0] != 5 || b[1] > 1 || b[4] & 0xee != 0 || b[2] > 20 {
        return None;
    }
    let u16_at = |i: usize| {
        let v = [b[i], b[i + 1]];
        if little {
            u16::from_le_bytes(v)
        } else {
            u16::from_be_bytes(v)
        }
    };
    let call = [b[12], b[13], b[14], b[15]];
    let h = Header {
        major: b[0],
        minor: b[1],
        ptype: b[2],
        flags: b[3],
        little,
        frag_len: u16_at(8),
        auth_len: u16_at(10),
        call_id: if little { u32::from_le_bytes(call) } else { u32::from_be_bytes(call) },
    };
    (h.frag_len as usize >= HEADER_LEN).then_some(h)
}

/// A parsed PDU, borrowing its body.
#[derive(Debug)]
pub struct Pdu<'a> {
    pub(crate) header: Header,
    /// What the PDU is.
    pub kind: PduKind<'a>,
}

/// What a PDU is, with what the parser needs of its body.
#[derive(Debug)]
pub enum PduKind<'a> {
    /// Bind or alter context: (context id, interface UUID, interface version
    /// (major | minor << 16)) per presentation context.
    Bind {
        /// The presentation contexts offered.
        contexts: Vec<(u16, [u8; 16], u32)>,
    },
    /// Bind ack, alter context response or bind nak: the result of each context.
    BindAck {
        /// The result of each context, in order (0: accepted).
        results: Vec<u16>,
    },
    /// A request.
    Request {
        /// The presentation context it uses.
        context: u16,
        /// The operation number.
        opnum: u16,
        /// The stub data (the call's arguments).
        stub: &'a [u8],
    },
    /// A response.
    Response {
        /// The stub data (the call's results).
        stub: &'a [u8],
    },
    /// Any other type.
    Other,
}

/// A reader of the PDU's integers in its data representation.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    little: bool,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], ParseError> {
        let s = self.b.get(self.pos..self.pos + n).ok_or(ParseError::Malformed("dcerpc_short"))?;
        self.pos += n;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, ParseError> {
        let b = self.bytes(2)?;
        Ok(if self.little {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    }
    fn u32(&mut self) -> Result<u32, ParseError> {
        let b = self.bytes(4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Ok(if self.little { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) })
    }
    fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.bytes(1)?[0])
    }
}

/// Parses one whole PDU (as the framer cut it).
pub fn parse(b: &[u8]) -> Result<Pdu<'_>, ParseError> {
    let header = header(b).ok_or(ParseError::Malformed("dcerpc_header"))?;
    let end = (header.frag_len as usize).min(b.len());
    // The authentication verifier (and its 8-byte trailer header) ends the PDU.
    let auth = if header.auth_len > 0 { header.auth_len as usize + 8 } else { 0 };
    let body_end = end.saturating_sub(auth).max(HEADER_LEN);
    let mut r = Reader { b: &b[..body_end], pos: HEADER_LEN, little: header.little };
    let kind = match header.ptype {
        BIND | ALTER_CONTEXT => {
            r.bytes(8)?; // max xmit/recv frag, assoc group
            let n = r.u8()?;
            r.bytes(3)?;
            let mut contexts = Vec::new();
            for _ in 0..n {
                let id = r.u16()?;
                let transfers = r.u8()?;
                r.u8()?;
                let uuid: [u8; 16] = r.bytes(16)?.try_into().unwrap_or([0; 16]);
                let ver = r.u32()?;
                r.bytes(20 * transfers as usize)?;
                contexts.push((id, uuid, ver));
            }
            PduKind::Bind { contexts }
        }
        BIND_ACK | ALTER_CONTEXT_RESP => {
            r.bytes(8)?;
            let addr_len = r.u16()? as usize;
            r.bytes(addr_len)?;
            // The secondary address is padded to 4 bytes.
            let pad = (4 - (r.pos % 4)) % 4;
            r.bytes(pad)?;
            let n = r.u8()?;
            r.bytes(3)?;
            let mut results = Vec::new();
            for _ in 0..n {
                results.push(r.u16()?);
                r.bytes(22)?;
            }
            PduKind::BindAck { results }
        }
        BIND_NAK => PduKind::BindAck { results: Vec::new() },
        REQUEST => {
            r.u32()?; // allocation hint
            let context = r.u16()?;
            let opnum = r.u16()?;
            if header.flags & PFC_OBJECT_UUID != 0 {
                r.bytes(16)?;
            }
            PduKind::Request { context, opnum, stub: &r.b[r.pos..] }
        }
        RESPONSE | FAULT => {
            r.bytes(8)?; // allocation hint, context id, cancel count, reserved
            PduKind::Response { stub: &r.b[r.pos.min(r.b.len())..] }
        }
        _ => PduKind::Other,
    };
    Ok(Pdu { header, kind })
}

/// The text form of a UUID as DCERPC writes it on the wire (first three fields
/// little-endian).
pub fn uuid_text(u: &[u8; 16]) -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        u32::from_le_bytes([u[0], u[1], u[2], u[3]]),
        u16::from_le_bytes([u[4], u[5]]),
        u16::from_le_bytes([u[6], u[7]]),
        u[8],
        u[9],
        u[10],
        u[11],
        u[12],
        u[13],
        u[14],
        u[15]
    )
}

/// Cuts one direction's bytes into whole PDUs by their fragment length. Bytes that do
/// not start a PDU are skipped up to the next plausible header (counted once per
/// loss of sync).
#[derive(Debug, Default)]
pub struct Framer {
    held: Vec<u8>,
    pub(crate) errors: u64,
    lost: bool,
}

impl Framer {
    pub(crate) fn reset(&mut self) {
        self.held.clear();
        self.lost = true;
    }

    /// Bytes held for a PDU not complete yet.
    pub fn held(&self) -> usize {
        self.held.capacity()
    }

    pub(crate) fn feed(&mut self, bytes: &[u8], out: &mut Vec<Vec<u8>>) {
        self.held.extend_from_slice(bytes);
        let mut at = 0;
        loop {
            let rest = &self.held[at..];
            if rest.len() < HEADER_LEN {
                break;
            }
            match header(rest) {
                Some(h) if (h.frag_len as usize) <= MAX_FRAG => {
                    self.lost = false;
                    let n = h.frag_len as usize;
                    if rest.len() < n {
                        break;
                    }
                    out.push(rest[..n].to_vec());
                    at += n;
                }
                _ => {
                    if !self.lost {
                        self.errors += 1;
                        self.lost = true;
                    }
                    // Resynchronise on the next version byte.
                    at += 1 + memchr::memchr(5, &rest[1..]).unwrap_or(rest.len() - 1);
                }
            }
        }
        self.held.drain(..at);
        crate::app::parser::trim_spare(&mut self.held);
    }
}
