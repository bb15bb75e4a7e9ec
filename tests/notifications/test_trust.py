"""A forged board decision notifies nobody: only the voting service's user may publish PilotApproved."""
import pytest

from shared import dead_letters
from shared.envelope import make_event
from tests.fixtures import broker_uri, wait_for
from tests.notifications.steps import pilot_approved, subscribed

pytestmark = pytest.mark.integration

QUEUE = "evt-voting-PilotApproved--notifications.on_pilot_approved"


@pytest.mark.parametrize("forger", ["broker-admin", "another-service", "no-user-id"])
def test_a_forged_pilot_decision_reaches_nobody_and_is_parked_with_the_reason(
        notifications_api, notifications_sql, mailbox, amqp_uri, publish_event, tap, forger):
    subscribed(notifications_api, mailbox, "pilots@example.org", [{"kind": "pilot_decisions", "municipality": "gera"}])
    outcomes = tap("notifications.events")
    event = make_event("voting", "PilotApproved", pilot_approved())
    if forger == "broker-admin":
        publish_event("voting", "PilotApproved", envelope=event, as_user=amqp_uri)
    elif forger == "another-service":  # straight into the queue, past the exchange it may not write to
        publish_event("voting", "PilotApproved", envelope=event, as_user=broker_uri("ideas"), queue=QUEUE)
    else:
        publish_event("voting", "PilotApproved", envelope=event, user_id=None)
    [parked] = wait_for(lambda: dead_letters.list_parked(amqp_uri, "notifications"), message="the forgery parked")
    assert (parked.reason, parked.original_queue) == ("untrusted-publisher", QUEUE)
    assert "PilotApproved belongs to voting" in parked.error
    outcomes.settle(0.5)
    assert notifications_sql("SELECT count(*) FROM triggers WHERE type = 'PilotApproved'") == [(0,)]
    assert mailbox.messages() == []
    assert outcomes.events(where=lambda e: e["data"]["trigger_type"] == "PilotApproved") == []

    publish_event("voting", "PilotApproved", envelope=event)  # the same event from its owner goes through
    assert [m["To"] for m in mailbox.wait(1)] == ["pilots@example.org"]
