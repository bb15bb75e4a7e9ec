"""Projection rules of the strategy process (issue 14): working groups, competitions, sponsors,
sub-concepts, the strategy, comments, meetings and survey results. Pure: no I/O.

As in domain.py, every merge gives the same row whatever order an entity's events arrive in: a
row may start from any of them (so most columns are None until their event came), facts that
happen once keep the earliest time, and what changes back and forth (a member's presence, a
comment's visibility, a meeting's registrations, a council decision) keeps the (time, event id)
of the event that set it, so only a later event replaces it.
"""
from datetime import date
from functools import partial

from .effects import Upsert, earliest, newer, when

PUBLISHED, PENDING, HIDDEN = "published", "pending", "hidden"  # a comment's state
COMMENT_STATES = (PUBLISHED, PENDING, HIDDEN)
ADOPTED, RETURNED = "adopted", "returned"  # the council's decision on a strategy version
OUTCOMES = {"StrategyAdopted": ADOPTED, "StrategyReturned": RETURNED}


def _fill(row, data, columns):
    """Set the columns an event carries (they are the same in every event that carries them)."""
    for column, source in columns.items():
        if data.get(source) is not None:
            row[column] = data[source]
    return row


def _start(old, **row):
    return dict(old) if old else row


def merge_group(event, old):
    data = event.data
    row = _start(old, working_group_id=data["working_group_id"], municipality=data["municipality"], name=None,
                 kind=None, field_of_action=None, created_at=None)
    _fill(row, data, {"name": "group_name", "kind": "kind", "field_of_action": "field_of_action"})
    row["created_at"] = earliest(row["created_at"], when(data.get("created_at")))
    return row


def merge_member(event, old):
    data = event.data
    if old and not newer(event.time, event.id, old["member_time"], old["member_event"]):
        return old
    return {"working_group_id": data["working_group_id"], "member": data["member_id"],
            "municipality": data["municipality"], "present": event.type == "WorkingGroupMemberAdded",
            "member_time": event.time, "member_event": event.id}


def merge_competition(event, old):
    data = event.data
    row = _start(old, competition_id=data["competition_id"], municipality=data["municipality"],
                 field_of_action=data["field_of_action"], theme=None, opens_at=None, closes_at=None, jury_size=None,
                 opened_at=None, closed_at=None)
    _fill(row, data, {"theme": "theme", "jury_size": "jury_size"})
    for column in ("opens_at", "closes_at", "opened_at", "closed_at"):
        if data.get(column) is not None:
            row[column] = earliest(row[column], when(data[column]))
    return row


def merge_shortlisted(event, old):
    data = event.data
    shortlisted_at = when(data["shortlisted_at"])
    if old and old["shortlisted_at"] <= shortlisted_at:
        return old
    return {"competition_id": data["competition_id"], "idea_id": data["idea_id"], "municipality": data["municipality"],
            "shortlisted_at": shortlisted_at}


def merge_sponsorship(event, old):
    data = event.data
    row = _start(old, sponsorship_id=data["sponsorship_id"], idea_id=data["idea_id"],
                 municipality=data["municipality"], field_of_action=data["field_of_action"],
                 sponsor_kind=data["sponsor_kind"], public_name=None, offered_at=None, accepted_at=None)
    _fill(row, data, {"public_name": "public_name"})
    row["offered_at"] = earliest(row["offered_at"], when(data.get("offered_at")))
    row["accepted_at"] = earliest(row["accepted_at"], when(data.get("accepted_at")))
    return row


def merge_sub_concept(event, old):
    data = event.data
    row = _start(old, sub_concept_id=data["sub_concept_id"], municipality=data["municipality"],
                 working_group_id=data["working_group_id"], title=None, field_of_action=None, drafted_at=None,
                 submitted_at=None, ideas_submitted=None)
    _fill(row, data, {"title": "title", "field_of_action": "field_of_action"})
    row["drafted_at"] = earliest(row["drafted_at"], when(data.get("drafted_at")))
    if event.type == "SubConceptSubmitted":
        submitted_at = when(data["submitted_at"])
        if row["submitted_at"] is None or submitted_at > row["submitted_at"]:  # the latest hand-in counts
            row.update(submitted_at=submitted_at, ideas_submitted=data["ideas"])
    return row


