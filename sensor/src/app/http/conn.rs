//! HTTP/1 on a connection: parser events become transactions, their inspection
//! buffers, EVE `http` records and files.

use std::collections::VecDeque;

use gatewatch_rules::signature::{AppProto, Buffer, Side as BufferSide};
use serde::Serialize;

use super::{Body, Event, Head, HttpParser, RequestInfo, Side};
use crate::app::filetype;
use crate::app::http;
use crate::app::http2::stream::{HeaderLog, Http2Details};
use crate::app::http2::Http2Conn;
use crate::app::parser::{
    meta, push, AppCx, AppParser, Inspection, Probe, Registration, Sender, TO_CLIENT,
};
use crate::app::records::{text, FileRecord, Record};
use crate::app::websocket::WebsocketConn;

/// HTTP/1 over TCP.
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Http,
    ports: &[80, 8080],
    needs_port: false,
    probe,
    new: |limits| {
        Box::new(HttpConn {
            req: HttpParser::new(Side::Request, limits.http),
            resp: HttpParser::new(Side::Response, limits.http),
            txs: VecDeque::new(),
            next_tx: 0,
            limits: limits.http,
            h2c_request: None,
            websocket: None,
            upgraded: Upgraded::No,
        })
    },
};

fn probe(data: &[u8], _other: &[u8], _port_hint: bool) -> Probe {
    match (http::looks_like_request(data), http::looks_like_response(data)) {
        (Some(true), _) => Probe::Yes(Sender::Client),
        (_, Some(true)) => Probe::Yes(Sender::Server),
        (None, _) | (_, None) => Probe::NeedMore,
        _ => Probe::No,
    }
}

/// The EVE `http` object of a transaction.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HttpRecord {
    #[serde(skip)]
    pub(crate) tx_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) http_user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) http_content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) http_refer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) http_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) protocol: Option<String>,
    /// The response's status code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) redirect: Option<String>,
    /// Body bytes of the response (absent on HTTP/2 control transactions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// `"2"` for HTTP/2 (HTTP/1 says it in `protocol`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'static str>,
    /// HTTP/2: every header field of each direction, pseudo-headers included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_headers: Option<Vec<HeaderLog>>,
    /// The response headers (when `eve.http_headers` asks for them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_headers: Option<Vec<HeaderLog>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) http2: Option<Http2Details>,
}

#[derive(Debug)]
pub(crate) struct HttpTx {
    pub(crate) id: u64,
    pub(crate) request: Option<Box<Head>>,
    pub(crate) request_body: Option<Box<Body>>,
    pub(crate) response: Option<Box<Head>>,
}

#[derive(Debug)]
pub(crate) struct HttpConn {
    pub(crate) req: HttpParser,
    pub(crate) resp: HttpParser,
    pub(crate) txs: VecDeque<HttpTx>,
    pub(crate) next_tx: u64,
    limits: http::Limits,
    /// The request of a `101` answer to `Upgrade: h2c`, until the switch.
    h2c_request: Option<Box<Head>>,
    /// A `101` answered `Upgrade: websocket` (with `permessage-deflate` or not).
    websocket: Option<bool>,
    upgraded: Upgraded,
}

/// What follows a `101 Switching Protocols` on the connection.
#[derive(Debug)]
enum Upgraded {
    No,
    /// HTTP/2 (`h2c`): its parser takes both directions.
    H2(Box<Http2Conn>),
    /// WebSocket: its frames.
    Ws(Box<WebsocketConn>),
    /// Another protocol: no longer parsed.
    Other,
    /// HTTP parsing of the connection ended ([`http::Limits::max_tx`] reached): the
    /// transactions held are logged when the flow ends.
    GaveUp,
}

