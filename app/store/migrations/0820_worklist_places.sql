-- The working list after login counts every child the user may see and their towns (the status
-- line's "N人中" and the filter's choices) without reading the children: the persons side of that
-- count from one covering index, each child then one seek in the scores key (issue 18: 1.3-1.5 s
-- at 200,000 children without it, 0.15-0.25 s with it).
CREATE INDEX persons_child_place ON persons(kind, district, town, person_id);
-- The health centre's assessment list (フォロー状況) per child, read at every list load: a small
-- index of just those rows instead of one scattered page of the events table per row.
CREATE INDEX events_assessment ON events(person_id, date, event_id, value_text) WHERE type = 'assessment';
