"""Use cases of the ideas service. Each runs in one transaction with the events it causes."""
import uuid
from datetime import datetime, timezone

from shared.errors import Conflict, InvalidInput, NotFound
from shared.inbox import apply_once

from . import domain, repository as repo


def _now():
    return datetime.now(timezone.utc)


def _idea_ref(idea):
    return {"idea_id": idea["id"], "municipality": idea["municipality"], "field_of_action": idea["field_of_action"]}


def _require_field(cur, municipality, field):
    municipality_known, field_known = repo.reference_check(cur, municipality, field)
    if not municipality_known:
        raise InvalidInput("unknown municipality", {"municipality": [f"unknown municipality {municipality!r}"]})
    if not field_known:
        raise InvalidInput("unknown field of action",
                           {"field_of_action": [f"{field!r} is not a field of action of {municipality}"]})


# --- reference data ---------------------------------------------------------------------

def list_municipalities(pool):
    with pool.transaction() as cur:
        return repo.municipalities(cur)


def fields_of(pool, municipality):
    with pool.transaction() as cur:
        if not repo.municipality_exists(cur, municipality):
            raise NotFound(f"municipality {municipality!r}")
        return repo.fields_of_action(cur, municipality)


def topic_stores(pool, municipality, principal):
    """Working groups' topic stores (Themenspeicher) with the number of ideas each holds."""
    statuses = domain.STATUSES if domain.sees_everything(principal) else domain.PUBLIC
    with pool.transaction() as cur:
        if not repo.municipality_exists(cur, municipality):
            raise NotFound(f"municipality {municipality!r}")
        return repo.working_groups(cur, municipality, statuses)


# --- ideas ------------------------------------------------------------------------------

def submit_idea(pool, outbox, author_id, command):
    now = _now()
    location = command.get("location")
    idea = {
        "id": uuid.uuid4(), "municipality": command["municipality"], "field_of_action": command["field_of_action"],
        "title": command["title"], "description": command["description"], "channel": command["channel"],
        "working_group": command.get("working_group"),
        "lat": location["lat"] if location else None, "lon": location["lon"] if location else None,
        "author_id": author_id, "status": domain.SUBMITTED, "status_reason": None,
        "created_at": now, "updated_at": now, "published_at": None,
    }
    with pool.transaction() as cur:
        _require_field(cur, idea["municipality"], idea["field_of_action"])
        repo.add_idea(cur, idea)
        outbox.add(cur, "IdeaSubmitted", {
            **_idea_ref(idea), "title": idea["title"], "channel": idea["channel"],
            "working_group": idea["working_group"], "location": location,
            "author_id": author_id, "submitted_at": now,
        }, subject=str(idea["id"]))
    return idea


def get_idea(pool, idea_id, principal):
    with pool.transaction() as cur:
        idea = repo.get_idea(cur, idea_id)
    if idea is None or not domain.visible(idea["status"], idea["author_id"], principal):
        raise NotFound("idea")  # hidden ideas look like missing ones
    return idea


def search_ideas(pool, principal, query):
    if domain.sees_everything(principal):
        visibility = {}
    else:
        visibility = {"statuses": domain.PUBLIC, "author_id": principal.subject if principal else None}
    page, size = query["page"], query["page_size"]
    with pool.transaction() as cur:
        items, total = repo.search_ideas(
            cur, **visibility, municipality=query.get("municipality"), field_of_action=query.get("field"),
            status=query.get("status"), working_group=query.get("working_group"), text=query.get("q"),
            limit=size, offset=(page - 1) * size,
        )
    return {"items": items, "total": total, "page": page, "page_size": size}


def moderate_idea(pool, outbox, idea_id, decision):
    publish = decision["decision"] == "publish"
    now = _now()
    with pool.transaction() as cur:
        idea = repo.get_idea(cur, idea_id, for_update=True)
        if idea is None:
            raise NotFound("idea")
        status = domain.moderate(idea["status"], publish)
        idea = repo.set_status(cur, idea_id, status, decision.get("reason"), now)
        if publish:
            outbox.add(cur, "IdeaPublished", {
                **_idea_ref(idea), "title": idea["title"], "channel": idea["channel"],
                "working_group": idea["working_group"], "author_id": idea["author_id"], "published_at": now,
            }, subject=str(idea_id))
        else:
            outbox.add(cur, "IdeaRejected", {
                **_idea_ref(idea), "reason": decision["reason"], "author_id": idea["author_id"], "rejected_at": now,
            }, subject=str(idea_id))
    return idea


