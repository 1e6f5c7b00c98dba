//! Inspection buffers and application protocols a rule can name.
//!
//! Content-like keywords look at the packet payload unless a sticky buffer keyword
//! (`dns.query;`) came before them; from then on they look at that buffer. The sensor
//! supplies the buffers it parsed with each packet ([`crate::engine::Packet::buffers`]).
//! A buffer or protocol is supported only once the sensor can fill it: a rule that
//! loaded but could never match would be a silent gap.

use serde::Serialize;

/// Which side of a transaction fills a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The client's message (HTTP request, TLS ClientHello, DNS query).
    Request,
    /// The server's message.
    Response,
    /// Either, inspected in the direction of the message it came from.
    Either,
}

macro_rules! buffers {
    ($( $(#[$doc:meta])* $v:ident = $name:literal, $side:ident, $supported:literal, [$($kw:literal),*]; )*) => {
        /// A sticky buffer: the part of a packet, transaction or file a rule's
        /// payload keywords inspect, named by its current keyword.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum Buffer {
            $( #[doc = concat!("`", $name, "`.")] $(#[$doc])* $v, )*
        }

        impl Buffer {
            /// Every sticky buffer keyword (current and legacy spellings) with its buffer.
            pub const KEYWORDS: &'static [(&'static str, Buffer)] =
                &[ $( $( ($kw, Buffer::$v), )* )* ];

            /// The buffer a sticky buffer keyword (current or legacy name) selects.
            pub fn from_keyword(kw: &str) -> Option<Buffer> {
                match kw {
                    $( $($kw)|* => Some(Buffer::$v), )*
                    _ => None,
                }
            }

            /// The current keyword, as in reports.
            pub fn name(self) -> &'static str {
                match self { $( Buffer::$v => $name, )* }
            }

            /// Which message of a transaction it is taken from.
            pub fn side(self) -> Side {
                match self { $( Buffer::$v => Side::$side, )* }
            }

            /// False for buffers the sensor does not fill yet: rules using them are
            /// reported as unsupported rather than loaded and never matching.
            pub fn supported(self) -> bool {
                match self { $( Buffer::$v => $supported, )* }
            }
        }
    };
}

