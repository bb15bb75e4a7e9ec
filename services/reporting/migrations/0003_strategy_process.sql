-- The strategy process (issue 14): read models of working groups, competitions, sponsors,
-- sub-concepts, the strategy, comments, meetings and survey results. Like every projection they
-- are derived from event_log and rebuilt from it; rows may start from any of an entity's events
-- (arrival order is not guaranteed), so only key and municipality are NOT NULL.

-- An idea's working group (its topic store) and competition, by id, from IdeaSubmitted/IdeaPublished.
ALTER TABLE ideas ADD COLUMN working_group_id uuid, ADD COLUMN competition_id uuid;

CREATE TABLE working_groups (
    working_group_id uuid        PRIMARY KEY,
    municipality     text        NOT NULL,
    name             text,
    kind             text,
    field_of_action  text,
    created_at       timestamptz
);

-- Members by pseudonym (never the subject); the latest of added/removed wins.
CREATE TABLE group_members (
    working_group_id uuid        NOT NULL,
    member           text        NOT NULL,
    municipality     text        NOT NULL,
    present          boolean     NOT NULL,
    member_time      timestamptz NOT NULL,
    member_event     text        NOT NULL,
    PRIMARY KEY (working_group_id, member)
);

CREATE TABLE competitions (
    competition_id  uuid        PRIMARY KEY,
    municipality    text        NOT NULL,
    field_of_action text        NOT NULL,
    theme           text,
    opens_at        timestamptz,
    closes_at       timestamptz,
    jury_size       integer,
    opened_at       timestamptz,
    closed_at       timestamptz
);

CREATE TABLE competition_shortlist (
    competition_id uuid        NOT NULL,
    idea_id        uuid        NOT NULL,
    municipality   text        NOT NULL,
    shortlisted_at timestamptz NOT NULL,
    PRIMARY KEY (competition_id, idea_id)
);

-- Sponsors (Ideenpaten) by kind; a name only when the sponsor consented (SponsorAccepted.public_name).
CREATE TABLE sponsorships (
    sponsorship_id  uuid        PRIMARY KEY,
    idea_id         uuid        NOT NULL,
    municipality    text        NOT NULL,
    field_of_action text        NOT NULL,
    sponsor_kind    text        NOT NULL,
    public_name     text,
    offered_at      timestamptz,
    accepted_at     timestamptz
);
CREATE INDEX sponsorships_by_idea ON sponsorships (idea_id);

CREATE TABLE sub_concepts (
    sub_concept_id   uuid        PRIMARY KEY,
    municipality     text        NOT NULL,
    working_group_id uuid        NOT NULL,
    title            text,
    field_of_action  text,
    drafted_at       timestamptz,
    submitted_at     timestamptz,
    ideas_submitted  integer               -- SubConceptSubmitted.ideas
);

-- An idea merged into a sub-concept (once: the ideas service refuses a second).
CREATE TABLE idea_integrations (
    idea_id          uuid        PRIMARY KEY,
    sub_concept_id   uuid        NOT NULL,
    working_group_id uuid        NOT NULL,
    municipality     text        NOT NULL,
    field_of_action  text        NOT NULL,
    integrated_at    timestamptz NOT NULL
);

-- Each published version of a strategy draft, its feedback window and the council's decision on it.
CREATE TABLE strategy_versions (
    strategy_id        uuid        NOT NULL,
    version            integer     NOT NULL,
    municipality       text        NOT NULL,
    title              text,
    feedback_until     timestamptz,
    published_at       timestamptz,
    feedback_closed_at timestamptz,
    comments_at_close  integer,
    outcome            text CHECK (outcome IN ('adopted', 'returned')),
    council_date       date,
    reason             text,
    decided_at         timestamptz,
    decision_event     text,
    PRIMARY KEY (strategy_id, version)
);

CREATE TABLE strategy_sub_concepts (
    strategy_id    uuid NOT NULL,
    version        integer NOT NULL,
    sub_concept_id uuid NOT NULL,
    municipality   text NOT NULL,
    PRIMARY KEY (strategy_id, version, sub_concept_id)
);

-- Comments without their text or author: where they are, and whether the public sees them.
CREATE TABLE comments (
    comment_id   uuid        PRIMARY KEY,
    municipality text        NOT NULL,
    target_kind  text        NOT NULL,
    target_id    uuid        NOT NULL,
    parent_id    uuid,
    state        text CHECK (state IN ('published', 'pending', 'hidden')),  -- NULL: only reports seen yet
    state_time   timestamptz,
    state_event  text,
    reports      integer     NOT NULL,     -- distinct reporters, the highest count seen
    posted_at    timestamptz
);
CREATE INDEX comments_by_target ON comments (target_kind, target_id);

CREATE TABLE meetings (
    meeting_id       uuid        PRIMARY KEY,
    municipality     text        NOT NULL,
    working_group_id uuid,                  -- NULL: plenary
    kind             text,
    title            text,
    starts_at        timestamptz,
    ends_at          timestamptz,
    place            text,
    online_url       text,
    capacity         integer,
    scheduled_at     timestamptz,
    cancelled_at     timestamptz,
    cancel_reason    text,
    registered       integer     NOT NULL,  -- registrations after the latest change
    registered_time  timestamptz,
    registered_event text
);
CREATE INDEX meetings_by_start ON meetings (municipality, starts_at);

CREATE TABLE surveys (
    survey_id    uuid        PRIMARY KEY,
    municipality text        NOT NULL,
    title        text        NOT NULL,
    conducted_by text,
    period_start date        NOT NULL,
    period_end   date        NOT NULL,
    imported_at  timestamptz NOT NULL
);

-- A survey's aggregate results in the order of the imported CSV.
CREATE TABLE survey_results (
    survey_id    uuid    NOT NULL,
    position     integer NOT NULL,
    municipality text    NOT NULL,
    question     text    NOT NULL,
    answer       text    NOT NULL,
    count        integer NOT NULL,
    PRIMARY KEY (survey_id, position)
);
