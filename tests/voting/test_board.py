"""Strategy-board decisions on the real database and broker."""
from datetime import datetime, timedelta, timezone

import pytest


pytestmark = pytest.mark.integration

BOARD = ["board-anke", "board-bernd", "board-cem", "board-dana", "board-emil"]


@pytest.fixture
def decide(voting_api, auth):
    """decide(idea, **overrides) -> the open decision (201)."""
    def open_(idea_id, board=BOARD, quorum=3, rule="simple", deadline=timedelta(days=7)):
        body = {"idea_id": idea_id, "board": board, "quorum": quorum, "majority_rule": rule,
                "deadline": (datetime.now(timezone.utc) + deadline).isoformat()}
        response = voting_api("POST", "/api/v1/decisions", json=body, headers=auth("staff", subject="staff-gera"))
        assert response.status_code == 201, response.text
        return response.json()
    return open_


@pytest.fixture
def board_vote(voting_api, auth):
    def cast(decision, member, choice):
        return voting_api("PUT", f"/api/v1/decisions/{decision['id']}/votes/me", json={"choice": choice},
                          headers=auth("board_member", subject=member))
    return cast


def test_the_last_missing_vote_closes_the_decision_and_emits_pilot_approved(
        announce, decide, board_vote, voting_api, tap):
    consumer = tap("voting.events", "PilotApproved")
    idea = announce(status="shortlisted")
    decision = decide(idea)
    assert decision["status"] == "open" and decision["tally"] == {"yes": 0, "no": 0, "abstain": 0}
    for member, choice in zip(BOARD, ["yes", "yes", "no", "abstain", "yes"]):
        response = board_vote(decision, member, choice)
        assert response.status_code == 200, response.text
    closed = response.json()
    assert closed["status"] == "approved" and closed["closed_by"] == "board" and closed["quorum_met"] is True
    [event] = consumer.wait("PilotApproved", where=lambda e: e["subject"] == idea)
    assert event["data"]["tally"] == {"yes": 3, "no": 1, "abstain": 1}
    assert event["data"]["board_size"] == 5 and event["data"]["quorum"] == 3
    assert event["data"]["majority_rule"] == "simple" and event["data"]["decision_id"] == decision["id"]
    assert not any(member in str(event) for member in BOARD)


def test_members_may_change_their_vote_until_it_closes(announce, decide, board_vote, voting_api, auth):
    idea = announce(status="shortlisted")
    decision = decide(idea, rule="absolute")
    board_vote(decision, "board-anke", "no")
    changed = board_vote(decision, "board-anke", "yes").json()
    assert changed["tally"] == {"yes": 1, "no": 0, "abstain": 0} and changed["voted"] == ["board-anke"]
    board_vote(decision, "board-bernd", "yes")
    board_vote(decision, "board-cem", "yes")
    closed = voting_api("POST", f"/api/v1/decisions/{decision['id']}/close", headers=auth("staff")).json()
    assert closed["status"] == "approved" and closed["tally"]["yes"] == 3
    late = board_vote(decision, "board-dana", "no")
    assert late.status_code == 409 and "decision" in late.json()["error"]["fields"]


def test_without_quorum_it_closes_at_the_deadline_as_rejected_no_quorum(announce, decide, board_vote, tap):
    consumer = tap("voting.events", "PilotRejected")
    idea = announce(status="shortlisted")
    decision = decide(idea, quorum=4, deadline=timedelta(seconds=1))
    board_vote(decision, "board-anke", "yes")
    board_vote(decision, "board-bernd", "yes")
    [event] = consumer.wait("PilotRejected", timeout=10, where=lambda e: e["subject"] == idea)
    assert event["data"]["reason"] == "no_quorum" and event["data"]["quorum_met"] is False
    assert event["data"]["tally"] == {"yes": 2, "no": 0, "abstain": 0}


def test_closing_twice_changes_nothing_and_emits_once(announce, decide, board_vote, voting_api, auth, tap):
    consumer = tap("voting.events", "#")
    idea = announce(status="shortlisted")
    decision = decide(idea, quorum=1)
    board_vote(decision, "board-anke", "no")
    close = lambda: voting_api("POST", f"/api/v1/decisions/{decision['id']}/close", headers=auth("staff"))
    first, second = close(), close()
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.json()["status"] == "rejected" and first.json()["reason"] == "majority"
    consumer.wait("PilotRejected")
    consumer.settle(1.0)  # the deadline timer must not close it again either
    assert len(consumer.events("PilotRejected")) == 1 and not consumer.events("PilotApproved")


