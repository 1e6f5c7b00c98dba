//! The option list of a rule: `name:value;` pairs, applied keyword by keyword to the
//! signature (the parsed forms are in `keywords.rs`, the parsers of keywords with a
//! grammar of their own in `keyword_parsers.rs`).
//!
//! Sticky buffers, legacy content modifiers and transforms are read here; every other
//! keyword belongs to one family, a module of its own with its keyword table:
//! `meta` (the rule itself), `modifiers` (`content` and its modifiers), `payload`
//! (other buffer inspections), `state` (flow and host state, thresholds), `packet`
//! (header checks and events); application keywords are in `app_keywords.rs`.

use std::collections::BTreeMap;

use super::bits::{parse_flowbits, parse_flowint, parse_hostbits};
pub use super::catalog::KeywordFamily;
use super::content::{decode_pattern, decode_text, unquote};
use super::keyword_parsers::{
    need, no_value, parse_base64_decode, parse_byte_math, parse_byte_op, parse_event,
    parse_file_hash, parse_flow, parse_fragbits, parse_ip_proto, parse_ipopts, parse_small,
    parse_stream_size, parse_tcp_flags, parse_threshold, parse_u32,
};
use super::keywords::{Content, HeaderCheck, NumCmp, PayloadMatch, Target, Value};
use super::unsupported::KNOWN_UNSUPPORTED;
use super::{app_keywords, classification};
use super::{Buffer, BufferList, ParseError, Signature, Transform};

mod meta;
mod modifiers;
mod packet;
mod payload;
mod state;

/// Splits the option list on unescaped `;` into `(name, value)` pairs.
pub fn split_options(body: &str) -> Result<Vec<(&str, Option<&str>)>, ParseError> {
    let mut out = Vec::new();
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i] as char).is_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        let mut escaped = false;
        let mut colon: Option<usize> = None;
        let mut end: Option<usize> = None;
        while i < bytes.len() {
            let b = bytes[i];
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b':' && colon.is_none() {
                colon = Some(i);
            } else if b == b';' {
                end = Some(i);
                break;
            }
            i += 1;
        }
        let end = end.ok_or_else(|| {
            ParseError::grammar(format!(
                "option not terminated by a semicolon: `{}`",
                body[start..].trim()
            ))
        })?;
        i = end + 1;
        let (name, value) = match colon {
            Some(c) => (body[start..c].trim(), Some(body[c + 1..end].trim())),
            None => (body[start..end].trim(), None),
        };
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
        {
            return Err(ParseError::grammar(format!("invalid option name `{name}`")));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// The content that a modifier applies to: the last content of the rule, even when a
/// pcre or isdataat came after it (as Suricata does).
fn last_content<'a>(
    sig: &'a mut Signature,
    current: Buffer,
    keyword: &str,
) -> Result<&'a mut Content, ParseError> {
    list_mut(sig, current)
        .iter_mut()
        .rev()
        .find_map(|m| match m {
            PayloadMatch::Content(c) => Some(c),
            _ => None,
        })
        .ok_or_else(|| {
            ParseError::invalid(keyword, format!("`{keyword}` needs a preceding `content`"))
        })
}

/// The inspection list content-like keywords go to.
pub(super) fn list_mut(sig: &mut Signature, current: Buffer) -> &mut Vec<PayloadMatch> {
    if current == Buffer::Payload {
        return &mut sig.payload;
    }
    let pos = match sig.buffers.iter().rposition(|l| l.buffer == current) {
        Some(p) => p,
        None => {
            sig.buffers.push(BufferList {
                buffer: current,
                transforms: Vec::new(),
                matches: Vec::new(),
                absent: None,
                direction: None,
            });
            sig.buffers.len() - 1
        }
    };
    &mut sig.buffers[pos].matches
}

