"""Working groups: create, list, show, members in and out, each with its event."""
import uuid

from shared.domain import PUBLIC_STATUSES, STATUSES
from shared.errors import Conflict, NotFound, found

from .. import domain as ideas_domain
from ..reference import require_field, require_municipality
from . import domain
from .commands import AddMember, CreateGroup, GetGroup, ListGroups, RemoveMember


def _ref(group):
    return {"working_group_id": group["id"], "municipality": group["municipality"]}


def visible_statuses(viewer):
    """The idea statuses a topic store counts for this viewer (as the idea search shows them)."""
    return STATUSES if ideas_domain.sees_everything(viewer) else PUBLIC_STATUSES


def create_group(uow, command: CreateGroup):
    now = uow.now()
    group = {"id": uuid.uuid4(), "municipality": command.municipality, "name": command.name, "kind": command.kind,
             "field_of_action": command.field_of_action, "created_at": now}
    with uow:
        if command.field_of_action is None:
            require_municipality(uow.repo, command.municipality)
        else:
            require_field(uow.repo, command.municipality, command.field_of_action)
        if not uow.repo.add_group(group):
            raise Conflict(f"{command.municipality} already has a group named {command.name!r}",
                           {"name": ["a group of this name exists (names are compared case-insensitively)"]})
        uow.emit("WorkingGroupCreated", {
            **_ref(group), "group_name": group["name"], "kind": group["kind"],
            "field_of_action": group["field_of_action"], "created_at": now,
        }, subject=str(group["id"]))
    return {**group, "members": 0, "ideas": 0, "member_ids": []}


def list_groups(uow, query: ListGroups):
    with uow:
        if query.municipality is not None:
            require_municipality(uow.repo, query.municipality)
        return uow.repo.groups(query.municipality, visible_statuses(query.viewer))


def get_group(uow, query: GetGroup):
    with uow:
        group = found(uow.repo.get_group(query.group_id, visible_statuses(query.viewer)), "working group")
        return domain.shown(group, uow.repo.member_ids(query.group_id), query.viewer)


def add_member(uow, command: AddMember):
    now = uow.now()
    with uow:
        group = found(uow.repo.get_group(command.group_id, STATUSES), "working group")
        if not uow.repo.add_member(command.group_id, command.member_id, now):
            raise Conflict("already a member", {"member_id": ["is already a member of this group"]})
        uow.emit("WorkingGroupMemberAdded", {**_ref(group), "member_id": command.member_id, "added_at": now},
                 subject=str(group["id"]))
        group = uow.repo.get_group(command.group_id, visible_statuses(command.viewer))
        return domain.shown(group, uow.repo.member_ids(command.group_id), command.viewer)


def remove_member(uow, command: RemoveMember):
    now = uow.now()
    with uow:
        group = found(uow.repo.get_group(command.group_id, STATUSES), "working group")
        if not uow.repo.remove_member(command.group_id, command.member_id):
            raise NotFound("member")
        uow.emit("WorkingGroupMemberRemoved", {**_ref(group), "member_id": command.member_id, "removed_at": now},
                 subject=str(group["id"]))
