//! SMTP, client side: the envelope (HELO/EHLO, MAIL FROM, RCPT TO) and the message after
//! DATA, whose MIME parts with a file name or `attachment` disposition become files
//! (base64 and quoted-printable decoded). Bounded: a command line of more than
//! [`MAX_LINE`] bytes is dropped, a message beyond the message limit is cut (counted),
//! MIME nesting stops at [`MAX_DEPTH`]. STARTTLS and BDAT end parsing of the session.

pub mod conn;

/// Longest command line kept.
pub const MAX_LINE: usize = 4096;
/// Deepest multipart nesting followed.
pub const MAX_DEPTH: usize = 4;

/// An attachment found in a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attachment {
    pub(crate) filename: String,
    /// Its bytes, decoded (within the limit).
    pub data: Vec<u8>,
}

/// One mail transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mail {
    pub(crate) helo: Option<Vec<u8>>,
    pub(crate) mail_from: Vec<u8>,
    pub(crate) rcpt_to: Vec<Vec<u8>>,
    /// Header values of the message.
    pub from: Option<String>,
    pub(crate) to: Vec<String>,
    pub(crate) subject: Option<String>,
    /// The attachments, decoded.
    pub attachments: Vec<Attachment>,
    /// The message was longer than the limit and was cut.
    pub truncated: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    Commands,
    Data,
    /// STARTTLS, BDAT or an overlong message: nothing more is parsed.
    Done,
}

/// The client direction of an SMTP session.
#[derive(Debug)]
pub struct SmtpParser {
    line: Vec<u8>,
    /// Dropping the rest of an overlong line.
    skipping: bool,
    state: State,
    helo: Option<Vec<u8>>,
    current: Option<Mail>,
    message: Vec<u8>,
    message_limit: usize,
    pub(crate) errors: u64,
}

impl SmtpParser {
    /// Bytes held: the line being read, the message being collected.
    pub fn held(&self) -> usize {
        self.line.capacity() + self.message.capacity()
    }

    /// A parser keeping at most `message_limit` bytes of a message for MIME.
    pub fn new(message_limit: usize) -> Self {
        SmtpParser {
            line: Vec::new(),
            skipping: false,
            state: State::Commands,
            helo: None,
            current: None,
            message: Vec::new(),
            message_limit,
            errors: 0,
        }
    }

    /// Parses client bytes; finished mail transactions are pushed to `out`.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<Mail>) {
        for &b in data {
            if self.state == State::Done {
                return;
            }
            if self.skipping {
                if b == b'\n' {
                    self.skipping = false;
                }
                continue;
            }
            self.line.push(b);
            if b == b'\n' {
                let line = std::mem::take(&mut self.line);
                self.on_line(&line, out);
            } else if self.line.len() > MAX_LINE && self.state == State::Commands {
                self.errors += 1;
                self.line.clear();
                self.skipping = true;
            } else if self.line.len() > MAX_LINE {
                // A long line of message data: keep it, in pieces.
                let part = std::mem::take(&mut self.line);
                self.message_bytes(&part);
            }
        }
    }

    /// The session ended: a message in progress is reported as it is.
    pub fn close(&mut self, out: &mut Vec<Mail>) {
        if self.state == State::Data {
            let mut m = self.current.take().unwrap_or_default();
            m.truncated = true;
            parse_message(&std::mem::take(&mut self.message), &mut m);
            out.push(m);
        }
        self.state = State::Done;
    }

    fn message_bytes(&mut self, b: &[u8]) {
        let room = self.message_limit.saturating_sub(self.message.len());
        if b.len() > room {
            if let Some(m) = self.current.as_mut() {
                m.truncated = true;
            }
        }
        self.message.extend_from_slice(&b[..room.min(b.len())]);
    }

    fn on_line(&mut self, line: &[u8], out: &mut Vec<Mail>) {
        match self.state {
            State::Data => {
                let bare = trim_eol(line);
                if bare == b"." {
                    let mut m = self.current.take().unwrap_or_default();
                    let msg = std::mem::take(&mut self.message);
                    parse_message(&msg, &mut m);
                    out.push(m);
                    self.state = State::Commands;
                } else {
                    // Dot-stuffing: a leading ".." stands for ".".
                    let l = if line.starts_with(b"..") { &line[1..] } else { line };
                    self.message_bytes(l);
                }
            }
            State::Commands => {
                let l = trim_eol(line);
                let upper: Vec<u8> = l.iter().take(10).map(|c| c.to_ascii_uppercase()).collect();
                if upper.starts_with(b"HELO ") || upper.starts_with(b"EHLO ") {
                    self.helo = Some(l[5..].trim_ascii().to_vec());
                } else if upper.starts_with(b"MAIL FROM:") {
                    self.current = Some(Mail {
                        helo: self.helo.clone(),
                        mail_from: address(&l[10..]),
                        ..Mail::default()
                    });
                } else if upper.starts_with(b"RCPT TO:") {
                    if let Some(m) = self.current.as_mut() {
                        if m.rcpt_to.len() < 256 {
                            m.rcpt_to.push(address(&l[8..]));
                        }
                    }
                } else if upper == b"DATA" {
                    self.state = State::Data;
                    self.current
                        .get_or_insert_with(|| Mail { helo: self.helo.clone(), ..Mail::default() });
                } else if upper.starts_with(b"RSET") {
                    self.current = None;
                } else if upper.starts_with(b"STARTTLS") || upper.starts_with(b"BDAT") {
                    self.state = State::Done;
                }
            }
            State::Done => {}
        }
    }
}

