//! RFB (VNC, RFC 6143, versions 3.3 to 3.8): the handshake of a session — protocol
//! versions, the security type the client chose, the VNC authentication challenge
//! and response, the security result, the shared flag and the server's framebuffer
//! and desktop name. The session is one transaction with Suricata's `rfb.sectype`,
//! `rfb.secresult` and `rfb.name`, inspected and logged (EVE `rfb`) when the server
//! sends its initialisation, when authentication fails, or when the connection ends.

use gatewatch_rules::signature::{AppProto, Buffer};
use serde::Serialize;
use serde_json::{json, Value};

use super::parser::{held_bytes, meta, AppCx, AppParser, Inspection, Probe, Registration, Sender};
use super::records::Record;

/// RFB (VNC) over TCP.
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Rfb,
    ports: &[5900, 5901, 5902, 5903],
    needs_port: false,
    probe,
    new: |_| Box::<RfbConn>::default(),
};

/// Bytes held per direction while a message is incomplete.
const MAX_HELD: usize = 4096;

/// `RFB 003.008\n` from either side (the server speaks first).
fn probe(d: &[u8], _other: &[u8], _hint: bool) -> Probe {
    let want = b"RFB 0";
    if d.len() < want.len() {
        return if want.starts_with(d) { Probe::NeedMore } else { Probe::No };
    }
    if d.starts_with(want) {
        Probe::Yes(Sender::Server)
    } else {
        Probe::No
    }
}

/// Where the handshake is: what the next message of each side is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Step {
    #[default]
    Versions,
    /// Server: the security types (3.7+) or the chosen type (3.3).
    SecurityTypes,
    /// Client: its chosen type (3.7+).
    ChosenType,
    /// Server: the VNC challenge; client: the response.
    Challenge,
    Response,
    SecurityResult,
    /// Client: the shared flag; then the server's initialisation.
    ClientInit,
    ServerInit,
    Done,
}

/// The EVE `rfb` object.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct RfbRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) server_protocol_version: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) client_protocol_version: Option<Value>,
    pub(crate) authentication: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) screen_shared: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) framebuffer: Option<Value>,
}

/// The RFB parser of one connection.
#[derive(Debug, Default)]
pub struct RfbConn {
    held: [Vec<u8>; 2],
    step: Step,
    /// The minor version the server offered (3, 7 or 8).
    minor: u32,
    sec_type: Option<u32>,
    sec_result: Option<u32>,
    challenge: Option<Vec<u8>>,
    response: Option<Vec<u8>>,
    versions: [Option<(String, String)>; 2],
    shared: Option<bool>,
    framebuffer: Option<Value>,
    name: Option<Vec<u8>>,
    done: bool,
}

