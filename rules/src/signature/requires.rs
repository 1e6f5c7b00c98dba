//! `requires:` — a rule loads only where its requirements hold: a Suricata language
//! version (`version >= 7.0.3 < 8 | >= 9`), keywords and features. A rule whose
//! requirements do not hold is skipped before the rest of it is read, so a rule
//! written for a later version does not count as an error here.

use super::options::split_options;
use super::ParseError;

/// The version of the Suricata rule language this engine implements.
pub const LANGUAGE_VERSION: [u32; 3] = [8, 0, 6];

/// Features of `requires: feature X` this engine has.
const FEATURES: &[&str] = &["output::file-store", "ja3", "ja4"];

/// Is `kw` a keyword this engine implements (`requires: keyword X`)?
pub fn is_keyword(kw: &str) -> bool {
    super::catalog::is_implemented(kw)
}

/// The `requires` option of a rule's option body, checked. `Ok(None)`: no `requires`,
/// or it holds; `Ok(Some(reason))`: it does not hold (the rule is skipped);
/// `Err`: it is malformed.
pub fn unmet(
    body: &str,
    known_keyword: impl Fn(&str) -> bool,
) -> Result<Option<String>, ParseError> {
    let Ok(opts) = split_options(body) else { return Ok(None) };
    for (name, value) in opts {
        if !name.eq_ignore_ascii_case("requires") {
            continue;
        }
        let v = value.unwrap_or("").trim();
        for req in v.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let (kind, arg) = req.split_once(char::is_whitespace).unwrap_or((req, ""));
            let arg = arg.trim();
            let holds = match kind {
                "version" => version_holds(arg)?,
                "keyword" => known_keyword(arg),
                "feature" => FEATURES.contains(&arg),
                other => {
                    return Err(ParseError::invalid(
                        "requires",
                        format!("unknown requirement `{other}`"),
                    ))
                }
            };
            if !holds {
                return Ok(Some(format!("`requires: {req}` does not hold")));
            }
        }
    }
    Ok(None)
}

fn parse_version(s: &str) -> Result<[u32; 3], ParseError> {
    let mut v = [0u32; 3];
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return Err(ParseError::invalid("requires", format!("invalid version `{s}`")));
    }
    for (slot, p) in v.iter_mut().zip(&parts) {
        *slot = p
            .parse()
            .map_err(|_| ParseError::invalid("requires", format!("invalid version `{s}`")))?;
    }
    Ok(v)
}

/// `>= 7 < 8 | >= 9.0.99`: alternatives, each a list of comparisons that must all hold.
fn version_holds(expr: &str) -> Result<bool, ParseError> {
    let mut any = false;
    for alt in expr.split('|') {
        let tokens: Vec<&str> = alt.split_whitespace().collect();
        if tokens.is_empty() || !tokens.len().is_multiple_of(2) {
            return Err(ParseError::invalid("requires", format!("invalid version range `{alt}`")));
        }
        let mut all = true;
        for pair in tokens.chunks(2) {
            let v = parse_version(pair[1])?;
            let ok = match pair[0] {
                ">=" => LANGUAGE_VERSION >= v,
                ">" => LANGUAGE_VERSION > v,
                "<=" => LANGUAGE_VERSION <= v,
                "<" => LANGUAGE_VERSION < v,
                "=" | "==" => LANGUAGE_VERSION == v,
                op => {
                    return Err(ParseError::invalid("requires", format!("unknown operator `{op}`")))
                }
            };
            all &= ok;
        }
        any |= all;
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> Option<String> {
        unmet(body, |k| k == "sid").expect("well-formed")
    }

    #[test]
    fn versions_keywords_features() {
        assert!(check("requires: version >= 8.0.0, keyword sid; sid:1;").is_none());
        assert!(check("requires: version >= 7 < 8; sid:1;").is_some());
        assert!(check("requires: version >= 7.0.3 < 8 | >= 8.0.1; sid:1;").is_none());
        assert!(check("requires: version >= 10; sid:1;").is_some());
        assert!(check("requires: version >= 8, keyword foobar; sid:1;").is_some());
        assert!(check("requires: feature nothing-like-it; sid:1;").is_some());
        assert!(check("content:\"x\"; sid:1;").is_none());
        assert!(unmet("requires: color blue; sid:1;", |_| true).is_err());
        assert!(unmet("requires: version >= 8.x; sid:1;", |_| true).is_err());
    }
}
