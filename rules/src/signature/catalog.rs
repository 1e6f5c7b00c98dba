//! The keyword table of the rule language: every keyword the engine reads, by family,
//! with the keywords it knows and skips. `docs/reference/rule-keywords.md` is generated
//! from it (a test keeps the two equal), and `requires: keyword X` consults it.

use super::buffer::Buffer;
use super::options::FAMILIES;
use super::transform::Transform;
use super::unsupported::KNOWN_UNSUPPORTED;

/// What a keyword does, as the reference groups keywords.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeywordFamily {
    /// About the rule itself: message, identity, class, metadata, reporting.
    Meta,
    /// `content` and the modifiers that place it.
    Content,
    /// Other inspections of a buffer: pcre, byte operations, sizes, datasets.
    Payload,
    /// Flow and host state, and thresholds.
    State,
    /// Packet header checks and decoder, stream and application-layer events.
    Packet,
    /// Values of an application transaction compared directly.
    Application,
    /// Sticky buffers: what content-like keywords after them look at.
    StickyBuffer,
    /// Legacy content modifiers, which move the content before them into a buffer.
    LegacyModifier,
    /// Transforms of a sticky buffer before it is inspected.
    Transform,
}

impl KeywordFamily {
    /// The family's title in the reference.
    pub fn title(self) -> &'static str {
        match self {
            KeywordFamily::Meta => "The rule itself",
            KeywordFamily::Content => "Content and its modifiers",
            KeywordFamily::Payload => "Other buffer inspections",
            KeywordFamily::State => "Flow and host state, thresholds",
            KeywordFamily::Packet => "Packet headers and events",
            KeywordFamily::Application => "Application values",
            KeywordFamily::StickyBuffer => "Sticky buffers",
            KeywordFamily::LegacyModifier => "Legacy content modifiers",
            KeywordFamily::Transform => "Transforms",
        }
    }
}

/// One keyword the engine reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeywordInfo {
    /// As a rule writes it (lowercase).
    pub keyword: &'static str,
    /// What it does.
    pub family: KeywordFamily,
    /// For a buffer keyword: the buffer's current name when this is another spelling.
    pub alias_of: Option<&'static str>,
}

/// Every keyword the engine implements, by family, in table order.
pub fn implemented() -> Vec<KeywordInfo> {
    let plain =
        |family| move |&keyword: &&'static str| KeywordInfo { keyword, family, alias_of: None };
    let mut out: Vec<KeywordInfo> = Vec::new();
    for (family, keywords) in FAMILIES {
        out.extend(keywords.iter().map(plain(*family)));
    }
    out.extend(super::app_keywords::KEYWORDS.iter().map(plain(KeywordFamily::Application)));
    for &(keyword, buffer) in Buffer::KEYWORDS {
        if buffer.supported() {
            let name = buffer.name();
            let alias_of = (name != keyword).then_some(name);
            out.push(KeywordInfo { keyword, family: KeywordFamily::StickyBuffer, alias_of });
        }
    }
    for &keyword in Buffer::MODIFIERS {
        let alias_of = Buffer::from_modifier(keyword).map(Buffer::name);
        out.push(KeywordInfo { keyword, family: KeywordFamily::LegacyModifier, alias_of });
    }
    out.extend(Transform::KEYWORDS.iter().map(plain(KeywordFamily::Transform)));
    out
}

/// Keywords of the Suricata language that are known and not implemented yet (a rule
/// using one is skipped with that reason), with sticky buffers the sensor does not fill.
pub fn not_implemented() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = KNOWN_UNSUPPORTED.to_vec();
    out.extend(Buffer::KEYWORDS.iter().filter(|(_, b)| !b.supported()).map(|(k, _)| *k));
    out.sort_unstable();
    out.dedup();
    out
}

