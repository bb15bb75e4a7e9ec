"""What the meeting use cases are asked to do: typed commands and queries, built by the endpoints."""
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class ScheduleMeeting:
    municipality: str
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    working_group_id: UUID | None = None  # None: municipality-wide
    place: str | None = None
    online_url: str | None = None
    capacity: int | None = None  # None: no cap


@dataclass(frozen=True)
class GetMeeting:
    meeting_id: UUID


@dataclass(frozen=True)
class ListMeetings:
    municipality: str | None = None
    working_group_id: UUID | None = None
    upcoming: bool = False  # only those not cancelled and not over yet
    limit: int = 100


@dataclass(frozen=True)
class Register:
    meeting_id: UUID
    attendee_id: str


@dataclass(frozen=True)
class Withdraw:
    meeting_id: UUID
    attendee_id: str


@dataclass(frozen=True)
class CancelMeeting:
    meeting_id: UUID
    reason: str


@dataclass(frozen=True)
class MunicipalityCalendar:
    municipality: str


@dataclass(frozen=True)
class WorkingGroupCalendar:
    working_group_id: UUID
