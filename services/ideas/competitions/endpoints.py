"""HTTP entrypoints and the closing timer of competitions, a mixin of IdeasService (uses `self.uow`)."""
from shared.timer import every
from shared.web import AUTHENTICATED, api

from ..roles import STAFF
from . import use_cases
from .commands import CloseCompetition, GetCompetition, ListCompetitions, OpenCompetition, ShortlistEntry
from .schemas import CompetitionOut, CompetitionQuery, NewCompetition, Shortlisting

COMPETITIONS = ["competitions"]


class CompetitionEndpoints:
    @api("POST", "/api/v1/competitions", body=NewCompetition, roles=STAFF, status=201, response=CompetitionOut,
         tags=COMPETITIONS, summary="Open an idea competition with its window and jury")
    def open_competition(self, request):
        data = request.data
        return use_cases.open_competition(self.uow, OpenCompetition(**{**data, "jury": tuple(data["jury"])}))

    @api("GET", "/api/v1/competitions", query=CompetitionQuery, response=CompetitionOut(many=True), tags=COMPETITIONS)
    def list_competitions(self, request):
        return use_cases.list_competitions(self.uow, ListCompetitions(**request.query_data))

    @api("GET", "/api/v1/competitions/<uuid:competition_id>", response=CompetitionOut, tags=COMPETITIONS,
         summary="A competition; its entries for the jury and staff")
    def get_competition(self, request, competition_id):
        return use_cases.get_competition(self.uow, GetCompetition(competition_id, viewer=request.principal))

    @api("POST", "/api/v1/competitions/<uuid:competition_id>/closing", roles=STAFF, response=CompetitionOut,
         tags=COMPETITIONS, summary="Close now (again: no change, no event); a timer closes at closes_at")
    def close_competition(self, request, competition_id):
        return use_cases.close_competition(self.uow, CloseCompetition(competition_id))

    @api("POST", "/api/v1/competitions/<uuid:competition_id>/shortlist", body=Shortlisting, roles=AUTHENTICATED,
         response=CompetitionOut, tags=COMPETITIONS,
         summary="Shortlist an entry: a juror's token or staff (again: no change, no event)")
    def shortlist_entry(self, request, competition_id):
        return use_cases.shortlist_entry(self.uow, ShortlistEntry(competition_id, request.data["idea_id"],
                                                                  judge=request.principal))

    @every("COMPETITION_CHECK_SECONDS", 60, eager=True)
    def close_due_competitions(self):
        use_cases.close_due_competitions(self.uow)
