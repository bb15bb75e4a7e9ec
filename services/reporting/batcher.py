"""Group commit: events that arrive together are applied in one transaction.

Each consumer worker hands its event to the batcher and waits for the batch holding it to commit;
only then is its message acked, so nothing is lost. While one batch is in the database the next
one gathers, so batches grow with the load and a single event waits for nobody. If a batch fails,
its events are applied one by one: a bad event fails alone, and only it is retried and parked.
"""
import logging

from eventlet.event import Event
from nameko.extensions import DependencyProvider

from shared.db import pool_of

from . import handlers

log = logging.getLogger(__name__)
MAX_BATCH = 500


class Batcher(DependencyProvider):
    def setup(self):
        self.pending = []  # (envelope, Event) waiting for the next batch
        self.flushing = False

    def get_dependency(self, worker_ctx):
        return self.apply

    def apply(self, envelope):
        """True when the event was applied now, False when it had been applied before."""
        done = Event()
        self.pending.append((envelope, done))
        if not self.flushing:
            self.flushing = True
            self.container.spawn_managed_thread(self._flush, identifier="reporting.batcher")
        return done.wait()

    def _flush(self):
        try:
            while self.pending:
                batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
                self._apply(batch)
        finally:
            self.flushing = False

    def _apply(self, batch):
        pool = pool_of(self.container)
        try:
            applied = handlers.record_events(pool, [envelope for envelope, _ in batch])
        except Exception:
            log.exception("a batch of %d events failed; applying them one by one", len(batch))
            for envelope, done in batch:
                try:
                    done.send(bool(handlers.record_events(pool, [envelope])))
                except Exception as exc:  # the worker re-raises it: retried, then dead-lettered
                    done.send_exception(exc)
            return
        seen = set()
        for envelope, done in batch:
            done.send(envelope["id"] in applied and envelope["id"] not in seen)
            seen.add(envelope["id"])
