"""End to end: Gera's 2021 strategy process walked over HTTP with role tokens.

Groups (a theme evening, the survey) -> ideas by form, profile and competition -> comments -> votes
-> sub-concepts integrating ideas (31.03.) -> a strategy draft linking them (30.06.) -> feedback window
-> refined draft (30.09.) -> the board makes pilots, sponsors join -> the council adopts. A plain kombu subscriber sees every
event in the order the owner published it, and reporting's figures equal the owning services' own.

The timetable of 2021 is moved to today: the system refuses windows and meetings in the past.
"""
from datetime import datetime, timedelta, timezone

import pytest

from tests.fixtures import wait_for
from tests.reporting.helpers import wait_applied

pytestmark = pytest.mark.integration

GERA = "gera"
STAFF, MODERATOR = ("staff", "gera-team"), ("moderator", "gera-moderation")
BOARD = ["sk-oberbuergermeister", "sk-wirtschaft", "sk-stadtwerke"]
JURY = ["jury-dhge", "jury-ihk"]


class Walk:
    """The walk's HTTP calls: `walk.ideas("POST", path, json, as_=(role, subject), expect=201)`."""

    def __init__(self, token, **apis):
        self.token = token
        for name, api in apis.items():
            setattr(self, name, self._caller(api))

    def _caller(self, api):
        def call(method, path, json=None, as_=None, expect=200):
            headers = {"Authorization": "Bearer " + self.token(as_[1], as_[0])} if as_ else {}
            response = api(method, path, json=json, headers=headers)
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
            return response.json() if response.content and "json" in response.headers.get("Content-Type", "") \
                else response
        return call


def citizen(n):
    return "citizen", f"buerger-{n}"


@pytest.fixture
def walk(token, ideas_api, voting_api, reporting_api):
    return Walk(token, ideas=ideas_api, voting=voting_api, reporting=reporting_api)


