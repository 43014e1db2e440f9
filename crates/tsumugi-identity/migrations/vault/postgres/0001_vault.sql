-- The identity vault. Every identifier column holds AES-256-GCM ciphertext (nonce || ct || tag)
-- under the vault's data key; `*_ref` and `digest` columns hold keyed HMAC blind indexes.

CREATE TABLE vault_keys (
    key_id      BIGINT PRIMARY KEY,
    wrapped_dek BYTEA NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE persons (
    person_key BIGINT PRIMARY KEY,
    created_at TEXT NOT NULL
);

CREATE TABLE source_records (
    record_key    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    submission_id BIGINT NOT NULL,
    record_no     BIGINT NOT NULL,
    provider_id   TEXT NOT NULL,
    patient_ref   BYTEA,
    patient_id    BYTEA,
    names         BYTEA NOT NULL,
    birth_date    BYTEA NOT NULL,
    sex           TEXT NOT NULL,
    addresses     BYTEA NOT NULL,
    insurances    BYTEA NOT NULL,
    deceased_on   BYTEA NOT NULL,
    person_key    BIGINT REFERENCES persons(person_key),
    UNIQUE (submission_id, record_no)
);
CREATE INDEX source_records_by_person ON source_records(person_key);
CREATE INDEX source_records_by_patient ON source_records(provider_id, patient_ref);

CREATE TABLE link_keys (
    rule       TEXT NOT NULL,
    digest     BYTEA NOT NULL,
    record_key BIGINT NOT NULL REFERENCES source_records(record_key) ON DELETE CASCADE,
    PRIMARY KEY (rule, digest, record_key)
);
CREATE INDEX link_keys_by_record ON link_keys(record_key);

CREATE TABLE notices (
    provider_id TEXT NOT NULL,
    patient_ref BYTEA NOT NULL,
    notified_on TEXT NOT NULL,
    notified_to TEXT NOT NULL,
    PRIMARY KEY (provider_id, patient_ref)
);

CREATE TABLE stop_requests (
    request_id       TEXT PRIMARY KEY,
    received_on      TEXT NOT NULL,
    channel          TEXT NOT NULL,
    requester        TEXT NOT NULL,
    provider_id      TEXT,
    patient_ref      BYTEA,
    identity         BYTEA NOT NULL,
    status           TEXT NOT NULL,
    person_key       BIGINT,
    rule_version     TEXT NOT NULL,
    evidence         TEXT NOT NULL,
    registry_version BIGINT NOT NULL,
    decided_at       TEXT
);

CREATE TABLE optout_keys (
    rule       TEXT NOT NULL,
    digest     BYTEA NOT NULL,
    request_id TEXT NOT NULL REFERENCES stop_requests(request_id),
    PRIMARY KEY (rule, digest, request_id)
);
