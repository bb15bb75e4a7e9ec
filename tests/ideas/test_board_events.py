"""The ideas service consuming the voting service's board decisions: inbox, retries, dead letters."""
import json
import uuid
from datetime import datetime, timezone

import pytest

from shared import config, dead_letters
from shared.envelope import make_event
from tests.fixtures import wait_for
from tests.ideas.test_api import moderate, set_status, submit

pytestmark = pytest.mark.integration


def decision(idea_id, **changes):
    return {
        "idea_id": uuid.UUID(str(idea_id)), "municipality": "gera", "field_of_action": "mobilitaet-infrastruktur",
        "decision_id": uuid.uuid4(), "tally": {"yes": 7, "no": 2, "abstain": 1}, "board_size": 11,
        "quorum": 6, "quorum_met": True, "majority_rule": "simple",
        "decided_at": datetime.now(timezone.utc), **changes,
    }


def shortlisted_idea(ideas_api, auth):
    idea = submit(ideas_api, auth)
    moderate(ideas_api, auth, idea["id"])
    set_status(ideas_api, auth, idea["id"], "shortlisted")
    return idea


def status_of(ideas_sql, idea_id):
    return ideas_sql("SELECT status FROM ideas WHERE id = %s", (idea_id,))[0][0]


def test_pilot_approved_makes_the_idea_a_pilot_and_announces_it(ideas_api, auth, ideas_sql, publish_event, tap):
    idea = shortlisted_idea(ideas_api, auth)
    ideas_events = tap("ideas.events", "IdeaStatusChanged")
    event = publish_event("voting", "PilotApproved", decision(idea["id"]))
    wait_for(lambda: status_of(ideas_sql, idea["id"]) == "pilot", message="status pilot")
    changed = ideas_events.wait("IdeaStatusChanged", where=lambda e: e["data"]["cause"] == "board")
    assert changed[0]["data"]["decision_id"] == event["data"]["decision_id"]
    assert changed[0]["data"]["to_status"] == "pilot"


def test_pilot_rejected_returns_the_idea_to_the_pool(ideas_api, auth, ideas_sql, publish_event):
    idea = shortlisted_idea(ideas_api, auth)
    publish_event("voting", "PilotRejected", decision(idea["id"], reason="no_quorum", quorum_met=False))
    wait_for(lambda: status_of(ideas_sql, idea["id"]) == "published", message="status published")
    reason = ideas_sql("SELECT status_reason FROM ideas WHERE id = %s", (idea["id"],))[0][0]
    assert reason == "board decision: no_quorum"


def test_a_redelivered_event_is_applied_once(ideas_api, auth, ideas_sql, publish_event):
    idea = shortlisted_idea(ideas_api, auth)
    event = make_event("voting", "PilotApproved", decision(idea["id"]))
    for _ in range(3):
        publish_event("voting", "PilotApproved", envelope=event)
    wait_for(lambda: ideas_sql("SELECT count(*) FROM inbox")[0][0] == 1, message="inbox row")
    # a later event moves it on; the redeliveries of the first must not have done anything else
    set_status(ideas_api, auth, idea["id"], "in_implementation")
    publish_event("voting", "PilotApproved", envelope=event)
    wait_for(lambda: ideas_sql("SELECT count(*) FROM outbox WHERE routing_key = 'IdeaStatusChanged'"
                               " AND body::jsonb->'data'->>'cause' = 'board'")[0][0] == 1, message="one change")
    import time

    time.sleep(0.5)
    assert status_of(ideas_sql, idea["id"]) == "in_implementation"
    assert ideas_sql("SELECT count(*) FROM outbox WHERE body::jsonb->'data'->>'cause' = 'board'")[0][0] == 1


@pytest.mark.parametrize("raw,reason", [
    (b"{not json", "malformed"),
    (json.dumps({"specversion": "1.0", "type": "PilotApproved"}).encode(), "malformed"),
])
def test_malformed_events_are_dead_lettered_not_dropped(ideas_service, amqp_uri, publish_event, raw, reason):
    publish_event("voting", "PilotApproved", raw=raw)
    parked = wait_for(lambda: dead_letters.list_parked(amqp_uri, "ideas"), message="parked message")
    assert len(parked) == 1
    assert parked[0].reason == reason
    assert parked[0].original_queue == "evt-voting-PilotApproved--ideas.on_pilot_approved"
    assert parked[0].body.encode() == raw


def test_wrong_data_in_a_valid_envelope_is_dead_lettered(ideas_service, amqp_uri, publish_event):
    event = make_event("voting", "PilotApproved", decision(uuid.uuid4()))
    event["data"]["tally"] = "lots"
    publish_event("voting", "PilotApproved", envelope=event)
    parked = wait_for(lambda: dead_letters.list_parked(amqp_uri, "ideas"), message="parked message")
    assert parked[0].message_id == "" or parked[0].event_type == "PilotApproved"
    assert "tally" in parked[0].error


def test_failing_handler_is_retried_then_parked_and_replay_applies_it(
        ideas_api, auth, ideas_sql, ideas_settings, amqp_uri, publish_event):
    # The board decided on an idea this service does not know (yet): the handler fails every time.
    missing_id = uuid.uuid4()
    event = publish_event("voting", "PilotApproved", decision(missing_id))
    parked = wait_for(lambda: dead_letters.list_parked(amqp_uri, "ideas"), timeout=15, message="parked")
    retries = len(config.load("ideas").retry_delays)
    assert parked[0].message_id == event["id"] or json.loads(parked[0].body)["id"] == event["id"]
    assert parked[0].reason == "handler-failed"
    assert parked[0].attempts == retries + 1
    assert "NotFound" in parked[0].error
    # listing does not consume: it is still parked
    assert len(dead_letters.list_parked(amqp_uri, "ideas")) == 1

    # The operator repairs the cause, then replays (as the service, like `smartcity dlq replay`):
    # the retried and parked copies still say voting published it, so it is applied, exactly once.
    idea = shortlisted_idea(ideas_api, auth)
    ideas_sql("UPDATE ideas SET id = %s WHERE id = %s", (str(missing_id), idea["id"]))
    replayed = dead_letters.replay(ideas_settings.amqp_uri, "ideas")
    assert [r.event_type for r in replayed] == ["PilotApproved"]
    wait_for(lambda: status_of(ideas_sql, str(missing_id)) == "pilot", message="status pilot after replay")
    assert dead_letters.list_parked(amqp_uri, "ideas") == []


def test_dlq_cli_lists_and_replays(ideas_service, amqp_uri, publish_event, capsys):
    from shared.cli import main

    publish_event("voting", "PilotRejected", raw=b"\x00\x01 garbage")
    wait_for(lambda: dead_letters.list_parked(amqp_uri, "ideas"), message="parked")
    assert main(["dlq", "list", "ideas"]) == 0
    listing = capsys.readouterr().out
    assert "1 message(s) parked in ideas.dead-letter" in listing
    assert "evt-voting-PilotRejected--ideas.on_pilot_rejected: malformed" in listing
    assert main(["dlq", "replay", "ideas"]) == 0
    assert "replayed 1 message(s)" in capsys.readouterr().out
    # still malformed: it comes straight back to the dead-letter queue, never lost
    wait_for(lambda: dead_letters.list_parked(amqp_uri, "ideas"), message="parked again")