/// Adds transform `t` to the sticky buffer `current`. A transform after the buffer's
/// contents starts a new list, inspected on the buffer after every transform since the
/// sticky buffer keyword, as Suricata does; the contents before it stay on the buffer
/// as it was.
fn add_transform(
    sig: &mut Signature,
    current: Buffer,
    transforms: &mut Vec<Transform>,
    name: &str,
    t: Transform,
) -> Result<(), ParseError> {
    if current == Buffer::Payload {
        let kw = t.keyword();
        return Err(ParseError::invalid(name, format!("`{kw}` needs a sticky buffer before it")));
    }
    transforms.push(t);
    list_mut(sig, current);
    match sig.buffers.iter_mut().rev().find(|l| l.buffer == current) {
        Some(l) if l.matches.is_empty() => l.transforms = transforms.clone(),
        _ => sig.buffers.push(BufferList {
            buffer: current,
            transforms: transforms.clone(),
            matches: Vec::new(),
            absent: None,
            direction: None,
        }),
    }
    Ok(())
}

/// The slot of variable `name`, defined by an earlier `byte_extract` or `byte_math`.
fn byte_var(keyword: &str, name: &str, vars: &[String]) -> Result<u8, ParseError> {
    vars.iter()
        .position(|n| n == name)
        .map(|i| i as u8)
        .ok_or_else(|| ParseError::invalid(keyword, format!("unknown variable `{name}`")))
}

/// Where the options read so far leave the rule: the buffer content-like keywords go
/// to, the list modifiers apply to, the variables and transforms in scope, and what is
/// checked once every option is read.
pub(super) struct OptionState {
    have_sid: bool,
    explicit_priority: Option<u8>,
    /// The first unsupported keyword, reported only if the rule is otherwise valid, so
    /// that grammar errors are never hidden behind a support gap.
    first_gap: Option<ParseError>,
    /// Where content-like keywords go: the payload until a sticky buffer keyword.
    current: Buffer,
    /// The list of the last content, which modifiers (`nocase`, `depth`, ...) apply to.
    last_buf: Buffer,
    /// Names of byte_extract variables, by slot.
    byte_vars: Vec<String>,
    /// The transforms since the last sticky buffer keyword.
    transforms: Vec<Transform>,
}

/// One option as a family's `apply` takes it: the keyword lowercased, the name as the
/// rule wrote it, and its value.
#[derive(Clone, Copy)]
pub(super) struct Opt<'a> {
    kw: &'a str,
    name: &'a str,
    value: Option<&'a str>,
}

/// The keyword families [`apply_options`] dispatches to, with their keywords.
pub(super) const FAMILIES: &[(KeywordFamily, &[&str])] = &[
    (KeywordFamily::Meta, meta::KEYWORDS),
    (KeywordFamily::Content, modifiers::KEYWORDS),
    (KeywordFamily::Payload, payload::KEYWORDS),
    (KeywordFamily::State, state::KEYWORDS),
    (KeywordFamily::Packet, packet::KEYWORDS),
];

/// Applies every option of `body` to `sig`.
pub fn apply_options(sig: &mut Signature, body: &str) -> Result<(), ParseError> {
    let mut st = OptionState {
        have_sid: false,
        explicit_priority: None,
        first_gap: None,
        current: Buffer::Payload,
        last_buf: Buffer::Payload,
        byte_vars: Vec::new(),
        transforms: Vec::new(),
    };
    for (name, value) in split_options(body)? {
        apply_option(&mut st, sig, name, value)?;
    }
    finish(st, sig)
}

/// One option: a sticky buffer, a legacy modifier, a transform, or a keyword of a family.
fn apply_option(
    st: &mut OptionState,
    sig: &mut Signature,
    name: &str,
    value: Option<&str>,
) -> Result<(), ParseError> {
    let kw = name.to_ascii_lowercase();
    if let Some((framed, b)) = frame_buffer(sig, &kw, value) {
        return sticky_buffer(st, sig, Opt { kw: &framed, name, value: None }, b);
    }
    let o = Opt { kw: &kw, name, value };
    if let Some(b) = Buffer::from_keyword(&kw) {
        return sticky_buffer(st, sig, o, b);
    }
    if let Some(b) = Buffer::from_modifier(&kw) {
        return legacy_modifier(st, sig, o, b);
    }
    if let Some(t) = Transform::parse(&kw, value) {
        return add_transform(sig, st.current, &mut st.transforms, name, t?);
    }
    let kw = kw.as_str();
    if meta::KEYWORDS.contains(&kw) {
        meta::apply(st, sig, o)
    } else if modifiers::KEYWORDS.contains(&kw) {
        modifiers::apply(st, sig, o)
    } else if payload::KEYWORDS.contains(&kw) {
        payload::apply(st, sig, o)
    } else if app_keywords::KEYWORDS.contains(&kw) {
        app_keywords::apply(sig, kw, name, value)
    } else if state::KEYWORDS.contains(&kw) {
        state::apply(sig, o)
    } else if packet::KEYWORDS.contains(&kw) {
        packet::apply(sig, o)
    } else if KNOWN_UNSUPPORTED.contains(&kw) {
        note_gap(&mut st.first_gap, ParseError::unsupported(&format!("keyword `{kw}`")));
        Ok(())
    } else {
        Err(ParseError::unknown(kw))
    }
}

