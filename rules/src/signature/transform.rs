//! Transforms: what a rule does to a sticky buffer before inspecting it
//! (`http.uri; from_base64: offset 6; content:"secret";`), as Suricata 8 defines them.
//!
//! Each output is bounded: decoders stop at [`MAX_OUTPUT`] (or the rule's `max-size`),
//! so a transform never costs more memory than a buffer the sensor already holds.

use std::io::Read;
use std::sync::Arc;

use md5::Digest as _;

use super::content::unquote;
use super::ParseError;

/// Most bytes a decoding transform produces (`zlib_deflate` and `gunzip` without
/// `max-size`, `from_base64`).
pub const MAX_OUTPUT: usize = 1 << 20;

/// How base64 text is read: Suricata's three modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base64Mode {
    /// RFC 4648: decoding stops at the first byte outside the alphabet.
    Rfc4648,
    /// RFC 2045 (MIME): bytes outside the alphabet are skipped.
    Rfc2045,
    /// Any byte outside the alphabet makes the whole input undecodable.
    Strict,
}

/// A `pcrexform` expression: its first capture group becomes the buffer.
#[derive(Debug)]
pub struct XformRegex {
    /// The expression as written in the rule.
    pub source: String,
    regex: pcre2::bytes::Regex,
}

impl PartialEq for XformRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for XformRegex {}

/// A transform applied to a sticky buffer before its contents are inspected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transform {
    /// `dotprefix`: a `.` before the buffer (so `.example.com` matches the domain and
    /// its subdomains, not `badexample.com`).
    DotPrefix,
    /// `to_lowercase`.
    ToLowercase,
    /// `to_uppercase`.
    ToUppercase,
    /// Removes all whitespace.
    StripWhitespace,
    /// Collapses runs of whitespace to one space.
    CompressWhitespace,
    /// `%xx` and `+` decoding.
    UrlDecode,
    /// Header names (up to the `:` of each line) lowercased.
    HeaderLowercase,
    /// Lines that start with `:` (HTTP/2 pseudo-headers) removed.
    StripPseudoHeaders,
    /// `to_md5`: the buffer becomes its MD5 digest (16 bytes).
    ToMd5,
    /// `to_sha1`: its SHA-1 digest.
    ToSha1,
    /// `to_sha256`: its SHA-256 digest.
    ToSha256,
    /// Each byte XORed with the key, repeated.
    Xor(Vec<u8>),
    /// `from_base64: [bytes N,] [offset N,] [mode M]`; `bytes` 0: to the end.
    FromBase64 {
        /// Bytes to decode (0: to the end).
        bytes: u32,
        /// Where decoding starts.
        offset: u32,
        /// How strictly to decode (`rfc2045`, `rfc4648`, `strict`).
        mode: Base64Mode,
    },
    /// `pcrexform`: the expression's first capture group becomes the buffer.
    PcreXform(Arc<XformRegex>),
    /// zlib-wrapped deflate, at most `max` bytes out.
    ZlibDeflate {
        /// Most bytes out.
        max: usize,
    },
    /// `gunzip`: gzip-decompressed, at most `max` bytes out.
    Gunzip {
        /// Most bytes out.
        max: usize,
    },
}

