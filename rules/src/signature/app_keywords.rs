//! Keywords that compare a value of an application transaction (a version, an
//! operation number, an interface, an encryption type, a mode) rather than search a
//! buffer: each becomes an exact content or a number test on the buffer that holds
//! the value.

use super::keyword_parsers::{need, no_value};
use super::keywords::{Content, NumCmp, PayloadMatch};
use super::options::list_mut;
use super::{http2, Buffer, ParseError, Signature};

/// The keywords [`apply`] takes.
pub(super) const KEYWORDS: &[&str] = &[
    "tls.version",
    "ssl_version",
    "tls.subject",
    "tls.issuerdn",
    "tls.fingerprint",
    "dce_opnum",
    "dcerpc.opnum",
    "smb.version",
    "krb5_msg_type",
    "krb5_err_code",
    "dns.opcode",
    "dns.rrtype",
    "filesize",
    "tls.cert_chain_len",
    "dce_iface",
    "dcerpc.iface",
    "krb5.ticket_encryption",
    "krb5.weak_encryption",
    "ftp.mode",
    "http2.frametype",
    "http2.errorcode",
    "http2.priority",
    "http2.window",
    "http2.size_update",
    "http2.settings",
    "ntp.version",
    "ntp.stratum",
    "ntp.mode",
    "snmp.version",
    "snmp.pdu_type",
    "dhcp.leasetime",
    "dhcp.renewal_time",
    "dhcp.rebinding_time",
    "ftp.dynamic_port",
    "ike.exchtype",
    "ike.key_exchange_payload_length",
    "ike.nonce_payload_length",
    "rfb.sectype",
    "rfb.secresult",
    "websocket.opcode",
    "websocket.flags",
    "websocket.mask",
    "mqtt.type",
    "mqtt.flags",
    "mqtt.qos",
    "mqtt.protocol_version",
    "mqtt.reason_code",
    "mqtt.connack.session_present",
    "mqtt.connect.flags",
];

/// NTP modes by number (RFC 5905 §7.3), without `_` as [`named_number`] compares.
const NTP_MODES: [&str; 8] = [
    "RESERVED",
    "SYMMETRICACTIVE",
    "SYMMETRICPASSIVE",
    "CLIENT",
    "SERVER",
    "BROADCAST",
    "CONTROL",
    "PRIVATE",
];

/// The keywords whose value is one or more number comparisons (`1`, `<3`, `2-5`,
/// `!4`, comma-separated), with the buffer that holds the number.
const NUMBER_KEYWORDS: &[(&str, Buffer)] = &[
    ("dce_opnum", Buffer::DceOpnum),
    ("dcerpc.opnum", Buffer::DceOpnum),
    ("smb.version", Buffer::SmbVersion),
    ("krb5_msg_type", Buffer::Krb5MsgType),
    ("krb5_err_code", Buffer::Krb5ErrCode),
    ("dns.opcode", Buffer::DnsOpcode),
    ("dns.rrtype", Buffer::DnsRrtype),
    ("filesize", Buffer::FileSize),
    ("tls.cert_chain_len", Buffer::TlsCertChainLen),
    ("ntp.version", Buffer::NtpVersion),
    ("ntp.stratum", Buffer::NtpStratum),
    ("snmp.version", Buffer::SnmpVersion),
    ("snmp.pdu_type", Buffer::SnmpPduType),
    ("dhcp.leasetime", Buffer::DhcpLeaseTime),
    ("dhcp.renewal_time", Buffer::DhcpRenewalTime),
    ("dhcp.rebinding_time", Buffer::DhcpRebindingTime),
    ("ftp.dynamic_port", Buffer::FtpDynamicPort),
    ("rfb.sectype", Buffer::RfbSecType),
    ("ike.exchtype", Buffer::IkeExchType),
    ("ike.key_exchange_payload_length", Buffer::IkeKeyExchangeLen),
    ("ike.nonce_payload_length", Buffer::IkeNonceLen),
];

