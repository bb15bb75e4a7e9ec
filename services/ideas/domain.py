"""The ideas domain: the status workflow, who sees what, milestone rules. Pure: no I/O.

The statuses and their groups are the shared vocabulary (shared.domain); what is decided here
is which step from one to another is allowed, and for whom.
"""
from datetime import date, datetime

from shared.domain import (COMPLETED, IN_IMPLEMENTATION, PILOT, PILOT_OR_LATER, PUBLIC_STATUSES, PUBLISHED,
                           REJECTED, SHORTLISTED, SUBMITTED, municipal_today)
from shared.errors import Conflict, InvalidInput

# Moderators decide on submitted ideas (see `moderate`); everything after that is the staff's workflow,
# except the step to pilot: only the strategy board makes a pilot (PilotApproved, `after_board_decision`).
WORKFLOW = {
    PUBLISHED: {SHORTLISTED},
    SHORTLISTED: {PUBLISHED},  # back to published: taken off the shortlist
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
    if target == PILOT:
        raise Conflict("only the strategy board makes an idea a pilot (a board decision in the voting service)",
                       {"status": ["a pilot comes only from a board decision"]})
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


# --- submission: where, through which channel, with what profile ---------------------------

def require_within(bounds, location):
    """A location must lie in the municipality's bounding box ({min_lat, max_lat, min_lon, max_lon})."""
    if location is None:
        return
    if not (bounds["min_lat"] <= location["lat"] <= bounds["max_lat"]
            and bounds["min_lon"] <= location["lon"] <= bounds["max_lon"]):
        raise InvalidInput("location outside the municipality", {"location": [
            f"must lie within lat {bounds['min_lat']}–{bounds['max_lat']},"
            f" lon {bounds['min_lon']}–{bounds['max_lon']}"]})


def channel_of(channel, competition_id, has_profile):
    """The channel an idea came through: a competition entry is `competition`, an idea with a profile
    (and no competition) `profile`; a channel given that contradicts this is refused; default `form`.

    The two structured channels need their structure: `competition` names the competition,
    `profile` carries the profile (they were only labels before).
    """
    implied = "competition" if competition_id is not None else "profile" if has_profile else None
    if implied is not None:
        if channel not in (None, implied):
            what = "entered into a competition" if competition_id is not None else "with a profile"
            raise InvalidInput("channel contradicts the submission",
                               {"channel": [f"an idea {what} comes through the channel {implied!r}"]})
        return implied
    if channel == "competition":
        raise InvalidInput("a competition entry names its competition",
                           {"competition_id": ["required for the channel 'competition'"]})
    if channel == "profile":
        raise InvalidInput("an idea of the channel 'profile' has a profile",
                           {"profile": ["required for the channel 'profile'"]})
    return channel or "form"


def public_profile(profile):
    """The part of a profile the public (and the event stream) sees: everything but the contact consent."""
    if profile is None:
        return None
    return {key: value for key, value in profile.items() if key != "contact_consent"}


def profile_for(profile, author_id, principal):
    """The profile as `principal` may see it: moderators, staff and the author see the contact consent."""
    if sees_everything(principal) or (principal is not None and principal.subject == author_id):
        return profile
    return public_profile(profile)

