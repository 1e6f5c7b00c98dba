//! HTTP/1.x message parsing over one direction of a reassembled TCP stream.
//!
//! Lenient the way an IDS must be: bare `\n` line ends, folded header lines, missing
//! reason phrases, junk before a message and unknown methods are accepted; a head
//! longer than [`Limits::max_head`] or a bad chunk size ends parsing of that direction
//! (counted) rather than guessing. Bodies are de-chunked and kept up to
//! [`Limits::body_limit`] bytes (the rest is still hashed for `fileinfo`); gzip and
//! deflate bodies are decoded on completion, bounded by [`Limits::decoded_limit`].

mod body;
pub mod conn;
mod head;
mod uri;

pub(crate) use body::{BodySink, Encoding};
pub use uri::{normalize_host, normalize_uri};

/// Bounds of one direction.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest start line plus headers.
    pub max_head: usize,
    /// Body bytes kept for inspection.
    pub body_limit: usize,
    /// Bytes a compressed body may decode to.
    pub decoded_limit: usize,
    /// Transactions of a connection waiting for their response, at most (Suricata's
    /// `max-tx`): a request beyond them raises `http.too_many_transactions` and ends
    /// HTTP parsing of the connection.
    pub max_tx: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // Suricata's defaults: 100 KiB request/response body for inspection.
        Limits {
            max_head: 64 * 1024,
            body_limit: 100 * 1024,
            decoded_limit: 1024 * 1024,
            max_tx: 512,
        }
    }
}

/// The start line and headers of a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Head {
    /// Request: method, target, protocol. Response: protocol, status code, reason.
    pub parts: [Vec<u8>; 3],
    pub(crate) start_line: Vec<u8>,
    pub(crate) headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Header lines as sent, after the start line, including the blank line.
    pub raw_headers: Vec<u8>,
    /// Start line and headers as sent, including the blank line.
    pub raw: Vec<u8>,
}

impl Head {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| head::eq_nozero(n, name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    /// All values of `name` joined by `, `.
    pub fn header_joined(&self, name: &str) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        for (n, v) in &self.headers {
            if head::eq_nozero(n, name.as_bytes()) {
                let o = out.get_or_insert_with(Vec::new);
                if !o.is_empty() {
                    o.extend_from_slice(b", ");
                }
                o.extend_from_slice(v);
            }
        }
        out
    }

    /// Heap bytes the head holds.
    pub fn heap_bytes(&self) -> usize {
        let pairs: usize = self.headers.iter().map(|(n, v)| n.capacity() + v.capacity()).sum();
        self.parts.iter().map(Vec::capacity).sum::<usize>()
            + self.start_line.capacity()
            + self.headers.capacity() * std::mem::size_of::<(Vec<u8>, Vec<u8>)>()
            + pairs
            + self.raw_headers.capacity()
            + self.raw.capacity()
    }

    /// The status code of a response head.
    pub fn status(&self) -> Option<u16> {
        std::str::from_utf8(&self.parts[1]).ok()?.parse().ok()
    }
}

/// A finished body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    /// De-chunked and decoded bytes, up to the limits.
    pub data: Vec<u8>,
    /// Bytes on the wire after de-chunking (before content decoding).
    pub size: u64,
    /// The kept bytes stop before the end of the body.
    pub truncated: bool,
    /// Hashes of the whole de-chunked body (before content decoding).
    pub md5: String,
    pub(crate) sha1: String,
    pub(crate) sha256: String,
    /// The body ended early (connection closed, gap).
    pub incomplete: bool,
    /// `data` is the content-decoded body (gzip/deflate), not the bytes hashed.
    pub decoded: bool,
    /// Bytes of `data` the body buffers (`file.data`, `http.request_body`) inspect:
    /// the body limit, counted after decoding. YARA scans all of `data`.
    pub inspect_len: usize,
}

impl Body {
    /// The bytes the body buffers inspect.
    pub fn inspected(&self) -> &[u8] {
        &self.data[..self.inspect_len.min(self.data.len())]
    }
}

/// What parsing a chunk of stream produced, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A request or response head (start line and headers).
    Head(Box<Head>),
    /// The body of the last head is complete (also sent for messages without a body).
    Done(Box<Body>),
}

/// What [`HttpParser::parse_head`] found.
enum Parsed {
    NeedMore,
    /// A head ending at this offset, with its body to read.
    Message(usize, Head, Option<Box<BodyState>>),
    /// An interim `100 Continue` ending at this offset: the final response follows.
    Interim(usize),
}

