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
    // 3: incidents by entity with their meaning (ATT&CK, RSIT), score inputs and
    // lifecycle; alerts deduplicated (repeat counts) and possibly suppressed (then in no
    // incident); the rules and hosts of each incident; suppressions, notes, the
    // append-only audit log, and the read positions of tailed EVE files.
    r#"
    ALTER TABLE incidents ADD COLUMN entity TEXT NOT NULL DEFAULT '';
    ALTER TABLE incidents ADD COLUMN entity_zone TEXT NOT NULL DEFAULT 'external';
    ALTER TABLE incidents ADD COLUMN agency_name TEXT;
    ALTER TABLE incidents ADD COLUMN system TEXT;
    ALTER TABLE incidents ADD COLUMN security_level INTEGER;
    ALTER TABLE incidents ADD COLUMN criticality TEXT;
    ALTER TABLE incidents ADD COLUMN rsit TEXT NOT NULL DEFAULT 'other';
    ALTER TABLE incidents ADD COLUMN tactics TEXT NOT NULL DEFAULT '';
    ALTER TABLE incidents ADD COLUMN techniques TEXT NOT NULL DEFAULT '';
    ALTER TABLE incidents ADD COLUMN rule_count INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE incidents ADD COLUMN succeeded INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE incidents ADD COLUMN correlations TEXT NOT NULL DEFAULT '';
    ALTER TABLE incidents ADD COLUMN assignee TEXT;
    ALTER TABLE incidents ADD COLUMN created_us INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE incidents ADD COLUMN acknowledged_us INTEGER;
    ALTER TABLE incidents ADD COLUMN resolved_us INTEGER;
    ALTER TABLE incidents ADD COLUMN merged_into INTEGER REFERENCES incidents (id);
    ALTER TABLE incidents ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    UPDATE incidents SET entity = dest_ip, created_us = first_seen_us;
    DROP INDEX incidents_grouping;
    CREATE INDEX incidents_entity ON incidents (entity, last_seen_us);
    CREATE INDEX incidents_queue ON incidents (status, last_seen_us);
    CREATE INDEX incidents_agency ON incidents (agency, last_seen_us);
    CREATE INDEX incidents_score ON incidents (score, last_seen_us);

    CREATE TABLE suppressions (
        id          INTEGER PRIMARY KEY,
        gid         INTEGER,            -- NULL: any
        sid         INTEGER,
        src         TEXT,               -- CIDR or address; NULL: any
        dest        TEXT,
        reason      TEXT    NOT NULL,
        created_by  TEXT    NOT NULL,
        created_us  INTEGER NOT NULL,
        expires_us  INTEGER,            -- NULL: until removed
        removed_us  INTEGER,
        removed_by  TEXT,
        hits        INTEGER NOT NULL DEFAULT 0,
        last_hit_us INTEGER
    );

    CREATE TABLE alerts_v3 (
        id            INTEGER PRIMARY KEY,
        ts_us         INTEGER NOT NULL,   -- first occurrence
        last_us       INTEGER NOT NULL,   -- last repeat
        count         INTEGER NOT NULL DEFAULT 1,
        dedup_key     INTEGER NOT NULL,   -- hash of rule, endpoints, flow, sensor
        timestamp     TEXT    NOT NULL,
        sensor        TEXT,
        flow_id       INTEGER,
        gid           INTEGER NOT NULL,
        sid           INTEGER NOT NULL,
        rev           INTEGER NOT NULL,
        signature     TEXT    NOT NULL,
        category      TEXT    NOT NULL,
        severity      INTEGER NOT NULL,
        src_ip        TEXT    NOT NULL,
        src_port      INTEGER,
        dest_ip       TEXT    NOT NULL,
        dest_port     INTEGER,
        proto         TEXT    NOT NULL,
        tactics       TEXT    NOT NULL DEFAULT '',
        techniques    TEXT    NOT NULL DEFAULT '',
        rsit          TEXT    NOT NULL DEFAULT 'other',
        succeeded     INTEGER NOT NULL DEFAULT 0,
        incident_id   INTEGER REFERENCES incidents (id),
        suppressed_by INTEGER REFERENCES suppressions (id),
        raw           TEXT    NOT NULL
    );
    INSERT INTO alerts_v3 (id, ts_us, last_us, count, dedup_key, timestamp, sensor, flow_id, gid, sid, rev,
                           signature, category, severity, src_ip, src_port, dest_ip, dest_port, proto,
                           incident_id, raw)
        SELECT id, ts_us, ts_us, 1, -id, timestamp, sensor, flow_id, gid, sid, rev, signature, category,
               severity, src_ip, src_port, dest_ip, dest_port, proto, incident_id, raw FROM alerts;
    DROP TABLE alerts;
    ALTER TABLE alerts_v3 RENAME TO alerts;
    CREATE INDEX alerts_incident ON alerts (incident_id, ts_us);
    CREATE INDEX alerts_ts ON alerts (ts_us);
    CREATE INDEX alerts_dedup ON alerts (incident_id, dedup_key);
    CREATE INDEX alerts_src ON alerts (src_ip, ts_us);
    CREATE INDEX alerts_dest ON alerts (dest_ip, ts_us);
    CREATE INDEX alerts_sid ON alerts (sid, ts_us);
    CREATE INDEX alerts_suppressed ON alerts (suppressed_by) WHERE suppressed_by IS NOT NULL;

    CREATE TABLE incident_rules (
        incident_id INTEGER NOT NULL REFERENCES incidents (id),
        gid         INTEGER NOT NULL,
        sid         INTEGER NOT NULL,
        signature   TEXT    NOT NULL,
        severity    INTEGER NOT NULL,
        alerts      INTEGER NOT NULL,
        first_us    INTEGER NOT NULL,
        last_us     INTEGER NOT NULL,
        PRIMARY KEY (incident_id, gid, sid)
    ) WITHOUT ROWID;
    INSERT INTO incident_rules
        SELECT incident_id, gid, sid, max(signature), min(severity), count(*), min(ts_us), max(ts_us)
        FROM alerts WHERE incident_id IS NOT NULL GROUP BY incident_id, gid, sid;

    CREATE TABLE incident_hosts (
        incident_id INTEGER NOT NULL REFERENCES incidents (id),
        ip          TEXT    NOT NULL,
        role        TEXT    NOT NULL,   -- entity, source, target
        zone        TEXT    NOT NULL,   -- asset, unknown_internal, external
        agency      TEXT,
        PRIMARY KEY (incident_id, ip)
    ) WITHOUT ROWID;
    CREATE INDEX incident_hosts_ip ON incident_hosts (ip);
    CREATE INDEX incident_hosts_agency ON incident_hosts (agency) WHERE agency IS NOT NULL;

    CREATE TABLE incident_notes (
        id          INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents (id),
        at_us       INTEGER NOT NULL,
        author      TEXT    NOT NULL,
        text        TEXT    NOT NULL
    );
    CREATE INDEX incident_notes_incident ON incident_notes (incident_id, at_us);

    -- Append-only: the triggers refuse changes and deletions.
    CREATE TABLE audit_log (
        id          INTEGER PRIMARY KEY,
        at_us       INTEGER NOT NULL,
        actor       TEXT    NOT NULL,   -- a user, or `gatewatch` for the engine
        action      TEXT    NOT NULL,
        incident_id INTEGER,
        object      TEXT,               -- what else it is about (`suppression:3`)
        detail      TEXT    NOT NULL    -- JSON
    );
    CREATE INDEX audit_incident ON audit_log (incident_id, at_us) WHERE incident_id IS NOT NULL;
    CREATE INDEX audit_at ON audit_log (at_us);
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

    CREATE TABLE input_positions (
        source     TEXT    PRIMARY KEY,  -- the tailed file's path
        dev        INTEGER NOT NULL,
        ino        INTEGER NOT NULL,
        offset     INTEGER NOT NULL,     -- bytes of whole lines consumed
        updated_us INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 4: protocol records (the evidence behind alerts, and what Elasticsearch gets),
    // the store's identity and the Elasticsearch sink's watermarks.
    r#"
    CREATE TABLE records (
        id          INTEGER PRIMARY KEY,
        ts_us       INTEGER NOT NULL,
        event_type  TEXT    NOT NULL,   -- dns, http, tls, fileinfo, flow, ...
        sensor      TEXT,
        flow_id     INTEGER,
        src_ip      TEXT,
        dest_ip     TEXT,
        body        TEXT    NOT NULL    -- the EVE record
    );
    CREATE INDEX records_ts ON records (ts_us);
    CREATE INDEX records_flow ON records (flow_id) WHERE flow_id IS NOT NULL;

    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO meta (key, value) VALUES ('store_id', lower(hex(randomblob(8))));
    -- Bumped by every transaction that changes incidents (inside it, under SQLite's
    -- write lock): `incidents.updated_seq` orders changes in commit order.
    INSERT INTO meta (key, value) VALUES ('seq', '0');

    CREATE TABLE sink_state (
        key   TEXT PRIMARY KEY,           -- `elasticsearch.alerts`, ...
        value INTEGER NOT NULL
    ) WITHOUT ROWID;

    ALTER TABLE incidents ADD COLUMN updated_seq INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX incidents_updated ON incidents (updated_seq);
    "#,
    // 5: the analyst console's accounts: users (argon2 hashes), browser sessions and API
    // tokens (only hashes of their secrets are stored), saved views of the queue.
    r#"
    CREATE TABLE users (
        id            INTEGER PRIMARY KEY,
        name          TEXT    NOT NULL UNIQUE,
        display_name  TEXT    NOT NULL,
        role          TEXT    NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
        password_hash TEXT    NOT NULL,   -- argon2id, PHC string
        disabled      INTEGER NOT NULL DEFAULT 0,
        created_us    INTEGER NOT NULL,
        password_us   INTEGER NOT NULL    -- when the password was last set
    );

    CREATE TABLE sessions (
        token_hash   BLOB    PRIMARY KEY,  -- SHA-256 of the cookie's secret
        user_id      INTEGER NOT NULL REFERENCES users (id),
        csrf         TEXT    NOT NULL,
        created_us   INTEGER NOT NULL,
        last_seen_us INTEGER NOT NULL,
        expires_us   INTEGER NOT NULL,
        address      TEXT    NOT NULL,
        user_agent   TEXT    NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sessions_user ON sessions (user_id);

    CREATE TABLE api_tokens (
        id           INTEGER PRIMARY KEY,
        name         TEXT    NOT NULL,
        user_id      INTEGER NOT NULL REFERENCES users (id),
        role         TEXT    NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
        token_hash   BLOB    NOT NULL UNIQUE,
        created_us   INTEGER NOT NULL,
        expires_us   INTEGER,
        last_used_us INTEGER,
        revoked_us   INTEGER
    );

    CREATE TABLE saved_views (
        id       INTEGER PRIMARY KEY,
        user_id  INTEGER NOT NULL REFERENCES users (id),
        name     TEXT    NOT NULL,
        query    TEXT    NOT NULL,       -- the queue's filter, as a URL query string
        UNIQUE (user_id, name)
    );

    -- The sensors that sent alerts, kept by a trigger (the console lists them without
    -- scanning millions of alerts).
    CREATE TABLE sensors_seen (
        sensor  TEXT    PRIMARY KEY,
        last_us INTEGER NOT NULL,
        alerts  INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO sensors_seen
        SELECT sensor, max(ts_us), count(*) FROM alerts WHERE sensor IS NOT NULL GROUP BY sensor;
    CREATE TRIGGER alerts_sensor_seen AFTER INSERT ON alerts WHEN NEW.sensor IS NOT NULL
    BEGIN
        INSERT INTO sensors_seen (sensor, last_us, alerts) VALUES (NEW.sensor, NEW.ts_us, 1)
        ON CONFLICT (sensor) DO UPDATE SET last_us = max(last_us, excluded.last_us), alerts = alerts + 1;
    END;
    "#,
    // 6: covering indices of the console's overview, which aggregates every incident of
    // a period (reading the incidents table itself took 3 s warm and 20 s cold at 1.5
    // million incidents).
    r#"
    CREATE INDEX incidents_overview ON incidents (first_seen_us, score, status, agency, last_seen_us)
        WHERE merged_into IS NULL;
    CREATE INDEX incident_rules_recent ON incident_rules (last_us, gid, sid, alerts);
    "#,
    // 7: automated blocking: one row per decision of a response policy (its state moves
    // as it is approved, executed, expired or undone); every step is also a record of
    // the append-only audit log (`object` = `block:ID`), found through a new index.
    r#"
    CREATE TABLE blocks (
        id              INTEGER PRIMARY KEY,
        created_us      INTEGER NOT NULL,
        incident_id     INTEGER REFERENCES incidents (id),
        policy          TEXT    NOT NULL,
        action          TEXT    NOT NULL,   -- the configured action's name
        action_kind     TEXT    NOT NULL,   -- nft | webhook | program
        target_kind     TEXT    NOT NULL,   -- source | destination | domain | host
        target          TEXT    NOT NULL,   -- an address or a domain name
        mode            TEXT    NOT NULL,   -- enforce | approve | dry-run
        state           TEXT    NOT NULL,
        reason          TEXT    NOT NULL,
        allowlist       TEXT,               -- `list: entry` that stopped it
        ttl_secs        INTEGER NOT NULL,
        repeat          INTEGER NOT NULL,   -- earlier blocks of the same target
        auto_started_us INTEGER,            -- started without an analyst (rate limits)
        executed_us     INTEGER,
        expires_us      INTEGER,
        ended_us        INTEGER,
        decided_by      TEXT,               -- who approved, denied or undid it
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_try_us     INTEGER,
        last_error      TEXT,
        lease_owner     TEXT,               -- the process working on it, until
        lease_until     INTEGER
    );
    CREATE INDEX blocks_target ON blocks (target, created_us);
    CREATE INDEX blocks_state ON blocks (state, expires_us);
    CREATE INDEX blocks_incident ON blocks (incident_id, created_us);
    CREATE INDEX blocks_auto ON blocks (auto_started_us, policy) WHERE auto_started_us IS NOT NULL;
    CREATE INDEX audit_object ON audit_log (object, at_us) WHERE object IS NOT NULL;
    "#,
    // 8: the monthly report reads sensors' heartbeats (`stats` records, kept as long as
    // alerts) by time, without walking the other protocol records.
    r#"
    CREATE INDEX records_stats ON records (sensor, ts_us) WHERE event_type = 'stats';
    "#,
    // 9: every consumer of the change feed keeps its position as `NAME.0` and `NAME.1`
    // (the responder used two names of its own).
    r#"
    UPDATE sink_state SET key = 'response.incidents.0' WHERE key = 'response.incidents';
    UPDATE sink_state SET key = 'response.incidents.1' WHERE key = 'response.incidents.id';
    "#,
    // 10: what analysts search for and pivot on — domains, URLs, file names and hashes,
    // mail addresses, user names, addresses in DNS answers (an incident's own addresses
    // are its hosts) — per incident, from its alerts and the protocol records of their
    // flows (`flow_incidents` ties a record that arrives later to the incidents of its
    // flow); the queue's orders, each walked along an index.
    r#"
    CREATE TABLE IF NOT EXISTS incident_observables (
        value       TEXT    NOT NULL,   -- lower case
        incident_id INTEGER NOT NULL,
        kind        TEXT    NOT NULL,   -- ip, domain, url, file, hash, email, user
        PRIMARY KEY (value, incident_id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS incident_observables_incident ON incident_observables (incident_id);
    CREATE TABLE IF NOT EXISTS flow_incidents (
        flow_id     INTEGER NOT NULL,
        incident_id INTEGER NOT NULL,
        PRIMARY KEY (flow_id, incident_id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS flow_incidents_incident ON flow_incidents (incident_id);
    CREATE INDEX IF NOT EXISTS incidents_priority ON incidents (score DESC, first_seen_us, id);
    CREATE INDEX IF NOT EXISTS incidents_title ON incidents (title COLLATE NOCASE, id DESC);
    CREATE INDEX IF NOT EXISTS incidents_status_order ON incidents (
        CASE status WHEN 'new' THEN 0 WHEN 'acknowledged' THEN 1 WHEN 'in_progress' THEN 2
                    WHEN 'resolved' THEN 3 ELSE 4 END, score DESC, first_seen_us, id);
    CREATE INDEX IF NOT EXISTS incidents_agency_order ON incidents (
        agency IS NULL, agency, score DESC, first_seen_us, id);
    CREATE INDEX IF NOT EXISTS incidents_assignee_order ON incidents (
        assignee IS NULL, assignee COLLATE NOCASE, score DESC, first_seen_us, id);
    INSERT OR IGNORE INTO flow_incidents (flow_id, incident_id)
        SELECT DISTINCT flow_id, incident_id FROM alerts
         WHERE flow_id IS NOT NULL AND incident_id IS NOT NULL;
    "#,
    // 11: the recommendations (Kiến nghị, đề xuất) the SOC lead writes into a month's
    // report before issuing it, per scope ('' province-wide, or an agency id).
    r#"
    CREATE TABLE IF NOT EXISTS report_recommendations (
        month      TEXT    NOT NULL,   -- 2026-10
        scope      TEXT    NOT NULL,   -- '' or an agency id
        text       TEXT    NOT NULL,   -- Vietnamese
        text_en    TEXT    NOT NULL DEFAULT '',
        updated_by TEXT    NOT NULL,
        updated_us INTEGER NOT NULL,
        PRIMARY KEY (month, scope)
    ) WITHOUT ROWID;
    "#,
];