def test_gera_walks_its_2021_strategy_process(walk, tap, reporting_sql):
    ideas_stream, voting_stream = tap("ideas.events"), tap("voting.events")
    now = datetime.now(timezone.utc)

    def later(**delta):
        return (now + timedelta(**delta)).isoformat()

    # --- working groups (Arbeitsgruppen) and the expert group of municipal companies (Fachgruppe) ---
    mobility = walk.ideas("POST", "/api/v1/working-groups", {
        "municipality": GERA, "name": "AG Mobilität und Infrastruktur", "kind": "working_group",
        "field_of_action": "mobilitaet-infrastruktur"}, as_=STAFF, expect=201)
    energy = walk.ideas("POST", "/api/v1/working-groups", {
        "municipality": GERA, "name": "AG Energie", "kind": "working_group", "field_of_action": "energie"},
        as_=STAFF, expect=201)
    experts = walk.ideas("POST", "/api/v1/working-groups", {
        "municipality": GERA, "name": "Fachgruppe kommunale Unternehmen", "kind": "expert_group"},
        as_=STAFF, expect=201)
    walk.ideas("POST", "/api/v1/working-groups", {
        "municipality": GERA, "name": "ag energie", "kind": "working_group"}, as_=STAFF, expect=409)
    lead = ("citizen", "ag-mobilitaet-sprecherin")
    walk.ideas("POST", f"/api/v1/working-groups/{mobility['id']}/members", {"member_id": lead[1]},
               as_=STAFF, expect=201)

    # --- a theme evening of the group (Tuesdays and Thursdays from 17:00), its calendar; the survey ---
    evening = (now + timedelta(days=2)).replace(hour=16, minute=0, second=0, microsecond=0)
    meeting = walk.ideas("POST", "/api/v1/meetings", {
        "municipality": GERA, "working_group_id": mobility["id"], "kind": "theme_evening",
        "title": "Themenabend Mobilität", "starts_at": evening.isoformat(),
        "ends_at": (evening + timedelta(hours=2)).isoformat(), "online_url": "https://unser.gera.de/themenabend",
        "capacity": 2}, as_=STAFF, expect=201)
    for n in (21, 22):
        walk.ideas("POST", f"/api/v1/meetings/{meeting['id']}/registrations", as_=citizen(n), expect=201)
    walk.ideas("POST", f"/api/v1/meetings/{meeting['id']}/registrations", as_=citizen(23), expect=409)  # full
    feed = walk.ideas("GET", f"/api/v1/working-groups/{mobility['id']}/meetings.ics")
    assert feed.headers["Content-Type"].startswith("text/calendar") and "Themenabend Mobilit" in feed.text
    survey = walk.ideas("POST", "/api/v1/surveys", {
        "municipality": GERA, "title": "Bürgerumfrage SMARTCity", "conducted_by": "Duale Hochschule Gera-Eisenach",
        "period_start": "2021-02-01", "period_end": "2021-03-31",
        "csv": "question,answer,count\nNutzen Sie Online-Dienste der Stadt?,ja,412\n"
               "Nutzen Sie Online-Dienste der Stadt?,nein,188\n"}, as_=STAFF, expect=201)

    # --- ideas by form, by profile (Steckbrief) and by competition (Ideenwettbewerb) ---
    def submit(n, group, **extra):
        body = {"municipality": GERA, "field_of_action": group["field_of_action"] or "energie",
                "title": f"Idee {n}", "description": f"Beschreibung der Idee {n} für Gera.",
                "channel": "form", "working_group_id": group["id"], **extra}
        return walk.ideas("POST", "/api/v1/ideas", body, as_=citizen(n), expect=201)

    by_form = submit(1, mobility, location={"lat": 50.8806, "lon": 12.0817})
    by_profile = submit(2, energy, channel="profile", profile={
        "goal": "Quartiersspeicher für Solarstrom", "target_group": "Mieterinnen und Mieter",
        "partners": ["Stadtwerke Gera"], "effort_months": 18, "cost_class": "high", "contact_consent": True})
    competition = walk.ideas("POST", "/api/v1/competitions", {
        "municipality": GERA, "field_of_action": "mobilitaet-infrastruktur", "theme": "Mobil in Gera",
        "opens_at": later(minutes=-5), "closes_at": later(days=30), "jury": JURY}, as_=STAFF, expect=201)
    by_competition = submit(3, mobility, channel="competition", competition_id=competition["id"])
    walk.ideas("POST", "/api/v1/ideas", {"municipality": GERA, "field_of_action": "energie", "title": "Irrläufer",
                                         "description": "Eine Idee für eine Gruppe, die es nicht gibt.",
                                         "channel": "form", "working_group_id": competition["id"]},
               as_=citizen(9), expect=422)
    ideas = [by_form, by_profile, by_competition]
    for idea in ideas:
        walk.ideas("POST", f"/api/v1/ideas/{idea['id']}/moderation", {"decision": "publish"}, as_=MODERATOR)
    walk.ideas("POST", f"/api/v1/competitions/{competition['id']}/shortlist", {"idea_id": by_competition["id"]},
               as_=("citizen", JURY[0]))
    walk.ideas("POST", f"/api/v1/competitions/{competition['id']}/closing", as_=STAFF)
    walk.ideas("POST", "/api/v1/ideas", {"municipality": GERA, "field_of_action": "mobilitaet-infrastruktur",
                                         "title": "Zu spät", "description": "Nach dem Einsendeschluss.",
                                         "channel": "competition", "competition_id": competition["id"]},
               as_=citizen(8), expect=409)

    # --- comments, then support votes ---
    def comment(target_kind, target_id, text, by, **extra):
        """A comment, pre-moderated (Gera's setting, the default) and then let through by a moderator."""
        posted = walk.ideas("POST", "/api/v1/comments", {"target_kind": target_kind, "target_id": target_id,
                                                         "text": text, **extra}, as_=by, expect=201)
        assert posted["status"] == "pending"
        walk.ideas("POST", f"/api/v1/comments/{posted['id']}/moderation", {"decision": "publish"}, as_=MODERATOR)
        return posted

    first = comment("idea", by_form["id"], "Gute Idee, bitte auch für Lusan.", citizen(4))
    comment("idea", by_form["id"], "Lusan ist mitgedacht.", citizen(1), parent_id=first["id"])
    walk.voting("POST", "/api/v1/rounds", {"municipality": GERA, "title": "Bürgervoting 2021", "budget": 3,
                                           "opens_at": later(hours=-1), "closes_at": later(days=7)},
                as_=STAFF, expect=201)
    wait_for(lambda: all(walk.voting("GET", f"/api/v1/ideas/{i['id']}")["status"] == "published" for i in ideas),
             message="voting learns of the published ideas")
    for n in range(5):
        for idea in ideas[: 3 - n % 2]:
            walk.voting("POST", f"/api/v1/ideas/{idea['id']}/votes", as_=citizen(10 + n))

    # --- 31.03.: sub-concepts integrate the ideas (milestones tied to the steps are reached by the work) ---
    steps = {}
    for step, due in (("sub_concepts_submitted", 30), ("strategy_draft_published", 60),
                      ("strategy_draft_refined", 90), ("strategy_adopted", 120)):
        steps[step] = walk.ideas("POST", "/api/v1/milestones", {
            "municipality": GERA, "title": step, "due_date": (now + timedelta(days=due)).date().isoformat(),
            "step": step}, as_=STAFF, expect=201)
    mobility_concept = walk.ideas("POST", "/api/v1/sub-concepts", {
        "working_group_id": mobility["id"], "title": "Teilkonzept Mobilität"}, as_=lead, expect=201)
    energy_concept = walk.ideas("POST", "/api/v1/sub-concepts", {
        "working_group_id": energy["id"], "title": "Teilkonzept Energie"}, as_=STAFF, expect=201)
    walk.ideas("POST", f"/api/v1/sub-concepts/{mobility_concept['id']}/ideas", {"idea_id": by_form["id"]}, as_=lead)
    walk.ideas("POST", f"/api/v1/sub-concepts/{mobility_concept['id']}/ideas", {"idea_id": by_competition["id"]},
               as_=lead)
    walk.ideas("POST", f"/api/v1/sub-concepts/{energy_concept['id']}/ideas", {"idea_id": by_profile["id"]},
               as_=STAFF)
    walk.ideas("POST", f"/api/v1/sub-concepts/{energy_concept['id']}/ideas", {"idea_id": by_form["id"]},
               as_=STAFF, expect=409)  # already in the mobility sub-concept
    walk.ideas("POST", f"/api/v1/sub-concepts/{mobility_concept['id']}/submission", as_=lead)
    assert walk.ideas("GET", f"/api/v1/milestones/{steps['sub_concepts_submitted']['id']}")["reached_at"] is None
    walk.ideas("POST", f"/api/v1/sub-concepts/{energy_concept['id']}/submission", as_=STAFF)
    assert walk.ideas("GET", f"/api/v1/milestones/{steps['sub_concepts_submitted']['id']}")["reached_at"]

    # --- 30.06.: the strategy draft links the sub-concepts; feedback; 30.09.: the refined draft ---
    strategy = walk.ideas("POST", "/api/v1/strategies", {"municipality": GERA, "title": "Smart-City-Strategie Gera"},
                          as_=STAFF, expect=201)
    concepts = [mobility_concept["id"], energy_concept["id"]]
    walk.ideas("POST", f"/api/v1/strategies/{strategy['id']}/versions", {
        "sub_concept_ids": concepts, "summary": "Entwurf", "feedback_until": later(days=60)}, as_=STAFF, expect=201)
    comment("strategy", strategy["id"], "Bitte Radwege stärker gewichten.", citizen(5))
    walk.ideas("POST", f"/api/v1/strategies/{strategy['id']}/feedback-closing", as_=STAFF)
    walk.ideas("POST", "/api/v1/comments", {"target_kind": "strategy", "target_id": strategy["id"],
                                            "text": "Zu spät."}, as_=citizen(6), expect=409)
    walk.ideas("POST", f"/api/v1/strategies/{strategy['id']}/versions", {
        "sub_concept_ids": concepts, "summary": "Feinschliff", "feedback_until": later(days=90)},
        as_=STAFF, expect=201)
    for step in ("strategy_draft_published", "strategy_draft_refined"):
        assert walk.ideas("GET", f"/api/v1/milestones/{steps[step]['id']}")["reached_at"], step

    # --- the board (Strategiekreis) makes a pilot; staff cannot; sponsors (Ideenpaten) join ---
    walk.ideas("POST", f"/api/v1/ideas/{by_profile['id']}/status", {"status": "shortlisted"}, as_=STAFF)
    walk.ideas("POST", f"/api/v1/ideas/{by_profile['id']}/status", {"status": "pilot"}, as_=STAFF, expect=409)
    wait_for(lambda: walk.voting("GET", f"/api/v1/ideas/{by_profile['id']}")["status"] == "shortlisted",
             message="voting sees the shortlist")
    decision = walk.voting("POST", "/api/v1/decisions", {
        "idea_id": by_profile["id"], "board": BOARD, "quorum": 2, "majority_rule": "simple",
        "deadline": later(days=14)}, as_=STAFF, expect=201)
    for member, choice in zip(BOARD, ["yes", "yes", "abstain"]):
        walk.voting("PUT", f"/api/v1/decisions/{decision['id']}/votes/me", {"choice": choice},
                    as_=("board_member", member))
    wait_for(lambda: walk.ideas("GET", f"/api/v1/ideas/{by_profile['id']}")["status"] == "pilot",
             message="the board's decision makes the pilot")
    company = walk.ideas("POST", f"/api/v1/ideas/{by_profile['id']}/sponsors", {
        "kind": "company", "display_name": "Stadtwerke Gera AG", "show_name": True},
        as_=("citizen", "stadtwerke-gera"), expect=201)
    private = walk.ideas("POST", f"/api/v1/ideas/{by_profile['id']}/sponsors", {
        "kind": "citizen", "display_name": "Erika Mustermann", "show_name": False},
        as_=citizen(7), expect=201)
    for sponsorship in (company, private):
        walk.ideas("POST", f"/api/v1/ideas/{by_profile['id']}/sponsors/{sponsorship['id']}/acceptance", as_=STAFF)
    public = walk.ideas("GET", f"/api/v1/ideas/{by_profile['id']}/sponsors")
    shown = str(public)
    assert "Stadtwerke Gera AG" in shown and "Erika Mustermann" not in shown and len(public) == 2

    # --- the council adopts the strategy ---
    walk.ideas("POST", f"/api/v1/strategies/{strategy['id']}/council-decision", {
        "outcome": "adopted", "council_date": now.date().isoformat()}, as_=STAFF, expect=409)  # feedback still open
    walk.ideas("POST", f"/api/v1/strategies/{strategy['id']}/feedback-closing", as_=STAFF)
    walk.ideas("POST", f"/api/v1/strategies/{strategy['id']}/council-decision", {
        "outcome": "adopted", "council_date": now.date().isoformat()}, as_=STAFF)
    assert walk.ideas("GET", f"/api/v1/milestones/{steps['strategy_adopted']['id']}")["reached_at"]

    # --- a plain subscriber saw every step, in the order the ideas service published them ---
    order = ["WorkingGroupCreated", "WorkingGroupMemberAdded", "MeetingScheduled", "MeetingRegistered",
             "SurveyResultsImported", "IdeaSubmitted", "CompetitionOpened",
             "IdeaPublished", "CompetitionEntryShortlisted", "CompetitionClosed", "CommentPosted", "CommentPublished",
             "MilestoneScheduled", "SubConceptDrafted", "IdeaIntegrated", "SubConceptSubmitted", "MilestoneReached",
             "StrategyDraftPublished", "StrategyFeedbackClosed", "IdeaStatusChanged", "SponsorOffered",
             "SponsorAccepted", "StrategyAdopted"]
    ideas_stream.wait("StrategyAdopted")
    ideas_stream.wait("MilestoneReached", count=4)  # the adoption's milestone follows it in the same commit
    seen = [e["type"] for e in ideas_stream.events()]
    firsts = [seen.index(t) for t in order]
    assert firsts == sorted(firsts), list(zip(order, firsts))
    assert seen.count("MilestoneReached") == 4
    assert seen.count("StrategyDraftPublished") == seen.count("StrategyFeedbackClosed") == 2
    assert seen.count("IdeaIntegrated") == 3 and seen.count("CommentPosted") == seen.count("CommentPublished") == 3
    [approved] = voting_stream.wait("PilotApproved")
    assert approved["data"]["idea_id"] == by_profile["id"]
    assert len(voting_stream.events("VoteCast")) == 13

    # --- reporting's figures equal the owning services' own ---
    wait_applied(reporting_sql, len(seen) + len(voting_stream.events()))
    summary = walk.reporting("GET", f"/api/v1/summary?municipality={GERA}")
    assert summary["ideas"]["by_status"] == {"published": 2, "pilot": 1}
    assert summary["votes"]["cast"] == summary["votes"]["support"] == 13
    assert summary["pilots"]["approved"] == 1

    def by(rows, key):
        return {str(row[key]): row for row in rows}

    groups = by(walk.reporting("GET", f"/api/v1/working-groups?municipality={GERA}"), "working_group_id")
    for group in walk.ideas("GET", f"/api/v1/working-groups?municipality={GERA}"):
        assert (groups[group["id"]]["members"], groups[group["id"]]["public_ideas"]) == \
            (group["members"], group["ideas"]), group["name"]
    [reported] = walk.reporting("GET", f"/api/v1/competitions?municipality={GERA}")
    owned = walk.ideas("GET", f"/api/v1/competitions/{competition['id']}", as_=STAFF)
    assert (reported["entries"], reported["shortlisted"], reported["state"]) == (owned["entry_count"], 1, "closed")
    concepts_reported = by(walk.reporting("GET", f"/api/v1/sub-concepts?municipality={GERA}"), "sub_concept_id")
    for concept in (mobility_concept, energy_concept):
        owned = walk.ideas("GET", f"/api/v1/sub-concepts/{concept['id']}")
        assert concepts_reported[concept["id"]]["ideas"] == len(owned["ideas"])
    [strategy_reported] = walk.reporting("GET", f"/api/v1/strategies?municipality={GERA}")
    owned = walk.ideas("GET", f"/api/v1/strategies/{strategy['id']}")
    assert [v["version"] for v in strategy_reported["versions"]] == [v["version"] for v in owned["versions"]]
    assert strategy_reported["status"] == "adopted"
    comments = walk.reporting("GET", f"/api/v1/comment-counts?municipality={GERA}")["targets"]
    on_idea = walk.ideas("GET", f"/api/v1/comments?target_kind=idea&target_id={by_form['id']}")
    public_on_idea = sum(1 + len(c.get("replies", [])) for c in _items(on_idea))
    assert {(c["target_kind"], str(c["target_id"])): c["published"] for c in comments}[
        ("idea", by_form["id"])] == public_on_idea == 2
    assert len(walk.reporting("GET", f"/api/v1/sponsors?municipality={GERA}")) == len(public)
    [meeting_reported] = walk.reporting("GET", f"/api/v1/meetings?municipality={GERA}")
    owned = walk.ideas("GET", f"/api/v1/meetings/{meeting['id']}")
    assert (meeting_reported["registered"], meeting_reported["capacity"]) == (owned["registered"], 2)
    [survey_reported] = walk.reporting("GET", f"/api/v1/surveys?municipality={GERA}")
    assert str(survey_reported["survey_id"]) == survey["id"]
    assert [r["count"] for r in survey_reported["results"]] == [412, 188]


def _items(page):
    """A list answer as it is, or the items of a paged one."""
    return page["items"] if isinstance(page, dict) else page
