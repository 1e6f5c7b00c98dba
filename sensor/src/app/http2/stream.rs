//! An HTTP/2 stream as a transaction: its header fields and body per direction, the
//! frames seen on it, the buffers it fills for the rules and its EVE record.

use gatewatch_rules::signature::Buffer;
use serde::Serialize;

use super::doh;
use super::frame::{error_name, setting_name};
use super::hpack::Field;
use crate::app::http::conn::{body_file, request_buffers, response_buffers, HttpRecord};
use crate::app::http::{self, Body, BodySink, Encoding, Head};
use crate::app::parser::{meta, push, AppCx, Inspection, TO_CLIENT, TO_SERVER};
use crate::app::records::{text, FileRecord, Record};

/// What the frames of one direction of a stream said, for `http2.*` keywords and the
/// record's `http2` details.
#[derive(Debug, Default)]
pub(super) struct Facts {
    pub types: Vec<u8>,
    pub error_codes: Vec<u32>,
    pub priority: Vec<u8>,
    pub window: Vec<u32>,
    pub settings: Vec<(u16, u32)>,
    pub size_updates: Vec<u64>,
    /// The error code came from a GOAWAY (logged upper-case, as Suricata does).
    pub goaway: bool,
}

impl Facts {
    pub fn merge(&mut self, o: Facts) {
        self.types.extend(o.types);
        self.error_codes.extend(o.error_codes);
        self.priority.extend(o.priority);
        self.window.extend(o.window);
        self.settings.extend(o.settings);
        self.size_updates.extend(o.size_updates);
        self.goaway |= o.goaway;
    }

    /// The `http2.*` buffers of these frames: numbers as decimal text, a setting as
    /// `id=value`.
    fn buffers(&self, out: &mut Vec<(Buffer, Vec<u8>)>) {
        let num = |b: Buffer, v: u64, out: &mut Vec<(Buffer, Vec<u8>)>| {
            out.push((b, v.to_string().into_bytes()))
        };
        let mut types = self.types.clone();
        types.sort_unstable();
        types.dedup();
        for t in types {
            num(Buffer::Http2FrameType, t as u64, out);
        }
        for &e in &self.error_codes {
            num(Buffer::Http2ErrorCode, e as u64, out);
        }
        for &p in &self.priority {
            num(Buffer::Http2Priority, p as u64, out);
        }
        for &w in &self.window {
            num(Buffer::Http2Window, w as u64, out);
        }
        for &u in &self.size_updates {
            num(Buffer::Http2SizeUpdate, u, out);
        }
        for &(id, v) in &self.settings {
            out.push((Buffer::Http2Settings, format!("{id}={v}").into_bytes()));
        }
    }

    /// The record's `request`/`response` object, when there is something to log.
    fn log(&self) -> Option<FrameLog> {
        let settings: Vec<_> = self
            .settings
            .iter()
            .map(|&(id, v)| SettingLog { settings_id: setting_name(id), settings_value: v })
            .collect();
        let error_code = self.error_codes.first().map(|&e| {
            let n = error_name(e);
            if self.goaway {
                n.to_uppercase()
            } else {
                n
            }
        });
        let has_multiple = if self.error_codes.len() > 1 {
            Some("error_code")
        } else {
            (self.priority.len() > 1).then_some("priority")
        };
        let log = FrameLog {
            settings: (!settings.is_empty()).then_some(settings),
            error_code,
            priority: self.priority.first().copied(),
            has_multiple,
        };
        (log.settings.is_some() || log.error_code.is_some() || log.priority.is_some())
            .then_some(log)
    }
}

/// One direction of a stream.
#[derive(Debug, Default)]
pub(super) struct Dir {
    pub headers: Vec<Field>,
    body: Option<BodySink>,
    pub facts: Facts,
    /// Inspected (END_STREAM, or the stream ended).
    pub done: bool,
    /// The finished body, kept from the request's inspection to the record.
    finished: Option<Body>,
}

/// Heap bytes of decoded header fields.
pub(super) fn fields_heap_bytes(fields: &[Field]) -> usize {
    fields
        .iter()
        .map(|f| {
            std::mem::size_of::<Field>()
                + match f {
                    Field::Header(n, v) => n.capacity() + v.capacity(),
                    Field::SizeUpdate(_) => 0,
                }
        })
        .sum()
}

