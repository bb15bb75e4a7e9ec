"""Use cases of the ideas service: `use_case(uow, command) -> result`.

Each runs in one transaction of its unit of work (`with uow:`), together with the events it
emits; a refusal is a shared.errors exception, and nothing of it is stored. The service class
builds the commands (services/ideas/commands.py) from HTTP requests, RPC calls, events and timers.
"""
import uuid

from shared.domain import PUBLIC_STATUSES, SUBMITTED, municipal_today
from shared.errors import Conflict, InvalidInput, NotFound, found

from . import domain
from .competitions import domain as competitions
from .groups.use_cases import visible_statuses
from .reference import require_field
from .commands import (ChangeStatus, FollowBoardDecision, GetIdea, GetMilestone, ListFields, ListMilestones,
                       ListTopicStores, ModerateIdea, ReachMilestone, ScheduleMilestone, SearchIdeas, SubmitIdea)

# The inbox key under which board decisions are applied once.
BOARD_DECISIONS = "ideas.follow_board_decision"


def _idea_ref(idea):
    return {"idea_id": idea["id"], "municipality": idea["municipality"], "field_of_action": idea["field_of_action"]}


class KnownFields:
    """The (municipality, field of action) pairs found to exist, so a submission skips the reference query.

    Reference data changes only by migration, and migrations add fields of action, never remove
    them (ideas point at them): a pair once found stays valid for the life of the process. A pair
    not found is asked again each time, so a field added while the process runs is found; no event
    changes reference data, so there is nothing else to invalidate on. One per service process.
    """

    def __init__(self):
        self._pairs = set()
        self._bounds = {}

    def require(self, repo, municipality, field):
        if (municipality, field) not in self._pairs:
            require_field(repo, municipality, field)
            self._pairs.add((municipality, field))

    def bounds(self, repo, municipality):
        """The bounding box of a municipality found to exist (its boxes, too, change only by migration)."""
        if municipality not in self._bounds:
            self._bounds[municipality] = repo.municipality_bounds(municipality)
        return self._bounds[municipality]


# --- reference data ---------------------------------------------------------------------

def list_municipalities(uow):
    with uow:
        return uow.repo.municipalities()


def places(uow):
    """Every municipality with its fields of action, names in German and English: other services' labels."""
    with uow:
        fields = uow.repo.all_fields_of_action()
        return [{**row, "fields": fields.get(row["slug"], [])} for row in uow.repo.municipalities()]


def list_fields(uow, query: ListFields):
    with uow:
        if not uow.repo.municipality_exists(query.municipality):
            raise NotFound(f"municipality {query.municipality!r}")
        return uow.repo.fields_of_action(query.municipality)


def topic_stores(uow, query: ListTopicStores):
    """Working groups' topic stores (Themenspeicher) with the number of ideas the viewer may see in each;
    every group of the municipality, one without ideas too."""
    with uow:
        if not uow.repo.municipality_exists(query.municipality):
            raise NotFound(f"municipality {query.municipality!r}")
        return uow.repo.groups(query.municipality, visible_statuses(query.viewer))


# --- ideas ------------------------------------------------------------------------------

def _group_of(repo, command: SubmitIdea):
    """The working group the idea belongs to (by id, or by its name the older way), or None."""
    if command.working_group_id is not None:
        group = repo.working_group(command.working_group_id)
        if group is None or group["municipality"] != command.municipality:
            raise InvalidInput("unknown working group",
                               {"working_group_id": [f"no such working group in {command.municipality}"]})
        if command.working_group is not None and command.working_group.lower() != group["name"].lower():
            raise InvalidInput("two different groups named",
                               {"working_group": [f"does not name the group working_group_id ({group['name']})"]})
        return group
    if command.working_group is not None:
        group = repo.group_named(command.municipality, command.working_group)
        if group is None:
            raise InvalidInput("unknown working group", {"working_group": [
                f"no working group of this name in {command.municipality}; see GET /api/v1/working-groups"]})
        return group
    return None


def _require_competition(repo, command: SubmitIdea, now):
    """The competition an entry goes into: of the idea's municipality and field of action, and open now."""
    competition = repo.get_competition(command.competition_id)
    if competition is None or competition["municipality"] != command.municipality:
        raise InvalidInput("unknown competition",
                           {"competition_id": [f"no such competition in {command.municipality}"]})
    if competition["field_of_action"] != command.field_of_action:
        raise InvalidInput("the competition is about another field of action", {"field_of_action": [
            f"the competition's field of action is {competition['field_of_action']!r}"]})
    competitions.require_open(competition, now)


