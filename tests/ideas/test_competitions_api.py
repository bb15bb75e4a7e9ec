"""Competitions and idea profiles over HTTP on the real PostgreSQL and RabbitMQ."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.fixtures import wait_for
from tests.ideas.test_api import IDEA, moderate

pytestmark = pytest.mark.integration

PROFILE = {"goal": "Schulen erzeugen ihren Strom selbst", "target_group": "Schulen und Schulträger",
           "partners": ["Energieversorgung Gera GmbH"], "effort_months": 18, "cost_class": "high",
           "contact_consent": True}


def open_competition(ideas_api, auth, closes_in=timedelta(days=14), jury=("juror-1", "juror-2")):
    now = datetime.now(timezone.utc)
    body = {"municipality": "gera", "field_of_action": "energie", "theme": "Energie für Schulen",
            "opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + closes_in).isoformat(),
            "jury": list(jury)}
    response = ideas_api("POST", "/api/v1/competitions", json=body, headers=auth("staff"))
    assert response.status_code == 201, response.text
    return response.json()


def enter(ideas_api, auth, competition, **changes):
    body = {**{k: v for k, v in IDEA.items() if k != "channel"}, "field_of_action": "energie",
            "competition_id": competition["id"], **changes}
    return ideas_api("POST", "/api/v1/ideas", json=body, headers=auth("citizen", subject="alice"))


def test_an_idea_with_a_profile_shows_it_and_keeps_the_contact_consent_to_itself(ideas_api, auth, ideas_sql):
    body = {**{k: v for k, v in IDEA.items() if k != "channel"}, "profile": PROFILE}
    created = ideas_api("POST", "/api/v1/ideas", json=body, headers=auth("citizen", subject="alice"))
    assert created.status_code == 201 and created.json()["channel"] == "profile"
    idea = created.json()
    assert idea["profile"]["contact_consent"] is True  # the author sees it
    moderate(ideas_api, auth, idea["id"])
    public = ideas_api("GET", f"/api/v1/ideas/{idea['id']}").json()["profile"]
    assert public == {k: v for k, v in PROFILE.items() if k != "contact_consent"}
    assert ideas_api("GET", f"/api/v1/ideas/{idea['id']}", headers=auth("staff")).json()["profile"] == PROFILE
    rows = ideas_sql("SELECT routing_key, body::jsonb->'data' FROM outbox ORDER BY created_at")
    assert rows[0][1]["has_profile"] is True and "profile" not in rows[0][1]
    assert rows[1][0] == "IdeaPublished" and rows[1][1]["profile"] == public


def test_a_competition_takes_entries_while_open_and_the_timer_closes_it_once(ideas_api, auth, ideas_sql):
    assert ideas_api("POST", "/api/v1/competitions", json={}, headers=auth("citizen")).status_code == 403
    competition = open_competition(ideas_api, auth, closes_in=timedelta(seconds=3))
    assert competition["state"] == "open" and competition["jury_size"] == 2
    entry = enter(ideas_api, auth, competition)
    assert entry.status_code == 201 and entry.json()["channel"] == "competition"
    assert entry.json()["competition_id"] == competition["id"]
    closed = "SELECT body::jsonb->'data'->>'entries' FROM outbox WHERE routing_key = 'CompetitionClosed'"
    wait_for(lambda: ideas_sql(closed) == [("1",)], timeout=10, message="CompetitionClosed by the timer")
    late = enter(ideas_api, auth, competition)
    assert late.status_code == 409 and list(late.json()["error"]["fields"]) == ["competition_id"]
    again = ideas_api("POST", f"/api/v1/competitions/{competition['id']}/closing", headers=auth("staff"))
    assert again.status_code == 200 and again.json()["state"] == "closed"
    assert ideas_sql(closed) == [("1",)]
    opened = ideas_sql("SELECT body::jsonb->'data' FROM outbox WHERE routing_key = 'CompetitionOpened'")[0][0]
    assert opened["jury_size"] == 2 and "juror-1" not in str(opened)


def test_staff_close_early_and_the_jury_shortlists_entries(ideas_api, auth, ideas_sql):
    competition = open_competition(ideas_api, auth)
    path = f"/api/v1/competitions/{competition['id']}"
    solar = enter(ideas_api, auth, competition).json()
    other = ideas_api("POST", "/api/v1/ideas", json=IDEA, headers=auth("citizen")).json()
    assert "entries" not in ideas_api("GET", path).json()
    assert [e["id"] for e in ideas_api("GET", path, headers=auth("citizen", subject="juror-1")).json()["entries"]] \
        == [solar["id"]]
    assert ideas_api("POST", f"{path}/closing", headers=auth("citizen")).status_code == 403
    assert ideas_api("POST", f"{path}/closing", headers=auth("staff")).json()["state"] == "closed"
    stranger = ideas_api("POST", f"{path}/shortlist", json={"idea_id": solar["id"]}, headers=auth("citizen"))
    assert stranger.status_code == 403
    not_entry = ideas_api("POST", f"{path}/shortlist", json={"idea_id": other["id"]},
                          headers=auth("citizen", subject="juror-2"))
    assert not_entry.status_code == 422 and list(not_entry.json()["error"]["fields"]) == ["idea_id"]
    for _ in range(2):
        shortlisted = ideas_api("POST", f"{path}/shortlist", json={"idea_id": solar["id"]},
                                headers=auth("citizen", subject="juror-1"))
        assert shortlisted.status_code == 200 and shortlisted.json()["entries"][0]["shortlisted"] is True
    types = [r[0] for r in ideas_sql("SELECT routing_key FROM outbox WHERE routing_key LIKE 'Competition%%'"
                                     " ORDER BY created_at")]
    assert types == ["CompetitionOpened", "CompetitionClosed", "CompetitionEntryShortlisted"]
    listed = ideas_api("GET", "/api/v1/competitions?municipality=gera").json()
    assert [(c["id"], c["entry_count"]) for c in listed] == [(competition["id"], 1)]
    assert ideas_api("GET", f"/api/v1/competitions/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize("changes,field", [
    ({"closes_at": "2020-01-01T00:00:00+00:00", "opens_at": "2019-12-01T00:00:00+00:00"}, "closes_at"),
    ({"closes_at": "2030-01-01T00:00:00+00:00", "opens_at": "2030-02-01T00:00:00+00:00"}, "closes_at"),
    ({"jury": []}, "jury"), ({"field_of_action": "bildung"}, "field_of_action"), ({"opens_at": "morgen"}, "opens_at"),
])
def test_bad_competitions_are_refused_naming_the_field(ideas_api, auth, ideas_sql, changes, field):
    body = {"municipality": "gera", "field_of_action": "energie", "theme": "Energie für Schulen",
            "opens_at": "2030-01-01T00:00:00+00:00", "closes_at": "2030-02-01T00:00:00+00:00", "jury": ["j"],
            **changes}
    response = ideas_api("POST", "/api/v1/competitions", json=body, headers=auth("staff"))
    assert response.status_code == 422 and field in response.json()["error"]["fields"], response.text
    assert ideas_sql("SELECT count(*) FROM competitions")[0][0] == 0


def test_an_upcoming_competition_takes_no_entries_yet(ideas_api, auth):
    now = datetime.now(timezone.utc)
    body = {"municipality": "gera", "field_of_action": "energie", "theme": "Energie für Schulen",
            "opens_at": (now + timedelta(days=1)).isoformat(), "closes_at": (now + timedelta(days=2)).isoformat(),
            "jury": ["juror-1"]}
    competition = ideas_api("POST", "/api/v1/competitions", json=body, headers=auth("staff")).json()
    assert competition["state"] == "upcoming"
    early = enter(ideas_api, auth, competition)
    assert early.status_code == 409 and list(early.json()["error"]["fields"]) == ["competition_id"]
