"""Every use case of the notifications service against in-memory fakes: no broker, database, SMTP or HTTP."""
import copy
import dataclasses
import json
import uuid
from datetime import date, datetime, timedelta, timezone

from html import escape
from urllib.parse import parse_qs, urlsplit

import pytest

from services.notifications import use_cases
from services.notifications.channels import Channels
from services.notifications.commands import (ChangeSubscriber, Confirm, DeleteWebhook, EnableWebhook, EraseSubscriber,
                                             ExportSubscriber, ListAnnouncements, ListDeliveries, MarkAllRead, MarkRead,
                                             PostAnnouncement, RegisterWebhook, ShowFeed, ShowSubscriber, Subscribe,
                                             Unsubscribe)
from services.notifications.domain import CONFIRMATION, Known, token_hash
from services.notifications.rendering import Renderer
from services.notifications.service import notify_command
from shared.domain import MUNICIPAL_TZ
from shared.envelope import make_event, parse_event
from shared.errors import Gone, NotFound, Unauthorized
from shared.places import PlaceNames
from tests.fakes import Clock, FakeUnitOfWork
from tests.notifications.unit.fakes import SETTINGS, FakeMailer, FakeNotificationsRepository, FakeWebhooks

NOW = datetime(2021, 4, 14, 8, 0, tzinfo=timezone.utc)  # a Wednesday, 10:00 in Gera
RENDERER = Renderer()
NAMES = PlaceNames([{"slug": "gera", "name": "Gera", "name_en": "Gera", "state": "Thüringen", "fields": [
    {"slug": "energie", "name": "Energie", "name_en": "Energy"},
    {"slug": "mobilitaet-infrastruktur", "name": "Mobilität und Infrastruktur",
     "name_en": "Mobility and infrastructure"}]},
    {"slug": "grossenhain", "name": "Großenhain", "name_en": "Großenhain", "state": "Sachsen", "fields": [
        {"slug": "energie", "name": "Energie", "name_en": "Energy"}]}])
IDEA_ID = "6f1c2a5e-1b2c-4d3e-8f40-5a6b7c8d9e01"
GERA_NEWS = ({"kind": "announcements", "municipality": "gera"}, {"kind": "pilot_decisions", "municipality": "gera"})
GERA_PILOTS = ({"kind": "pilot_decisions", "municipality": "gera"},)
GERA_ANNOUNCEMENTS = ({"kind": "announcements", "municipality": "gera"},)
PUBLIC_IDEAS = {IDEA_ID, "5b0c7f0e-0000-4000-8000-000000000001"}
KNOWN = Known(NAMES, lambda idea_id: str(idea_id) in PUBLIC_IDEAS,  # as the ideas service would answer
              lambda municipality, group_id: False)


@pytest.fixture
def repo():
    return FakeNotificationsRepository()


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def uow(repo, clock):
    return FakeUnitOfWork("notifications", repo, clock)


@pytest.fixture
def mailer():
    return FakeMailer()


@pytest.fixture
def hooks():
    return FakeWebhooks()


@pytest.fixture
def channels(mailer, hooks):
    return Channels(SETTINGS, RENDERER, mailer, hooks)


# --- steps ------------------------------------------------------------------------------------

def subscribe(uow, email, subscriptions=(), subject=None, language="de", digest="immediate"):
    return use_cases.subscribe(uow, Subscribe(email, language, digest, tuple(subscriptions), subject), KNOWN)


def link(uow, email, purpose="confirm", lifetime=timedelta(hours=72)):
    """The token of a link a mail to `email` would carry (issued now)."""
    repo = uow.fake_repo
    return repo.issue_link(repo.subscriber_by_email(email)["id"], purpose, uow.now(), lifetime)


def subscribed(uow, email, subscriptions=(), subject=None, **preferences):
    """Subscribed and confirmed through the use cases, as through the mails; returns the subscriber row
    with the token of a mail's "my data" / unsubscribe link as `access_token`."""
    subscribe(uow, email, subscriptions, subject, **preferences)
    use_cases.confirm(uow, Confirm(link(uow, email)), SETTINGS)
    return {**uow.fake_repo.subscriber_by_email(email), "access_token": link(uow, email, "manage", timedelta(days=60))}


def token_in(url):
    return parse_qs(urlsplit(url).query)["token"][0]


def received(source, event_type, data, at=NOW):
    """The command the service builds from this event, as its subscriber hands it over."""
    envelope, loaded = parse_event(json.dumps(make_event(source, event_type, data, time=at)))
    return notify_command({**envelope, "data": loaded})


def notify(uow, command):
    return use_cases.notify(uow, command, SETTINGS.digest_hour)


def idea_submitted(author_id, title="Solardächer auf Schulen", idea_id=IDEA_ID):
    return {"idea_id": idea_id, "municipality": "gera", "field_of_action": "energie", "title": title,
            "channel": "form", "author_id": author_id, "submitted_at": NOW}


def idea_published(author_id, title="Solardächer auf Schulen", idea_id=IDEA_ID):
    return {"idea_id": idea_id, "municipality": "gera", "field_of_action": "energie", "title": title,
            "channel": "form", "author_id": author_id, "published_at": NOW}


def pilot_approved(idea_id=IDEA_ID, municipality="gera"):
    return {"idea_id": idea_id, "municipality": municipality, "field_of_action": "energie",
            "decision_id": uuid.uuid4(), "tally": {"yes": 7, "no": 2, "abstain": 1}, "board_size": 11, "quorum": 6,
            "quorum_met": True, "majority_rule": "simple", "decided_at": NOW}


def milestone_reached(title="Gesamtstrategie verknüpft"):
    return {"milestone_id": uuid.uuid4(), "municipality": "gera", "title": title, "due_date": date(2021, 4, 1),
            "idea_id": None, "reached_at": NOW, "on_time": False}


def announce(uow, **changes):
    command = PostAnnouncement(**{"municipality": "gera", "title": "4. Vollversammlung",
                                  "starts_at": datetime(2021, 4, 14, 15, 0, tzinfo=timezone.utc),
                                  "place": "Rathaus Gera", "link": None, "description": None, **changes})
    return use_cases.post_announcement(uow, command, SETTINGS.digest_hour, KNOWN)


