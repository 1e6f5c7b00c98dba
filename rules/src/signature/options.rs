//! The option list of a rule: `name:value;` pairs and the meaning of each keyword.

use std::collections::BTreeMap;

use super::classification;
use super::content::{decode_pattern, decode_text, unquote};
use super::{Buffer, BufferList, ParseError, Signature, Transform};

/// A numeric comparison: `5`, `!5`, `<5`, `<=5`, `>5`, `>=5`, `5<>10` (exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumCmp {
    Eq(u64),
    Ne(u64),
    Lt(u64),
    Le(u64),
    Gt(u64),
    Ge(u64),
    Range(u64, u64),
}

impl NumCmp {
    pub fn parse(keyword: &str, s: &str, max: u64) -> Result<NumCmp, ParseError> {
        let s = s.trim();
        let bad = || ParseError::invalid(keyword, format!("invalid number `{s}`"));
        let num = |t: &str| -> Result<u64, ParseError> {
            let t = t.trim();
            let v = if let Some(h) = t.strip_prefix("0x") {
                u64::from_str_radix(h, 16).map_err(|_| bad())?
            } else {
                t.parse::<u64>().map_err(|_| bad())?
            };
            if v > max {
                return Err(ParseError::invalid(keyword, format!("`{t}` is larger than {max}")));
            }
            Ok(v)
        };
        if let Some((a, b)) = s.split_once("<>") {
            let (a, b) = (num(a)?, num(b)?);
            if a >= b {
                return Err(ParseError::invalid(keyword, format!("empty range `{s}`")));
            }
            return Ok(NumCmp::Range(a, b));
        }
        if let Some((a, b)) = s.split_once('-').filter(|(a, _)| !a.trim().is_empty()) {
            // Suricata also accepts `min-max` for some keywords (inclusive).
            let (a, b) = (num(a)?, num(b)?);
            if a > b {
                return Err(ParseError::invalid(keyword, format!("empty range `{s}`")));
            }
            return Ok(NumCmp::Range(a.saturating_sub(1), b + 1));
        }
        Ok(if let Some(r) = s.strip_prefix("<=") {
            NumCmp::Le(num(r)?)
        } else if let Some(r) = s.strip_prefix(">=") {
            NumCmp::Ge(num(r)?)
        } else if let Some(r) = s.strip_prefix('<') {
            NumCmp::Lt(num(r)?)
        } else if let Some(r) = s.strip_prefix('>') {
            NumCmp::Gt(num(r)?)
        } else if let Some(r) = s.strip_prefix('!') {
            NumCmp::Ne(num(r)?)
        } else if let Some(r) = s.strip_prefix('=') {
            NumCmp::Eq(num(r)?)
        } else {
            NumCmp::Eq(num(s)?)
        })
    }

    /// The largest value that matches, if there is one.
    pub fn max(self) -> Option<u64> {
        match self {
            NumCmp::Eq(x) | NumCmp::Le(x) => Some(x),
            NumCmp::Lt(x) | NumCmp::Range(_, x) => Some(x.saturating_sub(1)),
            NumCmp::Ne(_) | NumCmp::Gt(_) | NumCmp::Ge(_) => None,
        }
    }

    pub fn matches(self, v: u64) -> bool {
        match self {
            NumCmp::Eq(x) => v == x,
            NumCmp::Ne(x) => v != x,
            NumCmp::Lt(x) => v < x,
            NumCmp::Le(x) => v <= x,
            NumCmp::Gt(x) => v > x,
            NumCmp::Ge(x) => v >= x,
            NumCmp::Range(a, b) => v > a && v < b,
        }
    }
}

/// `content` with its modifiers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Content {
    pub pattern: Vec<u8>,
    pub negated: bool,
    pub nocase: bool,
    pub offset: Option<u32>,
    pub depth: Option<u32>,
    pub distance: Option<i32>,
    pub within: Option<u32>,
    pub startswith: bool,
    pub endswith: bool,
    pub fast_pattern: bool,
    /// `fast_pattern:offset,length`: only this slice goes to the prefilter.
    pub fast_pattern_chop: Option<(u16, u16)>,
}

impl Content {
    /// Relative to the previous match (distance/within).
    pub fn is_relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }

    /// The bytes given to the prefilter.
    pub fn prefilter_bytes(&self) -> &[u8] {
        match self.fast_pattern_chop {
            Some((off, len)) => {
                let off = (off as usize).min(self.pattern.len());
                let end = (off + len as usize).min(self.pattern.len());
                &self.pattern[off..end]
            }
            None => &self.pattern,
        }
    }
}

/// `pcre:"/re/flags"`.
#[derive(Debug)]
pub struct Pcre {
    pub regex: pcre2::bytes::Regex,
    pub negated: bool,
    pub relative: bool,
    pub source: String,
}

