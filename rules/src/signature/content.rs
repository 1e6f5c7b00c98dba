//! Quoted values of the rule language: `"text|0d 0a|more"` patterns and `msg` strings.

use super::ParseError;

/// Strips the surrounding quotes of a value, returning `(negated, inner)`.
/// `!"abc"` is negated. Quotes are optional for keywords that allow bare values.
pub fn unquote<'a>(keyword: &str, value: &'a str) -> Result<(bool, &'a str), ParseError> {
    let v = value.trim();
    let (neg, v) = match v.strip_prefix('!') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, v),
    };
    if let Some(rest) = v.strip_prefix('"') {
        let inner = rest.strip_suffix('"').ok_or_else(|| {
            ParseError::invalid(keyword, format!("unterminated quote in `{value}`"))
        })?;
        return Ok((neg, inner));
    }
    Ok((neg, v))
}

/// Decodes a content pattern: `|..|` hex blocks and `\"`, `\;`, `\\`, `\:` escapes.
pub fn decode_pattern(keyword: &str, s: &str) -> Result<Vec<u8>, ParseError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut in_hex = false;
    let mut nibble: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if in_hex {
            match b {
                b'|' => {
                    if nibble.is_some() {
                        return Err(ParseError::invalid(
                            keyword,
                            format!("odd number of hex digits in `{s}`"),
                        ));
                    }
                    in_hex = false;
                }
                b' ' | b'\t' => {
                    if nibble.is_some() {
                        return Err(ParseError::invalid(
                            keyword,
                            format!("split hex byte in `{s}`"),
                        ));
                    }
                }
                _ => {
                    let d = (b as char).to_digit(16).ok_or_else(|| {
                        ParseError::invalid(
                            keyword,
                            format!("invalid hex digit `{}` in `{s}`", b as char),
                        )
                    })? as u8;
                    match nibble.take() {
                        Some(h) => out.push(h << 4 | d),
                        None => nibble = Some(d),
                    }
                }
            }
            i += 1;
            continue;
        }
        match b {
            b'|' => in_hex = true,
            b'\\' => {
                let next = *bytes.get(i + 1).ok_or_else(|| {
                    ParseError::invalid(keyword, format!("trailing backslash in `{s}`"))
                })?;
                match next {
                    b'"' | b';' | b'\\' | b':' | b'|' => out.push(next),
                    _ => {
                        return Err(ParseError::invalid(
                            keyword,
                            format!("invalid escape `\\{}` in `{s}`", next as char),
                        ))
                    }
                }
                i += 1;
            }
            b'"' => {
                return Err(ParseError::invalid(keyword, format!("unescaped `\"` in `{s}`")));
            }
            _ => out.push(b),
        }
        i += 1;
    }
    if in_hex {
        return Err(ParseError::invalid(keyword, format!("unterminated hex block in `{s}`")));
    }
    if out.is_empty() {
        return Err(ParseError::invalid(keyword, "empty pattern".to_string()));
    }
    Ok(out)
}

/// Decodes a text value such as `msg`: removes escapes, keeps everything else.
pub fn decode_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push(n),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Bytes written as hex digits, two per byte (`0d0a`); None when the text has an odd
/// length or a character that is not a hex digit.
pub fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    b.chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_escapes() {
        assert_eq!(decode_pattern("content", "uid=0|28|root|29|").unwrap(), b"uid=0(root)");
        assert_eq!(decode_pattern("content", "|0d 0a|a\\;b\\\"").unwrap(), b"\r\na;b\"");
        assert_eq!(decode_pattern("content", "|0D0A|").unwrap(), b"\r\n");
        assert!(decode_pattern("content", "|0d 0|").is_err());
        assert!(decode_pattern("content", "|zz|").is_err());
        assert!(decode_pattern("content", "ab|0d").is_err());
        assert!(decode_pattern("content", "").is_err());
    }

    #[test]
    fn quotes() {
        assert_eq!(unquote("content", "!\"abc\"").unwrap(), (true, "abc"));
        assert_eq!(unquote("content", " \"a\" ").unwrap(), (false, "a"));
        assert!(unquote("content", "\"abc").is_err());
        assert_eq!(decode_text("say \\\"hi\\\"\\; ok"), "say \"hi\"; ok");
    }
}