/// Is this response an interim `100 Continue` (no body announced), which libhtp skips
/// so that the final response answers the request?
fn interim(head: &Head) -> bool {
    head.status() == Some(100)
        && head.header("Transfer-Encoding").is_none()
        && head.header("Content-Length").and_then(content_length).unwrap_or(0) == 0
}

/// A Content-Length as libhtp reads it: the first run of digits, junk around it
/// allowed.
fn content_length(v: &[u8]) -> Option<u64> {
    let start = v.iter().position(u8::is_ascii_digit)?;
    let len = v[start..].iter().take_while(|c| c.is_ascii_digit()).count();
    std::str::from_utf8(&v[start..start + len]).ok()?.parse().ok()
}

#[derive(Debug)]
enum Framing {
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

#[derive(Debug, Clone, Copy)]
enum Chunk {
    /// Reading the size line.
    Size,
    Data(u64),
    /// The CRLF after chunk data.
    DataEnd,
    /// Trailer lines after the last chunk.
    Trailer,
}

struct BodyState {
    framing: Framing,
    sink: BodySink,
    /// A chunk size carried an extension (`;name=value`).
    chunk_extension: bool,
}

impl std::fmt::Debug for BodyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyState")
            .field("framing", &self.framing)
            .field("size", &self.sink.size)
            .finish()
    }
}

#[derive(Debug)]
enum State {
    Head,
    Body(Box<BodyState>),
    /// Parsing gave up on this direction.
    Dead,
    /// A `101 Switching Protocols` response ended HTTP/1 on the connection; the bytes
    /// after it wait in the buffer for the next protocol ([`HttpParser::take_upgraded`]).
    Upgraded,
}

/// Which side of the connection a parser reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Parses requests.
    Request,
    /// Parses responses.
    Response,
}

/// Counters of one parser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HttpErrors {
    pub(crate) head_too_long: u64,
    pub(crate) bad_start_line: u64,
    pub(crate) bad_chunk: u64,
    pub(crate) decode_failed: u64,
    pub(crate) junk_bytes: u64,
}

/// One direction of an HTTP/1 connection.
#[derive(Debug)]
pub struct HttpParser {
    side: Side,
    limits: Limits,
    buf: Vec<u8>,
    state: State,
    pub(crate) errors: HttpErrors,
    /// Anomalies seen since last taken (`app-layer-event:http.*`).
    pub events: Vec<&'static str>,
}

/// What a response parser must know of the request it answers.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestInfo {
    /// The request was `HEAD`: its response has no body.
    pub head_method: bool,
    /// The request was `CONNECT`: a 2xx response ends HTTP on the connection.
    pub connect: bool,
}

const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"CONNECT",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
];

/// Does `data` look like the start of an HTTP/1 request?
pub fn looks_like_request(data: &[u8]) -> Option<bool> {
    let sp = match memchr::memchr(b' ', &data[..data.len().min(32)]) {
        Some(i) => i,
        None if data.len() >= 32 => return Some(false),
        None => {
            let known_prefix = METHODS.iter().any(|m| m.starts_with(data) && !data.is_empty());
            return if known_prefix { None } else { Some(false) };
        }
    };
    Some(METHODS.contains(&&data[..sp]))
}

/// Does `data` look like the start of an HTTP/1 response?
pub fn looks_like_response(data: &[u8]) -> Option<bool> {
    let n = data.len().min(5);
    if data[..n] != b"HTTP/"[..n] {
        return Some(false);
    }
    if n < 5 {
        None
    } else {
        Some(true)
    }
}

impl HttpParser {
    /// A parser of one direction's messages.
    pub fn new(side: Side, limits: Limits) -> Self {
        HttpParser {
            side,
            limits,
            buf: Vec::new(),
            state: State::Head,
            errors: Default::default(),
            events: Vec::new(),
        }
    }

    /// Heap bytes the parser holds: bytes waiting for the end of a head, the body
    /// being read.
    pub fn heap_bytes(&self) -> usize {
        let body = match &self.state {
            State::Body(b) => b.sink.data.capacity() + std::mem::size_of::<BodyState>(),
            _ => 0,
        };
        self.buf.capacity() + body
    }

    pub(crate) fn is_dead(&self) -> bool {
        matches!(self.state, State::Dead)
    }

