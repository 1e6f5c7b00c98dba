//! `entropy`: the Shannon entropy of a buffer (bits per byte, 0 to 8) compared with a
//! value, as Suricata 8 defines it: `entropy: [bytes N,] [offset N,] value <test>`.

use super::ParseError;

/// A comparison of a floating-point value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FloatCmp {
    Eq(f64),
    Ne(f64),
    Lt(f64),
    Le(f64),
    Gt(f64),
    Ge(f64),
    /// Strictly between.
    Range(f64, f64),
    /// Not strictly between.
    NotRange(f64, f64),
}

impl FloatCmp {
    /// `>= 4`, `4-5`, `!4-5`, `!= 4`, `= 4`, `4`.
    pub fn parse(keyword: &str, s: &str) -> Result<FloatCmp, ParseError> {
        let s = s.trim();
        let num = |t: &str| {
            t.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                ParseError::invalid(keyword, format!("invalid number `{t}` in `{s}`"))
            })
        };
        let range = |t: &str| -> Result<Option<(f64, f64)>, ParseError> {
            // A `-` after the first character separates a range.
            match t.char_indices().skip(1).find(|(_, c)| *c == '-') {
                Some((i, _)) => {
                    let (a, b) = (num(&t[..i])?, num(&t[i + 1..])?);
                    if a >= b {
                        return Err(ParseError::invalid(keyword, format!("empty range `{s}`")));
                    }
                    Ok(Some((a, b)))
                }
                None => Ok(None),
            }
        };
        for (op, f) in [
            ("<=", FloatCmp::Le as fn(f64) -> FloatCmp),
            (">=", FloatCmp::Ge),
            ("!=", FloatCmp::Ne),
            ("<", FloatCmp::Lt),
            (">", FloatCmp::Gt),
            ("=", FloatCmp::Eq),
        ] {
            if let Some(rest) = s.strip_prefix(op) {
                return Ok(f(num(rest)?));
            }
        }
        if let Some(rest) = s.strip_prefix('!') {
            return Ok(match range(rest.trim())? {
                Some((a, b)) => FloatCmp::NotRange(a, b),
                None => FloatCmp::Ne(num(rest)?),
            });
        }
        Ok(match range(s)? {
            Some((a, b)) => FloatCmp::Range(a, b),
            None => FloatCmp::Eq(num(s)?),
        })
    }

    pub fn matches(self, v: f64) -> bool {
        match self {
            FloatCmp::Eq(x) => v == x,
            FloatCmp::Ne(x) => v != x,
            FloatCmp::Lt(x) => v < x,
            FloatCmp::Le(x) => v <= x,
            FloatCmp::Gt(x) => v > x,
            FloatCmp::Ge(x) => v >= x,
            FloatCmp::Range(a, b) => v > a && v < b,
            FloatCmp::NotRange(a, b) => !(v > a && v < b),
        }
    }
}

/// `entropy`: which bytes of the buffer, and the test on their entropy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EntropyCheck {
    pub offset: u32,
    pub bytes: Option<u32>,
    pub value: FloatCmp,
}

impl EntropyCheck {
    pub fn parse(keyword: &str, v: &str) -> Result<EntropyCheck, ParseError> {
        let mut check = EntropyCheck { offset: 0, bytes: None, value: FloatCmp::Ge(0.0) };
        let mut value = None;
        for part in v.split(',').map(str::trim) {
            let (name, arg) = part.split_once(char::is_whitespace).unwrap_or((part, ""));
            let count = || {
                arg.trim().parse::<u32>().map_err(|_| {
                    ParseError::invalid(keyword, format!("`{part}`: a byte count is needed"))
                })
            };
            match name {
                "bytes" => check.bytes = Some(count()?),
                "offset" => check.offset = count()?,
                "value" => value = Some(FloatCmp::parse(keyword, arg)?),
                _ => {
                    return Err(ParseError::invalid(
                        keyword,
                        format!("`{part}`: expected `bytes`, `offset` or `value`"),
                    ))
                }
            }
        }
        check.value = value.ok_or_else(|| ParseError::invalid(keyword, "`value` is needed"))?;
        Ok(check)
    }

    /// The entropy of the bytes the check looks at.
    pub fn entropy_of(&self, buf: &[u8]) -> f64 {
        let from = (self.offset as usize).min(buf.len());
        let rest = &buf[from..];
        let n = self.bytes.map_or(rest.len(), |b| (b as usize).min(rest.len()));
        shannon(&rest[..n])
    }

    pub fn matches(&self, buf: &[u8]) -> bool {
        self.value.matches(self.entropy_of(buf))
    }
}

/// Shannon entropy in bits per byte; 0 for no bytes.
pub fn shannon(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for b in data {
        counts[*b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_the_value_test() {
        let m = |s: &str, v: f64| FloatCmp::parse("entropy", s).unwrap().matches(v);
        assert!(m("> 4", 4.1) && !m("> 4", 4.0) && m(">= 4", 4.0) && m("< 4", 3.9));
        assert!(m("4-5", 4.13) && !m("4-5", 5.0) && !m("!4-5", 4.13) && m("!4-5", 5.5));
        assert!(m("!= 4", 4.13) && !m("= 4", 4.13) && m("4", 4.0) && m("<= 4", 4.0));
        assert!(FloatCmp::parse("entropy", "5-4").is_err());
        assert!(FloatCmp::parse("entropy", "high").is_err());
    }

    #[test]
    fn entropy_over_a_window() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaa"), 0.0);
        assert_eq!(shannon(b"abab"), 1.0);
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(shannon(&all), 8.0);
        let c = EntropyCheck::parse("entropy", "bytes 4, offset 2, value > 0.9").unwrap();
        assert_eq!(c.entropy_of(b"zzababzz"), 1.0);
        assert!(c.matches(b"zzababzz") && !c.matches(b"zzaaaazz"));
        assert!(EntropyCheck::parse("entropy", "offset 2").is_err());
        assert!(EntropyCheck::parse("entropy", "size 2, value > 1").is_err());
    }
}
