"""Working groups over HTTP on the real PostgreSQL and RabbitMQ: the topic store comes from the groups."""
import uuid

import pytest

from tests.ideas.test_api import create_group, moderate, submit

pytestmark = pytest.mark.integration


def events(ideas_sql, *types):
    return ideas_sql("SELECT routing_key, body::jsonb->'data' FROM outbox WHERE routing_key = ANY(%s)"
                     " ORDER BY created_at", (list(types),))


def test_staff_create_a_group_once_per_name_in_any_case(ideas_api, auth, ideas_sql):
    body = {"municipality": "gera", "name": "AG Energie", "kind": "working_group", "field_of_action": "energie"}
    assert ideas_api("POST", "/api/v1/working-groups", json=body, headers=auth("citizen")).status_code == 403
    created = ideas_api("POST", "/api/v1/working-groups", json=body, headers=auth("staff"))
    assert created.status_code == 201
    group = created.json()
    assert {k: group[k] for k in ("municipality", "name", "kind", "field_of_action", "members", "ideas")} == {
        "municipality": "gera", "name": "AG Energie", "kind": "working_group", "field_of_action": "energie",
        "members": 0, "ideas": 0}
    taken = ideas_api("POST", "/api/v1/working-groups", json={**body, "name": "ag energie"}, headers=auth("staff"))
    assert taken.status_code == 409 and list(taken.json()["error"]["fields"]) == ["name"]
    for bad, field in (({**body, "kind": "club"}, "kind"), ({**body, "municipality": "atlantis"}, "municipality"),
                       ({**body, "field_of_action": "bildung"}, "field_of_action"), ({**body, "name": " "}, "name")):
        refused = ideas_api("POST", "/api/v1/working-groups", json=bad, headers=auth("staff"))
        assert refused.status_code == 422 and field in refused.json()["error"]["fields"], refused.text
    [(kind, data)] = events(ideas_sql, "WorkingGroupCreated")
    assert data["working_group_id"] == group["id"] and data["group_name"] == "AG Energie"
    assert ideas_sql("SELECT count(*) FROM working_groups")[0][0] == 1


def test_members_are_added_and_removed_by_staff_and_listed_to_staff_only(ideas_api, auth, ideas_sql):
    group = create_group(ideas_api, auth, "Fachgruppe Unternehmen der kommunalen Infrastruktur", kind="expert_group")
    path = f"/api/v1/working-groups/{group['id']}/members"
    assert ideas_api("POST", path, json={"member_id": "m-1"}, headers=auth("citizen")).status_code == 403
    added = ideas_api("POST", path, json={"member_id": "m-1"}, headers=auth("staff"))
    assert added.status_code == 201 and added.json()["members"] == 1 and added.json()["member_ids"] == ["m-1"]
    assert ideas_api("POST", path, json={"member_id": "m-1"}, headers=auth("staff")).status_code == 409
    public = ideas_api("GET", f"/api/v1/working-groups/{group['id']}").json()
    assert public["members"] == 1 and "member_ids" not in public
    assert ideas_api("DELETE", f"{path}/m-1", headers=auth("citizen")).status_code == 403
    removed = ideas_api("DELETE", f"{path}/m-1", headers=auth("staff"))
    assert removed.status_code == 204 and removed.content == b""
    assert ideas_api("DELETE", f"{path}/m-1", headers=auth("staff")).status_code == 404
    assert ideas_api("POST", f"/api/v1/working-groups/{uuid.uuid4()}/members", json={"member_id": "m-1"},
                     headers=auth("staff")).status_code == 404
    assert [t for t, _ in events(ideas_sql, "WorkingGroupMemberAdded", "WorkingGroupMemberRemoved")] == [
        "WorkingGroupMemberAdded", "WorkingGroupMemberRemoved"]


def test_ideas_belong_to_a_group_and_its_topic_store_counts_them(ideas_api, auth, ideas_sql):
    energy = create_group(ideas_api, auth, "AG Energie", field_of_action="energie")
    create_group(ideas_api, auth, "AG Umwelt", field_of_action="umwelt")
    create_group(ideas_api, auth, "AG Bildung", municipality="grossenhain")
    by_id = submit(ideas_api, auth, field_of_action="energie", working_group_id=energy["id"])
    by_name = submit(ideas_api, auth, field_of_action="energie", working_group="ag energie")
    assert by_id["working_group_id"] == by_name["working_group_id"] == energy["id"]
    assert by_name["working_group"] == "AG Energie"
    moderate(ideas_api, auth, by_id["id"])
    elsewhere = ideas_api("POST", "/api/v1/ideas", json={
        "municipality": "gera", "field_of_action": "energie", "title": "Falsche Gruppe",
        "description": "Eine Gruppe aus Großenhain für Gera.", "working_group": "AG Bildung"}, headers=auth("citizen"))
    assert elsewhere.status_code == 422 and list(elsewhere.json()["error"]["fields"]) == ["working_group"]
    listed = ideas_api("GET", "/api/v1/working-groups?municipality=gera").json()
    assert [(g["name"], g["ideas"]) for g in listed] == [("AG Energie", 1), ("AG Umwelt", 0)]
    staff_view = ideas_api("GET", f"/api/v1/working-groups/{energy['id']}", headers=auth("staff")).json()
    assert staff_view["ideas"] == 2
    stores = ideas_api("GET", "/api/v1/municipalities/gera/topic-stores").json()
    assert [(s["id"], s["name"], s["ideas"]) for s in stores] == [(energy["id"], "AG Energie", 1),
                                                                  (listed[1]["id"], "AG Umwelt", 0)]
    found = ideas_api("GET", f"/api/v1/ideas?working_group_id={energy['id']}").json()
    assert [i["id"] for i in found["items"]] == [by_id["id"]]
    [(_, submitted)] = ideas_sql("SELECT routing_key, body::jsonb->'data' FROM outbox WHERE routing_key ="
                                 " 'IdeaSubmitted' AND body::jsonb->'data'->>'idea_id' = %s", (by_name["id"],))
    assert (submitted["working_group_id"], submitted["working_group"]) == (energy["id"], "AG Energie")
    assert ideas_api("GET", "/api/v1/working-groups?municipality=atlantis").status_code == 422
