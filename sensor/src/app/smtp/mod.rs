//! SMTP, client side: the envelope (HELO/EHLO, MAIL FROM, RCPT TO) and the message after
//! DATA, whose MIME parts with a file name or `attachment` disposition become files
//! (the message parsed by `mail-parser`: encoded words and parameters decode, bodies
//! from base64 and quoted-printable). Bounded: a command line of more than
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

/// The message's headers and attachments, through a maintained MIME parser
/// (`mail-parser`): encoded words (RFC 2047: `=?UTF-8?B?…?=` subjects and display
/// names) and encoded parameters (RFC 2231: `filename*=UTF-8''…` attachment names)
/// decode, in any charset (Vietnamese mail written as UTF-8 or Windows-1258), and
/// bodies are decoded from base64 or quoted-printable.
fn parse_message(msg: &[u8], m: &mut Mail) {
    let Some(parsed) = mail_parser::MessageParser::default().parse(msg) else { return };
    // A sender with a name: the name decoded; without one, the header as written.
    m.from = match parsed.from().and_then(|a| a.iter().next()) {
        Some(a) if a.name().is_some_and(|n| !n.is_empty()) => Some(address_text(a)),
        _ => parsed.header_raw("From").map(|h| h.trim().to_string()),
    };
    m.to = parsed.to().map(|a| a.iter().map(address_text).collect()).unwrap_or_default();
    m.subject = parsed.subject().map(str::to_string);
    attachments(&parsed, 0, &mut m.attachments);
}

/// `Name <address>`, or the address alone, as the header wrote it once decoded.
fn address_text(a: &mail_parser::Addr<'_>) -> String {
    match (a.name(), a.address()) {
        (Some(n), Some(addr)) if !n.is_empty() => format!("{n} <{addr}>"),
        (_, Some(addr)) => addr.to_string(),
        (Some(n), None) => n.to_string(),
        (None, None) => String::new(),
    }
}

/// The parts of `msg` that are files (a name, or an `attachment` disposition), and
/// those of the messages it forwards, down to [`MAX_DEPTH`]; at most 64.
fn attachments(msg: &mail_parser::Message<'_>, depth: usize, out: &mut Vec<Attachment>) {
    use mail_parser::MimeHeaders;
    for part in msg.attachments() {
        if out.len() >= 64 {
            return;
        }
        if let Some(inner) = part.message() {
            if depth + 1 < MAX_DEPTH {
                attachments(inner, depth + 1, out);
            }
            continue;
        }
        let name = part.attachment_name();
        let is_attachment = part.content_disposition().is_some_and(|d| d.is_attachment());
        if name.is_none() && !is_attachment {
            continue;
        }
        let filename = name.unwrap_or_default().to_string();
        out.push(Attachment { filename, data: part_bytes(msg, part) });
    }
}

/// A part's bytes as sent, once its transfer encoding is undone. The parser turns text
/// parts into text (invalid bytes become U+FFFD); a file is kept as its bytes, so a
/// text part is decoded again from the message.
fn part_bytes(msg: &mail_parser::Message<'_>, part: &mail_parser::MessagePart<'_>) -> Vec<u8> {
    use mail_parser::{Encoding, PartType};
    if let PartType::Binary(b) | PartType::InlineBinary(b) = &part.body {
        return b.to_vec();
    }
    let (from, to) = (part.offset_body as usize, part.offset_end as usize);
    let raw = msg.raw_message.get(from..to).unwrap_or_default();
    match part.encoding {
        Encoding::Base64 => base64_lenient(raw),
        Encoding::QuotedPrintable => quoted_printable(raw),
        Encoding::None => {
            let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
            raw.strip_suffix(b"\r").unwrap_or(raw).to_vec()
        }
    }
}

/// Base64 as mail writes it: line breaks and stray bytes between the characters are
/// skipped, padding is optional, and a cut last group keeps the whole bytes before it.
fn base64_lenient(raw: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let mut text: Vec<u8> = raw
        .iter()
        .copied()
        .take_while(|&c| c != b'=')
        .filter(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        .collect();
    // Four characters make three bytes; a single one left over makes none.
    if text.len() % 4 == 1 {
        text.pop();
    }
    engine.decode(&text).unwrap_or_default()
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

    /// A Vietnamese mail as Outlook writes it: the subject and the sender's name as
    /// encoded words, the attachment's name as an RFC 2231 parameter, its body in
    /// base64, a text part in quoted-printable.
    #[test]
    fn vietnamese_subjects_and_attachment_names_decode() {
        let msg = "From: =?UTF-8?B?S+G6vyB0b8Ohbg==?= <ketoan@phuvang.hue.gov.vn>\r\n\
To: =?UTF-8?Q?Gi=C3=A1m_=C4=91=E1=BB=91c?= <giamdoc@hue.gov.vn>\r\n\
Subject: =?UTF-8?B?QsOhbyBjw6FvIHTDoGkgY2jDrW5oIHRow6FuZyAxMA==?=\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
K=C3=ADnh g=E1=BB=ADi\r\n\
--b1\r\n\
Content-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename*=UTF-8''h%C3%B3a%20%C4%91%C6%A1n.exe\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
TVqQAAMAAAAEAAAA\r\n\
--b1--\r\n";
        let mut m = Mail::default();
        parse_message(msg.as_bytes(), &mut m);
        assert_eq!(m.subject.as_deref(), Some("Báo cáo tài chính tháng 10"));
        assert_eq!(m.from.as_deref(), Some("Kế toán <ketoan@phuvang.hue.gov.vn>"));
        assert_eq!(m.to, ["Giám đốc <giamdoc@hue.gov.vn>"]);
        assert_eq!(m.attachments.len(), 1, "{:?}", m.attachments);
        assert_eq!(m.attachments[0].filename, "hóa đơn.exe");
        assert_eq!(&m.attachments[0].data[..2], b"MZ");
    }

    /// A padded base64 body right before the closing boundary decodes to its bytes and
    /// no more; a name-less part with an `attachment` disposition is a file too.
    #[test]
    fn attachment_bytes_are_exactly_the_decoded_body() {
        let msg = b"From: <ketoan@phuvang.hue.gov.vn>\r\nSubject: Bao cao quy\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n\
Dinh kem.\r\n--b1\r\nContent-Disposition: attachment; filename=\"baocao.exe\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAA=\r\n--b1\r\n\
Content-Disposition: attachment\r\n\r\nplain\r\n--b1--\r\n";
        let mut m = Mail::default();
        parse_message(msg, &mut m);
        assert_eq!(m.from.as_deref(), Some("<ketoan@phuvang.hue.gov.vn>"));
        let got: Vec<(&str, &[u8])> =
            m.attachments.iter().map(|a| (a.filename.as_str(), a.data.as_slice())).collect();
        assert_eq!(got, [("baocao.exe", &b"MZ\x90\x00\x03\x00\x00\x00"[..]), ("", b"plain")]);
    }

    #[test]
    fn transfer_decoders() {
        assert_eq!(base64_lenient(b"aGVs\r\nbG8="), b"hello");
        assert_eq!(base64_lenient(b"aGVsbG8"), b"hello", "padding is optional");
        assert_eq!(base64_lenient(b"aGVsb"), b"hel", "a cut group keeps the whole bytes");
        assert_eq!(quoted_printable(b"caf=C3=A9 =\r\nend=zz"), "café end=zz".as_bytes());
    }

    #[test]
    fn bounds() {
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
