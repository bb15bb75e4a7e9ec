"""The ideas service's nameko entrypoints: HTTP, RPC, events and timers, each translated into a
command for a use case (services/ideas/use_cases.py) and its result into the answer."""
from shared.auth import Principal
from shared.db import UnitOfWorkProvider
from shared.identities import is_service
from shared.ops import OpsEndpoints
from shared.ratelimit import Limits
from shared.rpc import EXPECTED, Caller, rpc
from shared.subscriber import subscribe
from shared.timer import every
from shared.web import AUTHENTICATED, api

from . import use_cases
from .commands import (ChangeStatus, FollowBoardDecision, GetIdea, GetMilestone, ListFields, ListMilestones,
                       ListTopicStores, ModerateIdea, ReachMilestone, ScheduleMilestone, SearchIdeas, SubmitIdea)
from .competitions.endpoints import CompetitionEndpoints
from .feedback.endpoints import FeedbackEndpoints
from .groups.endpoints import GroupEndpoints
from .meetings.endpoints import MeetingEndpoints
from .repository import IdeasRepository
from .roles import MODERATORS, STAFF
from .schemas import (FieldOut, IdeaIdArg, IdeaOut, IdeaPage, IdeaQuery, MilestoneOut, MilestoneQuery,
                      MilestoneReachedBody, Moderation, MunicipalityArg, MunicipalityOut, NewIdea, NewMilestone,
                      PlaceOut, StatusChange, TopicStoreOut)
from .sponsors.endpoints import SponsorEndpoints
from .strategy.endpoints import StrategyEndpoints
from .surveys.endpoints import SurveyEndpoints

IDEAS, MILESTONES, PLACES = ["ideas"], ["milestones"], ["municipalities"]

KNOWN_FIELDS = use_cases.KnownFields()  # reference data seen to exist, for this process's submissions
# An RPC call from a service of this installation sees ideas as staff do; any other caller as the public.
_SERVICE_PRINCIPAL = Principal(subject="service", roles=frozenset({"staff"}))


