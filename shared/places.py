"""Names of municipalities and fields of action in German and English, from the ideas service.

The ideas service owns this reference data (`ideas.places` over RPC); reporting's pages and
notifications' mails show its names instead of slugs. It changes only with a migration, so
`PlaceNamesProvider` asks when the container starts and keeps the answer for
`SMARTCITY_PLACE_NAMES_SECONDS` (300); then it asks again in the background while callers go on
with the copy they have. When the ideas service does not answer, pages and mails go on with the
last copy, or with the slugs, and it is asked again after a short pause: a label is never worth a
failed or delayed page or mail.
"""
import logging
import time

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider

from shared.config import env
from shared.rpc import ServiceClusterRpc

log = logging.getLogger(__name__)
RETRY_SECONDS = 30  # after a failed fetch
FIRST_WAIT_SECONDS = 1  # how long a caller right after the start waits for the first answer
RPC_TIMEOUT_SECONDS = 3


class PlaceNames:
    """`places` as `ideas.places` answers: [{slug, name, name_en, fields: [{slug, name, name_en}]}]."""

    def __init__(self, places=()):
        self.places = list(places)
        self._municipalities = {p["slug"]: p for p in self.places}
        self._fields = {(p["slug"], f["slug"]): f for p in self.places for f in p["fields"]}

    @staticmethod
    def _name(row, lang):
        return row["name_en"] if lang == "en" else row["name"]

    def municipality(self, slug, lang):
        """The municipality's name (its slug when unknown)."""
        row = self._municipalities.get(slug)
        return self._name(row, lang) if row else slug

    def field(self, municipality, slug, lang):
        row = self._fields.get((municipality, slug))
        return self._name(row, lang) if row else slug

    def knows(self, municipality, field=None):
        """Whether the ideas service has this municipality (and this field of action of it, if given)."""
        if field is None:
            return municipality in self._municipalities
        return (municipality, field) in self._fields

    def municipalities(self, lang):
        """[(slug, name)] in the ideas service's order."""
        return [(p["slug"], self._name(p, lang)) for p in self.places]

    def fields(self, municipality, lang):
        """[(slug, name)] of a municipality's fields of action, in their order."""
        place = self._municipalities.get(municipality)
        return [(f["slug"], self._name(f, lang)) for f in place["fields"]] if place else []


class PlaceNamesProvider(DependencyProvider):
    """Injects `names()`: the current PlaceNames, fetched from the ideas service when stale."""

    def setup(self):
        self.ttl = float(env("PLACE_NAMES_SECONDS", "300"))
        self.names, self.fresh_until, self.fetching = PlaceNames(), 0.0, False
        self.first = Event()  # the first answer (or failure): callers wait for it once

    def start(self):
        self._refresh()

    def get_dependency(self, worker_ctx):
        return self.current

    def current(self):
        if not self.first.ready():  # just started: give the first answer a moment, not the whole timeout
            with eventlet.Timeout(FIRST_WAIT_SECONDS, False):
                self.first.wait()
        if time.monotonic() >= self.fresh_until:
            self._refresh()
        return self.names

    def _refresh(self):
        if not self.fetching:
            self.fetching = True
            self.container.spawn_managed_thread(self._fetch, identifier="place-names")

    def _fetch(self):
        try:
            with ServiceClusterRpc(self.container.config, self.container.service_name,
                                   timeout=RPC_TIMEOUT_SECONDS) as rpc:
                self.names = PlaceNames(rpc.ideas.places())
            self.fresh_until = time.monotonic() + self.ttl
        except Exception as exc:  # ideas away: keep what we had, ask again soon
            log.warning("place names unavailable from the ideas service (%s); showing %s",
                        type(exc).__name__, "the last copy" if self.names.places else "slugs")
            self.fresh_until = time.monotonic() + RETRY_SECONDS
        finally:
            self.fetching = False
            if not self.first.ready():
                self.first.send(True)
