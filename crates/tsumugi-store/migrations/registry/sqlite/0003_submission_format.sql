-- The format each submission was read as (see tsumugi_formats::Format::as_str).
ALTER TABLE submissions ADD COLUMN format TEXT NOT NULL DEFAULT 'fhir';
