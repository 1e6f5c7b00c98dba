//! DNS messages (RFC 1035), over UDP and TCP (2-byte length prefix): header, questions
//! and resource records with A, AAAA, CNAME, NS, PTR, MX, TXT and SOA data decoded;
//! name compression followed with loop protection.

use gatewatch_rules::signature::Buffer;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Cursor, ParseError};

pub mod conn;
pub(crate) mod record;

/// Records parsed per section; the rest are counted in `truncated_records`.
pub const MAX_RECORDS: usize = 256;
/// Compression pointers followed for one name before it is called a loop.
const MAX_POINTERS: usize = 32;
/// Longest name kept (RFC 1035: 255 bytes on the wire).
const MAX_NAME: usize = 1025;

/// DNS record types (RFC 1035 and later) the parser decodes.
pub mod rtype {
    pub(crate) const A: u16 = 1;
    pub(crate) const NS: u16 = 2;
    pub(crate) const CNAME: u16 = 5;
    pub(crate) const SOA: u16 = 6;
    pub(crate) const PTR: u16 = 12;
    pub(crate) const MX: u16 = 15;
    pub(crate) const TXT: u16 = 16;
    pub(crate) const AAAA: u16 = 28;

    /// Suricata's names for EVE `rrtype`.
    pub fn name(t: u16) -> String {
        match t {
            A => "A".into(),
            NS => "NS".into(),
            CNAME => "CNAME".into(),
            SOA => "SOA".into(),
            PTR => "PTR".into(),
            MX => "MX".into(),
            TXT => "TXT".into(),
            AAAA => "AAAA".into(),
            33 => "SRV".into(),
            41 => "OPT".into(),
            65 => "HTTPS".into(),
            255 => "ANY".into(),
            other => other.to_string(),
        }
    }
}

/// EVE `rcode` names.
pub fn rcode_name(rcode: u8) -> &'static str {
    match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        _ => "OTHER",
    }
}

/// A question of a DNS message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// Dotted name as on the wire (not lower-cased); labels with dots or bytes outside
    /// printable ASCII are kept as they are.
    pub name: Vec<u8>,
    pub(crate) qtype: u16,
    pub(crate) qclass: u16,
}

/// The data of a resource record, decoded for the types EVE shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RData<'a> {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// A name (CNAME, NS, PTR).
    Name(Vec<u8>),
    /// A mail exchanger.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// The exchanger's name.
        exchange: Vec<u8>,
    },
    /// The character strings of a TXT record.
    Txt(Vec<&'a [u8]>),
    /// A zone's start of authority.
    Soa {
        /// The primary name server.
        mname: Vec<u8>,
        /// The responsible mailbox.
        rname: Vec<u8>,
        /// The zone's serial number.
        serial: u32,
        /// Seconds between refreshes.
        refresh: u32,
        /// Seconds between retries.
        retry: u32,
        /// Seconds until the zone expires.
        expire: u32,
        /// The negative-caching TTL.
        minimum: u32,
    },
    /// Any other type, undecoded.
    Other(&'a [u8]),
}

/// A resource record (answer, authority or additional).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The owner name, dotted, as on the wire.
    pub name: Vec<u8>,
    pub(crate) rtype: u16,
    pub(crate) class: u16,
    /// Time to live, seconds.
    pub ttl: u32,
    /// The decoded data.
    pub data: RData<'a>,
}

/// A parsed DNS message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// The transaction id.
    pub id: u16,
    /// Header flags as on the wire.
    pub flags: u16,
    /// The questions.
    pub questions: Vec<Question>,
    /// The answers.
    pub answers: Vec<Record<'a>>,
    pub(crate) authorities: Vec<Record<'a>>,
    pub(crate) additionals: Vec<Record<'a>>,
    /// Records announced but not parsed (beyond MAX_RECORDS).
    pub truncated_records: usize,
    /// A name was longer than the limit or a pointer loop was cut.
    pub name_anomaly: bool,
}