/// One payload inspection step, in rule order.
#[derive(Debug)]
pub enum PayloadMatch {
    Content(Content),
    Pcre(Pcre),
    IsDataAt {
        offset: u32,
        relative: bool,
        negated: bool,
    },
    /// The size of the whole buffer.
    Bsize(NumCmp),
    Byte(ByteOp),
}

/// A number given literally or by a `byte_extract` variable (its slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Num(i64),
    Var(u8),
}

/// How `byte_*` keywords read a number from the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRead {
    /// Bytes read (1–8 binary, 1–23 as a string; 0 as a string: the digits present).
    pub nbytes: u8,
    pub offset: Value,
    pub relative: bool,
    pub little_endian: bool,
    /// `string, hex|dec|oct`: the bytes are digits in that base.
    pub string_base: Option<u32>,
    pub bitmask: Option<u64>,
}

/// `byte_test`, `byte_jump` and `byte_extract`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOp {
    Test {
        read: ByteRead,
        op: ByteCmp,
        negated: bool,
        value: Value,
    },
    Jump {
        read: ByteRead,
        multiplier: u64,
        align: bool,
        from_beginning: bool,
        from_end: bool,
        post_offset: i64,
    },
    Extract {
        read: ByteRead,
        multiplier: u64,
        align: bool,
        slot: u8,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteCmp {
    Lt,
    Gt,
    Eq,
    Le,
    Ge,
    And,
    Xor,
}

impl PayloadMatch {
    pub fn is_relative(&self) -> bool {
        match self {
            PayloadMatch::Content(c) => c.is_relative(),
            PayloadMatch::Pcre(p) => p.relative,
            PayloadMatch::IsDataAt { relative, .. } => *relative,
            PayloadMatch::Bsize(_) => false,
            PayloadMatch::Byte(ByteOp::Test { read, .. })
            | PayloadMatch::Byte(ByteOp::Jump { read, .. })
            | PayloadMatch::Byte(ByteOp::Extract { read, .. }) => read.relative,
        }
    }
}

/// `flow:` options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowCond {
    /// Some(true): to_server/from_client; Some(false): to_client/from_server.
    pub to_server: Option<bool>,
    /// Some(true): established; Some(false): not_established.
    pub established: Option<bool>,
    pub stateless: bool,
    /// Some(true): only_frag; Some(false): no_frag.
    pub frag: Option<bool>,
    /// Some(true): only_stream; Some(false): no_stream.
    pub stream: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowbitCmd {
    Set,
    Unset,
    Toggle,
    IsSet,
    IsNotSet,
}

/// `flowbits:cmd,name[|name...]`. For isset/isnotset several names are ORed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flowbit {
    pub cmd: FlowbitCmd,
    pub names: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdKind {
    Limit,
    Threshold,
    Both,
    Backoff,
    DetectionFilter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Track {
    BySrc,
    ByDst,
    ByRule,
    ByBoth,
    ByFlow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold {
    pub kind: ThresholdKind,
    pub track: Track,
    pub count: u32,
    pub seconds: u32,
    pub multiplier: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    SrcIp,
    DestIp,
}

/// Tests on packet headers that need no payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderCheck {
    IcmpType(NumCmp),
    IcmpCode(NumCmp),
    IcmpId(u16),
    IcmpSeq(u16),
    Ttl(NumCmp),
    IpProto(NumCmp),
    IpId(u16),
    TcpSeq(u32),
    TcpAck(u32),
    TcpWindow {
        value: u16,
        negated: bool,
    },
    /// `flags`: `mask` bits are ignored; `mode` says how `flags` must relate.
    TcpFlags {
        flags: u8,
        mask: u8,
        mode: FlagMode,
    },
    /// `fragbits`: bits are R=0x4 (reserved), D=0x2 (don't fragment), M=0x1 (more fragments).
    FragBits {
        bits: u8,
        mode: FlagMode,
    },
    SameIp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagMode {
    /// Exactly these (after masking).
    Exact,
    /// At least these (`+`).
    All,
    /// Any of these (`*`).
    Any,
    /// None of these (`!`).
    Not,
}

impl FlagMode {
    pub fn matches(self, have: u8, want: u8) -> bool {
        match self {
            FlagMode::Exact => have == want,
            FlagMode::All => have & want == want,
            FlagMode::Any => have & want != 0 || want == 0,
            FlagMode::Not => have & want == 0,
        }
    }
}

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

fn need<'a>(keyword: &str, v: Option<&'a str>) -> Result<&'a str, ParseError> {
    v.filter(|s| !s.is_empty())
        .ok_or_else(|| ParseError::invalid(keyword, format!("`{keyword}` needs a value")))
}

fn no_value(keyword: &str, v: Option<&str>) -> Result<(), ParseError> {
    match v {
        None => Ok(()),
        Some(_) => Err(ParseError::invalid(keyword, format!("`{keyword}` takes no value"))),
    }
}

fn parse_u32(keyword: &str, s: &str) -> Result<u32, ParseError> {
    s.trim()
        .parse::<u32>()
        .map_err(|_| ParseError::invalid(keyword, format!("invalid number `{s}`")))
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
fn list_mut(sig: &mut Signature, current: Buffer) -> &mut Vec<PayloadMatch> {
    if current == Buffer::Payload {
        return &mut sig.payload;
    }
    let pos = match sig.buffers.iter().position(|l| l.buffer == current) {
        Some(p) => p,
        None => {
            sig.buffers.push(BufferList {
                buffer: current,
                transforms: Vec::new(),
                matches: Vec::new(),
            });
            sig.buffers.len() - 1
        }
    };
    &mut sig.buffers[pos].matches
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
    for (name, value) in split_options(body)? {
        let kw = name.to_ascii_lowercase();
        if let Some(b) = Buffer::from_keyword(&kw) {
            no_value(name, value)?;
            if !b.supported() {
                note_gap(&mut first_gap, ParseError::unsupported(&format!("keyword `{kw}`")));
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
        if let Some(t) = Transform::from_keyword(&kw) {
            no_value(name, value)?;
            if current == Buffer::Payload {
                return Err(ParseError::invalid(
                    name,
                    format!("`{kw}` needs a sticky buffer before it"),
                ));
            }
            list_mut(sig, current);
            if let Some(l) = sig.buffers.iter_mut().find(|l| l.buffer == current) {
                if !l.matches.is_empty() {
                    return Err(ParseError::invalid(
                        name,
                        format!("`{kw}` must come before the buffer's content"),
                    ));
                }
                l.transforms.push(t);
            }
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
                if v.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                    // A byte_extract variable.
                    note_gap(
                        &mut first_gap,
                        ParseError::unsupported(&format!("`{kw}` from a byte_extract variable")),
                    );
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
                let (m, buffer) = parse_pcre(need(name, value)?)?;
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
                if off.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                    note_gap(
                        &mut first_gap,
                        ParseError::unsupported("`isdataat` with a byte_extract variable"),
                    );
                    continue;
                }
                let offset = parse_u32(name, off)?;
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
                list_mut(sig, current).push(PayloadMatch::IsDataAt {
                    offset,
                    relative,
                    negated: neg,
                });
            }
            "dsize" => sig.dsize = Some(NumCmp::parse(name, need(name, value)?, 65535)?),
            "byte_test" | "byte_jump" | "byte_extract" => {
                match parse_byte_op(kw.as_str(), need(name, value)?, &mut byte_vars)? {
                    Ok(op) => {
                        let target = if matches!(op, ByteOp::Test { read, .. } | ByteOp::Jump { read, .. } | ByteOp::Extract { read, .. } if read.relative)
                        {
                            last_buf
                        } else {
                            current
                        };
                        list_mut(sig, target).push(PayloadMatch::Byte(op));
                    }
                    Err(gap) => note_gap(&mut first_gap, gap),
                }
            }
            "tls.version" => {
                let v = need(name, value)?.trim();
                let norm = match v {
                    "1.0" | "1.1" | "1.2" | "1.3" => v,
                    "ssl3" | "3.0" => "ssl3",
                    other => {
                        return Err(ParseError::invalid(name, format!("unknown version `{other}`")))
                    }
                };
                list_mut(sig, Buffer::TlsVersion).push(PayloadMatch::Content(Content {
                    pattern: norm.as_bytes().to_vec(),
                    negated: false,
                    nocase: false,
                    offset: Some(0),
                    depth: Some(norm.len() as u32),
                    distance: None,
                    within: None,
                    startswith: true,
                    endswith: true,
                    fast_pattern: false,
                    fast_pattern_chop: None,
                }));
            }
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
    check_relative_chain(sig)?;
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

/// Most `byte_extract` variables in one rule (Suricata allows a handful).
pub const MAX_BYTE_VARS: usize = 8;

/// Parses `byte_test`, `byte_jump` or `byte_extract`. The inner `Err` is a support gap
/// (an option this engine does not implement), the outer one a grammar error.
fn parse_byte_op(
    kw: &str,
    v: &str,
    vars: &mut Vec<String>,
) -> Result<Result<ByteOp, ParseError>, ParseError> {
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    let bad = |m: String| ParseError::invalid(kw, m);
    let num = |s: &str| -> Result<i64, ParseError> {
        let t = s.trim();
        let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            Some(h) => i64::from_str_radix(h, 16),
            None => t.parse::<i64>(),
        };
        r.map_err(|_| ParseError::invalid(kw, format!("invalid number `{t}`")))
    };
    let value = |s: &str, vars: &Vec<String>| -> Result<Value, ParseError> {
        if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
            match vars.iter().position(|n| n == s) {
                Some(i) => Ok(Value::Var(i as u8)),
                None => Err(ParseError::invalid(kw, format!("unknown variable `{s}`"))),
            }
        } else {
            Ok(Value::Num(num(s)?))
        }
    };
    let min = match kw {
        "byte_test" => 4,
        "byte_jump" => 2,
        _ => 3,
    };
    if parts.len() < min {
        return Err(bad(format!("expected at least {min} arguments, got `{v}`")));
    }
    let nbytes =
        parts[0].parse::<u8>().map_err(|_| bad(format!("invalid byte count `{}`", parts[0])))?;
    let (mut op, mut negated, mut test_value) = (ByteCmp::Eq, false, Value::Num(0));
    let (offset, rest) = match kw {
        "byte_test" => {
            let mut o = parts[1];
            if let Some(r) = o.strip_prefix('!') {
                negated = true;
                o = r.trim();
            }
            op = match o {
                "<" => ByteCmp::Lt,
                ">" => ByteCmp::Gt,
                "=" => ByteCmp::Eq,
                "<=" => ByteCmp::Le,
                ">=" => ByteCmp::Ge,
                "&" => ByteCmp::And,
                "^" => ByteCmp::Xor,
                "!=" => {
                    negated = !negated;
                    ByteCmp::Eq
                }
                other => return Err(bad(format!("unknown operator `{other}`"))),
            };
            test_value = value(parts[2], vars)?;
            (value(parts[3], vars)?, &parts[4..])
        }
        _ => (value(parts[1], vars)?, &parts[2..]),
    };
    let mut read = ByteRead {
        nbytes,
        offset,
        relative: false,
        little_endian: false,
        string_base: None,
        bitmask: None,
    };
    let (mut multiplier, mut align, mut from_beginning, mut from_end, mut post_offset) =
        (1u64, false, false, false, 0i64);
    let mut var_name: Option<String> = None;
    let mut i = 0;
    if kw == "byte_extract" {
        let name = rest.first().copied().unwrap_or_default();
        let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-';
        if name.is_empty() || !name.chars().all(ok) {
            return Err(bad(format!("invalid variable name `{name}`")));
        }
        var_name = Some(name.to_string());
        i = 1;
    }
    while i < rest.len() {
        let opt = rest[i];
        let (k, arg) = match opt.split_once(' ') {
            Some((k, a)) => (k.trim(), Some(a.trim())),
            None => (opt, None),
        };
        match k {
            "relative" => read.relative = true,
            "big" => read.little_endian = false,
            "little" => read.little_endian = true,
            "string" => {
                // `string, hex` (the base is the next item) or `string hex`.
                let base = match arg {
                    Some(b) => b,
                    None => {
                        i += 1;
                        rest.get(i).copied().unwrap_or("dec")
                    }
                };
                read.string_base = Some(match base {
                    "hex" => 16,
                    "dec" => 10,
                    "oct" => 8,
                    other => return Err(bad(format!("unknown string base `{other}`"))),
                });
            }
            "hex" | "dec" | "oct" if read.string_base.is_some() => {}
            "align" => align = true,
            "from_beginning" => from_beginning = true,
            "from_end" => from_end = true,
            "multiplier" => {
                let m = num(arg.unwrap_or_default())?;
                multiplier = u64::try_from(m).map_err(|_| bad(format!("bad multiplier `{m}`")))?;
            }
            "post_offset" => post_offset = num(arg.unwrap_or_default())?,
            "bitmask" => read.bitmask = Some(num(arg.unwrap_or_default())? as u64),
            "dce" => return Ok(Err(ParseError::unsupported(&format!("`{kw}` option `dce`")))),
            other => return Err(bad(format!("unknown option `{other}`"))),
        }
        i += 1;
    }
    // As a string, 0 bytes means "the digits that are there" (at most 23).
    let (min_n, max) = if read.string_base.is_some() { (0, 23) } else { (1, 8) };
    if nbytes < min_n || nbytes > max {
        return Err(bad(format!("byte count {nbytes} is not in 1..={max}")));
    }
    Ok(Ok(match kw {
        "byte_test" => ByteOp::Test { read, op, negated, value: test_value },
        "byte_jump" => {
            ByteOp::Jump { read, multiplier, align, from_beginning, from_end, post_offset }
        }
        _ => {
            if vars.len() >= MAX_BYTE_VARS {
                return Err(bad(format!("more than {MAX_BYTE_VARS} variables")));
            }
            vars.extend(var_name);
            ByteOp::Extract { read, multiplier, align, slot: (vars.len() - 1) as u8 }
        }
    }))
}

fn parse_small(keyword: &str, s: &str) -> Result<u32, ParseError> {
    let v = parse_u32(keyword, s)?;
    if v > 65535 {
        return Err(ParseError::invalid(keyword, format!("`{s}` is larger than 65535")));
    }
    Ok(v)
}

fn parse_ip_proto(s: &str) -> Result<NumCmp, ParseError> {
    let s = s.trim();
    let (prefix, rest) = match s.chars().next() {
        Some(c @ ('!' | '<' | '>')) => (c.to_string(), s[1..].trim()),
        _ => (String::new(), s),
    };
    let num = match rest.to_ascii_lowercase().as_str() {
        "icmp" => "1".to_string(),
        "igmp" => "2".to_string(),
        "tcp" => "6".to_string(),
        "udp" => "17".to_string(),
        "ipv6" => "41".to_string(),
        "gre" => "47".to_string(),
        "esp" => "50".to_string(),
        "ah" => "51".to_string(),
        "ipv6-icmp" | "icmpv6" => "58".to_string(),
        "pim" => "103".to_string(),
        "sctp" => "132".to_string(),
        other => other.to_string(),
    };
    NumCmp::parse("ip_proto", &format!("{prefix}{num}"), 255)
}

/// A pcre and the buffer its HTTP flag names, if any.
fn parse_pcre(v: &str) -> Result<(PayloadMatch, Option<Buffer>), ParseError> {
    let (negated, inner) = unquote("pcre", v)?;
    let body = inner.strip_prefix('/').ok_or_else(|| {
        ParseError::invalid("pcre", format!("expected `/regex/flags`, got `{inner}`"))
    })?;
    let slash = body
        .rfind('/')
        .ok_or_else(|| ParseError::invalid("pcre", format!("no closing `/` in `{inner}`")))?;
    let (re, flags) = (&body[..slash], &body[slash + 1..]);
    let mut b = pcre2::bytes::RegexBuilder::new();
    b.jit_if_available(true);
    let mut relative = false;
    let mut anchored = false;
    let mut ungreedy = false;
    let mut dollar_endonly = false;
    let mut limits = true;
    let mut buffer = None;
    for f in flags.chars() {
        match f {
            'i' => {
                b.caseless(true);
            }
            's' => {
                b.dotall(true);
            }
            'm' => {
                b.multi_line(true);
            }
            'x' => {
                b.extended(true);
            }
            'A' => anchored = true,
            'E' => dollar_endonly = true,
            'G' => ungreedy = true,
            'R' => relative = true,
            'B' => {}
            'O' => limits = false,
            f if Buffer::from_pcre_flag(f).is_some() => {
                let b = Buffer::from_pcre_flag(f);
                if buffer.is_some() && buffer != b {
                    return Err(ParseError::invalid("pcre", "two HTTP buffer flags"));
                }
                buffer = b;
            }
            other => {
                return Err(ParseError::invalid("pcre", format!("unknown pcre flag `{other}`")))
            }
        }
    }
    // Suricata's default limits (pcre match-limit 3500, recursion 1500), set in the pattern
    // itself so that they hold with and without JIT.
    let mut pattern = String::new();
    if limits {
        pattern.push_str("(*LIMIT_MATCH=3500)(*LIMIT_DEPTH=1500)");
    }
    if ungreedy {
        pattern.push_str("(?U)");
    }
    let mut core = re.replace("\\;", ";");
    if dollar_endonly && core.ends_with('$') && !core.ends_with("\\$") {
        core.pop();
        core.push_str("\\z");
    }
    if anchored {
        pattern.push_str("\\A(?:");
        pattern.push_str(&core);
        pattern.push(')');
    } else {
        pattern.push_str(&core);
    }
    let regex = b
        .build(&pattern)
        .map_err(|e| ParseError::invalid("pcre", format!("`{re}` does not compile: {e}")))?;
    Ok((PayloadMatch::Pcre(Pcre { regex, negated, relative, source: inner.to_string() }), buffer))
}

fn parse_flow(sig: &mut Signature, v: &str) -> Result<(), ParseError> {
    let f = &mut sig.flow;
    for opt in v.split(',').map(str::trim) {
        let set_dir = |f: &mut FlowCond, d: bool| -> Result<(), ParseError> {
            if f.to_server.is_some_and(|x| x != d) {
                return Err(ParseError::invalid(
                    "flow",
                    format!("conflicting directions in `{v}`"),
                ));
            }
            f.to_server = Some(d);
            Ok(())
        };
        match opt {
            "to_server" | "from_client" => set_dir(f, true)?,
            "to_client" | "from_server" => set_dir(f, false)?,
            "established" => f.established = Some(true),
            "not_established" => f.established = Some(false),
            "stateless" => f.stateless = true,
            "only_stream" => f.stream = Some(true),
            "no_stream" => f.stream = Some(false),
            "only_frag" => f.frag = Some(true),
            "no_frag" => f.frag = Some(false),
            "" => {}
            other => {
                return Err(ParseError::invalid("flow", format!("unknown flow option `{other}`")))
            }
        }
    }
    Ok(())
}

fn parse_flowbits(sig: &mut Signature, v: Option<&str>) -> Result<(), ParseError> {
    let v = need("flowbits", v)?;
    let (cmd, names) = match v.split_once(',') {
        Some((c, n)) => (c.trim(), Some(n.trim())),
        None => (v.trim(), None),
    };
    let cmd = match cmd {
        "noalert" => {
            if names.is_some() {
                return Err(ParseError::invalid("flowbits", "`noalert` takes no name"));
            }
            sig.noalert = true;
            return Ok(());
        }
        "set" => FlowbitCmd::Set,
        "unset" => FlowbitCmd::Unset,
        "toggle" => FlowbitCmd::Toggle,
        "isset" => FlowbitCmd::IsSet,
        "isnotset" => FlowbitCmd::IsNotSet,
        other => {
            return Err(ParseError::invalid(
                "flowbits",
                format!("unknown flowbits command `{other}`"),
            ))
        }
    };
    let names = names
        .ok_or_else(|| ParseError::invalid("flowbits", format!("`{v}` needs a flowbit name")))?;
    let (sep_or, sep_and) = (names.contains('|'), names.contains('&'));
    if sep_and {
        return Err(ParseError::unsupported("flowbits `&` groups"));
    }
    let list: Vec<String> = names.split('|').map(|n| n.trim().to_string()).collect();
    if list.iter().any(|n| n.is_empty() || n.contains(char::is_whitespace)) {
        return Err(ParseError::invalid("flowbits", format!("invalid flowbit name in `{v}`")));
    }
    if sep_or && !matches!(cmd, FlowbitCmd::IsSet | FlowbitCmd::IsNotSet) {
        // Suricata 7+ accepts `set,a|b` and applies the command to every name.
    }
    sig.flowbits.push(Flowbit { cmd, names: list });
    Ok(())
}

fn parse_threshold(keyword: &str, v: &str) -> Result<Threshold, ParseError> {
    let mut kind =
        if keyword == "detection_filter" { Some(ThresholdKind::DetectionFilter) } else { None };
    let (mut track, mut count, mut seconds, mut multiplier) = (None, None, None, None);
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, val) =
            item.split_once(char::is_whitespace).map(|(k, v)| (k.trim(), v.trim())).ok_or_else(
                || ParseError::invalid(keyword, format!("expected `name value`, got `{item}`")),
            )?;
        match k {
            "type" if keyword == "threshold" => {
                kind = Some(match val {
                    "limit" => ThresholdKind::Limit,
                    "threshold" => ThresholdKind::Threshold,
                    "both" => ThresholdKind::Both,
                    "backoff" => ThresholdKind::Backoff,
                    o => {
                        return Err(ParseError::invalid(
                            keyword,
                            format!("unknown threshold type `{o}`"),
                        ))
                    }
                })
            }
            "track" => {
                track = Some(match val {
                    "by_src" => Track::BySrc,
                    "by_dst" => Track::ByDst,
                    "by_rule" => Track::ByRule,
                    "by_both" => Track::ByBoth,
                    "by_flow" => Track::ByFlow,
                    o => return Err(ParseError::invalid(keyword, format!("unknown track `{o}`"))),
                })
            }
            "count" => count = Some(parse_u32(keyword, val)?),
            "seconds" => seconds = Some(parse_u32(keyword, val)?),
            "multiplier" => multiplier = Some(parse_u32(keyword, val)?),
            o => {
                return Err(ParseError::invalid(keyword, format!("unknown {keyword} field `{o}`")))
            }
        }
    }
    let kind =
        kind.ok_or_else(|| ParseError::invalid(keyword, format!("missing `type` in `{v}`")))?;
    let track =
        track.ok_or_else(|| ParseError::invalid(keyword, format!("missing `track` in `{v}`")))?;
    let count =
        count.ok_or_else(|| ParseError::invalid(keyword, format!("missing `count` in `{v}`")))?;
    let seconds = match (kind, seconds) {
        (ThresholdKind::Backoff, s) => s.unwrap_or(0),
        (_, Some(s)) => s,
        (_, None) => {
            return Err(ParseError::invalid(keyword, format!("missing `seconds` in `{v}`")))
        }
    };
    if kind == ThresholdKind::Backoff {
        if track != Track::ByFlow {
            return Err(ParseError::invalid(
                keyword,
                "backoff is only supported with `track by_flow`",
            ));
        }
        if multiplier.unwrap_or(0) < 2 || count == 0 {
            return Err(ParseError::invalid(
                keyword,
                "backoff needs count >= 1 and multiplier >= 2",
            ));
        }
    }
    if count == 0 && kind != ThresholdKind::DetectionFilter {
        return Err(ParseError::invalid(keyword, "count must be at least 1"));
    }
    Ok(Threshold { kind, track, count, seconds, multiplier: multiplier.unwrap_or(0) })
}

fn parse_flag_modifiers(keyword: &str, s: &str) -> Result<(FlagMode, String), ParseError> {
    let s = s.trim();
    let mut mode = FlagMode::Exact;
    let mut letters = String::new();
    for c in s.chars() {
        match c {
            '+' => mode = FlagMode::All,
            '*' => mode = FlagMode::Any,
            '!' => mode = FlagMode::Not,
            c if c.is_whitespace() => {}
            c => letters.push(c),
        }
    }
    if letters.is_empty() && mode == FlagMode::Exact {
        return Err(ParseError::invalid(keyword, format!("no flags in `{s}`")));
    }
    Ok((mode, letters))
}

fn parse_tcp_flags(v: &str) -> Result<HeaderCheck, ParseError> {
    let (flags_s, mask_s) = match v.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (v, None),
    };
    let bit = |c: char| -> Result<u8, ParseError> {
        Ok(match c.to_ascii_uppercase() {
            'F' => 0x01,
            'S' => 0x02,
            'R' => 0x04,
            'P' => 0x08,
            'A' => 0x10,
            'U' => 0x20,
            'E' | '2' => 0x40,
            'C' | '1' => 0x80,
            '0' => 0,
            o => {
                return Err(ParseError::invalid(
                    "flags",
                    format!("unknown TCP flag `{o}` in `{v}`"),
                ))
            }
        })
    };
    let (mode, letters) = parse_flag_modifiers("flags", flags_s)?;
    let mut flags = 0u8;
    for c in letters.chars() {
        flags |= bit(c)?;
    }
    let mut mask = 0u8;
    if let Some(m) = mask_s {
        for c in m.trim().chars() {
            mask |= bit(c)?;
        }
    }
    Ok(HeaderCheck::TcpFlags { flags, mask, mode })
}