impl HttpConn {
    /// After a `101` response: the next protocol takes the bytes that followed it.
    fn switch(&mut self, cx: &mut AppCx<'_>) {
        let Some(rest) = self.resp.take_upgraded() else { return };
        self.upgraded = match (self.h2c_request.take(), self.websocket.take()) {
            (Some(req), _) => {
                cx.count("http2_h2c_upgrades", 1);
                let mut h2 = Http2Conn::upgraded(self.limits, &req, self.next_tx);
                h2.parse(TO_CLIENT, &rest, cx);
                Upgraded::H2(Box::new(h2))
            }
            (None, Some(deflate)) => {
                cx.count("websocket_upgrades", 1);
                let mut ws = WebsocketConn::new(deflate);
                ws.parse(TO_CLIENT, &rest, cx);
                Upgraded::Ws(Box::new(ws))
            }
            (None, None) => Upgraded::Other,
        };
    }
}

impl AppParser for HttpConn {
    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        match &mut self.upgraded {
            Upgraded::H2(h2) => return h2.parse(dir, bytes, cx),
            Upgraded::Ws(ws) => return ws.parse(dir, bytes, cx),
            Upgraded::Other | Upgraded::GaveUp => return,
            Upgraded::No => {}
        }
        let mut ev = Vec::new();
        if dir == 0 {
            self.req.feed(bytes, RequestInfo::default, &mut ev);
        } else {
            // The k-th response head answers the k-th transaction without one.
            let mut k =
                self.txs.iter().position(|t| t.response.is_none()).unwrap_or(self.txs.len());
            let txs = &self.txs;
            self.resp.feed(
                bytes,
                || {
                    let info = txs.get(k).and_then(|t| t.request.as_ref()).map(|r| RequestInfo {
                        head_method: r.parts[0].eq_ignore_ascii_case(b"HEAD"),
                        connect: r.parts[0].eq_ignore_ascii_case(b"CONNECT"),
                    });
                    k += 1;
                    info.unwrap_or_default()
                },
                &mut ev,
            );
        }
        for p in [&mut self.req, &mut self.resp] {
            for e in p.events.drain(..) {
                cx.event(e);
            }
        }
        http_events(self, dir == 0, ev, cx);
        if dir == TO_CLIENT {
            self.switch(cx);
        }
    }

    fn mem_usage(&self) -> usize {
        let txs: usize = self
            .txs
            .iter()
            .map(|t| {
                std::mem::size_of::<HttpTx>()
                    + [&t.request, &t.response]
                        .into_iter()
                        .flatten()
                        .map(|h| std::mem::size_of::<Head>() + h.heap_bytes())
                        .sum::<usize>()
                    + t.request_body
                        .as_ref()
                        .map_or(0, |b| std::mem::size_of::<Body>() + b.data.capacity())
            })
            .sum();
        let next = match &self.upgraded {
            Upgraded::H2(h2) => h2.mem_usage(),
            Upgraded::Ws(ws) => ws.mem_usage(),
            _ => 0,
        };
        self.req.heap_bytes() + self.resp.heap_bytes() + txs + next
    }

    fn app_proto(&self) -> Option<AppProto> {
        match self.upgraded {
            Upgraded::H2(_) => Some(AppProto::Http2),
            Upgraded::Ws(_) => Some(AppProto::Websocket),
            _ => None,
        }
    }

    fn gap(&mut self, dir: usize, cx: &mut AppCx<'_>) {
        if let Upgraded::H2(h2) = &mut self.upgraded {
            return h2.gap(dir, cx);
        }
        // The message in progress cannot be completed; the parser resynchronises on
        // the next message start.
        let p = if dir == 0 { &mut self.req } else { &mut self.resp };
        p.close(&mut Vec::new());
    }

    fn close(&mut self, dir: usize, cx: &mut AppCx<'_>) {
        match &mut self.upgraded {
            Upgraded::H2(h2) => return h2.close(dir, cx),
            Upgraded::GaveUp => return,
            _ => {}
        }
        let mut ev = Vec::new();
        if dir == 0 {
            self.req.close(&mut ev);
        } else {
            self.resp.close(&mut ev);
        }
        http_events(self, dir == 0, ev, cx);
    }

    fn end(&mut self, cx: &mut AppCx<'_>) {
        if let Upgraded::H2(h2) = &mut self.upgraded {
            h2.end(cx);
        }
        for e in [self.req.errors, self.resp.errors] {
            cx.counters.http_head_too_long += e.head_too_long;
            cx.counters.http_bad_start_line += e.bad_start_line;
            cx.counters.http_bad_chunk += e.bad_chunk;
            cx.counters.http_decode_failed += e.decode_failed;
            cx.counters.http_junk_bytes += e.junk_bytes;
        }
        while let Some(tx) = self.txs.pop_front() {
            if let Some(rec) = http_record(&tx, None, None) {
                cx.record(true, Record::Http(rec));
            }
        }
    }
}

