-- 5: what `serve` shows of a run while it lasts and who ran it: the watch's latest tick
-- (tick n of N, every rule's state and value, missing ticks, the policy counters) as JSON,
-- written with every tick; the actor and host that started the run; an index so the live
-- list finds running runs without reading every run.
ALTER TABLE runs ADD COLUMN live TEXT;
ALTER TABLE runs ADD COLUMN actor TEXT;
ALTER TABLE runs ADD COLUMN host TEXT;
CREATE INDEX runs_by_status ON runs(status, started_at);
CREATE INDEX audit_by_run ON audit(run_id);
