"""What each event changes in the read models, and the rules read off them. Pure: no I/O.

An applied event becomes a list of effects on projection rows:

- `Upsert(table, key, merge)`: `merge(old row or None)` returns the new row. Merges do not depend
  on arrival order: a mutable column keeps the (time, event id) of the event that set it and only
  a later event replaces it; first-time facts (reached_at, first_seen) keep the earliest.
- `Increment(table, key, amounts)`: counters. Addition commutes, and the event log's unique id
  makes every event count once.

So the effects of a set of events, applied once each in any order, give the same rows as an
orderly stream. The same effects feed the live consumer (a transaction per batch of events)
and the rebuild (the whole log in memory, then one bulk write).
"""
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import partial

from shared.domain import (COMPLETED, IN_IMPLEMENTATION, MUNICIPAL_TZ, OVERDUE, PILOT, PUBLISHED, REACHED, REJECTED,
                           SCHEDULED, SHORTLISTED, SUBMITTED)
from shared.events import schema_for
from shared.pseudonyms import pseudonym

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


@dataclass(frozen=True)
class Event:
    """An event as the log keeps it: `data` in its JSON form, author ids pseudonymised."""

    id: str
    type: str
    source: str
    subject: str | None
    time: datetime
    received_at: datetime
    data: dict


@dataclass(frozen=True)
class Upsert:
    table: str
    key: tuple
    merge: object = field(compare=False)  # old row (dict) or None -> new row


@dataclass(frozen=True)
class Increment:
    table: str
    key: tuple
    amounts: dict = field(compare=False)


def participant_of(key, subject):
    """A stable keyed pseudonym for a token subject: enough to count distinct people, not to name one."""
    return pseudonym(key, "smartcity-participant", subject)[:32]


def to_logged(envelope, received_at, pseudonym_key):
    """The log form of a consumed envelope (its `data` loaded by the event's schema)."""
    data = schema_for(envelope["type"]).dump(envelope["data"])
    if data.get("author_id") is not None:
        data["author_id"] = participant_of(pseudonym_key, data["author_id"])
    return Event(id=envelope["id"], type=envelope["type"], source=envelope["source"], subject=envelope.get("subject"),
                 time=envelope["time"], received_at=received_at, data=data)


def _when(text):
    return None if text is None else datetime.fromisoformat(text)


def _newer(event_time, event_id, old_time, old_id):
    return (event_time, event_id) > (old_time, old_id)


def _earliest(*values):
    present = [value for value in values if value is not None]
    return min(present) if present else None


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
        "submitted_at": None, "published_at": None,
    }
    if old and _newer(event.time, event.id, old["status_time"], old["status_event"]):
        row.update(status=status, status_time=event.time, status_event=event.id)
    for column in ("title", "channel", "working_group"):  # the same in every event that carries them
        if data.get(column) is not None:
            row[column] = data[column]
    row["submitted_at"] = _earliest(row["submitted_at"], _when(data.get("submitted_at")))
    row["published_at"] = _earliest(row["published_at"], _when(data.get("published_at")))
    return row


def merge_votes(event, old):
    data = event.data
    if old and not _newer(event.time, event.id, old["total_time"], old["total_event"]):
        return old
    return {"idea_id": data["idea_id"], "round_id": data["round_id"], "municipality": data["municipality"],
            "field_of_action": data["field_of_action"], "total": data["total"],
            "total_time": event.time, "total_event": event.id}


def merge_threshold(event, old):
    data = event.data
    reached_at = _when(data["reached_at"])
    if old and old["reached_at"] <= reached_at:
        return old
    return {"idea_id": data["idea_id"], "municipality": data["municipality"],
            "field_of_action": data["field_of_action"], "threshold": data["threshold"], "reached_at": reached_at}


def merge_decision(event, old):
    """The board's latest decision on an idea (ordered by decided_at)."""
    data = event.data
    decided_at = _when(data["decided_at"])
    if old and not _newer(decided_at, event.id, old["decided_at"], old["decision_event"]):
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
        row["scheduled_at"] = _earliest(row["scheduled_at"], _when(data["scheduled_at"]))
    elif event.type == "MilestoneReached":
        reached_at = _when(data["reached_at"])
        if row["reached_at"] is None or reached_at < row["reached_at"]:
            row.update(reached_at=reached_at, on_time=data["on_time"])
    else:
        row["overdue_at"] = _earliest(row["overdue_at"], _when(data["detected_at"]))
    return row


def merge_notification(event, old):
    data = event.data
    if old and not _newer(event.time, event.id, old["outcome_time"], old["outcome_event"]):
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
    raise ValueError(f"no projection rule for {kind}")


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

    The idea's status is the truth once it is a pilot or beyond; before that, a board decision
    newer than the status shows (the ideas service follows it with a status change).
    """
    by_status = {PILOT: APPROVED, IN_IMPLEMENTATION: IN_IMPLEMENTATION, COMPLETED: COMPLETED}
    if status in by_status:
        return by_status[status]
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
NOT_IN_STORY = ("VoteCast", "VoteWithdrawn", "MilestoneScheduled", "MilestoneReached", "MilestoneOverdue")


def story(events):
    """An idea's timeline from its logged events (oldest first): [{step, time, ...details}].

    `step` names what happened: submitted, published, status (with `status`; a status the board's
    decision caused is that decision's step), threshold (with `threshold`), decision (with
    `decision`, `reason`, the tally), or the event type for others.
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
        else:
            step.update(step=kind)
        steps.append(step)
    return steps


def next_milestone(milestones):
    """The earliest milestone not reached yet (overdue ones first, they are earlier), or None."""
    open_ones = [m for m in milestones if m["reached_at"] is None]
    return min(open_ones, key=lambda m: (m["due_date"], m["title"])) if open_ones else None
