"""Sub-concepts, the strategy draft and milestones reached by its steps, against the in-memory unit of
work: refusals with their fields, events with their key data, nothing stored by a refusal."""
import uuid
from datetime import date, datetime, timedelta

import pytest

from services.ideas import use_cases as ideas
from services.ideas.commands import ScheduleMilestone
from services.ideas.strategy import use_cases
from services.ideas.strategy.commands import (CloseFeedback, CreateStrategy, DraftSubConcept, GetStrategy,
                                              GetSubConcept, IntegrateIdea, ListSubConcepts, PublishDraft,
                                              RecordCouncilDecision, SubmitSubConcept)
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.ideas.unit.test_use_cases import STAFF, idea_in, who

MEMBER, STRANGER = who("citizen", subject="member-1"), who("citizen", subject="stranger")


def group(repo, municipality="gera", members=("member-1",)):
    group_id = uuid.uuid4()
    repo.add_group({"id": group_id, "municipality": municipality, "name": f"AG {group_id.hex[:4]}",
                    "kind": "working_group", "field_of_action": None, "created_at": datetime(2021, 1, 5)})
    for member in members:
        repo.add_member(group_id, member, datetime(2021, 1, 5))
    return group_id


def draft(uow, group_id, actor=STAFF, **changes):
    uow.clock.advance(minutes=1)
    return use_cases.draft_sub_concept(uow, DraftSubConcept(actor=actor, working_group_id=group_id,
                                                            **{"title": "Teilkonzept Mobilität", **changes}))


def submitted(uow, repo, municipality="gera"):
    sub_concept = draft(uow, group(repo, municipality))
    return use_cases.submit_sub_concept(uow, SubmitSubConcept(STAFF, sub_concept["id"]))


def milestone(uow, step, due=date(2021, 3, 31), municipality="gera"):
    return ideas.schedule_milestone(uow, ScheduleMilestone(municipality=municipality, title=f"Schritt {step}",
                                                           due_date=due, step=step))


# --- sub-concepts -----------------------------------------------------------------------

def test_a_member_drafts_a_sub_concept_of_their_group(uow, repo):
    group_id = group(repo)
    sub_concept = draft(uow, group_id, actor=MEMBER, field_of_action="energie", summary="Energie und Daten")
    assert repo.sub_concepts[sub_concept["id"]]["municipality"] == "gera"
    assert sub_concept["ideas"] == [] and sub_concept["submitted_at"] is None
    [event] = uow.events
    assert event["type"] == "SubConceptDrafted" and event["subject"] == str(sub_concept["id"])
    assert event["data"]["working_group_id"] == str(group_id) and event["data"]["field_of_action"] == "energie"


def test_only_staff_or_members_draft_and_a_group_must_exist(uow, repo):
    group_id = group(repo)
    with pytest.raises(Forbidden):
        draft(uow, group_id, actor=STRANGER)
    with pytest.raises(Forbidden):  # a member of another group
        draft(uow, group(repo, members=("someone-else",)), actor=MEMBER)
    with pytest.raises(InvalidInput) as unknown:
        draft(uow, uuid.uuid4())
    assert list(unknown.value.fields) == ["working_group_id"]
    with pytest.raises(InvalidInput) as field:
        draft(uow, group_id, field_of_action="verwaltung")  # Großenhain's
    assert list(field.value.fields) == ["field_of_action"]
    assert repo.sub_concepts == {} and uow.events == []


