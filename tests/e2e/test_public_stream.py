"""End to end: what a subscriber outside the project sees on the bus."""
import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import eventlet
import jsonschema
import pytest
from amqp.exceptions import NotFound
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_rabbitmq
from cloudevents.core.formats.json import JSONFormat

from services.ideas import use_cases
from services.ideas.commands import SubmitIdea
from services.ideas.repository import IdeasRepository
from shared.db import Pool, SqlUnitOfWork
from shared.envelope import make_event
from tests.conftest import SUBSCRIBER
from tests.fixtures import broker_uri, wait_for
from tests.ideas.test_api import IDEA, submit

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def published_schema(event_type):
    return json.loads((ROOT / "docs" / "events" / "schemas" / f"{event_type}.json").read_text())


def test_an_idea_posted_over_http_reaches_a_plain_kombu_consumer_as_a_valid_envelope(ideas_api, auth, tap):
    consumer = tap("ideas.events", "IdeaSubmitted")
    idea = submit(ideas_api, auth, subject="pseudonym-81")
    [event] = consumer.wait("IdeaSubmitted", where=lambda e: e["subject"] == idea["id"])
    jsonschema.validate(event, published_schema("IdeaSubmitted"))
    assert event["data"]["idea_id"] == idea["id"]
    assert event["data"]["author_id"] == "pseudonym-81"
    assert "description" not in event["data"]  # not public before moderation
    message = consumer.messages[-1]
    assert message.properties["user_id"] == "ideas"  # the publisher, as the broker checked it
    assert message.content_type == "application/cloudevents+json"
    assert message.properties["message_id"] == event["id"]
    assert message.delivery_info["routing_key"] == "IdeaSubmitted"
    # the official CloudEvents SDK's RabbitMQ binding reads the message as it came off the broker
    parsed = from_rabbitmq(RabbitMQMessage(headers=message.headers or {}, content_type=message.content_type,
                                           body=message.body), JSONFormat())
    assert (parsed.get_id(), parsed.get_type(), parsed.get_source()) == (event["id"], "IdeaSubmitted",
                                                                         "/smartcity/ideas")
    assert parsed.get_data()["idea_id"] == idea["id"]


def test_every_event_of_a_full_idea_life_validates_against_its_published_schema(ideas_api, auth, tap):
    consumer = tap("ideas.events")
    idea = submit(ideas_api, auth)
    ideas_api("POST", f"/api/v1/ideas/{idea['id']}/moderation", json={"decision": "publish"},
              headers=auth("moderator"))
    ideas_api("POST", f"/api/v1/ideas/{idea['id']}/status", json={"status": "shortlisted"}, headers=auth("staff"))
    milestone = ideas_api("POST", "/api/v1/milestones", headers=auth("staff"),
                          json={"municipality": "gera", "title": "Ausschreibung", "due_date": "2099-01-01"}).json()
    ideas_api("POST", f"/api/v1/milestones/{milestone['id']}/reached", json={}, headers=auth("staff"))
    for event_type in ("IdeaSubmitted", "IdeaPublished", "IdeaStatusChanged", "MilestoneScheduled",
                       "MilestoneReached"):
        for event in consumer.wait(event_type):
            jsonschema.validate(event, published_schema(event_type))


def consumers(amqp, queue):
    try:
        return amqp.channel().queue_declare(queue, passive=True).consumer_count
    except NotFound:  # not declared yet
        return 0


def test_the_readme_subscriber_example_works_as_an_outside_subscriber_and_skips_forgeries(
        ideas_api, auth, amqp, publish_event):
    example = (ROOT / "docs" / "examples" / "subscribe.py").read_text()
    assert example.strip() in (ROOT / "README.md").read_text(), "README must show docs/examples/subscribe.py"
    namespace = {}
    exec(compile(example, "subscribe.py", "exec"), namespace)

    queue = f"{SUBSCRIBER}.example-test"
    amqp.channel().queue_delete(queue)
    received = []
    subscriber = eventlet.spawn(namespace["subscribe"], broker_uri(SUBSCRIBER),
                                queue, [("ideas.events", "IdeaPublished")],
                                received.append, max_messages=1, idle_timeout=10)
    wait_for(lambda: consumers(amqp, queue) == 1, message="the example's queue bound and consumed")
    # another service's user slips a fake IdeaPublished into the queue: the example skips it
    forged = make_event("ideas", "IdeaPublished", {
        "idea_id": uuid.uuid4(), "municipality": "gera", "field_of_action": "energie", "title": "Gefälscht",
        "channel": "form", "author_id": "x", "published_at": datetime.now(timezone.utc)})
    publish_event("ideas", "IdeaPublished", envelope=forged, as_user=broker_uri("voting"), queue=queue)
    idea = submit(ideas_api, auth)
    ideas_api("POST", f"/api/v1/ideas/{idea['id']}/moderation", json={"decision": "publish"},
              headers=auth("moderator"))
    subscriber.wait()
    assert [(e["type"], e["subject"]) for e in received] == [("IdeaPublished", idea["id"])]
    amqp.channel().queue_delete(queue)


def test_an_event_committed_by_a_service_that_died_before_publishing_is_still_delivered(
        ideas_service, ideas_database, ideas_sql, tap):
    """The state change and its outbox row committed; the process died before its relay published.

    The use case below is exactly what the HTTP worker runs, but nothing hands its ids to a relay
    (the process is gone). The service that is up (after the restart) sweeps the row out.
    """
    consumer = tap("ideas.events", "IdeaSubmitted")
    pool = Pool(ideas_database, 1)
    try:
        idea = use_cases.submit_idea(SqlUnitOfWork("ideas", pool, IdeasRepository),
                                     SubmitIdea(author_id="survivor", **{**IDEA, "location": None}),
                                     use_cases.KnownFields())
    finally:
        pool.close()
    assert ideas_sql("SELECT sent_at FROM outbox") == [(None,)]
    consumer.wait("IdeaSubmitted", where=lambda e: e["subject"] == str(idea["id"]))
    wait_for(lambda: ideas_sql("SELECT sent_at IS NOT NULL FROM outbox") == [(True,)], message="row marked sent")
    consumer.settle(1.0)  # several more sweeps: the row is not sent again
    assert len(consumer.events("IdeaSubmitted", where=lambda e: e["subject"] == str(idea["id"]))) == 1
