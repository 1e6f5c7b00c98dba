//! The start line and header block of an HTTP/1 message, read the way libhtp (and so
//! Suricata) reads them, because a reader that splits lines differently from the
//! engine the rules were written for is a reader an attacker can walk around:
//!
//! - A response line may end in a lone CR, and so may every response header line
//!   (browsers accept it); a request header line ends in LF or CRLF only, a CR inside
//!   it stays in the value.
//! - A line starting with a space or tab continues the header before it (obsolete
//!   folding). In a response, a continuation that reads `name:` is instead a new header
//!   with leading whitespace — what browsers do with it.
//! - A line without a colon is a header with an empty name; names and values are
//!   trimmed of whitespace (CR, LF, VT and FF included).
//! - The block ends at the first empty line.

use super::Side;

/// A header: name and value.
type Field = (Vec<u8>, Vec<u8>);

/// A start line and header block.
#[derive(Debug, Default)]
pub(super) struct Scanned {
    /// Bytes of the whole head, the blank line included.
    pub end: usize,
    pub start_line: Vec<u8>,
    /// Where the header lines start (after the start line's line end).
    pub header_start: usize,
    pub headers: Vec<Field>,
}

/// A line end at some position.
enum Eol {
    /// Not a line end.
    No,
    /// A line end of this many bytes.
    Len(usize),
    /// Cannot tell before more bytes come.
    Need,
}

/// Is there a line end at `i`? `closing`: no more bytes will come.
fn eol_at(buf: &[u8], i: usize, side: Side, closing: bool) -> Eol {
    let next = buf.get(i + 1).copied();
    match (buf.get(i), side) {
        (Some(b'\n'), Side::Request) => Eol::Len(1),
        (Some(b'\r'), Side::Request) => match next {
            Some(b'\n') => Eol::Len(2),
            None if !closing => Eol::Need,
            _ => Eol::No,
        },
        (Some(b'\r'), Side::Response) => match next {
            Some(b'\n') => Eol::Len(2),
            None if !closing => Eol::Need,
            _ => Eol::Len(1),
        },
        (Some(b'\n'), Side::Response) => match next {
            Some(b'\r') => Eol::Len(2),
            None if !closing => Eol::Need,
            _ => Eol::Len(1),
        },
        _ => Eol::No,
    }
}

/// The line end ending a header line at `i`: besides the regular ones, libhtp takes
/// `\n\r\r\n` before another line end, and in a response `\r\n\r` with more CRs,
/// spaces or tabs (and an LF) before a line that is not empty, as one line end.
fn header_eol_at(buf: &[u8], i: usize, side: Side, closing: bool) -> Eol {
    let rest = &buf[i..];
    let need = |n: usize| rest.len() < n && !closing;
    if rest.starts_with(b"\n\r\r\n") {
        match rest.get(4) {
            Some(b'\n') => return Eol::Len(4),
            Some(b'\r') if rest.get(5) == Some(&b'\n') => return Eol::Len(4),
            Some(b'\r') if need(6) => return Eol::Need,
            None if need(5) => return Eol::Need,
            _ => {}
        }
    } else if side == Side::Response && rest.starts_with(b"\r\n\r") {
        let ws = rest[3..].iter().take_while(|c| matches!(c, b'\r' | b' ' | b'\t')).count();
        let mut n = 3 + ws;
        if n == rest.len() && need(n + 1) {
            return Eol::Need;
        }
        if ws > 0 {
            if rest.get(n) == Some(&b'\n') {
                n += 1;
            }
            match (rest.get(n), rest.get(n + 1)) {
                (Some(b'\n'), _) | (Some(b'\r'), Some(b'\n')) => {}
                (None, _) | (Some(b'\r'), None) if need(n + 2) => return Eol::Need,
                _ => return Eol::Len(n),
            }
        }
    }
    eol_at(buf, i, side, closing)
}

/// The end of the line starting at `from`: (end of content, length of the line end).
/// `None`: the line end has not arrived yet. At the close, the buffer's end ends it.
fn line_end(buf: &[u8], from: usize, side: Side, closing: bool) -> Option<(usize, usize)> {
    let mut i = from;
    loop {
        let found = match side {
            Side::Request => memchr::memchr(b'\n', &buf[i..]),
            Side::Response => memchr::memchr2(b'\n', b'\r', &buf[i..]),
        };
        let Some(at) = found.map(|k| i + k) else {
            return closing.then_some((buf.len(), 0));
        };
        match header_eol_at(buf, at, side, closing) {
            // A request line's CRLF: the CR is part of the line end.
            Eol::Len(1) if side == Side::Request && at > from && buf[at - 1] == b'\r' => {
                return Some((at - 1, 2))
            }
            Eol::Len(n) => return Some((at, n)),
            Eol::Need => return None,
            Eol::No => i = at + 1,
        }
    }
}

