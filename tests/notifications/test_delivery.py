"""Events from ideas and voting reach the right people once, by mail and feed; outages delay, never lose."""
import json
import uuid
from datetime import datetime, timezone

import pytest

from shared import dead_letters
from shared.envelope import make_event
from tests.fixtures import wait_for
from tests.notifications.conftest import text_of
from tests.notifications.steps import (announce, idea_published, idea_submitted, milestone_reached, pilot_approved,
                                       public_idea, subscribed)

pytestmark = pytest.mark.integration

IDEA_ID = uuid.UUID("6f1c2a5e-1b2c-4d3e-8f40-5a6b7c8d9e01")


def deliveries(notifications_sql, status=None):
    rows = notifications_sql("SELECT d.status, t.type, d.attempts FROM deliveries d JOIN triggers t"
                             " ON t.event_id = d.trigger_event_id WHERE t.type <> 'SubscriptionConfirmation'"
                             " ORDER BY d.created_at")
    return [row for row in rows if status is None or row[0] == status]


def test_a_pilot_decision_reaches_pilot_decision_idea_and_field_subscribers_and_the_author_once_each(
        notifications_api, notifications_sql, ideas_sql, mailbox, auth, publish_event):
    public_idea(ideas_sql, IDEA_ID)
    subscribed(notifications_api, mailbox, "pilots@example.org", [{"kind": "pilot_decisions", "municipality": "gera"}])
    subscribed(notifications_api, mailbox, "idea@example.org", [{"kind": "idea", "idea_id": str(IDEA_ID)}],
               language="en")
    # the author also follows the field: still one mail
    subscribed(notifications_api, mailbox, "author@example.org",
               [{"kind": "field", "municipality": "gera", "field_of_action": "energie"}],
               headers=auth("citizen", subject="author-1"))
    subscribed(notifications_api, mailbox, "other@example.org", [{"kind": "pilot_decisions",
                                                                 "municipality": "grossenhain"}])
    publish_event("ideas", "IdeaSubmitted", idea_submitted("author-1", idea_id=IDEA_ID))
    [receipt] = mailbox.wait(1, to="author@example.org")
    assert receipt["Subject"] == "Ihre Idee „Solardächer auf Schulen“ ist eingegangen"
    mailbox.clear()

    publish_event("voting", "PilotApproved", pilot_approved(idea_id=IDEA_ID))
    mails = mailbox.wait(3)
    assert sorted(m["To"] for m in mails) == ["author@example.org", "idea@example.org", "pilots@example.org"]
    english = next(m for m in mails if m["To"] == "idea@example.org")
    assert english["Subject"] == "Pilot project approved: “Solardächer auf Schulen”"  # the title, remembered
    assert "7 for, 2 against, 1 abstention" in text_of(english)


def test_a_redelivered_event_reaches_each_recipient_once_per_channel(
        notifications_api, notifications_sql, mailbox, auth, publish_event):
    subscribed(notifications_api, mailbox, "greta@example.org", [{"kind": "pilot_decisions", "municipality": "gera"}],
               headers=auth("citizen", subject="greta"))
    event = make_event("voting", "PilotApproved", pilot_approved())
    for _ in range(3):
        publish_event("voting", "PilotApproved", envelope=event)
    assert len(mailbox.wait(1, to="greta@example.org")) == 1
    wait_for(lambda: deliveries(notifications_sql, "sent"), message="the delivery")
    # even past the inbox (a replay under another consumer name), the unique key holds
    notifications_sql("DELETE FROM inbox")
    publish_event("voting", "PilotApproved", envelope=event)
    wait_for(lambda: notifications_sql("SELECT count(*) FROM inbox")[0][0] == 1, message="the replay applied")
    assert len(mailbox.wait(1, to="greta@example.org")) == 1
    assert notifications_sql("SELECT count(*) FROM deliveries WHERE trigger_event_id = %s", (event["id"],)) == [(1,)]
    assert notifications_sql("SELECT count(*) FROM feed_items WHERE subject = 'greta'") == [(1,)]


def test_a_daily_digest_groups_by_field_and_idea_in_one_mail(
        notifications_api, notifications_sql, mailbox, auth, publish_event):
    subscribed(notifications_api, mailbox, "hanna@example.org", [
        {"kind": "field", "municipality": "gera", "field_of_action": "energie"},
        {"kind": "field", "municipality": "gera", "field_of_action": "umwelt"},
        {"kind": "milestones", "municipality": "gera"}], digest="daily")
    solar, trees = uuid.uuid4(), uuid.uuid4()
    publish_event("ideas", "IdeaPublished", idea_published("a", "Solardächer", idea_id=solar))
    publish_event("ideas", "IdeaPublished", idea_published("b", "Baumkataster", idea_id=trees, field="umwelt"))
    publish_event("voting", "PilotApproved", pilot_approved(idea_id=solar))
    publish_event("ideas", "MilestoneReached", milestone_reached("Gesamtstrategie verknüpft"))
    wait_for(lambda: len(deliveries(notifications_sql)) == 4, message="four deliveries")
    [(due_at,)] = notifications_sql("SELECT DISTINCT due_at FROM deliveries d JOIN triggers t"
                                    " ON t.event_id = d.trigger_event_id WHERE t.type <> 'SubscriptionConfirmation'")
    assert due_at > datetime.now(timezone.utc)  # tomorrow morning, not now
    assert mailbox.messages() == []

    notifications_sql("UPDATE deliveries SET due_at = now() WHERE status = 'pending'")  # the morning has come
    [digest] = mailbox.wait(1, to="hanna@example.org")
    assert digest["Subject"] == "Ihre tägliche Zusammenfassung: 4 Neuigkeiten"
    text = text_of(digest)
    energie, umwelt, general = (text.index(h) for h in ("== Handlungsfeld „Energie“ ==", "== Handlungsfeld „Umwelt“ ==",
                                                        "== Allgemein =="))
    assert energie < text.index("* Solardächer") < text.index("Pilotprojekt beschlossen") < umwelt
    assert umwelt < text.index("* Baumkataster") < general < text.index("Meilenstein erreicht")
    wait_for(lambda: [status for status, _, _ in deliveries(notifications_sql)] == ["sent"] * 4, message="all sent")


