"""What the feedback use cases are asked to do: typed commands and queries, built by the endpoints."""
from dataclasses import dataclass
from uuid import UUID

from shared.auth import Principal


@dataclass(frozen=True)
class PostComment:
    author_id: str
    target_kind: str  # idea | sub_concept | strategy
    target_id: UUID
    text: str
    parent_id: UUID | None = None


@dataclass(frozen=True)
class ListComments:
    """Either a target's comments (target_kind and target_id), or a moderation queue (municipality and
    status, for moderators)."""

    target_kind: str | None = None
    target_id: UUID | None = None
    municipality: str | None = None
    status: str | None = None
    viewer: Principal | None = None


@dataclass(frozen=True)
class ModerateComment:
    comment_id: UUID
    publish: bool
    reason: str | None = None  # required to hide (the request schema checks it)


@dataclass(frozen=True)
class ReportComment:
    comment_id: UUID
    reporter_id: str
    reason: str


@dataclass(frozen=True)
class SetCommentModeration:
    municipality: str
    mode: str  # pre | post


@dataclass(frozen=True)
class GetCommentModeration:
    municipality: str
