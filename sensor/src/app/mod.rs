//! The application layer. Each protocol is a module: its wire parser (pure functions
//! over bytes that borrow from their input, cap every length, and tell "need more
//! bytes" ([`ParseError::Incomplete`]) apart from "malformed"), its state on a
//! connection (an [`parser::AppParser`]) and its EVE record. [`parser`] holds the
//! interface and the registry of protocols, `records` the EVE record types,
//! [`session`] the TCP session that reassembles, probes and drives the parser.

pub mod dcerpc;
pub(crate) mod der;
pub mod dhcp;
pub mod dns;
pub(crate) mod expect;
pub(crate) mod files;
pub mod filetype;
pub mod ftp;
pub mod http;
pub mod http2;
pub mod ike;
pub mod krb5;
pub mod mqtt;
pub mod ntp;
pub mod parser;
pub mod quic;
pub mod rdp;
pub(crate) mod records;
pub mod rfb;
pub mod session;
pub mod sip;
pub mod smb;
pub mod smtp;
pub mod snmp;
pub(crate) mod ssh;
pub mod tftp;
pub mod tls;
pub mod websocket;
pub mod x509;

#[cfg(test)]
mod mem_tests;

/// Why a parser stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The input ends before the message does: wait for more bytes.
    Incomplete,
    /// The bytes cannot be this protocol; the reason is a stable name for counters.
    Malformed(&'static str),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Incomplete => f.write_str("incomplete"),
            ParseError::Malformed(why) => write!(f, "malformed: {why}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// UTF-16LE text, as Windows protocols write names (an odd trailing byte is dropped;
/// invalid units are replaced).
pub fn utf16le(b: &[u8]) -> String {
    let units: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    String::from_utf16_lossy(&units)
}

/// The byte written as two hex digits at `s[i..i + 2]` (`%41`, `=41`).
pub(crate) fn hex_byte(s: &[u8], i: usize) -> Option<u8> {
    let h = (*s.get(i)? as char).to_digit(16)?;
    let l = (*s.get(i + 1)? as char).to_digit(16)?;
    Some((h * 16 + l) as u8)
}

/// Copies `s` with every `esc` + two hex digits replaced by that byte; at an `esc` that
/// is not such an escape, `skip(s, i)` says how many bytes to drop (0: keep it).
pub(crate) fn unescape_hex(s: &[u8], esc: u8, skip: impl Fn(&[u8], usize) -> usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == esc {
            if let Some(b) = hex_byte(s, i + 1) {
                out.push(b);
                i += 3;
                continue;
            }
            let n = skip(s, i);
            if n > 0 {
                i += n;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// A big-endian reader over a slice that never panics.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cursor<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], ParseError> {
        if self.remaining() < n {
            return Err(ParseError::Incomplete);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, ParseError> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Result<u32, ParseError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}
