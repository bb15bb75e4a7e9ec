"""Steps the strategy and feedback integration tests share: working groups, public ideas, events."""
import uuid

def working_group(ideas_api, auth, members=(), municipality="gera"):
    """A working group with members (token subjects); its id."""
    group = ideas_api("POST", "/api/v1/working-groups", headers=auth("staff"), json={
        "municipality": municipality, "name": f"AG {uuid.uuid4().hex[:8]}", "kind": "working_group"})
    assert group.status_code == 201, group.text
    for member in members:
        added = ideas_api("POST", f"/api/v1/working-groups/{group.json()['id']}/members", headers=auth("staff"),
                          json={"member_id": member})
        assert added.status_code == 201, added.text
    return group.json()["id"]


def public_idea(ideas_api, auth, municipality="gera", field="energie", title="Solardächer auf Schulen"):
    idea = ideas_api("POST", "/api/v1/ideas", headers=auth("citizen", subject="author-1"), json={
        "municipality": municipality, "field_of_action": field, "channel": "form", "title": title,
        "description": "Alle Schuldächer mit Photovoltaik ausstatten."}).json()
    published = ideas_api("POST", f"/api/v1/ideas/{idea['id']}/moderation", json={"decision": "publish"},
                          headers=auth("moderator"))
    assert published.status_code == 200, published.text
    return idea["id"]


def events(sql, *types):
    """(type, data) of the outbox's events of `types`, in the order they were written."""
    rows = sql("SELECT routing_key, body::jsonb->'data' FROM outbox WHERE routing_key = ANY(%s)"
               " ORDER BY created_at, id", (list(types),))
    return [(kind, data) for kind, data in rows]
