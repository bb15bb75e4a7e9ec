"""Citizen support votes on the real database and broker."""
import eventlet
import pytest

from services.voting.ledger import voter_pseudonym
from shared.config import DEV_PSEUDONYM_KEY

pytestmark = pytest.mark.integration


def test_a_citizen_supports_a_published_idea_and_voting_emits_the_new_total_without_the_voter(
        announce, open_round, vote, voting_api, voting_sql, voting_settings, tap):
    consumer = tap("voting.events", "VoteCast")
    idea = announce()
    round_ = open_round()
    response = vote(idea, "citizen-anna")
    assert response.status_code == 200, response.text
    assert response.json() == {"idea_id": idea, "round_id": round_["id"], "total": 1, "supported": True}
    [event] = consumer.wait("VoteCast", where=lambda e: e["subject"] == idea)
    assert event["data"]["total"] == 1 and event["data"]["round_id"] == round_["id"]
    assert event["data"]["ledger_seq"] == 1 and len(event["data"]["ledger_hash"]) == 64
    key = voting_settings.pseudonym_key  # the configured key (tests set one of their own)
    assert key != DEV_PSEUDONYM_KEY
    assert "citizen-anna" not in str(event) and voter_pseudonym(key, "citizen-anna") not in str(event)
    assert voting_sql("SELECT voter_hash FROM ledger") == [(voter_pseudonym(key, "citizen-anna"),)]
    assert voting_api("GET", f"/api/v1/ideas/{idea}").json()["total"] == 1


def test_casting_again_returns_the_same_result_and_adds_no_vote(announce, open_round, vote, voting_sql, tap):
    consumer = tap("voting.events", "VoteCast")
    idea = announce()
    open_round()
    first, again = vote(idea), vote(idea)
    assert first.json() == again.json()
    assert voting_sql("SELECT count(*) FROM votes")[0][0] == 1
    consumer.wait("VoteCast")
    consumer.settle(0.5)
    assert len(consumer.events("VoteCast")) == 1


def test_withdrawing_lowers_the_total_frees_the_budget_and_emits_vote_withdrawn(
        announce, open_round, vote, voting_api, auth, tap):
    consumer = tap("voting.events", "VoteWithdrawn")
    idea = announce()
    round_ = open_round(budget=1)
    vote(idea, "bert")
    response = vote(idea, "bert", method="DELETE")
    assert response.json() == {"idea_id": idea, "round_id": round_["id"], "total": 0, "supported": False}
    [event] = consumer.wait("VoteWithdrawn")
    assert event["data"]["total"] == 0 and event["data"]["ledger_seq"] == 2
    ballot = voting_api("GET", f"/api/v1/rounds/{round_['id']}/ballot", headers=auth("citizen", subject="bert"))
    assert ballot.json()["remaining"] == 1
    again = vote(idea, "bert", method="DELETE")  # nothing left to withdraw: said so, nothing changes
    assert again.status_code == 404 and "vote" in again.json()["error"]["message"]
    assert voting_api("GET", f"/api/v1/ideas/{idea}").json()["total"] == 0


def test_the_budget_limits_supports_per_round(announce, open_round, vote, voting_api, auth):
    ideas = [announce() for _ in range(3)]
    round_ = open_round(budget=2)
    assert [vote(i, "carla").status_code for i in ideas[:2]] == [200, 200]
    refused = vote(ideas[2], "carla")
    assert refused.status_code == 409
    assert "budget" in refused.json()["error"]["fields"]
    assert voting_api("GET", f"/api/v1/ideas/{ideas[2]}").json()["total"] == 0
    ballot = voting_api("GET", f"/api/v1/rounds/{round_['id']}/ballot", headers=auth("citizen", subject="carla"))
    assert ballot.json()["used"] == 2 and sorted(ballot.json()["ideas"]) == sorted(ideas[:2])


