"""Sub-concepts, the strategy draft and milestones tied to its steps, over HTTP on the real PostgreSQL
and RabbitMQ."""
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from tests.fixtures import wait_for
from tests.ideas.strategy_steps import events, public_idea, working_group

pytestmark = pytest.mark.integration


def milestone(ideas_api, auth, step, due="2099-12-31", municipality="gera"):
    created = ideas_api("POST", "/api/v1/milestones", headers=auth("staff"), json={
        "municipality": municipality, "title": f"Schritt {step}", "due_date": due, "step": step})
    assert created.status_code == 201, created.text
    assert created.json()["step"] == step and created.json()["state"] == "scheduled"
    return created.json()["id"]


def draft(ideas_api, auth, group_id, role="staff", subject=None, **changes):
    return ideas_api("POST", "/api/v1/sub-concepts", headers=auth(role, subject=subject),
                     json={"working_group_id": group_id, "title": "Teilkonzept Energie", **changes})


def later(**delta):
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat()


def state_of(ideas_api, milestone_id):
    return ideas_api("GET", f"/api/v1/milestones/{milestone_id}").json()["state"]


def test_a_group_drafts_integrates_and_submits_and_the_last_submission_reaches_the_milestone(
        ideas_api, auth, ideas_sql):
    step = milestone(ideas_api, auth, "sub_concepts_submitted")
    group_id = working_group(ideas_api, auth, members=["anna"])
    other_group = working_group(ideas_api, auth)
    member = {"role": "citizen", "subject": "anna"}
    created = draft(ideas_api, auth, group_id, **member, field_of_action="energie", summary="Energie und Daten")
    assert created.status_code == 201, created.text
    sub_concept = created.json()
    assert sub_concept["status"] == "draft" and sub_concept["ideas"] == [] and sub_concept["municipality"] == "gera"
    assert draft(ideas_api, auth, group_id, role="citizen", subject="stranger").status_code == 403
    other = draft(ideas_api, auth, other_group).json()  # staff draft for any group

    idea_id = public_idea(ideas_api, auth)
    assert ideas_api("GET", f"/api/v1/ideas/{idea_id}").json()["sub_concept_id"] is None
    path = f"/api/v1/sub-concepts/{sub_concept['id']}/ideas"
    integrated = ideas_api("POST", path, json={"idea_id": idea_id}, headers=auth(member["role"], subject="anna"))
    assert integrated.status_code == 200, integrated.text
    assert [i["id"] for i in integrated.json()["ideas"]] == [idea_id]
    idea = ideas_api("GET", f"/api/v1/ideas/{idea_id}").json()
    assert idea["sub_concept_id"] == sub_concept["id"] and idea["status"] == "published"  # keeps its status
    elsewhere = ideas_api("POST", f"/api/v1/sub-concepts/{other['id']}/ideas", json={"idea_id": idea_id},
                          headers=auth("staff"))
    assert elsewhere.status_code == 409 and "idea_id" in elsewhere.json()["error"]["fields"]

    submit = ideas_api("POST", f"/api/v1/sub-concepts/{sub_concept['id']}/submission",
                       headers=auth("citizen", subject="anna"))
    assert submit.status_code == 200 and submit.json()["status"] == "submitted"
    assert state_of(ideas_api, step) == "scheduled"  # the other group's draft is still open
    assert ideas_api("POST", f"/api/v1/sub-concepts/{other['id']}/submission").status_code == 401
    assert ideas_api("POST", f"/api/v1/sub-concepts/{other['id']}/submission", headers=auth("staff")).status_code \
        == 200
    assert state_of(ideas_api, step) == "reached"
    again = ideas_api("POST", f"/api/v1/sub-concepts/{other['id']}/submission", headers=auth("staff"))
    assert again.status_code == 200
    kinds = [kind for kind, _ in events(ideas_sql, "SubConceptDrafted", "IdeaIntegrated", "SubConceptSubmitted",
                                        "MilestoneReached")]
    assert kinds == ["SubConceptDrafted", "SubConceptDrafted", "IdeaIntegrated", "SubConceptSubmitted",
                     "SubConceptSubmitted", "MilestoneReached"]
    listed = ideas_api("GET", "/api/v1/sub-concepts?municipality=gera").json()
    assert [(s["id"], s["idea_count"]) for s in listed] == [(sub_concept["id"], 1), (other["id"], 0)]
    shown = ideas_api("GET", f"/api/v1/sub-concepts/{sub_concept['id']}").json()
    assert shown["ideas"][0]["title"] == "Solardächer auf Schulen"