/// Is `kw` a keyword this engine implements (`requires: keyword X`)?
pub fn is_implemented(kw: &str) -> bool {
    let kw = kw.to_ascii_lowercase();
    FAMILIES.iter().any(|(_, k)| k.contains(&kw.as_str()))
        || Buffer::from_keyword(&kw).is_some_and(|b| b.supported())
        || Buffer::from_modifier(&kw).is_some()
        || Transform::parse(&kw, None).is_some()
        || super::app_keywords::KEYWORDS.contains(&kw.as_str())
}

/// The reference page of the rule keywords (`docs/reference/rule-keywords.md`).
pub fn reference_markdown() -> String {
    use std::fmt::Write;
    let mut md = String::from(
        "# Rule keywords\n\n\
         Generated from the engine's keyword table (`rules/src/signature/catalog.rs`); the \
         test `catalog::tests::the_reference_page_is_current` fails when this page and the \
         table differ (`UPDATE_GOLDENFILES=1` rewrites it). What each keyword does is \
         Suricata 8's meaning; where this engine differs, [the rule language](rules.md) \
         says so.\n",
    );
    let all = implemented();
    let mut families: Vec<KeywordFamily> = all.iter().map(|k| k.family).collect();
    families.dedup();
    for family in families {
        let _ = write!(md, "\n## {}\n\n", family.title());
        for k in all.iter().filter(|k| k.family == family) {
            match k.alias_of {
                Some(a) => {
                    let _ = writeln!(md, "- `{}` (as `{a}`)", k.keyword);
                }
                None => {
                    let _ = writeln!(md, "- `{}`", k.keyword);
                }
            }
        }
    }
    md.push_str(
        "\n## Known, not implemented yet\n\n\
         A rule using one of these is skipped with the keyword named in the load report; \
         the other rules load.\n\n",
    );
    for k in not_implemented() {
        let _ = writeln!(md, "- `{k}`");
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_page_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs/reference/rule-keywords.md");
        let generated = reference_markdown();
        if std::env::var_os("UPDATE_GOLDENFILES").is_some() {
            std::fs::write(&path, &generated).expect("write the reference page");
            return;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "{} differs from the keyword table: run with UPDATE_GOLDENFILES=1",
            path.display()
        );
    }

    /// No keyword belongs to two families: dispatch order would decide otherwise.
    #[test]
    fn keyword_families_are_disjoint() {
        let mut seen = std::collections::BTreeMap::new();
        for k in implemented() {
            if let Some(other) = seen.insert(k.keyword, k.family) {
                panic!("`{}` is in {other:?} and {:?}", k.keyword, k.family);
            }
        }
        let both: Vec<&str> =
            not_implemented().into_iter().filter(|k| seen.contains_key(k)).collect();
        assert!(both.is_empty(), "implemented and listed as not implemented: {both:?}");
    }

    /// Every keyword of a family's table is taken by its family: a keyword listed and
    /// not handled would be "unknown".
    #[test]
    fn every_listed_keyword_is_handled() {
        for k in implemented() {
            let rule = match k.family {
                KeywordFamily::Meta | KeywordFamily::Packet | KeywordFamily::State => {
                    format!("alert ip any any -> any any (msg:\"t\"; {}; sid:1;)", k.keyword)
                }
                _ => format!(
                    "alert http any any -> any any (msg:\"t\"; content:\"a\"; {}; sid:1;)",
                    k.keyword
                ),
            };
            let origin = super::super::Origin { file: "test.rules".into(), line: 1 };
            let vars = super::super::Vars::default();
            if let Err(e) = super::super::Signature::parse(&rule, &vars, origin) {
                assert!(
                    !matches!(e.kind, super::super::ErrorKind::UnknownKeyword(_)),
                    "`{}` ({:?}) is listed but not handled: {e}",
                    k.keyword,
                    k.family
                );
            }
        }
        assert!(is_implemented("content") && is_implemented("http.uri"));
        assert!(!is_implemented("no_such_keyword"));
    }
}
