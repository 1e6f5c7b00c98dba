//! The rule header: `action proto src sport -> dst dport (`.

use super::address::{parse_addresses, parse_ports, AddressSet, PortSet, Vars};
use super::ParseError;

/// A rule's action. An IDS alerts on `drop` and `reject` rules too (they are logged with their action).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    // Declaration order is Suricata's default action order (pass first).
    /// `pass`: matching traffic is not inspected further by later rules.
    Pass,
    /// `drop` (an IPS action; here, an alert that says so).
    Drop,
    /// `reject` (likewise).
    Reject,
    /// `alert`.
    Alert,
}

impl Action {
    /// The action's keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pass => "pass",
            Action::Drop => "drop",
            Action::Reject => "reject",
            Action::Alert => "alert",
        }
    }
}

/// The protocol of the header. Application protocols are recognised so that a rule using
/// one is reported precisely until the application layer supports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    /// `ip`: any IP packet.
    Ip,
    /// `tcp`.
    Tcp,
    /// `udp`.
    Udp,
    /// `icmp`: ICMP and ICMPv6.
    Icmp,
    /// `icmpv6`.
    Icmpv6,
    /// `sctp`.
    Sctp,
}

impl Proto {
    /// Does a packet with IP protocol number `p` belong to this rule protocol?
    pub fn matches(self, p: u8) -> bool {
        match self {
            Proto::Ip => true,
            Proto::Tcp => p == 6,
            Proto::Udp => p == 17,
            Proto::Icmp => p == 1 || p == 58,
            Proto::Icmpv6 => p == 58,
            Proto::Sctp => p == 132,
        }
    }
}

/// Application-layer protocols that may appear in a header; all wait for the app layer.
const APP_PROTOS: &[&str] = &[
    "http",
    "http1",
    "http2",
    "dns",
    "tls",
    "ssl",
    "ssh",
    "smtp",
    "ftp",
    "ftp-data",
    "smb",
    "dcerpc",
    "nfs",
    "krb5",
    "sip",
    "rdp",
    "modbus",
    "dnp3",
    "enip",
    "imap",
    "pop3",
    "pgsql",
    "telnet",
    "ldap",
    "doh2",
    "bittorrent-dht",
    "template",
    "pkthdr",
    "tcp-pkt",
    "tcp-stream",
    "udp-pkt",
    "icmpv4",
    "ipv4",
    "ipv6",
    "ip4",
    "ip6",
    "mdns",
    "nntp",
    "msn",
    "irc",
    "jabber",
];

pub struct Header<'a> {
    pub action: Action,
    pub proto: Proto,
    pub src: AddressSet,
    pub src_ports: PortSet,
    pub dst: AddressSet,
    pub dst_ports: PortSet,
    pub bidirectional: bool,
    /// `=>`: a transactional rule, whose keywords may look at both sides of one
    /// transaction; its addresses are the client's (source) and the server's.
    pub transactional: bool,
    /// An application-layer protocol of the header (`http`, `dns`, ...): the rule's
    /// options are still parsed, then the rule is reported as unsupported.
    pub app_proto: Option<String>,
    /// The application protocol when this engine supports it.
    pub app_proto_supported: Option<super::AppProto>,
    /// `tcp-pkt`: TCP packets only, never the reassembled stream.
    pub packet_only: bool,
    _text: &'a str,
}

