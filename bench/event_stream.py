"""Valid events of every catalogue type, for feeding the reporting service in benchmarks and tests.

It lives in bench/ because a benchmark imports nothing from tests/ (the tests import it from here).
"""
import json
import random
import uuid
from datetime import date, datetime, timedelta, timezone

from shared.envelope import make_event, parse_event
from shared.events import CATALOGUE, schema_for, service_of

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
    notified = {"municipality": place["municipality"]} if "municipality" in place else {}
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
        # without a municipality unless given (as notification services before it was in the contract)
        "NotificationSent": lambda: {**NOTIFICATION, **notified, "notification_id": entity_id, "sent_at": at},
        "NotificationFailed": lambda: {**NOTIFICATION, **notified, "notification_id": entity_id, "error": "timeout",
                                       "attempts": 3, "failed_at": at},
        **_process_builders(entity_id, at, place.get("municipality", "gera"), place.get("field", "energie")),
    }
    return {**builders[event_type](), **changes}


def _process_builders(entity_id, at, municipality, field):
    """The strategy process's events about `entity_id` (a group, competition, sub-concept, strategy,
    comment, meeting or survey; an idea for sponsors and integrations), linked to GROUP, SUB_CONCEPT,
    COMPETITION, SPONSORSHIP and IDEA unless `changes` say otherwise."""
    group = {"working_group_id": entity_id, "municipality": municipality}
    competition = {"competition_id": entity_id, "municipality": municipality, "field_of_action": field}
    sponsorship = {**_idea(entity_id, municipality, field), "sponsorship_id": SPONSORSHIP, "sponsor_kind": "company",
                   "sponsor_id": "carol"}
    sub_concept = {"sub_concept_id": entity_id, "municipality": municipality, "working_group_id": GROUP}
    strategy = {"strategy_id": entity_id, "municipality": municipality, "version": 1}
    comment = {"comment_id": entity_id, "municipality": municipality, "target_kind": "idea", "target_id": IDEA}
    meeting = {"meeting_id": entity_id, "municipality": municipality, "working_group_id": GROUP}
    registration = {**meeting, "attendee_id": "dave", "capacity": 30}
    return {
        "WorkingGroupCreated": lambda: {**group, "group_name": "Energie und Umwelt", "kind": "working_group",
                                        "field_of_action": field, "created_at": at},
        "WorkingGroupMemberAdded": lambda: {**group, "member_id": "bob", "added_at": at},
        "WorkingGroupMemberRemoved": lambda: {**group, "member_id": "bob", "removed_at": at},
        "CompetitionOpened": lambda: {**competition, "theme": "Energie im Quartier", "opens_at": at,
                                      "closes_at": at + timedelta(days=14), "jury_size": 3, "opened_at": at},
        "CompetitionClosed": lambda: {**competition, "entries": 1, "closed_at": at},
        "CompetitionEntryShortlisted": lambda: {**competition, "idea_id": IDEA, "shortlisted_at": at},
        "SponsorOffered": lambda: {**sponsorship, "offered_at": at},
        "SponsorAccepted": lambda: {**sponsorship, "public_name": "Stadtwerke Gera", "accepted_at": at},
        "SubConceptDrafted": lambda: {**sub_concept, "title": "Energie im Quartier", "field_of_action": field,
                                      "drafted_at": at},
        "IdeaIntegrated": lambda: {**_idea(entity_id, municipality, field), "sub_concept_id": SUB_CONCEPT,
                                   "working_group_id": GROUP, "integrated_at": at},
        "SubConceptSubmitted": lambda: {**sub_concept, "ideas": 1, "submitted_at": at},
        "StrategyDraftPublished": lambda: {**strategy, "title": "Smart-City-Strategie",
                                           "sub_concept_ids": [SUB_CONCEPT],
                                           "feedback_until": at + timedelta(days=30), "published_at": at},
        "StrategyFeedbackClosed": lambda: {**strategy, "comments": 1, "closed_at": at},
        "StrategyAdopted": lambda: {**strategy, "council_date": at.date(), "decided_at": at},
        "StrategyReturned": lambda: {**strategy, "council_date": at.date(), "reason": "more on mobility",
                                     "decided_at": at},
        "CommentPosted": lambda: {**comment, "author_id": "alice", "visible": True, "posted_at": at},
        "CommentPublished": lambda: {**comment, "author_id": "alice", "published_at": at},
        "CommentHidden": lambda: {**comment, "author_id": "alice", "reason": "insult", "hidden_at": at},
        "CommentReported": lambda: {**comment, "reports": 1, "reported_at": at},
        "MeetingScheduled": lambda: {**meeting, "kind": "theme_evening", "title": "Themenabend Energie",
                                     "starts_at": at + timedelta(days=7), "ends_at": at + timedelta(days=7, hours=2),
                                     "place": "Rathaus Gera", "capacity": 30, "scheduled_at": at},
        "MeetingCancelled": lambda: {**meeting, "kind": "theme_evening", "title": "Themenabend Energie",
                                     "starts_at": at + timedelta(days=7), "reason": "ill", "cancelled_at": at},
        "MeetingRegistered": lambda: {**registration, "registered": 1, "registered_at": at},
        "MeetingRegistrationWithdrawn": lambda: {**registration, "registered": 0, "withdrawn_at": at},
        "SurveyResultsImported": lambda: {
            "survey_id": entity_id, "municipality": municipality, "title": "Bürgerbefragung Smart City",
            "conducted_by": "Duale Hochschule Gera-Eisenach", "period_start": date(2021, 1, 4),
            "period_end": date(2021, 3, 31), "imported_at": at,
            "rows": [{"question": "Nutzen Sie das Internet täglich?", "answer": "ja", "count": 412},
                     {"question": "Nutzen Sie das Internet täglich?", "answer": "nein", "count": 88}]},
    }


