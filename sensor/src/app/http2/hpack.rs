//! HPACK (RFC 7541): the header compression of HTTP/2.
//!
//! One [`Decoder`] per direction of a connection: it holds the dynamic table its
//! peer's encoder fills. The table is bounded by the size the encoder announces, and
//! that announcement itself is capped ([`MAX_TABLE_SIZE`], counted when exceeded), so a
//! connection cannot make the sensor hold more than that per direction.
//!
//! Decoding is lenient as an IDS must be: a bad index yields an empty field (as
//! Suricata logs it) and decoding goes on; only a string running past the block ends
//! it. Every such error is reported so the parser can count it.

use std::collections::VecDeque;
use std::sync::OnceLock;

/// The largest dynamic table a decoder keeps, whatever the encoder announces.
pub const MAX_TABLE_SIZE: usize = 64 * 1024;
/// The table size both sides start with (SETTINGS_HEADER_TABLE_SIZE's default).
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// One representation of a header block, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    Header(Vec<u8>, Vec<u8>),
    /// A dynamic table size update.
    SizeUpdate(u64),
}

/// What went wrong while decoding a block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeErrors {
    /// Indexes beyond both tables.
    pub bad_index: u32,
    /// Huffman strings that do not decode (EOS inside, bad padding).
    pub bad_huffman: u32,
    /// The block ended inside a representation.
    pub truncated: bool,
    /// Size updates above [`MAX_TABLE_SIZE`] (the table was kept at the cap).
    pub size_capped: u32,
}

impl DecodeErrors {
    #[cfg(test)]
    pub fn any(&self) -> bool {
        self.bad_index > 0 || self.bad_huffman > 0 || self.truncated
    }
}

#[derive(Debug)]
pub struct Decoder {
    table: VecDeque<(Vec<u8>, Vec<u8>)>,
    size: usize,
    max_size: usize,
}

impl Decoder {
    /// Heap bytes of the dynamic table.
    pub fn heap_bytes(&self) -> usize {
        self.table.iter().map(|(n, v)| 48 + n.capacity() + v.capacity()).sum()
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder { table: VecDeque::new(), size: 0, max_size: DEFAULT_TABLE_SIZE }
    }
}

impl Decoder {
    /// Bytes the dynamic table holds (RFC 7541 §4.1 size: name + value + 32 each).
    #[cfg(test)]
    pub fn table_size(&self) -> usize {
        self.size
    }

    /// Decodes one complete header block.
    pub fn decode(&mut self, mut block: &[u8], errors: &mut DecodeErrors) -> Vec<Field> {
        let mut out = Vec::new();
        while let Some(&first) = block.first() {
            let step = if first & 0x80 != 0 {
                self.indexed(&mut block, errors)
            } else if first & 0xc0 == 0x40 {
                self.literal(&mut block, 6, true, errors)
            } else if first & 0xe0 == 0x20 {
                self.size_update(&mut block, errors)
            } else {
                // Without indexing (0000) or never indexed (0001).
                self.literal(&mut block, 4, false, errors)
            };
            match step {
                Some(f) => out.push(f),
                None => {
                    errors.truncated = true;
                    break;
                }
            }
        }
        out
    }

    fn indexed(&mut self, block: &mut &[u8], errors: &mut DecodeErrors) -> Option<Field> {
        let idx = integer(block, 7)?;
        Some(match self.get(idx) {
            Some((n, v)) => Field::Header(n.to_vec(), v.to_vec()),
            None => {
                errors.bad_index += 1;
                Field::Header(Vec::new(), Vec::new())
            }
        })
    }

    fn literal(
        &mut self,
        block: &mut &[u8],
        prefix: u8,
        index: bool,
        errors: &mut DecodeErrors,
    ) -> Option<Field> {
        let idx = integer(block, prefix)?;
        let name = if idx == 0 {
            string(block, errors)?
        } else {
            match self.get(idx) {
                Some((n, _)) => n.to_vec(),
                None => {
                    errors.bad_index += 1;
                    Vec::new()
                }
            }
        };
        let value = string(block, errors)?;
        if index {
            self.insert(name.clone(), value.clone());
        }
        Some(Field::Header(name, value))
    }

    fn size_update(&mut self, block: &mut &[u8], errors: &mut DecodeErrors) -> Option<Field> {
        let size = integer(block, 5)?;
        let capped = usize::try_from(size).unwrap_or(usize::MAX).min(MAX_TABLE_SIZE);
        if capped as u64 != size {
            errors.size_capped += 1;
        }
        self.max_size = capped;
        self.evict(0);
        Some(Field::SizeUpdate(size))
    }

    /// Entry `idx` of the static table (1..=61) then the dynamic table.
    fn get(&self, idx: u64) -> Option<(&[u8], &[u8])> {
        let i = usize::try_from(idx).ok()?.checked_sub(1)?;
        if let Some((n, v)) = STATIC_TABLE.get(i) {
            return Some((n.as_bytes(), v.as_bytes()));
        }
        self.table.get(i - STATIC_TABLE.len()).map(|(n, v)| (n.as_slice(), v.as_slice()))
    }

