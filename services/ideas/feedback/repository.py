"""PostgreSQL rows of comments, their reports and the municipalities' moderation modes: a mixin of
IdeasRepository (`self.cur`). tests/ideas/unit/fake_feedback.py is its twin."""

COMMENT_COLUMNS = ("id, municipality, target_kind, target_id, parent_id, strategy_version, author_id, text, status,"
                   " hidden_reason, created_at, published_at, moderated_at")
# Listed comments carry the number of their reports (shown to moderators only).
LISTED = f"SELECT {COMMENT_COLUMNS}, (SELECT count(*) FROM comment_reports r WHERE r.comment_id = c.id) AS reports" \
         " FROM comments c"


class FeedbackRows:
    def comment_mode(self, municipality):
        """'pre', 'post', or None when the municipality never chose."""
        self.cur.execute("SELECT mode FROM comment_moderation WHERE municipality = %s", (municipality,))
        row = self.cur.fetchone()
        return row["mode"] if row else None

    def set_comment_mode(self, municipality, mode, now):
        self.cur.execute("INSERT INTO comment_moderation (municipality, mode, changed_at) VALUES (%s, %s, %s)"
                         " ON CONFLICT (municipality) DO UPDATE SET mode = excluded.mode, changed_at = excluded.changed_at",
                         (municipality, mode, now))

    def add_comment(self, comment):
        self.cur.execute(
            f"INSERT INTO comments ({COMMENT_COLUMNS}) VALUES (%(id)s, %(municipality)s, %(target_kind)s,"
            " %(target_id)s, %(parent_id)s, %(strategy_version)s, %(author_id)s, %(text)s, %(status)s,"
            " %(hidden_reason)s, %(created_at)s, %(published_at)s, %(moderated_at)s)", comment)

    def get_comment(self, comment_id, lock=False):
        self.cur.execute(f"SELECT {COMMENT_COLUMNS} FROM comments WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                         (comment_id,))
        return self.cur.fetchone()

    def comments_on(self, target_kind, target_id):
        """Every comment on a target, oldest first, with its number of reports."""
        self.cur.execute(f"{LISTED} WHERE target_kind = %s AND target_id = %s ORDER BY created_at, id",
                         (target_kind, target_id))
        return self.cur.fetchall()

    def comment_queue(self, municipality, status):
        self.cur.execute(f"{LISTED} WHERE municipality = %s AND status = %s ORDER BY created_at, id",
                         (municipality, status))
        return self.cur.fetchall()

    def set_comment_status(self, comment_id, status, reason, now, moderated):
        """The comment with its new status; `moderated`: a moderator decided (reports no longer hide it)."""
        self.cur.execute(
            "UPDATE comments SET status = %s, hidden_reason = CASE WHEN %s = 'hidden' THEN %s END,"
            " published_at = CASE WHEN %s = 'published' THEN coalesce(published_at, %s) ELSE published_at END,"
            " moderated_at = CASE WHEN %s THEN %s ELSE moderated_at END"
            f" WHERE id = %s RETURNING {COMMENT_COLUMNS}",
            (status, status, reason, status, now, moderated, now, comment_id))
        return self.cur.fetchone()

    def add_report(self, comment_id, reporter_id, reason, now):
        """True for the reporter's first report of the comment, False when they reported it before."""
        self.cur.execute("INSERT INTO comment_reports (comment_id, reporter_id, reason, reported_at)"
                         " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", (comment_id, reporter_id, reason, now))
        return self.cur.rowcount == 1

    def count_reports(self, comment_id):
        self.cur.execute("SELECT count(*) AS n FROM comment_reports WHERE comment_id = %s", (comment_id,))
        return self.cur.fetchone()["n"]

    def count_version_comments(self, strategy_id, version):
        """Comments a strategy version received in its feedback window, hidden ones left out."""
        self.cur.execute("SELECT count(*) AS n FROM comments WHERE target_kind = 'strategy' AND target_id = %s"
                         " AND strategy_version = %s AND status <> 'hidden'", (strategy_id, version))
        return self.cur.fetchone()["n"]