/// Adds keyword `kw` (written `name`, with `value`) to the rule.
pub(super) fn apply(
    sig: &mut Signature,
    kw: &str,
    name: &str,
    value: Option<&str>,
) -> Result<(), ParseError> {
    if let Some((_, buffer)) = NUMBER_KEYWORDS.iter().find(|(k, _)| *k == kw) {
        return apply_numbers(sig, *buffer, name, need(name, value)?);
    }
    match kw {
        "tls.version" => apply_tls_version(sig, name, need(name, value)?)?,
        "ssl_version" => apply_ssl_version(sig, name, need(name, value)?)?,
        "tls.subject" | "tls.issuerdn" | "tls.fingerprint" => {
            apply_certificate_text(sig, kw, name, need(name, value)?)?
        }
        "rfb.secresult" => apply_rfb_secresult(sig, name, need(name, value)?)?,
        "ntp.mode" => apply_ntp_mode(sig, name, need(name, value)?)?,
        "dce_iface" | "dcerpc.iface" => apply_dce_iface(sig, name, need(name, value)?)?,
        "krb5.ticket_encryption" => {
            let v = need(name, value)?.trim().to_ascii_lowercase();
            if v.is_empty() {
                return Err(ParseError::invalid(name, "an encryption type is needed"));
            }
            let b = Buffer::Krb5TicketEncryption;
            list_mut(sig, b).push(PayloadMatch::Content(exact(v.as_bytes())));
        }
        "krb5.weak_encryption" => {
            no_value(name, value)?;
            list_mut(sig, Buffer::Krb5WeakEncryption).push(PayloadMatch::Content(exact(b"1")));
        }
        "ftp.mode" => {
            let v = need(name, value)?.trim();
            if v != "active" && v != "passive" {
                return Err(ParseError::invalid(name, format!("`{v}`: active or passive")));
            }
            list_mut(sig, Buffer::FtpMode).push(PayloadMatch::Content(exact(v.as_bytes())));
        }
        k if k.starts_with("http2.") => apply_http2(sig, k, name, value)?,
        k if k.starts_with("mqtt.") || k.starts_with("websocket.") => {
            super::flag_keywords::apply(sig, k, name, need(name, value)?)?
        }
        _ => return Err(ParseError::invalid(name, "not a value keyword")),
    }
    Ok(())
}

/// A list of number comparisons on `buffer`.
fn apply_numbers(
    sig: &mut Signature,
    buffer: Buffer,
    name: &str,
    value: &str,
) -> Result<(), ParseError> {
    let cmps = value
        .split(',')
        .map(|item| NumCmp::parse(name, item, u32::MAX as u64))
        .collect::<Result<Vec<_>, _>>()?;
    list_mut(sig, buffer).push(PayloadMatch::Number(cmps));
    Ok(())
}

/// `tls.version`: one version, `1.0` … `1.3` or `ssl3`.
fn apply_tls_version(sig: &mut Signature, name: &str, value: &str) -> Result<(), ParseError> {
    let v = value.trim();
    let norm = match v {
        "1.0" | "1.1" | "1.2" | "1.3" => v,
        "ssl3" | "3.0" => "ssl3",
        other => return Err(ParseError::invalid(name, format!("unknown version `{other}`"))),
    };
    list_mut(sig, Buffer::TlsVersion).push(PayloadMatch::Content(exact(norm.as_bytes())));
    Ok(())
}

/// The legacy certificate forms: `tls.subject:"CN=x"` is a (negatable) substring of
/// the subject, `tls.issuerdn` of the issuer, `tls.fingerprint` the whole fingerprint
/// in any case.
fn apply_certificate_text(
    sig: &mut Signature,
    kw: &str,
    name: &str,
    value: &str,
) -> Result<(), ParseError> {
    let (negated, v) = super::content::unquote(name, value)?;
    let (b, mut c) = match kw {
        "tls.subject" => (Buffer::TlsCertSubject, contains(v.as_bytes())),
        "tls.issuerdn" => (Buffer::TlsCertIssuer, contains(v.as_bytes())),
        _ => (Buffer::TlsCertFingerprint, exact(v.to_ascii_lowercase().as_bytes())),
    };
    if v.is_empty() {
        return Err(ParseError::invalid(name, "a value is needed"));
    }
    c.negated = negated;
    c.nocase = b == Buffer::TlsCertFingerprint;
    list_mut(sig, b).push(PayloadMatch::Content(c));
    Ok(())
}