    fn insert(&mut self, name: Vec<u8>, value: Vec<u8>) {
        let size = name.len() + value.len() + 32;
        self.evict(size);
        // An entry larger than the table empties it and is not added (§4.4).
        if size <= self.max_size {
            self.size += size;
            self.table.push_front((name, value));
        }
    }

    /// Evicts the oldest entries until `room` more bytes fit.
    fn evict(&mut self, room: usize) {
        while self.size + room > self.max_size {
            let Some((n, v)) = self.table.pop_back() else { break };
            self.size -= n.len() + v.len() + 32;
        }
    }
}

/// An integer with an `n`-bit prefix (§5.1); `None` when the block ends or the value
/// does not fit 32 bits (no real header needs more).
fn integer(block: &mut &[u8], n: u8) -> Option<u64> {
    let (&first, mut rest) = block.split_first()?;
    let max = (1u64 << n) - 1;
    let mut v = first as u64 & max;
    if v == max {
        let mut shift = 0;
        loop {
            let (&b, r) = rest.split_first()?;
            rest = r;
            v += ((b & 0x7f) as u64) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
            if shift > 28 {
                return None;
            }
        }
    }
    *block = rest;
    (v <= u32::MAX as u64).then_some(v)
}

/// A string literal (§5.2), Huffman-decoded when flagged.
fn string(block: &mut &[u8], errors: &mut DecodeErrors) -> Option<Vec<u8>> {
    let huffman = block.first()? & 0x80 != 0;
    let len = integer(block, 7)? as usize;
    if len > block.len() {
        return None;
    }
    let (raw, rest) = block.split_at(len);
    *block = rest;
    if !huffman {
        return Some(raw.to_vec());
    }
    let (s, ok) = huffman_decode(raw);
    if !ok {
        errors.bad_huffman += 1;
    }
    Some(s)
}

/// The static table (RFC 7541 Appendix A): entry `i` has index `i + 1`.
pub fn static_table() -> &'static [(&'static str, &'static str)] {
    &STATIC_TABLE
}

const STATIC_TABLE: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// The length in bits of the Huffman code of each symbol 0..=256 (256 is EOS), from
/// RFC 7541 Appendix B. The code is canonical: codes of one length are consecutive in
/// symbol order and follow the last code of the shorter length, so the lengths alone
/// define it.
const HUFFMAN_LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5,
    5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6,
    6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22,
    23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22,
    21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20,
    22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19,
    21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22,
    22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
];

const EOS: u16 = 256;
const MAX_CODE_LEN: usize = 30;

/// The canonical code as decoding tables: per length, the first code and the index of
/// its symbol in `symbols` (sorted by length, then value).
struct Canonical {
    first: [u32; MAX_CODE_LEN + 1],
    count: [u32; MAX_CODE_LEN + 1],
    start: [u32; MAX_CODE_LEN + 1],
    symbols: [u16; 257],
    /// (code, length) of each symbol, for encoding.
    codes: [(u32, u8); 257],
}

fn canonical() -> &'static Canonical {
    static TABLE: OnceLock<Canonical> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut c = Canonical {
            first: [0; MAX_CODE_LEN + 1],
            count: [0; MAX_CODE_LEN + 1],
            start: [0; MAX_CODE_LEN + 1],
            symbols: [0; 257],
            codes: [(0, 0); 257],
        };
        let mut order: Vec<u16> = (0..=EOS).collect();
        order.sort_by_key(|&s| (HUFFMAN_LENGTHS[s as usize], s));
        let (mut code, mut prev_len) = (0u32, 0u8);
        for (i, &s) in order.iter().enumerate() {
            let len = HUFFMAN_LENGTHS[s as usize];
            if i > 0 {
                code = (code + 1) << (len - prev_len);
            }
            if c.count[len as usize] == 0 {
                c.first[len as usize] = code;
                c.start[len as usize] = i as u32;
            }
            c.count[len as usize] += 1;
            c.symbols[i] = s;
            c.codes[s as usize] = (code, len);
            prev_len = len;
        }
        c
    })
}

/// Decodes a Huffman string; the flag is false when it is malformed (EOS inside,
/// padding longer than 7 bits or not all ones). What decoded before is kept.
pub fn huffman_decode(data: &[u8]) -> (Vec<u8>, bool) {
    let c = canonical();
    let mut out = Vec::with_capacity(data.len() * 8 / 5);
    let (mut code, mut len, mut ones) = (0u32, 0usize, true);
    for &byte in data {
        for bit in (0..8).rev() {
            let b = (byte >> bit) as u32 & 1;
            code = (code << 1) | b;
            ones &= b == 1;
            len += 1;
            let n = c.count[len];
            if n > 0 && code >= c.first[len] && code - c.first[len] < n {
                let sym = c.symbols[(c.start[len] + code - c.first[len]) as usize];
                if sym == EOS {
                    return (out, false);
                }
                out.push(sym as u8);
                (code, len, ones) = (0, 0, true);
            } else if len >= MAX_CODE_LEN {
                return (out, false);
            }
        }
    }
    (out, len < 8 && ones)
}

