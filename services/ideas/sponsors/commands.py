"""What the sponsorship use cases are asked to do."""
from dataclasses import dataclass
from uuid import UUID

from shared.auth import Principal


@dataclass(frozen=True)
class OfferSponsorship:
    idea_id: UUID
    sponsor: Principal
    kind: str
    display_name: str
    show_name: bool


@dataclass(frozen=True)
class AcceptSponsorship:
    idea_id: UUID
    sponsorship_id: UUID


@dataclass(frozen=True)
class ListSponsors:
    idea_id: UUID
    viewer: Principal | None = None