def register(uow, event_types=("PilotApproved", "Announcement"), municipality="gera",
             url="https://receiver.example/hooks"):
    return use_cases.register_webhook(uow, RegisterWebhook(url, tuple(event_types), municipality, None),
                                      lambda url: None)


def deliveries_of(repo, trigger_event_id):
    return [d for d in repo.delivery_rows.values() if d["trigger_event_id"] == trigger_event_id]


def events_of(uow, event_type, **data):
    return [e for e in uow.events if e["type"] == event_type and all(e["data"][k] == v for k, v in data.items())]


# --- fan-out of events ------------------------------------------------------------------------

def test_an_event_reaches_each_subscriber_and_the_author_once_by_mail_and_feed(uow, repo):
    subscribed(uow, "pilots@example.org", GERA_PILOTS, subject="pia")
    subscribed(uow, "idea@example.org", [{"kind": "idea", "idea_id": uuid.UUID(IDEA_ID)}])
    # the author also follows the field: still one mail and one feed item
    subscribed(uow, "author@example.org", [{"kind": "field", "municipality": "gera", "field_of_action": "energie"}],
               subject="author-1")
    subscribed(uow, "other@example.org", [{"kind": "pilot_decisions", "municipality": "grossenhain"}])
    subscribe(uow, "pending@example.org", GERA_PILOTS)  # never confirmed: hears nothing
    assert notify(uow, received("ideas", "IdeaSubmitted", idea_submitted("author-1"))) is True

    decision = received("voting", "PilotApproved", pilot_approved())
    assert notify(uow, decision) is True
    mails = deliveries_of(repo, decision.event_id)
    assert sorted(repo.subscriber_rows[d["subscriber_id"]]["email"] for d in mails) == [
        "author@example.org", "idea@example.org", "pilots@example.org"]
    assert {(d["channel"], d["status"], d["due_at"]) for d in mails} == {("email", "pending", NOW)}
    feed = {item["id"]: item["subject"] for item in repo.feed_rows.values()
            if item["trigger_event_id"] == decision.event_id}
    assert sorted(feed.values()) == ["author-1", "pia"]
    sent = events_of(uow, "NotificationSent", trigger_event_id=decision.event_id)
    assert {e["data"]["notification_id"] for e in sent} == {str(item_id) for item_id in feed}
    assert {(e["data"]["channel"], e["data"]["trigger_type"]) for e in sent} == {("feed", "PilotApproved")}
    content = repo.trigger_rows[decision.event_id]["content"]
    assert content["idea_title"] == "Solardächer auf Schulen"  # remembered from IdeaSubmitted
    assert "author_id" not in content and content["tally"] == {"yes": 7, "no": 2, "abstain": 1}


def test_a_submitted_idea_reaches_only_its_author(uow, repo):
    subscribed(uow, "field@example.org", [{"kind": "field", "municipality": "gera", "field_of_action": "energie"}],
               subject="fiona")
    submitted = received("ideas", "IdeaSubmitted", idea_submitted("kim"))
    notify(uow, submitted)
    assert deliveries_of(repo, submitted.event_id) == []  # kim has no address here
    assert [item["subject"] for item in repo.feed_rows.values()] == ["kim"]
    content = repo.trigger_rows[submitted.event_id]["content"]
    assert content["title"] == "Solardächer auf Schulen" and "author_id" not in content  # no personal data shown


def test_a_redelivered_event_has_no_second_effect(uow, repo, clock):
    subscribed(uow, "greta@example.org", GERA_PILOTS, subject="greta")
    decision = received("voting", "PilotApproved", pilot_approved())
    assert notify(uow, decision) is True
    before = copy.deepcopy(vars(repo)), len(uow.events)
    assert notify(uow, decision) is False
    assert (vars(repo), len(uow.events)) == before
    # even past the inbox (a replay under a fresh one), one mail and one feed item per recipient
    replay = FakeUnitOfWork("notifications", repo, clock)
    assert notify(replay, decision) is True
    assert vars(repo) == before[0] and replay.events == []


def test_a_fan_out_that_fails_midway_leaves_nothing_and_applies_on_redelivery(uow, repo, monkeypatch):
    subscribed(uow, "greta@example.org", GERA_PILOTS, subject="greta")
    before = copy.deepcopy(vars(repo)), len(uow.events)

    def database_gone(*args):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(FakeNotificationsRepository, "add_feed_items", database_gone)
    decision = received("voting", "PilotApproved", pilot_approved())
    with pytest.raises(RuntimeError):
        notify(uow, decision)
    assert (vars(repo), len(uow.events)) == before and uow.rollbacks == 1
    monkeypatch.undo()
    assert notify(uow, decision) is True  # the inbox claim was rolled back too
    assert len(deliveries_of(repo, decision.event_id)) == 1 and len(repo.feed_rows) == 1


def test_digest_subscribers_get_the_notice_due_at_seven_municipal_time(uow, repo):
    subscribed(uow, "daily@example.org", GERA_PILOTS, digest="daily")
    subscribed(uow, "weekly@example.org", GERA_PILOTS, digest="weekly")
    decision = received("voting", "PilotApproved", pilot_approved())
    notify(uow, decision)
    due = {repo.subscriber_rows[d["subscriber_id"]]["digest"]: d["due_at"]
           for d in deliveries_of(repo, decision.event_id)}
    assert due == {"daily": datetime(2021, 4, 15, 7, tzinfo=MUNICIPAL_TZ),
                   "weekly": datetime(2021, 4, 19, 7, tzinfo=MUNICIPAL_TZ)}  # the next Monday


def test_webhooks_get_only_the_event_types_and_municipality_they_asked_for(uow, repo):
    register(uow, ("PilotApproved",), "gera")
    everywhere = register(uow, ("PilotApproved", "Announcement"), None)
    register(uow, ("Announcement",), "grossenhain")
    decision = received("voting", "PilotApproved", pilot_approved(municipality="grossenhain"))
    notify(uow, decision)
    assert [(d["channel"], d["webhook_id"]) for d in deliveries_of(repo, decision.event_id)] == [
        ("webhook", everywhere["id"])]