/// Encodes `data` with the Huffman code (for building test traffic).
pub fn huffman_encode(data: &[u8]) -> Vec<u8> {
    let c = canonical();
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u64, 0u32);
    for &b in data {
        let (code, len) = c.codes[b as usize];
        acc = (acc << len) | code as u64;
        bits += len as u32;
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) | (0xff >> bits)) as u8);
    }
    out
}

/// Encodes an integer with an `n`-bit prefix whose other bits are `flags`.
pub fn encode_integer(out: &mut Vec<u8>, flags: u8, n: u8, mut v: u64) {
    let max = (1u64 << n) - 1;
    if v < max {
        out.push(flags | v as u8);
        return;
    }
    out.push(flags | max as u8);
    v -= max;
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Encodes a string literal, Huffman-coded or not.
pub fn encode_string(out: &mut Vec<u8>, s: &[u8], huffman: bool) {
    if huffman {
        let h = huffman_encode(s);
        encode_integer(out, 0x80, 7, h.len() as u64);
        out.extend_from_slice(&h);
    } else {
        encode_integer(out, 0, 7, s.len() as u64);
        out.extend_from_slice(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(d: &mut Decoder, block: &[u8]) -> (Vec<Field>, DecodeErrors) {
        let mut e = DecodeErrors::default();
        (d.decode(block, &mut e), e)
    }

    fn h(n: &str, v: &str) -> Field {
        Field::Header(n.into(), v.into())
    }

    /// RFC 7541 C.4: three requests with Huffman coding sharing a dynamic table.
    #[test]
    fn rfc_c4_requests_with_huffman() {
        let mut d = Decoder::default();
        let c41 = hex("828684418cf1e3c2e5f23a6ba0ab90f4ff");
        let (f, e) = decode(&mut d, &c41);
        assert!(!e.any());
        assert_eq!(
            f,
            [
                h(":method", "GET"),
                h(":scheme", "http"),
                h(":path", "/"),
                h(":authority", "www.example.com")
            ]
        );
        assert_eq!(d.table_size(), 57);
        let (f, _) = decode(&mut d, &hex("828684be5886a8eb10649cbf"));
        assert_eq!(f[3], h(":authority", "www.example.com"));
        assert_eq!(f[4], h("cache-control", "no-cache"));
        assert_eq!(d.table_size(), 110);
        let c43 = hex("828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf");
        let (f, e) = decode(&mut d, &c43);
        assert!(!e.any());
        assert_eq!(f[1], h(":scheme", "https"));
        assert_eq!(f[2], h(":path", "/index.html"));
        assert_eq!(f[4], h("custom-key", "custom-value"));
        assert_eq!(d.table_size(), 164);
    }

    /// RFC 7541 C.5: responses evicting entries from a 256-byte table.
    #[test]
    fn eviction_keeps_the_table_within_its_size() {
        let mut d = Decoder::default();
        // A size update to 256 first, then C.5.1's block.
        let mut block = Vec::new();
        encode_integer(&mut block, 0x20, 5, 256);
        block.extend_from_slice(&hex(concat!(
            "4803333032580770726976617465611d",
            "4d6f6e2c203231204f637420323031332032303a31333a323120474d54",
            "6e1768747470733a2f2f7777772e6578616d706c652e636f6d"
        )));
        let (f, _) = decode(&mut d, &block);
        assert_eq!(f[0], Field::SizeUpdate(256));
        assert_eq!(f[1], h(":status", "302"));
        assert_eq!(d.table_size(), 222);
        // C.5.2: ":status: 307" evicts ":status: 302".
        let (f, _) = decode(&mut d, &hex("4803333037c1c0bf"));
        assert_eq!(f[0], h(":status", "307"));
        assert_eq!(f[1], h("cache-control", "private"));
        assert_eq!(d.table_size(), 222);
    }

    #[test]
    fn huffman_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let (back, ok) = huffman_decode(&huffman_encode(&all));
        assert!(ok);
        assert_eq!(back, all);
        assert_eq!(huffman_encode(b"www.example.com"), hex("f1e3c2e5f23a6ba0ab90f4ff"));
    }

    #[test]
    fn bad_input_is_reported_not_fatal() {
        let mut d = Decoder::default();
        // Index 70 does not exist; the next field still decodes.
        let (f, e) = decode(&mut d, &[0x80 | 70, 0x82]);
        assert_eq!(e.bad_index, 1);
        assert_eq!(f, [h("", ""), h(":method", "GET")]);
        // A string longer than the block.
        let (_, e) = decode(&mut d, &[0x40, 0x05, b'a']);
        assert!(e.truncated);
        // Padding of zeros is not EOS.
        assert!(!huffman_decode(&[0x00]).1);
        // A huge size update is capped.
        let mut b = Vec::new();
        encode_integer(&mut b, 0x20, 5, 1 << 30);
        let (_, e) = decode(&mut d, &b);
        assert_eq!(e.size_capped, 1);
        assert!(d.max_size <= MAX_TABLE_SIZE);
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }
}