buffers! {
    /// The packet payload.
    Payload = "pkt_data", Either, true, ["pkt_data"];
    /// A query name of a DNS request (one buffer per question).
    DnsQuery = "dns.query", Request, true, ["dns.query", "dns_query"];
    /// The normalised request target (percent-decoding of unreserved characters,
    /// `/./` and `/../` resolved, `//` collapsed).
    HttpUri = "http.uri", Request, true, ["http.uri"];
    HttpUriRaw = "http.uri.raw", Request, true, ["http.uri.raw"];
    HttpMethod = "http.method", Request, true, ["http.method"];
    /// The Host header, lowercased, without the port.
    HttpHost = "http.host", Request, true, ["http.host"];
    HttpHostRaw = "http.host.raw", Request, true, ["http.host.raw"];
    HttpUserAgent = "http.user_agent", Request, true, ["http.user_agent"];
    /// Headers as `Name: value\r\n` lines, without Cookie/Set-Cookie.
    HttpHeader = "http.header", Either, true, ["http.header"];
    HttpHeaderRaw = "http.header.raw", Either, true, ["http.header.raw"];
    /// `\r\nName1\r\nName2\r\n\r\n`.
    HttpHeaderNames = "http.header_names", Either, true, ["http.header_names", "http_header_names"];
    /// Cookie (request) or Set-Cookie (response) values.
    HttpCookie = "http.cookie", Either, true, ["http.cookie"];
    HttpRequestLine = "http.request_line", Request, true, ["http.request_line", "http_request_line"];
    /// The request body, de-chunked, up to the body limit.
    HttpRequestBody = "http.request_body", Request, true, ["http.request_body"];
    HttpStatCode = "http.stat_code", Response, true, ["http.stat_code"];
    HttpStatMsg = "http.stat_msg", Response, true, ["http.stat_msg"];
    HttpResponseLine = "http.response_line", Response, true, ["http.response_line", "http_response_line"];
    /// One `Name: value` buffer per request header.
    HttpRequestHeader = "http.request_header", Request, true, ["http.request_header"];
    /// One `Name: value` buffer per response header.
    HttpResponseHeader = "http.response_header", Response, true, ["http.response_header"];
    HttpContentType = "http.content_type", Either, true, ["http.content_type", "http_content_type"];
    HttpContentLen = "http.content_len", Either, true, ["http.content_len", "http_content_len"];
    HttpProtocol = "http.protocol", Either, true, ["http.protocol", "http_protocol"];
    /// Start line and headers, as sent, up to the blank line included.
    HttpStart = "http.start", Either, true, ["http.start", "http_start"];
    HttpAccept = "http.accept", Request, true, ["http.accept", "http_accept"];
    HttpAcceptEnc = "http.accept_enc", Request, true, ["http.accept_enc", "http_accept_enc"];
    HttpAcceptLang = "http.accept_lang", Request, true, ["http.accept_lang", "http_accept_lang"];
    HttpConnection = "http.connection", Either, true, ["http.connection", "http_connection"];
    HttpReferer = "http.referer", Request, true, ["http.referer", "http_referer"];
    HttpLocation = "http.location", Response, true, ["http.location", "http_location"];
    HttpServer = "http.server", Response, true, ["http.server", "http_server"];
    /// Decoded HTTP bodies (response, and request in a to-server rule) and SMTP
    /// attachments, up to the body limit.
    FileData = "file.data", Either, true, ["file.data", "file_data", "http.response_body"];
    TlsSni = "tls.sni", Request, true, ["tls.sni", "tls_sni"];
    /// The hello's 32 random bytes: the client's to the server, the server's back.
    TlsRandom = "tls.random", Either, true, ["tls.random"];
    /// Their first 4 bytes (the time in older implementations).
    TlsRandomTime = "tls.random_time", Either, true, ["tls.random_time"];
    /// Their last 28 bytes.
    TlsRandomBytes = "tls.random_bytes", Either, true, ["tls.random_bytes"];
    TlsCertSubject = "tls.cert_subject", Response, true, ["tls.cert_subject", "tls_cert_subject"];
    TlsCertIssuer = "tls.cert_issuer", Response, true, ["tls.cert_issuer", "tls_cert_issuer"];
    /// Each DNS name of the certificate's subjectAltName.
    TlsSubjectAltName = "tls.subjectaltname", Response, true, ["tls.subjectaltname"];
    TlsCertSerial = "tls.cert_serial", Response, true, ["tls.cert_serial", "tls_cert_serial"];
    TlsCertFingerprint = "tls.cert_fingerprint", Response, true, ["tls.cert_fingerprint", "tls_cert_fingerprint"];
    /// The negotiated version as `tls.version` writes it (`1.0` … `1.3`, `ssl3`); filled
    /// from the ServerHello. Only the `tls.version:` keyword uses it.
    TlsVersion = "tls.version", Response, true, ["\u{0}tls.version"];
    /// The version a side speaks, as a number (`0x0301` is TLS 1.0): the ClientHello's
    /// for the client, the negotiated one for the server (`ssl_version`).
    SslVersion = "ssl_version", Either, true, ["\u{0}ssl_version"];
    /// Each certificate of the server's chain, DER (one buffer per certificate).
    TlsCerts = "tls.certs", Response, true, ["tls.certs"];
    Ja3Hash = "ja3.hash", Request, true, ["ja3.hash", "ja3_hash"];
    Ja3String = "ja3.string", Request, true, ["ja3.string", "ja3_string"];
    Ja3sHash = "ja3s.hash", Response, true, ["ja3s.hash", "ja3s_hash"];
    Ja3sString = "ja3s.string", Response, true, ["ja3s.string", "ja3s_string"];
    Ja4Hash = "ja4.hash", Request, true, ["ja4.hash"];
    SmtpHelo = "smtp.helo", Request, true, ["smtp.helo"];
    SmtpMailFrom = "smtp.mail_from", Request, true, ["smtp.mail_from"];
    /// One buffer per recipient.
    SmtpRcptTo = "smtp.rcpt_to", Request, true, ["smtp.rcpt_to"];
    SshProto = "ssh.proto", Either, true, ["ssh.proto", "ssh_proto"];
    SshSoftware = "ssh.software", Either, true, ["ssh.software", "ssh_software"];
    /// The HASSH of the client's KEXINIT (MD5, lowercase hex) and the string hashed.
    SshHassh = "ssh.hassh", Request, true, ["ssh.hassh"];
    SshHasshString = "ssh.hassh.string", Request, true, ["ssh.hassh.string"];
    /// The server's HASSH and its string.
    SshHasshServer = "ssh.hassh.server", Response, true, ["ssh.hassh.server"];
    SshHasshServerString = "ssh.hassh.server.string", Response, true, ["ssh.hassh.server.string"];
    /// The share of an SMB tree connect (`\\host\share`), as the client wrote it.
    SmbShare = "smb.share", Request, true, ["smb.share", "smb_share"];
    /// The named pipe an SMB create opened on the IPC$ share.
    SmbNamedPipe = "smb.named_pipe", Request, true, ["smb.named_pipe", "smb_named_pipe"];
    SmbNtlmsspUser = "smb.ntlmssp_user", Request, true, ["smb.ntlmssp_user"];
    SmbNtlmsspDomain = "smb.ntlmssp_domain", Request, true, ["smb.ntlmssp_domain"];
    /// `1` or `2` (SMB 2 and 3): the number the `smb.version` keyword compares.
    SmbVersion = "smb.version", Either, true, ["\u{0}smb.version"];
    /// The data `base64_decode` decoded; its contents move into that keyword when the
    /// rule is parsed (no parser fills it).
    Base64Data = "base64_data", Either, true, ["base64_data"];
    /// The name of a file a protocol carries (SMB create, FTP transfer, HTTP URI path).
    FileName = "file.name", Either, true, ["file.name"];
    /// The type of a file a protocol carries, as libmagic names it (`PE32 executable …`).
    FileMagic = "file.magic", Either, true, ["file.magic"];
    /// The interface UUIDs bound on a DCERPC connection, lowercase text.
    DceIface = "dcerpc.iface", Request, true, ["\u{0}dce_iface"];
    /// The operation number of a DCERPC request, in decimal.
    DceOpnum = "dcerpc.opnum", Request, true, ["\u{0}dce_opnum"];
    /// The stub data of a DCERPC request or response, fragments reassembled.
    DceStubData = "dcerpc.stub_data", Either, true, ["dcerpc.stub_data", "dce_stub_data"];
    FtpCommand = "ftp.command", Request, true, ["ftp.command"];
    FtpCommandData = "ftp.command_data", Request, true, ["ftp.command_data"];
    /// One buffer per line of the reply.
    FtpReply = "ftp.reply", Response, true, ["ftp.reply"];
    FtpCompletionCode = "ftp.completion_code", Response, true, ["ftp.completion_code"];
    /// The message type of a Kerberos message, in decimal (`krb5_msg_type`).
    Krb5MsgType = "krb5.msg_type", Either, true, ["\u{0}krb5_msg_type"];
    /// Each part of the client principal (one buffer per name string).
    Krb5Cname = "krb5.cname", Either, true, ["krb5.cname", "krb5_cname"];
    /// Each part of the service principal.
    Krb5Sname = "krb5.sname", Either, true, ["krb5.sname", "krb5_sname"];
    /// The error code of a KRB-ERROR, in decimal (`krb5_err_code`).
    Krb5ErrCode = "krb5.err_code", Response, true, ["\u{0}krb5_err_code"];
    /// `1` when the message or its ticket uses DES or RC4 (`krb5.weak_encryption`).
    Krb5WeakEncryption = "krb5.weak_encryption", Either, true, ["\u{0}krb5.weak_encryption"];
    /// The ticket encryption of a KDC reply: its number, its name and `weak` for DES or
    /// RC4 (one buffer each; `krb5.ticket_encryption`).
    Krb5TicketEncryption = "krb5.ticket_encryption", Response, true, ["\u{0}krb5.ticket_encryption"];
    /// `active` or `passive`: the data channel the session last set up.
    FtpMode = "ftp.mode", Either, true, ["\u{0}ftp.mode"];
    /// The address a PORT command names, for `ftpbounce`.
    FtpPortAddress = "ftp.port_address", Request, true, ["\u{0}ftp.port_address"];
    /// Each HTTP/2 header field of a message as `name: value`, pseudo-headers included.
    Http2Header = "http2.header", Either, true, ["http2.header"];
    /// Each HTTP/2 header field name of a message.
    Http2HeaderName = "http2.header_name", Either, true, ["http2.header_name"];
    /// The type of each HTTP/2 frame of a transaction's direction, in decimal.
    Http2FrameType = "http2.frametype", Either, true, ["\u{0}http2.frametype"];
    /// The error code of each RST_STREAM or GOAWAY, in decimal.
    Http2ErrorCode = "http2.errorcode", Either, true, ["\u{0}http2.errorcode"];
    /// The weight of each PRIORITY frame or prioritised HEADERS, in decimal.
    Http2Priority = "http2.priority", Either, true, ["\u{0}http2.priority"];
    /// The increment of each WINDOW_UPDATE, in decimal.
    Http2Window = "http2.window", Either, true, ["\u{0}http2.window"];
    /// Each HPACK dynamic table size update, in decimal.
    Http2SizeUpdate = "http2.size_update", Either, true, ["\u{0}http2.size_update"];
    /// Each setting of a SETTINGS frame as `id=value`, in decimal.
    Http2Settings = "http2.settings", Either, true, ["\u{0}http2.settings"];
    /// The opcode of a DNS message, in decimal (`dns.opcode`).
    DnsOpcode = "dns.opcode", Either, true, ["\u{0}dns.opcode"];
    /// The type of each question and answer of a DNS message, in decimal (`dns.rrtype`).
    DnsRrtype = "dns.rrtype", Either, true, ["\u{0}dns.rrtype"];
    /// Each protocol the ClientHello offers (ALPN).
    TlsAlpn = "tls.alpn", Either, true, ["tls.alpn"];
    /// The lowercase hex MD5, SHA-1 and SHA-256 of each complete file, for `filemd5`,
    /// `filesha1`, `filesha256`.
    FileMd5 = "file.md5", Either, true, ["\u{0}file.md5"];
    FileSha1 = "file.sha1", Either, true, ["\u{0}file.sha1"];
    FileSha256 = "file.sha256", Either, true, ["\u{0}file.sha256"];
    /// The size of each complete file, in decimal (`filesize`).
    FileSize = "file.size", Either, true, ["\u{0}file.size"];
    /// The number of certificates the server sent, in decimal (`tls.cert_chain_len`).
    TlsCertChainLen = "tls.cert_chain_len", Response, true, ["\u{0}tls.cert_chain_len"];
    /// The packet's source and destination address: 4 bytes (IPv4) or 16 (IPv6).
    IpSrc = "ip.src", Either, true, ["ip.src"];
    IpDst = "ip.dst", Either, true, ["ip.dst"];
    /// The IPv4 header, options included.
    Ipv4Hdr = "ipv4.hdr", Either, true, ["ipv4.hdr"];
    /// The fixed IPv6 header.
    Ipv6Hdr = "ipv6.hdr", Either, true, ["ipv6.hdr"];
    /// The TCP header, options included.
    TcpHdr = "tcp.hdr", Either, true, ["tcp.hdr"];
    UdpHdr = "udp.hdr", Either, true, ["udp.hdr"];
    Icmpv4Hdr = "icmpv4.hdr", Either, true, ["icmpv4.hdr"];
    Icmpv6Hdr = "icmpv6.hdr", Either, true, ["icmpv6.hdr"];
    SipMethod = "sip.method", Request, true, ["sip.method"];
    SipUri = "sip.uri", Request, true, ["sip.uri"];
    /// The `SIP/2.0` of a request or status line.
    SipProtocol = "sip.protocol", Either, true, ["sip.protocol"];
    SipRequestLine = "sip.request_line", Request, true, ["sip.request_line"];
    SipStatCode = "sip.stat_code", Response, true, ["sip.stat_code"];
    SipStatMsg = "sip.stat_msg", Response, true, ["sip.stat_msg"];
    SipResponseLine = "sip.response_line", Response, true, ["sip.response_line"];
    /// Header values, compact names (`f`, `t`, `v`, `c`, `l`) included; one buffer
    /// per header line.
    SipFrom = "sip.from", Either, true, ["sip.from"];
    SipTo = "sip.to", Either, true, ["sip.to"];
    SipVia = "sip.via", Either, true, ["sip.via"];
    SipUserAgent = "sip.user_agent", Either, true, ["sip.user_agent"];
    SipContentType = "sip.content_type", Either, true, ["sip.content_type"];
    SipContentLength = "sip.content_length", Either, true, ["sip.content_length"];
    SipServer = "sip.server", Either, true, ["sip.server"];
    /// MQTT: the CONNECT's fields, the PUBLISH topic and payload, each topic of a
    /// SUBSCRIBE or UNSUBSCRIBE.
    MqttClientId = "mqtt.connect.clientid", Either, true, ["mqtt.connect.clientid"];
    MqttUsername = "mqtt.connect.username", Either, true, ["mqtt.connect.username"];
    MqttPassword = "mqtt.connect.password", Either, true, ["mqtt.connect.password"];
    MqttWillTopic = "mqtt.connect.willtopic", Either, true, ["mqtt.connect.willtopic"];
    MqttWillMessage = "mqtt.connect.willmessage", Either, true, ["mqtt.connect.willmessage"];
    MqttProtocolString =
        "mqtt.connect.protocol_string", Either, true, ["mqtt.connect.protocol_string"];
    MqttPublishTopic = "mqtt.publish.topic", Either, true, ["mqtt.publish.topic"];
    MqttPublishMessage = "mqtt.publish.message", Either, true, ["mqtt.publish.message"];
    MqttSubscribeTopic = "mqtt.subscribe.topic", Either, true, ["mqtt.subscribe.topic"];
    MqttUnsubscribeTopic = "mqtt.unsubscribe.topic", Either, true, ["mqtt.unsubscribe.topic"];
    /// MQTT numbers in decimal, one instance per message of the transaction: its type,
    /// fixed-header flags (retain 1, dup 8) and QoS, reason codes; the connection's
    /// protocol version, the CONNACK's session-present bit, the CONNECT flags byte.
    MqttType = "mqtt.type", Either, true, ["\u{0}mqtt.type"];
    MqttFlags = "mqtt.flags", Either, true, ["\u{0}mqtt.flags"];
    MqttQos = "mqtt.qos", Either, true, ["\u{0}mqtt.qos"];
    MqttReasonCode = "mqtt.reason_code", Either, true, ["\u{0}mqtt.reason_code"];
    MqttProtocolVersion = "mqtt.protocol_version", Either, true, ["\u{0}mqtt.protocol_version"];
    MqttSessionPresent =
        "mqtt.connack.session_present", Either, true, ["\u{0}mqtt.connack.session_present"];
    MqttConnectFlags = "mqtt.connect.flags", Either, true, ["\u{0}mqtt.connect.flags"];
    /// NTP: the reference identifier's four bytes; version, mode, stratum in decimal.
    NtpReferenceId = "ntp.reference_id", Either, true, ["ntp.reference_id"];
    NtpVersion = "ntp.version", Either, true, ["\u{0}ntp.version"];
    NtpMode = "ntp.mode", Either, true, ["\u{0}ntp.mode"];
    NtpStratum = "ntp.stratum", Either, true, ["\u{0}ntp.stratum"];
    /// The file a TFTP read or write request names.
    TftpFileName = "tftp.file_name", Request, true, ["tftp.file_name"];
    /// SNMP v1/v2c community string; version (1, 2, 3) and PDU type in decimal.
    SnmpCommunity = "snmp.community", Either, true, ["snmp.community"];
    SnmpVersion = "snmp.version", Either, true, ["\u{0}snmp.version"];
    SnmpPduType = "snmp.pdu_type", Either, true, ["\u{0}snmp.pdu_type"];
    /// DHCP lease, renewal and rebinding times (options 51, 58, 59), in decimal.
    DhcpLeaseTime = "dhcp.leasetime", Either, true, ["\u{0}dhcp.leasetime"];
    DhcpRenewalTime = "dhcp.renewal_time", Either, true, ["\u{0}dhcp.renewal_time"];
    DhcpRebindingTime = "dhcp.rebinding_time", Either, true, ["\u{0}dhcp.rebinding_time"];
    /// The version of a QUIC long-header packet (4 bytes) and the ClientHello's SNI.
    QuicVersion = "quic.version", Either, true, ["quic.version"];
    QuicSni = "quic.sni", Request, true, ["quic.sni"];
    /// The data channel port a PORT, EPRT, PASV or EPSV exchange sets, in decimal.
    FtpDynamicPort = "ftp.dynamic_port", Either, true, ["\u{0}ftp.dynamic_port"];
    /// RFB (VNC): the desktop name; the chosen security type and the security result
    /// (0 ok, 1 failed, 2 too many attempts), in decimal.
    RfbName = "rfb.name", Either, true, ["rfb.name"];
    RfbSecType = "rfb.sectype", Either, true, ["\u{0}rfb.sectype"];
    RfbSecResult = "rfb.secresult", Either, true, ["\u{0}rfb.secresult"];
    /// A WebSocket frame's payload, unmasked and inflated; the frame, its header and
    /// its data as on the wire (`frame:websocket.pdu`, `.header`, `.data`); its
    /// opcode, flags byte (FIN 0x80, RSV1-3 0x40-0x10) and masking key in decimal.
    WebsocketPayload = "websocket.payload", Either, true, ["websocket.payload"];
    WebsocketPdu = "frame:websocket.pdu", Either, true, ["frame:websocket.pdu"];
    WebsocketHeader = "frame:websocket.header", Either, true, ["frame:websocket.header"];
    WebsocketData = "frame:websocket.data", Either, true, ["frame:websocket.data"];
    WebsocketOpcode = "websocket.opcode", Either, true, ["\u{0}websocket.opcode"];
    WebsocketFlags = "websocket.flags", Either, true, ["\u{0}websocket.flags"];
    WebsocketMask = "websocket.mask", Either, true, ["\u{0}websocket.mask"];
    /// IKE: the SPIs and vendor IDs in lowercase hex; the key exchange and nonce data,
    /// and their lengths and the exchange type in decimal.
    IkeInitSpi = "ike.init_spi", Either, true, ["ike.init_spi"];
    IkeRespSpi = "ike.resp_spi", Either, true, ["ike.resp_spi"];
    IkeVendor = "ike.vendor", Either, true, ["ike.vendor"];
    IkeKeyExchange = "ike.key_exchange_payload", Either, true, ["ike.key_exchange_payload"];
    IkeNonce = "ike.nonce_payload", Either, true, ["ike.nonce_payload"];
    IkeExchType = "ike.exchtype", Either, true, ["\u{0}ike.exchtype"];
    IkeKeyExchangeLen =
        "ike.key_exchange_payload_length", Either, true, ["\u{0}ike.key_exchange_payload_length"];
    IkeNonceLen = "ike.nonce_payload_length", Either, true, ["\u{0}ike.nonce_payload_length"];
    /// Frames (`frame:<protocol>.<type>`): a protocol data unit as on the wire, and its
    /// header and data, or the parts of a SIP message, each with its line ends.
    DcerpcPduFrame = "frame:dcerpc.pdu", Either, true, ["frame:dcerpc.pdu"];
    DcerpcHdrFrame = "frame:dcerpc.hdr", Either, true, ["frame:dcerpc.hdr"];
    DcerpcDataFrame = "frame:dcerpc.data", Either, true, ["frame:dcerpc.data"];
    Http2PduFrame = "frame:http2.pdu", Either, true, ["frame:http2.pdu"];
    Http2HdrFrame = "frame:http2.hdr", Either, true, ["frame:http2.hdr"];
    Http2DataFrame = "frame:http2.data", Either, true, ["frame:http2.data"];
    SipPduFrame = "frame:sip.pdu", Either, true, ["frame:sip.pdu"];
    SipRequestLineFrame = "frame:sip.request.line", Request, true, ["frame:sip.request.line"];
    SipRequestHeadersFrame =
        "frame:sip.request.headers", Request, true, ["frame:sip.request.headers"];
    SipRequestBodyFrame = "frame:sip.request.body", Request, true, ["frame:sip.request.body"];
    SipResponseLineFrame = "frame:sip.response.line", Response, true, ["frame:sip.response.line"];
    SipResponseHeadersFrame =
        "frame:sip.response.headers", Response, true, ["frame:sip.response.headers"];
    SipResponseBodyFrame =
        "frame:sip.response.body", Response, true, ["frame:sip.response.body"];
}

