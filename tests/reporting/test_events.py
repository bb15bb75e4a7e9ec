"""The reporting service consuming every event type: log, projections, once only, dead letters, restart, rebuild."""
import json
import random
import uuid
from datetime import timedelta

import pytest

from bench.event_stream import PROCESS_TYPES, T0, envelope, every_type, mixed_stream
from services.reporting import domain
from services.reporting.projector import PROCESS_TABLES
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


def publish_all(publish_event, events):
    for event in events:
        publish_event(service_of(event["type"]), event["type"], envelope=event)


def test_every_event_type_is_logged_once_and_projected(reporting_service, reporting_sql, reporting_settings,
                                                      publish_event):
    events = every_type()
    publish_all(publish_event, events)
    wait_applied(reporting_sql, len(CATALOGUE))
    rows = projections(reporting_sql)
    one_each = ("ideas", "votes", "support_thresholds", "pilot_decisions", "milestones", "notifications",
                "participants", "working_groups", "group_members", "competitions", "competition_shortlist",
                "sponsorships", "sub_concepts", "idea_integrations", "strategy_versions", "strategy_sub_concepts",
                "comments", "meetings", "surveys")
    assert {table: len(rows[table]) for table in one_each} == dict.fromkeys(one_each, 1)
    assert len(rows["survey_results"]) == 2
    assert reporting_sql("SELECT sum(events) FROM event_counts")[0][0] == len(CATALOGUE)
    assert reporting_sql("SELECT sum(events) FROM event_lag")[0][0] == len(CATALOGUE)
    # what the process's events set, each in its own projection (the last of each kind wins)
    assert reporting_sql("SELECT name, kind FROM working_groups") == [("Energie und Umwelt", "working_group")]
    assert reporting_sql("SELECT present FROM group_members") == [(False,)]  # added, then removed
    assert reporting_sql("SELECT state, reports FROM comments") == [("hidden", 1)]
    assert reporting_sql("SELECT registered, cancel_reason FROM meetings") == [(0, "ill")]
    assert reporting_sql("SELECT outcome FROM strategy_versions") == [("returned",)]  # a minute after adoption
    assert reporting_sql("SELECT public_name FROM sponsorships WHERE accepted_at IS NOT NULL") == [
        ("Stadtwerke Gera",)]
    assert reporting_sql("SELECT count(*) FROM ideas WHERE working_group_id IS NOT NULL"
                         " AND competition_id IS NOT NULL")[0][0] == 1
    logged = json.dumps(reporting_sql("SELECT data FROM event_log"))
    for person in ("alice", "bob", "carol", "dave"):  # authors, members, sponsors, attendees
        assert f'"{person}"' not in logged
        assert domain.participant_of(reporting_settings.pseudonym_key, person) in logged


def test_an_older_notification_counts_for_its_triggers_municipality(reporting_service, reporting_sql, reporting_api,
                                                                   publish_event):
    trigger = envelope("IdeaPublished", uuid.uuid4(), municipality="grossenhain")
    publish_event("ideas", "IdeaPublished", envelope=trigger)
    wait_applied(reporting_sql, 1)
    older = envelope("NotificationSent", uuid.uuid4(), trigger_event_id=trigger["id"])  # no municipality
    newer = envelope("NotificationFailed", uuid.uuid4(), municipality="gera")
    publish_all(publish_event, [older, newer])
    wait_applied(reporting_sql, 3)
    summaries = {place: reporting_api("GET", "/api/v1/summary" + (f"?municipality={place}" if place else "")).json()
                 for place in ("grossenhain", "gera", None)}
    assert summaries["grossenhain"]["notifications"] == {"sent": {"email": 1}, "failed": {}}
    assert summaries["gera"]["notifications"] == {"sent": {}, "failed": {"email": 1}}
    assert summaries[None]["notifications"] == {"sent": {"email": 1}, "failed": {"email": 1}}


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
    events = mixed_stream(ideas=12, seed=7) + every_type(types=PROCESS_TYPES) + every_type(
        T0 + timedelta(days=2), types=PROCESS_TYPES, municipality="grossenhain")
    shuffled = events + random.Random(3).sample(events, 20)
    random.Random(4).shuffle(shuffled)
    publish_all(publish_event, shuffled)
    wait_applied(reporting_sql, len(events))
    live = projections(reporting_sql)
    assert live["ideas"] and live["event_lag"]
    assert all(live[table] for table in PROCESS_TABLES)  # the strategy process's projections too

    assert cli.main(["reporting", "rebuild"]) == 0
    assert projections(reporting_sql) == live
    out = capsys.readouterr()
    assert f"{len(events)}/{len(events)} events" in out.err  # the progress bar
    assert f"from {len(events)} events" in out.out
