"""The ideas domain: the status workflow, who sees what, milestone rules. Pure: no I/O.

The statuses and their groups are the shared vocabulary (shared.domain); what is decided here
is which step from one to another is allowed, and for whom.
"""
from datetime import date, datetime

from shared.domain import (COMPLETED, IN_IMPLEMENTATION, PILOT, PILOT_OR_LATER, PUBLIC_STATUSES, PUBLISHED,
                           REJECTED, SHORTLISTED, SUBMITTED, municipal_today)
from shared.errors import Conflict

# Moderators decide on submitted ideas (see `moderate`); everything after that is the staff's workflow.
WORKFLOW = {
    PUBLISHED: {SHORTLISTED},
    SHORTLISTED: {PILOT, PUBLISHED},  # back to published: taken off the shortlist
    PILOT: {IN_IMPLEMENTATION},
    IN_IMPLEMENTATION: {COMPLETED},
}

SEE_ALL_ROLES = frozenset({"moderator", "staff", "admin"})


class InvalidTransition(Conflict):
    """A workflow step the idea's current status does not allow; `fields` lists the allowed ones."""

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
    if status in PUBLIC_STATUSES or sees_everything(principal):
        return True
    return principal is not None and principal.subject == author_id


def reached_on_time(due_date: date, reached_at: datetime) -> bool:
    return municipal_today(reached_at) <= due_date


def may_have_milestones(status):
    return status in PILOT_OR_LATER
