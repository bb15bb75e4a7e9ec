"""Signed webhooks to a real local receiver (retries, backoff, disabling) and the in-app feed's read markers."""
import time

import pytest

from services.notifications.domain import signature_valid
from tests.fixtures import wait_for
from tests.notifications.steps import announce, pilot_approved

pytestmark = pytest.mark.integration


def register(api, auth, receiver, **changes):
    body = {"url": receiver.url, "event_types": ["PilotApproved", "Announcement"], "municipality": "gera", **changes}
    response = api("POST", "/api/v1/webhooks", json=body, headers=auth("staff"))
    assert response.status_code == 201, response.text
    return response.json()


def webhook_rows(notifications_sql):
    return notifications_sql("SELECT status, attempts FROM deliveries WHERE channel = 'webhook' ORDER BY created_at")


def test_each_post_is_signed_over_timestamp_and_body_and_verifies_with_the_secret(
        notifications_api, auth, webhook_receiver, publish_event):
    webhook = register(notifications_api, auth, webhook_receiver)
    assert len(webhook["secret"]) >= 40
    assert "secret" not in notifications_api("GET", "/api/v1/webhooks", headers=auth("staff")).json()[0]
    event = publish_event("voting", "PilotApproved", pilot_approved())
    wait_for(lambda: webhook_receiver.requests, message="a POST")
    [request] = webhook_receiver.requests
    headers, body = request["headers"], request["body"]
    assert signature_valid(webhook["secret"], headers["X-SmartCity-Timestamp"], body,
                           headers["X-SmartCity-Signature"], now=time.time())
    assert not signature_valid("another-secret", headers["X-SmartCity-Timestamp"], body,
                               headers["X-SmartCity-Signature"], now=time.time())
    assert not signature_valid(webhook["secret"], headers["X-SmartCity-Timestamp"], body + b" ",
                               headers["X-SmartCity-Signature"], now=time.time())
    [payload] = webhook_receiver.bodies()
    assert payload["type"] == "PilotApproved" and payload["event_id"] == event["id"]
    assert payload["id"] == headers["X-SmartCity-Delivery"]
    assert payload["data"]["tally"] == {"yes": 7, "no": 2, "abstain": 1}


def test_a_failing_receiver_is_retried_with_growing_pauses_until_it_answers(
        notifications_api, notifications_sql, auth, webhook_receiver, tap):
    register(notifications_api, auth, webhook_receiver)
    webhook_receiver.statuses = [500, 503]
    consumer = tap("notifications.events", "NotificationSent")
    announce(notifications_api, auth)
    wait_for(lambda: len(webhook_receiver.requests) == 3, timeout=10, message="three POSTs")
    first, second, third = (r["at"] for r in webhook_receiver.requests)
    assert third - second > second - first > 0.15  # backoff 0.2 s, then 0.4 s
    ids = {r["headers"]["X-SmartCity-Delivery"] for r in webhook_receiver.requests}
    assert len(ids) == 1  # the same delivery, retried
    wait_for(lambda: webhook_rows(notifications_sql) == [("sent", 3)], message="sent after 3 attempts")
    assert notifications_sql("SELECT consecutive_failures FROM webhooks") == [(0,)]
    consumer.wait("NotificationSent", where=lambda e: e["data"]["channel"] == "webhook")


def test_a_receiver_that_keeps_failing_is_disabled_and_its_deliveries_fail(
        notifications_api, notifications_sql, auth, webhook_receiver, tap):
    webhook = register(notifications_api, auth, webhook_receiver)
    webhook_receiver.statuses = [500] * 10
    consumer = tap("notifications.events", "NotificationFailed")
    announce(notifications_api, auth)
    [failed] = consumer.wait("NotificationFailed")
    assert failed["data"]["channel"] == "webhook" and "HTTP 500" in failed["data"]["error"]
    assert len(webhook_receiver.requests) == 3  # SMARTCITY_NOTIFICATIONS_WEBHOOK_MAX_FAILURES in the tests
    [listed] = notifications_api("GET", "/api/v1/webhooks", headers=auth("staff")).json()
    assert listed["disabled_at"] and listed["consecutive_failures"] == 3
    assert webhook_rows(notifications_sql) == [("failed", 3)]

    announce(notifications_api, auth, title="Themenabend")  # disabled: not even recorded
    time.sleep(0.5)
    assert len(webhook_rows(notifications_sql)) == 1 and len(webhook_receiver.requests) == 3

    enabled = notifications_api("POST", f"/api/v1/webhooks/{webhook['id']}/enable", headers=auth("staff"))
    assert enabled.status_code == 200 and enabled.json()["disabled_at"] is None
    webhook_receiver.statuses = []
    announce(notifications_api, auth, title="Bürgerforum")
    wait_for(lambda: len(webhook_receiver.requests) == 4, message="a POST after enabling")


