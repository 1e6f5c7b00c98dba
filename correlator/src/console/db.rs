//! The console's connections to the store: a pool of read-only connections for the
//! queries (several requests at once; SQLite's WAL lets them read while the ingest
//! thread writes) and one write connection for analysts' changes. Every call runs on
//! Tokio's blocking threads.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::store::{Store, StoreError};

/// Read connections kept open between requests.
const POOL: usize = 8;

#[derive(Clone)]
pub struct Db {
    path: PathBuf,
    readers: Arc<Mutex<Vec<Store>>>,
    writer: Arc<Mutex<Store>>,
}

impl Db {
    /// Opens the store (bringing its schema up to date) for writing; readers open on demand.
    pub fn open(path: PathBuf) -> Result<Db, StoreError> {
        let writer = Store::open(&path)?;
        Ok(Db { path, readers: Arc::default(), writer: Arc::new(Mutex::new(writer)) })
    }

    /// Runs `f` on a read connection.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.clone();
        run_blocking(move || {
            let taken = db.readers.lock().ok().and_then(|mut p| p.pop());
            let store = match taken {
                Some(s) => s,
                None => Store::open_reader(&db.path)?,
            };
            let out = f(&store);
            if let Ok(mut p) = db.readers.lock() {
                if p.len() < POOL {
                    p.push(store);
                }
            }
            out
        })
        .await
    }

    /// Runs `f` on the write connection (one change at a time).
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let writer = self.writer.clone();
        run_blocking(move || {
            let mut s = writer
                .lock()
                .map_err(|_| StoreError::Refused("the console's store connection failed".into()))?;
            f(&mut s)
        })
        .await
    }
}

async fn run_blocking<T, F>(f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Refused(format!("a store task failed: {e}")))?
}
