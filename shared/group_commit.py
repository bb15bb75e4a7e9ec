"""Group commit: items that arrive together are committed in one transaction.

    apply_event = GroupCommit(record_events)   # record_events(uow, items) -> one result per item

`settings` names fields of the service's Settings to hand to the function as keywords:
GroupCommit(record_events, settings=("pseudonym_key",)) calls record_events(uow, items, pseudonym_key=…).

Each worker hands its item over and waits for the transaction holding it to commit, so it
acknowledges its message only after the effect is durable. While one batch is in the database
the next one gathers, so batches grow with the load and a single item waits for nobody. When a
batch fails, its items are committed one by one: a bad item fails alone (its worker gets the
exception: retried, then dead-lettered) and the others go through.
"""
import logging
from functools import partial

from eventlet.event import Event
from nameko.extensions import DependencyProvider

from shared.config import settings_of
from shared.db import unit_of_work_provider

log = logging.getLogger(__name__)
MAX_BATCH = 500


class GroupCommit(DependencyProvider):
    def __init__(self, commit, max_batch=MAX_BATCH, settings=()):
        self.function = commit
        self.max_batch = max_batch
        self.settings = settings  # names of Settings fields handed to `commit` as keywords

    def setup(self):
        values = settings_of(self.container)
        self.commit = partial(self.function, **{name: getattr(values, name) for name in self.settings})
        self.pending = []  # (item, Event) waiting for the next batch
        self.flushing = False

    def get_dependency(self, worker_ctx):
        return self.submit

    def submit(self, item):
        """The commit function's result for `item`, once the batch holding it is committed."""
        done = Event()
        self.pending.append((item, done))
        if not self.flushing:
            self.flushing = True
            self.container.spawn_managed_thread(self._flush, identifier="group-commit")
        return done.wait()

    def _flush(self):
        try:
            while self.pending:
                batch, self.pending = self.pending[:self.max_batch], self.pending[self.max_batch:]
                self._commit(batch)
        finally:
            self.flushing = False

    def _commit(self, batch):
        units = unit_of_work_provider(self.container)
        try:
            results = self.commit(units.new(), [item for item, _ in batch])
        except Exception:
            log.exception("a batch of %d items failed; committing them one by one", len(batch))
            for item, done in batch:
                try:
                    done.send(self.commit(units.new(), [item])[0])
                except Exception as exc:
                    done.send_exception(exc)
            return
        for (_, done), result in zip(batch, results):
            done.send(result)
