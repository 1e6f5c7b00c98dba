//! Syslog messages (RFC 5424 and the BSD format of RFC 3164) as host log events, and
//! the framing of syslog over TCP (RFC 6587).
//!
//! A message becomes one JSON object:
//!
//! ```json
//! {"timestamp": "2026-11-23T08:15:02+07:00", "host": "web01", "program": "sshd",
//!  "pid": "1234", "facility": "auth", "severity": "info", "message": "Failed password …"}
//! ```
//!
//! plus `msgid` and `structured_data` (`{"SD-ID": {"name": "value"}}`) for RFC 5424.
//! Two message bodies are read further, because Sigma rules look inside them:
//!
//! - a JSON object (`{…}`, or `@cee: {…}`), as nxlog and rsyslog forward Windows and
//!   other structured events: its fields become the event's, and the syslog header goes
//!   under `syslog`;
//! - an auditd record (`type=EXECVE msg=audit(1700000000.123:42): argc=2 a0="ls" …`):
//!   its `key=value` pairs become fields (hex-encoded untrusted strings decoded, as
//!   `ausearch -i` does), `logsource` says `product: linux, service: auditd`, and the
//!   record's own time is the event's.
//!
//! Messages without a priority (lines of `/var/log/auth.log`) are read as RFC 3164
//! with the facility and severity unknown. A BSD timestamp has no year and no zone: the
//! year is the receive time's (the previous one when that would put the message more
//! than a day in the future) and the zone is `local_offset`.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use serde_json::{json, Map, Value};

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyslogError {
    /// The message is empty.
    #[error("empty message")]
    Empty,
    /// The `<PRI>` is missing or out of range.
    #[error("bad priority `{0}` (expected <0>..<191>)")]
    Priority(String),
    /// An RFC 5424 header field is malformed.
    #[error("RFC 5424 header: {0}")]
    Header5424(&'static str),
    /// The structured data is malformed at this byte.
    #[error("RFC 5424 structured data at byte {0}: {1}")]
    StructuredData(usize, &'static str),
}

const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];
const SEVERITIES: [&str; 8] =
    ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

/// Reads one syslog message. `received` is when it arrived (for BSD timestamps, which
/// lack a year, and for messages without a timestamp); `local_offset` is the zone of
/// BSD timestamps.
pub fn parse(
    raw: &[u8],
    received: DateTime<FixedOffset>,
    local_offset: FixedOffset,
) -> Result<Value, SyslogError> {
    // RFC 5424 lets a message be in any encoding: what is not UTF-8 is read as Latin-1
    // (every byte a character), so that one such byte loses nothing.
    let text: std::borrow::Cow<'_, str> = match std::str::from_utf8(raw) {
        Ok(t) => t.into(),
        Err(_) => raw.iter().map(|&b| b as char).collect::<String>().into(),
    };
    let text = text.trim_end_matches(['\n', '\r', '\0']);
    if text.trim().is_empty() {
        return Err(SyslogError::Empty);
    }
    let mut out = Map::new();
    let rest = match text.strip_prefix('<') {
        Some(after) => {
            let end = after
                .find('>')
                .filter(|&e| (1..=3).contains(&e))
                .ok_or_else(|| SyslogError::Priority(text.chars().take(6).collect()))?;
            let pri: usize = after[..end]
                .parse()
                .ok()
                .filter(|&p| p <= 191)
                .ok_or_else(|| SyslogError::Priority(after[..end].to_string()))?;
            out.insert("facility".into(), FACILITIES[pri / 8].into());
            out.insert("severity".into(), SEVERITIES[pri % 8].into());
            &after[end + 1..]
        }
        None => text,
    };
    // RFC 5424: VERSION (1) and a space right after the priority.
    if let Some(r) = rest.strip_prefix("1 ") {
        parse_5424(r, &mut out)?;
    } else {
        parse_3164(rest, received, local_offset, &mut out);
    }
    if !out.contains_key("timestamp") {
        out.insert("timestamp".into(), received.to_rfc3339().into());
    }
    Ok(read_body(out))
}

fn nil(s: &str) -> Option<&str> {
    (s != "-").then_some(s)
}

fn parse_5424(r: &str, out: &mut Map<String, Value>) -> Result<(), SyslogError> {
    let mut parts = r.splitn(6, ' ');
    let mut field = |what| parts.next().ok_or(SyslogError::Header5424(what));
    let ts = field("no TIMESTAMP")?;
    let host = field("no HOSTNAME")?;
    let app = field("no APP-NAME")?;
    let procid = field("no PROCID")?;
    let msgid = field("no MSGID")?;
    let rest = parts.next().unwrap_or("");
    if let Some(ts) = nil(ts) {
        let t = DateTime::parse_from_rfc3339(ts)
            .map_err(|_| SyslogError::Header5424("TIMESTAMP is not RFC 3339"))?;
        out.insert("timestamp".into(), t.to_rfc3339().into());
    }
    for (k, v) in [("host", host), ("program", app), ("pid", procid), ("msgid", msgid)] {
        if let Some(v) = nil(v) {
            out.insert(k.into(), v.into());
        }
    }
    let (sd, msg) = structured_data(rest)?;
    if !sd.is_empty() {
        out.insert("structured_data".into(), Value::Object(sd));
    }
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    out.insert("message".into(), msg.into());
    Ok(())
}

