//! Keywords that compare a value of an application transaction (a version, an
//! operation number, an interface, an encryption type, a mode) rather than search a
//! buffer: each becomes an exact content or a number test on the buffer that holds
//! the value.

use super::keyword_parsers::{need, no_value};
use super::keywords::{Content, NumCmp, PayloadMatch};
use super::options::list_mut;
use super::{Buffer, ParseError, Signature};

/// The keywords [`apply`] takes.
pub(super) const KEYWORDS: &[&str] = &[
    "tls.version",
    "dce_opnum",
    "dcerpc.opnum",
    "smb.version",
    "krb5_msg_type",
    "krb5_err_code",
    "dce_iface",
    "dcerpc.iface",
    "krb5.ticket_encryption",
    "krb5.weak_encryption",
    "ftp.mode",
];

/// Adds keyword `kw` (written `name`, with `value`) to the rule.
pub(super) fn apply(
    sig: &mut Signature,
    kw: &str,
    name: &str,
    value: Option<&str>,
) -> Result<(), ParseError> {
    match kw {
        "tls.version" => {
            let v = need(name, value)?.trim();
            let norm = match v {
                "1.0" | "1.1" | "1.2" | "1.3" => v,
                "ssl3" | "3.0" => "ssl3",
                other => {
                    return Err(ParseError::invalid(name, format!("unknown version `{other}`")))
                }
            };
            list_mut(sig, Buffer::TlsVersion).push(PayloadMatch::Content(exact(norm.as_bytes())));
        }
        "dce_opnum" | "dcerpc.opnum" | "smb.version" | "krb5_msg_type" | "krb5_err_code" => {
            let b = match kw {
                "smb.version" => Buffer::SmbVersion,
                "krb5_msg_type" => Buffer::Krb5MsgType,
                "krb5_err_code" => Buffer::Krb5ErrCode,
                _ => Buffer::DceOpnum,
            };
            let cmps = need(name, value)?
                .split(',')
                .map(|item| NumCmp::parse(name, item, u32::MAX as u64))
                .collect::<Result<Vec<_>, _>>()?;
            list_mut(sig, b).push(PayloadMatch::Number(cmps));
        }
        "dce_iface" | "dcerpc.iface" => {
            let v = need(name, value)?;
            let uuid = v.split(',').next().unwrap_or_default().trim().to_ascii_lowercase();
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
        }
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
        _ => return Err(ParseError::invalid(name, "not a value keyword")),
    }
    Ok(())
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
    }
}