fn parse_fragbits(v: &str) -> Result<HeaderCheck, ParseError> {
    let (mode, letters) = parse_flag_modifiers("fragbits", v)?;
    let mut bits = 0u8;
    for c in letters.chars() {
        bits |= match c.to_ascii_uppercase() {
            'M' => 0x1,
            'D' => 0x2,
            'R' => 0x4,
            o => {
                return Err(ParseError::invalid("fragbits", format!("unknown fragment bit `{o}`")))
            }
        };
    }
    Ok(HeaderCheck::FragBits { bits, mode })
}

/// Metadata as EVE writes it: key → list of values.
pub fn metadata_map(sig: &Signature) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in &sig.metadata {
        m.entry(k.clone()).or_default().push(v.clone());
    }
    m
}

/// Keywords of the Suricata language that this engine does not implement yet. A rule
/// using one is skipped with a message naming it; any other unknown word is an error.
pub const KNOWN_UNSUPPORTED: &[&str] = &[
    // Sticky buffers and legacy content modifiers (application layer).
    "http2.header",
    "http2.header_name",
    "http2.frametype",
    "http2.errorcode",
    "http2.priority",
    "http2.window",
    "http2.size_update",
    "http2.settings",
    "file.name",
    "filename",
    "fileext",
    "file.magic",
    "filemagic",
    "filestore",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesize",
    "file.size",
    "fileext",
    "dns.opcode",
    "dns.answer.name",
    "dns.queries.rrname",
    "dns.answers.rrname",
    "dns.rrtype",
    "dns.rcode",
    "tls.cert_chain_len",
    "tls_cert_notbefore",
    "tls_cert_notafter",
    "tls_cert_expired",
    "tls_cert_valid",
    "tls.subject",
    "tls.issuerdn",
    "tls.fingerprint",
    "tls.store",
    "tls.random",
    "tls.random_time",
    "tls.random_bytes",
    "tls.alpn",
    "ssl_version",
    "ssl_state",
    "ssh.protoversion",
    "ssh.softwareversion",
    "ssh.hassh",
    "ssh.hassh.string",
    "ssh.hassh.server",
    "ssh.hassh.server.string",
    "app-layer-protocol",
    "app-layer-event",
    "app-layer-state",
    "krb5_cname",
    "krb5_sname",
    "krb5_err_code",
    "krb5_msg_type",
    "krb5.cname",
    "krb5.sname",
    "sip.method",
    "sip.uri",
    "sip.protocol",
    "sip.stat_code",
    "sip.stat_msg",
    "sip.request_line",
    "sip.response_line",
    "snmp.community",
    "snmp.pdu_type",
    "snmp.version",
    "smb.named_pipe",
    "smb.share",
    "smb.ntlmssp_user",
    "smb.ntlmssp_domain",
    "smb.version",
    "dcerpc.iface",
    "dcerpc.opnum",
    "dcerpc.stub_data",
    "dce_iface",
    "dce_opnum",
    "dce_stub_data",
    "ftpbounce",
    "ftpdata_command",
    "ftp.command",
    "ftp.command_data",
    "ftp.reply",
    "ftp.mode",
    "ftp.dynamic_port",
    "ftp.completion_code",
    "ftp.reply_received",
    "mqtt.type",
    "mqtt.flags",
    "mqtt.connect.clientid",
    "mqtt.connect.username",
    "mqtt.connect.password",
    "mqtt.publish.topic",
    "mqtt.publish.message",
    "mqtt.protocol_version",
    "mqtt.qos",
    "mqtt.reason_code",
    "mqtt.subscribe.topic",
    "mqtt.unsubscribe.topic",
    "mqtt.connack.session_present",
    "mqtt.connect.flags",
    "mqtt.connect.willtopic",
    "mqtt.connect.willmessage",
    "modbus",
    "dnp3_func",
    "dnp3_ind",
    "dnp3_obj",
    "dnp3_data",
    "enip_command",
    "cip_service",
    "quic.cyu.hash",
    "quic.cyu.string",
    "quic.version",
    "quic.sni",
    "quic.ua",
    "rfb.name",
    "rfb.secresult",
    "rfb.sectype",
    "template",
    "template2",
    "ike.init_spi",
    "ike.resp_spi",
    "ike.chosen_sa_attribute",
    "ike.exchtype",
    "ike.vendor",
    "ike.key_exchange_payload",
    "ike.key_exchange_payload_length",
    "ike.nonce_payload",
    "ike.nonce_payload_length",
    "nfs_procedure",
    "nfs.version",
    "tftp.file_name",
    "ldap.request.operation",
    "ldap.responses.operation",
    "ldap.responses.count",
    "ldap.request.dn",
    "ldap.responses.dn",
    "ldap.responses.result_code",
    "ldap.responses.message",
    "ldap.request.attribute_type",
    "ldap.responses.attribute_type",
    "websocket.payload",
    "websocket.flags",
    "websocket.opcode",
    "websocket.mask",
    "pgsql.query",
    "email.from",
    "email.subject",
    "email.to",
    "email.cc",
    "email.date",
    "email.message_id",
    "email.x_mailer",
    "email.url",
    "email.received",
    "dhcp.leasetime",
    "dhcp.rebinding_time",
    "dhcp.renewal_time",
    "vlan.id",
    "vlan.layers",
    // Payload keywords not implemented yet.
    "byte_math",
    "base64_decode",
    "base64_data",
    "dataset",
    "datarep",
    "lua",
    "luajit",
    "xbits",
    "hostbits",
    "flowint",
    "flowvar",
    "pktvar",
    "stream_size",
    "stream_event",
    "app_layer_event",
    "decode-event",
    "decode_event",
    "engine-event",
    "tag",
    "tag_host",
    "replace",
    "detection_filter_legacy",
    "asn1",
    "ftpbounce",
    "threshold_legacy",
    "ipopts",
    "icmpv6.hdr",
    "icmpv6.mtu",
    "tcp.hdr",
    "tcp.mss",
    "udp.hdr",
    "ipv4.hdr",
    "ipv6.hdr",
    "xor",
    "pcrexform",
    "header_lowercase",
    "strip_pseudo_headers",
    "to_md5",
    "to_sha1",
    "to_sha256",
    "from_base64",
    "luaxform",
    "entropy",
    "requires",
    "config",
    "transform",
    "frame",
    "absent",
    "prefilter",
    "bypass",
    "iprep",
    "geoip",
    "l3_proto",
    "fragoffset",
    "tos",
    "ip.dst",
    "ip.src",
    "rpc",
    "stream_size",
    "noalert_legacy",
    "sameip_legacy",
    "file.name",
    "file.md5",
    "file.sha1",
    "file.sha256",
];

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

    #[test]
    fn tcp_flags() {
        match parse_tcp_flags("S,12").unwrap() {
            HeaderCheck::TcpFlags { flags, mask, mode } => {
                assert_eq!((flags, mask, mode), (0x02, 0xc0, FlagMode::Exact))
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_tcp_flags("SX").is_err());
    }

    #[test]
    fn threshold_fields() {
        let t =
            parse_threshold("threshold", "type limit, track by_src, count 1, seconds 60").unwrap();
        assert_eq!(
            (t.kind, t.track, t.count, t.seconds),
            (ThresholdKind::Limit, Track::BySrc, 1, 60)
        );
        assert!(parse_threshold("threshold", "type limit, count 1, seconds 60").is_err());
        let d = parse_threshold("detection_filter", "track by_dst, count 5, seconds 10").unwrap();
        assert_eq!(d.kind, ThresholdKind::DetectionFilter);
    }
}
