"""Voting test helpers: ideas as the ideas service announces them, and open rounds."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.fixtures import wait_for


def _now():
    return datetime.now(timezone.utc)


@pytest.fixture
def announce(publish_event, voting_api):
    """announce(status=...) -> idea id: an idea the ideas service published (and moved on), known to voting."""
    def make(municipality="gera", field="energie", status="published", idea_id=None, title="Offene Messdaten"):
        idea_id = idea_id or uuid.uuid4()
        ref = {"idea_id": idea_id, "municipality": municipality, "field_of_action": field}
        if status == "rejected":
            publish_event("ideas", "IdeaRejected", {**ref, "reason": "Doppelt eingereicht", "author_id": "a",
                                                    "rejected_at": _now()})
        else:
            publish_event("ideas", "IdeaPublished", {**ref, "title": title, "channel": "form", "author_id": "a",
                                                     "published_at": _now() - timedelta(seconds=1)})
        if status not in ("published", "rejected"):
            publish_event("ideas", "IdeaStatusChanged", {**ref, "from_status": "published", "to_status": status,
                                                         "cause": "staff", "author_id": "a", "changed_at": _now()})
        wait_for(lambda: voting_api("GET", f"/api/v1/ideas/{idea_id}").json().get("status") == status,
                 message=f"voting to see idea {idea_id} as {status}")
        return str(idea_id)
    return make


@pytest.fixture
def open_round(voting_api, auth):
    """open_round(budget=3, ...) -> the round, open from an hour ago for a day."""
    def make(municipality="gera", field=None, budget=3, opens=timedelta(hours=-1), closes=timedelta(days=1)):
        body = {"municipality": municipality, "title": "Bürgervoting Herbst", "budget": budget,
                "opens_at": (_now() + opens).isoformat(), "closes_at": (_now() + closes).isoformat()}
        if field:
            body["field_of_action"] = field
        response = voting_api("POST", "/api/v1/rounds", json=body, headers=auth("staff"))
        assert response.status_code == 201, response.text
        return response.json()
    return make


@pytest.fixture
def vote(voting_api, auth):
    """vote(idea_id, subject) -> response of the citizen's cast (method="DELETE" withdraws)."""
    def cast(idea_id, subject="citizen-1", method="POST"):
        return voting_api(method, f"/api/v1/ideas/{idea_id}/votes", headers=auth("citizen", subject=subject))
    return cast
