-- Ideas that may be voted on, as the ideas service announced them (never read from its database).
CREATE TABLE ideas (
    id                   uuid PRIMARY KEY,
    municipality         text        NOT NULL,
    field_of_action      text        NOT NULL,
    title                text,                      -- unknown while only a status change has arrived
    status               text        NOT NULL,
    status_at            timestamptz NOT NULL,      -- time of the event that set it; older events lose
    total                int         NOT NULL DEFAULT 0 CHECK (total >= 0),
    total_since          timestamptz,               -- when it got its current total: the ranking tie-break
    threshold_reached_at timestamptz,               -- SupportThresholdReached is emitted once
    ledger_seq           bigint      NOT NULL DEFAULT 0,
    ledger_head          text        NOT NULL       -- hash of its last ledger entry (the genesis hash at first)
);
CREATE INDEX ideas_ranking ON ideas (municipality, field_of_action, total DESC, total_since, id);

-- A municipality's support threshold; without a row the configured default applies.
CREATE TABLE thresholds (
    municipality      text PRIMARY KEY,
    support_threshold int         NOT NULL CHECK (support_threshold > 0),
    updated_at        timestamptz NOT NULL
);

-- Voting rounds per municipality, optionally per field of action, with a per-citizen budget.
CREATE TABLE rounds (
    id              uuid PRIMARY KEY,
    municipality    text        NOT NULL,
    field_of_action text,                            -- NULL: every field of the municipality
    title           text        NOT NULL,
    opens_at        timestamptz NOT NULL,
    closes_at       timestamptz NOT NULL,
    budget          int         NOT NULL CHECK (budget > 0),
    created_at      timestamptz NOT NULL,
    CHECK (closes_at > opens_at)
);
CREATE INDEX rounds_by_municipality ON rounds (municipality, closes_at);

-- One support per citizen per idea: the primary key makes a repeated cast a no-op.
CREATE TABLE votes (
    idea_id  uuid        NOT NULL REFERENCES ideas (id),
    voter    text        NOT NULL,
    round_id uuid        NOT NULL REFERENCES rounds (id),
    cast_at  timestamptz NOT NULL,
    PRIMARY KEY (idea_id, voter)
);
CREATE INDEX votes_by_ballot ON votes (round_id, voter);

-- How much of a round's budget a citizen used; one conditional upsert checks and spends it.
CREATE TABLE ballots (
    round_id uuid NOT NULL REFERENCES rounds (id),
    voter    text NOT NULL,
    used     int  NOT NULL CHECK (used >= 0),
    PRIMARY KEY (round_id, voter)
);

-- The tamper-evident ledger: per idea a hash chain of every cast and withdrawal.
CREATE TABLE ledger (
    idea_id    uuid        NOT NULL REFERENCES ideas (id),
    seq        bigint      NOT NULL,
    action     text        NOT NULL CHECK (action IN ('cast', 'withdraw')),
    round_id   uuid        NOT NULL,
    voter_hash text        NOT NULL,                -- a pseudonym, not the subject
    total      int         NOT NULL,                -- the idea's total after this entry
    at         timestamptz NOT NULL,
    prev_hash  text        NOT NULL,
    hash       text        NOT NULL,
    PRIMARY KEY (idea_id, seq)
);

-- Strategy-board (Strategiekreis) decisions on shortlisted ideas.
CREATE TABLE decisions (
    id              uuid PRIMARY KEY,
    idea_id         uuid        NOT NULL REFERENCES ideas (id),
    board           text[]      NOT NULL,           -- the roster: members' token subjects
    quorum          int         NOT NULL CHECK (quorum > 0),
    majority_rule   text        NOT NULL CHECK (majority_rule IN ('simple', 'two_thirds', 'absolute')),
    deadline        timestamptz NOT NULL,
    opened_by       text        NOT NULL,
    opened_at       timestamptz NOT NULL,
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'approved', 'rejected')),
    reason          text        CHECK (reason IN ('majority', 'no_quorum')),
    quorum_met      boolean,
    decided_at      timestamptz,
    closed_by       text                            -- a staff subject, 'board' (all voted) or 'deadline'
);
CREATE UNIQUE INDEX decisions_one_open_per_idea ON decisions (idea_id) WHERE status = 'open';
CREATE INDEX decisions_due ON decisions (deadline) WHERE status = 'open';

CREATE TABLE board_votes (
    decision_id uuid        NOT NULL REFERENCES decisions (id),
    member      text        NOT NULL,
    choice      text        NOT NULL CHECK (choice IN ('yes', 'no', 'abstain')),
    voted_at    timestamptz NOT NULL,
    PRIMARY KEY (decision_id, member)
);
