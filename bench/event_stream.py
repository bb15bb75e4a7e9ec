"""Valid events of every catalogue type, for feeding the reporting service in benchmarks and tests.

It lives in bench/ because a benchmark imports nothing from tests/ (the tests import it from here).
"""
import json
import random
import uuid
from datetime import date, datetime, timedelta, timezone

from shared.envelope import make_event, parse_event
from shared.events import service_of

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _idea(idea_id, municipality="gera", field="energie"):
    return {"idea_id": idea_id, "municipality": municipality, "field_of_action": field}


def _milestone(milestone_id, municipality="gera", due=date(2026, 3, 31), idea_id=None):
    return {"milestone_id": milestone_id, "municipality": municipality, "title": "Ausschreibung",
            "due_date": due, "idea_id": idea_id}


def data_for(event_type, entity_id, at=T0, **changes):
    """Minimal valid data of `event_type` about the idea, milestone or notification `entity_id`."""
    place = {k: changes.pop(k) for k in ("municipality", "field") if k in changes}
    idea = lambda: _idea(entity_id, **place)  # noqa: E731
    builders = {
        "IdeaSubmitted": lambda: {**idea(), "title": "Solardächer", "channel": "form", "author_id": "alice",
                                  "submitted_at": at},
        "IdeaPublished": lambda: {**idea(), "title": "Solardächer", "channel": "form", "author_id": "alice",
                                  "published_at": at},
        "IdeaRejected": lambda: {**idea(), "reason": "off topic", "author_id": "alice", "rejected_at": at},
        "IdeaStatusChanged": lambda: {**idea(), "from_status": "published", "to_status": "shortlisted",
                                      "cause": "staff", "author_id": "alice", "changed_at": at},
        "MilestoneScheduled": lambda: {**_milestone(entity_id, place.get("municipality", "gera")),
                                       "scheduled_at": at},
        "MilestoneReached": lambda: {**_milestone(entity_id, place.get("municipality", "gera")), "reached_at": at,
                                     "on_time": True},
        "MilestoneOverdue": lambda: {**_milestone(entity_id, place.get("municipality", "gera")), "detected_at": at},
        "VoteCast": lambda: {**idea(), "round_id": ROUND, "total": 1, "cast_at": at},
        "VoteWithdrawn": lambda: {**idea(), "round_id": ROUND, "total": 0, "withdrawn_at": at},
        "SupportThresholdReached": lambda: {**idea(), "threshold": 10, "total": 10, "reached_at": at},
        "PilotApproved": lambda: {**idea(), **DECISION, "decided_at": at},
        "PilotRejected": lambda: {**idea(), **DECISION, "reason": "majority", "decided_at": at},
        "NotificationSent": lambda: {**NOTIFICATION, "notification_id": entity_id, "sent_at": at},
        "NotificationFailed": lambda: {**NOTIFICATION, "notification_id": entity_id, "error": "timeout",
                                       "attempts": 3, "failed_at": at},
    }
    return {**builders[event_type](), **changes}


ROUND = uuid.UUID("00000000-0000-4000-8000-00000000000a")
DECISION = {"decision_id": uuid.UUID("00000000-0000-4000-8000-00000000000d"),
            "tally": {"yes": 7, "no": 2, "abstain": 1}, "board_size": 11, "quorum": 6, "quorum_met": True,
            "majority_rule": "simple"}
NOTIFICATION = {"channel": "email", "trigger_event_id": "evt-1", "trigger_type": "IdeaPublished"}


def envelope(event_type, entity_id, at=T0, **changes):
    """A CloudEvents envelope (JSON form) whose `time` is `at`."""
    return make_event(service_of(event_type), event_type, data_for(event_type, entity_id, at, **changes),
                      subject=str(entity_id), time=at)


def loaded(event):
    """An envelope as the subscriber hands it to a handler: validated, `data` loaded by its schema."""
    env, data = parse_event(json.dumps(event))
    return {**env, "data": data}


def idea_life(idea_id, start=T0, municipality="gera", field="energie", author="alice", channel="form"):
    """Submitted, published, shortlisted, pilot: four events one minute apart."""
    place = {"municipality": municipality, "field": field, "author_id": author}
    steps = [("IdeaSubmitted", {"channel": channel}), ("IdeaPublished", {"channel": channel}),
             ("IdeaStatusChanged", {}),
             ("IdeaStatusChanged", {"from_status": "shortlisted", "to_status": "pilot", "cause": "board"})]
    return [envelope(kind, idea_id, start + timedelta(minutes=i), **place, **extra)
            for i, (kind, extra) in enumerate(steps)]


def mixed_stream(ideas=10, seed=1):
    """Idea lives, votes, decisions, milestones and notifications, in order."""
    rng = random.Random(seed)
    events = []
    for i in range(ideas):
        idea_id = uuid.uuid4()
        start = T0 + timedelta(hours=rng.randint(0, 200))
        events += idea_life(idea_id, start, field=rng.choice(["energie", "umwelt"]), author=f"citizen-{i % 4}")
        events += [envelope("VoteCast", idea_id, start + timedelta(minutes=10 + v), total=v + 1)
                   for v in range(rng.randint(0, 3))]
        events.append(envelope(rng.choice(["PilotApproved", "PilotRejected"]), idea_id, start + timedelta(hours=1)))
        milestone = uuid.uuid4()
        events += [envelope("MilestoneScheduled", milestone, start),
                   envelope(rng.choice(["MilestoneReached", "MilestoneOverdue"]), milestone, start + timedelta(days=1))]
        events.append(envelope(rng.choice(["NotificationSent", "NotificationFailed"]), uuid.uuid4(), start))
    return events
