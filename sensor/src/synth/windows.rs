//! Messages of a Windows network built from code: NetBIOS-framed SMB2 and SMB1,
//! NTLMSSP, DCERPC PDUs, and scripted sessions of them. Used by the tests (the
//! captures they replay are made here) and by fuzzing seeds.

/// NTLMSSP AUTHENTICATE (type 3) naming `domain\user` from `host`, Unicode.
pub fn ntlmssp_authenticate(domain: &str, user: &str, host: &str) -> Vec<u8> {
    let fields = [Vec::new(), Vec::new(), utf16(domain), utf16(user), utf16(host), Vec::new()];
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&3u32.to_le_bytes());
    let mut off = 64u32;
    let mut payload = Vec::new();
    for f in &fields {
        m.extend_from_slice(&(f.len() as u16).to_le_bytes());
        m.extend_from_slice(&(f.len() as u16).to_le_bytes());
        m.extend_from_slice(&off.to_le_bytes());
        off += f.len() as u32;
        payload.extend_from_slice(f);
    }
    m.extend_from_slice(&0x0000_0001u32.to_le_bytes()); // NEGOTIATE_UNICODE
    m.extend_from_slice(&payload);
    m
}

/// A NetBIOS session message around `body`.
pub fn nbss(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_be_bytes().to_vec();
    v[0] = 0;
    v.extend_from_slice(body);
    v
}

/// The fields of an SMB2 header that vary.
#[derive(Clone, Copy, Debug, Default)]
pub struct Smb2Head {
    pub(crate) command: u16,
    pub(crate) message_id: u64,
    pub(crate) response: bool,
    /// The NT status of a response.
    pub status: u32,
    pub(crate) tree_id: u32,
    pub(crate) session_id: u64,
}

