"""HTTP entrypoints of working groups, a mixin of IdeasService (uses `self.uow`)."""
from shared.web import api

from ..roles import STAFF
from . import use_cases
from .commands import AddMember, CreateGroup, GetGroup, ListGroups, RemoveMember
from .schemas import GroupOut, GroupQuery, NewGroup, NewMember

GROUPS = ["working groups"]


class GroupEndpoints:
    @api("POST", "/api/v1/working-groups", body=NewGroup, roles=STAFF, status=201, response=GroupOut, tags=GROUPS,
         summary="Set up a working group or the expert group (409: the name exists in the municipality)")
    def create_group(self, request):
        return use_cases.create_group(self.uow, CreateGroup(**request.data))

    @api("GET", "/api/v1/working-groups", query=GroupQuery, response=GroupOut(many=True), tags=GROUPS)
    def list_groups(self, request):
        return use_cases.list_groups(self.uow, ListGroups(viewer=request.principal, **request.query_data))

    @api("GET", "/api/v1/working-groups/<uuid:group_id>", response=GroupOut, tags=GROUPS)
    def get_group(self, request, group_id):
        return use_cases.get_group(self.uow, GetGroup(group_id, viewer=request.principal))

    @api("POST", "/api/v1/working-groups/<uuid:group_id>/members", body=NewMember, roles=STAFF, status=201,
         response=GroupOut, tags=GROUPS, summary="Add a member by token subject (409: already a member)")
    def add_group_member(self, request, group_id):
        return use_cases.add_member(self.uow, AddMember(group_id, request.data["member_id"], viewer=request.principal))

    @api("DELETE", "/api/v1/working-groups/<uuid:group_id>/members/<member_id>", roles=STAFF, tags=GROUPS,
         summary="Remove a member (404: not a member)")
    def remove_group_member(self, request, group_id, member_id):
        use_cases.remove_member(self.uow, RemoveMember(group_id, member_id))
        return 204, None
