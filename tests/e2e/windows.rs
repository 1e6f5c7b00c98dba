//! The protocols of a Windows network, end to end: a generated capture with an SMB2
//! session (NTLMSSP login, the srvsvc pipe, an executable written to C$), DCERPC over
//! TCP to the endpoint mapper and an FTP login and download; rules on their sticky
//! buffers and keywords; the EVE records against a golden file.

use std::net::{Ipv4Addr, SocketAddrV4};

use gatewatch_sensor::synth::windows::{
    dcerpc_bind, dcerpc_bind_ack, dcerpc_request, dcerpc_response, ftp_session, krb5_error,
    krb5_reply, krb5_request, smb2_session, Script,
};
use gatewatch_sensor::synth::{eth_ipv4, udp_datagram, Capture, TcpSession};

use super::common::{alert_sids, eve_lines, golden, Scratch};
use super::golden::{replay, T0};

const RULES: &str = r#"
alert smb any any -> any any (msg:"executable created in a temp directory over SMB"; file.name; content:"\\Temp\\"; nocase; content:".exe"; endswith; sid:201;)
alert smb any any -> any any (msg:"NTLM login of a province account"; smb.ntlmssp_domain; content:"HUE"; smb.ntlmssp_user; content:"nguyen"; startswith; sid:202;)
alert dcerpc any any -> any any (msg:"srvsvc NetShareEnumAll over a named pipe"; dce_iface:4b324fc8-1670-01d3-1278-5a47bf6ee188; dce_opnum:15; sid:203;)
alert smb any any -> any any (msg:"IPC$ of the file server"; smb.named_pipe; content:"FILESRV\\IPC$"; sid:204;)
alert dcerpc any any -> any 135 (msg:"endpoint mapper lookup"; dce_iface:e1af8308-5d1f-11c9-91a4-08002b14a0fa; dce_opnum:2-3; dce_stub_data; content:"lookup"; sid:205;)
alert ftp any any -> any any (msg:"FTP login"; ftp.command; content:"USER"; ftp.command_data; content:"ketoan"; sid:206;)
alert ftp any 21 -> any any (msg:"FTP banner"; flow:from_server,established; content:"220-"; depth:4; sid:207;)
alert smb any any -> any any (msg:"SMB2 tree connect to IPC$ (not matched: IPC$ is a pipe)"; smb.version:2; smb.share; content:"IPC$"; sid:208;)
alert smb any any -> any any (msg:"SMB2 admin share"; smb.version:2; smb.share; content:"C$"; endswith; sid:212;)
alert smb any any -> any any (msg:"PE file over SMB"; file.data; content:"MZ"; startswith; sid:209;)
alert ftp any any -> any any (msg:"passive mode"; ftp.completion_code; content:"227"; ftp.mode:passive; sid:210;)
alert dcerpc any any -> any any (msg:"opnum that is not there"; dce_opnum:99; sid:211;)
alert krb5 any any -> any any (msg:"service ticket with weak encryption (kerberoasting)"; krb5_msg_type:13; krb5.weak_encryption; krb5_sname; content:"MSSQLSvc"; sid:213;)
alert krb5 any any -> any any (msg:"pre-authentication required"; krb5_err_code:25; sid:214;)
alert ftp-data any any -> any any (msg:"spreadsheet over FTP"; file.name; content:".xlsx"; endswith; file.data; content:"PK"; startswith; sid:215;)
"#;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

/// A TCP session of `script` between `client` and `server`, `t` microseconds after T0.
pub(super) fn session(
    cap: &mut Capture,
    client: (&str, u16),
    server: (&str, u16),
    t: i64,
    script: &Script,
) {
    let mut s = TcpSession::new(
        SocketAddrV4::new(ip(client.0), client.1),
        SocketAddrV4::new(ip(server.0), server.1),
        T0 + t,
    );
    s.handshake();
    for (to_server, bytes) in script {
        if *to_server {
            s.client_send(bytes);
        } else {
            s.server_send(bytes);
        }
    }
    s.close();
    cap.add(s.into_frames());
}

