"""Unit tests of the ideas workflow and rules: no I/O."""
from datetime import date, datetime, timezone

import pytest

from services.ideas import domain
from shared.auth import Principal
from shared.errors import Conflict

ALL = ("submitted", "published", "rejected", "shortlisted", "pilot", "in_implementation", "completed")


def who(*roles, subject="someone"):
    return Principal(subject=subject, roles=frozenset(roles))


@pytest.mark.parametrize("current,target", [
    ("published", "shortlisted"), ("shortlisted", "pilot"), ("shortlisted", "published"),
    ("pilot", "in_implementation"), ("in_implementation", "completed"),
])
def test_staff_moves_ideas_along_the_workflow(current, target):
    assert domain.staff_transition(current, target) == target


@pytest.mark.parametrize("current,target", [
    (c, t) for c in ALL for t in ALL
    if (c, t) not in {("published", "shortlisted"), ("shortlisted", "pilot"), ("shortlisted", "published"),
                      ("pilot", "in_implementation"), ("in_implementation", "completed")}
])
def test_every_other_step_is_refused_as_a_conflict(current, target):
    with pytest.raises(domain.InvalidTransition) as refused:
        domain.staff_transition(current, target)
    assert isinstance(refused.value, Conflict) and not hasattr(refused.value, "status")
    assert "status" in refused.value.fields


def test_moderation_only_applies_to_submitted_ideas():
    assert domain.moderate("submitted", publish=True) == "published"
    assert domain.moderate("submitted", publish=False) == "rejected"
    for status in set(ALL) - {"submitted"}:
        with pytest.raises(Conflict):
            domain.moderate(status, publish=True)


def test_board_approval_makes_a_shortlisted_idea_a_pilot_and_is_idempotent():
    assert domain.after_board_decision("shortlisted", approved=True) == "pilot"
    for later in ("pilot", "in_implementation", "completed"):
        assert domain.after_board_decision(later, approved=True) is None


def test_board_rejection_returns_a_shortlisted_idea_to_the_pool():
    assert domain.after_board_decision("shortlisted", approved=False) == "published"
    assert domain.after_board_decision("published", approved=False) is None


@pytest.mark.parametrize("status", ["submitted", "rejected"])
def test_board_decision_on_an_unmoderated_or_rejected_idea_is_refused(status):
    for approved in (True, False):
        with pytest.raises(domain.InvalidTransition):
            domain.after_board_decision(status, approved)


def test_visibility():
    assert domain.visible("published", "alice", None)
    assert domain.visible("pilot", "alice", None)
    assert not domain.visible("submitted", "alice", None)
    assert not domain.visible("rejected", "alice", who("citizen", subject="bob"))
    assert domain.visible("rejected", "alice", who("citizen", subject="alice"))
    assert domain.visible("submitted", "alice", who("moderator"))
    assert domain.visible("submitted", "alice", who("admin"))
    assert not domain.visible("submitted", "alice", who("board_member"))


def test_milestone_on_time_is_judged_on_the_municipal_calendar_day():
    due = date(2021, 3, 31)
    # 23:30 UTC on the 31st is already 1 April in Germany (CEST, UTC+2)
    assert not domain.reached_on_time(due, datetime(2021, 3, 31, 23, 30, tzinfo=timezone.utc))
    assert domain.reached_on_time(due, datetime(2021, 3, 31, 21, 59, tzinfo=timezone.utc))
    assert domain.reached_on_time(due, datetime(2021, 3, 1, tzinfo=timezone.utc))


def test_only_pilots_have_milestones():
    assert {s for s in ALL if domain.may_have_milestones(s)} == {"pilot", "in_implementation", "completed"}


def test_a_milestone_shows_its_state():
    from services.ideas.schemas import MilestoneOut

    now = datetime.now(timezone.utc)
    row = {"id": None, "municipality": "gera", "idea_id": None, "title": "t", "description": None,
           "due_date": date(2021, 3, 31)}
    state = lambda reached_at, overdue_at: MilestoneOut().dump(  # noqa: E731
        {**row, "reached_at": reached_at, "overdue_at": overdue_at})["state"]
    assert state(None, None) == "scheduled"
    assert state(None, now) == "overdue"
    assert state(now, now) == "reached"
