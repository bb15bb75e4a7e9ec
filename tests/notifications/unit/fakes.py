"""In-memory stand-ins for the notifications service's repository and channels.

`FakeNotificationsRepository` has the methods of services.notifications.repository.NotificationsRepository
with the same arguments and return shapes (rows as dicts with the SQL's column names), its
constraints (one delivery per trigger, channel and recipient; one feed item per subject and
trigger) and its cascades. `FakeMailer` and `FakeWebhooks` stand in for SMTP and the receivers.
"""
import copy
import json
import secrets
import uuid
from datetime import datetime

from services.notifications.domain import FAILED, RETRY, SENT, token_hash
from services.notifications.repository import ANNOUNCEMENT_COLUMNS, SUBSCRIBER_COLUMNS, WEBHOOK_COLUMNS
from services.notifications.settings import NotificationSettings

# The service's defaults, fixed here so the environment of a test run changes nothing.
SETTINGS = NotificationSettings(
    smtp_host="smtp.invalid", smtp_port=25, smtp_security="none", smtp_user=None, smtp_password=None,
    smtp_ca_file=None, smtp_timeout=1.0, mail_from="SmartCity Beteiligung <beteiligung@smartcity.invalid>",
    public_url="https://beteiligung.example", idea_pages_url="https://stadt.example", email_senders=2, email_batch=100,
    email_max_attempts=48, webhook_timeout=1.0, webhook_max_failures=3, webhook_allow=(), retry_base_seconds=30.0,
    retry_max_seconds=3600.0, digest_hour=7, confirm_hours=72.0, manage_link_days=60.0, dispatch_slice_seconds=2.0,
    meeting_reminder_hours=24.0)


def _columns(text):
    return [column.strip() for column in text.split(",")]


SUBSCRIBER_FIELDS = _columns(SUBSCRIBER_COLUMNS)
WEBHOOK_FIELDS = _columns(WEBHOOK_COLUMNS)
ANNOUNCEMENT_FIELDS = _columns(ANNOUNCEMENT_COLUMNS)
DELIVERY_FIELDS = ("id", "trigger_event_id", "trigger_type", "channel", "subscriber_id", "webhook_id", "status",
                   "due_at", "attempts", "last_error", "created_at", "sent_at", "failed_at")