impl Buffer {
    /// `ip.src` / `ip.dst`: read from the packet's addresses by the engine.
    pub fn is_address(self) -> bool {
        matches!(self, Buffer::IpSrc | Buffer::IpDst)
    }

    /// A packet header buffer (`ipv4.hdr`, `tcp.hdr`, ...), filled from every packet.
    pub fn packet_header(self) -> bool {
        use Buffer::*;
        matches!(self, Ipv4Hdr | Ipv6Hdr | TcpHdr | UdpHdr | Icmpv4Hdr | Icmpv6Hdr)
    }

    /// A multi-buffer: one inspection may hold several (one per header, query, name).
    /// As in Suricata 7 and later, naming such a buffer again in a rule starts a new
    /// list, which may match a different instance than the first.
    pub fn multi(self) -> bool {
        use Buffer::*;
        matches!(
            self,
            DnsQuery
                | HttpRequestHeader
                | HttpResponseHeader
                | TlsCerts
                | TlsSubjectAltName
                | SmtpRcptTo
                | FileName
                | FileMagic
                | Krb5Cname
                | Krb5Sname
                | Http2Header
                | Http2HeaderName
                | TlsAlpn
                | SipFrom
                | SipTo
                | SipVia
                | SipUserAgent
                | SipContentType
                | SipContentLength
                | SipServer
                | IkeVendor
                | DcerpcPduFrame
                | DcerpcHdrFrame
                | DcerpcDataFrame
                | Http2PduFrame
                | Http2HdrFrame
                | Http2DataFrame
                | WebsocketPdu
                | WebsocketHeader
                | WebsocketData
                | MqttSubscribeTopic
                | MqttUnsubscribeTopic
                | MqttType
                | MqttFlags
                | MqttQos
                | MqttReasonCode
        )
    }

