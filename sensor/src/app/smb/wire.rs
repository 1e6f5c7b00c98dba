//! SMB 1 ([MS-CIFS]/[MS-SMB]) and SMB 2/3 ([MS-SMB2]) messages as the session needs
//! them: one [`Msg`] per command, whatever the version. Every offset and length from
//! the wire is checked; a short or inconsistent body gives [`Body::Other`].

use crate::app::utf16le;

/// The command of a message, by version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    V1(u8),
    V2(u16),
}

/// One SMB command, request or response.
#[derive(Debug)]
pub struct Msg<'a> {
    pub command: Command,
    pub response: bool,
    pub status: u32,
    /// Pairs a response with its request: the SMB2 message id, or SMB1's pid and mid.
    pub key: u64,
    pub session_id: u64,
    pub tree_id: u32,
    pub body: Body<'a>,
}

#[derive(Debug)]
pub enum Body<'a> {
    Negotiate {
        dialects: Vec<String>,
    },
    NegotiateResp {
        dialect: Option<u16>,
        dialect_index: Option<u16>,
        guid: Option<[u8; 16]>,
    },
    SessionSetup {
        blob: &'a [u8],
    },
    TreeConnect {
        path: String,
    },
    /// SMB2 share type: 1 disk, 2 pipe, 3 printer; SMB1 gives the service name.
    TreeConnectResp {
        pipe: bool,
    },
    Create {
        name: String,
        disposition: u32,
    },
    CreateResp {
        fid: Vec<u8>,
        size: u64,
    },
    Close {
        fid: Vec<u8>,
    },
    Read {
        fid: Vec<u8>,
        /// Where in the file the read starts.
        offset: u64,
    },
    ReadResp {
        data: &'a [u8],
    },
    Write {
        fid: Vec<u8>,
        offset: u64,
        data: &'a [u8],
    },
    /// An IOCTL/FSCTL or a named-pipe transaction: bytes sent to a file or pipe.
    Transact {
        fid: Vec<u8>,
        data: &'a [u8],
    },
    TransactResp {
        data: &'a [u8],
    },
    Other,
}

fn u16le(b: &[u8], i: usize) -> Option<u16> {
    b.get(i..i + 2).map(|x| u16::from_le_bytes([x[0], x[1]]))
}
fn u32le(b: &[u8], i: usize) -> Option<u32> {
    b.get(i..i + 4).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}
fn u64le(b: &[u8], i: usize) -> Option<u64> {
    b.get(i..i + 8).map(|x| u64::from_le_bytes(x.try_into().unwrap_or([0; 8])))
}
/// `len` bytes at `off` of `b`.
fn slice(b: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    b.get(off..off.checked_add(len)?)
}

pub const SMB2_NEGOTIATE: u16 = 0;
pub const SMB2_SESSION_SETUP: u16 = 1;
pub const SMB2_TREE_CONNECT: u16 = 3;
pub const SMB2_CREATE: u16 = 5;
pub const SMB2_CLOSE: u16 = 6;
pub const SMB2_READ: u16 = 8;
pub const SMB2_WRITE: u16 = 9;
pub const SMB2_IOCTL: u16 = 11;

/// The SMB2 messages of one record (compounded by their next-command offsets).
pub fn smb2(rec: &[u8]) -> Vec<Msg<'_>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    for _ in 0..32 {
        let Some(m) = rec.get(at..) else { break };
        if m.len() < 64 || &m[..4] != b"\xfeSMB" {
            break;
        }
        let next = u32le(m, 20).unwrap_or(0) as usize;
        let this = if next > 0 { m.get(..next).unwrap_or(m) } else { m };
        if let Some(msg) = smb2_msg(this) {
            out.push(msg);
        }
        if next < 64 {
            break;
        }
        at += next;
    }
    out
}