def _change_status(cur, outbox, idea, status, reason, cause, decision_id=None):
    now = _now()
    updated = repo.set_status(cur, idea["id"], status, reason, now)
    outbox.add(cur, "IdeaStatusChanged", {
        **_idea_ref(idea), "from_status": idea["status"], "to_status": status, "cause": cause,
        "reason": reason, "decision_id": decision_id, "author_id": idea["author_id"], "changed_at": now,
    }, subject=str(idea["id"]))
    return updated


def change_status(pool, outbox, idea_id, change):
    with pool.transaction() as cur:
        idea = repo.get_idea(cur, idea_id, for_update=True)
        if idea is None:
            raise NotFound("idea")
        status = domain.staff_transition(idea["status"], change["status"])
        return _change_status(cur, outbox, idea, status, change.get("reason"), "staff")


def follow_board_decision(pool, outbox, event):
    """PilotApproved / PilotRejected from the voting service: the idea's status follows, once."""
    data = event["data"]
    approved = event["type"] == "PilotApproved"

    def effect(cur):
        idea = repo.get_idea(cur, data["idea_id"], for_update=True)
        if idea is None:
            raise NotFound(f"idea {data['idea_id']}")  # retried, then parked for an operator
        status = domain.after_board_decision(idea["status"], approved)
        if status is not None:
            reason = None if approved else f"board decision: {data['reason']}"
            _change_status(cur, outbox, idea, status, reason, "board", data["decision_id"])

    return apply_once(pool, "ideas.follow_board_decision", event, effect)


# --- milestones -------------------------------------------------------------------------

def _milestone_event(milestone):
    return {"milestone_id": milestone["id"], "municipality": milestone["municipality"], "title": milestone["title"],
            "due_date": milestone["due_date"], "idea_id": milestone["idea_id"]}


def schedule_milestone(pool, outbox, command):
    now = _now()
    milestone = {"id": uuid.uuid4(), "municipality": command["municipality"], "idea_id": command.get("idea_id"),
                 "title": command["title"], "description": command.get("description"),
                 "due_date": command["due_date"], "created_at": now, "reached_at": None, "overdue_at": None}
    with pool.transaction() as cur:
        if not repo.municipality_exists(cur, milestone["municipality"]):
            raise InvalidInput("unknown municipality", {"municipality": ["unknown municipality"]})
        if milestone["idea_id"] is not None:
            idea = repo.get_idea(cur, milestone["idea_id"])
            if idea is None or idea["municipality"] != milestone["municipality"]:
                raise InvalidInput("unknown idea", {"idea_id": ["no such idea in this municipality"]})
            if not domain.may_have_milestones(idea["status"]):
                raise Conflict(f"idea is {idea['status']}; only pilots have milestones",
                               {"idea_id": ["idea is not a pilot project"]})
        repo.add_milestone(cur, milestone)
        outbox.add(cur, "MilestoneScheduled", {**_milestone_event(milestone), "scheduled_at": now},
                   subject=str(milestone["id"]))
    return milestone


def get_milestone(pool, milestone_id):
    with pool.transaction() as cur:
        milestone = repo.get_milestone(cur, milestone_id)
    if milestone is None:
        raise NotFound("milestone")
    return milestone


def list_milestones(pool, query):
    with pool.transaction() as cur:
        return repo.list_milestones(cur, query.get("municipality"), query.get("idea_id"))


def reach_milestone(pool, outbox, milestone_id, command):
    """Mark a milestone reached; reaching it again changes nothing and emits nothing."""
    reached_at = command.get("reached_at") or _now()
    with pool.transaction() as cur:
        milestone = repo.get_milestone(cur, milestone_id, for_update=True)
        if milestone is None:
            raise NotFound("milestone")
        if milestone["reached_at"] is not None:
            return milestone
        milestone = repo.mark_reached(cur, milestone_id, reached_at)
        outbox.add(cur, "MilestoneReached", {
            **_milestone_event(milestone), "reached_at": reached_at,
            "on_time": domain.reached_on_time(milestone["due_date"], reached_at),
        }, subject=str(milestone_id))
    return milestone


def flag_overdue_milestones(pool, outbox):
    """Emit MilestoneOverdue exactly once for each milestone whose due date passed unreached."""
    now = _now()
    with pool.transaction() as cur:
        overdue = repo.claim_overdue(cur, domain.municipal_today(now), now)
        for milestone in overdue:
            outbox.add(cur, "MilestoneOverdue", {**_milestone_event(milestone), "detected_at": now},
                       subject=str(milestone["id"]))
    return len(overdue)