    /// The legacy content modifiers [`Buffer::from_modifier`] reads.
    pub const MODIFIERS: &'static [&'static str] = &[
        "http_uri",
        "http_raw_uri",
        "http_method",
        "http_header",
        "http_raw_header",
        "http_cookie",
        "http_raw_cookie",
        "http_client_body",
        "http_server_body",
        "http_stat_code",
        "http_stat_msg",
        "http_user_agent",
        "http_host",
        "http_raw_host",
    ];

    /// The buffer of a legacy content modifier (`content:"x"; http_uri;`), which moves
    /// the content before it into that buffer.
    pub fn from_modifier(kw: &str) -> Option<Buffer> {
        Some(match kw {
            "http_uri" => Buffer::HttpUri,
            "http_raw_uri" => Buffer::HttpUriRaw,
            "http_method" => Buffer::HttpMethod,
            "http_header" => Buffer::HttpHeader,
            "http_raw_header" => Buffer::HttpHeaderRaw,
            "http_cookie" | "http_raw_cookie" => Buffer::HttpCookie,
            "http_client_body" => Buffer::HttpRequestBody,
            "http_server_body" => Buffer::FileData,
            "http_stat_code" => Buffer::HttpStatCode,
            "http_stat_msg" => Buffer::HttpStatMsg,
            "http_user_agent" => Buffer::HttpUserAgent,
            "http_host" => Buffer::HttpHost,
            "http_raw_host" => Buffer::HttpHostRaw,
            _ => return None,
        })
    }

    /// The buffer of a pcre HTTP flag (`/U`, `/H`, ...).
    pub fn from_pcre_flag(f: char) -> Option<Buffer> {
        Some(match f {
            'U' => Buffer::HttpUri,
            'I' => Buffer::HttpUriRaw,
            'P' => Buffer::HttpRequestBody,
            'Q' => Buffer::FileData,
            'H' => Buffer::HttpHeader,
            'D' => Buffer::HttpHeaderRaw,
            'M' => Buffer::HttpMethod,
            'C' | 'K' => Buffer::HttpCookie,
            'S' => Buffer::HttpStatCode,
            'Y' => Buffer::HttpStatMsg,
            'V' => Buffer::HttpUserAgent,
            'W' => Buffer::HttpHost,
            'Z' => Buffer::HttpHostRaw,
            _ => return None,
        })
    }

    /// True for buffers whose content Suricata requires to be lowercase (it is matched
    /// against a lowercased buffer).
    pub fn is_lowercased(self) -> bool {
        matches!(self, Buffer::HttpHost)
    }
}

