"""The ideas service over HTTP, on the real PostgreSQL and RabbitMQ."""
import uuid

import pytest

pytestmark = pytest.mark.integration

IDEA = {
    "municipality": "gera",
    "title": "Digitale Parkplatzsuche",
    "description": "Sensoren an Parkplätzen in der Innenstadt melden freie Plätze an eine App.",
    "field_of_action": "mobilitaet-infrastruktur",
    "channel": "form",
    "location": {"lat": 50.8806, "lon": 12.0817},
}
# A place inside each municipality (a location outside it is refused).
LOCATIONS = {"gera": {"lat": 50.8806, "lon": 12.0817}, "grossenhain": {"lat": 51.2905, "lon": 13.5387}}


def submit(ideas_api, auth, subject="alice", **changes):
    body = {**IDEA, "location": LOCATIONS.get(changes.get("municipality", "gera")), **changes}
    response = ideas_api("POST", "/api/v1/ideas", json=body, headers=auth("citizen", subject=subject))
    assert response.status_code == 201, response.text
    return response.json()


def create_group(ideas_api, auth, name, municipality="gera", kind="working_group", field_of_action=None):
    body = {"municipality": municipality, "name": name, "kind": kind, "field_of_action": field_of_action}
    response = ideas_api("POST", "/api/v1/working-groups", json=body, headers=auth("staff"))
    assert response.status_code == 201, response.text
    return response.json()


def board_approves(ideas_api, publish_event, idea):
    """The strategy board's PilotApproved, as the voting service publishes it; the idea becomes a pilot."""
    import uuid as uuid_module
    from datetime import datetime, timezone

    from tests.fixtures import wait_for

    publish_event("voting", "PilotApproved", {
        "idea_id": uuid_module.UUID(str(idea["id"])), "municipality": idea["municipality"],
        "field_of_action": idea["field_of_action"], "decision_id": uuid_module.uuid4(),
        "tally": {"yes": 7, "no": 2, "abstain": 1}, "board_size": 11, "quorum": 6, "quorum_met": True,
        "majority_rule": "simple", "decided_at": datetime.now(timezone.utc)})
    wait_for(lambda: ideas_api("GET", f"/api/v1/ideas/{idea['id']}").json()["status"] == "pilot",
             timeout=30, message="the board's pilot")


def moderate(ideas_api, auth, idea_id, decision="publish", reason=None):
    body = {"decision": decision} if reason is None else {"decision": decision, "reason": reason}
    return ideas_api("POST", f"/api/v1/ideas/{idea_id}/moderation", json=body, headers=auth("moderator"))


def set_status(ideas_api, auth, idea_id, status):
    return ideas_api("POST", f"/api/v1/ideas/{idea_id}/status", json={"status": status}, headers=auth("staff"))


def counts(ideas_sql):
    return ideas_sql("SELECT (SELECT count(*) FROM ideas), (SELECT count(*) FROM outbox)")[0]


def test_fields_of_action_per_municipality(ideas_api):
    gera = ideas_api("GET", "/api/v1/municipalities/gera/fields").json()
    assert [f["name"] for f in gera] == [
        "Bauen, Wohnen und Lebensraum", "Energie", "Mobilität und Infrastruktur",
        "Tourismus, Kultur und Freizeit", "Umwelt", "Wirtschaft und Innovationskraft"]
    assert gera[0]["name_en"] == "Building, housing and living space"
    grossenhain = ideas_api("GET", "/api/v1/municipalities/grossenhain/fields").json()
    assert [f["slug"] for f in grossenhain] == ["verwaltung", "bildung", "gesundheit", "mobilitaet"]
    missing = ideas_api("GET", "/api/v1/municipalities/atlantis/fields")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_submit_stores_the_idea_and_its_event_in_one_go(ideas_api, auth, ideas_sql):
    idea = submit(ideas_api, auth, subject="citizen-7")
    assert idea["status"] == "submitted"
    assert idea["location"] == IDEA["location"]
    assert "author_id" not in idea  # never shown publicly
    rows = ideas_sql("SELECT author_id, status FROM ideas WHERE id = %s", (idea["id"],))
    assert rows == [("citizen-7", "submitted")]
    assert ideas_sql("SELECT routing_key FROM outbox") == [("IdeaSubmitted",)]


