-- Indexes an import builds again after every bulk insert of events (7.2 M rows at 200,000
-- children) and that few queries needed (issue 18):
-- events(source) served only deletes by source: a newer extract replacing a source's events at
-- import (one statement for all the delivery's sources, app/store/importing.py) and the deletion
-- of a whole source (app/store/deletion.py), both rare and both touching most of those rows
-- anyway, so one scan does. Rebuilding it cost 3.9 s of the 200,000-child import.
DROP INDEX IF EXISTS events_source;
-- events(type) served a scoring run's columns read for some types only (now read in the same
-- pass as the others, app/store/frames.py) and the timeline's household public assistance,
-- which reads one household's rows through the small partial index below. Rebuilding it cost
-- 4.5 s of the 200,000-child import.
DROP INDEX IF EXISTS events_type;
CREATE INDEX events_household_assistance ON events(household_id) WHERE type = 'public_assistance';