/// The buffers rules inspect in a message: `dns.query` (a request's questions),
/// `dns.opcode`, and `dns.rrtype` of each question and answer, in decimal.
pub fn buffers(msg: &Message<'_>) -> Vec<(Buffer, Vec<u8>)> {
    let mut out = Vec::with_capacity(msg.questions.len() * 2 + 1);
    if !msg.is_response() {
        out.extend(msg.questions.iter().map(|q| (Buffer::DnsQuery, q.name.clone())));
    }
    out.push((Buffer::DnsOpcode, msg.opcode().to_string().into_bytes()));
    let types = msg.questions.iter().map(|q| q.qtype).chain(msg.answers.iter().map(|a| a.rtype));
    for t in types {
        out.push((Buffer::DnsRrtype, t.to_string().into_bytes()));
    }
    out
}

/// The anomalies of a message (`app-layer-event:dns.*`); `to_server`: sent by the
/// flow's client.
pub fn events(msg: &Message<'_>, to_server: bool) -> impl Iterator<Item = &'static str> {
    let response = msg.is_response();
    [
        (msg.flags & 0x0040 != 0, "dns.z_flag_set"),
        (to_server && response, "dns.not_a_request"),
        (!to_server && !response, "dns.not_a_response"),
        // Opcodes 3 and 6 to 15 are unassigned (RFC 6895).
        (matches!(msg.opcode(), 3 | 6..=15), "dns.invalid_opcode"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| n)
}

impl Message<'_> {
    pub(crate) fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    pub(crate) fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xf) as u8
    }
    pub(crate) fn rcode(&self) -> u8 {
        (self.flags & 0xf) as u8
    }
    pub(crate) fn truncated(&self) -> bool {
        self.flags & 0x0200 != 0
    }
}

/// Reads a possibly compressed name starting at `c.pos`; advances `c` past it.
fn read_name(c: &mut Cursor<'_>, anomaly: &mut bool) -> Result<Vec<u8>, ParseError> {
    let msg = c.buf;
    let mut out: Vec<u8> = Vec::new();
    let mut pos = c.pos;
    let mut jumped = false;
    let mut pointers = 0;
    loop {
        let len = *msg.get(pos).ok_or(ParseError::Incomplete)? as usize;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    if !jumped {
                        c.pos = pos + 1;
                    }
                    return Ok(out);
                }
                let label = msg.get(pos + 1..pos + 1 + len).ok_or(ParseError::Incomplete)?;
                if out.len() + len < MAX_NAME {
                    if !out.is_empty() {
                        out.push(b'.');
                    }
                    out.extend_from_slice(label);
                } else {
                    *anomaly = true;
                }
                pos += 1 + len;
            }
            0xc0 => {
                let lo = *msg.get(pos + 1).ok_or(ParseError::Incomplete)? as usize;
                let target = (len & 0x3f) << 8 | lo;
                if !jumped {
                    c.pos = pos + 2;
                }
                jumped = true;
                pointers += 1;
                if pointers > MAX_POINTERS || target >= msg.len() {
                    *anomaly = true;
                    return if target >= msg.len() {
                        Err(ParseError::Malformed("dns.name_pointer_out_of_range"))
                    } else {
                        Err(ParseError::Malformed("dns.name_pointer_loop"))
                    };
                }
                pos = target;
            }
            _ => return Err(ParseError::Malformed("dns.label_type")),
        }
    }
}

