//! Datasets: named sets of values a rule tests a buffer against (`dataset:isset,...`),
//! with a reputation (`datarep:...`) or a JSON context per value (`format json`), as
//! Suricata 8 defines them.
//!
//! A SOC keeps its lists of bad domains, hashes and addresses in such files and points
//! rules at them; `set` makes the sensor remember values it saw (new DNS names), and
//! `save`/`state` keep what it learned when it stops.
//!
//! Sets are named and global, as in Suricata: every rule that names `dns-seen` shares one
//! set, and a set outlives a rule reload (what `set` learned is not forgotten). A `load`
//! file is read again when it changed since it was read. Each set is bounded
//! ([`Dataset::max_entries`]); values refused beyond it are counted.

mod error;
mod files;
mod options;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use crate::signature::NumCmp;

pub use error::DatasetError;
pub use options::{parse_datarep, parse_dataset};

/// The type of a set's values and of the buffer bytes looked up in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataType {
    /// Any bytes (in `csv` files, base64).
    String,
    /// A 16-byte MD5 digest (`to_md5`; hex in files).
    Md5,
    /// A 20-byte SHA-1 digest (hex in files).
    Sha1,
    /// A 32-byte SHA-256 digest (hex in files).
    Sha256,
    /// 4 bytes (`ip.src` of an IPv4 packet).
    Ipv4,
    /// 16 bytes, or 4 for an IPv4 address (`type ip`).
    Ip,
}

impl DataType {
    /// The type a `type` option names (`string`, `md5`, `sha256`, `ipv4`, `ip`).
    pub fn parse(s: &str) -> Option<DataType> {
        Some(match s {
            "string" => DataType::String,
            "md5" => DataType::Md5,
            "sha1" => DataType::Sha1,
            "sha256" => DataType::Sha256,
            "ipv4" => DataType::Ipv4,
            "ip" | "ipv6" => DataType::Ip,
            _ => return None,
        })
    }

    /// The type's name, as in rules.
    pub fn name(self) -> &'static str {
        match self {
            DataType::String => "string",
            DataType::Md5 => "md5",
            DataType::Sha1 => "sha1",
            DataType::Sha256 => "sha256",
            DataType::Ipv4 => "ipv4",
            DataType::Ip => "ip",
        }
    }

    /// The key of buffer bytes in a set of this type; None when the bytes cannot be a
    /// value of it (a 5-byte "digest").
    fn key(self, data: &[u8]) -> Option<&[u8]> {
        let ok = match self {
            DataType::String => true,
            DataType::Md5 => data.len() == 16,
            DataType::Sha1 => data.len() == 20,
            DataType::Sha256 => data.len() == 32,
            DataType::Ipv4 => data.len() == 4,
            DataType::Ip => data.len() == 4 || data.len() == 16,
        };
        if !ok {
            return None;
        }
        // An IPv4-mapped IPv6 address is its IPv4 address.
        if self == DataType::Ip && data.len() == 16 && data[..12] == MAPPED_PREFIX {
            return Some(&data[12..]);
        }
        Some(data)
    }
}

const MAPPED_PREFIX: [u8; 12] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/// The bytes of an address as `ip.src`/`ip.dst` give them: 4 for IPv4, 16 for IPv6.
pub fn ip_bytes(ip: &IpAddr) -> ([u8; 16], usize) {
    let mut out = [0u8; 16];
    match ip {
        IpAddr::V4(v4) => {
            out[..4].copy_from_slice(&v4.octets());
            (out, 4)
        }
        IpAddr::V6(v6) => {
            out.copy_from_slice(&v6.octets());
            (out, 16)
        }
    }
}

/// What a set holds for one value.
#[derive(Clone, Debug, Default)]
struct Entry {
    rep: Option<u16>,
    json: Option<Arc<serde_json::Value>>,
}

/// One named set.
#[derive(Debug)]
pub struct Dataset {
    /// The set's name.
    pub name: String,
    /// The type of its values.
    pub kind: DataType,
    entries: RwLock<HashMap<Box<[u8]>, Entry>>,
    /// Most values held; `set` beyond it is refused (and counted).
    pub max_entries: usize,
    /// Values refused because the set was full.
    pub refused: AtomicU64,
    /// The file read into the set and its modification time when read.
    loaded: Mutex<Option<(PathBuf, Option<std::time::SystemTime>)>>,
    /// Where the set is written when the sensor stops (`save`, `state`).
    save: Mutex<Option<PathBuf>>,
}

/// Default bound of a set without `memcap`: a million values.
pub const DEFAULT_MAX_ENTRIES: usize = 1_000_000;

impl Dataset {
    fn new(name: &str, kind: DataType, max_entries: usize) -> Dataset {
        Dataset {
            name: name.to_string(),
            kind,
            entries: RwLock::new(HashMap::new()),
            max_entries,
            refused: AtomicU64::new(0),
            loaded: Mutex::new(None),
            save: Mutex::new(None),
        }
    }

    /// Values in the set.
    pub fn len(&self) -> usize {
        read(&self.entries).len()
    }

    /// No value in the set.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value is in the set.
    pub fn contains(&self, data: &[u8]) -> bool {
        self.kind.key(data).is_some_and(|k| read(&self.entries).contains_key(k))
    }

