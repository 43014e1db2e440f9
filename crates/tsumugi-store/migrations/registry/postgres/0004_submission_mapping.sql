-- The TOML mapping a mapped-CSV submission is read with (kept so a crash-interrupted submission
-- is read again the same way).
ALTER TABLE submissions ADD COLUMN mapping TEXT;