impl Stream {
    /// Heap bytes the stream holds: its header fields and bodies.
    pub fn heap_bytes(&self) -> usize {
        let dir = |d: &Dir| {
            fields_heap_bytes(&d.headers)
                + d.body.as_ref().map_or(0, |b| b.data.capacity())
                + d.finished.as_ref().map_or(0, |b| b.data.capacity())
        };
        std::mem::size_of::<Stream>() + dir(&self.dirs[0]) + dir(&self.dirs[1])
    }
}

impl Dir {
    pub fn start_body(&mut self) {
        if self.body.is_none() {
            let enc = Encoding::named(header(&self.headers, b"content-encoding"));
            self.body = Some(BodySink::new(enc));
        }
    }

    pub fn push_body(&mut self, bytes: &[u8], limits: &http::Limits) {
        if let Some(b) = self.body.as_mut() {
            b.push(bytes, limits);
        }
    }

    fn finish_body(&mut self, limits: &http::Limits, incomplete: bool, cx: &mut AppCx<'_>) {
        if let Some(b) = self.body.take() {
            let mut failed = 0;
            self.finished = Some(b.finish(limits, incomplete, &mut failed));
            cx.count("http2_errors_decode_failed", failed);
        }
    }
}

#[derive(Debug)]
pub(super) struct Stream {
    pub id: u32,
    pub tx_id: u64,
    pub dirs: [Dir; 2],
}

impl Stream {
    pub fn new(id: u32, tx_id: u64) -> Stream {
        Stream { id, tx_id, dirs: Default::default() }
    }

    /// Direction `dir` ended: its message is inspected.
    pub fn complete(&mut self, dir: usize, limits: &http::Limits, cx: &mut AppCx<'_>) {
        if self.dirs[dir].done {
            return;
        }
        self.dirs[dir].finish_body(limits, false, cx);
        self.dirs[dir].done = true;
        let mut insp = Inspection::new(dir);
        if dir == TO_SERVER {
            self.request_buffers(true, &mut insp.buffers);
        } else {
            self.request_buffers(false, &mut insp.buffers);
            self.response_buffers(&mut insp.buffers);
        }
        self.dirs[dir].facts.buffers(&mut insp.buffers);
        header_fields(&self.dirs[dir].headers, &mut insp.buffers);
        let body = self.dirs[dir].finished.as_ref().map(|b| b.data.as_slice());
        if let Some(msg) = doh::message(&self.dirs[dir].headers, dir == TO_SERVER, body) {
            doh::inspect(&msg, dir, &mut insp, cx);
        }
        insp.meta = meta("http", &self.record());
        cx.inspect(insp);
    }

    /// The stream is over (response complete, reset, evicted or the flow ended): what
    /// was not inspected is, and the transaction is logged with its file.
    pub fn finish(mut self, limits: &http::Limits, cx: &mut AppCx<'_>) {
        for dir in [TO_SERVER, TO_CLIENT] {
            if !self.dirs[dir].done {
                let incomplete = self.dirs[dir].body.is_some();
                self.dirs[dir].finish_body(limits, incomplete, cx);
                if !self.dirs[dir].headers.is_empty() || !self.dirs[dir].facts.types.is_empty() {
                    self.complete(dir, limits, cx);
                }
            }
        }
        cx.count("http2_tx", 1);
        let rec = self.record();
        let file = self.file().map(|f| f.carried_by("http", &rec));
        let has_http = rec.http_method.is_some() || rec.status.is_some();
        if has_http
            || rec.http2.as_ref().is_some_and(|d| d.request.is_some() || d.response.is_some())
        {
            cx.record(true, Record::Http(rec));
        }
        if let Some(file) = file {
            cx.record(false, Record::Fileinfo(file));
        }
    }

    /// A transaction of stream 0 (one control frame): inspected, and logged when it
    /// carries settings or an error code.
    pub fn control(self, dir: usize, cx: &mut AppCx<'_>) {
        self.frames_only(dir, cx);
        let rec = self.record();
        if rec.http2.as_ref().is_some_and(|d| d.request.is_some() || d.response.is_some()) {
            cx.record(true, Record::Http(rec));
        }
    }

    /// An inspection of the frame buffers of direction `dir` alone.
    pub fn frames_only(&self, dir: usize, cx: &mut AppCx<'_>) {
        let mut insp = Inspection::new(dir);
        self.dirs[dir].facts.buffers(&mut insp.buffers);
        insp.meta = meta("http", &self.record());
        cx.inspect(insp);
    }

    fn request_head(&self) -> Option<Head> {
        let f = &self.dirs[TO_SERVER].headers;
        let method = pseudo(f, b":method")?;
        let path = pseudo(f, b":path").unwrap_or_default();
        Some(head([method.to_vec(), path.to_vec(), b"HTTP/2".to_vec()], f))
    }

