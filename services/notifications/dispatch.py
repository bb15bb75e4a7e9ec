"""Sending what fan-out recorded: mails over SMTP, signed webhook POSTs.

Each batch is claimed (FOR UPDATE SKIP LOCKED, so replicas and parallel senders never share a
row), sent, and its outcome written in the same transaction as the NotificationSent /
NotificationFailed events. A server that is down leaves the rows pending with a later
next_attempt_at (exponential backoff): delivery is delayed, never lost. A crash between the
server's acceptance and the commit sends that batch again (the Message-ID / X-SmartCity-Delivery
header lets a receiver tell); a redelivered *event* never does, thanks to the deliveries' unique key.
"""
import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from itertools import groupby

import eventlet
from eventlet.greenpool import GreenPool
from prometheus_client import Counter

from . import domain, mail, repository as repo, webhook
from .rendering import LINK_PLACEHOLDERS

log = logging.getLogger(__name__)

SENT, FAILED, RETRY, CANCELLED = "sent", "failed", "retry", "cancelled"
WEBHOOK_BATCH = 50  # deliveries claimed at once; POSTed in parallel across webhooks (at most 20)
DELIVERIES = Counter("smartcity_notifications_deliveries_total",
                     "Mails and webhook POSTs by channel and outcome (sent, failed, retry, cancelled)",
                     ["channel", "outcome"])


def _now():
    return datetime.now(timezone.utc)


def run(pool, outbox, channels):
    """One dispatch round: parallel mail senders and the webhook sender, until nothing is due
    or the round's time slice is used (so a stopping service waits at most one slice)."""
    deadline = time.monotonic() + channels.settings.dispatch_slice_seconds
    senders = GreenPool(channels.settings.email_senders + 1)
    for _ in range(channels.settings.email_senders):
        senders.spawn(_until_done, _send_mail_batch, deadline, pool, outbox, channels)
    senders.spawn(_until_done, _send_webhook_batch, deadline, pool, outbox, channels)
    senders.waitall()


def _until_done(send_batch, deadline, *args):
    while time.monotonic() < deadline:
        try:
            if not send_batch(*args):
                return
        except Exception:  # the database is away, say: the rows stay pending for the next round
            log.exception("dispatch batch failed; trying again next round")
            return
        eventlet.sleep(0)  # let the other senders and HTTP workers run


def _record(cur, outbox, settings, outcomes, now):
    """Write each delivery's outcome and its event: [(row, outcome, error)]."""
    by_outcome = defaultdict(list)
    for row, outcome, error in outcomes:
        if outcome == RETRY and row["channel"] == "email" and row["attempts"] + 1 >= settings.email_max_attempts:
            outcome, error = FAILED, f"gave up after {row['attempts'] + 1} attempts: {error}"
        by_outcome[outcome].append((row, error))
        DELIVERIES.labels(row["channel"], outcome).inc()
    sent = [row for row, _ in by_outcome[SENT]]
    if sent:
        repo.mark_sent(cur, [row["id"] for row in sent], now)
        outbox.add_many(cur, "NotificationSent", [{**_outcome(row), "sent_at": now} for row in sent])
    for row, error in by_outcome[FAILED]:
        error = domain.public_error(error)
        repo.mark_failed(cur, [row["id"]], error, now)
        _failed(cur, outbox, {**row, "attempts": row["attempts"] + 1}, error, now)
    if by_outcome[RETRY]:
        repo.reschedule(cur, [(row["id"], now + timedelta(seconds=domain.backoff_seconds(
            row["attempts"] + 1, settings.retry_base_seconds, settings.retry_max_seconds)), domain.public_error(error))
            for row, error in by_outcome[RETRY]])
    if by_outcome[CANCELLED]:
        repo.mark_cancelled(cur, [row["id"] for row, _ in by_outcome[CANCELLED]])


def _outcome(row):
    return {"notification_id": row["id"], "channel": row["channel"], "trigger_event_id": row["trigger_event_id"],
            "trigger_type": row["trigger_type"]}


def _failed(cur, outbox, row, error, now):
    outbox.add(cur, "NotificationFailed", {**_outcome(row), "error": error, "attempts": max(1, row["attempts"]),
                                           "failed_at": now})


# --- mail -------------------------------------------------------------------------------------

def _send_mail_batch(pool, outbox, channels):
    """Claim, compose, send and record one batch of due mails; returns how many rows it handled."""
    now = _now()
    with pool.transaction() as cur:
        rows = repo.claim_due_email(cur, channels.settings.email_batch, now)
        if not rows:
            return 0
        mails, outcomes = _compose_all(channels, rows)
        outcomes += _deliver(channels.mailer, mails)
        _record(cur, outbox, channels.settings, outcomes, now)
    return len(rows)