def test_public_ideas_are_integrated_once_keeping_their_status(uow, repo):
    sub_concept = draft(uow, group(repo))
    idea = idea_in(uow, "shortlisted", field_of_action="energie")
    before = len(uow.events)
    result = use_cases.integrate_idea(uow, IntegrateIdea(MEMBER, sub_concept["id"], idea["id"]))
    assert [i["id"] for i in result["ideas"]] == [idea["id"]] and result["idea_count"] == 1
    assert repo.ideas[idea["id"]]["status"] == "shortlisted"  # no status change
    assert repo.ideas[idea["id"]]["sub_concept_id"] == sub_concept["id"]
    assert uow.types()[before:] == ["IdeaIntegrated"]
    data = uow.events[-1]["data"]
    assert data["sub_concept_id"] == str(sub_concept["id"]) and data["field_of_action"] == "energie"
    again = use_cases.integrate_idea(uow, IntegrateIdea(STAFF, sub_concept["id"], idea["id"]))
    assert again["idea_count"] == 1 and len(uow.events) == before + 1  # no second event


def test_integration_refusals(uow, repo):
    sub_concept = draft(uow, group(repo))
    other = draft(uow, group(repo))
    taken = idea_in(uow, "published")
    use_cases.integrate_idea(uow, IntegrateIdea(STAFF, other["id"], taken["id"]))
    refusals = [
        (idea_in(uow, "submitted")["id"], InvalidInput, "idea_id"),  # not public
        (idea_in(uow, "published", municipality="grossenhain", field_of_action="bildung", location=None)["id"],
         InvalidInput, "idea_id"),
        (uuid.uuid4(), InvalidInput, "idea_id"),
        (taken["id"], Conflict, "idea_id"),  # integrated elsewhere
    ]
    events = len(uow.events)
    for idea_id, error, field in refusals:
        with pytest.raises(error) as refused:
            use_cases.integrate_idea(uow, IntegrateIdea(STAFF, sub_concept["id"], idea_id))
        assert list(refused.value.fields) == [field]
    with pytest.raises(Forbidden):
        use_cases.integrate_idea(uow, IntegrateIdea(STRANGER, sub_concept["id"], idea_in(uow, "published")["id"]))
    with pytest.raises(NotFound):
        use_cases.integrate_idea(uow, IntegrateIdea(STAFF, uuid.uuid4(), taken["id"]))
    assert uow.types()[events:] == ["IdeaSubmitted", "IdeaPublished"]  # only the last idea's own
    use_cases.submit_sub_concept(uow, SubmitSubConcept(STAFF, sub_concept["id"]))
    with pytest.raises(Conflict) as closed:
        use_cases.integrate_idea(uow, IntegrateIdea(STAFF, sub_concept["id"], idea_in(uow, "published")["id"]))
    assert list(closed.value.fields) == ["sub_concept"]


def test_submission_counts_ideas_and_happens_once(uow, repo):
    sub_concept = draft(uow, group(repo))
    for _ in range(2):
        use_cases.integrate_idea(uow, IntegrateIdea(STAFF, sub_concept["id"], idea_in(uow, "published")["id"]))
    result = use_cases.submit_sub_concept(uow, SubmitSubConcept(MEMBER, sub_concept["id"]))
    assert result["submitted_at"] == uow.now() and repo.advisory_locks == ["gera"]
    assert uow.types()[-1] == "SubConceptSubmitted" and uow.events[-1]["data"]["ideas"] == 2
    events = len(uow.events)
    use_cases.submit_sub_concept(uow, SubmitSubConcept(STAFF, sub_concept["id"]))
    assert len(uow.events) == events
    with pytest.raises(Forbidden):
        use_cases.submit_sub_concept(uow, SubmitSubConcept(STRANGER, sub_concept["id"]))


def test_the_last_submitted_sub_concept_reaches_the_milestone_in_the_same_commit(uow, repo):
    step = milestone(uow, "sub_concepts_submitted")
    other_town = milestone(uow, "sub_concepts_submitted", municipality="grossenhain")
    first, second = draft(uow, group(repo)), draft(uow, group(repo))
    use_cases.submit_sub_concept(uow, SubmitSubConcept(STAFF, first["id"]))
    assert repo.milestones[step["id"]]["reached_at"] is None  # one still a draft
    commits = uow.commits
    use_cases.submit_sub_concept(uow, SubmitSubConcept(STAFF, second["id"]))
    assert uow.commits == commits + 1 and uow.types()[-2:] == ["SubConceptSubmitted", "MilestoneReached"]
    data = uow.events[-1]["data"]
    assert data["milestone_id"] == str(step["id"]) and data["step"] == "sub_concepts_submitted"
    assert data["on_time"] is True  # 1 March, due 31 March
    assert repo.milestones[other_town["id"]]["reached_at"] is None