# --- subscribers ------------------------------------------------------------------------------

def test_subscribing_records_a_pending_subscriber_and_one_confirmation_mail(uow, repo):
    assert subscribe(uow, "Anna@Example.org", GERA_NEWS, subject="anna", language="en", digest="weekly") is None
    [subscriber] = repo.subscriber_rows.values()
    assert (subscriber["email"], subscriber["language"], subscriber["digest"], subscriber["pending_subject"]) == (
        "Anna@Example.org", "en", "weekly", "anna")
    assert subscriber["subject"] is None  # linked only once the address's owner confirms
    assert subscriber["confirmed_at"] is None and repo.link_rows == {}  # the link is made with the mail
    assert repo.topics_of(subscriber["id"]) == ["announcements:gera", "pilot_decisions:gera"]
    [delivery] = repo.delivery_rows.values()
    assert repo.trigger_rows[delivery["trigger_event_id"]]["type"] == CONFIRMATION
    assert (delivery["subscriber_id"], delivery["status"], delivery["due_at"]) == (subscriber["id"], "pending", NOW)
    assert uow.events == []


def test_subscribing_a_confirmed_address_again_reveals_nothing_and_changes_nothing(uow, repo):
    subscribed(uow, "dora@example.org", GERA_NEWS)
    before = copy.deepcopy(vars(repo))
    assert subscribe(uow, "Dora@Example.org", (), language="en") is None
    assert vars(repo) == before


def test_a_pending_address_gets_a_fresh_link_and_the_old_one_stops_working(uow, repo):
    subscribe(uow, "emil@example.org", GERA_NEWS)
    old = link(uow, "emil@example.org")
    subscribe(uow, "emil@example.org", [{"kind": "milestones", "municipality": "gera"}], language="en")
    subscriber = repo.subscriber_by_email("emil@example.org")
    assert subscriber["language"] == "en"
    assert repo.topics_of(subscriber["id"]) == ["milestones:gera"]
    assert len(repo.subscriber_rows) == 1 and len(repo.delivery_rows) == 2  # a second confirmation mail
    with pytest.raises(NotFound):
        use_cases.confirm(uow, Confirm(old), SETTINGS)
    assert use_cases.confirm(uow, Confirm(link(uow, "emil@example.org")), SETTINGS)["status"] == "confirmed"


def test_an_unsubscribed_address_opts_in_again_from_the_start(uow, repo):
    subscriber = subscribed(uow, "ulla@example.org", GERA_NEWS)
    use_cases.unsubscribe(uow, Unsubscribe(subscriber["access_token"]))
    subscribe(uow, "ulla@example.org", GERA_PILOTS)
    again = repo.subscriber_by_email("ulla@example.org")
    assert again["id"] == subscriber["id"] and again["unsubscribed_at"] is None and again["confirmed_at"] is None
    assert repo.topics_of(again["id"]) == ["pilot_decisions:gera"]


def test_the_account_is_linked_when_the_address_owner_confirms(uow, repo):
    subscribe(uow, "fritz@example.org", subject="fritz")
    assert repo.subscriber_by_subject("fritz") is None
    fritz = subscribed(uow, "fritz@example.org", subject="fritz")
    assert fritz["subject"] == "fritz" and fritz["pending_subject"] is None


def test_an_account_links_one_address_only_and_asking_again_reveals_nothing(uow, repo):
    subscribed(uow, "fritz@example.org", subject="fritz")
    assert subscribe(uow, "fritz@work.example.org", subject="fritz") is None  # the same answer as for any address
    work = subscribed(uow, "fritz@work.example.org", subject="fritz")
    assert work["confirmed_at"] is not None and work["subject"] is None  # confirmed, but not linked
    assert repo.subscriber_by_subject("fritz")["email"] == "fritz@example.org"


@pytest.mark.parametrize("victim_state", ["pending", "unsubscribed"])
def test_subscribing_another_persons_address_never_hands_it_to_my_account(uow, repo, victim_state):
    victim = subscribed(uow, "vera@example.org", GERA_NEWS, subject="vera")
    if victim_state == "pending":
        repo.subscriber_rows.clear()
        subscribe(uow, "vera@example.org", GERA_NEWS)
        victim = repo.subscriber_by_email("vera@example.org")
    else:
        use_cases.unsubscribe(uow, Unsubscribe(victim["access_token"]))
    subscribe(uow, "vera@example.org", subject="mallory")
    record = repo.subscriber_by_email("vera@example.org")
    assert record["subject"] == victim["subject"] and repo.subscriber_by_subject("mallory") is None
    with pytest.raises(NotFound):  # mallory's token names no subscriber: nothing to export, change or delete
        use_cases.export_subscriber(uow, ExportSubscriber(token=None, subject="mallory"))


def test_the_confirmation_link_records_consent_and_its_time_once(uow, repo, clock):
    subscribe(uow, "anna@example.org", GERA_NEWS)
    token = link(uow, "anna@example.org")
    clock.advance(minutes=5)
    assert use_cases.confirmation_state(uow, Confirm(token))["status"] == "pending"  # looking changes nothing
    assert repo.subscriber_by_email("anna@example.org")["confirmed_at"] is None
    first = use_cases.confirm(uow, Confirm(token), SETTINGS)
    assert (first["status"], first["confirmed_at"]) == ("confirmed", NOW + timedelta(minutes=5))
    again = use_cases.confirm(uow, Confirm(token), SETTINGS)  # a second press, or a reload
    assert (again["status"], again["confirmed_at"]) == ("already_confirmed", NOW + timedelta(minutes=5))
    assert use_cases.confirmation_state(uow, Confirm(token))["status"] == "already_confirmed"
    # each answer links to "my data" with a fresh token of its own
    assert first["manage_token"] != again["manage_token"]
    profile = use_cases.show_subscriber(uow, ShowSubscriber(token=first["manage_token"], subject=None))
    assert profile["email"] == "anna@example.org"
    with pytest.raises(NotFound) as unknown:
        use_cases.confirm(uow, Confirm("x" * 43), SETTINGS)
    assert unknown.value.message == "confirmation link (unknown, or replaced by a newer one) not found"


