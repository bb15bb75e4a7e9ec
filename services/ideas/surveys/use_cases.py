"""Survey use cases: import a survey's aggregate results (with SurveyResultsImported), list and show them."""
import uuid

from shared.errors import InvalidInput, found

from . import domain
from .commands import GetSurvey, ImportSurvey, ListSurveys


def import_survey(uow, command: ImportSurvey):
    """Store the survey and every row, or nothing: a bad line refuses the whole file."""
    rows = domain.parse_results(command.csv)
    now = uow.now()
    survey = {"id": uuid.uuid4(), "municipality": command.municipality, "title": command.title,
              "conducted_by": command.conducted_by, "period_start": command.period_start,
              "period_end": command.period_end, "imported_at": now}
    with uow:
        if not uow.repo.municipality_exists(command.municipality):
            raise InvalidInput("unknown municipality", {"municipality": ["unknown municipality"]})
        uow.repo.add_survey(survey, rows)
        uow.emit("SurveyResultsImported", {
            "survey_id": survey["id"], "municipality": survey["municipality"], "title": survey["title"],
            "conducted_by": survey["conducted_by"], "period_start": survey["period_start"],
            "period_end": survey["period_end"], "rows": rows, "imported_at": now,
        }, subject=str(survey["id"]))
    return _with_questions({**survey, "rows": rows})


def _with_questions(survey):
    return {**survey, "questions": domain.by_question(survey["rows"])}


def get_survey(uow, query: GetSurvey):
    with uow:
        survey = found(uow.repo.get_survey(query.survey_id), "survey")
    return _with_questions(survey)


def list_surveys(uow, query: ListSurveys):
    with uow:
        return uow.repo.list_surveys(query.municipality)
