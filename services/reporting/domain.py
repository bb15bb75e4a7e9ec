"""What each event changes in the read models, and the rules read off them. Pure: no I/O.

An applied event becomes a list of effects on projection rows (effects.py: Upsert, Increment),
whose merges do not depend on arrival order. So the effects of a set of events, applied once
each in any order, give the same rows as an orderly stream. The same effects feed the live
consumer (a transaction per batch of events) and the rebuild (the whole log in memory, then one
bulk write). The strategy process's entities have their rules in process.py.
"""
import math
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from functools import partial

from shared.domain import (COMPLETED, IN_IMPLEMENTATION, MUNICIPAL_TZ, OVERDUE, PILOT, PUBLISHED, REACHED, REJECTED,
                           SCHEDULED, SHORTLISTED, SUBMITTED)
from shared.events import schema_for
from shared.pseudonyms import pseudonym

from . import process
from .effects import Event, Increment, Upsert, earliest, newer, when

IDEA_STATUS_OF = {"IdeaSubmitted": SUBMITTED, "IdeaPublished": PUBLISHED, "IdeaRejected": REJECTED}
MILESTONE_STATE_OF = {"MilestoneScheduled": SCHEDULED, "MilestoneReached": REACHED, "MilestoneOverdue": OVERDUE}
# The strategy board's decision on a pilot (not an idea status, though "rejected" is spelled alike).
APPROVED, DECLINED = "approved", "rejected"
DECISION_OF = {"PilotApproved": APPROVED, "PilotRejected": DECLINED}
OUTCOME_OF = {"NotificationSent": "sent", "NotificationFailed": "failed"}

# Where an idea stands on its way to a pilot: idea statuses and board decisions in one line.
PIPELINE_STAGES = (SHORTLISTED, APPROVED, DECLINED, IN_IMPLEMENTATION, COMPLETED)
# Upper bounds (seconds) of the lag histogram from an event's `time` to its application here.
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0, math.inf)
INTERVALS = ("hour", "day", "week", "month")
# The fields by which events name people (token subjects): the log keeps only their keyed pseudonyms.
PEOPLE = ("author_id", "member_id", "sponsor_id", "attendee_id")


def participant_of(key, subject):
    """A stable keyed pseudonym for a token subject: enough to count distinct people, not to name one."""
    return pseudonym(key, "smartcity-participant", subject)[:32]


def to_logged(envelope, received_at, pseudonym_key):
    """The log form of a consumed envelope (its `data` loaded by the event's schema)."""
    data = schema_for(envelope["type"]).dump(envelope["data"])
    for person in PEOPLE:
        if data.get(person) is not None:
            data[person] = participant_of(pseudonym_key, data[person])
    return Event(id=envelope["id"], type=envelope["type"], source=envelope["source"], subject=envelope.get("subject"),
                 time=envelope["time"], received_at=received_at, data=data)


def lacks_place(event):
    """A notification outcome from before its events carried the trigger's municipality."""
    return event.type in OUTCOME_OF and not event.data.get("municipality")


def placed(event, municipality_of):
    """`event` with its trigger's municipality (`municipality_of`: event id -> municipality) when it
    lacks one and the trigger is known; otherwise unchanged (it then counts only for all places)."""
    municipality = municipality_of.get(event.data.get("trigger_event_id")) if lacks_place(event) else None
    return replace(event, data={**event.data, "municipality": municipality}) if municipality else event


# --- dimensions and counters -------------------------------------------------------------

def status_of(event):
    """The status, state, decision or outcome an event stands for ('' when none)."""
    if event.type == "IdeaStatusChanged":
        return event.data["to_status"]
    for table in (IDEA_STATUS_OF, MILESTONE_STATE_OF, DECISION_OF, OUTCOME_OF):
        if event.type in table:
            return table[event.type]
    return ""


def dimensions(event):
    """(municipality, field of action, channel, status) of an event; '' where one does not apply.

    `channel` is the idea's channel (form, profile, ...) for idea events and the delivery channel
    (email, webhook, feed) for notification events.
    """
    data = event.data
    return (data.get("municipality") or "", data.get("field_of_action") or "", data.get("channel") or "",
            status_of(event))


def lag_bucket(lag_seconds):
    return next(bound for bound in LAG_BUCKETS if lag_seconds <= bound)


def hour_of(moment):
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def _counters(event):
    dims = dimensions(event)
    lag = max(0.0, (event.received_at - event.time).total_seconds())
    return [
        Increment("event_counts", (event.type, *dims), {"events": 1}),
        Increment("activity", (hour_of(event.time), event.type, *dims), {"events": 1}),
        Increment("event_lag", (event.type, lag_bucket(lag)), {"events": 1, "lag_us_sum": round(lag * 1e6)}),
    ]


# --- merges: old row (or None) -> new row ------------------------------------------------