fn trim_eol(l: &[u8]) -> &[u8] {
    let l = l.strip_suffix(b"\n").unwrap_or(l);
    l.strip_suffix(b"\r").unwrap_or(l)
}

/// `<a@b>` (with optional parameters after it) → `a@b`.
fn address(s: &[u8]) -> Vec<u8> {
    let s = s.trim_ascii();
    match (memchr::memchr(b'<', s), memchr::memchr(b'>', s)) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].to_vec(),
        _ => s.split(|c| *c == b' ').next().unwrap_or_default().to_vec(),
    }
}

/// Headers of a MIME entity (unfolded, names lowercased) and where its body starts.
fn headers(entity: &[u8]) -> (Vec<(String, String)>, usize) {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut pos = 0;
    while pos < entity.len() {
        let end = memchr::memchr(b'\n', &entity[pos..]).map_or(entity.len(), |i| pos + i + 1);
        let line = trim_eol(&entity[pos..end]);
        pos = end;
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some((_, v)) = out.last_mut() {
                v.push(' ');
                v.push_str(&String::from_utf8_lossy(line.trim_ascii()));
            }
            continue;
        }
        if let Some(c) = memchr::memchr(b':', line) {
            if out.len() < 200 {
                out.push((
                    String::from_utf8_lossy(line[..c].trim_ascii()).to_ascii_lowercase(),
                    String::from_utf8_lossy(line[c + 1..].trim_ascii()).into_owned(),
                ));
            }
        }
    }
    (out, pos)
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// A parameter of a header value: `name="x"` or `name=x`.
fn param(value: &str, name: &str) -> Option<String> {
    for part in value.split(';').skip(1) {
        let (k, v) = part.split_once('=')?;
        if k.trim().eq_ignore_ascii_case(name) {
            return Some(v.trim().trim_matches('"').to_string());
        }
    }
    None
}

fn parse_message(msg: &[u8], m: &mut Mail) {
    let (h, _) = headers(msg);
    m.from = header(&h, "from").map(str::to_string);
    m.to = header(&h, "to")
        .map(|t| t.split(',').map(|x| x.trim().to_string()).collect())
        .unwrap_or_default();
    m.subject = header(&h, "subject").map(str::to_string);
    entity(msg, 0, &mut m.attachments);
}

/// Walks a MIME entity, collecting attachments.
fn entity(e: &[u8], depth: usize, out: &mut Vec<Attachment>) {
    let (h, body_at) = headers(e);
    let body = &e[body_at.min(e.len())..];
    let ctype = header(&h, "content-type").unwrap_or("text/plain");
    if ctype.to_ascii_lowercase().starts_with("multipart/") {
        let Some(boundary) = param(ctype, "boundary") else { return };
        if depth >= MAX_DEPTH || boundary.is_empty() {
            return;
        }
        let delim = format!("--{boundary}");
        let mut parts = body.split_str(delim.as_bytes());
        parts.next(); // preamble
        for p in parts {
            if p.starts_with(b"--") {
                break; // closing delimiter
            }
            let p = p.strip_prefix(b"\r\n").or_else(|| p.strip_prefix(b"\n")).unwrap_or(p);
            if out.len() >= 64 {
                return;
            }
            entity(p, depth + 1, out);
        }
        return;
    }
    let disposition = header(&h, "content-disposition").unwrap_or("");
    let filename = param(disposition, "filename").or_else(|| param(ctype, "name"));
    let attachment = disposition.to_ascii_lowercase().starts_with("attachment");
    if filename.is_none() && !attachment {
        return;
    }
    let body = body.strip_suffix(b"\r\n").or_else(|| body.strip_suffix(b"\n")).unwrap_or(body);
    let data = match header(&h, "content-transfer-encoding").map(|v| v.trim().to_ascii_lowercase())
    {
        Some(ref v) if v == "base64" => base64(body),
        Some(ref v) if v == "quoted-printable" => quoted_printable(body),
        _ => body.to_vec(),
    };
    out.push(Attachment { filename: filename.unwrap_or_default(), data });
}