def submit_idea(uow, command: SubmitIdea, known_fields: KnownFields):
    now = uow.now()
    location = command.location
    channel = domain.channel_of(command.channel, command.competition_id, command.profile is not None)
    with uow:
        known_fields.require(uow.repo, command.municipality, command.field_of_action)
        if location is not None:
            domain.require_within(known_fields.bounds(uow.repo, command.municipality), location)
        group = _group_of(uow.repo, command)
        if command.competition_id is not None:
            _require_competition(uow.repo, command, now)
        idea = {
            "id": uuid.uuid4(), "municipality": command.municipality, "field_of_action": command.field_of_action,
            "title": command.title, "description": command.description, "channel": channel,
            "working_group": group["name"] if group else None, "working_group_id": group["id"] if group else None,
            "competition_id": command.competition_id, "profile": command.profile,
            "lat": location["lat"] if location else None, "lon": location["lon"] if location else None,
            "author_id": command.author_id, "status": SUBMITTED, "status_reason": None,
            "created_at": now, "updated_at": now, "published_at": None,
        }
        uow.repo.add_idea(idea)
        uow.emit("IdeaSubmitted", {
            **_idea_ref(idea), "title": idea["title"], "channel": idea["channel"],
            "working_group": idea["working_group"], "working_group_id": idea["working_group_id"],
            "competition_id": idea["competition_id"], "has_profile": idea["profile"] is not None,
            "location": location, "author_id": command.author_id, "submitted_at": now,
        }, subject=str(idea["id"]))
    return idea


def _as_seen(idea, viewer):
    """An idea row as `viewer` may see it: the profile's contact consent only for its author and staff."""
    return {**idea, "profile": domain.profile_for(idea["profile"], idea["author_id"], viewer)}


def get_idea(uow, query: GetIdea):
    with uow:
        idea = uow.repo.get_idea(query.idea_id)
    if idea is None or not domain.visible(idea["status"], idea["author_id"], query.viewer):
        raise NotFound("idea")  # hidden ideas look like missing ones
    return _as_seen(idea, query.viewer)


def search_ideas(uow, query: SearchIdeas):
    """A page of the ideas the viewer may see: {items, total, page, page_size}."""
    if domain.sees_everything(query.viewer):
        visibility = {}
    else:
        visibility = {"statuses": PUBLIC_STATUSES, "author_id": query.viewer.subject if query.viewer else None}
    page, size = query.page, query.page_size
    with uow:
        items, total = uow.repo.search_ideas(
            **visibility, municipality=query.municipality, field_of_action=query.field_of_action,
            status=query.status, working_group=query.working_group, working_group_id=query.working_group_id,
            text=query.text, limit=size, offset=(page - 1) * size,
        )
    return {"items": [_as_seen(idea, query.viewer) for idea in items], "total": total, "page": page,
            "page_size": size}


def moderate_idea(uow, command: ModerateIdea):
    now = uow.now()
    with uow:
        idea = found(uow.repo.get_idea(command.idea_id, lock=True), "idea")
        status = domain.moderate(idea["status"], command.publish)
        idea = uow.repo.set_status(command.idea_id, status, command.reason, now)
        if command.publish:
            uow.emit("IdeaPublished", {
                **_idea_ref(idea), "title": idea["title"], "channel": idea["channel"],
                "working_group": idea["working_group"], "working_group_id": idea["working_group_id"],
                "competition_id": idea["competition_id"], "profile": domain.public_profile(idea["profile"]),
                "author_id": idea["author_id"], "published_at": now,
            }, subject=str(command.idea_id))
        else:
            uow.emit("IdeaRejected", {
                **_idea_ref(idea), "reason": command.reason, "author_id": idea["author_id"], "rejected_at": now,
            }, subject=str(command.idea_id))
    return idea


def _change_status(uow, idea, status, reason, cause, decision_id=None):
    """Store the new status and emit IdeaStatusChanged, inside the caller's transaction."""
    now = uow.now()
    updated = uow.repo.set_status(idea["id"], status, reason, now)
    uow.emit("IdeaStatusChanged", {
        **_idea_ref(idea), "from_status": idea["status"], "to_status": status, "cause": cause,
        "reason": reason, "decision_id": decision_id, "author_id": idea["author_id"], "changed_at": now,
    }, subject=str(idea["id"]))
    return updated


