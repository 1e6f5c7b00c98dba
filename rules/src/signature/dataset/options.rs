//! The values of `dataset:` and `datarep:`, and the set each one names.
//!
//! `dataset:<isset|isnotset|set|unset>,<name>[, type <t>][, load <file>][, save <file>]
//! [, state <file>][, memcap <size>][, hashsize <n>][, format <csv|json|ndjson>]
//! [, context_key <k>][, value_key <k>][, array_key <path>][, remove_key]`
//!
//! `datarep:<name>, <op>, <value>[, load <file>][, type <t>][, memcap <size>][, hashsize <n>]`
//!
//! Relative file names are read next to the rule file, as Suricata 8 does.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::files::{self, Format, JsonKeys};
use super::{get_or_create, DataType, DatasetCmd, DatasetMatch, DEFAULT_MAX_ENTRIES};
use crate::signature::{NumCmp, ParseError};

/// The options after the command and name.
#[derive(Default)]
struct Opts {
    kind: Option<DataType>,
    load: Option<String>,
    save: Option<String>,
    max_entries: Option<usize>,
    format: Option<Format>,
    keys: JsonKeys,
}

fn parse_opts(kw: &str, items: &[&str]) -> Result<Opts, ParseError> {
    let mut o = Opts::default();
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (k, v) = match item.split_once(char::is_whitespace) {
            Some((k, v)) => (k, v.trim()),
            None => (item, ""),
        };
        let need = |v: &str| {
            if v.is_empty() {
                Err(ParseError::invalid(kw, format!("`{k}` needs a value")))
            } else {
                Ok(v.to_string())
            }
        };
        match k {
            "type" => {
                o.kind = Some(DataType::parse(v).ok_or_else(|| {
                    ParseError::invalid(kw, format!("unknown dataset type `{v}`"))
                })?)
            }
            "load" => o.load = Some(need(v)?),
            "save" => o.save = Some(need(v)?),
            "state" => {
                o.load = Some(need(v)?);
                o.save = Some(need(v)?);
            }
            "memcap" => {
                let bytes = parse_size(v)
                    .ok_or_else(|| ParseError::invalid(kw, format!("bad memcap `{v}`")))?;
                // A value costs its bytes and the table's bookkeeping: about 64 bytes.
                o.max_entries = Some((bytes / 64).max(1) as usize);
            }
            // Suricata's hash table size: the table here grows as needed.
            "hashsize" => {
                need(v)?
                    .parse::<u64>()
                    .map_err(|_| ParseError::invalid(kw, format!("bad hashsize `{v}`")))?;
            }
            "format" => {
                o.format = Some(match v {
                    "csv" => Format::Csv,
                    "json" => Format::Json,
                    "ndjson" | "jsonline" => Format::Ndjson,
                    _ => return Err(ParseError::invalid(kw, format!("unknown format `{v}`"))),
                })
            }
            "context_key" => o.keys.context_key = Some(need(v)?),
            "value_key" => o.keys.value_key = Some(need(v)?),
            "array_key" => o.keys.array_key = Some(need(v)?),
            "remove_key" => o.keys.remove_key = true,
            _ => return Err(ParseError::invalid(kw, format!("unknown option `{item}`"))),
        }
    }
    Ok(o)
}