/// Splits a leading `!` off a value: (negated, the rest trimmed).
fn negation(value: &str) -> (bool, &str) {
    let v = value.trim();
    match v.strip_prefix('!') {
        Some(w) => (true, w.trim()),
        None => (false, v),
    }
}

/// `rfb.secresult`: `ok`, `fail`, `toomany`, `unknown` (any other value) or a
/// number; `!` negates.
fn apply_rfb_secresult(sig: &mut Signature, name: &str, value: &str) -> Result<(), ParseError> {
    let (negated, word) = negation(value);
    let cmp = match word.to_ascii_lowercase().as_str() {
        "ok" => NumCmp::Eq(0),
        "fail" => NumCmp::Eq(1),
        "toomany" => NumCmp::Eq(2),
        "unknown" => NumCmp::Ge(3),
        n => NumCmp::Eq(
            n.parse().map_err(|_| ParseError::invalid(name, format!("unknown result `{word}`")))?,
        ),
    };
    let cmp = match (negated, cmp) {
        (false, c) => c,
        (true, NumCmp::Eq(n)) => NumCmp::Ne(n),
        (true, _) => NumCmp::Lt(3),
    };
    list_mut(sig, Buffer::RfbSecResult).push(PayloadMatch::Number(vec![cmp]));
    Ok(())
}

/// `ntp.mode`: a mode by name or number, `!` for any other.
fn apply_ntp_mode(sig: &mut Signature, name: &str, value: &str) -> Result<(), ParseError> {
    let (negated, word) = negation(value);
    let n = named_number(word, &NTP_MODES)
        .filter(|n| *n < 8)
        .ok_or_else(|| ParseError::invalid(name, format!("unknown mode `{word}`")))?;
    let cmp = if negated { NumCmp::Ne(n) } else { NumCmp::Eq(n) };
    list_mut(sig, Buffer::NtpMode).push(PayloadMatch::Number(vec![cmp]));
    Ok(())
}

/// `dce_iface`: the interface UUID (the version and `any_frag` after it are not
/// compared).
fn apply_dce_iface(sig: &mut Signature, name: &str, value: &str) -> Result<(), ParseError> {
    let uuid = value.split(',').next().unwrap_or_default().trim().to_ascii_lowercase();
    let well_formed = uuid.len() == 36
        && uuid.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if !well_formed {
        return Err(ParseError::invalid(name, format!("`{uuid}` is not a UUID")));
    }
    list_mut(sig, Buffer::DceIface).push(PayloadMatch::Content(exact(uuid.as_bytes())));
    Ok(())
}

