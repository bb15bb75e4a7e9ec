"""Submitting an idea into the strategy process: its working group, profile, competition and location
(in-memory unit of work: each refusal names its field and leaves neither state nor events)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.ideas import use_cases
from services.ideas.commands import GetIdea, ModerateIdea, SearchIdeas, SubmitIdea
from services.ideas.competitions import use_cases as competition_use_cases
from services.ideas.competitions.commands import CloseCompetition, OpenCompetition
from services.ideas.groups import use_cases as group_use_cases
from services.ideas.groups.commands import CreateGroup
from shared.auth import Principal
from shared.errors import Conflict, InvalidInput

IDEA = dict(municipality="gera", field_of_action="energie", title="Solardächer auf Schulen",
            description="Alle Schuldächer mit Photovoltaik ausstatten.")
PROFILE = {"goal": "Schulen erzeugen ihren Strom selbst", "target_group": "Schulen und Schulträger",
           "partners": ["Energieversorgung Gera GmbH"], "effort_months": 18, "cost_class": "high",
           "contact_consent": True}


def submit(uow, author="alice", **changes):
    uow.clock.advance(minutes=1)
    return use_cases.submit_idea(uow, SubmitIdea(author_id=author, **{**IDEA, **changes}), use_cases.KnownFields())


def refused(uow, exception, **changes):
    """The refusal's fields; nothing new stored, nothing emitted."""
    ideas, events = dict(uow.fake_repo.ideas), len(uow.events)
    with pytest.raises(exception) as refusal:
        submit(uow, **changes)
    assert uow.fake_repo.ideas == ideas and len(uow.events) == events
    return refusal.value.fields


def competition(uow, opens_in=timedelta(0), closes_in=timedelta(days=30), field_of_action="energie",
                municipality="gera"):
    now = uow.now()
    return competition_use_cases.open_competition(uow, OpenCompetition(
        municipality, field_of_action, "Energie für Schulen", now + opens_in, now + closes_in, ("juror-1",)))


def test_an_idea_belongs_to_its_group_by_id_and_the_events_carry_id_and_name(uow, repo):
    group = group_use_cases.create_group(uow, CreateGroup("gera", "AG Energie", "working_group", "energie"))
    idea = submit(uow, working_group_id=group["id"])
    stored = repo.ideas[idea["id"]]
    assert (stored["working_group_id"], stored["working_group"]) == (group["id"], "AG Energie")
    submitted = uow.events[-1]["data"]
    assert (submitted["working_group_id"], submitted["working_group"]) == (str(group["id"]), "AG Energie")
    use_cases.moderate_idea(uow, ModerateIdea(idea["id"], publish=True))
    published = uow.events[-1]["data"]
    assert (published["working_group_id"], published["working_group"]) == (str(group["id"]), "AG Energie")
    found = use_cases.search_ideas(uow, SearchIdeas(working_group_id=group["id"]))
    assert [i["id"] for i in found["items"]] == [idea["id"]]


def test_a_group_named_by_its_name_in_any_case_is_the_group(uow, repo):
    group = group_use_cases.create_group(uow, CreateGroup("gera", "AG Energie", "working_group"))
    idea = submit(uow, working_group="ag ENERGIE")
    assert repo.ideas[idea["id"]]["working_group_id"] == group["id"]
    assert repo.ideas[idea["id"]]["working_group"] == "AG Energie"  # spelled as the group is
    assert submit(uow, working_group_id=group["id"], working_group="AG Energie")["working_group_id"] == group["id"]


def test_an_unknown_group_is_refused_naming_the_field(uow):
    elsewhere = group_use_cases.create_group(uow, CreateGroup("grossenhain", "AG Bildung", "working_group"))
    gera = group_use_cases.create_group(uow, CreateGroup("gera", "AG Energie", "working_group"))
    assert refused(uow, InvalidInput, working_group_id=uuid.uuid4()) == {
        "working_group_id": ["no such working group in gera"]}
    assert list(refused(uow, InvalidInput, working_group_id=elsewhere["id"])) == ["working_group_id"]
    assert list(refused(uow, InvalidInput, working_group="AG Energi")) == ["working_group"]  # a typo
    assert list(refused(uow, InvalidInput, working_group="AG Bildung")) == ["working_group"]  # Großenhain's
    assert list(refused(uow, InvalidInput, working_group_id=gera["id"], working_group="AG Umwelt")) == [
        "working_group"]


