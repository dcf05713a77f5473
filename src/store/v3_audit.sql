-- 3: audit hash chain and manual overrides.
SELECT 1;
