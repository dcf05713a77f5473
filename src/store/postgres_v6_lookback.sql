-- 6: how consecutive ticks of each baseline series depend on each other, estimated from a
-- lookback longer than the baseline (`baseline --lookback`, hours before the deploy):
-- JSON {series: {products, squares, values, pairs, runs}}; NULL when none was read.
ALTER TABLE baselines ADD COLUMN lookback TEXT;