fn read_record<'a>(c: &mut Cursor<'a>, anomaly: &mut bool) -> Result<Record<'a>, ParseError> {
    let name = read_name(c, anomaly)?;
    let rtype = c.u16()?;
    let class = c.u16()?;
    let ttl = c.u32()?;
    let rdlen = c.u16()? as usize;
    let rdata_start = c.pos;
    let raw = c.bytes(rdlen)?;
    // Names inside rdata may point anywhere in the message.
    let mut inner = Cursor { buf: c.buf, pos: rdata_start };
    let data = match rtype {
        rtype::A if rdlen == 4 => RData::A(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])),
        rtype::AAAA if rdlen == 16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(raw);
            RData::Aaaa(Ipv6Addr::from(a))
        }
        rtype::CNAME | rtype::NS | rtype::PTR => RData::Name(read_name(&mut inner, anomaly)?),
        rtype::MX if rdlen >= 3 => {
            let preference = inner.u16()?;
            RData::Mx { preference, exchange: read_name(&mut inner, anomaly)? }
        }
        rtype::TXT => {
            let mut parts = Vec::new();
            let mut t = Cursor::new(raw);
            while t.remaining() > 0 {
                let n = t.u8()? as usize;
                parts.push(t.bytes(n).map_err(|_| ParseError::Malformed("dns.txt_length"))?);
            }
            RData::Txt(parts)
        }
        rtype::SOA => {
            let mname = read_name(&mut inner, anomaly)?;
            let rname = read_name(&mut inner, anomaly)?;
            RData::Soa {
                mname,
                rname,
                serial: inner.u32()?,
                refresh: inner.u32()?,
                retry: inner.u32()?,
                expire: inner.u32()?,
                minimum: inner.u32()?,
            }
        }
        _ => RData::Other(raw),
    };
    // Names in rdata must stay inside it.
    if matches!(rtype, rtype::CNAME | rtype::NS | rtype::PTR | rtype::MX | rtype::SOA)
        && inner.pos > rdata_start + rdlen
    {
        return Err(ParseError::Malformed("dns.rdata_length"));
    }
    Ok(Record { name, rtype, class, ttl, data })
}

/// Parses one DNS message (UDP payload, or a TCP message without its length prefix).
pub fn parse_message(buf: &[u8]) -> Result<Message<'_>, ParseError> {
    let mut c = Cursor::new(buf);
    if buf.len() < 12 {
        return Err(ParseError::Malformed("dns.header_too_small"));
    }
    let id = c.u16()?;
    let flags = c.u16()?;
    let counts = [c.u16()?, c.u16()?, c.u16()?, c.u16()?];
    let mut anomaly = false;
    let mut truncated_records = 0usize;
    let mut questions = Vec::new();
    for i in 0..counts[0] as usize {
        if i >= MAX_RECORDS {
            truncated_records += counts[0] as usize - i;
            break;
        }
        let name = read_name(&mut c, &mut anomaly).map_err(incomplete_is_malformed)?;
        let qtype = c.u16().map_err(incomplete_is_malformed)?;
        let qclass = c.u16().map_err(incomplete_is_malformed)?;
        questions.push(Question { name, qtype, qclass });
    }
    let mut sections: [Vec<Record<'_>>; 3] = Default::default();
    for (s, &n) in counts[1..].iter().enumerate() {
        for i in 0..n as usize {
            if i >= MAX_RECORDS {
                truncated_records += n as usize - i;
                break;
            }
            sections[s].push(read_record(&mut c, &mut anomaly).map_err(incomplete_is_malformed)?);
        }
    }
    let [answers, authorities, additionals] = sections;
    Ok(Message {
        id,
        flags,
        questions,
        answers,
        authorities,
        additionals,
        truncated_records,
        name_anomaly: anomaly,
    })
}

/// A datagram that ends inside a record is malformed (UDP gives no more bytes).
fn incomplete_is_malformed(e: ParseError) -> ParseError {
    match e {
        ParseError::Incomplete => ParseError::Malformed("dns.truncated_message"),
        other => other,
    }
}

