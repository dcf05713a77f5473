-- The whole schema at version 4 (the same tables, columns and indexes as SQLite after
-- sqlite_v4_keys.sql; booleans are 0/1 integers on both so the SQL is shared).
CREATE TABLE baselines (
    id            BIGSERIAL PRIMARY KEY,
    deployment    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    source        TEXT NOT NULL,
    config_digest TEXT NOT NULL,
    body          TEXT NOT NULL
);
CREATE INDEX baselines_by_deployment ON baselines(deployment, created_at);
CREATE TABLE runs (
    key           BIGSERIAL PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    deployment    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    ended_at      BIGINT,
    status        TEXT NOT NULL,
    verdict       TEXT,
    reason        TEXT,
    exit_code     BIGINT,
    dry_run       BIGINT NOT NULL DEFAULT 0,
    config_digest TEXT NOT NULL,
    summary       TEXT,
    lease_ms      BIGINT NOT NULL DEFAULT 10000,
    lease_until   BIGINT
);
CREATE INDEX runs_by_deployment ON runs(deployment, started_at, key);
CREATE INDEX runs_by_start ON runs(started_at, key);
CREATE TABLE series (
    id    BIGSERIAL PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
);
CREATE TABLE samples (
    run_key    BIGINT NOT NULL REFERENCES runs(key),
    ts         BIGINT NOT NULL,
    series_id  BIGINT NOT NULL,
    value      DOUBLE PRECISION,
    status     SMALLINT NOT NULL DEFAULT 0,
    detail     TEXT,
    PRIMARY KEY (run_key, ts, series_id)
);
CREATE TABLE anomalies (
    id          BIGSERIAL PRIMARY KEY,
    run_key     BIGINT NOT NULL REFERENCES runs(key),
    rule        TEXT NOT NULL,
    series      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    fired_at    BIGINT NOT NULL,
    resolved_at BIGINT,
    body        TEXT NOT NULL
);
CREATE INDEX anomalies_by_run ON anomalies(run_key, rule, series, fired_at);
CREATE TABLE decisions (
    id       BIGSERIAL PRIMARY KEY,
    run_key  BIGINT NOT NULL REFERENCES runs(key),
    ts       BIGINT NOT NULL,
    verdict  TEXT NOT NULL,
    reason   TEXT NOT NULL
);
CREATE INDEX decisions_by_run ON decisions(run_key);
CREATE TABLE rollbacks (
    id          BIGSERIAL PRIMARY KEY,
    run_key     BIGINT NOT NULL REFERENCES runs(key),
    trigger     TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    ended_at    BIGINT NOT NULL,
    attempts    BIGINT NOT NULL,
    argv        TEXT NOT NULL,
    exit_status BIGINT,
    ok          BIGINT NOT NULL,
    stdout      TEXT NOT NULL,
    stderr      TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX rollbacks_by_run ON rollbacks(run_key, ok);
CREATE TABLE rollback_claims (
    deployment  TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    claimed_at  BIGINT NOT NULL
);
CREATE TABLE notify_alerts (
    deployment   TEXT NOT NULL,
    rule         TEXT NOT NULL,
    series       TEXT NOT NULL,
    dedup_key    TEXT NOT NULL,
    firing       BIGINT NOT NULL,
    notified     BIGINT NOT NULL,
    fired_at     BIGINT NOT NULL,
    last_sent_at BIGINT,
    stages       BIGINT NOT NULL DEFAULT 0,
    channels     TEXT NOT NULL DEFAULT '[]',
    run_id       TEXT NOT NULL,
    anomaly      TEXT NOT NULL,
    PRIMARY KEY (deployment, rule, series)
);
CREATE TABLE notifications (
    id           BIGSERIAL PRIMARY KEY,
    run_id       TEXT,
    deployment   TEXT NOT NULL,
    ts           BIGINT NOT NULL,
    channel      TEXT NOT NULL,
    channel_type TEXT NOT NULL,
    event        TEXT NOT NULL,
    dedup_key    TEXT,
    outcome      TEXT NOT NULL,
    attempts     BIGINT NOT NULL,
    duration_ms  BIGINT NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX notifications_by_run ON notifications(run_id, id);
CREATE INDEX notifications_by_deployment ON notifications(deployment, ts);
CREATE TABLE audit (
    seq         BIGINT PRIMARY KEY,
    ts          BIGINT NOT NULL,
    deployment  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    run_id      TEXT,
    details     TEXT NOT NULL,
    alg         TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_by_ts ON audit(ts);
CREATE TABLE overrides (
    id          BIGSERIAL PRIMARY KEY,
    deployment  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    consumed_by TEXT,
    consumed_at BIGINT
);
CREATE INDEX overrides_by_deployment ON overrides(deployment, id);