/// `-` or `[id k="v" …][…]`, then the message after one space.
fn structured_data(s: &str) -> Result<(Map<String, Value>, &str), SyslogError> {
    let mut sd = Map::new();
    if let Some(rest) = s.strip_prefix('-') {
        return Ok((sd, rest.strip_prefix(' ').unwrap_or(rest)));
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] == b'[' {
        i += 1;
        let id_end = s[i..]
            .find([' ', ']'])
            .map(|e| i + e)
            .ok_or(SyslogError::StructuredData(i, "unterminated element"))?;
        let id = &s[i..id_end];
        let mut params = Map::new();
        i = id_end;
        loop {
            match b.get(i) {
                Some(b']') => {
                    i += 1;
                    break;
                }
                Some(b' ') => i += 1,
                Some(_) => {
                    let eq = s[i..]
                        .find('=')
                        .map(|e| i + e)
                        .ok_or(SyslogError::StructuredData(i, "parameter without `=`"))?;
                    let name = &s[i..eq];
                    if b.get(eq + 1) != Some(&b'"') {
                        return Err(SyslogError::StructuredData(eq + 1, "value not quoted"));
                    }
                    let mut value = String::new();
                    let mut j = eq + 2;
                    loop {
                        match b.get(j) {
                            None => {
                                return Err(SyslogError::StructuredData(j, "unterminated value"))
                            }
                            Some(b'"') => break,
                            Some(b'\\') if matches!(b.get(j + 1), Some(b'"' | b'\\' | b']')) => {
                                value.push(b[j + 1] as char);
                                j += 2;
                            }
                            Some(_) => {
                                // Copy one UTF-8 character.
                                let ch = s[j..].chars().next().unwrap_or('\u{fffd}');
                                value.push(ch);
                                j += ch.len_utf8();
                            }
                        }
                    }
                    params.insert(name.to_string(), value.into());
                    i = j + 1;
                }
                None => return Err(SyslogError::StructuredData(i, "unterminated element")),
            }
        }
        sd.insert(id.to_string(), Value::Object(params));
    }
    let rest = &s[i..];
    Ok((sd, rest.strip_prefix(' ').unwrap_or(rest)))
}

fn parse_3164(
    r: &str,
    received: DateTime<FixedOffset>,
    local_offset: FixedOffset,
    out: &mut Map<String, Value>,
) {
    let mut rest = r;
    // `Nov 23 08:15:02` (day space-padded), or an RFC 3339 time as rsyslog writes with
    // its high-precision template.
    if let Some((ts, after)) = bsd_timestamp(rest, received, local_offset) {
        out.insert("timestamp".into(), ts.to_rfc3339().into());
        rest = after;
    } else if let Some((word, after)) = rest.split_once(' ') {
        if let Ok(t) = DateTime::parse_from_rfc3339(word) {
            out.insert("timestamp".into(), t.to_rfc3339().into());
            rest = after;
        }
    }
    // HOSTNAME, unless the next word is already the tag (`sshd[12]:`, `CRON:`).
    if let Some((word, after)) = rest.split_once(' ') {
        if !word.is_empty() && !word.ends_with(':') && !word.contains(['[', '=']) {
            out.insert("host".into(), word.into());
            rest = after;
        }
    }
    // TAG: up to 32 alphanumerics (and `-_./`), then `[pid]` and/or `:`.
    let tag_len = rest
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/'))
        .count();
    let after_tag = &rest[tag_len..];
    if tag_len > 0 && (after_tag.starts_with('[') || after_tag.starts_with(':')) {
        let tag = &rest[..tag_len];
        let mut body = after_tag;
        if let Some(p) = body.strip_prefix('[') {
            if let Some(end) = p.find(']') {
                out.insert("pid".into(), p[..end].into());
                body = &p[end + 1..];
            }
        }
        body = body.strip_prefix(':').unwrap_or(body);
        out.insert("program".into(), tag.into());
        out.insert("message".into(), body.strip_prefix(' ').unwrap_or(body).into());
    } else {
        out.insert("message".into(), rest.into());
    }
}