/// Applies parser events to the transactions of a connection.
pub(crate) fn http_events(
    h: &mut HttpConn,
    request_side: bool,
    events: Vec<Event>,
    cx: &mut AppCx<'_>,
) {
    for ev in events {
        match (request_side, ev) {
            (true, Event::Head(_)) if h.txs.len() >= h.limits.max_tx => {
                // Suricata's `max-tx`: the connection is no longer parsed as HTTP,
                // rather than holding requests nobody answers without bound.
                cx.event("http.too_many_transactions");
                cx.count("http_too_many_transactions", 1);
                h.upgraded = Upgraded::GaveUp;
                return;
            }
            (true, Event::Head(head)) => {
                let id = h.next_tx;
                h.next_tx += 1;
                cx.counters.http_tx += 1;
                h.txs.push_back(HttpTx {
                    id,
                    request: Some(head),
                    request_body: None,
                    response: None,
                });
            }
            (true, Event::Done(body)) => {
                let Some(tx) = h.txs.iter_mut().rev().find(|t| t.request.is_some()) else {
                    continue;
                };
                let mut insp = Inspection::new(0);
                if let Some(req) = &tx.request {
                    request_buffers(req, Some(&body), true, &mut insp.buffers);
                }
                insp.meta = http_record(tx, None, None)
                    .and_then(|r| meta("http", &r))
                    .map(|m| m.with_tx(tx.id));
                tx.request_body = Some(body);
                cx.inspect(insp);
            }
            (false, Event::Head(head)) => {
                match h.txs.iter_mut().find(|t| t.response.is_none()) {
                    Some(tx) => tx.response = Some(head),
                    None => {
                        // A response without a request (midstream pickup).
                        let id = h.next_tx;
                        h.next_tx += 1;
                        cx.counters.http_tx += 1;
                        h.txs.push_back(HttpTx {
                            id,
                            request: None,
                            request_body: None,
                            response: Some(head),
                        });
                    }
                }
            }
            (false, Event::Done(body)) => {
                let Some(pos) = h.txs.iter().position(|t| t.response.is_some()) else { continue };
                let Some(tx) = h.txs.remove(pos) else { continue };
                let mut insp = Inspection::new(1);
                if let Some(req) = &tx.request {
                    request_buffers(req, tx.request_body.as_deref(), false, &mut insp.buffers);
                }
                if let Some(resp) = &tx.response {
                    response_buffers(resp, &body, &mut insp.buffers);
                }
                let rec = http_record(&tx, tx.response.as_deref(), Some(&body));
                insp.meta = rec.as_ref().and_then(|r| meta("http", r)).map(|m| m.with_tx(tx.id));
                cx.inspect(insp);
                if let Some(deflate) = websocket_upgrade(&tx) {
                    h.websocket = Some(deflate);
                }
                if is_h2c_upgrade(&tx) {
                    // The request goes on as HTTP/2 stream 1, logged there.
                    h.h2c_request = tx.request;
                    continue;
                }
                let file = (body.size > 0).then(|| file_record(&tx, &body));
                let file = match &rec {
                    Some(r) => file.map(|f| f.carried_by("http", r)),
                    None => file,
                };
                if let Some(rec) = rec {
                    cx.record(true, Record::Http(rec));
                }
                if let Some(file) = file {
                    cx.record(false, Record::Fileinfo(file));
                }
            }
        }
    }
}

