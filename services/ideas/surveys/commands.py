"""What the survey use cases are asked to do."""
from dataclasses import dataclass
from datetime import date
from uuid import UUID


@dataclass(frozen=True)
class ImportSurvey:
    municipality: str
    title: str
    period_start: date
    period_end: date
    csv: str  # question,answer,count with a header row
    conducted_by: str | None = None


@dataclass(frozen=True)
class GetSurvey:
    survey_id: UUID


@dataclass(frozen=True)
class ListSurveys:
    municipality: str | None = None
