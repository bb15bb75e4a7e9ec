-- What this service learns from the strategy process's events (issue 14), so that later events
-- reach the people they concern and mails name things instead of ids. No personal data: people
-- are opaque token subjects, as in the events.

-- Accepted sponsors (Ideenpaten) of an idea: they hear of its progress.
CREATE TABLE idea_sponsors (
    sponsorship_id uuid PRIMARY KEY,
    idea_id        uuid NOT NULL,
    sponsor_id     text NOT NULL
);
CREATE INDEX idea_sponsors_by_idea ON idea_sponsors (idea_id);

-- Comments' authors and parents: a reply reaches the author of the comment replied to, also when
-- the reply is published later by a moderator (CommentPublished names no parent).
CREATE TABLE comments (
    id        uuid PRIMARY KEY,
    author_id text NOT NULL,
    parent_id uuid
);

-- Meetings, for their reminders and cancellations.
CREATE TABLE meetings (
    id               uuid PRIMARY KEY,
    municipality     text        NOT NULL,
    working_group_id uuid,
    content          jsonb       NOT NULL,  -- what the reminder mail shows (the MeetingScheduled data)
    starts_at        timestamptz NOT NULL,
    cancelled_at     timestamptz
);
CREATE INDEX meetings_by_start ON meetings (starts_at) WHERE cancelled_at IS NULL;

-- Who is registered for a meeting now (a withdrawn registration is deleted); reminded_at makes each
-- registrant's reminder go out once.
CREATE TABLE meeting_registrations (
    meeting_id    uuid        NOT NULL,  -- no foreign key: a registration may be seen before its meeting
    attendee_id   text        NOT NULL,
    registered_at timestamptz NOT NULL,
    reminded_at   timestamptz,
    PRIMARY KEY (meeting_id, attendee_id)
);

-- Names that later events refer to only by id: working groups, competitions (theme), sub-concepts,
-- strategies. A subscription to one working group's meetings must name a group seen here.
CREATE TABLE known_names (
    kind         text NOT NULL CHECK (kind IN ('working_group', 'competition', 'sub_concept', 'strategy')),
    id           uuid NOT NULL,
    municipality text NOT NULL,
    name         text NOT NULL,
    PRIMARY KEY (kind, id)
);
