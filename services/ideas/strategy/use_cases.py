"""Use cases of sub-concepts and the strategy draft: `use_case(uow, command) -> result`.

Each runs in one transaction with the events it emits; a milestone tied to a step is reached in
the step's own transaction (services.ideas.use_cases.reach_step), so the step's event and its
MilestoneReached commit together or not at all.
"""
import uuid

from shared.domain import STRATEGY_ADOPTED, SUB_CONCEPTS_SUBMITTED
from shared.errors import Conflict, InvalidInput, NotFound, found

from .. import use_cases as ideas
from ..reference import require_field, require_municipality
from . import domain
from .commands import (CloseFeedback, CreateStrategy, DraftSubConcept, GetStrategy, GetSubConcept, IntegrateIdea,
                       ListStrategies, ListSubConcepts, PublishDraft, RecordCouncilDecision, SubmitSubConcept)


def _sub_concept_ref(sub_concept):
    return {"sub_concept_id": sub_concept["id"], "municipality": sub_concept["municipality"],
            "working_group_id": sub_concept["working_group_id"]}


def _acting_for_group(repo, actor, working_group_id):
    domain.require_group_role(actor, repo.is_member(working_group_id, actor.subject))


def _sub_concept_view(repo, sub_concept):
    """The sub-concept with its integrated ideas (all public: only public ideas are integrated)."""
    integrated = repo.sub_concept_ideas(sub_concept["id"])
    return {**sub_concept, "ideas": integrated, "idea_count": len(integrated)}


# --- sub-concepts -----------------------------------------------------------------------

def draft_sub_concept(uow, command: DraftSubConcept):
    now = uow.now()
    with uow:
        group = uow.repo.working_group(command.working_group_id)
        if group is None:
            raise InvalidInput("unknown working group", {"working_group_id": ["no working group of this id"]})
        _acting_for_group(uow.repo, command.actor, group["id"])
        if command.field_of_action is not None:
            require_field(uow.repo, group["municipality"], command.field_of_action)
        sub_concept = {"id": uuid.uuid4(), "municipality": group["municipality"], "working_group_id": group["id"],
                       "title": command.title, "summary": command.summary,
                       "field_of_action": command.field_of_action, "created_at": now, "submitted_at": None}
        uow.repo.add_sub_concept(sub_concept)
        uow.emit("SubConceptDrafted", {**_sub_concept_ref(sub_concept), "title": sub_concept["title"],
                                       "field_of_action": sub_concept["field_of_action"], "drafted_at": now},
                 subject=str(sub_concept["id"]))
    return {**sub_concept, "ideas": [], "idea_count": 0}


def list_sub_concepts(uow, query: ListSubConcepts):
    with uow:
        if not uow.repo.municipality_exists(query.municipality):
            raise NotFound(f"municipality {query.municipality!r}")
        return uow.repo.list_sub_concepts(query.municipality)


def get_sub_concept(uow, query: GetSubConcept):
    with uow:
        return _sub_concept_view(uow.repo, found(uow.repo.get_sub_concept(query.sub_concept_id), "sub-concept"))


def integrate_idea(uow, command: IntegrateIdea):
    """Merge a public idea into a draft sub-concept (IdeaIntegrated); its status, history and votes stay.
    Again into the same one: no change, no event."""
    now = uow.now()
    with uow:
        # the sub-concept's row lock orders integrations before or after its submission
        sub_concept = found(uow.repo.get_sub_concept(command.sub_concept_id, lock=True), "sub-concept")
        _acting_for_group(uow.repo, command.actor, sub_concept["working_group_id"])
        idea = uow.repo.get_idea(command.idea_id, lock=True)
        if domain.integration_needed(sub_concept, idea):
            uow.repo.integrate_idea(idea["id"], sub_concept["id"], now)
            uow.emit("IdeaIntegrated", {
                "idea_id": idea["id"], "municipality": idea["municipality"],
                "field_of_action": idea["field_of_action"], "sub_concept_id": sub_concept["id"],
                "working_group_id": sub_concept["working_group_id"], "integrated_at": now,
            }, subject=str(idea["id"]))
        return _sub_concept_view(uow.repo, sub_concept)


def submit_sub_concept(uow, command: SubmitSubConcept):
    """The working group hands in its sub-concept (SubConceptSubmitted; again: no change, no event).
    When it is the municipality's last draft, milestones tied to sub_concepts_submitted are reached."""
    now = uow.now()
    with uow:
        sub_concept = found(uow.repo.get_sub_concept(command.sub_concept_id, lock=True), "sub-concept")
        _acting_for_group(uow.repo, command.actor, sub_concept["working_group_id"])
        if sub_concept["submitted_at"] is None:
            # two groups submitting their last drafts at once: one of them sees both submitted
            uow.repo.lock_sub_concepts_of(sub_concept["municipality"])
            sub_concept = uow.repo.mark_sub_concept_submitted(sub_concept["id"], now)
            view = _sub_concept_view(uow.repo, sub_concept)
            uow.emit("SubConceptSubmitted", {**_sub_concept_ref(sub_concept), "ideas": view["idea_count"],
                                             "submitted_at": now}, subject=str(sub_concept["id"]))
            if domain.all_submitted(uow.repo.list_sub_concepts(sub_concept["municipality"])):
                ideas.reach_step(uow, sub_concept["municipality"], SUB_CONCEPTS_SUBMITTED)
            return view
        return _sub_concept_view(uow.repo, sub_concept)


# --- the strategy -----------------------------------------------------------------------

