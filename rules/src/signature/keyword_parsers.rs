//! Parsers of the keywords whose values have a grammar of their own: `byte_test`,
//! `byte_jump`, `byte_extract`, `flow`, `flowbits`, `threshold` and
//! `detection_filter`, `flags`, `fragbits`, `ip_proto`.

use super::keywords::{
    ByteCmp, ByteOp, ByteRead, EventKind, FlagMode, FlowCond, HashList, HeaderCheck, MathOp,
    NumCmp, PayloadMatch, StreamSide, Threshold, ThresholdKind, Track, Value,
};
use super::{Buffer, ParseError, Signature};

pub(super) fn need<'a>(keyword: &str, v: Option<&'a str>) -> Result<&'a str, ParseError> {
    v.filter(|s| !s.is_empty())
        .ok_or_else(|| ParseError::invalid(keyword, format!("`{keyword}` needs a value")))
}

pub(super) fn no_value(keyword: &str, v: Option<&str>) -> Result<(), ParseError> {
    match v {
        None => Ok(()),
        Some(_) => Err(ParseError::invalid(keyword, format!("`{keyword}` takes no value"))),
    }
}

pub(super) fn parse_u32(keyword: &str, s: &str) -> Result<u32, ParseError> {
    s.trim()
        .parse::<u32>()
        .map_err(|_| ParseError::invalid(keyword, format!("invalid number `{s}`")))
}

/// Most `byte_extract` variables in one rule (Suricata allows a handful).
pub const MAX_BYTE_VARS: usize = 8;

/// Parses `byte_test`, `byte_jump` or `byte_extract`. The inner `Err` is a support gap
/// (an option this engine does not implement), the outer one a grammar error.
pub(super) fn parse_byte_op(
    kw: &str,
    v: &str,
    vars: &mut Vec<String>,
) -> Result<Result<ByteOp, ParseError>, ParseError> {
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    let bad = |m: String| ParseError::invalid(kw, m);
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
    let (offset, mut rest) = match kw {
        "byte_test" => {
            (op, negated) = byte_test_operator(kw, parts[1])?;
            test_value = byte_value(kw, parts[2], vars)?;
            (byte_value(kw, parts[3], vars)?, &parts[4..])
        }
        _ => (byte_value(kw, parts[1], vars)?, &parts[2..]),
    };
    let mut var_name: Option<String> = None;
    if kw == "byte_extract" {
        let name = rest.first().copied().unwrap_or_default();
        let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-';
        if name.is_empty() || !name.chars().all(ok) {
            return Err(bad(format!("invalid variable name `{name}`")));
        }
        var_name = Some(name.to_string());
        rest = &rest[1..];
    }
    let o = match ByteOptions::parse(kw, nbytes, offset, rest)? {
        Ok(o) => o,
        Err(gap) => return Ok(Err(gap)),
    };
    let read = o.read;
    Ok(Ok(match kw {
        "byte_test" => ByteOp::Test { read, op, negated, value: test_value },
        "byte_jump" => ByteOp::Jump {
            read,
            multiplier: o.multiplier,
            align: o.align,
            from_beginning: o.from_beginning,
            from_end: o.from_end,
            post_offset: o.post_offset,
        },
        _ => {
            if vars.len() >= MAX_BYTE_VARS {
                return Err(bad(format!("more than {MAX_BYTE_VARS} variables")));
            }
            vars.extend(var_name);
            let slot = (vars.len() - 1) as u8;
            ByteOp::Extract { read, multiplier: o.multiplier, align: o.align, slot }
        }
    }))
}

/// A number of a byte keyword, decimal or `0x` hexadecimal.
fn byte_number(kw: &str, s: &str) -> Result<i64, ParseError> {
    let t = s.trim();
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => i64::from_str_radix(h, 16),
        None => t.parse::<i64>(),
    };
    r.map_err(|_| ParseError::invalid(kw, format!("invalid number `{t}`")))
}

/// A number or the name of a variable an earlier `byte_extract` set.
fn byte_value(kw: &str, s: &str, vars: &[String]) -> Result<Value, ParseError> {
    if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
        match vars.iter().position(|n| n == s) {
            Some(i) => Ok(Value::Var(i as u8)),
            None => Err(ParseError::invalid(kw, format!("unknown variable `{s}`"))),
        }
    } else {
        Ok(Value::Num(byte_number(kw, s)?))
    }
}

