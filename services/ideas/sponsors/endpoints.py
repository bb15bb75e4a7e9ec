"""HTTP entrypoints of idea sponsorships, a mixin of IdeasService (uses `self.uow`)."""
from shared.web import AUTHENTICATED, api

from ..roles import STAFF
from . import use_cases
from .commands import AcceptSponsorship, ListSponsors, OfferSponsorship
from .schemas import NewSponsorship, SponsorshipOut

SPONSORS = ["sponsors"]


class SponsorEndpoints:
    @api("POST", "/api/v1/ideas/<uuid:idea_id>/sponsors", body=NewSponsorship, roles=AUTHENTICATED, status=201,
         response=SponsorshipOut, tags=SPONSORS, summary="Offer to sponsor a published idea or pilot (Ideenpate)")
    def offer_sponsorship(self, request, idea_id):
        return use_cases.offer_sponsorship(self.uow, OfferSponsorship(idea_id, request.principal, **request.data))

    @api("POST", "/api/v1/ideas/<uuid:idea_id>/sponsors/<uuid:sponsorship_id>/acceptance", roles=STAFF,
         response=SponsorshipOut, tags=SPONSORS, summary="Accept a sponsor (again: no change, no event)")
    def accept_sponsorship(self, request, idea_id, sponsorship_id):
        return use_cases.accept_sponsorship(self.uow, AcceptSponsorship(idea_id, sponsorship_id))

    @api("GET", "/api/v1/ideas/<uuid:idea_id>/sponsors", response=SponsorshipOut(many=True), tags=SPONSORS,
         summary="Accepted sponsors (by name only with consent); staff also see offers")
    def list_sponsors(self, request, idea_id):
        return use_cases.list_sponsors(self.uow, ListSponsors(idea_id, viewer=request.principal))
