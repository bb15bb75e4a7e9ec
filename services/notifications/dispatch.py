"""Sending as nameko runs it: the Channels every worker gets, and the dispatch rounds.

`ChannelsProvider` injects the frozen `Channels` (settings, mail templates, the SMTP mailer,
the webhook poster), built once per container. `Dispatcher` injects `run(channels)`: one
dispatch round of parallel mail senders and one webhook sender. Each sender runs its batch use
case (use_cases.send_mail_batch / send_webhook_batch) again and again, every batch in a unit of
work of its own, until nothing is due or the round's time slice is used, so a stopping service
waits at most one slice and every mail that left is recorded.
"""
import logging
import time
from functools import partial

import eventlet
from eventlet.greenpool import GreenPool
from nameko.extensions import DependencyProvider
from prometheus_client import Counter

from shared.db import unit_of_work_provider

from . import settings as notification_settings, use_cases, webhook
from .channels import Channels
from .mail import Mailer
from .rendering import Renderer

log = logging.getLogger(__name__)

DELIVERIES = Counter("smartcity_notifications_deliveries_total",
                     "Mails and webhook POSTs by channel and outcome (sent, failed, retry, cancelled)",
                     ["channel", "outcome"])


def build_channels(settings):
    """The real Channels: mail over SMTP (mail.Mailer), signed POSTs to webhooks (webhook.post_all)."""
    return Channels(settings, Renderer(), Mailer(settings).send_all,
                    partial(webhook.post_all, timeout=settings.webhook_timeout, allowed=settings.webhook_allow))


class ChannelsProvider(DependencyProvider):
    """Injects the service's Channels, built from SMARTCITY_NOTIFICATIONS_* when the container is set up."""

    def setup(self):
        self.channels = build_channels(notification_settings.load(self.container.service_name))

    def get_dependency(self, worker_ctx):
        return self.channels


class Dispatcher(DependencyProvider):
    """Injects `run(channels, names)`: one dispatch round over the service's unit-of-work provider."""

    def setup(self):
        self.units = unit_of_work_provider(self.container)

    def get_dependency(self, worker_ctx):
        return self.run

    def run(self, channels, names):
        """`names`: shared.places.PlaceNames, what mails show instead of slugs."""
        settings = channels.settings
        deadline = time.monotonic() + settings.dispatch_slice_seconds
        senders = GreenPool(settings.email_senders + 1)
        send_mails = partial(use_cases.send_mail_batch, names=names)
        for _ in range(settings.email_senders):
            senders.spawn(self._until_done, send_mails, channels, deadline)
        senders.spawn(self._until_done, use_cases.send_webhook_batch, channels, deadline)
        senders.waitall()

    def _until_done(self, send_batch, channels, deadline):
        while time.monotonic() < deadline:
            # The senders work at once, each holding its batch's transaction: one unit of work each.
            uow = self.units.new()
            try:
                counts = send_batch(uow, channels)
            except Exception:  # the database is away, say: the rows stay pending for the next round
                log.exception("dispatch batch failed; trying again next round")
                return
            finally:
                self.units.publish(uow)
            for (channel, outcome), count in counts.items():
                DELIVERIES.labels(channel, outcome).inc(count)
            if not counts:
                return
            eventlet.sleep(0)  # let the other senders and HTTP workers run

