"""The questions the reporting read side answers, as typed commands (built by service.py from HTTP queries).

`None` means "no filter". The write side needs no command of its own: it records consumed
event envelopes, which the contract (shared.events) already types and validates.
"""
from dataclasses import dataclass
from datetime import date
from uuid import UUID


@dataclass(frozen=True)
class Place:
    """One municipality, or all of them: the summary, the field table and the dashboard."""

    municipality: str | None = None


@dataclass(frozen=True)
class Meetings:
    municipality: str | None = None
    working_group_id: UUID | None = None
    upcoming: bool = False  # only meetings not over yet


@dataclass(frozen=True)
class Pilots:
    municipality: str | None = None
    stage: str | None = None


@dataclass(frozen=True)
class Milestones:
    municipality: str | None = None
    state: str | None = None
    idea_id: UUID | None = None


@dataclass(frozen=True)
class Rankings:
    municipality: str | None = None
    field_of_action: str | None = None
    round_id: UUID | None = None
    limit: int = 20


@dataclass(frozen=True)
class Timeseries:
    """Events of `event_type` per `interval` from `first_day` to `last_day` (municipal calendar, inclusive)."""

    event_type: str = "IdeaSubmitted"
    interval: str = "day"
    first_day: date | None = None  # default: last_day minus 29 days
    last_day: date | None = None  # default: today
    municipality: str | None = None
    field_of_action: str | None = None
    channel: str | None = None
    status: str | None = None
    group_by: str | None = None


@dataclass(frozen=True)
class Export:
    dataset: str
    municipality: str | None = None


@dataclass(frozen=True)
class IdeaPage:
    idea_id: UUID