/// Splits the header into whitespace-separated tokens, keeping `[ ... ]` groups whole.
fn header_tokens(s: &str) -> Result<Vec<&str>, ParseError> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        match c {
            '[' => {
                depth += 1;
                start.get_or_insert(i);
            }
            ']' => {
                depth -= 1;
                if depth < 0 {
                    return Err(ParseError::grammar(format!(
                        "unbalanced brackets in header `{s}`"
                    )));
                }
            }
            c if c.is_whitespace() && depth == 0 => {
                if let Some(st) = start.take() {
                    out.push(&s[st..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if depth != 0 {
        return Err(ParseError::grammar(format!("unbalanced brackets in header `{s}`")));
    }
    if let Some(st) = start {
        out.push(&s[st..]);
    }
    Ok(out)
}

/// Parses the header and returns it with the text between the option parentheses.
pub fn parse_header<'a>(text: &'a str, vars: &Vars) -> Result<(Header<'a>, &'a str), ParseError> {
    let text = text.trim();
    let open = text.find('(').ok_or_else(|| {
        ParseError::grammar("missing opening parenthesis before the options".to_string())
    })?;
    let body = text[open + 1..].trim_end().strip_suffix(')').ok_or_else(|| {
        ParseError::grammar("rule does not end with a closing parenthesis".to_string())
    })?;
    let head = &text[..open];
    let toks = header_tokens(head)?;
    if toks.len() != 7 {
        return Err(ParseError::grammar(format!(
            "header must have 7 fields (action proto src sport dir dst dport), found {}: `{}`",
            toks.len(),
            head.trim()
        )));
    }
    let action = match toks[0] {
        "alert" => Action::Alert,
        "pass" => Action::Pass,
        "drop" => Action::Drop,
        "reject" | "rejectsrc" | "rejectdst" | "rejectboth" => Action::Reject,
        "config" => return Err(ParseError::unsupported("action `config`")),
        other => return Err(ParseError::grammar(format!("unknown action `{other}`"))),
    };
    let mut app_proto = None;
    let mut app_proto_supported = None;
    let proto = match toks[1].to_ascii_lowercase().as_str() {
        "ip" | "pkthdr" | "ipv4" | "ip4" | "ipv6" | "ip6" => Proto::Ip,
        "tcp" | "tcp-pkt" => Proto::Tcp,
        "udp" => Proto::Udp,
        "icmp" | "icmpv4" => Proto::Icmp,
        "icmpv6" => Proto::Icmpv6,
        "sctp" => Proto::Sctp,
        p if super::AppProto::from_header(p).is_some() => {
            let app = super::AppProto::from_header(p);
            app_proto_supported = app;
            if app.is_some_and(|a| a.tcp_only()) {
                Proto::Tcp
            } else {
                Proto::Ip
            }
        }
        p if APP_PROTOS.contains(&p) => {
            app_proto = Some(p.to_string());
            Proto::Ip
        }
        p => return Err(ParseError::grammar(format!("unknown protocol `{p}`"))),
    };
    let bidirectional = match toks[4] {
        "->" => false,
        "<>" => true,
        "=>" => false,
        d => return Err(ParseError::grammar(format!("invalid direction `{d}`"))),
    };
    let header = Header {
        action,
        proto,
        src: parse_addresses(toks[2], vars)?,
        src_ports: parse_ports(toks[3], vars)?,
        dst: parse_addresses(toks[5], vars)?,
        dst_ports: parse_ports(toks[6], vars)?,
        bidirectional,
        transactional: toks[4] == "=>",
        app_proto,
        app_proto_supported,
        packet_only: toks[1].eq_ignore_ascii_case("tcp-pkt"),
        _text: head,
    };
    Ok((header, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_with_spaced_groups() {
        let (h, body) = parse_header(
            "alert tcp [1.2.3.4, 5.6.7.8] any <> $HOME_NET [80, 443] (msg:\"x\"; sid:1;)",
            &Vars::default(),
        )
        .unwrap();
        assert_eq!(h.action, Action::Alert);
        assert!(h.bidirectional);
        assert!(h.dst_ports.contains(443));
        assert_eq!(body, "msg:\"x\"; sid:1;");
    }

    #[test]
    fn header_errors() {
        let v = Vars::default();
        assert!(parse_header("alert tcp any any -> any (sid:1;)", &v).is_err());
        assert!(parse_header("alert tcp any any -> any any sid:1;", &v).is_err());
        assert!(parse_header("alert tcp any any -> any any (sid:1;", &v).is_err());
        let (h, _) = parse_header("alert modbus any any -> any any (sid:1;)", &v).unwrap();
        assert_eq!(h.app_proto.as_deref(), Some("modbus"));
        let (h, _) = parse_header("alert smb any any -> any any (sid:1;)", &v).unwrap();
        assert_eq!(h.app_proto_supported, Some(crate::signature::AppProto::Smb));
        let (h, _) = parse_header("alert http any any -> any any (sid:1;)", &v).unwrap();
        assert_eq!(h.app_proto_supported, Some(crate::signature::AppProto::Http));
        assert_eq!(h.proto, Proto::Tcp);
        assert!(parse_header("alret tcp any any -> any any (sid:1;)", &v).is_err());
    }
}
