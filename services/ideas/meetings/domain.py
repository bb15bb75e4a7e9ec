"""Meeting rules: when a meeting can be scheduled, registered for, withdrawn from and cancelled. Pure: no I/O.

A refusal names the field a caller can act on: `starts_at` for a time that has passed, `capacity`
for a full meeting, `meeting_id` for a meeting that is cancelled, started or over.
"""
from datetime import timedelta

from shared.errors import Conflict, InvalidInput

SCHEDULED, CANCELLED = "scheduled", "cancelled"
MAX_DURATION = timedelta(hours=24)  # an evening or a day of workshops; longer is a typo in the date


def check_times(starts_at, ends_at, now):
    """A new meeting starts in the future and ends after it starts, within MAX_DURATION."""
    problems = {}
    if starts_at <= now:
        problems["starts_at"] = ["must lie in the future"]
    if ends_at <= starts_at:
        problems["ends_at"] = ["must lie after starts_at"]
    elif ends_at - starts_at > MAX_DURATION:
        problems["ends_at"] = [f"a meeting lasts at most {MAX_DURATION.total_seconds() / 3600:.0f} hours"]
    if problems:
        raise InvalidInput("invalid meeting times", problems)


def status(meeting):
    return CANCELLED if meeting["cancelled_at"] is not None else SCHEDULED


def _still_open(meeting, now, action):
    if meeting["cancelled_at"] is not None:
        raise Conflict(f"the meeting is cancelled; cannot {action}", {"meeting_id": ["meeting is cancelled"]})
    if meeting["starts_at"] <= now:
        raise Conflict(f"the meeting has already begun; cannot {action}", {"meeting_id": ["meeting has begun"]})


def check_registration(meeting, now):
    """Registration is open until the meeting begins, while places are left."""
    _still_open(meeting, now, "register")
    capacity = meeting["capacity"]
    if capacity is not None and meeting["registered"] >= capacity:
        raise Conflict("the meeting is full", {"capacity": [f"all {capacity} places are taken"]})


def check_withdrawal(meeting, now):
    """Withdrawing frees a place, which only matters before the meeting begins."""
    _still_open(meeting, now, "withdraw")


def check_cancellation(meeting, now):
    """A meeting can be cancelled until it ends (cancelling it again is no change: see the use case)."""
    if meeting["ends_at"] <= now:
        raise Conflict("the meeting is over; cannot cancel it", {"meeting_id": ["meeting is over"]})
