"""End to end across ideas and voting: an idea from submission to pilot, and the demo data."""
import importlib
from datetime import datetime, timedelta, timezone

import pytest

from tests.fixtures import wait_for
from tests.ideas.test_api import moderate, submit

pytestmark = pytest.mark.integration


def status_in_voting(voting_api, idea_id):
    return voting_api("GET", f"/api/v1/ideas/{idea_id}").json().get("status")


def test_an_idea_goes_from_submission_through_support_and_the_board_to_pilot(
        ideas_api, voting_api, auth, tap):
    ideas_stream, voting_stream = tap("ideas.events"), tap("voting.events")
    idea = submit(ideas_api, auth, subject="citizen-ideengeberin")["id"]
    assert moderate(ideas_api, auth, idea).status_code == 200
    wait_for(lambda: status_in_voting(voting_api, idea) == "published", message="voting learns of the idea")

    now = datetime.now(timezone.utc)
    voting_api("POST", "/api/v1/rounds", headers=auth("staff"), json={
        "municipality": "gera", "title": "Bürgervoting", "budget": 3,
        "opens_at": (now - timedelta(hours=1)).isoformat(), "closes_at": (now + timedelta(days=7)).isoformat()})
    for n in range(5):
        assert voting_api("POST", f"/api/v1/ideas/{idea}/votes",
                          headers=auth("citizen", subject=f"buerger-{n}")).status_code == 200

    shortlist = ideas_api("POST", f"/api/v1/ideas/{idea}/status", json={"status": "shortlisted"},
                          headers=auth("staff"))
    assert shortlist.status_code == 200, shortlist.text
    wait_for(lambda: status_in_voting(voting_api, idea) == "shortlisted", message="voting sees the shortlist")
    board = ["sk-oberbuergermeister", "sk-wirtschaft", "sk-stadtwerke"]
    decision = voting_api("POST", "/api/v1/decisions", headers=auth("staff"), json={
        "idea_id": idea, "board": board, "quorum": 2, "majority_rule": "simple",
        "deadline": (now + timedelta(days=14)).isoformat()}).json()
    for member, choice in zip(board, ["yes", "yes", "no"]):
        voting_api("PUT", f"/api/v1/decisions/{decision['id']}/votes/me", json={"choice": choice},
                   headers=auth("board_member", subject=member))

    wait_for(lambda: ideas_api("GET", f"/api/v1/ideas/{idea}").json()["status"] == "pilot",
             message="the ideas service follows the board")
    wait_for(lambda: status_in_voting(voting_api, idea) == "pilot", message="voting follows the ideas service")
    assert voting_api("POST", f"/api/v1/ideas/{idea}/votes", headers=auth("citizen", subject="late")).status_code \
        == 409  # a pilot takes no more support

    [submitted] = ideas_stream.wait("IdeaSubmitted", where=lambda e: e["subject"] == idea)
    casts = voting_stream.wait("VoteCast", count=5, where=lambda e: e["subject"] == idea)
    [approved] = voting_stream.wait("PilotApproved", where=lambda e: e["subject"] == idea)
    assert sorted(e["data"]["total"] for e in casts) == [1, 2, 3, 4, 5]
    assert approved["data"]["tally"] == {"yes": 2, "no": 1, "abstain": 0}
    assert submitted["data"]["author_id"] == "citizen-ideengeberin"


def test_the_demo_data_of_make_run_loads_through_the_apis(ideas_api, voting_api, token):
    urls = {"ideas": ideas_api, "voting": voting_api}

    def api(service, method, path, body=None, role=None, subject=None):
        headers = {"Authorization": "Bearer " + token(subject or f"demo-{role}", role)} if role else {}
        response = urls[service](method, path, json=body, headers=headers)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    for service in ("ideas", "voting"):
        demo = importlib.import_module(f"services.{service}.demo")
        assert not demo.already_loaded(api)
        demo.load(api)
        assert demo.already_loaded(api)

    stores = {s["name"]: s for s in ideas_api("GET", "/api/v1/municipalities/gera/topic-stores").json()}
    assert len(stores) == 7 and stores["Fachgruppe Unternehmen der kommunalen Infrastruktur"]["ideas"] == 1
    assert stores["AG Energie"]["ideas"] == 0  # a group without public ideas yet
    [competition] = ideas_api("GET", "/api/v1/competitions?municipality=gera").json()
    assert competition["state"] == "open" and competition["entry_count"] == 1
    marketplace = ideas_api("GET", "/api/v1/ideas?q=Marktplatz").json()["items"][0]
    assert [s["display_name"] for s in ideas_api("GET", f"/api/v1/ideas/{marketplace['id']}/sponsors").json()] == [
        "Wirtschaftsförderung Gera"]
    sub_concepts = ideas_api("GET", "/api/v1/sub-concepts?municipality=gera").json()
    assert [s["status"] for s in sub_concepts] == ["submitted"] * 4 and sum(s["idea_count"] for s in sub_concepts) == 4
    assert ideas_api("GET", f"/api/v1/ideas/{marketplace['id']}").json()["sub_concept_id"] == sub_concepts[0]["id"]
    [strategy] = ideas_api("GET", "/api/v1/strategies?municipality=gera").json()
    assert [(v["version"], v["comments"]) for v in strategy["versions"]] == [(1, 2), (2, None)]  # 2 still open
    steps = {m["step"]: m["state"] for m in ideas_api("GET", "/api/v1/milestones?municipality=gera").json()}
    assert steps["strategy_draft_refined"] == "reached" and steps["strategy_adopted"] != "reached"
    [thread] = ideas_api("GET", f"/api/v1/comments?target_kind=idea&target_id={marketplace['id']}").json()
    assert len(thread["replies"]) == 1
    rounds = voting_api("GET", "/api/v1/rounds?municipality=gera&open=true").json()
    assert len(rounds) == 1 and rounds[0]["budget"] == 3
    decisions = {d["status"]: d for d in voting_api("GET", "/api/v1/decisions").json()}
    assert set(decisions) == {"approved", "open"}
    assert "demo-board_member" in decisions["open"]["board"]
    pilot = decisions["approved"]["idea_id"]
    wait_for(lambda: ideas_api("GET", f"/api/v1/ideas/{pilot}").json()["status"] == "pilot",
             message="the demo pilot becomes a pilot in the ideas service")
    [milestone] = ideas_api("GET", f"/api/v1/milestones?idea_id={pilot}").json()
    assert milestone["title"] == "Ausschreibung des Pilotprojekts abgeschlossen"
    ranking = voting_api("GET", "/api/v1/rankings?municipality=gera").json()
    assert ranking[0]["total"] >= 10 and ranking[0]["total"] >= ranking[-1]["total"]
    assert voting_api("GET", f"/api/v1/ideas/{ranking[0]['idea_id']}").json()["threshold_reached_at"]