/// The inspections of one sticky buffer in a rule.
#[derive(Debug)]
pub struct BufferList {
    pub(crate) buffer: Buffer,
    pub(crate) transforms: Vec<super::Transform>,
    pub(crate) matches: Vec<super::PayloadMatch>,
    /// `absent`: `Some(false)`: the buffer must be missing from the transaction;
    /// `Some(true)` (`absent: or_else`): missing, or present and matching.
    pub absent: Option<bool>,
    /// `file.data: to_client`: the direction a two-sided buffer is taken from
    /// (`Some(true)` to server), for rules that see both sides (`=>`).
    pub direction: Option<bool>,
}

/// Application-layer protocols the sensor identifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum AppProto {
    /// DNS over UDP and TCP.
    Dns,
    /// HTTP/1 on a flow; in a rule header (`http`), HTTP/1 and HTTP/2 alike.
    Http,
    /// `http1` in a rule header: HTTP/1 only (never a flow's protocol).
    Http1,
    /// HTTP/2 (with prior knowledge, or after an `h2c` upgrade).
    Http2,
    /// TLS (and the handshake of DTLS-less TLS on any port).
    Tls,
    /// SSH.
    Ssh,
    /// SMTP (with its MIME attachments).
    Smtp,
    /// SMB 1 and 2/3.
    Smb,
    /// DCE/RPC over TCP (and over SMB).
    Dcerpc,
    /// FTP control connections.
    Ftp,
    /// FTP data connections (files).
    FtpData,
    /// Kerberos 5 over UDP and TCP.
    Krb5,
    /// RDP (the connection sequence up to TLS).
    Rdp,
    /// SIP over UDP or TCP.
    Sip,
    /// MQTT 3.1.1 and 5.
    Mqtt,
    /// NTP.
    Ntp,
    /// TFTP.
    Tftp,
    /// SNMP v1 and v2c.
    Snmp,
    /// DHCP.
    Dhcp,
    /// QUIC (the Initial packets: SNI, versions).
    Quic,
    /// RFB (VNC).
    Rfb,
    /// WebSocket (after an HTTP upgrade).
    Websocket,
    /// IKEv1 and IKEv2 (`ike`, `ikev2` in a rule header).
    Ike,
}

