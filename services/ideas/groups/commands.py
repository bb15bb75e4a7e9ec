"""What the working-group use cases are asked to do."""
from dataclasses import dataclass
from uuid import UUID

from shared.auth import Principal


@dataclass(frozen=True)
class CreateGroup:
    municipality: str
    name: str
    kind: str
    field_of_action: str | None = None


@dataclass(frozen=True)
class ListGroups:
    municipality: str | None = None  # None: every municipality's
    viewer: Principal | None = None


@dataclass(frozen=True)
class GetGroup:
    group_id: UUID
    viewer: Principal | None = None


@dataclass(frozen=True)
class AddMember:
    group_id: UUID
    member_id: str
    viewer: Principal | None = None


@dataclass(frozen=True)
class RemoveMember:
    group_id: UUID
    member_id: str