trait SplitStr {
    fn split_str<'a>(&'a self, delim: &'a [u8]) -> Box<dyn Iterator<Item = &'a [u8]> + 'a>;
}

impl SplitStr for [u8] {
    fn split_str<'a>(&'a self, delim: &'a [u8]) -> Box<dyn Iterator<Item = &'a [u8]> + 'a> {
        let mut rest = Some(self);
        Box::new(std::iter::from_fn(move || {
            let r = rest?;
            match memchr::memmem::find(r, delim) {
                Some(i) => {
                    rest = Some(&r[i + delim.len()..]);
                    Some(&r[..i])
                }
                None => {
                    rest = None;
                    Some(r)
                }
            }
        }))
    }
}

/// Lenient base64: characters outside the alphabet are skipped, decoding stops at `=`.
pub fn base64(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Quoted-printable: `=XX` and soft line breaks (`=` at the end of a line).
pub fn quoted_printable(s: &[u8]) -> Vec<u8> {
    super::unescape_hex(s, b'=', |s, i| match (s.get(i + 1), s.get(i + 2)) {
        (Some(b'\r'), Some(b'\n')) => 3,
        (Some(b'\n'), _) => 2,
        _ => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &[u8] = b"EHLO ubnd-phuvang.hue.gov.vn\r\n\
MAIL FROM:<ketoan@phuvang.hue.gov.vn> SIZE=1000\r\n\
RCPT TO:<giamdoc@hue.gov.vn>\r\n\
RCPT TO:<vanthu@hue.gov.vn>\r\n\
DATA\r\n\
From: Ke toan <ketoan@phuvang.hue.gov.vn>\r\n\
To: giamdoc@hue.gov.vn, vanthu@hue.gov.vn\r\n\
Subject: Bao cao\r\n\
Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\
\r\n\
preamble\r\n\
--XYZ\r\n\
Content-Type: text/plain\r\n\
\r\n\
Xem tep dinh kem.\r\n\
..dot-stuffed line\r\n\
--XYZ\r\n\
Content-Type: application/octet-stream; name=\"baocao.exe\"\r\n\
Content-Disposition: attachment; filename=\"baocao.exe\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
TVqQAAMAAAAEAAAA\r\n\
//8AALgAAAAA\r\n\
--XYZ--\r\n\
.\r\n\
QUIT\r\n";

    #[test]
    fn envelope_headers_and_attachment_in_any_pieces() {
        for step in [1, 7, 64, SESSION.len()] {
            let mut p = SmtpParser::new(1 << 20);
            let mut out = Vec::new();
            for c in SESSION.chunks(step) {
                p.feed(c, &mut out);
            }
            assert_eq!(out.len(), 1, "step {step}");
            let m = &out[0];
            assert_eq!(m.helo.as_deref(), Some(&b"ubnd-phuvang.hue.gov.vn"[..]));
            assert_eq!(m.mail_from, b"ketoan@phuvang.hue.gov.vn");
            assert_eq!(m.rcpt_to.len(), 2);
            assert_eq!(m.subject.as_deref(), Some("Bao cao"));
            assert_eq!(m.to, vec!["giamdoc@hue.gov.vn", "vanthu@hue.gov.vn"]);
            assert_eq!(m.attachments.len(), 1);
            assert_eq!(m.attachments[0].filename, "baocao.exe");
            assert!(m.attachments[0].data.starts_with(b"MZ\x90\x00\x03"));
            assert!(!m.truncated);
        }
    }

    #[test]
    fn decoders_and_bounds() {
        assert_eq!(base64(b"aGVs\r\nbG8="), b"hello");
        assert_eq!(quoted_printable(b"caf=C3=A9 =\r\nend=zz"), "café end=zz".as_bytes());
        // STARTTLS ends parsing; an overlong command line is dropped and counted.
        let mut p = SmtpParser::new(100);
        let mut out = Vec::new();
        p.feed(&vec![b'A'; MAX_LINE + 10], &mut out);
        p.feed(b"\r\nSTARTTLS\r\nMAIL FROM:<x@y>\r\nDATA\r\n", &mut out);
        assert_eq!(p.errors, 1);
        p.close(&mut out);
        assert!(out.is_empty());
        // A message beyond the limit is cut, and reported at close.
        let mut p = SmtpParser::new(10);
        p.feed(b"MAIL FROM:<a@b>\r\nDATA\r\nSubject: 0123456789abcdef\r\n", &mut out);
        p.close(&mut out);
        assert!(out[0].truncated);
    }
}
