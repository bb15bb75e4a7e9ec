"""Use cases of the ideas service: `use_case(uow, command) -> result`.

Each runs in one transaction of its unit of work (`with uow:`), together with the events it
emits; a refusal is a shared.errors exception, and nothing of it is stored. The service class
builds the commands (services/ideas/commands.py) from HTTP requests, RPC calls, events and timers.
"""
import uuid

from shared.domain import PUBLIC_STATUSES, STATUSES, SUBMITTED, municipal_today
from shared.errors import Conflict, InvalidInput, NotFound, found

from . import domain
from .commands import (ChangeStatus, FollowBoardDecision, GetIdea, GetMilestone, ListFields, ListMilestones,
                       ListTopicStores, ModerateIdea, ReachMilestone, ScheduleMilestone, SearchIdeas, SubmitIdea)

# The inbox key under which board decisions are applied once.
BOARD_DECISIONS = "ideas.follow_board_decision"


def _idea_ref(idea):
    return {"idea_id": idea["id"], "municipality": idea["municipality"], "field_of_action": idea["field_of_action"]}


def _require_field(repo, municipality, field):
    municipality_known, field_known = repo.reference_check(municipality, field)
    if not municipality_known:
        raise InvalidInput("unknown municipality", {"municipality": [f"unknown municipality {municipality!r}"]})
    if not field_known:
        raise InvalidInput("unknown field of action",
                           {"field_of_action": [f"{field!r} is not a field of action of {municipality}"]})


class KnownFields:
    """The (municipality, field of action) pairs found to exist, so a submission skips the reference query.

    Reference data changes only by migration, and migrations add fields of action, never remove
    them (ideas point at them): a pair once found stays valid for the life of the process. A pair
    not found is asked again each time, so a field added while the process runs is found; no event
    changes reference data, so there is nothing else to invalidate on. One per service process.
    """

    def __init__(self):
        self._pairs = set()

    def require(self, repo, municipality, field):
        if (municipality, field) not in self._pairs:
            _require_field(repo, municipality, field)
            self._pairs.add((municipality, field))


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
    """Working groups' topic stores (Themenspeicher) with the number of ideas the viewer may see in each."""
    statuses = STATUSES if domain.sees_everything(query.viewer) else PUBLIC_STATUSES
    with uow:
        if not uow.repo.municipality_exists(query.municipality):
            raise NotFound(f"municipality {query.municipality!r}")
        return uow.repo.working_groups(query.municipality, statuses)


# --- ideas ------------------------------------------------------------------------------

def submit_idea(uow, command: SubmitIdea, known_fields: KnownFields):
    now = uow.now()
    location = command.location
    idea = {
        "id": uuid.uuid4(), "municipality": command.municipality, "field_of_action": command.field_of_action,
        "title": command.title, "description": command.description, "channel": command.channel,
        "working_group": command.working_group,
        "lat": location["lat"] if location else None, "lon": location["lon"] if location else None,
        "author_id": command.author_id, "status": SUBMITTED, "status_reason": None,
        "created_at": now, "updated_at": now, "published_at": None,
    }
    with uow:
        known_fields.require(uow.repo, idea["municipality"], idea["field_of_action"])
        uow.repo.add_idea(idea)
        uow.emit("IdeaSubmitted", {
            **_idea_ref(idea), "title": idea["title"], "channel": idea["channel"],
            "working_group": idea["working_group"], "location": location,
            "author_id": command.author_id, "submitted_at": now,
        }, subject=str(idea["id"]))
    return idea


def get_idea(uow, query: GetIdea):
    with uow:
        idea = uow.repo.get_idea(query.idea_id)
    if idea is None or not domain.visible(idea["status"], idea["author_id"], query.viewer):
        raise NotFound("idea")  # hidden ideas look like missing ones
    return idea


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
            status=query.status, working_group=query.working_group, text=query.text,
            limit=size, offset=(page - 1) * size,
        )
    return {"items": items, "total": total, "page": page, "page_size": size}


def moderate_idea(uow, command: ModerateIdea):
    now = uow.now()
    with uow:
        idea = found(uow.repo.get_idea(command.idea_id, lock=True), "idea")
        status = domain.moderate(idea["status"], command.publish)
        idea = uow.repo.set_status(command.idea_id, status, command.reason, now)
        if command.publish:
            uow.emit("IdeaPublished", {
                **_idea_ref(idea), "title": idea["title"], "channel": idea["channel"],
                "working_group": idea["working_group"], "author_id": idea["author_id"], "published_at": now,
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
            "due_date": milestone["due_date"], "idea_id": milestone["idea_id"]}


def schedule_milestone(uow, command: ScheduleMilestone):
    now = uow.now()
    milestone = {"id": uuid.uuid4(), "municipality": command.municipality, "idea_id": command.idea_id,
                 "title": command.title, "description": command.description,
                 "due_date": command.due_date, "created_at": now, "reached_at": None, "overdue_at": None}
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
        uow.emit("MilestoneReached", {
            **_milestone_event(milestone), "reached_at": reached_at,
            "on_time": domain.reached_on_time(milestone["due_date"], reached_at),
        }, subject=str(command.milestone_id))
    return milestone


def flag_overdue_milestones(uow):
    """Emit MilestoneOverdue exactly once for each milestone whose due date passed unreached."""
    now = uow.now()
    with uow:
        overdue = uow.repo.claim_overdue(municipal_today(now), now)
        for milestone in overdue:
            uow.emit("MilestoneOverdue", {**_milestone_event(milestone), "detected_at": now},
                     subject=str(milestone["id"]))
    return len(overdue)