/// An SMB2 message (header + body), NetBIOS-framed.
pub fn smb2(h: Smb2Head, body: &[u8]) -> Vec<u8> {
    let mut m = b"\xfeSMB".to_vec();
    m.extend_from_slice(&64u16.to_le_bytes());
    m.extend_from_slice(&[0, 0]); // credit charge
    m.extend_from_slice(&h.status.to_le_bytes());
    m.extend_from_slice(&h.command.to_le_bytes());
    m.extend_from_slice(&1u16.to_le_bytes()); // credits
    m.extend_from_slice(&(h.response as u32).to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes()); // next command
    m.extend_from_slice(&h.message_id.to_le_bytes());
    m.extend_from_slice(&0u32.to_le_bytes()); // process id
    m.extend_from_slice(&h.tree_id.to_le_bytes());
    m.extend_from_slice(&h.session_id.to_le_bytes());
    m.extend_from_slice(&[0; 16]); // signature
    m.extend_from_slice(body);
    nbss(&m)
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// The body of an SMB2 request that carries one variable field at `fixed` bytes into
/// the body, its offset and length written at `off_at` and `len_at` (u16 or u32).
fn with_field(
    mut fixed: Vec<u8>,
    field: &[u8],
    off_at: usize,
    len_at: usize,
    wide: bool,
) -> Vec<u8> {
    let off = (64 + fixed.len()) as u32;
    if wide {
        fixed[off_at..off_at + 4].copy_from_slice(&off.to_le_bytes());
        fixed[len_at..len_at + 4].copy_from_slice(&(field.len() as u32).to_le_bytes());
    } else {
        fixed[off_at..off_at + 2].copy_from_slice(&(off as u16).to_le_bytes());
        fixed[len_at..len_at + 2].copy_from_slice(&(field.len() as u16).to_le_bytes());
    }
    fixed.extend_from_slice(field);
    fixed
}

pub(crate) fn smb2_negotiate_request(dialects: &[u16]) -> Vec<u8> {
    let mut b = vec![0u8; 36];
    b[0..2].copy_from_slice(&36u16.to_le_bytes());
    b[2..4].copy_from_slice(&(dialects.len() as u16).to_le_bytes());
    for d in dialects {
        b.extend_from_slice(&d.to_le_bytes());
    }
    b
}

pub(crate) fn smb2_negotiate_response(dialect: u16, guid: [u8; 16]) -> Vec<u8> {
    let mut b = vec![0u8; 64];
    b[0..2].copy_from_slice(&65u16.to_le_bytes());
    b[4..6].copy_from_slice(&dialect.to_le_bytes());
    b[8..24].copy_from_slice(&guid);
    b
}

pub(crate) fn smb2_session_setup_request(blob: &[u8]) -> Vec<u8> {
    with_field(vec![0u8; 24], blob, 12, 14, false)
}

pub(crate) fn smb2_tree_connect_request(path: &str) -> Vec<u8> {
    with_field(vec![0u8; 8], &utf16(path), 4, 6, false)
}

pub(crate) fn smb2_tree_connect_response(pipe: bool) -> Vec<u8> {
    let mut b = vec![0u8; 16];
    b[0..2].copy_from_slice(&16u16.to_le_bytes());
    b[2] = if pipe { 2 } else { 1 };
    b
}

pub(crate) fn smb2_create_request(name: &str, disposition: u32) -> Vec<u8> {
    let mut fixed = vec![0u8; 56];
    fixed[36..40].copy_from_slice(&disposition.to_le_bytes());
    with_field(fixed, &utf16(name), 44, 46, false)
}

pub(crate) fn smb2_create_response(fid: [u8; 16], size: u64) -> Vec<u8> {
    let mut b = vec![0u8; 88];
    b[48..56].copy_from_slice(&size.to_le_bytes());
    b[64..80].copy_from_slice(&fid);
    b
}

pub(crate) fn smb2_write_request(fid: [u8; 16], offset: u64, data: &[u8]) -> Vec<u8> {
    let mut fixed = vec![0u8; 48];
    fixed[8..16].copy_from_slice(&offset.to_le_bytes());
    fixed[16..32].copy_from_slice(&fid);
    // Data offset is a u16 at 2, length a u32 at 4.
    let off = (64 + fixed.len()) as u16;
    fixed[2..4].copy_from_slice(&off.to_le_bytes());
    fixed[4..8].copy_from_slice(&(data.len() as u32).to_le_bytes());
    fixed.extend_from_slice(data);
    fixed
}

pub(crate) fn smb2_close_request(fid: [u8; 16]) -> Vec<u8> {
    let mut b = vec![0u8; 24];
    b[8..24].copy_from_slice(&fid);
    b
}

/// FSCTL_PIPE_TRANSCEIVE on a pipe: `input` written, the response's output read.
pub fn smb2_ioctl_request(fid: [u8; 16], input: &[u8]) -> Vec<u8> {
    let mut fixed = vec![0u8; 56];
    fixed[4..8].copy_from_slice(&0x0011_c017u32.to_le_bytes());
    fixed[8..24].copy_from_slice(&fid);
    with_field(fixed, input, 24, 28, true)
}

pub(crate) fn smb2_ioctl_response(fid: [u8; 16], output: &[u8]) -> Vec<u8> {
    let mut fixed = vec![0u8; 48];
    fixed[8..24].copy_from_slice(&fid);
    with_field(fixed, output, 32, 36, true)
}

/// A DCERPC PDU: the common header (little-endian) around `body`.
fn dce_pdu(ptype: u8, flags: u8, call_id: u32, body: &[u8]) -> Vec<u8> {
    let mut p = vec![5, 0, ptype, flags, 0x10, 0, 0, 0];
    p.extend_from_slice(&((16 + body.len()) as u16).to_le_bytes());
    p.extend_from_slice(&0u16.to_le_bytes());
    p.extend_from_slice(&call_id.to_le_bytes());
    p.extend_from_slice(body);
    p
}

/// A UUID's wire form from its text (first three fields little-endian).
pub fn uuid_wire(text: &str) -> [u8; 16] {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("00"), 16).unwrap_or(0);
    }
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    b
}

