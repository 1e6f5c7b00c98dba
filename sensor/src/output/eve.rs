//! EVE JSON, as Suricata writes it: one JSON object per line.

use std::io::{self, BufWriter, Write};

use gatewatch_rules::event::AlertEvent;
use serde::Serialize;

use super::EventSink;

pub use gatewatch_rules::event::eve_timestamp as timestamp;

/// EVE name of an IP protocol.
pub fn proto_name(p: u8) -> String {
    match p {
        1 => "ICMP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        58 => "IPv6-ICMP".into(),
        132 => "SCTP".into(),
        47 => "GRE".into(),
        // The names Suricata writes (its table of protocol numbers).
        2 => "IGMP".into(),
        4 => "IP-in-IP".into(),
        41 => "IPv6".into(),
        50 => "ESP".into(),
        51 => "AH".into(),
        89 => "OSPFIGP".into(),
        103 => "PIM".into(),
        112 => "VRRP".into(),
        other => other.to_string(),
    }
}

/// An EVE `flow` record.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FlowEvent {
    /// The event time as EVE writes it.
    pub timestamp: String,
    /// The flow id shared by every event of the flow.
    pub flow_id: u64,
    /// The interface of a live capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_iface: Option<String>,
    /// EVE `event_type` (`alert`, `dns`, `http`, …).
    pub event_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vlan: Option<Vec<u16>>,
    /// Source address.
    pub src_ip: String,
    /// Source port (TCP, UDP, SCTP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    /// Destination address.
    pub dest_ip: String,
    /// Destination port (TCP, UDP, SCTP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dest_port: Option<u16>,
    /// Transport protocol, as EVE names it (`TCP`, `UDP`, `ICMP`, …).
    pub proto: String,
    /// ICMP type (ICMP flows and packets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    /// ICMP code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    /// The application protocol of the flow, as EVE names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_proto: Option<&'static str>,
    /// The flow's counters and end.
    pub flow: FlowBody,
    /// The Community ID of the flow (`eve.community_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub community_id: Option<String>,
    /// What detection recorded on the flow: `traffic` and `metadata`, when not empty.
    #[serde(flatten)]
    pub detection: serde_json::Map<String, serde_json::Value>,
    /// TCP flags and state (TCP flows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) host: Option<String>,
}

/// The `flow` object of a flow event.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FlowBody {
    /// Packets from the client.
    pub pkts_toserver: u64,
    /// Packets from the server.
    pub pkts_toclient: u64,
    /// Bytes from the client.
    pub bytes_toserver: u64,
    /// Bytes from the server.
    pub bytes_toclient: u64,
    /// When the flow started, as EVE writes times.
    pub start: String,
    pub(crate) end: String,
    pub(crate) age: i64,
    /// `new`, `established` or `closed`.
    pub state: &'static str,
    /// Why the flow ended: `timeout`, `forced` or `shutdown`.
    pub reason: &'static str,
    pub(crate) alerted: bool,
}

/// The `tcp` object of a flow event.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TcpBody {
    pub(crate) tcp_flags: String,
    pub(crate) tcp_flags_ts: String,
    pub(crate) tcp_flags_tc: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) syn: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) fin: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) rst: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) psh: bool,
    /// An ACK was seen.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ack: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) urg: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) ecn: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) cwr: bool,
    /// The TCP state at the end (`established`, `closed`, …).
    pub state: &'static str,
}

impl TcpBody {
    /// The body of the flags seen overall (`flags`), to server (`ts`) and to client (`tc`).
    pub fn new(flags: u8, ts: u8, tc: u8, state: &'static str) -> TcpBody {
        TcpBody {
            tcp_flags: format!("{flags:02x}"),
            tcp_flags_ts: format!("{ts:02x}"),
            tcp_flags_tc: format!("{tc:02x}"),
            syn: flags & 0x02 != 0,
            fin: flags & 0x01 != 0,
            rst: flags & 0x04 != 0,
            psh: flags & 0x08 != 0,
            ack: flags & 0x10 != 0,
            urg: flags & 0x20 != 0,
            ecn: flags & 0x40 != 0,
            cwr: flags & 0x80 != 0,
            state,
        }
    }
}

/// An EVE record of the application layer: `dns` (Suricata 8, version 3 layout: one
/// record per message), `http` (one per transaction), `fileinfo` (one per file).
#[derive(Debug, Clone, Serialize)]
pub struct AppEvent {
    /// The event time as EVE writes it.
    pub timestamp: String,
    /// The flow id shared by every event of the flow.
    pub flow_id: u64,
    /// The packet's number in the capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcap_cnt: Option<u64>,
    /// The interface of a live capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_iface: Option<String>,
    /// EVE `event_type` (`alert`, `dns`, `http`, …).
    pub event_type: &'static str,
    /// Source address.
    pub src_ip: String,
    /// Source port (TCP, UDP, SCTP).
    pub src_port: u16,
    /// Destination address.
    pub dest_ip: String,
    /// Destination port (TCP, UDP, SCTP).
    pub dest_port: u16,
    /// Transport protocol, as EVE names it (`TCP`, `UDP`, `ICMP`, …).
    pub proto: String,
    /// Where the packet came from (`wire/pcap`, `stream (flow timeout)`, …), as EVE says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pkt_src: Option<&'static str>,
    /// The Community ID of the flow (`eve.community_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub community_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tx_id: Option<u64>,
    /// A file's carrier: the transaction's objects (`http`, …) before `app_proto`.
    #[serde(flatten)]
    pub(crate) carrier: serde_json::Map<String, serde_json::Value>,
    /// The application protocol of the flow, as EVE names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_proto: Option<&'static str>,
    #[serde(flatten)]
    pub(crate) record: crate::app::records::Record,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) host: Option<String>,
}

/// Writes EVE records as JSON lines; `select` says which kinds besides alerts.
pub struct EveWriter<W: Write> {
    out: BufWriter<W>,
    select: crate::config::EveConfig,
    /// One record's JSON: the serializer's many small writes go to a plain vector,
    /// the whole line to the buffered output in one.
    line: Vec<u8>,
}

impl<W: Write> EveWriter<W> {
    /// A writer of the event types `select` enables.
    pub fn new(out: W, select: &crate::config::EveConfig) -> Self {
        EveWriter {
            out: BufWriter::with_capacity(256 * 1024, out),
            select: select.clone(),
            line: Vec::with_capacity(4096),
        }
    }

    fn line<T: Serialize>(&mut self, v: &T) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, v).map_err(io::Error::other)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }
}

impl<W: Write> EventSink for EveWriter<W> {
    fn alert(&mut self, a: &AlertEvent) -> io::Result<()> {
        self.line(a)
    }
    fn flow(&mut self, f: &FlowEvent) -> io::Result<()> {
        if self.select.flow {
            self.line(f)?;
        }
        Ok(())
    }
    fn app(&mut self, e: &AppEvent) -> io::Result<()> {
        let on = match e.event_type {
            "dns" => self.select.dns,
            "http" => self.select.http,
            "fileinfo" => self.select.fileinfo,
            "tls" => self.select.tls,
            "ssh" => self.select.ssh,
            "smtp" => self.select.smtp,
            _ => true,
        };
        if on {
            self.line(e)?;
        }
        Ok(())
    }
    fn stats(&mut self, v: &serde_json::Value) -> io::Result<()> {
        if self.select.stats {
            self.line(v)?;
        }
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_format() {
        assert_eq!(timestamp(1_700_000_000_123_456), "2023-11-14T22:13:20.123456+0000");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000000+0000");
    }
}