    /// After a `101 Switching Protocols` response: the bytes that followed it (once).
    pub fn take_upgraded(&mut self) -> Option<Vec<u8>> {
        match self.state {
            State::Upgraded => Some(std::mem::take(&mut self.buf)),
            _ => None,
        }
    }

    /// Bytes held while waiting for more.
    pub fn buffered(&self) -> usize {
        self.buf.len() + if let State::Body(b) = &self.state { b.sink.data.len() } else { 0 }
    }

    /// Parses `data`. For a response parser, `request` gives, per response in order,
    /// what is known of its request (a HEAD has no body).
    pub fn feed(
        &mut self,
        data: &[u8],
        mut request: impl FnMut() -> RequestInfo,
        out: &mut Vec<Event>,
    ) {
        if self.is_dead() {
            return;
        }
        self.buf.extend_from_slice(data);
        let mut pos = 0;
        loop {
            match &mut self.state {
                State::Dead => {
                    self.buf.clear();
                    return;
                }
                State::Upgraded => break,
                State::Head => match self.parse_head(&mut pos, &mut request, false) {
                    Ok(Parsed::Interim(used)) => pos = used,
                    Ok(Parsed::Message(used, head, body)) => {
                        pos = used;
                        let switching = self.side == Side::Response && head.status() == Some(101);
                        out.push(Event::Head(Box::new(head)));
                        match body {
                            Some(b) => self.state = State::Body(b),
                            None => out.push(Event::Done(Box::default())),
                        }
                        if switching {
                            self.state = State::Upgraded;
                        }
                    }
                    Ok(Parsed::NeedMore) => break,
                    Err(why) => {
                        match why {
                            "http.head_too_long" => self.errors.head_too_long += 1,
                            _ => self.errors.bad_start_line += 1,
                        }
                        self.state = State::Dead;
                    }
                },
                State::Body(b) => {
                    let (used, done, bad) =
                        body_step(b, &self.buf[pos..], &self.limits, &mut self.errors);
                    pos += used;
                    if bad {
                        self.errors.bad_chunk += 1;
                        let b = std::mem::replace(&mut self.state, State::Dead);
                        if let State::Body(b) = b {
                            out.push(Event::Done(Box::new(self.finish_body(*b, true))));
                        }
                        continue;
                    }
                    if done {
                        let State::Body(b) = std::mem::replace(&mut self.state, State::Head) else {
                            break;
                        };
                        out.push(Event::Done(Box::new(self.finish_body(*b, false))));
                        continue;
                    }
                    if used == 0 || pos >= self.buf.len() {
                        break;
                    }
                }
            }
            if pos >= self.buf.len() {
                break;
            }
        }
        self.buf.drain(..pos.min(self.buf.len()));
    }

    /// The stream ended (FIN, RST, flow end) or has a gap: a body delimited by the
    /// close ends here; anything else pending is reported incomplete.
    /// A head cut short is parsed as far as it goes and reported with an incomplete,
    /// empty body; a response without a head is a body to the close.
    pub fn close(&mut self, out: &mut Vec<Event>) {
        match std::mem::replace(&mut self.state, State::Head) {
            State::Body(b) => {
                let incomplete = !matches!(b.framing, Framing::UntilClose);
                out.push(Event::Done(Box::new(self.finish_body(*b, incomplete))));
            }
            State::Head if self.buf.iter().any(|c| !c.is_ascii_whitespace()) => {
                let mut pos = 0;
                let mut no_request = RequestInfo::default;
                if let Ok(Parsed::Message(used, head, body)) =
                    self.parse_head(&mut pos, &mut no_request, true)
                {
                    out.push(Event::Head(Box::new(head)));
                    let rest = self.buf.split_off(used.min(self.buf.len()));
                    let body = match body {
                        Some(mut b) if !rest.is_empty() => {
                            body_step(&mut b, &rest, &self.limits, &mut self.errors);
                            let incomplete = !matches!(b.framing, Framing::UntilClose);
                            self.finish_body(*b, incomplete)
                        }
                        _ => Body { incomplete: true, ..Body::default() },
                    };
                    out.push(Event::Done(Box::new(body)));
                }
                self.state = State::Head;
            }
            State::Head => {}
            s @ (State::Dead | State::Upgraded) => self.state = s,
        }
        self.buf.clear();
    }