def _compose_all(channels, rows):
    """([(rows, message)], [(row, outcome, error)]): one mail per row, or one digest per subscriber.

    Rows that are no longer to be sent are cancelled; a mail that cannot be composed fails alone.
    """
    messages, outcomes, rendered_once = [], [], {}
    for _, group in groupby(rows, key=lambda row: row["subscriber_id"]):
        group = list(group)
        try:
            mails, cancelled = _mails_for(channels, group, rendered_once)
        except Exception as exc:
            log.exception("could not compose mail for deliveries %s", [str(row["id"]) for row in group])
            outcomes += [(row, FAILED, f"compose: {type(exc).__name__}") for row in group]
            continue
        outcomes += [(row, CANCELLED, None) for row in cancelled]
        messages += [(rows_of_mail, mail.compose(channels.settings, group[0]["email"], rendered,
                                                 channels.links(group[0]["access_token"]), rows_of_mail[0]["id"]))
                     for rows_of_mail, rendered in mails]
    return messages, outcomes


def _mails_for(channels, group, rendered_once):
    """One subscriber's due rows -> ([(rows, rendered mail)], cancelled rows)."""
    subscriber = group[0]
    if subscriber["unsubscribed_at"]:
        return [], group
    language = subscriber["language"]
    links = channels.links(subscriber["access_token"], subscriber["confirm_token"])
    confirmations = [row for row in group if row["trigger_type"] == domain.CONFIRMATION]
    notices = [row for row in group if row["trigger_type"] != domain.CONFIRMATION]
    mails, cancelled = [], []
    if confirmations and subscriber["confirm_token"]:
        mails.append((confirmations, channels.renderer.confirmation(language, links)))
    else:
        cancelled += confirmations  # confirmed meanwhile
    if notices and not subscriber["confirmed_at"]:
        cancelled += notices
    elif notices and subscriber["digest"] == "immediate":
        mails += [([row], _notification(channels, rendered_once, language, row).with_links(links)) for row in notices]
    elif notices:
        mails.append((notices, channels.renderer.digest(language, subscriber["digest"],
                                                        [_item(row) for row in notices], links)))
    return mails, cancelled


def _notification(channels, rendered_once, language, row):
    """The same notification for every subscriber of a language: rendered once per batch."""
    key = (row["trigger_event_id"], language)
    if key not in rendered_once:
        rendered_once[key] = channels.renderer.notification(language, _item(row), LINK_PLACEHOLDERS)
    return rendered_once[key]


def _item(row):
    return {**row["content"], "type": row["trigger_type"]}


def _deliver(mailer, messages):
    """Send over one connection; [(row, outcome, error)] for every row of every message."""
    outcomes = []
    try:
        with mailer.connection() as smtp:
            for group, message in messages:
                try:
                    mail.send(smtp, message)
                    outcomes += [(row, SENT, None) for row in group]
                except mail.PermanentFailure as exc:
                    outcomes += [(row, FAILED, str(exc)) for row in group]
    except Exception as exc:  # connection refused, dropped, 4xx: the rest waits for the next attempt
        handled = {row["id"] for row, _, _ in outcomes}
        error = f"{type(exc).__name__}: {exc}"
        log.warning("SMTP delivery interrupted, retrying later: %s", domain.public_error(error))
        outcomes += [(row, RETRY, error) for group, _ in messages for row in group if row["id"] not in handled]
    return outcomes


# --- webhooks ---------------------------------------------------------------------------------

def _send_webhook_batch(pool, outbox, channels):
    """Claim due webhook deliveries and POST them, in order per webhook, webhooks in parallel.

    A webhook's first failure in a batch postpones its remaining deliveries (one failure counted,
    not one per queued delivery); after webhook_max_failures consecutive failures it is disabled
    and its pending deliveries fail (NotificationFailed).
    """
    settings = channels.settings
    now = _now()
    with pool.transaction() as cur:
        rows = repo.claim_due_webhooks(cur, WEBHOOK_BATCH, now)
        if not rows:
            return 0
        by_webhook = defaultdict(list)
        for row in rows:
            by_webhook[row["webhook_id"]].append(row)
        posts = GreenPool(min(len(by_webhook), 20))
        for webhook_id, outcomes in zip(by_webhook, posts.imap(lambda group: _post_in_order(group, settings),
                                                               by_webhook.values())):
            _record(cur, outbox, settings, outcomes, now)
            failures = [error for _, outcome, error in outcomes if outcome == RETRY]
            if not failures:
                repo.webhook_succeeded(cur, webhook_id)
            elif repo.webhook_failed(cur, webhook_id) >= settings.webhook_max_failures:
                error = domain.public_error(f"webhook disabled after {settings.webhook_max_failures} failures:"
                                            f" {failures[0]}")
                for failed in repo.disable_webhook(cur, webhook_id, error, now):
                    _failed(cur, outbox, failed, error, now)
    return len(rows)


def _post_in_order(group, settings):
    outcomes = []
    for index, row in enumerate(group):
        error = webhook.post(row, settings.webhook_timeout)
        if error is None:
            outcomes.append((row, SENT, None))
            continue
        outcomes.append((row, RETRY, error))
        outcomes += [(later, RETRY, f"not tried: {error}") for later in group[index + 1:]]
        break
    return outcomes
