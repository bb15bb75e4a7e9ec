"""The cast's two statements on real PostgreSQL: what the locking read brings, and the one write
that stores everything or nothing (docs/performance.md: 10 round trips per vote became 4)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.voting import ledger
from services.voting.repository import VotingRepository
from shared.db import Pool

pytestmark = pytest.mark.integration

NOW = datetime.now(timezone.utc)


@pytest.fixture
def transaction(voting_database, voting_sql):
    """transaction() -> a VotingRepository in a transaction of its own, committed when the block ends."""
    pool = Pool(voting_database, 2)
    yield lambda: _Repo(pool)
    pool.close()


class _Repo:
    def __init__(self, pool):
        self.transaction = pool.transaction()

    def __enter__(self):
        return VotingRepository(self.transaction.__enter__())

    def __exit__(self, *exc):
        return self.transaction.__exit__(*exc)


def _seed(repo, budget=2):
    idea_id = uuid.uuid4()
    repo.track_idea({"id": idea_id, "municipality": "gera", "field_of_action": "energie", "title": "Solar",
                     "status": "published", "status_at": NOW, "published_at": NOW}, ledger.GENESIS)
    kinds = ((None, "Stadtweit", timedelta(hours=2)), ("energie", "Energie", timedelta(hours=1)),
             (None, "Später", timedelta(hours=-1)))  # the last one opens in an hour
    rounds = [{"id": uuid.uuid4(), "municipality": "gera", "field_of_action": field, "title": title,
               "opens_at": NOW - opened, "closes_at": NOW + timedelta(days=1), "budget": budget, "created_at": NOW}
              for field, title, opened in kinds]
    for round_ in rounds:
        repo.add_round(round_)
    repo.set_threshold("gera", 7, NOW)
    return idea_id, rounds


def _cast(repo, idea_id, voter, round_):
    idea = repo.idea_for_vote(idea_id, voter, 50, NOW)
    entry = ledger.next_entry(idea, "cast", round_["id"], voter, idea["total"] + 1, NOW)
    return entry, repo.record_cast(entry, voter, round_, None)


def test_the_locking_read_brings_threshold_earlier_vote_and_the_open_rounds_with_their_types(transaction):
    with transaction() as repo:
        idea_id, rounds = _seed(repo)
        assert repo.idea_for_vote(uuid.uuid4(), "citizen-1", 50, NOW) is None
        idea = repo.idea_for_vote(idea_id, "citizen-1", 50, NOW)
        assert idea["threshold"] == 7 and idea["vote_round_id"] is None and idea["total"] == 0
        assert idea["open_rounds"] == repo.rounds_of("gera", NOW) == rounds[:2]  # not the one opening later
        _cast(repo, idea_id, "citizen-1", rounds[1])
        assert repo.idea_for_vote(idea_id, "citizen-1", 50, NOW)["vote_round_id"] == rounds[1]["id"]


def test_one_write_stores_budget_vote_ledger_and_total(transaction):
    with transaction() as repo:
        idea_id, rounds = _seed(repo)
        entry, result = _cast(repo, idea_id, "citizen-1", rounds[0])
        assert result == (None, True)
        idea = repo.get_idea(idea_id, 50)
        assert (idea["total"], idea["ledger_seq"], idea["ledger_head"]) == (1, 1, entry["hash"])
        assert repo.ballot(rounds[0]["id"], "citizen-1") == [idea_id]
        assert [e["hash"] for e in repo.ledger_of(idea_id)] == [entry["hash"]]


def test_the_write_stores_nothing_when_the_budget_is_used_up_or_the_vote_exists(transaction):
    with transaction() as repo:
        ideas = [_seed(repo, budget=1) for _ in range(2)]
        (first, rounds), (second, _) = ideas
        assert _cast(repo, first, "citizen-1", rounds[0])[1] == (None, True)
        # the budget of the round is used up: nothing written for the second idea
        assert _cast(repo, second, "citizen-1", rounds[0])[1] == (None, False)
        # a vote that exists (a parallel cast committed while this one waited for the lock): reported, not repeated
        idea = repo.idea_for_vote(first, "citizen-1", 50, NOW)
        entry = ledger.next_entry(idea, "cast", rounds[1]["id"], "citizen-1", idea["total"] + 1, NOW)
        assert repo.record_cast(entry, "citizen-1", rounds[1], None) == (rounds[0]["id"], False)
        assert [repo.get_idea(i, 50)["total"] for i in (first, second)] == [1, 0]
        assert len(repo.ledger_of(first)) == 1 and repo.ledger_of(second) == []
        assert repo.ballot(rounds[1]["id"], "citizen-1") == []
