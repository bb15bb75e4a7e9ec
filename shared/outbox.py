"""Transactional outbox: events are rows written in the state change's own transaction.

`Outbox` (a DependencyProvider) gives each worker a writer. When the worker ends, the ids it
wrote are handed to a relay greenthread that publishes them with publisher confirms and marks
them sent. A periodic sweep publishes rows left behind (a crash between commit and publish).
Rows are locked while published (FOR UPDATE SKIP LOCKED), so replicas do not send twice;
a crash after the broker confirmed but before the row was marked sends it again, which the
consumers' inbox absorbs: delivery is at-least-once, effects exactly once.
"""
import json
import logging

import eventlet
from eventlet.queue import Empty, LightQueue
from nameko.extensions import DependencyProvider
from psycopg2.extras import execute_values

from shared import metrics
from shared.amqp import Publisher, event_exchange
from shared.config import settings_of
from shared.db import Pool
from shared.envelope import CONTENT_TYPE, exchange_of, make_event

log = logging.getLogger(__name__)

BATCH = 200

_SELECT_IDS = (
    "SELECT id, exchange, routing_key, body FROM outbox"
    " WHERE id = ANY(%s::uuid[]) AND sent_at IS NULL ORDER BY created_at FOR UPDATE SKIP LOCKED"
)
_SELECT_LEFT_BEHIND = (
    "SELECT id, exchange, routing_key, body FROM outbox"
    " WHERE sent_at IS NULL AND created_at < clock_timestamp() - make_interval(secs => %s)"
    " ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED"
)


def write(cur, service, event_type, data, subject=None):
    """Validate an event and store it in the outbox inside the caller's transaction."""
    envelope = make_event(service, event_type, data, subject=subject)
    cur.execute(
        "INSERT INTO outbox (id, exchange, routing_key, body) VALUES (%s, %s, %s, %s)",
        (envelope["id"], exchange_of(service), event_type, json.dumps(envelope)),
    )
    return envelope


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


def write_many(cur, service, event_type, datas):
    """Like `write` for many events of one type (without subject), in one INSERT: for fan-outs."""
    envelopes = [make_event(service, event_type, data) for data in datas]
    execute_values(cur, "INSERT INTO outbox (id, exchange, routing_key, body) VALUES %s",
                   [(e["id"], exchange_of(service), event_type, json.dumps(e)) for e in envelopes])
    return envelopes


class OutboxWriter:
    """What a worker sees: `add(cur, type, data, subject)` inside its transaction."""

    def __init__(self, service):
        self.service = service
        self.written = []

    def add(self, cur, event_type, data, subject=None):
        envelope = write(cur, self.service, event_type, data, subject)
        self.written.append(envelope["id"])
        return envelope

    def add_many(self, cur, event_type, datas):
        envelopes = write_many(cur, self.service, event_type, datas)
        self.written.extend(envelope["id"] for envelope in envelopes)
        return envelopes


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
        while self.running or self.pending.qsize():
            ids = self._take_pending()
            try:
                if ids:
                    self.publish_ids(ids)
                else:
                    self.sweep()
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
        return self._publish(_SELECT_IDS, ([str(i) for i in ids],))

    def sweep(self):
        """Publish rows older than min_age that nobody sent (left behind by a crash or outage)."""
        return self._publish(_SELECT_LEFT_BEHIND, (self.min_age_seconds, BATCH))

    def _publish(self, query, params):
        with self.pool.transaction() as cur:
            cur.execute(query, params)
            rows = cur.fetchall()
            if not rows:
                return 0  # nothing to send: no broker round trip
            self.publisher.publish_many(_messages(rows))
            for row in rows:
                metrics.EVENTS_PUBLISHED.labels(self.service, row["routing_key"]).inc()
            cur.execute("UPDATE outbox SET sent_at = clock_timestamp() WHERE id = ANY(%s::uuid[])",
                        ([str(r["id"]) for r in rows],))
        return len(rows)

    def stop(self):
        self.running = False


class Outbox(DependencyProvider):
    """Injects an OutboxWriter per worker and runs the relay for the service's lifetime."""

    def setup(self):
        settings = settings_of(self.container)
        self.pool = Pool(settings.database_url, 2)
        self.publisher = Publisher(settings.amqp_uri)
        self.relay = Relay(
            self.container.service_name, self.pool, self.publisher,
            settings.outbox_sweep_seconds, settings.outbox_min_age_seconds,
        )
        self._gt = None
        self._writers = {}

    def start(self):
        self._gt = self.container.spawn_managed_thread(self.relay.run, identifier="outbox-relay")

    def stop(self):
        # Workers are done by now: flush what they wrote, then release the connections.
        self.relay.stop()
        if self._gt is not None:
            self._gt.wait()
        self._close()

    def kill(self):
        self.relay.stop()
        self._close()

    def _close(self):
        self.publisher.close()
        self.pool.close()

    def get_dependency(self, worker_ctx):
        writer = OutboxWriter(self.container.service_name)
        self._writers[worker_ctx] = writer
        return writer

    def worker_teardown(self, worker_ctx):
        # The worker's transactions are over; ids of rolled-back rows simply match nothing.
        writer = self._writers.pop(worker_ctx, None)
        if writer is not None and writer.written:
            self.relay.notify(writer.written)