/// `frame:websocket.pdu` selects a frame buffer the sensor fills; `frame:pdu` names a
/// frame of the rule's protocol. The buffer's keyword and the buffer, when it is one.
fn frame_buffer(sig: &Signature, kw: &str, value: Option<&str>) -> Option<(String, Buffer)> {
    let f = value.map(str::trim).filter(|_| kw == "frame")?.to_ascii_lowercase();
    let framed = match (f.contains('.'), sig.app_proto) {
        (false, Some(app)) => format!("frame:{}.{f}", app.as_str()),
        _ => format!("frame:{f}"),
    };
    Buffer::from_keyword(&framed).map(|b| (framed, b))
}

/// A sticky buffer keyword (`http.uri;`, `file.data: to_client;`): content-like keywords
/// that follow look at buffer `b`.
fn sticky_buffer(
    st: &mut OptionState,
    sig: &mut Signature,
    o: Opt,
    b: Buffer,
) -> Result<(), ParseError> {
    let Opt { kw, name, value } = o;
    let direction = match value.map(str::trim) {
        None => None,
        Some("to_server") => Some(true),
        Some("to_client") => Some(false),
        Some(v) => {
            return Err(ParseError::invalid(
                name,
                format!("`{v}`: a sticky buffer takes `to_server` or `to_client`"),
            ))
        }
    };
    // `http.response_body` is `file.data` of responses only.
    let direction = match kw {
        "http.response_body" => Some(false),
        _ => direction,
    };
    if !b.supported() {
        note_gap(&mut st.first_gap, ParseError::unsupported(&format!("keyword `{kw}`")));
    }
    let used = sig.buffers.iter().rev().find(|l| l.buffer == b);
    // A new instance for a multi-buffer used before, and a plain list again after a
    // transformed one.
    let fresh =
        used.is_some_and(|l| (b.multi() && !l.matches.is_empty()) || !l.transforms.is_empty());
    st.transforms.clear();
    if fresh {
        sig.buffers.push(BufferList {
            buffer: b,
            transforms: Vec::new(),
            matches: Vec::new(),
            absent: None,
            direction: None,
        });
    }
    if let Some(d) = direction {
        list_mut(sig, b);
        if let Some(l) = sig.buffers.iter_mut().rev().find(|l| l.buffer == b) {
            l.direction = Some(d);
        }
    }
    st.current = b;
    st.last_buf = b;
    Ok(())
}

/// A legacy content modifier (`content:"x"; http_uri;`): the content before it moves
/// into buffer `b`.
fn legacy_modifier(
    st: &mut OptionState,
    sig: &mut Signature,
    o: Opt,
    b: Buffer,
) -> Result<(), ParseError> {
    let Opt { kw, name, value } = o;
    no_value(name, value)?;
    if st.last_buf != Buffer::Payload {
        return Err(ParseError::invalid(
            name,
            format!("`{kw}` follows a content of `{}`", st.last_buf.name()),
        ));
    }
    let pos = sig.payload.iter().rposition(|m| matches!(m, PayloadMatch::Content(_)));
    let Some(pos) = pos else {
        return Err(ParseError::invalid(name, format!("`{kw}` needs a preceding `content`")));
    };
    let m = sig.payload.remove(pos);
    list_mut(sig, b).push(m);
    st.last_buf = b;
    Ok(())
}