def change_status(uow, command: ChangeStatus):
    with uow:
        idea = found(uow.repo.get_idea(command.idea_id, lock=True), "idea")
        status = domain.staff_transition(idea["status"], command.status)
        return _change_status(uow, idea, status, command.reason, "staff")


def follow_board_decision(uow, command: FollowBoardDecision):
    """The idea's status follows the board's decision, once per event: False for a redelivery."""
    with uow:
        if not uow.claim(BOARD_DECISIONS, command.event_id, command.event_type):
            return False
        idea = uow.repo.get_idea(command.idea_id, lock=True)
        if idea is None:
            raise NotFound(f"idea {command.idea_id}")  # retried, then parked for an operator
        status = domain.after_board_decision(idea["status"], command.approved)
        if status is not None:
            reason = None if command.approved else f"board decision: {command.reason}"
            _change_status(uow, idea, status, reason, "board", command.decision_id)
        return True


# --- milestones -------------------------------------------------------------------------

def _milestone_event(milestone):
    return {"milestone_id": milestone["id"], "municipality": milestone["municipality"], "title": milestone["title"],
            "due_date": milestone["due_date"], "idea_id": milestone["idea_id"], "step": milestone["step"]}


def _emit_reached(uow, milestone):
    reached_at = milestone["reached_at"]
    uow.emit("MilestoneReached", {
        **_milestone_event(milestone), "reached_at": reached_at,
        "on_time": domain.reached_on_time(milestone["due_date"], reached_at),
    }, subject=str(milestone["id"]))


def schedule_milestone(uow, command: ScheduleMilestone):
    now = uow.now()
    milestone = {"id": uuid.uuid4(), "municipality": command.municipality, "idea_id": command.idea_id,
                 "title": command.title, "description": command.description,
                 "due_date": command.due_date, "created_at": now, "reached_at": None, "overdue_at": None,
                 "step": command.step}
    with uow:
        if not uow.repo.municipality_exists(milestone["municipality"]):
            raise InvalidInput("unknown municipality", {"municipality": ["unknown municipality"]})
        if milestone["idea_id"] is not None:
            idea = uow.repo.get_idea(milestone["idea_id"])
            if idea is None or idea["municipality"] != milestone["municipality"]:
                raise InvalidInput("unknown idea", {"idea_id": ["no such idea in this municipality"]})
            if not domain.may_have_milestones(idea["status"]):
                raise Conflict(f"idea is {idea['status']}; only pilots have milestones",
                               {"idea_id": ["idea is not a pilot project"]})
        uow.repo.add_milestone(milestone)
        uow.emit("MilestoneScheduled", {**_milestone_event(milestone), "scheduled_at": now},
                 subject=str(milestone["id"]))
    return milestone


def get_milestone(uow, query: GetMilestone):
    with uow:
        return found(uow.repo.get_milestone(query.milestone_id), "milestone")


def list_milestones(uow, query: ListMilestones):
    with uow:
        return uow.repo.list_milestones(query.municipality, query.idea_id)


def reach_milestone(uow, command: ReachMilestone):
    """Mark a milestone reached; reaching it again changes nothing and emits nothing."""
    reached_at = command.reached_at or uow.now()
    with uow:
        milestone = found(uow.repo.get_milestone(command.milestone_id, lock=True), "milestone")
        if milestone["reached_at"] is not None:
            return milestone
        milestone = uow.repo.mark_reached(command.milestone_id, reached_at)
        _emit_reached(uow, milestone)
    return milestone


def reach_step(uow, municipality, step):
    """Inside the caller's transaction (the step's own): every unreached milestone of `municipality`
    tied to `step` is reached now, each with its MilestoneReached, committed with the step's event."""
    for milestone in uow.repo.reach_step_milestones(municipality, step, uow.now()):
        _emit_reached(uow, milestone)


def flag_overdue_milestones(uow):
    """Emit MilestoneOverdue exactly once for each milestone whose due date passed unreached."""
    now = uow.now()
    with uow:
        overdue = uow.repo.claim_overdue(municipal_today(now), now)
        for milestone in overdue:
            uow.emit("MilestoneOverdue", {**_milestone_event(milestone), "detected_at": now},
                     subject=str(milestone["id"]))
    return len(overdue)
