"""What the ideas use cases are asked to do: typed commands and queries, built by the service class.

They carry domain names only (`field_of_action`, `text`), never HTTP ones (`field`, `q`); a
`viewer` is the caller's Principal (None: the public), because what it may see depends on it.
"""
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from shared.auth import Principal


# --- reference data ---------------------------------------------------------------------

@dataclass(frozen=True)
class ListFields:
    municipality: str


@dataclass(frozen=True)
class ListTopicStores:
    municipality: str
    viewer: Principal | None = None


# --- ideas ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SubmitIdea:
    author_id: str
    municipality: str
    field_of_action: str
    title: str
    description: str
    channel: str | None = None  # None: implied by competition_id / profile, else "form"
    working_group: str | None = None  # a group's name (case-insensitive), the older way to name it
    working_group_id: UUID | None = None
    location: dict | None = None  # {"lat", "lon"}
    competition_id: UUID | None = None
    profile: dict | None = None  # {goal, target_group, partners, effort_months, cost_class, contact_consent}


@dataclass(frozen=True)
class GetIdea:
    idea_id: UUID
    viewer: Principal | None = None


@dataclass(frozen=True)
class SearchIdeas:
    municipality: str | None = None
    field_of_action: str | None = None
    status: str | None = None
    working_group: str | None = None
    working_group_id: UUID | None = None
    text: str | None = None  # full-text search in title and description
    page: int = 1
    page_size: int = 20
    viewer: Principal | None = None


@dataclass(frozen=True)
class ModerateIdea:
    idea_id: UUID
    publish: bool
    reason: str | None = None  # required to reject (the request schema checks it)


@dataclass(frozen=True)
class ChangeStatus:
    idea_id: UUID
    status: str
    reason: str | None = None


@dataclass(frozen=True)
class FollowBoardDecision:
    """PilotApproved (approved) or PilotRejected from the voting service; the event id is the inbox key."""

    event_id: str
    event_type: str
    idea_id: UUID
    decision_id: UUID
    approved: bool
    reason: str | None = None  # why the board rejected it


# --- milestones -------------------------------------------------------------------------

@dataclass(frozen=True)
class ScheduleMilestone:
    municipality: str
    title: str
    due_date: date
    description: str | None = None
    idea_id: UUID | None = None  # the pilot; None: strategy-wide
    step: str | None = None  # a step of the strategy process (shared.domain.STRATEGY_STEPS) that reaches it


@dataclass(frozen=True)
class GetMilestone:
    milestone_id: UUID


@dataclass(frozen=True)
class ListMilestones:
    municipality: str | None = None
    idea_id: UUID | None = None


@dataclass(frozen=True)
class ReachMilestone:
    milestone_id: UUID
    reached_at: datetime | None = None  # None: now