impl Transform {
    /// The transform a keyword names, with its value parsed; `None` if `kw` is not a
    /// transform.
    /// The transform keywords [`Transform::parse`] reads.
    pub const KEYWORDS: &'static [&'static str] = &[
        "dotprefix",
        "to_lowercase",
        "to_uppercase",
        "strip_whitespace",
        "compress_whitespace",
        "url_decode",
        "header_lowercase",
        "strip_pseudo_headers",
        "to_md5",
        "to_sha1",
        "to_sha256",
        "xor",
        "from_base64",
        "pcrexform",
        "zlib_deflate",
        "gunzip",
    ];

    /// The transform a keyword names, with its value; `None` when `kw` is no transform.
    pub fn parse(kw: &str, value: Option<&str>) -> Option<Result<Transform, ParseError>> {
        let simple = match kw {
            "dotprefix" => Transform::DotPrefix,
            "to_lowercase" => Transform::ToLowercase,
            "to_uppercase" => Transform::ToUppercase,
            "strip_whitespace" => Transform::StripWhitespace,
            "compress_whitespace" => Transform::CompressWhitespace,
            "url_decode" => Transform::UrlDecode,
            "header_lowercase" => Transform::HeaderLowercase,
            "strip_pseudo_headers" => Transform::StripPseudoHeaders,
            "to_md5" => Transform::ToMd5,
            "to_sha1" => Transform::ToSha1,
            "to_sha256" => Transform::ToSha256,
            "xor" => return Some(parse_xor(value)),
            "from_base64" => return Some(parse_from_base64(value.unwrap_or(""))),
            "pcrexform" => return Some(parse_pcrexform(value)),
            "zlib_deflate" | "gunzip" => {
                return Some(parse_max_size(kw, value).map(|max| match kw {
                    "gunzip" => Transform::Gunzip { max },
                    _ => Transform::ZlibDeflate { max },
                }))
            }
            _ => return None,
        };
        Some(match value {
            None => Ok(simple),
            Some(_) => Err(ParseError::invalid(kw, format!("`{kw}` takes no value"))),
        })
    }

    /// The keyword of the transform, as written in a rule.
    pub fn keyword(&self) -> &'static str {
        match self {
            Transform::DotPrefix => "dotprefix",
            Transform::ToLowercase => "to_lowercase",
            Transform::ToUppercase => "to_uppercase",
            Transform::StripWhitespace => "strip_whitespace",
            Transform::CompressWhitespace => "compress_whitespace",
            Transform::UrlDecode => "url_decode",
            Transform::HeaderLowercase => "header_lowercase",
            Transform::StripPseudoHeaders => "strip_pseudo_headers",
            Transform::ToMd5 => "to_md5",
            Transform::ToSha1 => "to_sha1",
            Transform::ToSha256 => "to_sha256",
            Transform::Xor(_) => "xor",
            Transform::FromBase64 { .. } => "from_base64",
            Transform::PcreXform(_) => "pcrexform",
            Transform::ZlibDeflate { .. } => "zlib_deflate",
            Transform::Gunzip { .. } => "gunzip",
        }
    }

    /// The transformed buffer.
    pub fn apply(&self, data: &[u8]) -> Vec<u8> {
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
            Transform::CompressWhitespace => compress_whitespace(data),
            Transform::UrlDecode => url_decode(data),
            Transform::HeaderLowercase => {
                let mut v = Vec::with_capacity(data.len());
                for line in data.split_inclusive(|&b| b == b'\n') {
                    let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
                    v.extend(line[..colon].iter().map(u8::to_ascii_lowercase));
                    v.extend_from_slice(&line[colon..]);
                }
                v
            }
            Transform::StripPseudoHeaders => data
                .split_inclusive(|&b| b == b'\n')
                .filter(|line| line.first() != Some(&b':'))
                .flatten()
                .copied()
                .collect(),
            Transform::ToMd5 => md5::Md5::digest(data).to_vec(),
            Transform::ToSha1 => sha1::Sha1::digest(data).to_vec(),
            Transform::ToSha256 => sha2::Sha256::digest(data).to_vec(),
            Transform::Xor(key) => {
                data.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k).collect()
            }
            Transform::FromBase64 { bytes, offset, mode } => {
                let Some(rest) = data.get(*offset as usize..) else { return data.to_vec() };
                let n = if *bytes == 0 { rest.len() } else { rest.len().min(*bytes as usize) };
                let out = base64_decode(&rest[..n], *mode, MAX_OUTPUT);
                if out.is_empty() {
                    data.to_vec()
                } else {
                    out
                }
            }
            Transform::PcreXform(x) => match x.regex.captures(data) {
                Ok(Some(caps)) => {
                    caps.get(1).map_or_else(|| data.to_vec(), |m| m.as_bytes().to_vec())
                }
                _ => data.to_vec(),
            },
            Transform::ZlibDeflate { max } => {
                inflate(flate2::read::ZlibDecoder::new(data), *max).unwrap_or_else(|| data.to_vec())
            }
            Transform::Gunzip { max } => {
                inflate(flate2::read::GzDecoder::new(data), *max).unwrap_or_else(|| data.to_vec())
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

/// What a decompressor yields, at most `max` bytes; a stream that breaks off keeps what
/// came before the break. `None` when nothing came out.
fn inflate(reader: impl Read, max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut limited = reader.take(max as u64);
    let mut chunk = [0u8; 8192];
    loop {
        match limited.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
        }
    }
    (!out.is_empty()).then_some(out)
}

