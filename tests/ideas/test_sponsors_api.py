"""Idea sponsors over HTTP on the real PostgreSQL and RabbitMQ."""
import uuid

import pytest

from tests.ideas.test_api import moderate, submit

pytestmark = pytest.mark.integration


def offer(ideas_api, auth, idea_id, subject, **changes):
    body = {"kind": "company", "display_name": "Energieversorgung Gera GmbH", "show_name": True, **changes}
    return ideas_api("POST", f"/api/v1/ideas/{idea_id}/sponsors", json=body, headers=auth("citizen", subject=subject))


def test_sponsors_offer_staff_accept_and_the_public_sees_names_only_with_consent(ideas_api, auth, ideas_sql):
    idea = submit(ideas_api, auth)
    assert offer(ideas_api, auth, idea["id"], "company-1").status_code == 404  # not public yet
    moderate(ideas_api, auth, idea["id"])
    assert ideas_api("POST", f"/api/v1/ideas/{idea['id']}/sponsors", json={"kind": "company"}).status_code == 401
    company = offer(ideas_api, auth, idea["id"], "company-1")
    assert company.status_code == 201 and company.json()["status"] == "offered"
    assert offer(ideas_api, auth, idea["id"], "company-1").status_code == 409
    shy = offer(ideas_api, auth, idea["id"], "citizen-2", kind="citizen", display_name="Erika Mustermann",
                show_name=False).json()
    bad = offer(ideas_api, auth, idea["id"], "citizen-3", kind="bank")
    assert bad.status_code == 422 and list(bad.json()["error"]["fields"]) == ["kind"]
    assert ideas_api("GET", f"/api/v1/ideas/{idea['id']}/sponsors").json() == []
    accept = lambda sponsorship, role="staff": ideas_api(  # noqa: E731
        "POST", f"/api/v1/ideas/{idea['id']}/sponsors/{sponsorship['id']}/acceptance", headers=auth(role))
    assert accept(company.json(), "citizen").status_code == 403
    for sponsorship in (company.json(), shy, shy):
        response = accept(sponsorship)
        assert response.status_code == 200 and response.json()["status"] == "accepted"
    public = ideas_api("GET", f"/api/v1/ideas/{idea['id']}/sponsors").json()
    assert [(s["kind"], s["display_name"]) for s in public] == [("company", "Energieversorgung Gera GmbH"),
                                                                ("citizen", None)]
    assert "Erika" not in str(public)
    assert ideas_api("POST", f"/api/v1/ideas/{idea['id']}/sponsors/{uuid.uuid4()}/acceptance",
                     headers=auth("staff")).status_code == 404
    rows = ideas_sql("SELECT routing_key, body::jsonb->'data' FROM outbox WHERE routing_key LIKE 'Sponsor%%'"
                     " ORDER BY created_at")
    assert [r[0] for r in rows] == ["SponsorOffered", "SponsorOffered", "SponsorAccepted", "SponsorAccepted"]
    assert rows[2][1]["public_name"] == "Energieversorgung Gera GmbH" and rows[2][1]["sponsor_id"] == "company-1"
    assert rows[3][1]["public_name"] is None and rows[3][1]["sponsor_id"] == "citizen-2"
