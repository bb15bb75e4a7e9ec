CREATE TABLE municipalities (
    slug  text PRIMARY KEY,
    name  text NOT NULL,
    state text NOT NULL
);

-- Each municipality has its own fields of action (Handlungsfelder).
CREATE TABLE fields_of_action (
    municipality text NOT NULL REFERENCES municipalities (slug),
    slug         text NOT NULL,
    name         text NOT NULL,
    position     int  NOT NULL,
    PRIMARY KEY (municipality, slug)
);

INSERT INTO municipalities (slug, name, state) VALUES
    ('gera', 'Gera', 'Thüringen'),
    ('grossenhain', 'Großenhain', 'Sachsen');

INSERT INTO fields_of_action (municipality, slug, name, position) VALUES
    ('gera', 'bauen-wohnen-lebensraum', 'Bauen, Wohnen und Lebensraum', 1),
    ('gera', 'energie', 'Energie', 2),
    ('gera', 'mobilitaet-infrastruktur', 'Mobilität und Infrastruktur', 3),
    ('gera', 'tourismus-kultur-freizeit', 'Tourismus, Kultur und Freizeit', 4),
    ('gera', 'umwelt', 'Umwelt', 5),
    ('gera', 'wirtschaft-innovationskraft', 'Wirtschaft und Innovationskraft', 6),
    ('grossenhain', 'verwaltung', 'Verwaltung', 1),
    ('grossenhain', 'bildung', 'Bildung', 2),
    ('grossenhain', 'gesundheit', 'Gesundheit', 3),
    ('grossenhain', 'mobilitaet', 'Mobilität', 4);

CREATE TABLE ideas (
    id              uuid PRIMARY KEY,
    municipality    text NOT NULL,
    field_of_action text NOT NULL,
    title           text NOT NULL,
    description     text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('form', 'profile', 'competition', 'workshop')),
    working_group   text,                -- its topic store (Themenspeicher)
    lat             double precision,
    lon             double precision,
    author_id       text NOT NULL,       -- opaque token subject, never shown publicly
    status          text NOT NULL CHECK (status IN ('submitted', 'published', 'rejected', 'shortlisted',
                                                    'pilot', 'in_implementation', 'completed')),
    status_reason   text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    published_at    timestamptz,
    search          tsvector GENERATED ALWAYS AS (to_tsvector('german', title || ' ' || description)) STORED,
    FOREIGN KEY (municipality, field_of_action) REFERENCES fields_of_action (municipality, slug),
    CHECK ((lat IS NULL) = (lon IS NULL))
);
CREATE INDEX ideas_listing ON ideas (municipality, status, created_at DESC);
CREATE INDEX ideas_working_group ON ideas (municipality, working_group) WHERE working_group IS NOT NULL;
CREATE INDEX ideas_search ON ideas USING gin (search);

CREATE TABLE milestones (
    id           uuid PRIMARY KEY,
    municipality text NOT NULL REFERENCES municipalities (slug),
    idea_id      uuid REFERENCES ideas (id),   -- NULL: strategy-wide
    title        text NOT NULL,
    description  text,
    due_date     date NOT NULL,
    created_at   timestamptz NOT NULL,
    reached_at   timestamptz,
    overdue_at   timestamptz                   -- set once, together with MilestoneOverdue
);
CREATE INDEX milestones_open ON milestones (due_date) WHERE reached_at IS NULL AND overdue_at IS NULL;
CREATE INDEX milestones_by_municipality ON milestones (municipality, due_date);