def test_two_last_drafts_submitted_at_once_reach_the_milestone_exactly_once(ideas_api, auth, ideas_sql):
    step = milestone(ideas_api, auth, "sub_concepts_submitted")
    drafts = [draft(ideas_api, auth, working_group(ideas_api, auth)).json()["id"] for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: ideas_api("POST", f"/api/v1/sub-concepts/{i}/submission",
                                                    headers=auth("staff")).status_code, drafts))
    assert answers == [200] * 4
    assert state_of(ideas_api, step) == "reached"
    assert len(events(ideas_sql, "MilestoneReached")) == 1


def test_one_idea_integrated_into_two_sub_concepts_at_once_lands_in_one(ideas_api, auth, ideas_sql):
    idea_id = public_idea(ideas_api, auth)
    targets = [draft(ideas_api, auth, working_group(ideas_api, auth)).json()["id"] for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        answers = sorted(pool.map(lambda target: ideas_api("POST", f"/api/v1/sub-concepts/{target}/ideas",
                                                           json={"idea_id": idea_id},
                                                           headers=auth("staff")).status_code, targets))
    assert answers == [200, 409]
    [(_, integrated)] = events(ideas_sql, "IdeaIntegrated")
    assert ideas_api("GET", f"/api/v1/ideas/{idea_id}").json()["sub_concept_id"] == integrated["sub_concept_id"]


@pytest.mark.parametrize("body,status,field", [
    ({"working_group_id": None}, 422, "working_group_id"),
    ({"working_group_id": "00000000-0000-4000-8000-000000000000", "title": "Unbekannt"}, 422, "working_group_id"),
    ({"title": "x"}, 422, "title"),
    ({"field_of_action": "verwaltung"}, 422, "field_of_action"),  # Großenhain's
    ({"colour": "blue"}, 422, "colour"),
])
def test_bad_sub_concepts_are_refused_naming_the_field(ideas_api, auth, ideas_sql, body, status, field):
    group_id = working_group(ideas_api, auth)
    outbox = ideas_sql("SELECT count(*) FROM outbox")
    response = ideas_api("POST", "/api/v1/sub-concepts", headers=auth("staff"),
                         json={"working_group_id": group_id, "title": "Teilkonzept", **body})
    assert response.status_code == status, response.text
    assert field in response.json()["error"]["fields"]
    assert ideas_sql("SELECT count(*) FROM sub_concepts") == [(0,)]
    assert ideas_sql("SELECT count(*) FROM outbox") == outbox


def submitted_sub_concept(ideas_api, auth):
    sub_concept = draft(ideas_api, auth, working_group(ideas_api, auth)).json()
    ideas_api("POST", f"/api/v1/sub-concepts/{sub_concept['id']}/ideas", headers=auth("staff"),
              json={"idea_id": public_idea(ideas_api, auth)})
    return ideas_api("POST", f"/api/v1/sub-concepts/{sub_concept['id']}/submission", headers=auth("staff")).json()


def test_the_strategy_from_first_draft_through_feedback_to_adoption(ideas_api, auth, ideas_sql):
    published_step = milestone(ideas_api, auth, "strategy_draft_published")
    refined_step = milestone(ideas_api, auth, "strategy_draft_refined")
    adopted_step = milestone(ideas_api, auth, "strategy_adopted")
    sub_concept = submitted_sub_concept(ideas_api, auth)
    created = ideas_api("POST", "/api/v1/strategies", headers=auth("staff"),
                        json={"municipality": "gera", "title": "SMARTCity-Strategie Gera"})
    assert created.status_code == 201, created.text
    strategy_id = created.json()["id"]
    base = f"/api/v1/strategies/{strategy_id}"
    version = {"sub_concept_ids": [sub_concept["id"]], "summary": "Alle Teilkonzepte verknüpft",
               "feedback_until": later(days=30)}
    first = ideas_api("POST", f"{base}/versions", json=version, headers=auth("staff"))
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1 and first.json()["sub_concepts"][0]["id"] == sub_concept["id"]
    assert state_of(ideas_api, published_step) == "reached" and state_of(ideas_api, refined_step) == "scheduled"
    assert ideas_api("POST", f"{base}/versions", json=version, headers=auth("staff")).status_code == 409

    comment = ideas_api("POST", "/api/v1/comments", headers=auth("citizen", subject="carla"), json={
        "target_kind": "strategy", "target_id": strategy_id, "text": "Mehr Radwege bitte."})
    assert comment.status_code == 201, comment.text
    closing = ideas_api("POST", f"{base}/feedback-closing", headers=auth("staff"))
    assert closing.status_code == 200 and closing.json()["versions"][0]["comments"] == 1
    assert ideas_api("POST", f"{base}/feedback-closing", headers=auth("staff")).status_code == 200  # no change
    late = ideas_api("POST", "/api/v1/comments", headers=auth("citizen", subject="carla"), json={
        "target_kind": "strategy", "target_id": strategy_id, "text": "Zu spät?"})
    assert late.status_code == 409 and "target_id" in late.json()["error"]["fields"]

    returned = ideas_api("POST", f"{base}/council-decision", headers=auth("staff"),
                         json={"outcome": "returned", "council_date": "2021-10-14"})
    assert returned.status_code == 422 and "reason" in returned.json()["error"]["fields"]
    returned = ideas_api("POST", f"{base}/council-decision", headers=auth("staff"), json={
        "outcome": "returned", "council_date": "2021-10-14", "reason": "Beteiligung der Ortsteile ergänzen"})
    assert returned.status_code == 200 and returned.json()["versions"][0]["council_outcome"] == "returned"

    # the refined draft: its window is closed by the timer when it ends
    second = ideas_api("POST", f"{base}/versions", headers=auth("staff"),
                       json={**version, "summary": "Feinschliff", "feedback_until": later(seconds=1)})
    assert second.status_code == 201 and second.json()["version"] == 2
    assert state_of(ideas_api, refined_step) == "reached"
    wait_for(lambda: events(ideas_sql, "StrategyFeedbackClosed")[1:], message="the timer closing version 2")
    adopted = ideas_api("POST", f"{base}/council-decision", headers=auth("staff"),
                        json={"outcome": "adopted", "council_date": "2021-12-09"})
    assert adopted.status_code == 200 and adopted.json()["adopted_at"] is not None
    assert state_of(ideas_api, adopted_step) == "reached"
    final = ideas_api("POST", f"{base}/versions", headers=auth("staff"), json={**version, "feedback_until": later(days=1)})
    assert final.status_code == 409

    kinds = [(kind, data.get("version"), data.get("comments"), data.get("step")) for kind, data in events(
        ideas_sql, "StrategyDraftPublished", "StrategyFeedbackClosed", "StrategyReturned", "StrategyAdopted",
        "MilestoneReached")]
    assert kinds == [
        ("StrategyDraftPublished", 1, None, None), ("MilestoneReached", None, None, "strategy_draft_published"),
        ("StrategyFeedbackClosed", 1, 1, None), ("StrategyReturned", 1, None, None),
        ("StrategyDraftPublished", 2, None, None), ("MilestoneReached", None, None, "strategy_draft_refined"),
        ("StrategyFeedbackClosed", 2, 0, None),
        ("StrategyAdopted", 2, None, None), ("MilestoneReached", None, None, "strategy_adopted")]
    shown = ideas_api("GET", base).json()
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert [s["id"] for v in shown["versions"] for s in v["sub_concepts"]] == [sub_concept["id"]] * 2
    assert shown["versions"][0]["council_reason"] == "Beteiligung der Ortsteile ergänzen"
    assert [s["id"] for s in ideas_api("GET", "/api/v1/strategies?municipality=gera").json()] == [strategy_id]


@pytest.mark.parametrize("changes,field", [
    ({"sub_concept_ids": []}, "sub_concept_ids"),
    ({"sub_concept_ids": ["00000000-0000-4000-8000-000000000000"]}, "sub_concept_ids"),
    ({"feedback_until": "2021-06-30T12:00:00"}, "feedback_until"),  # no offset
    ({"feedback_until": "2021-06-30T12:00:00+02:00"}, "feedback_until"),  # past
    ({"summary": ""}, "summary"),
])
def test_bad_versions_are_refused_naming_the_field(ideas_api, auth, ideas_sql, changes, field):
    sub_concept = submitted_sub_concept(ideas_api, auth)
    strategy_id = ideas_api("POST", "/api/v1/strategies", headers=auth("staff"),
                            json={"municipality": "gera", "title": "Strategie"}).json()["id"]
    outbox = ideas_sql("SELECT count(*) FROM outbox")
    response = ideas_api("POST", f"/api/v1/strategies/{strategy_id}/versions", headers=auth("staff"), json={
        "sub_concept_ids": [sub_concept["id"]], "summary": "Entwurf", "feedback_until": later(days=1), **changes})
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]
    assert ideas_sql("SELECT count(*) FROM strategy_versions") == [(0,)]
    assert ideas_sql("SELECT count(*) FROM outbox") == outbox


