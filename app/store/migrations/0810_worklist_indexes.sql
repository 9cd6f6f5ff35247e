-- The working list after login reads only the run's order down to its last 抽出 or 至急 child
-- (app/store/queries/worklist.py, issue 18: under 3 s at 200,000 children). These make that a
-- range of one index instead of a pass over every child of the run:
-- the role's order (with 抽出 and 至急, so finding the last one reads the index alone) ...
CREATE INDEX scores_run_rank ON scores(run_id, rank, extracted, urgent);
CREATE INDEX scores_run_rank_open ON scores(run_id, rank_open, extracted_open, urgent);
-- ... and a rule's badge class (the strictest class stored for its flags) by a few existence
-- checks instead of reading every flag of the run.
CREATE INDEX flags_run_rule_class ON flags(run_id, rule_id, disclosure);