    fn finish_body(&mut self, b: BodyState, incomplete: bool) -> Body {
        if b.chunk_extension {
            self.events.push(match self.side {
                Side::Request => "http.request_chunk_extension",
                Side::Response => "http.response_chunk_extension",
            });
        }
        b.sink.finish(&self.limits, incomplete, &mut self.errors.decode_failed)
    }

    /// Parses a head starting at `pos`. `Ok(None)`: need more bytes. `closing`: no
    /// more bytes will come, so the buffer's end ends the last line.
    /// `pos_io` moves past blank lines and junk even when the head is not complete yet.
    fn parse_head(
        &mut self,
        pos_io: &mut usize,
        request: &mut impl FnMut() -> RequestInfo,
        closing: bool,
    ) -> Result<Parsed, &'static str> {
        let Some(pos) = self.message_start(pos_io, closing)? else {
            return Ok(Parsed::NeedMore);
        };
        let rest = &self.buf[pos..];
        if self.side == Side::Response {
            let line = head::start_line(&self.buf, pos, self.side, closing).map(|(l, _)| l);
            if line.is_some_and(|l| !head::looks_like_status_line(l)) {
                // Browsers take it for a body without a head (HTTP/0.9), to the close.
                let sink = BodySink::new(Encoding::default());
                let body = Box::new(BodyState {
                    framing: Framing::UntilClose,
                    sink,
                    chunk_extension: false,
                });
                return Ok(Parsed::Message(pos, Head::default(), Some(body)));
            }
        }
        let Some(scan) = head::scan(&self.buf, pos, self.side, closing) else {
            if rest.len() > self.limits.max_head {
                return Err("http.head_too_long");
            }
            *pos_io = pos;
            return Ok(Parsed::NeedMore);
        };
        let raw = &rest[..scan.end];
        let head = Head {
            parts: split_start_line(&scan.start_line, self.side),
            start_line: scan.start_line,
            headers: scan.headers,
            raw_headers: raw[scan.header_start.min(raw.len())..].to_vec(),
            raw: raw.to_vec(),
        };
        if self.side == Side::Request && head.parts[2].is_empty() && !head.headers.is_empty() {
            // Headers follow, so not HTTP/0.9: the protocol is missing.
            self.events.push("http.request_line_missing_protocol");
        }
        if self.side == Side::Request && head.header("authorization").is_some_and(auth_unknown) {
            self.events.push("http.request_auth_unrecognized");
        }
        if self.side == Side::Response && interim(&head) {
            return Ok(Parsed::Interim(pos + scan.end));
        }
        let framing = self.framing(&head, request);
        let body = framing.map(|framing| {
            let sink = BodySink::new(Encoding::of(&head));
            Box::new(BodyState { framing, sink, chunk_extension: false })
        });
        Ok(Parsed::Message(pos + scan.end, head, body))
    }

    /// Skips blank lines and junk before a message (counted): where the message
    /// starts, or `None` when more bytes are needed to tell.
    fn message_start(
        &mut self,
        pos_io: &mut usize,
        closing: bool,
    ) -> Result<Option<usize>, &'static str> {
        let mut pos = *pos_io;
        loop {
            let rest = &self.buf[pos..];
            if rest.is_empty() {
                *pos_io = pos;
                return Ok(None);
            }
            if rest[0] == b'\r' || rest[0] == b'\n' {
                pos += 1;
                continue;
            }
            if self.side == Side::Response {
                // libhtp skips a line of two bytes or less, and a line followed by one
                // that starts with `H`; any other line that is not a status line
                // starts a body without a head.
                let Some((line, next)) = head::start_line(&self.buf, pos, self.side, closing)
                else {
                    if rest.len() > self.limits.max_head {
                        return Err("http.head_too_long");
                    }
                    *pos_io = pos;
                    return Ok(None);
                };
                if head::looks_like_status_line(line) {
                    return Ok(Some(pos));
                }
                let after = &self.buf[next..];
                if after.len() < 2 && !closing {
                    *pos_io = pos;
                    return Ok(None);
                }
                if after.len() > 1 && (after[0] == b'H' || line.len() <= 2) {
                    self.errors.junk_bytes += (next - pos) as u64;
                    pos = next;
                    continue;
                }
                return Ok(Some(pos));
            }
            match looks_like_request(rest) {
                Some(true) => return Ok(Some(pos)),
                None => {
                    *pos_io = pos;
                    return Ok(None);
                }
                // Unknown method: accept `TOKEN SP target SP HTTP/x` as a request.
                Some(false) if generic_request_line(rest) => return Ok(Some(pos)),
                Some(false) => match memchr::memchr(b'\n', rest) {
                    Some(nl) => {
                        self.errors.junk_bytes += nl as u64 + 1;
                        pos += nl + 1;
                    }
                    None if rest.len() > self.limits.max_head => return Err("http.head_too_long"),
                    None => {
                        *pos_io = pos;
                        return Ok(None);
                    }
                },
            }
        }
    }

    /// How the body of a message is delimited; `None` for no body.
    fn framing(&self, head: &Head, request: &mut impl FnMut() -> RequestInfo) -> Option<Framing> {
        if self.side == Side::Response {
            let req = request();
            let status = head.status().unwrap_or(200);
            let announced = head.header("Transfer-Encoding").is_some()
                || head.header("Content-Length").is_some();
            // A 1xx, 204 or 304 has no body, unless it announces one: browsers read it.
            let bodiless = (100..200).contains(&status) || status == 204 || status == 304;
            if req.head_method || (bodiless && !announced) {
                return None;
            }
            if req.connect && (200..300).contains(&status) {
                return None;
            }
        }
        let chunked = head.header_joined("Transfer-Encoding").is_some_and(|v| {
            let v: Vec<u8> = v.iter().filter(|c| **c != 0).map(u8::to_ascii_lowercase).collect();
            v.windows(7).any(|w| w == b"chunked")
        });
        if chunked {
            return Some(Framing::Chunked(Chunk::Size));
        }
        if let Some(cl) = head.header("Content-Length") {
            return match content_length(cl) {
                Some(0) => None,
                Some(n) => Some(Framing::Length(n)),
                // A bad length: a request then has no body; a response runs to the close.
                None if self.side == Side::Request => None,
                None => Some(Framing::UntilClose),
            };
        }
        match self.side {
            Side::Request => None,
            Side::Response => Some(Framing::UntilClose),
        }
    }
}

