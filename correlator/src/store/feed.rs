//! The store's change feed. Consumers that act on new rows (the Elasticsearch sink,
//! the automated response) follow the store from a position they save in it, in the
//! same transaction as what they did, so that a restart goes on where they were:
//!
//! - alerts and protocol records in the order they were stored (their row id);
//! - incidents in the order they changed: every transaction that changes incidents
//!   takes the next `seq` (under SQLite's write lock, so in commit order) and writes it
//!   in `updated_seq`; a position is `(updated_seq, id)`.
//!
//! Positions live in `sink_state` as two integers per consumer, `NAME.0` and `NAME.1`.

use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{alert_from_row, AlertRow, ALERT_COLS};
use super::write::parse_list;

/// A position in the feed: `(updated_seq, id)` for incidents, `(id, 0)` for alerts and
/// records. Everything after it is yet to be read.
pub type Position = (i64, i64);

/// The position consumer `name` saved, if it ever saved one.
pub fn position(conn: &Connection, name: &str) -> rusqlite::Result<Option<Position>> {
    let get = |part: u8| -> rusqlite::Result<Option<i64>> {
        conn.query_row(
            "SELECT value FROM sink_state WHERE key = ?1",
            [format!("{name}.{part}")],
            |r| r.get(0),
        )
        .optional()
    };
    Ok(match (get(0)?, get(1)?) {
        (Some(a), Some(b)) => Some((a, b)),
        (Some(a), None) => Some((a, 0)),
        _ => None,
    })
}

/// Saves the position of consumer `name` (in the caller's transaction).
pub fn save_position(conn: &Connection, name: &str, at: Position) -> rusqlite::Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT INTO sink_state (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?;
    st.execute(params![format!("{name}.0"), at.0])?;
    st.execute(params![format!("{name}.1"), at.1])?;
    Ok(())
}

/// Saves `at` as the position of consumer `name` unless it has one already.
pub fn start_position(conn: &Connection, name: &str, at: Position) -> rusqlite::Result<()> {
    if position(conn, name)?.is_none() {
        save_position(conn, name, at)?;
    }
    Ok(())
}

/// The position just after the last change of incidents so far: a consumer that starts
/// there sees only what changes from now on.
pub fn incidents_now(conn: &Connection) -> rusqlite::Result<Position> {
    let seq: i64 =
        conn.query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq'", [], |r| {
            r.get(0)
        })?;
    Ok((seq, i64::MAX))
}

/// The store's random id (documents indexed elsewhere are named after it).
pub fn store_id(conn: &Connection) -> rusqlite::Result<String> {
    conn.query_row("SELECT value FROM meta WHERE key = 'store_id'", [], |r| r.get(0))
}

/// Incidents changed after `after`, in the order they changed: `(updated_seq, id)`.
pub fn incidents_changed(
    conn: &Connection,
    after: Position,
    limit: usize,
) -> rusqlite::Result<Vec<Position>> {
    let mut st = conn.prepare_cached(
        "SELECT updated_seq, id FROM incidents WHERE (updated_seq, id) > (?1, ?2)
         ORDER BY updated_seq, id LIMIT ?3",
    )?;
    let rows = st.query_map(params![after.0, after.1, limit as i64], |r| {
        Ok((r.get("updated_seq")?, r.get("id")?))
    })?;
    rows.collect()
}

/// An alert as the feed gives it: the stored alert, with what an index of it needs
/// besides.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedAlert {
    pub alert: AlertRow,
    pub ts_us: i64,
    pub last_us: i64,
    pub rev: u32,
    pub techniques: Vec<String>,
    /// The alert's EVE record.
    pub raw: String,
}

