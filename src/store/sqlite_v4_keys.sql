-- 4: integer run keys (the UUID stays as `runs.id`, unique, for users), compact samples
-- (integer run key + integer series id + time + value, no rowid), every foreign key
-- indexed so `history` costs the same on 10 runs as on 100,000, run leases (a run whose
-- lease lapsed is `abandoned`), and one rollback claim per deployment.
CREATE TABLE runs4 (
    key         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,    -- the run's UUID, as users see it
    deployment  TEXT NOT NULL,
    kind        TEXT NOT NULL,           -- watch | manual_rollback
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    status      TEXT NOT NULL,           -- running | finished | interrupted (abandoned: lease lapsed)
    verdict     TEXT,
    reason      TEXT,
    exit_code   INTEGER,
    dry_run     INTEGER NOT NULL DEFAULT 0,
    config_digest TEXT NOT NULL,
    summary     TEXT,                    -- JSON summary as printed by --output json
    lease_ms    INTEGER NOT NULL DEFAULT 10000,
    lease_until INTEGER                  -- ms; a running run renews it every tick
);
INSERT INTO runs4 (id, deployment, kind, started_at, ended_at, status, verdict, reason, exit_code, dry_run, config_digest, summary, lease_until)
    SELECT r.id, r.deployment, r.kind, r.started_at, r.ended_at, r.status, r.verdict, r.reason, r.exit_code, r.dry_run, r.config_digest, r.summary,
           CASE WHEN r.status = 'running'
                THEN COALESCE((SELECT MAX(s.ts) FROM samples s WHERE s.run_id = r.id), r.started_at) + 10000 END
    FROM runs r ORDER BY r.started_at, r.rowid;
CREATE TABLE series (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE
);
INSERT INTO series (name) SELECT DISTINCT series FROM samples;
-- series_id is not declared a foreign key: series rows are never deleted or changed, so
-- no index on it is needed (one would double the bytes per sample).
CREATE TABLE samples4 (
    run_key     INTEGER NOT NULL REFERENCES runs4(key),
    ts          INTEGER NOT NULL,
    series_id   INTEGER NOT NULL,
    value       REAL,
    status      INTEGER NOT NULL DEFAULT 0,  -- 0 ok, 1 down, 2 missing
    detail      TEXT,
    PRIMARY KEY (run_key, ts, series_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO samples4 (run_key, ts, series_id, value, status, detail)
    SELECT r.key, s.ts, x.id, s.value, CASE s.status WHEN 'down' THEN 1 WHEN 'missing' THEN 2 ELSE 0 END, s.detail
    FROM samples s JOIN runs4 r ON r.id = s.run_id JOIN series x ON x.name = s.series;
CREATE TABLE anomalies4 (
    id          INTEGER PRIMARY KEY,
    run_key     INTEGER NOT NULL REFERENCES runs4(key),
    rule        TEXT NOT NULL,
    series      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    fired_at    INTEGER NOT NULL,
    resolved_at INTEGER,
    body        TEXT NOT NULL            -- JSON Anomaly
);
INSERT INTO anomalies4 (run_key, rule, series, kind, severity, fired_at, resolved_at, body)
    SELECT r.key, a.rule, a.series, a.kind, a.severity, a.fired_at, a.resolved_at, a.body
    FROM anomalies a JOIN runs4 r ON r.id = a.run_id ORDER BY a.rowid;
CREATE TABLE decisions4 (
    id       INTEGER PRIMARY KEY,
    run_key  INTEGER NOT NULL REFERENCES runs4(key),
    ts       INTEGER NOT NULL,
    verdict  TEXT NOT NULL,
    reason   TEXT NOT NULL
);
INSERT INTO decisions4 (run_key, ts, verdict, reason)
    SELECT r.key, d.ts, d.verdict, d.reason FROM decisions d JOIN runs4 r ON r.id = d.run_id ORDER BY d.rowid;
CREATE TABLE rollbacks4 (
    id          INTEGER PRIMARY KEY,
    run_key     INTEGER NOT NULL REFERENCES runs4(key),
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
INSERT INTO rollbacks4 (run_key, trigger, started_at, ended_at, attempts, argv, exit_status, ok, stdout, stderr, reason)
    SELECT r.key, b.trigger, b.started_at, b.ended_at, b.attempts, b.argv, b.exit_status, b.ok, b.stdout, b.stderr, b.reason
    FROM rollbacks b JOIN runs4 r ON r.id = b.run_id ORDER BY b.rowid;
DROP TABLE samples;
DROP TABLE anomalies;
DROP TABLE decisions;
DROP TABLE rollbacks;
DROP TABLE runs;
ALTER TABLE runs4 RENAME TO runs;
ALTER TABLE samples4 RENAME TO samples;
ALTER TABLE anomalies4 RENAME TO anomalies;
ALTER TABLE decisions4 RENAME TO decisions;
ALTER TABLE rollbacks4 RENAME TO rollbacks;
CREATE INDEX runs_by_deployment ON runs(deployment, started_at);
CREATE INDEX runs_by_start ON runs(started_at);
CREATE INDEX anomalies_by_run ON anomalies(run_key, rule, series, fired_at);
CREATE INDEX decisions_by_run ON decisions(run_key);
CREATE INDEX rollbacks_by_run ON rollbacks(run_key, ok);
-- One rollback per deployment across processes: the run holding the claim ran (or is
-- running) the command; watches started before the claim do not run it again.
CREATE TABLE rollback_claims (
    deployment  TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,           -- UUID of the claiming run
    claimed_at  INTEGER NOT NULL
);
