//! DNS over HTTPS (RFC 8484) seen in cleartext HTTP/2: a DNS message as the body of a
//! POST or of a response (`application/dns-message`), or as the base64url `dns`
//! parameter of a GET. Its queries fill `dns.query` and its answer is logged as a
//! `dns` record, as Suricata does; DNS hidden in HTTP is what an analyst wants to see.

use gatewatch_rules::signature::Buffer;

use super::hpack::Field;
use crate::app::dns::parse_message;
use crate::app::dns::record::DnsBody;
use crate::app::parser::{AppCx, Inspection};
use crate::app::records::Record;
use base64::Engine;

const DNS_MESSAGE: &[u8] = b"application/dns-message";

/// The DNS message a direction of a stream carries, if any: `fields` are the
/// direction's header fields (the request's when `is_request`), `body` its body.
pub(super) fn message(fields: &[Field], is_request: bool, body: Option<&[u8]>) -> Option<Vec<u8>> {
    let value = |name: &[u8]| {
        fields.iter().find_map(|f| match f {
            Field::Header(n, v) if n.eq_ignore_ascii_case(name) => Some(v.as_slice()),
            _ => None,
        })
    };
    let typed = value(b"content-type").is_some_and(|t| t.starts_with(DNS_MESSAGE));
    if typed {
        return body.filter(|b| !b.is_empty()).map(<[u8]>::to_vec);
    }
    // A GET's `?dns=` parameter.
    if !is_request || value(b":method") != Some(b"GET") {
        return None;
    }
    let path = value(b":path")?;
    let query = &path[memchr::memchr(b'?', path)? + 1..];
    let param = query.split(|c| *c == b'&').find_map(|p| p.strip_prefix(b"dns="))?;
    // base64url (RFC 8484 §4.1: no padding, though some clients pad).
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(param).ok().filter(|m| !m.is_empty())
}

/// Parses `msg` as DNS: its queries into the inspection; a response (which repeats
/// the queries) is logged as a `dns` record, one per transaction as Suricata logs DoH.
pub(super) fn inspect(msg: &[u8], dir: usize, insp: &mut Inspection, cx: &mut AppCx<'_>) {
    match parse_message(msg) {
        Ok(m) => {
            cx.count("http2_doh_messages", 1);
            if !m.is_response() {
                for q in &m.questions {
                    insp.push(Buffer::DnsQuery, &q.name);
                }
            } else {
                cx.record(dir == 0, Record::Dns(DnsBody::from_message(&m, 0)));
            }
        }
        Err(_) => cx.count("http2_errors_doh", 1),
    }
}