def test_sub_concepts_are_listed_and_shown(uow, repo):
    first = draft(uow, group(repo), title="Erstes")
    draft(uow, group(repo, "grossenhain"), title="Anderswo")
    use_cases.integrate_idea(uow, IntegrateIdea(STAFF, first["id"], idea_in(uow, "published")["id"]))
    listed = use_cases.list_sub_concepts(uow, ListSubConcepts("gera"))
    assert [(s["title"], s["idea_count"]) for s in listed] == [("Erstes", 1)]
    assert use_cases.get_sub_concept(uow, GetSubConcept(first["id"]))["idea_count"] == 1
    with pytest.raises(NotFound):
        use_cases.list_sub_concepts(uow, ListSubConcepts("atlantis"))
    with pytest.raises(NotFound):
        use_cases.get_sub_concept(uow, GetSubConcept(uuid.uuid4()))


# --- the strategy -----------------------------------------------------------------------

def strategy(uow, municipality="gera"):
    return use_cases.create_strategy(uow, CreateStrategy(municipality, "SMARTCity-Strategie Gera"))


def publish(uow, strategy_id, sub_concept_ids, days=30):
    uow.clock.advance(minutes=1)
    return use_cases.publish_draft(uow, PublishDraft(strategy_id, tuple(sub_concept_ids), "Entwurf",
                                                     uow.now() + timedelta(days=days)))


def test_a_strategy_needs_a_known_municipality(uow, repo):
    with pytest.raises(InvalidInput) as refused:
        strategy(uow, "atlantis")
    assert list(refused.value.fields) == ["municipality"] and repo.strategies == {}


def test_versions_link_submitted_sub_concepts_and_reach_their_steps(uow, repo):
    published, refined = milestone(uow, "strategy_draft_published"), milestone(uow, "strategy_draft_refined")
    plan = strategy(uow)
    sub_concept = submitted(uow, repo)
    first = publish(uow, plan["id"], [sub_concept["id"]])
    assert first["version"] == 1 and [s["id"] for s in first["sub_concepts"]] == [sub_concept["id"]]
    assert uow.types()[-2:] == ["StrategyDraftPublished", "MilestoneReached"]
    assert uow.events[-2]["data"]["sub_concept_ids"] == [str(sub_concept["id"])]
    assert repo.milestones[published["id"]]["reached_at"] == uow.now()
    assert repo.milestones[refined["id"]]["reached_at"] is None
    with pytest.raises(Conflict) as still_open:
        publish(uow, plan["id"], [sub_concept["id"]])
    assert list(still_open.value.fields) == ["feedback"]
    use_cases.close_feedback(uow, CloseFeedback(plan["id"]))
    second = publish(uow, plan["id"], [sub_concept["id"]])
    assert second["version"] == 2 and uow.types()[-2:] == ["StrategyDraftPublished", "MilestoneReached"]
    assert repo.milestones[refined["id"]]["reached_at"] == uow.now()
    view = use_cases.get_strategy(uow, GetStrategy(plan["id"]))
    assert [v["version"] for v in view["versions"]] == [1, 2]


def test_a_version_refuses_what_cannot_be_linked_and_a_past_window(uow, repo):
    plan = strategy(uow)
    ok = submitted(uow, repo)
    cases = [
        [draft(uow, group(repo))["id"]],  # not submitted
        [submitted(uow, repo, "grossenhain")["id"]],  # another municipality
        [uuid.uuid4()],
        [ok["id"], ok["id"]],
    ]
    for ids in cases:
        with pytest.raises(InvalidInput) as refused:
            publish(uow, plan["id"], ids)
        assert list(refused.value.fields) == ["sub_concept_ids"]
    with pytest.raises(InvalidInput) as past:
        publish(uow, plan["id"], [ok["id"]], days=-1)
    assert list(past.value.fields) == ["feedback_until"]
    assert repo.versions == {}
    with pytest.raises(NotFound):
        publish(uow, uuid.uuid4(), [ok["id"]])