    fn response_head(&self) -> Option<Head> {
        let f = &self.dirs[TO_CLIENT].headers;
        let status = pseudo(f, b":status")?;
        Some(head([b"HTTP/2".to_vec(), status.to_vec(), Vec::new()], f))
    }

    /// The `http.*` buffers of the request (`with_either`: also those inspected in
    /// both directions, for the request's own inspection).
    fn request_buffers(&self, with_either: bool, out: &mut Vec<(Buffer, Vec<u8>)>) {
        let Some(req) = self.request_head() else { return };
        // The request body is inspected with the request only.
        let body = self.dirs[TO_SERVER].finished.as_ref().filter(|_| with_either);
        request_buffers(&req, body, with_either, out);
        let fields = &self.dirs[TO_SERVER].headers;
        if req.header("Host").is_none() {
            if let Some(a) = pseudo(fields, b":authority") {
                push(out, Buffer::HttpHostRaw, a);
                out.push((Buffer::HttpHost, http::normalize_host(authority_host(a))));
            }
        }
        // `http.request_header` also holds the pseudo-headers, as in Suricata.
        for (n, v) in fields.iter().filter_map(field).filter(|(n, _)| n.starts_with(b":")) {
            out.push((Buffer::HttpRequestHeader, [n, b": ", v].concat()));
        }
        whole_header_buffers(fields, b"cookie", out);
    }

    fn response_buffers(&self, out: &mut Vec<(Buffer, Vec<u8>)>) {
        let Some(resp) = self.response_head() else { return };
        let empty = Body::default();
        let body = self.dirs[TO_CLIENT].finished.as_ref().unwrap_or(&empty);
        response_buffers(&resp, body, out);
        let fields = &self.dirs[TO_CLIENT].headers;
        for (n, v) in fields.iter().filter_map(field).filter(|(n, _)| n.starts_with(b":")) {
            out.push((Buffer::HttpResponseHeader, [n, b": ", v].concat()));
        }
        whole_header_buffers(fields, b"set-cookie", out);
    }

    pub fn record(&self) -> HttpRecord {
        let (req, resp) = (&self.dirs[TO_SERVER].headers, &self.dirs[TO_CLIENT].headers);
        // A pushed stream's request fields come from the server (PUSH_PROMISE).
        let any = |n: &[u8]| pseudo(req, n).or_else(|| pseudo(resp, n));
        let h = |n: &[u8]| header(req, n).map(text);
        let body = self.dirs[TO_CLIENT].finished.as_ref();
        let status =
            pseudo(resp, b":status").and_then(|s| std::str::from_utf8(s).ok()?.parse().ok());
        let details = Http2Details {
            stream_id: self.id,
            request: self.dirs[TO_SERVER].facts.log(),
            response: self.dirs[TO_CLIENT].facts.log(),
        };
        HttpRecord {
            tx_id: self.tx_id,
            hostname: any(b":authority")
                .map(authority_host)
                .or_else(|| header(req, b"host"))
                .map(|a| text(&http::normalize_host(a))),
            url: any(b":path").map(text),
            http_user_agent: h(b"user-agent"),
            http_content_type: header(resp, b"content-type").map(text),
            http_refer: h(b"referer"),
            http_method: any(b":method").map(text),
            protocol: None,
            status,
            redirect: header(resp, b"location").map(text),
            length: (status.is_some() || body.is_some()).then(|| body.map_or(0, |b| b.size)),
            version: Some("2"),
            request_headers: log_fields(req),
            response_headers: log_fields(resp),
            http2: Some(details),
        }
    }

    fn file(&self) -> Option<FileRecord> {
        let body = self.dirs[TO_CLIENT].finished.as_ref().filter(|b| b.size > 0)?;
        let path = pseudo(&self.dirs[TO_SERVER].headers, b":path").unwrap_or_default();
        Some(body_file(path, body, self.tx_id))
    }
}

/// The `http2` object of an HTTP/2 record.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Http2Details {
    pub stream_id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<FrameLog>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<FrameLog>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FrameLog {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<Vec<SettingLog>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// The frames held more than one error code or priority; the first is logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_multiple: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SettingLog {
    pub settings_id: String,
    pub settings_value: u32,
}

/// A header field as `request_headers`/`response_headers` list it.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(untagged)]
pub enum HeaderLog {
    Field { name: String, value: String },
    SizeUpdate { table_size_update: u64 },
}

