//! HTTP/2 test traffic: frames, HPACK-coded header blocks (with the dynamic table
//! and Huffman strings, as browsers send them) and whole cleartext sessions, by prior
//! knowledge or by the `h2c` upgrade.

use crate::app::http2::frame::{
    FrameHeader, DATA, END_HEADERS, END_STREAM, GOAWAY, HEADERS, PREFACE, SETTINGS, WINDOW_UPDATE,
};
use crate::app::http2::hpack::{encode_integer, encode_string, static_table};

/// A scripted session: (to server, bytes) in order.
pub type Script = Vec<(bool, Vec<u8>)>;

/// One frame.
pub fn h2_frame(ftype: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let h = FrameHeader { len: payload.len() as u32, ftype, flags, stream };
    [&h.encode()[..], payload].concat()
}

/// A SETTINGS frame of (id, value) pairs.
pub fn h2_settings(settings: &[(u16, u32)]) -> Vec<u8> {
    let payload: Vec<u8> = settings
        .iter()
        .flat_map(|(id, v)| id.to_be_bytes().into_iter().chain(v.to_be_bytes()))
        .collect();
    h2_frame(SETTINGS, 0, 0, &payload)
}

/// An HPACK encoder that indexes every new field (so repeated fields become one-byte
/// references) and Huffman-codes values, as real clients do.
#[derive(Debug, Default)]
pub struct HpackEncoder {
    /// Newest first, as the decoder's dynamic table.
    table: Vec<(String, String)>,
}

impl HpackEncoder {
    pub(crate) fn block(&mut self, fields: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for &(n, v) in fields {
            let stat = static_table().iter().position(|&(sn, sv)| sn == n && sv == v);
            let dynamic = self.table.iter().position(|(tn, tv)| tn == n && tv == v);
            match (stat, dynamic) {
                (Some(i), _) => encode_integer(&mut out, 0x80, 7, i as u64 + 1),
                (None, Some(i)) => {
                    encode_integer(&mut out, 0x80, 7, (static_table().len() + i) as u64 + 1)
                }
                (None, None) => {
                    let name_idx = static_table().iter().position(|&(sn, _)| sn == n);
                    match name_idx {
                        Some(i) => encode_integer(&mut out, 0x40, 6, i as u64 + 1),
                        None => {
                            out.push(0x40);
                            encode_string(&mut out, n.as_bytes(), false);
                        }
                    }
                    encode_string(&mut out, v.as_bytes(), true);
                    self.table.insert(0, (n.to_string(), v.to_string()));
                    self.evict();
                }
            }
        }
        out
    }

    /// Keeps the table within the default 4096 bytes, as the decoder does.
    fn evict(&mut self) {
        let size =
            |t: &[(String, String)]| t.iter().map(|(n, v)| n.len() + v.len() + 32).sum::<usize>();
        while size(&self.table) > 4096usize {
            self.table.pop();
        }
    }
}

/// A request and its answer on one stream.
#[derive(Clone, Debug)]
pub struct Exchange<'a> {
    /// `:method`.
    pub method: &'a str,
    /// `:authority`.
    pub authority: &'a str,
    /// `:path`.
    pub path: &'a str,
    /// Other request headers.
    pub request_headers: &'a [(&'a str, &'a str)],
    /// The request body.
    pub request_body: &'a [u8],
    /// `:status`.
    pub status: &'a str,
    /// Other response headers.
    pub response_headers: &'a [(&'a str, &'a str)],
    /// The response body.
    pub response_body: &'a [u8],
}

/// The frames of exchanges on streams 1, 3, 5...: each request, then each response
/// (bodies in DATA frames of at most `max_data` bytes), interleaved by stream.
fn exchanges(list: &[Exchange<'_>], first_stream: u32, max_data: usize) -> Script {
    let (mut client, mut server) = (HpackEncoder::default(), HpackEncoder::default());
    let mut script = Script::new();
    for (i, x) in list.iter().enumerate() {
        let id = first_stream + 2 * i as u32;
        let mut fields = vec![
            (":method", x.method),
            (":scheme", "http"),
            (":authority", x.authority),
            (":path", x.path),
        ];
        fields.extend_from_slice(x.request_headers);
        let end = if x.request_body.is_empty() { END_STREAM } else { 0 };
        let block = client.block(&fields);
        let mut bytes = h2_frame(HEADERS, END_HEADERS | end, id, &block);
        bytes.extend(data_frames(id, x.request_body, max_data));
        script.push((true, bytes));
        let mut fields = vec![(":status", x.status)];
        fields.extend_from_slice(x.response_headers);
        let end = if x.response_body.is_empty() { END_STREAM } else { 0 };
        let mut bytes = h2_frame(HEADERS, END_HEADERS | end, id, &server.block(&fields));
        bytes.extend(data_frames(id, x.response_body, max_data));
        script.push((false, bytes));
    }
    script
}

fn data_frames(id: u32, body: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let chunks: Vec<&[u8]> = body.chunks(max.max(1)).collect();
    for (i, c) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        out.extend(h2_frame(DATA, if last { END_STREAM } else { 0 }, id, c));
    }
    out
}

/// A session by prior knowledge: preface and settings, the exchanges, then GOAWAY.
pub fn h2_session(list: &[Exchange<'_>]) -> Script {
    let mut client = PREFACE.to_vec();
    client.extend(h2_settings(&[(3, 100), (4, 65535)]));
    client.extend(h2_frame(WINDOW_UPDATE, 0, 0, &1_048_576u32.to_be_bytes()));
    let mut script = vec![(false, h2_settings(&[(3, 128), (1, 4096)])), (true, client)];
    script.extend(exchanges(list, 1, 16384));
    script.push((true, h2_frame(GOAWAY, 0, 0, &[0, 0, 0, 0, 0, 0, 0, 0])));
    script
}

/// A session upgraded from HTTP/1 (`Upgrade: h2c`): the first request is HTTP/1 and
/// is answered on stream 1 in HTTP/2; the other exchanges follow on streams 3, 5...
pub fn h2c_session(host: &str, path: &str, first: &Exchange<'_>, rest: &[Exchange<'_>]) -> Script {
    let upgrade = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\n\
         Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"
    );
    let mut switching =
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".to_vec();
    switching.extend(h2_settings(&[(3, 100)]));
    let mut server = HpackEncoder::default();
    let mut fields = vec![(":status", first.status)];
    fields.extend_from_slice(first.response_headers);
    let end = if first.response_body.is_empty() { END_STREAM } else { 0 };
    switching.extend(h2_frame(HEADERS, END_HEADERS | end, 1, &server.block(&fields)));
    switching.extend(data_frames(1, first.response_body, 16384));
    let mut client = PREFACE.to_vec();
    client.extend(h2_settings(&[(3, 100)]));
    let mut script = vec![(true, upgrade.into_bytes()), (false, switching), (true, client)];
    let mut more = exchanges(rest, 3, 16384);
    // The server's encoder already holds the first response's fields: a fresh one
    // would disagree, so the later responses are re-encoded with it.
    for (i, x) in rest.iter().enumerate() {
        let mut fields = vec![(":status", x.status)];
        fields.extend_from_slice(x.response_headers);
        let id = 3 + 2 * i as u32;
        let end = if x.response_body.is_empty() { END_STREAM } else { 0 };
        let mut bytes = h2_frame(HEADERS, END_HEADERS | end, id, &server.block(&fields));
        bytes.extend(data_frames(id, x.response_body, 16384));
        more[2 * i + 1].1 = bytes;
    }
    script.extend(more);
    script
}