def test_milestone_steps_are_strategy_wide_and_reached_without_a_body(ideas_api, auth, ideas_sql):
    with_idea = ideas_api("POST", "/api/v1/milestones", headers=auth("staff"), json={
        "municipality": "gera", "title": "Schritt", "due_date": "2099-01-01", "step": "strategy_adopted",
        "idea_id": "00000000-0000-4000-8000-000000000000"})
    assert with_idea.status_code == 422 and "step" in with_idea.json()["error"]["fields"]
    unknown = ideas_api("POST", "/api/v1/milestones", headers=auth("staff"), json={
        "municipality": "gera", "title": "Schritt", "due_date": "2099-01-01", "step": "party"})
    assert unknown.status_code == 422 and "step" in unknown.json()["error"]["fields"]
    milestone_id = milestone(ideas_api, auth, "strategy_adopted")
    reached = ideas_api("POST", f"/api/v1/milestones/{milestone_id}/reached", headers=auth("staff"))
    assert reached.status_code == 200, reached.text
    assert reached.json()["state"] == "reached"
    other = milestone(ideas_api, auth, "strategy_draft_refined")
    typed = ideas_api("POST", f"/api/v1/milestones/{other}/reached", data=b"",
                      headers={**auth("staff"), "Content-Type": "application/json"})
    assert typed.status_code == 200, typed.text
    form = ideas_api("POST", f"/api/v1/milestones/{other}/reached", data=b"x=1",
                     headers={**auth("staff"), "Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415  # a body that is not JSON is still refused
    [(_, data)] = events(ideas_sql, "MilestoneReached")[:1]
    assert data["step"] == "strategy_adopted"
    document = ideas_api("GET", "/openapi.json").json()
    assert document["paths"]["/api/v1/milestones/{milestone_id}/reached"]["post"]["requestBody"]["required"] is False
    assert document["paths"]["/api/v1/milestones"]["post"]["requestBody"]["required"] is True