/// `10mb`, `512kb`, `1gb` or bytes.
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    let (num, mult) = if let Some(n) = s.strip_suffix("gb") {
        (n, 1 << 30)
    } else if let Some(n) = s.strip_suffix("mb") {
        (n, 1 << 20)
    } else if let Some(n) = s.strip_suffix("kb") {
        (n, 1 << 10)
    } else {
        (s.as_str(), 1)
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

/// `dataset:` of a rule read from `rule_file`.
pub fn parse_dataset(value: &str, rule_file: &str) -> Result<DatasetMatch, ParseError> {
    const KW: &str = "dataset";
    let items: Vec<&str> = value.split(',').collect();
    if items.len() < 2 {
        return Err(ParseError::invalid(KW, "expected `command,name[,options]`"));
    }
    let cmd = match items[0].trim() {
        "isset" => DatasetCmd::IsSet,
        "isnotset" => DatasetCmd::IsNotSet,
        "set" => DatasetCmd::Set,
        "unset" => DatasetCmd::Unset,
        c => return Err(ParseError::invalid(KW, format!("unknown command `{c}`"))),
    };
    let name = set_name(KW, items[1])?;
    let o = parse_opts(KW, &items[2..])?;
    let format = o.format.unwrap_or(Format::Csv);
    if format != Format::Csv && o.keys.value_key.is_none() {
        return Err(ParseError::invalid(KW, "a JSON dataset needs `value_key`"));
    }
    let context_key = match format {
        Format::Csv => None,
        // Suricata names the context after the set unless told otherwise.
        _ => Some(o.keys.context_key.clone().unwrap_or_else(|| name.to_string())),
    };
    let set = open(KW, name, &o, format, rule_file)?;
    Ok(DatasetMatch { cmd, set, context_key })
}

/// `datarep:` of a rule read from `rule_file`.
pub fn parse_datarep(value: &str, rule_file: &str) -> Result<DatasetMatch, ParseError> {
    const KW: &str = "datarep";
    let items: Vec<&str> = value.split(',').collect();
    if items.len() < 3 {
        return Err(ParseError::invalid(KW, "expected `name, operator, value[, options]`"));
    }
    let name = set_name(KW, items[0])?;
    let op = match items[1].trim() {
        "==" => "=",
        op @ (">" | "<" | ">=" | "<=") => op,
        o => return Err(ParseError::invalid(KW, format!("unknown operator `{o}`"))),
    };
    let cmp = NumCmp::parse(KW, &format!("{op}{}", items[2].trim()), u16::MAX.into())?;
    let o = parse_opts(KW, &items[3..])?;
    let set = open(KW, name, &o, o.format.unwrap_or(Format::Csv), rule_file)?;
    Ok(DatasetMatch { cmd: DatasetCmd::Rep(cmp), set, context_key: None })
}

fn set_name<'a>(kw: &str, s: &'a str) -> Result<&'a str, ParseError> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err(ParseError::invalid(kw, format!("bad set name `{s}`")));
    }
    Ok(s)
}

/// The set named `name`, with its file read (again when it changed).
fn open(
    kw: &str,
    name: &str,
    o: &Opts,
    format: Format,
    rule_file: &str,
) -> Result<Arc<super::Dataset>, ParseError> {
    let kind =
        o.kind.ok_or_else(|| ParseError::invalid(kw, format!("set `{name}` needs a `type`")))?;
    let set = get_or_create(name, kind, o.max_entries.unwrap_or(DEFAULT_MAX_ENTRIES))
        .map_err(|e| ParseError::invalid(kw, e.to_string()))?;
    let dir = Path::new(rule_file).parent().unwrap_or(Path::new("."));
    if let Some(save) = &o.save {
        let p = writable_path(dir, save).ok_or_else(|| {
            ParseError::invalid(
                kw,
                format!("`{save}`: a set is only written next to its rule file (no absolute path, no `..`)"),
            )
        })?;
        *super::lock(&set.save) = Some(p);
    }
    if let Some(load) = &o.load {
        let path = dir.join(load);
        // A `state` file that does not exist yet is an empty set.
        let may_be_missing = o.save.as_deref() == Some(load.as_str());
        if !may_be_missing || path.exists() {
            files::load_if_changed(&set, &path, format, &o.keys)
                .map_err(|e| ParseError::invalid(kw, e.to_string()))?;
        }
    }
    Ok(set)
}

/// `name` under `dir`, refusing absolute names and `..`: a rule must not make the
/// sensor write anywhere it likes.
fn writable_path(dir: &Path, name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
        Some(dir.join(p))
    } else {
        None
    }
}
