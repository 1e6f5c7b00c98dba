//! The normalised forms of `http.uri` and `http.host`.

/// The normalised URI of `http.uri`: `%xx` decoded, `/./` and `/../` resolved and `//`
/// collapsed in the path; the query is `%xx` decoded.
pub fn normalize_uri(raw: &[u8]) -> Vec<u8> {
    // An absolute-form target keeps only its path and query.
    let mut target = raw;
    if let Some(p) = find(raw, b"://") {
        let after = &raw[p + 3..];
        target = match memchr::memchr(b'/', after) {
            Some(s) => &after[s..],
            None => b"/",
        };
    }
    let (path, query) = match memchr::memchr(b'?', target) {
        Some(q) => (&target[..q], Some(&target[q + 1..])),
        None => (target, None),
    };
    let decoded = percent_decode(path);
    let mut segs: Vec<&[u8]> = Vec::new();
    let absolute = decoded.first() == Some(&b'/');
    let trailing = decoded.len() > 1 && decoded.ends_with(b"/");
    for seg in decoded.split(|c| *c == b'/' || *c == b'\\') {
        match seg {
            b"" | b"." => {}
            b".." => {
                segs.pop();
            }
            s => segs.push(s),
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    if absolute {
        out.push(b'/');
    }
    out.extend_from_slice(&segs.join(&b'/'));
    if trailing && !segs.is_empty() {
        out.push(b'/');
    }
    if let Some(q) = query {
        out.push(b'?');
        out.extend_from_slice(&percent_decode(q));
    }
    out
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    memchr::memmem::find(h, n)
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    crate::app::unescape_hex(s, b'%', |_, _| 0)
}

/// The Host of `http.host`: lowercased, without the port (IPv6 literals kept whole).
pub fn normalize_host(raw: &[u8]) -> Vec<u8> {
    let h = raw.trim_ascii();
    let h = if h.first() == Some(&b'[') {
        match memchr::memchr(b']', h) {
            Some(e) => &h[..=e],
            None => h,
        }
    } else {
        match memchr::memrchr(b':', h) {
            Some(c) => &h[..c],
            None => h,
        }
    };
    let h = h.strip_suffix(b".").unwrap_or(h);
    h.to_ascii_lowercase()
}
