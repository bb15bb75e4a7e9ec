"""Unit tests of the ideas workflow and rules: no I/O."""
from datetime import date, datetime, timezone

import pytest

from services.ideas import domain
from shared.auth import Principal
from shared.errors import Conflict, InvalidInput

ALL = ("submitted", "published", "rejected", "shortlisted", "pilot", "in_implementation", "completed")


def who(*roles, subject="someone"):
    return Principal(subject=subject, roles=frozenset(roles))


STAFF_STEPS = {("published", "shortlisted"), ("shortlisted", "published"), ("pilot", "in_implementation"),
               ("in_implementation", "completed")}


@pytest.mark.parametrize("current,target", sorted(STAFF_STEPS))
def test_staff_moves_ideas_along_the_workflow(current, target):
    assert domain.staff_transition(current, target) == target


@pytest.mark.parametrize("current", ALL)
def test_only_the_board_makes_a_pilot(current):
    with pytest.raises(Conflict) as refused:
        domain.staff_transition(current, "pilot")
    assert refused.value.fields == {"status": ["a pilot comes only from a board decision"]}


@pytest.mark.parametrize("current,target", [
    (c, t) for c in ALL for t in ALL if (c, t) not in STAFF_STEPS and t != "pilot"
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


GERA = {"min_lat": 50.80, "max_lat": 50.95, "min_lon": 12.00, "max_lon": 12.20}


@pytest.mark.parametrize("location", [{"lat": 50.8806, "lon": 12.0817}, {"lat": 50.80, "lon": 12.20}, None])
def test_a_location_inside_the_municipality_or_none_is_accepted(location):
    domain.require_within(GERA, location)


@pytest.mark.parametrize("location", [{"lat": -33.8688, "lon": 151.2093}, {"lat": 51.3, "lon": 13.5},
                                      {"lat": 50.87, "lon": 11.99}, {"lat": 50.951, "lon": 12.1}])
def test_a_location_outside_the_municipality_is_refused_naming_location(location):
    with pytest.raises(InvalidInput) as refused:
        domain.require_within(GERA, location)
    assert list(refused.value.fields) == ["location"]


@pytest.mark.parametrize("channel,competition,profile,expected", [
    (None, None, False, "form"), ("workshop", None, False, "workshop"), ("form", None, False, "form"),
    (None, "c-1", False, "competition"), ("competition", "c-1", True, "competition"),
    (None, None, True, "profile"), ("profile", None, True, "profile"),
])
def test_the_channel_follows_competition_and_profile(channel, competition, profile, expected):
    assert domain.channel_of(channel, competition, profile) == expected


@pytest.mark.parametrize("channel,competition,profile,field", [
    ("form", "c-1", False, "channel"), ("profile", "c-1", True, "channel"), ("workshop", None, True, "channel"),
    ("competition", None, False, "competition_id"), ("profile", None, False, "profile"),
])
def test_a_channel_without_its_structure_or_contradicting_it_is_refused(channel, competition, profile, field):
    with pytest.raises(InvalidInput) as refused:
        domain.channel_of(channel, competition, profile)
    assert list(refused.value.fields) == [field]


PROFILE = {"goal": "Ziel", "target_group": "Alle", "partners": [], "effort_months": None, "cost_class": "low",
           "contact_consent": True}


def test_the_contact_consent_is_seen_by_the_author_and_staff_only():
    assert "contact_consent" not in domain.public_profile(PROFILE)
    assert domain.public_profile(None) is None
    assert domain.profile_for(PROFILE, "alice", who("citizen", subject="alice")) == PROFILE
    assert domain.profile_for(PROFILE, "alice", who("moderator")) == PROFILE
    assert domain.profile_for(PROFILE, "alice", who("citizen", subject="bob")) == domain.public_profile(PROFILE)
    assert domain.profile_for(PROFILE, "alice", None) == domain.public_profile(PROFILE)