def test_only_the_event_types_and_municipality_a_webhook_asked_for_reach_it(
        notifications_api, notifications_sql, auth, webhook_receiver, publish_event):
    register(notifications_api, auth, webhook_receiver, event_types=["Announcement"])
    publish_event("voting", "PilotApproved", pilot_approved())
    announce(notifications_api, auth, municipality="grossenhain")
    announce(notifications_api, auth, title="Gera only")
    wait_for(lambda: webhook_receiver.requests, message="a POST")
    time.sleep(0.5)
    assert [body["data"]["title"] for body in webhook_receiver.bodies()] == ["Gera only"]


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/api/v1/webhooks", {"url": "http://127.0.0.1:9/x", "event_types": ["PilotApproved"]}),
    ("GET", "/api/v1/webhooks", None),
    ("GET", "/api/v1/deliveries", None),
    ("POST", "/api/v1/announcements", {"municipality": "gera", "title": "Plenum", "starts_at": "2030-01-01T18:00:00Z",
                                       "place": "Rathaus"}),
])
def test_staff_endpoints_refuse_citizens_and_anonymous_callers(notifications_api, notifications_sql, auth, method, path,
                                                                body):
    assert notifications_api(method, path, json=body).status_code == 401
    assert notifications_api(method, path, json=body, headers=auth("citizen")).status_code == 403
    assert notifications_sql("SELECT (SELECT count(*) FROM webhooks), (SELECT count(*) FROM announcements)") == [
        (0, 0)]


@pytest.mark.parametrize("body,field", [
    ({"url": "ftp://example.org/x", "event_types": ["PilotApproved"]}, "url"),
    ({"url": "http://127.0.0.1:9/x", "event_types": []}, "event_types"),
    ({"url": "http://127.0.0.1:9/x", "event_types": ["VoteCast"]}, "event_types"),
    ({"event_types": ["PilotApproved"]}, "url"),
])
def test_a_bad_webhook_gets_a_422_naming_the_field(notifications_api, notifications_sql, auth, body, field):
    response = notifications_api("POST", "/api/v1/webhooks", json=body, headers=auth("staff"))
    assert response.status_code == 422 and field in response.json()["error"]["fields"]
    assert notifications_sql("SELECT count(*) FROM webhooks") == [(0,)]


@pytest.mark.parametrize("changes,field", [
    ({"place": None}, "place"),
    ({"starts_at": "2021-04-14T17:00:00"}, "starts_at"),  # no time zone
    ({"link": "javascript:alert(1)"}, "link"),
    ({"title": "  "}, "title"),
    ({"municipality": "atlantis"}, "municipality"),  # the ideas service does not know it
    ({"starts_at": "2021-04-14T17:00:00+02:00"}, "starts_at"),  # in the past
])
def test_a_bad_announcement_gets_a_422_naming_the_field(notifications_api, notifications_sql, auth, changes, field):
    body = {"municipality": "gera", "title": "Plenum", "starts_at": "2030-01-01T18:00:00Z", "place": "Rathaus",
            **changes}
    response = notifications_api("POST", "/api/v1/announcements", json=body, headers=auth("staff"))
    assert response.status_code == 422 and field in response.json()["error"]["fields"]
    assert notifications_sql("SELECT (SELECT count(*) FROM announcements), (SELECT count(*) FROM triggers)") == [
        (0, 0)]


def test_the_feed_has_read_markers_per_subject(notifications_api, notifications_sql, auth, publish_event):
    from tests.notifications.steps import idea_submitted

    for title in ("Erste Idee", "Zweite Idee"):
        publish_event("ideas", "IdeaSubmitted", idea_submitted("mia", title=title))
    mia = auth("citizen", subject="mia")
    wait_for(lambda: notifications_api("GET", "/api/v1/notifications", headers=mia).json()["total"] == 2)
    page = notifications_api("GET", "/api/v1/notifications", headers=mia).json()
    assert page["unread"] == 2 and all(item["read_at"] is None for item in page["items"])
    newest = page["items"][0]
    assert notifications_api("POST", f"/api/v1/notifications/{newest['id']}/read",
                             headers=auth("citizen", subject="noah")).status_code == 404  # not theirs
    assert notifications_api("POST", f"/api/v1/notifications/{newest['id']}/read", headers=mia).status_code == 204
    unread = notifications_api("GET", "/api/v1/notifications?unread=true", headers=mia).json()
    assert unread["unread"] == 1 and [i["content"]["title"] for i in unread["items"]] == ["Erste Idee"]
    assert notifications_api("POST", "/api/v1/notifications/read-all", headers=mia).json() == {"marked": 1}
    assert notifications_api("GET", "/api/v1/notifications", headers=mia).json()["unread"] == 0
    assert notifications_api("GET", "/api/v1/notifications").status_code == 401
    assert notifications_api("GET", "/api/v1/notifications?page_size=500", headers=mia).status_code == 422


def test_the_delivery_log_lists_every_attempt_for_staff(notifications_api, auth, webhook_receiver):
    register(notifications_api, auth, webhook_receiver)
    webhook_receiver.statuses = [500]
    announce(notifications_api, auth)
    wait_for(lambda: notifications_api("GET", "/api/v1/deliveries?status=sent", headers=auth("staff")).json()["total"])
    [delivery] = notifications_api("GET", "/api/v1/deliveries?channel=webhook", headers=auth("staff")).json()["items"]
    assert delivery["trigger_type"] == "Announcement" and delivery["attempts"] == 2 and delivery["status"] == "sent"
