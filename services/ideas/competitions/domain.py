"""Competition rules: when it takes entries, its state, who judges. Pure: no I/O."""
from shared.errors import Conflict

from ..roles import STAFF

UPCOMING, OPEN, CLOSED = "upcoming", "open", "closed"


def state(competition, now):
    if competition["closed_at"] is not None or now >= competition["closes_at"]:
        return CLOSED
    return OPEN if now >= competition["opens_at"] else UPCOMING


def require_open(competition, now):
    """An entry needs an open competition: its window has begun, not ended, and staff did not close it early."""
    current = state(competition, now)
    if current != OPEN:
        what = "not open yet" if current == UPCOMING else "closed"
        raise Conflict(f"the competition is {what}", {"competition_id": [f"the competition is {what}"]})


def judges(competition, principal):
    """The jury (by token subject) and staff judge a competition's entries and see them."""
    if principal is None:
        return False
    return principal.has_any(STAFF) or principal.subject in competition["jury"]