impl AppProto {
    /// The protocol a rule header names, if the sensor identifies it.
    pub fn from_header(p: &str) -> Option<AppProto> {
        match p {
            "dns" => Some(AppProto::Dns),
            "http" => Some(AppProto::Http),
            "http1" => Some(AppProto::Http1),
            "http2" => Some(AppProto::Http2),
            "tls" | "ssl" => Some(AppProto::Tls),
            "ssh" => Some(AppProto::Ssh),
            "smtp" => Some(AppProto::Smtp),
            "smb" => Some(AppProto::Smb),
            "dcerpc" => Some(AppProto::Dcerpc),
            "ftp" => Some(AppProto::Ftp),
            "ftp-data" => Some(AppProto::FtpData),
            "krb5" => Some(AppProto::Krb5),
            "rdp" => Some(AppProto::Rdp),
            "sip" => Some(AppProto::Sip),
            "mqtt" => Some(AppProto::Mqtt),
            "ntp" => Some(AppProto::Ntp),
            "tftp" => Some(AppProto::Tftp),
            "snmp" => Some(AppProto::Snmp),
            "dhcp" => Some(AppProto::Dhcp),
            "quic" => Some(AppProto::Quic),
            "rfb" => Some(AppProto::Rfb),
            "websocket" => Some(AppProto::Websocket),
            "ike" | "ikev2" => Some(AppProto::Ike),
            _ => None,
        }
    }

