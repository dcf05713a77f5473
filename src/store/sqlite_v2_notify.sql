-- 2: notifications. One row per alert (deployment, rule, series): open or resolved,
-- whether anyone was told, when, which channels and escalation stages, so dedup and
-- cooldown hold across runs of the same deployment (src/notify/state.rs).
CREATE TABLE notify_alerts (
    deployment   TEXT NOT NULL,
    rule         TEXT NOT NULL,
    series       TEXT NOT NULL,
    dedup_key    TEXT NOT NULL,
    firing       INTEGER NOT NULL,        -- 1 open, 0 resolved
    notified     INTEGER NOT NULL,        -- 1 when the current firing was told
    fired_at     INTEGER NOT NULL,        -- ms; start of the current firing
    last_sent_at INTEGER,                 -- ms; last firing alert sent (cooldown)
    stages       INTEGER NOT NULL DEFAULT 0,  -- bitmask of escalation stages sent
    channels     TEXT NOT NULL DEFAULT '[]',  -- JSON: channels told of the current firing
    run_id       TEXT NOT NULL,
    anomaly      TEXT NOT NULL,           -- JSON Anomaly as last seen
    PRIMARY KEY (deployment, rule, series)
);
-- Every send attempt and its outcome (suppressions too), never a secret.
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY,
    run_id       TEXT,                    -- NULL for `notify test`
    deployment   TEXT NOT NULL,
    ts           INTEGER NOT NULL,
    channel      TEXT NOT NULL,
    channel_type TEXT NOT NULL,
    event        TEXT NOT NULL,           -- firing | escalated | resolved | verdict | test
    dedup_key    TEXT,
    outcome      TEXT NOT NULL,           -- sent | failed | duplicate | cooldown | abandoned
    attempts     INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX notifications_by_run ON notifications(run_id, id);
CREATE INDEX notifications_by_deployment ON notifications(deployment, ts);
