"""Every use case of the ideas service against the in-memory unit of work: no broker, no database.

What is checked is what the SQL tests cannot see cheaply: each refusal (its class and `fields`),
the events committed with their key data, that a refused or failed transaction leaves neither
state nor events behind, and that a redelivered board decision has no second effect.
"""
import uuid
from datetime import date, datetime, timezone

import pytest

from services.ideas import use_cases
from services.ideas.commands import (ChangeStatus, FollowBoardDecision, GetIdea, GetMilestone, ListFields,
                                     ListMilestones, ListTopicStores, ModerateIdea, ReachMilestone,
                                     ScheduleMilestone, SearchIdeas, SubmitIdea)
from services.ideas.domain import InvalidTransition
from services.ideas.groups import use_cases as group_use_cases
from services.ideas.groups.commands import CreateGroup
from shared.auth import Principal
from shared.envelope import EventError
from shared.errors import Conflict, InvalidInput, NotFound

IDEA = dict(municipality="gera", field_of_action="mobilitaet-infrastruktur", title="Digitale Parkplatzsuche",
            description="Sensoren an Parkplätzen melden freie Plätze an eine App.", channel="form",
            location={"lat": 50.8806, "lon": 12.0817})


def who(*roles, subject="someone"):
    return Principal(subject=subject, roles=frozenset(roles))


MODERATOR, STAFF = who("moderator"), who("staff")


def submit(uow, author="alice", known_fields=None, **changes):
    uow.clock.advance(minutes=1)  # distinct created_at: "newest first" is well defined
    return use_cases.submit_idea(uow, SubmitIdea(author_id=author, **{**IDEA, **changes}),
                                 known_fields or use_cases.KnownFields())


WORKFLOW_PATH = ("shortlisted", "pilot", "in_implementation", "completed")


def group(uow, name, municipality="gera", kind="working_group", field_of_action=None):
    return group_use_cases.create_group(uow, CreateGroup(municipality, name, kind, field_of_action))


def idea_in(uow, status, **changes):
    """An idea brought to `status` through the use cases themselves (its events included); the board
    makes it a pilot, as only the board may."""
    if changes.get("working_group") and not uow.fake_repo.group_named(changes.get("municipality", "gera"),
                                                                      changes["working_group"]):
        group(uow, changes["working_group"], changes.get("municipality", "gera"))
    idea = submit(uow, **changes)
    if status != "submitted":
        use_cases.moderate_idea(uow, ModerateIdea(idea["id"], publish=status != "rejected", reason="Nicht in Gera"))
    if status in WORKFLOW_PATH:
        for step in WORKFLOW_PATH[:WORKFLOW_PATH.index(status) + 1]:
            if step == "pilot":
                use_cases.follow_board_decision(uow, board(idea["id"]))
            else:
                use_cases.change_status(uow, ChangeStatus(idea["id"], step))
    return dict(uow.fake_repo.ideas[idea["id"]])


# --- reference data ---------------------------------------------------------------------

def test_municipalities_in_slug_order(uow):
    assert [m["slug"] for m in use_cases.list_municipalities(uow)] == ["gera", "grossenhain"]


def test_fields_of_action_of_a_municipality_in_their_order(uow):
    assert [f["slug"] for f in use_cases.list_fields(uow, ListFields("grossenhain"))] == ["verwaltung", "bildung"]
    with pytest.raises(NotFound) as missing:
        use_cases.list_fields(uow, ListFields("atlantis"))
    assert missing.value.message == "municipality 'atlantis' not found"


def test_places_hold_every_municipality_with_its_fields_named_in_both_languages(uow):
    places = use_cases.places(uow)
    assert [p["slug"] for p in places] == ["gera", "grossenhain"]
    assert places[0]["fields"][1] == {"slug": "mobilitaet-infrastruktur", "name": "Mobilität und Infrastruktur",
                                      "name_en": "Mobility and infrastructure"}
    assert [f["name_en"] for f in places[1]["fields"]] == ["Administration", "Education"]