BAD_BODIES = [
    ({**IDEA, "title": 42}, 422, "title"),
    ({k: v for k, v in IDEA.items() if k != "description"}, 422, "description"),
    ({**IDEA, "field_of_action": "raumfahrt"}, 422, "field_of_action"),
    ({**IDEA, "field_of_action": "verwaltung"}, 422, "field_of_action"),  # Großenhain's, not Gera's
    ({**IDEA, "municipality": "atlantis"}, 422, "municipality"),
    ({**IDEA, "channel": "fax"}, 422, "channel"),
    ({**IDEA, "title": "x" * 201}, 422, "title"),
    ({**IDEA, "description": "x" * 5001}, 422, "description"),
    ({**IDEA, "title": "   "}, 422, "title"),
    ({**IDEA, "location": {"lat": 91, "lon": 12}}, 422, "location"),
    ({**IDEA, "location": {"lat": -33.8688, "lon": 151.2093}}, 422, "location"),  # Sydney is not in Gera
    ({**IDEA, "working_group": "AG Mobilitaet"}, 422, "working_group"),  # no such group: no new topic store
    ({**IDEA, "working_group_id": str(uuid.uuid4())}, 422, "working_group_id"),
    ({**IDEA, "channel": "competition", "competition_id": str(uuid.uuid4())}, 422, "competition_id"),
    ({**IDEA, "competition_id": str(uuid.uuid4())}, 422, "channel"),  # a competition entry is no form
    ({**IDEA, "channel": "competition"}, 422, "competition_id"),
    ({**IDEA, "profile": {"goal": "Ziel", "target_group": "Alle", "cost_class": "huge", "contact_consent": True}},
     422, "profile"),
    ({**IDEA, "profile": {"goal": "Ziel erreichen", "target_group": "Alle", "cost_class": "low"}}, 422, "profile"),
    ({**IDEA, "status": "pilot"}, 422, "status"),  # unknown field: the author cannot set the status
]


@pytest.mark.parametrize("body,status,field", BAD_BODIES)
def test_bad_input_gets_a_4xx_naming_the_field_and_stores_nothing(ideas_api, auth, ideas_sql, body, status, field):
    response = ideas_api("POST", "/api/v1/ideas", json=body, headers=auth("citizen"))
    assert response.status_code == status, response.text
    assert field in response.json()["error"]["fields"]
    assert counts(ideas_sql) == (0, 0)


@pytest.mark.parametrize("send,status,code", [
    (dict(data=b'{"title": "unterminated', headers={"Content-Type": "application/json"}), 400, "malformed_json"),
    (dict(data=b'["a list"]', headers={"Content-Type": "application/json"}), 400, "malformed_json"),
    (dict(data=b"title=x", headers={"Content-Type": "application/x-www-form-urlencoded"}), 415,
     "unsupported_media_type"),
    (dict(json={**IDEA, "description": "x" * 70_000}), 413, "payload_too_large"),
])
def test_malformed_bodies(ideas_api, auth, ideas_sql, send, status, code):
    headers = {**auth("citizen"), **send.pop("headers", {})}
    response = ideas_api("POST", "/api/v1/ideas", headers=headers, **send)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert counts(ideas_sql) == (0, 0)


