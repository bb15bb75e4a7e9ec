"""The ideas domain: the status workflow, who sees what, milestone rules. Pure: no I/O."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.errors import Conflict
from shared.events import STATUSES

MUNICIPAL_TZ = ZoneInfo("Europe/Berlin")

SUBMITTED, PUBLISHED, REJECTED = "submitted", "published", "rejected"
SHORTLISTED, PILOT, IN_IMPLEMENTATION, COMPLETED = "shortlisted", "pilot", "in_implementation", "completed"

# Moderators decide on submitted ideas; everything after that is the staff's workflow.
MODERATION = {SUBMITTED: {PUBLISHED, REJECTED}}
WORKFLOW = {
    PUBLISHED: {SHORTLISTED},
    SHORTLISTED: {PILOT, PUBLISHED},  # back to published: taken off the shortlist
    PILOT: {IN_IMPLEMENTATION},
    IN_IMPLEMENTATION: {COMPLETED},
}
assert set(STATUSES) == {SUBMITTED, PUBLISHED, REJECTED, SHORTLISTED, PILOT, IN_IMPLEMENTATION, COMPLETED}
PUBLIC = frozenset({PUBLISHED, SHORTLISTED, PILOT, IN_IMPLEMENTATION, COMPLETED})
PILOT_OR_LATER = frozenset({PILOT, IN_IMPLEMENTATION, COMPLETED})

SEE_ALL_ROLES = frozenset({"moderator", "staff", "admin"})


class InvalidTransition(Conflict):
    def __init__(self, current, target):
        allowed = sorted(WORKFLOW.get(current, ()))
        super().__init__(
            f"cannot change status from {current} to {target}",
            {"status": [f"allowed from {current}: {', '.join(allowed) or 'none'}"]},
        )
        self.current = current
        self.target = target


def moderate(current, publish):
    """The status after a moderator's decision; only submitted ideas are moderated."""
    if current != SUBMITTED:
        raise Conflict(f"idea is already {current}; only submitted ideas are moderated",
                       {"decision": ["idea is not awaiting moderation"]})
    return PUBLISHED if publish else REJECTED


def staff_transition(current, target):
    if target not in WORKFLOW.get(current, ()):
        raise InvalidTransition(current, target)
    return target


def after_board_decision(current, approved):
    """The status the board's decision leads to, or None when the idea already reflects it.

    Approved: shortlisted -> pilot. Rejected: shortlisted -> published (back in the pool).
    """
    if approved:
        if current in PILOT_OR_LATER:
            return None
        if current == SHORTLISTED:
            return PILOT
    else:
        if current == PUBLISHED:
            return None
        if current == SHORTLISTED:
            return PUBLISHED
    raise InvalidTransition(current, PILOT if approved else PUBLISHED)


def sees_everything(principal):
    return principal is not None and principal.has_any(SEE_ALL_ROLES)


def visible(status, author_id, principal):
    """The public sees published ideas; authors their own; moderators and staff everything."""
    if status in PUBLIC or sees_everything(principal):
        return True
    return principal is not None and principal.subject == author_id


def municipal_today(now: datetime) -> date:
    return now.astimezone(MUNICIPAL_TZ).date()


def reached_on_time(due_date: date, reached_at: datetime) -> bool:
    return municipal_today(reached_at) <= due_date


def milestone_state(reached_at, overdue_at):
    if reached_at is not None:
        return "reached"
    return "overdue" if overdue_at is not None else "scheduled"


def may_have_milestones(status):
    return status in PILOT_OR_LATER
