"""PostgreSQL adapter of the notifications service: every SQL statement lives here."""
import json

from psycopg2.extras import execute_values

SUBSCRIBER_COLUMNS = ("id, email, language, digest, subject, pending_subject, created_at, confirmed_at,"
                      " unsubscribed_at")
WEBHOOK_COLUMNS = ("id, url, event_types, municipality, description, created_at, consecutive_failures,"
                   " disabled_at")
ANNOUNCEMENT_COLUMNS = "id, municipality, title, starts_at, place, link, description, created_at"
DELIVERY_COLUMNS = ("d.id, d.trigger_event_id, t.type AS trigger_type, d.channel, d.subscriber_id, d.webhook_id,"
                    " d.status, d.due_at, d.attempts, d.last_error, d.created_at, d.sent_at, d.failed_at")
_ACTIVE = "s.confirmed_at IS NOT NULL AND s.unsubscribed_at IS NULL"


class NotificationsRepository:
    """The service's tables, in the caller's transaction: built on its cursor by the unit of work."""

    def __init__(self, cur):
        self.cur = cur

    # --- subscribers --------------------------------------------------------------------------

    def _subscriber_by(self, column, value, for_update):
        self.cur.execute(f"SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE {column} = %s"
                         + (" FOR UPDATE" if for_update else ""), (value,))
        return self.cur.fetchone()

    def subscriber_by_email(self, email, for_update=False):
        return self._subscriber_by("lower(email)", email.lower(), for_update)

    def subscriber_by_id(self, subscriber_id, for_update=False):
        return self._subscriber_by("id", subscriber_id, for_update)

    def subscriber_by_subject(self, subject, for_update=False):
        return self._subscriber_by("subject", subject, for_update)

    def add_subscriber(self, subscriber):
        self.cur.execute(
            f"INSERT INTO subscribers ({SUBSCRIBER_COLUMNS}) VALUES (%(id)s, %(email)s, %(language)s, %(digest)s,"
            " %(subject)s, %(pending_subject)s, %(created_at)s, %(confirmed_at)s, %(unsubscribed_at)s)",
            subscriber,
        )

    def restart_opt_in(self, subscriber_id, language, digest, pending_subject):
        """A pending or unsubscribed address subscribes again: no consent yet, earlier opt-in links void.

        The linked account (subject) stays as it is; who asked now is only remembered.
        """
        self.cur.execute(
            "UPDATE subscribers SET language = %s, digest = %s, pending_subject = %s,"
            " confirmed_at = NULL, unsubscribed_at = NULL WHERE id = %s",
            (language, digest, pending_subject, subscriber_id),
        )
        self.cur.execute("DELETE FROM link_tokens WHERE subscriber_id = %s AND purpose = 'confirm'", (subscriber_id,))

    def confirm(self, subscriber_id, now, subject):
        """Record consent; `subject` (or None) is the account the address is linked to from now on."""
        self.cur.execute(
            f"UPDATE subscribers SET confirmed_at = %s, subject = coalesce(subject, %s), pending_subject = NULL"
            f" WHERE id = %s RETURNING {SUBSCRIBER_COLUMNS}", (now, subject, subscriber_id))
        return self.cur.fetchone()

    # --- the tokens of mail links (hashes only) -----------------------------------------------

    def add_link_tokens(self, tokens):
        """`tokens`: [(token hash, subscriber id, purpose, created at, expires at)]."""
        if tokens:
            execute_values(self.cur, "INSERT INTO link_tokens (token_hash, subscriber_id, purpose, created_at,"
                                     " expires_at) VALUES %s", tokens)

    def link_token(self, token_hash, purpose, for_update=False):
        """The token's row (subscriber_id, created_at, expires_at, used_at), or None."""
        self.cur.execute("SELECT subscriber_id, created_at, expires_at, used_at FROM link_tokens"
                         " WHERE token_hash = %s AND purpose = %s" + (" FOR UPDATE" if for_update else ""),
                         (token_hash, purpose))
        return self.cur.fetchone()

    def use_link_token(self, token_hash, now):
        self.cur.execute("UPDATE link_tokens SET used_at = coalesce(used_at, %s) WHERE token_hash = %s",
                         (now, token_hash))

    def forget_link_tokens(self, expired_before):
        """Delete tokens that expired before `expired_before`; returns how many."""
        self.cur.execute("DELETE FROM link_tokens WHERE expires_at < %s", (expired_before,))
        return self.cur.rowcount

    def unsubscribe(self, subscriber_id, now):
        self.cur.execute("UPDATE subscribers SET unsubscribed_at = coalesce(unsubscribed_at, %s) WHERE id = %s",
                         (now, subscriber_id))
        self.cur.execute("UPDATE deliveries SET status = 'cancelled' WHERE subscriber_id = %s AND status = 'pending'",
                         (subscriber_id,))

    def set_preferences(self, subscriber_id, changes):
        if changes:
            assignments = ", ".join(f"{column} = %({column})s" for column in changes)
            self.cur.execute(f"UPDATE subscribers SET {assignments} WHERE id = %(id)s",
                             {**changes, "id": subscriber_id})

    def delete_subscriber(self, subscriber_id):
        """Erases the subscriber with their subscriptions and delivery log (cascade)."""
        self.cur.execute("DELETE FROM subscribers WHERE id = %s", (subscriber_id,))

    def replace_subscriptions(self, subscriber_id, topics):
        self.cur.execute("DELETE FROM subscriptions WHERE subscriber_id = %s", (subscriber_id,))
        if topics:
            execute_values(self.cur,
                           "INSERT INTO subscriptions (subscriber_id, topic) VALUES %s ON CONFLICT DO NOTHING",
                           [(subscriber_id, topic) for topic in topics])

    def topics_of(self, subscriber_id):
        self.cur.execute("SELECT topic FROM subscriptions WHERE subscriber_id = %s ORDER BY topic", (subscriber_id,))
        return [row["topic"] for row in self.cur.fetchall()]

    # --- what this service knows of ideas -----------------------------------------------------

    def remember_idea(self, idea):
        """Insert or update; a title or author not in this event keeps the one known."""
        self.cur.execute(
            "INSERT INTO ideas (id, municipality, field_of_action, title, author_id)"
            " VALUES (%(idea_id)s, %(municipality)s, %(field_of_action)s, %(title)s, %(author_id)s)"
            " ON CONFLICT (id) DO UPDATE SET municipality = EXCLUDED.municipality,"
            " field_of_action = EXCLUDED.field_of_action, title = coalesce(EXCLUDED.title, ideas.title),"
            " author_id = coalesce(EXCLUDED.author_id, ideas.author_id)",
            idea,
        )

    def known_idea(self, idea_id):
        self.cur.execute("SELECT id, municipality, field_of_action, title, author_id FROM ideas WHERE id = %s",
                         (idea_id,))
        return self.cur.fetchone()

    def idea_titles(self, idea_ids):
        """{idea id (text): title} of the known ideas among `idea_ids`."""
        self.cur.execute("SELECT id::text AS id, title FROM ideas WHERE id::text = ANY(%s)", (list(idea_ids),))
        return {row["id"]: row["title"] for row in self.cur.fetchall()}

    # --- what this service keeps from the strategy process's events -----------------------------

    def remember_name(self, kind, item_id, municipality, name):
        """The name of a working group, competition, sub-concept or strategy; a later one (a new version's
        title) wins."""
        self.cur.execute("INSERT INTO known_names (kind, id, municipality, name) VALUES (%s, %s, %s, %s)"
                         " ON CONFLICT (kind, id) DO UPDATE SET name = EXCLUDED.name",
                         (kind, item_id, municipality, name))

    def known_name(self, kind, item_id):
        self.cur.execute("SELECT name FROM known_names WHERE kind = %s AND id = %s", (kind, item_id))
        row = self.cur.fetchone()
        return row["name"] if row else None

    def known_names(self, kind, municipality):
        """{id (text): name} of what of this kind the municipality has."""
        self.cur.execute("SELECT id::text AS id, name FROM known_names WHERE kind = %s AND municipality = %s",
                         (kind, municipality))
        return {row["id"]: row["name"] for row in self.cur.fetchall()}

    def add_sponsor(self, sponsorship_id, idea_id, sponsor_id):
        self.cur.execute("INSERT INTO idea_sponsors (sponsorship_id, idea_id, sponsor_id) VALUES (%s, %s, %s)"
                         " ON CONFLICT DO NOTHING", (sponsorship_id, idea_id, sponsor_id))

    def sponsors_of(self, idea_id):
        """The token subjects of the idea's accepted sponsors."""
        self.cur.execute("SELECT DISTINCT sponsor_id FROM idea_sponsors WHERE idea_id = %s ORDER BY sponsor_id",
                         (idea_id,))
        return [row["sponsor_id"] for row in self.cur.fetchall()]

    def remember_comment(self, comment_id, author_id, parent_id):
        self.cur.execute("INSERT INTO comments (id, author_id, parent_id) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                         (comment_id, author_id, parent_id))

    def comment(self, comment_id):
        """{id, author_id, parent_id} of a comment seen posted, or None."""
        self.cur.execute("SELECT id, author_id, parent_id FROM comments WHERE id = %s", (comment_id,))
        return self.cur.fetchone()

    def remember_meeting(self, meeting):
        """A scheduled meeting (id, municipality, working_group_id, starts_at, content); again: unchanged."""
        self.cur.execute(
            "INSERT INTO meetings (id, municipality, working_group_id, starts_at, content)"
            " VALUES (%(id)s, %(municipality)s, %(working_group_id)s, %(starts_at)s, %(content)s)"
            " ON CONFLICT DO NOTHING", {**meeting, "content": json.dumps(meeting["content"])})

    def meeting(self, meeting_id):
        """{id, starts_at, content, cancelled_at} of a meeting seen scheduled, or None."""
        self.cur.execute("SELECT id, starts_at, content, cancelled_at FROM meetings WHERE id = %s", (meeting_id,))
        return self.cur.fetchone()

    def cancel_meeting(self, meeting_id, cancelled_at):
        self.cur.execute("UPDATE meetings SET cancelled_at = coalesce(cancelled_at, %s) WHERE id = %s",
                         (cancelled_at, meeting_id))

    def add_registration(self, meeting_id, attendee_id, registered_at):
        self.cur.execute("INSERT INTO meeting_registrations (meeting_id, attendee_id, registered_at)"
                         " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING", (meeting_id, attendee_id, registered_at))

    def remove_registration(self, meeting_id, attendee_id):
        self.cur.execute("DELETE FROM meeting_registrations WHERE meeting_id = %s AND attendee_id = %s",
                         (meeting_id, attendee_id))

    def registrants_of(self, meeting_id):
        self.cur.execute("SELECT attendee_id FROM meeting_registrations WHERE meeting_id = %s ORDER BY attendee_id",
                         (meeting_id,))
        return [row["attendee_id"] for row in self.cur.fetchall()]

    def claim_reminders(self, now, lead):
        """Mark reminded, and return (meeting id, content, attendee_id), the registrations due a reminder:
        not reminded yet, of a meeting not cancelled that starts within `lead` from `now`, made before the
        reminder time (a later registrant has the time in their confirmation). Rows another transaction
        holds are skipped."""
        self.cur.execute(
            "UPDATE meeting_registrations r SET reminded_at = %(now)s FROM meetings m"
            " WHERE m.id = r.meeting_id AND (r.meeting_id, r.attendee_id) IN ("
            "  SELECT r2.meeting_id, r2.attendee_id FROM meeting_registrations r2 JOIN meetings m2"
            "  ON m2.id = r2.meeting_id WHERE r2.reminded_at IS NULL AND m2.cancelled_at IS NULL"
            "  AND m2.starts_at > %(now)s AND m2.starts_at <= %(now)s + %(lead)s"
            "  AND r2.registered_at < m2.starts_at - %(lead)s FOR UPDATE OF r2 SKIP LOCKED)"
            " RETURNING m.id, m.content, r.attendee_id", {"now": now, "lead": lead})
        return self.cur.fetchall()

    # --- triggers and fan-out -----------------------------------------------------------------

    def add_trigger(self, event_id, trigger_type, occurred_at, content):
        self.cur.execute("INSERT INTO triggers (event_id, type, occurred_at, content) VALUES (%s, %s, %s, %s)"
                         " ON CONFLICT DO NOTHING", (event_id, trigger_type, occurred_at, json.dumps(content)))

    def add_email_deliveries(self, event_id, topics, people, due, now):
        """One pending mail per active subscriber reached by a topic or by name (their token subject
        among `people`); returns how many.

        `due` maps digest mode -> due time. ON CONFLICT: a subscriber reached twice gets one row.
        """
        self.cur.execute(
            "INSERT INTO deliveries (id, trigger_event_id, channel, subscriber_id, due_at, next_attempt_at, created_at)"
            " SELECT gen_random_uuid(), %(event_id)s, 'email', s.id,"
            "  CASE s.digest WHEN 'daily' THEN %(daily)s WHEN 'weekly' THEN %(weekly)s ELSE %(immediate)s END,"
            "  %(now)s, %(now)s"
            f" FROM subscribers s WHERE {_ACTIVE} AND (s.subject = ANY(%(people)s) OR EXISTS ("
            "  SELECT 1 FROM subscriptions t WHERE t.subscriber_id = s.id AND t.topic = ANY(%(topics)s)))"
            " ON CONFLICT DO NOTHING",
            {"event_id": event_id, "topics": list(topics), "people": list(people), "now": now, **due},
        )
        return self.cur.rowcount

    def add_confirmation_delivery(self, event_id, subscriber_id, now):
        self.cur.execute(
            "INSERT INTO deliveries (id, trigger_event_id, channel, subscriber_id, due_at, next_attempt_at, created_at)"
            " VALUES (gen_random_uuid(), %s, 'email', %s, %s, %s, %s)", (event_id, subscriber_id, now, now, now))

    def add_webhook_deliveries(self, event_id, trigger_type, municipality, now):
        self.cur.execute(
            "INSERT INTO deliveries (id, trigger_event_id, channel, webhook_id, due_at, next_attempt_at, created_at)"
            " SELECT gen_random_uuid(), %(event_id)s, 'webhook', w.id, %(now)s, %(now)s, %(now)s FROM webhooks w"
            " WHERE w.disabled_at IS NULL AND %(type)s = ANY(w.event_types)"
            "  AND (w.municipality IS NULL OR w.municipality = %(municipality)s)"
            " ON CONFLICT DO NOTHING",
            {"event_id": event_id, "type": trigger_type, "municipality": municipality, "now": now},
        )
        return self.cur.rowcount

    def add_feed_items(self, event_id, topics, people, now):
        """Feed entries for the people reached by name and every signed-in subscriber reached; returns the new ids."""
        self.cur.execute(
            "INSERT INTO feed_items (id, subject, trigger_event_id, created_at)"
            " SELECT gen_random_uuid(), subject, %(event_id)s, %(now)s FROM ("
            "  SELECT s.subject FROM subscribers s JOIN subscriptions t ON t.subscriber_id = s.id"
            "  WHERE s.subject IS NOT NULL AND t.topic = ANY(%(topics)s)"
            "  UNION SELECT unnest(%(people)s::text[])) AS reached"
            " ON CONFLICT DO NOTHING RETURNING id",
            {"event_id": event_id, "topics": list(topics), "people": list(people), "now": now},
        )
        return [row["id"] for row in self.cur.fetchall()]

    # --- sending ------------------------------------------------------------------------------

    def claim_due_email(self, limit, now):
        """Lock due mails of up to `limit` subscribers, with everything a mail needs.

        All due rows of a picked subscriber come along, so a digest holds everything due; rows
        locked by another sender are skipped.
        """
        self.cur.execute(
            "WITH picked AS (SELECT subscriber_id FROM deliveries WHERE channel = 'email' AND status = 'pending'"
            "  AND due_at <= %(now)s AND next_attempt_at <= %(now)s ORDER BY next_attempt_at LIMIT %(limit)s"
            "  FOR UPDATE SKIP LOCKED)"
            " SELECT d.id, d.channel, d.trigger_event_id, d.attempts, d.subscriber_id, s.email, s.language, s.digest,"
            "  s.confirmed_at, s.unsubscribed_at, t.type AS trigger_type, t.content,"
            "  t.content->>'municipality' AS municipality"
            " FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
            " JOIN triggers t ON t.event_id = d.trigger_event_id"
            " WHERE d.subscriber_id IN (SELECT subscriber_id FROM picked) AND d.channel = 'email'"
            "  AND d.status = 'pending' AND d.due_at <= %(now)s AND d.next_attempt_at <= %(now)s"
            " ORDER BY d.subscriber_id, t.occurred_at FOR UPDATE OF d SKIP LOCKED",
            {"now": now, "limit": limit},
        )
        return self.cur.fetchall()

    def claim_due_webhooks(self, limit, now):
        self.cur.execute(
            "SELECT d.id, d.channel, d.trigger_event_id, d.attempts, d.webhook_id, w.url, w.secret,"
            "  t.type AS trigger_type, t.occurred_at, t.content, t.content->>'municipality' AS municipality"
            " FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id"
            " JOIN triggers t ON t.event_id = d.trigger_event_id"
            " WHERE d.channel = 'webhook' AND d.status = 'pending' AND d.next_attempt_at <= %s"
            "  AND w.disabled_at IS NULL"
            " ORDER BY d.next_attempt_at LIMIT %s FOR UPDATE OF d SKIP LOCKED",
            (now, limit),
        )
        return self.cur.fetchall()

    def mark_sent(self, ids, now):
        self.cur.execute("UPDATE deliveries SET status = 'sent', sent_at = %s, attempts = attempts + 1,"
                         " last_error = NULL WHERE id = ANY(%s::uuid[])", (now, [str(i) for i in ids]))

    def mark_failed(self, ids, error, now):
        self.cur.execute("UPDATE deliveries SET status = 'failed', failed_at = %s, attempts = attempts + 1,"
                         " last_error = %s WHERE id = ANY(%s::uuid[])", (now, error, [str(i) for i in ids]))

    def mark_cancelled(self, ids):
        self.cur.execute("UPDATE deliveries SET status = 'cancelled' WHERE id = ANY(%s::uuid[])",
                         ([str(i) for i in ids],))

    def reschedule(self, retries):
        """`retries`: [(delivery id, next attempt time, error)]; counts the failed attempt."""
        execute_values(
            self.cur, "UPDATE deliveries d SET attempts = d.attempts + 1, next_attempt_at = r.at, last_error = r.error"
                      " FROM (VALUES %s) AS r (id, at, error) WHERE d.id = r.id",
            retries, template="(%s::uuid, %s::timestamptz, %s)")

    def webhook_succeeded(self, webhook_id):
        self.cur.execute("UPDATE webhooks SET consecutive_failures = 0 WHERE id = %s", (webhook_id,))

    def webhook_failed(self, webhook_id):
        """Counts a failure; returns the number of consecutive failures now."""
        self.cur.execute("UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 WHERE id = %s"
                         " RETURNING consecutive_failures", (webhook_id,))
        return self.cur.fetchone()["consecutive_failures"]

    def disable_webhook(self, webhook_id, error, now):
        """Disable it and fail its pending deliveries; returns those rows (id, channel, trigger, attempts,
        municipality)."""
        self.cur.execute("UPDATE webhooks SET disabled_at = %s WHERE id = %s", (now, webhook_id))
        self.cur.execute(
            "UPDATE deliveries d SET status = 'failed', failed_at = %s, last_error = %s FROM triggers t"
            " WHERE d.webhook_id = %s AND d.status = 'pending' AND t.event_id = d.trigger_event_id"
            " RETURNING d.id, d.channel, d.trigger_event_id, t.type AS trigger_type, d.attempts,"
            " t.content->>'municipality' AS municipality",
            (now, error, webhook_id))
        return self.cur.fetchall()

    # --- webhooks -----------------------------------------------------------------------------

    def add_webhook(self, webhook):
        self.cur.execute(
            "INSERT INTO webhooks (id, url, secret, event_types, municipality, description, created_at)"
            " VALUES (%(id)s, %(url)s, %(secret)s, %(event_types)s, %(municipality)s, %(description)s, %(created_at)s)",
            webhook)

    def webhooks(self):
        self.cur.execute(f"SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at")
        return self.cur.fetchall()

    def enable_webhook(self, webhook_id):
        self.cur.execute(f"UPDATE webhooks SET disabled_at = NULL, consecutive_failures = 0 WHERE id = %s"
                         f" RETURNING {WEBHOOK_COLUMNS}", (webhook_id,))
        return self.cur.fetchone()

    def delete_webhook(self, webhook_id):
        self.cur.execute("DELETE FROM webhooks WHERE id = %s", (webhook_id,))
        return self.cur.rowcount == 1

    # --- announcements ------------------------------------------------------------------------

    def add_announcement(self, announcement):
        self.cur.execute(
            f"INSERT INTO announcements ({ANNOUNCEMENT_COLUMNS}) VALUES (%(id)s, %(municipality)s, %(title)s,"
            " %(starts_at)s, %(place)s, %(link)s, %(description)s, %(created_at)s)", announcement)

    def announcements(self, municipality, limit, offset):
        where = " WHERE municipality = %(municipality)s" if municipality else ""
        params = {"municipality": municipality, "limit": limit, "offset": offset}
        self.cur.execute(f"SELECT count(*) AS total FROM announcements{where}", params)
        total = self.cur.fetchone()["total"]
        self.cur.execute(f"SELECT {ANNOUNCEMENT_COLUMNS} FROM announcements{where}"
                         " ORDER BY starts_at DESC LIMIT %(limit)s OFFSET %(offset)s", params)
        return self.cur.fetchall(), total

    # --- feed ---------------------------------------------------------------------------------

    def feed(self, subject, unread_only, limit, offset):
        where = "f.subject = %(subject)s" + (" AND f.read_at IS NULL" if unread_only else "")
        params = {"subject": subject, "limit": limit, "offset": offset}
        self.cur.execute("SELECT count(*) AS total, count(*) FILTER (WHERE f.read_at IS NULL) AS unread"
                         " FROM feed_items f WHERE f.subject = %(subject)s", params)
        counts = self.cur.fetchone()
        self.cur.execute(
            "SELECT f.id, t.type, t.event_id AS trigger_event_id, t.occurred_at, t.content, f.created_at, f.read_at"
            f" FROM feed_items f JOIN triggers t ON t.event_id = f.trigger_event_id WHERE {where}"
            " ORDER BY t.occurred_at DESC, f.id LIMIT %(limit)s OFFSET %(offset)s", params)
        return self.cur.fetchall(), counts["total"], counts["unread"]

    def mark_read(self, subject, item_id, now):
        self.cur.execute("UPDATE feed_items SET read_at = coalesce(read_at, %s) WHERE id = %s AND subject = %s"
                         " RETURNING id", (now, item_id, subject))
        return self.cur.fetchone() is not None

    def mark_all_read(self, subject, now):
        self.cur.execute("UPDATE feed_items SET read_at = %s WHERE subject = %s AND read_at IS NULL", (now, subject))
        return self.cur.rowcount

    def delete_feed(self, subject):
        self.cur.execute("DELETE FROM feed_items WHERE subject = %s", (subject,))

    # --- the delivery log ---------------------------------------------------------------------

    def deliveries(self, filters, limit, offset):
        conditions, params = [], {"limit": limit, "offset": offset}
        for column, key in (("d.status", "status"), ("d.channel", "channel"),
                            ("d.trigger_event_id", "trigger_event_id"), ("d.subscriber_id", "subscriber_id"),
                            ("d.webhook_id", "webhook_id")):
            if filters.get(key) is not None:
                conditions.append(f"{column} = %({key})s")
                params[key] = filters[key]
        where = " WHERE " + " AND ".join(conditions) if conditions else ""
        self.cur.execute(f"SELECT count(*) AS total FROM deliveries d{where}", params)
        total = self.cur.fetchone()["total"]
        self.cur.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries d"
                         f" JOIN triggers t ON t.event_id = d.trigger_event_id{where}"
                         " ORDER BY d.created_at DESC, d.id LIMIT %(limit)s OFFSET %(offset)s", params)
        return self.cur.fetchall(), total
