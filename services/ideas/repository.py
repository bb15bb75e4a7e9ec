"""PostgreSQL adapter of the ideas service: every SQL statement of the service lives here.

`IdeasRepository(cursor)` works inside the transaction its unit of work opened; rows come back
as dicts (RealDictCursor). tests/ideas/unit/fakes.py is its in-memory twin: same methods, same shapes.
The strategy process's parts keep their SQL in their own subpackages, as mixins composed here.
"""
from psycopg2.extras import Json

from shared.domain import PUBLISHED

from .competitions.repository import CompetitionRows
from .feedback.repository import FeedbackRows
from .groups.repository import GroupRows
from .meetings.repository import MeetingRows
from .sponsors.repository import SponsorRows
from .strategy.repository import StrategyRows
from .surveys.repository import SurveyRows

IDEA_COLUMNS = ("id, municipality, field_of_action, title, description, channel, working_group, working_group_id,"
                " competition_id, profile, lat, lon, author_id, status, status_reason, created_at, updated_at,"
                " published_at")
# What an idea shows beyond what it is submitted with: the sub-concept it was integrated into.
IDEA_READ_COLUMNS = IDEA_COLUMNS + ", sub_concept_id"
MILESTONE_COLUMNS = ("id, municipality, idea_id, title, description, due_date, created_at, reached_at, overdue_at,"
                     " step")


