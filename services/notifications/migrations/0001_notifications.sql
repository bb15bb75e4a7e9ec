-- Subscribers: an e-mail address with a language and a digest rhythm. Double opt-in: mail goes
-- out only after confirmed_at (the recorded consent) is set through the one-time confirm_token.
CREATE TABLE subscribers (
    id                 uuid PRIMARY KEY,
    email              text        NOT NULL,
    language           text        NOT NULL CHECK (language IN ('de', 'en')),
    digest             text        NOT NULL CHECK (digest IN ('immediate', 'daily', 'weekly')),
    subject            text,                   -- token subject when subscribed signed in: links the author
    access_token       text        NOT NULL UNIQUE,  -- in every mail: unsubscribe, export, delete, change
    confirm_token      text        UNIQUE,     -- one-time; NULL once used
    confirm_expires_at timestamptz,
    created_at         timestamptz NOT NULL,
    confirmed_at       timestamptz,            -- consent given
    unsubscribed_at    timestamptz
);
CREATE UNIQUE INDEX subscribers_email ON subscribers (lower(email));
CREATE UNIQUE INDEX subscribers_subject ON subscribers (subject) WHERE subject IS NOT NULL;

-- 'idea:<uuid>', 'field:<municipality>/<field>', 'milestones:<m>', 'pilot_decisions:<m>', 'announcements:<m>'
CREATE TABLE subscriptions (
    subscriber_id uuid NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    topic         text NOT NULL,
    PRIMARY KEY (subscriber_id, topic)
);
CREATE INDEX subscriptions_by_topic ON subscriptions (topic, subscriber_id);

-- Other city systems, told by signed HTTP POSTs.
CREATE TABLE webhooks (
    id                   uuid PRIMARY KEY,
    url                  text        NOT NULL,
    secret               text        NOT NULL,  -- HMAC-SHA256 key, shown once at registration
    event_types          text[]      NOT NULL,
    municipality         text,                   -- NULL: every municipality
    description          text,
    created_at           timestamptz NOT NULL,
    consecutive_failures int         NOT NULL DEFAULT 0,
    disabled_at          timestamptz
);

-- What this service learned about ideas from events: titles for mails, authors for their notices.
CREATE TABLE ideas (
    id              uuid PRIMARY KEY,
    municipality    text NOT NULL,
    field_of_action text NOT NULL,
    title           text,
    author_id       text
);

CREATE TABLE announcements (
    id           uuid PRIMARY KEY,
    municipality text        NOT NULL,
    title        text        NOT NULL,
    starts_at    timestamptz NOT NULL,
    place        text,
    link         text,
    description  text,
    created_at   timestamptz NOT NULL,
    CHECK (place IS NOT NULL OR link IS NOT NULL)
);
CREATE INDEX announcements_by_municipality ON announcements (municipality, starts_at DESC);

-- What a notification is about: an event (its CloudEvents id), an announcement or a confirmation.
-- `content` is what mails, webhooks and the feed show; it holds no personal data.
CREATE TABLE triggers (
    event_id    text PRIMARY KEY,
    type        text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    content     jsonb       NOT NULL
);

-- The delivery log: one row per trigger, channel and recipient. The unique key is the dedupe:
-- however often an event is redelivered, a recipient gets it once per channel.
CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,        -- notification_id in NotificationSent / NotificationFailed
    trigger_event_id text        NOT NULL REFERENCES triggers (event_id),
    channel          text        NOT NULL CHECK (channel IN ('email', 'webhook')),
    subscriber_id    uuid REFERENCES subscribers (id) ON DELETE CASCADE,
    webhook_id       uuid REFERENCES webhooks (id) ON DELETE CASCADE,
    recipient_id     uuid GENERATED ALWAYS AS (coalesce(subscriber_id, webhook_id)) STORED,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    due_at           timestamptz NOT NULL,    -- later than created_at for daily and weekly digests
    next_attempt_at  timestamptz NOT NULL,
    attempts         int         NOT NULL DEFAULT 0,
    last_error       text,
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz,
    failed_at        timestamptz,
    UNIQUE (trigger_event_id, channel, recipient_id),
    CHECK ((subscriber_id IS NULL) <> (webhook_id IS NULL))
);
CREATE INDEX deliveries_due ON deliveries (channel, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_subscriber ON deliveries (subscriber_id) WHERE subscriber_id IS NOT NULL;
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id) WHERE webhook_id IS NOT NULL;

-- The in-app feed of a token subject, with read markers; unique: once per subject and trigger.
CREATE TABLE feed_items (
    id               uuid PRIMARY KEY,
    subject          text        NOT NULL,
    trigger_event_id text        NOT NULL REFERENCES triggers (event_id),
    created_at       timestamptz NOT NULL,
    read_at          timestamptz,
    UNIQUE (subject, trigger_event_id)
);
CREATE INDEX feed_by_subject ON feed_items (subject, created_at DESC);
