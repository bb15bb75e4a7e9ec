"""Webhooks: the signed HTTP POST to another city system.

Headers: X-SmartCity-Timestamp (Unix seconds), X-SmartCity-Signature ("sha256=" + hex HMAC-SHA256
with the webhook's secret over "<timestamp>.<body>"), X-SmartCity-Delivery (the delivery id,
stable across retries: deduplicate on it) and X-SmartCity-Event-Type.
"""
import json
import time
import urllib.error
import urllib.request

from eventlet.greenpool import GreenPool

from .domain import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

PARALLEL = 20  # webhooks POSTed to at once


def body_of(delivery):
    """What a receiver gets: the delivery id, the trigger and what it says (no personal data)."""
    return json.dumps({
        "id": str(delivery["id"]), "type": delivery["trigger_type"], "event_id": delivery["trigger_event_id"],
        "occurred_at": delivery["occurred_at"].isoformat(), "data": delivery["content"],
    }, separators=(",", ":"), ensure_ascii=False).encode()


def post(delivery, timeout):
    """POST one delivery, signed now; None on a 2xx answer, else a short error (no body echoed)."""
    body = body_of(delivery)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(delivery["url"], data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "smartcity-notifications/1",
        "X-SmartCity-Delivery": str(delivery["id"]),
        "X-SmartCity-Event-Type": delivery["trigger_type"],
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(delivery["secret"], timestamp, body),
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
        return None
    except urllib.error.HTTPError as exc:
        exc.close()
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"


def post_in_order(deliveries, timeout):
    """POST one webhook's deliveries in order, stopping at the first failure (the rest would fail too).

    Returns the result of each POST tried: None for delivered, else the error.
    """
    results = []
    for delivery in deliveries:
        results.append(post(delivery, timeout))
        if results[-1] is not None:
            break
    return results


def post_all(groups, timeout):
    """`post_in_order` for each group (one webhook's deliveries), webhooks in parallel; results in order."""
    if not groups:
        return []
    return list(GreenPool(min(len(groups), PARALLEL)).imap(lambda group: post_in_order(group, timeout), groups))
