//! What each parser says it holds ([`AppParser::mem_usage`]) follows what it buffers:
//! it rises with a message cut in the middle and falls once the message is complete
//! (or abandoned), so the session's application-layer memcap sees the real state.

use super::parser::{AppCounters, AppCx, AppOutput, AppParser, Registration};
use super::session::SessionLimits;
use super::{dcerpc, ftp, smb, ssh};

/// Feeds `first` then `rest` to direction 0 of a new parser of `reg`; the usage after
/// each.
fn usage(reg: &Registration, first: &[u8], rest: &[u8]) -> (usize, usize, usize) {
    let mut p: Box<dyn AppParser> = (reg.new)(&SessionLimits::default());
    let mut counters = AppCounters::default();
    let mut out = AppOutput::default();
    let before = p.mem_usage();
    p.parse(0, first, &mut AppCx { counters: &mut counters, out: &mut out });
    let held = p.mem_usage();
    p.parse(0, rest, &mut AppCx { counters: &mut counters, out: &mut out });
    (before, held, p.mem_usage())
}

fn check(name: &str, reg: &Registration, message: &[u8], cut: usize) {
    let (before, held, after) = usage(reg, &message[..cut], &message[cut..]);
    assert!(held >= before + cut, "{name}: {cut} bytes held, {before} -> {held}");
    // What stays: a buffer's spare room (4 KiB at most) and the completed call's
    // bookkeeping.
    let small = before + 8 * 1024;
    assert!(after < held && after <= small, "{name}: message completed, {held} -> {after}");
}

#[test]
fn smb_holds_a_record_cut_in_the_middle() {
    // NetBIOS session message of 60,000 bytes: an SMB2 header then a body.
    let len = 60_000usize;
    let mut m = vec![0u8, (len >> 16) as u8, (len >> 8) as u8, len as u8];
    m.extend_from_slice(b"\xfeSMB");
    m.extend_from_slice(&[64, 0]);
    m.resize(4 + len, 0);
    check("smb", &smb::REGISTRATION, &m, 30_000);
}

#[test]
fn dcerpc_holds_a_fragment_cut_in_the_middle() {
    // A request PDU of 16,000 bytes (first and last fragment, little-endian).
    let len = 16_000u16;
    let mut m = vec![5, 0, 0, 3, 0x10, 0, 0, 0];
    m.extend_from_slice(&len.to_le_bytes());
    m.extend_from_slice(&[0, 0, 1, 0, 0, 0]);
    m.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    m.resize(len as usize, 0x41);
    check("dcerpc", &dcerpc::REGISTRATION, &m, 8_000);
}

#[test]
fn ftp_holds_a_command_line_until_its_end() {
    let mut m = b"USER ".to_vec();
    m.extend(std::iter::repeat_n(b'a', 2_000));
    m.extend_from_slice(b"\r\n");
    check("ftp", &ftp::REGISTRATION, &m, 1_500);
}

#[test]
fn ssh_holds_a_banner_until_its_end() {
    let mut m = b"SSH-2.0-".to_vec();
    m.extend(std::iter::repeat_n(b'a', 200));
    m.extend_from_slice(b"\r\n");
    check("ssh", &ssh::REGISTRATION, &m, 150);
}
