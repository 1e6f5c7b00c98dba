//! Checks of packet headers (IP, TCP, ICMP, VLAN), file hashes, stream sizes and
//! the decoder, stream and application-layer events.

use super::*;

/// The keywords of this family (packet header checks and events), as [`apply`] takes them.
pub(super) const KEYWORDS: &[&str] = &[
    "ipopts",
    "stream_size",
    "vlan.id",
    "vlan.layers",
    "itype",
    "icode",
    "icmp_id",
    "icmp_seq",
    "ttl",
    "ip_proto",
    "id",
    "seq",
    "ack",
    "window",
    "flags",
    "tcp.flags",
    "fragbits",
    "sameip",
    "ftpbounce",
    "filemd5",
    "filesha1",
    "filesha256",
    "decode-event",
    "decode_event",
    "stream-event",
    "stream_event",
    "app-layer-event",
    "app_layer_event",
];

/// Applies a packet header check or event (one of [`KEYWORDS`]) to `sig`.
pub(super) fn apply(sig: &mut Signature, o: Opt) -> Result<(), ParseError> {
    let Opt { kw, name, value } = o;
    match kw {
        "ipopts" => sig.header_checks.push(parse_ipopts(name, need(name, value)?)?),
        "stream_size" => sig.header_checks.push(parse_stream_size(name, need(name, value)?)?),
        "vlan.id" => sig.header_checks.push(super::super::vlan::parse_vlan_id(name, value)?),
        "vlan.layers" => {
            sig.header_checks.push(super::super::vlan::parse_vlan_layers(name, value)?)
        }
        "itype" => sig.header_checks.push(HeaderCheck::IcmpType(NumCmp::parse(
            name,
            need(name, value)?,
            255,
        )?)),
        "icode" => sig.header_checks.push(HeaderCheck::IcmpCode(NumCmp::parse(
            name,
            need(name, value)?,
            255,
        )?)),
        "icmp_id" => sig
            .header_checks
            .push(HeaderCheck::IcmpId(parse_small(name, need(name, value)?)? as u16)),
        "icmp_seq" => sig
            .header_checks
            .push(HeaderCheck::IcmpSeq(parse_small(name, need(name, value)?)? as u16)),
        "ttl" => {
            sig.header_checks.push(HeaderCheck::Ttl(NumCmp::parse(name, need(name, value)?, 255)?))
        }
        "ip_proto" => {
            sig.header_checks.push(HeaderCheck::IpProto(parse_ip_proto(need(name, value)?)?))
        }
        "id" => {
            sig.header_checks.push(HeaderCheck::IpId(parse_small(name, need(name, value)?)? as u16))
        }
        "seq" => sig.header_checks.push(HeaderCheck::TcpSeq(parse_u32(name, need(name, value)?)?)),
        "ack" => sig.header_checks.push(HeaderCheck::TcpAck(parse_u32(name, need(name, value)?)?)),
        "window" => {
            let v = need(name, value)?.trim();
            let (negated, v) = match v.strip_prefix('!') {
                Some(r) => (true, r),
                None => (false, v),
            };
            let value = v
                .trim()
                .parse::<u16>()
                .map_err(|_| ParseError::invalid(name, format!("invalid window `{v}`")))?;
            sig.header_checks.push(HeaderCheck::TcpWindow { value, negated });
        }
        "flags" | "tcp.flags" => sig.header_checks.push(parse_tcp_flags(need(name, value)?)?),
        "fragbits" => sig.header_checks.push(parse_fragbits(need(name, value)?)?),
        "sameip" => {
            no_value(name, value)?;
            sig.header_checks.push(HeaderCheck::SameIp);
        }
        "ftpbounce" => {
            no_value(name, value)?;
            sig.header_checks.push(HeaderCheck::FtpBounce);
        }
        "filemd5" | "filesha1" | "filesha256" => {
            let check = parse_file_hash(name, need(name, value)?, &sig.origin.file)?;
            sig.header_checks.push(check);
        }
        "decode-event" | "decode_event" | "stream-event" | "stream_event" | "app-layer-event"
        | "app_layer_event" => {
            sig.header_checks.push(parse_event(name, need(name, value)?)?);
        }
        other => return Err(ParseError::unknown(other)),
    }
    Ok(())
}
