-- District map and staffing plan (issue 8).
-- District/town boundaries (chiku.geojson of a delivery): not person data, but kept in the
-- store so the map needs no file on disk. name = 'chiku'.
CREATE TABLE map_boundaries (
    name      TEXT PRIMARY KEY,
    geojson   TEXT NOT NULL,
    source    TEXT NOT NULL DEFAULT '',
    stored_at TEXT NOT NULL,
    stored_by TEXT NOT NULL DEFAULT ''
);

-- Staff per district as the chief entered it (the "before" of a plan).
CREATE TABLE district_staff (
    district   TEXT PRIMARY KEY,
    nurses     INTEGER NOT NULL DEFAULT 0 CHECK (nurses >= 0),
    seniors    INTEGER NOT NULL DEFAULT 0 CHECK (seniors >= 0),
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Saved plans: the proposal as shown (aggregates only, suppressed as the chief saw them).
CREATE TABLE staffing_plans (
    plan_id    INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    target     TEXT NOT NULL,
    run_ref    TEXT NOT NULL DEFAULT '',
    method     TEXT NOT NULL,
    totals     TEXT NOT NULL DEFAULT '{}',   -- JSON: nurses, seniors, minimum
    rows       TEXT NOT NULL DEFAULT '[]',   -- JSON list of per-district rows
    note       TEXT NOT NULL DEFAULT ''
);