fn smb2_msg(m: &[u8]) -> Option<Msg<'_>> {
    let command = u16le(m, 12)?;
    let flags = u32le(m, 16)?;
    let response = flags & 1 != 0;
    let status = u32le(m, 8)?;
    let key = u64le(m, 24)?;
    // Async messages carry an async id where sync ones have the tree id.
    let tree_id = if flags & 2 != 0 { 0 } else { u32le(m, 36)? };
    let session_id = u64le(m, 40)?;
    let b = m.get(64..)?;
    let body = smb2_body(m, b, command, response).unwrap_or(Body::Other);
    Some(Msg { command: Command::V2(command), response, status, key, session_id, tree_id, body })
}

/// The body of an SMB2 command; offsets in the body are from the header start (`m`).
fn smb2_body<'a>(m: &'a [u8], b: &'a [u8], command: u16, response: bool) -> Option<Body<'a>> {
    Some(match (command, response) {
        (SMB2_NEGOTIATE, false) => {
            let n = u16le(b, 2)? as usize;
            let dialects =
                (0..n.min(64)).filter_map(|i| u16le(b, 36 + 2 * i)).map(dialect_name).collect();
            Body::Negotiate { dialects }
        }
        (SMB2_NEGOTIATE, true) => Body::NegotiateResp {
            dialect: u16le(b, 4),
            dialect_index: None,
            guid: b.get(8..24).and_then(|g| g.try_into().ok()),
        },
        (SMB2_SESSION_SETUP, false) => {
            let (off, len) = (u16le(b, 12)? as usize, u16le(b, 14)? as usize);
            Body::SessionSetup { blob: slice(m, off, len)? }
        }
        (SMB2_TREE_CONNECT, false) => {
            let (off, len) = (u16le(b, 4)? as usize, u16le(b, 6)? as usize);
            Body::TreeConnect { path: utf16le(slice(m, off, len)?) }
        }
        (SMB2_TREE_CONNECT, true) => Body::TreeConnectResp { pipe: *b.get(2)? == 2 },
        (SMB2_CREATE, false) => {
            let (off, len) = (u16le(b, 44)? as usize, u16le(b, 46)? as usize);
            let name = if len == 0 { String::new() } else { utf16le(slice(m, off, len)?) };
            Body::Create { name, disposition: u32le(b, 36)? }
        }
        (SMB2_CREATE, true) => {
            Body::CreateResp { fid: b.get(64..80)?.to_vec(), size: u64le(b, 48)? }
        }
        (SMB2_CLOSE, false) => Body::Close { fid: b.get(8..24)?.to_vec() },
        (SMB2_READ, false) => Body::Read { fid: b.get(16..32)?.to_vec(), offset: u64le(b, 8)? },
        (SMB2_READ, true) => {
            let (off, len) = (*b.get(2)? as usize, u32le(b, 4)? as usize);
            Body::ReadResp { data: clipped(m, off, len) }
        }
        (SMB2_WRITE, false) => {
            let (off, len) = (u16le(b, 2)? as usize, u32le(b, 4)? as usize);
            Body::Write {
                fid: b.get(16..32)?.to_vec(),
                offset: u64le(b, 8)?,
                data: clipped(m, off, len),
            }
        }
        (SMB2_IOCTL, false) => {
            let (off, len) = (u32le(b, 24)? as usize, u32le(b, 28)? as usize);
            Body::Transact { fid: b.get(8..24)?.to_vec(), data: clipped(m, off, len) }
        }
        (SMB2_IOCTL, true) => {
            let (off, len) = (u32le(b, 32)? as usize, u32le(b, 36)? as usize);
            Body::TransactResp { data: clipped(m, off, len) }
        }
        _ => Body::Other,
    })
}

/// The bytes at `off`, at most `len`: a record cut at the sensor's bound keeps what
/// it has.
fn clipped(m: &[u8], off: usize, len: usize) -> &[u8] {
    let start = off.min(m.len());
    &m[start..start.saturating_add(len).min(m.len())]
}

