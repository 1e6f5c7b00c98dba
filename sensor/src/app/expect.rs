//! Connections a session announces before they open: the data channels of FTP
//! (PASV/EPSV replies, PORT/EPRT commands). The table is shared by all workers, since
//! the data connection's flow may hash to another worker than its control session.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::ftp::Transfer;

/// What a parser announces: a connection to `port` on the server of its session
/// (`on_server`) or on its client, carrying `transfer`.
#[derive(Clone, Debug)]
pub struct Expect {
    pub port: u16,
    pub on_server: bool,
    pub transfer: Transfer,
}

/// Announced connections not opened yet, by (address, port) of the side that accepts.
#[derive(Debug)]
pub struct Expectations {
    map: Mutex<HashMap<(IpAddr, u16), (Transfer, i64)>>,
    /// Entries in `map`: lets a new connection skip the lock when there are none.
    len: AtomicUsize,
    /// The earliest deadline in `map`: once passed, the expired entries are swept, so
    /// that the table empties (and new connections skip the lock) when nothing is
    /// waited for any more.
    earliest: AtomicI64,
}

impl Default for Expectations {
    fn default() -> Self {
        Expectations {
            map: Mutex::default(),
            len: AtomicUsize::new(0),
            earliest: AtomicI64::new(i64::MAX),
        }
    }
}

/// Announced connections kept at most; the oldest go first.
const MAX_ENTRIES: usize = 4096;
/// How long an announced connection is waited for.
pub const WAIT_US: i64 = 120_000_000;

impl Expectations {
    pub fn insert(&self, at: (IpAddr, u16), record: Transfer, now_us: i64) {
        let Ok(mut m) = self.map.lock() else { return };
        if m.len() >= MAX_ENTRIES {
            m.retain(|_, (_, deadline)| *deadline > now_us);
            if m.len() >= MAX_ENTRIES {
                if let Some(k) = m.iter().min_by_key(|(_, (_, d))| *d).map(|(k, _)| *k) {
                    m.remove(&k);
                }
            }
        }
        m.insert(at, (record, now_us + WAIT_US));
        self.earliest.fetch_min(now_us + WAIT_US, Ordering::Relaxed);
        self.len.store(m.len(), Ordering::Relaxed);
    }

    /// The transfer announced for a connection to `at`, if one is waited for.
    pub fn take(&self, at: (IpAddr, u16), now_us: i64) -> Option<Transfer> {
        if self.len.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut m = self.map.lock().ok()?;
        let found = m.remove(&at).filter(|(_, deadline)| *deadline >= now_us).map(|(r, _)| r);
        if now_us > self.earliest.load(Ordering::Relaxed) {
            m.retain(|_, (_, deadline)| *deadline >= now_us);
            let next = m.values().map(|(_, d)| *d).min().unwrap_or(i64::MAX);
            self.earliest.store(next, Ordering::Relaxed);
        }
        self.len.store(m.len(), Ordering::Relaxed);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taken_once_and_only_in_time() {
        let e = Expectations::default();
        let a: IpAddr = "192.0.2.21".parse().unwrap();
        let rec = Transfer::default();
        e.insert((a, 5001), rec.clone(), 0);
        assert!(e.take((a, 5002), 1).is_none());
        assert!(e.take((a, 5001), 1).is_some_and(|t| std::sync::Arc::ptr_eq(&t, &rec)));
        assert!(e.take((a, 5001), 1).is_none());
        e.insert((a, 5001), rec, 0);
        assert!(e.take((a, 5001), WAIT_US + 1).is_none());
        for p in 0..(MAX_ENTRIES as u16 + 10) {
            e.insert((a, p), Transfer::default(), p as i64);
        }
        assert_eq!(e.map.lock().unwrap().len(), MAX_ENTRIES);
    }

    #[test]
    fn the_table_empties_once_everything_expired() {
        let e = Expectations::default();
        let a: IpAddr = "192.0.2.21".parse().unwrap();
        e.insert((a, 5001), Transfer::default(), 0);
        e.insert((a, 5002), Transfer::default(), 10);
        assert!(e.take((a, 9), 5).is_none());
        assert_eq!(e.len.load(Ordering::Relaxed), 2, "nothing expired yet");
        assert!(e.take((a, 9), WAIT_US + 5).is_none());
        assert_eq!(e.len.load(Ordering::Relaxed), 1, "the first expired");
        assert!(e.take((a, 5002), WAIT_US + 10).is_some(), "the second still in time");
        assert_eq!(e.len.load(Ordering::Relaxed), 0, "new connections skip the lock again");
    }
}