def test_a_profile_is_stored_and_its_contact_consent_never_leaves_for_the_public(uow, repo):
    idea = submit(uow, profile=PROFILE)
    assert repo.ideas[idea["id"]]["channel"] == "profile" and repo.ideas[idea["id"]]["profile"] == PROFILE
    submitted = uow.events[-1]["data"]
    assert submitted["has_profile"] is True and "profile" not in submitted
    use_cases.moderate_idea(uow, ModerateIdea(idea["id"], publish=True))
    published = uow.events[-1]["data"]["profile"]
    assert published == {key: value for key, value in PROFILE.items() if key != "contact_consent"}
    public = use_cases.get_idea(uow, GetIdea(idea["id"]))["profile"]
    assert "contact_consent" not in public and public["goal"] == PROFILE["goal"]
    for viewer in (Principal("alice", frozenset({"citizen"})), Principal("s", frozenset({"staff"}))):
        assert use_cases.get_idea(uow, GetIdea(idea["id"], viewer=viewer))["profile"]["contact_consent"] is True
    [listed] = use_cases.search_ideas(uow, SearchIdeas())["items"]
    assert "contact_consent" not in listed["profile"]


def test_an_idea_without_profile_says_so(uow):
    submit(uow)
    assert uow.events[-1]["data"]["has_profile"] is False and uow.events[-1]["data"]["channel"] == "form"


def test_an_entry_goes_into_an_open_competition_of_its_municipality_and_field(uow, repo):
    contest = competition(uow)
    idea = submit(uow, competition_id=contest["id"], profile=PROFILE)
    assert repo.ideas[idea["id"]]["channel"] == "competition"
    assert uow.events[-1]["data"]["competition_id"] == str(contest["id"])
    assert list(refused(uow, InvalidInput, competition_id=uuid.uuid4())) == ["competition_id"]
    assert list(refused(uow, InvalidInput, competition_id=contest["id"], field_of_action="umwelt")) == [
        "field_of_action"]
    assert list(refused(uow, InvalidInput, competition_id=contest["id"], channel="form")) == ["channel"]


def test_a_competition_not_open_takes_no_entries(uow):
    later = competition(uow, opens_in=timedelta(days=1))
    assert refused(uow, Conflict, competition_id=later["id"]) == {"competition_id": ["the competition is not open yet"]}
    ending = competition(uow, closes_in=timedelta(hours=1))
    submit(uow, competition_id=ending["id"])
    uow.clock.advance(hours=1)
    assert refused(uow, Conflict, competition_id=ending["id"]) == {"competition_id": ["the competition is closed"]}
    early = competition(uow)
    competition_use_cases.close_competition(uow, CloseCompetition(early["id"]))
    assert list(refused(uow, Conflict, competition_id=early["id"])) == ["competition_id"]


@pytest.mark.parametrize("location", [{"lat": -33.8688, "lon": 151.2093},  # Sydney
                                      {"lat": 51.2905, "lon": 13.5387}])  # Großenhain
def test_a_location_outside_the_municipality_is_refused(uow, location):
    assert list(refused(uow, InvalidInput, location=location)) == ["location"]


def test_a_location_in_the_municipality_is_kept(uow, repo):
    idea = submit(uow, municipality="grossenhain", field_of_action="bildung", location={"lat": 51.2905, "lon": 13.5387})
    assert (repo.ideas[idea["id"]]["lat"], repo.ideas[idea["id"]]["lon"]) == (51.2905, 13.5387)


def test_channels_need_their_structure(uow):
    assert list(refused(uow, InvalidInput, channel="competition")) == ["competition_id"]
    assert list(refused(uow, InvalidInput, channel="profile")) == ["profile"]
    assert submit(uow, channel="workshop")["channel"] == "workshop"


def test_the_competition_opens_with_a_window_in_the_future(uow):
    now = datetime(2021, 3, 1, 9, tzinfo=timezone.utc)
    with pytest.raises(InvalidInput) as past:
        competition_use_cases.open_competition(uow, OpenCompetition(
            "gera", "energie", "Zu spät", now - timedelta(days=2), now - timedelta(days=1), ("juror-1",)))
    assert list(past.value.fields) == ["closes_at"] and uow.events == []