/// The start line of a message at `from`: (line, position after its line end).
/// A response line may end in a lone CR; a request line ends in LF.
pub(super) fn start_line(
    buf: &[u8],
    from: usize,
    side: Side,
    closing: bool,
) -> Option<(&[u8], usize)> {
    let (end, n) = match side {
        Side::Request => match memchr::memchr(b'\n', &buf[from..]) {
            Some(k) => (from + k, 1),
            None if closing => (buf.len(), 0),
            None => return None,
        },
        Side::Response => line_end(buf, from, side, closing)?,
    };
    let line = &buf[from..end];
    Some((line.strip_suffix(b"\r").unwrap_or(line), end + n))
}

/// Reads the start line and the header block of a message starting at `from`.
/// `None`: the head is not complete yet.
pub(super) fn scan(buf: &[u8], from: usize, side: Side, closing: bool) -> Option<Scanned> {
    let (line, header_start) = start_line(buf, from, side, closing)?;
    let mut out = Scanned {
        start_line: line.to_vec(),
        header_start: header_start - from,
        ..Scanned::default()
    };
    let mut pos = header_start;
    loop {
        if pos >= buf.len() {
            if closing {
                out.end = buf.len() - from;
                return Some(out);
            }
            return None;
        }
        match eol_at(buf, pos, side, closing) {
            Eol::Len(n) => {
                out.end = pos + n - from;
                return Some(out);
            }
            Eol::Need => return None,
            Eol::No => {}
        }
        let (header, next) = header(buf, pos, side, closing)?;
        out.headers.push(header);
        pos = next;
    }
}

/// One header, with its folded continuation lines, at `pos`: the header and where
/// the next line starts.
fn header(buf: &[u8], pos: usize, side: Side, closing: bool) -> Option<(Field, usize)> {
    // The name may run over line ends followed by a space: libhtp reads it folded.
    let mut cur = pos;
    let (name, value_start) = loop {
        let (end, n) = line_end(buf, cur, side, closing)?;
        if let Some(c) = memchr::memchr(b':', &buf[cur..end]) {
            break (&buf[pos..cur + c], cur + c + 1);
        }
        match buf.get(end + n) {
            Some(b' ') if n > 0 => cur = end + n,
            None if n > 0 && !closing => return None,
            _ => break (&b""[..], pos),
        }
    };
    let (end, n) = line_end(buf, value_start, side, closing)?;
    let mut value = &buf[value_start..end];
    if value_start != pos {
        let skip = value.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
        value = &value[skip..];
    }
    let mut value = value.to_vec();
    let mut next = end + n;
    loop {
        match buf.get(next) {
            Some(b' ' | b'\t' | 0) => {}
            None if !closing => return None,
            _ => break,
        }
        let (cend, cn) = line_end(buf, next + 1, side, closing)?;
        if side == Side::Response && names_a_header(&buf[next..cend]) {
            break;
        }
        let fold = buf[next];
        if !value.is_empty() {
            value.push(fold);
        }
        value.extend_from_slice(&buf[next + 1..cend]);
        if cend == next + 1 && cn == 1 {
            // An empty continuation ended by a one-byte line end: libhtp leaves that
            // line end to end the head.
            next = cend;
            break;
        }
        if cn == 0 {
            next = cend;
            break;
        }
        next = cend + cn;
    }
    Some(((trim(name).to_vec(), trim(&value).to_vec()), next))
}

/// Whitespace, a token and a colon: a header, not a continuation.
fn names_a_header(line: &[u8]) -> bool {
    let rest = line.trim_ascii_start();
    let token = rest.iter().take_while(|c| is_token(**c)).count();
    token > 0 && rest[token..].trim_ascii_start().first() == Some(&b':')
}

/// RFC 7230 token characters.
fn is_token(c: u8) -> bool {
    (33..=126).contains(&c) && !b"()<>@,;:\\\"/[]?={}".contains(&c)
}

/// Equal ignoring ASCII case and NUL bytes, as libhtp compares header names and
/// the values it acts on.
pub(super) fn eq_nozero(a: &[u8], b: &[u8]) -> bool {
    let mut a = a.iter().filter(|c| **c != 0);
    let mut b = b.iter().filter(|c| **c != 0);
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
            _ => return false,
        }
    }
}

/// Trims libhtp's whitespace (space, tab, CR, LF, VT, FF) from both ends.
pub(super) fn trim(v: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c);
    let start = v.iter().position(|c| !ws(c)).unwrap_or(v.len());
    let end = v.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
    &v[start..end]
}

