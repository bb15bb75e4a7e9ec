"""What the voting use cases are asked to do: typed, immutable requests.

The service class builds them from HTTP requests (path, body, query, token subject) and from
consumed events; use cases never see a request dict or an HTTP query name.
"""
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


# --- votable ideas and rankings -------------------------------------------------------------

@dataclass(frozen=True)
class TrackIdea:
    """An idea's status as one of the ideas service's events announced it (applied once per event)."""
    event_id: str
    event_type: str
    idea_id: UUID
    municipality: str
    field_of_action: str
    title: str | None
    status: str
    status_at: datetime
    published_at: datetime | None = None  # IdeaPublished's: the ranking's tie-break


@dataclass(frozen=True)
class ShowIdea:
    idea_id: UUID


@dataclass(frozen=True)
class Rankings:
    municipality: str
    field_of_action: str | None
    limit: int


@dataclass(frozen=True)
class ShowThreshold:
    municipality: str


@dataclass(frozen=True)
class SetThreshold:
    municipality: str
    threshold: int


# --- rounds ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenRound:
    municipality: str
    field_of_action: str | None  # None: every field of the municipality
    title: str
    opens_at: datetime
    closes_at: datetime
    budget: int


@dataclass(frozen=True)
class ListRounds:
    municipality: str
    open_only: bool = False


@dataclass(frozen=True)
class ShowRound:
    round_id: UUID


@dataclass(frozen=True)
class ShowBallot:
    round_id: UUID
    voter: str


# --- support votes --------------------------------------------------------------------------

@dataclass(frozen=True)
class CastVote:
    idea_id: UUID
    voter: str


@dataclass(frozen=True)
class WithdrawVote:
    idea_id: UUID
    voter: str


# --- strategy-board decisions ---------------------------------------------------------------

@dataclass(frozen=True)
class OpenDecision:
    idea_id: UUID
    board: tuple[str, ...]  # the members' token subjects
    quorum: int
    majority_rule: str
    deadline: datetime
    opened_by: str


@dataclass(frozen=True)
class ListDecisions:
    idea_id: UUID | None = None
    status: str | None = None


@dataclass(frozen=True)
class ShowDecision:
    decision_id: UUID


@dataclass(frozen=True)
class CastBoardVote:
    decision_id: UUID
    member: str
    choice: str


@dataclass(frozen=True)
class CloseDecision:
    decision_id: UUID
    closed_by: str
