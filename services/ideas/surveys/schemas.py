"""Request and response schemas of the survey endpoints."""
from marshmallow import ValidationError, fields, validate, validates_schema

from shared.validation import Slug, Strict, Text

MAX_CSV_CHARS = 60_000  # within the 64 KiB request body


class NewSurvey(Strict):
    municipality = Slug(required=True)
    title = Text(3, 200, required=True)
    conducted_by = Text(1, 200, load_default=None, allow_none=True,
                        metadata={"description": "who ran the survey, e.g. a university"})
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True, metadata={"description": "on or after period_start"})
    csv = fields.String(required=True, validate=validate.Length(min=1, max=MAX_CSV_CHARS), metadata={
        "description": "the results as CSV text: header row question,answer,count, then one line per answer"})

    @validates_schema
    def period_in_order(self, data, **kwargs):
        if data.get("period_start") and data.get("period_end") and data["period_end"] < data["period_start"]:
            raise ValidationError("must not lie before period_start", "period_end")


class SurveyQuery(Strict):
    municipality = Slug()


class ResultRow(Strict):
    question = fields.String()
    answer = fields.String()
    count = fields.Integer()


class AnswerShare(Strict):
    answer = fields.String()
    count = fields.Integer()
    share = fields.Float(metadata={"description": "count / the question's total (0 to 1)"})


class QuestionOut(Strict):
    question = fields.String()
    total = fields.Integer(metadata={"description": "answers counted for the question"})
    answers = fields.List(fields.Nested(AnswerShare))


class SurveyListed(Strict):
    id = fields.UUID()
    municipality = fields.String()
    title = fields.String()
    conducted_by = fields.String(allow_none=True)
    period_start = fields.Date()
    period_end = fields.Date()
    imported_at = fields.DateTime()


class SurveySummaryOut(SurveyListed):
    row_count = fields.Integer(metadata={"description": "result rows imported"})


class SurveyOut(SurveyListed):
    rows = fields.List(fields.Nested(ResultRow), metadata={"description": "as imported, in file order"})
    questions = fields.List(fields.Nested(QuestionOut), metadata={"description": "the rows by question"})
