//! The option list of a rule: `name:value;` pairs, applied keyword by keyword to the
//! signature (the parsed forms are in `keywords.rs`, the parsers of keywords with a
//! grammar of their own in `keyword_parsers.rs`).

use std::collections::BTreeMap;

use super::bits::{parse_flowbits, parse_flowint, parse_hostbits};
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

/// Applies every option of `body` to `sig`.
pub fn apply_options(sig: &mut Signature, body: &str) -> Result<(), ParseError> {
    let mut have_sid = false;
    let mut explicit_priority: Option<u8> = None;
    // The first unsupported keyword is reported only if the rule is otherwise valid, so that
    // grammar errors are never hidden behind a support gap.
    let mut first_gap: Option<ParseError> = None;
    // Where content-like keywords go: the payload until a sticky buffer keyword.
    let mut current = Buffer::Payload;
    // The list of the last content, which modifiers (`nocase`, `depth`, ...) apply to.
    let mut last_buf = Buffer::Payload;
    // Names of byte_extract variables, by slot.
    let mut byte_vars: Vec<String> = Vec::new();
    // The transforms since the last sticky buffer keyword.
    let mut transforms: Vec<Transform> = Vec::new();
    for (name, value) in split_options(body)? {
        let mut kw = name.to_ascii_lowercase();
        let mut value = value;
        // `frame:websocket.pdu` selects a frame buffer the sensor fills; `frame:pdu`
        // names a frame of the rule's protocol.
        if let Some(f) = value.map(str::trim).filter(|_| kw == "frame") {
            let f = f.to_ascii_lowercase();
            let framed = match (f.contains('.'), sig.app_proto) {
                (false, Some(app)) => format!("frame:{}.{f}", app.as_str()),
                _ => format!("frame:{f}"),
            };
            if Buffer::from_keyword(&framed).is_some() {
                (kw, value) = (framed, None);
            }
        }
        if let Some(b) = Buffer::from_keyword(&kw) {
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
            let direction = match kw.as_str() {
                "http.response_body" => Some(false),
                _ => direction,
            };
            if !b.supported() {
                note_gap(&mut first_gap, ParseError::unsupported(&format!("keyword `{kw}`")));
            }
            let used = sig.buffers.iter().rev().find(|l| l.buffer == b);
            // A new instance for a multi-buffer used before, and a plain list again
            // after a transformed one.
            let fresh = used
                .is_some_and(|l| (b.multi() && !l.matches.is_empty()) || !l.transforms.is_empty());
            transforms.clear();
            if fresh {
                let list = BufferList {
                    buffer: b,
                    transforms: Vec::new(),
                    matches: Vec::new(),
                    absent: None,
                    direction: None,
                };
                sig.buffers.push(list);
            }
            if let Some(d) = direction {
                list_mut(sig, b);
                if let Some(l) = sig.buffers.iter_mut().rev().find(|l| l.buffer == b) {
                    l.direction = Some(d);
                }
            }
            current = b;
            last_buf = b;
            continue;
        }
        if let Some(b) = Buffer::from_modifier(&kw) {
            // Legacy modifier: the content before it moves into the buffer.
            no_value(name, value)?;
            if last_buf != Buffer::Payload {
                return Err(ParseError::invalid(
                    name,
                    format!("`{kw}` follows a content of `{}`", last_buf.name()),
                ));
            }
            let pos = sig.payload.iter().rposition(|m| matches!(m, PayloadMatch::Content(_)));
            let Some(pos) = pos else {
                return Err(ParseError::invalid(
                    name,
                    format!("`{kw}` needs a preceding `content`"),
                ));
            };
            let m = sig.payload.remove(pos);
            list_mut(sig, b).push(m);
            last_buf = b;
            continue;
        }
        if let Some(t) = Transform::parse(&kw, value) {
            add_transform(sig, current, &mut transforms, name, t?)?;
            continue;
        }
        match kw.as_str() {
            "msg" => sig.msg = decode_text(unquote(name, need(name, value)?)?.1),
            "sid" => {
                sig.sid = parse_u32(name, need(name, value)?)?;
                have_sid = true;
            }
            "rev" => sig.rev = parse_u32(name, need(name, value)?)?,
            "gid" => sig.gid = parse_u32(name, need(name, value)?)?,
            "classtype" => {
                let ct = need(name, value)?.trim();
                let (desc, prio) = classification::lookup(ct).ok_or_else(|| {
                    ParseError::invalid(name, format!("unknown classtype `{ct}`"))
                })?;
                sig.classtype = Some(ct.to_string());
                sig.category = desc.to_string();
                sig.priority = prio;
            }
            "priority" => {
                let p = parse_u32(name, need(name, value)?)?;
                if !(1..=255).contains(&p) {
                    return Err(ParseError::invalid(
                        name,
                        format!("priority `{p}` out of range 1-255"),
                    ));
                }
                explicit_priority = Some(p as u8);
            }
            "metadata" => {
                for item in need(name, value)?.split(',') {
                    let item = item.trim();
                    if item.is_empty() {
                        continue;
                    }
                    let (k, v) = item.split_once(' ').unwrap_or((item, ""));
                    sig.metadata.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            "reference" => {
                let v = need(name, value)?;
                let (k, r) = v.split_once(',').ok_or_else(|| {
                    ParseError::invalid(name, format!("expected `type,id` in `{v}`"))
                })?;
                sig.references.push((k.trim().to_string(), r.trim().to_string()));
            }
            "target" => {
                sig.target = Some(match need(name, value)?.trim() {
                    "src_ip" => Target::SrcIp,
                    "dest_ip" => Target::DestIp,
                    t => return Err(ParseError::invalid(name, format!("unknown target `{t}`"))),
                })
            }
            "content" | "uricontent" => {
                let (negated, inner) = unquote(name, need(name, value)?)?;
                let pattern = decode_pattern(name, inner)?;
                last_buf = if kw == "uricontent" { Buffer::HttpUri } else { current };
                list_mut(sig, last_buf).push(PayloadMatch::Content(Content {
                    pattern,
                    negated,
                    nocase: false,
                    offset: None,
                    depth: None,
                    distance: None,
                    within: None,
                    startswith: false,
                    endswith: false,
                    fast_pattern: false,
                    fast_pattern_chop: None,
                    vars: Default::default(),
                }));
            }
            "nocase" => {
                no_value(name, value)?;
                last_content(sig, last_buf, name)?.nocase = true;
            }
            "rawbytes" => {
                no_value(name, value)?;
                last_content(sig, last_buf, name)?;
            }
            "depth" | "offset" | "within" | "distance" => {
                let v = need(name, value)?.trim();
                if v.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
                    // A byte_extract or byte_math variable, read when inspecting.
                    let slot = byte_var(name, v, &byte_vars)?;
                    let c = last_content(sig, last_buf, name)?;
                    let vars = &mut c.vars;
                    let field = match kw.as_str() {
                        "depth" => &mut vars.depth,
                        "offset" => &mut vars.offset,
                        "within" => &mut vars.within,
                        _ => &mut vars.distance,
                    };
                    *field = Some(slot);
                    continue;
                }
                let c = last_content(sig, last_buf, name)?;
                let plen = c.pattern.len() as u32;
                match kw.as_str() {
                    "depth" => {
                        let d = parse_u32(name, v)?;
                        if d < plen {
                            return Err(ParseError::invalid(
                                name,
                                format!("depth {d} is shorter than the content ({plen} bytes)"),
                            ));
                        }
                        c.depth = Some(d);
                    }
                    "offset" => c.offset = Some(parse_u32(name, v)?),
                    "within" => {
                        let w = v.parse::<i64>().map_err(|_| {
                            ParseError::invalid(name, format!("invalid number `{v}`"))
                        })?;
                        if w < plen as i64 {
                            return Err(ParseError::invalid(
                                name,
                                format!("within {w} is shorter than the content ({plen} bytes)"),
                            ));
                        }
                        c.within = Some(w as u32);
                    }
                    _ => {
                        let d = v.parse::<i32>().map_err(|_| {
                            ParseError::invalid(name, format!("invalid number `{v}`"))
                        })?;
                        c.distance = Some(d);
                    }
                }
                if c.startswith
                    && (c.offset.is_some()
                        || c.depth.is_some_and(|d| d != plen)
                        || c.distance.is_some())
                {
                    return Err(ParseError::invalid(
                        name,
                        format!("`{kw}` cannot be combined with startswith"),
                    ));
                }
            }
            "startswith" => {
                no_value(name, value)?;
                let c = last_content(sig, last_buf, name)?;
                if c.offset.is_some()
                    || c.depth.is_some()
                    || c.distance.is_some()
                    || c.within.is_some()
                {
                    return Err(ParseError::invalid(
                        name,
                        "startswith cannot be combined with offset/depth/distance/within",
                    ));
                }
                c.startswith = true;
                c.depth = Some(c.pattern.len() as u32);
                c.offset = Some(0);
            }
            "endswith" => {
                no_value(name, value)?;
                last_content(sig, last_buf, name)?.endswith = true;
            }
            "fast_pattern" => {
                // On a negated content the mark is kept but ignored by the prefilter,
                // which then uses a positive content (any of them is sound).
                let c = last_content(sig, last_buf, name)?;
                c.fast_pattern = true;
                match value.map(str::trim) {
                    None | Some("only") => {}
                    Some(v) => {
                        let (o, l) = v.split_once(',').ok_or_else(|| {
                            ParseError::invalid(
                                name,
                                format!("expected `only` or `offset,length`, got `{v}`"),
                            )
                        })?;
                        let o: u16 = o.trim().parse().map_err(|_| {
                            ParseError::invalid(name, format!("invalid offset `{o}`"))
                        })?;
                        let l: u16 = l.trim().parse().map_err(|_| {
                            ParseError::invalid(name, format!("invalid length `{l}`"))
                        })?;
                        if o as usize + l as usize > c.pattern.len() || l == 0 {
                            return Err(ParseError::invalid(
                                name,
                                format!("`{v}` is outside the content"),
                            ));
                        }
                        c.fast_pattern_chop = Some((o, l));
                    }
                }
            }
            "pcre" => {
                let (m, buffer) = super::pcre::parse_pcre(need(name, value)?)?;
                match buffer {
                    Some(b) if current != Buffer::Payload && b != current => {
                        return Err(ParseError::invalid(
                            name,
                            format!("an HTTP flag for `{}` inside `{}`", b.name(), current.name()),
                        ))
                    }
                    Some(b) => {
                        list_mut(sig, b).push(m);
                        last_buf = b;
                    }
                    None => {
                        list_mut(sig, current).push(m);
                        last_buf = current;
                    }
                }
            }
            "isdataat" => {
                let v = need(name, value)?;
                let (neg, v) = match v.trim().strip_prefix('!') {
                    Some(r) => (true, r),
                    None => (false, v),
                };
                let mut parts = v.split(',').map(str::trim);
                let off = parts.next().unwrap_or("");
                let offset = if off.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                    Value::Var(byte_var(name, off, &byte_vars)?)
                } else {
                    Value::Num(i64::from(parse_u32(name, off)?))
                };
                let mut relative = false;
                for p in parts {
                    match p {
                        "relative" => relative = true,
                        "rawbytes" => {}
                        other => {
                            return Err(ParseError::invalid(
                                name,
                                format!("unknown isdataat option `{other}`"),
                            ))
                        }
                    }
                }
                // Relative to the last content, in its list (`uricontent:"x"; isdataat:4,relative`).
                let target = if relative { last_buf } else { current };
                list_mut(sig, target).push(PayloadMatch::IsDataAt {
                    offset,
                    relative,
                    negated: neg,
                });
            }
            "dsize" => sig.dsize = Some(NumCmp::parse(name, need(name, value)?, 65535)?),
            "byte_test" | "byte_jump" | "byte_extract" => {
                match parse_byte_op(kw.as_str(), need(name, value)?, &mut byte_vars)? {
                    Ok(op) => {
                        let target =
                            if PayloadMatch::Byte(op).is_relative() { last_buf } else { current };
                        list_mut(sig, target).push(PayloadMatch::Byte(op));
                    }
                    Err(gap) => note_gap(&mut first_gap, gap),
                }
            }
            "base64_decode" => {
                let m = parse_base64_decode(value)?;
                let target = if m.is_relative() { last_buf } else { current };
                list_mut(sig, target).push(m);
                last_buf = target;
            }
            "hostbits" | "xbits" => parse_hostbits(sig, &kw, value)?,
            "flowint" => sig.flowints.push(parse_flowint(need(name, value)?)?),
            "byte_math" => match parse_byte_math(need(name, value)?, &mut byte_vars)? {
                Ok(op) => {
                    let target =
                        if PayloadMatch::Byte(op).is_relative() { last_buf } else { current };
                    list_mut(sig, target).push(PayloadMatch::Byte(op));
                }
                Err(gap) => note_gap(&mut first_gap, gap),
            },
            k if app_keywords::KEYWORDS.contains(&k) => app_keywords::apply(sig, k, name, value)?,
            "urilen" => {
                let v = need(name, value)?;
                let (n, raw) = match v.split_once(',') {
                    Some((n, "raw")) | Some((n, " raw")) => (n, true),
                    Some((n, "norm")) | Some((n, " norm")) => (n, false),
                    Some((_, o)) => {
                        return Err(ParseError::invalid(name, format!("unknown option `{o}`")))
                    }
                    None => (v, false),
                };
                let cmp = NumCmp::parse(name, n.trim(), u32::MAX as u64)?;
                let b = if raw { Buffer::HttpUriRaw } else { Buffer::HttpUri };
                list_mut(sig, b).push(PayloadMatch::Bsize(cmp));
            }
            "absent" => {
                let or_else = match value.map(str::trim) {
                    None => false,
                    Some("or_else") => true,
                    Some(v) => {
                        return Err(ParseError::invalid(name, format!("unknown option `{v}`")))
                    }
                };
                if current == Buffer::Payload {
                    return Err(ParseError::invalid(
                        name,
                        "`absent` needs a sticky buffer before it",
                    ));
                }
                list_mut(sig, current);
                if let Some(l) = sig.buffers.iter_mut().rev().find(|l| l.buffer == current) {
                    l.absent = Some(or_else);
                }
            }
            "dataset" | "datarep" => {
                if current == Buffer::Payload {
                    return Err(ParseError::invalid(
                        name,
                        format!("`{kw}` needs a sticky buffer before it"),
                    ));
                }
                let v = need(name, value)?;
                let file = sig.origin.file.clone();
                let m = if kw == "dataset" {
                    crate::dataset::parse_dataset(v, &file)?
                } else {
                    crate::dataset::parse_datarep(v, &file)?
                };
                list_mut(sig, current).push(PayloadMatch::Dataset(m));
            }
            "bsize" => {
                if current == Buffer::Payload {
                    return Err(ParseError::invalid(
                        name,
                        "`bsize` needs a sticky buffer before it",
                    ));
                }
                let cmp = NumCmp::parse(name, need(name, value)?, u32::MAX as u64)?;
                list_mut(sig, current).push(PayloadMatch::Bsize(cmp));
            }
            "tag" => sig.tags.push(super::tag::parse_tag(need(name, value)?)?),
            "ipopts" => sig.header_checks.push(parse_ipopts(name, need(name, value)?)?),
            "stream_size" => sig.header_checks.push(parse_stream_size(name, need(name, value)?)?),
            // Which keyword the engine prefilters on: a performance hint, no meaning.
            "prefilter" => no_value(name, value)?,
            "entropy" => {
                let check = super::entropy::EntropyCheck::parse(name, need(name, value)?)?;
                list_mut(sig, current).push(PayloadMatch::Entropy(check));
            }
            "vlan.id" => sig.header_checks.push(super::vlan::parse_vlan_id(name, value)?),
            "vlan.layers" => sig.header_checks.push(super::vlan::parse_vlan_layers(name, value)?),
            "flow" => parse_flow(sig, need(name, value)?)?,
            "flowbits" => parse_flowbits(sig, value)?,
            "noalert" => {
                no_value(name, value)?;
                sig.noalert = true;
            }
            "threshold" | "detection_filter" => {
                if sig.threshold.is_some() {
                    return Err(ParseError::invalid(
                        name,
                        "only one threshold or detection_filter per rule",
                    ));
                }
                sig.threshold = Some(parse_threshold(name, need(name, value)?)?);
            }
            "itype" => sig.header_checks.push(HeaderCheck::IcmpType(NumCmp::parse(
                name,
                need(name, value)?,
                255,
            )?)),
            "icode" => sig.header_checks.push(HeaderCheck::IcmpCode(NumCmp::parse(
                name,
                need(name, value)?,
                255,
            )?)),
            "icmp_id" => sig
                .header_checks
                .push(HeaderCheck::IcmpId(parse_small(name, need(name, value)?)? as u16)),
            "icmp_seq" => sig
                .header_checks
                .push(HeaderCheck::IcmpSeq(parse_small(name, need(name, value)?)? as u16)),
            "ttl" => sig.header_checks.push(HeaderCheck::Ttl(NumCmp::parse(
                name,
                need(name, value)?,
                255,
            )?)),
            "ip_proto" => {
                sig.header_checks.push(HeaderCheck::IpProto(parse_ip_proto(need(name, value)?)?))
            }
            "id" => sig
                .header_checks
                .push(HeaderCheck::IpId(parse_small(name, need(name, value)?)? as u16)),
            "seq" => {
                sig.header_checks.push(HeaderCheck::TcpSeq(parse_u32(name, need(name, value)?)?))
            }
            "ack" => {
                sig.header_checks.push(HeaderCheck::TcpAck(parse_u32(name, need(name, value)?)?))
            }
            "window" => {
                let v = need(name, value)?.trim();
                let (negated, v) = match v.strip_prefix('!') {
                    Some(r) => (true, r),
                    None => (false, v),
                };
                let value = v
                    .trim()
                    .parse::<u16>()
                    .map_err(|_| ParseError::invalid(name, format!("invalid window `{v}`")))?;
                sig.header_checks.push(HeaderCheck::TcpWindow { value, negated });
            }
            "flags" | "tcp.flags" => sig.header_checks.push(parse_tcp_flags(need(name, value)?)?),
            "fragbits" => sig.header_checks.push(parse_fragbits(need(name, value)?)?),
            "sameip" => {
                no_value(name, value)?;
                sig.header_checks.push(HeaderCheck::SameIp);
            }
            "ftpbounce" => {
                no_value(name, value)?;
                sig.header_checks.push(HeaderCheck::FtpBounce);
            }
            "filemd5" | "filesha1" | "filesha256" => {
                let check = parse_file_hash(name, need(name, value)?, &sig.origin.file)?;
                sig.header_checks.push(check);
            }
            "decode-event" | "decode_event" | "stream-event" | "stream_event"
            | "app-layer-event" | "app_layer_event" => {
                sig.header_checks.push(parse_event(name, need(name, value)?)?);
            }
            // Checked before the rule is read (`Signature::parse`): it holds here.
            "requires" => {}
            "alert" => {
                no_value(name, value)?;
                sig.alert_on_pass = true;
            }
            other if KNOWN_UNSUPPORTED.contains(&other) => {
                note_gap(&mut first_gap, ParseError::unsupported(&format!("keyword `{other}`")));
            }
            other => return Err(ParseError::unknown(other)),
        }
    }
    if !have_sid {
        return Err(ParseError::grammar("rule has no sid".to_string()));
    }
    if let Some(p) = explicit_priority {
        sig.priority = p;
    }
    if let Some(gap) = first_gap {
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