def _timestamp(value):
    """A timestamptz as PostgreSQL takes it: an ISO text (as in events' data) or a datetime."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _pick(row, fields):
    return {name: row[name] for name in fields}


class FakeNotificationsRepository:
    def __init__(self):
        self.subscriber_rows = {}  # id -> row
        self.subscription_rows = set()  # (subscriber id, topic)
        self.idea_rows = {}  # str(idea id) -> row
        self.trigger_rows = {}  # event id -> row
        self.delivery_rows = {}  # id -> row
        self.webhook_rows = {}  # id -> row, with its secret
        self.announcement_rows = {}  # id -> row
        self.feed_rows = {}  # id -> row
        self.link_rows = {}  # token hash -> row
        self.name_rows = {}  # (kind, str(id)) -> (municipality, name)
        self.sponsor_rows = {}  # str(sponsorship id) -> (str(idea id), sponsor id)
        self.comment_rows = {}  # str(id) -> row
        self.meeting_rows = {}  # str(id) -> row
        self.registration_rows = {}  # (str(meeting id), attendee id) -> row

    # --- subscribers --------------------------------------------------------------------------

    def _subscriber_by(self, matches):
        found = next((row for row in self.subscriber_rows.values() if matches(row)), None)
        return _pick(found, SUBSCRIBER_FIELDS) if found else None

    def subscriber_by_email(self, email, for_update=False):
        return self._subscriber_by(lambda row: row["email"].lower() == email.lower())

    def subscriber_by_id(self, subscriber_id, for_update=False):
        return self._subscriber_by(lambda row: row["id"] == subscriber_id)

    def subscriber_by_subject(self, subject, for_update=False):
        return self._subscriber_by(lambda row: row["subject"] == subject)

    def add_subscriber(self, subscriber):
        assert self.subscriber_by_email(subscriber["email"]) is None, "unique index subscribers_email"
        self.subscriber_rows[subscriber["id"]] = _pick(subscriber, SUBSCRIBER_FIELDS)

    def restart_opt_in(self, subscriber_id, language, digest, pending_subject):
        row = self.subscriber_rows[subscriber_id]
        row.update(language=language, digest=digest, pending_subject=pending_subject, confirmed_at=None,
                   unsubscribed_at=None)
        self.link_rows = {h: r for h, r in self.link_rows.items()
                          if not (r["subscriber_id"] == subscriber_id and r["purpose"] == "confirm")}

    def confirm(self, subscriber_id, now, subject):
        row = self.subscriber_rows[subscriber_id]
        assert subject is None or self.subscriber_by_subject(subject) is None, "unique index subscribers_subject"
        row.update(confirmed_at=now, subject=row["subject"] or subject, pending_subject=None)
        return _pick(row, SUBSCRIBER_FIELDS)

    # --- the tokens of mail links -------------------------------------------------------------

    def add_link_tokens(self, tokens):
        for token_hash, subscriber_id, purpose, created_at, expires_at in tokens:
            assert token_hash not in self.link_rows, "primary key link_tokens"
            self.link_rows[token_hash] = {"subscriber_id": subscriber_id, "purpose": purpose,
                                          "created_at": created_at, "expires_at": expires_at, "used_at": None}

    def link_token(self, token_hash, purpose, for_update=False):
        row = self.link_rows.get(token_hash)
        if row is None or row["purpose"] != purpose:
            return None
        return _pick(row, ("subscriber_id", "created_at", "expires_at", "used_at"))

    def use_link_token(self, token_hash, now):
        row = self.link_rows[token_hash]
        row["used_at"] = row["used_at"] or now

    def issue_link(self, subscriber_id, purpose, now, lifetime):
        """Test step: a link token as a mail would carry it (only its hash is kept); returns the token."""
        token = secrets.token_urlsafe(32)
        self.add_link_tokens([(token_hash(token), subscriber_id, purpose, now, now + lifetime)])
        return token

    def forget_link_tokens(self, expired_before):
        gone = [h for h, row in self.link_rows.items() if row["expires_at"] < expired_before]
        for token_hash in gone:
            del self.link_rows[token_hash]
        return len(gone)

    def unsubscribe(self, subscriber_id, now):
        row = self.subscriber_rows[subscriber_id]
        row["unsubscribed_at"] = row["unsubscribed_at"] or now
        for delivery in self.delivery_rows.values():
            if delivery["subscriber_id"] == subscriber_id and delivery["status"] == "pending":
                delivery["status"] = "cancelled"

    def set_preferences(self, subscriber_id, changes):
        self.subscriber_rows[subscriber_id].update(changes)

    def delete_subscriber(self, subscriber_id):
        del self.subscriber_rows[subscriber_id]
        self.link_rows = {h: r for h, r in self.link_rows.items() if r["subscriber_id"] != subscriber_id}
        self.subscription_rows = {(s, topic) for s, topic in self.subscription_rows if s != subscriber_id}
        self.delivery_rows = {i: d for i, d in self.delivery_rows.items() if d["subscriber_id"] != subscriber_id}

    def replace_subscriptions(self, subscriber_id, topics):
        self.subscription_rows = {(s, topic) for s, topic in self.subscription_rows if s != subscriber_id}
        self.subscription_rows |= {(subscriber_id, topic) for topic in topics}

    def topics_of(self, subscriber_id):
        return sorted(topic for s, topic in self.subscription_rows if s == subscriber_id)

    # --- what this service knows of ideas -----------------------------------------------------

    def remember_idea(self, idea):
        known = self.idea_rows.get(str(idea["idea_id"]), {})
        self.idea_rows[str(idea["idea_id"])] = {
            "id": uuid.UUID(str(idea["idea_id"])), "municipality": idea["municipality"],
            "field_of_action": idea["field_of_action"], "title": idea["title"] or known.get("title"),
            "author_id": idea["author_id"] or known.get("author_id")}

    def known_idea(self, idea_id):
        row = self.idea_rows.get(str(idea_id))
        return dict(row) if row else None

    def idea_titles(self, idea_ids):
        return {str(i): self.idea_rows[str(i)]["title"] for i in idea_ids if str(i) in self.idea_rows}

    # --- what this service keeps from the strategy process's events -----------------------------

    def remember_name(self, kind, item_id, municipality, name):
        known = self.name_rows.get((kind, str(item_id)))
        self.name_rows[kind, str(item_id)] = (known[0] if known else municipality, name)

    def known_name(self, kind, item_id):
        known = self.name_rows.get((kind, str(item_id)))
        return known[1] if known else None

    def known_names(self, kind, municipality):
        return {item_id: name for (k, item_id), (m, name) in self.name_rows.items()
                if k == kind and m == municipality}

    def add_sponsor(self, sponsorship_id, idea_id, sponsor_id):
        self.sponsor_rows.setdefault(str(sponsorship_id), (str(idea_id), sponsor_id))

    def sponsors_of(self, idea_id):
        return sorted({sponsor for idea, sponsor in self.sponsor_rows.values() if idea == str(idea_id)})

    def remember_comment(self, comment_id, author_id, parent_id):
        self.comment_rows.setdefault(str(comment_id), {
            "id": uuid.UUID(str(comment_id)), "author_id": author_id,
            "parent_id": uuid.UUID(str(parent_id)) if parent_id else None})

    def comment(self, comment_id):
        row = self.comment_rows.get(str(comment_id))
        return dict(row) if row else None

    def remember_meeting(self, meeting):
        self.meeting_rows.setdefault(str(meeting["id"]), {
            "id": uuid.UUID(str(meeting["id"])), "municipality": meeting["municipality"],
            "working_group_id": meeting["working_group_id"], "starts_at": _timestamp(meeting["starts_at"]),
            "content": json.loads(json.dumps(meeting["content"])), "cancelled_at": None})

    def meeting(self, meeting_id):
        row = self.meeting_rows.get(str(meeting_id))
        return {key: copy.deepcopy(row[key]) for key in ("id", "starts_at", "content", "cancelled_at")} if row else None

    def cancel_meeting(self, meeting_id, cancelled_at):
        row = self.meeting_rows.get(str(meeting_id))
        if row is not None:
            row["cancelled_at"] = row["cancelled_at"] or _timestamp(cancelled_at)

    def add_registration(self, meeting_id, attendee_id, registered_at):
        self.registration_rows.setdefault((str(meeting_id), attendee_id), {
            "registered_at": _timestamp(registered_at), "reminded_at": None})

    def remove_registration(self, meeting_id, attendee_id):
        self.registration_rows.pop((str(meeting_id), attendee_id), None)

    def registrants_of(self, meeting_id):
        return sorted(attendee for meeting, attendee in self.registration_rows if meeting == str(meeting_id))

    def claim_reminders(self, now, lead):
        claimed = []
        for (meeting_id, attendee), registration in sorted(self.registration_rows.items()):
            meeting = self.meeting_rows.get(meeting_id)
            if (meeting is not None and registration["reminded_at"] is None and meeting["cancelled_at"] is None
                    and now < meeting["starts_at"] <= now + lead
                    and registration["registered_at"] < meeting["starts_at"] - lead):
                registration["reminded_at"] = now
                claimed.append({"id": meeting["id"], "content": json.loads(json.dumps(meeting["content"])),
                                "attendee_id": attendee})
        return claimed

    # --- triggers and fan-out -----------------------------------------------------------------

    def add_trigger(self, event_id, trigger_type, occurred_at, content):
        self.trigger_rows.setdefault(event_id, {"event_id": event_id, "type": trigger_type, "occurred_at": occurred_at,
                                            "content": json.loads(json.dumps(content))})  # jsonb

    def _add_delivery(self, event_id, channel, recipient, due_at, now):
        key = "subscriber_id" if channel == "email" else "webhook_id"
        if any(d["trigger_event_id"] == event_id and d["channel"] == channel and d[key] == recipient
               for d in self.delivery_rows.values()):
            return 0  # ON CONFLICT DO NOTHING
        delivery_id = uuid.uuid4()
        self.delivery_rows[delivery_id] = {
            "id": delivery_id, "trigger_event_id": event_id, "channel": channel, "subscriber_id": None,
            "webhook_id": None, key: recipient, "status": "pending", "due_at": due_at, "next_attempt_at": now,
            "attempts": 0, "last_error": None, "created_at": now, "sent_at": None, "failed_at": None}
        return 1

    def add_email_deliveries(self, event_id, topics, people, due, now):
        added = 0
        for row in list(self.subscriber_rows.values()):
            active = row["confirmed_at"] is not None and row["unsubscribed_at"] is None
            reached = (row["subject"] is not None and row["subject"] in people) or any(
                (row["id"], topic) in self.subscription_rows for topic in topics)
            if active and reached:
                added += self._add_delivery(event_id, "email", row["id"], due[row["digest"]], now)
        return added

    def add_confirmation_delivery(self, event_id, subscriber_id, now):
        self._add_delivery(event_id, "email", subscriber_id, now, now)

    def add_webhook_deliveries(self, event_id, trigger_type, municipality, now):
        return sum(self._add_delivery(event_id, "webhook", webhook["id"], now, now)
                   for webhook in list(self.webhook_rows.values())
                   if webhook["disabled_at"] is None and trigger_type in webhook["event_types"]
                   and webhook["municipality"] in (None, municipality))

    def add_feed_items(self, event_id, topics, people, now):
        reached = {row["subject"] for row in self.subscriber_rows.values() if row["subject"] is not None and any(
            (row["id"], topic) in self.subscription_rows for topic in topics)}
        reached.update(people)
        added = []
        for subject in sorted(reached):
            if any(item["subject"] == subject and item["trigger_event_id"] == event_id
                   for item in self.feed_rows.values()):
                continue
            item_id = uuid.uuid4()
            self.feed_rows[item_id] = {"id": item_id, "subject": subject, "trigger_event_id": event_id,
                                        "created_at": now, "read_at": None}
            added.append(item_id)
        return added

    # --- sending ------------------------------------------------------------------------------

    def _due(self, channel, now):
        return [d for d in self.delivery_rows.values() if d["channel"] == channel and d["status"] == "pending"
                and d["due_at"] <= now and d["next_attempt_at"] <= now]

    def claim_due_email(self, limit, now):
        due = self._due("email", now)
        picked = {d["subscriber_id"] for d in sorted(due, key=lambda d: d["next_attempt_at"])[:limit]}
        claimed = []
        for d in due:
            if d["subscriber_id"] not in picked:
                continue
            subscriber, trigger = self.subscriber_rows[d["subscriber_id"]], self.trigger_rows[d["trigger_event_id"]]
            row = {**_pick(d, ("id", "channel", "trigger_event_id", "attempts", "subscriber_id")),
                   **_pick(subscriber, ("email", "language", "digest", "confirmed_at", "unsubscribed_at")),
                   "trigger_type": trigger["type"], "content": json.loads(json.dumps(trigger["content"])),
                   "municipality": trigger["content"].get("municipality")}
            claimed.append(((d["subscriber_id"], trigger["occurred_at"]), row))
        return [row for _, row in sorted(claimed, key=lambda entry: entry[0])]

    def claim_due_webhooks(self, limit, now):
        due = [d for d in self._due("webhook", now) if self.webhook_rows[d["webhook_id"]]["disabled_at"] is None]
        rows = []
        for d in sorted(due, key=lambda d: d["next_attempt_at"])[:limit]:
            webhook, trigger = self.webhook_rows[d["webhook_id"]], self.trigger_rows[d["trigger_event_id"]]
            rows.append({**_pick(d, ("id", "channel", "trigger_event_id", "attempts", "webhook_id")),
                         "url": webhook["url"], "secret": webhook["secret"], "trigger_type": trigger["type"],
                         "occurred_at": trigger["occurred_at"],
                         "content": json.loads(json.dumps(trigger["content"])),
                         "municipality": trigger["content"].get("municipality")})
        return rows

    def mark_sent(self, ids, now):
        for i in ids:
            d = self.delivery_rows[i]
            d.update(status="sent", sent_at=now, attempts=d["attempts"] + 1, last_error=None)

    def mark_failed(self, ids, error, now):
        for i in ids:
            d = self.delivery_rows[i]
            d.update(status="failed", failed_at=now, attempts=d["attempts"] + 1, last_error=error)

    def mark_cancelled(self, ids):
        for i in ids:
            self.delivery_rows[i]["status"] = "cancelled"

    def reschedule(self, retries):
        for i, at, error in retries:
            d = self.delivery_rows[i]
            d.update(attempts=d["attempts"] + 1, next_attempt_at=at, last_error=error)

    def webhook_succeeded(self, webhook_id):
        self.webhook_rows[webhook_id]["consecutive_failures"] = 0

    def webhook_failed(self, webhook_id):
        self.webhook_rows[webhook_id]["consecutive_failures"] += 1
        return self.webhook_rows[webhook_id]["consecutive_failures"]

    def disable_webhook(self, webhook_id, error, now):
        self.webhook_rows[webhook_id]["disabled_at"] = now
        failed = []
        for d in self.delivery_rows.values():
            if d["webhook_id"] == webhook_id and d["status"] == "pending":
                d.update(status="failed", failed_at=now, last_error=error)
                trigger = self.trigger_rows[d["trigger_event_id"]]
                failed.append({**_pick(d, ("id", "channel", "trigger_event_id", "attempts")),
                               "trigger_type": trigger["type"], "municipality": trigger["content"].get("municipality")})
        return failed

    # --- webhooks -----------------------------------------------------------------------------

    def add_webhook(self, webhook):
        self.webhook_rows[webhook["id"]] = {
            **_pick(webhook, ("id", "url", "secret", "event_types", "municipality", "description", "created_at")),
            "consecutive_failures": 0, "disabled_at": None}

    def webhooks(self):
        return [_pick(row, WEBHOOK_FIELDS) for row in sorted(self.webhook_rows.values(), key=lambda w: w["created_at"])]

    def enable_webhook(self, webhook_id):
        row = self.webhook_rows.get(webhook_id)
        if row is None:
            return None
        row.update(disabled_at=None, consecutive_failures=0)
        return _pick(row, WEBHOOK_FIELDS)

    def delete_webhook(self, webhook_id):
        if self.webhook_rows.pop(webhook_id, None) is None:
            return False
        self.delivery_rows = {i: d for i, d in self.delivery_rows.items() if d["webhook_id"] != webhook_id}
        return True

    # --- announcements ------------------------------------------------------------------------

    def add_announcement(self, announcement):
        self.announcement_rows[announcement["id"]] = _pick(announcement, ANNOUNCEMENT_FIELDS)

    def announcements(self, municipality, limit, offset):
        rows = [dict(row) for row in self.announcement_rows.values() if not municipality
                or row["municipality"] == municipality]
        rows.sort(key=lambda row: row["starts_at"], reverse=True)
        return rows[offset:offset + limit], len(rows)

    # --- feed ---------------------------------------------------------------------------------

    def feed(self, subject, unread_only, limit, offset):
        mine = [item for item in self.feed_rows.values() if item["subject"] == subject]
        rows = [{"id": item["id"], "type": self.trigger_rows[item["trigger_event_id"]]["type"],
                 "trigger_event_id": item["trigger_event_id"],
                 "occurred_at": self.trigger_rows[item["trigger_event_id"]]["occurred_at"],
                 "content": json.loads(json.dumps(self.trigger_rows[item["trigger_event_id"]]["content"])),
                 "created_at": item["created_at"], "read_at": item["read_at"]}
                for item in mine if not unread_only or item["read_at"] is None]
        rows.sort(key=lambda row: row["id"])
        rows.sort(key=lambda row: row["occurred_at"], reverse=True)
        unread = sum(1 for item in mine if item["read_at"] is None)
        return rows[offset:offset + limit], len(mine), unread

    def mark_read(self, subject, item_id, now):
        item = self.feed_rows.get(item_id)
        if item is None or item["subject"] != subject:
            return False
        item["read_at"] = item["read_at"] or now
        return True

    def mark_all_read(self, subject, now):
        unread = [item for item in self.feed_rows.values() if item["subject"] == subject and item["read_at"] is None]
        for item in unread:
            item["read_at"] = now
        return len(unread)

    def delete_feed(self, subject):
        self.feed_rows = {i: item for i, item in self.feed_rows.items() if item["subject"] != subject}

    # --- the delivery log ---------------------------------------------------------------------

    def deliveries(self, filters, limit, offset):
        rows = [{**d, "trigger_type": self.trigger_rows[d["trigger_event_id"]]["type"]}
                for d in self.delivery_rows.values()
                if all(filters.get(key) is None or d[key] == filters[key]
                       for key in ("status", "channel", "trigger_event_id", "subscriber_id", "webhook_id"))]
        rows.sort(key=lambda row: row["id"])
        rows.sort(key=lambda row: row["created_at"], reverse=True)
        return [_pick(row, DELIVERY_FIELDS) for row in rows[offset:offset + limit]], len(rows)


class FakeMailer:
    """Channels.send_mails: keeps what it "sent"; `down` = no connection, `refused` = addresses a 5xx refuses."""

    def __init__(self):
        self.sent = []  # channels.Mail
        self.down = None  # an error text while the server is away
        self.refused = set()

    def __call__(self, mails):
        if self.down:
            return [(RETRY, self.down)] * len(mails)
        results = []
        for mail in mails:
            if mail.to in self.refused:
                results.append((FAILED, f"SMTP 550 <{mail.to}> recipient refused"))
            else:
                self.sent.append(mail)
                results.append((SENT, None))
        return results


class FakeWebhooks:
    """Channels.post_webhooks: POSTs in order per webhook, stopping at its first failure, as webhook.post_all.

    `failing` maps a webhook URL to the error its receiver answers with.
    """

    def __init__(self):
        self.posted = []  # delivery rows, in the order POSTed
        self.failing = {}

    def __call__(self, groups):
        results = []
        for group in groups:
            tried = []
            for delivery in group:
                self.posted.append(delivery)
                tried.append(self.failing.get(delivery["url"]))
                if tried[-1] is not None:
                    break
            results.append(tried)
        return results