fn be32(d: &[u8]) -> u32 {
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A ProtocolVersion message, `RFB xxx.yyy\n`: (major, minor) as written.
fn protocol_version(v: &[u8]) -> Option<(String, String)> {
    if !v.starts_with(b"RFB ") || v[7] != b'.' {
        return None;
    }
    let major = String::from_utf8_lossy(&v[4..7]).into_owned();
    let minor = String::from_utf8_lossy(&v[8..11]).into_owned();
    Some((major, minor))
}

/// The EVE `framebuffer` of a ServerInit message (its 24-byte header and the
/// desktop name).
fn framebuffer(h: &[u8], name: &[u8]) -> Value {
    let pf = &h[4..20];
    json!({
        "width": u16::from_be_bytes([h[0], h[1]]),
        "height": u16::from_be_bytes([h[2], h[3]]),
        "name": String::from_utf8_lossy(name),
        "pixel_format": {
            "bits_per_pixel": pf[0],
            "depth": pf[1],
            "big_endian": pf[2] != 0,
            "true_color": pf[3] != 0,
            "red_max": u16::from_be_bytes([pf[4], pf[5]]),
            "green_max": u16::from_be_bytes([pf[6], pf[7]]),
            "blue_max": u16::from_be_bytes([pf[8], pf[9]]),
            "red_shift": pf[10],
            "green_shift": pf[11],
            "blue_shift": pf[12],
        },
    })
}

impl RfbConn {
    /// Reads what the held bytes of `dir` complete; `None` when more are needed (or
    /// they are not what the step expects).
    fn step(&mut self, dir: usize) -> Option<()> {
        let d = &self.held[dir];
        let server = dir == 1;
        let used = match (self.step, server) {
            (Step::Versions, _) if self.versions[dir].is_none() => {
                let (major, minor) = protocol_version(d.get(..12)?)?;
                if server {
                    self.minor = minor.parse().unwrap_or(8);
                }
                self.versions[dir] = Some((major, minor));
                if self.versions.iter().all(Option::is_some) {
                    self.step = Step::SecurityTypes;
                }
                12
            }
            (Step::SecurityTypes, true) if self.minor <= 3 => {
                let t = be32(d.get(..4)?);
                self.sec_type = Some(t);
                self.step = if t == 2 { Step::Challenge } else { Step::ClientInit };
                4
            }
            (Step::SecurityTypes, true) => {
                let n = *d.first()? as usize;
                if n == 0 {
                    // The server refuses the connection.
                    self.sec_result = Some(1);
                    self.step = Step::Done;
                    d.len()
                } else {
                    d.get(..1 + n)?;
                    self.step = Step::ChosenType;
                    1 + n
                }
            }
            (Step::ChosenType, false) => {
                let t = *d.first()? as u32;
                self.sec_type = Some(t);
                self.step = match t {
                    2 => Step::Challenge,
                    1 if self.minor >= 8 => Step::SecurityResult,
                    1 => Step::ClientInit,
                    // Other types run their own exchange: its end is not followed.
                    _ => Step::Done,
                };
                1
            }
            (Step::Challenge, true) => {
                self.challenge = Some(d.get(..16)?.to_vec());
                self.step = Step::Response;
                16
            }
            (Step::Response, false) => {
                self.response = Some(d.get(..16)?.to_vec());
                self.step = Step::SecurityResult;
                16
            }
            (Step::SecurityResult, true) => {
                let r = be32(d.get(..4)?);
                self.sec_result = Some(r);
                self.step = if r == 0 { Step::ClientInit } else { Step::Done };
                if r == 0 {
                    4
                } else {
                    d.len()
                }
            }
            (Step::ClientInit, false) => {
                self.shared = Some(*d.first()? != 0);
                self.step = Step::ServerInit;
                1
            }
            (Step::ServerInit, true) => {
                let h = d.get(..24)?;
                let len = be32(&h[20..24]) as usize;
                let name = d.get(24..24 + len.min(MAX_HELD - 24))?;
                self.framebuffer = Some(framebuffer(h, name));
                self.name = Some(name.to_vec());
                self.step = Step::Done;
                d.len()
            }
            _ => return None,
        };
        self.held[dir].drain(..used.min(self.held[dir].len()));
        Some(())
    }

    /// The session's one inspection and record, once.
    fn finish(&mut self, dir: usize, cx: &mut AppCx<'_>) {
        if self.done || self.versions[1].is_none() {
            return;
        }
        self.done = true;
        let mut insp = Inspection::new(dir);
        if let Some(t) = self.sec_type {
            insp.push(Buffer::RfbSecType, t.to_string().as_bytes());
        }
        if let Some(r) = self.sec_result {
            insp.push(Buffer::RfbSecResult, r.to_string().as_bytes());
        }
        if let Some(n) = &self.name {
            insp.push(Buffer::RfbName, n);
        }
        let version =
            |v: &Option<(String, String)>| v.as_ref().map(|(a, b)| json!({"major": a, "minor": b}));
        let mut auth = serde_json::Map::new();
        if let Some(t) = self.sec_type {
            auth.insert("security_type".into(), t.into());
        }
        if let (Some(c), Some(r)) = (&self.challenge, &self.response) {
            let hex = super::tls::hex;
            auth.insert("vnc".into(), json!({"challenge": hex(c), "response": hex(r)}));
        }
        if let Some(r) = self.sec_result {
            let text = match r {
                0 => "OK",
                1 => "FAIL",
                2 => "TOOMANY",
                _ => "UNKNOWN",
            };
            auth.insert("security_result".into(), text.into());
        }
        let rec = RfbRecord {
            server_protocol_version: version(&self.versions[1]),
            client_protocol_version: version(&self.versions[0]),
            authentication: Value::Object(auth),
            screen_shared: self.shared,
            framebuffer: self.framebuffer.clone(),
        };
        insp.meta = meta("rfb", &rec);
        cx.inspect(insp);
        cx.record(true, Record::Rfb(rec));
    }
}

impl AppParser for RfbConn {
    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        if self.step == Step::Done {
            return;
        }
        self.held[dir].extend_from_slice(bytes);
        while self.step != Step::Done && self.step(dir).is_some() {}
        if self.step == Step::Done {
            self.finish(dir, cx);
        } else if self.held[dir].len() > MAX_HELD {
            cx.count("rfb_errors", 1);
            self.step = Step::Done;
            self.finish(dir, cx);
        }
        if self.step == Step::Done {
            self.held = Default::default();
        }
    }

    fn gap(&mut self, dir: usize, cx: &mut AppCx<'_>) {
        self.step = Step::Done;
        self.finish(dir, cx);
    }

    fn end(&mut self, cx: &mut AppCx<'_>) {
        self.finish(1, cx);
    }

    fn mem_usage(&self) -> usize {
        let opt = |v: &Option<Vec<u8>>| v.as_ref().map_or(0, Vec::capacity);
        held_bytes(&self.held) + opt(&self.challenge) + opt(&self.response) + opt(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::parser::drive;

    #[test]
    fn a_vnc_authenticated_3_8_session() {
        let mut init =
            vec![0, 0x80, 0, 0x60, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];
        init.extend_from_slice(&[0, 0, 0, 4]);
        init.extend_from_slice(b"desk");
        let script = vec![
            (false, b"RFB 003.008\n".to_vec()),
            (true, b"RFB 003.008\n".to_vec()),
            (false, vec![2, 1, 2]),
            (true, vec![2]),
            (false, vec![7; 16]),
            (true, vec![9; 16]),
            (false, vec![0, 0, 0, 0]),
            (true, vec![1]),
            (false, init),
        ];
        for seg in [1, 5, 100] {
            let mut conn = RfbConn::default();
            let (out, _) = drive(&mut conn, &script, seg);
            assert_eq!(out.inspections.len(), 1, "seg {seg}");
            let bufs = &out.inspections[0].buffers;
            assert!(bufs.contains(&(Buffer::RfbSecResult, b"0".to_vec())));
            assert!(bufs.contains(&(Buffer::RfbSecType, b"2".to_vec())));
            assert!(bufs.contains(&(Buffer::RfbName, b"desk".to_vec())));
            let Record::Rfb(rec) = &out.records[0].1 else { panic!() };
            assert_eq!(rec.authentication["security_result"], "OK");
            assert_eq!(rec.framebuffer.as_ref().unwrap()["width"], 128);
            assert_eq!(rec.screen_shared, Some(true));
        }
    }

    #[test]
    fn a_failed_3_3_login_is_logged_at_once() {
        let script = vec![
            (false, b"RFB 003.003\n".to_vec()),
            (true, b"RFB 003.003\n".to_vec()),
            (false, vec![0, 0, 0, 2]),
            (false, vec![1; 16]),
            (true, vec![2; 16]),
            (false, vec![0, 0, 0, 1]),
        ];
        let mut conn = RfbConn::default();
        let (out, _) = drive(&mut conn, &script, 100);
        let Record::Rfb(rec) = &out.records[0].1 else { panic!() };
        assert_eq!(rec.authentication["security_result"], "FAIL");
        assert_eq!(probe(b"RFB 003.008\n", b"", false), Probe::Yes(Sender::Server));
        assert_eq!(probe(b"RF", b"", false), Probe::NeedMore);
        assert_eq!(probe(b"SSH-2.0", b"", false), Probe::No);
    }
}