/// `Mmm dd hh:mm:ss ` at the start of `s`.
fn bsd_timestamp(
    s: &str,
    received: DateTime<FixedOffset>,
    local_offset: FixedOffset,
) -> Option<(DateTime<FixedOffset>, &str)> {
    let head = s.get(..15)?;
    // Fixed byte offsets below: only an ASCII head can be a BSD timestamp.
    if !head.is_ascii() {
        return None;
    }
    let rest = s.get(15..)?.strip_prefix(' ')?;
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| head[..3].eq_ignore_ascii_case(m))? as u32 + 1;
    let day: u32 = head[4..6].trim().parse().ok()?;
    let time = chrono::NaiveTime::parse_from_str(&head[7..15], "%H:%M:%S").ok()?;
    let local_received = received.with_timezone(&local_offset);
    let at = |year| {
        NaiveDate::from_ymd_opt(year, month, day)
            .map(|d| NaiveDateTime::new(d, time))
            .and_then(|n| local_offset.from_local_datetime(&n).single())
    };
    let mut t = at(local_received.year())?;
    if t > received + chrono::Duration::days(1) {
        t = at(local_received.year() - 1)?;
    }
    Some((t, rest))
}

/// JSON and auditd bodies (see the module documentation).
fn read_body(mut out: Map<String, Value>) -> Value {
    let msg = out.get("message").and_then(Value::as_str).unwrap_or("");
    let json_text = msg.strip_prefix("@cee:").map(str::trim_start).unwrap_or(msg);
    if json_text.starts_with('{') {
        if let Ok(Value::Object(mut inner)) = serde_json::from_str::<Value>(json_text) {
            out.remove("message");
            inner.entry("syslog").or_insert(Value::Object(out));
            return Value::Object(inner);
        }
    }
    if let Some(fields) = auditd_record(msg) {
        let audit_time = fields.get("msg").and_then(Value::as_str).and_then(audit_time);
        if let Some(t) = audit_time {
            out.insert("timestamp".into(), t.into());
        }
        for (k, v) in fields {
            out.entry(k).or_insert(v);
        }
        out.insert("logsource".into(), json!({"product": "linux", "service": "auditd"}));
    }
    Value::Object(out)
}

/// Fields whose values auditd writes hex-encoded when they hold spaces, quotes or
/// control characters.
fn untrusted(field: &str) -> bool {
    matches!(field, "proctitle" | "name" | "cwd" | "comm" | "exe" | "path" | "data" | "cmd" | "key")
        || (field.starts_with('a')
            && field.len() > 1
            && field[1..].bytes().all(|c| c.is_ascii_digit() || c == b'[' || c == b']'))
}

/// The `key=value` pairs of an auditd record, or `None` when `msg` is not one.
pub fn auditd_record(msg: &str) -> Option<Map<String, Value>> {
    let body = msg.trim_start();
    // The record may come with the node=… prefix of a multi-host setup.
    let body = match body.strip_prefix("node=") {
        Some(r) => r.split_once(' ').map(|(_, rest)| rest)?,
        None => body,
    };
    if !body.starts_with("type=") || !body.contains("msg=audit(") {
        return None;
    }
    let mut fields = Map::new();
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let Some(eq) = body[i..].find('=').map(|e| i + e) else { break };
        let key = &body[i..eq];
        if key.contains(' ') {
            // A word without `=`: skip it.
            i += key.find(' ').unwrap_or(key.len()) + 1;
            continue;
        }
        let (value, next) = match b.get(eq + 1) {
            Some(b'"') => match body[eq + 2..].find('"') {
                Some(end) => (body[eq + 2..eq + 2 + end].to_string(), eq + 3 + end),
                None => (body[eq + 2..].to_string(), b.len()),
            },
            Some(b'\'') => match body[eq + 2..].find('\'') {
                // `msg='op=… res=success'` of USER_* records: its pairs are fields too.
                Some(end) => {
                    let inner = &body[eq + 2..eq + 2 + end];
                    for pair in inner.split(' ') {
                        if let Some((k, v)) = pair.split_once('=') {
                            fields.entry(k.to_string()).or_insert(v.trim_matches('"').into());
                        }
                    }
                    (inner.to_string(), eq + 3 + end)
                }
                None => (body[eq + 2..].to_string(), b.len()),
            },
            _ => {
                let end = body[eq + 1..].find(' ').map_or(b.len(), |e| eq + 1 + e);
                let raw = &body[eq + 1..end];
                let decoded = if untrusted(key) { hex_text(raw) } else { None };
                (decoded.unwrap_or_else(|| raw.to_string()), end)
            }
        };
        let key = key.strip_suffix(':').unwrap_or(key);
        fields.insert(key.to_string(), value.into());
        i = next;
    }
    Some(fields)
}

