//! The EVE records of the application layer, one variant per record type. Each
//! protocol's record type lives in its module; `output::eve` wraps a [`Record`] in the
//! envelope (time, flow, addresses) and writes it.

use serde::Serialize;

use super::dcerpc::DcerpcRecord;
use super::dns::record::DnsBody;
use super::ftp::{FtpDataRecord, FtpRecord};
use super::http::conn::HttpRecord;
use super::krb5::Krb5Record;
use super::rdp::RdpRecord;
use super::smb::SmbRecord;
use super::smtp::conn::SmtpEvent;
use super::ssh::SshRecord;
use super::tls::conn::TlsRecord;

/// An EVE record produced by the application layer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Record {
    Http(HttpRecord),
    Fileinfo(FileRecord),
    Dns(DnsBody),
    Tls(TlsRecord),
    Ssh(SshRecord),
    Smb(SmbRecord),
    Dcerpc(DcerpcRecord),
    Ftp(FtpRecord),
    #[serde(rename = "ftp_data")]
    FtpData(FtpDataRecord),
    Krb5(Krb5Record),
    Rdp(RdpRecord),
    Sip(super::sip::SipRecord),
    Mqtt(super::mqtt::MqttRecord),
    Ntp(super::ntp::NtpRecord),
    Tftp(super::tftp::TftpRecord),
    Snmp(super::snmp::SnmpRecord),
    Dhcp(super::dhcp::DhcpRecord),
    Quic(super::quic::QuicRecord),
    Rfb(super::rfb::RfbRecord),
    Websocket(super::websocket::WebsocketRecord),
    Ike(super::ike::IkeRecord),
    /// An anomaly a protocol parser found (`app-layer-event`), as Suricata logs it.
    Anomaly(AnomalyRecord),
    /// `smtp` and `email`, side by side as Suricata writes them.
    #[serde(untagged)]
    Smtp(SmtpEvent),
    /// A packet logged because a rule tagged its session or host (`tag`).
    #[serde(untagged)]
    Packet(TaggedPacket),
}

/// EVE `anomaly` of an application-layer event: `{"app_proto": "mqtt", "type":
/// "applayer", "event": "missing_connect", "layer": "proto_parser"}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnomalyRecord {
    pub app_proto: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub event: String,
    pub layer: &'static str,
}

impl AnomalyRecord {
    /// The record of app-layer event `name` (`mqtt.missing_connect`). Events of the
    /// parsers Suricata writes in C (HTTP, TLS, SMTP) are named in upper case there.
    pub fn app_layer(name: &'static str) -> AnomalyRecord {
        let (proto, event) = name.split_once('.').unwrap_or(("", name));
        let proto: &'static str = &name[..proto.len()];
        let event = match proto {
            "http" | "tls" | "smtp" => event.to_ascii_uppercase(),
            _ => event.to_string(),
        };
        AnomalyRecord { app_proto: proto, kind: "applayer", event, layer: "proto_parser" }
    }
}

/// EVE `packet`: the whole frame, base64, with its link type.
#[derive(Debug, Clone, Serialize)]
pub struct TaggedPacket {
    pub packet: String,
    pub packet_info: PacketInfo,
}

#[derive(Debug, Clone, Serialize)]
pub struct PacketInfo {
    pub linktype: u32,
}

impl Record {
    /// The EVE `event_type`.
    pub fn event_type(&self) -> &'static str {
        match self {
            Record::Http(_) => "http",
            Record::Fileinfo(_) => "fileinfo",
            Record::Dns(_) => "dns",
            Record::Tls(_) => "tls",
            Record::Ssh(_) => "ssh",
            Record::Smtp(_) => "smtp",
            Record::Smb(_) => "smb",
            Record::Dcerpc(_) => "dcerpc",
            Record::Ftp(_) => "ftp",
            Record::FtpData(_) => "ftp_data",
            Record::Krb5(_) => "krb5",
            Record::Rdp(_) => "rdp",
            Record::Sip(_) => "sip",
            Record::Mqtt(_) => "mqtt",
            Record::Ntp(_) => "ntp",
            Record::Tftp(_) => "tftp",
            Record::Snmp(_) => "snmp",
            Record::Dhcp(_) => "dhcp",
            Record::Quic(_) => "quic",
            Record::Rfb(_) => "rfb",
            Record::Websocket(_) => "websocket",
            Record::Ike(_) => "ike",
            Record::Anomaly(_) => "anomaly",
            Record::Packet(_) => "packet",
        }
    }

    /// The envelope's `tx_id`, for records of one transaction.
    pub fn tx_id(&self) -> Option<u64> {
        match self {
            Record::Http(h) => Some(h.tx_id),
            Record::Smtp(e) => Some(e.tx_id),
            Record::Smb(s) => Some(s.tx_id),
            Record::Dcerpc(d) => Some(d.tx_id),
            Record::Ftp(f) => Some(f.tx_id),
            Record::Mqtt(m) => Some(m.tx_id),
            Record::Dns(_) | Record::Fileinfo(_) | Record::Tls(_) | Record::Ssh(_) => None,
            Record::FtpData(_) | Record::Krb5(_) | Record::Rdp(_) | Record::Sip(_) => None,
            Record::Ntp(_) | Record::Tftp(_) | Record::Snmp(_) | Record::Dhcp(_) => None,
            Record::Quic(_) | Record::Rfb(_) | Record::Websocket(_) | Record::Ike(_) => None,
            Record::Packet(_) | Record::Anomaly(_) => None,
        }
    }

    /// The key of the record's object in EVE, for an alert's metadata about it; `None`
    /// when the record is more than one object (`smtp` with `email`).
    pub fn object_name(&self) -> Option<&'static str> {
        match self {
            Record::Smtp(_) => None,
            r => Some(r.event_type()),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileRecord {
    pub filename: String,
    /// The file's type as libmagic names it ([`super::filetype`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic: Option<String>,
    pub gaps: bool,
    pub state: &'static str,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    pub stored: bool,
    pub size: u64,
    pub tx_id: u64,
    /// The bytes kept of the file: content-decoded, up to the body limit. What YARA
    /// scans.
    #[serde(skip)]
    pub data: Vec<u8>,
    /// `data` is the whole file as `sha256` names it (complete, within the limit, not
    /// content-encoded): what a file store may write.
    #[serde(skip)]
    pub storable: bool,
    /// The transaction that carried the file, as EVE writes it beside `fileinfo`
    /// (`http`; `smtp` and `email`; `smb`; `ftp_data`), as Suricata does.
    #[serde(skip)]
    pub carrier: serde_json::Map<String, serde_json::Value>,
}

impl FileRecord {
    /// The same, carried by `object` (EVE's `name` object of the transaction).
    pub fn carried_by(mut self, name: &str, object: &impl Serialize) -> FileRecord {
        if let Ok(v) = serde_json::to_value(object) {
            self.carrier.insert(name.to_string(), v);
        }
        self
    }
}

/// The `fileinfo` record of a file held whole in memory; `truncated` when bytes of it
/// were lost or cut at a limit.
pub fn file_of(filename: &str, data: &[u8], tx_id: u64, truncated: bool) -> FileRecord {
    let whole = super::files::FileLimits { inspect: data.len(), keep: data.len() };
    let mut file = super::files::FileSink::new(whole);
    file.push(data);
    if truncated {
        file.gap();
    }
    file.finish(filename, tx_id)
}

/// Bytes as text for a record (invalid UTF-8 replaced).
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