/// BIND of one interface as presentation context 0.
pub fn dcerpc_bind(call_id: u32, iface: &str, major: u16) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&5840u16.to_le_bytes());
    b.extend_from_slice(&5840u16.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&[1, 0, 0, 0]); // one context
    b.extend_from_slice(&0u16.to_le_bytes()); // context id
    b.extend_from_slice(&[1, 0]); // one transfer syntax
    b.extend_from_slice(&uuid_wire(iface));
    b.extend_from_slice(&major.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&uuid_wire("8a885d04-1ceb-11c9-9fe8-08002b104860"));
    b.extend_from_slice(&2u32.to_le_bytes());
    dce_pdu(11, 0x03, call_id, &b)
}

/// BIND_ACK accepting one context.
pub fn dcerpc_bind_ack(call_id: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&5840u16.to_le_bytes());
    b.extend_from_slice(&5840u16.to_le_bytes());
    b.extend_from_slice(&0x1234u32.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes()); // secondary address "135\0"
    b.extend_from_slice(b"135\0");
    b.extend_from_slice(&[0, 0]); // pad to 4
    b.extend_from_slice(&[1, 0, 0, 0]);
    b.extend_from_slice(&0u16.to_le_bytes()); // acceptance
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&uuid_wire("8a885d04-1ceb-11c9-9fe8-08002b104860"));
    b.extend_from_slice(&2u32.to_le_bytes());
    dce_pdu(12, 0x03, call_id, &b)
}

/// REQUEST fragments of `stub` for `opnum`, at most `frag` stub bytes each.
pub fn dcerpc_request(call_id: u32, opnum: u16, stub: &[u8], frag: usize) -> Vec<u8> {
    let chunks: Vec<&[u8]> =
        if stub.is_empty() { vec![stub] } else { stub.chunks(frag.max(1)).collect() };
    let mut out = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        let flags = (if i == 0 { 1 } else { 0 }) | (if i + 1 == chunks.len() { 2 } else { 0 });
        let mut b = (stub.len() as u32).to_le_bytes().to_vec();
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&opnum.to_le_bytes());
        b.extend_from_slice(c);
        out.extend(dce_pdu(0, flags, call_id, &b));
    }
    out
}

/// A DCE/RPC response PDU of `call_id` carrying `stub`.
pub fn dcerpc_response(call_id: u32, stub: &[u8]) -> Vec<u8> {
    let mut b = (stub.len() as u32).to_le_bytes().to_vec();
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(stub);
    dce_pdu(2, 0x03, call_id, &b)
}

/// One side's message in a scripted session: (to server, bytes).
pub type Script = Vec<(bool, Vec<u8>)>;