/// Alerts stored after row `after_id`, oldest first.
pub fn alerts_after(
    conn: &Connection,
    after_id: i64,
    limit: usize,
) -> rusqlite::Result<Vec<FeedAlert>> {
    let sql = format!(
        "SELECT {ALERT_COLS}, rev, techniques, raw FROM alerts WHERE id > ?1 ORDER BY id LIMIT ?2"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params![after_id, limit as i64], |r| {
        Ok(FeedAlert {
            alert: alert_from_row(r)?,
            ts_us: r.get("ts_us")?,
            last_us: r.get("last_us")?,
            rev: r.get("rev")?,
            techniques: parse_list(&r.get::<_, String>("techniques")?),
            raw: r.get("raw")?,
        })
    })?;
    rows.collect()
}

/// A protocol record (EVE record other than an alert) as the feed gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedRecord {
    pub id: i64,
    pub ts_us: i64,
    pub event_type: String,
    /// The EVE record (JSON).
    pub body: String,
}

/// Protocol records stored after row `after_id`, oldest first.
pub fn records_after(
    conn: &Connection,
    after_id: i64,
    limit: usize,
) -> rusqlite::Result<Vec<FeedRecord>> {
    let mut st = conn.prepare_cached(
        "SELECT id, ts_us, event_type, body FROM records WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = st.query_map(params![after_id, limit as i64], |r| {
        Ok(FeedRecord {
            id: r.get("id")?,
            ts_us: r.get("ts_us")?,
            event_type: r.get("event_type")?,
            body: r.get("body")?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::migrations::MIGRATIONS;
    use crate::store::Store;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("gw-feed-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("gw.db")
    }

    #[test]
    fn a_consumer_starts_once_and_goes_on_from_what_it_saved() {
        let path = scratch("positions");
        let s = Store::open(&path).expect("store");
        let c = s.conn();
        assert_eq!(position(c, "x").expect("read"), None);
        start_position(c, "x", (5, 7)).expect("start");
        start_position(c, "x", (0, 0)).expect("start again");
        assert_eq!(position(c, "x").expect("read"), Some((5, 7)));
        save_position(c, "x", (9, i64::MAX)).expect("save");
        assert_eq!(position(c, "x").expect("read"), Some((9, i64::MAX)));
        assert_eq!(position(c, "y").expect("read"), None);
        assert_eq!(incidents_now(c).expect("now"), (0, i64::MAX));
        assert_eq!(store_id(c).expect("id").len(), 16);
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[test]
    fn incidents_come_in_the_order_they_changed() {
        let path = scratch("order");
        let s = Store::open(&path).expect("store");
        let c = s.conn();
        for (id, seq) in [(1, 3), (2, 1), (3, 2), (4, 2)] {
            c.execute(
                "INSERT INTO incidents (id, title, gid, sid, signature, category, src_ip, dest_ip,
                     severity, score, alert_count, first_seen_us, last_seen_us, created_at,
                     updated_at, updated_seq)
                 VALUES (?1, 't', 1, 1, 's', 'c', 'a', 'b', 1, 1, 1, 0, 0, 'x', 'x', ?2)",
                params![id, seq],
            )
            .expect("insert");
        }
        let all = incidents_changed(c, (0, 0), 10).expect("read");
        assert_eq!(all, [(1, 2), (2, 3), (2, 4), (3, 1)]);
        assert_eq!(incidents_changed(c, (2, 3), 1).expect("read"), [(2, 4)]);
        assert!(incidents_changed(c, (3, 1), 10).expect("read").is_empty());
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }

    /// A store of version 8 kept the responder's position under its old names.
    #[test]
    fn the_responders_old_position_is_kept() {
        let path = scratch("migrate");
        drop(Store::open(&path).expect("store"));
        let c = Connection::open(&path).expect("open");
        c.execute_batch(
            "INSERT INTO sink_state (key, value) VALUES ('response.incidents', 41),
                 ('response.incidents.id', 12);
             PRAGMA user_version = 8;",
        )
        .expect("old keys");
        drop(c);
        let s = Store::open(&path).expect("reopen");
        assert_eq!(s.schema_version().expect("version"), MIGRATIONS.len() as i64);
        assert_eq!(position(s.conn(), "response.incidents").expect("read"), Some((41, 12)));
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }
}
