//! Inspection buffers and application protocols a rule can name.
//!
//! Content-like keywords look at the packet payload unless a sticky buffer keyword
//! (`dns.query;`) came before them; from then on they look at that buffer. The sensor
//! supplies the buffers it parsed with each packet ([`crate::engine::Packet::buffers`]).
//! A buffer or protocol is supported only once the sensor can fill it: a rule that
//! loaded but could never match would be a silent gap.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Buffer {
    /// The packet payload.
    Payload,
    /// A query name of a DNS message (one buffer per question).
    DnsQuery,
}

impl Buffer {
    /// The sticky buffer keywords, current and legacy names.
    pub fn from_keyword(kw: &str) -> Option<Buffer> {
        match kw {
            "dns.query" | "dns_query" => Some(Buffer::DnsQuery),
            "pkt_data" => Some(Buffer::Payload),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Buffer::Payload => "payload",
            Buffer::DnsQuery => "dns.query",
        }
    }
}

/// A transform applied to a sticky buffer before its contents are inspected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Transform {
    /// `dotprefix`: a `.` before the buffer (so `.example.com` matches the domain and
    /// its subdomains, not `badexample.com`).
    DotPrefix,
    ToLowercase,
    ToUppercase,
    /// Removes all whitespace.
    StripWhitespace,
    /// Collapses runs of whitespace to one space.
    CompressWhitespace,
    /// `%xx` and `+` decoding.
    UrlDecode,
}

impl Transform {
    pub fn from_keyword(kw: &str) -> Option<Transform> {
        Some(match kw {
            "dotprefix" => Transform::DotPrefix,
            "to_lowercase" => Transform::ToLowercase,
            "to_uppercase" => Transform::ToUppercase,
            "strip_whitespace" => Transform::StripWhitespace,
            "compress_whitespace" => Transform::CompressWhitespace,
            "url_decode" => Transform::UrlDecode,
            _ => return None,
        })
    }

    pub fn apply(self, data: &[u8]) -> Vec<u8> {
        match self {
            Transform::DotPrefix => {
                let mut v = Vec::with_capacity(data.len() + 1);
                v.push(b'.');
                v.extend_from_slice(data);
                v
            }
            Transform::ToLowercase => data.to_ascii_lowercase(),
            Transform::ToUppercase => data.to_ascii_uppercase(),
            Transform::StripWhitespace => {
                data.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect()
            }
            Transform::CompressWhitespace => {
                let mut v = Vec::with_capacity(data.len());
                for &b in data {
                    if b.is_ascii_whitespace() {
                        if v.last() != Some(&b' ') {
                            v.push(b' ');
                        }
                    } else {
                        v.push(b);
                    }
                }
                v
            }
            Transform::UrlDecode => {
                let mut v = Vec::with_capacity(data.len());
                let mut i = 0;
                while i < data.len() {
                    match data[i] {
                        b'+' => v.push(b' '),
                        b'%' if i + 2 < data.len() => {
                            let h = (data[i + 1] as char).to_digit(16);
                            let l = (data[i + 2] as char).to_digit(16);
                            match (h, l) {
                                (Some(h), Some(l)) => {
                                    v.push((h * 16 + l) as u8);
                                    i += 2;
                                }
                                _ => v.push(b'%'),
                            }
                        }
                        b => v.push(b),
                    }
                    i += 1;
                }
                v
            }
        }
    }

    /// Applies a chain of transforms.
    pub fn apply_all(chain: &[Transform], data: &[u8]) -> Vec<u8> {
        let mut cur = data.to_vec();
        for t in chain {
            cur = t.apply(&cur);
        }
        cur
    }
}

/// The inspections of one sticky buffer in a rule.
#[derive(Debug)]
pub struct BufferList {
    pub buffer: Buffer,
    pub transforms: Vec<Transform>,
    pub matches: Vec<super::PayloadMatch>,
}

/// Application-layer protocols the sensor identifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum AppProto {
    Dns,
}

impl AppProto {
    pub fn from_header(p: &str) -> Option<AppProto> {
        match p {
            "dns" => Some(AppProto::Dns),
            _ => None,
        }
    }

    /// The EVE `app_proto` value.
    pub fn as_str(self) -> &'static str {
        match self {
            AppProto::Dns => "dns",
        }
    }
}
