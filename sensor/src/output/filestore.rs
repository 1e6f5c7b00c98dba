//! Extracted files written to a folder by sha256 (`ab/abcdef…`), each once, within a
//! byte budget. A file already there is not written again; a full store or a write error
//! is counted and the file's `fileinfo.stored` stays false.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileStoreStats {
    pub stored: u64,
    pub bytes: u64,
    /// Already in the store (same sha256).
    pub duplicates: u64,
    /// Not stored: the budget was spent.
    pub over_budget: u64,
    /// Not stored: incomplete, beyond the body limit or content-encoded.
    pub not_whole: u64,
    pub write_errors: u64,
}

#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    max_bytes: u64,
    pub stats: FileStoreStats,
}

impl FileStore {
    pub fn new(dir: PathBuf, max_bytes: u64) -> Self {
        FileStore { dir, max_bytes, stats: FileStoreStats::default() }
    }

    /// Stores `content` named by `sha256` (lower-case hex); true when it is in the store.
    pub fn store(&mut self, sha256: &str, content: Option<&[u8]>) -> bool {
        let Some(content) = content else {
            self.stats.not_whole += 1;
            return false;
        };
        if sha256.len() != 64 || !sha256.bytes().all(|c| c.is_ascii_hexdigit()) {
            self.stats.write_errors += 1;
            return false;
        }
        let sub = self.dir.join(&sha256[..2]);
        let path = sub.join(sha256);
        if path.exists() {
            self.stats.duplicates += 1;
            return true;
        }
        if self.stats.bytes + content.len() as u64 > self.max_bytes {
            self.stats.over_budget += 1;
            return false;
        }
        // Written beside, then renamed: a reader never sees half a file.
        let tmp = sub.join(format!(".{sha256}.part"));
        let res = std::fs::create_dir_all(&sub)
            .and_then(|_| std::fs::File::create(&tmp))
            .and_then(|mut f| f.write_all(content))
            .and_then(|_| std::fs::rename(&tmp, &path));
        match res {
            Ok(()) => {
                self.stats.stored += 1;
                self.stats.bytes += content.len() as u64;
                true
            }
            Err(_) => {
                let _ = std::fs::remove_file(&tmp);
                self.stats.write_errors += 1;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_once_within_the_budget() {
        let dir = std::env::temp_dir().join(format!("gw-filestore-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut fs = FileStore::new(dir.clone(), 10);
        let a = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert!(fs.store(a, Some(b"hello")));
        assert_eq!(std::fs::read(dir.join("2c").join(a)).unwrap(), b"hello");
        assert!(fs.store(a, Some(b"hello")));
        assert_eq!(fs.stats.duplicates, 1);
        let b = "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";
        assert!(!fs.store(b, Some(b"world!")));
        assert_eq!(fs.stats.over_budget, 1);
        assert!(!fs.store(b, None));
        assert!(!fs.store("../../etc/passwd", Some(b"x")));
        assert_eq!(fs.stats.write_errors, 1);
        assert_eq!(fs.stats.stored, 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
