"""The sending side without a server: a dispatch round over fake units of work, and what the SMTP and
webhook adapters make of each answer (their connections replaced by stand-ins)."""
import contextlib
import dataclasses
import smtplib
import time
import uuid
from datetime import datetime, timezone

import pytest
from prometheus_client import REGISTRY

from shared.places import PlaceNames
from services.notifications import use_cases, webhook
from services.notifications.channels import Channels, Mail
from services.notifications.commands import Subscribe
from services.notifications.dispatch import Dispatcher
from services.notifications.domain import FAILED, RETRY, SENT, Known
from services.notifications.mail import Mailer
from services.notifications.rendering import Renderer
from tests.fakes import Clock, FakeUnitOfWork
from tests.notifications.unit.fakes import SETTINGS, FakeMailer, FakeNotificationsRepository, FakeWebhooks

RENDERER = Renderer()
NOTHING_NAMED = Known(PlaceNames(), lambda idea_id: False, lambda municipality, group_id: False)  # subscriptions without topics name nothing to check
LINKS = {"unsubscribe": "https://x/api/v1/unsubscribe?token=t", "manage": "https://x/api/v1/subscriber?token=t",
         "confirm": "https://x/api/v1/subscribers/confirm?token=c"}


# --- a dispatch round -------------------------------------------------------------------------

class RelayedUnitOfWork(FakeUnitOfWork):
    @property
    def written(self):
        """As SqlUnitOfWork: the ids of the events committed."""
        return [event["id"] for event in self.events]


class Units:
    """What the Dispatcher uses of the UnitOfWorkProvider: `new()` and `publish(unit)` (to the relay)."""

    def __init__(self, repo):
        self.repo, self.clock, self.relayed = repo, Clock(datetime.now(timezone.utc)), []

    def new(self):
        return RelayedUnitOfWork("notifications", self.repo, self.clock)

    def publish(self, unit):
        self.relayed.extend(unit.written)


@pytest.fixture
def units():
    repo = FakeNotificationsRepository()
    units = Units(repo)
    for n in range(3):  # three confirmation mails due
        use_cases.subscribe(units.new(), Subscribe(f"s{n}@example.org", "de", "immediate", ()), NOTHING_NAMED)
    return units


def dispatcher(units):
    provider = Dispatcher()
    provider.units = units
    return provider


def sent_so_far():
    return REGISTRY.get_sample_value("smartcity_notifications_deliveries_total",
                                     {"channel": "email", "outcome": "sent"}) or 0


def test_a_round_sends_batch_by_batch_until_nothing_is_due_and_relays_each_batch(units):
    mailer = FakeMailer()
    channels = Channels(dataclasses.replace(SETTINGS, email_batch=1, dispatch_slice_seconds=30), RENDERER, mailer,
                        FakeWebhooks())
    before, started = sent_so_far(), time.monotonic()
    dispatcher(units).run(channels, PlaceNames())
    assert time.monotonic() - started < 5  # done when nothing is due, not when the slice is used
    assert sorted(mail.to for mail in mailer.sent) == ["s0@example.org", "s1@example.org", "s2@example.org"]
    assert {d["status"] for d in units.repo.delivery_rows.values()} == {"sent"}
    assert len(units.relayed) == 3  # each batch's NotificationSent, handed to the relay
    assert sent_so_far() - before == 3


def test_a_round_whose_time_slice_is_used_up_claims_nothing_more(units):
    mailer = FakeMailer()
    channels = Channels(dataclasses.replace(SETTINGS, dispatch_slice_seconds=0), RENDERER, mailer, FakeWebhooks())
    dispatcher(units).run(channels, PlaceNames())
    assert mailer.sent == [] and {d["status"] for d in units.repo.delivery_rows.values()} == {"pending"}


def test_a_batch_that_fails_ends_its_sender_for_this_round_and_loses_nothing(units, monkeypatch, caplog):
    def database_gone(*args):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(FakeNotificationsRepository, "claim_due_email", database_gone)
    mailer = FakeMailer()
    dispatcher(units).run(Channels(SETTINGS, RENDERER, mailer, FakeWebhooks()), PlaceNames())
    assert mailer.sent == [] and units.relayed == []
    assert {d["status"] for d in units.repo.delivery_rows.values()} == {"pending"}
    assert "dispatch batch failed" in caplog.text


# --- the SMTP adapter -------------------------------------------------------------------------

class FakeSmtp:
    """An open connection answering each mail in turn: None accepts it, an exception is raised."""

    def __init__(self, answers):
        self.answers, self.accepted = list(answers), []

    def send_message(self, message):
        answer = self.answers.pop(0)
        if answer is not None:
            raise answer
        self.accepted.append(message)


def connected_to(monkeypatch, smtp):
    @contextlib.contextmanager
    def connection(self):
        if isinstance(smtp, Exception):
            raise smtp
        yield smtp

    monkeypatch.setattr(Mailer, "connection", connection)


def mails(count):
    return [Mail(f"m{n}@example.org", RENDERER.confirmation("de", LINKS), LINKS, uuid.uuid4()) for n in range(count)]


def test_a_refused_mail_fails_alone_and_after_a_lost_connection_the_rest_waits(monkeypatch):
    smtp = FakeSmtp([None, smtplib.SMTPRecipientsRefused({"m1@example.org": (550, b"no such user")}), None,
                     smtplib.SMTPServerDisconnected("Connection unexpectedly closed")])
    connected_to(monkeypatch, smtp)
    outgoing = mails(5)
    assert Mailer(SETTINGS).send_all(outgoing) == [
        (SENT, None), (FAILED, "SMTP 550 recipient refused"), (SENT, None),
        (RETRY, "SMTPServerDisconnected: Connection unexpectedly closed"),
        (RETRY, "SMTPServerDisconnected: Connection unexpectedly closed")]
    assert [message["To"] for message in smtp.accepted] == ["m0@example.org", "m2@example.org"]
    # the delivery's own Message-ID: a mail sent again after a crash has the same, so receivers drop it
    assert smtp.accepted[0]["Message-ID"] == f"<{outgoing[0].delivery_id}@notifications.smartcity>"
    assert smtp.accepted[0]["List-Unsubscribe"] == f"<{LINKS['unsubscribe']}>"


def test_no_connection_means_every_mail_waits_and_nothing_to_send_opens_none(monkeypatch):
    connected_to(monkeypatch, ConnectionRefusedError(111, "Connection refused"))
    refused = (RETRY, "ConnectionRefusedError: [Errno 111] Connection refused")
    assert Mailer(SETTINGS).send_all(mails(2)) == [refused, refused]
    assert Mailer(SETTINGS).send_all([]) == []


# --- the webhook adapter ----------------------------------------------------------------------

def test_each_webhook_is_posted_in_order_up_to_its_first_failure(monkeypatch):
    answers = {"a1": None, "a2": "HTTP 500", "a3": None, "b1": None}
    posted = []

    def post(delivery, timeout, allowed):
        posted.append(delivery["id"])
        return answers[delivery["id"]]

    monkeypatch.setattr(webhook, "post", post)
    groups = [[{"id": "a1"}, {"id": "a2"}, {"id": "a3"}], [{"id": "b1"}]]
    assert webhook.post_all(groups, timeout=1) == [[None, "HTTP 500"], [None]]
    assert sorted(posted) == ["a1", "a2", "b1"]  # a3 not tried after a2 failed
    assert webhook.post_all([], timeout=1) == []
