"""Pure rules of the notifications service and its templates: no broker, no database."""
import time
from datetime import datetime, timezone

import pytest

from services.notifications import domain
from services.notifications.rendering import Renderer

LINKS = {"unsubscribe": "https://x/api/v1/unsubscribe?token=t", "manage": "https://x/api/v1/subscriber?token=t",
         "confirm": "https://x/api/v1/subscribers/confirm?token=c"}
IDEA = {"idea_id": "i1", "municipality": "gera", "field_of_action": "energie", "idea_title": "Solardächer"}


def test_topics_of_a_pilot_decision_reach_idea_field_and_municipality_subscribers():
    assert domain.topics_for("PilotApproved", IDEA) == [
        "idea:i1", "field:gera/energie", "pilot_decisions:gera"]
    assert domain.reaches("PilotApproved", domain.AUTHOR)


def test_a_submitted_or_rejected_idea_reaches_only_its_author():
    assert domain.topics_for("IdeaSubmitted", IDEA) == [] and domain.reaches("IdeaSubmitted", domain.AUTHOR)
    assert domain.topics_for("IdeaRejected", IDEA) == []


def test_a_milestone_reaches_milestone_subscribers_and_those_of_its_pilot():
    assert domain.topics_for("MilestoneOverdue", {"municipality": "gera", "idea_id": None}) == ["milestones:gera"]
    assert domain.topics_for("MilestoneReached", {"municipality": "gera", "idea_id": "p"}) == [
        "idea:p", "milestones:gera"]
    assert not domain.reaches("MilestoneReached", domain.AUTHOR)


@pytest.mark.parametrize("subscription", [
    {"kind": "idea", "idea_id": "5b0c"}, {"kind": "field", "municipality": "gera", "field_of_action": "umwelt"},
    {"kind": "milestones", "municipality": "gera"}, {"kind": "announcements", "municipality": "grossenhain"}])
def test_a_stored_topic_reads_back_as_the_subscription(subscription):
    assert domain.subscription_of(domain.topic(**subscription)) == subscription


@pytest.mark.parametrize("now,mode,due", [
    ("2021-04-14T10:00:00+02:00", "immediate", "2021-04-14T10:00:00+02:00"),
    ("2021-04-14T06:59:00+02:00", "daily", "2021-04-14T07:00:00+02:00"),
    ("2021-04-14T07:00:00+02:00", "daily", "2021-04-15T07:00:00+02:00"),
    ("2021-04-14T10:00:00+02:00", "weekly", "2021-04-19T07:00:00+02:00"),  # a Wednesday -> next Monday
    ("2021-04-19T06:00:00+02:00", "weekly", "2021-04-19T07:00:00+02:00"),  # Monday, before seven
    ("2021-03-27T08:00:00+01:00", "daily", "2021-03-28T07:00:00+02:00"),  # DST starts: still 07:00 local
])
def test_digests_go_out_at_seven_municipal_time(now, mode, due):
    assert domain.digest_due(mode, datetime.fromisoformat(now)) == datetime.fromisoformat(due)


def test_backoff_doubles_up_to_the_cap():
    assert [domain.backoff_seconds(n, 30, 3600) for n in (1, 2, 3, 4, 8)] == [30, 60, 120, 240, 3600]


def test_a_digest_groups_by_field_then_idea_with_general_news_last():
    items = [{"type": "MilestoneReached", "idea_id": None, "title": "Strategie"},
             {**IDEA, "type": "IdeaPublished"},
             {"type": "IdeaPublished", "idea_id": "i2", "municipality": "gera", "field_of_action": "umwelt",
              "idea_title": "Bäume"},
             {**IDEA, "type": "PilotApproved"}]
    groups = domain.group_for_digest(items)
    assert [(field, [(idea, [i["type"] for i in its]) for idea, its in ideas]) for field, ideas in groups] == [
        ("energie", [("Solardächer", ["IdeaPublished", "PilotApproved"])]),
        ("umwelt", [("Bäume", ["IdeaPublished"])]),
        (None, [(None, ["MilestoneReached"])]),
    ]


def test_a_webhook_signature_covers_timestamp_and_body_and_expires():
    now = int(time.time())
    signed = domain.signature("s3cret", now, b'{"a":1}')
    assert signed.startswith("sha256=") and len(signed) == 7 + 64
    assert domain.signature_valid("s3cret", str(now), b'{"a":1}', signed, now)
    assert not domain.signature_valid("s3cret", str(now + 1), b'{"a":1}', signed, now)
    assert not domain.signature_valid("s3cret", str(now), b'{"a":1}', signed, now + 301)  # replayed later


def test_errors_in_events_lose_any_address():
    assert domain.public_error("550 5.1.1 <anna@example.org>: Recipient address rejected") == (
        "550 5.1.1 <<address>>: Recipient address rejected")


@pytest.mark.parametrize("language,subject", [("de", "Pilotprojekt beschlossen: „Solardächer <b>“"),
                                              ("en", "Pilot project approved: “Solardächer <b>”")])
def test_a_notification_mail_in_both_languages_escapes_html_only_in_html(language, subject):
    mail = Renderer().notification(language, {**IDEA, "idea_title": "Solardächer <b>", "type": "PilotApproved",
                                              "tally": {"yes": 7, "no": 2, "abstain": 1}}, LINKS)
    assert mail.subject == subject
    assert "Solardächer <b>" in mail.text and "Solardächer &lt;b&gt;" in mail.html and "<b>“" not in mail.html
    assert LINKS["unsubscribe"] in mail.text and f'href="{LINKS["unsubscribe"]}"' in mail.html


def test_an_announcement_shows_municipal_time_place_and_link():
    item = {"type": "Announcement", "title": "Themenabend", "municipality": "gera", "place": "Rathaus",
            "link": "https://unser.gera.de", "starts_at": datetime(2021, 2, 23, 16, 0, tzinfo=timezone.utc).isoformat()}
    mail = Renderer().notification("de", item, LINKS)
    assert mail.subject == "Themenabend am 23.02.2021, 17:00 Uhr"
    assert "Ort: Rathaus, online: https://unser.gera.de" in mail.text


def test_the_confirmation_mail_carries_the_one_time_link_and_the_unsubscribe_link():
    mail = Renderer().confirmation("en", LINKS)
    assert LINKS["confirm"] in mail.text and LINKS["unsubscribe"] in mail.text
    assert f'href="{LINKS["confirm"]}"' in mail.html
