"""Unit of work: one use case's transaction, its repository, and the events it emits.

    with uow:
        idea = uow.repo.get_idea(idea_id, lock=True)      # the service's repository, in the transaction
        uow.emit("VoteCast", {...}, subject=str(idea_id))  # validated now, stored at commit
    # left normally: state and events committed together; on an exception: both rolled back

Use cases see only this interface. `shared.db.SqlUnitOfWork` is the PostgreSQL one (events go to
the outbox in the same commit); the tests' in-memory one (tests/fakes.py) keeps rows in dicts.
A unit of work may be entered again after it was left, for a use case that needs two
transactions; each `with` block is one transaction.
"""
from shared.domain import utc_now
from shared.envelope import make_event


class UnitOfWork:
    def __init__(self, service, clock=utc_now):
        self.service = service
        self.clock = clock
        self.repo = None
        self._pending = []

    def now(self):
        return self.clock()

    def emit(self, event_type, data, subject=None):
        """Validate an event against the contract and keep it for this transaction's commit."""
        envelope = make_event(self.service, event_type, data, subject=subject, time=self.now())
        self._pending.append(envelope)
        return envelope

    def claim(self, consumer, event_id, event_type):
        """True when `consumer` has not applied this event yet (and now has); False for a redelivery.

        Call first in the transaction that applies the event: a rollback releases the claim too.
        """
        raise NotImplementedError

    def __enter__(self):
        self._pending = []
        self.repo = self._begin()
        return self

    def __exit__(self, exc_type, exc, traceback):
        events, self._pending = self._pending, []
        try:
            if exc_type is None:
                self._commit(events)
            else:
                self._rollback(exc_type, exc, traceback)
        finally:
            self.repo = None
        return False

    def _begin(self):
        """Open a transaction; return the repository that works in it."""
        raise NotImplementedError

    def _commit(self, events):
        """Store `events` (validated envelopes) with the transaction's changes, and commit."""
        raise NotImplementedError

    def _rollback(self, exc_type, exc, traceback):
        raise NotImplementedError