/// `byte_test`'s operator, `!` or `!=` negating: (comparison, negated).
fn byte_test_operator(kw: &str, s: &str) -> Result<(ByteCmp, bool), ParseError> {
    let (mut negated, o) = match s.strip_prefix('!') {
        Some(r) => (true, r.trim()),
        None => (false, s),
    };
    let op = match o {
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
        other => return Err(ParseError::invalid(kw, format!("unknown operator `{other}`"))),
    };
    Ok((op, negated))
}

/// The options after the fixed arguments of a byte keyword, with the read they shape.
struct ByteOptions {
    read: ByteRead,
    multiplier: u64,
    align: bool,
    from_beginning: bool,
    from_end: bool,
    post_offset: i64,
}

impl ByteOptions {
    /// Reads `options` and checks the byte count against the read they describe. The
    /// inner `Err` is a support gap, the outer one a grammar error.
    fn parse(
        kw: &str,
        nbytes: u8,
        offset: Value,
        options: &[&str],
    ) -> Result<Result<ByteOptions, ParseError>, ParseError> {
        let bad = |m: String| ParseError::invalid(kw, m);
        let read = ByteRead {
            nbytes,
            offset,
            relative: false,
            little_endian: false,
            string_base: None,
            bitmask: None,
        };
        let mut o = ByteOptions {
            read,
            multiplier: 1,
            align: false,
            from_beginning: false,
            from_end: false,
            post_offset: 0,
        };
        let mut base: Option<u32> = None;
        for opt in options {
            let (k, arg) = match opt.split_once(' ') {
                Some((k, a)) => (k.trim(), Some(a.trim())),
                None => (*opt, None),
            };
            match k {
                "relative" => o.read.relative = true,
                "big" => o.read.little_endian = false,
                "little" => o.read.little_endian = true,
                // `string` alone reads decimal digits; the base is its own item
                // (`string, hex`) or the argument (`string hex`).
                "string" => {
                    o.read.string_base = Some(match arg {
                        Some(b) => {
                            string_base(b).ok_or_else(|| bad(format!("unknown base `{b}`")))?
                        }
                        None => o.read.string_base.unwrap_or(10),
                    })
                }
                "hex" | "dec" | "oct" => base = string_base(k),
                "align" => o.align = true,
                "from_beginning" => o.from_beginning = true,
                "from_end" => o.from_end = true,
                "multiplier" => {
                    let m = byte_number(kw, arg.unwrap_or_default())?;
                    o.multiplier =
                        u64::try_from(m).map_err(|_| bad(format!("bad multiplier `{m}`")))?;
                }
                "post_offset" => o.post_offset = byte_number(kw, arg.unwrap_or_default())?,
                "bitmask" => {
                    o.read.bitmask = Some(byte_number(kw, arg.unwrap_or_default())? as u64)
                }
                "dce" => return Ok(Err(ParseError::unsupported(&format!("`{kw}` option `dce`")))),
                other => return Err(bad(format!("unknown option `{other}`"))),
            }
        }
        if let Some(b) = base {
            if o.read.string_base.is_none() {
                return Err(bad("a base (`hex`, `dec`, `oct`) needs `string`".to_string()));
            }
            o.read.string_base = Some(b);
        }
        // As a string, 0 bytes means "the digits that are there" (at most 23); byte_jump
        // also reads 0 binary bytes (a jump of `post_offset` alone).
        let min_n = u8::from(o.read.string_base.is_none() && kw != "byte_jump");
        let max = if o.read.string_base.is_some() { 23 } else { 8 };
        if nbytes < min_n || nbytes > max {
            return Err(bad(format!("byte count {nbytes} is not in {min_n}..={max}")));
        }
        if o.from_beginning && o.from_end {
            return Err(bad("`from_beginning` and `from_end` together".to_string()));
        }
        Ok(Ok(o))
    }
}

