-- Timeline templates (issue 7): which lanes show per situation. The shipped templates live in
-- resources/config/timeline_templates.toml; these tables hold what users change.
-- Definitions are JSON objects {id, name, lanes, must_see, roles, series} (never pickle).

-- data_admin's edits of shipped templates (replace the shipped definition with the same id).
CREATE TABLE timeline_template_overrides (
    template_id TEXT PRIMARY KEY,
    definition  TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    edited_by   TEXT NOT NULL,
    edited_at   TEXT NOT NULL
);

-- Each user's own templates, derived from a shipped one whose must-see lanes they keep.
CREATE TABLE timeline_user_templates (
    user        TEXT NOT NULL,
    template_id TEXT NOT NULL,
    base_id     TEXT NOT NULL,
    definition  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user, template_id)
);