pub fn dialect_name(d: u16) -> String {
    match d {
        0x0202 => "2.02".into(),
        0x0210 => "2.10".into(),
        0x0222 => "2.22".into(),
        0x0224 => "2.24".into(),
        0x0300 => "3.00".into(),
        0x0302 => "3.02".into(),
        0x0310 => "3.10".into(),
        0x0311 => "3.11".into(),
        0x02ff => "2.??".into(),
        other => format!("0x{other:x}"),
    }
}

pub const SMB1_NEGOTIATE: u8 = 0x72;
pub const SMB1_SESSION_SETUP_ANDX: u8 = 0x73;
pub const SMB1_TREE_CONNECT_ANDX: u8 = 0x75;
pub const SMB1_NT_CREATE_ANDX: u8 = 0xa2;
pub const SMB1_CLOSE: u8 = 0x04;
pub const SMB1_READ_ANDX: u8 = 0x2e;
pub const SMB1_WRITE_ANDX: u8 = 0x2f;
pub const SMB1_TRANS: u8 = 0x25;

/// The SMB1 message of a record (the first command of an AndX chain).
pub fn smb1(m: &[u8]) -> Option<Msg<'_>> {
    if m.len() < 35 || &m[..4] != b"\xffSMB" {
        return None;
    }
    let command = m[4];
    let status = u32le(m, 5)?;
    let response = m[9] & 0x80 != 0;
    let unicode = u16le(m, 10)? & 0x8000 != 0;
    let tree_id = u16le(m, 24)? as u32;
    let pid = u16le(m, 26)? as u64;
    let uid = u16le(m, 28)? as u64;
    let mid = u16le(m, 30)? as u64;
    let wc = m[32] as usize;
    let words = m.get(33..33 + 2 * wc).unwrap_or_default();
    let bc_at = 33 + 2 * wc;
    let bc = u16le(m, bc_at).unwrap_or(0) as usize;
    let bytes_at = bc_at + 2;
    let bytes = clipped(m, bytes_at, bc);
    let cx = V1 { m, words, bytes, bytes_at, unicode };
    let body = smb1_body(&cx, command, response).unwrap_or(Body::Other);
    Some(Msg {
        command: Command::V1(command),
        response,
        status,
        key: (pid << 16) | mid,
        session_id: uid,
        tree_id,
        body,
    })
}

/// An SMB1 message cut into its parameter words and data bytes.
struct V1<'a> {
    m: &'a [u8],
    words: &'a [u8],
    bytes: &'a [u8],
    /// Offset of `bytes` from the header start.
    bytes_at: usize,
    unicode: bool,
}

impl V1<'_> {
    /// A string at `at` of the message (from the header start): UTF-16LE (aligned to
    /// two bytes from the header) or OEM, NUL-terminated.
    fn string(&self, mut at: usize) -> String {
        if self.unicode {
            at += at % 2;
            let b = self.m.get(at..).unwrap_or_default();
            let end = b.chunks_exact(2).position(|c| c == [0, 0]).map_or(b.len() & !1, |i| i * 2);
            utf16le(&b[..end])
        } else {
            let b = self.m.get(at..).unwrap_or_default();
            let end = memchr::memchr(0, b).unwrap_or(b.len());
            String::from_utf8_lossy(&b[..end]).into_owned()
        }
    }
}