def test_parallel_casts_on_different_ideas_never_overspend_the_budget(announce, open_round, vote, voting_sql):
    ideas = [announce() for _ in range(6)]
    open_round(budget=2)
    pool = eventlet.GreenPool(12)
    codes = list(pool.imap(lambda i: vote(i, "dora").status_code, ideas * 2))
    assert voting_sql("SELECT count(*) FROM votes WHERE voter = 'dora'")[0][0] == 2
    assert voting_sql("SELECT used FROM ballots WHERE voter = 'dora'")[0][0] == 2
    assert codes.count(409) >= 8


@pytest.mark.parametrize("opens,closes", [("hours=1", "days=1"), ("days=-2", "days=-1")])
def test_no_vote_outside_an_open_round(announce, open_round, vote, opens, closes):
    from datetime import timedelta
    idea = announce()
    open_round(opens=timedelta(**{opens.split("=")[0]: int(opens.split("=")[1])}),
               closes=timedelta(**{closes.split("=")[0]: int(closes.split("=")[1])}))
    response = vote(idea)
    assert response.status_code == 409
    assert "round" in response.json()["error"]["fields"]


def test_a_round_for_another_field_does_not_take_the_vote(announce, open_round, vote):
    idea = announce(field="energie")
    open_round(field="umwelt")
    assert vote(idea).status_code == 409