fn windows_capture() -> Capture {
    let mut cap = Capture::default();
    let exe = b"MZ\x90\x00\x03\x00\x00\x00 This program cannot be run in DOS mode.";
    let smb = smb2_session("FILESRV", "HUE", "nguyen.van.a", exe);
    session(&mut cap, ("10.20.3.15", 49700), ("10.20.0.10", 445), 0, &smb);
    let epm = "e1af8308-5d1f-11c9-91a4-08002b14a0fa";
    let dce: Script = vec![
        (true, dcerpc_bind(1, epm, 3)),
        (false, dcerpc_bind_ack(1)),
        (true, dcerpc_request(2, 3, b"ept_map lookup of a service", 10)),
        (false, dcerpc_response(2, b"tower")),
    ];
    session(&mut cap, ("10.20.3.15", 49701), ("10.20.0.10", 135), 100_000, &dce);
    let ftp = ftp_session("ketoan", "baocao-quy3.xlsx", 5001);
    session(&mut cap, ("10.20.3.16", 49702), ("192.0.2.21", 21), 200_000, &ftp);
    // The passive data connection the session announced: the spreadsheet.
    let sheet: Script = vec![(false, b"PK\x03\x04 bao cao quy 3".to_vec())];
    session(&mut cap, ("10.20.3.16", 49703), ("192.0.2.21", 5001), 260_000, &sheet);
    // Kerberos over UDP: a login that needs pre-authentication, then a service ticket
    // encrypted with RC4.
    let (pc, dc) = (ip("10.20.3.15"), ip("10.20.0.5"));
    let realm = "HUE.GOV.VN";
    let krb = [
        (true, krb5_request(false, Some("nguyen.van.a"), realm, "krbtgt/HUE.GOV.VN")),
        (false, krb5_error(25, realm, "krbtgt/HUE.GOV.VN")),
        (true, krb5_request(true, None, realm, "MSSQLSvc/db01.hue.gov.vn")),
        (false, krb5_reply(true, "nguyen.van.a", realm, "MSSQLSvc/db01.hue.gov.vn", 18, 23)),
    ];
    for (i, (to_server, msg)) in krb.iter().enumerate() {
        let (src, dst, sp, dp) = if *to_server { (pc, dc, 50088, 88) } else { (dc, pc, 88, 50088) };
        let udp = udp_datagram(src, dst, sp, dp, msg);
        cap.push(T0 + 300_000 + i as i64 * 1000, eth_ipv4(src, dst, 17, &udp, i as u16));
    }
    cap
}

#[test]
fn smb_dcerpc_ftp_eve_and_rules() {
    let dir = Scratch::new("golden-windows");
    windows_capture().write_pcap(&dir.path("win.pcap")).expect("pcap");
    let eve = replay(&dir, &["win.pcap"], RULES, &[]);
    let events = eve_lines(&dir.path("eve.json"));
    let mut sids = alert_sids(&events);
    sids.sort();
    assert_eq!(sids, vec![201, 202, 203, 204, 205, 206, 207, 209, 210, 212, 213, 214, 215]);
    let count = |t: &str| events.iter().filter(|e| e["event_type"] == t).count();
    assert_eq!(count("smb"), 10);
    assert_eq!(count("dcerpc"), 2);
    assert_eq!(count("ftp"), 6);
    assert_eq!(count("fileinfo"), 2);
    assert_eq!(count("ftp_data"), 1);
    assert_eq!(count("krb5"), 4);
    let flow_proto = |port: u64| {
        events
            .iter()
            .find(|e| e["event_type"] == "flow" && e["dest_port"] == port)
            .map(|e| e["app_proto"].clone())
    };
    assert_eq!(flow_proto(445), Some("smb".into()));
    assert_eq!(flow_proto(135), Some("dcerpc".into()));
    assert_eq!(flow_proto(21), Some("ftp".into()));
    assert_eq!(flow_proto(88), Some("krb5".into()));
    assert_eq!(flow_proto(5001), Some("ftp-data".into()));
    // What an analyst reads in the records.
    let smb_with =
        |k: &str| events.iter().find(|e| e["event_type"] == "smb" && !e["smb"][k].is_null());
    assert_eq!(smb_with("ntlmssp").expect("login")["smb"]["ntlmssp"]["user"], "nguyen.van.a");
    assert_eq!(smb_with("share").expect("share")["smb"]["share"], "\\\\FILESRV\\C$");
    let by_sid =
        |sid: u64| events.iter().find(|e| e["alert"]["signature_id"] == sid).expect("alert");
    assert_eq!(by_sid(201)["smb"]["filename"], "Windows\\Temp\\svchost32.exe");
    assert_eq!(by_sid(206)["ftp"]["command_data"], "ketoan");
    assert_eq!(by_sid(213)["krb5"]["ticket_encryption"], "rc4-hmac");
    let data = events.iter().find(|e| e["event_type"] == "ftp_data").expect("ftp_data");
    assert_eq!(data["ftp_data"]["filename"], "baocao-quy3.xlsx");
    assert_eq!(data["ftp_data"]["command"], "RETR");
    let file = events.iter().find(|e| e["event_type"] == "fileinfo").expect("file");
    assert_eq!(file["fileinfo"]["filename"], "Windows\\Temp\\svchost32.exe");
    assert_eq!(file["app_proto"], "smb");
    golden("windows.eve.json", &eve);
}