fn smb1_body<'a>(v: &V1<'a>, command: u8, response: bool) -> Option<Body<'a>> {
    let w = v.words;
    Some(match (command, response) {
        (SMB1_NEGOTIATE, false) => {
            let dialects = v
                .bytes
                .split(|c| *c == 0)
                .filter_map(|d| d.strip_prefix(b"\x02"))
                .map(|d| String::from_utf8_lossy(d).into_owned())
                .take(64)
                .collect();
            Body::Negotiate { dialects }
        }
        (SMB1_NEGOTIATE, true) => {
            Body::NegotiateResp { dialect: None, dialect_index: u16le(w, 0), guid: None }
        }
        // Extended security: the blob's length is word 7.
        (SMB1_SESSION_SETUP_ANDX, false) if w.len() == 24 => {
            Body::SessionSetup { blob: clipped(v.bytes, 0, u16le(w, 14)? as usize) }
        }
        (SMB1_SESSION_SETUP_ANDX, false) => Body::SessionSetup { blob: v.bytes },
        (SMB1_TREE_CONNECT_ANDX, false) => {
            let pw = u16le(w, 6)? as usize;
            Body::TreeConnect { path: v.string(v.bytes_at + pw) }
        }
        (SMB1_TREE_CONNECT_ANDX, true) => {
            let service = v.bytes.split(|c| *c == 0).next().unwrap_or_default();
            Body::TreeConnectResp { pipe: service == b"IPC" }
        }
        (SMB1_NT_CREATE_ANDX, false) => {
            Body::Create { name: v.string(v.bytes_at), disposition: u32le(w, 35)? }
        }
        (SMB1_NT_CREATE_ANDX, true) => {
            Body::CreateResp { fid: w.get(5..7)?.to_vec(), size: u64le(w, 55).unwrap_or(0) }
        }
        (SMB1_CLOSE, false) => Body::Close { fid: w.get(0..2)?.to_vec() },
        (SMB1_READ_ANDX, false) => {
            // Twelve words carry the high half of the offset.
            let high = if w.len() >= 24 { u32le(w, 20).unwrap_or(0) as u64 } else { 0 };
            let offset = (high << 32) | u32le(w, 6)? as u64;
            Body::Read { fid: w.get(4..6)?.to_vec(), offset }
        }
        (SMB1_READ_ANDX, true) => {
            let (len, off) = (u16le(w, 10)? as usize, u16le(w, 12)? as usize);
            Body::ReadResp { data: clipped(v.m, off, len) }
        }
        (SMB1_WRITE_ANDX, false) => {
            let (len, off) = (u16le(w, 20)? as usize, u16le(w, 22)? as usize);
            let high = if w.len() >= 28 { u32le(w, 24).unwrap_or(0) as u64 } else { 0 };
            let offset = (high << 32) | u32le(w, 6)? as u64;
            Body::Write { fid: w.get(4..6)?.to_vec(), offset, data: clipped(v.m, off, len) }
        }
        // A named-pipe transaction: setup word 1 names the pipe's fid.
        (SMB1_TRANS, false) => {
            let (len, off) = (u16le(w, 22)? as usize, u16le(w, 24)? as usize);
            Body::Transact { fid: w.get(30..32)?.to_vec(), data: clipped(v.m, off, len) }
        }
        (SMB1_TRANS, true) => {
            let (len, off) = (u16le(w, 12)? as usize, u16le(w, 14)? as usize);
            Body::TransactResp { data: clipped(v.m, off, len) }
        }
        _ => Body::Other,
    })
}

