"""Transactional outbox: events are rows written in the state change's own transaction.

A unit of work (shared.db.SqlUnitOfWork) inserts its events here at commit. When the worker
ends, the ids it wrote are handed to the `Relay` greenthread, which claims them and marks them
sent in one statement, publishes them with publisher confirms and only then commits the mark.
A periodic sweep publishes rows left behind (a crash between commit and publish, a publish that
failed), every `sweep_seconds` however busy the relay is.
Rows are locked while published (FOR UPDATE SKIP LOCKED), so replicas do not send twice;
a crash after the broker confirmed but before the mark committed sends them again, which the
consumers' inbox absorbs: delivery is at-least-once, effects exactly once.
"""
import json
import logging
import time

import eventlet
from eventlet.queue import Empty, LightQueue
from psycopg2.extras import execute_values

from shared import metrics
from shared.amqp import event_exchange
from shared.envelope import CONTENT_TYPE, exchange_of

log = logging.getLogger(__name__)

BATCH = 200

# Claim rows and mark them sent in one statement; the publish happens before the commit, so a
# failed publish rolls the mark back (and the lock keeps other replicas off the rows meanwhile).
_CLAIM = (
    "UPDATE outbox SET sent_at = clock_timestamp() WHERE id IN (SELECT id FROM outbox WHERE {} AND sent_at IS NULL"
    " ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id, exchange, routing_key, body, created_at"
)
_CLAIM_IDS = _CLAIM.format("id = ANY(%s::uuid[])")
_CLAIM_LEFT_BEHIND = _CLAIM.format("created_at < clock_timestamp() - make_interval(secs => %s)")


def insert(cur, service, envelopes):
    """Store a service's validated envelopes in the outbox, inside the caller's transaction, in one statement."""
    execute_values(cur, "INSERT INTO outbox (id, exchange, routing_key, body) VALUES %s",
                   [(e["id"], exchange_of(service), e["type"], json.dumps(e)) for e in envelopes])


def _messages(rows):
    return [dict(body=row["body"], exchange=row["exchange"], routing_key=row["routing_key"], content_type=CONTENT_TYPE,
                 message_id=str(row["id"]), declare=[event_exchange(row["exchange"])]) for row in rows]


def replay(pool, publisher, event_types=None):
    """Publish every event already sent (of `event_types`, oldest first) again, with the same ids.

    For a subscriber that joined late: its queues get the history, while consumers that applied
    an event before drop the copy (inbox; outside subscribers deduplicate on `id`).
    """
    with pool.transaction() as cur:
        cur.execute("SELECT id, exchange, routing_key, body FROM outbox WHERE sent_at IS NOT NULL"
                    " AND (%s::text[] IS NULL OR routing_key = ANY(%s)) ORDER BY created_at, id",
                    (event_types, event_types))
        rows = cur.fetchall()
    for start in range(0, len(rows), BATCH):
        publisher.publish_many(_messages(rows[start:start + BATCH]))
    return len(rows)


class Relay:
    """Publishes outbox rows: the ids it is handed at once, everything else on each sweep."""

    def __init__(self, service, pool, publisher, sweep_seconds, min_age_seconds):
        self.service = service
        self.pool = pool
        self.publisher = publisher
        self.sweep_seconds = sweep_seconds
        self.min_age_seconds = min_age_seconds
        self.pending = LightQueue()
        self.running = True

    def notify(self, ids):
        for event_id in ids:
            self.pending.put(event_id)

    def run(self):
        declared = False
        next_sweep = time.monotonic() + self.sweep_seconds
        while self.running or self.pending.qsize():
            try:
                if not declared:
                    # The service's exchange exists from its start, not from its first event: other
                    # services' consumers may only bind to it, and wait for it until it is there.
                    self.publisher.declare(event_exchange(exchange_of(self.service)))
                    declared = True
                # Every sweep_seconds even while new rows keep coming: rows a failed publish left
                # behind (a broker node lost under a batch) must not wait until the load pauses.
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self.sweep_seconds
                    self.sweep()
                ids = self._take_pending()
                if ids:
                    self.publish_ids(ids)
            except Exception:
                # Rows stay unsent; the next sweep picks them up once the broker or database is back.
                log.exception("outbox relay failed; retrying on the next sweep")
                eventlet.sleep(min(self.sweep_seconds, 1.0))

    def _take_pending(self):
        try:
            ids = [self.pending.get(timeout=self.sweep_seconds if self.running else 0.01)]
        except Empty:
            return []
        while len(ids) < BATCH:
            try:
                ids.append(self.pending.get_nowait())
            except Empty:
                break
        return ids

    def publish_ids(self, ids):
        return self._publish(_CLAIM_IDS, ([str(i) for i in ids], len(ids)))

    def sweep(self):
        """Publish rows older than min_age that nobody sent (left behind by a crash or outage)."""
        return self._publish(_CLAIM_LEFT_BEHIND, (self.min_age_seconds, BATCH))

    def _publish(self, query, params):
        """Claim and mark rows (one statement), publish them, commit: a failure anywhere leaves them unsent."""
        with self.pool.transaction() as cur:
            cur.execute(query, params)
            rows = sorted(cur.fetchall(), key=lambda row: row["created_at"])  # RETURNING has no order
            if not rows:
                return 0  # nothing to send: no broker round trip
            self.publisher.publish_many(_messages(rows))
            for row in rows:
                metrics.EVENTS_PUBLISHED.labels(self.service, row["routing_key"]).inc()
        return len(rows)

    def stop(self):
        self.running = False

    def close(self):
        self.publisher.close()
        self.pool.close()
