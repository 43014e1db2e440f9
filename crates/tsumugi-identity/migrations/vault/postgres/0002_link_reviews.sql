-- Clerical review of uncertain links (名寄せの目視確認): pairs of records scored in the uncertain
-- band, and the decisions a person made on them. Decisions bind later linkage runs: `match`
-- links the two records, `no_match` keeps them apart. Only record keys: no identifier.

CREATE TABLE link_reviews (
    record_a    BIGINT NOT NULL REFERENCES source_records(record_key) ON DELETE CASCADE,
    record_b    BIGINT NOT NULL REFERENCES source_records(record_key) ON DELETE CASCADE,
    probability DOUBLE PRECISION NOT NULL,
    status      TEXT NOT NULL,
    queued_at   TEXT NOT NULL,
    decided_by  TEXT,
    decided_at  TEXT,
    PRIMARY KEY (record_a, record_b)
);
CREATE INDEX link_reviews_by_status ON link_reviews(status);
