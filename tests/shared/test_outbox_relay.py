"""The outbox relay claims and marks rows in one statement and commits the mark only after the broker
confirmed: a publish that fails leaves every row unsent, one that succeeds sends them in order."""
import uuid
from datetime import date, datetime, timezone

import eventlet
import pytest

from shared import outbox
from shared.amqp import Publisher
from shared.db import Pool
from shared.envelope import make_event

pytestmark = pytest.mark.integration

UNREACHABLE_BROKER = "amqp://guest:guest@127.0.0.1:1/"


def milestone(n):
    return make_event("ideas", "MilestoneScheduled", {
        "milestone_id": uuid.uuid4(), "municipality": "gera", "title": f"Meilenstein {n}",
        "due_date": date(2021, 3, 31), "idea_id": None, "scheduled_at": datetime(2021, 1, 14, tzinfo=timezone.utc)})


def relay(database, amqp_uri):
    return outbox.Relay("ideas", Pool(database, 1), Publisher(amqp_uri), 1, 0)


def test_a_failed_publish_leaves_the_rows_unsent_and_the_next_one_sends_them_in_order(
        ideas_database, ideas_sql, amqp_uri, tap):
    events = [milestone(n) for n in range(3)]
    pool = Pool(ideas_database, 1)
    try:
        for event in events:  # one transaction each: created_at orders them
            with pool.transaction() as cur:
                outbox.insert(cur, "ideas", [event])
    finally:
        pool.close()
    ids = [event["id"] for event in events]
    # created in the future (same order): a running ideas service's sweep of left-behind rows keeps off them
    ideas_sql("UPDATE outbox SET created_at = created_at + interval '1 hour' WHERE id = ANY(%s::uuid[])", (ids,))

    failing = relay(ideas_database, UNREACHABLE_BROKER)
    try:
        with pytest.raises(Exception):
            failing.publish_ids(ids[::-1])
    finally:
        failing.close()
    assert ideas_sql("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == [(3,)]

    subscriber = tap("ideas.events", "MilestoneScheduled")
    working = relay(ideas_database, amqp_uri)
    try:
        assert working.publish_ids(ids[::-1]) == 3
        assert working.publish_ids(ids) == 0  # marked: not sent twice
    finally:
        working.close()
    assert [event["id"] for event in subscriber.wait("MilestoneScheduled", 3)] == ids
    assert ideas_sql("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == [(0,)]


class CountingRelay(outbox.Relay):
    """The relay's loop with the database and broker work replaced by counters."""

    def __init__(self):
        super().__init__("ideas", pool=None, publisher=None, sweep_seconds=0.1, min_age_seconds=0)
        self.sweeps = self.published = 0

    def run(self):
        self.publisher = type("NoBroker", (), {"declare": lambda self, *entities: None})()
        super().run()

    def sweep(self):
        self.sweeps += 1

    def publish_ids(self, ids):
        self.published += len(ids)


def test_rows_left_behind_are_swept_while_new_rows_keep_coming():
    """Under steady load the relay always has new ids; the sweep must still come round every sweep_seconds,
    or rows a failed publish left behind wait until the load pauses (the node-kill drill saw 16 s)."""
    relay = CountingRelay()
    runner = eventlet.spawn(relay.run)
    for n in range(100):  # a new row every 10 ms for a second: never 0.1 s without one
        relay.notify([uuid.uuid4()])
        eventlet.sleep(0.01)
    relay.stop()
    runner.wait()
    assert relay.published == 100
    assert relay.sweeps >= 5