def merge_integration(event, old):
    data = event.data
    integrated_at = when(data["integrated_at"])
    if old and old["integrated_at"] <= integrated_at:
        return old
    return {"idea_id": data["idea_id"], "sub_concept_id": data["sub_concept_id"],
            "working_group_id": data["working_group_id"], "municipality": data["municipality"],
            "field_of_action": data["field_of_action"], "integrated_at": integrated_at}


def merge_strategy_version(event, old):
    data = event.data
    row = _start(old, strategy_id=data["strategy_id"], version=data["version"], municipality=data["municipality"],
                 title=None, feedback_until=None, published_at=None, feedback_closed_at=None, comments_at_close=None,
                 outcome=None, council_date=None, reason=None, decided_at=None, decision_event=None)
    _fill(row, data, {"title": "title"})
    if event.type == "StrategyDraftPublished":
        row.update(feedback_until=when(data["feedback_until"]),
                   published_at=earliest(row["published_at"], when(data["published_at"])))
    elif event.type == "StrategyFeedbackClosed":
        closed_at = when(data["closed_at"])
        if row["feedback_closed_at"] is None or closed_at < row["feedback_closed_at"]:
            row.update(feedback_closed_at=closed_at, comments_at_close=data["comments"])
    else:
        decided_at = when(data["decided_at"])
        if row["decided_at"] is None or newer(decided_at, event.id, row["decided_at"], row["decision_event"]):
            row.update(outcome=OUTCOMES[event.type], council_date=date.fromisoformat(data["council_date"]),
                       reason=data.get("reason"),
                       decided_at=decided_at, decision_event=event.id)
    return row


def merge_linked(event, sub_concept_id, old):
    data = event.data
    return old or {"strategy_id": data["strategy_id"], "version": data["version"], "sub_concept_id": sub_concept_id,
                   "municipality": data["municipality"]}


def comment_state(event):
    if event.type == "CommentPosted":
        return PUBLISHED if event.data["visible"] else PENDING
    return {"CommentPublished": PUBLISHED, "CommentHidden": HIDDEN}.get(event.type)


def merge_comment(event, old):
    data, state = event.data, comment_state(event)
    row = _start(old, comment_id=data["comment_id"], municipality=data["municipality"],
                 target_kind=data["target_kind"], target_id=data["target_id"], parent_id=None, state=None,
                 state_time=None, state_event=None, reports=0, posted_at=None)
    _fill(row, data, {"parent_id": "parent_id"})
    row["posted_at"] = earliest(row["posted_at"], when(data.get("posted_at")))
    if state and (row["state"] is None or newer(event.time, event.id, row["state_time"], row["state_event"])):
        row.update(state=state, state_time=event.time, state_event=event.id)
    if event.type == "CommentReported":
        row["reports"] = max(row["reports"], data["reports"])
    return row


MEETING_FACTS = {"working_group_id": "working_group_id", "kind": "kind", "title": "title", "place": "place",
                 "online_url": "online_url", "capacity": "capacity"}


