//! NTP (RFC 5905) over UDP port 123: each message is a transaction with Suricata's
//! `ntp.version`, `ntp.mode`, `ntp.stratum` and `ntp.reference_id`, and an EVE `ntp`
//! record.

use gatewatch_rules::signature::Buffer;
use serde::Serialize;

use super::parser::{meta, AppCx, AppParser, Inspection};
use super::records::Record;

/// The fixed header's length; extension fields and a MAC may follow.
const HEADER: usize = 48;

/// The EVE `ntp` record of one message.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NtpRecord {
    /// The protocol version.
    pub version: u8,
    /// The mode (3 client, 4 server, …).
    pub mode: u8,
    pub(crate) stratum: u8,
    pub(crate) poll: u8,
    pub(crate) precision: i8,
    pub(crate) root_delay: u32,
    pub(crate) root_dispersion: u32,
    /// The four bytes as hex pairs (`4c:4f:43:4c` for `LOCL`).
    pub reference_id: String,
}

/// Is this datagram an NTP message? A full header, a version of 1 to 7 and a mode.
pub fn probe(d: &[u8]) -> bool {
    d.len() >= HEADER && (1..=7).contains(&((d[0] >> 3) & 7))
}

fn parse(d: &[u8]) -> Option<(NtpRecord, [u8; 4])> {
    if !probe(d) {
        return None;
    }
    let be32 = |i: usize| u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]);
    let refid = [d[12], d[13], d[14], d[15]];
    let rec = NtpRecord {
        version: (d[0] >> 3) & 7,
        mode: d[0] & 7,
        stratum: d[1],
        poll: d[2],
        precision: d[3] as i8,
        root_delay: be32(4),
        root_dispersion: be32(8),
        reference_id: refid.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
    };
    Some((rec, refid))
}

/// The NTP parser (over UDP; stateless per datagram).
#[derive(Debug, Default)]
pub struct NtpConn;

impl AppParser for NtpConn {
    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        self.datagram(dir, bytes, cx);
    }

    fn datagram(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        let Some((rec, refid)) = parse(bytes) else {
            cx.count("ntp_errors", 1);
            return;
        };
        cx.count("ntp_messages", 1);
        let mut insp = Inspection::new(dir);
        insp.push(Buffer::NtpVersion, rec.version.to_string().as_bytes());
        insp.push(Buffer::NtpMode, rec.mode.to_string().as_bytes());
        insp.push(Buffer::NtpStratum, rec.stratum.to_string().as_bytes());
        insp.push(Buffer::NtpReferenceId, &refid);
        insp.meta = meta("ntp", &rec);
        cx.inspect(insp);
        cx.record(dir == 0, Record::Ntp(rec));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_reply_with_a_local_reference() {
        let mut d = [0u8; 48];
        d[0] = 0x1c; // version 3, mode 4 (server)
        d[1] = 2;
        d[3] = 0xe9;
        d[12..16].copy_from_slice(b"LOCL");
        let (rec, refid) = parse(&d).unwrap();
        assert_eq!((rec.version, rec.mode, rec.stratum, rec.precision), (3, 4, 2, -23));
        assert_eq!((rec.reference_id.as_str(), &refid), ("4c:4f:43:4c", b"LOCL"));
        assert!(parse(&d[..47]).is_none());
        d[0] = 0x04; // version 0
        assert!(parse(&d).is_none());
    }
}
