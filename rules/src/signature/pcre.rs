//! `pcre`: the regex, its flags (Suricata's and PCRE's), and the flow variables its
//! capture groups are stored in.

use super::content::unquote;
use super::keywords::{PayloadMatch, Pcre};
use super::{Buffer, ParseError};

/// `flow:name,flow:other`: a flow variable per capture group, in order. Packet and
/// alert variables are not kept by this engine: a rule storing into one is refused.
fn parse_captures(vars: &str) -> Result<Vec<String>, ParseError> {
    vars.split(',')
        .map(str::trim)
        .map(|v| match v.split_once(':') {
            Some(("flow", name)) if valid_name(name) => Ok(name.to_string()),
            Some(("pkt" | "alert", _)) => {
                Err(ParseError::unsupported(&format!("pcre capture into `{v}`")))
            }
            _ => Err(ParseError::invalid("pcre", format!("`{v}`: expected `flow:<name>`"))),
        })
        .collect()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || b"_-.".contains(&c))
}

/// A pcre and the buffer its HTTP flag names, if any.
pub(super) fn parse_pcre(v: &str) -> Result<(PayloadMatch, Option<Buffer>), ParseError> {
    let (negated, inner) = unquote("pcre", v)?;
    let body = inner.strip_prefix('/').ok_or_else(|| {
        ParseError::invalid("pcre", format!("expected `/regex/flags`, got `{inner}`"))
    })?;
    let slash = body
        .rfind('/')
        .ok_or_else(|| ParseError::invalid("pcre", format!("no closing `/` in `{inner}`")))?;
    let (re, after) = (&body[..slash], &body[slash + 1..]);
    // Capture groups may be stored: `/(a)(b)/flags, flow:one,flow:two`.
    let (flags, captures) = match after.split_once(',') {
        Some((flags, vars)) => (flags.trim(), parse_captures(vars)?),
        None => (after, Vec::new()),
    };
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
    if captures.len() >= regex.captures_len() {
        return Err(ParseError::invalid(
            "pcre",
            format!("{} variables for {} capture groups", captures.len(), regex.captures_len() - 1),
        ));
    }
    let source = inner.to_string();
    Ok((PayloadMatch::Pcre(Pcre { regex, negated, relative, source, captures }), buffer))
}
