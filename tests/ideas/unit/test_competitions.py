"""Competitions on the in-memory unit of work: opened with a jury, closed once (staff or timer), entries
shortlisted once by the jury or staff; the entries are shown to them only."""
import uuid
from datetime import timedelta

import pytest

from services.ideas import use_cases as idea_use_cases
from services.ideas.commands import SubmitIdea
from services.ideas.competitions import domain, use_cases
from services.ideas.competitions.commands import (CloseCompetition, GetCompetition, ListCompetitions,
                                                  OpenCompetition, ShortlistEntry)
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

JUROR, STAFF = Principal("juror-1", frozenset({"citizen"})), Principal("staff-1", frozenset({"staff"}))
CITIZEN = Principal("citizen-1", frozenset({"citizen"}))


def open_one(uow, days=14, municipality="gera", field="energie"):
    now = uow.now()
    return use_cases.open_competition(uow, OpenCompetition(municipality, field, "Energie für Schulen", now,
                                                           now + timedelta(days=days), ("juror-1", "juror-2")))


def entry(uow, competition, title="Solardächer auf Schulen", field="energie"):
    uow.clock.advance(minutes=1)
    return idea_use_cases.submit_idea(uow, SubmitIdea(
        author_id="alice", municipality="gera", field_of_action=field, title=title,
        description="Alle Schuldächer mit Photovoltaik ausstatten.", competition_id=competition["id"]),
        idea_use_cases.KnownFields())


def test_opening_emits_the_window_and_the_jury_size_never_the_jurors(uow):
    competition = open_one(uow)
    assert competition["state"] == "open" and competition["jury_size"] == 2 and competition["entries"] == []
    [event] = uow.events
    assert event["type"] == "CompetitionOpened" and event["data"]["jury_size"] == 2
    assert "juror-1" not in str(event["data"])
    with pytest.raises(InvalidInput) as unknown:
        open_one(uow, field="raumfahrt")
    assert list(unknown.value.fields) == ["field_of_action"] and len(uow.events) == 1


def test_the_timer_closes_a_competition_once_with_its_entries(uow):
    competition = open_one(uow, days=1)
    entry(uow, competition)
    entry(uow, competition, title="Photovoltaik auf Turnhallen")
    assert use_cases.close_due_competitions(uow) == 0
    uow.clock.advance(days=1)
    assert use_cases.close_due_competitions(uow) == 1
    assert use_cases.close_due_competitions(uow) == 0
    [closed] = [e for e in uow.events if e["type"] == "CompetitionClosed"]
    assert closed["data"]["entries"] == 2 and closed["data"]["closed_at"] == uow.now().isoformat()
    assert use_cases.close_competition(uow, CloseCompetition(competition["id"]))["state"] == "closed"
    assert uow.types().count("CompetitionClosed") == 1


def test_staff_close_early_once(uow, repo):
    competition = open_one(uow)
    closed = use_cases.close_competition(uow, CloseCompetition(competition["id"]))
    assert closed["state"] == "closed" and closed["closed_at"] == uow.now()
    assert repo.locked == [competition["id"]]
    use_cases.close_competition(uow, CloseCompetition(competition["id"]))
    uow.clock.advance(days=30)
    assert use_cases.close_due_competitions(uow) == 0
    assert uow.types().count("CompetitionClosed") == 1 and uow.events[-1]["data"]["entries"] == 0
    with pytest.raises(NotFound):
        use_cases.close_competition(uow, CloseCompetition(uuid.uuid4()))


def test_the_jury_or_staff_shortlist_entries_of_that_competition_once(uow):
    competition = open_one(uow)
    other = open_one(uow)
    solar = entry(uow, competition)
    elsewhere = entry(uow, other)
    shown = use_cases.shortlist_entry(uow, ShortlistEntry(competition["id"], solar["id"], JUROR))
    assert [(e["id"], e["shortlisted"]) for e in shown["entries"]] == [(solar["id"], True)]
    use_cases.shortlist_entry(uow, ShortlistEntry(competition["id"], solar["id"], STAFF))  # again: nothing new
    [event] = [e for e in uow.events if e["type"] == "CompetitionEntryShortlisted"]
    assert event["data"]["idea_id"] == str(solar["id"]) and event["subject"] == str(competition["id"])
    with pytest.raises(InvalidInput) as not_entry:
        use_cases.shortlist_entry(uow, ShortlistEntry(competition["id"], elsewhere["id"], JUROR))
    assert list(not_entry.value.fields) == ["idea_id"]
    with pytest.raises(Forbidden):
        use_cases.shortlist_entry(uow, ShortlistEntry(competition["id"], solar["id"], CITIZEN))
    use_cases.shortlist_entry(uow, ShortlistEntry(other["id"], elsewhere["id"], STAFF))
    assert uow.types().count("CompetitionEntryShortlisted") == 2


def test_a_rejected_entry_is_not_shortlisted(uow):
    from services.ideas.commands import ModerateIdea

    competition = open_one(uow)
    idea = entry(uow, competition)
    idea_use_cases.moderate_idea(uow, ModerateIdea(idea["id"], publish=False, reason="Widerspricht den Leitlinien"))
    with pytest.raises(Conflict):
        use_cases.shortlist_entry(uow, ShortlistEntry(competition["id"], idea["id"], JUROR))


def test_entries_are_shown_to_the_jury_and_staff_only(uow):
    competition = open_one(uow)
    entry(uow, competition)
    for viewer in (JUROR, STAFF):
        assert len(use_cases.get_competition(uow, GetCompetition(competition["id"], viewer))["entries"]) == 1
    for viewer in (None, CITIZEN):
        shown = use_cases.get_competition(uow, GetCompetition(competition["id"], viewer))
        assert "entries" not in shown and shown["entry_count"] == 1
    assert [c["id"] for c in use_cases.list_competitions(uow, ListCompetitions("gera"))] == [competition["id"]]
    assert use_cases.list_competitions(uow, ListCompetitions("grossenhain")) == []


def test_state_follows_the_window():
    from datetime import datetime, timezone

    t = datetime(2021, 2, 1, tzinfo=timezone.utc)
    competition = {"opens_at": t, "closes_at": t + timedelta(days=1), "closed_at": None}
    assert domain.state(competition, t - timedelta(seconds=1)) == "upcoming"
    assert domain.state(competition, t) == "open"
    assert domain.state(competition, t + timedelta(days=1)) == "closed"
    assert domain.state({**competition, "closed_at": t}, t) == "closed"
