-- 3: audit hash chain and manual overrides.
-- One row per audited event. `hash` is SHA-256 (or HMAC-SHA256 with VZ_AUDIT_KEY, `alg`
-- says which) over the canonical JSON of every other column, `prev_hash` included, so
-- an edit, deletion, insertion or reordering breaks the chain (src/audit/chain.rs).
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY,     -- assigned inside BEGIN IMMEDIATE: max + 1
    ts          INTEGER NOT NULL,        -- ms since the epoch
    deployment  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,           -- baseline | run_start | config_change | decision | rollback | run_finish | hold | release | abort | override_seen | checkpoint
    run_id      TEXT,
    details     TEXT NOT NULL,           -- canonical JSON
    alg         TEXT NOT NULL,           -- sha256 | hmac-sha256
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_by_ts ON audit(ts);
-- Holds, releases and aborts placed by hand; a running watch polls them every tick.
CREATE TABLE overrides (
    id          INTEGER PRIMARY KEY,
    deployment  TEXT NOT NULL,
    kind        TEXT NOT NULL,           -- hold | release | abort
    actor       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    consumed_by TEXT,                    -- run that acted on an abort
    consumed_at INTEGER
);
CREATE INDEX overrides_by_deployment ON overrides(deployment, id);