def test_smtp_down_delays_mail_and_nothing_is_lost(notifications_api, notifications_sql, mailbox, auth):
    subscribed(notifications_api, mailbox, "ida@example.org", [{"kind": "announcements", "municipality": "gera"}])
    mailbox.stop()
    announce(notifications_api, auth)
    wait_for(lambda: any(attempts >= 2 for _, _, attempts in deliveries(notifications_sql)), message="retries")
    [(status, last_error)] = notifications_sql("SELECT d.status, d.last_error FROM deliveries d JOIN triggers t"
                                               " ON t.event_id = d.trigger_event_id WHERE t.type = 'Announcement'")
    assert status == "pending" and "Connection" in last_error

    mailbox.start()
    [mail] = mailbox.wait(1, to="ida@example.org", timeout=15)
    assert "Vollversammlung" in mail["Subject"]
    metrics = notifications_api("GET", "/metrics").text
    assert 'smartcity_notifications_deliveries_total{channel="email",outcome="retry"}' in metrics
    wait_for(lambda: [status for status, _, _ in deliveries(notifications_sql)] == ["sent"], message="sent")


def test_outcome_events_carry_no_personal_data(notifications_api, notifications_sql, mailbox, auth, tap):
    consumer = tap("notifications.events")
    subscribed(notifications_api, mailbox, "jonas@example.org", [{"kind": "announcements", "municipality": "gera"}],
               headers=auth("citizen", subject="jonas"))
    announcement = announce(notifications_api, auth)
    sent = consumer.wait("NotificationSent", count=3)  # confirmation mail, announcement mail, feed item
    assert {e["data"]["channel"] for e in sent} == {"email", "feed"}
    assert {e["data"]["trigger_type"] for e in sent} == {"SubscriptionConfirmation", "Announcement"}
    assert announcement["id"] in {e["data"]["trigger_event_id"] for e in sent}
    for message in consumer.messages:
        assert "jonas" not in message.body and "@example.org" not in message.body


@pytest.mark.parametrize("raw", [b"{not json", json.dumps({"specversion": "1.0", "type": "PilotApproved"}).encode()])
def test_malformed_events_are_dead_lettered_not_dropped(notifications_service, notifications_sql, amqp_uri,
                                                        publish_event, raw):
    publish_event("voting", "PilotApproved", raw=raw)
    parked = wait_for(lambda: dead_letters.list_parked(amqp_uri, "notifications"), message="parked message")
    assert [(p.reason, p.original_queue) for p in parked] == [
        ("malformed", "evt-voting-PilotApproved--notifications.on_pilot_approved")]
    assert parked[0].body.encode() == raw
    assert notifications_sql("SELECT count(*) FROM triggers") == [(0,)]


def test_the_author_hears_of_their_idea_in_the_feed_even_without_a_subscription(
        notifications_api, notifications_sql, auth, publish_event):
    publish_event("ideas", "IdeaSubmitted", idea_submitted("kim", idea_id=IDEA_ID))
    # the two events travel on queues of their own: the title is remembered once the first is applied
    wait_for(lambda: notifications_api("GET", "/api/v1/notifications", headers=auth("citizen", subject="kim"))
             .json()["total"] == 1, message="the receipt in the feed")
    publish_event("ideas", "IdeaRejected", {"idea_id": IDEA_ID, "municipality": "gera", "field_of_action": "energie",
                                            "reason": "Doppelt eingereicht", "author_id": "kim",
                                            "rejected_at": datetime.now(timezone.utc)})
    feed = wait_for(lambda: notifications_api("GET", "/api/v1/notifications", headers=auth("citizen", subject="kim"))
                    .json()["total"] == 2, message="two feed items")
    assert feed
    page = notifications_api("GET", "/api/v1/notifications", headers=auth("citizen", subject="kim")).json()
    assert [item["type"] for item in page["items"]] == ["IdeaRejected", "IdeaSubmitted"]
    assert page["items"][0]["content"]["reason"] == "Doppelt eingereicht"
    assert page["items"][0]["content"]["idea_title"] == "Solardächer auf Schulen"
    assert "author_id" not in page["items"][0]["content"]
    assert notifications_api("GET", "/api/v1/notifications", headers=auth("citizen", subject="lea")).json()[
        "total"] == 0
