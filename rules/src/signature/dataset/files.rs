//! Dataset files: reading `load`/`state` files and writing `save`/`state` files.
//!
//! `csv` (Suricata's format): one value per line, optionally `,<reputation>`; strings
//! are base64, digests hex, addresses as text. `json`: an array of objects (or the array
//! at `array_key` in an object), each with its value at `value_key`; the object is the
//! value's context in alerts. `ndjson`: one such object per line.

use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use super::{DataType, Dataset, DatasetError, Entry};
use crate::signature::{base64_decode, Base64Mode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Format {
    Csv,
    Json,
    Ndjson,
}

/// Where the value and context are in JSON objects.
#[derive(Clone, Debug, Default)]
pub(super) struct JsonKeys {
    pub context_key: Option<String>,
    /// Dotted path of the value in each object.
    pub value_key: Option<String>,
    /// Dotted path of the array in the document.
    pub array_key: Option<String>,
    /// The value is left out of the context.
    pub remove_key: bool,
}

/// Most bytes of a dataset file read: 256 MiB.
const MAX_FILE: u64 = 256 << 20;

/// Reads `path` into `set` unless it was read before and has not changed since.
pub(super) fn load_if_changed(
    set: &Dataset,
    path: &Path,
    format: Format,
    keys: &JsonKeys,
) -> Result<(), DatasetError> {
    let shown = path.display().to_string();
    let read =
        |e: std::io::Error| DatasetError::Read { path: shown.clone(), message: e.to_string() };
    let meta = std::fs::metadata(path).map_err(read)?;
    if meta.len() > MAX_FILE {
        return Err(DatasetError::TooLarge { path: shown, max: MAX_FILE });
    }
    let mtime = meta.modified().ok();
    let mut loaded = super::lock(&set.loaded);
    if loaded.as_ref().is_some_and(|(p, t)| p == path && *t == mtime && mtime.is_some()) {
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(read)?;
    load_text(set, &String::from_utf8_lossy(&bytes), format, keys)
        .map_err(|e| e.in_file(&shown))?;
    *loaded = Some((path.to_path_buf(), mtime));
    Ok(())
}

/// Reads a file's text into `set`.
pub(super) fn load_text(
    set: &Dataset,
    text: &str,
    format: Format,
    keys: &JsonKeys,
) -> Result<(), DatasetError> {
    match format {
        Format::Csv => load_csv(set, text),
        Format::Json => load_json(set, text, keys),
        Format::Ndjson => load_ndjson(set, text, keys),
    }
}

fn load_csv(set: &Dataset, text: &str) -> Result<(), DatasetError> {
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (value, rep) = match line.rsplit_once(',') {
            Some((v, r)) => {
                let r = r.trim();
                let rep = r.parse::<u16>().map_err(|_| {
                    DatasetError::content(format!("bad reputation `{r}`"))
                        .at(format!("line {}", i + 1))
                })?;
                (v.trim(), Some(rep))
            }
            None => (line, None),
        };
        let key = text_key(set.kind, value, true).map_err(|e| e.at(format!("line {}", i + 1)))?;
        set.insert(&key, Entry { rep, json: None });
    }
    Ok(())
}

fn load_json(set: &Dataset, text: &str, keys: &JsonKeys) -> Result<(), DatasetError> {
    let doc: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| DatasetError::content(format!("is not JSON: {e}")))?;
    let array = match &keys.array_key {
        Some(path) => {
            lookup(&doc, path).ok_or_else(|| DatasetError::content(format!("has no `{path}`")))?
        }
        None => &doc,
    };
    let items =
        array.as_array().ok_or_else(|| DatasetError::content("holds no array of objects"))?;
    for (i, item) in items.iter().enumerate() {
        add_object(set, item, keys).map_err(|e| e.at(format!("item {}", i + 1)))?;
    }
    Ok(())
}