/// The HTTP/2 value keywords: frame types and error codes by name or number, numbers
/// compared, a setting by name with an optional comparison of its value.
fn apply_http2(
    sig: &mut Signature,
    kw: &str,
    name: &str,
    value: Option<&str>,
) -> Result<(), ParseError> {
    match kw {
        "http2.frametype" | "http2.errorcode" => {
            let v = need(name, value)?.trim();
            let (b, names) = match kw {
                "http2.frametype" => (Buffer::Http2FrameType, &http2::FRAME_TYPES[..]),
                _ => (Buffer::Http2ErrorCode, &http2::ERROR_CODES[..]),
            };
            let n = named_number(v, names)
                .ok_or_else(|| ParseError::invalid(name, format!("unknown value `{v}`")))?;
            list_mut(sig, b).push(PayloadMatch::Number(vec![NumCmp::Eq(n)]));
        }
        "http2.priority" | "http2.window" | "http2.size_update" => {
            let b = match kw {
                "http2.priority" => Buffer::Http2Priority,
                "http2.window" => Buffer::Http2Window,
                _ => Buffer::Http2SizeUpdate,
            };
            let cmp = NumCmp::parse(name, need(name, value)?, u32::MAX as u64)?;
            list_mut(sig, b).push(PayloadMatch::Number(vec![cmp]));
        }
        "http2.settings" => {
            // `SETTINGS_NAME` or a number, then maybe a comparison of its value.
            let v = need(name, value)?.trim();
            let split = v.find(['<', '>', '=', '!']).unwrap_or(v.len());
            let (id, cmp) = v.split_at(split);
            let id = id.trim();
            let n = match id.parse::<u64>() {
                Ok(n) => n,
                // Settings are numbered from 1.
                Err(_) => {
                    named_number(id.strip_prefix("SETTINGS_").unwrap_or(id), &http2::SETTINGS)
                        .map(|i| i + 1)
                        .ok_or_else(|| {
                            ParseError::invalid(name, format!("unknown setting `{v}`"))
                        })?
                }
            };
            let mut key = exact(format!("{n}=").as_bytes());
            key.endswith = false;
            let list = list_mut(sig, Buffer::Http2Settings);
            list.push(PayloadMatch::Content(key));
            let cmp = cmp.trim_start_matches('=').trim();
            if !cmp.is_empty() {
                list.push(PayloadMatch::Number(vec![NumCmp::parse(name, cmp, u32::MAX as u64)?]));
            }
        }
        _ => return Err(ParseError::invalid(name, "not a value keyword")),
    }
    Ok(())
}

/// A value given by name (case and `_` ignored: its index) or as a number.
fn named_number(v: &str, names: &[&str]) -> Option<u64> {
    if let Ok(n) = v.parse::<u64>() {
        return Some(n);
    }
    let v = v.replace('_', "").to_ascii_uppercase();
    names.iter().position(|n| !n.is_empty() && n.eq_ignore_ascii_case(&v)).map(|i| i as u64)
}

/// `ssl_version:tls1.0,tls1.1` (any of them) or `ssl_version:!sslv3,tls1.0` (none of
/// them: a `!` before the first name negates the list, as Suricata 7.0.14 reads it).
fn apply_ssl_version(sig: &mut Signature, name: &str, v: &str) -> Result<(), ParseError> {
    let v = v.trim();
    let (negated, list) = match v.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    let mut versions = Vec::new();
    for item in list.split(',') {
        let item = item.trim().trim_start_matches('!').to_ascii_lowercase();
        let code = match item.as_str() {
            "sslv2" => 0x0200,
            "sslv3" => 0x0300,
            "tls1.0" => 0x0301,
            "tls1.1" => 0x0302,
            "tls1.2" => 0x0303,
            "tls1.3" => 0x0304,
            other => return Err(ParseError::invalid(name, format!("unknown version `{other}`"))),
        };
        versions.push(code);
    }
    let list = list_mut(sig, Buffer::SslVersion);
    if negated {
        list.extend(versions.into_iter().map(|c| PayloadMatch::Number(vec![NumCmp::Ne(c)])));
    } else {
        list.push(PayloadMatch::Number(versions.into_iter().map(NumCmp::Eq).collect()));
    }
    Ok(())
}

/// A content found anywhere in the buffer.
fn contains(pattern: &[u8]) -> Content {
    Content { offset: None, depth: None, startswith: false, endswith: false, ..exact(pattern) }
}

/// A content that matches the whole buffer and nothing else.
fn exact(pattern: &[u8]) -> Content {
    Content {
        pattern: pattern.to_vec(),
        negated: false,
        nocase: false,
        offset: Some(0),
        depth: Some(pattern.len() as u32),
        distance: None,
        within: None,
        startswith: true,
        endswith: true,
        fast_pattern: false,
        fast_pattern_chop: None,
        vars: Default::default(),
    }
}