def test_topic_stores_are_the_groups_counting_what_the_viewer_may_see(uow):
    energy = group(uow, "AG Energie", field_of_action="energie")
    group(uow, "AG Umwelt")
    group(uow, "Fachgruppe Unternehmen", kind="expert_group")
    idea_in(uow, "published", working_group="AG Energie", field_of_action="energie")
    idea_in(uow, "submitted", working_group_id=energy["id"], field_of_action="energie")
    idea_in(uow, "submitted", working_group="ag umwelt", field_of_action="umwelt")
    idea_in(uow, "published", working_group=None)
    counts = lambda viewer=None: {s["name"]: s["ideas"] for s in  # noqa: E731
                                  use_cases.topic_stores(uow, ListTopicStores("gera", viewer=viewer))}
    assert counts() == {"AG Energie": 1, "AG Umwelt": 0, "Fachgruppe Unternehmen": 0}  # a group without ideas: 0
    assert counts(MODERATOR) == {"AG Energie": 2, "AG Umwelt": 1, "Fachgruppe Unternehmen": 0}
    [expert] = [s for s in use_cases.topic_stores(uow, ListTopicStores("gera")) if s["kind"] == "expert_group"]
    assert expert["name"] == "Fachgruppe Unternehmen"
    assert use_cases.topic_stores(uow, ListTopicStores("grossenhain")) == []
    with pytest.raises(NotFound):
        use_cases.topic_stores(uow, ListTopicStores("atlantis"))


# --- submit -----------------------------------------------------------------------------

def test_submit_stores_the_idea_and_emits_idea_submitted_in_one_commit(uow, repo):
    idea = submit(uow, author="citizen-7")
    stored = repo.ideas[idea["id"]]
    assert stored["status"] == "submitted" and stored["author_id"] == "citizen-7"
    assert (stored["lat"], stored["lon"]) == (50.8806, 12.0817)
    assert stored["created_at"] == stored["updated_at"] == uow.now() and stored["published_at"] is None
    assert uow.types() == ["IdeaSubmitted"] and uow.commits == 1
    [event] = uow.events
    assert event["subject"] == str(idea["id"])
    assert event["data"]["idea_id"] == str(idea["id"])
    assert event["data"]["author_id"] == "citizen-7"
    assert event["data"]["location"] == {"lat": 50.8806, "lon": 12.0817}
    assert event["data"]["submitted_at"] == uow.now().isoformat()
    assert "description" not in event["data"]  # not public before moderation


def test_submit_without_location_or_working_group(uow, repo):
    idea = submit(uow, location=None, working_group=None)
    assert repo.ideas[idea["id"]]["lat"] is None
    assert uow.events[0]["data"]["location"] is None and uow.events[0]["data"]["working_group"] is None


@pytest.mark.parametrize("changes,field", [
    ({"municipality": "atlantis"}, "municipality"),
    ({"field_of_action": "raumfahrt"}, "field_of_action"),
    ({"field_of_action": "verwaltung"}, "field_of_action"),  # Großenhain's, not Gera's
])
def test_submit_refuses_unknown_places_and_stores_nothing(uow, repo, changes, field):
    with pytest.raises(InvalidInput) as refused:
        submit(uow, **changes)
    assert list(refused.value.fields) == [field]
    assert repo.ideas == {} and uow.events == [] and uow.rollbacks == 1


def test_a_field_once_found_is_not_asked_again_and_an_unknown_one_is_asked_every_time(uow, repo, monkeypatch):
    asked = []
    check = repo.reference_check
    monkeypatch.setattr(repo, "reference_check", lambda *pair: asked.append(pair) or check(*pair))
    known = use_cases.KnownFields()
    submit(uow, known_fields=known)
    submit(uow, known_fields=known)
    field = IDEA["field_of_action"]
    assert asked == [("gera", field)]
    repo.fields["gera"].append({"slug": "raumfahrt", "name": "Raumfahrt"})  # a migration adds a field
    for _ in range(2):
        submit(uow, known_fields=known, field_of_action="raumfahrt")
    assert asked == [("gera", field), ("gera", "raumfahrt")]
    with pytest.raises(InvalidInput):
        submit(uow, known_fields=known, municipality="atlantis")
    with pytest.raises(InvalidInput):
        submit(uow, known_fields=known, municipality="atlantis")
    assert asked[2:] == [("atlantis", field)] * 2
    assert len(repo.ideas) == 4


