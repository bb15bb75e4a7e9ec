"""What the strategy use cases are asked to do: typed commands and queries, built by the endpoints.

An `actor` is the caller's Principal where the rule depends on who it is (staff, or a member of the
working group).
"""
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from shared.auth import Principal


# --- sub-concepts -----------------------------------------------------------------------

@dataclass(frozen=True)
class DraftSubConcept:
    actor: Principal
    working_group_id: UUID
    title: str
    summary: str | None = None
    field_of_action: str | None = None


@dataclass(frozen=True)
class ListSubConcepts:
    municipality: str


@dataclass(frozen=True)
class GetSubConcept:
    sub_concept_id: UUID


@dataclass(frozen=True)
class IntegrateIdea:
    actor: Principal
    sub_concept_id: UUID
    idea_id: UUID


@dataclass(frozen=True)
class SubmitSubConcept:
    actor: Principal
    sub_concept_id: UUID


# --- the strategy -----------------------------------------------------------------------

@dataclass(frozen=True)
class CreateStrategy:
    municipality: str
    title: str


@dataclass(frozen=True)
class ListStrategies:
    municipality: str


@dataclass(frozen=True)
class GetStrategy:
    strategy_id: UUID


@dataclass(frozen=True)
class PublishDraft:
    strategy_id: UUID
    sub_concept_ids: tuple  # of UUID, in the order the draft links them
    summary: str
    feedback_until: datetime


@dataclass(frozen=True)
class CloseFeedback:
    strategy_id: UUID


@dataclass(frozen=True)
class RecordCouncilDecision:
    strategy_id: UUID
    outcome: str  # adopted | returned
    council_date: date
    reason: str | None = None  # required when returned (the request schema checks it)
