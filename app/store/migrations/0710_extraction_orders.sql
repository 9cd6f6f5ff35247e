-- One definition of 抽出 and an order per what a role may see (issue 15).
-- Each run stores the rule set's [extraction] definition it applied, and per child: the score
-- and rank without custody-derived rules (the order of every role without the custody
-- capability), 抽出 under each order, and 至急 (the mother's EPDS 問10 ≥ 1) with its date.
-- Runs stored before this migration have NULL here; the list recomputes them from the run's
-- flags and weights (app/engine/extraction.py), never from a guess.
ALTER TABLE runs ADD COLUMN extraction TEXT NOT NULL DEFAULT '{}';
ALTER TABLE scores ADD COLUMN score_open REAL;
ALTER TABLE scores ADD COLUMN rank_open INTEGER;
ALTER TABLE scores ADD COLUMN extracted INTEGER;
ALTER TABLE scores ADD COLUMN extracted_open INTEGER;
ALTER TABLE scores ADD COLUMN urgent INTEGER;
ALTER TABLE scores ADD COLUMN urgent_date TEXT;
-- The map and staffing plan count 抽出 per run without reading every score.
CREATE INDEX scores_run_extracted ON scores(run_id, extracted, extracted_open);