# --- read -------------------------------------------------------------------------------

def test_hidden_ideas_look_missing_to_everyone_but_their_author_and_moderators(uow):
    idea = idea_in(uow, "submitted", author="alice")
    for viewer in (None, who("citizen", subject="bob"), who("board_member")):
        with pytest.raises(NotFound) as hidden:
            use_cases.get_idea(uow, GetIdea(idea["id"], viewer=viewer))
        assert hidden.value.message == "idea not found"
    for viewer in (who("citizen", subject="alice"), MODERATOR, STAFF):
        assert use_cases.get_idea(uow, GetIdea(idea["id"], viewer=viewer))["id"] == idea["id"]
    with pytest.raises(NotFound):
        use_cases.get_idea(uow, GetIdea(uuid.uuid4(), viewer=MODERATOR))


def test_published_ideas_are_public(uow):
    idea = idea_in(uow, "pilot")
    assert use_cases.get_idea(uow, GetIdea(idea["id"]))["status"] == "pilot"


def test_search_shows_the_public_published_ideas_and_authors_their_own(uow):
    hidden = idea_in(uow, "submitted", author="alice")
    rejected = idea_in(uow, "rejected", author="bob")
    shown = idea_in(uow, "published", author="bob")
    ids = lambda page: [i["id"] for i in page["items"]]  # noqa: E731
    assert ids(use_cases.search_ideas(uow, SearchIdeas())) == [shown["id"]]
    assert ids(use_cases.search_ideas(uow, SearchIdeas(viewer=who("citizen", subject="alice")))) == [
        shown["id"], hidden["id"]]
    everything = use_cases.search_ideas(uow, SearchIdeas(viewer=MODERATOR))
    assert ids(everything) == [shown["id"], rejected["id"], hidden["id"]] and everything["total"] == 3


def test_search_filters_text_and_pages(uow):
    solar = idea_in(uow, "published", field_of_action="energie", working_group="AG Energie",
                    title="Solardächer auf Schulen")
    light = idea_in(uow, "published", field_of_action="energie", working_group=None,
                    title="Intelligente Straßenbeleuchtung")
    trees = idea_in(uow, "shortlisted", field_of_action="umwelt", working_group="AG Umwelt",
                    title="Baumkataster mit Sensoren")
    search = lambda **query: use_cases.search_ideas(uow, SearchIdeas(**query))  # noqa: E731
    assert search(field_of_action="energie")["total"] == 2
    assert [i["id"] for i in search(working_group="AG Umwelt")["items"]] == [trees["id"]]
    assert [i["id"] for i in search(status="shortlisted")["items"]] == [trees["id"]]
    assert [i["id"] for i in search(text="solardächer")["items"]] == [solar["id"]]
    assert search(municipality="grossenhain") == {"items": [], "total": 0, "page": 1, "page_size": 20}
    first, second = search(page=1, page_size=2), search(page=2, page_size=2)
    assert (first["total"], first["page"], first["page_size"]) == (3, 1, 2)
    assert [i["id"] for i in first["items"] + second["items"]] == [trees["id"], light["id"], solar["id"]]
    assert second["page"] == 2 and len(second["items"]) == 1


# --- moderation and workflow ------------------------------------------------------------

def test_publishing_an_idea_emits_idea_published(uow, repo):
    idea = submit(uow)
    uow.clock.advance(hours=2)
    published = use_cases.moderate_idea(uow, ModerateIdea(idea["id"], publish=True))
    assert published["status"] == "published" and published["published_at"] == uow.now()
    assert repo.ideas[idea["id"]]["status"] == "published"
    assert repo.locked == [idea["id"]]  # read for update: two moderators cannot both decide
    assert uow.types() == ["IdeaSubmitted", "IdeaPublished"]
    data = uow.events[-1]["data"]
    assert data["idea_id"] == str(idea["id"]) and data["author_id"] == "alice"
    assert data["published_at"] == uow.now().isoformat()


def test_rejecting_an_idea_emits_idea_rejected_with_the_reason(uow, repo):
    idea = submit(uow)
    rejected = use_cases.moderate_idea(uow, ModerateIdea(idea["id"], publish=False, reason="Betrifft nicht Gera"))
    assert rejected["status"] == "rejected" and rejected["status_reason"] == "Betrifft nicht Gera"
    assert rejected["published_at"] is None
    assert uow.types() == ["IdeaSubmitted", "IdeaRejected"]
    assert uow.events[-1]["data"]["reason"] == "Betrifft nicht Gera"