    /// The EVE `app_proto` value.
    pub fn as_str(self) -> &'static str {
        match self {
            AppProto::Dns => "dns",
            AppProto::Http => "http",
            AppProto::Http1 => "http1",
            AppProto::Http2 => "http2",
            AppProto::Tls => "tls",
            AppProto::Ssh => "ssh",
            AppProto::Smtp => "smtp",
            AppProto::Smb => "smb",
            AppProto::Dcerpc => "dcerpc",
            AppProto::Ftp => "ftp",
            AppProto::FtpData => "ftp-data",
            AppProto::Krb5 => "krb5",
            AppProto::Rdp => "rdp",
            AppProto::Sip => "sip",
            AppProto::Mqtt => "mqtt",
            AppProto::Ntp => "ntp",
            AppProto::Tftp => "tftp",
            AppProto::Snmp => "snmp",
            AppProto::Dhcp => "dhcp",
            AppProto::Quic => "quic",
            AppProto::Rfb => "rfb",
            AppProto::Websocket => "websocket",
            AppProto::Ike => "ike",
        }
    }

    /// Does a rule for `self` apply to a flow of protocol `flow`? As in Suricata, a
    /// `dcerpc` rule also applies to SMB, which carries DCERPC over named pipes, and an
    /// `http` rule to HTTP/2 (whose requests fill the same buffers).
    pub fn applies_to(self, flow: AppProto) -> bool {
        use AppProto::*;
        self == flow || matches!((self, flow), (Dcerpc, Smb) | (Http, Http2) | (Http1, Http))
    }

    /// Protocols carried only over TCP.
    pub fn tcp_only(self) -> bool {
        use AppProto::*;
        !matches!(self, Dns | Krb5 | Sip | Ntp | Tftp | Snmp | Dhcp | Quic | Ike)
    }
}
