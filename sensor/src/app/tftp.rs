//! TFTP (RFC 1350) over UDP port 69: a read or write request is a transaction with
//! Suricata's `tftp.file_name` and an EVE `tftp` record (`packet`, `file`, `mode`).
//! The transfer itself runs between other ports and is not followed.

use gatewatch_rules::signature::Buffer;
use serde::Serialize;

use super::parser::{meta, AppCx, AppParser, Inspection};
use super::records::Record;

/// The EVE `tftp` object.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TftpRecord {
    /// `read` or `write`.
    pub packet: &'static str,
    /// The file requested.
    pub file: String,
    /// `octet`, `netascii` or `mail`.
    pub mode: String,
}

/// A read (1) or write (2) request: opcode, file name, NUL, mode, NUL.
fn parse(d: &[u8]) -> Option<(TftpRecord, &[u8])> {
    let packet = match d.get(..2)? {
        [0, 1] => "read",
        [0, 2] => "write",
        _ => return None,
    };
    let rest = &d[2..];
    let end = memchr::memchr(0, rest)?;
    let (file, rest) = (&rest[..end], &rest[end + 1..]);
    let mode_end = memchr::memchr(0, rest)?;
    let mode = &rest[..mode_end];
    let known = ["netascii", "octet", "mail"];
    if file.is_empty() || !known.iter().any(|m| m.as_bytes().eq_ignore_ascii_case(mode)) {
        return None;
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Some((TftpRecord { packet, file: text(file), mode: text(mode) }, file))
}

/// Is this datagram a TFTP request?
pub fn probe(d: &[u8]) -> bool {
    parse(d).is_some()
}

/// The TFTP parser (over UDP; stateless per datagram).
#[derive(Debug, Default)]
pub struct TftpConn;

impl AppParser for TftpConn {
    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        self.datagram(dir, bytes, cx);
    }

    fn datagram(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        let Some((rec, file)) = parse(bytes) else {
            // Data, acknowledgements and errors of a transfer on port 69 itself.
            return;
        };
        cx.count("tftp_requests", 1);
        let mut insp = Inspection::new(dir);
        insp.push(Buffer::TftpFileName, file);
        insp.meta = meta("tftp", &rec);
        cx.inspect(insp);
        cx.record(dir == 0, Record::Tftp(rec));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_and_write_requests() {
        let (rec, file) = parse(b"\x00\x01rfc1350.txt\x00octet\x00").unwrap();
        assert_eq!(
            (rec.packet, rec.file.as_str(), rec.mode.as_str()),
            ("read", "rfc1350.txt", "octet")
        );
        assert_eq!(file, b"rfc1350.txt");
        assert_eq!(parse(b"\x00\x02a\x00NETASCII\x00").unwrap().0.packet, "write");
        assert!(parse(b"\x00\x03\x00\x01data").is_none());
        assert!(parse(b"\x00\x01a\x00binary\x00").is_none());
        assert!(parse(b"\x00\x01a").is_none());
    }
}
