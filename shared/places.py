"""Names of municipalities and fields of action in German and English, from the ideas service.

The ideas service owns this reference data (`ideas.places` over RPC); reporting's pages and
notifications' mails show its names instead of slugs. It changes only with a migration, so
`PlaceNamesProvider` keeps one copy per container for `SMARTCITY_PLACE_NAMES_SECONDS` (300).
When the ideas service does not answer, pages and mails go on with the last copy, or with the
slugs, and it is asked again after a short pause: a label is never worth a failed page or mail.
"""
import logging
import time

from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider
from nameko.standalone.rpc import ClusterRpcProxy

from shared.config import env

log = logging.getLogger(__name__)
RETRY_SECONDS = 30  # after a failed fetch
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
        self.names, self.fresh_until = PlaceNames(), 0.0
        self.lock = Semaphore()

    def get_dependency(self, worker_ctx):
        return self.current

    def current(self):
        if time.monotonic() < self.fresh_until:
            return self.names
        with self.lock:  # one fetch at a time; the others wait for it and take its answer
            if time.monotonic() >= self.fresh_until:
                self._fetch()
        return self.names

    def _fetch(self):
        try:
            with ClusterRpcProxy(self.container.config, timeout=RPC_TIMEOUT_SECONDS) as rpc:
                self.names = PlaceNames(rpc.ideas.places())
            self.fresh_until = time.monotonic() + self.ttl
        except Exception as exc:  # ideas away: keep what we had, ask again soon
            log.warning("place names unavailable from the ideas service (%s); showing %s",
                        type(exc).__name__, "the last copy" if self.names.places else "slugs")
            self.fresh_until = time.monotonic() + RETRY_SECONDS
