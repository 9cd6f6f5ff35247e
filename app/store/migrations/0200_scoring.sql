-- Rules and scoring (issue 5): rule sets stored and versioned, runs never overwritten,
-- flags with reasons, the evidence rows behind them, scores, follow-up state at run time.
-- Person-level tables carry person_id so a deletion request removes them with the person.

CREATE TABLE rulesets (
    ruleset_id  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    target      TEXT NOT NULL,            -- abuse / postpartum
    title       TEXT NOT NULL DEFAULT '',
    toml        TEXT NOT NULL,            -- the rule set exactly as written
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 0,   -- the one scored by `python -m app score` per target
    note        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (ruleset_id, version)
);

CREATE TABLE runs (
    run_id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    target          TEXT NOT NULL,
    ruleset_id      TEXT NOT NULL,
    ruleset_version INTEGER NOT NULL,
    ruleset_text    TEXT NOT NULL,
    as_of           TEXT NOT NULL,        -- date ages and windows were counted at
    source_as_of    TEXT NOT NULL DEFAULT '{}',  -- JSON source -> 抽出日 (freshness, traceability)
    thresholds      TEXT NOT NULL DEFAULT '{}',  -- JSON rule_id -> threshold text
    weights         TEXT NOT NULL DEFAULT '{}',  -- JSON rule_id -> weight
    restricted      TEXT NOT NULL DEFAULT '{}',  -- JSON rule_id -> "custody" | null
    labels          TEXT NOT NULL DEFAULT '{}',  -- JSON rule_id -> label
    metrics         TEXT NOT NULL DEFAULT '{}',  -- JSON validation figures (custody-derived: cg_manager)
    children        INTEGER NOT NULL DEFAULT 0,
    flagged         INTEGER NOT NULL DEFAULT 0
);
-- A run is a record of what was extracted and why: it is never changed afterwards.
CREATE TRIGGER runs_never_updated BEFORE UPDATE ON runs
BEGIN
    SELECT RAISE(ABORT, 'scoring runs are never overwritten');
END;

CREATE TABLE flags (
    run_id      INTEGER NOT NULL,
    person_id   TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    flagged     INTEGER NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    threshold   TEXT NOT NULL DEFAULT '',
    label       TEXT NOT NULL DEFAULT '',
    disclosure  TEXT NOT NULL DEFAULT 'staff',
    restricted  TEXT,                       -- "custody": cg_manager only
    first_date  TEXT,
    last_date   TEXT,
    PRIMARY KEY (run_id, person_id, rule_id)
);
CREATE INDEX flags_person ON flags(person_id, run_id);

CREATE TABLE evidence (
    run_id      INTEGER NOT NULL,
    person_id   TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    event_id    INTEGER NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('trigger', 'context'))
);
CREATE INDEX evidence_person ON evidence(person_id, run_id);
CREATE INDEX evidence_run ON evidence(run_id);

CREATE TABLE scores (
    run_id      INTEGER NOT NULL,
    person_id   TEXT NOT NULL,
    target      TEXT NOT NULL,
    score       REAL NOT NULL,
    probability REAL,
    rank        INTEGER NOT NULL,
    PRIMARY KEY (run_id, person_id)
);

-- Follow-up state at run time (assessment フォロー状況 / nurses' records) and, restricted to
-- cg_manager, whether the child was on the child-guidance list.
CREATE TABLE run_follow (
    run_id             INTEGER NOT NULL,
    person_id          TEXT NOT NULL,
    followed           INTEGER NOT NULL,
    follow_status      TEXT NOT NULL DEFAULT '',
    follow_date        TEXT,
    follow_source      TEXT NOT NULL DEFAULT '',
    on_custody_list    INTEGER NOT NULL DEFAULT 0,
    custody_first_date TEXT,
    PRIMARY KEY (run_id, person_id)
);
