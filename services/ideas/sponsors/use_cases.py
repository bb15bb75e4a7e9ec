"""Sponsorships: offer (anyone signed in), accept (staff, once), list on the idea."""
import uuid

from shared.errors import Conflict, NotFound, found

from .. import domain as ideas_domain
from . import domain
from .commands import AcceptSponsorship, ListSponsors, OfferSponsorship


def _visible_idea(repo, idea_id, viewer, lock=False):
    idea = repo.get_idea(idea_id, lock=lock)
    if idea is None or not ideas_domain.visible(idea["status"], idea["author_id"], viewer):
        raise NotFound("idea")  # hidden ideas look like missing ones
    return idea


def _event(idea, sponsorship):
    return {"idea_id": idea["id"], "municipality": idea["municipality"], "field_of_action": idea["field_of_action"],
            "sponsorship_id": sponsorship["id"], "sponsor_kind": sponsorship["kind"],
            "sponsor_id": sponsorship["sponsor_id"]}


def offer_sponsorship(uow, command: OfferSponsorship):
    now = uow.now()
    sponsorship = {"id": uuid.uuid4(), "idea_id": command.idea_id, "sponsor_id": command.sponsor.subject,
                   "kind": command.kind, "display_name": command.display_name, "show_name": command.show_name,
                   "status": domain.OFFERED, "offered_at": now, "accepted_at": None}
    with uow:
        idea = _visible_idea(uow.repo, command.idea_id, command.sponsor)
        domain.require_sponsorable(idea)
        if not uow.repo.add_sponsorship(sponsorship):
            raise Conflict("you have offered to sponsor this idea already", {"idea_id": ["already offered"]})
        uow.emit("SponsorOffered", {**_event(idea, sponsorship), "offered_at": now}, subject=str(idea["id"]))
    return sponsorship


def accept_sponsorship(uow, command: AcceptSponsorship):
    """Staff accept an offer; accepting it again changes nothing and emits nothing."""
    now = uow.now()
    with uow:
        idea = found(uow.repo.get_idea(command.idea_id), "idea")
        sponsorship = uow.repo.get_sponsorship(command.sponsorship_id, lock=True)
        if sponsorship is None or sponsorship["idea_id"] != idea["id"]:
            raise NotFound("sponsorship")
        if sponsorship["status"] == domain.ACCEPTED:
            return sponsorship
        sponsorship = uow.repo.accept_sponsorship(sponsorship["id"], now)
        uow.emit("SponsorAccepted", {**_event(idea, sponsorship), "public_name": domain.public_name(sponsorship),
                                     "accepted_at": now}, subject=str(idea["id"]))
    return sponsorship


def list_sponsors(uow, query: ListSponsors):
    """Accepted sponsors of a visible idea; staff and moderators also see open offers."""
    everything = ideas_domain.sees_everything(query.viewer)
    with uow:
        _visible_idea(uow.repo, query.idea_id, query.viewer)
        sponsorships = uow.repo.sponsorships(query.idea_id, accepted_only=not everything)
    return [domain.shown(s, query.viewer) for s in sponsorships]
