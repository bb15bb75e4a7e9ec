-- Meetings of the strategy process (theme evenings of the working groups, plenary meetings) with their
-- registrations, and the aggregate results of citizens' surveys.
CREATE TABLE meetings (
    id               uuid PRIMARY KEY,
    municipality     text NOT NULL REFERENCES municipalities (slug),
    working_group_id uuid REFERENCES working_groups (id),  -- NULL: municipality-wide
    kind             text NOT NULL CHECK (kind IN ('theme_evening', 'plenary')),
    title            text NOT NULL,
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    place            text,
    online_url       text,
    capacity         integer CHECK (capacity > 0),  -- NULL: no cap
    -- kept with the registrations in one transaction; the CHECK is the last line against overbooking
    registered       integer NOT NULL DEFAULT 0 CHECK (registered >= 0 AND registered <= coalesce(capacity, registered)),
    sequence         integer NOT NULL DEFAULT 0,  -- iCalendar SEQUENCE: bumped by every change calendars must see
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    cancelled_at     timestamptz,
    cancel_reason    text,
    CHECK (ends_at > starts_at),
    CHECK (place IS NOT NULL OR online_url IS NOT NULL)
);
CREATE INDEX meetings_by_municipality ON meetings (municipality, starts_at);
CREATE INDEX meetings_by_working_group ON meetings (working_group_id, starts_at) WHERE working_group_id IS NOT NULL;

CREATE TABLE meeting_registrations (
    meeting_id    uuid NOT NULL REFERENCES meetings (id),
    attendee_id   text NOT NULL,  -- opaque token subject
    registered_at timestamptz NOT NULL,
    PRIMARY KEY (meeting_id, attendee_id)
);

CREATE TABLE surveys (
    id           uuid PRIMARY KEY,
    municipality text NOT NULL REFERENCES municipalities (slug),
    title        text NOT NULL,
    conducted_by text,
    period_start date NOT NULL,
    period_end   date NOT NULL CHECK (period_end >= period_start),
    imported_at  timestamptz NOT NULL
);
CREATE INDEX surveys_by_municipality ON surveys (municipality, period_end);

-- One row per answer option, in the order of the imported file.
CREATE TABLE survey_results (
    survey_id uuid NOT NULL REFERENCES surveys (id),
    position  integer NOT NULL,
    question  text NOT NULL,
    answer    text NOT NULL,
    count     integer NOT NULL CHECK (count >= 0),
    PRIMARY KEY (survey_id, position),
    UNIQUE (survey_id, question, answer)
);