def merge_meeting(event, old):
    data = event.data
    row = _start(old, meeting_id=data["meeting_id"], municipality=data["municipality"], working_group_id=None,
                 kind=None, title=None, starts_at=None, ends_at=None, place=None, online_url=None, capacity=None,
                 scheduled_at=None, cancelled_at=None, cancel_reason=None, registered=0, registered_time=None,
                 registered_event=None)
    # MeetingScheduled's facts win; the others' (a copy, or the capacity) fill in until it arrives
    scheduled = event.type == "MeetingScheduled"
    facts = {column: data[source] for column, source in MEETING_FACTS.items() if data.get(source) is not None}
    facts.update({column: when(data[column]) for column in ("starts_at", "ends_at") if data.get(column) is not None})
    row.update({column: value for column, value in facts.items() if scheduled or row[column] is None})
    row["scheduled_at"] = earliest(row["scheduled_at"], when(data.get("scheduled_at")))
    if event.type == "MeetingCancelled":
        cancelled_at = when(data["cancelled_at"])
        if row["cancelled_at"] is None or cancelled_at < row["cancelled_at"]:
            row.update(cancelled_at=cancelled_at, cancel_reason=data["reason"])
    if "registered" in data and (row["registered_time"] is None or newer(
            event.time, event.id, row["registered_time"], row["registered_event"])):
        row.update(registered=data["registered"], registered_time=event.time, registered_event=event.id)
    return row


def merge_survey(event, old):
    data = event.data
    return old or {"survey_id": data["survey_id"], "municipality": data["municipality"], "title": data["title"],
                   "conducted_by": data.get("conducted_by"),
                   "period_start": date.fromisoformat(data["period_start"]),
                   "period_end": date.fromisoformat(data["period_end"]), "imported_at": when(data["imported_at"])}


def merge_result(event, position, old):
    data = event.data
    result = data["rows"][position]
    return old or {"survey_id": data["survey_id"], "position": position, "municipality": data["municipality"],
                   "question": result["question"], "answer": result["answer"], "count": result["count"]}


def effects_of(event):
    """The Upserts of a strategy-process event; None for a type that is not one."""
    data, kind = event.data, event.type
    if kind == "WorkingGroupCreated":
        return [Upsert("working_groups", (data["working_group_id"],), partial(merge_group, event))]
    if kind in ("WorkingGroupMemberAdded", "WorkingGroupMemberRemoved"):
        return [Upsert("working_groups", (data["working_group_id"],), partial(merge_group, event)),
                Upsert("group_members", (data["working_group_id"], data["member_id"]), partial(merge_member, event))]
    if kind in ("CompetitionOpened", "CompetitionClosed"):
        return [Upsert("competitions", (data["competition_id"],), partial(merge_competition, event))]
    if kind == "CompetitionEntryShortlisted":
        return [Upsert("competitions", (data["competition_id"],), partial(merge_competition, event)),
                Upsert("competition_shortlist", (data["competition_id"], data["idea_id"]),
                       partial(merge_shortlisted, event))]
    if kind in ("SponsorOffered", "SponsorAccepted"):
        return [Upsert("sponsorships", (data["sponsorship_id"],), partial(merge_sponsorship, event))]
    if kind in ("SubConceptDrafted", "SubConceptSubmitted"):
        return [Upsert("sub_concepts", (data["sub_concept_id"],), partial(merge_sub_concept, event))]
    if kind == "IdeaIntegrated":
        return [Upsert("idea_integrations", (data["idea_id"],), partial(merge_integration, event))]
    if kind.startswith("Strategy"):
        version = (data["strategy_id"], str(data["version"]))
        return [Upsert("strategy_versions", version, partial(merge_strategy_version, event))] + [
            Upsert("strategy_sub_concepts", (*version, sub_concept_id), partial(merge_linked, event, sub_concept_id))
            for sub_concept_id in data.get("sub_concept_ids", ())]
    if kind.startswith("Comment"):
        return [Upsert("comments", (data["comment_id"],), partial(merge_comment, event))]
    if kind.startswith("Meeting"):
        return [Upsert("meetings", (data["meeting_id"],), partial(merge_meeting, event))]
    if kind == "SurveyResultsImported":
        return [Upsert("surveys", (data["survey_id"],), partial(merge_survey, event))] + [
            Upsert("survey_results", (data["survey_id"], str(position)), partial(merge_result, event, position))
            for position in range(len(data["rows"]))]
    return None
