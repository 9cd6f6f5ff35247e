-- Foundation: installation metadata, accounts, audit log, terminals, versioned settings.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Accounts. Passwords are not here: each account's key slot (keyslots.py) is the proof.
CREATE TABLE users (
    name                TEXT PRIMARY KEY,
    role                TEXT NOT NULL CHECK (role IN ('nurse','cg_manager','chief','data_admin','auditor')),
    areas               TEXT NOT NULL DEFAULT '[]',   -- JSON list of districts / centres; [] = none
    display_name        TEXT NOT NULL DEFAULT '',
    senior              INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    created_by          TEXT,
    password_changed_at TEXT NOT NULL,
    active              INTEGER NOT NULL DEFAULT 1
);

-- Append-only, hash-chained log of who did what (object ids, never case contents).
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    ts          TEXT NOT NULL,
    user        TEXT NOT NULL,
    role        TEXT NOT NULL,
    terminal    TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT,
    object_ids  TEXT NOT NULL DEFAULT '[]',
    detail      TEXT NOT NULL DEFAULT '{}',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_user ON audit_log(user, ts);
CREATE INDEX audit_log_action ON audit_log(action, ts);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;

-- Terminals registered by data_admin; exports are allowed only from these.
CREATE TABLE terminals (
    terminal_id   TEXT PRIMARY KEY,
    label         TEXT NOT NULL DEFAULT '',
    registered_by TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    may_export    INTEGER NOT NULL DEFAULT 1
);

-- Configuration as typed, versioned JSON values (never pickle).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    value      TEXT NOT NULL,
    updated_by TEXT,
    updated_at TEXT NOT NULL
);