ROUND = uuid.UUID("00000000-0000-4000-8000-00000000000a")
DECISION = {"decision_id": uuid.UUID("00000000-0000-4000-8000-00000000000d"),
            "tally": {"yes": 7, "no": 2, "abstain": 1}, "board_size": 11, "quorum": 6, "quorum_met": True,
            "majority_rule": "simple"}
NOTIFICATION = {"channel": "email", "trigger_event_id": "evt-1", "trigger_type": "IdeaPublished"}
# the entities the strategy process's events link to, unless told otherwise
IDEA = uuid.UUID("00000000-0000-4000-8000-000000000001")
GROUP = uuid.UUID("00000000-0000-4000-8000-000000000002")
SUB_CONCEPT = uuid.UUID("00000000-0000-4000-8000-000000000003")
SPONSORSHIP = uuid.UUID("00000000-0000-4000-8000-000000000004")
# event type prefix -> the kind of entity it is about (others are about an idea)
ENTITY_KINDS = ("Milestone", "Notification", "WorkingGroup", "Competition", "SubConcept", "Strategy", "Comment",
                "Meeting", "Survey")


# the strategy process's event types (issue 14)
PROCESS_TYPES = tuple(kind for kind in CATALOGUE if kind.startswith((
    "WorkingGroup", "Competition", "Sponsor", "SubConcept", "IdeaIntegrated", "Strategy", "Comment", "Meeting",
    "Survey")))


def every_type(at=T0, idea_id=None, types=tuple(CATALOGUE), **place):
    """One event of every catalogue type (or of `types`), a minute apart, about one idea and one entity of each kind,
    linked as the ideas service links them (the idea is in the group's topic store and the competition,
    integrated into the sub-concept, commented, sponsored)."""
    idea_id = idea_id or uuid.uuid4()
    ids = {kind: uuid.uuid4() for kind in ENTITY_KINDS}
    links = {"working_group_id": ids["WorkingGroup"], "sub_concept_id": ids["SubConcept"]}
    sponsorship = uuid.uuid4()
    extra = {
        "IdeaSubmitted": {**links, "competition_id": ids["Competition"], "channel": "competition"},
        "IdeaPublished": {**links, "competition_id": ids["Competition"], "channel": "competition"},
        "CompetitionEntryShortlisted": {"idea_id": idea_id}, "IdeaIntegrated": links,
        "SponsorOffered": {"sponsorship_id": sponsorship}, "SponsorAccepted": {"sponsorship_id": sponsorship},
        "SubConceptDrafted": links, "SubConceptSubmitted": links,
        "StrategyDraftPublished": {"sub_concept_ids": [ids["SubConcept"]]},
        **{kind: {"target_id": idea_id} for kind in ("CommentPosted", "CommentPublished", "CommentHidden",
                                                     "CommentReported")},
        **{kind: links for kind in ("MeetingScheduled", "MeetingCancelled", "MeetingRegistered",
                                    "MeetingRegistrationWithdrawn")},
    }
    return [envelope(kind, next((ids[k] for k in ENTITY_KINDS if kind.startswith(k)), idea_id),
                     at + timedelta(minutes=i), **place, **{k: v for k, v in extra.get(kind, {}).items()
                                                            if k in schema_for(kind).fields})
            for i, kind in enumerate(types)]


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