def test_link_tokens_are_stored_only_as_hashes(uow, repo):
    carla = subscribed(uow, "carla@example.org", GERA_NEWS)
    stored = json.dumps([list(repo.subscriber_rows.values()), list(repo.link_rows.values())], default=str)
    assert carla["access_token"] not in stored and carla["access_token"].encode() not in b"".join(repo.link_rows)
    assert token_hash(carla["access_token"]) in repo.link_rows


def test_an_expired_confirmation_link_is_gone(uow, repo, clock):
    subscribe(uow, "anna@example.org", GERA_NEWS)
    token = link(uow, "anna@example.org")
    clock.advance(hours=72)
    with pytest.raises(Gone) as gone:
        use_cases.confirm(uow, Confirm(token), SETTINGS)
    assert gone.value.message == "the confirmation link has expired; subscribe again"
    assert gone.value.fields == {"token": ["expired"]}
    with pytest.raises(Gone):
        use_cases.confirmation_state(uow, Confirm(token))
    assert repo.subscriber_by_email("anna@example.org")["confirmed_at"] is None


def test_an_expired_management_link_is_refused_and_expired_tokens_are_forgotten_later(uow, repo, clock):
    carla = subscribed(uow, "carla@example.org", GERA_NEWS)
    clock.advance(days=60)
    for use in (lambda: use_cases.unsubscribe(uow, Unsubscribe(carla["access_token"])),
                lambda: use_cases.show_subscriber(uow, ShowSubscriber(token=carla["access_token"], subject=None)),
                lambda: use_cases.erase_subscriber(uow, EraseSubscriber(token=carla["access_token"], subject=None))):
        with pytest.raises(Gone):
            use()
    assert repo.subscriber_rows[carla["id"]]["unsubscribed_at"] is None
    assert use_cases.forget_expired_links(uow) == 1  # the confirmation link; the others still say "expired"
    clock.advance(days=31)
    assert use_cases.forget_expired_links(uow) == 2 and repo.link_rows == {}


def test_unsubscribing_stops_all_mail_pending_included(uow, repo):
    ben = subscribed(uow, "ben@example.org", GERA_NEWS)
    announce(uow)
    assert use_cases.unsubscribe(uow, Unsubscribe(ben["access_token"])) == {"status": "unsubscribed"}
    assert repo.subscriber_rows[ben["id"]]["unsubscribed_at"] == NOW
    assert {d["status"] for d in repo.delivery_rows.values()} == {"cancelled"}  # the confirmation mail too
    later = announce(uow, title="Themenabend")
    assert deliveries_of(repo, str(later["id"])) == []
    with pytest.raises(NotFound):
        use_cases.unsubscribe(uow, Unsubscribe("x" * 43))


def test_a_subscriber_is_named_by_a_mail_token_or_else_the_signed_in_subject(uow):
    carla = subscribed(uow, "carla@example.org", GERA_NEWS, subject="carla-42")
    by_token = use_cases.export_subscriber(uow, ExportSubscriber(token=carla["access_token"], subject=None))
    assert by_token["subscriber"]["email"] == "carla@example.org"
    assert use_cases.export_subscriber(uow, ExportSubscriber(token=None, subject="carla-42")) == by_token
    with pytest.raises(Unauthorized) as anonymous:
        use_cases.export_subscriber(uow, ExportSubscriber(token=None, subject=None))
    assert anonymous.value.message == "send the token of a mail link (?token=…) or a bearer token"
    assert anonymous.value.fields == {"token": ["required without a bearer token"]}
    with pytest.raises(NotFound) as unknown:  # a token is what counts when there is one
        use_cases.export_subscriber(uow, ExportSubscriber(token="x" * 43, subject="carla-42"))
    assert unknown.value.message == "subscriber not found"
    with pytest.raises(NotFound):
        use_cases.export_subscriber(uow, ExportSubscriber(token=None, subject="someone-else"))


def test_the_export_holds_the_subscriptions_the_delivery_log_and_the_feed(uow):
    carla = subscribed(uow, "carla@example.org", GERA_NEWS, subject="carla-42", digest="weekly")
    announce(uow)
    exported = use_cases.export_subscriber(uow, ExportSubscriber(token=carla["access_token"], subject=None))
    assert exported["subscriber"]["digest"] == "weekly" and exported["subscriber"]["confirmed_at"] == NOW
    assert exported["subscriber"]["subscriptions"] == [{"kind": "announcements", "municipality": "gera"},
                                                       {"kind": "pilot_decisions", "municipality": "gera"}]
    assert sorted(d["trigger_type"] for d in exported["deliveries"]) == ["Announcement", CONFIRMATION]
    assert [item["type"] for item in exported["feed"]] == ["Announcement"]


def test_changing_preferences_keeps_what_is_not_named_and_replaces_the_subscriptions(uow):
    carla = subscribed(uow, "carla@example.org", GERA_NEWS, digest="weekly")
    token = carla["access_token"]
    changed = use_cases.change_subscriber(uow, ChangeSubscriber(
        token=token, subject=None, language="en", subscriptions=({"kind": "idea", "idea_id": uuid.UUID(IDEA_ID)},)), KNOWN)
    assert (changed["language"], changed["digest"]) == ("en", "weekly")
    assert changed["subscriptions"] == [{"kind": "idea", "idea_id": IDEA_ID}]
    changed = use_cases.change_subscriber(uow, ChangeSubscriber(token=token, subject=None, digest="daily"), KNOWN)
    assert (changed["language"], changed["digest"]) == ("en", "daily")
    assert changed["subscriptions"] == [{"kind": "idea", "idea_id": IDEA_ID}]  # not named: kept
    changed = use_cases.change_subscriber(uow, ChangeSubscriber(token=token, subject=None, subscriptions=()), KNOWN)
    assert changed["subscriptions"] == []
    with pytest.raises(Unauthorized):
        use_cases.change_subscriber(uow, ChangeSubscriber(token=None, subject=None, digest="daily"), KNOWN)