fn compress_whitespace(data: &[u8]) -> Vec<u8> {
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

fn url_decode(data: &[u8]) -> Vec<u8> {
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

fn b64_value(c: u8) -> Option<u8> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    })
}

/// Standard base64 (RFC 4648, padded) of `data`.
pub fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes base64 text, at most `max` bytes out. Padding ends the data; a final group
/// of 2 or 3 characters yields the 1 or 2 bytes it holds. Empty when nothing decodes
/// (and always, in strict mode, when a byte is outside the alphabet).
pub fn base64_decode(input: &[u8], mode: Base64Mode, max: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity((input.len() / 4 * 3).min(max));
    let (mut acc, mut n) = (0u32, 0u8);
    for &c in input {
        if c == b'=' {
            break;
        }
        let Some(v) = b64_value(c) else {
            match mode {
                Base64Mode::Rfc2045 => continue,
                Base64Mode::Rfc4648 => break,
                Base64Mode::Strict => return Vec::new(),
            }
        };
        acc = acc << 6 | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            (acc, n) = (0, 0);
            if out.len() >= max {
                out.truncate(max);
                return out;
            }
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out.truncate(max);
    out
}

fn parse_xor(value: Option<&str>) -> Result<Transform, ParseError> {
    let v = value.ok_or_else(|| ParseError::invalid("xor", "`xor` needs a hex key"))?;
    let (_, hex) = unquote("xor", v)?;
    let hex = hex.trim();
    if hex.is_empty() || hex.len() % 2 != 0 || hex.len() > 510 {
        return Err(ParseError::invalid("xor", format!("key `{hex}` is not 1-255 hex bytes")));
    }
    let key = super::content::hex_bytes(hex)
        .ok_or_else(|| ParseError::invalid("xor", format!("key `{hex}` is not hex")))?;
    Ok(Transform::Xor(key))
}

fn parse_from_base64(value: &str) -> Result<Transform, ParseError> {
    let kw = "from_base64";
    let (mut bytes, mut offset, mut mode) = (0u32, 0u32, Base64Mode::Rfc4648);
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, arg) = part.split_once(char::is_whitespace).unwrap_or((part, ""));
        let arg = arg.trim();
        let number = || {
            arg.parse::<u32>()
                .map_err(|_| ParseError::invalid(kw, format!("invalid number `{arg}` for `{k}`")))
        };
        match k {
            "bytes" => bytes = number()?,
            "offset" => offset = number()?,
            "mode" => {
                mode = match arg.to_ascii_lowercase().as_str() {
                    "rfc4648" => Base64Mode::Rfc4648,
                    "rfc2045" => Base64Mode::Rfc2045,
                    "strict" => Base64Mode::Strict,
                    other => {
                        return Err(ParseError::invalid(kw, format!("unknown mode `{other}`")))
                    }
                }
            }
            other => return Err(ParseError::invalid(kw, format!("unknown option `{other}`"))),
        }
    }
    Ok(Transform::FromBase64 { bytes, offset, mode })
}