def test_feedback_closes_once_by_staff_or_timer_counting_comments(uow, repo):
    plan = strategy(uow)
    sub_concept = submitted(uow, repo)
    publish(uow, plan["id"], [sub_concept["id"]], days=1)
    repo.comments[uuid.uuid4()] = {"target_kind": "strategy", "target_id": plan["id"], "strategy_version": 1,
                                   "status": "published"}
    repo.comments[uuid.uuid4()] = {"target_kind": "strategy", "target_id": plan["id"], "strategy_version": 1,
                                   "status": "hidden"}
    assert use_cases.close_due_feedback(uow) == 0  # the window is still open
    uow.clock.advance(days=1)
    assert use_cases.close_due_feedback(uow) == 1
    assert uow.types()[-1] == "StrategyFeedbackClosed"
    assert uow.events[-1]["data"]["comments"] == 1 and uow.events[-1]["data"]["version"] == 1
    assert use_cases.close_due_feedback(uow) == 0
    events = len(uow.events)
    view = use_cases.close_feedback(uow, CloseFeedback(plan["id"]))  # staff, after the timer: no change
    assert len(uow.events) == events and view["versions"][0]["comments"] == 1
    with pytest.raises(Conflict):
        use_cases.close_feedback(uow, CloseFeedback(strategy(uow)["id"]))  # nothing published


def decide(uow, strategy_id, outcome, reason=None):
    return use_cases.record_council_decision(uow, RecordCouncilDecision(strategy_id, outcome, date(2021, 12, 9),
                                                                        reason))


def test_the_council_returns_then_adopts_and_adoption_is_final(uow, repo):
    adopted_step = milestone(uow, "strategy_adopted", due=date(2021, 12, 31))
    plan = strategy(uow)
    sub_concept = submitted(uow, repo)
    publish(uow, plan["id"], [sub_concept["id"]])
    with pytest.raises(Conflict) as open_feedback:
        decide(uow, plan["id"], "adopted")
    assert list(open_feedback.value.fields) == ["feedback"]
    use_cases.close_feedback(uow, CloseFeedback(plan["id"]))
    returned = decide(uow, plan["id"], "returned", "Mehr Bürgerbeteiligung")
    assert uow.types()[-1] == "StrategyReturned" and uow.events[-1]["data"]["reason"] == "Mehr Bürgerbeteiligung"
    assert returned["versions"][0]["council_outcome"] == "returned" and returned["adopted_at"] is None
    with pytest.raises(Conflict) as twice:
        decide(uow, plan["id"], "adopted")
    assert list(twice.value.fields) == ["outcome"]
    publish(uow, plan["id"], [sub_concept["id"]])
    use_cases.close_feedback(uow, CloseFeedback(plan["id"]))
    adopted = decide(uow, plan["id"], "adopted")
    assert uow.types()[-2:] == ["StrategyAdopted", "MilestoneReached"]
    assert uow.events[-2]["data"]["version"] == 2 and adopted["adopted_at"] == uow.now()
    assert repo.milestones[adopted_step["id"]]["reached_at"] == uow.now()
    with pytest.raises(Conflict) as final:
        publish(uow, plan["id"], [sub_concept["id"]])
    assert list(final.value.fields) == ["strategy"]
    with pytest.raises(Conflict):
        decide(uow, plan["id"], "returned", "zu spät")
    with pytest.raises(Conflict) as nothing:
        decide(uow, strategy(uow)["id"], "adopted")
    assert list(nothing.value.fields) == ["strategy"]
