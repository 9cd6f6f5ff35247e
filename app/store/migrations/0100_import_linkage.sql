-- Import, linkage (名寄せ) and the event store (docs/DATA_MODEL.md). Dates are ISO text.
CREATE TABLE deliveries (
    delivery_id  INTEGER PRIMARY KEY,
    fingerprint  TEXT NOT NULL UNIQUE,      -- SHA-256 over file names and contents
    folder_name  TEXT NOT NULL,
    as_of        TEXT,
    imported_at  TEXT NOT NULL,
    imported_by  TEXT NOT NULL,
    summary      TEXT NOT NULL DEFAULT '{}' -- JSON counts only, no case contents
);

CREATE TABLE persons (
    person_id     TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    sex           TEXT NOT NULL DEFAULT '',
    birth_ym      TEXT NOT NULL DEFAULT '',
    household_id  TEXT NOT NULL DEFAULT '',
    district      TEXT NOT NULL DEFAULT '',
    town          TEXT NOT NULL DEFAULT '',
    nationality   TEXT NOT NULL DEFAULT '',
    resident_from TEXT,
    resident_to   TEXT,
    moved_in      INTEGER NOT NULL DEFAULT 0,
    mother_id     TEXT NOT NULL DEFAULT '',
    delivery_id   INTEGER
);
CREATE INDEX persons_district ON persons(district);
CREATE INDEX persons_household ON persons(household_id);

-- Restricted: read only through app/store/queries/identity.py (every read audited).
CREATE TABLE identities (
    person_id        TEXT PRIMARY KEY,
    name_kanji       TEXT NOT NULL DEFAULT '',
    name_kana        TEXT NOT NULL DEFAULT '',
    birth_date       TEXT NOT NULL DEFAULT '',
    sex              TEXT NOT NULL DEFAULT '',
    resident_numbers TEXT NOT NULL DEFAULT '[]',
    household_number TEXT NOT NULL DEFAULT '',
    town             TEXT NOT NULL DEFAULT '',
    address_note     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE relations (
    person_id  TEXT NOT NULL,
    related_id TEXT NOT NULL,
    relation   TEXT NOT NULL,
    since      TEXT,
    until      TEXT,
    PRIMARY KEY (person_id, related_id, relation)
);
CREATE INDEX relations_related ON relations(related_id);

CREATE TABLE events (
    event_id     INTEGER PRIMARY KEY,
    person_id    TEXT NOT NULL,
    household_id TEXT NOT NULL DEFAULT '',
    date         TEXT,
    type         TEXT NOT NULL,
    subtype      TEXT NOT NULL DEFAULT '',
    value_num    REAL,
    value_text   TEXT NOT NULL DEFAULT '',
    attrs        TEXT NOT NULL DEFAULT '{}',
    source       TEXT NOT NULL,
    source_file  TEXT NOT NULL DEFAULT '',
    source_line  INTEGER,
    disclosure   TEXT NOT NULL DEFAULT 'staff',
    delivery_id  INTEGER
);
CREATE INDEX events_person ON events(person_id, date);
CREATE INDEX events_source ON events(source);
CREATE INDEX events_type ON events(type);

-- Freshness: one row per delivered file (latest delivery of that file).
CREATE TABLE sources (
    source           TEXT NOT NULL,
    file_name        TEXT NOT NULL,
    as_of            TEXT,
    delivery_id      INTEGER NOT NULL,
    department       TEXT NOT NULL DEFAULT '',
    rows_read        INTEGER NOT NULL,
    rows_imported    INTEGER NOT NULL,
    rows_quarantined INTEGER NOT NULL,
    encoding         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (source, file_name)
);

CREATE TABLE quarantine (
    delivery_id INTEGER NOT NULL,
    file        TEXT NOT NULL,
    line        INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    raw         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX quarantine_file ON quarantine(file, line);

-- 研究用ID対応表 of the latest delivery of each file (exported by `export --what idmap`).
CREATE TABLE idmap (
    file        TEXT NOT NULL,
    line        INTEGER NOT NULL,
    research_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (file, line)
);

-- HMACs of linkage keys (宛名番号, normalised name keys) → research ID: IDs stay stable.
CREATE TABLE link_keys (
    key_hash  TEXT PRIMARY KEY,
    person_id TEXT NOT NULL
);
CREATE INDEX link_keys_person ON link_keys(person_id);

-- Near-miss records waiting for a data_admin (record_id is the temporary 9-ID).
CREATE TABLE review_items (
    record_id    TEXT PRIMARY KEY,
    file         TEXT NOT NULL,
    line         INTEGER NOT NULL,
    source       TEXT NOT NULL,
    candidate_id TEXT NOT NULL,
    score        REAL NOT NULL,
    evidence     TEXT NOT NULL DEFAULT '{}',
    pair_key     TEXT NOT NULL,
    name_kanji   TEXT NOT NULL DEFAULT '',
    name_kana    TEXT NOT NULL DEFAULT '',
    birth_date   TEXT NOT NULL DEFAULT '',
    sex          TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','accepted','rejected')),
    delivery_id  INTEGER NOT NULL
);

-- A data_admin's decisions, keyed by an HMAC of the record's identity and the candidate,
-- so that they apply again when a later delivery brings the same record.
CREATE TABLE linkage_decisions (
    pair_key     TEXT PRIMARY KEY,
    decision     TEXT NOT NULL CHECK (decision IN ('accept','reject')),
    record_id    TEXT NOT NULL,
    candidate_id TEXT NOT NULL,
    decided_by   TEXT NOT NULL,
    decided_at   TEXT NOT NULL
);

-- 重複リスト: pairs a human should look at and that are never merged automatically.
CREATE TABLE duplicates (
    person_a    TEXT NOT NULL,
    person_b    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    delivery_id INTEGER,
    PRIMARY KEY (person_a, person_b, kind)
);

-- Mapping profiles (column renames, code maps, date formats) per source, edited by data_admin.
CREATE TABLE mapping_profiles (
    source     TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
