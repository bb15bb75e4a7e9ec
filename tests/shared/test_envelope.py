"""Unit tests of the CloudEvents envelope and the event catalogue."""
import json
import uuid
from datetime import date, datetime, timezone

import pytest

from shared.envelope import EventError, make_event, parse_event
from shared.events import CATALOGUE


def idea_submitted():
    return {"idea_id": uuid.uuid4(), "municipality": "gera", "field_of_action": "energie", "title": "Solardächer",
            "channel": "form", "working_group": None, "location": None, "author_id": "u-1",
            "submitted_at": datetime.now(timezone.utc)}


def test_make_event_builds_a_cloudevents_envelope():
    event = make_event("ideas", "IdeaSubmitted", idea_submitted(), subject="abc")
    assert event["specversion"] == "1.0"
    assert event["type"] == "IdeaSubmitted"
    assert event["source"] == "/smartcity/ideas"
    assert event["dataschema"] == "urn:smartcity:events:v1:IdeaSubmitted"
    assert event["datacontenttype"] == "application/json"
    assert event["subject"] == "abc"
    json.dumps(event)  # serializable as is
    assert isinstance(event["data"]["idea_id"], str)


def test_make_event_refuses_unknown_and_missing_fields():
    with pytest.raises(EventError, match="no fields"):
        make_event("ideas", "IdeaSubmitted", {**idea_submitted(), "email": "a@b.de"})
    data = idea_submitted()
    del data["title"]
    with pytest.raises(EventError) as refused:
        make_event("ideas", "IdeaSubmitted", data)
    assert "title" in refused.value.details


def test_parse_event_round_trip_and_tolerates_additions():
    event = make_event("ideas", "IdeaSubmitted", idea_submitted())
    event["data"]["added_in_a_later_minor_version"] = 1
    event["someextension"] = "x"
    envelope, data = parse_event(json.dumps(event).encode())
    assert envelope["id"] == event["id"]
    assert isinstance(data["idea_id"], uuid.UUID)
    assert "added_in_a_later_minor_version" not in data


@pytest.mark.parametrize("body,match", [
    (b"not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (json.dumps({"specversion": "0.3"}).encode(), "envelope"),
])
def test_parse_event_rejects_malformed_bodies(body, match):
    with pytest.raises(EventError, match=match):
        parse_event(body)


def test_parse_event_rejects_unknown_types_and_bad_data():
    event = make_event("ideas", "IdeaSubmitted", idea_submitted())
    with pytest.raises(EventError, match="unknown event type"):
        parse_event(json.dumps({**event, "type": "IdeaTeleported"}))
    event["data"]["channel"] = "carrier-pigeon"
    with pytest.raises(EventError, match="invalid IdeaSubmitted data"):
        parse_event(json.dumps(event))


def test_catalogue_holds_every_event_of_the_design_brief():
    assert set(CATALOGUE) == {
        "IdeaSubmitted", "IdeaPublished", "IdeaRejected", "IdeaStatusChanged", "MilestoneScheduled",
        "MilestoneReached", "MilestoneOverdue", "VoteCast", "VoteWithdrawn", "SupportThresholdReached",
        "PilotApproved", "PilotRejected", "NotificationSent", "NotificationFailed",
        # the strategy process (issue 14), additive
        "WorkingGroupCreated", "WorkingGroupMemberAdded", "WorkingGroupMemberRemoved", "CompetitionOpened",
        "CompetitionClosed", "CompetitionEntryShortlisted", "SponsorOffered", "SponsorAccepted",
        "SubConceptDrafted", "IdeaIntegrated", "SubConceptSubmitted", "StrategyDraftPublished",
        "StrategyFeedbackClosed", "StrategyAdopted", "StrategyReturned", "CommentPosted", "CommentPublished",
        "CommentHidden", "CommentReported", "MeetingScheduled", "MeetingCancelled", "MeetingRegistered",
        "MeetingRegistrationWithdrawn", "SurveyResultsImported",
    }


def test_no_event_schema_has_a_field_for_personal_contact_data():
    for _, cls in CATALOGUE.values():
        names = set(cls().fields)
        assert not names & {"email", "name", "phone", "address", "voter_id"}, cls.__name__


def test_milestone_dates_serialize_as_iso_dates():
    event = make_event("ideas", "MilestoneScheduled", {
        "milestone_id": uuid.uuid4(), "municipality": "gera", "title": "Stadtratsbeschluss",
        "due_date": date(2021, 12, 31), "idea_id": None, "scheduled_at": datetime.now(timezone.utc)})
    assert event["data"]["due_date"] == "2021-12-31"