fn load_ndjson(set: &Dataset, text: &str, keys: &JsonKeys) -> Result<(), DatasetError> {
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("line {}", i + 1);
        let item: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| DatasetError::content(format!("not JSON: {e}")).at(at()))?;
        add_object(set, &item, keys).map_err(|e| e.at(at()))?;
    }
    Ok(())
}

fn add_object(
    set: &Dataset,
    item: &serde_json::Value,
    keys: &JsonKeys,
) -> Result<(), DatasetError> {
    let vk = keys.value_key.as_deref().unwrap_or_default();
    let Some(value) = lookup(item, vk) else {
        // Objects without the value are skipped, as Suricata does.
        return Ok(());
    };
    let value = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return Err(DatasetError::content(format!("`{vk}` is not a string"))),
    };
    let key = text_key(set.kind, &value, false)?;
    let mut ctx = item.clone();
    if keys.remove_key {
        remove(&mut ctx, vk);
    }
    set.insert(&key, Entry { rep: None, json: Some(Arc::new(ctx)) });
    Ok(())
}

/// The value at a dotted path.
fn lookup<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn remove(v: &mut serde_json::Value, path: &str) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (p.split('.').try_fold(&mut *v, |v, k| v.get_mut(k)), l),
        None => (Some(v), path),
    };
    if let Some(serde_json::Value::Object(m)) = parent {
        m.remove(last);
    }
}

/// The key of a value written as text; `base64` for strings of `csv` files.
fn text_key(kind: DataType, value: &str, base64: bool) -> Result<Vec<u8>, DatasetError> {
    match kind {
        DataType::String if base64 => {
            let out = base64_decode(value.as_bytes(), Base64Mode::Strict, usize::MAX);
            if out.is_empty() && !value.is_empty() {
                return Err(DatasetError::content(format!("`{value}` is not base64")));
            }
            Ok(out)
        }
        DataType::String => Ok(value.as_bytes().to_vec()),
        DataType::Md5 => hex(value, 16),
        DataType::Sha1 => hex(value, 20),
        DataType::Sha256 => hex(value, 32),
        DataType::Ipv4 | DataType::Ip => {
            let ip: IpAddr = value
                .parse()
                .map_err(|_| DatasetError::content(format!("`{value}` is not an IP address")))?;
            let (b, n) = super::ip_bytes(&ip);
            match (kind, n) {
                (DataType::Ipv4, 16) => {
                    Err(DatasetError::content(format!("`{value}` is not an IPv4 address")))
                }
                _ => Ok(kind.key(&b[..n]).unwrap_or(&b[..n]).to_vec()),
            }
        }
    }
}

fn hex(s: &str, len: usize) -> Result<Vec<u8>, DatasetError> {
    let s = s.trim();
    crate::signature::content::hex_bytes(s)
        .filter(|b| b.len() == len)
        .ok_or_else(|| DatasetError::content(format!("`{s}` is not {} hex digits", len * 2)))
}

/// Writes `set` to `path` as a `csv` file, through a temporary file renamed into place.
pub(super) fn save(set: &Dataset, path: &Path) -> std::io::Result<()> {
    let mut lines: Vec<String> = super::read(&set.entries)
        .iter()
        .map(|(k, e)| {
            let v = value_text(set.kind, k);
            match e.rep {
                Some(r) => format!("{v},{r}"),
                None => v,
            }
        })
        .collect();
    lines.sort();
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        for l in &lines {
            writeln!(f, "{l}")?;
        }
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

fn value_text(kind: DataType, k: &[u8]) -> String {
    match kind {
        DataType::String => crate::signature::transform::base64_encode(k),
        DataType::Md5 | DataType::Sha1 | DataType::Sha256 => {
            k.iter().map(|b| format!("{b:02x}")).collect()
        }
        DataType::Ipv4 | DataType::Ip => match k.len() {
            4 => IpAddr::from([k[0], k[1], k[2], k[3]]).to_string(),
            _ => {
                let mut a = [0u8; 16];
                a.copy_from_slice(&k[..16.min(k.len())]);
                IpAddr::from(a).to_string()
            }
        },
    }
}
