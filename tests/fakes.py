"""In-memory stand-ins for the unit of work, for use-case tests without broker or database.

    repo = FakeVotingRepository()
    uow = FakeUnitOfWork("voting", repo)
    use_cases.cast_vote(uow, CastVote(idea_id=..., voter="citizen-1"))
    assert [e["type"] for e in uow.events] == ["VoteCast"]

Emitted events are validated against the contract exactly as in production (make_event);
a transaction that raises leaves the repository as it was (its state is copied at `with`).
"""
import copy
from datetime import datetime, timedelta, timezone

from shared.unit_of_work import UnitOfWork


class Clock:
    """A clock that stands still until told to move: `clock.now`, `clock.advance(minutes=5)`."""

    def __init__(self, now=None):
        self.now = now or datetime(2021, 3, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)
        return self.now


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, service, repo, clock=None):
        super().__init__(service, clock or Clock())
        self.fake_repo = repo
        self.events = []  # envelopes committed, in order
        self.applied = set()  # (consumer, event id) claimed by committed transactions
        self.commits = self.rollbacks = 0
        self._saved = self._claims = None

    def claim(self, consumer, event_id, event_type):
        key = (consumer, str(event_id))
        if key in self.applied or key in self._claims:
            return False
        self._claims.add(key)
        return True

    def _begin(self):
        self._saved = copy.deepcopy(vars(self.fake_repo))
        self._claims = set()
        return self.fake_repo

    def _commit(self, events):
        self.events.extend(events)
        self.applied |= self._claims
        self.commits += 1

    def _rollback(self, exc_type, exc, traceback):
        vars(self.fake_repo).clear()
        vars(self.fake_repo).update(self._saved)
        self.rollbacks += 1

    def types(self):
        """The types of the committed events, in order."""
        return [event["type"] for event in self.events]
