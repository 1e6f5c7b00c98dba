//! RDP ([MS-RDPBCGR]): the X.224 connection request (cookie, requested security
//! protocols) and confirm (the protocol chosen), the client core data of the MCS
//! connect-initial when the session is not wrapped in TLS (client name, build,
//! keyboard layout, screen), and the switch to TLS/CredSSP, after which the session
//! is encrypted. EVE `rdp` records as Suricata writes them.

use gatewatch_rules::signature::AppProto;
use serde::Serialize;

use super::parser::{meta, AppCx, AppParser, Inspection, Probe, Registration, Sender};
use super::records::Record;
use super::utf16le;

/// RDP over TCP.
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Rdp,
    ports: &[3389],
    needs_port: false,
    probe,
    new: |_| Box::<RdpConn>::default(),
};

const X224_CR: u8 = 0xe0;
const X224_CC: u8 = 0xd0;
const X224_DATA: u8 = 0xf0;
/// Longest TPKT followed (the field allows 65535).
const MAX_TPKT: usize = 65535;

/// A TPKT (version 3) around an X.224 connection request or confirm.
fn probe(d: &[u8], _other: &[u8], _port_hint: bool) -> Probe {
    if d.len() < 7 {
        return Probe::NeedMore;
    }
    let len = u16::from_be_bytes([d[2], d[3]]) as usize;
    if d[0] != 3 || d[1] != 0 || len < 11 || d[4] as usize + 5 > len {
        return Probe::No;
    }
    match d[5] & 0xf0 {
        X224_CR => Probe::Yes(Sender::Client),
        X224_CC => Probe::Yes(Sender::Server),
        _ => Probe::No,
    }
}

/// The EVE `rdp` record of one step of the connection.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct RdpRecord {
    pub(crate) tx_id: u64,
    /// EVE `event_type` (`alert`, `dns`, `http`, …).
    pub event_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cookie: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) requested_protocols: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) protocol: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) client: Option<ClientCore>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub(crate) struct ClientCore {
    pub version: String,
    pub(crate) desktop_width: u16,
    pub(crate) desktop_height: u16,
    pub(crate) color_depth: u16,
    pub(crate) keyboard_layout: String,
    pub(crate) build: String,
    pub(crate) client_name: String,
}

fn protocols(mask: u32) -> Vec<&'static str> {
    let mut v = Vec::new();
    if mask & 1 != 0 {
        v.push("ssl");
    }
    if mask & 2 != 0 {
        v.push("hybrid");
    }
    if mask & 8 != 0 {
        v.push("hybrid_ex");
    }
    if mask & 16 != 0 {
        v.push("rdstls");
    }
    if v.is_empty() {
        v.push("rdp");
    }
    v
}

/// The RDP parser of one connection.
#[derive(Debug, Default)]
pub struct RdpConn {
    held: [Vec<u8>; 2],
    next_tx: u64,
    /// The server chose TLS or CredSSP: what follows the confirm is TLS.
    tls: bool,
    /// Each side has sent bytes after the switch.
    switched: [bool; 2],
    lost: [bool; 2],
}

impl RdpConn {
    fn record(&mut self, dir: usize, mut rec: RdpRecord, cx: &mut AppCx<'_>) {
        rec.tx_id = self.next_tx;
        self.next_tx += 1;
        cx.count("rdp_records", 1);
        let mut insp = Inspection::new(dir);
        insp.meta = meta("rdp", &rec);
        cx.inspect(insp);
        cx.record(dir == 0, Record::Rdp(rec));
    }

    fn tpkt(&mut self, dir: usize, p: &[u8], cx: &mut AppCx<'_>) {
        let Some(&code) = p.get(5) else { return };
        // The length indicator counts the cookie and negotiation too: they follow the
        // fixed part (6 bytes of a connection request or confirm, 2 of data).
        let fixed = if code & 0xf0 == X224_DATA { 2 } else { 6 };
        let body = p.get(5 + fixed..).unwrap_or_default();
        match (dir, code & 0xf0) {
            (0, X224_CR) => {
                let mut rec = RdpRecord { event_type: "initial_request", ..Default::default() };
                let mut rest = body;
                if let Some(c) = rest.strip_prefix(b"Cookie: mstshash=") {
                    let end = memchr::memmem::find(c, b"\r\n").unwrap_or(c.len());
                    rec.cookie = Some(String::from_utf8_lossy(&c[..end]).into_owned());
                    rest = c.get(end + 2..).unwrap_or_default();
                }
                if rest.len() >= 8 && rest[0] == 1 {
                    let mask = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
                    rec.requested_protocols = protocols(mask);
                }
                self.record(dir, rec, cx);
            }
            (1, X224_CC) => {
                let mut rec = RdpRecord { event_type: "initial_response", ..Default::default() };
                if body.len() >= 8 && body[0] == 2 {
                    let sel = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                    rec.protocol = protocols(sel).first().copied();
                    self.tls = sel != 0;
                } else {
                    rec.protocol = Some("rdp");
                }
                self.record(dir, rec, cx);
            }
            (0, X224_DATA) => {
                if let Some(core) = client_core(body) {
                    let rec = RdpRecord {
                        event_type: "connect_request",
                        client: Some(core),
                        ..Default::default()
                    };
                    self.record(dir, rec, cx);
                }
            }
            _ => {}
        }
    }
}

