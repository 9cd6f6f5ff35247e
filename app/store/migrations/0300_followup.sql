-- Follow-up records (issue 6): what a nurse did for a child after an extraction.
-- Kept across imports and scoring runs (nothing here is keyed by delivery or run), so a later
-- extraction can show "status since extraction" and the city can count children brought into
-- support. Each record also becomes a `followup` event (events.delivery_id NULL) for the timeline.
CREATE TABLE followups (
    followup_id      INTEGER PRIMARY KEY,
    person_id        TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN
                     ('未対応', '連絡済み', '訪問済み', '支援中(ケース化)', '支援不要', '転出等')),
    action_date      TEXT NOT NULL,           -- ISO date of the contact / visit
    note             TEXT NOT NULL DEFAULT '', -- staff only; never written to the audit log
    next_action_date TEXT,
    user             TEXT NOT NULL,
    recorded_at      TEXT NOT NULL,            -- ISO timestamp (UTC) of the entry
    event_id         INTEGER                   -- the matching row in events
);
CREATE INDEX followups_person ON followups(person_id, action_date, followup_id);
CREATE INDEX followups_recorded ON followups(recorded_at);
