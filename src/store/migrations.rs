//! Schema migrations, versioned in code. SQLite counts them in `PRAGMA user_version`,
//! PostgreSQL in `vz_schema.version`; both reach the same schema at the same version.
//! Versions 1–3 exist only on SQLite (stores made before PostgreSQL was supported); a new
//! PostgreSQL store starts at version 4 in one step. Later versions append to both lists.

/// The schema version this build writes.
pub const VERSION: i64 = 6;

/// PostgreSQL: (version, SQL). The first entry creates the whole version-4 schema.
pub const POSTGRES: &[(i64, &str)] = &[
    (4, include_str!("postgres_v4.sql")),
    (5, include_str!("postgres_v5_live.sql")),
    (6, include_str!("postgres_v6_lookback.sql")),
];

/// SQLite: each entry upgrades the schema by one version; never edit a shipped one, append.
pub const SQLITE: &[&str] = &[
    // 1: the gate's own records (below). 2: notifications (v2_notify.sql). 3: audit (v3_audit.sql).
    // 1: the gate's own records.
    r#"
    CREATE TABLE baselines (
        id          INTEGER PRIMARY KEY,
        deployment  TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        source      TEXT NOT NULL,
        config_digest TEXT NOT NULL,
        body        TEXT NOT NULL            -- JSON: {series: [values]}
    );
    CREATE INDEX baselines_by_deployment ON baselines(deployment, created_at);
    CREATE TABLE runs (
        id          TEXT PRIMARY KEY,
        deployment  TEXT NOT NULL,
        kind        TEXT NOT NULL,           -- watch | manual_rollback
        started_at  INTEGER NOT NULL,
        ended_at    INTEGER,
        status      TEXT NOT NULL,           -- running | finished | interrupted
        verdict     TEXT,
        reason      TEXT,
        exit_code   INTEGER,
        dry_run     INTEGER NOT NULL DEFAULT 0,
        config_digest TEXT NOT NULL,
        summary     TEXT                     -- JSON summary as printed by --output json
    );
    CREATE INDEX runs_by_deployment ON runs(deployment, started_at);
    CREATE TABLE samples (
        run_id  TEXT NOT NULL REFERENCES runs(id),
        ts      INTEGER NOT NULL,
        series  TEXT NOT NULL,
        value   REAL,
        status  TEXT NOT NULL,
        detail  TEXT
    );
    CREATE INDEX samples_by_run ON samples(run_id, ts);
    CREATE TABLE anomalies (
        run_id      TEXT NOT NULL REFERENCES runs(id),
        rule        TEXT NOT NULL,
        series      TEXT NOT NULL,
        kind        TEXT NOT NULL,
        severity    TEXT NOT NULL,
        fired_at    INTEGER NOT NULL,
        resolved_at INTEGER,
        body        TEXT NOT NULL            -- JSON Anomaly
    );
    CREATE TABLE decisions (
        run_id   TEXT NOT NULL REFERENCES runs(id),
        ts       INTEGER NOT NULL,
        verdict  TEXT NOT NULL,
        reason   TEXT NOT NULL
    );
    CREATE TABLE rollbacks (
        run_id      TEXT NOT NULL REFERENCES runs(id),
        trigger     TEXT NOT NULL,           -- auto | manual
        started_at  INTEGER NOT NULL,
        ended_at    INTEGER NOT NULL,
        attempts    INTEGER NOT NULL,
        argv        TEXT NOT NULL,
        exit_status INTEGER,
        ok          INTEGER NOT NULL,
        stdout      TEXT NOT NULL,
        stderr      TEXT NOT NULL,
        reason      TEXT NOT NULL
    );
    "#,
    include_str!("sqlite_v2_notify.sql"),
    include_str!("sqlite_v3_audit.sql"),
    include_str!("sqlite_v4_keys.sql"),
    include_str!("sqlite_v5_live.sql"),
    include_str!("sqlite_v6_lookback.sql"),
];