fn log_fields(fields: &[Field]) -> Option<Vec<HeaderLog>> {
    let v: Vec<_> = fields
        .iter()
        .map(|f| match f {
            Field::Header(n, v) => HeaderLog::Field { name: text(n), value: text(v) },
            Field::SizeUpdate(n) => HeaderLog::SizeUpdate { table_size_update: *n },
        })
        .collect();
    (!v.is_empty()).then_some(v)
}

fn field(f: &Field) -> Option<(&[u8], &[u8])> {
    match f {
        Field::Header(n, v) => Some((n, v)),
        Field::SizeUpdate(_) => None,
    }
}

/// The value of pseudo-header `name`.
fn pseudo<'a>(fields: &'a [Field], name: &[u8]) -> Option<&'a [u8]> {
    fields.iter().filter_map(field).find(|(n, _)| *n == name).map(|(_, v)| v)
}

/// The first regular header named `name` (case-insensitive).
fn header<'a>(fields: &'a [Field], name: &[u8]) -> Option<&'a [u8]> {
    fields.iter().filter_map(field).find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

/// The host of an `:authority` (without any `user:password@`).
fn authority_host(a: &[u8]) -> &[u8] {
    match memchr::memrchr(b'@', a) {
        Some(i) => &a[i + 1..],
        None => a,
    }
}

/// An HTTP/1-shaped head of a stream's fields: `parts` from the pseudo-headers, the
/// regular headers, and the text an HTTP/1 message would carry.
fn head(parts: [Vec<u8>; 3], fields: &[Field]) -> Head {
    let headers: Vec<(Vec<u8>, Vec<u8>)> = fields
        .iter()
        .filter_map(field)
        .filter(|(n, _)| !n.starts_with(b":"))
        .map(|(n, v)| (n.to_vec(), v.to_vec()))
        .collect();
    let start_line = if parts[0] == b"HTTP/2" {
        [&parts[0][..], b" ", &parts[1]].concat()
    } else {
        parts.join(&b' ')
    };
    let mut raw_headers = Vec::new();
    for (n, v) in &headers {
        raw_headers.extend_from_slice(&[n, &b": "[..], v, b"\r\n"].concat());
    }
    raw_headers.extend_from_slice(b"\r\n");
    let raw = [&start_line[..], b"\r\n", &raw_headers].concat();
    Head { parts, start_line, headers, raw_headers, raw }
}

/// `http.header`, `http.header_names` and `http.header.raw` of an HTTP/2 message, as
/// Suricata builds them from the header blocks: the pseudo-headers included (the
/// `strip_pseudo_headers` transform removes them), values trimmed in `http.header`,
/// where the cookie header (`cookie_name`) is left out as in HTTP/1.
fn whole_header_buffers(fields: &[Field], cookie_name: &[u8], out: &mut Vec<(Buffer, Vec<u8>)>) {
    out.retain(|(b, _)| {
        !matches!(b, Buffer::HttpHeader | Buffer::HttpHeaderNames | Buffer::HttpHeaderRaw)
    });
    let (mut header, mut names, mut raw) = (Vec::new(), b"\r\n".to_vec(), Vec::new());
    for (n, v) in fields.iter().filter_map(field) {
        if !n.eq_ignore_ascii_case(cookie_name) {
            let v = trim_blanks(v);
            header.extend_from_slice(&[n, b": ", v, b"\r\n"].concat());
        }
        names.extend_from_slice(&[n, &b"\r\n"[..]].concat());
        raw.extend_from_slice(&[n, b": ", v, b"\r\n"].concat());
    }
    if !header.is_empty() {
        out.push((Buffer::HttpHeader, header));
    }
    if names.len() > 2 {
        names.extend_from_slice(b"\r\n");
        out.push((Buffer::HttpHeaderNames, names));
    }
    if !raw.is_empty() {
        out.push((Buffer::HttpHeaderRaw, raw));
    }
}

/// `v` without the spaces and tabs around it.
fn trim_blanks(v: &[u8]) -> &[u8] {
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let start = v.iter().position(|c| !blank(c)).unwrap_or(v.len());
    let end = v.iter().rposition(|c| !blank(c)).map_or(start, |i| i + 1);
    &v[start..end]
}

/// `http2.header` and `http2.header_name`: every field of the direction.
fn header_fields(fields: &[Field], out: &mut Vec<(Buffer, Vec<u8>)>) {
    for (n, v) in fields.iter().filter_map(field) {
        out.push((Buffer::Http2Header, [n, b": ", v].concat()));
        push(out, Buffer::Http2HeaderName, n);
    }
}