/// `2F62696E2F7368002D63` → `/bin/sh -c` (NULs between arguments become spaces).
fn hex_text(s: &str) -> Option<String> {
    if s.len() < 2 || !s.len().is_multiple_of(2) || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map(|c| if c == 0 { b' ' } else { c }))
        .collect::<Result<_, _>>()
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).trim_end().to_string())
}

/// `audit(1700000000.123:42):` → RFC 3339.
fn audit_time(msg: &str) -> Option<String> {
    let inner = msg.strip_prefix("audit(")?;
    let secs = inner.split(':').next()?;
    let (s, frac) = secs.split_once('.').unwrap_or((secs, "0"));
    let s: i64 = s.parse().ok()?;
    let ms: u32 = format!("{frac:0<3}").get(..3)?.parse().ok()?;
    chrono::Utc.timestamp_opt(s, ms * 1_000_000).single().map(|t| t.to_rfc3339())
}

/// Why a TCP stream was cut into a frame differently than sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameProblem {
    /// A frame of `len` bytes, longer than the limit: its first `limit` bytes were kept
    /// and the rest dropped.
    Truncated {
        /// The frame's length as sent.
        len: usize,
    },
}

/// Splits a syslog TCP stream into messages: octet-counted (`LEN SP MSG`, RFC 6587
/// §3.4.1) or newline-terminated (§3.4.2), decided per frame by its first bytes. A
/// frame longer than `max` is cut to `max` bytes and reported; the framer never holds
/// more than about `max` bytes.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    max: usize,
    /// Bytes still to drop of an over-long octet-counted frame.
    skip: usize,
    /// Dropping an over-long newline-terminated frame up to its newline.
    skipping_line: bool,
}

impl Framer {
    /// A framer that cuts frames longer than `max` bytes.
    pub fn new(max: usize) -> Framer {
        Framer { buf: Vec::new(), max: max.max(64), skip: 0, skipping_line: false }
    }

    /// Adds bytes of the stream.
    pub fn push(&mut self, mut bytes: &[u8]) {
        if self.skip > 0 {
            let n = self.skip.min(bytes.len());
            self.skip -= n;
            bytes = &bytes[n..];
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, if any.
    pub fn next_frame(&mut self) -> Option<(Vec<u8>, Option<FrameProblem>)> {
        if self.skipping_line {
            match memchr_nl(&self.buf) {
                Some(nl) => {
                    self.buf.drain(..=nl);
                    self.skipping_line = false;
                }
                None => {
                    self.buf.clear();
                    return None;
                }
            }
        }
        // Stray separators between frames.
        let start = self.buf.iter().take_while(|&&c| matches!(c, b'\n' | b'\r' | b'\0')).count();
        self.buf.drain(..start);
        let first = *self.buf.first()?;
        if first.is_ascii_digit() {
            let digits = self.buf.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == self.buf.len() && digits <= 10 {
                return None; // the length is not complete yet
            }
            if digits <= 10 && self.buf[digits] == b' ' {
                let len: usize = std::str::from_utf8(&self.buf[..digits]).ok()?.parse().ok()?;
                let body = digits + 1;
                if len <= self.max {
                    if self.buf.len() < body + len {
                        return None;
                    }
                    let frame = self.buf[body..body + len].to_vec();
                    self.buf.drain(..body + len);
                    return Some((frame, None));
                }
                if self.buf.len() < body + self.max {
                    return None;
                }
                let frame = self.buf[body..body + self.max].to_vec();
                let here = self.buf.len() - body;
                if here >= len {
                    self.buf.drain(..body + len);
                } else {
                    self.skip = len - here;
                    self.buf.clear();
                }
                return Some((frame, Some(FrameProblem::Truncated { len })));
            }
            // Digits not followed by a space: a newline-terminated frame.
        }
        match memchr_nl(&self.buf) {
            Some(nl) if nl <= self.max => {
                let end = if nl > 0 && self.buf[nl - 1] == b'\r' { nl - 1 } else { nl };
                let frame = self.buf[..end].to_vec();
                self.buf.drain(..=nl);
                Some((frame, None))
            }
            Some(nl) => {
                let frame = self.buf[..self.max].to_vec();
                self.buf.drain(..=nl);
                Some((frame, Some(FrameProblem::Truncated { len: nl })))
            }
            None if self.buf.len() > self.max => {
                let frame = self.buf[..self.max].to_vec();
                let len = self.buf.len();
                self.buf.clear();
                self.skipping_line = true;
                Some((frame, Some(FrameProblem::Truncated { len })))
            }
            None => None,
        }
    }

    /// What is left when the connection closes: a last frame without its newline.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let rest = std::mem::take(&mut self.buf);
        (!self.skipping_line && self.skip == 0 && !rest.iter().all(u8::is_ascii_whitespace))
            .then_some(rest)
    }
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

#[cfg(test)]
mod tests;
