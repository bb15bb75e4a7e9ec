"""HTTP entrypoints of sub-concepts and the strategy draft, and the feedback windows' timer: a mixin
of IdeasService (services/ideas/service.py), using its unit of work `self.uow`."""
from shared.timer import every
from shared.web import AUTHENTICATED, api

from ..roles import STAFF
from . import use_cases
from .commands import (CloseFeedback, CreateStrategy, DraftSubConcept, GetStrategy, GetSubConcept, IntegrateIdea,
                       ListStrategies, ListSubConcepts, PublishDraft, RecordCouncilDecision, SubmitSubConcept)
from .schemas import (CouncilDecision, IdeaToIntegrate, MunicipalityQuery, NewStrategy, NewSubConcept, NewVersion,
                      StrategyOut, SubConceptDetailOut, SubConceptOut, VersionOut)

SUB_CONCEPTS, STRATEGIES = ["sub-concepts"], ["strategy"]


class StrategyEndpoints:
    # --- sub-concepts: staff, or a member of the working group (checked by the use case) ---
    @api("POST", "/api/v1/sub-concepts", body=NewSubConcept, roles=AUTHENTICATED, status=201,
         response=SubConceptDetailOut, tags=SUB_CONCEPTS,
         summary="Draft a working group's sub-concept (staff or a member of the group)")
    def draft_sub_concept(self, request):
        return use_cases.draft_sub_concept(self.uow, DraftSubConcept(actor=request.principal, **request.data))

    @api("GET", "/api/v1/sub-concepts", query=MunicipalityQuery, response=SubConceptOut(many=True),
         tags=SUB_CONCEPTS)
    def list_sub_concepts(self, request):
        return use_cases.list_sub_concepts(self.uow, ListSubConcepts(**request.query_data))

    @api("GET", "/api/v1/sub-concepts/<uuid:sub_concept_id>", response=SubConceptDetailOut, tags=SUB_CONCEPTS,
         summary="A sub-concept with its integrated ideas")
    def get_sub_concept(self, request, sub_concept_id):
        return use_cases.get_sub_concept(self.uow, GetSubConcept(sub_concept_id))

    @api("POST", "/api/v1/sub-concepts/<uuid:sub_concept_id>/ideas", body=IdeaToIntegrate, roles=AUTHENTICATED,
         response=SubConceptDetailOut, tags=SUB_CONCEPTS,
         summary="Integrate a public idea (409 when it is in another sub-concept or this one is submitted)")
    def integrate_idea(self, request, sub_concept_id):
        return use_cases.integrate_idea(self.uow, IntegrateIdea(request.principal, sub_concept_id,
                                                                request.data["idea_id"]))

    @api("POST", "/api/v1/sub-concepts/<uuid:sub_concept_id>/submission", roles=AUTHENTICATED,
         response=SubConceptDetailOut, tags=SUB_CONCEPTS, summary="Hand in the sub-concept (again: no change)")
    def submit_sub_concept(self, request, sub_concept_id):
        return use_cases.submit_sub_concept(self.uow, SubmitSubConcept(request.principal, sub_concept_id))

    # --- the strategy draft ---
    @api("POST", "/api/v1/strategies", body=NewStrategy, roles=STAFF, status=201, response=StrategyOut,
         tags=STRATEGIES)
    def create_strategy(self, request):
        return use_cases.create_strategy(self.uow, CreateStrategy(**request.data))

    @api("GET", "/api/v1/strategies", query=MunicipalityQuery, response=StrategyOut(many=True), tags=STRATEGIES)
    def list_strategies(self, request):
        return use_cases.list_strategies(self.uow, ListStrategies(**request.query_data))

    @api("GET", "/api/v1/strategies/<uuid:strategy_id>", response=StrategyOut, tags=STRATEGIES,
         summary="A strategy with its versions and the sub-concepts each links")
    def get_strategy(self, request, strategy_id):
        return use_cases.get_strategy(self.uow, GetStrategy(strategy_id))

    @api("POST", "/api/v1/strategies/<uuid:strategy_id>/versions", body=NewVersion, roles=STAFF, status=201,
         response=VersionOut, tags=STRATEGIES,
         summary="Publish the next draft version for feedback (409 while feedback is open or once adopted)")
    def publish_draft(self, request, strategy_id):
        data = request.data
        return use_cases.publish_draft(self.uow, PublishDraft(strategy_id, tuple(data["sub_concept_ids"]),
                                                              data["summary"], data["feedback_until"]))

    @api("POST", "/api/v1/strategies/<uuid:strategy_id>/feedback-closing", roles=STAFF, response=StrategyOut,
         tags=STRATEGIES, summary="Close the latest version's feedback window now (again: no change)")
    def close_feedback(self, request, strategy_id):
        return use_cases.close_feedback(self.uow, CloseFeedback(strategy_id))

    @api("POST", "/api/v1/strategies/<uuid:strategy_id>/council-decision", body=CouncilDecision, roles=STAFF,
         response=StrategyOut, tags=STRATEGIES,
         summary="Record the council's decision on the latest version (adopted is final)")
    def record_council_decision(self, request, strategy_id):
        return use_cases.record_council_decision(self.uow, RecordCouncilDecision(strategy_id, **request.data))

    @every("FEEDBACK_CHECK_SECONDS", 60, eager=True)
    def close_due_feedback(self):
        use_cases.close_due_feedback(self.uow)
