"""What the competition use cases are asked to do."""
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.auth import Principal


@dataclass(frozen=True)
class OpenCompetition:
    municipality: str
    field_of_action: str
    theme: str
    opens_at: datetime
    closes_at: datetime
    jury: tuple  # token subjects


@dataclass(frozen=True)
class ListCompetitions:
    municipality: str | None = None  # None: every municipality's


@dataclass(frozen=True)
class GetCompetition:
    competition_id: UUID
    viewer: Principal | None = None


@dataclass(frozen=True)
class CloseCompetition:
    competition_id: UUID


@dataclass(frozen=True)
class ShortlistEntry:
    competition_id: UUID
    idea_id: UUID
    judge: Principal
