-- 2: notifications (dedup, cooldown, escalation state and every send attempt).
SELECT 1;