def test_only_submitted_ideas_are_moderated(uow, repo):
    idea = idea_in(uow, "published")
    before = len(uow.events)
    with pytest.raises(Conflict) as refused:
        use_cases.moderate_idea(uow, ModerateIdea(idea["id"], publish=False, reason="zu spät"))
    assert refused.value.fields == {"decision": ["idea is not awaiting moderation"]}
    assert repo.ideas[idea["id"]]["status"] == "published" and len(uow.events) == before
    with pytest.raises(NotFound):
        use_cases.moderate_idea(uow, ModerateIdea(uuid.uuid4(), publish=True))


def test_an_event_the_contract_refuses_rolls_the_state_change_back(uow, repo):
    idea = submit(uow)
    with pytest.raises(EventError):  # a rejection without reason: IdeaRejected requires one
        use_cases.moderate_idea(uow, ModerateIdea(idea["id"], publish=False, reason=None))
    assert repo.ideas[idea["id"]]["status"] == "submitted"
    assert uow.types() == ["IdeaSubmitted"] and uow.rollbacks == 1


def test_staff_move_an_idea_along_the_workflow_and_the_board_makes_the_pilot(uow, repo):
    idea = idea_in(uow, "published")
    changed = use_cases.change_status(uow, ChangeStatus(idea["id"], "shortlisted", reason="Strategiekreis"))
    assert changed["status"] == "shortlisted" and changed["status_reason"] == "Strategiekreis"
    with pytest.raises(Conflict) as refused:
        use_cases.change_status(uow, ChangeStatus(idea["id"], "pilot"))
    assert list(refused.value.fields) == ["status"] and repo.ideas[idea["id"]]["status"] == "shortlisted"
    use_cases.follow_board_decision(uow, board(idea["id"]))
    for status in ("in_implementation", "completed"):
        changed = use_cases.change_status(uow, ChangeStatus(idea["id"], status, reason="Strategiekreis"))
        assert changed["status"] == status and changed["status_reason"] == "Strategiekreis"
    changes = [e["data"] for e in uow.events if e["type"] == "IdeaStatusChanged"]
    assert [(c["from_status"], c["to_status"], c["cause"]) for c in changes] == [
        ("published", "shortlisted", "staff"), ("shortlisted", "pilot", "board"),
        ("pilot", "in_implementation", "staff"), ("in_implementation", "completed", "staff")]


def test_an_invalid_step_is_refused_and_changes_nothing(uow, repo):
    idea = submit(uow)
    with pytest.raises(InvalidTransition) as refused:
        use_cases.change_status(uow, ChangeStatus(idea["id"], "shortlisted"))
    assert isinstance(refused.value, Conflict)
    assert refused.value.fields == {"status": ["allowed from submitted: none"]}
    assert repo.ideas[idea["id"]]["status"] == "submitted" and uow.types() == ["IdeaSubmitted"]
    with pytest.raises(NotFound):
        use_cases.change_status(uow, ChangeStatus(uuid.uuid4(), "shortlisted"))


# --- board decisions from the voting service -----------------------------------------------

def board(idea_id, approved=True, reason=None, event_id=None):
    return FollowBoardDecision(event_id=event_id or str(uuid.uuid4()),
                               event_type="PilotApproved" if approved else "PilotRejected",
                               idea_id=idea_id, decision_id=uuid.uuid4(), approved=approved, reason=reason)


def test_pilot_approved_makes_the_shortlisted_idea_a_pilot(uow, repo):
    idea = idea_in(uow, "shortlisted")
    decision = board(idea["id"])
    assert use_cases.follow_board_decision(uow, decision) is True
    assert repo.ideas[idea["id"]]["status"] == "pilot"
    changed = uow.events[-1]
    assert changed["type"] == "IdeaStatusChanged" and changed["subject"] == str(idea["id"])
    assert changed["data"]["cause"] == "board" and changed["data"]["decision_id"] == str(decision.decision_id)
    assert (changed["data"]["from_status"], changed["data"]["to_status"]) == ("shortlisted", "pilot")


