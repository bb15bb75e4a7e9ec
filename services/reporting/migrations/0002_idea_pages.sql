-- An idea's page tells its story from the log: its events found by the idea id they carry.
CREATE INDEX event_log_by_idea ON event_log ((data ->> 'idea_id')) WHERE data ? 'idea_id';
