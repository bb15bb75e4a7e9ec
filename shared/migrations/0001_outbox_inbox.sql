-- Transactional outbox: rows are written in the same transaction as the state change.
CREATE TABLE outbox (
    id          uuid PRIMARY KEY,              -- the CloudEvents id
    exchange    text        NOT NULL,
    routing_key text        NOT NULL,
    body        text        NOT NULL,          -- the serialized envelope, published as is
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at     timestamptz
);
CREATE INDEX outbox_unsent ON outbox (created_at) WHERE sent_at IS NULL;

-- Inbox: an event id is applied at most once per consumer, in the same transaction as its effect.
CREATE TABLE inbox (
    consumer    text        NOT NULL,
    event_id    text        NOT NULL,
    event_type  text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