/// The EVE name of a command.
pub fn command_name(c: Command) -> String {
    let v1 = |c: u8| match c {
        0x00 => "CREATE_DIRECTORY",
        0x01 => "DELETE_DIRECTORY",
        0x04 => "CLOSE",
        0x06 => "DELETE",
        0x07 => "RENAME",
        0x08 => "QUERY_INFORMATION",
        0x24 => "LOCKING_ANDX",
        0x25 => "TRANS",
        0x26 => "TRANS_SECONDARY",
        0x2b => "ECHO",
        0x2d => "OPEN_ANDX",
        0x2e => "READ_ANDX",
        0x2f => "WRITE_ANDX",
        0x32 => "TRANS2",
        0x33 => "TRANS2_SECONDARY",
        0x34 => "FIND_CLOSE2",
        0x71 => "TREE_DISCONNECT",
        0x72 => "NEGOTIATE_PROTOCOL",
        0x73 => "SESSION_SETUP_ANDX",
        0x74 => "LOGOFF_ANDX",
        0x75 => "TREE_CONNECT_ANDX",
        0x80 => "QUERY_INFO_DISK",
        0xa0 => "NT_TRANS",
        0xa1 => "NT_TRANS_SECONDARY",
        0xa2 => "NT_CREATE_ANDX",
        0xa4 => "NT_CANCEL",
        _ => "",
    };
    let v2 = |c: u16| match c {
        0 => "NEGOTIATE_PROTOCOL",
        1 => "SESSION_SETUP",
        2 => "SESSION_LOGOFF",
        3 => "TREE_CONNECT",
        4 => "TREE_DISCONNECT",
        5 => "CREATE",
        6 => "CLOSE",
        7 => "FLUSH",
        8 => "READ",
        9 => "WRITE",
        10 => "LOCK",
        11 => "IOCTL",
        12 => "CANCEL",
        13 => "KEEPALIVE",
        14 => "FIND",
        15 => "CHANGE_NOTIFY",
        16 => "QUERY_INFO",
        17 => "SET_INFO",
        18 => "OPLOCK_BREAK",
        _ => "",
    };
    match c {
        Command::V1(x) if !v1(x).is_empty() => format!("SMB1_COMMAND_{}", v1(x)),
        Command::V1(x) => format!("SMB1_COMMAND_UNKNOWN_{x:02X}"),
        Command::V2(x) if !v2(x).is_empty() => format!("SMB2_COMMAND_{}", v2(x)),
        Command::V2(x) => format!("SMB2_COMMAND_UNKNOWN_{x:04X}"),
    }
}

/// The EVE name of an NT status.
pub fn status_name(s: u32) -> String {
    let name = match s {
        0x0000_0000 => "STATUS_SUCCESS",
        0x0000_0103 => "STATUS_PENDING",
        0x0000_0105 => "STATUS_MORE_ENTRIES",
        0x8000_0005 => "STATUS_BUFFER_OVERFLOW",
        0x8000_0006 => "STATUS_NO_MORE_FILES",
        0xc000_000d => "STATUS_INVALID_PARAMETER",
        0xc000_000f => "STATUS_NO_SUCH_FILE",
        0xc000_0010 => "STATUS_INVALID_DEVICE_REQUEST",
        0xc000_0011 => "STATUS_END_OF_FILE",
        0xc000_0016 => "STATUS_MORE_PROCESSING_REQUIRED",
        0xc000_0022 => "STATUS_ACCESS_DENIED",
        0xc000_0034 => "STATUS_OBJECT_NAME_NOT_FOUND",
        0xc000_0035 => "STATUS_OBJECT_NAME_COLLISION",
        0xc000_003a => "STATUS_OBJECT_PATH_NOT_FOUND",
        0xc000_0043 => "STATUS_SHARING_VIOLATION",
        0xc000_006d => "STATUS_LOGON_FAILURE",
        0xc000_00bb => "STATUS_NOT_SUPPORTED",
        0xc000_00cc => "STATUS_BAD_NETWORK_NAME",
        0xc000_0120 => "STATUS_CANCELLED",
        0xc000_0225 => "STATUS_NOT_FOUND",
        _ => "",
    };
    if name.is_empty() {
        format!("UNKNOWN_{:02X}_{:04X}", s >> 24, s & 0xffff)
    } else {
        name.to_string()
    }
}

/// `CREATE` dispositions as Suricata names them.
pub fn disposition_name(d: u32) -> &'static str {
    match d {
        0 => "FILE_SUPERSEDE",
        1 => "FILE_OPEN",
        2 => "FILE_CREATE",
        3 => "FILE_OPEN_IF",
        4 => "FILE_OVERWRITE",
        5 => "FILE_OVERWRITE_IF",
        _ => "UNKNOWN",
    }
}
