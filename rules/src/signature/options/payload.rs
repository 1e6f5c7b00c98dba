//! Inspections of a buffer other than a plain content: `pcre`, `isdataat`, the byte
//! operations and `base64_decode`, sizes (`dsize`, `bsize`, `urilen`), `entropy`,
//! `absent` and the dataset lookups.

use super::*;

/// The keywords of this family (buffer inspections besides content), as [`apply`] takes them.
pub(super) const KEYWORDS: &[&str] = &[
    "pcre",
    "isdataat",
    "dsize",
    "byte_test",
    "byte_jump",
    "byte_extract",
    "base64_decode",
    "byte_math",
    "urilen",
    "absent",
    "dataset",
    "datarep",
    "bsize",
    "entropy",
];

/// Applies a buffer inspection (one of [`KEYWORDS`]) to `sig`.
pub(super) fn apply(st: &mut OptionState, sig: &mut Signature, o: Opt) -> Result<(), ParseError> {
    let Opt { kw, name, value } = o;
    match kw {
        "pcre" => {
            let (m, buffer) = super::super::pcre::parse_pcre(need(name, value)?)?;
            match buffer {
                Some(b) if st.current != Buffer::Payload && b != st.current => {
                    return Err(ParseError::invalid(
                        name,
                        format!("an HTTP flag for `{}` inside `{}`", b.name(), st.current.name()),
                    ))
                }
                Some(b) => {
                    list_mut(sig, b).push(m);
                    st.last_buf = b;
                }
                None => {
                    list_mut(sig, st.current).push(m);
                    st.last_buf = st.current;
                }
            }
        }
        "isdataat" => isdataat(st, sig, o)?,
        "dsize" => sig.dsize = Some(NumCmp::parse(name, need(name, value)?, 65535)?),
        "byte_test" | "byte_jump" | "byte_extract" => {
            match parse_byte_op(kw, need(name, value)?, &mut st.byte_vars)? {
                Ok(op) => {
                    let target =
                        if PayloadMatch::Byte(op).is_relative() { st.last_buf } else { st.current };
                    list_mut(sig, target).push(PayloadMatch::Byte(op));
                }
                Err(gap) => note_gap(&mut st.first_gap, gap),
            }
        }
        "base64_decode" => {
            let m = parse_base64_decode(value)?;
            let target = if m.is_relative() { st.last_buf } else { st.current };
            list_mut(sig, target).push(m);
            st.last_buf = target;
        }
        "byte_math" => match parse_byte_math(need(name, value)?, &mut st.byte_vars)? {
            Ok(op) => {
                let target =
                    if PayloadMatch::Byte(op).is_relative() { st.last_buf } else { st.current };
                list_mut(sig, target).push(PayloadMatch::Byte(op));
            }
            Err(gap) => note_gap(&mut st.first_gap, gap),
        },
        "urilen" => urilen(sig, o)?,
        "absent" => absent(st, sig, o)?,
        "dataset" | "datarep" => dataset(st, sig, o)?,
        "bsize" => {
            if st.current == Buffer::Payload {
                return Err(ParseError::invalid(name, "`bsize` needs a sticky buffer before it"));
            }
            let cmp = NumCmp::parse(name, need(name, value)?, u32::MAX as u64)?;
            list_mut(sig, st.current).push(PayloadMatch::Bsize(cmp));
        }
        "entropy" => {
            let check = super::super::entropy::EntropyCheck::parse(name, need(name, value)?)?;
            list_mut(sig, st.current).push(PayloadMatch::Entropy(check));
        }
        other => return Err(ParseError::unknown(other)),
    }
    Ok(())
}

/// `isdataat`: data at an offset of the buffer, or after the last match.
fn isdataat(st: &OptionState, sig: &mut Signature, o: Opt) -> Result<(), ParseError> {
    let Opt { name, value, .. } = o;
    let v = need(name, value)?;
    let (neg, v) = match v.trim().strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, v),
    };
    let mut parts = v.split(',').map(str::trim);
    let off = parts.next().unwrap_or("");
    let offset = if off.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        Value::Var(byte_var(name, off, &st.byte_vars)?)
    } else {
        Value::Num(i64::from(parse_u32(name, off)?))
    };
    let mut relative = false;
    for p in parts {
        match p {
            "relative" => relative = true,
            "rawbytes" => {}
            other => {
                return Err(ParseError::invalid(name, format!("unknown isdataat option `{other}`")))
            }
        }
    }
    // Relative to the last content, in its list (`uricontent:"x"; isdataat:4,relative`).
    let target = if relative { st.last_buf } else { st.current };
    list_mut(sig, target).push(PayloadMatch::IsDataAt { offset, relative, negated: neg });
    Ok(())
}

/// `urilen`: the length of the normalised (or raw) URI.
fn urilen(sig: &mut Signature, o: Opt) -> Result<(), ParseError> {
    let Opt { name, value, .. } = o;
    let v = need(name, value)?;
    let (n, raw) = match v.split_once(',') {
        Some((n, "raw")) | Some((n, " raw")) => (n, true),
        Some((n, "norm")) | Some((n, " norm")) => (n, false),
        Some((_, o)) => return Err(ParseError::invalid(name, format!("unknown option `{o}`"))),
        None => (v, false),
    };
    let cmp = NumCmp::parse(name, n.trim(), u32::MAX as u64)?;
    let b = if raw { Buffer::HttpUriRaw } else { Buffer::HttpUri };
    list_mut(sig, b).push(PayloadMatch::Bsize(cmp));
    Ok(())
}

/// `absent`: the sticky buffer is not there (`or_else`: or it matches).
fn absent(st: &OptionState, sig: &mut Signature, o: Opt) -> Result<(), ParseError> {
    let Opt { name, value, .. } = o;
    let or_else = match value.map(str::trim) {
        None => false,
        Some("or_else") => true,
        Some(v) => return Err(ParseError::invalid(name, format!("unknown option `{v}`"))),
    };
    if st.current == Buffer::Payload {
        return Err(ParseError::invalid(name, "`absent` needs a sticky buffer before it"));
    }
    list_mut(sig, st.current);
    if let Some(l) = sig.buffers.iter_mut().rev().find(|l| l.buffer == st.current) {
        l.absent = Some(or_else);
    }
    Ok(())
}

/// `dataset` and `datarep`: the sticky buffer looked up in a set or reputation list.
fn dataset(st: &OptionState, sig: &mut Signature, o: Opt) -> Result<(), ParseError> {
    let Opt { kw, name, value } = o;
    if st.current == Buffer::Payload {
        return Err(ParseError::invalid(name, format!("`{kw}` needs a sticky buffer before it")));
    }
    let v = need(name, value)?;
    let file = sig.origin.file.clone();
    let m = if kw == "dataset" {
        crate::signature::dataset::parse_dataset(v, &file)?
    } else {
        crate::signature::dataset::parse_datarep(v, &file)?
    };
    list_mut(sig, st.current).push(PayloadMatch::Dataset(m));
    Ok(())
}