fn parse_pcrexform(value: Option<&str>) -> Result<Transform, ParseError> {
    let kw = "pcrexform";
    let v = value.ok_or_else(|| ParseError::invalid(kw, "`pcrexform` needs an expression"))?;
    let (_, re) = unquote(kw, v)?;
    let regex = pcre2::bytes::RegexBuilder::new()
        .jit_if_available(true)
        .build(&format!("(*LIMIT_MATCH=3500)(*LIMIT_DEPTH=1500){re}"))
        .map_err(|e| ParseError::invalid(kw, format!("`{re}` does not compile: {e}")))?;
    if regex.captures_len() < 2 {
        return Err(ParseError::invalid(kw, format!("`{re}` has no capture group")));
    }
    Ok(Transform::PcreXform(Arc::new(XformRegex { source: re.to_string(), regex })))
}

fn parse_max_size(kw: &str, value: Option<&str>) -> Result<usize, ParseError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(MAX_OUTPUT) };
    let n = v
        .strip_prefix("max-size")
        .map(str::trim)
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            ParseError::invalid(kw, format!("expected `max-size <bytes>`, got `{v}`"))
        })?;
    Ok(n.min(MAX_OUTPUT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(kw: &str, v: Option<&str>) -> Transform {
        Transform::parse(kw, v).expect("a transform").expect("valid")
    }

    #[test]
    fn base64_modes() {
        let d = |s: &str, m| base64_decode(s.as_bytes(), m, MAX_OUTPUT);
        assert_eq!(d("dGhpc2lzYXRlc3QK", Base64Mode::Rfc4648), b"thisisatest\n");
        // A partial last group yields what it holds.
        assert_eq!(d("dGhpc2", Base64Mode::Rfc4648), b"this");
        assert_eq!(d("Zm 9v Ym Fy", Base64Mode::Rfc2045), b"foobar");
        assert_eq!(d("Zm 9v Ym Fy", Base64Mode::Rfc4648), b"f");
        assert!(d("Zm 9v Ym Fy", Base64Mode::Strict).is_empty());
        assert_eq!(d("SGVsbG8gV29ybGQ=", Base64Mode::Strict), b"Hello World");
        assert_eq!(base64_decode(b"SGVsbG8gV29ybGQ=", Base64Mode::Strict, 4), b"Hell");
    }

    #[test]
    fn transforms_with_arguments() {
        let fb = t("from_base64", Some("offset 6, mode rfc2045"));
        assert_eq!(fb.apply(b"/?arg=Zm 9v Ym Fy"), b"foobar");
        // Nothing decodes: the buffer stays as it was.
        assert_eq!(fb.apply(b"/?arg="), b"/?arg=");
        assert_eq!(t("xor", Some("\"0d0a\"")).apply(b"\x0d\x0aab"), b"\0\0lh");
        let px = t("pcrexform", Some(r#""[a-zA-Z]+\s+(.*)\s+HTTP""#));
        assert_eq!(px.apply(b"GET /a.jpg HTTP/1.1"), b"/a.jpg");
        assert_eq!(px.apply(b"nothing"), b"nothing");
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut z, b"This is compressed").unwrap();
        let packed = z.finish().unwrap();
        assert_eq!(t("zlib_deflate", None).apply(&packed), b"This is compressed");
        assert_eq!(t("zlib_deflate", Some("max-size 7")).apply(&packed), b"This is");
        assert_eq!(t("to_md5", None).apply(b"").len(), 16);
        assert_eq!(t("to_sha256", None).apply(b"abc")[..2], [0xba, 0x78]);
        assert_eq!(
            t("strip_pseudo_headers", None).apply(b"\r\n:status\r\nserver\r\n"),
            b"\r\nserver\r\n"
        );
        assert_eq!(t("header_lowercase", None).apply(b"Host: A\r\n"), b"host: A\r\n");
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(Transform::parse("xor", Some("\"abc\"")).unwrap().is_err());
        assert!(Transform::parse("xor", None).unwrap().is_err());
        assert!(Transform::parse("from_base64", Some("mode base32")).unwrap().is_err());
        assert!(Transform::parse("pcrexform", Some("\"abc\"")).unwrap().is_err());
        assert!(Transform::parse("zlib_deflate", Some("max-size 0")).unwrap().is_err());
        assert!(Transform::parse("to_lowercase", Some("x")).unwrap().is_err());
        assert!(Transform::parse("content", None).is_none());
    }
}