def test_unknown_and_rejected_ideas_cannot_be_supported(announce, open_round, vote, voting_sql):
    open_round()
    unknown = vote("00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
    rejected = vote(announce(status="rejected"))
    assert rejected.status_code == 409 and "idea_id" in rejected.json()["error"]["fields"]
    assert vote("not-a-uuid").status_code == 404
    assert voting_sql("SELECT count(*) FROM votes")[0][0] == 0


def test_voting_needs_a_citizen_token(announce, open_round, voting_api, auth):
    idea = announce()
    open_round()
    assert voting_api("POST", f"/api/v1/ideas/{idea}/votes").status_code == 401
    assert voting_api("POST", f"/api/v1/ideas/{idea}/votes", headers=auth("board_member")).status_code == 403
    forged = {"Authorization": auth("citizen")["Authorization"][:-4] + "AAAA"}
    assert voting_api("POST", f"/api/v1/ideas/{idea}/votes", headers=forged).status_code == 401


def test_fifty_parallel_casts_by_one_citizen_give_one_vote(announce, open_round, vote, voting_api, voting_sql):
    idea = announce()
    open_round()
    pool = eventlet.GreenPool(50)
    responses = list(pool.imap(lambda _: vote(idea, "eager-citizen"), range(50)))
    assert {r.status_code for r in responses} == {200}
    assert {r.json()["total"] for r in responses} == {1}
    assert voting_sql("SELECT count(*) FROM votes")[0][0] == 1
    assert voting_sql("SELECT count(*) FROM ledger")[0][0] == 1
    assert voting_api("GET", f"/api/v1/ideas/{idea}").json()["total"] == 1


def test_a_thousand_distinct_citizens_give_exactly_a_thousand_votes(announce, open_round, vote, voting_api,
                                                                     voting_sql):
    idea = announce()
    open_round(budget=1)
    pool = eventlet.GreenPool(32)
    codes = list(pool.imap(lambda n: vote(idea, f"citizen-{n}").status_code, range(1000)))
    assert codes.count(200) == 1000
    assert voting_api("GET", f"/api/v1/ideas/{idea}").json()["total"] == 1000
    assert voting_sql("SELECT count(*), count(DISTINCT voter) FROM votes")[0] == (1000, 1000)
    assert voting_sql("SELECT max(seq), max(total) FROM ledger")[0] == (1000, 1000)


def test_support_threshold_reached_is_emitted_once(announce, open_round, vote, voting_api, auth, tap):
    consumer = tap("voting.events", "SupportThresholdReached")
    put = voting_api("PUT", "/api/v1/municipalities/gera/support-threshold", json={"threshold": 2},
                     headers=auth("staff"))
    assert put.status_code == 200 and put.json() == {"municipality": "gera", "threshold": 2}
    idea = announce()
    open_round()
    vote(idea, "v1")
    vote(idea, "v2")
    vote(idea, "v2", method="DELETE")
    vote(idea, "v2")
    vote(idea, "v3")
    [event] = consumer.wait("SupportThresholdReached")
    consumer.settle(0.5)
    assert len(consumer.events("SupportThresholdReached")) == 1
    assert event["data"]["threshold"] == 2 and event["data"]["total"] == 2
    assert voting_api("GET", f"/api/v1/ideas/{idea}").json()["threshold_reached_at"] is not None


def test_threshold_is_staff_only_and_validated(voting_api, auth, voting_service):
    path = "/api/v1/municipalities/gera/support-threshold"
    assert voting_api("PUT", path, json={"threshold": 5}, headers=auth("citizen")).status_code == 403
    bad = voting_api("PUT", path, json={"threshold": 0}, headers=auth("staff"))
    assert bad.status_code == 422 and "threshold" in bad.json()["error"]["fields"]
    unknown = voting_api("PUT", "/api/v1/municipalities/atlantis/support-threshold", json={"threshold": 5},
                         headers=auth("staff"))
    assert unknown.status_code == 404
    assert voting_api("GET", path).json()["threshold"] == 50  # the configured default, unchanged


def test_rankings_order_by_total_then_the_earlier_publication(announce, open_round, vote, voting_api):
    first, second, third = announce(title="A"), announce(title="B"), announce(title="C", field="umwelt")
    open_round()
    vote(third, "x")  # reaches 1 first, published last
    vote(second, "x")
    vote(first, "x")
    vote(first, "y")
    ranking = voting_api("GET", "/api/v1/rankings?municipality=gera").json()
    assert [(r["idea_id"], r["total"], r["rank"]) for r in ranking] == [(first, 2, 1), (second, 1, 2), (third, 1, 3)]
    assert ranking[1]["published_at"] < ranking[2]["published_at"]
    by_field = voting_api("GET", "/api/v1/rankings?municipality=gera&field=umwelt").json()
    assert [r["idea_id"] for r in by_field] == [third]


def test_rankings_reject_bad_queries_naming_the_field(voting_api, voting_service):
    missing = voting_api("GET", "/api/v1/rankings")
    assert missing.status_code == 422 and "municipality" in missing.json()["error"]["fields"]
    bad = voting_api("GET", "/api/v1/rankings?municipality=gera&limit=0")
    assert bad.status_code == 422 and "limit" in bad.json()["error"]["fields"]


@pytest.mark.parametrize("change,field", [
    ({"budget": 0}, "budget"),
    ({"closes_at": "2020-01-01T00:00:00+00:00"}, "closes_at"),
    ({"opens_at": "2026-01-01T00:00:00"}, "opens_at"),
    ({"municipality": "atlantis"}, "municipality"),
    ({"field_of_action": "raumfahrt"}, "field_of_action"),
    ({"title": ""}, "title"),
    ({"colour": "red"}, "colour"),
])
def test_a_bad_round_is_refused_naming_the_field(voting_api, auth, voting_sql, change, field):
    body = {"municipality": "gera", "title": "Runde", "budget": 3, "opens_at": "2026-01-01T00:00:00+00:00",
            "closes_at": "2026-02-01T00:00:00+00:00", **change}
    response = voting_api("POST", "/api/v1/rounds", json=body, headers=auth("staff"))
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]
    assert voting_sql("SELECT count(*) FROM rounds")[0][0] == 0


def test_only_staff_open_rounds(voting_api, auth, voting_service):
    body = {"municipality": "gera", "title": "Runde", "budget": 3, "opens_at": "2026-01-01T00:00:00+00:00",
            "closes_at": "2026-02-01T00:00:00+00:00"}
    for role in ("citizen", "board_member", "moderator"):
        assert voting_api("POST", "/api/v1/rounds", json=body, headers=auth(role)).status_code == 403


def test_openapi_and_health_are_served(voting_api, voting_service):
    paths = voting_api("GET", "/openapi.json").json()["paths"]
    assert {"/api/v1/ideas/{idea_id}/votes", "/api/v1/rankings", "/api/v1/decisions",
            "/api/v1/decisions/{decision_id}/votes/me"} <= set(paths)
    assert set(paths["/api/v1/ideas/{idea_id}/votes"]) == {"post", "delete"}
    assert voting_api("GET", "/health/ready").status_code == 200