/// The client core data (TS_UD_CS_CORE, header type 0xC001) inside an MCS
/// connect-initial.
fn client_core(b: &[u8]) -> Option<ClientCore> {
    let at = memchr::memmem::find(b, b"\x01\xc0")?;
    let d = b.get(at + 4..)?;
    let u16_at = |i: usize| d.get(i..i + 2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let u32_at = |i: usize| d.get(i..i + 4).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]));
    let version = u32_at(0)?;
    let name = d.get(20..52)?;
    let end = name.chunks_exact(2).position(|c| c == [0, 0]).map_or(name.len(), |i| i * 2);
    Some(ClientCore {
        version: format!("{}.{}", version >> 16, version & 0xffff),
        desktop_width: u16_at(4)?,
        desktop_height: u16_at(6)?,
        color_depth: u16_at(8)?,
        keyboard_layout: format!("0x{:08x}", u32_at(12)?),
        build: u32_at(16)?.to_string(),
        client_name: utf16le(&name[..end]),
    })
}

impl AppParser for RdpConn {
    fn mem_usage(&self) -> usize {
        crate::app::parser::held_bytes(&self.held)
    }

    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        if self.tls || self.lost[dir] {
            if self.tls && !self.switched[dir] {
                self.switched[dir] = true;
                if dir == 1 && bytes.first() == Some(&0x16) {
                    let rec = RdpRecord { event_type: "tls_handshake", ..Default::default() };
                    self.record(dir, rec, cx);
                }
            }
            return;
        }
        self.held[dir].extend_from_slice(bytes);
        loop {
            let h = &self.held[dir];
            if h.len() < 4 {
                return;
            }
            let len = u16::from_be_bytes([h[2], h[3]]) as usize;
            if h[0] != 3 || !(7..=MAX_TPKT).contains(&len) {
                // Fast-path PDUs or garbage: nothing more to read in clear.
                cx.count("rdp_errors", 1);
                self.held[dir] = Vec::new();
                self.lost[dir] = true;
                return;
            }
            if h.len() < len {
                return;
            }
            let p: Vec<u8> = self.held[dir].drain(..len).collect();
            self.tpkt(dir, &p, cx);
            if self.tls {
                // Bytes after the confirm already belong to TLS.
                let rest = std::mem::take(&mut self.held[dir]);
                if !rest.is_empty() {
                    self.parse(dir, &rest, cx);
                }
                return;
            }
        }
    }

    fn gap(&mut self, dir: usize, _cx: &mut AppCx<'_>) {
        self.held[dir].clear();
        self.lost[dir] = true;
    }

    /// After the switch to TLS or CredSSP in both directions.
    fn encrypted(&self) -> bool {
        self.tls && self.switched.iter().all(|s| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::parser::drive;

    fn tpkt(x224: &[u8]) -> Vec<u8> {
        let mut v = vec![3, 0];
        v.extend_from_slice(&((4 + x224.len()) as u16).to_be_bytes());
        v.extend_from_slice(x224);
        v
    }

    fn records(out: &crate::app::parser::AppOutput) -> Vec<&RdpRecord> {
        out.records
            .iter()
            .filter_map(|(_, r)| match r {
                Record::Rdp(x) => Some(x),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn negotiation_then_tls() {
        let mut cr_fixed = vec![41, X224_CR, 0, 0, 0, 0, 0];
        cr_fixed.extend_from_slice(b"Cookie: mstshash=ketoan01\r\n");
        cr_fixed.extend_from_slice(&[1, 0, 8, 0, 3, 0, 0, 0]);
        let mut cc = vec![14, X224_CC, 0, 0, 0x12, 0x34, 0];
        cc.extend_from_slice(&[2, 0, 8, 0, 2, 0, 0, 0]);
        let script = vec![
            (true, tpkt(&cr_fixed)),
            (false, tpkt(&cc)),
            (true, b"\x16\x03\x01\x00\x05hello".to_vec()),
            (false, b"\x16\x03\x03\x00\x05hello".to_vec()),
        ];
        let mut conn = RdpConn::default();
        let (out, _) = drive(&mut conn, &script, 5);
        let r = records(&out);
        assert_eq!(r[0].cookie.as_deref(), Some("ketoan01"));
        assert_eq!(r[0].requested_protocols, ["ssl", "hybrid"]);
        assert_eq!(r[1].protocol, Some("hybrid"));
        assert_eq!(r[2].event_type, "tls_handshake");
        assert!(conn.encrypted());
        assert_eq!(probe(&tpkt(&cr_fixed), b"", false), Probe::Yes(Sender::Client));
        assert_eq!(probe(b"\x16\x03\x01\x00\x05hello", b"", false), Probe::No);
    }

    #[test]
    fn client_core_data_in_clear() {
        let mut core = vec![0u8; 4];
        core.extend_from_slice(&0x0008_0004u32.to_le_bytes());
        core.extend_from_slice(&1920u16.to_le_bytes());
        core.extend_from_slice(&1080u16.to_le_bytes());
        core.extend_from_slice(&0xca01u16.to_le_bytes());
        core.extend_from_slice(&0xaa03u16.to_le_bytes());
        core.extend_from_slice(&0x0000_042au32.to_le_bytes());
        core.extend_from_slice(&19041u32.to_le_bytes());
        let mut name: Vec<u8> =
            "PC-TIEPNHAN".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        name.resize(32, 0);
        core.extend(name);
        core[0..2].copy_from_slice(&[0x01, 0xc0]);
        let mut data = vec![2, X224_DATA, 0x80, 0x7f, 0x65];
        data.extend(core);
        let script = vec![(true, tpkt(&data))];
        let (out, _) = drive(&mut RdpConn::default(), &script, 3);
        let c = records(&out)[0].client.clone().expect("client core");
        assert_eq!(c.client_name, "PC-TIEPNHAN");
        assert_eq!((c.desktop_width, c.desktop_height, c.build.as_str()), (1920, 1080, "19041"));
        assert_eq!(c.keyboard_layout, "0x0000042a");
    }
}
