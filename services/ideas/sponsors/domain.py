"""Sponsorship rules. Pure: no I/O."""
from shared.domain import PUBLIC_STATUSES
from shared.errors import Conflict

from ..domain import sees_everything

OFFERED, ACCEPTED = "offered", "accepted"


def require_sponsorable(idea):
    """Sponsors accompany public ideas and pilots (a submitted or rejected idea has nothing to accompany)."""
    if idea["status"] not in PUBLIC_STATUSES:
        raise Conflict(f"idea is {idea['status']}; only published ideas and pilots have sponsors",
                       {"idea_id": ["idea is not published"]})


def public_name(sponsorship):
    """The name the public sees: the display name with the sponsor's consent, otherwise none."""
    return sponsorship["display_name"] if sponsorship["show_name"] else None


def shown(sponsorship, principal):
    """A sponsorship as `principal` sees it: staff and moderators everything (to decide on offers),
    others the kind and the public name."""
    if sees_everything(principal):
        return sponsorship
    return {"id": sponsorship["id"], "kind": sponsorship["kind"], "display_name": public_name(sponsorship),
            "status": sponsorship["status"], "accepted_at": sponsorship["accepted_at"]}
