//! Tests of SMB: a scripted SMB2 session (as the synth module builds it) in whole and
//! in tiny segments, SMB1 tree connect and create, and hostile framing.

use gatewatch_rules::signature::Buffer;

use super::*;
use crate::app::parser::{drive, values};
use crate::synth::windows::{self, nbss, smb2_session};

fn smb_records(out: &crate::app::parser::AppOutput) -> Vec<&SmbRecord> {
    out.records
        .iter()
        .filter_map(|(_, r)| match r {
            Record::Smb(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// The first `fileinfo` record.
fn fileinfo(out: &crate::app::parser::AppOutput) -> &crate::app::records::FileRecord {
    let file = out.records.iter().find_map(|(_, r)| match r {
        Record::Fileinfo(f) => Some(f),
        _ => None,
    });
    file.expect("fileinfo")
}

#[test]
fn an_smb2_session_gives_its_records_buffers_and_file() {
    for seg in [1 << 20, 7] {
        let script = smb2_session("FILESRV", "HUE", "nguyen.van.a", b"MZ\x90\x00 payload");
        let (out, c) = drive(&mut SmbConn::default(), &script, seg);
        let recs = smb_records(&out);
        assert_eq!(recs.len(), 10, "one record per request, segments of {seg}");
        assert_eq!(recs[0].command, "SMB2_COMMAND_NEGOTIATE_PROTOCOL");
        assert_eq!(recs[0].dialect, "3.11");
        assert_eq!(recs[0].client_dialects, ["2.02", "2.10", "3.00", "3.11"]);
        let n = recs[1].ntlmssp.as_ref().expect("ntlmssp");
        assert_eq!(
            (n.domain.as_str(), n.user.as_str(), n.host.as_str()),
            ("HUE", "nguyen.van.a", "PC-KETOAN-01")
        );
        assert_eq!(recs[2].named_pipe.as_deref(), Some("\\\\FILESRV\\IPC$"));
        assert_eq!(recs[2].share_type, Some("PIPE"));
        assert_eq!(recs[3].filename.as_deref(), Some("srvsvc"));
        let dce = recs[5].dcerpc.as_ref().expect("dcerpc in the ioctl");
        assert_eq!(dce.req.as_ref().and_then(|r| r.opnum), Some(15));
        assert_eq!(dce.req.as_ref().map(|r| r.frag_cnt), Some(3));
        assert_eq!(dce.interfaces[0].uuid, "4b324fc8-1670-01d3-1278-5a47bf6ee188");
        assert_eq!(recs[6].share.as_deref(), Some("\\\\FILESRV\\C$"));
        assert_eq!(recs[7].disposition, Some("FILE_CREATE"));
        assert_eq!(recs[8].filename.as_deref(), Some("Windows\\Temp\\svchost32.exe"));
        assert_eq!(values(&out, Buffer::SmbNtlmsspUser), ["nguyen.van.a"]);
        assert_eq!(values(&out, Buffer::SmbNtlmsspDomain), ["HUE"]);
        assert_eq!(values(&out, Buffer::SmbNamedPipe), ["\\\\FILESRV\\IPC$"]);
        assert_eq!(values(&out, Buffer::DceOpnum), ["15", "15"]);
        assert!(
            values(&out, Buffer::FileName).contains(&"Windows\\Temp\\svchost32.exe".to_string())
        );
        let file = fileinfo(&out);
        assert_eq!(file.data, b"MZ\x90\x00 payload");
        // Four bytes of DOS header are no program to libmagic (nor to Suricata).
        assert_eq!(file.magic, None);
        assert_eq!(c.by_name.get("smb_tx"), Some(&10));
        assert_eq!(c.by_name.get("smb_errors_framing"), None);
    }
}

#[test]
fn smb1_tree_connect_and_create() {
    // Header: command, status 0, flags (reply bit), flags2 unicode, tid, pid, uid, mid.
    let head = |cmd: u8, reply: bool, tid: u16, mid: u16| {
        let mut h = b"\xffSMB".to_vec();
        h.push(cmd);
        h.extend_from_slice(&[0; 4]);
        h.push(if reply { 0x88 } else { 0x08 });
        h.extend_from_slice(&0xc807u16.to_le_bytes());
        h.extend_from_slice(&[0; 12]);
        h.extend_from_slice(&tid.to_le_bytes());
        h.extend_from_slice(&0xfeffu16.to_le_bytes());
        h.extend_from_slice(&0x0800u16.to_le_bytes());
        h.extend_from_slice(&mid.to_le_bytes());
        h
    };
    let utf16z = |s: &str| -> Vec<u8> {
        s.encode_utf16().chain([0]).flat_map(|u| u.to_le_bytes()).collect()
    };
    let mut tc = head(0x75, false, 0, 1);
    tc.push(4);
    tc.extend_from_slice(&[0xff, 0, 0, 0, 0, 0, 1, 0]); // andx, flags, password length 1
    let mut bytes = vec![0u8]; // password
    bytes.extend(utf16z("\\\\10.10.0.2\\ADMIN$"));
    bytes.extend_from_slice(b"?????\0");
    tc.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    tc.extend(bytes);
    let mut tc_resp = head(0x75, true, 0x1801, 1);
    tc_resp.push(0);
    tc_resp.extend_from_slice(&3u16.to_le_bytes());
    tc_resp.extend_from_slice(b"A:\0");
    let mut create = head(0xa2, false, 0x1801, 2);
    create.push(24);
    let mut w = vec![0u8; 48];
    w[0] = 0xff;
    w[35..39].copy_from_slice(&5u32.to_le_bytes());
    create.extend(w);
    let name = utf16z("\\Windows\\Temp\\a.exe");
    create.extend_from_slice(&((name.len() + 1) as u16).to_le_bytes());
    create.push(0); // pad to an even offset
    create.extend(name);
    let script = vec![(true, nbss(&tc)), (false, nbss(&tc_resp)), (true, nbss(&create))];
    let (out, _) = drive(&mut SmbConn::default(), &script, 5);
    let recs = smb_records(&out);
    assert_eq!(recs[0].command, "SMB1_COMMAND_TREE_CONNECT_ANDX");
    assert_eq!(recs[0].share.as_deref(), Some("\\\\10.10.0.2\\ADMIN$"));
    assert_eq!(recs[1].command, "SMB1_COMMAND_NT_CREATE_ANDX");
    assert_eq!(recs[1].filename.as_deref(), Some("\\Windows\\Temp\\a.exe"));
    assert_eq!(recs[1].disposition, Some("FILE_OVERWRITE_IF"));
    assert_eq!(
        values(&out, Buffer::SmbShare).first().map(String::as_str),
        Some("\\\\10.10.0.2\\ADMIN$")
    );
    assert_eq!(values(&out, Buffer::SmbVersion).first().map(String::as_str), Some("1"));
}

#[test]
fn hostile_bytes_are_counted_not_fatal() {
    let mut script = vec![(true, b"\x00\x00\x00\x08\xfeSMBjunk".to_vec())];
    script.push((true, nbss(b"\xfeSMB")));
    script.push((true, vec![0xff; 300]));
    script.extend(smb2_session("S", "D", "U", b"x"));
    let (out, c) = drive(&mut SmbConn::default(), &script, 3);
    assert!(c.by_name.get("smb_errors_framing").copied().unwrap_or(0) >= 1);
    // The session after the garbage is still read.
    assert!(smb_records(&out).iter().any(|r| r.ntlmssp.is_some()));
}

#[test]
fn probe_tells_smb_and_its_direction() {
    use crate::app::parser::{Probe, Sender};
    let req = windows::smb2(windows::Smb2Head::default(), &[0; 8]);
    assert_eq!(probe(&req, b"", false), Probe::Yes(Sender::Client));
    let resp = windows::smb2(windows::Smb2Head { response: true, ..Default::default() }, &[0; 8]);
    assert_eq!(probe(&resp, b"", false), Probe::Yes(Sender::Server));
    assert_eq!(probe(b"\x00\x00", b"", false), Probe::NeedMore);
    assert_eq!(probe(b"GET / HTTP/1.1\r\n", b"", true), Probe::No);
}

#[test]
fn a_compound_offset_inside_the_header_is_not_a_message() {
    // Found by fuzzing: a next-command offset of 10 cut the message inside its header.
    let mut m = windows::smb2(windows::Smb2Head::default(), &[0; 8]);
    m[4 + 20] = 10;
    let script = vec![(true, m), (true, smb2_session("S", "D", "U", b"x")[0].1.clone())];
    let (out, _) = drive(&mut SmbConn::default(), &script, 4096);
    assert_eq!(smb_records(&out).len(), 1, "only the whole negotiate");
}

#[test]
fn a_large_file_is_hashed_whole_and_inspected_to_the_file_data_limit() {
    use sha2::Digest as _;
    let body: Vec<u8> = (0..300 * 1024u32).map(|i| (i % 253) as u8).collect();
    let script = smb2_session("FILESRV", "HUE", "nguyen.van.a", &body);
    let (out, _) = drive(&mut SmbConn::default(), &script, 1 << 20);
    let inspected = out
        .inspections
        .iter()
        .flat_map(|i| &i.buffers)
        .find(|(b, _)| *b == Buffer::FileData)
        .map(|(_, v)| v.clone())
        .expect("file.data");
    assert_eq!(inspected, body[..crate::app::files::DEFAULT_INSPECT_LIMIT]);
    let file = fileinfo(&out);
    assert_eq!(file.size, body.len() as u64);
    assert_eq!(file.sha256, crate::app::tls::hex(&sha2::Sha256::digest(&body)));
    assert_eq!((file.state, file.gaps), ("CLOSED", false));
}

#[test]
fn reads_land_at_their_offsets() {
    use windows::{smb2, smb2_read_request, smb2_read_response, Smb2Head};
    let file = [0x33; 16];
    let h = |command, message_id, response| Smb2Head {
        command,
        message_id,
        response,
        tree_id: 5,
        session_id: 1,
        ..Default::default()
    };
    let mut script = vec![
        (true, smb2(h(3, 1, false), &windows::smb2_tree_connect_request("\\\\SRV\\D$"))),
        (false, smb2(h(3, 1, true), &windows::smb2_tree_connect_response(false))),
        (true, smb2(h(5, 2, false), &windows::smb2_create_request("report.doc", 1))),
        (false, smb2(h(5, 2, true), &windows::smb2_create_response(file, 12))),
    ];
    // The first half, read again (a client re-reading the header), then the second.
    let reads: [(u64, &[u8]); 3] = [(0, b"MZ\x90\x00abcd"), (0, b"MZ\x90\x00abcd"), (8, b"efgh")];
    for (i, (offset, data)) in reads.iter().enumerate() {
        let id = 3 + i as u64;
        script.push((true, smb2(h(8, id, false), &smb2_read_request(file, *offset, 8))));
        script.push((false, smb2(h(8, id, true), &smb2_read_response(data))));
    }
    script.push((true, smb2(h(6, 9, false), &windows::smb2_close_request(file))));
    script.push((false, smb2(h(6, 9, true), &[60, 0, 0, 0])));
    let (out, _) = drive(&mut SmbConn::default(), &script, 1 << 20);
    let file = fileinfo(&out);
    assert_eq!(file.data, b"MZ\x90\x00abcdefgh");
    assert_eq!((file.size, file.state), (12, "CLOSED"));
}