def test_only_board_members_of_the_roster_vote(announce, decide, board_vote, voting_api, auth):
    idea = announce(status="shortlisted")
    decision = decide(idea)
    path = f"/api/v1/decisions/{decision['id']}/votes/me"
    citizen = voting_api("PUT", path, json={"choice": "yes"}, headers=auth("citizen", subject="board-anke"))
    assert citizen.status_code == 403
    outsider = board_vote(decision, "board-zoe", "yes")
    assert outsider.status_code == 403 and "board" in outsider.json()["error"]["message"]
    bad = board_vote(decision, "board-anke", "maybe")
    assert bad.status_code == 422 and "choice" in bad.json()["error"]["fields"]
    assert voting_api("GET", f"/api/v1/decisions/{decision['id']}").json()["voted"] == []


def test_only_staff_open_and_close_decisions(announce, voting_api, auth, decide):
    idea = announce(status="shortlisted")
    body = {"idea_id": idea, "board": BOARD, "quorum": 3,
            "deadline": (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()}
    for role in ("citizen", "board_member", "moderator"):
        assert voting_api("POST", "/api/v1/decisions", json=body, headers=auth(role)).status_code == 403
    decision = decide(idea)
    close = voting_api("POST", f"/api/v1/decisions/{decision['id']}/close", headers=auth("board_member"))
    assert close.status_code == 403
    assert voting_api("GET", f"/api/v1/decisions/{decision['id']}").json()["status"] == "open"


@pytest.mark.parametrize("change,field", [
    ({"quorum": 6}, "quorum"),
    ({"quorum": 0}, "quorum"),
    ({"board": []}, "board"),
    ({"board": ["a", "a"]}, "board"),
    ({"majority_rule": "unanimous"}, "majority_rule"),
    ({"deadline": "2020-01-01T00:00:00+00:00"}, "deadline"),
    ({"deadline": "2030-01-01T00:00:00"}, "deadline"),
    ({"idea_id": "nope"}, "idea_id"),
])
def test_a_bad_decision_is_refused_naming_the_field(announce, voting_api, auth, voting_sql, change, field):
    idea = announce(status="shortlisted")
    body = {"idea_id": idea, "board": BOARD, "quorum": 3,
            "deadline": (datetime.now(timezone.utc) + timedelta(days=1)).isoformat(), **change}
    response = voting_api("POST", "/api/v1/decisions", json=body, headers=auth("staff"))
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]
    assert voting_sql("SELECT count(*) FROM decisions")[0][0] == 0


def test_the_board_decides_only_shortlisted_ideas_one_open_decision_at_a_time(announce, voting_api, auth, decide):
    published = announce()
    body = {"idea_id": published, "board": BOARD, "quorum": 3,
            "deadline": (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()}
    assert voting_api("POST", "/api/v1/decisions", json=body, headers=auth("staff")).status_code == 409
    shortlisted = announce(status="shortlisted")
    decide(shortlisted)
    again = voting_api("POST", "/api/v1/decisions", json={**body, "idea_id": shortlisted}, headers=auth("staff"))
    assert again.status_code == 409
    listed = voting_api("GET", f"/api/v1/decisions?idea_id={shortlisted}&status=open").json()
    assert len(listed) == 1


def test_two_thirds_rule_rejects_for_lack_of_majority(announce, decide, board_vote, tap):
    consumer = tap("voting.events", "PilotRejected")
    idea = announce(status="shortlisted")
    decision = decide(idea, rule="two_thirds", board=BOARD[:3], quorum=3)
    for member, choice in zip(BOARD[:3], ["yes", "no", "no"]):
        board_vote(decision, member, choice)
    [event] = consumer.wait("PilotRejected")
    assert event["data"]["reason"] == "majority" and event["data"]["quorum_met"] is True
    assert event["data"]["majority_rule"] == "two_thirds"