/// Splits a DNS-over-TCP byte stream into messages: returns the first message's bytes
/// and the rest, or `Incomplete` when the stream does not hold a whole one yet.
pub fn split_tcp(stream: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    if stream.len() < 2 {
        return Err(ParseError::Incomplete);
    }
    let n = u16::from_be_bytes([stream[0], stream[1]]) as usize;
    if n < 12 {
        return Err(ParseError::Malformed("dns.tcp_length_too_small"));
    }
    if stream.len() < 2 + n {
        return Err(ParseError::Incomplete);
    }
    Ok((&stream[2..2 + n], &stream[2 + n..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> Vec<u8> {
        let mut v = Vec::new();
        for l in n.split('.') {
            v.push(l.len() as u8);
            v.extend_from_slice(l.as_bytes());
        }
        v.push(0);
        v
    }

    /// A response: question, A answer by pointer, CNAME, MX, TXT and SOA records.
    fn response() -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0];
        m.extend(name("www.hue.gov.vn"));
        m.extend([0, 1, 0, 1]);
        let rr = |m: &mut Vec<u8>, t: u16, data: &[u8]| {
            m.extend([0xc0, 12]);
            m.extend(t.to_be_bytes());
            m.extend([0, 1, 0, 0, 0x0e, 0x10]);
            m.extend((data.len() as u16).to_be_bytes());
            m.extend(data);
        };
        rr(&mut m, rtype::A, &[10, 46, 10, 20]);
        let mut cname = vec![4];
        cname.extend(b"edge");
        cname.extend([0xc0, 16]); // -> "hue.gov.vn"
        rr(&mut m, rtype::CNAME, &cname);
        let mut mx = vec![0, 10, 4];
        mx.extend(b"mail");
        mx.extend([0xc0, 16]);
        rr(&mut m, rtype::MX, &mx);
        rr(&mut m, rtype::TXT, b"\x05v=spf\x03abc");
        let mut soa = vec![0xc0, 16, 0xc0, 16];
        for v in [2026u32, 3600, 600, 86400, 300] {
            soa.extend(v.to_be_bytes());
        }
        rr(&mut m, rtype::SOA, &soa);
        m
    }

    #[test]
    fn parses_answers_of_every_kind() {
        let buf = response();
        let m = parse_message(&buf).unwrap();
        assert!(m.is_response());
        assert_eq!(m.questions[0].name, b"www.hue.gov.vn");
        assert_eq!(m.answers[0].data, RData::A(Ipv4Addr::new(10, 46, 10, 20)));
        assert_eq!(m.answers[1].data, RData::Name(b"edge.hue.gov.vn".to_vec()));
        assert_eq!(
            m.answers[2].data,
            RData::Mx { preference: 10, exchange: b"mail.hue.gov.vn".to_vec() }
        );
        assert_eq!(m.answers[3].data, RData::Txt(vec![&b"v=spf"[..], &b"abc"[..]]));
        assert!(matches!(&m.answers[4].data, RData::Soa { serial: 2026, minimum: 300, .. }));
        assert_eq!(rcode_name(m.rcode()), "NOERROR");
    }

    #[test]
    fn pointer_loops_and_bad_lengths() {
        // The question name points at itself.
        let m = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1];
        assert_eq!(parse_message(&m).unwrap_err(), ParseError::Malformed("dns.name_pointer_loop"));
        let far = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 1, 0, 1];
        assert_eq!(
            parse_message(&far).unwrap_err(),
            ParseError::Malformed("dns.name_pointer_out_of_range")
        );
        let mut cut = response();
        cut.truncate(cut.len() - 3);
        assert_eq!(
            parse_message(&cut).unwrap_err(),
            ParseError::Malformed("dns.truncated_message")
        );
        assert_eq!(
            parse_message(&[0; 5]).unwrap_err(),
            ParseError::Malformed("dns.header_too_small")
        );
    }

    #[test]
    fn huge_counts_are_bounded() {
        let mut m = vec![0, 1, 1, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0];
        for _ in 0..300 {
            m.extend([1, b'a', 0, 0, 1, 0, 1]);
        }
        // 65,535 questions announced, 300 present: the first 256 parse, then the count
        // limit stops the parser before it runs out of bytes.
        let msg = parse_message(&m).unwrap();
        assert_eq!(msg.questions.len(), MAX_RECORDS);
        assert_eq!(msg.truncated_records, 65_535 - MAX_RECORDS);
    }

    #[test]
    fn tcp_framing() {
        let body = response();
        let mut s = (body.len() as u16).to_be_bytes().to_vec();
        s.extend(&body);
        s.extend([0, 40, 1]);
        let (first, rest) = split_tcp(&s).unwrap();
        assert_eq!(first, &body[..]);
        assert_eq!(split_tcp(rest).unwrap_err(), ParseError::Incomplete);
        assert_eq!(
            split_tcp(&[0, 3, 1, 2, 3]).unwrap_err(),
            ParseError::Malformed("dns.tcp_length_too_small")
        );
    }
}
