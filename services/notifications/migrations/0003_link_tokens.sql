-- The tokens in mail links, stored only as their SHA-256 hash and with an expiry: a copy of the
-- database opens no mailbox's links (once the plaintext columns are gone, see the end). `confirm` is the one-time link of the opt-in mail; `manage`
-- is in every mail (unsubscribe, see, change, export, delete) and each mail brings a fresh one.
CREATE TABLE link_tokens (
    token_hash    bytea       PRIMARY KEY,
    subscriber_id uuid        NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    purpose       text        NOT NULL CHECK (purpose IN ('confirm', 'manage')),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz              -- a confirm token once followed: a second visit says so
);
CREATE INDEX link_tokens_by_subscriber ON link_tokens (subscriber_id, purpose);
CREATE INDEX link_tokens_by_expiry ON link_tokens (expires_at);

-- Links already sent keep working until they expire: their tokens move over as hashes.
INSERT INTO link_tokens (token_hash, subscriber_id, purpose, created_at, expires_at)
    SELECT sha256(convert_to(access_token, 'UTF8')), id, 'manage', now(), now() + interval '60 days'
    FROM subscribers;
INSERT INTO link_tokens (token_hash, subscriber_id, purpose, created_at, expires_at)
    SELECT sha256(convert_to(confirm_token, 'UTF8')), id, 'confirm', now(), confirm_expires_at
    FROM subscribers WHERE confirm_token IS NOT NULL AND confirm_expires_at IS NOT NULL;

-- Expand, then contract (see "Migrations and rolling updates" in deploy/k8s/README.md): the previous
-- release still reads and writes the plaintext columns while its pods serve during the rolling update,
-- and again after a rollback; this release no longer writes them. They are dropped in the release
-- after this one (access_token, confirm_token, confirm_expires_at).
ALTER TABLE subscribers ALTER COLUMN access_token DROP NOT NULL;
