"""The vote ledger's verification and the ideas service's events, on the real database and broker."""
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from shared import dead_letters
from shared.envelope import make_event
from tests.fixtures import wait_for

pytestmark = pytest.mark.integration


def verify(voting_settings):
    env = {"SMARTCITY_VOTING_DATABASE_URL": voting_settings.database_url, "PATH": ""}
    return subprocess.run([sys.executable, "-m", "shared.cli", "verify-ledger"], capture_output=True, text=True,
                          env=env, timeout=60)


def test_verify_ledger_passes_on_real_votes_and_finds_each_kind_of_tampering(
        announce, open_round, vote, voting_sql, voting_settings):
    ideas = [announce(), announce()]
    open_round()
    for idea in ideas:
        for citizen in ("a", "b", "c"):
            vote(idea, citizen)
    vote(ideas[0], "b", method="DELETE")
    intact = verify(voting_settings)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "2 idea ledger(s) checked" in intact.stdout

    voting_sql("UPDATE ledger SET at = at + interval '1 second' WHERE idea_id = %s AND seq = 2", (ideas[0],))
    voting_sql("UPDATE ideas SET total = total + 5 WHERE id = %s", (ideas[1],))
    tampered = verify(voting_settings)
    assert tampered.returncode == 1
    assert f"idea {ideas[0]} entry 2: hash does not match its content" in tampered.stdout
    assert f"idea {ideas[1]}: total is 8, the ledger gives 3" in tampered.stdout
    assert f"idea {ideas[1]}: total is 8, 3 votes are recorded" in tampered.stdout


def test_a_deleted_vote_record_is_found(announce, open_round, vote, voting_sql, voting_settings):
    idea = announce()
    open_round()
    vote(idea, "a")
    voting_sql("DELETE FROM votes")
    result = verify(voting_settings)
    assert result.returncode == 1 and "1 votes are recorded" not in result.stdout
    assert f"idea {idea}: total is 1, 0 votes are recorded" in result.stdout


def _published(idea_id, at):
    return {"idea_id": idea_id, "municipality": "gera", "field_of_action": "energie", "title": "Solardächer",
            "channel": "form", "author_id": "x", "published_at": at}


def test_a_redelivered_idea_event_is_applied_once(publish_event, voting_api, voting_sql, voting_service):
    idea = uuid.uuid4()
    envelope = make_event("ideas", "IdeaPublished", _published(idea, datetime.now(timezone.utc)))
    for _ in range(3):
        publish_event("ideas", "IdeaPublished", envelope=envelope)
    wait_for(lambda: voting_api("GET", f"/api/v1/ideas/{idea}").status_code == 200)
    wait_for(lambda: voting_sql("SELECT count(*) FROM inbox")[0][0] == 1)
    assert voting_sql("SELECT count(*) FROM inbox WHERE event_id = %s", (envelope["id"],))[0][0] == 1


def test_an_older_event_arriving_late_does_not_undo_a_newer_status(publish_event, voting_api, voting_service):
    idea, now = uuid.uuid4(), datetime.now(timezone.utc)
    ref = {"idea_id": idea, "municipality": "gera", "field_of_action": "energie"}
    publish_event("ideas", "IdeaStatusChanged", {**ref, "from_status": "published", "to_status": "shortlisted",
                                                 "cause": "staff", "author_id": "x", "changed_at": now})
    wait_for(lambda: voting_api("GET", f"/api/v1/ideas/{idea}").json().get("status") == "shortlisted")
    publish_event("ideas", "IdeaPublished", _published(idea, now - timedelta(minutes=5)))
    wait_for(lambda: voting_api("GET", f"/api/v1/ideas/{idea}").json().get("title") == "Solardächer")
    assert voting_api("GET", f"/api/v1/ideas/{idea}").json()["status"] == "shortlisted"


def test_a_malformed_idea_event_is_dead_lettered(publish_event, voting_service, amqp_uri, voting_sql):
    publish_event("ideas", "IdeaPublished", raw=b"{not json")
    publish_event("ideas", "IdeaRejected", envelope={
        **make_event("ideas", "IdeaRejected", {"idea_id": uuid.uuid4(), "municipality": "gera",
                                               "field_of_action": "energie", "reason": "x", "author_id": "a",
                                               "rejected_at": datetime.now(timezone.utc)}),
        "data": {"idea_id": "not-a-uuid"}})
    parked = wait_for(lambda: len(dead_letters.list_parked(amqp_uri, "voting")) == 2 and
                      dead_letters.list_parked(amqp_uri, "voting"), message="two parked messages")
    assert {p.reason for p in parked} == {"malformed"}
    assert any("idea_id" in p.error for p in parked)
    assert voting_sql("SELECT count(*) FROM ideas")[0][0] == 0