/// A `101` answer switching to WebSocket: whether the server agreed to compress
/// messages (`permessage-deflate`).
fn websocket_upgrade(tx: &HttpTx) -> Option<bool> {
    let resp = tx.response.as_ref()?;
    let upgrade = resp.header_joined("Upgrade")?;
    if resp.status() != Some(101) || !upgrade.eq_ignore_ascii_case(b"websocket") {
        return None;
    }
    let ext = resp.header_joined("Sec-WebSocket-Extensions").unwrap_or_default();
    Some(ext.to_ascii_lowercase().windows(18).any(|w| w == b"permessage-deflate"))
}

/// A `101` answer to a request that asked for `Upgrade: h2c`.
fn is_h2c_upgrade(tx: &HttpTx) -> bool {
    let status = tx.response.as_ref().and_then(|r| r.status());
    let asked = tx.request.as_ref().and_then(|r| r.header_joined("Upgrade"));
    status == Some(101)
        && asked.is_some_and(|u| u.to_ascii_lowercase().windows(3).any(|w| w == b"h2c"))
}

/// Headers as `Name: value\r\n` lines followed by `\r\n`.
pub(crate) fn header_buffers(head: &Head, out: &mut Vec<(Buffer, Vec<u8>)>, per_header: Buffer) {
    let mut all = Vec::new();
    let mut names = b"\r\n".to_vec();
    for (n, v) in &head.headers {
        let mut line = n.clone();
        line.extend_from_slice(b": ");
        line.extend_from_slice(v);
        all.extend_from_slice(&line);
        all.extend_from_slice(b"\r\n");
        names.extend_from_slice(n);
        names.extend_from_slice(b"\r\n");
        out.push((per_header, line));
    }
    all.extend_from_slice(b"\r\n");
    names.extend_from_slice(b"\r\n");
    out.push((Buffer::HttpHeader, all));
    out.push((Buffer::HttpHeaderNames, names));
    push(out, Buffer::HttpHeaderRaw, &head.raw_headers);
    push(out, Buffer::HttpStart, &head.raw);
    push(
        out,
        Buffer::HttpProtocol,
        if per_header == Buffer::HttpRequestHeader { &head.parts[2] } else { &head.parts[0] },
    );
    for (name, b) in [
        ("Content-Type", Buffer::HttpContentType),
        ("Content-Length", Buffer::HttpContentLen),
        ("Connection", Buffer::HttpConnection),
    ] {
        if let Some(v) = head.header(name) {
            push(out, b, v);
        }
    }
}

/// The buffers of a request. `with_either`: also the buffers that exist in both
/// directions (inspected with the request); without it, only request-only buffers,
/// for a rule that also needs the response.
pub(crate) fn request_buffers(
    req: &Head,
    body: Option<&Body>,
    with_either: bool,
    out: &mut Vec<(Buffer, Vec<u8>)>,
) {
    push(out, Buffer::HttpMethod, &req.parts[0]);
    push(out, Buffer::HttpUriRaw, &req.parts[1]);
    out.push((Buffer::HttpUri, http::normalize_uri(&req.parts[1])));
    push(out, Buffer::HttpRequestLine, &req.start_line);
    for (name, b) in [
        ("User-Agent", Buffer::HttpUserAgent),
        ("Accept", Buffer::HttpAccept),
        ("Accept-Encoding", Buffer::HttpAcceptEnc),
        ("Accept-Language", Buffer::HttpAcceptLang),
        ("Referer", Buffer::HttpReferer),
    ] {
        if let Some(v) = req.header(name) {
            push(out, b, v);
        }
    }
    if let Some(h) = req.header("Host") {
        push(out, Buffer::HttpHostRaw, h);
        out.push((Buffer::HttpHost, http::normalize_host(h)));
    }
    if let Some(b) = body.filter(|b| b.size > 0) {
        push(out, Buffer::HttpRequestBody, b.inspected());
    }
    if with_either {
        header_buffers(req, out, Buffer::HttpRequestHeader);
        if let Some(c) = req.header_joined("Cookie") {
            out.push((Buffer::HttpCookie, c));
        }
        if let Some(b) = body.filter(|b| b.size > 0) {
            push(out, Buffer::FileData, b.inspected());
            file_hashes(b, out);
        }
    } else {
        // Request headers one by one stay available to a response-side rule.
        for (n, v) in &req.headers {
            let mut line = n.clone();
            line.extend_from_slice(b": ");
            line.extend_from_slice(v);
            out.push((Buffer::HttpRequestHeader, line));
        }
    }
    debug_assert!(out.iter().all(|(b, _)| with_either || b.side() == BufferSide::Request));
}

