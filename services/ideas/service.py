"""The ideas service's nameko entrypoints: translate HTTP, RPC, events and timers into use cases."""
from marshmallow import Schema, ValidationError, fields
from nameko.rpc import rpc

from shared.auth import Principal
from shared.db import Database
from shared.errors import NotFound
from shared.ops import OpsEndpoints
from shared.outbox import Outbox
from shared.subscriber import subscribe
from shared.timer import every
from shared.web import AUTHENTICATED, api
from shared.validation import Slug

from . import handlers
from .schemas import (FieldOut, IdeaOut, IdeaPage, IdeaQuery, MilestoneOut, MilestoneQuery, MilestoneReachedBody,
                      Moderation, MunicipalityOut, NewIdea, NewMilestone, StatusChange, TopicStoreOut)

MODERATORS = ("moderator",)
STAFF = ("staff",)
IDEAS, MILESTONES, PLACES = ["ideas"], ["milestones"], ["municipalities"]



class IdeaIdArg(Schema):
    idea_id = fields.UUID(required=True)


class MunicipalityArg(Schema):
    municipality = Slug(required=True)


# RPC callers are other services: they see ideas as staff do.
_SERVICE_PRINCIPAL = Principal(subject="service", roles=frozenset({"staff"}))


class IdeasService(OpsEndpoints):
    name = "ideas"

    db = Database()
    outbox = Outbox()

    # --- municipalities ---
    @api("GET", "/api/v1/municipalities", response=MunicipalityOut(many=True), tags=PLACES)
    def municipalities(self, request):
        return handlers.list_municipalities(self.db)

    @api("GET", "/api/v1/municipalities/<slug>/fields", response=FieldOut(many=True), tags=PLACES,
         summary="The municipality's fields of action")
    def list_fields(self, request, slug):
        return handlers.fields_of(self.db, slug)

    @api("GET", "/api/v1/municipalities/<slug>/topic-stores", response=TopicStoreOut(many=True), tags=PLACES,
         summary="Working groups' topic stores with their number of ideas")
    def topic_stores(self, request, slug):
        return handlers.topic_stores(self.db, slug, request.principal)

    # --- ideas ---
    @api("POST", "/api/v1/ideas", body=NewIdea, roles=AUTHENTICATED, status=201, response=IdeaOut, tags=IDEAS,
         summary="Submit an idea (the token's subject is its author)")
    def submit_idea(self, request):
        return handlers.submit_idea(self.db, self.outbox, request.principal.subject, request.data)

    @api("GET", "/api/v1/ideas", query=IdeaQuery, response=IdeaPage, tags=IDEAS,
         summary="Search ideas: the public sees published ones, moderators and staff all")
    def list_ideas(self, request):
        return handlers.search_ideas(self.db, request.principal, request.query_data)

    @api("GET", "/api/v1/ideas/<uuid:idea_id>", response=IdeaOut, tags=IDEAS)
    def show_idea(self, request, idea_id):
        return handlers.get_idea(self.db, idea_id, request.principal)

    @api("POST", "/api/v1/ideas/<uuid:idea_id>/moderation", body=Moderation, roles=MODERATORS, response=IdeaOut,
         tags=IDEAS, summary="Publish or reject a submitted idea")
    def moderate_idea(self, request, idea_id):
        return handlers.moderate_idea(self.db, self.outbox, idea_id, request.data)

    @api("POST", "/api/v1/ideas/<uuid:idea_id>/status", body=StatusChange, roles=STAFF, response=IdeaOut,
         tags=IDEAS, summary="Move an idea along the workflow (409 for an invalid step)")
    def change_status(self, request, idea_id):
        return handlers.change_status(self.db, self.outbox, idea_id, request.data)

    # --- milestones ---
    @api("POST", "/api/v1/milestones", body=NewMilestone, roles=STAFF, status=201, response=MilestoneOut,
         tags=MILESTONES, summary="Schedule a strategy-wide or pilot milestone")
    def schedule_milestone(self, request):
        return handlers.schedule_milestone(self.db, self.outbox, request.data)

    @api("GET", "/api/v1/milestones", query=MilestoneQuery, response=MilestoneOut(many=True), tags=MILESTONES)
    def list_milestones(self, request):
        return handlers.list_milestones(self.db, request.query_data)

    @api("GET", "/api/v1/milestones/<uuid:milestone_id>", response=MilestoneOut, tags=MILESTONES)
    def get_milestone(self, request, milestone_id):
        return handlers.get_milestone(self.db, milestone_id)

    @api("POST", "/api/v1/milestones/<uuid:milestone_id>/reached", body=MilestoneReachedBody, roles=STAFF,
         response=MilestoneOut, tags=MILESTONES, summary="Mark reached (again: no change, no event)")
    def reach_milestone(self, request, milestone_id):
        return handlers.reach_milestone(self.db, self.outbox, milestone_id, request.data)

    @every("MILESTONE_CHECK_SECONDS", 60, eager=True)
    def flag_overdue_milestones(self):
        handlers.flag_overdue_milestones(self.db, self.outbox)

    # --- events from the voting service ---
    @subscribe("voting", "PilotApproved")
    def on_pilot_approved(self, event):
        return handlers.follow_board_decision(self.db, self.outbox, event)

    @subscribe("voting", "PilotRejected")
    def on_pilot_rejected(self, event):
        return handlers.follow_board_decision(self.db, self.outbox, event)

    # --- RPC for other services ---
    @rpc(expected_exceptions=(ValidationError, NotFound))
    def get_idea(self, idea_id):
        """An idea as staff see it; ValidationError for a malformed id, NotFound for none."""
        args = IdeaIdArg().load({"idea_id": idea_id})
        return IdeaOut().dump(handlers.get_idea(self.db, args["idea_id"], _SERVICE_PRINCIPAL))

    @rpc(expected_exceptions=(ValidationError, NotFound))
    def fields_of_action(self, municipality):
        args = MunicipalityArg().load({"municipality": municipality})
        return FieldOut(many=True).dump(handlers.fields_of(self.db, args["municipality"]))


SERVICE = IdeasService