def test_erasing_deletes_the_subscriber_with_subscriptions_deliveries_and_feed(uow, repo):
    subscribed(uow, "carla@example.org", GERA_NEWS, subject="carla-42")
    dora = subscribed(uow, "dora@example.org", GERA_NEWS, subject="dora")
    announce(uow)
    assert use_cases.erase_subscriber(uow, EraseSubscriber(token=None, subject="carla-42")) is None
    assert [row["email"] for row in repo.subscriber_rows.values()] == ["dora@example.org"]
    assert {subscriber_id for subscriber_id, _ in repo.subscription_rows} == {dora["id"]}
    assert {d["subscriber_id"] for d in repo.delivery_rows.values()} == {dora["id"]}
    assert {item["subject"] for item in repo.feed_rows.values()} == {"dora"}
    with pytest.raises(NotFound):
        use_cases.erase_subscriber(uow, EraseSubscriber(token=None, subject="carla-42"))


# --- announcements ----------------------------------------------------------------------------

def test_an_announcement_is_stored_and_reaches_subscribers_the_feed_and_webhooks(uow, repo):
    ida = subscribed(uow, "ida@example.org", GERA_ANNOUNCEMENTS, subject="ida")
    hook = register(uow, ("Announcement",))
    posted = announce(uow)
    assert isinstance(posted["id"], uuid.UUID) and posted["created_at"] == NOW
    assert repo.announcement_rows[posted["id"]] == {
        "id": posted["id"], "municipality": "gera", "title": "4. Vollversammlung",
        "starts_at": datetime(2021, 4, 14, 15, 0, tzinfo=timezone.utc), "place": "Rathaus Gera", "link": None,
        "description": None, "created_at": NOW}
    trigger = repo.trigger_rows[str(posted["id"])]
    assert trigger["type"] == "Announcement" and trigger["occurred_at"] == NOW
    assert trigger["content"] == {"announcement_id": str(posted["id"]), "municipality": "gera",
                                  "title": "4. Vollversammlung", "starts_at": "2021-04-14T15:00:00+00:00",
                                  "place": "Rathaus Gera", "link": None, "description": None}
    assert sorted((d["channel"], d["subscriber_id"] or d["webhook_id"]) for d in deliveries_of(
        repo, str(posted["id"]))) == [("email", ida["id"]), ("webhook", hook["id"])]
    [sent] = events_of(uow, "NotificationSent", trigger_event_id=str(posted["id"]))
    assert (sent["data"]["channel"], sent["data"]["trigger_type"]) == ("feed", "Announcement")


def test_announcements_are_listed_latest_start_first_per_municipality_and_paged(uow):
    for day in (1, 3, 2):
        announce(uow, title=f"Termin {day}", starts_at=datetime(2021, 5, day, 18, tzinfo=timezone.utc))
    announce(uow, municipality="grossenhain", title="Anderswo")
    first = use_cases.list_announcements(uow, ListAnnouncements(municipality="gera", page=1, page_size=2))
    assert [a["title"] for a in first["items"]] == ["Termin 3", "Termin 2"]
    assert (first["total"], first["page"], first["page_size"]) == (3, 1, 2)
    second = use_cases.list_announcements(uow, ListAnnouncements(municipality="gera", page=2, page_size=2))
    assert [a["title"] for a in second["items"]] == ["Termin 1"]
    assert use_cases.list_announcements(uow, ListAnnouncements(municipality=None, page=1, page_size=20))["total"] == 4


# --- the in-app feed --------------------------------------------------------------------------

def test_the_feed_lists_newest_first_with_read_markers_per_subject(uow, clock):
    notify(uow, received("ideas", "IdeaSubmitted", idea_submitted("mia", "Erste Idee", str(uuid.uuid4()))))
    later = clock.advance(minutes=1)
    notify(uow, received("ideas", "IdeaSubmitted", idea_submitted("mia", "Zweite Idee", str(uuid.uuid4())), at=later))
    page = use_cases.show_feed(uow, ShowFeed(subject="mia", unread_only=False, page=1, page_size=20))
    assert [item["content"]["title"] for item in page["items"]] == ["Zweite Idee", "Erste Idee"]
    assert (page["total"], page["unread"], page["page"], page["page_size"]) == (2, 2, 1, 20)
    newest = page["items"][0]
    with pytest.raises(NotFound):  # not theirs
        use_cases.mark_read(uow, MarkRead(subject="noah", item_id=newest["id"]))
    assert use_cases.mark_read(uow, MarkRead(subject="mia", item_id=newest["id"])) is None
    unread = use_cases.show_feed(uow, ShowFeed(subject="mia", unread_only=True, page=1, page_size=20))
    assert [item["content"]["title"] for item in unread["items"]] == ["Erste Idee"]
    assert (unread["total"], unread["unread"]) == (2, 1)
    assert use_cases.mark_all_read(uow, MarkAllRead(subject="mia")) == {"marked": 1}
    second = use_cases.show_feed(uow, ShowFeed(subject="mia", unread_only=False, page=2, page_size=1))
    assert [item["content"]["title"] for item in second["items"]] == ["Erste Idee"] and second["unread"] == 0
    assert use_cases.show_feed(uow, ShowFeed(subject="noah", unread_only=False, page=1, page_size=20))["total"] == 0


# --- webhooks and the delivery log ------------------------------------------------------------

def test_a_webhook_is_registered_with_its_secret_listed_without_it_enabled_and_deleted(uow, repo):
    hook = register(uow)
    assert len(hook["secret"]) >= 40 and hook["event_types"] == ["PilotApproved", "Announcement"]
    assert (hook["municipality"], hook["created_at"], hook["consecutive_failures"], hook["disabled_at"]) == (
        "gera", NOW, 0, None)
    [listed] = use_cases.list_webhooks(uow)
    assert listed["id"] == hook["id"] and "secret" not in listed
    repo.webhook_rows[hook["id"]].update(disabled_at=NOW, consecutive_failures=3)
    enabled = use_cases.enable_webhook(uow, EnableWebhook(hook["id"]))
    assert (enabled["disabled_at"], enabled["consecutive_failures"]) == (None, 0)
    assert use_cases.delete_webhook(uow, DeleteWebhook(hook["id"])) is None
    assert use_cases.list_webhooks(uow) == []
    with pytest.raises(NotFound):
        use_cases.enable_webhook(uow, EnableWebhook(hook["id"]))
    with pytest.raises(NotFound):
        use_cases.delete_webhook(uow, DeleteWebhook(hook["id"]))


