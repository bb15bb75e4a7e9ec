"""The vocabulary every service shares: idea statuses and their groups, milestone states, the
municipal calendar and the clock. Pure: no I/O.

The event contract (shared.events) validates against these names; services import them from
here and hand them to SQL as parameters, so no list is written twice.
"""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

SUBMITTED, PUBLISHED, REJECTED = "submitted", "published", "rejected"
SHORTLISTED, PILOT, IN_IMPLEMENTATION, COMPLETED = "shortlisted", "pilot", "in_implementation", "completed"
STATUSES = (SUBMITTED, PUBLISHED, REJECTED, SHORTLISTED, PILOT, IN_IMPLEMENTATION, COMPLETED)
# What the public sees (and rankings list): moderated in, whatever happened after.
PUBLIC_STATUSES = (PUBLISHED, SHORTLISTED, PILOT, IN_IMPLEMENTATION, COMPLETED)
# Citizens support ideas that are public and not yet decided as pilots.
VOTABLE_STATUSES = (PUBLISHED, SHORTLISTED)
PILOT_OR_LATER = (PILOT, IN_IMPLEMENTATION, COMPLETED)

SCHEDULED, REACHED, OVERDUE = "scheduled", "reached", "overdue"
MILESTONE_STATES = (SCHEDULED, REACHED, OVERDUE)

# Every municipality of the programme is in Germany: "today" and "on time" follow its calendar.
MUNICIPAL_TZ = ZoneInfo("Europe/Berlin")


def utc_now() -> datetime:
    """The clock. Use cases read it through their unit of work (`uow.now()`), so tests can fix it."""
    return datetime.now(timezone.utc)


def municipal_today(now: datetime) -> date:
    return now.astimezone(MUNICIPAL_TZ).date()


def milestone_state(reached_at, overdue_at):
    if reached_at is not None:
        return REACHED
    return OVERDUE if overdue_at is not None else SCHEDULED