pub(crate) fn response_buffers(resp: &Head, body: &Body, out: &mut Vec<(Buffer, Vec<u8>)>) {
    push(out, Buffer::HttpStatCode, &resp.parts[1]);
    push(out, Buffer::HttpStatMsg, &resp.parts[2]);
    push(out, Buffer::HttpResponseLine, &resp.start_line);
    header_buffers(resp, out, Buffer::HttpResponseHeader);
    if let Some(c) = resp.header_joined("Set-Cookie") {
        out.push((Buffer::HttpCookie, c));
    }
    for (name, b) in [("Location", Buffer::HttpLocation), ("Server", Buffer::HttpServer)] {
        if let Some(v) = resp.header(name) {
            push(out, b, v);
        }
    }
    if body.size > 0 {
        push(out, Buffer::FileData, body.inspected());
        file_hashes(body, out);
    }
}

/// The hashes and size of a complete body, for `filemd5`, `filesha1`, `filesha256`,
/// `filesize`.
fn file_hashes(b: &Body, out: &mut Vec<(Buffer, Vec<u8>)>) {
    if !b.incomplete {
        for (buf, h) in [
            (Buffer::FileMd5, &b.md5),
            (Buffer::FileSha1, &b.sha1),
            (Buffer::FileSha256, &b.sha256),
        ] {
            out.push((buf, h.as_bytes().to_vec()));
        }
        out.push((Buffer::FileSize, b.size.to_string().into_bytes()));
    }
}

pub(crate) fn http_record(
    tx: &HttpTx,
    resp: Option<&Head>,
    body: Option<&Body>,
) -> Option<HttpRecord> {
    let req = tx.request.as_deref();
    if req.is_none() && resp.is_none() {
        return None;
    }
    let rh = |n: &str| req.and_then(|r| r.header(n)).map(text);
    Some(HttpRecord {
        tx_id: tx.id,
        hostname: req.and_then(|r| r.header("Host")).map(|h| text(&http::normalize_host(h))),
        url: req.map(|r| text(&r.parts[1])),
        http_user_agent: rh("User-Agent"),
        http_content_type: resp.and_then(|r| r.header("Content-Type")).map(text),
        http_refer: rh("Referer"),
        http_method: req.map(|r| text(&r.parts[0])),
        protocol: req.map(|r| text(&r.parts[2])).or_else(|| resp.map(|r| text(&r.parts[0]))),
        status: resp.and_then(|r| r.status()),
        redirect: resp.and_then(|r| r.header("Location")).map(text),
        length: Some(body.map_or(0, |b| b.size)),
        version: None,
        request_headers: None,
        response_headers: None,
        http2: None,
    })
}

pub(crate) fn file_record(tx: &HttpTx, body: &Body) -> FileRecord {
    let uri = tx.request.as_ref().map_or(&[][..], |r| &r.parts[1]);
    body_file(uri, body, tx.id)
}

/// The `fileinfo` of a message body, named by the path of the request's URI.
pub(crate) fn body_file(uri: &[u8], body: &Body, tx_id: u64) -> FileRecord {
    let path = uri.split(|c| *c == b'?').next().unwrap_or_default();
    FileRecord {
        filename: text(path),
        magic: filetype::describe(&body.data),
        gaps: body.incomplete,
        state: if body.incomplete { "TRUNCATED" } else { "CLOSED" },
        md5: body.md5.clone(),
        sha1: body.sha1.clone(),
        sha256: body.sha256.clone(),
        stored: false,
        size: body.size,
        tx_id,
        data: body.data.clone(),
        storable: !body.incomplete && !body.truncated && !body.decoded,
        carrier: serde_json::Map::new(),
    }
}
