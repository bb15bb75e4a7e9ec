-- Each municipality's bounding box: an idea's location must lie inside it (a pin in Sydney is not Gera's).
-- Generous boxes around the administrative area, ortsteile included.
ALTER TABLE municipalities
    ADD COLUMN min_lat double precision, ADD COLUMN max_lat double precision,
    ADD COLUMN min_lon double precision, ADD COLUMN max_lon double precision;

UPDATE municipalities m SET min_lat = v.min_lat, max_lat = v.max_lat, min_lon = v.min_lon, max_lon = v.max_lon
FROM (VALUES
    ('gera', 50.80, 50.95, 12.00, 12.20),
    ('grossenhain', 51.25, 51.35, 13.45, 13.65)
) AS v (slug, min_lat, max_lat, min_lon, max_lon) WHERE m.slug = v.slug;

ALTER TABLE municipalities
    ALTER COLUMN min_lat SET NOT NULL, ALTER COLUMN max_lat SET NOT NULL,
    ALTER COLUMN min_lon SET NOT NULL, ALTER COLUMN max_lon SET NOT NULL,
    ADD CHECK (min_lat < max_lat AND min_lon < max_lon);

-- Idea competitions (Ideenwettbewerbe): a theme in one field of action, a submission window and a jury.
CREATE TABLE competitions (
    id              uuid PRIMARY KEY,
    municipality    text NOT NULL REFERENCES municipalities (slug),
    field_of_action text NOT NULL,
    theme           text NOT NULL,
    opens_at        timestamptz NOT NULL,
    closes_at       timestamptz NOT NULL,
    jury            text[] NOT NULL,       -- opaque token subjects of the jurors
    created_at      timestamptz NOT NULL,
    closed_at       timestamptz,           -- set once, together with CompetitionClosed
    FOREIGN KEY (municipality, field_of_action) REFERENCES fields_of_action (municipality, slug),
    CHECK (opens_at < closes_at),
    CHECK (cardinality(jury) > 0)
);
CREATE INDEX competitions_by_municipality ON competitions (municipality, opens_at DESC);
CREATE INDEX competitions_to_close ON competitions (closes_at) WHERE closed_at IS NULL;

-- An idea's profile (Steckbrief) as the author filled it in (goal, target group, partners, effort,
-- cost class, contact consent), and the competition it was entered into.
ALTER TABLE ideas ADD COLUMN profile jsonb;
ALTER TABLE ideas ADD COLUMN competition_id uuid REFERENCES competitions (id);
CREATE INDEX ideas_by_competition ON ideas (competition_id) WHERE competition_id IS NOT NULL;

CREATE TABLE competition_shortlist (
    competition_id uuid NOT NULL REFERENCES competitions (id),
    idea_id        uuid NOT NULL REFERENCES ideas (id),
    shortlisted_by text NOT NULL,          -- the juror's (or staff member's) token subject
    shortlisted_at timestamptz NOT NULL,
    PRIMARY KEY (competition_id, idea_id)
);

-- Idea sponsors (Ideenpaten): offered by anyone signed in, accepted by staff; shown by name only with consent.
CREATE TABLE sponsorships (
    id           uuid PRIMARY KEY,
    idea_id      uuid NOT NULL REFERENCES ideas (id),
    sponsor_id   text NOT NULL,            -- opaque token subject: notifications tell them of progress
    kind         text NOT NULL CHECK (kind IN ('citizen', 'company', 'institution')),
    display_name text NOT NULL,
    show_name    boolean NOT NULL,
    status       text NOT NULL CHECK (status IN ('offered', 'accepted')),
    offered_at   timestamptz NOT NULL,
    accepted_at  timestamptz,
    UNIQUE (idea_id, sponsor_id)
);