def merge_idea(event, old):
    data, status = event.data, status_of(event)
    row = dict(old) if old else {
        "idea_id": data["idea_id"], "municipality": data["municipality"],
        "field_of_action": data["field_of_action"], "title": None, "channel": None, "working_group": None,
        "status": status, "status_time": event.time, "status_event": event.id,
        "submitted_at": None, "published_at": None, "working_group_id": None, "competition_id": None,
    }
    if old and newer(event.time, event.id, old["status_time"], old["status_event"]):
        row.update(status=status, status_time=event.time, status_event=event.id)
    # the same in every event that carries them
    for column in ("title", "channel", "working_group", "working_group_id", "competition_id"):
        if data.get(column) is not None:
            row[column] = data[column]
    row["submitted_at"] = earliest(row["submitted_at"], when(data.get("submitted_at")))
    row["published_at"] = earliest(row["published_at"], when(data.get("published_at")))
    return row


def merge_votes(event, old):
    data = event.data
    if old and not newer(event.time, event.id, old["total_time"], old["total_event"]):
        return old
    return {"idea_id": data["idea_id"], "round_id": data["round_id"], "municipality": data["municipality"],
            "field_of_action": data["field_of_action"], "total": data["total"],
            "total_time": event.time, "total_event": event.id}


def merge_threshold(event, old):
    data = event.data
    reached_at = when(data["reached_at"])
    if old and old["reached_at"] <= reached_at:
        return old
    return {"idea_id": data["idea_id"], "municipality": data["municipality"],
            "field_of_action": data["field_of_action"], "threshold": data["threshold"], "reached_at": reached_at}


def merge_decision(event, old):
    """The board's latest decision on an idea (ordered by decided_at)."""
    data = event.data
    decided_at = when(data["decided_at"])
    if old and not newer(decided_at, event.id, old["decided_at"], old["decision_event"]):
        return old
    return {"idea_id": data["idea_id"], "municipality": data["municipality"],
            "field_of_action": data["field_of_action"], "decision": DECISION_OF[event.type],
            "reason": data.get("reason"), "decision_id": data["decision_id"], **data["tally"],
            "quorum_met": data["quorum_met"], "decided_at": decided_at, "decision_event": event.id}


def merge_milestone(event, old):
    """Scheduled, reached and overdue are facts that only accumulate: reached wins over overdue."""
    data = event.data
    row = dict(old) if old else {
        "milestone_id": data["milestone_id"], "municipality": data["municipality"], "idea_id": data["idea_id"],
        "title": data["title"], "due_date": date.fromisoformat(data["due_date"]),
        "scheduled_at": None, "reached_at": None, "on_time": None, "overdue_at": None,
    }
    if event.type == "MilestoneScheduled":
        row["scheduled_at"] = earliest(row["scheduled_at"], when(data["scheduled_at"]))
    elif event.type == "MilestoneReached":
        reached_at = when(data["reached_at"])
        if row["reached_at"] is None or reached_at < row["reached_at"]:
            row.update(reached_at=reached_at, on_time=data["on_time"])
    else:
        row["overdue_at"] = earliest(row["overdue_at"], when(data["detected_at"]))
    return row


def merge_notification(event, old):
    data = event.data
    if old and not newer(event.time, event.id, old["outcome_time"], old["outcome_event"]):
        return old
    return {"notification_id": data["notification_id"], "channel": data["channel"],
            "trigger_type": data["trigger_type"], "outcome": OUTCOME_OF[event.type],
            "attempts": data.get("attempts"), "outcome_time": event.time, "outcome_event": event.id}


def merge_participant(event, old):
    first_seen = event.time if old is None else min(old["first_seen"], event.time)
    return {"municipality": event.data["municipality"], "participant": event.data["author_id"],
            "first_seen": first_seen}


def _entity_effects(event):
    data, kind = event.data, event.type
    if kind in IDEA_STATUS_OF or kind == "IdeaStatusChanged":
        return [Upsert("ideas", (data["idea_id"],), partial(merge_idea, event)),
                Upsert("participants", (data["municipality"], data["author_id"]), partial(merge_participant, event))]
    if kind in ("VoteCast", "VoteWithdrawn"):
        return [Upsert("votes", (data["idea_id"], data["round_id"]), partial(merge_votes, event))]
    if kind == "SupportThresholdReached":
        return [Upsert("support_thresholds", (data["idea_id"],), partial(merge_threshold, event))]
    if kind in DECISION_OF:
        return [Upsert("pilot_decisions", (data["idea_id"],), partial(merge_decision, event))]
    if kind in MILESTONE_STATE_OF:
        return [Upsert("milestones", (data["milestone_id"],), partial(merge_milestone, event))]
    if kind in OUTCOME_OF:
        return [Upsert("notifications", (data["notification_id"],), partial(merge_notification, event))]
    found = process.effects_of(event)
    if found is None:
        raise ValueError(f"no projection rule for {kind}")
    return found


def effects(event):
    """Every change `event` makes to the projections."""
    return _entity_effects(event) + _counters(event)


