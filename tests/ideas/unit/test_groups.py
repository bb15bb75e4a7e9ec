"""Working groups on the in-memory unit of work: create (names unique per municipality, any case), list,
show, members in and out, each with its event; refusals store and emit nothing."""
import uuid

import pytest

from services.ideas.groups import use_cases
from services.ideas.groups.commands import AddMember, CreateGroup, GetGroup, ListGroups, RemoveMember
from shared.auth import Principal
from shared.errors import Conflict, InvalidInput, NotFound

STAFF = Principal("staff-1", frozenset({"staff"}))


def create(uow, name="AG Energie", municipality="gera", kind="working_group", field_of_action="energie"):
    return use_cases.create_group(uow, CreateGroup(municipality, name, kind, field_of_action))


def test_a_group_is_created_with_its_event(uow, repo):
    group = create(uow)
    assert group["members"] == 0 and group["ideas"] == 0 and repo.groups_by_id[group["id"]]["name"] == "AG Energie"
    [event] = uow.events
    assert event["type"] == "WorkingGroupCreated" and event["subject"] == str(group["id"])
    assert event["data"] == {"working_group_id": str(group["id"]), "municipality": "gera", "group_name": "AG Energie",
                             "kind": "working_group", "field_of_action": "energie",
                             "created_at": uow.now().isoformat()}


def test_the_expert_group_needs_no_field_of_action(uow):
    group = create(uow, "Fachgruppe Unternehmen der kommunalen Infrastruktur", kind="expert_group",
                   field_of_action=None)
    assert group["kind"] == "expert_group" and uow.events[0]["data"]["field_of_action"] is None


def test_a_name_is_unique_per_municipality_in_any_case(uow, repo):
    create(uow)
    with pytest.raises(Conflict) as taken:
        create(uow, "ag energie")
    assert list(taken.value.fields) == ["name"] and len(repo.groups_by_id) == 1 and len(uow.events) == 1
    create(uow, "AG Energie", municipality="grossenhain", field_of_action=None)  # another municipality's


@pytest.mark.parametrize("changes,field", [({"municipality": "atlantis"}, "municipality"),
                                           ({"municipality": "atlantis", "field_of_action": None}, "municipality"),
                                           ({"field_of_action": "raumfahrt"}, "field_of_action"),
                                           ({"field_of_action": "verwaltung"}, "field_of_action")])
def test_unknown_places_are_refused(uow, repo, changes, field):
    with pytest.raises(InvalidInput) as refused:
        create(uow, **changes)
    assert list(refused.value.fields) == [field] and repo.groups_by_id == {} and uow.events == []


def test_members_come_and_go_with_their_events_and_only_staff_see_who(uow, repo):
    group = create(uow)
    shown = use_cases.add_member(uow, AddMember(group["id"], "member-1", viewer=STAFF))
    assert shown["members"] == 1 and shown["member_ids"] == ["member-1"]
    uow.clock.advance(minutes=1)
    use_cases.add_member(uow, AddMember(group["id"], "member-2"))
    with pytest.raises(Conflict) as twice:
        use_cases.add_member(uow, AddMember(group["id"], "member-1"))
    assert list(twice.value.fields) == ["member_id"]
    assert use_cases.get_group(uow, GetGroup(group["id"], viewer=STAFF))["member_ids"] == ["member-1", "member-2"]
    public = use_cases.get_group(uow, GetGroup(group["id"]))
    assert public["members"] == 2 and "member_ids" not in public
    use_cases.remove_member(uow, RemoveMember(group["id"], "member-1"))
    with pytest.raises(NotFound):
        use_cases.remove_member(uow, RemoveMember(group["id"], "member-1"))
    assert repo.member_ids(group["id"]) == ["member-2"]
    assert uow.types() == ["WorkingGroupCreated", "WorkingGroupMemberAdded", "WorkingGroupMemberAdded",
                           "WorkingGroupMemberRemoved"]
    assert uow.events[-1]["data"]["member_id"] == "member-1" and uow.events[-1]["subject"] == str(group["id"])
    with pytest.raises(NotFound):
        use_cases.add_member(uow, AddMember(uuid.uuid4(), "member-1"))


def test_groups_are_listed_by_municipality_and_name(uow):
    create(uow, "AG Umwelt", field_of_action="umwelt")
    create(uow, "AG Energie")
    create(uow, "AG Bildung", municipality="grossenhain", field_of_action="bildung")

    def names(municipality=None):
        return [g["name"] for g in use_cases.list_groups(uow, ListGroups(municipality))]

    assert names("gera") == ["AG Energie", "AG Umwelt"]
    assert names() == ["AG Energie", "AG Umwelt", "AG Bildung"]
    with pytest.raises(InvalidInput):
        names("atlantis")
    with pytest.raises(NotFound):
        use_cases.get_group(uow, GetGroup(uuid.uuid4()))
