-- One ranking rule in voting and reporting (shared.domain.RANKING): ties go to the idea published
-- earlier, then the lower id. published_at is the IdeaPublished event's time; ideas published before
-- this column existed get their status time where they are still just published (that event set it),
-- and rank after the others of their total where a later status change replaced it.
ALTER TABLE ideas ADD COLUMN published_at timestamptz;
UPDATE ideas SET published_at = status_at WHERE status = 'published';
DROP INDEX ideas_ranking;
CREATE INDEX ideas_ranking ON ideas (municipality, field_of_action, total DESC, published_at, id);