def test_pilot_rejected_returns_the_idea_to_the_pool_with_the_reason(uow, repo):
    idea = idea_in(uow, "shortlisted")
    use_cases.follow_board_decision(uow, board(idea["id"], approved=False, reason="no_quorum"))
    assert repo.ideas[idea["id"]]["status"] == "published"
    assert repo.ideas[idea["id"]]["status_reason"] == "board decision: no_quorum"
    assert uow.events[-1]["data"]["reason"] == "board decision: no_quorum"


def test_a_redelivered_decision_has_no_second_effect(uow, repo):
    idea = idea_in(uow, "shortlisted")
    decision = board(idea["id"])
    use_cases.follow_board_decision(uow, decision)
    use_cases.change_status(uow, ChangeStatus(idea["id"], "in_implementation"))
    events = len(uow.events)
    assert use_cases.follow_board_decision(uow, decision) is False
    assert repo.ideas[idea["id"]]["status"] == "in_implementation" and len(uow.events) == events


def test_a_decision_the_idea_already_reflects_is_applied_without_an_event(uow, repo):
    idea = idea_in(uow, "pilot")
    events = len(uow.events)
    assert use_cases.follow_board_decision(uow, board(idea["id"])) is True
    assert repo.ideas[idea["id"]]["status"] == "pilot" and len(uow.events) == events
    assert use_cases.follow_board_decision(uow, board(idea_in(uow, "published")["id"], approved=False,
                                                      reason="majority")) is True
    assert len(uow.events) == events + 2  # only the second idea's own submit and publish


def test_a_decision_on_an_unknown_idea_fails_and_can_be_applied_later(uow, repo):
    missing = uuid.uuid4()
    decision = board(missing)
    with pytest.raises(NotFound):
        use_cases.follow_board_decision(uow, decision)
    assert uow.applied == set()  # the claim went with the rollback: a retry may apply it
    idea = idea_in(uow, "shortlisted")
    repo.ideas[missing] = {**repo.ideas.pop(idea["id"]), "id": missing}  # the operator's repair
    assert use_cases.follow_board_decision(uow, decision) is True
    assert repo.ideas[missing]["status"] == "pilot"


def test_a_decision_on_a_submitted_idea_is_refused_and_not_claimed(uow, repo):
    idea = idea_in(uow, "submitted")
    with pytest.raises(InvalidTransition):
        use_cases.follow_board_decision(uow, board(idea["id"]))
    assert uow.applied == set() and repo.ideas[idea["id"]]["status"] == "submitted"


# --- milestones -------------------------------------------------------------------------

def schedule(uow, **changes):
    command = {"municipality": "gera", "title": "Gesamtstrategie", "due_date": date(2021, 6, 30), **changes}
    return use_cases.schedule_milestone(uow, ScheduleMilestone(**command))


def test_a_strategy_milestone_is_scheduled(uow, repo):
    milestone = schedule(uow, description="Alle Teilkonzepte verknüpft")
    assert repo.milestones[milestone["id"]]["reached_at"] is None
    assert uow.types() == ["MilestoneScheduled"]
    data = uow.events[0]["data"]
    assert data["milestone_id"] == str(milestone["id"]) and data["idea_id"] is None
    assert data["due_date"] == "2021-06-30" and data["scheduled_at"] == uow.now().isoformat()


def test_a_pilot_milestone_needs_a_pilot_of_the_same_municipality(uow, repo):
    idea = idea_in(uow, "shortlisted")
    with pytest.raises(Conflict) as not_pilot:
        schedule(uow, idea_id=idea["id"])
    assert not_pilot.value.fields == {"idea_id": ["idea is not a pilot project"]}
    use_cases.follow_board_decision(uow, board(idea["id"]))
    with pytest.raises(InvalidInput) as elsewhere:
        schedule(uow, idea_id=idea["id"], municipality="grossenhain")
    assert elsewhere.value.fields == {"idea_id": ["no such idea in this municipality"]}
    with pytest.raises(InvalidInput):
        schedule(uow, idea_id=uuid.uuid4())
    assert repo.milestones == {}
    milestone = schedule(uow, idea_id=idea["id"])
    assert uow.events[-1]["data"]["idea_id"] == str(idea["id"]) and milestone["idea_id"] == idea["id"]