/// Parses `base64_decode:[bytes N][, offset N][, relative]` (no value: the whole buffer).
pub(super) fn parse_base64_decode(v: Option<&str>) -> Result<PayloadMatch, ParseError> {
    let kw = "base64_decode";
    let (mut bytes, mut offset, mut relative) = (0u32, 0u32, false);
    for part in v.unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, arg) = part.split_once(char::is_whitespace).unwrap_or((part, ""));
        let number = || {
            let a = arg.trim();
            a.parse::<u32>().map_err(|_| ParseError::invalid(kw, format!("invalid number `{a}`")))
        };
        match k {
            "bytes" => bytes = number()?.min(65535),
            "offset" => offset = number()?,
            "relative" => relative = true,
            other => return Err(ParseError::invalid(kw, format!("unknown option `{other}`"))),
        }
    }
    Ok(PayloadMatch::Base64Decode { bytes, offset, relative, data: Vec::new() })
}

fn string_base(s: &str) -> Option<u32> {
    match s {
        "hex" => Some(16),
        "dec" => Some(10),
        "oct" => Some(8),
        _ => None,
    }
}

/// Parses `byte_math:bytes <n|var>, offset <n>, oper <op>, rvalue <n|var>, result <name>
/// [, relative] [, endian big|little] [, string hex|dec|oct] [, bitmask <n>]`. The inner
/// `Err` is a support gap (`dce`), the outer one a grammar error.
pub(super) fn parse_byte_math(
    v: &str,
    vars: &mut Vec<String>,
) -> Result<Result<ByteOp, ParseError>, ParseError> {
    let kw = "byte_math";
    let bad = |m: String| ParseError::invalid(kw, m);
    let var = |s: &str, vars: &Vec<String>| -> Result<u8, ParseError> {
        vars.iter()
            .position(|n| n == s)
            .map(|i| i as u8)
            .ok_or_else(|| bad(format!("unknown variable `{s}`")))
    };
    let num = |s: &str| -> Result<i64, ParseError> {
        let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(h) => i64::from_str_radix(h, 16),
            None => s.parse::<i64>(),
        };
        r.map_err(|_| bad(format!("invalid number `{s}`")))
    };
    let is_name = |s: &str| s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let mut read = ByteRead {
        nbytes: 0,
        offset: Value::Num(0),
        relative: false,
        little_endian: false,
        string_base: None,
        bitmask: None,
    };
    let (mut nbytes_var, mut oper, mut rvalue, mut result) = (None, None, None, None);
    let mut have_bytes = false;
    let mut have_offset = false;
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, arg) = match part.split_once(char::is_whitespace) {
            Some((k, a)) => (k, a.trim()),
            None => (part, ""),
        };
        match k {
            "bytes" if is_name(arg) => {
                nbytes_var = Some(var(arg, vars)?);
                have_bytes = true;
            }
            "bytes" => {
                let n = arg.parse::<u8>().ok().filter(|n| (1..=10).contains(n));
                read.nbytes = n.ok_or_else(|| bad(format!("byte count `{arg}` not in 1..=10")))?;
                have_bytes = true;
            }
            "offset" => {
                let o = num(arg)?;
                if !(-65535..=65535).contains(&o) {
                    return Err(bad(format!("offset `{arg}` out of range")));
                }
                read.offset = Value::Num(o);
                have_offset = true;
            }
            "oper" => {
                oper = Some(match arg {
                    "+" => MathOp::Add,
                    "-" => MathOp::Sub,
                    "*" => MathOp::Mul,
                    "/" => MathOp::Div,
                    "<<" => MathOp::Shl,
                    ">>" => MathOp::Shr,
                    other => return Err(bad(format!("unknown operator `{other}`"))),
                })
            }
            "rvalue" if is_name(arg) => rvalue = Some(Value::Var(var(arg, vars)?)),
            "rvalue" => rvalue = Some(Value::Num(num(arg)?)),
            "result" if is_name(arg) => result = Some(arg.to_string()),
            "relative" => read.relative = true,
            "endian" => match arg {
                "big" => read.little_endian = false,
                "little" => read.little_endian = true,
                "dce" => return Ok(Err(ParseError::unsupported("`byte_math` option `dce`"))),
                other => return Err(bad(format!("unknown endian `{other}`"))),
            },
            "dce" => return Ok(Err(ParseError::unsupported("`byte_math` option `dce`"))),
            "string" => {
                read.string_base =
                    Some(string_base(arg).ok_or_else(|| bad(format!("unknown base `{arg}`")))?)
            }
            "bitmask" => read.bitmask = Some(num(arg)? as u64),
            other => return Err(bad(format!("unknown option `{other}`"))),
        }
    }
    let (Some(oper), Some(rvalue), Some(result)) = (oper, rvalue, result) else {
        return Err(bad("needs `oper`, `rvalue` and `result`".to_string()));
    };
    if !have_bytes || !have_offset {
        return Err(bad("needs `bytes` and `offset`".to_string()));
    }
    if read.string_base.is_none() && read.nbytes > 8 {
        return Err(bad(format!("{} bytes without `string` (at most 8)", read.nbytes)));
    }
    if vars.len() >= MAX_BYTE_VARS {
        return Err(bad(format!("more than {MAX_BYTE_VARS} variables")));
    }
    vars.push(result);
    let slot = (vars.len() - 1) as u8;
    Ok(Ok(ByteOp::Math { read, nbytes_var, oper, rvalue, slot }))
}