/// What holds for the rule as a whole, once every option is read.
fn finish(st: OptionState, sig: &mut Signature) -> Result<(), ParseError> {
    if !st.have_sid {
        return Err(ParseError::grammar("rule has no sid".to_string()));
    }
    if let Some(p) = st.explicit_priority {
        sig.priority = p;
    }
    if let Some(gap) = st.first_gap {
        return Err(gap);
    }
    if let Some(l) = sig.buffers.iter().find(|l| l.absent == Some(false) && !l.matches.is_empty()) {
        let b = l.buffer.name();
        return Err(ParseError::invalid(
            "absent",
            format!("`{b}` is both absent and inspected (use `absent: or_else`)"),
        ));
    }
    attach_base64_data(sig)?;
    check_relative_chain(sig)?;
    Ok(())
}

/// Moves the inspections of `base64_data` into the last `base64_decode` of the rule,
/// which runs them on what it decoded.
fn attach_base64_data(sig: &mut Signature) -> Result<(), ParseError> {
    let mut data = Vec::new();
    sig.buffers.retain_mut(|l| {
        if l.buffer != Buffer::Base64Data {
            return true;
        }
        data.append(&mut l.matches);
        false
    });
    let lists =
        std::iter::once(&mut sig.payload).chain(sig.buffers.iter_mut().map(|l| &mut l.matches));
    let decode = lists
        .flat_map(|l| l.iter_mut())
        .filter_map(|m| match m {
            PayloadMatch::Base64Decode { data, .. } => Some(data),
            _ => None,
        })
        .last();
    match decode {
        Some(d) => *d = data,
        None if data.is_empty() => {}
        None => {
            return Err(ParseError::invalid(
                "base64_data",
                "`base64_data` needs a `base64_decode` before it",
            ))
        }
    }
    Ok(())
}

/// A relative match needs something before it to be relative to, except content, which
/// Suricata anchors at the start of the buffer.
fn check_relative_chain(sig: &Signature) -> Result<(), ParseError> {
    // In a sticky buffer (`file_data; pcre:"/^.../R"`) a first relative pcre is anchored
    // at the buffer start, as Suricata loads it; in the payload it is an error.
    if let Some(PayloadMatch::Pcre(p)) = sig.payload.first() {
        if p.relative {
            return Err(ParseError::invalid(
                "pcre",
                "relative pcre (/R) without a preceding content",
            ));
        }
    }
    Ok(())
}

/// Keeps the first support gap as the rule's error and records every other one.
fn note_gap(first: &mut Option<ParseError>, gap: ParseError) {
    match first {
        Some(f) => gap.gaps.iter().for_each(|g| f.add_gap(g)),
        None => *first = Some(gap),
    }
}

/// Metadata as EVE writes it: key → list of values.
pub fn metadata_map(sig: &Signature) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in &sig.metadata {
        m.entry(k.clone()).or_default().push(v.clone());
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numcmp_forms() {
        assert_eq!(NumCmp::parse("dsize", ">10", 65535).unwrap(), NumCmp::Gt(10));
        assert!(NumCmp::parse("dsize", "10<>100", 65535).unwrap().matches(50));
        assert!(!NumCmp::parse("dsize", "10<>100", 65535).unwrap().matches(10));
        assert!(NumCmp::parse("dsize", "!5", 65535).unwrap().matches(6));
        assert!(NumCmp::parse("dsize", "70000", 65535).is_err());
        assert!(NumCmp::parse("dsize", "abc", 65535).is_err());
        assert!(NumCmp::parse("dsize", "100<>10", 65535).is_err());
    }

    #[test]
    fn option_splitting_honours_escapes() {
        let opts = split_options(r#"msg:"a\;b"; content:"x|3b|"; nocase; sid:1;"#).unwrap();
        assert_eq!(opts.len(), 4);
        assert_eq!(opts[0], ("msg", Some(r#""a\;b""#)));
        assert_eq!(opts[2], ("nocase", None));
        assert!(split_options("msg:\"x\"; sid:1").is_err());
    }
}
