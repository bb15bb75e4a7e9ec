-- The strategy process (issue 14b): sub-concepts (Teilkonzepte) of the working groups, the strategy draft
-- with its versions and council decision, milestones tied to its steps, and comments with moderation.

-- A working group's sub-concept; `submitted_at` set once, when the group hands it in.
CREATE TABLE sub_concepts (
    id               uuid PRIMARY KEY,
    municipality     text NOT NULL REFERENCES municipalities (slug),
    working_group_id uuid NOT NULL REFERENCES working_groups (id),
    title            text NOT NULL,
    summary          text,
    field_of_action  text,
    created_at       timestamptz NOT NULL,
    submitted_at     timestamptz,
    FOREIGN KEY (municipality, field_of_action) REFERENCES fields_of_action (municipality, slug)
);
CREATE INDEX sub_concepts_by_municipality ON sub_concepts (municipality, created_at);

-- An idea is merged into at most one sub-concept; it keeps its status, history and votes.
ALTER TABLE ideas ADD COLUMN sub_concept_id uuid REFERENCES sub_concepts (id);
ALTER TABLE ideas ADD COLUMN integrated_at timestamptz;
CREATE INDEX ideas_by_sub_concept ON ideas (sub_concept_id) WHERE sub_concept_id IS NOT NULL;

CREATE TABLE strategies (
    id           uuid PRIMARY KEY,
    municipality text NOT NULL REFERENCES municipalities (slug),
    title        text NOT NULL,
    created_at   timestamptz NOT NULL,
    adopted_at   timestamptz            -- set once: an adopted strategy takes no further versions
);
CREATE INDEX strategies_by_municipality ON strategies (municipality, created_at);

-- Each published version of the draft: its feedback window and, later, the council's decision on it.
CREATE TABLE strategy_versions (
    strategy_id        uuid NOT NULL REFERENCES strategies (id),
    version            int  NOT NULL CHECK (version >= 1),
    summary            text NOT NULL,
    sub_concept_ids    uuid[] NOT NULL,  -- linked sub-concepts, in the order given
    published_at       timestamptz NOT NULL,
    feedback_until     timestamptz NOT NULL,
    feedback_closed_at timestamptz,      -- set once, together with StrategyFeedbackClosed
    comments           int,              -- counted when the window closed
    council_outcome    text CHECK (council_outcome IN ('adopted', 'returned')),
    council_date       date,
    council_reason     text,
    decided_at         timestamptz,
    PRIMARY KEY (strategy_id, version)
);
CREATE INDEX strategy_versions_open ON strategy_versions (feedback_until) WHERE feedback_closed_at IS NULL;

-- A strategy-wide milestone may be tied to a step of the process, which then reaches it.
ALTER TABLE milestones ADD COLUMN step text
    CHECK (step IN ('sub_concepts_submitted', 'strategy_draft_published', 'strategy_draft_refined',
                    'strategy_adopted'));
CREATE INDEX milestones_by_step ON milestones (municipality, step) WHERE step IS NOT NULL AND reached_at IS NULL;

-- Comments on ideas, sub-concepts and the strategy draft. `strategy_version`: the draft version whose
-- feedback window a comment on a strategy arrived in. `moderated_at`: a moderator decided on it, so
-- reports no longer hide it by themselves.
CREATE TABLE comments (
    id               uuid PRIMARY KEY,
    municipality     text NOT NULL REFERENCES municipalities (slug),
    target_kind      text NOT NULL CHECK (target_kind IN ('idea', 'sub_concept', 'strategy')),
    target_id        uuid NOT NULL,
    parent_id        uuid REFERENCES comments (id),
    strategy_version int,
    author_id        text NOT NULL,  -- opaque token subject, never shown
    text             text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'published', 'hidden')),
    hidden_reason    text,
    created_at       timestamptz NOT NULL,
    published_at     timestamptz,
    moderated_at     timestamptz
);
CREATE INDEX comments_by_target ON comments (target_kind, target_id, created_at);
CREATE INDEX comments_by_status ON comments (municipality, status, created_at);

-- One abuse report per reporter and comment.
CREATE TABLE comment_reports (
    comment_id  uuid NOT NULL REFERENCES comments (id),
    reporter_id text NOT NULL,  -- opaque token subject
    reason      text NOT NULL,
    reported_at timestamptz NOT NULL,
    PRIMARY KEY (comment_id, reporter_id)
);

-- Per municipality: 'pre' (a comment waits for a moderator) or 'post' (visible at once). None: 'pre'.
CREATE TABLE comment_moderation (
    municipality text PRIMARY KEY REFERENCES municipalities (slug),
    mode         text NOT NULL CHECK (mode IN ('pre', 'post')),
    changed_at   timestamptz NOT NULL
);