def test_a_milestone_of_an_unknown_municipality_is_refused(uow, repo):
    with pytest.raises(InvalidInput) as refused:
        schedule(uow, municipality="atlantis")
    assert refused.value.fields == {"municipality": ["unknown municipality"]}
    assert repo.milestones == {} and uow.events == []


def test_milestones_are_listed_by_due_date_and_found_by_id(uow):
    late = schedule(uow, title="B", due_date=date(2021, 12, 31))
    early = schedule(uow, title="A", due_date=date(2021, 3, 31))
    other = schedule(uow, title="C", municipality="grossenhain")
    pilot = idea_in(uow, "pilot")
    own = schedule(uow, title="D", idea_id=pilot["id"])
    ids = lambda query: [m["id"] for m in use_cases.list_milestones(uow, query)]  # noqa: E731
    assert ids(ListMilestones()) == [early["id"], other["id"], own["id"], late["id"]]
    assert ids(ListMilestones(municipality="gera")) == [early["id"], own["id"], late["id"]]
    assert ids(ListMilestones(idea_id=pilot["id"])) == [own["id"]]
    assert use_cases.get_milestone(uow, GetMilestone(late["id"]))["title"] == "B"
    with pytest.raises(NotFound) as missing:
        use_cases.get_milestone(uow, GetMilestone(uuid.uuid4()))
    assert missing.value.message == "milestone not found"


def test_reaching_a_milestone_once_judges_on_time_on_the_municipal_calendar(uow, repo):
    milestone = schedule(uow, due_date=date(2021, 3, 31))
    # 22:30 UTC on the 31st is already 1 April in Germany (CEST): late
    reached_at = datetime(2021, 3, 31, 22, 30, tzinfo=timezone.utc)
    reached = use_cases.reach_milestone(uow, ReachMilestone(milestone["id"], reached_at=reached_at))
    assert reached["reached_at"] == reached_at and repo.locked == [milestone["id"]]
    assert uow.types() == ["MilestoneScheduled", "MilestoneReached"]
    assert uow.events[-1]["data"]["on_time"] is False
    assert uow.events[-1]["data"]["reached_at"] == reached_at.isoformat()
    again = use_cases.reach_milestone(uow, ReachMilestone(milestone["id"]))
    assert again["reached_at"] == reached_at and len(uow.events) == 2  # nothing changes, nothing emitted
    with pytest.raises(NotFound):
        use_cases.reach_milestone(uow, ReachMilestone(uuid.uuid4()))


def test_a_milestone_reached_without_a_time_is_reached_now(uow, repo):
    milestone = schedule(uow, due_date=date(2021, 3, 1))  # the clock's day (09:00 UTC)
    reached = use_cases.reach_milestone(uow, ReachMilestone(milestone["id"]))
    assert reached["reached_at"] == uow.now()
    assert uow.events[-1]["data"]["on_time"] is True


def test_overdue_milestones_are_flagged_exactly_once(uow, repo):
    uow.clock.now = datetime(2021, 3, 31, 22, 30, tzinfo=timezone.utc)  # 1 April in Germany
    due_yesterday = schedule(uow, title="Due on the 31st", due_date=date(2021, 3, 31))
    due_today = schedule(uow, title="Due on the 1st", due_date=date(2021, 4, 1))
    reached = schedule(uow, title="Reached", due_date=date(2021, 3, 1))
    use_cases.reach_milestone(uow, ReachMilestone(reached["id"]))
    assert use_cases.flag_overdue_milestones(uow) == 1
    [overdue] = [e for e in uow.events if e["type"] == "MilestoneOverdue"]
    assert overdue["subject"] == str(due_yesterday["id"])
    assert overdue["data"]["detected_at"] == uow.now().isoformat()
    assert repo.milestones[due_yesterday["id"]]["overdue_at"] == uow.now()
    assert repo.milestones[due_today["id"]]["overdue_at"] is None
    assert use_cases.flag_overdue_milestones(uow) == 0  # the next tick: nothing new
    assert uow.types().count("MilestoneOverdue") == 1