pub(super) fn parse_small(keyword: &str, s: &str) -> Result<u32, ParseError> {
    let v = parse_u32(keyword, s)?;
    if v > 65535 {
        return Err(ParseError::invalid(keyword, format!("`{s}` is larger than 65535")));
    }
    Ok(v)
}

pub(super) fn parse_ip_proto(s: &str) -> Result<NumCmp, ParseError> {
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

pub(super) fn parse_flow(sig: &mut Signature, v: &str) -> Result<(), ParseError> {
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

pub(super) fn parse_threshold(keyword: &str, v: &str) -> Result<Threshold, ParseError> {
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

pub(super) fn parse_tcp_flags(v: &str) -> Result<HeaderCheck, ParseError> {
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

pub(super) fn parse_fragbits(v: &str) -> Result<HeaderCheck, ParseError> {
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

/// `filemd5:bad.md5` (`filesha1`, `filesha256`; `!` negates): the list file is read
/// from the folder of the rule file, as Suricata reads it from the rule path.
pub(super) fn parse_file_hash(
    keyword: &str,
    v: &str,
    rule_file: &str,
) -> Result<HeaderCheck, ParseError> {
    let (negated, name) = match v.trim().strip_prefix('!') {
        Some(n) => (true, n.trim()),
        None => (false, v.trim()),
    };
    let (buffer, hex_len) = match keyword {
        "filemd5" => (Buffer::FileMd5, 32),
        "filesha1" => (Buffer::FileSha1, 40),
        _ => (Buffer::FileSha256, 64),
    };
    let dir = std::path::Path::new(rule_file).parent().unwrap_or(std::path::Path::new(""));
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ParseError::invalid(keyword, format!("cannot read hash list {}: {e}", path.display()))
    })?;
    let mut hashes = std::collections::HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let word = line.split_whitespace().next().unwrap_or_default();
        if word.is_empty() || word.starts_with('#') {
            continue;
        }
        if word.len() != hex_len || !word.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(ParseError::invalid(
                keyword,
                format!(
                    "{} line {}: `{word}` is not a {hex_len}-digit hash",
                    path.display(),
                    n + 1
                ),
            ));
        }
        hashes.insert(word.to_ascii_lowercase().into_bytes());
    }
    let list = HashList { path: path.display().to_string(), hashes };
    Ok(HeaderCheck::FileHash { buffer, list: std::sync::Arc::new(list), negated })
}

/// `decode-event:ipv6.frag_overlap`, `stream-event:3whs_ack_in_wrong_dir`,
/// `app-layer-event:http.invalid_request_chunk_len`: one event name, a dotted
/// lowercase word (the `decoder.` and `stream.` prefixes are accepted and dropped).
pub(super) fn parse_event(keyword: &str, v: &str) -> Result<HeaderCheck, ParseError> {
    let kind = match keyword.as_bytes()[0] {
        b'd' => EventKind::Decode,
        b's' => EventKind::Stream,
        _ => EventKind::AppLayer,
    };
    let name = v.trim().to_ascii_lowercase();
    let name = match kind {
        EventKind::Decode => name.strip_prefix("decoder.").unwrap_or(&name).to_string(),
        EventKind::Stream => name.strip_prefix("stream.").unwrap_or(&name).to_string(),
        // `ikev2.` names the IKE parser's events, as Suricata's protocol alias does.
        EventKind::AppLayer => {
            name.strip_prefix("ikev2.").map_or(name.clone(), |e| format!("ike.{e}"))
        }
    };
    let ok = !name.is_empty()
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
        && (kind == EventKind::Stream || kind == EventKind::AppLayer || name.contains('.'));
    if !ok {
        return Err(ParseError::invalid(keyword, format!("`{v}` is not an event name")));
    }
    Ok(HeaderCheck::Event { kind, name: name.to_string() })
}

/// `ipopts:<rr|eol|nop|ts|sec|esec|lsrr|ssrr|satid|any>`.
pub(super) fn parse_ipopts(name: &str, v: &str) -> Result<HeaderCheck, ParseError> {
    let v = v.trim();
    let code = match v {
        "any" => None,
        "eol" => Some(0),
        "nop" => Some(1),
        "rr" => Some(7),
        "ts" => Some(68),
        "sec" => Some(130),
        "lsrr" => Some(131),
        "esec" => Some(133),
        "satid" => Some(136),
        "ssrr" => Some(137),
        _ => return Err(ParseError::invalid(name, format!("unknown option `{v}`"))),
    };
    Ok(HeaderCheck::IpOpt(code))
}

/// `stream_size:<client|server|both|either>,<op>,<bytes>`.
pub(super) fn parse_stream_size(name: &str, v: &str) -> Result<HeaderCheck, ParseError> {
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    let [side, op, n] = parts[..] else {
        return Err(ParseError::invalid(name, format!("expected `side,operator,bytes` in `{v}`")));
    };
    let side = match side {
        "client" => StreamSide::Client,
        "server" => StreamSide::Server,
        "both" => StreamSide::Both,
        "either" => StreamSide::Either,
        s => return Err(ParseError::invalid(name, format!("unknown side `{s}`"))),
    };
    if !["<", ">", "=", "!=", "<=", ">="].contains(&op) {
        return Err(ParseError::invalid(name, format!("unknown operator `{op}`")));
    }
    let op = if op == "!=" { "!" } else { op };
    let cmp = NumCmp::parse(name, &format!("{op}{n}"), u32::MAX as u64)?;
    Ok(HeaderCheck::StreamSize { side, cmp })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_hash_lists_are_read_beside_the_rule_file() {
        let dir = std::env::temp_dir().join(format!("gw-hashlist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let md5 = "44d88612fea8a8f36de82e1278abb02f";
        std::fs::write(
            dir.join("bad.md5"),
            format!("# eicar\n{} eicar.com\n\n", md5.to_uppercase()),
        )
        .unwrap();
        let rules = dir.join("x.rules").display().to_string();
        match parse_file_hash("filemd5", "!bad.md5", &rules).unwrap() {
            HeaderCheck::FileHash { buffer, list, negated } => {
                assert_eq!(buffer, Buffer::FileMd5);
                assert!(negated);
                assert!(list.hashes.contains(md5.as_bytes()));
            }
            other => panic!("{other:?}"),
        }
        std::fs::write(dir.join("short.md5"), "abc\n").unwrap();
        let e = parse_file_hash("filemd5", "short.md5", &rules).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        assert!(parse_file_hash("filesha256", "missing.sha256", &rules).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn event_names() {
        let e = parse_event("decode-event", " decoder.IPv6.frag_overlap").unwrap();
        assert_eq!(
            e,
            HeaderCheck::Event { kind: EventKind::Decode, name: "ipv6.frag_overlap".into() }
        );
        let e = parse_event("stream-event", "3whs_ack_in_wrong_dir").unwrap();
        assert_eq!(
            e,
            HeaderCheck::Event { kind: EventKind::Stream, name: "3whs_ack_in_wrong_dir".into() }
        );
        assert!(parse_event("decode-event", "frag overlap").is_err());
        assert!(parse_event("decode-event", "overlap").is_err());
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