# The strategy process's parts bring their entrypoints as mixins (services/ideas/<part>/endpoints.py).
class IdeasService(GroupEndpoints, CompetitionEndpoints, SponsorEndpoints, MeetingEndpoints, SurveyEndpoints,
                   StrategyEndpoints, FeedbackEndpoints, OpsEndpoints):
    name = "ideas"

    uow = UnitOfWorkProvider(IdeasRepository)
    caller = Caller()

    # --- municipalities ---
    @api("GET", "/api/v1/municipalities", response=MunicipalityOut(many=True), tags=PLACES)
    def municipalities(self, request):
        return use_cases.list_municipalities(self.uow)

    @api("GET", "/api/v1/municipalities/<slug>/fields", response=FieldOut(many=True), tags=PLACES,
         summary="The municipality's fields of action")
    def list_fields(self, request, slug):
        return use_cases.list_fields(self.uow, ListFields(slug))

    @api("GET", "/api/v1/municipalities/<slug>/topic-stores", response=TopicStoreOut(many=True), tags=PLACES,
         summary="Working groups' topic stores (every group, with its number of ideas)")
    def topic_stores(self, request, slug):
        return use_cases.topic_stores(self.uow, ListTopicStores(slug, viewer=request.principal))

    # --- ideas ---
    @api("POST", "/api/v1/ideas", body=NewIdea, roles=AUTHENTICATED, status=201, response=IdeaOut, tags=IDEAS,
         limits=Limits(subject="30/hour", address="300/hour"),
         summary="Submit an idea (the token's subject is its author)")
    def submit_idea(self, request):
        return use_cases.submit_idea(self.uow, SubmitIdea(author_id=request.principal.subject, **request.data),
                                     KNOWN_FIELDS)

    @api("GET", "/api/v1/ideas", query=IdeaQuery, response=IdeaPage, tags=IDEAS,
         summary="Search ideas: the public sees published ones, moderators and staff all")
    def list_ideas(self, request):
        query = request.query_data
        return use_cases.search_ideas(self.uow, SearchIdeas(
            municipality=query.get("municipality"), field_of_action=query.get("field"), status=query.get("status"),
            working_group=query.get("working_group"), working_group_id=query.get("working_group_id"),
            text=query.get("q"), page=query["page"],
            page_size=query["page_size"], viewer=request.principal))

    @api("GET", "/api/v1/ideas/<uuid:idea_id>", response=IdeaOut, tags=IDEAS)
    def show_idea(self, request, idea_id):
        return use_cases.get_idea(self.uow, GetIdea(idea_id, viewer=request.principal))

    @api("POST", "/api/v1/ideas/<uuid:idea_id>/moderation", body=Moderation, roles=MODERATORS, response=IdeaOut,
         tags=IDEAS, summary="Publish or reject a submitted idea")
    def moderate_idea(self, request, idea_id):
        decision = request.data
        return use_cases.moderate_idea(self.uow, ModerateIdea(
            idea_id, publish=decision["decision"] == "publish", reason=decision.get("reason")))

    @api("POST", "/api/v1/ideas/<uuid:idea_id>/status", body=StatusChange, roles=STAFF, response=IdeaOut,
         tags=IDEAS, summary="Move an idea along the workflow (409 for an invalid step)")
    def change_status(self, request, idea_id):
        return use_cases.change_status(self.uow, ChangeStatus(idea_id, **request.data))

    # --- milestones ---
    @api("POST", "/api/v1/milestones", body=NewMilestone, roles=STAFF, status=201, response=MilestoneOut,
         tags=MILESTONES, summary="Schedule a strategy-wide or pilot milestone")
    def schedule_milestone(self, request):
        return use_cases.schedule_milestone(self.uow, ScheduleMilestone(**request.data))

    @api("GET", "/api/v1/milestones", query=MilestoneQuery, response=MilestoneOut(many=True), tags=MILESTONES)
    def list_milestones(self, request):
        return use_cases.list_milestones(self.uow, ListMilestones(**request.query_data))

    @api("GET", "/api/v1/milestones/<uuid:milestone_id>", response=MilestoneOut, tags=MILESTONES)
    def get_milestone(self, request, milestone_id):
        return use_cases.get_milestone(self.uow, GetMilestone(milestone_id))

    @api("POST", "/api/v1/milestones/<uuid:milestone_id>/reached", body=MilestoneReachedBody, roles=STAFF,
         response=MilestoneOut, tags=MILESTONES, summary="Mark reached (again: no change, no event)")
    def reach_milestone(self, request, milestone_id):
        return use_cases.reach_milestone(self.uow, ReachMilestone(milestone_id, **request.data))

    @every("MILESTONE_CHECK_SECONDS", 60, eager=True)
    def flag_overdue_milestones(self):
        use_cases.flag_overdue_milestones(self.uow)

    # --- events from the voting service ---
    @subscribe("voting", "PilotApproved")
    def on_pilot_approved(self, event):
        return use_cases.follow_board_decision(self.uow, _board_decision(event, approved=True))

    @subscribe("voting", "PilotRejected")
    def on_pilot_rejected(self, event):
        return use_cases.follow_board_decision(self.uow, _board_decision(event, approved=False))

    # --- RPC for other services ---
    @rpc(expected_exceptions=EXPECTED)
    def get_idea(self, idea_id):
        """An idea as staff see it when another service asks, as the public otherwise (a hidden one is
        NotFound); ValidationError for a malformed id, NotFound for none."""
        args = IdeaIdArg().load({"idea_id": idea_id})
        viewer = _SERVICE_PRINCIPAL if is_service(self.caller) else None
        return IdeaOut().dump(use_cases.get_idea(self.uow, GetIdea(args["idea_id"], viewer=viewer)))

    @rpc(expected_exceptions=EXPECTED)
    def fields_of_action(self, municipality):
        """[{slug, name}] of a municipality; ValidationError for a malformed slug, NotFound for none."""
        args = MunicipalityArg().load({"municipality": municipality})
        return FieldOut(many=True).dump(use_cases.list_fields(self.uow, ListFields(args["municipality"])))

    @rpc(expected_exceptions=EXPECTED)
    def places(self):
        """Every municipality with its fields of action, names in German and English (shared.places)."""
        return PlaceOut(many=True).dump(use_cases.places(self.uow))


def _board_decision(event, approved):
    """The command for a PilotApproved / PilotRejected event (data already validated by the contract)."""
    data = event["data"]
    return FollowBoardDecision(event_id=event["id"], event_type=event["type"], idea_id=data["idea_id"],
                               decision_id=data["decision_id"], approved=approved, reason=data.get("reason"))
