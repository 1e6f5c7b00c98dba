//! Schema migrations, applied in order; `PRAGMA user_version` records the last one.

/// Migration `i` brings the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: alerts and incidents.
    r#"
    CREATE TABLE incidents (
        id            INTEGER PRIMARY KEY,
        title         TEXT    NOT NULL,
        gid           INTEGER NOT NULL,
        sid           INTEGER NOT NULL,
        signature     TEXT    NOT NULL,
        category      TEXT    NOT NULL,
        src_ip        TEXT    NOT NULL,
        dest_ip       TEXT    NOT NULL,
        severity      INTEGER NOT NULL,  -- EVE severity: 1 is the highest
        score         INTEGER NOT NULL,  -- 0..100
        status        TEXT    NOT NULL DEFAULT 'new',
        agency        TEXT,
        alert_count   INTEGER NOT NULL,
        first_seen_us INTEGER NOT NULL,
        last_seen_us  INTEGER NOT NULL,
        created_at    TEXT    NOT NULL,
        updated_at    TEXT    NOT NULL
    );
    CREATE INDEX incidents_grouping ON incidents (gid, sid, src_ip, dest_ip, last_seen_us);
    CREATE INDEX incidents_last_seen ON incidents (last_seen_us);

    CREATE TABLE alerts (
        id          INTEGER PRIMARY KEY,
        ts_us       INTEGER NOT NULL,
        timestamp   TEXT    NOT NULL,
        sensor      TEXT,
        flow_id     INTEGER,
        gid         INTEGER NOT NULL,
        sid         INTEGER NOT NULL,
        rev         INTEGER NOT NULL,
        signature   TEXT    NOT NULL,
        category    TEXT    NOT NULL,
        severity    INTEGER NOT NULL,
        src_ip      TEXT    NOT NULL,
        src_port    INTEGER,
        dest_ip     TEXT    NOT NULL,
        dest_port   INTEGER,
        proto       TEXT    NOT NULL,
        incident_id INTEGER NOT NULL REFERENCES incidents (id),
        raw         TEXT    NOT NULL
    );
    CREATE INDEX alerts_incident ON alerts (incident_id, ts_us);
    CREATE INDEX alerts_ts ON alerts (ts_us);
    "#,
    // 2: findings shipped by sensors, by id, so that a re-sent batch is stored once.
    r#"
    CREATE TABLE findings_seen (
        id          TEXT    PRIMARY KEY,  -- SENSOR_CERT_NAME/RECORD_ID
        received_us INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
];
