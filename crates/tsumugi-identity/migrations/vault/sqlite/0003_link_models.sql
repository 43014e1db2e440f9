-- The model each linkage run trained (m and u per comparison level, the prior): no identifier,
-- only probabilities. Kept so that any pair can be explained later with the weights that
-- decided it.

CREATE TABLE link_models (
    trained_at TEXT NOT NULL,
    model      TEXT NOT NULL
);