    /// Adds `data`; true when it was not there before.
    pub fn add(&self, data: &[u8]) -> bool {
        let Some(k) = self.kind.key(data) else { return false };
        self.insert(k, Entry::default())
    }

    /// Removes `data`; true when it was there.
    pub fn remove(&self, data: &[u8]) -> bool {
        let Some(k) = self.kind.key(data) else { return false };
        write(&self.entries).remove(k).is_some()
    }

    /// The reputation of `data`, if the set holds it with one.
    pub fn rep(&self, data: &[u8]) -> Option<u16> {
        let k = self.kind.key(data)?;
        read(&self.entries).get(k).and_then(|e| e.rep)
    }

    /// The JSON context of `data` (`format json`), if the set holds it with one.
    pub fn context(&self, data: &[u8]) -> Option<Arc<serde_json::Value>> {
        let k = self.kind.key(data)?;
        read(&self.entries).get(k).and_then(|e| e.json.clone())
    }

    /// Inserts a value unless present (the first definition of a value wins) or the set
    /// is full.
    fn insert(&self, key: &[u8], e: Entry) -> bool {
        let mut m = write(&self.entries);
        if m.contains_key(key) {
            return false;
        }
        if m.len() >= self.max_entries {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        m.insert(key.into(), e);
        true
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

fn lock<T>(l: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    l.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every set by name.
static REGISTRY: LazyLock<Mutex<HashMap<String, Arc<Dataset>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The set `name` of type `kind`, created when new. A name defined before with another
/// type is an error.
pub(crate) fn get_or_create(
    name: &str,
    kind: DataType,
    max_entries: usize,
) -> Result<Arc<Dataset>, DatasetError> {
    let mut reg = lock(&REGISTRY);
    if let Some(d) = reg.get(name) {
        if d.kind != kind {
            return Err(DatasetError::TypeClash {
                name: name.to_string(),
                had: d.kind.name(),
                wanted: kind.name(),
            });
        }
        return Ok(d.clone());
    }
    let d = Arc::new(Dataset::new(name, kind, max_entries));
    reg.insert(name.to_string(), d.clone());
    Ok(d)
}

/// Writes every set that has a `save` or `state` file; returns what could not be
/// written. Called when the sensor stops.
pub fn save_all() -> Vec<String> {
    let sets: Vec<Arc<Dataset>> = lock(&REGISTRY).values().cloned().collect();
    let mut errors = Vec::new();
    for d in sets {
        let path = lock(&d.save).clone();
        if let Some(p) = path {
            if let Err(e) = files::save(&d, &p) {
                errors.push(format!("dataset `{}`: cannot write `{}`: {e}", d.name, p.display()));
            }
        }
    }
    errors
}

/// The counters of every set: (name, values held, values refused when full).
pub fn counters() -> Vec<(String, usize, u64)> {
    let sets: Vec<Arc<Dataset>> = lock(&REGISTRY).values().cloned().collect();
    let mut out: Vec<_> =
        sets.iter().map(|d| (d.name.clone(), d.len(), d.refused.load(Ordering::Relaxed))).collect();
    out.sort();
    out
}

/// Reads the text of a dataset file into a fresh set that no rule sees: how many values
/// it holds, or what is wrong with it (line or item named). `format` is `csv`, `json` or
/// `ndjson`; JSON needs `value_key`.
pub fn check_file(
    kind: DataType,
    format: &str,
    value_key: Option<&str>,
    array_key: Option<&str>,
    text: &str,
) -> Result<usize, DatasetError> {
    let set = Dataset::new("check", kind, DEFAULT_MAX_ENTRIES);
    let keys = files::JsonKeys {
        value_key: value_key.map(str::to_string),
        array_key: array_key.map(str::to_string),
        ..Default::default()
    };
    let format = match format {
        "csv" => files::Format::Csv,
        "json" => files::Format::Json,
        "ndjson" => files::Format::Ndjson,
        f => return Err(DatasetError::Format(f.to_string())),
    };
    files::load_text(&set, text, format, &keys)?;
    Ok(set.len())
}

/// What a `dataset`/`datarep` keyword does with the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetCmd {
    /// `isset`: matches when the value is in the set.
    IsSet,
    /// `isnotset`: matches when it is not.
    IsNotSet,
    /// Adds the value; matches when it was new.
    Set,
    /// Removes the value; matches when it was there.
    Unset,
    /// `datarep`: the value's reputation compared with a number.
    Rep(NumCmp),
}

/// A `dataset` or `datarep` keyword of a rule.
#[derive(Debug)]
pub struct DatasetMatch {
    pub(crate) cmd: DatasetCmd,
    pub(crate) set: Arc<Dataset>,
    /// `context_key`: the alert's `context` holds the value's JSON under this key.
    pub context_key: Option<String>,
}

impl DatasetMatch {
    /// Tests (and for `set`/`unset`, changes) the set with the whole buffer.
    pub fn matches(&self, buf: &[u8]) -> bool {
        let s = &self.set;
        match self.cmd {
            DatasetCmd::IsSet => s.contains(buf),
            DatasetCmd::IsNotSet => s.kind.key(buf).is_some() && !s.contains(buf),
            DatasetCmd::Set => s.add(buf),
            DatasetCmd::Unset => s.remove(buf),
            DatasetCmd::Rep(cmp) => s.rep(buf).is_some_and(|r| cmp.matches(u64::from(r))),
        }
    }
}

#[cfg(test)]
mod tests;