/// Consumes body bytes; returns (bytes used, body complete, malformed).
fn body_step(
    b: &mut BodyState,
    data: &[u8],
    limits: &Limits,
    errors: &mut HttpErrors,
) -> (usize, bool, bool) {
    let mut used = 0;
    loop {
        let rest = &data[used..];
        match b.framing {
            Framing::Length(0) => return (used, true, false),
            Framing::Length(n) => {
                let take = (n.min(rest.len() as u64)) as usize;
                b.sink.push(&rest[..take], limits);
                used += take;
                b.framing = Framing::Length(n - take as u64);
                if n - take as u64 == 0 {
                    return (used, true, false);
                }
                return (used, false, false);
            }
            Framing::UntilClose => {
                b.sink.push(rest, limits);
                return (used + rest.len(), false, false);
            }
            Framing::Chunked(Chunk::Size) => {
                let Some(nl) = memchr::memchr(b'\n', rest) else {
                    if !could_be_chunk_length(rest) {
                        // As libhtp: not chunked after all; the rest is the body.
                        errors.bad_chunk += 1;
                        b.framing = Framing::UntilClose;
                        continue;
                    }
                    if rest.len() > 1024 {
                        return (used, false, true);
                    }
                    return (used, false, false);
                };
                let line = &rest[..=nl];
                let size = chunk_length(line);
                if matches!(size, ChunkLine::Size(_)) && line.contains(&b';') {
                    b.chunk_extension = true;
                }
                match size {
                    ChunkLine::Skip => used += nl + 1,
                    ChunkLine::Size(0) => {
                        used += nl + 1;
                        b.framing = Framing::Chunked(Chunk::Trailer);
                    }
                    ChunkLine::Size(n) => {
                        used += nl + 1;
                        b.framing = Framing::Chunked(Chunk::Data(n));
                    }
                    // As libhtp: the line and all after it are the body.
                    ChunkLine::Invalid => {
                        errors.bad_chunk += 1;
                        b.framing = Framing::UntilClose;
                    }
                }
            }
            Framing::Chunked(Chunk::Data(n)) => {
                if rest.is_empty() {
                    return (used, false, false);
                }
                let take = (n.min(rest.len() as u64)) as usize;
                b.sink.push(&rest[..take], limits);
                used += take;
                let left = n - take as u64;
                b.framing =
                    Framing::Chunked(if left == 0 { Chunk::DataEnd } else { Chunk::Data(left) });
            }
            Framing::Chunked(Chunk::DataEnd) => {
                // Whatever follows chunk data up to the line end is skipped, as libhtp.
                match memchr::memchr(b'\n', rest) {
                    Some(nl) => {
                        used += nl + 1;
                        b.framing = Framing::Chunked(Chunk::Size);
                    }
                    None => return (used + rest.len(), false, false),
                }
            }
            Framing::Chunked(Chunk::Trailer) => {
                let Some(nl) = memchr::memchr(b'\n', rest) else {
                    if rest.len() > limits.max_head {
                        return (used, true, false);
                    }
                    return (used, false, false);
                };
                used += nl + 1;
                if rest[..nl].trim_ascii().is_empty() {
                    return (used, true, false);
                }
            }
        }
    }
}

