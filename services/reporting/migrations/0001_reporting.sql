-- The append-only event log: every event applied, once, as applied (author ids pseudonymised).
-- Every projection below is derived from it and can be rebuilt from it (`smartcity reporting rebuild`).
CREATE TABLE event_log (
    seq         bigserial   PRIMARY KEY,
    event_id    text        NOT NULL UNIQUE,   -- the CloudEvents id: a redelivery is not applied again
    event_type  text        NOT NULL,
    source      text        NOT NULL,
    subject     text,
    time        timestamptz NOT NULL,          -- when it happened (the producer's clock)
    received_at timestamptz NOT NULL,          -- when it was applied here: lag = received_at - time
    data        jsonb       NOT NULL
);

CREATE FUNCTION event_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'event_log is append-only';
END $$;
CREATE TRIGGER event_log_append_only BEFORE UPDATE OR DELETE ON event_log
    FOR EACH ROW EXECUTE FUNCTION event_log_is_append_only();

-- State projections: one row per entity. Each mutable column keeps the (time, event id) of the event
-- that set it, so a late or redelivered older event never overwrites a newer one.
CREATE TABLE ideas (
    idea_id         uuid        PRIMARY KEY,
    municipality    text        NOT NULL,
    field_of_action text        NOT NULL,
    title           text,                  -- NULL until IdeaSubmitted or IdeaPublished arrived
    channel         text,
    working_group   text,
    status          text        NOT NULL,
    status_time     timestamptz NOT NULL,
    status_event    text        NOT NULL,
    submitted_at    timestamptz,
    published_at    timestamptz
);
CREATE INDEX ideas_by_place ON ideas (municipality, field_of_action, status);

CREATE TABLE votes (
    idea_id         uuid        NOT NULL,
    round_id        uuid        NOT NULL,
    municipality    text        NOT NULL,
    field_of_action text        NOT NULL,
    total           integer     NOT NULL,  -- the idea's support in the round, as of total_time
    total_time      timestamptz NOT NULL,
    total_event     text        NOT NULL,
    PRIMARY KEY (idea_id, round_id)
);

CREATE TABLE support_thresholds (
    idea_id         uuid        PRIMARY KEY,
    municipality    text        NOT NULL,
    field_of_action text        NOT NULL,
    threshold       integer     NOT NULL,
    reached_at      timestamptz NOT NULL   -- the first time it was reached
);

CREATE TABLE pilot_decisions (
    idea_id         uuid        PRIMARY KEY,  -- the board's latest decision on the idea
    municipality    text        NOT NULL,
    field_of_action text        NOT NULL,
    decision        text        NOT NULL CHECK (decision IN ('approved', 'rejected')),
    reason          text,
    decision_id     uuid        NOT NULL,
    yes             integer     NOT NULL,
    no              integer     NOT NULL,
    abstain         integer     NOT NULL,
    quorum_met      boolean     NOT NULL,
    decided_at      timestamptz NOT NULL,
    decision_event  text        NOT NULL
);

CREATE TABLE milestones (
    milestone_id uuid        PRIMARY KEY,
    municipality text        NOT NULL,
    idea_id      uuid,                     -- NULL: strategy-wide
    title        text        NOT NULL,
    due_date     date        NOT NULL,
    scheduled_at timestamptz,
    reached_at   timestamptz,              -- reached wins over overdue, whatever the arrival order
    on_time      boolean,
    overdue_at   timestamptz
);
CREATE INDEX milestones_by_due_date ON milestones (municipality, due_date);

CREATE TABLE notifications (
    notification_id uuid        PRIMARY KEY,
    channel         text        NOT NULL,
    trigger_type    text        NOT NULL,
    outcome         text        NOT NULL CHECK (outcome IN ('sent', 'failed')),
    attempts        integer,
    outcome_time    timestamptz NOT NULL,
    outcome_event   text        NOT NULL
);

-- Distinct participants per municipality: a hash of the token subject, never the subject itself.
CREATE TABLE participants (
    municipality text        NOT NULL,
    participant  text        NOT NULL,
    first_seen   timestamptz NOT NULL,
    PRIMARY KEY (municipality, participant)
);

-- Counting projections: sums of applied events (the log's unique id makes each count once, and
-- addition does not depend on order). Dimensions that do not apply to an event type are ''.
CREATE TABLE event_counts (
    event_type      text   NOT NULL,
    municipality    text   NOT NULL,
    field_of_action text   NOT NULL,
    channel         text   NOT NULL,
    status          text   NOT NULL,
    events          bigint NOT NULL,
    PRIMARY KEY (event_type, municipality, field_of_action, channel, status)
);

CREATE TABLE activity (
    bucket          timestamptz NOT NULL,  -- the hour the event happened in
    event_type      text        NOT NULL,
    municipality    text        NOT NULL,
    field_of_action text        NOT NULL,
    channel         text        NOT NULL,
    status          text        NOT NULL,
    events          bigint      NOT NULL,
    PRIMARY KEY (bucket, event_type, municipality, field_of_action, channel, status)
);

CREATE TABLE event_lag (
    event_type      text             NOT NULL,
    le              double precision NOT NULL,  -- the histogram bucket's upper bound (seconds)
    events          bigint           NOT NULL,
    lag_us_sum      bigint           NOT NULL,  -- microseconds: integer sums do not depend on order
    PRIMARY KEY (event_type, le)
);