/// Does a response start line look like one? Browsers (and libhtp) treat anything
/// else as the first line of a body without a head.
pub(super) fn looks_like_status_line(line: &[u8]) -> bool {
    let skip = line.iter().take_while(|c| c.is_ascii_whitespace() || **c == 0).count();
    line.len() >= skip + 4 && line[skip..skip + 4].eq_ignore_ascii_case(b"http")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(raw: &[u8], side: Side) -> Vec<(String, String)> {
        let s = scan(raw, 0, side, false).expect("complete head");
        s.headers
            .iter()
            .map(|(n, v)| {
                (String::from_utf8_lossy(n).into_owned(), String::from_utf8_lossy(v).into_owned())
            })
            .collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_lone_cr_ends_a_response_header_but_not_a_request_header() {
        let raw = b"HTTP/1.1 200 ok\r\nA: x\rContent-Encoding: gzip\r\n\r\n";
        assert_eq!(
            headers(raw, Side::Response),
            pairs(&[("A", "x"), ("Content-Encoding", "gzip")])
        );
        let raw = b"GET / HTTP/1.1\r\nA: x\rB: y\r\n\r\n";
        assert_eq!(headers(raw, Side::Request), pairs(&[("A", "x\rB: y")]));
    }

    #[test]
    fn folded_values_join_and_an_empty_first_line_adds_no_space() {
        let raw = b"HTTP/1.1 200 ok\r\nContent-Encoding:\r\n \r\n deflate\r\nB: 1\r\n 2\r\n\r\n";
        assert_eq!(
            headers(raw, Side::Response),
            pairs(&[("Content-Encoding", "deflate"), ("B", "1 2")])
        );
    }

    #[test]
    fn a_response_continuation_naming_a_header_is_a_header() {
        let raw = b"HTTP/1.1 200 ok\r\nConnection: close\r\n\tTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(
            headers(raw, Side::Response),
            pairs(&[("Connection", "close"), ("Transfer-Encoding", "chunked")])
        );
        let raw = b"GET / HTTP/1.1\r\nConnection: close\r\n\tTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(
            headers(raw, Side::Request),
            pairs(&[("Connection", "close\tTransfer-Encoding: chunked")])
        );
    }

    #[test]
    fn names_are_trimmed_and_a_line_without_colon_has_an_empty_name() {
        let raw =
            b"HTTP/1.1 200 ok\r\nContent-Encoding : gzip\r\nTransfer-Encoding\r: chunked\r\n\r\n";
        assert_eq!(
            headers(raw, Side::Response),
            pairs(&[("Content-Encoding", "gzip"), ("", "Transfer-Encoding"), ("", "chunked")])
        );
    }

    #[test]
    fn deformed_line_ends_and_folded_names_read_as_libhtp_reads_them() {
        let raw =
            b"HTTP/1.1 200 ok\r\nConnection: close\r\n\r\r\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(
            headers(raw, Side::Response),
            pairs(&[("Connection", "close"), ("Transfer-Encoding", "chunked")])
        );
        let raw = b"HTTP/1.1 200 ok\r\nConnection: close\r\n\r\rTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(headers(raw, Side::Response)[1], ("Transfer-Encoding".into(), "chunked".into()));
        let raw = b"HTTP/1.1 200 ok\r\nTransfer-Encoding\n :chunked\r\n\r\n";
        assert_eq!(headers(raw, Side::Response), pairs(&[("Transfer-Encoding", "chunked")]));
    }

    #[test]
    fn an_empty_continuation_ends_the_head_and_nul_folds() {
        let raw = b"HTTP/1.1 200 ok\r\nContent-length: 68\n \nBODY";
        let s = scan(raw, 0, Side::Response, false).unwrap();
        assert_eq!(&raw[s.end..], b"BODY");
        let raw = b"HTTP/1.1 200 ok\r\nContent-Encoding:\n\x00deflate\r\n\r\n";
        assert_eq!(headers(raw, Side::Response), pairs(&[("Content-Encoding", "deflate")]));
        assert!(eq_nozero(b"Transfer\x00-encoding", b"transfer-encoding"));
        assert!(!eq_nozero(b"Transfer-encodin", b"transfer-encoding"));
    }

    #[test]
    fn the_head_waits_for_its_blank_line_and_ends_there() {
        assert!(scan(b"HTTP/1.1 200 ok\r\nA: b\r\n", 0, Side::Response, false).is_none());
        assert!(scan(b"HTTP/1.1 200 ok\r\nA: b\r", 0, Side::Response, false).is_none());
        let raw = b"HTTP/1.1 200 ok\rA: b\r\rBODY";
        let s = scan(raw, 0, Side::Response, false).unwrap();
        assert_eq!(s.start_line, b"HTTP/1.1 200 ok");
        assert_eq!(&raw[s.end..], b"BODY");
        let raw = b"GET / HTTP/1.0\nA: b\n\nBODY";
        let s = scan(raw, 0, Side::Request, false).unwrap();
        assert_eq!(&raw[s.end..], b"BODY");
    }

    #[test]
    fn status_lines_are_recognised_as_browsers_do() {
        assert!(looks_like_status_line(b"HTTP/1.1 200 ok"));
        assert!(looks_like_status_line(b" http/1.0 200"));
        assert!(!looks_like_status_line(b"X5O!P%@AP[4"));
        assert!(!looks_like_status_line(b"ht"));
    }
}