class IdeasRepository(GroupRows, CompetitionRows, SponsorRows, MeetingRows, SurveyRows, StrategyRows, FeedbackRows):
    def __init__(self, cursor):
        self.cur = cursor

    # --- reference data ---

    def municipalities(self):
        self.cur.execute("SELECT slug, name, name_en, state FROM municipalities ORDER BY slug")
        return self.cur.fetchall()

    def municipality_exists(self, slug):
        self.cur.execute("SELECT 1 FROM municipalities WHERE slug = %s", (slug,))
        return self.cur.fetchone() is not None

    def fields_of_action(self, municipality):
        self.cur.execute("SELECT slug, name, name_en FROM fields_of_action WHERE municipality = %s"
                         " ORDER BY position", (municipality,))
        return self.cur.fetchall()

    def all_fields_of_action(self):
        """{municipality: [{slug, name, name_en}] in position order}, in one round trip."""
        self.cur.execute("SELECT municipality, slug, name, name_en FROM fields_of_action ORDER BY municipality, position")
        fields = {}
        for row in self.cur.fetchall():
            fields.setdefault(row.pop("municipality"), []).append(row)
        return fields

    def reference_check(self, municipality, field):
        """(municipality exists, field of action exists in it), in one round trip."""
        self.cur.execute(
            "SELECT EXISTS (SELECT 1 FROM municipalities WHERE slug = %s) AS municipality,"
            " EXISTS (SELECT 1 FROM fields_of_action WHERE municipality = %s AND slug = %s) AS field",
            (municipality, municipality, field),
        )
        row = self.cur.fetchone()
        return row["municipality"], row["field"]

    def municipality_bounds(self, slug):
        """{min_lat, max_lat, min_lon, max_lon} of the municipality, or None."""
        self.cur.execute("SELECT min_lat, max_lat, min_lon, max_lon FROM municipalities WHERE slug = %s", (slug,))
        return self.cur.fetchone()

    # --- ideas ---

    def add_idea(self, idea):
        self.cur.execute(
            f"INSERT INTO ideas ({IDEA_COLUMNS}) VALUES (%(id)s, %(municipality)s, %(field_of_action)s, %(title)s,"
            " %(description)s, %(channel)s, %(working_group)s, %(working_group_id)s, %(competition_id)s,"
            " %(profile)s, %(lat)s, %(lon)s, %(author_id)s, %(status)s, %(status_reason)s, %(created_at)s,"
            " %(updated_at)s, %(published_at)s)",
            {**idea, "profile": Json(idea["profile"]) if idea["profile"] is not None else None},
        )

    def get_idea(self, idea_id, lock=False):
        """The idea row or None; `lock`: FOR UPDATE, held until the transaction ends."""
        self.cur.execute(f"SELECT {IDEA_READ_COLUMNS} FROM ideas WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                         (idea_id,))
        return self.cur.fetchone()

    def set_status(self, idea_id, status, reason, now):
        """The idea with its new status; the first publication is remembered in published_at."""
        self.cur.execute(
            "UPDATE ideas SET status = %s, status_reason = %s, updated_at = %s,"
            " published_at = CASE WHEN %s = %s THEN coalesce(published_at, %s) ELSE published_at END"
            f" WHERE id = %s RETURNING {IDEA_READ_COLUMNS}",
            (status, reason, now, status, PUBLISHED, now, idea_id),
        )
        return self.cur.fetchone()

    def search_ideas(self, *, statuses=None, author_id=None, municipality=None, field_of_action=None,
                     status=None, working_group=None, working_group_id=None, text=None, limit=20, offset=0):
        """A page of ideas, newest first, and the total count.

        Visible means: status in `statuses`, or written by `author_id` (None: no restriction).
        `text` is a full-text search with German stemming in title and description.
        """
        where, params = [], []
        if statuses is not None:
            where.append("(status = ANY(%s) OR author_id = %s)")
            params += [list(statuses), author_id]
        for column, value in (("municipality", municipality), ("field_of_action", field_of_action),
                              ("status", status), ("working_group", working_group),
                              ("working_group_id", working_group_id)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        if text:
            where.append("search @@ websearch_to_tsquery('german', %s)")
            params.append(text)
        condition = " WHERE " + " AND ".join(where) if where else ""
        self.cur.execute(
            f"SELECT {IDEA_READ_COLUMNS}, count(*) OVER () AS total FROM ideas{condition}"
            " ORDER BY created_at DESC, id LIMIT %s OFFSET %s",
            params + [limit, offset],
        )
        rows = self.cur.fetchall()
        if rows:
            return rows, rows[0]["total"]
        self.cur.execute(f"SELECT count(*) AS total FROM ideas{condition}", params)
        return [], self.cur.fetchone()["total"]

    # --- milestones ---

    def add_milestone(self, milestone):
        self.cur.execute(
            f"INSERT INTO milestones ({MILESTONE_COLUMNS}) VALUES (%(id)s, %(municipality)s, %(idea_id)s,"
            " %(title)s, %(description)s, %(due_date)s, %(created_at)s, %(reached_at)s, %(overdue_at)s, %(step)s)",
            milestone,
        )

    def get_milestone(self, milestone_id, lock=False):
        """The milestone row or None; `lock`: FOR UPDATE, held until the transaction ends."""
        self.cur.execute(
            f"SELECT {MILESTONE_COLUMNS} FROM milestones WHERE id = %s" + (" FOR UPDATE" if lock else ""),
            (milestone_id,))
        return self.cur.fetchone()

    def mark_reached(self, milestone_id, reached_at):
        self.cur.execute(f"UPDATE milestones SET reached_at = %s WHERE id = %s RETURNING {MILESTONE_COLUMNS}",
                         (reached_at, milestone_id))
        return self.cur.fetchone()

    def reach_step_milestones(self, municipality, step, reached_at):
        """Mark reached every unreached milestone of `municipality` tied to `step`; return those rows.

        The UPDATE's row locks make each one reached once, whichever transaction gets there first.
        """
        self.cur.execute(
            "UPDATE milestones SET reached_at = %s WHERE municipality = %s AND step = %s AND reached_at IS NULL"
            f" RETURNING {MILESTONE_COLUMNS}",
            (reached_at, municipality, step),
        )
        return sorted(self.cur.fetchall(), key=lambda m: (m["due_date"], m["title"]))

    def list_milestones(self, municipality=None, idea_id=None):
        where, params = [], []
        for column, value in (("municipality", municipality), ("idea_id", idea_id)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        condition = " WHERE " + " AND ".join(where) if where else ""
        self.cur.execute(f"SELECT {MILESTONE_COLUMNS} FROM milestones{condition} ORDER BY due_date, title", params)
        return self.cur.fetchall()

    def claim_overdue(self, today, now):
        """Mark every unreached milestone due before `today` as overdue, once; return those rows.

        The UPDATE's row locks make concurrent checkers (replicas) claim each milestone only once.
        """
        self.cur.execute(
            "UPDATE milestones SET overdue_at = %s WHERE due_date < %s AND reached_at IS NULL AND overdue_at IS NULL"
            f" RETURNING {MILESTONE_COLUMNS}",
            (now, today),
        )
        return self.cur.fetchall()
