"""HTTP entrypoints of the survey results (a mixin of services/ideas/service.IdeasService)."""
from shared.web import api

from . import use_cases
from .commands import GetSurvey, ImportSurvey, ListSurveys
from .schemas import NewSurvey, SurveyOut, SurveyQuery, SurveySummaryOut

STAFF = ("staff",)
SURVEYS = ["surveys"]


class SurveyEndpoints:
    @api("POST", "/api/v1/surveys", body=NewSurvey, roles=STAFF, status=201, response=SurveyOut, tags=SURVEYS,
         summary="Import a survey's aggregate results (CSV question,answer,count); a bad line: 422, nothing stored")
    def import_survey(self, request):
        return use_cases.import_survey(self.uow, ImportSurvey(**request.data))

    @api("GET", "/api/v1/surveys", query=SurveyQuery, response=SurveySummaryOut(many=True), tags=SURVEYS,
         summary="Imported surveys, latest period first")
    def list_surveys(self, request):
        return use_cases.list_surveys(self.uow, ListSurveys(**request.query_data))

    @api("GET", "/api/v1/surveys/<uuid:survey_id>", response=SurveyOut, tags=SURVEYS,
         summary="A survey with its results, as imported and by question")
    def get_survey(self, request, survey_id):
        return use_cases.get_survey(self.uow, GetSurvey(survey_id))