def apply(store, changes):
    """Apply effects to a store: anything with get(table, key), put(table, key, row), add(table, key, amounts)."""
    for change in changes:
        if isinstance(change, Upsert):
            store.put(change.table, change.key, change.merge(store.get(change.table, change.key)))
        else:
            store.add(change.table, change.key, change.amounts)


# --- rules read off the projections ------------------------------------------------------

def pipeline_stage(status, status_time, decision=None, decided_at=None):
    """Where an idea stands in the pilot pipeline (None: not in it).

    Only the board makes a pilot: an idea at pilot or beyond counts (as approved, in implementation
    or completed, by its status) only when the board's latest decision on it approved it; one the
    board did not approve is not in the pipeline. Before that, a board decision newer than the
    status shows (the ideas service follows it with a status change).
    """
    by_status = {PILOT: APPROVED, IN_IMPLEMENTATION: IN_IMPLEMENTATION, COMPLETED: COMPLETED}
    if status in by_status:
        return by_status[status] if decision == APPROVED else None
    if decision is not None and (status_time is None or decided_at >= status_time):
        return decision
    if status == SHORTLISTED:
        return SHORTLISTED
    if decision == DECLINED and status == PUBLISHED:
        return DECLINED
    return None


def on_time_rate(on_time, reached):
    """Share of reached milestones reached by their due date; None before any was reached."""
    return round(on_time / reached, 4) if reached else None


def day_start(day):
    """Midnight on the municipal calendar."""
    return datetime.combine(day, time(), MUNICIPAL_TZ)


def bucket_starts(first_day, last_day, interval):
    """The starts of every `interval` bucket covering the municipal days first_day..last_day."""
    start = day_start(first_day)
    end = day_start(last_day + timedelta(days=1))
    if interval == "week":
        start -= timedelta(days=start.weekday())
    elif interval == "month":
        start = start.replace(day=1)
    starts = []
    while start < end:
        starts.append(start)
        start = _next_bucket(start, interval)
    return starts


def _next_bucket(start, interval):
    if interval == "hour":  # in UTC, so the hours of a DST change are neither doubled nor lost
        return (start.astimezone(timezone.utc) + timedelta(hours=1)).astimezone(MUNICIPAL_TZ)
    if interval == "day":
        return day_start(start.date() + timedelta(days=1))
    if interval == "week":
        return day_start(start.date() + timedelta(days=7))
    return day_start((start.date().replace(day=28) + timedelta(days=4)).replace(day=1))


def bucket_count(first_day, last_day, interval):
    """How many buckets a series would have, without building it (for the request limit)."""
    days = (last_day - first_day).days + 1
    return {"hour": days * 24, "day": days, "week": days // 7 + 2, "month": days // 28 + 2}[interval]


# --- what the public pages tell ----------------------------------------------------------

# Single support votes are not steps of an idea's story (their total is); milestones have a list of their own.
# An offered sponsorship is not public until staff accept it.
NOT_IN_STORY = ("VoteCast", "VoteWithdrawn", "MilestoneScheduled", "MilestoneReached", "MilestoneOverdue",
                "SponsorOffered")


def story(events):
    """An idea's timeline from its logged events (oldest first): [{step, time, ...details}].

    `step` names what happened: submitted, published, status (with `status`; a status the board's
    decision caused is that decision's step), threshold (with `threshold`), decision (with
    `decision`, `reason`, the tally), integrated (into `sub_concept_id`), sponsor (`sponsor_kind`,
    `public_name`: null without consent), competition_shortlist (`competition_id`), or the event
    type for others.
    """
    steps = []
    for event in events:
        data, kind = event["data"], event["event_type"]
        step = {"time": event["time"]}
        if kind == "IdeaSubmitted":
            step.update(step="submitted", channel=data.get("channel"))
        elif kind == "IdeaPublished":
            step.update(step="published")
        elif kind == "IdeaStatusChanged":
            if data.get("cause") == "board":
                continue  # the board's decision is its own step
            step.update(step="status", status=data["to_status"])
        elif kind == "SupportThresholdReached":
            step.update(step="threshold", threshold=data["threshold"], total=data.get("total"))
        elif kind in DECISION_OF:
            step.update(step="decision", decision=DECISION_OF[kind], reason=data.get("reason"), **data["tally"])
        elif kind == "IdeaIntegrated":
            step.update(step="integrated", sub_concept_id=data["sub_concept_id"])
        elif kind == "SponsorAccepted":
            step.update(step="sponsor", sponsor_kind=data["sponsor_kind"], public_name=data.get("public_name"))
        elif kind == "CompetitionEntryShortlisted":
            step.update(step="competition_shortlist", competition_id=data["competition_id"])
        else:
            step.update(step=kind)
        steps.append(step)
    return steps


def next_milestone(milestones):
    """The earliest milestone not reached yet (overdue ones first, they are earlier), or None."""
    open_ones = [m for m in milestones if m["reached_at"] is None]
    return min(open_ones, key=lambda m: (m["due_date"], m["title"])) if open_ones else None
