"""The strategy process's events (issue 14) through the real service, broker, database and SMTP sink:
sponsors hear of their idea's progress, a reply reaches the comment's author, a meeting's registrant
gets a confirmation and one reminder, and what is sent names the trigger's municipality."""
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.fixtures import wait_for
from tests.notifications.conftest import text_of
from tests.notifications.steps import idea_published, pilot_approved, subscribed

pytestmark = pytest.mark.integration

GERA = {"municipality": "gera"}


def now():
    return datetime.now(timezone.utc)


def test_a_sponsor_hears_of_acceptance_and_of_the_pilot_decision(notifications_api, notifications_sql, mailbox, auth,
                                                                 publish_event, tap):
    idea_id = uuid.uuid4()
    subscribed(notifications_api, mailbox, "paten@example.org", headers=auth("citizen", subject="stadtwerke"))
    sent = tap("notifications.events", "NotificationSent")
    publish_event("ideas", "IdeaPublished", idea_published("author-1", "Ladesäulen am Bahnhof", idea_id=idea_id))
    wait_for(lambda: notifications_sql("SELECT count(*) FROM ideas") == [(1,)], message="the idea known")
    publish_event("ideas", "SponsorAccepted", {
        "idea_id": idea_id, **GERA, "field_of_action": "energie", "sponsorship_id": uuid.uuid4(),
        "sponsor_kind": "company", "sponsor_id": "stadtwerke", "public_name": "Stadtwerke Gera AG",
        "accepted_at": now()})
    [accepted] = mailbox.wait(1, to="paten@example.org")
    assert accepted["Subject"] == "Neue Ideenpatenschaft für „Ladesäulen am Bahnhof“"
    publish_event("voting", "PilotApproved", pilot_approved(idea_id=idea_id))
    decided = mailbox.wait(2, to="paten@example.org")[-1]
    assert decided["Subject"] == "Pilotprojekt beschlossen: „Ladesäulen am Bahnhof“"
    # the outcome events say where: reporting filters its notification figures by municipality
    outcomes = sent.wait("NotificationSent", count=4)  # two mails, two feed items
    assert {event["data"]["municipality"] for event in outcomes} == {"gera"}


def test_a_reply_reaches_the_author_of_the_comment_it_answers(notifications_api, notifications_sql, mailbox, auth,
                                                             publish_event):
    subscribed(notifications_api, mailbox, "anna@example.org", headers=auth("citizen", subject="anna"), language="en")
    strategy_id, parent_id = uuid.uuid4(), uuid.uuid4()
    publish_event("ideas", "StrategyDraftPublished", {
        "strategy_id": strategy_id, **GERA, "version": 1, "title": "Smarte Stadt Gera", "sub_concept_ids": [],
        "feedback_until": now() + timedelta(days=30), "published_at": now()})
    comment = {**GERA, "target_kind": "strategy", "target_id": strategy_id, "visible": True, "posted_at": now()}
    publish_event("ideas", "CommentPosted", {**comment, "comment_id": parent_id, "author_id": "anna"})
    # events of one queue are handled in parallel: a reply comes later than its parent, as people write
    wait_for(lambda: notifications_sql("SELECT (SELECT count(*) FROM comments), (SELECT count(*) FROM known_names)")
             == [(1, 1)], message="the comment and the strategy's name kept")
    publish_event("ideas", "CommentPosted", {**comment, "comment_id": uuid.uuid4(), "parent_id": parent_id,
                                             "author_id": "bernd"})
    [reply] = mailbox.wait(1, to="anna@example.org")
    assert reply["Subject"] == "A reply to your comment on the strategy draft “Smarte Stadt Gera”"


def test_a_registrant_is_confirmed_and_reminded_once(notifications_api, notifications_sql, mailbox, auth,
                                                    publish_event):
    subscribed(notifications_api, mailbox, "carla@example.org", headers=auth("citizen", subject="carla"))
    subscribed(notifications_api, mailbox, "termine@example.org", [{"kind": "meetings", **GERA}])
    meeting_id, starts = uuid.uuid4(), now() + timedelta(seconds=10)  # reminders: 7.2 s before (conftest)
    publish_event("ideas", "MeetingScheduled", {
        "meeting_id": meeting_id, **GERA, "working_group_id": None, "kind": "plenary", "title": "5. Vollversammlung",
        "starts_at": starts, "ends_at": starts + timedelta(hours=2), "place": "Rathaus Gera, Festsaal",
        "online_url": None, "capacity": None, "scheduled_at": now()})
    [scheduled] = mailbox.wait(1, to="termine@example.org")
    assert scheduled["Subject"].startswith("Vollversammlung: 5. Vollversammlung am ")
    publish_event("ideas", "MeetingRegistered", {
        "meeting_id": meeting_id, **GERA, "working_group_id": None, "attendee_id": "carla", "registered": 1,
        "capacity": None, "registered_at": now()})
    [confirmation] = mailbox.wait(1, to="carla@example.org")
    assert confirmation["Subject"] == "Sie sind angemeldet: 5. Vollversammlung"
    [reminder] = [m for m in mailbox.wait(2, to="carla@example.org", timeout=15) if m is not confirmation
                  and m["Subject"] != confirmation["Subject"]]
    assert reminder["Subject"].startswith("Erinnerung: 5. Vollversammlung am ")
    assert "Ort: Rathaus Gera, Festsaal." in text_of(reminder)
    time.sleep(1)  # the timer runs every 0.3 s: still one reminder
    assert len(mailbox.messages("carla@example.org")) == 2
    assert notifications_sql("SELECT count(*) FROM deliveries d JOIN triggers t ON t.event_id = d.trigger_event_id"
                             " WHERE t.type = 'MeetingReminder'") == [(1,)]