def test_the_delivery_log_filters_and_pages_newest_first(uow, clock):
    ida = subscribed(uow, "ida@example.org", GERA_ANNOUNCEMENTS)
    hook = register(uow, ("Announcement",))
    clock.advance(minutes=1)
    announce(uow)
    everything = use_cases.list_deliveries(uow, ListDeliveries(page=1, page_size=20))
    assert everything["total"] == 3 and everything["items"][-1]["trigger_type"] == CONFIRMATION
    [posted] = use_cases.list_deliveries(uow, ListDeliveries(page=1, page_size=20, channel="webhook"))["items"]
    assert (posted["webhook_id"], posted["trigger_type"], posted["status"]) == (hook["id"], "Announcement", "pending")
    assert use_cases.list_deliveries(uow, ListDeliveries(page=1, page_size=20, subscriber_id=ida["id"]))["total"] == 2
    second = use_cases.list_deliveries(uow, ListDeliveries(page=3, page_size=1))
    assert [d["trigger_type"] for d in second["items"]] == [CONFIRMATION] and second["total"] == 3


# --- sending mail -----------------------------------------------------------------------------

def test_due_mail_is_sent_once_recorded_and_published(uow, repo, channels, mailer):
    subscribe(uow, "ben@example.org", GERA_NEWS, language="en")
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "sent"): 1}
    [confirmation] = mailer.sent
    confirm_url = confirmation.links["confirm"]
    assert confirmation.to == "ben@example.org" and confirm_url.startswith("https://beteiligung.example/confirm?token=")
    assert confirm_url.endswith("&lang=en") and confirm_url in confirmation.rendered.text
    assert repo.link_token(token_hash(token_in(confirm_url)), "confirm")["expires_at"] == NOW + timedelta(hours=72)
    use_cases.confirm(uow, Confirm(token_in(confirm_url)), SETTINGS)

    posted = announce(uow)
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "sent"): 1}
    mail = mailer.sent[-1]
    assert "Vollversammlung" in mail.rendered.subject
    assert mail.links["unsubscribe"].startswith("https://beteiligung.example/unsubscribe?token=")
    assert mail.links["unsubscribe"] in mail.rendered.text and escape(mail.links["manage"]) in mail.rendered.html
    manage = repo.link_token(token_hash(token_in(mail.links["manage"])), "manage")
    assert manage["expires_at"] == NOW + timedelta(days=60)
    [delivery] = deliveries_of(repo, str(posted["id"]))
    assert mail.delivery_id == delivery["id"]
    assert (delivery["status"], delivery["attempts"], delivery["sent_at"], delivery["last_error"]) == (
        "sent", 1, NOW, None)
    [sent] = events_of(uow, "NotificationSent", channel="email", trigger_event_id=str(posted["id"]))
    assert sent["data"]["notification_id"] == str(delivery["id"]) and sent["data"]["trigger_type"] == "Announcement"
    assert "ben" not in json.dumps(uow.events)  # outcome events carry no personal data
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {} and len(mailer.sent) == 2  # nothing twice


def test_a_daily_digest_collects_everything_due_in_one_mail_at_seven(uow, repo, channels, mailer, clock):
    subscribed(uow, "hanna@example.org", [{"kind": "field", "municipality": "gera", "field_of_action": "energie"},
                                          {"kind": "milestones", "municipality": "gera"}], digest="daily")
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "cancelled"): 1}  # confirmed before it went out
    notify(uow, received("ideas", "IdeaPublished", idea_published("a")))
    notify(uow, received("voting", "PilotApproved", pilot_approved()))
    notify(uow, received("ideas", "MilestoneReached", milestone_reached()))
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {} and mailer.sent == []  # due tomorrow morning

    clock.now = datetime(2021, 4, 15, 7, 0, tzinfo=MUNICIPAL_TZ)
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "sent"): 3}
    [digest] = mailer.sent
    assert digest.rendered.subject == "Ihre tägliche Zusammenfassung: 3 Neuigkeiten"
    assert "Solardächer auf Schulen" in digest.rendered.text and "Gesamtstrategie verknüpft" in digest.rendered.text
    assert len(events_of(uow, "NotificationSent", channel="email")) == 3


def test_mail_no_longer_wanted_is_cancelled_not_sent(uow, repo, channels, mailer):
    ben = subscribed(uow, "ben@example.org", GERA_NEWS)
    announce(uow)
    repo.subscriber_rows[ben["id"]]["unsubscribed_at"] = NOW  # unsubscribed while the batch was due
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "cancelled"): 2}
    assert mailer.sent == [] and {d["status"] for d in repo.delivery_rows.values()} == {"cancelled"}
    assert events_of(uow, "NotificationSent", channel="email") == []


def test_a_server_that_is_down_delays_mail_with_growing_pauses_and_loses_nothing(uow, repo, channels, mailer,
                                                                                   clock):
    subscribed(uow, "ida@example.org", GERA_ANNOUNCEMENTS)
    use_cases.send_mail_batch(uow, channels, NAMES)
    posted = announce(uow)
    mailer.down = "SMTPServerDisconnected: 421 try later, ida@example.org"
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "retry"): 1}
    [delivery] = deliveries_of(repo, str(posted["id"]))
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert delivery["next_attempt_at"] == NOW + timedelta(seconds=30)
    assert delivery["last_error"] == "SMTPServerDisconnected: 421 try later, <address>"
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {}  # not due again yet
    clock.advance(seconds=30)
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "retry"): 1}
    assert delivery["next_attempt_at"] == clock.now + timedelta(seconds=60) and delivery["attempts"] == 2
    mailer.down = None
    clock.advance(seconds=60)
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "sent"): 1}
    assert (delivery["status"], delivery["attempts"], len(mailer.sent)) == ("sent", 3, 1)
    assert events_of(uow, "NotificationFailed") == []


