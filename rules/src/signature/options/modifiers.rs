//! `content` and the modifiers that place it: case, position (`offset`, `depth`,
//! `distance`, `within`, also as `byte_extract` variables), anchors and the fast
//! pattern choice.

use super::*;

/// The keywords of this family (`content` and its modifiers), as [`apply`] takes them.
pub(super) const KEYWORDS: &[&str] = &[
    "content",
    "uricontent",
    "nocase",
    "rawbytes",
    "depth",
    "offset",
    "within",
    "distance",
    "startswith",
    "endswith",
    "fast_pattern",
];

/// Applies `content` or one of its modifiers (one of [`KEYWORDS`]) to `sig`.
pub(super) fn apply(st: &mut OptionState, sig: &mut Signature, o: Opt) -> Result<(), ParseError> {
    let Opt { kw, name, value } = o;
    match kw {
        "content" | "uricontent" => {
            let (negated, inner) = unquote(name, need(name, value)?)?;
            let pattern = decode_pattern(name, inner)?;
            st.last_buf = if kw == "uricontent" { Buffer::HttpUri } else { st.current };
            list_mut(sig, st.last_buf).push(PayloadMatch::Content(Content {
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
            last_content(sig, st.last_buf, name)?.nocase = true;
        }
        "rawbytes" => {
            no_value(name, value)?;
            last_content(sig, st.last_buf, name)?;
        }
        "depth" | "offset" | "within" | "distance" => position(st, sig, o)?,
        "startswith" => startswith(st, sig, o)?,
        "endswith" => {
            no_value(name, value)?;
            last_content(sig, st.last_buf, name)?.endswith = true;
        }
        "fast_pattern" => fast_pattern(st, sig, o)?,
        other => return Err(ParseError::unknown(other)),
    }
    Ok(())
}

/// `depth`, `offset`, `within`, `distance` of the last content: a number, or a
/// `byte_extract`/`byte_math` variable read when inspecting.
fn position(st: &OptionState, sig: &mut Signature, o: Opt) -> Result<(), ParseError> {
    let Opt { kw, name, value } = o;
    let v = need(name, value)?.trim();
    if v.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
        // A byte_extract or byte_math variable, read when inspecting.
        let slot = byte_var(name, v, &st.byte_vars)?;
        let c = last_content(sig, st.last_buf, name)?;
        let vars = &mut c.vars;
        let field = match kw {
            "depth" => &mut vars.depth,
            "offset" => &mut vars.offset,
            "within" => &mut vars.within,
            _ => &mut vars.distance,
        };
        *field = Some(slot);
        return Ok(());
    }
    let c = last_content(sig, st.last_buf, name)?;
    let plen = c.pattern.len() as u32;
    match kw {
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
            let w = v
                .parse::<i64>()
                .map_err(|_| ParseError::invalid(name, format!("invalid number `{v}`")))?;
            if w < plen as i64 {
                return Err(ParseError::invalid(
                    name,
                    format!("within {w} is shorter than the content ({plen} bytes)"),
                ));
            }
            c.within = Some(w as u32);
        }
        _ => {
            let d = v
                .parse::<i32>()
                .map_err(|_| ParseError::invalid(name, format!("invalid number `{v}`")))?;
            c.distance = Some(d);
        }
    }
    if c.startswith
        && (c.offset.is_some() || c.depth.is_some_and(|d| d != plen) || c.distance.is_some())
    {
        return Err(ParseError::invalid(
            name,
            format!("`{kw}` cannot be combined with startswith"),
        ));
    }
    Ok(())
}

/// `startswith`: the last content is anchored at the buffer start.
fn startswith(st: &OptionState, sig: &mut Signature, o: Opt) -> Result<(), ParseError> {
    let Opt { name, value, .. } = o;
    no_value(name, value)?;
    let c = last_content(sig, st.last_buf, name)?;
    if c.offset.is_some() || c.depth.is_some() || c.distance.is_some() || c.within.is_some() {
        return Err(ParseError::invalid(
            name,
            "startswith cannot be combined with offset/depth/distance/within",
        ));
    }
    c.startswith = true;
    c.depth = Some(c.pattern.len() as u32);
    c.offset = Some(0);
    Ok(())
}

/// `fast_pattern` (`only`, or `offset,length` of the content) on the last content.
fn fast_pattern(st: &OptionState, sig: &mut Signature, o: Opt) -> Result<(), ParseError> {
    let Opt { name, value, .. } = o;
    // On a negated content the mark is kept but ignored by the prefilter,
    // which then uses a positive content (any of them is sound).
    let c = last_content(sig, st.last_buf, name)?;
    c.fast_pattern = true;
    match value.map(str::trim) {
        None | Some("only") => {}
        Some(v) => {
            let (o, l) = v.split_once(',').ok_or_else(|| {
                ParseError::invalid(name, format!("expected `only` or `offset,length`, got `{v}`"))
            })?;
            let o: u16 = o
                .trim()
                .parse()
                .map_err(|_| ParseError::invalid(name, format!("invalid offset `{o}`")))?;
            let l: u16 = l
                .trim()
                .parse()
                .map_err(|_| ParseError::invalid(name, format!("invalid length `{l}`")))?;
            if o as usize + l as usize > c.pattern.len() || l == 0 {
                return Err(ParseError::invalid(name, format!("`{v}` is outside the content")));
            }
            c.fast_pattern_chop = Some((o, l));
        }
    }
    Ok(())
}