def _strategy_view(repo, strategy):
    """The strategy with its versions, newest last, each with the sub-concepts it links."""
    versions = repo.strategy_versions(strategy["id"])
    linked = repo.sub_concepts_by_ids({i for v in versions for i in v["sub_concept_ids"]})
    return {**strategy, "versions": [_version_view(v, linked) for v in versions]}


def _version_view(version, linked):
    return {**version, "sub_concepts": [linked[i] for i in version["sub_concept_ids"] if i in linked]}


def create_strategy(uow, command: CreateStrategy):
    strategy = {"id": uuid.uuid4(), "municipality": command.municipality, "title": command.title,
                "created_at": uow.now(), "adopted_at": None}
    with uow:
        require_municipality(uow.repo, command.municipality)
        uow.repo.add_strategy(strategy)
    return {**strategy, "versions": []}


def list_strategies(uow, query: ListStrategies):
    with uow:
        if not uow.repo.municipality_exists(query.municipality):
            raise NotFound(f"municipality {query.municipality!r}")
        return [_strategy_view(uow.repo, s) for s in uow.repo.list_strategies(query.municipality)]


def get_strategy(uow, query: GetStrategy):
    with uow:
        return _strategy_view(uow.repo, found(uow.repo.get_strategy(query.strategy_id), "strategy"))


def publish_draft(uow, command: PublishDraft):
    """Publish the next version of the draft for feedback (StrategyDraftPublished): version 1 reaches
    milestones tied to strategy_draft_published, a later one those tied to strategy_draft_refined."""
    now = uow.now()
    with uow:
        strategy = found(uow.repo.get_strategy(command.strategy_id, lock=True), "strategy")
        latest = uow.repo.latest_version(strategy["id"])
        linked = uow.repo.sub_concepts_by_ids(set(command.sub_concept_ids))
        domain.check_new_version(strategy, latest, linked, list(command.sub_concept_ids), command.feedback_until, now)
        version = {"strategy_id": strategy["id"], "version": latest["version"] + 1 if latest else 1,
                   "summary": command.summary, "sub_concept_ids": list(command.sub_concept_ids),
                   "published_at": now, "feedback_until": command.feedback_until, "feedback_closed_at": None,
                   "comments": None, "council_outcome": None, "council_date": None, "council_reason": None,
                   "decided_at": None}
        uow.repo.add_version(version)
        uow.emit("StrategyDraftPublished", {
            "strategy_id": strategy["id"], "municipality": strategy["municipality"], "version": version["version"],
            "title": strategy["title"], "sub_concept_ids": version["sub_concept_ids"],
            "feedback_until": version["feedback_until"], "published_at": now,
        }, subject=str(strategy["id"]))
        ideas.reach_step(uow, strategy["municipality"], domain.step_of_version(version["version"]))
    return {**_version_view(version, linked), "municipality": strategy["municipality"], "title": strategy["title"]}


def _feedback_closed(uow, version):
    """Count the comments of a version whose window was just claimed closed; StrategyFeedbackClosed.

    Counted after the closing UPDATE, in a statement of its own: a comment that held the version's
    row (FOR SHARE) while the window was open has committed by then and is counted.
    """
    comments = uow.repo.count_version_comments(version["strategy_id"], version["version"])
    uow.repo.set_version_comments(version["strategy_id"], version["version"], comments)
    uow.emit("StrategyFeedbackClosed", {
        "strategy_id": version["strategy_id"], "municipality": version["municipality"],
        "version": version["version"], "comments": comments, "closed_at": version["feedback_closed_at"],
    }, subject=str(version["strategy_id"]))


def close_feedback(uow, command: CloseFeedback):
    """Staff close the latest version's feedback window now; again: no change, no event."""
    now = uow.now()
    with uow:
        strategy = found(uow.repo.get_strategy(command.strategy_id), "strategy")
        latest = uow.repo.latest_version(strategy["id"])
        if latest is None:
            raise Conflict("no draft version published yet", {"strategy": ["no feedback window to close"]})
        closed = uow.repo.close_feedback(strategy["id"], latest["version"], now)
        if closed is not None:
            _feedback_closed(uow, closed)
        return _strategy_view(uow.repo, strategy)


def close_due_feedback(uow):
    """The timer: close every window whose end passed, exactly once (StrategyFeedbackClosed)."""
    with uow:
        closed = uow.repo.claim_due_feedback(uow.now())
        for version in closed:
            _feedback_closed(uow, version)
    return len(closed)


def record_council_decision(uow, command: RecordCouncilDecision):
    """The council's decision on the latest version: StrategyAdopted (final; milestones tied to
    strategy_adopted are reached) or StrategyReturned (a refined version may follow)."""
    now = uow.now()
    with uow:
        strategy = found(uow.repo.get_strategy(command.strategy_id, lock=True), "strategy")
        latest = uow.repo.latest_version(strategy["id"])
        domain.check_council_decision(strategy, latest)
        uow.repo.record_council_decision(strategy["id"], latest["version"], command.outcome, command.council_date,
                                         command.reason, now)
        event = {"strategy_id": strategy["id"], "municipality": strategy["municipality"],
                 "version": latest["version"], "council_date": command.council_date, "decided_at": now}
        if command.outcome == domain.ADOPTED:
            strategy = uow.repo.mark_adopted(strategy["id"], now)
            uow.emit("StrategyAdopted", event, subject=str(strategy["id"]))
            ideas.reach_step(uow, strategy["municipality"], STRATEGY_ADOPTED)
        else:
            uow.emit("StrategyReturned", {**event, "reason": command.reason}, subject=str(strategy["id"]))
        return _strategy_view(uow.repo, strategy)
