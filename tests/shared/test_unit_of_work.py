"""The unit of work: one transaction, with the events it emitted, or nothing at all."""
import uuid
from datetime import date, datetime, timezone

import pytest

from shared.db import Pool, SqlUnitOfWork
from shared.envelope import EventError
from tests.fakes import Clock, FakeUnitOfWork

MILESTONE = {"milestone_id": uuid.uuid4(), "municipality": "gera", "title": "Teilkonzepte",
             "due_date": date(2021, 3, 31), "idea_id": None, "scheduled_at": datetime(2021, 1, 14, tzinfo=timezone.utc)}


class Notes:
    """A repository of one list: enough to see what a transaction kept."""

    def __init__(self, cur=None):
        self.cur = cur
        self.items = []

    def add(self, text):
        if self.cur is not None:
            self.cur.execute("SELECT %s AS text", (text,))
        self.items.append(text)


def test_a_committed_block_keeps_its_changes_and_events_and_a_failed_one_keeps_neither():
    repo = Notes()
    uow = FakeUnitOfWork("ideas", repo)
    with uow:
        uow.repo.add("kept")
        uow.emit("MilestoneScheduled", MILESTONE, subject="m-1")
    with pytest.raises(RuntimeError), uow:
        uow.repo.add("lost")
        uow.emit("MilestoneScheduled", MILESTONE)
        raise RuntimeError("the use case failed")
    assert repo.items == ["kept"]
    assert uow.types() == ["MilestoneScheduled"]
    assert uow.events[0]["source"] == "/smartcity/ideas" and uow.events[0]["subject"] == "m-1"
    assert (uow.commits, uow.rollbacks) == (1, 1)


def test_an_event_that_breaks_the_contract_is_refused_when_emitted():
    uow = FakeUnitOfWork("ideas", Notes())
    with pytest.raises(EventError), uow:
        uow.emit("MilestoneScheduled", {**MILESTONE, "title": ""})
    assert uow.events == []


def test_a_claim_holds_once_committed_and_is_released_by_a_rollback():
    uow = FakeUnitOfWork("voting", Notes())
    with pytest.raises(RuntimeError), uow:
        assert uow.claim("voting.ideas", "e-1", "IdeaPublished")
        raise RuntimeError
    with uow:
        assert uow.claim("voting.ideas", "e-1", "IdeaPublished")
        assert not uow.claim("voting.ideas", "e-1", "IdeaPublished")
    with uow:
        assert not uow.claim("voting.ideas", "e-1", "IdeaPublished")
        assert uow.claim("reporting", "e-1", "IdeaPublished")


def test_the_clock_is_the_one_the_unit_of_work_was_given():
    clock = Clock(datetime(2021, 6, 30, 12, tzinfo=timezone.utc))
    uow = FakeUnitOfWork("ideas", Notes(), clock)
    assert uow.now() == datetime(2021, 6, 30, 12, tzinfo=timezone.utc)
    clock.advance(days=1)
    assert uow.now().day == 1 and uow.now().month == 7


@pytest.mark.integration
def test_the_sql_unit_of_work_writes_events_to_the_outbox_in_the_same_commit(ideas_database, ideas_sql):
    pool = Pool(ideas_database, 1)
    try:
        uow = SqlUnitOfWork("ideas", pool, Notes)
        with uow:
            assert uow.claim("ideas.test", "e-1", "PilotApproved")
            uow.repo.add("x")
            kept = uow.emit("MilestoneScheduled", MILESTONE)
        with pytest.raises(RuntimeError), uow:
            assert not uow.claim("ideas.test", "e-1", "PilotApproved")
            uow.claim("ideas.test", "e-2", "PilotApproved")
            uow.emit("MilestoneScheduled", MILESTONE)
            raise RuntimeError("rolled back")
    finally:
        pool.close()
    assert ideas_sql("SELECT id::text, exchange, routing_key FROM outbox") == [
        (kept["id"], "ideas.events", "MilestoneScheduled")]
    assert ideas_sql("SELECT event_id FROM inbox WHERE consumer = 'ideas.test'") == [("e-1",)]
    assert uow.written == [kept["id"]]