def test_a_mail_that_keeps_failing_is_given_up_after_the_last_attempt(uow, repo, mailer, hooks, clock):
    channels = Channels(dataclasses.replace(SETTINGS, email_max_attempts=2), RENDERER, mailer, hooks)
    subscribed(uow, "ida@example.org", GERA_ANNOUNCEMENTS)
    use_cases.send_mail_batch(uow, channels, NAMES)
    posted = announce(uow)
    mailer.down = "ConnectionRefusedError: [Errno 111] Connection refused"
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "retry"): 1}
    clock.advance(seconds=30)
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "failed"): 1}
    [delivery] = deliveries_of(repo, str(posted["id"]))
    assert (delivery["status"], delivery["attempts"], delivery["failed_at"]) == ("failed", 2, clock.now)
    assert delivery["last_error"] == "gave up after 2 attempts: ConnectionRefusedError: [Errno 111] Connection refused"
    [failed] = events_of(uow, "NotificationFailed")
    assert failed["data"] == {"notification_id": str(delivery["id"]), "channel": "email",
                              "trigger_event_id": str(posted["id"]), "trigger_type": "Announcement",
                              "municipality": "gera",  # figures can be filtered by the trigger's municipality
                              "error": delivery["last_error"], "attempts": 2, "failed_at": clock.now.isoformat()}


def test_a_refused_recipient_fails_alone_and_its_address_stays_out_of_the_event(uow, repo, channels, mailer):
    subscribed(uow, "ok@example.org", GERA_ANNOUNCEMENTS)
    bad = subscribed(uow, "bad@example.org", GERA_ANNOUNCEMENTS)
    use_cases.send_mail_batch(uow, channels, NAMES)
    mailer.refused = {"bad@example.org"}
    announce(uow)
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "sent"): 1, ("email", "failed"): 1}
    assert [mail.to for mail in mailer.sent] == ["ok@example.org"]
    [failed] = events_of(uow, "NotificationFailed")
    assert failed["data"]["error"] == "SMTP 550 <<address>> recipient refused" and failed["data"]["attempts"] == 1
    assert [d["status"] for d in repo.delivery_rows.values() if d["subscriber_id"] == bad["id"]
            and d["status"] != "cancelled"] == ["failed"]


class EnglishBroken(Renderer):
    def notification(self, language, item, links):
        if language == "en":
            raise LookupError("no English phrase")
        return super().notification(language, item, links)


def test_a_mail_that_cannot_be_rendered_fails_alone(uow, repo, mailer, hooks):
    channels = Channels(SETTINGS, EnglishBroken(), mailer, hooks)
    subscribed(uow, "de@example.org", GERA_ANNOUNCEMENTS)
    english = subscribed(uow, "en@example.org", GERA_ANNOUNCEMENTS, language="en")
    use_cases.send_mail_batch(uow, channels, NAMES)
    posted = announce(uow)
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "sent"): 1, ("email", "failed"): 1}
    assert [mail.to for mail in mailer.sent] == ["de@example.org"]
    [failed] = [d for d in deliveries_of(repo, str(posted["id"])) if d["subscriber_id"] == english["id"]]
    assert (failed["status"], failed["last_error"]) == ("failed", "compose: LookupError")


def test_a_batch_whose_outcome_cannot_be_recorded_stays_pending(uow, repo, channels, mailer, monkeypatch):
    subscribed(uow, "ida@example.org", GERA_ANNOUNCEMENTS)
    use_cases.send_mail_batch(uow, channels, NAMES)
    posted = announce(uow)
    events = len(uow.events)

    def database_gone(*args):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(FakeNotificationsRepository, "mark_sent", database_gone)
    with pytest.raises(RuntimeError):
        use_cases.send_mail_batch(uow, channels, NAMES)
    [delivery] = deliveries_of(repo, str(posted["id"]))
    assert (delivery["status"], delivery["attempts"], len(uow.events)) == ("pending", 0, events)
    monkeypatch.undo()
    # the server got it already: sent again (at least once), recorded once
    assert use_cases.send_mail_batch(uow, channels, NAMES) == {("email", "sent"): 1}
    assert len(mailer.sent) == 2 and len(events_of(uow, "NotificationSent", channel="email")) == 1


# --- sending to webhooks ----------------------------------------------------------------------

def test_webhook_deliveries_are_posted_in_order_and_a_success_resets_the_failure_count(uow, repo, channels, hooks,
                                                                                       clock):
    hook = register(uow)
    first = announce(uow, title="Erste")
    clock.advance(seconds=1)
    announce(uow, title="Zweite")
    repo.webhook_rows[hook["id"]]["consecutive_failures"] = 2
    assert use_cases.send_webhook_batch(uow, channels) == {("webhook", "sent"): 2}
    assert [row["content"]["title"] for row in hooks.posted] == ["Erste", "Zweite"]
    assert (hooks.posted[0]["url"], hooks.posted[0]["secret"], hooks.posted[0]["trigger_type"]) == (
        hook["url"], hook["secret"], "Announcement")
    assert hooks.posted[0]["trigger_event_id"] == str(first["id"])
    assert {d["status"] for d in repo.delivery_rows.values()} == {"sent"}
    assert repo.webhook_rows[hook["id"]]["consecutive_failures"] == 0
    assert len(events_of(uow, "NotificationSent", channel="webhook")) == 2
    assert use_cases.send_webhook_batch(uow, channels) == {}


def test_a_failing_receiver_postpones_its_later_deliveries_and_counts_one_failure(uow, repo, channels, hooks, clock):
    hook = register(uow)
    first = announce(uow, title="Erste")
    clock.advance(seconds=1)
    second = announce(uow, title="Zweite")
    hooks.failing[hook["url"]] = "HTTP 500"
    assert use_cases.send_webhook_batch(uow, channels) == {("webhook", "retry"): 2}
    assert len(hooks.posted) == 1
    [tried], [waited] = deliveries_of(repo, str(first["id"])), deliveries_of(repo, str(second["id"]))
    assert (tried["last_error"], waited["last_error"]) == ("HTTP 500", "not tried: HTTP 500")
    assert tried["attempts"] == waited["attempts"] == 1 and tried["next_attempt_at"] == clock.now + timedelta(
        seconds=30)
    assert repo.webhook_rows[hook["id"]]["consecutive_failures"] == 1
    del hooks.failing[hook["url"]]
    clock.advance(seconds=30)
    assert use_cases.send_webhook_batch(uow, channels) == {("webhook", "sent"): 2}
    assert repo.webhook_rows[hook["id"]]["consecutive_failures"] == 0