/// An SMB2 session as a workstation of the province runs it against a file server:
/// negotiate, NTLMSSP login of `domain\user`, the `srvsvc` pipe on IPC$ with a
/// NetShareEnumAll call, then an executable written to `C$\Windows\Temp`.
pub fn smb2_session(server: &str, domain: &str, user: &str, exe: &[u8]) -> Script {
    let mut s = Script::new();
    let (sess, ipc, disk) = (0x4400_0000_0001u64, 1u32, 5u32);
    let h = |command, message_id, response, tree_id| Smb2Head {
        command,
        message_id,
        response,
        status: 0,
        tree_id,
        session_id: if command == 0 { 0 } else { sess },
    };
    let pipe = [0x11; 16];
    let file = [0x22; 16];
    let srvsvc = "4b324fc8-1670-01d3-1278-5a47bf6ee188";
    let mut ex =
        |to_server: bool, head: Smb2Head, body: Vec<u8>| s.push((to_server, smb2(head, &body)));
    ex(true, h(0, 0, false, 0), smb2_negotiate_request(&[0x0202, 0x0210, 0x0300, 0x0311]));
    ex(false, h(0, 0, true, 0), smb2_negotiate_response(0x0311, [0x5a; 16]));
    ex(
        true,
        h(1, 1, false, 0),
        smb2_session_setup_request(&ntlmssp_authenticate(domain, user, "PC-KETOAN-01")),
    );
    ex(false, h(1, 1, true, 0), vec![9, 0, 0, 0, 0, 0, 0, 0]);
    ex(true, h(3, 2, false, 0), smb2_tree_connect_request(&format!("\\\\{server}\\IPC$")));
    ex(false, h(3, 2, true, ipc), smb2_tree_connect_response(true));
    ex(true, h(5, 3, false, ipc), smb2_create_request("srvsvc", 1));
    ex(false, h(5, 3, true, ipc), smb2_create_response(pipe, 0));
    ex(true, h(11, 4, false, ipc), smb2_ioctl_request(pipe, &dcerpc_bind(1, srvsvc, 3)));
    ex(false, h(11, 4, true, ipc), smb2_ioctl_response(pipe, &dcerpc_bind_ack(1)));
    let stub = b"\x00\x00\x02\x00\\\\FILESRV\x00\x00\x01\x00\x00\x00";
    ex(true, h(11, 5, false, ipc), smb2_ioctl_request(pipe, &dcerpc_request(2, 15, stub, 8)));
    ex(false, h(11, 5, true, ipc), smb2_ioctl_response(pipe, &dcerpc_response(2, &[0; 12])));
    ex(true, h(3, 6, false, 0), smb2_tree_connect_request(&format!("\\\\{server}\\C$")));
    ex(false, h(3, 6, true, disk), smb2_tree_connect_response(false));
    ex(true, h(5, 7, false, disk), smb2_create_request("Windows\\Temp\\svchost32.exe", 2));
    ex(false, h(5, 7, true, disk), smb2_create_response(file, 0));
    ex(true, h(9, 8, false, disk), smb2_write_request(file, 0, exe));
    ex(false, h(9, 8, true, disk), vec![17, 0, 0, 0, 0, 0, 0, 0]);
    ex(true, h(6, 9, false, disk), smb2_close_request(file));
    ex(false, h(6, 9, true, disk), vec![60, 0, 0, 0]);
    s
}

/// An FTP session: greeting, login, a passive download of `file`.
pub fn ftp_session(user: &str, file: &str, data_port: u16) -> Script {
    let (p1, p2) = (data_port / 256, data_port % 256);
    [
        (false, "220-FileZilla Server\r\n220 Welcome\r\n".to_string()),
        (true, format!("USER {user}\r\n")),
        (false, format!("331 Password required for {user}\r\n")),
        (true, "PASS matkhau\r\n".to_string()),
        (false, "230 Logged on\r\n".to_string()),
        (true, "PASV\r\n".to_string()),
        (false, format!("227 Entering Passive Mode (192,0,2,21,{p1},{p2})\r\n")),
        (true, format!("RETR {file}\r\n")),
        (false, "150 Opening data channel\r\n226 Transfer OK\r\n".to_string()),
        (true, "QUIT\r\n".to_string()),
        (false, "221 Goodbye\r\n".to_string()),
    ]
    .into_iter()
    .map(|(d, s)| (d, s.into_bytes()))
    .collect()
}

/// A DER element.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend_from_slice(&[0x81, n as u8]);
    } else {
        v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(content);
    v
}

