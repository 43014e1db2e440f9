-- The registry: providers, submissions, statutory records, audit chain, applications, releases.
-- No identifier of a person is ever stored here (identity lives in the vault).

CREATE TABLE providers (
    provider_id   TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    waiting_days  BIGINT NOT NULL DEFAULT 30,
    registered_at TEXT NOT NULL
);

CREATE TABLE submissions (
    submission_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id    TEXT NOT NULL REFERENCES providers(provider_id),
    content_sha256 TEXT NOT NULL UNIQUE,
    file_name      TEXT NOT NULL,
    n_bytes        BIGINT NOT NULL,
    received_at    TEXT NOT NULL,
    status         TEXT NOT NULL,            -- staged | processed
    n_records      BIGINT NOT NULL DEFAULT 0,
    n_accepted     BIGINT NOT NULL DEFAULT 0,
    n_rejected     BIGINT NOT NULL DEFAULT 0,
    n_events       BIGINT NOT NULL DEFAULT 0,
    processed_at   TEXT
);

CREATE TABLE rejections (
    submission_id BIGINT NOT NULL REFERENCES submissions(submission_id),
    file          TEXT NOT NULL,
    record_no     BIGINT NOT NULL,
    line_no       BIGINT,
    field         TEXT,
    code          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    reason_ja     TEXT NOT NULL,
    reason_en     TEXT NOT NULL
);
CREATE INDEX rejections_by_submission ON rejections(submission_id);

-- Records the law requires (記録の作成・保存): receipts of submissions, provisions of datasets,
-- statistics results, deletions after stop requests.
CREATE TABLE statutory_records (
    record_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,               -- receipt | provision | statistics | deletion
    recorded_at TEXT NOT NULL,
    subject     TEXT NOT NULL,               -- provider id, release id, result id, person key
    body        TEXT NOT NULL                -- JSON
);
CREATE INDEX statutory_records_by_kind ON statutory_records(kind, recorded_at);

-- Append-only, hash-chained audit log. `entry` is canonical JSON that includes seq and the
-- previous entry's hash; `hash` = SHA-256(entry).
CREATE TABLE audit_log (
    seq   BIGINT PRIMARY KEY,
    entry TEXT NOT NULL,
    hash  TEXT NOT NULL
);

-- Ed25519-signed checkpoints of the chain head.
CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY,
    hash       TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL,
    signed_at  TEXT NOT NULL
);

CREATE TABLE applications (
    application_id TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    applicant      TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    kind           TEXT NOT NULL,            -- anonymized | pseudonymized | statistics
    status         TEXT NOT NULL,            -- submitted | approved | rejected
    conditions     TEXT NOT NULL DEFAULT '',
    submitted_at   TEXT NOT NULL,
    decided_at     TEXT
);

CREATE TABLE releases (
    release_id      TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications(application_id),
    created_at      TEXT NOT NULL,
    optout_version  BIGINT NOT NULL,
    n_persons       BIGINT NOT NULL,
    n_events        BIGINT NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    path            TEXT NOT NULL
);