/// Bytes that libhtp skips before a chunk length.
fn is_chunk_ctl(c: u8) -> bool {
    matches!(c, b'\r' | b'\n' | b' ' | b'\t' | 0x0b | 0x0c)
}

/// Can these bytes (no line end yet) still start a chunk length?
fn could_be_chunk_length(data: &[u8]) -> bool {
    data.iter().find(|c| !is_chunk_ctl(**c)).is_none_or(|c| c.is_ascii_hexdigit())
}

/// A chunk-size line as libhtp reads it.
#[derive(Debug, PartialEq, Eq)]
enum ChunkLine {
    Size(u64),
    /// Blank, or a size beyond 2^31: read the next line.
    Skip,
    /// No hex digits: the body is not chunked after all.
    Invalid,
}

/// Control bytes, then spaces, then hex digits; whatever follows them (an
/// extension, junk) is ignored.
fn chunk_length(line: &[u8]) -> ChunkLine {
    let start = line.iter().take_while(|c| is_chunk_ctl(**c)).count();
    let rest = &line[start..];
    if rest.is_empty() {
        return ChunkLine::Skip;
    }
    let sp = rest.iter().take_while(|c| matches!(c, b' ' | b'\t')).count();
    let digits = rest[sp..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
    let hex = &rest[sp..sp + digits];
    match std::str::from_utf8(hex).ok().and_then(|h| u64::from_str_radix(h, 16).ok()) {
        Some(n) if n > i32::MAX as u64 => ChunkLine::Skip,
        Some(n) => ChunkLine::Size(n),
        None => ChunkLine::Invalid,
    }
}

/// An Authorization header of a scheme libhtp does not parse (Basic, Digest, Bearer).
fn auth_unknown(value: &[u8]) -> bool {
    let scheme = value.trim_ascii_start().split(|b| *b == b' ').next().unwrap_or_default();
    !["basic", "digest", "bearer"].iter().any(|s| scheme.eq_ignore_ascii_case(s.as_bytes()))
}

fn generic_request_line(rest: &[u8]) -> bool {
    let line_end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    let line = rest[..line_end].trim_ascii();
    let mut parts = line.split(|c| *c == b' ').filter(|p| !p.is_empty());
    let method = parts.next().unwrap_or_default();
    let _target = parts.next();
    let proto = parts.next().unwrap_or_default();
    !method.is_empty()
        && method.iter().all(|c| c.is_ascii_alphabetic() || *c == b'-' || *c == b'_')
        && proto.starts_with(b"HTTP/")
}

fn split_start_line(line: &[u8], side: Side) -> [Vec<u8>; 3] {
    let mut it = line.splitn(2, |c| *c == b' ');
    let first = it.next().unwrap_or_default().to_vec();
    let rest = it.next().unwrap_or_default().trim_ascii_start();
    match side {
        Side::Request => {
            // The target may hold spaces: the protocol is the last word if it is HTTP/x.
            let rest = rest.trim_ascii();
            match rest.iter().rposition(|c| *c == b' ') {
                Some(sp) if rest[sp + 1..].trim_ascii_start().starts_with(b"HTTP/") => {
                    [first, rest[..sp].trim_ascii().to_vec(), rest[sp + 1..].to_vec()]
                }
                _ => [first, rest.to_vec(), Vec::new()],
            }
        }
        Side::Response => {
            let mut it = rest.splitn(2, |c| *c == b' ');
            let code = it.next().unwrap_or_default().to_vec();
            let msg = it.next().unwrap_or_default().to_vec();
            [first, code, msg]
        }
    }
}

#[cfg(test)]
mod tests;
