//! Tests of FTP: greeting, login and a passive transfer; multi-line replies; the probe
//! that keeps POP3 out.

use gatewatch_rules::signature::Buffer;

use super::*;
use crate::app::parser::{drive, values, Probe, Sender};
use crate::synth::windows::ftp_session;

fn records(out: &crate::app::parser::AppOutput) -> Vec<&FtpRecord> {
    out.records
        .iter()
        .filter_map(|(_, r)| match r {
            Record::Ftp(f) => Some(f),
            _ => None,
        })
        .collect()
}

#[test]
fn a_session_pairs_commands_and_replies() {
    for seg in [4096, 2] {
        let (out, c) =
            drive(&mut FtpConn::default(), &ftp_session("ketoan", "baocao.xlsx", 5001), seg);
        let recs = records(&out);
        assert_eq!(recs.len(), 6, "greeting and five commands");
        assert_eq!(recs[0].command, None);
        assert_eq!(recs[0].completion_code, ["220"]);
        assert_eq!(recs[0].reply, ["FileZilla Server", "Welcome"]);
        assert_eq!(recs[1].command.as_deref(), Some("USER"));
        assert_eq!(recs[1].command_data.as_deref(), Some("ketoan"));
        assert_eq!(recs[1].completion_code, ["331"]);
        assert_eq!(recs[3].command.as_deref(), Some("PASV"));
        assert_eq!(recs[3].dynamic_port, Some(5001));
        assert_eq!(recs[3].mode, Some("passive"));
        assert_eq!(recs[4].command_data.as_deref(), Some("baocao.xlsx"));
        // A preliminary 150, then the 226 that completes the transfer.
        assert_eq!(recs[4].completion_code, ["150", "226"]);
        assert_eq!(recs[4].reply, ["Opening data channel", "Transfer OK"]);
        assert_eq!(values(&out, Buffer::FtpCommand)[..2], ["USER", "PASS"]);
        assert!(values(&out, Buffer::FtpCompletionCode).contains(&"227".to_string()));
        assert!(values(&out, Buffer::FtpMode).contains(&"passive".to_string()));
        assert!(c.by_name.get("ftp_tx").copied().unwrap_or(0) >= 6);
    }
}

#[test]
fn port_arguments() {
    assert_eq!(port_of_pasv(b"227 Entering Passive Mode (192,168,0,53,4,77)."), Some(1101));
    assert_eq!(port_of_pasv(b"10,0,0,1,19,137"), Some(5001));
    assert_eq!(port_of_pasv(b"10,0,0,1,300,1"), None);
    assert_eq!(port_of_epsv(b"229 Entering Extended Passive Mode (|||6446|)"), Some(6446));
    assert_eq!(port_of_eprt(b"|2|2001:db8::1|34325|"), Some(34325));
    assert_eq!(port_of_eprt(b"|2|"), None);
}

#[test]
fn probe_keeps_pop3_and_smtp_out() {
    assert_eq!(probe(b"USER bob\r\n", b"+OK POP3 ready\r\n", false), Probe::No);
    assert_eq!(probe(b"USER bob\r\n", b"", false), Probe::NeedMore);
    assert_eq!(probe(b"USER bob\r\n", b"220-FileZilla\r\n", false), Probe::Yes(Sender::Client));
    assert_eq!(probe(b"220 mail ESMTP\r\n", b"EHLO x\r\n", false), Probe::No);
    assert_eq!(probe(b"220 ready\r\n", b"", true), Probe::Yes(Sender::Server));
}

#[test]
fn long_lines_are_cut_and_flagged() {
    let mut long = b"STOR ".to_vec();
    long.extend(std::iter::repeat_n(b'a', MAX_LINE * 2));
    long.extend_from_slice(b"\r\n");
    let (out, _) = drive(&mut FtpConn::default(), &[(true, long)], 1000);
    let recs = records(&out);
    assert_eq!(recs[0].command_truncated, Some(true));
    assert_eq!(recs[0].command_data.as_ref().map(|d| d.len()), Some(MAX_LINE - 5));
    assert_eq!(out.events, ["ftp.request_command_too_long"]);
}

#[test]
fn port_commands_name_the_address_ftpbounce_compares() {
    use super::address_of_port;
    assert_eq!(address_of_port(b"192,168,1,5,231,157"), Some([192, 168, 1, 5].into()));
    assert_eq!(address_of_port(b" 10,0,0,1,0,80\r"), Some([10, 0, 0, 1].into()));
    assert_eq!(address_of_port(b"300,1,1,1,0,80"), None);
    assert_eq!(address_of_port(b"1,2,3"), None);
}