@pytest.mark.parametrize("headers,status", [
    ({}, 401),
    ({"Authorization": "Bearer not.a.token"}, 401),
    ({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, 401),
])
def test_no_or_malformed_token_gets_401(ideas_api, ideas_sql, headers, status):
    response = ideas_api("POST", "/api/v1/ideas", json=IDEA, headers=headers)
    assert response.status_code == status
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert counts(ideas_sql) == (0, 0)


def test_forged_token_gets_401(ideas_api, ideas_sql):
    from shared.auth import mint

    forged = mint("guessed-secret", "mallory", ["admin"])
    response = ideas_api("POST", "/api/v1/ideas", json=IDEA, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert counts(ideas_sql) == (0, 0)


def test_public_sees_published_ideas_only(ideas_api, auth):
    hidden = submit(ideas_api, auth, subject="alice", title="Noch nicht moderiert")
    shown = submit(ideas_api, auth, subject="alice", title="Schon veröffentlicht")
    assert moderate(ideas_api, auth, shown["id"]).status_code == 200

    public = ideas_api("GET", "/api/v1/ideas").json()
    assert [i["id"] for i in public["items"]] == [shown["id"]]
    assert ideas_api("GET", f"/api/v1/ideas/{hidden['id']}").status_code == 404
    # the author sees their own, a moderator sees everything
    mine = ideas_api("GET", "/api/v1/ideas", headers=auth("citizen", subject="alice")).json()
    assert mine["total"] == 2
    assert ideas_api("GET", f"/api/v1/ideas/{hidden['id']}", headers=auth("citizen", subject="bob")).status_code == 404
    assert ideas_api("GET", "/api/v1/ideas", headers=auth("moderator")).json()["total"] == 2


def test_filters_search_and_pagination(ideas_api, auth):
    energy = create_group(ideas_api, auth, "AG Energie", field_of_action="energie")
    create_group(ideas_api, auth, "AG Umwelt")
    create_group(ideas_api, auth, "AG Mobilität")
    ids = []
    for n, (field, group, title) in enumerate([
        ("energie", "AG Energie", "Solardächer auf Schulen"),
        ("energie", None, "Intelligente Straßenbeleuchtung"),
        ("umwelt", "AG Umwelt", "Baumkataster mit Bodenfeuchte-Sensoren"),
    ]):
        idea = submit(ideas_api, auth, field_of_action=field, working_group=group, title=title)
        moderate(ideas_api, auth, idea["id"])
        ids.append(idea["id"])
    get = lambda query: ideas_api("GET", "/api/v1/ideas?" + query).json()  # noqa: E731
    assert get("field=energie")["total"] == 2
    assert [i["id"] for i in get("working_group=AG Umwelt")["items"]] == [ids[2]]
    assert [i["id"] for i in get(f"working_group_id={energy['id']}")["items"]] == [ids[0]]
    assert [i["id"] for i in get("q=Solardach")["items"]] == [ids[0]]  # German stemming
    assert get("municipality=grossenhain")["total"] == 0
    first, second = get("page=1&page_size=2"), get("page=2&page_size=2")
    assert first["total"] == 3 and len(first["items"]) == 2 and len(second["items"]) == 1
    assert {i["id"] for i in first["items"] + second["items"]} == set(ids)
    bad = ideas_api("GET", "/api/v1/ideas?page_size=1000&status=lost")
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) == {"page_size", "status"}
    stores = ideas_api("GET", "/api/v1/municipalities/gera/topic-stores").json()
    assert {s["name"]: s["ideas"] for s in stores} == {"AG Energie": 1, "AG Mobilität": 0, "AG Umwelt": 1}
    assert {s["id"] for s in stores if s["name"] == "AG Energie"} == {energy["id"]}


def test_moderation_needs_a_moderator_and_a_reason_to_reject(ideas_api, auth, ideas_sql):
    idea = submit(ideas_api, auth)
    citizen = ideas_api("POST", f"/api/v1/ideas/{idea['id']}/moderation", json={"decision": "publish"},
                        headers=auth("citizen"))
    assert citizen.status_code == 403
    no_reason = moderate(ideas_api, auth, idea["id"], "reject")
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["error"]["fields"]
    rejected = moderate(ideas_api, auth, idea["id"], "reject", "Betrifft nicht die Stadt Gera")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert moderate(ideas_api, auth, idea["id"]).status_code == 409
    assert [r[0] for r in ideas_sql("SELECT routing_key FROM outbox ORDER BY created_at")] == [
        "IdeaSubmitted", "IdeaRejected"]


def test_status_workflow_by_staff_and_only_the_board_makes_a_pilot(ideas_api, auth, ideas_sql, publish_event):
    idea = submit(ideas_api, auth)
    assert set_status(ideas_api, auth, idea["id"], "shortlisted").status_code == 409  # not yet published
    moderate(ideas_api, auth, idea["id"])
    assert ideas_api("POST", f"/api/v1/ideas/{idea['id']}/status", json={"status": "shortlisted"},
                     headers=auth("moderator")).status_code == 403
    assert set_status(ideas_api, auth, idea["id"], "shortlisted").json()["status"] == "shortlisted"
    staff_pilot = set_status(ideas_api, auth, idea["id"], "pilot")
    assert staff_pilot.status_code == 409 and list(staff_pilot.json()["error"]["fields"]) == ["status"]
    board_approves(ideas_api, publish_event, idea)
    for status in ("in_implementation", "completed"):
        response = set_status(ideas_api, auth, idea["id"], status)
        assert response.status_code == 200 and response.json()["status"] == status
    refused = set_status(ideas_api, auth, idea["id"], "published")
    assert refused.status_code == 409 and refused.json()["error"]["fields"]["status"]
    changes = ideas_sql("SELECT body::jsonb->'data'->>'to_status', body::jsonb->'data'->>'cause' FROM outbox"
                        " WHERE routing_key = 'IdeaStatusChanged' ORDER BY created_at")
    assert changes == [("shortlisted", "staff"), ("pilot", "board"), ("in_implementation", "staff"),
                       ("completed", "staff")]
    unknown = set_status(ideas_api, auth, uuid.uuid4(), "shortlisted")
    assert unknown.status_code == 404


def test_milestones_scheduled_reached_once(ideas_api, auth, ideas_sql):
    body = {"municipality": "gera", "title": "Gesamtstrategie", "due_date": "2099-06-30"}
    assert ideas_api("POST", "/api/v1/milestones", json=body, headers=auth("citizen")).status_code == 403
    created = ideas_api("POST", "/api/v1/milestones", json=body, headers=auth("staff"))
    assert created.status_code == 201 and created.json()["state"] == "scheduled"
    milestone_id = created.json()["id"]
    for _ in range(2):
        reached = ideas_api("POST", f"/api/v1/milestones/{milestone_id}/reached", json={}, headers=auth("staff"))
        assert reached.status_code == 200 and reached.json()["state"] == "reached"
    events = ideas_sql("SELECT routing_key, body::jsonb->'data'->>'on_time' FROM outbox ORDER BY created_at")
    assert events == [("MilestoneScheduled", None), ("MilestoneReached", "true")]
    listed = ideas_api("GET", "/api/v1/milestones?municipality=gera").json()
    assert [m["id"] for m in listed] == [milestone_id]


def test_pilot_milestones_need_a_pilot(ideas_api, auth, publish_event):
    idea = submit(ideas_api, auth)
    body = {"municipality": "gera", "title": "Ausschreibung", "due_date": "2099-01-31", "idea_id": idea["id"]}
    assert ideas_api("POST", "/api/v1/milestones", json=body, headers=auth("staff")).status_code == 409
    moderate(ideas_api, auth, idea["id"])
    set_status(ideas_api, auth, idea["id"], "shortlisted")
    board_approves(ideas_api, publish_event, idea)
    assert ideas_api("POST", "/api/v1/milestones", json=body, headers=auth("staff")).status_code == 201
    other = ideas_api("POST", "/api/v1/milestones", json={**body, "municipality": "grossenhain"},
                      headers=auth("staff"))
    assert other.status_code == 422 and "idea_id" in other.json()["error"]["fields"]


def test_overdue_milestone_is_flagged_exactly_once(ideas_api, auth, ideas_sql):
    from tests.fixtures import wait_for

    body = {"municipality": "gera", "title": "Stadtratsbeschluss", "due_date": "2021-12-31"}
    milestone = ideas_api("POST", "/api/v1/milestones", json=body, headers=auth("staff")).json()
    overdue = "SELECT count(*) FROM outbox WHERE routing_key = 'MilestoneOverdue'"
    wait_for(lambda: ideas_sql(overdue)[0][0] == 1, message="MilestoneOverdue")
    import time

    time.sleep(1.0)  # several more timer ticks
    assert ideas_sql(overdue)[0][0] == 1
    assert ideas_api("GET", f"/api/v1/milestones/{milestone['id']}").json()["state"] == "overdue"
    late = ideas_api("POST", f"/api/v1/milestones/{milestone['id']}/reached", json={}, headers=auth("staff"))
    assert late.json()["state"] == "reached"
    assert ideas_sql("SELECT body::jsonb->'data'->>'on_time' FROM outbox WHERE routing_key = 'MilestoneReached'") \
        == [("false",)]


def test_json_errors_for_unknown_routes_and_methods(ideas_api):
    missing = ideas_api("GET", "/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert ideas_api("GET", "/api/v1/ideas/not-a-uuid").status_code == 404
    wrong = ideas_api("DELETE", "/api/v1/ideas")
    assert wrong.status_code == 405 and "error" in wrong.json()


def test_health_metrics_and_openapi(ideas_api, auth):
    assert ideas_api("GET", "/health/live").json() == {"status": "live"}
    ready = ideas_api("GET", "/health/ready").json()
    assert ready == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}
    submit(ideas_api, auth)
    ideas_api("POST", "/api/v1/ideas", json={}, headers=auth("citizen"))
    metrics = ideas_api("GET", "/metrics").text
    assert 'smartcity_http_requests_total{entrypoint="submit_idea",method="POST",service="ideas",status="201"}' \
        in metrics
    assert 'smartcity_http_errors_total{code="validation_failed",entrypoint="submit_idea",service="ideas"}' \
        in metrics
    assert "smartcity_http_request_duration_seconds_bucket" in metrics
    spec = ideas_api("GET", "/openapi.json").json()
    assert spec["openapi"] == "3.1.0"
    post = spec["paths"]["/api/v1/ideas"]["post"]
    body_schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert {"201", "401", "422"} <= set(post["responses"])
    assert post["security"] == [{"bearer": []}]
    assert "/api/v1/ideas/{idea_id}/moderation" in spec["paths"]
    assert body_schema  # a $ref to the NewIdea component
    new_idea = spec["components"]["schemas"][body_schema["$ref"].rsplit("/", 1)[1]]
    assert new_idea["properties"]["title"]["maxLength"] == 200
    assert set(new_idea["required"]) == {"municipality", "title", "description", "field_of_action"}


def test_the_urls_make_run_prints_answer(ideas_api):
    from services.ideas import SPEC

    for path, _ in SPEC.start_paths:
        assert ideas_api("GET", path).status_code == 200, path