def test_a_receiver_that_keeps_failing_is_disabled_and_its_deliveries_fail(uow, repo, channels, hooks, clock):
    hook = register(uow)
    healthy = register(uow, url="https://healthy.example/hooks")
    posted = announce(uow)
    hooks.failing[hook["url"]] = "HTTP 500"
    for _ in range(SETTINGS.webhook_max_failures):
        use_cases.send_webhook_batch(uow, channels)
        clock.advance(hours=1)
    assert repo.webhook_rows[hook["id"]]["disabled_at"] is not None
    assert repo.webhook_rows[hook["id"]]["consecutive_failures"] == 3
    assert {d["webhook_id"]: d["status"] for d in deliveries_of(repo, str(posted["id"]))} == {
        hook["id"]: "failed", healthy["id"]: "sent"}
    assert [row["url"] for row in hooks.posted].count(hook["url"]) == 3
    [failed] = events_of(uow, "NotificationFailed")
    assert (failed["data"]["channel"], failed["data"]["error"], failed["data"]["attempts"]) == (
        "webhook", "webhook disabled after 3 failures: HTTP 500", 3)

    assert [d["webhook_id"] for d in deliveries_of(repo, str(announce(uow, title="Themenabend")["id"]))] == [
        healthy["id"]]  # disabled: not even recorded
    use_cases.enable_webhook(uow, EnableWebhook(hook["id"]))
    again = announce(uow, title="Bürgerforum")
    assert {d["webhook_id"] for d in deliveries_of(repo, str(again["id"]))} == {hook["id"], healthy["id"]}


# --- what mails say ---------------------------------------------------------------------------

def test_a_board_decision_is_one_mail_with_names_a_tally_in_words_and_the_ideas_page(uow, repo, channels, mailer):
    subscribed(uow, "fan@example.org", [{"kind": "idea", "idea_id": uuid.UUID(IDEA_ID)}])
    subscribed(uow, "fan-en@example.org", [{"kind": "idea", "idea_id": uuid.UUID(IDEA_ID)}], language="en")
    use_cases.send_mail_batch(uow, channels, NAMES)  # (the confirmations were followed already)
    mailer.sent.clear()
    notify(uow, received("ideas", "IdeaPublished", idea_published("author-1")))
    decision = {**pilot_approved(), "field_of_action": "mobilitaet-infrastruktur",
                "tally": {"yes": 5, "no": 0, "abstain": 1}}
    notify(uow, received("voting", "PilotApproved", decision))
    follows = {"idea_id": IDEA_ID, "municipality": "gera", "field_of_action": "mobilitaet-infrastruktur",
               "from_status": "shortlisted", "to_status": "pilot", "cause": "board", "reason": "majority",
               "decision_id": decision["decision_id"], "author_id": "author-1", "changed_at": NOW}
    status_changed = received("ideas", "IdeaStatusChanged", follows)
    notify(uow, status_changed)
    assert deliveries_of(repo, status_changed.event_id) == []  # the decision's own mail says it
    use_cases.send_mail_batch(uow, channels, NAMES)
    german = [m for m in mailer.sent if m.to == "fan@example.org"]
    assert [m.rendered.subject for m in german] == ["Idee veröffentlicht: „Solardächer auf Schulen“",
                                                     "Pilotprojekt beschlossen: „Solardächer auf Schulen“"]
    text = german[1].rendered.text
    assert "(5 dafür, 0 dagegen, 1 Enthaltung)" in text
    assert "Handlungsfeld „Mobilität und Infrastruktur“ in Gera" in text and "mobilitaet" not in text.split("--")[0]
    assert f"https://stadt.example/ideas/{IDEA_ID}?lang=de" in text
    assert f'href="https://stadt.example/ideas/{IDEA_ID}?lang=de"' in german[1].rendered.html
    [english] = [m for m in mailer.sent if m.to == "fan-en@example.org" and "Pilot" in m.rendered.subject]
    assert "(5 for, 0 against, 1 abstention)" in english.rendered.text
    assert "Field of action “Mobility and infrastructure” in Gera" in english.rendered.text
    assert f"/ideas/{IDEA_ID}?lang=en" in english.rendered.text


def test_plurals_and_outcomes_read_as_sentences(uow, repo, channels, mailer):
    subscribed(uow, "fan@example.org", GERA_PILOTS)
    use_cases.send_mail_batch(uow, channels, NAMES)
    mailer.sent.clear()
    notify(uow, received("ideas", "IdeaPublished", idea_published("author-1")))
    rejected = {**pilot_approved(), "reason": "majority", "tally": {"yes": 1, "no": 4, "abstain": 2}}
    notify(uow, received("voting", "PilotRejected", rejected))
    no_quorum = {**pilot_approved(), "reason": "no_quorum", "quorum_met": False, "tally": {"yes": 1, "no": 0,
                                                                                            "abstain": 0}}
    notify(uow, received("voting", "PilotRejected", no_quorum))
    use_cases.send_mail_batch(uow, channels, NAMES)
    texts = [m.rendered.text for m in mailer.sent]
    assert any("nicht als Pilotprojekt gewählt (1 dafür, 4 dagegen, 2 Enthaltungen)" in t for t in texts)
    assert any("nicht beschlussfähig" in t for t in texts)
    assert not any("majority" in t or "no_quorum" in t for t in texts)


def test_a_mail_about_an_idea_not_yet_public_does_not_link_to_a_page(uow, repo, channels, mailer):
    subscribed(uow, "author@example.org", subject="author-1")
    use_cases.send_mail_batch(uow, channels, NAMES)
    mailer.sent.clear()
    notify(uow, received("ideas", "IdeaSubmitted", idea_submitted("author-1")))
    use_cases.send_mail_batch(uow, channels, NAMES)
    [receipt] = mailer.sent
    assert "/ideas/" not in receipt.rendered.text and "Handlungsfeld „Energie“ in Gera" in receipt.rendered.text