fn ctx(n: u8, content: &[u8]) -> Vec<u8> {
    der(0xa0 | n, content)
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

fn int(i: i64) -> Vec<u8> {
    let b = i.to_be_bytes();
    let skip = b.iter().take(7).take_while(|x| **x == 0).count();
    let mut c = b[skip..].to_vec();
    if c[0] & 0x80 != 0 && i >= 0 {
        c.insert(0, 0);
    }
    der(0x02, &c)
}

fn kstring(s: &str) -> Vec<u8> {
    der(0x1b, s.as_bytes())
}

fn principal(name: &str) -> Vec<u8> {
    let parts: Vec<Vec<u8>> = name.split('/').map(kstring).collect();
    seq(&[ctx(0, &int(1)), ctx(1, &seq(&parts))])
}

fn encrypted(etype: i64) -> Vec<u8> {
    seq(&[ctx(0, &int(etype)), ctx(2, &der(0x04, b"cipher"))])
}

/// A KDC request: AS-REQ (`tgs` false) or TGS-REQ, for `cname` (if any) and `sname`.
pub fn krb5_request(tgs: bool, cname: Option<&str>, realm: &str, sname: &str) -> Vec<u8> {
    let mut body = vec![ctx(0, &der(0x03, &[0, 0x40, 0x81, 0, 0x10]))];
    if let Some(c) = cname {
        body.push(ctx(1, &principal(c)));
    }
    body.push(ctx(2, &kstring(realm)));
    body.push(ctx(3, &principal(sname)));
    body.push(ctx(7, &int(12345)));
    body.push(ctx(8, &seq(&[int(18), int(23)])));
    let msg_type = if tgs { 12 } else { 10 };
    let req = seq(&[ctx(1, &int(5)), ctx(2, &int(msg_type)), ctx(4, &seq(&body))]);
    der(if tgs { 0x6c } else { 0x6a }, &req)
}

/// A KDC reply (AS-REP or TGS-REP): the ticket for `sname` encrypted with
/// `ticket_etype`, the reply part with `etype`.
pub fn krb5_reply(
    tgs: bool,
    cname: &str,
    realm: &str,
    sname: &str,
    etype: i64,
    ticket_etype: i64,
) -> Vec<u8> {
    let ticket = der(
        0x61,
        &seq(&[
            ctx(0, &int(5)),
            ctx(1, &kstring(realm)),
            ctx(2, &principal(sname)),
            ctx(3, &encrypted(ticket_etype)),
        ]),
    );
    let msg_type = if tgs { 13 } else { 11 };
    let rep = seq(&[
        ctx(0, &int(5)),
        ctx(1, &int(msg_type)),
        ctx(3, &kstring(realm)),
        ctx(4, &principal(cname)),
        ctx(5, &ticket),
        ctx(6, &encrypted(etype)),
    ]);
    der(if tgs { 0x6d } else { 0x6b }, &rep)
}

/// KRB-ERROR with `code` about `sname`.
pub fn krb5_error(code: i64, realm: &str, sname: &str) -> Vec<u8> {
    let err = seq(&[
        ctx(0, &int(5)),
        ctx(1, &int(30)),
        ctx(4, &der(0x18, b"20261204120000Z")),
        ctx(5, &int(0)),
        ctx(6, &int(code)),
        ctx(9, &kstring(realm)),
        ctx(10, &principal(sname)),
    ]);
    der(0x7e, &err)
}

/// An SMB2 READ request body for `len` bytes at `offset` of file `fid`.
#[cfg(test)]
pub(crate) fn smb2_read_request(fid: [u8; 16], offset: u64, len: u32) -> Vec<u8> {
    let mut b = vec![0u8; 49];
    b[0..2].copy_from_slice(&49u16.to_le_bytes());
    b[4..8].copy_from_slice(&len.to_le_bytes());
    b[8..16].copy_from_slice(&offset.to_le_bytes());
    b[16..32].copy_from_slice(&fid);
    b
}

/// An SMB2 READ response body carrying `data`.
#[cfg(test)]
pub(crate) fn smb2_read_response(data: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 16];
    b[0..2].copy_from_slice(&17u16.to_le_bytes());
    b[2] = 64 + 16; // data offset from the header's start
    b[4..8].copy_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(data);
    b
}

/// A message behind its 4-byte length (Kerberos over TCP).
pub fn krb5_tcp(msg: &[u8]) -> Vec<u8> {
    let mut v = (msg.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(msg);
    v
}
