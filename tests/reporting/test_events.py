"""The reporting service consuming every event type: log, projections, once only, dead letters, restart, rebuild."""
import json
import random
import uuid
from datetime import timedelta

import pytest

from bench.event_stream import T0, envelope, mixed_stream
from services.reporting import domain
from shared import cli, dead_letters
from shared.events import CATALOGUE, service_of
from tests.fixtures import http_client, wait_for
from tests.reporting.helpers import domain_metrics, metric, projections, wait_applied

pytestmark = pytest.mark.integration


@pytest.fixture
def fast_teardown():
    """Overrides nameko's autouse fixture, which stops every consumer created during a test: the
    container the restart test starts must go on consuming for the tests after it."""
    yield


def one_of_each(idea_id, milestone_id, notification_id):
    entity = {"Milestone": milestone_id, "Notification": notification_id}
    return [envelope(kind, next((v for k, v in entity.items() if kind.startswith(k)), idea_id),
                     T0 + timedelta(minutes=i))
            for i, kind in enumerate(CATALOGUE)]


def publish_all(publish_event, events):
    for event in events:
        publish_event(service_of(event["type"]), event["type"], envelope=event)


def test_every_event_type_is_logged_once_and_projected(reporting_service, reporting_sql, reporting_settings,
                                                      publish_event):
    idea_id, milestone_id, notification_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    events = one_of_each(idea_id, milestone_id, notification_id)
    publish_all(publish_event, events)
    wait_applied(reporting_sql, len(CATALOGUE))
    rows = projections(reporting_sql)
    assert {table: len(rows[table]) for table in ("ideas", "votes", "support_thresholds", "pilot_decisions",
                                                   "milestones", "notifications", "participants")} == {
        "ideas": 1, "votes": 1, "support_thresholds": 1, "pilot_decisions": 1, "milestones": 1,
        "notifications": 1, "participants": 1}
    assert reporting_sql("SELECT sum(events) FROM event_counts")[0][0] == len(CATALOGUE)
    assert reporting_sql("SELECT sum(events) FROM event_lag")[0][0] == len(CATALOGUE)
    logged = json.dumps(reporting_sql("SELECT data FROM event_log"))
    assert '"alice"' not in logged and domain.participant_of(reporting_settings.pseudonym_key, "alice") in logged


def test_a_redelivered_event_is_applied_once(reporting_service, reporting_sql, publish_event):
    event = envelope("VoteCast", uuid.uuid4(), total=3)
    for _ in range(3):
        publish_event("voting", "VoteCast", envelope=event)
    wait_applied(reporting_sql, 1)
    wait_for(lambda: reporting_sql("SELECT events FROM event_counts")[0][0] == 1)
    assert reporting_sql("SELECT total FROM votes")[0][0] == 3


@pytest.mark.parametrize("raw", [
    b"{not json",
    json.dumps({"specversion": "1.0", "type": "VoteCast"}).encode(),
    json.dumps({**envelope("VoteCast", uuid.uuid4()), "data": {"idea_id": "not-a-uuid"}}).encode(),
], ids=["not-json", "no-envelope", "invalid-data"])
def test_malformed_events_are_dead_lettered_not_applied(reporting_service, reporting_sql, amqp_uri, publish_event,
                                                        raw):
    publish_event("voting", "VoteCast", raw=raw)
    parked = wait_for(lambda: dead_letters.list_parked(amqp_uri, "reporting"), message="parked message")
    assert [p.reason for p in parked] == ["malformed"]
    assert reporting_sql("SELECT count(*) FROM event_log")[0][0] == 0


def observed(reporting_url):
    """/metrics and the summary, over a connection of its own (keep-alive ones end with the container)."""
    call, close = http_client(reporting_url)
    try:
        return domain_metrics(call), call("GET", "/api/v1/summary").json()
    finally:
        close()


def test_a_restart_keeps_every_value_and_catches_up(reporting_service, reporting_sql, reporting_url, publish_event):
    events = mixed_stream(ideas=6)
    publish_all(publish_event, events)
    wait_applied(reporting_sql, len(events))
    before = observed(reporting_url)
    assert metric(before[0], "smartcity_reporting_events_applied_total", type="IdeaSubmitted") == 6

    reporting_service.restart()
    assert observed(reporting_url) == before

    reporting_service.stop()  # events published while it is down wait in its queue
    late = envelope("IdeaSubmitted", uuid.uuid4(), T0 + timedelta(days=30))
    publish_event("ideas", "IdeaSubmitted", envelope=late)
    reporting_service.start()
    wait_applied(reporting_sql, len(events) + 1)


def test_a_rebuild_gives_identical_projections(reporting_service, reporting_sql, publish_event, capsys):
    events = mixed_stream(ideas=12, seed=7)
    shuffled = events + random.Random(3).sample(events, 20)
    random.Random(4).shuffle(shuffled)
    publish_all(publish_event, shuffled)
    wait_applied(reporting_sql, len(events))
    live = projections(reporting_sql)
    assert live["ideas"] and live["event_lag"]

    assert cli.main(["reporting", "rebuild"]) == 0
    assert projections(reporting_sql) == live
    out = capsys.readouterr()
    assert f"{len(events)}/{len(events)} events" in out.err  # the progress bar
    assert f"from {len(events)} events" in out.out
